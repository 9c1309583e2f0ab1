//! The records of people, bodies, meetings, devices, attendance and seating: what events carry
//! and read models hold. They are built only from parsed values, so a record is valid by
//! construction.

use super::device::DeviceKey;
use super::person::{PersonName, Phone, Position, Unit};
use super::quorum::Threshold;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use time::OffsetDateTime;

/// A random id for people, bodies, meetings and devices: 32 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: Id,
    pub name: PersonName,
    pub position: Option<Position>,
    pub unit: Option<Unit>,
    pub phone: Option<Phone>,
}

/// What kind of body meets: it sets the default rules and the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A meeting, as far as attendance needs it. Preparation (agenda, documents) extends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    pub id: Id,
    pub body_id: Id,
    pub title: String,
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
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// The chair's comment when sending the meeting back for changes.
    #[serde(default)]
    pub review_comment: Option<String>,
    /// The agenda, in order.
    #[serde(default)]
    pub agenda: Vec<Item>,
    #[serde(default)]
    pub documents: Vec<Document>,
}

impl Meeting {
    /// Applies one of the meeting's own events: the projection behind the meeting's read
    /// model. Events of other kinds leave it unchanged.
    pub fn apply(&mut self, body: &super::EventBody, at: OffsetDateTime) {
        use super::EventBody as E;
        match body {
            E::MeetingDetailsSet {
                title,
                starts_at,
                place,
                chair_id,
                ..
            } => {
                self.title = title.clone();
                self.starts_at = *starts_at;
                self.place = place.clone();
                self.chair_id = chair_id.clone();
            }
            E::ItemAdded { item, .. } => self.agenda.push(item.clone()),
            E::ItemUpdated { item, .. } => {
                if let Some(i) = self.agenda.iter_mut().find(|i| i.id == item.id) {
                    *i = item.clone();
                }
            }
            E::ItemRemoved { item_id, .. } => self.agenda.retain(|i| &i.id != item_id),
            E::AgendaReordered { order, .. } => {
                let mut items = std::mem::take(&mut self.agenda);
                for id in order {
                    if let Some(pos) = items.iter().position(|i| &i.id == id) {
                        self.agenda.push(items.remove(pos));
                    }
                }
                // Anything the order did not name keeps its place at the end.
                self.agenda.extend(items);
            }
            E::DocumentAdded { document, .. } => self.documents.push(document.clone()),
            E::DocumentVersionAdded {
                document_id,
                version,
                ..
            } => {
                if let Some(d) = self.documents.iter_mut().find(|d| &d.id == document_id) {
                    d.versions.push(version.clone());
                }
            }
            E::DocumentUpdated {
                document_id,
                title,
                number,
                restricted_to,
                ..
            } => {
                if let Some(d) = self.documents.iter_mut().find(|d| &d.id == document_id) {
                    d.title = title.clone();
                    d.number = number.clone();
                    d.restricted_to = restricted_to.clone();
                }
            }
            E::DocumentRemoved { document_id, .. } => {
                self.documents.retain(|d| &d.id != document_id)
            }
            E::MeetingSubmitted { .. } => {
                self.status = MeetingStatus::Submitted;
                self.review_comment = None;
            }
            E::MeetingApproved { .. } => self.status = MeetingStatus::Approved,
            E::MeetingSentBack { comment, .. } => {
                self.status = MeetingStatus::Draft;
                self.review_comment = Some(comment.clone());
            }
            E::MeetingPublished { .. } => {
                self.status = MeetingStatus::Published;
                self.published_at = Some(at);
            }
            _ => {}
        }
    }
}

/// Where a meeting is on its way to the delegates' tablets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: Id,
    pub title: String,
    pub presenter: String,
    pub duration_minutes: Option<u16>,
    pub description: String,
}

/// A document of an agenda item, with every version kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Read in the app.
    Pdf,
    /// Downloaded (DOCX, XLSX, images).
    Attachment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub n: u32,
    pub sha256: String,
    pub size: u64,
    pub file_name: String,
    pub content_type: String,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: Id,
    pub person_id: Id,
    pub label: String,
    /// The device's own P-256 key; acts that need proof are signed with it.
    pub key: DeviceKey,
    #[serde(with = "time::serde::rfc3339")]
    pub paired_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// Where a person stands for a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceRecord {
    pub status: AttendanceStatus,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    pub shape: LayoutShape,
    pub seats: Vec<Seat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayoutShape {
    Rows,
    U,
    Free,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
