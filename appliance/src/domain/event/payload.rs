//! The records that events carry, as a permanent format of their own.
//!
//! Read models (`domain::records`) are projections and change as the screens need; these do
//! not. A payload's JSON is pinned by the golden files beside this module (`golden/*.json`),
//! so a change here that would alter what is already in some box's log fails the tests. The
//! rules for changing a kind are in `docs/architecture.md` ("The event format"): add optional
//! fields with a default; anything else is a new kind with a new version.
//!
//! Value types shared with the read models (ids, names, thresholds, statuses) are small enums
//! and validated strings whose JSON is a string or a fixed shape; the golden files pin them too.

use super::super::device::DeviceKey;
use super::super::person::{PersonName, Phone, Position, Unit};
use super::super::quorum::Threshold;
use super::super::records::{BodyKind, DocumentKind, Id, LayoutShape, MeetingStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// `person.added`: a person as first recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PersonEntry {
    pub id: Id,
    pub name: PersonName,
    pub position: Option<Position>,
    pub unit: Option<Unit>,
    pub phone: Option<Phone>,
}

/// `body.created`: a body that meets, with its members and rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct BodyEntry {
    pub id: Id,
    pub name: String,
    pub kind: BodyKind,
    pub quorum: Threshold,
    pub pass: Threshold,
    pub members: Vec<Id>,
    #[serde(default = "default_lead_days")]
    pub publish_lead_days: u32,
}

fn default_lead_days() -> u32 {
    3
}

/// `meeting.created`: the meeting as the secretary first made it. The status, agenda and
/// documents fields were written by the first version and are always the defaults (a draft,
/// empty); they stay so that every `meeting.created` ever written still decodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct MeetingEntry {
    pub id: Id,
    pub body_id: Id,
    pub title: String,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub chair_id: Option<Id>,
    pub members: Vec<Id>,
    pub guests: Vec<Id>,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub status: MeetingStatus,
    #[ts(type = "string | null")]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub review_comment: Option<String>,
    #[serde(default)]
    pub agenda: Vec<ItemEntry>,
    #[serde(default)]
    pub documents: Vec<DocumentEntry>,
}

/// `agenda.item_added`, `agenda.item_updated`: an agenda item's whole content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ItemEntry {
    pub id: Id,
    pub title: String,
    pub presenter: String,
    pub duration_minutes: Option<u16>,
    pub description: String,
    /// The person who presents the item, when the secretary named one of the meeting's
    /// members or guests (marks can be sent to them). Absent in logs written before it existed,
    /// and left out when unset so those items keep their exact bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub presenter_id: Option<Id>,
}

/// `document.added`: a new document with its first version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DocumentEntry {
    pub id: Id,
    pub item_id: Id,
    pub title: String,
    pub number: Option<String>,
    pub kind: DocumentKind,
    pub restricted_to: Option<Vec<Id>>,
    pub versions: Vec<VersionEntry>,
}

/// One uploaded file of a document: `document.added`, `document.version_added`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct VersionEntry {
    pub n: u32,
    pub sha256: String,
    pub size: u64,
    pub file_name: String,
    pub content_type: String,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
}

/// `device.paired`: a tablet and its public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DeviceEntry {
    pub id: Id,
    pub person_id: Id,
    pub label: String,
    pub key: DeviceKey,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub paired_at: OffsetDateTime,
    #[ts(type = "string | null")]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// `display.paired`: a projector screen or TV paired as a read-only display. It acts for no
/// person and holds no key; the secretary revokes it like a tablet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DisplayEntry {
    pub id: Id,
    pub label: String,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub paired_at: OffsetDateTime,
}

/// `seating.layout_saved`: the room's seats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LayoutEntry {
    pub shape: LayoutShape,
    pub seats: Vec<SeatEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SeatEntry {
    pub id: String,
    pub label: String,
    pub x: u16,
    pub y: u16,
}

/// `speech.requested`: a request to speak and where it joins the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SpeechRequestEntry {
    /// Chosen by the tablet, so that a retried request is the same request.
    pub id: Id,
    pub person_id: Id,
    pub item_id: Id,
    pub kind: super::super::live::SpeechKind,
    /// For a reply (giải trình): the question it answers.
    pub replies_to: Option<Id>,
    /// The waiting request it goes in front of; `None`: last.
    pub before: Option<Id>,
}

/// `meeting.handed_over` (the hub's log) and `meeting.adopted` (the room box's log): everything
/// a room needs of a meeting prepared at the central office, as the hub's read models held it
/// when it was handed over. Ids are the hub's, so the room's later events name the same
/// meeting, items, documents and people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HandoverSnapshot {
    /// The meeting with its state, times, agenda (with presenters) and documents (every
    /// version: blob SHA-256, size, file name; who may see each).
    pub meeting: MeetingEntry,
    /// The body that meets, with its members and rules.
    pub body: BodyEntry,
    /// Every person the meeting names: the body's members, the meeting's members, guests and
    /// chair, presenters, and the people documents are restricted to.
    pub people: Vec<PersonEntry>,
    /// The questions prepared for voting (none opened), in their order.
    #[serde(default)]
    pub questions: Vec<super::super::vote::QuestionEntry>,
}

impl HandoverSnapshot {
    /// Every blob the snapshot's documents use, as `(sha256, size)`, each once.
    pub fn blobs(&self) -> Vec<(&str, u64)> {
        let mut out: Vec<(&str, u64)> = Vec::new();
        for v in self.meeting.documents.iter().flat_map(|d| &d.versions) {
            if !out.iter().any(|(s, _)| *s == v.sha256) {
                out.push((v.sha256.as_str(), v.size));
            }
        }
        out
    }
}

/// One event of another node's log, named by its origin and place in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct EventRef {
    #[ts(type = "string")]
    pub origin: super::NodeId,
    #[ts(type = "number")]
    pub seq: u64,
}
