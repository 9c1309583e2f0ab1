//! A meeting prepared at the central office goes to the room that holds it.
//!
//! At the hub, [`hand_over`] records `meeting.handed_over` with a snapshot of what the room
//! needs (the meeting, its agenda and documents, the body and every person it names), taken
//! from the hub's read models in the same transaction. From then on the hub refuses every
//! change to that meeting (`meeting.handed_over`, 409): the room owns it.
//!
//! On the room box, the pull loop of the hub's log calls [`blobs_needed`] for each new hub
//! event, fetches those files, then calls [`adopt`], which records the box's own
//! `meeting.adopted` with the same snapshot. The box's log therefore holds everything its read
//! models need (a rebuild replays only the box's own log), and the hub's archive of the box,
//! built from that log, shows the meeting once the box has sent it up.

use super::hub::require_hub;
use super::meetings::not_handed_over;
use super::{Caller, Refusal, ServiceError};
use crate::domain::event::{EventRef, HandoverSnapshot, MeetingEntry};
use crate::domain::hub::HubRefusal;
use crate::domain::live::Phase;
use crate::domain::records::{Document, Id, Meeting, MeetingHeader};
use crate::domain::vote::QuestionStatus;
use crate::domain::{Actor, EventBody, EventEnvelope, NodeId, Role};
use crate::store::{records, NodeRole, Store, StoreError};
use redb::ReadTransaction;
use serde::Serialize;
use std::collections::BTreeSet;

/// What the room needs of `meeting`, from the hub's read models as `t` sees them.
pub fn snapshot(t: &ReadTransaction, m: &Meeting) -> Result<HandoverSnapshot, StoreError> {
    let body = records::body(t, &m.body_id)?
        .ok_or_else(|| StoreError::Db(format!("the meeting's body {} is missing", m.body_id)))?;
    let mut named: BTreeSet<&Id> = BTreeSet::new();
    named.extend(&body.members);
    named.extend(&m.members);
    named.extend(&m.guests);
    named.extend(&m.chair_id);
    named.extend(m.agenda.iter().filter_map(|i| i.presenter_id.as_ref()));
    named.extend(
        m.documents
            .iter()
            .flat_map(|d| d.restricted_to.iter().flatten()),
    );
    let mut people = Vec::with_capacity(named.len());
    for id in named {
        match records::person(t, id)? {
            Some(p) => people.push((&p).into()),
            None => {
                tracing::warn!(person = %id, meeting = %m.id, "a person the meeting names is missing")
            }
        }
    }
    let questions = records::questions(t, &m.id)?
        .into_iter()
        .filter(|q| q.status == QuestionStatus::Draft)
        .map(|q| q.question)
        .collect();
    Ok(HandoverSnapshot {
        meeting: MeetingEntry {
            id: m.id.clone(),
            body_id: m.body_id.clone(),
            title: m.title.clone(),
            starts_at: m.starts_at,
            chair_id: m.chair_id.clone(),
            members: m.members.clone(),
            guests: m.guests.clone(),
            place: m.place.clone(),
            status: m.status,
            published_at: m.published_at,
            review_comment: m.review_comment.clone(),
            agenda: m.agenda.iter().map(Into::into).collect(),
            documents: m.documents.iter().map(|d: &Document| d.into()).collect(),
        },
        body: (&body).into(),
        people,
        questions,
    })
}

/// At the hub: hands a meeting it prepared to an enrolled room box. IT staff or the
/// secretary. Refused: a box that is not enrolled or was revoked (`hub.unknown_box`), a
/// meeting already handed over (`meeting.handed_over`), one that started or ended at the hub
/// (`meeting.not_handable`). A meeting at any step of its preparation (draft, submitted,
/// approved, published) may go: the room carries on from there.
pub fn hand_over(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    node: &str,
) -> Result<MeetingHeader, ServiceError> {
    caller.require(Role::may_hand_over)?;
    require_hub(store)?;
    let unknown = || ServiceError::Refused(Refusal::Hub(HubRefusal::UnknownBox));
    let node = NodeId::parse(node.trim()).ok_or_else(unknown)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let room = tx
            .enrolled_box(&node)?
            .filter(|b| b.revoked.is_none())
            .ok_or_else(unknown)?
            .room;
        let (meeting, live) = tx.read(|t| {
            Ok((
                records::meeting(t, meeting_id)?,
                records::live(t, meeting_id)?,
            ))
        })?;
        let meeting = meeting.ok_or(ServiceError::NotFound)?;
        not_handed_over(&meeting)?;
        if live.phase != Phase::NotStarted {
            return Err(Refusal::NotHandable.into());
        }
        let snapshot = tx.read(|t| snapshot(t, &meeting))?;
        Ok((
            vec![EventBody::MeetingHandedOver {
                meeting_id: meeting_id.clone(),
                node_id: node.clone(),
                room,
                snapshot: Box::new(snapshot),
            }],
            (),
        ))
    })?;
    tracing::info!(meeting = %meeting_id, node = %node, "meeting handed over to a room box");
    store
        .read(|t| records::meeting_header(t, meeting_id))?
        .ok_or(ServiceError::NotFound)
}

/// A meeting as the hub's console lists it: prepared at the office, and whether a room has
/// it yet.
#[derive(Debug, Clone, Serialize)]
pub struct OfficeMeeting {
    #[serde(flatten)]
    pub info: MeetingHeader,
    pub items: usize,
    pub documents: usize,
    pub live_phase: Phase,
    /// The room box's log, as the hub holds it, shows the box adopted the meeting.
    pub received: bool,
}

/// At the hub: the meetings prepared here, newest first, for the office's staff.
pub fn office_meetings(store: &Store, caller: &Caller) -> Result<Vec<OfficeMeeting>, ServiceError> {
    caller.require(Role::may_read_archive)?;
    require_hub(store)?;
    let rows = store.read(|t| {
        let mut out = Vec::new();
        for m in records::meetings(t)? {
            let live_phase = records::live(t, &m.id)?.phase;
            out.push((m, live_phase));
        }
        Ok(out)
    })?;
    let hub = store.node_id().clone();
    let mut out = Vec::with_capacity(rows.len());
    for (m, live_phase) in rows {
        let received = match &m.handed_over_to {
            Some(h) => received(store, &hub, &h.node, &m.id)?,
            None => false,
        };
        out.push(OfficeMeeting {
            items: m.agenda.len(),
            documents: m.documents.len(),
            live_phase,
            received,
            info: m.info,
        });
    }
    out.sort_by_key(|m| std::cmp::Reverse(m.info.starts_at));
    Ok(out)
}

/// Whether the hub's archive of `node` holds `meeting` adopted from this hub.
fn received(
    store: &Store,
    hub: &NodeId,
    node: &NodeId,
    meeting: &Id,
) -> Result<bool, ServiceError> {
    if store.cursor(node)?.seq == 0 {
        return Ok(false);
    }
    let header = store.archive_read(node, |t| records::meeting_header(t, meeting))?;
    Ok(header
        .and_then(|h| h.adopted_from)
        .is_some_and(|from| &from.origin == hub))
}

/// The snapshot of a hub event, if it is a handover to this box.
fn addressed_to<'a>(me: &NodeId, ev: &'a EventEnvelope) -> Option<&'a HandoverSnapshot> {
    match &ev.body {
        EventBody::MeetingHandedOver {
            node_id, snapshot, ..
        } if node_id == me && &ev.origin != me => Some(snapshot),
        _ => None,
    }
}

/// Whether the box already adopted the meeting of this handover (from this very event).
fn adopted_already(
    t: &ReadTransaction,
    snapshot: &HandoverSnapshot,
    from: &EventRef,
) -> Result<Option<bool>, StoreError> {
    Ok(records::meeting_header(t, &snapshot.meeting.id)?
        .map(|h| h.adopted_from.as_ref() == Some(from)))
}

/// Every file of a meeting the hub's event `ev` hands to box `me`, as `(sha256 hex, size)`;
/// nothing for any other event. A pure function of the event, so the hub (which lets a box
/// download only the files its events grant it) and the box agree on it
/// (`service::downward::blobs_needed`).
pub fn blobs_of(me: &NodeId, ev: &EventEnvelope) -> Vec<(String, u64)> {
    addressed_to(me, ev)
        .map(|s| {
            s.blobs()
                .into_iter()
                .map(|(sha, size)| (sha.to_owned(), size))
                .collect()
        })
        .unwrap_or_default()
}

/// On a room box: the files a hub event needs before [`adopt`] can take it, as `(sha256 hex,
/// size)`: those of a meeting handed to this box that the box does not hold yet. Nothing for
/// any other event, or for a handover already adopted.
pub fn blobs_needed(
    store: &Store,
    me: &NodeId,
    ev: &EventEnvelope,
) -> Result<Vec<(String, u64)>, ServiceError> {
    let Some(snapshot) = addressed_to(me, ev) else {
        return Ok(Vec::new());
    };
    let from = EventRef {
        origin: ev.origin.clone(),
        seq: ev.seq,
    };
    if store.read(|t| adopted_already(t, snapshot, &from))? == Some(true) {
        return Ok(Vec::new());
    }
    Ok(snapshot
        .blobs()
        .into_iter()
        .filter(|(sha, size)| !holds(store, sha, *size))
        .map(|(sha, size)| (sha.to_owned(), size))
        .collect())
}

/// Whether the box's blob store holds this file whole.
fn holds(store: &Store, sha256: &str, size: u64) -> bool {
    store
        .blobs()
        .path(sha256)
        .and_then(|p| std::fs::metadata(p).ok())
        .is_some_and(|m| m.is_file() && m.len() == size)
}

/// On a room box: takes over a meeting the hub handed to it, by recording the box's own
/// `meeting.adopted` (the hub's `(origin, seq)` and the snapshot). Hub events of any other
/// kind, or handovers to other boxes, change nothing. Idempotent: a handover already adopted
/// changes nothing either (the pull loop may call this again after a crash). Refused, with
/// nothing written: a file of the meeting not in the blob store yet (the pull loop fetches it
/// and tries again). A meeting of that id that the box has from elsewhere is not adopted
/// either, for good: a warning is logged and the hub's later events go on.
pub fn adopt(
    store: &Store,
    me: &NodeId,
    hub: &NodeId,
    hub_seq: u64,
    ev: &EventEnvelope,
) -> Result<(), ServiceError> {
    let Some(snapshot) = addressed_to(me, ev) else {
        return Ok(());
    };
    if &ev.origin != hub || ev.seq != hub_seq {
        return Err(ServiceError::Internal(format!(
            "handover event is {}/{}, called as {hub}/{hub_seq}",
            ev.origin, ev.seq
        )));
    }
    if store.role() != NodeRole::Room || store.node_id() != me {
        return Err(ServiceError::Internal(
            "only the room box it was handed to adopts a meeting".into(),
        ));
    }
    if let Some((sha, _)) = snapshot
        .blobs()
        .into_iter()
        .find(|(sha, size)| !holds(store, sha, *size))
    {
        return Err(ServiceError::Conflict(format!(
            "file {sha} of the handed-over meeting {} is not in the blob store yet",
            snapshot.meeting.id
        )));
    }
    let from = EventRef {
        origin: hub.clone(),
        seq: hub_seq,
    };
    let meeting = snapshot.meeting.id.clone();
    let (events, ()) = store.write(Actor::Node, |tx| -> Result<_, ServiceError> {
        match tx.read(|t| adopted_already(t, snapshot, &from))? {
            Some(true) => return Ok((Vec::new(), ())),
            Some(false) => {
                // For good: retrying would block the hub's log behind this event.
                tracing::warn!(
                    meeting = %meeting, hub = %from.origin, hub_seq = from.seq,
                    "not adopting a handed-over meeting: this box has a meeting of that id from elsewhere"
                );
                return Ok((Vec::new(), ()));
            }
            None => {}
        }
        Ok((
            vec![EventBody::MeetingAdopted {
                from: from.clone(),
                snapshot: Box::new(snapshot.clone()),
            }],
            (),
        ))
    })?;
    if !events.is_empty() {
        tracing::info!(meeting = %meeting, hub = %hub, hub_seq, "adopted a meeting handed over by the hub");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
