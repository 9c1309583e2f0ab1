//! The hub's archive of its room boxes: each box's meetings, documents, attendance and signed
//! results, read from the box's read models as the hub rebuilt them from the box's log
//! (`store::archive`). Read-only: nothing at the hub changes a box's record.

use super::{Caller, Refusal, ServiceError};
use crate::domain::hub::HubRefusal;
use crate::domain::records::{AttendanceRecord, Document, Id, Item, MeetingHeader, Person};
use crate::domain::vote::{Question, SignedResult};
use crate::domain::{NodeId, Role};
use crate::store::{hub as hub_records, records, NodeRole, Store};
use serde::Serialize;
use std::collections::BTreeMap;

fn may_read(caller: &Caller, store: &Store) -> Result<(), ServiceError> {
    caller.require(Role::may_read_archive)?;
    match store.role() {
        NodeRole::Hub => Ok(()),
        NodeRole::Room => Err(ServiceError::Refused(Refusal::Hub(HubRefusal::WrongRole))),
    }
}

/// A box the hub enrolled (revoked ones included: their record stays in the archive).
fn enrolled(store: &Store, node: &str) -> Result<NodeId, ServiceError> {
    let node = NodeId::parse(node).ok_or(ServiceError::NotFound)?;
    store
        .read(|t| hub_records::enrolled_box(t, &node))?
        .ok_or(ServiceError::NotFound)?;
    Ok(node)
}

/// One meeting of a box, as the archive's list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ArchivedMeetingSummary {
    #[serde(flatten)]
    pub info: MeetingHeader,
    pub items: usize,
    pub documents: usize,
    pub results: usize,
}

/// A box's meetings, newest first.
pub fn meetings(
    store: &Store,
    caller: &Caller,
    node: &str,
) -> Result<Vec<ArchivedMeetingSummary>, ServiceError> {
    may_read(caller, store)?;
    let node = enrolled(store, node)?;
    let mut out = store.archive_read(&node, |t| {
        let mut out = Vec::new();
        for m in records::meetings(t)? {
            let mut results = 0;
            for q in records::questions(t, &m.info.id)? {
                if records::result(t, &q.question.id)?.is_some() {
                    results += 1;
                }
            }
            out.push(ArchivedMeetingSummary {
                items: m.agenda.len(),
                documents: m.documents.len(),
                results,
                info: m.info,
            });
        }
        Ok(out)
    })?;
    out.sort_by_key(|m| std::cmp::Reverse(m.info.starts_at));
    Ok(out)
}

/// A question with its signed result, if the vote closed.
#[derive(Debug, Clone, Serialize)]
pub struct ArchivedQuestion {
    pub question: Question,
    pub result: Option<SignedResult>,
}

/// One meeting of a box, whole.
#[derive(Debug, Clone, Serialize)]
pub struct ArchivedMeeting {
    pub node_id: String,
    pub info: MeetingHeader,
    pub agenda: Vec<Item>,
    pub documents: Vec<Document>,
    /// Everyone invited or recorded, by id.
    pub people: BTreeMap<Id, Person>,
    pub attendance: BTreeMap<Id, AttendanceRecord>,
    pub questions: Vec<ArchivedQuestion>,
}

pub fn meeting(
    store: &Store,
    caller: &Caller,
    node: &str,
    id: &Id,
) -> Result<ArchivedMeeting, ServiceError> {
    may_read(caller, store)?;
    let node = enrolled(store, node)?;
    let node_id = node.to_string();
    store
        .archive_read(&node, |t| {
            let Some(m) = records::meeting(t, id)? else {
                return Ok(None);
            };
            let attendance = records::attendance(t, id)?;
            let mut people = BTreeMap::new();
            let everyone = m
                .info
                .members
                .iter()
                .chain(m.info.guests.iter())
                .chain(attendance.keys())
                .chain(m.info.chair_id.iter());
            for p in everyone {
                if let Some(person) = records::person(t, p)? {
                    people.insert(p.clone(), person);
                }
            }
            let mut questions = Vec::new();
            for q in records::questions(t, id)? {
                let result = records::result(t, &q.question.id)?;
                questions.push(ArchivedQuestion {
                    question: q,
                    result,
                });
            }
            Ok(Some(ArchivedMeeting {
                node_id,
                info: m.info,
                agenda: m.agenda,
                documents: m.documents,
                people,
                attendance,
                questions,
            }))
        })?
        .ok_or(ServiceError::NotFound)
}

/// The document version a file is, when it belongs to some enrolled box's archive (the hub
/// serves only those, and only to office staff).
pub fn archived_version(
    store: &Store,
    caller: &Caller,
    sha256: &str,
) -> Result<Option<crate::domain::records::Version>, ServiceError> {
    if caller.require(Role::may_read_archive).is_err() || store.role() != NodeRole::Hub {
        return Ok(None);
    }
    let boxes = store.read(hub_records::enrolled_boxes)?;
    for b in boxes {
        let found = store.archive_read(&b.node_id, |t| {
            Ok(records::documents_using_blob(t, sha256)?
                .into_iter()
                .flat_map(|(_, d)| d.versions)
                .find(|v| v.sha256 == sha256))
        })?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}
