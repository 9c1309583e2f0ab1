//! The control socket: `DATA/control.sock`, a Unix socket that only the box's own user (or
//! root) may use (mode 0600 in a 0700 directory, and the peer's uid checked). `serve` holds the
//! redb file locked, so `phonghop backup` and `phonghop doctor` ask the running box through
//! here instead of opening the store themselves.
//!
//! One request per connection, a JSON line: `{"op":"report"}` answers one JSON line;
//! `{"op":"backup"}` answers the archive in frames (a 4-byte big-endian length, then that many
//! bytes; length 0 ends them) followed by one JSON line with the manifest or the error. Framing
//! lets a failure half-way (a damaged blob) arrive as a clear error, not a short file.

use super::archive::Manifest;
use super::doctor::StoreReport;
use super::OpsError;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

/// The socket's file name in the data directory.
pub const SOCKET: &str = "control.sock";
/// Bytes per frame.
const FRAME: usize = 256 * 1024;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    Report,
    Backup,
    /// `size` bytes of a release binary follow the line (a hub only; see [`super::offer`]).
    OfferUpdate {
        signature: String,
        nodes: Vec<String>,
        size: u64,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct Answer<T> {
    ok: Option<T>,
    error: Option<OpsError>,
}

impl<T> From<Result<T, OpsError>> for Answer<T> {
    fn from(r: Result<T, OpsError>) -> Self {
        match r {
            Ok(v) => Answer {
                ok: Some(v),
                error: None,
            },
            Err(e) => Answer {
                ok: None,
                error: Some(e),
            },
        }
    }
}

impl<T> Answer<T> {
    fn into_result(self) -> Result<T, OpsError> {
        match (self.ok, self.error) {
            (Some(v), _) => Ok(v),
            (None, Some(e)) => Err(e),
            (None, None) => Err(OpsError::internal("the box gave an empty answer")),
        }
    }
}

/// Serves the control socket until `stop` turns true. A socket that cannot be made (a path too
/// long, a read-only directory) is logged: the box serves without it, and `backup` says so.
pub fn spawn(
    store: Store,
    sync: crate::sync::client::SyncHandle,
    mut stop: watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let path = store.dir().join(SOCKET);
    // Left by a process killed hard; this process holds the store, so no other box uses it.
    let _ = std::fs::remove_file(&path);
    let listener = match tokio::net::UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(path = %path.display(), "no control socket, so `phonghop backup` cannot run while the box serves: {e}");
            return None;
        }
    };
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!("control socket permissions: {e}");
        }
    }
    let busy = Arc::new(AtomicBool::new(false));
    Some(tokio::spawn(async move {
        loop {
            let conn = tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                c = listener.accept() => c,
            };
            let Ok((conn, _)) = conn else { continue };
            // SAFETY: geteuid has no preconditions.
            let me = unsafe { libc::geteuid() };
            match conn.peer_cred() {
                Ok(c) if c.uid() == me || c.uid() == 0 => {}
                _ => continue,
            }
            let (store, busy, sync) = (store.clone(), busy.clone(), sync.clone());
            tokio::spawn(async move {
                let Ok(std) = conn.into_std() else { return };
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(e) = answer(&store, &sync, std, &busy) {
                        tracing::debug!("control connection ended: {e}");
                    }
                })
                .await;
            });
        }
        let _ = std::fs::remove_file(&path);
    }))
}

fn answer(
    store: &Store,
    sync: &crate::sync::client::SyncHandle,
    conn: std::os::unix::net::UnixStream,
    busy: &AtomicBool,
) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    // A reader that stops reading (a stopped terminal) must not hold the snapshot's read
    // transaction, and the file's growth with it, for ever.
    conn.set_write_timeout(Some(std::time::Duration::from_secs(60)))?;
    let mut line = String::new();
    let mut reader = BufReader::new(&conn);
    (&mut reader).take(64 * 1024).read_line(&mut line)?;
    let mut out = std::io::BufWriter::new(&conn);
    match serde_json::from_str::<Request>(&line) {
        Ok(Request::OfferUpdate {
            signature,
            nodes,
            size,
        }) => {
            let result = (|| {
                if size > super::offer::MAX_RELEASE_BYTES {
                    return Err(OpsError::new(
                        65,
                        "Tệp quá lớn để là một bản phát hành.",
                        "The file is too large to be a release.",
                    ));
                }
                let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                (&mut reader)
                    .take(size)
                    .read_to_end(&mut bytes)
                    .map_err(lost)?;
                if bytes.len() as u64 != size {
                    return Err(lost(std::io::Error::other("the file arrived cut short")));
                }
                let nodes = nodes
                    .iter()
                    .map(|n| {
                        crate::domain::NodeId::parse(n).ok_or_else(|| {
                            OpsError::new(
                                64,
                                format!("{n} không phải mã hộp (32 chữ số hex)."),
                                format!("{n} is not a node id (32 hex digits)."),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                super::offer::offer(store, &bytes, &signature, nodes)
            })();
            if let Ok(o) = &result {
                tracing::info!(version = %o.version, seq = o.seq, "update offered through the control socket");
            }
            let a: Answer<super::offer::Offered> = result.into();
            serde_json::to_writer(&mut out, &a)?;
            out.write_all(b"\n")?;
        }
        Ok(Request::Report) => {
            let report = super::doctor::store_report(store).map(|mut r| {
                r.sync = Some(super::doctor::SyncReport::of(&sync.status(store)));
                r
            });
            let a: Answer<StoreReport> = report.into();
            serde_json::to_writer(&mut out, &a)?;
            out.write_all(b"\n")?;
        }
        Ok(Request::Backup) => {
            let result = if busy.swap(true, Ordering::AcqRel) {
                Err(OpsError::new(
                    75,
                    "Một bản sao lưu khác đang được tạo. Chờ nó xong rồi chạy lại.",
                    "Another backup is being made. Wait for it to finish and run it again.",
                ))
            } else {
                let mut frames = Frames {
                    out: &mut out,
                    buf: Vec::with_capacity(FRAME),
                };
                let r = super::archive::write(store, true, &mut frames);
                busy.store(false, Ordering::Release);
                match &r {
                    Ok(m) => tracing::info!(
                        files = m.files.len(),
                        bytes = m.total_bytes(),
                        "backup written through the control socket"
                    ),
                    Err(e) => tracing::warn!("backup failed: {}", e.en),
                }
                r
            };
            // A write failure means the reader is gone: nobody to tell.
            out.write_all(&0u32.to_be_bytes())?;
            let a: Answer<Manifest> = result.into();
            serde_json::to_writer(&mut out, &a)?;
            out.write_all(b"\n")?;
        }
        Err(_) => {
            let a: Answer<()> = Err(OpsError::internal("unknown control request")).into();
            serde_json::to_writer(&mut out, &a)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()
}

/// Cuts what is written into frames.
struct Frames<'a, W: Write> {
    out: &'a mut W,
    buf: Vec<u8>,
}

impl<W: Write> Frames<'_, W> {
    fn emit(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let len = u32::try_from(self.buf.len()).map_err(std::io::Error::other)?;
        self.out.write_all(&len.to_be_bytes())?;
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

impl<W: Write> Write for Frames<'_, W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = FRAME - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= FRAME {
            self.emit()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.emit()?;
        self.out.flush()
    }
}

/// The socket of a box serving `dir`, if one answers there. `None` when no box runs (no
/// socket, or one left by a box that was killed).
pub fn connect(dir: &Path) -> Result<Option<std::os::unix::net::UnixStream>, OpsError> {
    let path: PathBuf = dir.join(SOCKET);
    match std::os::unix::net::UnixStream::connect(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            Ok(None)
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(OpsError::new(
            77,
            format!(
                "Không có quyền nói chuyện với Phonghop đang chạy ({}). Chạy lệnh bằng sudo, \
                 hoặc bằng tài khoản chạy dịch vụ (sudo -u phonghop …).",
                path.display()
            ),
            format!(
                "No permission to talk to the running Phonghop ({}). Run the command with sudo, \
                 or as the service's user (sudo -u phonghop …).",
                path.display()
            ),
        )),
        Err(e) => Err(OpsError::io(&path, e)),
    }
}

fn send(conn: &std::os::unix::net::UnixStream, req: &Request) -> Result<(), OpsError> {
    let mut w = conn;
    let mut line = serde_json::to_vec(req).map_err(|e| OpsError::internal(e.to_string()))?;
    line.push(b'\n');
    w.write_all(&line).map_err(lost)
}

fn lost(e: std::io::Error) -> OpsError {
    OpsError::new(
        70,
        format!("Mất kết nối với Phonghop đang chạy: {e}. Xem nhật ký (journalctl -u phonghop) rồi chạy lại."),
        format!("Lost the connection to the running Phonghop: {e}. See its log (journalctl -u phonghop) and run it again."),
    )
}

fn read_answer<T: serde::de::DeserializeOwned>(r: &mut impl BufRead) -> Result<T, OpsError> {
    let mut line = String::new();
    r.read_line(&mut line).map_err(lost)?;
    let a: Answer<T> = serde_json::from_str(&line)
        .map_err(|e| lost(std::io::Error::other(format!("unreadable answer: {e}"))))?;
    a.into_result()
}

/// Asks the running box for its store report.
pub fn report(conn: std::os::unix::net::UnixStream) -> Result<StoreReport, OpsError> {
    send(&conn, &Request::Report)?;
    read_answer(&mut BufReader::new(&conn))
}

/// Hands the running hub a release to offer: the line, then the binary.
pub fn offer_update(
    conn: std::os::unix::net::UnixStream,
    bytes: &[u8],
    signature: &str,
    nodes: &[String],
) -> Result<super::offer::Offered, OpsError> {
    send(
        &conn,
        &Request::OfferUpdate {
            signature: signature.to_owned(),
            nodes: nodes.to_vec(),
            size: bytes.len() as u64,
        },
    )?;
    (&conn).write_all(bytes).map_err(lost)?;
    read_answer(&mut BufReader::new(&conn))
}

/// Asks the running box for a backup and writes the archive's bytes to `sink`.
pub fn backup(
    conn: std::os::unix::net::UnixStream,
    sink: &mut dyn Write,
) -> Result<Manifest, OpsError> {
    send(&conn, &Request::Backup)?;
    let mut r = BufReader::with_capacity(FRAME, &conn);
    let mut buf = vec![0u8; FRAME];
    loop {
        let mut len = [0u8; 4];
        r.read_exact(&mut len).map_err(lost)?;
        let len = u32::from_be_bytes(len) as usize;
        if len == 0 {
            break;
        }
        if len > FRAME {
            return Err(lost(std::io::Error::other("a frame larger than allowed")));
        }
        r.read_exact(&mut buf[..len]).map_err(lost)?;
        sink.write_all(&buf[..len])
            .map_err(OpsError::write_failed)?;
    }
    read_answer(&mut r)
}
