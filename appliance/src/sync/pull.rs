//! The downward half of a session: the box pulls its hub's own log into its store (the same
//! receiver rules as the hub's: idempotent by `(origin, seq)`, no gaps, all or nothing, durable
//! before it moves on), then acts on the hub events addressed to it, fetching the files they
//! need first, resumable by offset and hash-checked on arrival (`service::downward`).

use super::client::{header_u64, Session, SessionError};
use super::{HEADER_HEAD, MAX_BATCH_BYTES, MAX_BATCH_EVENTS};
use crate::domain::event::EnvelopeHeader;
use crate::domain::EventEnvelope;
use crate::store::blobs::{Incoming, IncomingError};
use crate::store::IngestError;

/// How many hub events the box acts on between two notes of its progress.
const REACT_BATCH: usize = 200;

fn transient(e: impl std::fmt::Display) -> SessionError {
    SessionError::Transient(e.to_string())
}

impl Session<'_> {
    /// Pulls the hub's log up to its head, then acts on what is new.
    pub(super) async fn pull(&self) -> Result<(), SessionError> {
        let before = self.store.cursor(self.hub).map_err(transient)?;
        // The first question starts one event back, so the hub's copy of the last event the
        // box holds is compared with the box's (a hub restored from an old backup that wrote
        // again at the same numbers is caught here, not only when it writes past them).
        let mut overlap = before.seq > 0;
        loop {
            let held = self.store.cursor(self.hub).map_err(transient)?;
            let after = if overlap { held.seq - 1 } else { held.seq };
            overlap = false;
            let r = self
                .request(reqwest::Method::GET, "sync/v1/events")?
                .query(&[
                    ("origin", self.hub.to_string()),
                    ("after", after.to_string()),
                    ("limit", MAX_BATCH_EVENTS.to_string()),
                ])
                .send()
                .await?;
            if !r.status().is_success() {
                let (status, body) = Self::refusal(r).await;
                return Err(Self::classify(status, &body));
            }
            let head = header_u64(&r, HEADER_HEAD);
            let body = r.bytes().await?;
            let n = body.len() as u64;
            self.handle.update(|s| {
                s.bytes_received += n;
                s.hub_log_head = head;
                s.hub_log_held = held.seq;
            });
            let lines: Vec<Vec<u8>> = body
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec)
                .collect();
            if lines.is_empty() {
                if after < held.seq {
                    return Err(SessionError::Fork(format!(
                        "the hub holds {} of its own events, fewer than the {} this box holds; was the hub restored from an old backup?",
                        head.unwrap_or(0),
                        held.seq
                    )));
                }
                break;
            }
            if lines.len() > MAX_BATCH_EVENTS || body.len() > 2 * MAX_BATCH_BYTES {
                return Err(transient("the hub sent more than one batch may hold"));
            }
            let (store, hub) = (self.store.clone(), self.hub.clone());
            let ingested = tokio::task::spawn_blocking(move || {
                let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
                // Hub events are kept, not applied: only the ones the box acts on need files,
                // and those are fetched before the box acts (below).
                store.ingest(&hub, &refs, |_| true)
            })
            .await
            .map_err(transient)?;
            match ingested {
                Ok(i) => {
                    self.handle.update(|s| s.hub_log_held = i.cursor.seq);
                    if i.stored == 0 {
                        // Nothing new in a non-empty answer: the hub is not reading `after`.
                        break;
                    }
                }
                Err(IngestError::Fork { seq, .. }) => {
                    return Err(SessionError::Fork(format!(
                        "the hub's own event {seq} differs from the copy this box holds; was the hub restored from an old backup?"
                    )));
                }
                Err(e) => return Err(transient(format!("the hub's log: {e}"))),
            }
        }
        let now = self.store.cursor(self.hub).map_err(transient)?;
        if now != before {
            self.ack(&now).await?;
        }
        self.react().await
    }

    /// Tells the hub how far the box holds its log, now that it is committed here.
    async fn ack(&self, held: &crate::store::Cursor) -> Result<(), SessionError> {
        let r = self
            .request(reqwest::Method::POST, "sync/v1/acks")?
            .json(&super::CursorMsg {
                origin: self.hub.to_string(),
                seq: held.seq,
                hash: held.hash.to_hex(),
            })
            .send()
            .await?;
        if r.status().is_success() {
            return Ok(());
        }
        let (status, body) = Self::refusal(r).await;
        Err(Self::classify(status, &body))
    }

    /// Acts on every held hub event the box has not acted on yet, in order.
    async fn react(&self) -> Result<(), SessionError> {
        let me = self.store.node_id().clone();
        let held = self.store.cursor(self.hub).map_err(transient)?.seq;
        let mut done = self.store.downward_reacted().map_err(transient)?;
        while done < held {
            let lines = self
                .store
                .raw_events_after(self.hub, done, REACT_BATCH, MAX_BATCH_BYTES)
                .map_err(transient)?;
            if lines.is_empty() {
                break;
            }
            for line in &lines {
                let seq = serde_json::from_slice::<EnvelopeHeader>(line)
                    .map_err(transient)?
                    .seq;
                // A kind this build cannot read is kept and passed over.
                if let Ok(ev) = EventEnvelope::decode(line) {
                    let needed = crate::service::downward::blobs_to_fetch(&me, &ev);
                    let missing: Vec<(String, u64)> = needed
                        .into_iter()
                        .filter(|(sha, _)| !self.store.blobs().contains(sha))
                        .collect();
                    self.handle
                        .update(|s| s.downloads_pending = missing.len() as u64);
                    for (sha, size) in &missing {
                        self.download(sha, *size).await?;
                        self.handle.update(|s| {
                            s.downloads_pending = s.downloads_pending.saturating_sub(1)
                        });
                    }
                    let (store, me, hub) = (self.store.clone(), me.clone(), self.hub.clone());
                    tokio::task::spawn_blocking(move || {
                        crate::service::downward::react(&store, &me, &hub, seq, &ev)
                    })
                    .await
                    .map_err(transient)?
                    .map_err(|e| transient(format!("acting on the hub's event {seq}: {e}")))?;
                }
                done = seq;
            }
            self.store.set_downward_reacted(done).map_err(transient)?;
        }
        Ok(())
    }

    /// Fetches one hub file into the box's blob store from the offset already held, until it
    /// is whole and its hash checks out.
    async fn download(&self, sha: &str, size: u64) -> Result<(), SessionError> {
        let blobs = self.store.blobs().clone();
        for _ in 0..8 {
            let offset = match blobs.incoming_offset(sha) {
                Ok(None) => return Ok(()),
                Ok(Some(n)) => n,
                Err(e) => return Err(transient(format!("file {sha}: {e}"))),
            };
            let mut req = self.request(reqwest::Method::GET, &format!("sync/v1/blobs/{sha}"))?;
            if offset > 0 {
                req = req.header(reqwest::header::RANGE, format!("bytes={offset}-"));
            }
            let r = req.send().await?;
            if !r.status().is_success() {
                let (status, body) = Self::refusal(r).await;
                return Err(Self::classify(status, &body));
            }
            if offset > 0 && r.status() != reqwest::StatusCode::PARTIAL_CONTENT {
                return Err(transient(format!(
                    "the hub did not resume file {sha} at byte {offset}"
                )));
            }
            let handle = self.handle.clone();
            let stream = futures_util::StreamExt::inspect(r.bytes_stream(), move |chunk| {
                if let Ok(c) = chunk {
                    let n = c.len() as u64;
                    handle.update(|s| s.bytes_received += n);
                }
            });
            match blobs.append_incoming(sha, offset, size, size, stream).await {
                Ok(Incoming::Complete) => return Ok(()),
                // Cut off, or corrupted and discarded: go on from what is held.
                Ok(Incoming::Partial(_))
                | Err(IncomingError::HashMismatch(_))
                | Err(IncomingError::Offset { .. })
                | Err(IncomingError::Superseded) => continue,
                Err(e) => return Err(transient(format!("file {sha}: {e}"))),
            }
        }
        Err(transient(format!("file {sha} did not finish downloading")))
    }
}
