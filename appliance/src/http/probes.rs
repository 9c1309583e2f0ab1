//! Probes for systemd, monitoring and IT staff: liveness, readiness and metrics.

use super::{blocking, ApiError, AppState, MaybeStaff};
use crate::domain::Role;
use crate::metrics::StoreFigures;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::fmt::Write as _;
use std::net::SocketAddr;

/// Below this much free space the box reports not ready: writes may soon fail.
const MIN_FREE_BYTES: u64 = 64 * 1024 * 1024;

/// The process is up and answering.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "version": crate::update::running_version()}))
}

/// The box can serve a meeting: the store answers and the disk has room. Damaged documents
/// (blobs whose bytes no longer match their hash) do not stop the meeting, but are flagged:
/// `"status": "degraded"` with `damaged_blobs`, still 200.
pub async fn readyz(State(st): State<AppState>) -> Response {
    if *st.shutdown.borrow() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "shutting_down"})),
        )
            .into_response();
    }
    if let crate::store::Integrity::Broken(b) = st.store.integrity() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "log_broken",
                "broken": {"origin": b.origin, "seq": b.seq, "reason": b.reason},
            })),
        )
            .into_response();
    }
    let store = st.store.clone();
    let checked = blocking(move || {
        let head = store.head_seq()?;
        Ok((head, free_bytes(store.dir())))
    })
    .await;
    match checked {
        Ok((head, Some(free))) if free >= MIN_FREE_BYTES => {
            let damaged = st.store.blobs().damaged().len();
            let status = if damaged == 0 { "ready" } else { "degraded" };
            Json(json!({"status": status, "head_seq": head, "free_bytes": free, "damaged_blobs": damaged}))
                .into_response()
        }
        Ok((_, free)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "disk_low", "free_bytes": free})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(?e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "store_error"})),
            )
                .into_response()
        }
    }
}

/// Free bytes on the file system holding `dir`, for an unprivileged writer.
pub fn free_bytes(dir: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    (rc == 0).then(|| s.f_bavail as u64 * s.f_frsize as u64)
}

/// Prometheus text. Readable from the box itself (a local scraper) or by IT staff.
pub async fn metrics(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    MaybeStaff(who): MaybeStaff,
) -> Result<Response, ApiError> {
    let local = peer.ip().to_canonical().is_loopback();
    let it_staff = who.is_some_and(|a| a.has(Role::may_read_metrics));
    if !local && !it_staff {
        return Err(ApiError::Forbidden);
    }
    let store = st.store.clone();
    let limits = st.conn_limits.clone();
    let figures = blocking(move || {
        Ok(StoreFigures {
            db_bytes: store.db_size(),
            blob_bytes: store.blobs().total_bytes(),
            head_seq: store.head_seq()?,
            connections_open: limits.open() as u64,
            connections_refused: limits.refused(),
            password_checks: crate::auth::password_checks(),
            password_busy: crate::auth::password_busy(),
        })
    })
    .await?;
    let mut text = st.metrics.render(&figures);
    let blobs = st.store.blobs();
    let _ = writeln!(text, "# HELP phonghop_blob_mismatches_total Stored documents found not to match their hash (never served).\n# TYPE phonghop_blob_mismatches_total counter\nphonghop_blob_mismatches_total {}", blobs.mismatches());
    let _ = writeln!(text, "# HELP phonghop_blobs_damaged Stored documents known now not to match their hash.\n# TYPE phonghop_blobs_damaged gauge\nphonghop_blobs_damaged {}", blobs.damaged().len());
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
