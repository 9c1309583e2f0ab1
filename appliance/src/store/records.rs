//! Read models for people, bodies, meetings, attendance, devices and seating, and the
//! node-local secrets of pairing (codes, device cookies, PINs), which never enter the log.

use super::tables::{
    AGENDA, ATTENDANCE, BLOBS, BLOB_USES, BODIES, DEVICES, DEVICE_TOKENS, DISPLAYS, DISPLAY_CODES,
    DISPLAY_TOKENS, DOCUMENTS, DOCUMENT_MEETING, LIVE, MEETINGS, PAIRING_CODES, PEOPLE, PINS,
    SEATING, SPEECHES,
};
use super::tables::{ANNOTATIONS, ANNOTATION_COUNTS, ITEM_NOTES, NOTE_SAVES};
use super::tables::{BALLOTS, QUESTIONS, RESULTS, SECRET_CHOICES};
use super::{StoreError, Tx};
use crate::domain::annotation::{AnnotationEntry, ItemNoteEntry};
use crate::domain::live::{LiveState, Speech};
use crate::domain::records::{
    Assignments, AttendanceRecord, Body, Device, Display, Document, Id, Item, Layout, Meeting,
    MeetingHeader, MeetingStatus, Person, Version,
};
use crate::domain::vote::{Cast, Marked, Question, QuestionStatus, SignedResult};
use crate::domain::{EventBody, EventEnvelope};
use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

pub(super) type JsonTable = TableDefinition<'static, &'static str, &'static [u8]>;

/// A pairing code waiting to be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeEntry {
    pub person_id: Id,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A display's pairing code waiting to be used, with the name the secretary gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayCodeEntry {
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

fn attendance_key(meeting: &Id, person: &Id) -> String {
    format!("{meeting}/{person}")
}

fn seats_key(meeting: &Id) -> String {
    format!("meeting/{meeting}")
}

pub(super) fn put<T: Serialize>(
    txn: &WriteTransaction,
    def: JsonTable,
    key: &str,
    v: &T,
) -> Result<(), StoreError> {
    let mut t = txn.open_table(def)?;
    t.insert(key, serde_json::to_vec(v)?.as_slice())?;
    Ok(())
}

pub(super) fn get_w<T: DeserializeOwned>(
    txn: &WriteTransaction,
    def: JsonTable,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let t = txn.open_table(def)?;
    let v = t.get(key)?;
    v.map(|b| serde_json::from_slice(b.value()).map_err(StoreError::from))
        .transpose()
}

/// An agenda item as stored: its place in the agenda and its content.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredItem {
    pos: u64,
    item: Item,
}

/// A document as stored: the order it was added in and its content.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredDocument {
    ord: u64,
    document: Document,
}

fn child_key(meeting: &Id, child: &Id) -> String {
    format!("{meeting}/{child}")
}

fn blob_use_key(sha256: &str, document: &Id) -> String {
    format!("{sha256}/{document}")
}

fn header_w(txn: &WriteTransaction, id: &Id) -> Result<MeetingHeader, StoreError> {
    get_w(txn, MEETINGS, id.as_str())?
        .ok_or_else(|| StoreError::Db(format!("meeting {id} missing")))
}

/// Takes the next ordinal of a meeting (for a new item or document) and saves the header.
fn next_ord(txn: &WriteTransaction, id: &Id) -> Result<u64, StoreError> {
    let mut h = header_w(txn, id)?;
    let ord = h.next_ord;
    h.next_ord += 1;
    put(txn, MEETINGS, id.as_str(), &h)?;
    Ok(ord)
}

/// Records that a document's version uses a blob: the blob is kept, and its download can find
/// the document without reading every meeting.
fn use_blob(
    txn: &WriteTransaction,
    meeting: &Id,
    document: &Id,
    v: &Version,
) -> Result<(), StoreError> {
    put(
        txn,
        BLOBS,
        &v.sha256,
        &crate::store::BlobInfo {
            sha256: v.sha256.clone(),
            size: v.size,
        },
    )?;
    txn.open_table(BLOB_USES)?
        .insert(blob_use_key(&v.sha256, document).as_str(), meeting.as_str())?;
    Ok(())
}

fn add_document(
    txn: &WriteTransaction,
    meeting: &Id,
    document: Document,
) -> Result<(), StoreError> {
    let ord = next_ord(txn, meeting)?;
    for v in &document.versions {
        use_blob(txn, meeting, &document.id, v)?;
    }
    txn.open_table(DOCUMENT_MEETING)?
        .insert(document.id.as_str(), meeting.as_str())?;
    put(
        txn,
        DOCUMENTS,
        &child_key(meeting, &document.id),
        &StoredDocument { ord, document },
    )
}

fn add_item(txn: &WriteTransaction, meeting: &Id, item: Item) -> Result<(), StoreError> {
    let pos = next_ord(txn, meeting)?;
    put(
        txn,
        AGENDA,
        &child_key(meeting, &item.id),
        &StoredItem { pos, item },
    )
}

fn document_w(
    txn: &WriteTransaction,
    meeting: &Id,
    document: &Id,
) -> Result<StoredDocument, StoreError> {
    get_w(txn, DOCUMENTS, &child_key(meeting, document))?
        .ok_or_else(|| StoreError::Db(format!("document {document} missing")))
}

/// The records of one meeting in a table keyed `<meeting id>/<child id>`, with their keys.
fn children_in<T: DeserializeOwned>(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    meeting: &Id,
) -> Result<Vec<(String, T)>, StoreError> {
    let prefix = format!("{meeting}/");
    let mut out = Vec::new();
    for row in t.range(prefix.as_str()..)? {
        let (k, v) = row?;
        if !k.value().starts_with(&prefix) {
            break;
        }
        out.push((k.value().to_owned(), serde_json::from_slice(v.value())?));
    }
    Ok(out)
}

fn children_w<T: DeserializeOwned>(
    txn: &WriteTransaction,
    def: JsonTable,
    meeting: &Id,
) -> Result<Vec<(String, T)>, StoreError> {
    children_in(&txn.open_table(def)?, meeting)
}

/// Updates the meeting's read models for one of its events. Each event touches only the
/// records it names, so its cost does not grow with the size of the meeting (a reorder
/// rewrites the items' places, as it must).
fn apply_meeting(txn: &WriteTransaction, e: &EventEnvelope) -> Result<(), StoreError> {
    match &e.body {
        EventBody::MeetingCreated { meeting } => {
            put(
                txn,
                MEETINGS,
                meeting.id.as_str(),
                &MeetingHeader::created(meeting),
            )?;
            for i in &meeting.agenda {
                add_item(txn, &meeting.id, Item::from(i))?;
            }
            for d in &meeting.documents {
                add_document(txn, &meeting.id, Document::from(d))?;
            }
            Ok(())
        }
        EventBody::MeetingDetailsSet {
            meeting_id,
            title,
            starts_at,
            place,
            chair_id,
        } => {
            let mut h = header_w(txn, meeting_id)?;
            if h.status == MeetingStatus::Published {
                let c = &mut h.changed_after_publish;
                c.title |= &h.title != title;
                c.starts_at |= h.starts_at != *starts_at;
                c.place |= &h.place != place;
            }
            h.title = title.clone();
            h.starts_at = *starts_at;
            h.place = place.clone();
            h.chair_id = chair_id.clone();
            put(txn, MEETINGS, meeting_id.as_str(), &h)
        }
        EventBody::ItemAdded { meeting_id, item } => {
            let mut item = Item::from(item);
            item.updated_after_publish =
                header_w(txn, meeting_id)?.status == MeetingStatus::Published;
            add_item(txn, meeting_id, item)
        }
        EventBody::ItemUpdated { meeting_id, item } => {
            let key = child_key(meeting_id, &item.id);
            let Some(mut stored) = get_w::<StoredItem>(txn, AGENDA, &key)? else {
                return Ok(());
            };
            let was = stored.item.updated_after_publish;
            stored.item = Item::from(item);
            stored.item.updated_after_publish =
                was || header_w(txn, meeting_id)?.status == MeetingStatus::Published;
            put(txn, AGENDA, &key, &stored)
        }
        EventBody::ItemRemoved {
            meeting_id,
            item_id,
        } => {
            txn.open_table(AGENDA)?
                .remove(child_key(meeting_id, item_id).as_str())?;
            Ok(())
        }
        EventBody::AgendaReordered { meeting_id, order } => {
            let mut items: Vec<(String, StoredItem)> = children_w(txn, AGENDA, meeting_id)?;
            items.sort_by_key(|(_, s)| s.pos);
            // The items the order names come first, in its order; any it did not name keep
            // their order after them.
            let mut placed = Vec::with_capacity(items.len());
            for id in order {
                if let Some(i) = items.iter().position(|(_, s)| &s.item.id == id) {
                    placed.push(items.remove(i));
                }
            }
            placed.extend(items);
            for (pos, (key, mut stored)) in (0u64..).zip(placed) {
                if stored.pos != pos {
                    stored.pos = pos;
                    put(txn, AGENDA, &key, &stored)?;
                }
            }
            Ok(())
        }
        EventBody::DocumentAdded {
            meeting_id,
            document,
        } => add_document(txn, meeting_id, Document::from(document)),
        EventBody::DocumentVersionAdded {
            meeting_id,
            document_id,
            version,
            ..
        } => {
            let mut stored = document_w(txn, meeting_id, document_id)?;
            let v = Version::from(version);
            use_blob(txn, meeting_id, document_id, &v)?;
            stored.document.versions.push(v);
            put(txn, DOCUMENTS, &child_key(meeting_id, document_id), &stored)
        }
        EventBody::DocumentUpdated {
            meeting_id,
            document_id,
            title,
            number,
            restricted_to,
            ..
        } => {
            let mut stored = document_w(txn, meeting_id, document_id)?;
            stored.document.title = title.clone();
            stored.document.number = number.clone();
            stored.document.restricted_to = restricted_to.clone();
            put(txn, DOCUMENTS, &child_key(meeting_id, document_id), &stored)
        }
        EventBody::DocumentRemoved {
            meeting_id,
            document_id,
            ..
        } => {
            let key = child_key(meeting_id, document_id);
            let stored: Option<StoredDocument> = get_w(txn, DOCUMENTS, &key)?;
            if let Some(stored) = stored {
                let mut uses = txn.open_table(BLOB_USES)?;
                for v in &stored.document.versions {
                    uses.remove(blob_use_key(&v.sha256, document_id).as_str())?;
                }
            }
            txn.open_table(DOCUMENTS)?.remove(key.as_str())?;
            txn.open_table(DOCUMENT_MEETING)?
                .remove(document_id.as_str())?;
            Ok(())
        }
        EventBody::MeetingSubmitted { meeting_id } => {
            let mut h = header_w(txn, meeting_id)?;
            h.status = MeetingStatus::Submitted;
            h.review_comment = None;
            h.submitted_seq = Some(e.seq);
            put(txn, MEETINGS, meeting_id.as_str(), &h)
        }
        EventBody::MeetingApproved { meeting_id } => {
            let mut h = header_w(txn, meeting_id)?;
            h.status = MeetingStatus::Approved;
            put(txn, MEETINGS, meeting_id.as_str(), &h)
        }
        EventBody::MeetingSentBack {
            meeting_id,
            comment,
        } => {
            let mut h = header_w(txn, meeting_id)?;
            h.status = MeetingStatus::Draft;
            h.review_comment = Some(comment.clone());
            put(txn, MEETINGS, meeting_id.as_str(), &h)
        }
        EventBody::MeetingPublished { meeting_id } => {
            let mut h = header_w(txn, meeting_id)?;
            h.status = MeetingStatus::Published;
            h.published_at = Some(e.at);
            h.published_seq = Some(e.seq);
            put(txn, MEETINGS, meeting_id.as_str(), &h)
        }
        EventBody::MeetingHandedOver {
            meeting_id,
            node_id,
            room,
            ..
        } => {
            let mut h = header_w(txn, meeting_id)?;
            h.handed_over_to = Some(crate::domain::records::HandedOver {
                node: node_id.clone(),
                room: room.clone(),
                at: e.at,
                seq: e.seq,
            });
            put(txn, MEETINGS, meeting_id.as_str(), &h)
        }
        EventBody::MeetingAdopted { from, snapshot } => adopt(txn, e, from, snapshot),
        _ => Ok(()),
    }
}

/// On the hub: refuses events about a meeting it handed to a room box, which owns it now.
pub(super) fn refuse_handed_over<'a>(
    txn: &WriteTransaction,
    bodies: impl Iterator<Item = &'a EventBody>,
) -> Result<(), StoreError> {
    for b in bodies {
        let Some(id) = b.meeting_id() else { continue };
        let header: Option<MeetingHeader> = get_w(txn, MEETINGS, id.as_str())?;
        if header.is_some_and(|h| h.handed_over_to.is_some()) {
            return Err(StoreError::MeetingHandedOver);
        }
    }
    Ok(())
}

/// A room box takes over a meeting handed to it: the people and the body as the hub has them
/// (same id, the hub's fields), and the meeting with its agenda, documents and questions under
/// the hub's ids. From here on it is the box's meeting like any other: what its screens show
/// of it starts at this event (its delegates' feeds, the chair's review).
fn adopt(
    txn: &WriteTransaction,
    e: &EventEnvelope,
    from: &crate::domain::event::EventRef,
    snapshot: &crate::domain::event::HandoverSnapshot,
) -> Result<(), StoreError> {
    for p in &snapshot.people {
        put(txn, PEOPLE, p.id.as_str(), &Person::from(p))?;
    }
    put(
        txn,
        BODIES,
        snapshot.body.id.as_str(),
        &Body::from(&snapshot.body),
    )?;
    let m = &snapshot.meeting;
    // The command never adopts over a meeting the box has; a log that did keeps the first.
    if get_w::<MeetingHeader>(txn, MEETINGS, m.id.as_str())?.is_some() {
        return Ok(());
    }
    let mut header = MeetingHeader::created(m);
    header.adopted_from = Some(from.clone());
    if m.status != MeetingStatus::Draft {
        header.submitted_seq = Some(e.seq);
    }
    if m.status == MeetingStatus::Published {
        header.published_seq = Some(e.seq);
    }
    put(txn, MEETINGS, m.id.as_str(), &header)?;
    for i in &m.agenda {
        add_item(txn, &m.id, Item::from(i))?;
    }
    for d in &m.documents {
        add_document(txn, &m.id, Document::from(d))?;
    }
    // Questions list in the order of their place in the log: these take the places just
    // before this event, in the snapshot's order (the meeting had none here before).
    let n = snapshot.questions.len() as u64;
    for (i, q) in (0u64..).zip(&snapshot.questions) {
        let ord = e.seq.saturating_sub(n - 1 - i);
        put(
            txn,
            QUESTIONS,
            &child_key(&m.id, &q.id),
            &Question::new(q.clone(), ord),
        )?;
    }
    Ok(())
}

/// Updates a meeting's live state for one of its live events, and keeps the speech that ended
/// with it, keyed by the event's place in the log so that a meeting's speeches scan in order.
fn apply_live(txn: &WriteTransaction, meeting: &Id, e: &EventEnvelope) -> Result<(), StoreError> {
    let mut state: LiveState = get_w(txn, LIVE, meeting.as_str())?.unwrap_or_default();
    if let Some(speech) = state.apply(&e.body, e.at) {
        put(txn, SPEECHES, &speech_key(meeting, e.seq), &speech)?;
    }
    put(txn, LIVE, meeting.as_str(), &state)
}

/// Updates the questions' read models for one vote event.
fn apply_vote(txn: &WriteTransaction, e: &EventEnvelope) -> Result<(), StoreError> {
    let question_w = |meeting: &Id, q: &Id| -> Result<Question, StoreError> {
        get_w(txn, QUESTIONS, &child_key(meeting, q))?
            .ok_or_else(|| StoreError::Db(format!("question {q} missing")))
    };
    match &e.body {
        EventBody::QuestionAdded {
            meeting_id,
            question,
        } => put(
            txn,
            QUESTIONS,
            &child_key(meeting_id, &question.id),
            &Question::new(question.clone(), e.seq),
        ),
        EventBody::QuestionUpdated {
            meeting_id,
            question,
        } => {
            let mut q = question_w(meeting_id, &question.id)?;
            q.question = question.clone();
            put(txn, QUESTIONS, &child_key(meeting_id, &question.id), &q)
        }
        EventBody::QuestionRemoved {
            meeting_id,
            question_id,
        } => {
            let mut t = txn.open_table(QUESTIONS)?;
            t.remove(child_key(meeting_id, question_id).as_str())?;
            Ok(())
        }
        EventBody::VoteOpened {
            meeting_id,
            question_id,
            question,
            nonce,
            electorate,
            closes_at,
        } => {
            let mut q = question_w(meeting_id, question_id)?;
            q.question = question.clone();
            q.status = QuestionStatus::Open;
            q.nonce = Some(nonce.clone());
            q.electorate = Some(*electorate);
            q.opened_at = Some(e.at);
            q.closes_at = *closes_at;
            put(txn, QUESTIONS, &child_key(meeting_id, question_id), &q)
        }
        EventBody::BallotCast {
            meeting_id,
            question_id,
            ballot,
        } => {
            let key = child_key(question_id, &ballot.person_id);
            let before = get_w::<Cast>(txn, BALLOTS, &key)?;
            let known = before.is_some();
            let replaced = match before {
                Some(Cast::Named {
                    ballot: old,
                    mut replaced,
                }) if old.id != ballot.id => {
                    replaced.push(old.id);
                    replaced
                }
                Some(Cast::Named { replaced, .. }) => replaced,
                _ => Vec::new(),
            };
            put(
                txn,
                BALLOTS,
                &key,
                &Cast::Named {
                    ballot: ballot.clone(),
                    replaced,
                },
            )?;
            if !known {
                let mut q = question_w(meeting_id, question_id)?;
                q.cast += 1;
                put(txn, QUESTIONS, &child_key(meeting_id, question_id), &q)?;
            }
            Ok(())
        }
        EventBody::VoteParticipated {
            meeting_id,
            question_id,
            participation,
        } => {
            let key = child_key(question_id, &participation.person_id);
            put(
                txn,
                BALLOTS,
                &key,
                &Cast::Secret {
                    participation: participation.clone(),
                },
            )?;
            let mut q = question_w(meeting_id, question_id)?;
            q.cast += 1;
            put(txn, QUESTIONS, &child_key(meeting_id, question_id), &q)
        }
        EventBody::VoteClosed {
            meeting_id,
            question_id,
            result,
        } => {
            let mut q = question_w(meeting_id, question_id)?;
            q.status = QuestionStatus::Closed;
            q.closed_at = Some(result.record.closed_at);
            q.outcome = Some(result.record.outcome.clone());
            q.manual = !matches!(
                result.record.method,
                crate::domain::vote::Method::Electronic
            );
            q.question = result.record.question.clone();
            if q.opened_at.is_none() {
                q.electorate = Some(result.record.electorate);
            }
            put(txn, QUESTIONS, &child_key(meeting_id, question_id), &q)?;
            put(txn, RESULTS, question_id.as_str(), result)
        }
        _ => Ok(()),
    }
}

fn annotation_count_key(meeting: &Id, person: &Id, document: &Id) -> String {
    format!("{meeting}/{person}/{document}")
}

fn item_note_key(meeting: &Id, person: &Id, item: &Id) -> String {
    format!("{meeting}/{person}/{item}")
}

/// Every mark of a meeting (tombstones included), in no particular order.
pub fn annotations(
    txn: &ReadTransaction,
    meeting: &Id,
) -> Result<Vec<AnnotationEntry>, StoreError> {
    children(txn, ANNOTATIONS, meeting)
}

pub fn annotation(
    txn: &ReadTransaction,
    meeting: &Id,
    id: &Id,
) -> Result<Option<AnnotationEntry>, StoreError> {
    get(txn, ANNOTATIONS, &child_key(meeting, id))
}

/// How many marks a person keeps on a document (tombstones included).
pub fn annotation_count(
    txn: &ReadTransaction,
    meeting: &Id,
    person: &Id,
    document: &Id,
) -> Result<u64, StoreError> {
    Ok(get(
        txn,
        ANNOTATION_COUNTS,
        &annotation_count_key(meeting, person, document),
    )?
    .unwrap_or(0))
}

/// A person's notes on a meeting's items.
pub fn item_notes(
    txn: &ReadTransaction,
    meeting: &Id,
    person: &Id,
) -> Result<Vec<ItemNoteEntry>, StoreError> {
    values_with_prefix(txn, ITEM_NOTES, &format!("{meeting}/{person}/"))
}

/// Every value of a JSON table whose key starts with `prefix`, in key order.
pub(super) fn values_with_prefix<T: DeserializeOwned>(
    txn: &ReadTransaction,
    def: JsonTable,
    prefix: &str,
) -> Result<Vec<T>, StoreError> {
    let t = txn.open_table(def)?;
    let mut out = Vec::new();
    for row in t.range(prefix..)? {
        let (k, v) = row?;
        if !k.value().starts_with(prefix) {
            break;
        }
        out.push(serde_json::from_slice(v.value())?);
    }
    Ok(out)
}

/// The key of one applied save in [`NOTE_SAVES`].
fn mark_save_key(meeting: &Id, id: &Id, rev: u64, device: &Id) -> String {
    format!("{meeting}/a/{id}/{rev:020}/{device}")
}

fn note_save_key(meeting: &Id, person: &Id, item: &Id, rev: u64, device: &Id) -> String {
    format!("{meeting}/n/{person}/{item}/{rev:020}/{device}")
}

/// Whether the box applied this revision of a mark from this device (it may since have been
/// superseded).
pub fn mark_save_applied(
    txn: &ReadTransaction,
    meeting: &Id,
    id: &Id,
    rev: u64,
    device: &Id,
) -> Result<bool, StoreError> {
    Ok(get::<bool>(txn, NOTE_SAVES, &mark_save_key(meeting, id, rev, device))?.is_some())
}

/// Whether the box applied this revision of a personal note from this device.
pub fn note_save_applied(
    txn: &ReadTransaction,
    meeting: &Id,
    note: &ItemNoteEntry,
) -> Result<bool, StoreError> {
    let key = note_save_key(
        meeting,
        &note.owner_id,
        &note.item_id,
        note.rev,
        &note.device_id,
    );
    Ok(get::<bool>(txn, NOTE_SAVES, &key)?.is_some())
}

pub fn item_note(
    txn: &ReadTransaction,
    meeting: &Id,
    person: &Id,
    item: &Id,
) -> Result<Option<ItemNoteEntry>, StoreError> {
    get(txn, ITEM_NOTES, &item_note_key(meeting, person, item))
}

fn speech_key(meeting: &Id, seq: u64) -> String {
    format!("{meeting}/{seq:020}")
}

/// Updates the read models for the people-and-tablets events and the meetings' events. Only
/// read models are written here, never node-local records: a rebuild replays this.
pub(super) fn apply(txn: &WriteTransaction, e: &EventEnvelope) -> Result<(), StoreError> {
    match &e.body {
        EventBody::PersonAdded { person } => {
            put(txn, PEOPLE, person.id.as_str(), &Person::from(person))
        }
        EventBody::BodyCreated { body } => put(txn, BODIES, body.id.as_str(), &Body::from(body)),
        EventBody::BodyMembersSet { body_id, members } => {
            let mut body: Body = get_w(txn, BODIES, body_id.as_str())?
                .ok_or_else(|| StoreError::Db(format!("body {body_id} missing")))?;
            body.members = members.clone();
            put(txn, BODIES, body_id.as_str(), &body)
        }
        EventBody::BodyRulesSet {
            body_id,
            name,
            quorum,
            pass,
            publish_lead_days,
        } => {
            let mut body: Body = get_w(txn, BODIES, body_id.as_str())?
                .ok_or_else(|| StoreError::Db(format!("body {body_id} missing")))?;
            body.name = name.clone();
            body.quorum = *quorum;
            body.pass = *pass;
            body.publish_lead_days = *publish_lead_days;
            put(txn, BODIES, body_id.as_str(), &body)
        }
        EventBody::DevicePaired { device } => {
            put(txn, DEVICES, device.id.as_str(), &Device::from(device))
        }
        EventBody::DeviceRevoked { device_id } => {
            let mut device: Device = get_w(txn, DEVICES, device_id.as_str())?
                .ok_or_else(|| StoreError::Db(format!("device {device_id} missing")))?;
            device.revoked_at = Some(e.at);
            put(txn, DEVICES, device_id.as_str(), &device)?;
            // Its cookie stays known, so the tablet can be told it was revoked.
            Ok(())
        }
        EventBody::DisplayPaired { display } => {
            put(txn, DISPLAYS, display.id.as_str(), &Display::from(display))
        }
        EventBody::DisplayRevoked { display_id } => {
            let mut display: Display = get_w(txn, DISPLAYS, display_id.as_str())?
                .ok_or_else(|| StoreError::Db(format!("display {display_id} missing")))?;
            display.revoked_at = Some(e.at);
            // Its cookie stays known, so the screen can be told it was revoked.
            put(txn, DISPLAYS, display_id.as_str(), &display)
        }
        EventBody::AttendanceMarked {
            meeting_id,
            person_id,
            status,
            at,
            reason,
        } => put(
            txn,
            ATTENDANCE,
            &attendance_key(meeting_id, person_id),
            &AttendanceRecord {
                status: *status,
                at: *at,
                reason: reason.clone(),
            },
        ),
        EventBody::LayoutSaved { layout } => put(txn, SEATING, "layout", &Layout::from(layout)),
        EventBody::SeatsAssigned {
            meeting_id,
            assignments,
        } => put(txn, SEATING, &seats_key(meeting_id), assignments),
        // The PIN's hash is node-local: the command that resets it removes it, not the replay.
        EventBody::PairingCodeIssued { .. }
        | EventBody::PinSet { .. }
        | EventBody::PinReset { .. } => Ok(()),
        EventBody::MeetingCreated { .. }
        | EventBody::MeetingDetailsSet { .. }
        | EventBody::ItemAdded { .. }
        | EventBody::ItemUpdated { .. }
        | EventBody::ItemRemoved { .. }
        | EventBody::AgendaReordered { .. }
        | EventBody::DocumentAdded { .. }
        | EventBody::DocumentVersionAdded { .. }
        | EventBody::DocumentUpdated { .. }
        | EventBody::DocumentRemoved { .. }
        | EventBody::MeetingSubmitted { .. }
        | EventBody::MeetingApproved { .. }
        | EventBody::MeetingSentBack { .. }
        | EventBody::MeetingPublished { .. }
        | EventBody::MeetingHandedOver { .. }
        | EventBody::MeetingAdopted { .. } => apply_meeting(txn, e),
        EventBody::MeetingStarted { meeting_id, .. }
        | EventBody::MeetingPaused { meeting_id, .. }
        | EventBody::MeetingResumed { meeting_id, .. }
        | EventBody::MeetingEnded { meeting_id, .. }
        | EventBody::ItemOpened { meeting_id, .. }
        | EventBody::SpeechRequested { meeting_id, .. }
        | EventBody::SpeechWithdrawn { meeting_id, .. }
        | EventBody::SpeechReordered { meeting_id, .. }
        | EventBody::SpeechTimeSet { meeting_id, .. }
        | EventBody::SpeechLimitsSet { meeting_id, .. }
        | EventBody::SpeechStarted { meeting_id, .. }
        | EventBody::SpeechEnded { meeting_id, .. }
        | EventBody::FollowSet { meeting_id, .. }
        | EventBody::FollowStopped { meeting_id, .. }
        | EventBody::ConsoleDelegated { meeting_id, .. } => apply_live(txn, meeting_id, e),
        EventBody::QuestionAdded { .. }
        | EventBody::QuestionUpdated { .. }
        | EventBody::QuestionRemoved { .. }
        | EventBody::VoteOpened { .. }
        | EventBody::BallotCast { .. }
        | EventBody::VoteParticipated { .. }
        | EventBody::VoteClosed { .. } => apply_vote(txn, e),
        EventBody::AnnotationSaved {
            meeting_id,
            annotation,
            ..
        } => {
            let key = child_key(meeting_id, &annotation.id);
            let stored: Option<AnnotationEntry> = get_w(txn, ANNOTATIONS, &key)?;
            match &stored {
                // A save that lost (it can only come from another node's log): the winner stays.
                Some(s) if !annotation.wins_over(s) => return Ok(()),
                Some(_) => {}
                None => {
                    let ck = annotation_count_key(
                        meeting_id,
                        &annotation.owner_id,
                        &annotation.document_id,
                    );
                    let n: u64 = get_w(txn, ANNOTATION_COUNTS, &ck)?.unwrap_or(0);
                    put(txn, ANNOTATION_COUNTS, &ck, &(n + 1))?;
                }
            }
            put(
                txn,
                NOTE_SAVES,
                &mark_save_key(
                    meeting_id,
                    &annotation.id,
                    annotation.rev,
                    &annotation.device_id,
                ),
                &true,
            )?;
            put(txn, ANNOTATIONS, &key, annotation)
        }
        EventBody::ItemNoteSaved { meeting_id, note } => {
            let key = item_note_key(meeting_id, &note.owner_id, &note.item_id);
            let stored: Option<ItemNoteEntry> = get_w(txn, ITEM_NOTES, &key)?;
            if stored.as_ref().is_some_and(|s| !note.wins_over(s)) {
                return Ok(());
            }
            let applied = note_save_key(
                meeting_id,
                &note.owner_id,
                &note.item_id,
                note.rev,
                &note.device_id,
            );
            put(txn, NOTE_SAVES, &applied, &true)?;
            put(txn, ITEM_NOTES, &key, note)
        }
        EventBody::EnrolmentIssued { .. }
        | EventBody::BoxEnrolled { .. }
        | EventBody::BoxRevoked { .. }
        | EventBody::SyncConflict { .. } => super::hub::apply(txn, e),
        // The box's own note that it enrolled; its sync settings live in DATA/sync/.
        EventBody::NodeEnrolled { .. } | EventBody::LogCheckpoint { .. } => Ok(()),
        // Updates live in DATA/updates/ (see `crate::update`); the log keeps the record of
        // what was offered, installed and rolled back.
        EventBody::UpdateOffered { .. }
        | EventBody::UpdateInstalled { .. }
        | EventBody::UpdateRolledBack { .. } => Ok(()),
        EventBody::AnnotationSealed { .. } | EventBody::ItemNoteSealed { .. } => {
            super::seal::apply_sealed(txn, e)
        }
        EventBody::NodeInitialised { .. }
        | EventBody::RoomRenamed { .. }
        | EventBody::NoticePosted { .. }
        | EventBody::NoticeCleared {}
        | EventBody::AccountCreated { .. }
        | EventBody::AccountPasswordChanged { .. }
        | EventBody::AccountPasswordReset { .. }
        | EventBody::AccountDisabled { .. }
        | EventBody::AccountEnabled { .. }
        | EventBody::AccountRemoved { .. }
        | EventBody::AccountSessionsEnded { .. } => Ok(()),
    }
}

impl Tx<'_> {
    /// Replaces any earlier code of the same person, so only the newest one works.
    pub fn put_pairing_code(
        &mut self,
        code_hash: &str,
        entry: &CodeEntry,
    ) -> Result<(), StoreError> {
        let mut t = self.txn().open_table(PAIRING_CODES)?;
        let mut stale = Vec::new();
        let now = OffsetDateTime::now_utc();
        for row in t.iter()? {
            let (k, v) = row?;
            let e: CodeEntry = serde_json::from_slice(v.value())?;
            if e.person_id == entry.person_id || e.expires_at <= now {
                stale.push(k.value().to_owned());
            }
        }
        for k in stale {
            t.remove(k.as_str())?;
        }
        t.insert(code_hash, serde_json::to_vec(entry)?.as_slice())?;
        Ok(())
    }

    /// Takes a code out, so it can be used once only.
    pub fn take_pairing_code(&mut self, code_hash: &str) -> Result<Option<CodeEntry>, StoreError> {
        let mut t = self.txn().open_table(PAIRING_CODES)?;
        let removed = t.remove(code_hash)?;
        removed
            .map(|v| serde_json::from_slice(v.value()).map_err(StoreError::from))
            .transpose()
    }

    pub fn put_device_token(&mut self, token_hash: &str, device_id: &Id) -> Result<(), StoreError> {
        self.txn()
            .open_table(DEVICE_TOKENS)?
            .insert(token_hash, device_id.as_str())?;
        Ok(())
    }

    /// Keeps a display's code; codes that have expired go at the same time. Several displays
    /// may be waiting at once (two screens in one room), so other live codes stay.
    pub fn put_display_code(
        &mut self,
        code_hash: &str,
        entry: &DisplayCodeEntry,
    ) -> Result<(), StoreError> {
        let mut t = self.txn().open_table(DISPLAY_CODES)?;
        let mut stale = Vec::new();
        let now = OffsetDateTime::now_utc();
        for row in t.iter()? {
            let (k, v) = row?;
            let e: DisplayCodeEntry = serde_json::from_slice(v.value())?;
            if e.expires_at <= now {
                stale.push(k.value().to_owned());
            }
        }
        for k in stale {
            t.remove(k.as_str())?;
        }
        t.insert(code_hash, serde_json::to_vec(entry)?.as_slice())?;
        Ok(())
    }

    /// Takes a display's code out, so it can be used once only.
    pub fn take_display_code(
        &mut self,
        code_hash: &str,
    ) -> Result<Option<DisplayCodeEntry>, StoreError> {
        let mut t = self.txn().open_table(DISPLAY_CODES)?;
        let removed = t.remove(code_hash)?;
        removed
            .map(|v| serde_json::from_slice(v.value()).map_err(StoreError::from))
            .transpose()
    }

    pub fn put_display_token(
        &mut self,
        token_hash: &str,
        display_id: &Id,
    ) -> Result<(), StoreError> {
        self.txn()
            .open_table(DISPLAY_TOKENS)?
            .insert(token_hash, display_id.as_str())?;
        Ok(())
    }

    pub fn remove_pin(&mut self, person_id: &Id) -> Result<(), StoreError> {
        self.txn().open_table(PINS)?.remove(person_id.as_str())?;
        Ok(())
    }

    pub fn set_pin(&mut self, person_id: &Id, phc: &str) -> Result<(), StoreError> {
        self.txn()
            .open_table(PINS)?
            .insert(person_id.as_str(), phc)?;
        Ok(())
    }
}

pub(super) fn get<T: DeserializeOwned>(
    txn: &ReadTransaction,
    def: JsonTable,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let t = txn.open_table(def)?;
    let v = t.get(key)?;
    v.map(|b| serde_json::from_slice(b.value()).map_err(StoreError::from))
        .transpose()
}

pub(super) fn all<T: DeserializeOwned>(
    txn: &ReadTransaction,
    def: JsonTable,
) -> Result<Vec<T>, StoreError> {
    let t = txn.open_table(def)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        let (_, v) = row?;
        out.push(serde_json::from_slice(v.value())?);
    }
    Ok(out)
}

/// A meeting's questions, in the order they were added.
pub fn questions(txn: &ReadTransaction, meeting: &Id) -> Result<Vec<Question>, StoreError> {
    let mut qs: Vec<Question> = children(txn, QUESTIONS, meeting)?;
    qs.sort_by_key(|q| q.ord);
    Ok(qs)
}

pub fn question(
    txn: &ReadTransaction,
    meeting: &Id,
    question: &Id,
) -> Result<Option<Question>, StoreError> {
    get(txn, QUESTIONS, &child_key(meeting, question))
}

/// What one person cast on a question.
pub fn cast_of(
    txn: &ReadTransaction,
    question: &Id,
    person: &Id,
) -> Result<Option<Cast>, StoreError> {
    get(txn, BALLOTS, &child_key(question, person))
}

/// Everything cast on a question, in the order of the voters' ids.
pub fn casts(txn: &ReadTransaction, question: &Id) -> Result<Vec<Cast>, StoreError> {
    children(txn, BALLOTS, question)
}

pub fn result(txn: &ReadTransaction, question: &Id) -> Result<Option<SignedResult>, StoreError> {
    get(txn, RESULTS, question.as_str())
}

/// Whether a secret choice with this receipt is stored for the question.
pub fn secret_choice(
    txn: &ReadTransaction,
    question: &Id,
    receipt: &str,
) -> Result<Option<Marked>, StoreError> {
    get(txn, SECRET_CHOICES, &format!("{question}/{receipt}"))
}

/// A secret vote's choices, in the order of their receipts.
pub fn secret_choices(
    txn: &ReadTransaction,
    question: &Id,
) -> Result<Vec<(String, Marked)>, StoreError> {
    let rows: Vec<(String, Marked)> = children_in(&txn.open_table(SECRET_CHOICES)?, question)?;
    let prefix_len = question.as_str().len() + 1;
    Ok(rows
        .into_iter()
        .map(|(k, m)| (k.get(prefix_len..).unwrap_or("").to_owned(), m))
        .collect())
}

/// Stores a secret choice, node-locally, in the command's transaction.
pub fn put_secret_choice(
    tx: &Tx<'_>,
    question: &Id,
    receipt: &str,
    mark: &Marked,
) -> Result<(), StoreError> {
    put(
        tx.txn(),
        SECRET_CHOICES,
        &format!("{question}/{receipt}"),
        mark,
    )
}

/// Drops a closed secret vote's choices (its `vote.closed` event now holds them).
pub fn drop_secret_choices(tx: &Tx<'_>, question: &Id) -> Result<(), StoreError> {
    let mut t = tx.txn().open_table(SECRET_CHOICES)?;
    let prefix = format!("{question}/");
    let keys: Vec<String> = {
        let mut keys = Vec::new();
        for row in t.range(prefix.as_str()..)? {
            let (k, _) = row?;
            if !k.value().starts_with(&prefix) {
                break;
            }
            keys.push(k.value().to_owned());
        }
        keys
    };
    for k in keys {
        t.remove(k.as_str())?;
    }
    Ok(())
}

/// Whether a meeting is in session (running or in recess): a staged update waits for it.
pub fn meeting_in_session(txn: &ReadTransaction) -> Result<bool, StoreError> {
    let states: Vec<LiveState> = all(txn, LIVE)?;
    Ok(states.iter().any(|s| {
        matches!(
            s.phase,
            crate::domain::live::Phase::Running | crate::domain::live::Phase::Paused
        )
    }))
}

/// A meeting's live state (the default before it starts).
pub fn live(txn: &ReadTransaction, meeting: &Id) -> Result<LiveState, StoreError> {
    Ok(get(txn, LIVE, meeting.as_str())?.unwrap_or_default())
}

/// The speeches heard in a meeting, in the order they ended.
pub fn speeches(txn: &ReadTransaction, meeting: &Id) -> Result<Vec<Speech>, StoreError> {
    Ok(children_in(&txn.open_table(SPEECHES)?, meeting)?
        .into_iter()
        .map(|(_, s)| s)
        .collect())
}

pub fn person(txn: &ReadTransaction, id: &Id) -> Result<Option<Person>, StoreError> {
    get(txn, PEOPLE, id.as_str())
}

/// Everyone, in no particular order (callers sort the Vietnamese way).
pub fn people(txn: &ReadTransaction) -> Result<Vec<Person>, StoreError> {
    all(txn, PEOPLE)
}

pub fn body(txn: &ReadTransaction, id: &Id) -> Result<Option<Body>, StoreError> {
    get(txn, BODIES, id.as_str())
}

pub fn bodies(txn: &ReadTransaction) -> Result<Vec<Body>, StoreError> {
    all(txn, BODIES)
}

/// A meeting's own facts, without reading its agenda and documents.
pub fn meeting_header(txn: &ReadTransaction, id: &Id) -> Result<Option<MeetingHeader>, StoreError> {
    get(txn, MEETINGS, id.as_str())
}

pub fn meeting_headers(txn: &ReadTransaction) -> Result<Vec<MeetingHeader>, StoreError> {
    all(txn, MEETINGS)
}

fn children<T: DeserializeOwned>(
    txn: &ReadTransaction,
    def: JsonTable,
    meeting: &Id,
) -> Result<Vec<T>, StoreError> {
    let rows = children_in(&txn.open_table(def)?, meeting)?;
    Ok(rows.into_iter().map(|(_, v)| v).collect())
}

/// A meeting's agenda, in order.
pub fn agenda(txn: &ReadTransaction, meeting: &Id) -> Result<Vec<Item>, StoreError> {
    let mut items: Vec<StoredItem> = children(txn, AGENDA, meeting)?;
    items.sort_by_key(|s| s.pos);
    Ok(items.into_iter().map(|s| s.item).collect())
}

pub fn agenda_item(
    txn: &ReadTransaction,
    meeting: &Id,
    item: &Id,
) -> Result<Option<Item>, StoreError> {
    Ok(get::<StoredItem>(txn, AGENDA, &child_key(meeting, item))?.map(|s| s.item))
}

/// A meeting's documents, in the order they were added.
pub fn documents(txn: &ReadTransaction, meeting: &Id) -> Result<Vec<Document>, StoreError> {
    let mut docs: Vec<StoredDocument> = children(txn, DOCUMENTS, meeting)?;
    docs.sort_by_key(|s| s.ord);
    Ok(docs.into_iter().map(|s| s.document).collect())
}

/// A document and the meeting it belongs to.
pub fn document(
    txn: &ReadTransaction,
    id: &Id,
) -> Result<Option<(MeetingHeader, Document)>, StoreError> {
    let t = txn.open_table(DOCUMENT_MEETING)?;
    let Some(meeting) = t.get(id.as_str())?.and_then(|v| Id::parse(v.value())) else {
        return Ok(None);
    };
    let Some(header) = meeting_header(txn, &meeting)? else {
        return Ok(None);
    };
    let doc = get::<StoredDocument>(txn, DOCUMENTS, &child_key(&meeting, id))?;
    Ok(doc.map(|d| (header, d.document)))
}

/// A document of a known meeting, without reading the meeting's header.
pub fn meeting_document(
    txn: &ReadTransaction,
    meeting: &Id,
    id: &Id,
) -> Result<Option<Document>, StoreError> {
    Ok(get::<StoredDocument>(txn, DOCUMENTS, &child_key(meeting, id))?.map(|d| d.document))
}

/// The live documents whose versions use a blob, with their meetings.
pub fn documents_using_blob(
    txn: &ReadTransaction,
    sha256: &str,
) -> Result<Vec<(MeetingHeader, Document)>, StoreError> {
    let t = txn.open_table(BLOB_USES)?;
    let prefix = format!("{sha256}/");
    let mut out = Vec::new();
    for row in t.range(prefix.as_str()..)? {
        let (k, _) = row?;
        let Some(doc) = k.value().strip_prefix(&prefix).and_then(Id::parse) else {
            break;
        };
        if let Some(found) = document(txn, &doc)? {
            out.push(found);
        }
    }
    Ok(out)
}

/// A meeting with its agenda and documents.
pub fn meeting(txn: &ReadTransaction, id: &Id) -> Result<Option<Meeting>, StoreError> {
    let Some(info) = meeting_header(txn, id)? else {
        return Ok(None);
    };
    Ok(Some(Meeting {
        agenda: agenda(txn, id)?,
        documents: documents(txn, id)?,
        info,
    }))
}

pub fn meetings(txn: &ReadTransaction) -> Result<Vec<Meeting>, StoreError> {
    let mut out = Vec::new();
    for info in meeting_headers(txn)? {
        out.push(Meeting {
            agenda: agenda(txn, &info.id)?,
            documents: documents(txn, &info.id)?,
            info,
        });
    }
    Ok(out)
}

/// Every recorded attendance of one meeting, by person.
pub fn attendance(
    txn: &ReadTransaction,
    meeting: &Id,
) -> Result<BTreeMap<Id, AttendanceRecord>, StoreError> {
    let t = txn.open_table(ATTENDANCE)?;
    let prefix = format!("{meeting}/");
    let mut out = BTreeMap::new();
    for row in t.range(prefix.as_str()..)? {
        let (k, v) = row?;
        let Some(person) = k.value().strip_prefix(&prefix).and_then(Id::parse) else {
            break;
        };
        out.insert(person, serde_json::from_slice(v.value())?);
    }
    Ok(out)
}

pub fn attendance_of(
    txn: &ReadTransaction,
    meeting: &Id,
    person: &Id,
) -> Result<AttendanceRecord, StoreError> {
    Ok(get(txn, ATTENDANCE, &attendance_key(meeting, person))?.unwrap_or_default())
}

pub fn device(txn: &ReadTransaction, id: &Id) -> Result<Option<Device>, StoreError> {
    get(txn, DEVICES, id.as_str())
}

pub fn devices_of(txn: &ReadTransaction, person: &Id) -> Result<Vec<Device>, StoreError> {
    let mut d: Vec<Device> = all(txn, DEVICES)?;
    d.retain(|d| &d.person_id == person);
    d.sort_by_key(|d| d.paired_at);
    Ok(d)
}

/// The device behind a cookie; revoked devices are returned too, so the caller can say so.
pub fn device_by_token(
    txn: &ReadTransaction,
    token_hash: &str,
) -> Result<Option<Device>, StoreError> {
    let t = txn.open_table(DEVICE_TOKENS)?;
    let Some(id) = t.get(token_hash)?.and_then(|v| Id::parse(v.value())) else {
        return Ok(None);
    };
    device(txn, &id)
}

pub fn pin(txn: &ReadTransaction, person: &Id) -> Result<Option<String>, StoreError> {
    let t = txn.open_table(PINS)?;
    let v = t.get(person.as_str())?;
    Ok(v.map(|s| s.value().to_owned()))
}

pub fn has_pin(txn: &ReadTransaction, person: &Id) -> Result<bool, StoreError> {
    Ok(pin(txn, person)?.is_some())
}

pub fn layout(txn: &ReadTransaction) -> Result<Option<Layout>, StoreError> {
    get(txn, SEATING, "layout")
}

pub fn seats(txn: &ReadTransaction, meeting: &Id) -> Result<Assignments, StoreError> {
    Ok(get(txn, SEATING, &seats_key(meeting))?.unwrap_or_default())
}

pub fn pairing_code(
    txn: &ReadTransaction,
    code_hash: &str,
) -> Result<Option<CodeEntry>, StoreError> {
    get(txn, PAIRING_CODES, code_hash)
}

pub fn display(txn: &ReadTransaction, id: &Id) -> Result<Option<Display>, StoreError> {
    get(txn, DISPLAYS, id.as_str())
}

/// Every display ever paired, revoked ones too, oldest first.
pub fn displays(txn: &ReadTransaction) -> Result<Vec<Display>, StoreError> {
    let mut d: Vec<Display> = all(txn, DISPLAYS)?;
    d.sort_by_key(|d| d.paired_at);
    Ok(d)
}

/// The display behind a cookie; revoked displays are returned too, so the caller can say so.
/// A store made before displays existed has no token table yet: no display is paired there.
pub fn display_by_token(
    txn: &ReadTransaction,
    token_hash: &str,
) -> Result<Option<Display>, StoreError> {
    let t = match txn.open_table(DISPLAY_TOKENS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some(id) = t.get(token_hash)?.and_then(|v| Id::parse(v.value())) else {
        return Ok(None);
    };
    display(txn, &id)
}

/// A display's code waiting to be used (none in a store made before displays existed).
pub fn display_code(
    txn: &ReadTransaction,
    code_hash: &str,
) -> Result<Option<DisplayCodeEntry>, StoreError> {
    match txn.open_table(DISPLAY_CODES) {
        Ok(_) => get(txn, DISPLAY_CODES, code_hash),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whether any document refers to this blob.
pub fn blob_known(txn: &ReadTransaction, sha256: &str) -> Result<bool, StoreError> {
    let t = txn.open_table(BLOBS)?;
    let found = t.get(sha256)?.is_some();
    Ok(found)
}
