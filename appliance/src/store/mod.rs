//! The node's store: one redb file holding the event log and the read models built from it,
//! plus a content-addressed blob directory beside it. No business rules live here: callers
//! check a command against the state they read inside [`Store::write`] and hand back the
//! events to append; the store numbers, chains, applies and commits them in one transaction.

pub mod accounts;
pub mod archive;
pub mod blobs;
mod error;
pub mod hub;
mod migrate;
pub mod records;
mod restored;
mod seal;
mod snapshot;
pub mod sync;
mod tables;

pub use accounts::{Account, Session};
pub use blobs::{BlobError, BlobInfo, BlobStore};
pub use error::StoreError;
pub use migrate::{READ_MODEL_VERSION, SCHEMA_VERSION};
pub use restored::RestoreMark;
pub use snapshot::{OriginHead, SnapshotFacts};
pub use sync::{IngestError, Ingested};

use crate::domain::event::{EnvelopeHeader, ENVELOPE_VERSION};
use crate::domain::{Actor, EventBody, EventEnvelope, Hash, NodeId, NoticeText, RoomName};
use redb::{Database, ReadableDatabase, ReadableTable, TableHandle, WriteTransaction};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tables::{CHECKPOINTS, CURSORS, EVENTS, META, ROOM};
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

/// How far a receiver holds an origin's log: the last event stored, with every one before it
/// present. `(0, GENESIS)` when it holds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub seq: u64,
    pub hash: Hash,
}

impl Cursor {
    pub const EMPTY: Cursor = Cursor {
        seq: 0,
        hash: Hash::GENESIS,
    };
}

/// The result of walking the hash chains of every origin the node holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Events checked, all origins together.
    pub events: u64,
    /// The hash of the node's own last event.
    pub head: Option<Hash>,
    /// Each origin held, with how many of its events were checked.
    pub origins: Vec<(NodeId, u64)>,
    /// The first link that does not hold, if any.
    pub broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub origin: String,
    pub seq: u64,
    pub reason: String,
}

/// What the node knows of its own record's integrity while it serves: `/readyz` and the staff
/// screens report anything but `Intact`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Integrity {
    /// Checked from the last checkpoint at start; the full walk has not finished yet.
    CheckedFromCheckpoint { upto: u64 },
    /// Every origin's chain was walked from its first event.
    Intact { events: u64 },
    /// A link does not hold, or an event cannot be read.
    Broken(BrokenLink),
}

impl Integrity {
    pub fn is_broken(&self) -> bool {
        matches!(self, Integrity::Broken(_))
    }
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
    integrity: RwLock<Integrity>,
    /// Where the chain checkpoint stands, so the server can tell how far the head ran ahead.
    checkpoint_seq: std::sync::atomic::AtomicU64,
    /// Moves after every commit that may change who a caller is or their part in a meeting
    /// (see [`Store::access_epoch`]).
    access_epoch: std::sync::atomic::AtomicU64,
    /// On a hub: each box's read models, rebuilt from its log (see [`archive`]).
    archives: archive::Archives,
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

/// redb's page cache. Its default (1 GiB) would let one walk of a long log hold most of the
/// file in the box's memory; the kernel's page cache still keeps the file warm.
const DB_CACHE_BYTES: usize = 64 * 1024 * 1024;

fn open_db(path: &Path) -> Result<Database, redb::DatabaseError> {
    Database::builder()
        .set_cache_size(DB_CACHE_BYTES)
        .open(path)
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
        let db = open_db(&path).map_err(|e| open_error(&path, e))?;
        let (node_id, role) = migrate::check_and_migrate(&db, &path)?;
        check_own_log(&db, &path, &node_id)?;
        if migrate::read_model_version(&db)? != Some(READ_MODEL_VERSION) {
            let txn = db.begin_write()?;
            let n = rebuild_in(&txn, &node_id)?;
            {
                let mut meta = txn.open_table(META)?;
                meta.insert(
                    "read_model_version",
                    READ_MODEL_VERSION.to_string().as_str(),
                )?;
            }
            txn.commit()?;
            tracing::info!(
                events = n,
                version = READ_MODEL_VERSION,
                "read models rebuilt from the log"
            );
        }
        let blobs = BlobStore::open(&dir.join("blobs"))?;
        let store = Self::from_parts(db, dir, node_id, role, blobs);
        store.advance_checkpoint()?;
        Ok(store)
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
                vec![(
                    Actor::Console,
                    EventBody::NodeInitialised {
                        room_name: room_name.clone(),
                        role: role.as_str().to_owned(),
                    },
                )],
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
                integrity: RwLock::new(Integrity::CheckedFromCheckpoint { upto: 0 }),
                checkpoint_seq: std::sync::atomic::AtomicU64::new(0),
                access_epoch: std::sync::atomic::AtomicU64::new(0),
                archives: Default::default(),
            }),
        }
    }

    /// What is known of the record's integrity now.
    pub fn integrity(&self) -> Integrity {
        self.inner
            .integrity
            .read()
            .map(|i| i.clone())
            .unwrap_or_else(|_| {
                Integrity::Broken(BrokenLink {
                    origin: String::new(),
                    seq: 0,
                    reason: "integrity state lock poisoned".into(),
                })
            })
    }

    fn set_integrity(&self, i: Integrity) {
        if let Integrity::Broken(b) = &i {
            tracing::error!(origin = %b.origin, seq = b.seq, reason = %b.reason, "the event log's hash chain is broken");
        }
        if let Ok(mut slot) = self.inner.integrity.write() {
            // A break once seen stays reported until the node restarts.
            if !slot.is_broken() {
                *slot = i;
            }
        }
    }

    /// Checks the node's own chain from the last checkpoint to the head and moves the
    /// checkpoint there when it holds. Run at start (quick however long the log, as long as the
    /// checkpoint is recent), every few minutes while serving and at shutdown, so that a start
    /// after a crash has little to walk; the full walk ([`Self::verify_and_record`]) runs
    /// after start.
    pub fn advance_checkpoint(&self) -> Result<(), StoreError> {
        if self.integrity().is_broken() {
            return Ok(());
        }
        let own = self.inner.node_id.as_str().to_owned();
        let db = self.db()?;
        let outcome = {
            let txn = db.begin_read()?;
            let start = match txn.open_table(CHECKPOINTS)?.get(own.as_str())? {
                Some(v) => serde_json::from_slice::<Cursor>(v.value())?,
                None => Cursor::EMPTY,
            };
            let events = txn.open_table(EVENTS)?;
            // The checkpointed event itself must still hash to what was recorded.
            if start.seq > 0 {
                let at = events.get((own.as_str(), start.seq))?;
                let ok = at.is_some_and(|b| Hash::of(b.value()) == start.hash);
                if !ok {
                    let broken = BrokenLink {
                        origin: own.clone(),
                        seq: start.seq,
                        reason: "the checkpointed event is missing or changed".into(),
                    };
                    self.set_integrity(Integrity::Broken(broken));
                    return Ok(());
                }
            }
            walk_origin(&events, &own, start)?
        };
        match outcome {
            Walk::Intact { count, head } => {
                // Nothing new since the checkpoint: no write, no fsync.
                if count > 0 {
                    let txn = db.begin_write()?;
                    txn.open_table(CHECKPOINTS)?
                        .insert(own.as_str(), serde_json::to_vec(&head)?.as_slice())?;
                    txn.commit()?;
                }
                self.inner.checkpoint_seq.store(head.seq, Ordering::Release);
                // A full walk already done stays the better news.
                if let Integrity::CheckedFromCheckpoint { .. } = self.integrity() {
                    self.set_integrity(Integrity::CheckedFromCheckpoint { upto: head.seq });
                }
            }
            Walk::Broken(b) => self.set_integrity(Integrity::Broken(b)),
        }
        Ok(())
    }

    /// How many of the node's own events lie past the chain checkpoint: what a start after a
    /// crash would have to walk.
    pub fn past_checkpoint(&self) -> Result<u64, StoreError> {
        let at = self.inner.checkpoint_seq.load(Ordering::Acquire);
        Ok(self.head_seq()?.saturating_sub(at))
    }

    /// Walks every chain from its first event, records the result for `/readyz`, and moves
    /// the checkpoint to the verified head.
    pub fn verify_and_record(&self) -> Result<VerifyReport, StoreError> {
        let report = self.verify()?;
        match &report.broken {
            Some(b) => self.set_integrity(Integrity::Broken(b.clone())),
            None => {
                self.set_integrity(Integrity::Intact {
                    events: report.events,
                });
                self.advance_checkpoint()?;
            }
        }
        Ok(report)
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
        self.write_each(|tx| {
            let (bodies, value) = check(tx)?;
            Ok((
                bodies.into_iter().map(|b| (actor.clone(), b)).collect(),
                value,
            ))
        })
    }

    /// Like [`Self::write`], for a command that writes on behalf of several actors at once (a
    /// batch of ballots from many tablets sharing one durable commit): each event carries its
    /// own actor.
    pub fn write_each<T, E>(
        &self,
        check: impl FnOnce(&mut Tx<'_>) -> Result<(Vec<(Actor, EventBody)>, T), E>,
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
        if self.inner.role == NodeRole::Hub {
            // Whatever command it came from: a meeting handed to a room is the room's.
            records::refuse_handed_over(&txn, bodies.iter().map(|(_, b)| b))?;
        }
        let events = append_in(&txn, &self.inner.node_id, bodies).map_err(|e| self.poison(e))?;
        txn.commit().map_err(|e| self.poison(StoreError::from(e)))?;
        // Node-local writes (a session) move it in `write_local`; a command that found nothing
        // to change (a retry) moves nothing.
        if events
            .iter()
            .any(|e| crate::domain::visibility::changes_access(&e.body))
        {
            self.inner.access_epoch.fetch_add(1, Ordering::AcqRel);
        }
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
        match open_db(&db_path(&self.inner.dir)) {
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

    /// A number that moves after every commit that may change who a caller is or their part
    /// in a meeting: a sign-in or sign-out, a revocation, an account change, a new chair, a
    /// meeting submitted, sent back or published. It moves before the commit's events reach
    /// the live channel, so a feed that kept its caller while the number stood still and sees
    /// it moved asks again before judging those events.
    pub fn access_epoch(&self) -> u64 {
        self.inner.access_epoch.load(Ordering::Acquire)
    }

    /// A receiver of every event committed from now on, in sequence order.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventEnvelope>> {
        self.inner.live.subscribe()
    }

    /// The node's own events with `seq > after`, oldest first, at most `limit`.
    pub fn events_after(&self, after: u64, limit: usize) -> Result<Vec<EventEnvelope>, StoreError> {
        let txn = self.db()?.begin_read()?;
        let log = txn.open_table(EVENTS)?;
        let own = self.inner.node_id.as_str();
        let mut out = Vec::new();
        for row in log
            .range((own, after.saturating_add(1))..=(own, u64::MAX))?
            .take(limit)
        {
            let (key, bytes) = row?;
            match EventEnvelope::decode(bytes.value()) {
                Ok(e) => out.push(e),
                Err(err) => {
                    // Written by a newer version of this node; readers skip what they cannot read.
                    tracing::warn!(seq = key.value().1, %err, "skipping an event this version cannot decode");
                }
            }
        }
        Ok(out)
    }

    /// The sequence number of the node's own last event (0 for an empty log).
    pub fn head_seq(&self) -> Result<u64, StoreError> {
        Ok(self.cursor(&self.inner.node_id)?.seq)
    }

    /// How far the node holds an origin's log.
    pub fn cursor(&self, origin: &NodeId) -> Result<Cursor, StoreError> {
        let txn = self.db()?.begin_read()?;
        cursor_of(&txn.open_table(CURSORS)?, origin.as_str())
    }

    /// Every origin the node holds, with its cursor.
    pub fn cursors(&self) -> Result<Vec<(NodeId, Cursor)>, StoreError> {
        let txn = self.db()?.begin_read()?;
        let t = txn.open_table(CURSORS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            if let Some(origin) = NodeId::parse(k.value()) {
                out.push((origin, serde_json::from_slice(v.value())?));
            }
        }
        Ok(out)
    }

    /// Replays the log into fresh read models: every read-model table is emptied and rebuilt
    /// in one transaction, so a crash leaves the old ones. Node-local records (credentials,
    /// sessions, PINs, device cookies, pairing codes) are kept. Returns the events applied.
    pub fn rebuild(&self) -> Result<u64, StoreError> {
        let _writers = self
            .inner
            .publish
            .lock()
            .map_err(|_| StoreError::Db("store lock poisoned".into()))?;
        let db = self.db_locked()?;
        let txn = db.begin_write()?;
        let n = rebuild_in(&txn, &self.inner.node_id)?;
        txn.commit()?;
        self.inner.access_epoch.fetch_add(1, Ordering::AcqRel);
        Ok(n)
    }

    /// Every read-model table's rows, for comparing an incrementally built state with a
    /// rebuilt one.
    pub fn read_model_dump(&self) -> Result<ReadModelDump, StoreError> {
        let txn = self.db()?.begin_read()?;
        dump_read_models(&txn)
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

    /// Re-walks the hash chain of every origin the node holds, each from its first event, and
    /// checks that each ends where its cursor says.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let txn = self.db()?.begin_read()?;
        let events = txn.open_table(EVENTS)?;
        let cursors = txn.open_table(CURSORS)?;
        let own = self.inner.node_id.as_str();
        // Every origin that has events or a cursor.
        let mut origins = std::collections::BTreeSet::new();
        for row in cursors.iter()? {
            origins.insert(row?.0.value().to_owned());
        }
        let mut next: Option<String> = None;
        loop {
            let from = next.take().unwrap_or_default();
            let mut range = events.range((from.as_str(), 0)..)?;
            let Some(row) = range.next() else { break };
            let origin = row?.0.value().0.to_owned();
            next = Some(format!("{origin}\u{0}"));
            origins.insert(origin);
        }
        let mut report = VerifyReport {
            events: 0,
            head: None,
            origins: Vec::new(),
            broken: None,
        };
        for origin in &origins {
            let (n, head) = match walk_origin(&events, origin, Cursor::EMPTY)? {
                Walk::Intact { count, head } => (count, head),
                Walk::Broken(b) => {
                    report.broken = Some(b);
                    return Ok(report);
                }
            };
            let claimed = cursor_of(&cursors, origin)?;
            if claimed != head {
                report.broken = Some(BrokenLink {
                    origin: origin.clone(),
                    seq: head.seq,
                    reason: format!(
                        "the log ends at event {} but its cursor says {}",
                        head.seq, claimed.seq
                    ),
                });
                return Ok(report);
            }
            if origin == own {
                report.head = (head.seq > 0).then_some(head.hash);
            }
            report.events += n;
            if let Some(id) = NodeId::parse(origin) {
                report.origins.push((id, n));
            }
        }
        Ok(report)
    }

    /// Writes node-local records (no events) in one durable transaction.
    pub fn write_local<T, E>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let v = self
            .write(Actor::Node, |tx| f(tx).map(|v| (Vec::new(), v)))
            .map(|(_, v)| v)?;
        // A sign-in or a sign-out: who a cookie stands for may have changed.
        self.inner.access_epoch.fetch_add(1, Ordering::AcqRel);
        Ok(v)
    }

    /// Runs a read-only query against a consistent snapshot.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.db()?.begin_read()?;
        f(&txn)
    }

    /// Like [`Self::read`], with the sequence number of the node's last event in the same
    /// snapshot: a feed opened from it misses nothing and repeats nothing the read saw.
    pub fn read_with_head<T>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<(u64, T), StoreError> {
        let txn = self.db()?.begin_read()?;
        let head = cursor_of(&txn.open_table(CURSORS)?, self.inner.node_id.as_str())?.seq;
        Ok((head, f(&txn)?))
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

/// Every read-model table's rows in one snapshot.
fn dump_read_models(txn: &redb::ReadTransaction) -> Result<ReadModelDump, StoreError> {
    let mut out = ReadModelDump::new();
    for def in tables::READ_MODELS {
        let t = txn.open_table(*def)?;
        let mut rows = std::collections::BTreeMap::new();
        for row in t.iter()? {
            let (k, v) = row?;
            rows.insert(k.value().to_owned(), v.value().to_vec());
        }
        out.insert(def.name().to_owned(), rows);
    }
    for def in tables::READ_MODEL_INDEXES {
        let t = txn.open_table(*def)?;
        let mut rows = std::collections::BTreeMap::new();
        for row in t.iter()? {
            let (k, v) = row?;
            rows.insert(k.value().to_owned(), v.value().as_bytes().to_vec());
        }
        out.insert(def.name().to_owned(), rows);
    }
    Ok(out)
}

/// The rows of every read-model table, by table name.
pub type ReadModelDump =
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<u8>>>;

fn cursor_of(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    origin: &str,
) -> Result<Cursor, StoreError> {
    match t.get(origin)? {
        Some(v) => Ok(serde_json::from_slice(v.value())?),
        None => Ok(Cursor::EMPTY),
    }
}

/// The outcome of walking one origin's chain.
enum Walk {
    Intact { count: u64, head: Cursor },
    Broken(BrokenLink),
}

/// Walks `origin`'s events after `from`, checking numbering, origin and hash links.
fn walk_origin(
    events: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    origin: &str,
    from: Cursor,
) -> Result<Walk, StoreError> {
    let mut prev = from;
    let mut count = 0u64;
    for row in events.range((origin, from.seq.saturating_add(1))..=(origin, u64::MAX))? {
        let (key, bytes) = row?;
        let seq = key.value().1;
        let bytes = bytes.value();
        let broken = |reason: String| {
            Ok(Walk::Broken(BrokenLink {
                origin: origin.to_owned(),
                seq,
                reason,
            }))
        };
        let expected = prev.seq + 1;
        if seq != expected {
            return broken(format!("expected event {expected}, found {seq}"));
        }
        let header: EnvelopeHeader = match serde_json::from_slice(bytes) {
            Ok(h) => h,
            Err(e) => return broken(format!("unreadable envelope: {e}")),
        };
        if header.seq != seq {
            return broken(format!("stored under {seq} but says {}", header.seq));
        }
        if header.origin.as_str() != origin {
            return broken(format!(
                "stored under origin {origin} but says {}",
                header.origin
            ));
        }
        if header.prev != prev.hash {
            return broken(format!(
                "prev {} does not match the hash of event {} ({})",
                header.prev.to_hex(),
                prev.seq,
                prev.hash.to_hex()
            ));
        }
        prev = Cursor {
            seq,
            hash: Hash::of(bytes),
        };
        count += 1;
    }
    Ok(Walk::Intact { count, head: prev })
}

/// Refuses a store whose node id does not match its own log: a damaged id must never become a
/// new identity (and a new intermediate CA) silently.
fn check_own_log(db: &Database, path: &Path, node: &NodeId) -> Result<(), StoreError> {
    let txn = db.begin_read()?;
    let events = txn.open_table(EVENTS)?;
    let first = events.get((node.as_str(), 1))?;
    let ok = first
        .and_then(|b| serde_json::from_slice::<EnvelopeHeader>(b.value()).ok())
        .is_some_and(|h| &h.origin == node && h.kind == "node.initialised");
    if ok {
        return Ok(());
    }
    Err(StoreError::Corrupt {
        path: path.to_path_buf(),
        detail: format!(
            "the node id in its meta table ({node}) does not match its own event log; \
             the id may be damaged. Restore the data directory from a backup"
        ),
    })
}

/// Empties the read models and applies the node's own log to them again.
fn rebuild_in(txn: &WriteTransaction, node: &NodeId) -> Result<u64, StoreError> {
    for def in tables::READ_MODELS {
        txn.delete_table(*def)?;
        txn.open_table(*def)?;
    }
    for def in tables::READ_MODEL_INDEXES {
        txn.delete_table(*def)?;
        txn.open_table(*def)?;
    }
    // Node-local tables a newer build added: created, never emptied.
    txn.open_table(tables::SECRET_CHOICES)?;
    txn.open_table(tables::ENROLMENT_SECRETS)?;
    txn.open_table(tables::PEER_CONTACTS)?;
    txn.open_table(tables::NOTES_KEY)?;
    let own = node.as_str();
    let mut applied = 0u64;
    let mut after = 0u64;
    loop {
        // In batches, so the bytes read are released as the replay goes.
        let mut batch = Vec::new();
        {
            let events = txn.open_table(EVENTS)?;
            for row in events
                .range((own, after.saturating_add(1))..=(own, u64::MAX))?
                .take(1024)
            {
                let (key, bytes) = row?;
                after = key.value().1;
                match EventEnvelope::decode(bytes.value()) {
                    Ok(e) => batch.push(Some(e)),
                    Err(err) => {
                        tracing::warn!(seq = after, %err, "rebuild skips an event this version cannot decode");
                        batch.push(None);
                    }
                }
            }
        }
        if batch.is_empty() {
            break;
        }
        for e in batch.iter().flatten() {
            apply(txn, e)?;
            applied += 1;
        }
    }
    Ok(applied)
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
    bodies: Vec<(Actor, EventBody)>,
) -> Result<Vec<EventEnvelope>, StoreError> {
    if bodies.is_empty() {
        return Ok(Vec::new());
    }
    let own = node_id.as_str();
    let start = cursor_of(&txn.open_table(CURSORS)?, own)?;
    let (mut seq, mut prev) = (start.seq, start.hash);
    let at = now();
    let mut out = Vec::with_capacity(bodies.len());
    for (actor, body) in bodies {
        seq += 1;
        let envelope = EventEnvelope {
            v: ENVELOPE_VERSION,
            origin: node_id.clone(),
            seq,
            prev,
            at,
            actor,
            body,
        };
        let bytes = envelope.encode()?;
        txn.open_table(EVENTS)?
            .insert((own, seq), bytes.as_slice())?;
        prev = Hash::of(&bytes);
        apply(txn, &envelope)?;
        out.push(envelope);
    }
    txn.open_table(CURSORS)?.insert(
        own,
        serde_json::to_vec(&Cursor { seq, hash: prev })?.as_slice(),
    )?;
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
        EventBody::AccountPasswordChanged { username }
        | EventBody::AccountPasswordReset { username } => {
            accounts::apply_change(txn, username, accounts::Change::PasswordSet, e.at)
        }
        EventBody::AccountDisabled { username } => {
            accounts::apply_change(txn, username, accounts::Change::Disabled(true), e.at)
        }
        EventBody::AccountEnabled { username } => {
            accounts::apply_change(txn, username, accounts::Change::Disabled(false), e.at)
        }
        EventBody::AccountRemoved { username } => {
            accounts::apply_change(txn, username, accounts::Change::Removed, e.at)
        }
        // Sessions are node-local: the command ended them in its own write.
        EventBody::AccountSessionsEnded { .. } => Ok(()),
        _ => records::apply(txn, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::golden::samples;

    fn fresh() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(
            &dir.path().join("data"),
            &RoomName::parse("Phòng họp").unwrap(),
            NodeRole::Room,
        )
        .unwrap();
        (dir, store)
    }

    #[test]
    fn a_store_made_before_displays_has_no_display_tables_and_still_works() {
        let (dir, store) = fresh();
        drop(store);
        let path = dir.path().join("data").join(DB_FILE);
        {
            // As a box made by the build before displays: no display tables, old read models.
            let db = open_db(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.delete_table(tables::DISPLAY_TOKENS).unwrap();
            txn.delete_table(tables::DISPLAY_CODES).unwrap();
            txn.delete_table(tables::DISPLAYS).unwrap();
            txn.open_table(META)
                .unwrap()
                .insert("read_model_version", "3")
                .unwrap();
            txn.commit().unwrap();
        }
        let store = Store::open(&dir.path().join("data")).unwrap();
        assert_eq!(store.read(records::displays).unwrap(), vec![]);
        assert_eq!(
            store.read(|t| records::display_by_token(t, "ab")).unwrap(),
            None
        );
        assert_eq!(
            store.read(|t| records::display_code(t, "ab")).unwrap(),
            None
        );
        // The first code and pairing create the node-local tables.
        let entry = records::DisplayCodeEntry {
            label: "Máy chiếu".into(),
            expires_at: OffsetDateTime::now_utc() + time::Duration::minutes(5),
        };
        store
            .write_local(|tx| {
                tx.put_display_code("ab", &entry)?;
                tx.put_display_token("cd", &crate::domain::records::Id::random())
            })
            .unwrap();
        assert_eq!(
            store.read(|t| records::display_code(t, "ab")).unwrap(),
            Some(entry)
        );
    }

    #[test]
    fn the_access_epoch_moves_for_what_changes_callers_and_not_for_a_running_meeting() {
        let (_dir, store) = fresh();
        let mut moved = Vec::new();
        for body in samples() {
            let before = store.access_epoch();
            store.append(Actor::Node, vec![body.clone()]).unwrap();
            if store.access_epoch() != before {
                moved.push(body.kind());
            }
        }
        assert_eq!(
            moved,
            vec![
                "device.revoked",
                "meeting.details_set",
                "meeting.submitted",
                "meeting.approved",
                "meeting.sent_back",
                "meeting.published",
                "account.password_changed",
                "account.password_reset",
                "account.disabled",
                "account.sessions_ended",
                "account.removed",
                "display.revoked",
                "meeting.handed_over",
                "meeting.adopted",
            ]
        );
        // A node-local write (a sign-in, a sign-out) moves it too; a command that found nothing
        // to change does not.
        let before = store.access_epoch();
        store.write_local(|_| Ok::<_, StoreError>(())).unwrap();
        assert_eq!(store.access_epoch(), before + 1);
        store
            .write(Actor::Node, |_| Ok::<_, StoreError>((vec![], ())))
            .unwrap();
        assert_eq!(store.access_epoch(), before + 1);
    }

    #[test]
    fn rebuilding_gives_exactly_the_state_incremental_application_gave() {
        let (_dir, store) = fresh();
        crate::demo::seed(&store).unwrap();
        // One event of every kind on top of the demo, in an order the read models accept.
        store.append(Actor::Console, samples()).unwrap();
        let incremental = store.read_model_dump().unwrap();
        let rows: usize = incremental.values().map(|rows| rows.len()).sum();
        assert!(rows > 25, "only {rows} rows: {incremental:?}");
        let applied = store.rebuild().unwrap();
        assert_eq!(applied, store.head_seq().unwrap());
        let rebuilt = store.read_model_dump().unwrap();
        for (table, rows) in &incremental {
            assert_eq!(
                rows, &rebuilt[table],
                "table {table} differs after a rebuild"
            );
        }
        assert_eq!(incremental, rebuilt);
    }

    #[test]
    fn a_changed_read_model_version_rebuilds_on_open() {
        let (dir, store) = fresh();
        crate::demo::seed(&store).unwrap();
        let before = store.read_model_dump().unwrap();
        let path = store.dir().to_path_buf();
        drop(store);
        {
            // A build with other read models ran here, or a table was damaged.
            let db = Database::open(db_path(&path)).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert("read_model_version", "0")
                .unwrap();
            txn.delete_table(tables::AGENDA).unwrap();
            txn.open_table(tables::AGENDA).unwrap();
            txn.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.read_model_dump().unwrap(), before);
        drop(dir);
    }

    #[test]
    fn the_log_is_kept_per_origin_and_verify_walks_each() {
        let (_dir, store) = fresh();
        store.append(Actor::Console, samples()).unwrap();
        let own = store.node_id().clone();
        let c = store.cursor(&own).unwrap();
        assert_eq!(c.seq, store.head_seq().unwrap());
        // Another origin's chain, as sync will store it.
        let other = NodeId::random();
        {
            let db = store.db().unwrap();
            let txn = db.begin_write().unwrap();
            let mut prev = Hash::GENESIS;
            for (seq, body) in (1u64..).zip(samples().into_iter().take(3)) {
                let e = EventEnvelope {
                    v: ENVELOPE_VERSION,
                    origin: other.clone(),
                    seq,
                    prev,
                    at: now(),
                    actor: Actor::Node,
                    body,
                };
                let bytes = e.encode().unwrap();
                txn.open_table(EVENTS)
                    .unwrap()
                    .insert((other.as_str(), seq), bytes.as_slice())
                    .unwrap();
                prev = Hash::of(&bytes);
                txn.open_table(CURSORS)
                    .unwrap()
                    .insert(
                        other.as_str(),
                        serde_json::to_vec(&Cursor { seq, hash: prev })
                            .unwrap()
                            .as_slice(),
                    )
                    .unwrap();
            }
            txn.commit().unwrap();
        }
        let r = store.verify().unwrap();
        assert!(r.broken.is_none(), "{r:?}");
        assert_eq!(r.origins.len(), 2);
        assert!(r.origins.contains(&(other.clone(), 3)));
        assert_eq!(store.cursors().unwrap().len(), 2);
        // The node's own feed never shows another origin's events.
        let own_events = store.events_after(0, 10_000).unwrap();
        assert!(own_events.iter().all(|e| e.origin == own));
        // A gap in the other origin's chain is found and named.
        {
            let db = store.db().unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(EVENTS)
                .unwrap()
                .remove((other.as_str(), 2))
                .unwrap();
            txn.commit().unwrap();
        }
        let r = store.verify().unwrap();
        let b = r.broken.unwrap();
        assert_eq!((b.origin.as_str(), b.seq), (other.as_str(), 3));
    }

    fn checkpoint(store: &Store) -> Cursor {
        let txn = store.db().unwrap().begin_read().unwrap();
        let t = txn.open_table(CHECKPOINTS).unwrap();
        let v = t.get(store.node_id().as_str()).unwrap().unwrap();
        serde_json::from_slice(v.value()).unwrap()
    }

    fn notices(n: usize) -> Vec<EventBody> {
        (0..n)
            .map(|i| EventBody::NoticePosted {
                text: crate::domain::NoticeText::parse(&format!("Thông báo {i}")).unwrap(),
            })
            .collect()
    }

    #[test]
    fn the_full_walk_moves_the_checkpoint_to_the_head_so_the_next_start_walks_nothing() {
        let (_dir, store) = fresh();
        store.append(Actor::Console, notices(50)).unwrap();
        assert_eq!(checkpoint(&store).seq, 1, "set at init's open");
        let r = store.verify_and_record().unwrap();
        assert!(r.broken.is_none());
        let head = store.cursor(store.node_id()).unwrap();
        assert_eq!(checkpoint(&store), head);
        assert_eq!(store.integrity(), Integrity::Intact { events: 51 });
    }

    #[test]
    fn the_check_while_serving_moves_the_checkpoint_and_keeps_what_the_full_walk_said() {
        let (_dir, store) = fresh();
        store.verify_and_record().unwrap();
        store.append(Actor::Console, notices(20)).unwrap();
        store.advance_checkpoint().unwrap();
        assert_eq!(checkpoint(&store), store.cursor(store.node_id()).unwrap());
        // Nothing new: still intact, nothing rewritten.
        store.advance_checkpoint().unwrap();
        assert_eq!(store.integrity(), Integrity::Intact { events: 1 });
        // An event written after the checkpoint and then damaged is found while serving.
        store.append(Actor::Console, notices(3)).unwrap();
        let own = store.node_id().as_str().to_owned();
        {
            let db = store.db().unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(EVENTS)
                .unwrap()
                .insert((own.as_str(), 23), b"{}".as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        store.advance_checkpoint().unwrap();
        match store.integrity() {
            Integrity::Broken(b) => assert_eq!((b.origin.as_str(), b.seq), (own.as_str(), 23)),
            other => panic!("not reported: {other:?}"),
        }
    }
}
