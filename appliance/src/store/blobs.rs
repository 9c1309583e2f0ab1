//! Content-addressed blob storage for documents. A blob is streamed to a temporary file while
//! its SHA-256 is computed, fsynced, then renamed to its hash: a reader never sees a partial
//! blob, and an interrupted upload leaves only a temporary file that is removed at once (or at
//! the next start, after a power cut).
//!
//! A blob is never served unless its bytes still match its name: a whole download is hashed as
//! it streams and cut off before its last bytes if the hash is wrong; a range is served only
//! from a blob hashed whole since it last changed on disk (remembered by size, mtime and inode,
//! so a 50 MB file is hashed once, not once per page). A mismatch is logged, counted and
//! remembered for `/readyz`, `/metrics` and the staff.

use super::StoreError;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlobInfo {
    /// Lower-case hex SHA-256 of the content: the blob's name.
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    #[error("the content was refused: {0}")]
    Rejected(String),
    #[error("the stored file's bytes do not match its hash {0}")]
    Damaged(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What identifies one state of a file on disk: rewriting or replacing it changes one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    size: u64,
    mtime_ns: i128,
    inode: u64,
}

impl FileStamp {
    /// The stamp of a file that is not there: any file put back differs from it.
    const MISSING: FileStamp = FileStamp {
        size: 0,
        mtime_ns: 0,
        inode: 0,
    };

    pub fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            size: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            inode: meta.ino(),
        }
    }
}

/// What the store knows about its blobs' integrity, shared by every clone of the store.
#[derive(Debug, Default)]
struct Integrity {
    /// Blobs hashed whole and found right, as they were on disk then.
    verified: Mutex<HashMap<String, FileStamp>>,
    /// Blobs found not to match their hash, as they were on disk then.
    damaged: Mutex<HashMap<String, FileStamp>>,
    /// Mismatches found since the start.
    mismatches: AtomicU64,
    /// One whole-file check at a time per blob: thirty tablets opening one document wait for
    /// one hash, not thirty.
    checking: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// What is known of one blob as it is on disk now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    Verified,
    Damaged,
    Unknown,
}

/// A blob opened for reading.
#[derive(Debug)]
pub struct OpenBlob {
    pub file: tokio::fs::File,
    pub stamp: FileStamp,
    pub len: u64,
}

/// Bytes read per chunk when serving or hashing a blob.
const CHUNK: usize = 256 * 1024;

/// SHA-256 of a whole file, read with positioned reads (the file's cursor does not move).
fn hash_file(file: &std::fs::File, len: u64) -> std::io::Result<String> {
    use std::os::unix::fs::FileExt;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut pos = 0u64;
    while pos < len {
        let want = usize::try_from((len - pos).min(CHUNK as u64)).unwrap_or(CHUNK);
        let n = file.read_at(&mut buf[..want], pos)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file is shorter than it was",
            ));
        }
        hasher.update(&buf[..n]);
        pos += n as u64;
    }
    Ok(hex::encode(hasher.finalize()))
}

/// One blob whose bytes do not match its name, as `verify --blobs` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadBlob {
    pub path: PathBuf,
    /// The hash of the bytes now in the file, or why they could not be read.
    pub found: String,
}

/// Re-hashes every blob under `dir` (a data directory's `blobs/`) without changing anything:
/// `(blobs checked, the bad ones)`.
pub fn verify_all(dir: &Path) -> Result<(u64, Vec<BadBlob>), StoreError> {
    let mut checked = 0;
    let mut bad = Vec::new();
    if !dir.exists() {
        return Ok((0, bad));
    }
    let mut shards: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| StoreError::io(dir, e))?
        .flatten()
        .filter(|e| is_shard(&e.file_name()) && e.path().is_dir())
        .collect();
    shards.sort_by_key(|e| e.file_name());
    for shard in shards {
        let mut files: Vec<_> = std::fs::read_dir(shard.path())
            .map_err(|e| StoreError::io(shard.path(), e))?
            .flatten()
            .collect();
        files.sort_by_key(|e| e.file_name());
        for f in files {
            let path = f.path();
            let name = f.file_name().to_string_lossy().into_owned();
            checked += 1;
            let found = std::fs::File::open(&path)
                .and_then(|file| {
                    let len = file.metadata()?.len();
                    hash_file(&file, len)
                })
                .unwrap_or_else(|e| format!("unreadable: {e}"));
            let in_place = shard.file_name().to_string_lossy() == name.get(..2).unwrap_or("");
            if found != name || !is_sha256_hex(&name) || !in_place {
                bad.push(BadBlob { path, found });
            }
        }
    }
    Ok((checked, bad))
}

/// How long an upload may send nothing before it is given up.
const UPLOAD_IDLE: std::time::Duration = std::time::Duration::from_secs(60);
/// Blobs arriving by sync, kept across restarts so an interrupted transfer goes on where it
/// stopped (unlike `tmp/`, which is emptied at every start).
const INCOMING: &str = "incoming";

#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
    integrity: Arc<Integrity>,
    /// The writer generation of each blob arriving by sync: a newer upload of the same blob
    /// (the sender retrying after a cut) supersedes one still hanging on a dead link, which
    /// then writes nothing more. Held across each write, so the two never interleave.
    incoming: Arc<tokio::sync::Mutex<HashMap<String, u64>>>,
}

/// Where a blob arriving by sync stands after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// This many bytes are held, durably; the sender goes on from there.
    Partial(u64),
    /// Every byte arrived and the content matches its name.
    Complete,
}

/// Why a piece of a blob arriving by sync was refused.
#[derive(Debug, thiserror::Error)]
pub enum IncomingError {
    #[error("the upload goes on from byte {held}, not {offered}")]
    Offset { held: u64, offered: u64 },
    #[error("the blob is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("more bytes than the declared length {length}")]
    Overrun { length: u64 },
    #[error("the bytes received do not hash to {0}; they were discarded")]
    HashMismatch(String),
    #[error("a newer upload of the same blob took over")]
    Superseded,
    #[error("not a SHA-256 name")]
    BadName,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Removes the temporary file unless the blob was committed.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

pub(crate) fn fsync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

/// Whether a directory entry is one of the blob shards (`00`…`ff`), not `tmp/` or `incoming/`.
fn is_shard(name: &std::ffi::OsStr) -> bool {
    name.len() == 2
        && name
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl BlobStore {
    /// Opens (and makes) the blob directory, clearing debris of interrupted uploads.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        for entry in std::fs::read_dir(&tmp).map_err(|e| StoreError::io(&tmp, e))? {
            let entry = entry.map_err(|e| StoreError::io(&tmp, e))?;
            let _ = std::fs::remove_file(entry.path());
        }
        let incoming = dir.join(INCOMING);
        std::fs::create_dir_all(&incoming).map_err(|e| StoreError::io(&incoming, e))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            integrity: Arc::default(),
            incoming: Arc::default(),
        })
    }

    /// Opens a blob for reading, `None` if there is no such blob.
    pub async fn open_blob(&self, sha256: &str) -> Result<Option<OpenBlob>, StoreError> {
        let Some(path) = self.path(sha256) else {
            return Ok(None);
        };
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        let meta = file
            .metadata()
            .await
            .map_err(|e| StoreError::io(&path, e))?;
        Ok(Some(OpenBlob {
            file,
            stamp: FileStamp::of(&meta),
            len: meta.len(),
        }))
    }

    /// What is known of this blob as it is on disk now (`stamp`).
    pub fn checked(&self, sha256: &str, stamp: FileStamp) -> Checked {
        let is = |m: &Mutex<HashMap<String, FileStamp>>| {
            m.lock()
                .map(|m| m.get(sha256) == Some(&stamp))
                .unwrap_or(false)
        };
        if is(&self.integrity.damaged) {
            Checked::Damaged
        } else if is(&self.integrity.verified) {
            Checked::Verified
        } else {
            Checked::Unknown
        }
    }

    fn record(&self, sha256: &str, stamp: FileStamp, good: bool) {
        let (to, from) = if good {
            (&self.integrity.verified, &self.integrity.damaged)
        } else {
            (&self.integrity.damaged, &self.integrity.verified)
        };
        if let Ok(mut m) = from.lock() {
            m.remove(sha256);
        }
        let new = to
            .lock()
            .map(|mut m| m.insert(sha256.to_owned(), stamp) != Some(stamp))
            .unwrap_or(true);
        if !good && new {
            self.integrity.mismatches.fetch_add(1, Ordering::Relaxed);
            let path = self.dir.join(&sha256[..2.min(sha256.len())]).join(sha256);
            if stamp == FileStamp::MISSING {
                tracing::error!(sha256, path = %path.display(), "a stored document's file is missing: upload the file again or restore it from a backup");
            } else {
                tracing::error!(sha256, path = %path.display(), "a stored document's bytes do not match its hash: it is not served; upload the file again or restore it from a backup");
            }
        }
    }

    /// A document refers to this blob but its file is gone: reported like a damaged one.
    pub fn report_missing(&self, sha256: &str) {
        if is_sha256_hex(sha256) {
            self.record(sha256, FileStamp::MISSING, false);
        }
    }

    /// Hashes the whole blob unless it was already hashed as it is on disk now: `Ok` if it
    /// matches its name, [`BlobError::Damaged`] if not. Concurrent checks of one blob share
    /// one hash.
    pub async fn ensure_verified(&self, sha256: &str, blob: &OpenBlob) -> Result<(), BlobError> {
        match self.checked(sha256, blob.stamp) {
            Checked::Verified => return Ok(()),
            Checked::Damaged => return Err(BlobError::Damaged(sha256.to_owned())),
            Checked::Unknown => {}
        }
        let lock = self
            .integrity
            .checking
            .lock()
            .map(|mut m| m.entry(sha256.to_owned()).or_default().clone())
            .map_err(|_| StoreError::Db("blob check lock poisoned".into()))?;
        let _held = lock.lock().await;
        let result = match self.checked(sha256, blob.stamp) {
            Checked::Verified => Ok(()),
            Checked::Damaged => Err(BlobError::Damaged(sha256.to_owned())),
            Checked::Unknown => {
                let file = blob
                    .file
                    .try_clone()
                    .await
                    .map_err(|e| StoreError::io(&self.dir, e))?
                    .into_std()
                    .await;
                let len = blob.len;
                let found = tokio::task::spawn_blocking(move || hash_file(&file, len))
                    .await
                    .map_err(|e| StoreError::Db(format!("blob check failed: {e}")))?;
                let good = found.as_deref().is_ok_and(|h| h == sha256);
                self.record(sha256, blob.stamp, good);
                if good {
                    Ok(())
                } else {
                    Err(BlobError::Damaged(sha256.to_owned()))
                }
            }
        };
        drop(_held);
        if let Ok(mut m) = self.integrity.checking.lock() {
            // The last one out removes the lock (the map holds one reference, `lock` another).
            if Arc::strong_count(&lock) <= 2 {
                m.remove(sha256);
            }
        }
        result
    }

    /// The whole blob as a body stream, hashed as it goes. The last chunk is held back until
    /// the hash is known: if the bytes do not match, the stream ends in an error instead, so
    /// the client never receives a complete response it could cache.
    pub fn verified_stream(
        &self,
        sha256: &str,
        blob: OpenBlob,
    ) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
        struct State {
            store: BlobStore,
            sha256: String,
            file: tokio::fs::File,
            stamp: FileStamp,
            left: u64,
            hasher: Option<Sha256>,
        }
        let state = State {
            store: self.clone(),
            sha256: sha256.to_owned(),
            file: blob.file,
            stamp: blob.stamp,
            left: blob.len,
            hasher: Some(Sha256::new()),
        };
        futures_util::stream::unfold(state, |mut st| async move {
            let mut hasher = st.hasher.take()?;
            let damaged = |st: &State| {
                st.store.record(&st.sha256, st.stamp, false);
                std::io::Error::other(format!(
                    "blob {} does not match its hash; download cut off",
                    st.sha256
                ))
            };
            if st.left == 0 {
                return None;
            }
            let want = usize::try_from(st.left.min(CHUNK as u64)).unwrap_or(CHUNK);
            let mut buf = BytesMut::with_capacity(want);
            while buf.len() < want {
                match (&mut st.file)
                    .take((want - buf.len()) as u64)
                    .read_buf(&mut buf)
                    .await
                {
                    Ok(0) => {
                        let e = damaged(&st);
                        return Some((Err(e), st));
                    }
                    Ok(_) => {}
                    Err(e) => return Some((Err(e), st)),
                }
            }
            hasher.update(&buf);
            st.left -= buf.len() as u64;
            if st.left == 0 {
                if hex::encode(hasher.finalize()) != st.sha256 {
                    let e = damaged(&st);
                    return Some((Err(e), st));
                }
                st.store.record(&st.sha256, st.stamp, true);
            } else {
                st.hasher = Some(hasher);
            }
            Some((Ok(buf.freeze()), st))
        })
    }

    /// Hashes every blob once, after start, reading at most `bytes_per_sec`: damage is found
    /// before a tablet asks for the file (and shows on `/readyz` and the desk), and the first
    /// range of each file after a restart need not wait for a whole-file hash. Stops when
    /// `stop` turns true. Returns (files checked, found damaged).
    pub async fn scrub(
        &self,
        bytes_per_sec: u64,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> (u64, u64) {
        let dir = self.dir.clone();
        let names = tokio::task::spawn_blocking(move || {
            let mut names = Vec::new();
            for shard in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if !is_shard(&shard.file_name()) {
                    continue;
                }
                for f in std::fs::read_dir(shard.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    let name = f.file_name().to_string_lossy().into_owned();
                    if is_sha256_hex(&name) {
                        names.push(name);
                    }
                }
            }
            names
        })
        .await
        .unwrap_or_default();
        let (mut checked, mut damaged) = (0, 0);
        for sha in names {
            if *stop.borrow() {
                break;
            }
            let Ok(Some(blob)) = self.open_blob(&sha).await else {
                continue;
            };
            let len = blob.len;
            checked += 1;
            if matches!(
                self.ensure_verified(&sha, &blob).await,
                Err(BlobError::Damaged(_))
            ) {
                damaged += 1;
            }
            drop(blob);
            let pause =
                std::time::Duration::from_secs_f64(len as f64 / bytes_per_sec.max(1) as f64);
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.changed() => break,
            }
        }
        (checked, damaged)
    }

    /// Blobs found damaged (as they are on disk now, or were when last looked at).
    pub fn damaged(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .integrity
            .damaged
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Mismatches found since the start (a counter for `/metrics`).
    pub fn mismatches(&self) -> u64 {
        self.integrity.mismatches.load(Ordering::Relaxed)
    }

    /// Whether a blob already on disk under `final_path` holds exactly `sha256`: its stamp if
    /// so. A damaged copy is replaced by a new upload of the same content rather than kept.
    fn holds(final_path: &Path, sha256: &str) -> Option<FileStamp> {
        let f = std::fs::File::open(final_path).ok()?;
        let meta = f.metadata().ok()?;
        let found = hash_file(&f, meta.len()).ok()?;
        (found == sha256).then(|| FileStamp::of(&meta))
    }

    /// Stamp of the file just written for `sha256`: its bytes were hashed on the way in, so a
    /// reader does not need to hash it again.
    fn written(&self, sha256: &str, path: &Path) {
        if let Ok(meta) = std::fs::metadata(path) {
            self.record(sha256, FileStamp::of(&meta), true);
        }
    }

    /// Where the blob with this hash lives, if the hash is well-formed.
    pub fn path(&self, sha256: &str) -> Option<PathBuf> {
        is_sha256_hex(sha256).then(|| self.dir.join(&sha256[..2]).join(sha256))
    }

    pub fn contains(&self, sha256: &str) -> bool {
        self.path(sha256).is_some_and(|p| p.is_file())
    }

    /// Streams `body` into the store, refusing more than `limit` bytes. Identical content is
    /// stored once.
    pub async fn put<S, E>(&self, body: S, limit: u64) -> Result<BlobInfo, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: std::fmt::Display,
    {
        self.put_checked(body, limit, 0, |_| Ok(())).await
    }

    /// Like [`Self::put`], and `check` sees the first `prefix_len` bytes (fewer if the content
    /// is shorter) before the upload goes on: a file whose content is not what it claims is
    /// refused early, leaving nothing behind.
    pub async fn put_checked<S, E>(
        &self,
        body: S,
        limit: u64,
        prefix_len: usize,
        check: impl FnOnce(&[u8]) -> Result<(), String>,
    ) -> Result<BlobInfo, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: std::fmt::Display,
    {
        let mut check = Some(check);
        let mut prefix: Vec<u8> = Vec::with_capacity(prefix_len);
        let tmp_path = self
            .dir
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let mut guard = TempGuard(Some(tmp_path.clone()));
        let mut file = tokio::fs::File::create(&tmp_path)
            .await
            .map_err(|e| StoreError::io(&tmp_path, e))?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut body = std::pin::pin!(body);
        loop {
            // A client that stops sending (a tablet that left the Wi-Fi) does not hold a
            // temporary file for ever.
            let next = tokio::time::timeout(UPLOAD_IDLE, body.next())
                .await
                .map_err(|_| BlobError::Interrupted("no data for 60 seconds".into()))?;
            let Some(chunk) = next else { break };
            let chunk = chunk.map_err(|e| BlobError::Interrupted(e.to_string()))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(BlobError::TooLarge { limit });
            }
            if prefix.len() < prefix_len {
                let take = (prefix_len - prefix.len()).min(chunk.len());
                prefix.extend_from_slice(&chunk[..take]);
            }
            if prefix.len() >= prefix_len {
                if let Some(c) = check.take() {
                    c(&prefix).map_err(BlobError::Rejected)?;
                }
            }
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(|e| StoreError::io(&tmp_path, e))?;
        }
        if size == 0 {
            return Err(BlobError::Empty);
        }
        if let Some(c) = check.take() {
            c(&prefix).map_err(BlobError::Rejected)?;
        }
        file.sync_all()
            .await
            .map_err(|e| StoreError::io(&tmp_path, e))?;
        drop(file);
        let sha256 = hex::encode(hasher.finalize());
        let final_path = self
            .path(&sha256)
            .ok_or_else(|| StoreError::Db("hash is not hex".into()))?;
        let parent = final_path
            .parent()
            .ok_or_else(|| StoreError::Db("blob path has no parent".into()))?
            .to_path_buf();
        let info = BlobInfo { sha256, size };
        let dir = self.dir.clone();
        let sha = info.sha256.clone();
        let me = self.clone();
        tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
            if let Some(stamp) = Self::holds(&final_path, &sha) {
                // Same content already stored: drop this copy.
                let _ = std::fs::remove_file(&tmp_path);
                me.record(&sha, stamp, true);
                return Ok(());
            }
            std::fs::create_dir_all(&parent).map_err(|e| StoreError::io(&parent, e))?;
            std::fs::rename(&tmp_path, &final_path).map_err(|e| StoreError::io(&final_path, e))?;
            fsync_dir(&parent)?;
            fsync_dir(&dir)?;
            me.written(&sha, &final_path);
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Db(format!("blob task failed: {e}")))??;
        guard.0 = None;
        Ok(info)
    }

    /// How many bytes of a blob arriving by sync are held: `None` when the whole blob is
    /// already stored.
    pub fn incoming_offset(&self, sha256: &str) -> Result<Option<u64>, IncomingError> {
        if !is_sha256_hex(sha256) {
            return Err(IncomingError::BadName);
        }
        if self.contains(sha256) {
            return Ok(None);
        }
        let path = self.dir.join(INCOMING).join(sha256);
        match std::fs::metadata(&path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Some(0)),
            Err(e) => Err(StoreError::io(&path, e).into()),
        }
    }

    /// Appends `body` to the blob arriving by sync, from byte `offset` (which must be what is
    /// held) towards `length` bytes in all. The bytes that arrived are kept, durably, even when
    /// the body is cut off, so a retry resends nothing twice. When the last byte arrives the
    /// whole file is hashed: a match stores the blob, a mismatch discards everything.
    pub async fn append_incoming<S, E>(
        &self,
        sha256: &str,
        offset: u64,
        length: u64,
        limit: u64,
        body: S,
    ) -> Result<Incoming, IncomingError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: std::fmt::Display,
    {
        if !is_sha256_hex(sha256) {
            return Err(IncomingError::BadName);
        }
        if length > limit {
            return Err(IncomingError::TooLarge { limit });
        }
        if self.contains(sha256) {
            return Ok(Incoming::Complete);
        }
        let path = self.dir.join(INCOMING).join(sha256);
        let generation = {
            let mut writers = self.incoming.lock().await;
            let g = writers.entry(sha256.to_owned()).or_insert(0);
            *g += 1;
            *g
        };
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(|e| StoreError::io(&path, e))?;
        let held = file
            .metadata()
            .await
            .map_err(|e| StoreError::io(&path, e))?
            .len();
        if held != offset {
            return Err(IncomingError::Offset {
                held,
                offered: offset,
            });
        }
        let mut pos = held;
        let mut body = std::pin::pin!(body);
        let mut cut = None;
        loop {
            let next = match tokio::time::timeout(UPLOAD_IDLE, body.next()).await {
                Ok(n) => n,
                Err(_) => {
                    cut = Some("no data for 60 seconds".to_owned());
                    break;
                }
            };
            let chunk = match next {
                None => break,
                Some(Ok(c)) => c,
                Some(Err(e)) => {
                    cut = Some(e.to_string());
                    break;
                }
            };
            if pos + chunk.len() as u64 > length {
                // Keep what fits: the sender is wrong, not the bytes before.
                let _ = file.sync_data().await;
                return Err(IncomingError::Overrun { length });
            }
            let writers = self.incoming.lock().await;
            if writers.get(sha256) != Some(&generation) {
                return Err(IncomingError::Superseded);
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| StoreError::io(&path, e))?;
            drop(writers);
            pos += chunk.len() as u64;
        }
        file.sync_data()
            .await
            .map_err(|e| StoreError::io(&path, e))?;
        drop(file);
        if let Some(reason) = cut {
            tracing::info!(sha256, held = pos, %reason, "blob transfer cut off; kept what arrived");
        }
        if pos < length {
            return Ok(Incoming::Partial(pos));
        }
        let final_path = self.path(sha256).ok_or(IncomingError::BadName)?;
        let me = self.clone();
        let sha = sha256.to_owned();
        tokio::task::spawn_blocking(move || -> Result<Incoming, IncomingError> {
            let f = std::fs::File::open(&path).map_err(|e| StoreError::io(&path, e))?;
            let found = hash_file(&f, length).map_err(|e| StoreError::io(&path, e))?;
            drop(f);
            if found != sha {
                let _ = std::fs::remove_file(&path);
                return Err(IncomingError::HashMismatch(sha));
            }
            let parent = final_path
                .parent()
                .ok_or_else(|| StoreError::Db("blob path has no parent".into()))?
                .to_path_buf();
            std::fs::create_dir_all(&parent).map_err(|e| StoreError::io(&parent, e))?;
            std::fs::rename(&path, &final_path).map_err(|e| StoreError::io(&final_path, e))?;
            fsync_dir(&parent)?;
            me.written(&sha, &final_path);
            Ok(Incoming::Complete)
        })
        .await
        .map_err(|e| StoreError::Db(format!("blob task failed: {e}")))?
    }

    /// Stores bytes already in memory (the demo's documents), the same way as an upload.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<BlobInfo, StoreError> {
        use std::io::Write;
        let sha256 = hex::encode(Sha256::digest(bytes));
        let info = BlobInfo {
            sha256: sha256.clone(),
            size: bytes.len() as u64,
        };
        let path = self
            .path(&sha256)
            .ok_or_else(|| StoreError::Db("hash is not hex".into()))?;
        if let Some(stamp) = Self::holds(&path, &sha256) {
            self.record(&sha256, stamp, true);
            return Ok(info);
        }
        let tmp = self
            .dir
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let mut guard = TempGuard(Some(tmp.clone()));
        let mut f = std::fs::File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| StoreError::io(&tmp, e))?;
        let parent = path
            .parent()
            .ok_or_else(|| StoreError::Db("blob path has no parent".into()))?;
        std::fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e))?;
        guard.0 = None;
        fsync_dir(parent)?;
        self.written(&sha256, &path);
        Ok(info)
    }

    /// Removes a blob nothing refers to (an upload refused after it was stored).
    pub fn remove(&self, sha256: &str) {
        if let Some(p) = self.path(sha256) {
            let _ = std::fs::remove_file(p);
        }
    }

    /// Total bytes held, for metrics and the disk check.
    pub fn total_bytes(&self) -> u64 {
        let mut total = 0;
        let Ok(shards) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        for shard in shards.flatten() {
            if !is_shard(&shard.file_name()) {
                continue;
            }
            if let Ok(files) = std::fs::read_dir(shard.path()) {
                total += files
                    .flatten()
                    .filter_map(|f| f.metadata().ok())
                    .map(|m| m.len())
                    .sum::<u64>();
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, String>> {
        stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn stores_by_hash_and_dedups() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let a = store
            .put(chunks(&[b"%PDF-1.7 ", b"abc"]), 100)
            .await
            .unwrap();
        let b = store.put(chunks(&[b"%PDF-1.7 abc"]), 100).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(a.size, 12);
        let p = store.path(&a.sha256).unwrap();
        assert_eq!(std::fs::read(p).unwrap(), b"%PDF-1.7 abc");
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn refused_and_interrupted_uploads_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        assert!(matches!(
            store.put(chunks(&[b"0123456789", b"x"]), 10).await,
            Err(BlobError::TooLarge { limit: 10 })
        ));
        assert!(matches!(
            store.put(chunks(&[]), 10).await,
            Err(BlobError::Empty)
        ));
        let broken = stream::iter(vec![
            Ok(Bytes::from_static(b"abc")),
            Err("reset".to_string()),
        ]);
        assert!(matches!(
            store.put(broken, 10).await,
            Err(BlobError::Interrupted(_))
        ));
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
        assert_eq!(store.total_bytes(), 0);
    }

    #[tokio::test]
    async fn content_that_fails_its_check_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let check = |p: &[u8]| {
            if p.starts_with(b"%PDF-") {
                Ok(())
            } else {
                Err("not a PDF".to_string())
            }
        };
        assert!(matches!(
            store
                .put_checked(chunks(&[b"<ht", b"ml>hello"]), 100, 5, check)
                .await,
            Err(BlobError::Rejected(_))
        ));
        assert!(matches!(
            store.put_checked(chunks(&[b"%P"]), 100, 5, check).await,
            Err(BlobError::Rejected(_))
        ));
        assert!(store
            .put_checked(chunks(&[b"%PD", b"F-1.7"]), 100, 5, check)
            .await
            .is_ok());
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
        assert_eq!(store.total_bytes(), 8);
    }

    fn flip_byte(path: &Path, at: u64) {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap();
        let mut b = [0u8];
        f.read_exact_at(&mut b, at).unwrap();
        f.write_all_at(&[b[0] ^ 0x01], at).unwrap();
    }

    async fn collect(
        s: impl Stream<Item = std::io::Result<Bytes>>,
    ) -> (Vec<u8>, Option<std::io::Error>) {
        let mut s = std::pin::pin!(s);
        let mut got = Vec::new();
        while let Some(c) = s.next().await {
            match c {
                Ok(c) => got.extend_from_slice(&c),
                Err(e) => return (got, Some(e)),
            }
        }
        (got, None)
    }

    #[tokio::test]
    async fn a_damaged_blob_stream_never_completes() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        // Three chunks and a bit, so the damage is in a chunk already sent.
        let content: Vec<u8> = (0..(3 * CHUNK + 100)).map(|i| (i % 251) as u8).collect();
        let info = store.put_bytes(&content).unwrap();
        let blob = store.open_blob(&info.sha256).await.unwrap().unwrap();
        let (got, err) = collect(store.verified_stream(&info.sha256, blob)).await;
        assert!(err.is_none());
        assert_eq!(got, content);
        let blob = store.open_blob(&info.sha256).await.unwrap().unwrap();
        assert_eq!(store.checked(&info.sha256, blob.stamp), Checked::Verified);

        flip_byte(&store.path(&info.sha256).unwrap(), 10);
        let blob = store.open_blob(&info.sha256).await.unwrap().unwrap();
        assert_eq!(store.checked(&info.sha256, blob.stamp), Checked::Unknown);
        let (got, err) = collect(store.verified_stream(&info.sha256, blob)).await;
        assert!(err.is_some(), "the stream ends in an error");
        assert_eq!(got.len(), 3 * CHUNK, "the last chunk is held back");
        assert_eq!(store.damaged(), vec![info.sha256.clone()]);
        assert_eq!(store.mismatches(), 1);
        let blob = store.open_blob(&info.sha256).await.unwrap().unwrap();
        assert!(matches!(
            store.ensure_verified(&info.sha256, &blob).await,
            Err(BlobError::Damaged(_))
        ));
        assert_eq!(store.mismatches(), 1, "the same damage is counted once");

        let (checked, bad) = verify_all(dir.path()).unwrap();
        assert_eq!((checked, bad.len()), (1, 1));
        assert_eq!(bad[0].path, store.path(&info.sha256).unwrap());

        // Storing the same content again replaces the damaged copy.
        store.put_bytes(&content).unwrap();
        assert!(store.damaged().is_empty());
        let blob = store.open_blob(&info.sha256).await.unwrap().unwrap();
        store.ensure_verified(&info.sha256, &blob).await.unwrap();
        assert_eq!(verify_all(dir.path()).unwrap(), (1, vec![]));
    }

    #[tokio::test]
    async fn a_range_check_hashes_once_per_state_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let info = store.put_bytes(b"%PDF-1.7 some pages").unwrap();
        let blob = store.open_blob(&info.sha256).await.unwrap().unwrap();
        assert_eq!(
            store.checked(&info.sha256, blob.stamp),
            Checked::Verified,
            "hashed on the way in"
        );
        // After a restart nothing is remembered.
        let store = BlobStore::open(dir.path()).unwrap();
        assert_eq!(store.checked(&info.sha256, blob.stamp), Checked::Unknown);
        let checks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                let sha = info.sha256.clone();
                tokio::spawn(async move {
                    let blob = store.open_blob(&sha).await.unwrap().unwrap();
                    store.ensure_verified(&sha, &blob).await
                })
            })
            .collect();
        for c in checks {
            c.await.unwrap().unwrap();
        }
        assert_eq!(store.checked(&info.sha256, blob.stamp), Checked::Verified);
        flip_byte(&store.path(&info.sha256).unwrap(), 3);
        let blob = store.open_blob(&info.sha256).await.unwrap().unwrap();
        assert!(matches!(
            store.ensure_verified(&info.sha256, &blob).await,
            Err(BlobError::Damaged(_))
        ));
    }

    #[tokio::test]
    async fn the_scrub_finds_damage_nobody_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let a = store.put_bytes(b"%PDF-1.7 first").unwrap();
        let b = store.put_bytes(b"%PDF-1.7 second").unwrap();
        flip_byte(&store.path(&b.sha256).unwrap(), 9);
        let store = BlobStore::open(dir.path()).unwrap();
        let (_tx, rx) = tokio::sync::watch::channel(false);
        assert_eq!(store.scrub(u64::MAX, rx).await, (2, 1));
        assert_eq!(store.damaged(), vec![b.sha256.clone()]);
        let blob = store.open_blob(&a.sha256).await.unwrap().unwrap();
        assert_eq!(store.checked(&a.sha256, blob.stamp), Checked::Verified);
        // Stopped before it starts: nothing is read.
        let store = BlobStore::open(dir.path()).unwrap();
        let (_tx, rx) = tokio::sync::watch::channel(true);
        assert_eq!(store.scrub(u64::MAX, rx).await, (0, 0));
    }

    #[test]
    fn path_refuses_traversal() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        assert!(store.path("../../etc/passwd").is_none());
        assert!(store.path(&"A".repeat(64)).is_none());
    }

    fn stream_of(
        parts: Vec<Result<&'static [u8], &'static str>>,
    ) -> impl Stream<Item = Result<Bytes, String>> {
        futures_util::stream::iter(
            parts
                .into_iter()
                .map(|p| p.map(Bytes::from_static).map_err(String::from)),
        )
    }

    #[tokio::test]
    async fn a_blob_arriving_by_sync_resumes_after_a_cut_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let content: &'static [u8] = b"%PDF-1.7 a document that travels in pieces";
        let sha = hex::encode(Sha256::digest(content));
        let len = content.len() as u64;
        let store = BlobStore::open(dir.path()).unwrap();
        assert_eq!(store.incoming_offset(&sha).unwrap(), Some(0));
        // Cut off after 10 bytes: those 10 are kept.
        let got = store
            .append_incoming(
                &sha,
                0,
                len,
                1 << 20,
                stream_of(vec![Ok(&content[..10]), Err("link down")]),
            )
            .await
            .unwrap();
        assert_eq!(got, Incoming::Partial(10));
        // A restart keeps them (unlike tmp/).
        let store = BlobStore::open(dir.path()).unwrap();
        assert_eq!(store.incoming_offset(&sha).unwrap(), Some(10));
        // A sender that lost track is told where to go on.
        let wrong = store
            .append_incoming(&sha, 0, len, 1 << 20, stream_of(vec![Ok(content)]))
            .await;
        assert!(
            matches!(
                wrong,
                Err(IncomingError::Offset {
                    held: 10,
                    offered: 0
                })
            ),
            "{wrong:?}"
        );
        let done = store
            .append_incoming(&sha, 10, len, 1 << 20, stream_of(vec![Ok(&content[10..])]))
            .await
            .unwrap();
        assert_eq!(done, Incoming::Complete);
        assert!(store.contains(&sha));
        assert_eq!(store.incoming_offset(&sha).unwrap(), None);
        assert_eq!(std::fs::read(store.path(&sha).unwrap()).unwrap(), content);
    }

    #[tokio::test]
    async fn bytes_that_do_not_match_their_name_are_discarded_and_never_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let claimed = hex::encode(Sha256::digest(b"the real content"));
        let got = store
            .append_incoming(
                &claimed,
                0,
                16,
                1 << 20,
                stream_of(vec![Ok(b"forged content!!")]),
            )
            .await;
        assert!(
            matches!(got, Err(IncomingError::HashMismatch(_))),
            "{got:?}"
        );
        assert!(!store.contains(&claimed));
        assert_eq!(store.incoming_offset(&claimed).unwrap(), Some(0));
        let over = store
            .append_incoming(
                &claimed,
                0,
                4,
                1 << 20,
                stream_of(vec![Ok(b"too many bytes")]),
            )
            .await;
        assert!(
            matches!(over, Err(IncomingError::Overrun { length: 4 })),
            "{over:?}"
        );
        let big = store
            .append_incoming(&claimed, 0, 2 << 20, 1 << 20, stream_of(vec![]))
            .await;
        assert!(
            matches!(big, Err(IncomingError::TooLarge { .. })),
            "{big:?}"
        );
        assert!(matches!(
            store.incoming_offset("../etc/passwd"),
            Err(IncomingError::BadName)
        ));
    }
}
