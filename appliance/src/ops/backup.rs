//! `phonghop backup`: a consistent snapshot of a box, taken while it serves (through the
//! control socket) or, when it is stopped, by opening the store directly. The archive is
//! written beside the output under a temporary name, read back and checked against its own
//! manifest, and only then renamed into place: a backup that exists is a backup that verifies.

use super::archive::{self, Manifest};
use super::{control, OpsError};
use crate::store::{Store, StoreError};
use std::path::Path;

/// Removes a file when dropped, unless disarmed.
struct FileGuard(Option<std::path::PathBuf>);

impl Drop for FileGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

pub fn run(dir: &Path, out: &Path) -> Result<Manifest, OpsError> {
    if out.exists() {
        return Err(OpsError::new(
            73,
            format!(
                "{} đã có. Chọn tên tệp khác (ví dụ có ngày giờ); bản cũ được giữ nguyên.",
                out.display()
            ),
            format!(
                "{} already exists. Choose another file name (with the date, say); the old one is kept.",
                out.display()
            ),
        ));
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| OpsError::new(64, "--out phải là một tệp.", "--out must name a file."))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let partial = parent.join(format!(".{name}.partial-{}", uuid::Uuid::new_v4().simple()));
    let file = {
        use std::os::unix::fs::OpenOptionsExt;
        // It holds the CA's private keys and password hashes: owner only.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&partial)
            .map_err(|e| OpsError::io(&partial, e))?
    };
    let mut guard = FileGuard(Some(partial.clone()));
    let mut w = std::io::BufWriter::with_capacity(256 * 1024, file);
    let manifest = match control::connect(dir)? {
        Some(conn) => control::backup(conn, &mut w)?,
        None => {
            let store = match Store::open(dir) {
                Err(StoreError::InUse { .. }) => {
                    return Err(OpsError::new(
                        69,
                        "Phonghop đang chạy nhưng không mở cổng điều khiển (control.sock), có thể là phiên bản cũ. \
                         Nâng cấp, hoặc dừng dịch vụ (sudo systemctl stop phonghop), sao lưu, rồi khởi động lại.",
                        "Phonghop is running but has no control socket (control.sock), perhaps an older version. \
                         Upgrade it, or stop the service (sudo systemctl stop phonghop), back up, then start it again.",
                    ))
                }
                other => other?,
            };
            archive::write(&store, false, &mut w)?
        }
    };
    let file = w
        .into_inner()
        .map_err(|e| OpsError::write_failed(e.error()))?;
    file.sync_all().map_err(|e| OpsError::io(&partial, e))?;
    drop(file);
    // Read it back: every file against the manifest, as a restore will.
    let check = std::fs::File::open(&partial).map_err(|e| OpsError::io(&partial, e))?;
    let again = archive::extract(std::io::BufReader::new(check), None)?;
    if again != manifest {
        return Err(OpsError::internal(
            "the archive read back differs from what was written",
        ));
    }
    std::fs::rename(&partial, out).map_err(|e| OpsError::io(out, e))?;
    guard.0 = None;
    if let Ok(d) = std::fs::File::open(&parent) {
        let _ = d.sync_all();
    }
    Ok(manifest)
}
