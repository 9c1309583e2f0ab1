//! What a room box does with its hub's log (`docs/sync-protocol.md`, "Pulling events").
//!
//! A box stores the hub's whole log, byte for byte, beside its own (the chain cannot be cut),
//! and applies none of it to its read models: the box's own log stays the only source of what
//! the box shows, so a rebuild never needs the hub. A few hub events are addressed to boxes;
//! for those the box acts, by appending events of its own. The sync loop calls
//! [`blobs_needed`] for every newly stored hub event, fetches those blobs into the box's blob
//! store (resumable), then calls [`react`]. Both may run twice for the same event (a crash
//! between the reaction and the loop's note of it), so every reaction is idempotent.
//!
//! The hub uses [`blobs_needed`] too: a box may download a hub blob only when one of the hub's
//! events says that box needs it.

use crate::domain::{EventEnvelope, NodeId};
use crate::store::Store;

use super::ServiceError;

/// The blobs (SHA-256 hex, size) box `me` needs before it can act on the hub's event `ev`.
/// A pure function of the event, so the hub and the box agree on it.
pub fn blobs_needed(me: &NodeId, ev: &EventEnvelope) -> Vec<(String, u64)> {
    match ev.body.kind() {
        "meeting.handed_over" => super::handover::blobs_of(me, ev),
        "update.offered" => crate::update::blobs_needed(me, ev),
        _ => Vec::new(),
    }
}

/// The blobs box `me` downloads before acting on `ev`: [`blobs_needed`], less what it would
/// refuse unread (a release built for another platform; `react` then skips the offer).
pub fn blobs_to_fetch(me: &NodeId, ev: &EventEnvelope) -> Vec<(String, u64)> {
    match ev.body.kind() {
        "update.offered" => crate::update::blobs_to_fetch(me, ev),
        _ => blobs_needed(me, ev),
    }
}

/// Acts on the hub's event number `hub_seq` once its blobs are held. Idempotent.
pub fn react(
    store: &Store,
    me: &NodeId,
    hub: &NodeId,
    hub_seq: u64,
    ev: &EventEnvelope,
) -> Result<(), ServiceError> {
    match ev.body.kind() {
        "meeting.handed_over" => super::handover::adopt(store, me, hub, hub_seq, ev),
        // Staged and a restart asked for; refused offers are logged and passed over; only an
        // I/O failure is an error (the loop tries again).
        "update.offered" => crate::update::react(store, me, hub, hub_seq, ev)
            .map_err(|e| ServiceError::Internal(e.to_string())),
        // Everything else in the hub's log is kept, not acted on.
        _ => Ok(()),
    }
}
