//! The hub's archive of each room box: the box's read models, rebuilt at the hub from the
//! box's log as it arrives. One redb file per origin (`DATA/archive/<node id>.redb`), built by
//! the very same projection the box runs on its own log, so the archive shows exactly what
//! the box's log implies, and nothing the hub owns is overwritten by a box.
//!
//! The files are derived data: deleted or damaged, they are rebuilt from the stored log on the
//! next read.

use super::tables::{EVENTS, META};
use super::{apply, Store, StoreError, READ_MODEL_VERSION};
use crate::domain::{EventEnvelope, NodeId};
use redb::{Database, ReadTransaction, ReadableDatabase};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The directory of archive files inside the data directory.
pub const ARCHIVE_DIR: &str = "archive";
/// Kinds the archive leaves out: delegates' marks and personal notes.
pub const NOT_ARCHIVED: &[&str] = &["annotation.saved", "item_note.saved"];
/// The read-model tables those kinds build, empty in every archive.
pub const NOT_ARCHIVED_TABLES: &[&str] = &["annotations", "annotation_counts", "item_notes"];

/// redb's page cache per archive file: archives are read now and then, by office staff.
const ARCHIVE_CACHE_BYTES: usize = 8 * 1024 * 1024;
/// Events applied per transaction while catching up.
const BATCH: usize = 1024;

/// Open archive files, by origin.
#[derive(Default)]
pub(super) struct Archives {
    open: Mutex<HashMap<String, Arc<Database>>>,
    /// Serialises catching up, per process (a second reader waits for the first to finish).
    catching_up: Mutex<()>,
}

fn applied(db: &Database) -> Result<(u64, u32), StoreError> {
    let txn = db.begin_read()?;
    let meta = match txn.open_table(META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok((0, 0)),
        Err(e) => return Err(e.into()),
    };
    let seq = meta
        .get("applied_seq")?
        .and_then(|v| v.value().parse().ok())
        .unwrap_or(0);
    let version = meta
        .get("read_model_version")?
        .and_then(|v| v.value().parse().ok())
        .unwrap_or(0);
    Ok((seq, version))
}

impl Store {
    fn archive_path(&self, origin: &NodeId) -> PathBuf {
        self.inner
            .dir
            .join(ARCHIVE_DIR)
            .join(format!("{}.redb", origin.as_str()))
    }

    /// The archive file of `origin`, opened (and made, or remade if built by another version
    /// of the projection).
    fn archive_db(&self, origin: &NodeId) -> Result<Arc<Database>, StoreError> {
        let key = origin.as_str().to_owned();
        let mut open = self
            .inner
            .archives
            .open
            .lock()
            .map_err(|_| StoreError::Db("archive lock poisoned".into()))?;
        if let Some(db) = open.get(&key) {
            return Ok(Arc::clone(db));
        }
        let dir = self.inner.dir.join(ARCHIVE_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let path = self.archive_path(origin);
        let create = |path: &std::path::Path| {
            Database::builder()
                .set_cache_size(ARCHIVE_CACHE_BYTES)
                .create(path)
                .map_err(|e| super::open_error(path, e))
        };
        let db = match create(&path) {
            Ok(db) if applied(&db).is_ok_and(|(_, v)| v == READ_MODEL_VERSION) => db,
            Ok(db) => {
                drop(db);
                tracing::info!(origin = %origin, "rebuilding a box's archive for this version");
                std::fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
                create(&path)?
            }
            Err(e) => {
                tracing::warn!(origin = %origin, "archive file unreadable ({e}); rebuilding it");
                let _ = std::fs::remove_file(&path);
                create(&path)?
            }
        };
        // Every table exists from the start, so a box that has sent nothing yet reads as empty.
        let txn = db.begin_write()?;
        super::migrate::create_archive_schema(&txn)?;
        txn.open_table(META)?.insert(
            "read_model_version",
            READ_MODEL_VERSION.to_string().as_str(),
        )?;
        txn.commit()?;
        let db = Arc::new(db);
        open.insert(key, Arc::clone(&db));
        Ok(db)
    }

    /// Applies `origin`'s events that arrived since the archive last looked. Returns how
    /// many were applied.
    pub fn archive_catch_up(&self, origin: &NodeId) -> Result<u64, StoreError> {
        if origin == &self.inner.node_id {
            return Ok(0);
        }
        let _one = self
            .inner
            .archives
            .catching_up
            .lock()
            .map_err(|_| StoreError::Db("archive lock poisoned".into()))?;
        let archive = self.archive_db(origin)?;
        let (mut after, _) = applied(&archive)?;
        let mut total = 0u64;
        loop {
            let batch: Vec<(u64, Vec<u8>)> = {
                let txn = self.db()?.begin_read()?;
                let events = txn.open_table(EVENTS)?;
                let mut out = Vec::new();
                for row in events
                    .range(
                        (origin.as_str(), after.saturating_add(1))..=(origin.as_str(), u64::MAX),
                    )?
                    .take(BATCH)
                {
                    let (k, v) = row?;
                    out.push((k.value().1, v.value().to_vec()));
                }
                out
            };
            let Some(&(last, _)) = batch.last() else {
                return Ok(total);
            };
            let txn = archive.begin_write()?;
            for (seq, bytes) in &batch {
                match EventEnvelope::decode(bytes) {
                    // A delegate's own marks and notes are theirs: the office's archive does not
                    // project them (their bytes travel inside the log; see docs/security.md).
                    Ok(e) if NOT_ARCHIVED.contains(&e.body.kind()) => {}
                    Ok(e) => {
                        apply(&txn, &e)?;
                        total += 1;
                    }
                    Err(err) => {
                        tracing::debug!(origin = %origin, seq, %err, "archive skips an event this version cannot decode");
                    }
                }
            }
            {
                let mut meta = txn.open_table(META)?;
                meta.insert("applied_seq", last.to_string().as_str())?;
                meta.insert(
                    "read_model_version",
                    READ_MODEL_VERSION.to_string().as_str(),
                )?;
            }
            txn.commit()?;
            after = last;
        }
    }

    /// Reads `origin`'s archive, brought up to date with what the hub holds first.
    pub fn archive_read<T>(
        &self,
        origin: &NodeId,
        f: impl FnOnce(&ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.archive_catch_up(origin)?;
        let db = self.archive_db(origin)?;
        let txn = db.begin_read()?;
        f(&txn)
    }

    /// Every read-model table of `origin`'s archive, for comparing with the box's own.
    pub fn archive_dump(&self, origin: &NodeId) -> Result<super::ReadModelDump, StoreError> {
        self.archive_read(origin, super::dump_read_models)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, EventBody, NoticeText, RoomName};
    use crate::store::NodeRole;

    #[test]
    fn the_archive_of_a_box_is_the_state_its_own_log_builds() {
        let dir = tempfile::tempdir().unwrap();
        let room = Store::init(
            &dir.path().join("box"),
            &RoomName::parse("Phòng họp xã").unwrap(),
            NodeRole::Room,
        )
        .unwrap();
        let hub = Store::init(
            &dir.path().join("hub"),
            &RoomName::parse("Trung tâm").unwrap(),
            NodeRole::Hub,
        )
        .unwrap();
        crate::demo::seed(&room).unwrap();
        room.append(
            Actor::Node,
            vec![EventBody::NoticePosted {
                text: NoticeText::parse("Họp lúc 8 giờ").unwrap(),
            }],
        )
        .unwrap();
        let lines = room
            .raw_events_after(room.node_id(), 0, usize::MAX, usize::MAX)
            .unwrap();
        let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        hub.ingest(room.node_id(), &refs, |_| true).unwrap();
        let theirs = hub.archive_dump(room.node_id()).unwrap();
        let mut ours = room.read_model_dump().unwrap();
        for t in NOT_ARCHIVED_TABLES {
            assert!(theirs[*t].is_empty(), "{t} is not archived");
            ours.insert((*t).to_owned(), Default::default());
        }
        assert_eq!(theirs, ours);
        // The hub's own read models are untouched by the box's.
        assert_eq!(hub.room().unwrap().name.as_str(), "Trung tâm");
        // A deleted archive file is rebuilt on the next read.
        drop(hub);
        std::fs::remove_dir_all(dir.path().join("hub").join(ARCHIVE_DIR)).unwrap();
        let hub = Store::open(&dir.path().join("hub")).unwrap();
        assert_eq!(
            hub.archive_dump(room.node_id()).unwrap(),
            room.read_model_dump().unwrap()
        );
    }
}
