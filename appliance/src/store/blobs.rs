//! Content-addressed blob storage for documents. A blob is streamed to a temporary file while
//! its SHA-256 is computed, fsynced, then renamed to its hash: a reader never sees a partial
//! blob, and an interrupted upload leaves only a temporary file that is removed at once (or at
//! the next start, after a power cut).

use super::StoreError;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

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
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long an upload may send nothing before it is given up.
const UPLOAD_IDLE: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
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
        Ok(Self {
            dir: dir.to_path_buf(),
        })
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
        tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
            if final_path.is_file() {
                // Same content already stored: drop this copy.
                let _ = std::fs::remove_file(&tmp_path);
                return Ok(());
            }
            std::fs::create_dir_all(&parent).map_err(|e| StoreError::io(&parent, e))?;
            std::fs::rename(&tmp_path, &final_path).map_err(|e| StoreError::io(&final_path, e))?;
            fsync_dir(&parent)?;
            fsync_dir(&dir)
        })
        .await
        .map_err(|e| StoreError::Db(format!("blob task failed: {e}")))??;
        guard.0 = None;
        Ok(info)
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
        if path.is_file() {
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
            if shard.file_name() == "tmp" {
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

    #[test]
    fn path_refuses_traversal() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        assert!(store.path("../../etc/passwd").is_none());
        assert!(store.path(&"A".repeat(64)).is_none());
    }
}
