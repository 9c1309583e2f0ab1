//! The hub's sync port (`/sync/v1/`, `docs/sync-protocol.md`): mutual TLS, so every request
//! comes from a box named by a client certificate the hub issued. Each request is checked
//! against the hub's record of that box (revoked boxes stop at once) and the protocol
//! version the box speaks.

use super::AppState;
use crate::domain::hub::PeerContact;
use crate::domain::NodeId;
use crate::store::blobs::{Incoming, IncomingError};
use crate::store::{hub as hub_records, IngestError, StoreError};
use crate::sync::{
    compatible, Ack, CursorMsg, Hello, MissingQuery, MissingReply, HEADER_HEAD, HEADER_HUB_HELD,
    HEADER_LENGTH, HEADER_OFFSET, HEADER_PROTOCOL, HEADER_VERSION, MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS, MAX_MISSING_QUERY, MIN_PROTOCOL, PROTOCOL,
};
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The box a sync connection belongs to, from its verified client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPeer(pub NodeId);

/// How often a box's "last contact" is written to disk (it is kept in memory in between).
const CONTACT_WRITE_EVERY: Duration = Duration::from_secs(15);
/// Blobs a box said it will send and the hub does not hold, per box: only those are accepted.
const WANTED_PER_BOX: usize = 20_000;

/// The hub's memory of each box between requests: which blobs it may send, and when its
/// contact was last written.
#[derive(Default)]
pub struct SyncPeers {
    wanted: Mutex<HashMap<NodeId, HashSet<String>>>,
    contact_written: Mutex<HashMap<NodeId, (Instant, Option<u64>)>>,
    /// Per box: the hub blobs its events entitle it to download, from the hub's log read
    /// up to `through` (read on, never again from the start).
    grants: Mutex<HashMap<NodeId, Grants>>,
}

#[derive(Default)]
struct Grants {
    through: u64,
    blobs: HashSet<String>,
}

/// A refusal on the sync port: the API's error body, with the fields the code lists.
struct SyncError {
    status: StatusCode,
    code: &'static str,
    vi: String,
    en: String,
    extra: serde_json::Value,
    offset: Option<u64>,
}

impl SyncError {
    fn new(status: StatusCode, code: &'static str, vi: &str, en: impl Into<String>) -> Self {
        Self {
            status,
            code,
            vi: vi.to_owned(),
            en: en.into(),
            extra: json!({}),
            offset: None,
        }
    }

    fn with(mut self, extra: serde_json::Value) -> Self {
        self.extra = extra;
        self
    }
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DiskFull => SyncError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "sync.disk_full",
                "Ổ đĩa của máy chủ trung tâm đã đầy.",
                "The hub's disk is full.",
            ),
            other => {
                tracing::error!("sync storage error: {other}");
                SyncError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "sync.unavailable",
                    "Máy chủ trung tâm tạm thời không ghi được; hộp sẽ thử lại.",
                    "The hub cannot write right now; the box will try again.",
                )
            }
        }
    }
}

impl IntoResponse for SyncError {
    fn into_response(self) -> Response {
        let mut body = json!({"code": self.code, "message": self.vi, "message_en": self.en});
        if let (Some(b), Some(extra)) = (body.as_object_mut(), self.extra.as_object()) {
            for (k, v) in extra {
                b.insert(k.clone(), v.clone());
            }
        }
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(o) = self.offset {
            if let Ok(v) = HeaderValue::from_str(&o.to_string()) {
                resp.headers_mut().insert(HEADER_OFFSET, v);
            }
        }
        resp
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/sync/v1/hello", get(hello))
        .route("/sync/v1/cursor", get(cursor))
        .route("/sync/v1/events", post(events).get(pull_events))
        .route("/sync/v1/acks", post(ack_hub_log))
        .route("/sync/v1/blobs/missing", post(missing))
        .route(
            "/sync/v1/blobs/{sha256}",
            head(blob_head).patch(blob_patch).get(blob_get),
        )
        .layer(middleware::from_fn_with_state(state.clone(), admit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            super::observe,
        ))
        .with_state(state)
}

/// Every request: a client certificate naming a box this hub enrolled and has not revoked,
/// speaking a protocol this hub speaks.
async fn admit(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let Some(SyncPeer(node)) = req.extensions().get::<SyncPeer>().cloned() else {
        return SyncError::new(
            StatusCode::FORBIDDEN,
            "sync.no_certificate",
            "Kết nối đồng bộ cần chứng chỉ của hộp phòng họp.",
            "A sync connection needs the box's client certificate.",
        )
        .into_response();
    };
    let protocol = req
        .headers()
        .get(HEADER_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u32>().ok());
    match protocol {
        Some(p) if compatible(p, p) => {}
        other => {
            let said = other.map_or("none".to_owned(), |p| p.to_string());
            return SyncError::new(
                StatusCode::BAD_REQUEST,
                "sync.version",
                "Phiên bản đồng bộ của hộp và máy chủ trung tâm quá khác nhau. Hãy cập nhật phần mềm.",
                format!("The box speaks sync protocol {said}; this hub speaks {MIN_PROTOCOL} to {PROTOCOL}. Update the older one."),
            )
            .with(json!({"protocol": PROTOCOL, "min_protocol": MIN_PROTOCOL}))
            .into_response();
        }
    }
    let store = st.store.clone();
    let lookup = node.clone();
    let record =
        tokio::task::spawn_blocking(move || store.read(|t| hub_records::enrolled_box(t, &lookup)))
            .await;
    let record = match record {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return SyncError::from(e).into_response(),
        Err(e) => return SyncError::from(StoreError::Db(e.to_string())).into_response(),
    };
    match record {
        None => {
            return SyncError::new(
                StatusCode::FORBIDDEN,
                "sync.unknown_box",
                "Máy chủ trung tâm không có hộp này trong danh sách đăng ký.",
                "This hub has not enrolled this box.",
            )
            .into_response()
        }
        Some(b) if b.revoked.is_some() => {
            return SyncError::new(
                StatusCode::FORBIDDEN,
                "sync.revoked",
                "Hộp phòng họp này đã bị thu hồi ở trung tâm; không đồng bộ được nữa. Liên hệ cán bộ CNTT.",
                "The central office revoked this box; it can no longer sync. Contact IT staff.",
            )
            .into_response()
        }
        Some(_) => {}
    }
    note_contact(&st, &node, req.headers());
    next.run(req).await
}

/// Remembers what the box said (its build, its head, how far it holds the hub's log), writing
/// it at most every few seconds, or at once when the box holds more of the hub's log (that
/// changes rarely, and the office waits to see a handover arrive).
fn note_contact(st: &AppState, node: &NodeId, headers: &HeaderMap) {
    let hub_held: Option<u64> = headers
        .get(HEADER_HUB_HELD)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.parse().ok());
    let due = match st.sync_peers.contact_written.lock() {
        Ok(mut m) => {
            let now = Instant::now();
            let due = m.get(node).is_none_or(|(t, held)| {
                now.duration_since(*t) >= CONTACT_WRITE_EVERY || *held != hub_held
            });
            if due {
                m.insert(node.clone(), (now, hub_held));
            }
            due
        }
        Err(_) => false,
    };
    if !due {
        return;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let contact = PeerContact {
        last_contact: time::OffsetDateTime::now_utc(),
        app_version: header(HEADER_VERSION)
            .unwrap_or_default()
            .chars()
            .take(40)
            .collect(),
        reported_head: header(HEADER_HEAD).and_then(|h| h.parse().ok()),
        hub_log_held: hub_held,
    };
    let (store, node) = (st.store.clone(), node.clone());
    tokio::task::spawn_blocking(move || {
        if let Err(e) = store.write_local(|tx| tx.put_peer_contact(&node, &contact)) {
            tracing::warn!("could not record a box's contact: {e}");
        }
    });
}

async fn hello(State(st): State<AppState>) -> Json<Hello> {
    Json(Hello {
        node_id: st.store.node_id().to_string(),
        protocol: PROTOCOL,
        min_protocol: MIN_PROTOCOL,
        app_version: env!("CARGO_PKG_VERSION").into(),
    })
}

fn wrong_origin(asked: &str) -> SyncError {
    SyncError::new(
        StatusCode::FORBIDDEN,
        "sync.wrong_origin",
        "Hộp chỉ được gửi và hỏi nhật ký của chính nó.",
        format!("A box sends and asks about its own log only, not {asked}."),
    )
    .with(json!({"origin": asked}))
}

#[derive(Deserialize)]
struct CursorQuery {
    origin: String,
}

async fn cursor(
    State(st): State<AppState>,
    Extension(SyncPeer(node)): Extension<SyncPeer>,
    Query(q): Query<CursorQuery>,
) -> Result<Json<CursorMsg>, SyncError> {
    if NodeId::parse(&q.origin).as_ref() != Some(&node) {
        return Err(wrong_origin(&q.origin));
    }
    let store = st.store.clone();
    let c = tokio::task::spawn_blocking(move || store.cursor(&node))
        .await
        .map_err(|e| StoreError::Db(e.to_string()))??;
    Ok(Json(CursorMsg {
        origin: q.origin,
        seq: c.seq,
        hash: c.hash.to_hex(),
    }))
}

async fn events(
    State(st): State<AppState>,
    Extension(SyncPeer(node)): Extension<SyncPeer>,
    body: Body,
) -> Result<Json<Ack>, SyncError> {
    let too_large = || {
        SyncError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "sync.too_large",
            "Gói dữ liệu đồng bộ quá lớn.",
            format!("A push holds at most {MAX_BATCH_EVENTS} events and {MAX_BATCH_BYTES} bytes."),
        )
    };
    // A single event may be larger than the batch target; allow one such beside it.
    let bytes = axum::body::to_bytes(body, 2 * MAX_BATCH_BYTES)
        .await
        .map_err(|_| too_large())?;
    let lines: Vec<Vec<u8>> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    if lines.len() > MAX_BATCH_EVENTS {
        return Err(too_large());
    }
    if lines.is_empty() {
        return Err(SyncError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "sync.bad_chain",
            "Gói dữ liệu đồng bộ trống.",
            "The push holds no events.",
        )
        .with(json!({"seq": 0})));
    }
    // Only the box's own events: checked on every line before anything is read from disk.
    for line in &lines {
        if let Ok(h) = serde_json::from_slice::<crate::domain::event::EnvelopeHeader>(line) {
            if h.origin != node {
                return Err(wrong_origin(h.origin.as_str()));
            }
        }
    }
    check_checkpoints(&lines)?;
    let store = st.store.clone();
    let origin = node.clone();
    let result = tokio::task::spawn_blocking(move || {
        let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        let blobs = store.blobs().clone();
        store.ingest(&origin, &refs, |sha| blobs.contains(sha))
    })
    .await
    .map_err(|e| StoreError::Db(e.to_string()))?;
    match result {
        Ok(done) => {
            if done.stored > 0 {
                // The archive follows in the background; a read catches up anyway.
                let (store, origin) = (st.store.clone(), node.clone());
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = store.archive_catch_up(&origin) {
                        tracing::warn!(box_node = %origin, "archive not updated: {e}");
                    }
                });
            }
            Ok(Json(Ack {
                origin: node.to_string(),
                acked_seq: done.cursor.seq,
                acked_hash: done.cursor.hash.to_hex(),
            }))
        }
        Err(IngestError::Gap { expected_seq }) => Err(SyncError::new(
            StatusCode::CONFLICT,
            "sync.gap",
            "Thiếu dữ liệu trước gói này; hộp sẽ gửi lại từ chỗ còn thiếu.",
            format!("Events are missing before this push; send from {expected_seq}."),
        )
        .with(json!({"expected_seq": expected_seq}))),
        Err(IngestError::Fork { seq, ours, theirs }) => {
            tracing::error!(box_node = %node, seq, ours = %ours.hash.to_hex(), theirs = %theirs.to_hex(), "a box's log forked from the copy the hub holds");
            let held = (ours.seq == seq).then_some(ours.hash);
            let (store, origin) = (st.store.clone(), node.clone());
            let recorded = tokio::task::spawn_blocking(move || {
                crate::service::hub::record_fork(&store, &origin, seq, held, theirs)
            })
            .await;
            if !matches!(recorded, Ok(Ok(()))) {
                tracing::warn!(box_node = %node, "could not record the conflict");
            }
            Err(SyncError::new(
                StatusCode::CONFLICT,
                "sync.fork",
                "Nhật ký của hộp khác với bản trung tâm đang giữ (hộp có thể đã được khôi phục từ bản sao lưu cũ). Cán bộ CNTT cần xem xét.",
                format!("The box's event {seq} differs from the one the hub holds (was the box restored from an old backup?). IT staff must look."),
            )
            .with(json!({"seq": seq})))
        }
        Err(IngestError::BadChain { seq, reason }) => Err(SyncError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "sync.bad_chain",
            "Gói dữ liệu đồng bộ không liền mạch.",
            format!("Bad chain at event {seq}: {reason}"),
        )
        .with(json!({"seq": seq}))),
        Err(IngestError::BlobMissing(list)) => Err(SyncError::new(
            StatusCode::CONFLICT,
            "sync.blob_missing",
            "Cần gửi tệp tài liệu trước các sự kiện nhắc đến nó.",
            "Send the files these events refer to first.",
        )
        .with(json!({"sha256": list}))),
        Err(IngestError::OwnOrigin) => Err(wrong_origin(node.as_str())),
        Err(IngestError::Store(e)) => Err(e.into()),
    }
}

/// A box's signed checkpoints must state exactly the event before them and carry a signature
/// that verifies with the certificate they name: the hub keeps them as the box's own proof of
/// what it had recorded, so a bad one is refused, not stored.
fn check_checkpoints(lines: &[Vec<u8>]) -> Result<(), SyncError> {
    use crate::domain::hub::CheckpointStatement;
    use crate::domain::{EventBody, EventEnvelope};
    for line in lines {
        let is_checkpoint = serde_json::from_slice::<crate::domain::event::EnvelopeHeader>(line)
            .is_ok_and(|h| h.kind == "log.checkpoint");
        if !is_checkpoint {
            continue;
        }
        let Ok(e) = EventEnvelope::decode(line) else {
            continue;
        };
        let EventBody::LogCheckpoint {
            seq,
            hash,
            signature,
            certificate_pem,
        } = &e.body
        else {
            continue;
        };
        let statement = CheckpointStatement::new(&e.origin, *seq, hash);
        let states_the_event_before = *seq + 1 == e.seq && *hash == e.prev;
        let signed = crate::signing::certificate_key(certificate_pem)
            .and_then(|k| crate::signing::verify_json(&k, &statement, signature))
            .is_ok();
        if !(states_the_event_before && signed) {
            return Err(SyncError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "sync.bad_checkpoint",
                "Điểm kiểm tra có chữ ký của hộp không hợp lệ.",
                format!("The signed checkpoint at event {} does not verify.", e.seq),
            )
            .with(json!({"seq": e.seq})));
        }
    }
    Ok(())
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

async fn missing(
    State(st): State<AppState>,
    Extension(SyncPeer(node)): Extension<SyncPeer>,
    body: Body,
) -> Result<Json<MissingReply>, SyncError> {
    let bad = |en: &str| {
        SyncError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "sync.bad_request",
            "Yêu cầu đồng bộ không hợp lệ.",
            en.to_owned(),
        )
    };
    let bytes = axum::body::to_bytes(body, 128 * 1024)
        .await
        .map_err(|_| bad("the list is too long"))?;
    let q: MissingQuery =
        serde_json::from_slice(&bytes).map_err(|e| bad(&format!("not a list of hashes: {e}")))?;
    if q.sha256.len() > MAX_MISSING_QUERY || !q.sha256.iter().all(|s| is_sha256(s)) {
        return Err(bad("at most 1000 lower-case hex SHA-256 names"));
    }
    let blobs = st.store.blobs().clone();
    let missing: Vec<String> = q
        .sha256
        .into_iter()
        .filter(|s| !blobs.contains(s))
        .collect();
    if let Ok(mut wanted) = st.sync_peers.wanted.lock() {
        let set = wanted.entry(node).or_default();
        for s in &missing {
            if set.len() < WANTED_PER_BOX {
                set.insert(s.clone());
            }
        }
    }
    Ok(Json(MissingReply { missing }))
}

fn offset_header(n: u64) -> [(axum::http::HeaderName, HeaderValue); 1] {
    [(
        axum::http::HeaderName::from_static(HEADER_OFFSET),
        HeaderValue::from(n),
    )]
}

async fn blob_head(
    State(st): State<AppState>,
    Path(sha): Path<String>,
) -> Result<Response, SyncError> {
    let blobs = st.store.blobs().clone();
    let held = tokio::task::spawn_blocking(move || blobs.incoming_offset(&sha))
        .await
        .map_err(|e| StoreError::Db(e.to_string()))?;
    match held {
        Ok(None) => Ok(StatusCode::OK.into_response()),
        Ok(Some(n)) => Ok((StatusCode::NOT_FOUND, offset_header(n)).into_response()),
        Err(e) => Err(incoming_error(e)),
    }
}

fn incoming_error(e: IncomingError) -> SyncError {
    match e {
        IncomingError::Offset { held, offered } => {
            let mut err = SyncError::new(
                StatusCode::CONFLICT,
                "sync.offset",
                "Tệp đang gửi dở; hộp sẽ gửi tiếp từ chỗ trung tâm đã nhận.",
                format!("The hub holds {held} bytes, not {offered}; go on from {held}."),
            );
            err.offset = Some(held);
            err
        }
        IncomingError::TooLarge { limit } => SyncError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "sync.too_large",
            "Tệp quá lớn so với giới hạn của máy chủ trung tâm.",
            format!("The file is larger than the hub's limit of {limit} bytes."),
        ),
        IncomingError::Overrun { length } => SyncError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "sync.overrun",
            "Tệp gửi lên dài hơn kích thước đã báo.",
            format!("More bytes than the declared length {length}."),
        ),
        IncomingError::HashMismatch(sha) => SyncError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "sync.blob_hash_mismatch",
            "Tệp nhận được bị hỏng trên đường truyền; hộp sẽ gửi lại.",
            format!("The bytes received do not hash to {sha}; they were discarded. Send it again."),
        ),
        IncomingError::Superseded => SyncError::new(
            StatusCode::CONFLICT,
            "sync.superseded",
            "Một lần gửi mới hơn của cùng tệp đã thay lần này.",
            "A newer upload of the same file took over.",
        ),
        IncomingError::BadName => SyncError::new(
            StatusCode::BAD_REQUEST,
            "sync.bad_request",
            "Tên tệp không hợp lệ.",
            "Not a SHA-256 name.",
        ),
        IncomingError::Store(e) => e.into(),
    }
}

async fn blob_patch(
    State(st): State<AppState>,
    Extension(SyncPeer(node)): Extension<SyncPeer>,
    Path(sha): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, SyncError> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let (Some(offset), Some(length)) = (number(HEADER_OFFSET), number(HEADER_LENGTH)) else {
        return Err(SyncError::new(
            StatusCode::BAD_REQUEST,
            "sync.bad_request",
            "Thiếu thông tin vị trí của tệp gửi lên.",
            "Upload-Offset and Upload-Length are required.",
        ));
    };
    let asked = st
        .sync_peers
        .wanted
        .lock()
        .map(|w| w.get(&node).is_some_and(|s| s.contains(&sha)))
        .unwrap_or(false);
    if !asked && !st.store.blobs().contains(&sha) {
        return Err(SyncError::new(
            StatusCode::CONFLICT,
            "sync.not_requested",
            "Hãy hỏi trung tâm cần tệp nào trước khi gửi.",
            "Ask which files the hub lacks (blobs/missing) before sending one.",
        ));
    }
    let got = st
        .store
        .blobs()
        .append_incoming(&sha, offset, length, st.max_upload, body.into_data_stream())
        .await;
    match got {
        Ok(Incoming::Partial(n)) => Ok((StatusCode::NO_CONTENT, offset_header(n)).into_response()),
        Ok(Incoming::Complete) => {
            if let Ok(mut w) = st.sync_peers.wanted.lock() {
                if let Some(set) = w.get_mut(&node) {
                    set.remove(&sha);
                }
            }
            Ok((StatusCode::NO_CONTENT, offset_header(length)).into_response())
        }
        Err(e) => Err(incoming_error(e)),
    }
}

#[derive(Deserialize)]
struct PullQuery {
    origin: String,
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

/// `GET /sync/v1/events?origin=<hub>&after=N&limit=M`: the hub's own events after `after`,
/// exact stored bytes, NDJSON, in order; empty when the box is up to date. The hub's head is
/// in `Phonghop-Head`. Boxes read the hub's log, never another box's.
async fn pull_events(
    State(st): State<AppState>,
    Query(q): Query<PullQuery>,
) -> Result<Response, SyncError> {
    let own = st.store.node_id().clone();
    if NodeId::parse(&q.origin).as_ref() != Some(&own) {
        return Err(wrong_origin(&q.origin));
    }
    let limit = q
        .limit
        .unwrap_or(MAX_BATCH_EVENTS)
        .clamp(1, MAX_BATCH_EVENTS);
    let store = st.store.clone();
    let (head, lines) = tokio::task::spawn_blocking(move || {
        let head = store.head_seq()?;
        let lines = store.raw_events_after(&own, q.after, limit, MAX_BATCH_BYTES)?;
        Ok::<_, StoreError>((head, lines))
    })
    .await
    .map_err(|e| StoreError::Db(e.to_string()))??;
    let mut body = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in &lines {
        body.extend_from_slice(line);
        body.push(b'\n');
    }
    let mut r = (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        body,
    )
        .into_response();
    r.headers_mut().insert(HEADER_HEAD, HeaderValue::from(head));
    Ok(r)
}

/// Whether one of the hub's own events entitles `node` to download blob `sha`: the grants
/// are read on from where the last question stopped.
fn granted(st: &AppState, node: &NodeId, sha: &str) -> Result<bool, StoreError> {
    let Ok(mut all) = st.sync_peers.grants.lock() else {
        return Err(StoreError::Db("grants lock poisoned".into()));
    };
    let grants = all.entry(node.clone()).or_default();
    let own = st.store.node_id().clone();
    loop {
        let lines =
            st.store
                .raw_events_after(&own, grants.through, MAX_BATCH_EVENTS, MAX_BATCH_BYTES)?;
        let Some(last) = lines.last() else { break };
        let last_seq = serde_json::from_slice::<crate::domain::event::EnvelopeHeader>(last)
            .map(|h| h.seq)
            .map_err(|e| StoreError::Db(format!("unreadable hub event: {e}")))?;
        for line in &lines {
            if let Ok(ev) = crate::domain::EventEnvelope::decode(line) {
                for (sha, _) in crate::service::downward::blobs_needed(node, &ev) {
                    grants.blobs.insert(sha);
                }
            }
        }
        grants.through = last_seq;
    }
    Ok(grants.blobs.contains(sha))
}

/// `GET /sync/v1/blobs/{sha}`: a hub blob a box's hub events entitle it to, with `Range` so
/// an interrupted download goes on where it stopped. The box checks the hash on arrival.
async fn blob_get(
    State(st): State<AppState>,
    Extension(SyncPeer(node)): Extension<SyncPeer>,
    Path(sha): Path<String>,
    headers: HeaderMap,
) -> Result<Response, SyncError> {
    use axum::http::header;
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let not_yours = || {
        SyncError::new(
            StatusCode::NOT_FOUND,
            "sync.no_such_blob",
            "Trung tâm không có tệp này cho hộp này.",
            "The hub holds no such file for this box.",
        )
    };
    if !is_sha256(&sha) {
        return Err(not_yours());
    }
    let (st2, node2, sha2) = (st.clone(), node.clone(), sha.clone());
    let allowed = tokio::task::spawn_blocking(move || granted(&st2, &node2, &sha2))
        .await
        .map_err(|e| StoreError::Db(e.to_string()))??;
    if !allowed {
        return Err(not_yours());
    }
    let blobs = st.store.blobs();
    let Some(mut open) = blobs.open_blob(&sha).await? else {
        return Err(not_yours());
    };
    let len = open.len;
    let start = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        None => 0,
        Some(r) => match super::prepare::wanted_range(Some(r), len) {
            super::prepare::Wanted::Whole => 0,
            super::prepare::Wanted::Part(s, _) => s,
            super::prepare::Wanted::Unsatisfiable => {
                return Err(SyncError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "sync.range",
                    "Vị trí tải tiếp không hợp lệ.",
                    format!("The file has {len} bytes."),
                ))
            }
        },
    };
    blobs
        .ensure_verified(&sha, &open)
        .await
        .map_err(|e| StoreError::Db(e.to_string()))?;
    if start > 0 {
        open.file
            .seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| StoreError::Db(e.to_string()))?;
    }
    let count = len - start;
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
        open.file.take(count),
        64 * 1024,
    ));
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if start > 0 {
        *r.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", len - 1)) {
            r.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(r)
}

/// `POST /sync/v1/acks` `{"origin": <hub>, "seq", "hash"}`: the box has committed the hub's
/// log up to `seq`. The hub checks the box's copy ends with the hub's own event there (a box
/// holding a different history of the hub's log is a fork, reported as such); how far the box
/// holds is recorded from the request's `Phonghop-Hub-Held` like any contact.
async fn ack_hub_log(
    State(st): State<AppState>,
    Json(ack): Json<CursorMsg>,
) -> Result<StatusCode, SyncError> {
    let own = st.store.node_id().clone();
    if NodeId::parse(&ack.origin).as_ref() != Some(&own) {
        return Err(wrong_origin(&ack.origin));
    }
    let store = st.store.clone();
    let seq = ack.seq;
    let ours = tokio::task::spawn_blocking(move || store.event_hash(&own, seq))
        .await
        .map_err(|e| StoreError::Db(e.to_string()))??;
    match ours {
        Some(h) if h.to_hex() == ack.hash => Ok(StatusCode::NO_CONTENT),
        _ if seq == 0 => Ok(StatusCode::NO_CONTENT),
        _ => Err(SyncError::new(
            StatusCode::CONFLICT,
            "sync.fork",
            "Bản sao nhật ký của trung tâm trên hộp khác với nhật ký của trung tâm.",
            format!("The box's copy of the hub's event {seq} is not the hub's own."),
        )
        .with(json!({"seq": seq}))),
    }
}
