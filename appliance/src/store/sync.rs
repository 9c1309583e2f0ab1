//! The store's side of box ⇄ hub sync (`docs/sync-protocol.md`): reading an origin's events as
//! the exact bytes stored, and the receiver's rules for storing another node's events: by
//! `(origin, seq)`, idempotent, no gaps, blobs first, all or nothing, durable before the
//! caller acknowledges anything.

use super::tables::{CURSORS, EVENTS, META};
use super::{cursor_of, Cursor, Store, StoreError};
use crate::domain::event::EnvelopeHeader;
use crate::domain::{EventEnvelope, Hash, NodeId};
use redb::{ReadableDatabase, ReadableTable};

/// Why a batch of another node's events was refused. Nothing of the batch is stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The batch starts after the receiver's cursor + 1: events are missing before it.
    #[error("events are missing: the next expected is {expected_seq}")]
    Gap { expected_seq: u64 },
    /// The batch disagrees with what the receiver already holds at `seq`.
    #[error("the log forked at event {seq}")]
    Fork {
        seq: u64,
        ours: Cursor,
        theirs: Hash,
    },
    /// The batch is not one consecutive, chained run of one origin's events.
    #[error("bad chain at event {seq}: {reason}")]
    BadChain { seq: u64, reason: String },
    /// Events refer to blobs the receiver does not hold yet.
    #[error("{} blob(s) must be sent before these events", .0.len())]
    BlobMissing(Vec<String>),
    /// A node never receives its own events from elsewhere.
    #[error("these are this node's own events")]
    OwnOrigin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a batch did: the cursor after it, and how many events were new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ingested {
    pub cursor: Cursor,
    pub stored: u64,
    pub already_held: u64,
}

/// One event as it travels: its header (for checks) and its exact bytes.
struct Line<'a> {
    header: EnvelopeHeader,
    bytes: &'a [u8],
    hash: Hash,
}

/// Checks that `lines` are consecutive, chained events of `origin`, before any storage is read.
fn check_batch<'a>(origin: &NodeId, lines: &[&'a [u8]]) -> Result<Vec<Line<'a>>, IngestError> {
    let mut out: Vec<Line<'a>> = Vec::with_capacity(lines.len());
    for bytes in lines {
        let seq_hint = out.last().map_or(0, |l| l.header.seq + 1);
        let header: EnvelopeHeader =
            serde_json::from_slice(bytes).map_err(|e| IngestError::BadChain {
                seq: seq_hint,
                reason: format!("unreadable envelope: {e}"),
            })?;
        if &header.origin != origin {
            return Err(IngestError::BadChain {
                seq: header.seq,
                reason: format!("origin {} in a batch of {origin}", header.origin),
            });
        }
        if header.seq == 0 {
            return Err(IngestError::BadChain {
                seq: 0,
                reason: "sequence numbers start at 1".into(),
            });
        }
        if let Some(before) = out.last() {
            if header.seq != before.header.seq + 1 {
                return Err(IngestError::BadChain {
                    seq: header.seq,
                    reason: format!("follows event {}", before.header.seq),
                });
            }
            if header.prev != before.hash {
                return Err(IngestError::BadChain {
                    seq: header.seq,
                    reason: "prev is not the hash of the event before it".into(),
                });
            }
        }
        out.push(Line {
            header,
            bytes,
            hash: Hash::of(bytes),
        });
    }
    Ok(out)
}

/// The key in `meta` under which a box notes how far it has acted on its hub's log.
const DOWNWARD_REACTED: &str = "downward_reacted";

impl Store {
    /// How far this box has acted on its hub's log (`service::downward`). Node-local: after a
    /// restore it may be behind, and the reactions run again, which they allow.
    pub fn downward_reacted(&self) -> Result<u64, StoreError> {
        let txn = self.db()?.begin_read()?;
        let meta = txn.open_table(META)?;
        let held = meta.get(DOWNWARD_REACTED)?;
        Ok(held.and_then(|v| v.value().parse().ok()).unwrap_or(0))
    }

    /// Notes that the box has acted on its hub's events up to `seq`.
    pub fn set_downward_reacted(&self, seq: u64) -> Result<(), StoreError> {
        let value = seq.to_string();
        self.write_local(|tx| {
            tx.txn()
                .open_table(META)?
                .insert(DOWNWARD_REACTED, value.as_str())?;
            Ok::<_, StoreError>(())
        })
    }

    /// Appends a signed checkpoint of the node's own log: `sign` gets the statement about the
    /// head as it is inside the write (so nothing can slip in between) and returns the
    /// signature and the certificate. Returns the seq the checkpoint covers, or `None` when
    /// the log's last event is already a checkpoint.
    pub fn append_checkpoint<E: From<StoreError>>(
        &self,
        sign: impl FnOnce(&crate::domain::hub::CheckpointStatement) -> Result<(String, String), E>,
    ) -> Result<Option<u64>, E> {
        let own = self.inner.node_id.clone();
        let (_, covered) = self.write(crate::domain::Actor::Node, |tx| -> Result<_, E> {
            let head = cursor_of(
                &tx.txn.open_table(CURSORS).map_err(StoreError::from)?,
                own.as_str(),
            )?;
            if head.seq == 0 {
                return Ok((Vec::new(), None));
            }
            let last_is_checkpoint = tx
                .txn
                .open_table(EVENTS)
                .map_err(StoreError::from)?
                .get((own.as_str(), head.seq))
                .map_err(StoreError::from)?
                .and_then(|b| serde_json::from_slice::<EnvelopeHeader>(b.value()).ok())
                .is_some_and(|h| h.kind == "log.checkpoint");
            if last_is_checkpoint {
                return Ok((Vec::new(), None));
            }
            let statement =
                crate::domain::hub::CheckpointStatement::new(&own, head.seq, &head.hash);
            let (signature, certificate_pem) = sign(&statement)?;
            Ok((
                vec![crate::domain::EventBody::LogCheckpoint {
                    seq: head.seq,
                    hash: head.hash,
                    signature,
                    certificate_pem,
                }],
                Some(head.seq),
            ))
        })?;
        Ok(covered)
    }

    /// Up to `max_events` of `origin`'s events after `after`, as the exact stored bytes, stopping
    /// before `max_bytes` would be passed (at least one event is returned if there is one).
    pub fn raw_events_after(
        &self,
        origin: &NodeId,
        after: u64,
        max_events: usize,
        max_bytes: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let txn = self.db()?.begin_read()?;
        let events = txn.open_table(EVENTS)?;
        let mut out = Vec::new();
        let mut total = 0usize;
        for row in events
            .range((origin.as_str(), after.saturating_add(1))..=(origin.as_str(), u64::MAX))?
            .take(max_events)
        {
            let (_, bytes) = row?;
            let bytes = bytes.value();
            if !out.is_empty() && total + bytes.len() > max_bytes {
                break;
            }
            total += bytes.len();
            out.push(bytes.to_vec());
        }
        Ok(out)
    }

    /// The hash of `origin`'s event `seq` as stored here, if held.
    pub fn event_hash(&self, origin: &NodeId, seq: u64) -> Result<Option<Hash>, StoreError> {
        let txn = self.db()?.begin_read()?;
        let events = txn.open_table(EVENTS)?;
        let found = events.get((origin.as_str(), seq))?;
        Ok(found.map(|b| Hash::of(b.value())))
    }

    /// Stores a batch of another node's events under the receiver rules, in one transaction
    /// committed with immediate durability before this returns. A resent event that matches
    /// the stored bytes is skipped; anything else that does not continue the chain refuses the
    /// whole batch. `has_blob` answers whether a referenced blob is held and verified.
    ///
    /// Another origin's events are stored and kept, not applied to this node's read models:
    /// what each side owns is decided by the callers that read them (the hub's archive).
    pub fn ingest(
        &self,
        origin: &NodeId,
        lines: &[&[u8]],
        has_blob: impl Fn(&str) -> bool,
    ) -> Result<Ingested, IngestError> {
        if origin == &self.inner.node_id {
            return Err(IngestError::OwnOrigin);
        }
        let batch = check_batch(origin, lines)?;
        let _writers = self
            .inner
            .publish
            .lock()
            .map_err(|_| StoreError::Db("store lock poisoned".into()))?;
        let db = self.db_locked()?;
        let txn = db
            .begin_write()
            .map_err(|e| self.poison(StoreError::from(e)))?;
        let start = cursor_of(
            &txn.open_table(CURSORS).map_err(StoreError::from)?,
            origin.as_str(),
        )?;
        let mut cursor = start;
        let mut already_held = 0u64;
        let mut new: Vec<&Line<'_>> = Vec::new();
        {
            let events = txn.open_table(EVENTS).map_err(StoreError::from)?;
            for line in &batch {
                let seq = line.header.seq;
                if seq <= start.seq {
                    let held = events
                        .get((origin.as_str(), seq))
                        .map_err(StoreError::from)?
                        .map(|b| Hash::of(b.value()));
                    if held != Some(line.hash) {
                        let ours = match held {
                            Some(hash) => Cursor { seq, hash },
                            None => start,
                        };
                        return Err(IngestError::Fork {
                            seq,
                            ours,
                            theirs: line.hash,
                        });
                    }
                    already_held += 1;
                    continue;
                }
                if new.is_empty() {
                    if seq != start.seq + 1 {
                        return Err(IngestError::Gap {
                            expected_seq: start.seq + 1,
                        });
                    }
                    if line.header.prev != start.hash {
                        return Err(IngestError::Fork {
                            seq,
                            ours: start,
                            theirs: line.hash,
                        });
                    }
                }
                new.push(line);
            }
        }
        let mut missing: Vec<String> = Vec::new();
        for line in &new {
            // An event this build cannot decode refers to no blob it knows of.
            if let Ok(e) = EventEnvelope::decode(line.bytes) {
                for (sha, _) in e.body.blob_refs() {
                    if !has_blob(sha) && !missing.iter().any(|m| m == sha) {
                        missing.push(sha.to_owned());
                    }
                }
            }
        }
        if !missing.is_empty() {
            return Err(IngestError::BlobMissing(missing));
        }
        if new.is_empty() {
            return Ok(Ingested {
                cursor,
                stored: 0,
                already_held,
            });
        }
        {
            let mut events = txn
                .open_table(EVENTS)
                .map_err(|e| self.poison(StoreError::from(e)))?;
            for line in &new {
                events
                    .insert((origin.as_str(), line.header.seq), line.bytes)
                    .map_err(|e| self.poison(StoreError::from(e)))?;
                cursor = Cursor {
                    seq: line.header.seq,
                    hash: line.hash,
                };
            }
        }
        let bytes = serde_json::to_vec(&cursor).map_err(StoreError::from)?;
        txn.open_table(CURSORS)
            .map_err(|e| self.poison(StoreError::from(e)))?
            .insert(origin.as_str(), bytes.as_slice())
            .map_err(|e| self.poison(StoreError::from(e)))?;
        txn.commit().map_err(|e| self.poison(StoreError::from(e)))?;
        Ok(Ingested {
            cursor,
            stored: new.len() as u64,
            already_held,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EventBody, NoticeText, RoomName};
    use crate::store::NodeRole;

    fn node(role: NodeRole) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(
            &dir.path().join("data"),
            &RoomName::parse("Phòng họp").unwrap(),
            role,
        )
        .unwrap();
        (dir, store)
    }

    fn notices(store: &Store, n: usize) {
        for i in 0..n {
            store
                .append(
                    crate::domain::Actor::Node,
                    vec![EventBody::NoticePosted {
                        text: NoticeText::parse(&format!("Thông báo {i}")).unwrap(),
                    }],
                )
                .unwrap();
        }
    }

    fn lines(store: &Store, after: u64) -> Vec<Vec<u8>> {
        store
            .raw_events_after(store.node_id(), after, 10_000, usize::MAX)
            .unwrap()
    }

    fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
        v.iter().map(|l| l.as_slice()).collect()
    }

    #[test]
    fn a_resent_batch_is_stored_once_and_the_cursor_matches_the_senders_head() {
        let (_a, room) = node(NodeRole::Room);
        let (_b, hub) = node(NodeRole::Hub);
        notices(&room, 5);
        let all = lines(&room, 0);
        let got = hub.ingest(room.node_id(), &refs(&all), |_| true).unwrap();
        assert_eq!(got.stored, 6);
        assert_eq!(got.cursor, room.cursor(room.node_id()).unwrap());
        let again = hub.ingest(room.node_id(), &refs(&all), |_| true).unwrap();
        assert_eq!((again.stored, again.already_held), (0, 6));
        // A batch that overlaps what is held and goes further stores only the new part.
        notices(&room, 2);
        let tail = lines(&room, 3);
        let more = hub.ingest(room.node_id(), &refs(&tail), |_| true).unwrap();
        assert_eq!((more.stored, more.already_held), (2, 3));
        assert_eq!(
            hub.raw_events_after(room.node_id(), 0, 100, usize::MAX)
                .unwrap(),
            lines(&room, 0)
        );
        assert!(hub.verify().unwrap().broken.is_none());
    }

    #[test]
    fn a_gap_a_fork_and_a_broken_chain_store_nothing() {
        let (_a, room) = node(NodeRole::Room);
        let (_b, hub) = node(NodeRole::Hub);
        notices(&room, 4);
        let all = lines(&room, 0);
        let gap = hub.ingest(room.node_id(), &refs(&all[2..]), |_| true);
        assert!(
            matches!(gap, Err(IngestError::Gap { expected_seq: 1 })),
            "{gap:?}"
        );
        hub.ingest(room.node_id(), &refs(&all[..3]), |_| true)
            .unwrap();
        // The same seq with other bytes: a box restored from an old backup.
        let mut forged = all.clone();
        forged[2] = String::from_utf8(forged[2].clone())
            .unwrap()
            .replace("Thông báo 1", "Thông báo X")
            .into_bytes();
        let fork = hub.ingest(room.node_id(), &refs(&forged[2..3]), |_| true);
        assert!(
            matches!(fork, Err(IngestError::Fork { seq: 3, .. })),
            "{fork:?}"
        );
        let mut shuffled = refs(&all[3..]);
        shuffled.swap(0, 1);
        let bad = hub.ingest(room.node_id(), &shuffled, |_| true);
        assert!(matches!(bad, Err(IngestError::BadChain { .. })), "{bad:?}");
        let garbage: Vec<&[u8]> = vec![b"{not json"];
        assert!(matches!(
            hub.ingest(room.node_id(), &garbage, |_| true),
            Err(IngestError::BadChain { .. })
        ));
        assert_eq!(hub.cursor(room.node_id()).unwrap().seq, 3);
        // What was held is unchanged, and the rest still goes on.
        hub.ingest(room.node_id(), &refs(&all[3..]), |_| true)
            .unwrap();
        assert_eq!(
            hub.cursor(room.node_id()).unwrap(),
            room.cursor(room.node_id()).unwrap()
        );
    }

    #[test]
    fn own_events_and_foreign_origins_in_a_batch_are_refused() {
        let (_a, room) = node(NodeRole::Room);
        let (_b, other) = node(NodeRole::Room);
        let (_c, hub) = node(NodeRole::Hub);
        let own = lines(&hub, 0);
        assert!(matches!(
            hub.ingest(hub.node_id(), &refs(&own), |_| true),
            Err(IngestError::OwnOrigin)
        ));
        let theirs = lines(&other, 0);
        assert!(matches!(
            hub.ingest(room.node_id(), &refs(&theirs), |_| true),
            Err(IngestError::BadChain { .. })
        ));
    }
}
