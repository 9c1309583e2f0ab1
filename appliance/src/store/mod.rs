//! The node's store: one redb file holding the event log and the read models built from it,
//! plus a content-addressed blob directory beside it. No business rules live here: callers
//! check a command against the state they read inside [`Store::write`] and hand back the
//! events to append; the store numbers, chains, applies and commits them in one transaction.

pub mod accounts;
pub mod blobs;
mod error;
mod migrate;
pub mod records;
mod tables;

pub use accounts::{Account, Session};
pub use blobs::{BlobError, BlobInfo, BlobStore};
pub use error::StoreError;
pub use migrate::SCHEMA_VERSION;

use crate::domain::event::{EnvelopeHeader, ENVELOPE_VERSION};
use crate::domain::{Actor, EventBody, EventEnvelope, Hash, NodeId, NoticeText, RoomName};
use redb::{Database, ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tables::{LOG, ROOM};
use time::OffsetDateTime;
use tokio::sync::broadcast;

/// The database file inside the data directory.
pub const DB_FILE: &str = "phonghop.redb";
/// How many committed events the live channel holds for slow readers before they lag and are
/// cut off. Memory for live feeds is bounded by this, whatever the number of clients.
const LIVE_CAPACITY: usize = 1024;

/// What a node is: a room box or the central office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    Room,
    Hub,
}

impl NodeRole {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Room => "room",
            NodeRole::Hub => "hub",
        }
    }
}

/// The room's read model: what the landing page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomState {
    pub name: RoomName,
    pub notice: Option<Notice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub text: NoticeText,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub seq: u64,
}

/// The result of walking the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: u64,
    pub head: Option<Hash>,
    /// The first link that does not hold, if any.
    pub broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: u64,
    pub reason: String,
}

/// A cheap handle to the node's store, shared by every request.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None` only while the file is being reopened after an I/O error, or if that failed.
    db: RwLock<Option<Arc<Database>>>,
    /// Set when a write failed on I/O (a full disk, a failing card): redb then refuses every
    /// operation until the file is closed and opened again, which the next caller does.
    poisoned: AtomicBool,
    dir: PathBuf,
    node_id: NodeId,
    role: NodeRole,
    /// Held from before the commit until the committed events are on the live channel, so the
    /// channel carries events in sequence order with no gap.
    publish: Mutex<()>,
    live: broadcast::Sender<Arc<EventEnvelope>>,
    blobs: BlobStore,
}

/// The view a command gets inside its write transaction: it reads current state to check the
/// command, and may write node-local records that are not events (credentials, sessions).
pub struct Tx<'a> {
    txn: &'a WriteTransaction,
    db: &'a Database,
}

fn db_path(dir: &Path) -> PathBuf {
    dir.join(DB_FILE)
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl Store {
    /// Opens an initialised data directory. A corrupt, foreign or newer directory is an error,
    /// and the directory is left exactly as it was.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = db_path(dir);
        if !path.exists() {
            return Err(StoreError::NotInitialised {
                path: dir.to_path_buf(),
            });
        }
        migrate::precheck(&path)?;
        let db = Database::open(&path).map_err(|e| open_error(&path, e))?;
        let (node_id, role) = migrate::check_and_migrate(&db, &path)?;
        let blobs = BlobStore::open(&dir.join("blobs"))?;
        Ok(Self::from_parts(db, dir, node_id, role, blobs))
    }

    /// Makes a new data directory: the database with its first event, atomically. A directory
    /// that already holds other files is refused, so `init` never writes over anything.
    pub fn init(dir: &Path, room_name: &RoomName, role: NodeRole) -> Result<Store, StoreError> {
        let path = db_path(dir);
        if path.exists() {
            return Err(StoreError::AlreadyInitialised {
                path: dir.to_path_buf(),
            });
        }
        let made_here = !dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        // The store holds password hashes and session digests: owner only. A directory someone
        // prepared (e.g. systemd's StateDirectory) keeps the mode they gave it.
        if made_here {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| StoreError::io(dir, e))?;
        }
        let entries = std::fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(dir, e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // A config file written before init, and the debris of an init that died, are fine.
            if name != "phonghop.toml" && !name.ends_with(".init") {
                return Err(StoreError::NotEmpty {
                    path: dir.to_path_buf(),
                });
            }
        }
        // Build the database under a temporary name and rename it into place once its first
        // event is durable: a crash during init leaves no half-made directory behind.
        let tmp = dir.join(format!("{DB_FILE}.init"));
        let _ = std::fs::remove_file(&tmp);
        let node_id = NodeId::random();
        {
            let db = Database::create(&tmp).map_err(|e| open_error(&tmp, e))?;
            let txn = db.begin_write()?;
            migrate::create_schema(&txn, &node_id, role)?;
            append_in(
                &txn,
                &node_id,
                Actor::Console,
                vec![EventBody::NodeInitialised {
                    room_name: room_name.clone(),
                    role: role.as_str().to_owned(),
                }],
            )?;
            txn.commit()?;
        }
        std::fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e))?;
        blobs::fsync_dir(dir)?;
        Store::open(dir)
    }

    fn from_parts(
        db: Database,
        dir: &Path,
        node_id: NodeId,
        role: NodeRole,
        blobs: BlobStore,
    ) -> Store {
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        Store {
            inner: Arc::new(Inner {
                db: RwLock::new(Some(Arc::new(db))),
                poisoned: AtomicBool::new(false),
                dir: dir.to_path_buf(),
                node_id,
                role,
                publish: Mutex::new(()),
                live,
                blobs,
            }),
        }
    }

    pub fn node_id(&self) -> &NodeId {
        &self.inner.node_id
    }
    pub fn role(&self) -> NodeRole {
        self.inner.role
    }
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }
    pub fn blobs(&self) -> &BlobStore {
        &self.inner.blobs
    }

    /// Runs a command: `check` reads the current state inside the write transaction and returns
    /// the events to append (possibly none) and a value for the caller. The events are chained,
    /// applied to the read models and committed with immediate durability before this returns,
    /// then published to live feeds. If `check` fails, nothing is written.
    pub fn write<T, E>(
        &self,
        actor: Actor,
        check: impl FnOnce(&mut Tx<'_>) -> Result<(Vec<EventBody>, T), E>,
    ) -> Result<(Vec<Arc<EventEnvelope>>, T), E>
    where
        E: From<StoreError>,
    {
        let guard = self
            .inner
            .publish
            .lock()
            .map_err(|_| StoreError::Db("store lock poisoned".into()))?;
        let db = self.db_locked()?;
        let txn = db
            .begin_write()
            .map_err(|e| self.poison(StoreError::from(e)))?;
        let (bodies, value) = {
            let mut tx = Tx { txn: &txn, db: &db };
            check(&mut tx)?
        };
        let events =
            append_in(&txn, &self.inner.node_id, actor, bodies).map_err(|e| self.poison(e))?;
        txn.commit().map_err(|e| self.poison(StoreError::from(e)))?;
        let events: Vec<Arc<EventEnvelope>> = events.into_iter().map(Arc::new).collect();
        for e in &events {
            // No receiver is not an error: nobody is watching right now.
            let _ = self.inner.live.send(e.clone());
        }
        drop(guard);
        Ok((events, value))
    }

    /// The database, reopening it first if an earlier write left it refusing operations.
    fn db(&self) -> Result<Arc<Database>, StoreError> {
        if self.inner.poisoned.load(Ordering::Acquire) {
            let _writers = self
                .inner
                .publish
                .lock()
                .map_err(|_| StoreError::Db("store lock poisoned".into()))?;
            return self.db_locked();
        }
        self.current_db()
    }

    fn current_db(&self) -> Result<Arc<Database>, StoreError> {
        self.inner
            .db
            .read()
            .map_err(|_| StoreError::Db("store lock poisoned".into()))?
            .clone()
            .ok_or(StoreError::Unavailable)
    }

    /// Like [`Self::db`], for a caller that already holds the writers' lock.
    fn db_locked(&self) -> Result<Arc<Database>, StoreError> {
        if self.inner.poisoned.load(Ordering::Acquire) {
            self.reopen();
        }
        self.current_db()
    }

    /// Marks the database for reopening after an I/O failure; returns the error unchanged.
    fn poison(&self, e: StoreError) -> StoreError {
        if !matches!(e, StoreError::Encode(_)) {
            tracing::warn!("write failed, the store will be reopened: {e}");
            self.inner.poisoned.store(true, Ordering::Release);
        }
        e
    }

    /// Closes and reopens the database file. Called with the writers' lock held; waits briefly
    /// for readers to let go of the old handle, since redb allows one open per file.
    fn reopen(&self) {
        let Ok(mut slot) = self.inner.db.write() else {
            return;
        };
        if let Some(mut old) = slot.take() {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            loop {
                match Arc::try_unwrap(old) {
                    Ok(db) => {
                        if let Err(e) = db.close() {
                            tracing::warn!("closing the store after an I/O error: {e}");
                        }
                        break;
                    }
                    Err(still_shared) if std::time::Instant::now() < deadline => {
                        old = still_shared;
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                    Err(still_shared) => {
                        tracing::error!("readers still hold the store; reopening later");
                        *slot = Some(still_shared);
                        return;
                    }
                }
            }
        }
        match Database::open(db_path(&self.inner.dir)) {
            Ok(db) => {
                *slot = Some(Arc::new(db));
                self.inner.poisoned.store(false, Ordering::Release);
                tracing::info!("store reopened after an I/O error");
            }
            Err(e) => tracing::error!("could not reopen the store: {e}"),
        }
    }

    /// Appends events with no check, for start-up and console commands.
    pub fn append(
        &self,
        actor: Actor,
        bodies: Vec<EventBody>,
    ) -> Result<Vec<Arc<EventEnvelope>>, StoreError> {
        self.write(actor, |_| Ok::<_, StoreError>((bodies, ())))
            .map(|(e, ())| e)
    }

    /// A receiver of every event committed from now on, in sequence order.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventEnvelope>> {
        self.inner.live.subscribe()
    }

    /// Events with `seq > after`, oldest first, at most `limit`.
    pub fn events_after(&self, after: u64, limit: usize) -> Result<Vec<EventEnvelope>, StoreError> {
        let txn = self.db()?.begin_read()?;
        let log = txn.open_table(LOG)?;
        let mut out = Vec::new();
        for row in log.range(after.saturating_add(1)..)?.take(limit) {
            let (seq, bytes) = row?;
            match EventEnvelope::decode(bytes.value()) {
                Ok(e) => out.push(e),
                Err(err) => {
                    // Written by a newer version of this node; readers skip what they cannot read.
                    tracing::warn!(seq = seq.value(), %err, "skipping an event this version cannot decode");
                }
            }
        }
        Ok(out)
    }

    /// The sequence number of the last event (0 for an empty log).
    pub fn head_seq(&self) -> Result<u64, StoreError> {
        let txn = self.db()?.begin_read()?;
        let log = txn.open_table(LOG)?;
        let last = log.last()?.map(|(k, _)| k.value()).unwrap_or(0);
        Ok(last)
    }

    pub fn room(&self) -> Result<RoomState, StoreError> {
        let txn = self.db()?.begin_read()?;
        let table = txn.open_table(ROOM)?;
        let bytes = table
            .get("state")?
            .ok_or_else(|| StoreError::Db("room state missing".into()))?;
        Ok(serde_json::from_slice(bytes.value())?)
    }

    /// Size of the database file in bytes, for metrics.
    pub fn db_size(&self) -> u64 {
        std::fs::metadata(db_path(&self.inner.dir))
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// Re-walks the whole hash chain of the node's own log.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let txn = self.db()?.begin_read()?;
        let log = txn.open_table(LOG)?;
        let mut prev = Hash::GENESIS;
        let mut count = 0u64;
        for (expected, row) in (1u64..).zip(log.iter()?) {
            let (key, bytes) = row?;
            let seq = key.value();
            let bytes = bytes.value();
            let broken = |reason: String| VerifyReport {
                events: count,
                head: (count > 0).then_some(prev),
                broken: Some(BrokenLink { seq, reason }),
            };
            if seq != expected {
                return Ok(broken(format!("expected event {expected}, found {seq}")));
            }
            let header: EnvelopeHeader = match serde_json::from_slice(bytes) {
                Ok(h) => h,
                Err(e) => return Ok(broken(format!("unreadable envelope: {e}"))),
            };
            if header.seq != seq {
                return Ok(broken(format!(
                    "stored under {seq} but says {}",
                    header.seq
                )));
            }
            if header.origin != self.inner.node_id {
                return Ok(broken(format!("origin {} is not this node", header.origin)));
            }
            if header.prev != prev {
                return Ok(broken(format!(
                    "prev {} does not match the hash of event {} ({})",
                    header.prev.to_hex(),
                    seq - 1,
                    prev.to_hex()
                )));
            }
            prev = Hash::of(bytes);
            count += 1;
        }
        Ok(VerifyReport {
            events: count,
            head: (count > 0).then_some(prev),
            broken: None,
        })
    }

    /// Writes node-local records (no events) in one durable transaction.
    pub fn write_local<T, E>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.write(Actor::Node, |tx| f(tx).map(|v| (Vec::new(), v)))
            .map(|(_, v)| v)
    }

    /// Runs a read-only query against a consistent snapshot.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.db()?.begin_read()?;
        f(&txn)
    }
}

impl Tx<'_> {
    /// Reads the last committed state. Writers take turns, so inside a command this is exactly
    /// the state the command's own transaction started from.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.db.begin_read()?;
        f(&txn)
    }

    pub fn room(&self) -> Result<RoomState, StoreError> {
        room_in(self.txn)
    }
    pub(crate) fn txn(&self) -> &WriteTransaction {
        self.txn
    }
}

fn room_in(txn: &WriteTransaction) -> Result<RoomState, StoreError> {
    let table = txn.open_table(ROOM)?;
    let bytes = table
        .get("state")?
        .ok_or_else(|| StoreError::Db("room state missing".into()))?;
    Ok(serde_json::from_slice(bytes.value())?)
}

/// Maps redb's open errors to what an operator can act on.
fn open_error(path: &Path, e: redb::DatabaseError) -> StoreError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse {
            path: path.to_path_buf(),
        },
        redb::DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::InvalidData =>
        {
            StoreError::Corrupt {
                path: path.to_path_buf(),
                detail: io.to_string(),
            }
        }
        redb::DatabaseError::Storage(redb::StorageError::Io(io)) => StoreError::io(path, io),
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(detail)) => {
            StoreError::Corrupt {
                path: path.to_path_buf(),
                detail,
            }
        }
        other => StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

/// Numbers, chains and stores `bodies` after the current head, and applies each to the read
/// models, all inside `txn`.
fn append_in(
    txn: &WriteTransaction,
    node_id: &NodeId,
    actor: Actor,
    bodies: Vec<EventBody>,
) -> Result<Vec<EventEnvelope>, StoreError> {
    if bodies.is_empty() {
        return Ok(Vec::new());
    }
    let mut log = txn.open_table(LOG)?;
    let (mut seq, mut prev) = match log.last()? {
        Some((k, v)) => (k.value(), Hash::of(v.value())),
        None => (0, Hash::GENESIS),
    };
    let at = now();
    let mut out = Vec::with_capacity(bodies.len());
    for body in bodies {
        seq += 1;
        let envelope = EventEnvelope {
            v: ENVELOPE_VERSION,
            origin: node_id.clone(),
            seq,
            prev,
            at,
            actor: actor.clone(),
            body,
        };
        let bytes = envelope.encode()?;
        log.insert(seq, bytes.as_slice())?;
        prev = Hash::of(&bytes);
        apply(txn, &envelope)?;
        out.push(envelope);
    }
    Ok(out)
}

/// Updates the read models for one event. Deterministic, so read models can be rebuilt from
/// the log.
fn apply(txn: &WriteTransaction, e: &EventEnvelope) -> Result<(), StoreError> {
    let put_room = |state: &RoomState| -> Result<(), StoreError> {
        let mut t = txn.open_table(ROOM)?;
        t.insert("state", serde_json::to_vec(state)?.as_slice())?;
        Ok(())
    };
    let room = || room_in(txn);
    match &e.body {
        EventBody::NodeInitialised { room_name, .. } => put_room(&RoomState {
            name: room_name.clone(),
            notice: None,
        }),
        EventBody::RoomRenamed { name } => {
            let mut s = room()?;
            s.name = name.clone();
            put_room(&s)
        }
        EventBody::NoticePosted { text } => {
            let mut s = room()?;
            s.notice = Some(Notice {
                text: text.clone(),
                at: e.at,
                seq: e.seq,
            });
            put_room(&s)
        }
        EventBody::NoticeCleared {} => {
            let mut s = room()?;
            s.notice = None;
            put_room(&s)
        }
        EventBody::AccountCreated {
            username,
            display_name,
            roles,
        } => accounts::apply_created(txn, username, display_name, roles, e.at),
        _ => records::apply(txn, e),
    }
}
