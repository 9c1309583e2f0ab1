//! Crash-safe files: every write goes to a temporary file that is fsynced and renamed over the
//! target, then the directory is fsynced, so a power cut leaves either the old or the new file.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand::RngCore;

use super::TlsError;

pub(crate) const ROOT_CERT: &str = "root.pem";
pub(crate) const ROOT_KEY: &str = "root.key";
pub(crate) const INTERMEDIATE_CERT: &str = "intermediate.pem";
pub(crate) const INTERMEDIATE_KEY: &str = "intermediate.key";
pub(crate) const LEAF_CERT: &str = "leaf.pem";
pub(crate) const LEAF_KEY: &str = "leaf.key";
pub(crate) const NAMES: &str = "names.json";
pub(crate) const SIGNING_CERT: &str = "signing.pem";
pub(crate) const SIGNING_KEY: &str = "signing.key";
/// Province mode (after enrolment with a hub that has a province CA): the box's own root,
/// kept aside; the hub's issuing CA; the box CA cross-signed by the own root.
pub(crate) const OWN_ROOT_CERT: &str = "own-root.pem";
pub(crate) const OWN_ROOT_KEY: &str = "own-root.key";
pub(crate) const ISSUING_CERT: &str = "issuing.pem";
pub(crate) const CROSS_CERT: &str = "intermediate-cross.pem";

pub(crate) const KEY_MODE: u32 = 0o600;
pub(crate) const PUBLIC_MODE: u32 = 0o644;

const TMP_MARK: &str = ".tmp-";

pub(crate) fn io_err(action: &'static str, path: &Path, source: io::Error) -> TlsError {
    TlsError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn ensure_dir(dir: &Path) -> Result<(), TlsError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io_err("create directory", dir, e))
}

/// Removes temporary files a crash may have left behind. They never hold the only copy of
/// anything: the rename had not happened.
pub(crate) fn remove_stale_temps(dir: &Path) -> Result<(), TlsError> {
    let entries = fs::read_dir(dir).map_err(|e| io_err("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err("list", dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.contains(TMP_MARK) {
            let path = entry.path();
            tracing::debug!(path = %path.display(), "removing stale temporary file");
            fs::remove_file(&path).map_err(|e| io_err("remove", &path, e))?;
        }
    }
    Ok(())
}

/// Writes `data` to `dir/name` atomically, with `mode` applied when the file is created (so a key
/// is never readable by others, not even briefly).
pub(crate) fn write_atomic(dir: &Path, name: &str, data: &[u8], mode: u32) -> Result<(), TlsError> {
    let path = dir.join(name);
    let mut suffix = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut suffix);
    let tmp = dir.join(format!(".{name}{TMP_MARK}{}", hex::encode(suffix)));

    let written = (|| -> Result<(), TlsError> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .map_err(|e| io_err("create", &tmp, e))?;
        file.write_all(data).map_err(|e| io_err("write", &tmp, e))?;
        file.sync_all().map_err(|e| io_err("fsync", &tmp, e))?;
        drop(file);
        fs::rename(&tmp, &path).map_err(|e| io_err("rename into place", &path, e))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_err("fsync directory", dir, e))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Reads a file, or `None` if it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, TlsError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("read", path, e)),
    }
}

pub(crate) fn exists(dir: &Path, name: &str) -> bool {
    dir.join(name).exists()
}

/// Tightens a key file that someone made group- or world-readable.
pub(crate) fn tighten_key_mode(path: &Path) -> Result<(), TlsError> {
    let meta = fs::metadata(path).map_err(|e| io_err("stat", path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "key file was readable by others; setting 0600");
        fs::set_permissions(path, fs::Permissions::from_mode(KEY_MODE))
            .map_err(|e| io_err("chmod", path, e))?;
    }
    Ok(())
}

pub(crate) fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
