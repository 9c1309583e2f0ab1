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

impl Id {
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Self(s.to_owned()))
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
