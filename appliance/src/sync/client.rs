//! The box's sync loop: it pushes the box's own log, blobs first, to its hub whenever a link
//! exists. It runs at start, soon after each commit, when IT staff press "Đồng bộ ngay", and
//! after a failure with exponential back-off and jitter. It only ever dials out.
//!
//! Sender rules (`docs/sync-protocol.md`): every session starts from the hub's cursor, not
//! from anything remembered here; the box moves nothing on its own, only on an ack; a hub
//! cursor ahead of the box, or one whose hash is not the box's own event at that seq, is a
//! fork, and the box stops pushing and says so.

use super::{
    compatible, Ack, CursorMsg, Enrolled, Hello, MissingQuery, MissingReply, HEADER_HEAD,
    HEADER_HUB_HELD, HEADER_LENGTH, HEADER_OFFSET, HEADER_PROTOCOL, HEADER_VERSION,
    MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_MISSING_QUERY, PROTOCOL,
};
use crate::domain::hub::{CHECKPOINT_EVENTS, CHECKPOINT_MAX_AGE};
use crate::domain::{EventEnvelope, Hash};
use crate::store::Store;
use serde::Serialize;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{watch, Notify};

/// Back-off after a failed session: doubling from the first to the last, each wait drawn
/// between half and the whole of it (full jitter would allow near-zero waits in a storm).
const BACKOFF_FIRST: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// A failed session that moved at least this much data still counts as the link being up.
const PROGRESS_BYTES: u64 = 64 * 1024;
/// After a commit, wait this long for more before syncing, so a busy meeting does not start
/// a session per event.
const AFTER_COMMIT: Duration = Duration::from_millis(1500);
/// A request that makes no progress for this long is given up (the link is dead).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Idle,
    Syncing,
    /// The last session failed; the next one waits `next_attempt`.
    Backoff,
    /// The hub's copy of the box's log differs from the box's own: pushing stopped.
    Fork,
    /// The hub refused this box (revoked, or not enrolled there).
    Refused,
    /// The hub speaks a protocol too far from this build's.
    Incompatible,
}

/// What the IT page shows of sync (`GET /api/sync/status`).
#[derive(Debug, Clone, Serialize)]
pub struct SyncStatus {
    pub enrolled: bool,
    pub hub: Option<String>,
    pub room: Option<String>,
    pub state: State,
    /// The box's own head.
    pub head: u64,
    /// How far the hub holds the box's log, as it last said.
    pub hub_cursor: Option<u64>,
    pub backlog_events: Option<u64>,
    pub blobs_pending: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_attempt: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt: Option<OffsetDateTime>,
    /// Payload bytes sent since start (event lines and blob bytes).
    pub bytes_sent: u64,
    pub sessions: u64,
    /// When this box's data was restored from a backup, if it was: a box that had synced
    /// after that backup was made meets its own old events at the hub (a fork).
    #[serde(with = "time::serde::rfc3339::option")]
    pub restored_at: Option<OffsetDateTime>,
    /// How far the box holds the hub's own log, and the hub's head as it last said.
    pub hub_log_held: u64,
    pub hub_log_head: Option<u64>,
    /// Files the box is fetching from the hub (documents of handed-over meetings, updates).
    pub downloads_pending: u64,
    /// Payload bytes received from the hub since start (its events and files).
    pub bytes_received: u64,
    /// Why the box stopped taking the hub's log (its copy differs from the hub's own), if it
    /// did; the upward direction goes on.
    pub hub_log_error: Option<String>,
}

impl SyncStatus {
    fn new(enrolled: Option<&Enrolled>) -> Self {
        Self {
            enrolled: enrolled.is_some(),
            hub: enrolled.map(|e| e.settings.hub_url.clone()),
            room: enrolled.map(|e| e.settings.room.clone()),
            state: State::Idle,
            head: 0,
            hub_cursor: None,
            backlog_events: None,
            blobs_pending: 0,
            last_success: None,
            last_attempt: None,
            last_error: None,
            next_attempt: None,
            bytes_sent: 0,
            sessions: 0,
            restored_at: None,
            hub_log_held: 0,
            hub_log_head: None,
            downloads_pending: 0,
            bytes_received: 0,
            hub_log_error: None,
        }
    }
}

/// The running loop's status, and the "sync now" button.
#[derive(Clone)]
pub struct SyncHandle {
    status: Arc<RwLock<SyncStatus>>,
    now: Arc<Notify>,
}

impl SyncHandle {
    /// A box that is not enrolled: the status says so, and "sync now" does nothing.
    pub fn not_enrolled() -> Self {
        Self {
            status: Arc::new(RwLock::new(SyncStatus::new(None))),
            now: Arc::new(Notify::new()),
        }
    }

    pub fn status(&self, store: &Store) -> SyncStatus {
        let mut s = self
            .status
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        s.head = store.head_seq().unwrap_or(s.head);
        s.restored_at = store.restored().ok().flatten().map(|m| m.restored_at);
        s.backlog_events = s.hub_cursor.map(|c| s.head.saturating_sub(c));
        s
    }

    /// Starts a session at once (or as soon as the current one ends).
    pub fn sync_now(&self) -> bool {
        let enrolled = self.status.read().map(|s| s.enrolled).unwrap_or(false);
        if enrolled {
            self.now.notify_one();
        }
        enrolled
    }

    pub(super) fn update(&self, f: impl FnOnce(&mut SyncStatus)) {
        match self.status.write() {
            Ok(mut s) => f(&mut s),
            Err(p) => f(&mut p.into_inner()),
        }
    }
}

/// Why a session ended early.
#[derive(Debug)]
pub(super) enum SessionError {
    /// Anything a later session may get past: the link, a timeout, a busy hub.
    Transient(String),
    Fork(String),
    Refused(String),
    Incompatible(String),
}

impl From<reqwest::Error> for SessionError {
    fn from(e: reqwest::Error) -> Self {
        SessionError::Transient(describe(&e))
    }
}

/// A reqwest error with its causes, for the IT page.
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// The hub's refusal body.
#[derive(Debug, serde::Deserialize, Default)]
pub(super) struct Refusal {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message_en: String,
    #[serde(default)]
    expected_seq: Option<u64>,
}

pub(super) struct Session<'a> {
    pub(super) http: &'a reqwest::Client,
    pub(super) base: &'a reqwest::Url,
    pub(super) store: &'a Store,
    pub(super) handle: &'a SyncHandle,
    /// The hub's node id, whose log the box pulls.
    pub(super) hub: &'a crate::domain::NodeId,
}

impl Session<'_> {
    fn url(&self, path: &str) -> Result<reqwest::Url, SessionError> {
        self.base
            .join(path)
            .map_err(|e| SessionError::Transient(format!("bad sync URL: {e}")))
    }

    pub(super) fn request(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<reqwest::RequestBuilder, SessionError> {
        let head = self.store.head_seq().unwrap_or(0);
        let hub_held = self.store.cursor(self.hub).map(|c| c.seq).unwrap_or(0);
        Ok(self
            .http
            .request(method, self.url(path)?)
            .header(HEADER_PROTOCOL, PROTOCOL.to_string())
            .header(HEADER_VERSION, crate::update::running_version())
            .header(HEADER_HEAD, head.to_string())
            .header(HEADER_HUB_HELD, hub_held.to_string()))
    }

    pub(super) async fn refusal(response: reqwest::Response) -> (reqwest::StatusCode, Refusal) {
        let status = response.status();
        let body = response.json::<Refusal>().await.unwrap_or_default();
        (status, body)
    }

    pub(super) fn classify(status: reqwest::StatusCode, r: &Refusal) -> SessionError {
        let what = format!("{} {}: {}", status.as_u16(), r.code, r.message_en);
        match r.code.as_str() {
            "sync.fork" => SessionError::Fork(what),
            "sync.revoked" | "sync.unknown_box" | "sync.wrong_origin" => {
                SessionError::Refused(what)
            }
            "sync.version" => SessionError::Incompatible(what),
            _ => SessionError::Transient(what),
        }
    }

    async fn run(&self) -> Result<(), SessionError> {
        let own = self.store.node_id().clone();
        let hello: Hello = {
            let r = self
                .request(reqwest::Method::GET, "sync/v1/hello")?
                .send()
                .await?;
            if !r.status().is_success() {
                let (status, body) = Self::refusal(r).await;
                return Err(Self::classify(status, &body));
            }
            r.json().await?
        };
        if !compatible(hello.min_protocol, hello.protocol) {
            return Err(SessionError::Incompatible(format!(
                "the hub speaks sync protocol {}–{}, this box {}; update the older one",
                hello.min_protocol, hello.protocol, PROTOCOL
            )));
        }
        let mut cursor: CursorMsg = {
            let r = self
                .request(reqwest::Method::GET, "sync/v1/cursor")?
                .query(&[("origin", own.as_str())])
                .send()
                .await?;
            if !r.status().is_success() {
                let (status, body) = Self::refusal(r).await;
                return Err(Self::classify(status, &body));
            }
            r.json().await?
        };
        if let Err(fork) = self.check_not_forked(&cursor) {
            self.report_fork(&cursor).await;
            return Err(fork);
        }
        loop {
            self.handle.update(|s| s.hub_cursor = Some(cursor.seq));
            let batch = self
                .store
                .raw_events_after(&own, cursor.seq, MAX_BATCH_EVENTS, MAX_BATCH_BYTES)
                .map_err(|e| SessionError::Transient(e.to_string()))?;
            if batch.is_empty() {
                break;
            }
            self.send_blobs_of(&batch).await?;
            match self.push(&batch).await? {
                Pushed::Acked(ack) => {
                    cursor = CursorMsg {
                        origin: ack.origin,
                        seq: ack.acked_seq,
                        hash: ack.acked_hash,
                    };
                    self.check_not_forked(&cursor)?;
                }
                Pushed::Gap(expected) => {
                    // The hub holds less than it said (restored from a backup meanwhile):
                    // go on from where it is.
                    tracing::warn!(expected, "the hub asks for earlier events; resending");
                    cursor = CursorMsg {
                        origin: own.to_string(),
                        seq: expected.saturating_sub(1),
                        hash: self
                            .store
                            .event_hash(&own, expected.saturating_sub(1))
                            .map_err(|e| SessionError::Transient(e.to_string()))?
                            .unwrap_or(Hash::GENESIS)
                            .to_hex(),
                    };
                }
            }
        }
        // Up to date at the hub: now the other direction. A hub whose own log differs from
        // the box's copy (restored from an old backup) stops only the downward direction: the
        // box keeps sending its own log, which is how such a hub gets back what it lost.
        match self.pull().await {
            Err(SessionError::Fork(why)) => {
                tracing::error!(error = %why, "the hub's log differs from the box's copy; not pulling");
                self.handle.update(|s| s.hub_log_error = Some(why));
                Ok(())
            }
            Ok(()) => {
                self.handle.update(|s| s.hub_log_error = None);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Sender rule 3: a hub cursor the box cannot account for is a fork.
    fn check_not_forked(&self, c: &CursorMsg) -> Result<(), SessionError> {
        if c.seq == 0 {
            return Ok(());
        }
        let own = self.store.node_id();
        let ours = self
            .store
            .event_hash(own, c.seq)
            .map_err(|e| SessionError::Transient(e.to_string()))?;
        match ours {
            None => Err(SessionError::Fork(format!(
                "the hub holds {} events of this box, which has only {}; was the box restored from an old backup?",
                c.seq,
                self.store.head_seq().unwrap_or(0)
            ))),
            Some(h) if h.to_hex() != c.hash => Err(SessionError::Fork(format!(
                "the hub's event {} of this box differs from the box's own",
                c.seq
            ))),
            Some(_) => Ok(()),
        }
    }

    /// Offers the hub the box's own event where the two histories part, so that the hub
    /// records the conflict for the office (it refuses the event and keeps its copy).
    async fn report_fork(&self, c: &CursorMsg) {
        let own = self.store.node_id().clone();
        let Ok(ours) =
            self.store
                .raw_events_after(&own, c.seq.saturating_sub(1), 1, MAX_BATCH_BYTES)
        else {
            return;
        };
        if ours.is_empty() {
            return;
        }
        match self.push(&ours).await {
            Err(SessionError::Fork(_)) => tracing::info!("the hub recorded the fork"),
            other => tracing::warn!(
                ?other,
                "reporting the fork to the hub got an unexpected answer"
            ),
        }
    }

    async fn send_blobs_of(&self, batch: &[Vec<u8>]) -> Result<(), SessionError> {
        let mut wanted: Vec<(String, u64)> = Vec::new();
        for line in batch {
            if let Ok(e) = EventEnvelope::decode(line) {
                for (sha, size) in e.body.blob_refs() {
                    if !wanted.iter().any(|(s, _)| s == sha) {
                        wanted.push((sha.to_owned(), size));
                    }
                }
            }
        }
        for chunk in wanted.chunks(MAX_MISSING_QUERY) {
            let query = MissingQuery {
                sha256: chunk.iter().map(|(s, _)| s.clone()).collect(),
            };
            let r = self
                .request(reqwest::Method::POST, "sync/v1/blobs/missing")?
                .json(&query)
                .send()
                .await?;
            if !r.status().is_success() {
                let (status, body) = Self::refusal(r).await;
                return Err(Self::classify(status, &body));
            }
            let missing: MissingReply = r.json().await?;
            self.handle
                .update(|s| s.blobs_pending = missing.missing.len() as u64);
            for sha in &missing.missing {
                let Some((_, size)) = chunk.iter().find(|(s, _)| s == sha) else {
                    continue;
                };
                self.upload(sha, *size).await?;
                self.handle
                    .update(|s| s.blobs_pending = s.blobs_pending.saturating_sub(1));
            }
        }
        Ok(())
    }

    /// Sends one blob from the offset the hub holds, until the hub has all of it.
    async fn upload(&self, sha: &str, size: u64) -> Result<(), SessionError> {
        let path = self
            .store
            .blobs()
            .path(sha)
            .ok_or_else(|| SessionError::Transient(format!("bad blob name {sha}")))?;
        let mut offset = {
            let r = self
                .request(reqwest::Method::HEAD, &format!("sync/v1/blobs/{sha}"))?
                .send()
                .await?;
            if r.status().is_success() {
                return Ok(());
            }
            header_u64(&r, HEADER_OFFSET).unwrap_or(0)
        };
        for _ in 0..8 {
            if offset >= size {
                break;
            }
            let mut file = tokio::fs::File::open(&path)
                .await
                .map_err(|e| SessionError::Transient(format!("cannot read blob {sha}: {e}")))?;
            use tokio::io::AsyncSeekExt;
            file.seek(std::io::SeekFrom::Start(offset))
                .await
                .map_err(|e| SessionError::Transient(format!("cannot read blob {sha}: {e}")))?;
            let handle = self.handle.clone();
            let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
            let counted = futures_util::StreamExt::inspect(stream, move |chunk| {
                if let Ok(c) = chunk {
                    let n = c.len() as u64;
                    handle.update(|s| s.bytes_sent += n);
                }
            });
            let r = self
                .request(reqwest::Method::PATCH, &format!("sync/v1/blobs/{sha}"))?
                .header(HEADER_OFFSET, offset.to_string())
                .header(HEADER_LENGTH, size.to_string())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/offset+octet-stream",
                )
                .header(reqwest::header::CONTENT_LENGTH, (size - offset).to_string())
                .body(reqwest::Body::wrap_stream(counted))
                .send()
                .await?;
            let status = r.status();
            let held = header_u64(&r, HEADER_OFFSET);
            if status.is_success() {
                offset = held.unwrap_or(size);
                continue;
            }
            let (status, body) = Self::refusal(r).await;
            if body.code == "sync.offset" {
                offset = held.unwrap_or(0);
                continue;
            }
            return Err(Self::classify(status, &body));
        }
        if offset >= size {
            Ok(())
        } else {
            Err(SessionError::Transient(format!(
                "blob {sha} did not finish ({offset} of {size} bytes)"
            )))
        }
    }

    async fn push(&self, batch: &[Vec<u8>]) -> Result<Pushed, SessionError> {
        let mut body = Vec::with_capacity(batch.iter().map(|l| l.len() + 1).sum());
        for line in batch {
            body.extend_from_slice(line);
            body.push(b'\n');
        }
        let n = body.len() as u64;
        let r = self
            .request(reqwest::Method::POST, "sync/v1/events")?
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .body(body)
            .send()
            .await?;
        self.handle.update(|s| s.bytes_sent += n);
        if r.status().is_success() {
            return Ok(Pushed::Acked(r.json().await?));
        }
        let (status, body) = Self::refusal(r).await;
        match (body.code.as_str(), body.expected_seq) {
            ("sync.gap", Some(expected)) => Ok(Pushed::Gap(expected)),
            _ => Err(Self::classify(status, &body)),
        }
    }
}

#[derive(Debug)]
enum Pushed {
    Acked(Ack),
    Gap(u64),
}

pub(super) fn header_u64(r: &reqwest::Response, name: &str) -> Option<u64> {
    r.headers().get(name)?.to_str().ok()?.parse().ok()
}

/// The count of failures in a row after one more failed session that moved `moved` bytes: a
/// session that moved [`PROGRESS_BYTES`] found the link up, so the count starts again.
fn failures_after(failures: u32, moved: u64) -> u32 {
    if moved >= PROGRESS_BYTES {
        1
    } else {
        failures.saturating_add(1)
    }
}

/// The wait before the next session after `failures` failures in a row (before jitter): 2 s,
/// doubling, at most [`BACKOFF_MAX`].
fn backoff(failures: u32) -> Duration {
    BACKOFF_FIRST
        .saturating_mul(1u32 << failures.min(10).saturating_sub(1))
        .min(BACKOFF_MAX)
}

fn jittered(d: Duration) -> Duration {
    use rand::Rng;
    let ms = d.as_millis() as u64;
    Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms.max(1)))
}

/// Starts the sync loop of an enrolled box. The loop ends when `stop` turns true.
///
/// Even with nothing new here, the box looks at the hub every `idle_check` (the config's
/// `sync_check_seconds`): the hub may have new events for it (a meeting handed over, an update
/// offered), or have been restored. An idle session is three small requests on a kept-alive
/// connection.
pub fn spawn(
    store: Store,
    enrolled: Enrolled,
    signer: Option<Arc<crate::signing::RecordSigner>>,
    idle_check: Duration,
    stop: watch::Receiver<bool>,
) -> Result<(SyncHandle, tokio::task::JoinHandle<()>), crate::tls::TlsError> {
    let config = crate::tls::sync::box_client_config(
        &enrolled.hub_root_pem,
        Some((&enrolled.client_cert_pem, &enrolled.client_key_pem)),
    )?;
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .connect_timeout(Duration::from_secs(20))
        .read_timeout(REQUEST_TIMEOUT)
        .tcp_keepalive(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| crate::tls::TlsError::SelfCheck(format!("sync client: {e}")))?;
    let handle = SyncHandle {
        status: Arc::new(RwLock::new(SyncStatus::new(Some(&enrolled)))),
        now: Arc::new(Notify::new()),
    };
    let task = tokio::spawn(run_loop(
        store,
        enrolled,
        http,
        signer,
        handle.clone(),
        idle_check,
        stop,
    ));
    Ok((handle, task))
}

/// Signs a checkpoint of the box's log when one is due: at the first session after start, and
/// then after [`CHECKPOINT_EVENTS`] new events or [`CHECKPOINT_MAX_AGE`] with something new.
async fn checkpoint_if_due(
    store: &Store,
    signer: Option<&Arc<crate::signing::RecordSigner>>,
    last: &mut Option<(u64, std::time::Instant)>,
) {
    let Some(signer) = signer else { return };
    let head = store.head_seq().unwrap_or(0);
    let due = match *last {
        None => head > 0,
        Some((seq, at)) => {
            head > seq + 1
                && (head - seq >= CHECKPOINT_EVENTS
                    || at.elapsed() >= CHECKPOINT_MAX_AGE.unsigned_abs())
        }
    };
    if !due {
        return;
    }
    let (store, signer) = (store.clone(), Arc::clone(signer));
    let done = tokio::task::spawn_blocking(move || {
        store.append_checkpoint(|statement| {
            let signature = signer
                .sign_json(statement)
                .map_err(|e| crate::store::StoreError::Db(e.to_string()))?;
            Ok::<_, crate::store::StoreError>((signature, signer.certificate_pem().to_owned()))
        })
    })
    .await;
    match done {
        Ok(Ok(covered)) => {
            *last = Some((covered.map_or(head, |c| c + 1), std::time::Instant::now()));
        }
        Ok(Err(e)) => tracing::warn!("could not sign a checkpoint of the log: {e}"),
        Err(e) => tracing::warn!("checkpoint task failed: {e}"),
    }
}

async fn run_loop(
    store: Store,
    enrolled: Enrolled,
    http: reqwest::Client,
    signer: Option<Arc<crate::signing::RecordSigner>>,
    handle: SyncHandle,
    idle_check: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut last_checkpoint = None;
    let Ok(base) = reqwest::Url::parse(&enrolled.settings.sync_url) else {
        handle.update(|s| {
            s.state = State::Refused;
            s.last_error = Some(format!("bad sync URL {:?}", enrolled.settings.sync_url));
        });
        return;
    };
    let Some(hub) = crate::domain::NodeId::parse(&enrolled.settings.hub_node_id) else {
        handle.update(|s| {
            s.state = State::Refused;
            s.last_error = Some(format!(
                "bad hub node id {:?} in sync/hub.json",
                enrolled.settings.hub_node_id
            ));
        });
        return;
    };
    handle.update(|s| s.hub_log_held = store.cursor(&hub).map(|c| c.seq).unwrap_or(0));
    let mut commits = store.subscribe();
    let mut failures = 0u32;
    let mut wait = Duration::ZERO;
    loop {
        // Wait for a reason to sync: the timer, a commit, or the button.
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        let mut stopped = false;
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                () = handle.now.notified() => break,
                r = stop.changed() => { if r.is_err() || *stop.borrow() { stopped = true; break; } }
                r = commits.recv() => {
                    match r {
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            // Only a box in good standing syncs on commits; one in back-off
                            // keeps its timer.
                            let state = handle.status.read().map(|s| s.state).unwrap_or(State::Idle);
                            if state == State::Idle {
                                sleep.as_mut().reset(tokio::time::Instant::now() + AFTER_COMMIT);
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => { stopped = true; break; }
                    }
                }
            }
        }
        if stopped || *stop.borrow() {
            return;
        }
        checkpoint_if_due(&store, signer.as_ref(), &mut last_checkpoint).await;
        handle.update(|s| {
            s.state = State::Syncing;
            s.last_attempt = Some(OffsetDateTime::now_utc());
            s.next_attempt = None;
            s.sessions += 1;
        });
        let moved_before = handle
            .status
            .read()
            .map(|s| s.bytes_sent + s.bytes_received)
            .unwrap_or(0);
        let session = Session {
            http: &http,
            base: &base,
            store: &store,
            handle: &handle,
            hub: &hub,
        };
        let outcome = tokio::select! {
            r = session.run() => Some(r),
            _ = stop.changed() => None,
        };
        let Some(outcome) = outcome else { return };
        match outcome {
            Ok(()) => {
                failures = 0;
                wait = idle_check;
                handle.update(|s| {
                    s.state = State::Idle;
                    s.last_success = Some(OffsetDateTime::now_utc());
                    s.last_error = None;
                    s.blobs_pending = 0;
                });
                tracing::debug!("sync session complete");
            }
            Err(SessionError::Transient(why)) => {
                // A session that moved real data before the link failed found the link up:
                // back off from the start again. On a link that drops every minute, doubling
                // across sessions that each made progress left it idle most of the time.
                let moved = handle
                    .status
                    .read()
                    .map(|s| s.bytes_sent + s.bytes_received)
                    .unwrap_or(0)
                    .saturating_sub(moved_before);
                failures = failures_after(failures, moved);
                wait = jittered(backoff(failures));
                tracing::info!(error = %why, retry_in = ?wait, "sync session failed");
                handle.update(|s| {
                    s.state = State::Backoff;
                    s.last_error = Some(why);
                    s.next_attempt = time::Duration::try_from(wait)
                        .ok()
                        .map(|w| OffsetDateTime::now_utc() + w);
                });
            }
            Err(e) => {
                let (state, why) = match e {
                    SessionError::Fork(w) => (State::Fork, w),
                    SessionError::Refused(w) => (State::Refused, w),
                    SessionError::Incompatible(w) => (State::Incompatible, w),
                    SessionError::Transient(w) => (State::Backoff, w),
                };
                tracing::error!(error = %why, state = ?state, "sync stopped; IT staff must look");
                handle.update(|s| {
                    s.state = state;
                    s.last_error = Some(why);
                    s.next_attempt = None;
                });
                // Only the button (after IT staff looked) or a restart tries again.
                wait = Duration::from_secs(u64::MAX / 4);
                failures = 0;
            }
        }
    }
}

#[cfg(test)]
mod backoff_tests {
    use super::*;

    #[test]
    fn the_back_off_doubles_and_starts_again_after_a_session_that_moved_data() {
        let mut failures = 0;
        let mut waits = Vec::new();
        for _ in 0..10 {
            failures = failures_after(failures, 10 * 1024);
            waits.push(backoff(failures).as_secs());
        }
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        // The link came up long enough to move 64 KiB before it dropped: 2 s again, not 300.
        failures = failures_after(failures, PROGRESS_BYTES);
        assert_eq!(backoff(failures), BACKOFF_FIRST);
        failures = failures_after(failures, 0);
        assert_eq!(backoff(failures).as_secs(), 4);
        // Jitter keeps a wait between half and the whole of it.
        for _ in 0..100 {
            let w = jittered(Duration::from_secs(8));
            assert!(
                w >= Duration::from_secs(4) && w <= Duration::from_secs(8),
                "{w:?}"
            );
        }
    }
}
