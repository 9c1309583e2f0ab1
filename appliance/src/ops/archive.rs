//! The backup archive: a gzip-compressed tar whose first entry, `manifest.json`, names every
//! other file with its size and SHA-256, the node, the schema and the log heads. Writing checks
//! every blob against its name on the way out; reading checks every file against the manifest
//! on the way in, and refuses anything the manifest does not list.

use super::OpsError;
use crate::store::{OriginHead, SnapshotFacts, Store, StoreError, DB_FILE, SCHEMA_VERSION};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use time::OffsetDateTime;

/// The archive's kind, so anything else is told apart at once.
pub const FORMAT: &str = "phonghop-backup";
/// The archive layout this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST: &str = "manifest.json";

/// What the archive holds: `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The Phonghop version that wrote it.
    pub software: String,
    pub node_id: String,
    pub role: String,
    pub schema_version: u32,
    /// The log head per origin: the snapshot holds exactly these events.
    pub heads: Vec<OriginHead>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_event_at: Option<OffsetDateTime>,
    /// Whether the box was serving while the snapshot was taken.
    pub online: bool,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the data directory, `/`-separated.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

impl Manifest {
    pub fn own_head(&self) -> Option<&OriginHead> {
        self.heads.iter().find(|h| h.origin == self.node_id)
    }
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A reader that hashes and counts what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    len: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut r = Hashing {
        inner: std::fs::File::open(path)?,
        hasher: Sha256::new(),
        len: 0,
    };
    std::io::copy(&mut r, &mut std::io::sink())?;
    Ok((r.len, hex::encode(r.hasher.finalize())))
}

/// Folders of small files beside the store that a restored box needs: its certificate
/// authority (so tablets keep trusting it) and its enrolment with the hub (`sync/`: the hub's
/// pinned root, the box's client certificate and key, `hub.json`).
/// On a hub, `tls/province/` holds the province issuing CA (its key too).
const SIDE_DIRS: [&str; 3] = ["tls", "tls/province", crate::sync::SYNC_DIR];

/// Small files beside the store that a restored box needs: those folders and its
/// configuration.
fn side_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, OpsError> {
    let mut out = Vec::new();
    let toml = dir.join(crate::config::CONFIG_FILE);
    if toml.is_file() {
        let bytes = std::fs::read(&toml).map_err(|e| OpsError::io(&toml, e))?;
        out.push((crate::config::CONFIG_FILE.to_owned(), bytes));
    }
    for sub in SIDE_DIRS {
        let d = dir.join(sub);
        if !d.is_dir() {
            continue;
        }
        let mut names: Vec<_> = std::fs::read_dir(&d)
            .map_err(|e| OpsError::io(&d, e))?
            .flatten()
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        for n in names {
            let p = d.join(&n);
            let bytes = std::fs::read(&p).map_err(|e| OpsError::io(&p, e))?;
            out.push((format!("{sub}/{n}"), bytes));
        }
    }
    Ok(out)
}

/// Removes a directory (and what is in it) when dropped, unless disarmed.
pub(crate) struct DirGuard(pub Option<PathBuf>);

impl Drop for DirGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

fn header(size: u64, mtime: OffsetDateTime) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(0o600);
    h.set_mtime(u64::try_from(mtime.unix_timestamp()).unwrap_or(0));
    h.set_entry_type(tar::EntryType::Regular);
    h
}

/// Writes a backup of `store` to `sink`: the snapshot (one read transaction), then the blobs it
/// refers to, each checked against its hash as it is copied. A damaged or missing blob stops
/// the backup with an error; the caller throws away what was written.
pub fn write(store: &Store, online: bool, sink: &mut dyn Write) -> Result<Manifest, OpsError> {
    let dir = store.dir();
    let work = dir.join(format!(".backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir(&work).map_err(|e| OpsError::io(&work, e))?;
    let _guard = DirGuard(Some(work.clone()));
    let snap = work.join(DB_FILE);
    let facts: SnapshotFacts = store.snapshot_to(&snap).map_err(OpsError::from)?;
    let created_at = OffsetDateTime::now_utc();
    let (db_size, db_sha) = hash_file(&snap).map_err(|e| OpsError::io(&snap, e))?;
    let side = side_files(dir)?;
    let mut files = vec![FileEntry {
        path: DB_FILE.to_owned(),
        size: db_size,
        sha256: db_sha,
    }];
    for (path, bytes) in &side {
        files.push(FileEntry {
            path: path.clone(),
            size: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        });
    }
    for b in &facts.blobs {
        files.push(FileEntry {
            path: format!("blobs/{}/{}", &b.sha256[..2.min(b.sha256.len())], b.sha256),
            size: b.size,
            sha256: b.sha256.clone(),
        });
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        created_at,
        software: env!("CARGO_PKG_VERSION").to_owned(),
        node_id: facts.node_id.as_str().to_owned(),
        role: facts.role.clone(),
        schema_version: facts.schema_version,
        heads: facts.heads.clone(),
        last_event_at: facts.last_event_at,
        online,
        files,
    };
    let gz = flate2::write::GzEncoder::new(sink, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let put = |tar: &mut tar::Builder<_>, path: &str, size: u64, data: &mut dyn Read| {
        tar.append_data(&mut header(size, created_at), path, data)
            .map_err(OpsError::write_failed)
    };
    let json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| OpsError::internal(e.to_string()))?;
    put(&mut tar, MANIFEST, json.len() as u64, &mut json.as_slice())?;
    let db = std::fs::File::open(&snap).map_err(|e| OpsError::io(&snap, e))?;
    put(&mut tar, DB_FILE, db_size, &mut db.take(db_size))?;
    for (path, bytes) in &side {
        put(&mut tar, path, bytes.len() as u64, &mut bytes.as_slice())?;
    }
    for b in &facts.blobs {
        let path = store
            .blobs()
            .path(&b.sha256)
            .ok_or_else(|| OpsError::internal(format!("bad blob name {}", b.sha256)))?;
        let file = std::fs::File::open(&path)
            .map_err(|e| OpsError::blob_damaged(&b.sha256, &e.to_string()))?;
        let len = file.metadata().map_err(|e| OpsError::io(&path, e))?.len();
        if len != b.size {
            return Err(OpsError::blob_damaged(
                &b.sha256,
                &format!("{len} bytes on disk, {} expected", b.size),
            ));
        }
        let mut r = Hashing {
            inner: file.take(b.size),
            hasher: Sha256::new(),
            len: 0,
        };
        let name = format!("blobs/{}/{}", &b.sha256[..2], b.sha256);
        put(&mut tar, &name, b.size, &mut r)?;
        let found = hex::encode(r.hasher.finalize());
        if r.len != b.size || found != b.sha256 {
            return Err(OpsError::blob_damaged(
                &b.sha256,
                "its bytes do not match its hash",
            ));
        }
    }
    let gz = tar.into_inner().map_err(OpsError::write_failed)?;
    let sink = gz.finish().map_err(OpsError::write_failed)?;
    sink.flush().map_err(OpsError::write_failed)?;
    Ok(manifest)
}

/// Where a file named in an archive goes, or `None` if such a name is not allowed: only the
/// store, the config file, `tls/<name>`, `sync/<name>` and `blobs/<2 hex>/<64 hex>`, with no `..` or absolute
/// parts, so an archive can never write outside the directory it is restored into.
fn allowed(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let plain = Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return false;
    }
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    match parts.as_slice() {
        [f] => *f == DB_FILE || *f == crate::config::CONFIG_FILE,
        [sub, name] if SIDE_DIRS.contains(sub) => !name.is_empty() && !name.starts_with('.'),
        ["tls", "province", name] => !name.is_empty() && !name.starts_with('.'),
        ["blobs", shard, name] => hex(shard, 2) && hex(name, 64) && name.starts_with(shard),
        _ => false,
    }
}

/// Reads an archive from `src`, checks the manifest (kind, version, schema), and writes each
/// file under `into` (which exists and is empty), checking its size and SHA-256 against the
/// manifest. Any mismatch, unknown or missing file, or truncation is an error; the caller
/// removes `into`.
pub fn extract(src: impl Read, into: Option<&Path>) -> Result<Manifest, OpsError> {
    let gz = flate2::read::GzDecoder::new(src);
    let mut archive = tar::Archive::new(gz);
    let mut entries = archive.entries().map_err(OpsError::not_backup)?;
    let first = match entries.next() {
        Some(e) => e.map_err(OpsError::not_backup)?,
        None => return Err(OpsError::not_backup("the archive is empty")),
    };
    let manifest = read_manifest(first)?;
    let mut expected: std::collections::BTreeMap<&str, &FileEntry> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    for entry in entries {
        let mut entry = entry.map_err(OpsError::truncated)?;
        let path = entry
            .path()
            .map_err(|e| OpsError::corrupt(format!("an unreadable file name: {e}")))?
            .to_string_lossy()
            .into_owned();
        let Some(want) = expected.remove(path.as_str()) else {
            return Err(OpsError::corrupt(format!(
                "{path} is in the archive but not in its manifest"
            )));
        };
        if !allowed(&path) || entry.header().entry_type() != tar::EntryType::Regular {
            return Err(OpsError::corrupt(format!(
                "{path} is not a file a backup holds"
            )));
        }
        let mut r = Hashing {
            inner: &mut entry,
            hasher: Sha256::new(),
            len: 0,
        };
        match into {
            Some(dir) => {
                let dest = dir.join(&path);
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| OpsError::io(parent, e))?;
                }
                let mut f = {
                    use std::os::unix::fs::OpenOptionsExt;
                    std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .open(&dest)
                        .map_err(|e| OpsError::io(&dest, e))?
                };
                std::io::copy(&mut r, &mut f).map_err(|e| read_or_write(e, &dest))?;
                f.sync_all().map_err(|e| OpsError::io(&dest, e))?;
            }
            None => {
                std::io::copy(&mut r, &mut std::io::sink()).map_err(OpsError::truncated)?;
            }
        }
        let found = hex::encode(r.hasher.finalize());
        if r.len != want.size {
            return Err(OpsError::truncated(format!(
                "{path} has {} bytes, the manifest says {}",
                r.len, want.size
            )));
        }
        if found != want.sha256 {
            return Err(OpsError::corrupt(format!(
                "{path} does not match its SHA-256 in the manifest"
            )));
        }
    }
    if let Some(missing) = expected.keys().next() {
        return Err(OpsError::truncated(format!(
            "{missing} and {} more file(s) listed in the manifest are missing",
            expected.len() - 1
        )));
    }
    // The gzip trailer (CRC and length) is read only once the stream is drained.
    let mut rest = archive.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink()).map_err(OpsError::truncated)?;
    Ok(manifest)
}

/// An error while copying out of the archive: a full disk is the target's fault, anything else
/// the archive's.
fn read_or_write(e: std::io::Error, dest: &Path) -> OpsError {
    if e.raw_os_error() == Some(libc::ENOSPC) || e.kind() == std::io::ErrorKind::StorageFull {
        return OpsError::from(StoreError::DiskFull);
    }
    if e.raw_os_error().is_some() && e.kind() != std::io::ErrorKind::UnexpectedEof {
        return OpsError::io(dest, e);
    }
    OpsError::truncated(e)
}

fn read_manifest(mut first: tar::Entry<'_, impl Read>) -> Result<Manifest, OpsError> {
    let name = first
        .path()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name != MANIFEST || first.size() > 64 * 1024 * 1024 {
        return Err(OpsError::not_backup(format!(
            "its first file is {name:?}, not {MANIFEST}"
        )));
    }
    let mut bytes = Vec::new();
    first.read_to_end(&mut bytes).map_err(OpsError::truncated)?;
    #[derive(Deserialize)]
    struct Kind {
        format: String,
        format_version: u32,
        schema_version: u32,
    }
    let kind: Kind = serde_json::from_slice(&bytes)
        .map_err(|e| OpsError::not_backup(format!("its manifest cannot be read: {e}")))?;
    if kind.format != FORMAT {
        return Err(OpsError::not_backup(format!(
            "its manifest says it is a {:?}",
            kind.format
        )));
    }
    if kind.format_version > FORMAT_VERSION || kind.schema_version > SCHEMA_VERSION {
        return Err(OpsError::newer(kind.format_version, kind.schema_version));
    }
    if kind.format_version == 0 || kind.schema_version == 0 {
        return Err(OpsError::corrupt("its manifest has version 0"));
    }
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| OpsError::corrupt(format!("its manifest is incomplete: {e}")))?;
    for f in &m.files {
        if !allowed(&f.path) {
            return Err(OpsError::corrupt(format!(
                "its manifest names {}, which a backup never holds",
                f.path
            )));
        }
    }
    if !m.files.iter().any(|f| f.path == DB_FILE) {
        return Err(OpsError::corrupt("its manifest lists no store"));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_files_a_backup_holds_are_allowed() {
        let h = "ab".to_owned() + &"c".repeat(62);
        for ok in [
            "phonghop.redb".to_owned(),
            "phonghop.toml".into(),
            "tls/root.key".into(),
            "tls/province/issuing.key".into(),
            "sync/client.key".into(),
            format!("blobs/ab/{h}"),
        ] {
            assert!(allowed(&ok), "{ok}");
        }
        for bad in [
            "../etc/passwd".to_owned(),
            "/etc/passwd".into(),
            "tls/../../x".into(),
            "tls/other/x".into(),
            "tls/province/.tmp-x".into(),
            "tls/.tmp-x".into(),
            format!("blobs/cd/{h}"),
            format!("blobs/ab/{h}/x"),
            "serving.json".into(),
            "other/x".into(),
            "blobs/ab/ABCD".into(),
        ] {
            assert!(!allowed(&bad), "{bad}");
        }
    }
}
