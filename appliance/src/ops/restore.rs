//! `phonghop restore`: puts a backup back into an empty (or missing) data directory. Everything
//! is unpacked into a temporary directory beside the target, checked (every file against the
//! manifest, then the store opened and its chains walked to the manifest's heads), marked as
//! restored, and only then renamed into place. A failure at any point removes the temporary
//! directory and leaves the target as it was.

use super::archive::{self, DirGuard, Manifest};
use super::OpsError;
use crate::store::{RestoreMark, Store};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// What was restored.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    pub events: u64,
}

fn not_empty(dir: &Path) -> OpsError {
    OpsError::new(
        73,
        format!(
            "{} không trống. Chỉ khôi phục vào thư mục trống hoặc chưa có, để không ghi đè dữ liệu. \
             Đổi tên thư mục cũ (ví dụ mv {0} {0}.cu) rồi chạy lại.",
            dir.display()
        ),
        format!(
            "{} is not empty. A restore goes only into an empty or missing directory, so nothing is \
             overwritten. Rename the old one (e.g. mv {0} {0}.old) and run it again.",
            dir.display()
        ),
    )
}

pub fn run(from: &Path, dir: &Path) -> Result<Restored, OpsError> {
    let existing = match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(not_empty(dir));
            }
            std::fs::metadata(dir).ok()
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Err(not_empty(dir)),
        Err(e) => return Err(OpsError::io(dir, e)),
    };
    let archive_file = std::fs::File::open(from).map_err(|e| {
        OpsError::new(
            66,
            format!("Không đọc được {}: {e}", from.display()),
            format!("Cannot read {}: {e}", from.display()),
        )
    })?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            OpsError::new(
                64,
                "--data phải là một thư mục.",
                "--data must name a directory.",
            )
        })?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| OpsError::io(&parent, e))?;
    let work = parent.join(format!(".{name}.restore-{}", uuid::Uuid::new_v4().simple()));
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&work)
            .map_err(|e| OpsError::io(&work, e))?;
    }
    let mut guard = DirGuard(Some(work.clone()));
    let manifest = archive::extract(std::io::BufReader::new(archive_file), Some(&work))?;
    let events = check_and_mark(&work, &manifest)?;
    if let Some(meta) = existing {
        // Keep what the operator (or systemd's StateDirectory) gave the empty directory.
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let _ = std::fs::set_permissions(&work, std::fs::Permissions::from_mode(meta.mode()));
        let _ = std::os::unix::fs::chown(&work, Some(meta.uid()), Some(meta.gid()));
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            chown_tree(&work, meta.uid(), meta.gid())?;
        }
    }
    fsync(&work);
    // rename(2) replaces an empty directory atomically.
    std::fs::rename(&work, dir).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOTEMPTY) | Some(libc::EEXIST) => not_empty(dir),
        _ => OpsError::io(dir, e),
    })?;
    guard.0 = None;
    fsync(&parent);
    Ok(Restored { manifest, events })
}

/// Opens the unpacked store, walks every chain, checks it holds exactly the manifest's heads,
/// and records the restore. Returns the events checked.
fn check_and_mark(work: &Path, manifest: &Manifest) -> Result<u64, OpsError> {
    let store = Store::open(work)?;
    if store.node_id().as_str() != manifest.node_id {
        return Err(OpsError::corrupt(format!(
            "its store belongs to node {}, its manifest says {}",
            store.node_id(),
            manifest.node_id
        )));
    }
    let report = store.verify()?;
    if let Some(b) = report.broken {
        return Err(OpsError::corrupt(format!(
            "the event log's chain is broken at event {} of origin {}: {}",
            b.seq, b.origin, b.reason
        )));
    }
    let mut held: Vec<(String, u64, String)> = store
        .cursors()?
        .into_iter()
        .map(|(o, c)| (o.as_str().to_owned(), c.seq, c.hash.to_hex()))
        .collect();
    let mut claimed: Vec<(String, u64, String)> = manifest
        .heads
        .iter()
        .map(|h| (h.origin.clone(), h.seq, h.hash.to_hex()))
        .collect();
    held.sort();
    claimed.sort();
    if held != claimed {
        return Err(OpsError::corrupt(
            "its event log does not end where its manifest says",
        ));
    }
    store.mark_restored(&RestoreMark {
        restored_at: OffsetDateTime::now_utc(),
        backup_created_at: manifest.created_at,
        heads: manifest.heads.clone(),
    })?;
    Ok(report.events)
}

fn chown_tree(dir: &Path, uid: u32, gid: u32) -> Result<(), OpsError> {
    for entry in std::fs::read_dir(dir).map_err(|e| OpsError::io(dir, e))? {
        let p = entry.map_err(|e| OpsError::io(dir, e))?.path();
        std::os::unix::fs::lchown(&p, Some(uid), Some(gid)).map_err(|e| OpsError::io(&p, e))?;
        if p.is_dir() {
            chown_tree(&p, uid, gid)?;
        }
    }
    Ok(())
}

fn fsync(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
