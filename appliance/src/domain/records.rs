//! The records of people, bodies, meetings, devices, attendance and seating: what events carry
//! and read models hold. They are built only from parsed values, so a record is valid by
//! construction.

use super::device::DeviceKey;
use super::event::{
    BodyEntry, DeviceEntry, DisplayEntry, DocumentEntry, ItemEntry, LayoutEntry, PersonEntry,
    SeatEntry, VersionEntry,
};
use super::person::{PersonName, Phone, Position, Unit};
use super::quorum::Threshold;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use time::OffsetDateTime;

/// A random id for people, bodies, meetings and devices: 32 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "String", into = "String")]
pub struct Id(String);

/// Whether `s` is exactly `len` lower-case hex digits: the shape of every id and hash here.
pub fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// 32 random lower-case hex digits.
pub fn random_hex32() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Id {
    pub fn random() -> Self {
        Self(random_hex32())
    }
    pub fn parse(s: &str) -> Option<Self> {
        is_lower_hex(s, 32).then(|| Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Id {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Id::parse(&s).ok_or_else(|| format!("{s:?} is not an id"))
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        id.0
    }
}

/// A person the box knows: a member of a body, a guest, or staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Person {
    pub id: Id,
    pub name: PersonName,
    pub position: Option<Position>,
    pub unit: Option<Unit>,
    pub phone: Option<Phone>,
}

/// What kind of body meets: it sets the default rules and the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// Ủy ban nhân dân: People's Committee.
    Ubnd,
    /// Hội đồng nhân dân: People's Council.
    Hdnd,
    /// Đảng ủy: a party committee.
    Party,
    Other,
}

/// A body that meets, with its members (who vote) and its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Body {
    pub id: Id,
    pub name: String,
    pub kind: BodyKind,
    /// How many members must be present for the meeting to proceed.
    pub quorum: Threshold,
    /// How many members must approve for a decision to pass (used by voting).
    pub pass: Threshold,
    pub members: Vec<Id>,
    /// Working days before a meeting its documents should reach members.
    #[serde(default = "default_lead_days")]
    pub publish_lead_days: u32,
}

fn default_lead_days() -> u32 {
    3
}

impl BodyKind {
    /// The law's defaults: at least 2/3 present; more than half of all members to pass.
    pub fn default_rules(self) -> (Threshold, Threshold) {
        (Threshold::TWO_THIRDS, Threshold::MORE_THAN_HALF)
    }
}

/// A meeting's own facts, without its agenda and documents: what deciding who may see the
/// meeting needs, and what the store keeps as one small record per meeting so that a change
/// to one agenda item or document never rewrites the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct MeetingHeader {
    pub id: Id,
    pub body_id: Id,
    pub title: String,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub chair_id: Option<Id>,
    /// Invited with a vote; counted for quorum.
    pub members: Vec<Id>,
    /// Invited without a vote (khách mời).
    pub guests: Vec<Id>,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub status: MeetingStatus,
    #[ts(type = "string | null")]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// The chair's comment when sending the meeting back for changes.
    #[serde(default)]
    pub review_comment: Option<String>,
    /// Where in the node's log the meeting was published: delegates' feeds replay nothing
    /// from before it (the draft history is the staff's).
    #[serde(default)]
    pub published_seq: Option<u64>,
    /// Where it was last submitted for review: the chair's tablet sees from there on.
    #[serde(default)]
    pub submitted_seq: Option<u64>,
    /// The next ordinal for an agenda item or document, so that a new one goes last without
    /// reading the others.
    #[serde(default)]
    pub next_ord: u64,
    /// Which details changed after publishing, for the "đã cập nhật" marks.
    #[serde(default)]
    pub changed_after_publish: ChangedDetails,
    /// On the hub: the room box the meeting was handed to. The hub changes it no more.
    #[serde(default)]
    pub handed_over_to: Option<HandedOver>,
    /// On a room box: the hub's `meeting.handed_over` it was adopted from.
    #[serde(default)]
    pub adopted_from: Option<super::event::EventRef>,
}

/// Where and when the hub handed a meeting over (`meeting.handed_over`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HandedOver {
    #[ts(type = "string")]
    pub node: super::NodeId,
    /// The box's room, as enrolled.
    pub room: String,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Where in the hub's log.
    #[ts(type = "number")]
    pub seq: u64,
}

/// Details of a published meeting that changed since it was published.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ChangedDetails {
    pub title: bool,
    pub starts_at: bool,
    pub place: bool,
}

impl MeetingHeader {
    /// A new draft, from its `meeting.created` event.
    pub fn created(e: &super::event::MeetingEntry) -> Self {
        MeetingHeader {
            id: e.id.clone(),
            body_id: e.body_id.clone(),
            title: e.title.clone(),
            starts_at: e.starts_at,
            chair_id: e.chair_id.clone(),
            members: e.members.clone(),
            guests: e.guests.clone(),
            place: e.place.clone(),
            status: e.status,
            published_at: e.published_at,
            review_comment: e.review_comment.clone(),
            published_seq: None,
            submitted_seq: None,
            next_ord: 0,
            changed_after_publish: ChangedDetails::default(),
            handed_over_to: None,
            adopted_from: None,
        }
    }

    pub fn is_invited(&self, person: &Id) -> bool {
        self.members.contains(person) || self.guests.contains(person)
    }
}

/// A meeting with its agenda and documents, assembled from the per-record read models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub info: MeetingHeader,
    /// The agenda, in order.
    pub agenda: Vec<Item>,
    /// Documents in the order they were added.
    pub documents: Vec<Document>,
}

impl std::ops::Deref for Meeting {
    type Target = MeetingHeader;
    fn deref(&self) -> &MeetingHeader {
        &self.info
    }
}

/// Where a meeting is on its way to the delegates' tablets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    /// Dự thảo: the secretary prepares it.
    #[default]
    Draft,
    /// Trình duyệt: waiting for the chair.
    Submitted,
    /// Phê duyệt: the chair approved it.
    Approved,
    /// Phát hành: delegates have it.
    Published,
}

/// A step of the review workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Submit,
    Approve,
    SendBack,
    Publish,
}

impl MeetingStatus {
    /// The status after `step`, or `None` if the step is not possible from here.
    pub fn after(self, step: Step) -> Option<MeetingStatus> {
        use MeetingStatus as S;
        match (self, step) {
            (S::Draft, Step::Submit) => Some(S::Submitted),
            (S::Submitted, Step::Approve) => Some(S::Approved),
            (S::Submitted | S::Approved, Step::SendBack) => Some(S::Draft),
            (S::Approved, Step::Publish) => Some(S::Published),
            _ => None,
        }
    }

    /// The secretary edits a draft freely; a published meeting may still change (flagged to
    /// delegates); while the chair reviews, it stays as submitted.
    pub fn editable(self) -> bool {
        matches!(self, MeetingStatus::Draft | MeetingStatus::Published)
    }
}

/// An agenda item (mục, nội dung).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Item {
    pub id: Id,
    pub title: String,
    pub presenter: String,
    pub duration_minutes: Option<u16>,
    pub description: String,
    /// The presenter as a person of the meeting (marks can be sent to them), if named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub presenter_id: Option<Id>,
    /// Added or changed after the meeting was published: delegates see it marked
    /// "đã cập nhật". Set by the read model, never by an event.
    #[serde(default)]
    pub updated_after_publish: bool,
}

/// A document of an agenda item, with every version kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Document {
    pub id: Id,
    pub item_id: Id,
    pub title: String,
    /// Số, ký hiệu, e.g. "12/TTr-UBND".
    pub number: Option<String>,
    pub kind: DocumentKind,
    /// `None`: every invitee; otherwise only these people (and the secretary and chair).
    pub restricted_to: Option<Vec<Id>>,
    pub versions: Vec<Version>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Read in the app.
    Pdf,
    /// Downloaded (DOCX, XLSX, images).
    Attachment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Version {
    pub n: u32,
    pub sha256: String,
    pub size: u64,
    pub file_name: String,
    pub content_type: String,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
}

impl Document {
    pub fn current(&self) -> Option<&Version> {
        self.versions.last()
    }

    pub fn visible_to(&self, person: &Id) -> bool {
        self.restricted_to
            .as_ref()
            .is_none_or(|names| names.contains(person))
    }

    /// Added or changed since the meeting was published: delegates see it marked
    /// "đã cập nhật".
    pub fn updated_after(&self, published_at: Option<OffsetDateTime>) -> bool {
        match (published_at, self.current()) {
            (Some(p), Some(cur)) => cur.uploaded_at > p,
            _ => false,
        }
    }
}

/// A tablet (or phone, or laptop) paired to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Device {
    pub id: Id,
    pub person_id: Id,
    pub label: String,
    /// The device's own P-256 key; acts that need proof are signed with it.
    pub key: DeviceKey,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub paired_at: OffsetDateTime,
    #[ts(type = "string | null")]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// A projector screen or TV paired as a read-only display: no person, no key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Display {
    pub id: Id,
    pub label: String,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub paired_at: OffsetDateTime,
    #[ts(type = "string | null")]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<&DisplayEntry> for Display {
    fn from(e: &DisplayEntry) -> Self {
        Display {
            id: e.id.clone(),
            label: e.label.clone(),
            paired_at: e.paired_at,
            revoked_at: None,
        }
    }
}

impl From<&Display> for DisplayEntry {
    fn from(d: &Display) -> Self {
        DisplayEntry {
            id: d.id.clone(),
            label: d.label.clone(),
            paired_at: d.paired_at,
        }
    }
}

/// Where a person stands for a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    /// Invited, no answer yet.
    Invited,
    /// Báo vắng: absent with leave, sent ahead.
    Excused,
    Present,
    /// Đến muộn: arrived after the start; counts as present.
    Late,
    /// Về sớm: left before the end; no longer counts as present.
    LeftEarly,
    /// Vắng không phép: absent without leave.
    Absent,
}

impl AttendanceStatus {
    /// Whether the person is in the room now, for the quorum.
    pub fn in_room(self) -> bool {
        matches!(self, AttendanceStatus::Present | AttendanceStatus::Late)
    }
}

/// One person's attendance at one meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct AttendanceRecord {
    pub status: AttendanceStatus,
    #[ts(type = "string | null")]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    pub reason: Option<String>,
}

impl Default for AttendanceRecord {
    fn default() -> Self {
        Self {
            status: AttendanceStatus::Invited,
            at: None,
            reason: None,
        }
    }
}

/// The room's seats, laid out once per room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Layout {
    pub shape: LayoutShape,
    pub seats: Vec<Seat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum LayoutShape {
    Rows,
    U,
    Free,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Seat {
    pub id: String,
    pub label: String,
    /// Room units, 0–1000, from the top left; the chair's table is at the top.
    pub x: u16,
    pub y: u16,
}

/// Who sits where in one meeting: seat id → person id.
pub type Assignments = BTreeMap<String, Id>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("a room has at most {0} seats")]
    TooManySeats(usize),
    #[error("seat id {0:?} must be 1 to 16 letters, digits, '-' or '_'")]
    BadSeatId(String),
    #[error("seat id {0:?} is used twice")]
    DuplicateSeat(String),
    #[error("seat {0:?} has an empty or too long label")]
    BadLabel(String),
    #[error("seat {0:?} is outside the room (0 to 1000)")]
    OutOfRoom(String),
}

impl Layout {
    pub const MAX_SEATS: usize = 600;

    /// Checks a layout sent by the editor.
    pub fn validate(self) -> Result<Layout, LayoutError> {
        if self.seats.len() > Self::MAX_SEATS {
            return Err(LayoutError::TooManySeats(Self::MAX_SEATS));
        }
        let mut seen = std::collections::HashSet::new();
        for s in &self.seats {
            let id_ok = (1..=16).contains(&s.id.len())
                && s.id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !id_ok {
                return Err(LayoutError::BadSeatId(s.id.clone()));
            }
            if !seen.insert(s.id.as_str()) {
                return Err(LayoutError::DuplicateSeat(s.id.clone()));
            }
            let label = s.label.trim();
            if label.is_empty() || label.chars().count() > 40 || label.chars().any(char::is_control)
            {
                return Err(LayoutError::BadLabel(s.id.clone()));
            }
            if s.x > 1000 || s.y > 1000 {
                return Err(LayoutError::OutOfRoom(s.id.clone()));
            }
        }
        Ok(self)
    }
}

// --- From the events' payloads ----------------------------------------------------------------
// Read models are projections of the log: they are built from the events' own types, never
// the other way round, so reshaping a read model cannot change what the log holds.

impl From<&PersonEntry> for Person {
    fn from(e: &PersonEntry) -> Self {
        Person {
            id: e.id.clone(),
            name: e.name.clone(),
            position: e.position.clone(),
            unit: e.unit.clone(),
            phone: e.phone.clone(),
        }
    }
}

impl From<&Person> for PersonEntry {
    fn from(p: &Person) -> Self {
        PersonEntry {
            id: p.id.clone(),
            name: p.name.clone(),
            position: p.position.clone(),
            unit: p.unit.clone(),
            phone: p.phone.clone(),
        }
    }
}

impl From<&BodyEntry> for Body {
    fn from(e: &BodyEntry) -> Self {
        Body {
            id: e.id.clone(),
            name: e.name.clone(),
            kind: e.kind,
            quorum: e.quorum,
            pass: e.pass,
            members: e.members.clone(),
            publish_lead_days: e.publish_lead_days,
        }
    }
}

impl From<&Body> for BodyEntry {
    fn from(b: &Body) -> Self {
        BodyEntry {
            id: b.id.clone(),
            name: b.name.clone(),
            kind: b.kind,
            quorum: b.quorum,
            pass: b.pass,
            members: b.members.clone(),
            publish_lead_days: b.publish_lead_days,
        }
    }
}

impl From<&ItemEntry> for Item {
    fn from(e: &ItemEntry) -> Self {
        Item {
            id: e.id.clone(),
            title: e.title.clone(),
            presenter: e.presenter.clone(),
            duration_minutes: e.duration_minutes,
            description: e.description.clone(),
            presenter_id: e.presenter_id.clone(),
            updated_after_publish: false,
        }
    }
}

impl From<&Item> for ItemEntry {
    fn from(i: &Item) -> Self {
        ItemEntry {
            id: i.id.clone(),
            title: i.title.clone(),
            presenter: i.presenter.clone(),
            duration_minutes: i.duration_minutes,
            description: i.description.clone(),
            presenter_id: i.presenter_id.clone(),
        }
    }
}

impl From<&VersionEntry> for Version {
    fn from(e: &VersionEntry) -> Self {
        Version {
            n: e.n,
            sha256: e.sha256.clone(),
            size: e.size,
            file_name: e.file_name.clone(),
            content_type: e.content_type.clone(),
            uploaded_at: e.uploaded_at,
        }
    }
}

impl From<&Version> for VersionEntry {
    fn from(v: &Version) -> Self {
        VersionEntry {
            n: v.n,
            sha256: v.sha256.clone(),
            size: v.size,
            file_name: v.file_name.clone(),
            content_type: v.content_type.clone(),
            uploaded_at: v.uploaded_at,
        }
    }
}

impl From<&DocumentEntry> for Document {
    fn from(e: &DocumentEntry) -> Self {
        Document {
            id: e.id.clone(),
            item_id: e.item_id.clone(),
            title: e.title.clone(),
            number: e.number.clone(),
            kind: e.kind,
            restricted_to: e.restricted_to.clone(),
            versions: e.versions.iter().map(Version::from).collect(),
        }
    }
}

impl From<&Document> for DocumentEntry {
    fn from(d: &Document) -> Self {
        DocumentEntry {
            id: d.id.clone(),
            item_id: d.item_id.clone(),
            title: d.title.clone(),
            number: d.number.clone(),
            kind: d.kind,
            restricted_to: d.restricted_to.clone(),
            versions: d.versions.iter().map(VersionEntry::from).collect(),
        }
    }
}

impl From<&DeviceEntry> for Device {
    fn from(e: &DeviceEntry) -> Self {
        Device {
            id: e.id.clone(),
            person_id: e.person_id.clone(),
            label: e.label.clone(),
            key: e.key.clone(),
            paired_at: e.paired_at,
            revoked_at: e.revoked_at,
        }
    }
}

impl From<&Device> for DeviceEntry {
    fn from(d: &Device) -> Self {
        DeviceEntry {
            id: d.id.clone(),
            person_id: d.person_id.clone(),
            label: d.label.clone(),
            key: d.key.clone(),
            paired_at: d.paired_at,
            revoked_at: d.revoked_at,
        }
    }
}

impl From<&LayoutEntry> for Layout {
    fn from(e: &LayoutEntry) -> Self {
        Layout {
            shape: e.shape,
            seats: e
                .seats
                .iter()
                .map(|s| Seat {
                    id: s.id.clone(),
                    label: s.label.clone(),
                    x: s.x,
                    y: s.y,
                })
                .collect(),
        }
    }
}

impl From<&Layout> for LayoutEntry {
    fn from(l: &Layout) -> Self {
        LayoutEntry {
            shape: l.shape,
            seats: l
                .seats
                .iter()
                .map(|s| SeatEntry {
                    id: s.id.clone(),
                    label: s.label.clone(),
                    x: s.x,
                    y: s.y,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(id: &str, x: u16) -> Seat {
        Seat {
            id: id.into(),
            label: format!("Ghế {id}"),
            x,
            y: 10,
        }
    }

    #[test]
    fn layouts_are_checked() {
        let ok = Layout {
            shape: LayoutShape::Rows,
            seats: vec![seat("A1", 0), seat("A2", 1000)],
        };
        assert!(ok.clone().validate().is_ok());
        let mut dup = ok.clone();
        dup.seats.push(seat("A1", 5));
        assert_eq!(dup.validate(), Err(LayoutError::DuplicateSeat("A1".into())));
        let mut out = ok.clone();
        out.seats[0].x = 1001;
        assert!(matches!(out.validate(), Err(LayoutError::OutOfRoom(_))));
        let mut bad = ok;
        bad.seats[0].id = "../x".into();
        assert!(matches!(bad.validate(), Err(LayoutError::BadSeatId(_))));
    }

    #[test]
    fn in_room_statuses() {
        assert!(AttendanceStatus::Present.in_room());
        assert!(AttendanceStatus::Late.in_room());
        assert!(!AttendanceStatus::LeftEarly.in_room());
        assert!(!AttendanceStatus::Excused.in_room());
    }
}
