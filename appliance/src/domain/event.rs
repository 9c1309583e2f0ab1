//! The events of a node's log. Every accepted change is one or more of these, chained by hash
//! so that the record is tamper-evident, and numbered per origin so that sync can resume.
//!
//! The encoding is versioned (`v`): a reader keeps the exact stored bytes, and the hash is
//! taken over those bytes, so an event written by a newer version still verifies here even if
//! this version cannot decode its body.

use super::records::{
    Assignments, AttendanceStatus, Body, Device, Document, Id, Item, Layout, Meeting, Person,
    Version,
};
use super::role::{Actor, Role};
use super::text::{NoticeText, RoomName, Username};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use time::OffsetDateTime;

/// The envelope version this build writes.
pub const ENVELOPE_VERSION: u16 = 1;

/// A node (room box or hub), named by a random id made at `init`. It never changes, so a
/// node's log can be told apart from every other's when they meet at the hub.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(String);

impl NodeId {
    pub fn random() -> Self {
        Self(super::records::random_hex32())
    }
    /// Ids are 32 lower-case hex digits; anything else is not ours.
    pub fn parse(s: &str) -> Option<Self> {
        super::records::is_lower_hex(s, 32).then(|| Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// A short form for host names and display, e.g. `phonghop-3f9a1c.local`.
    pub fn short(&self) -> &str {
        self.0.get(..6).unwrap_or(&self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SHA-256 digest, written as lower-case hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The `prev` of a log's first event.
    pub const GENESIS: Hash = Hash([0; 32]);

    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Self(out))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Hash::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

/// Who may see an event on a live feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everyone on the room's network, signed in or not: the room's name and notices.
    Public,
    /// Staff of this node only.
    Staff,
}

/// What happened. The `kind` strings are part of the sync protocol: never rename one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body")]
pub enum EventBody {
    /// The first event of every log.
    #[serde(rename = "node.initialised")]
    NodeInitialised { room_name: RoomName, role: String },
    #[serde(rename = "room.renamed")]
    RoomRenamed { name: RoomName },
    /// A notice shown large on every tablet until cleared or replaced.
    #[serde(rename = "notice.posted")]
    NoticePosted { text: NoticeText },
    #[serde(rename = "notice.cleared")]
    NoticeCleared {},
    /// A staff account was made. The password hash is node-local and never enters the log.
    #[serde(rename = "account.created")]
    AccountCreated {
        username: Username,
        display_name: String,
        roles: Vec<Role>,
    },
    #[serde(rename = "person.added")]
    PersonAdded { person: Person },
    #[serde(rename = "body.created")]
    BodyCreated { body: Body },
    #[serde(rename = "body.members_set")]
    BodyMembersSet { body_id: Id, members: Vec<Id> },
    /// A body's name and rules: quorum, passing threshold, how many working days ahead
    /// documents should reach members.
    #[serde(rename = "body.rules_set")]
    BodyRulesSet {
        body_id: Id,
        name: String,
        quorum: super::quorum::Threshold,
        pass: super::quorum::Threshold,
        publish_lead_days: u32,
    },
    #[serde(rename = "meeting.created")]
    MeetingCreated { meeting: Meeting },
    /// A pairing code was handed out. The code itself stays node-local (only its hash).
    #[serde(rename = "pairing.code_issued")]
    PairingCodeIssued {
        person_id: Id,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    #[serde(rename = "device.paired")]
    DevicePaired { device: Device },
    #[serde(rename = "device.revoked")]
    DeviceRevoked { device_id: Id },
    /// A person's PIN was set at their first pairing; its hash stays node-local.
    #[serde(rename = "pin.set")]
    PinSet { person_id: Id },
    /// The secretary cleared a forgotten PIN; the next pairing sets a new one.
    #[serde(rename = "pin.reset")]
    PinReset { person_id: Id },
    #[serde(rename = "attendance.marked")]
    AttendanceMarked {
        meeting_id: Id,
        person_id: Id,
        status: AttendanceStatus,
        #[serde(default, with = "time::serde::rfc3339::option")]
        at: Option<OffsetDateTime>,
        reason: Option<String>,
    },
    #[serde(rename = "seating.layout_saved")]
    LayoutSaved { layout: Layout },
    #[serde(rename = "seating.assigned")]
    SeatsAssigned {
        meeting_id: Id,
        assignments: Assignments,
    },
    #[serde(rename = "meeting.details_set")]
    MeetingDetailsSet {
        meeting_id: Id,
        title: String,
        #[serde(with = "time::serde::rfc3339")]
        starts_at: OffsetDateTime,
        place: String,
        chair_id: Option<Id>,
    },
    #[serde(rename = "agenda.item_added")]
    ItemAdded { meeting_id: Id, item: Item },
    #[serde(rename = "agenda.item_updated")]
    ItemUpdated { meeting_id: Id, item: Item },
    #[serde(rename = "agenda.item_removed")]
    ItemRemoved { meeting_id: Id, item_id: Id },
    #[serde(rename = "agenda.reordered")]
    AgendaReordered { meeting_id: Id, order: Vec<Id> },
    #[serde(rename = "document.added")]
    DocumentAdded { meeting_id: Id, document: Document },
    /// Document events carry who may see the document, so a live feed can filter them
    /// without a lookup.
    #[serde(rename = "document.version_added")]
    DocumentVersionAdded {
        meeting_id: Id,
        document_id: Id,
        version: Version,
        restricted_to: Option<Vec<Id>>,
    },
    #[serde(rename = "document.updated")]
    DocumentUpdated {
        meeting_id: Id,
        document_id: Id,
        title: String,
        number: Option<String>,
        restricted_to: Option<Vec<Id>>,
        /// Who could see it before, so that people it is now hidden from hear of the change.
        #[serde(default)]
        was_restricted_to: Option<Vec<Id>>,
    },
    #[serde(rename = "document.removed")]
    DocumentRemoved {
        meeting_id: Id,
        document_id: Id,
        restricted_to: Option<Vec<Id>>,
    },
    #[serde(rename = "meeting.submitted")]
    MeetingSubmitted { meeting_id: Id },
    #[serde(rename = "meeting.approved")]
    MeetingApproved { meeting_id: Id },
    #[serde(rename = "meeting.sent_back")]
    MeetingSentBack { meeting_id: Id, comment: String },
    #[serde(rename = "meeting.published")]
    MeetingPublished { meeting_id: Id },
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::NodeInitialised { .. } => "node.initialised",
            EventBody::RoomRenamed { .. } => "room.renamed",
            EventBody::NoticePosted { .. } => "notice.posted",
            EventBody::NoticeCleared {} => "notice.cleared",
            EventBody::AccountCreated { .. } => "account.created",
            EventBody::PersonAdded { .. } => "person.added",
            EventBody::BodyCreated { .. } => "body.created",
            EventBody::BodyMembersSet { .. } => "body.members_set",
            EventBody::BodyRulesSet { .. } => "body.rules_set",
            EventBody::MeetingCreated { .. } => "meeting.created",
            EventBody::PairingCodeIssued { .. } => "pairing.code_issued",
            EventBody::DevicePaired { .. } => "device.paired",
            EventBody::DeviceRevoked { .. } => "device.revoked",
            EventBody::PinSet { .. } => "pin.set",
            EventBody::PinReset { .. } => "pin.reset",
            EventBody::AttendanceMarked { .. } => "attendance.marked",
            EventBody::LayoutSaved { .. } => "seating.layout_saved",
            EventBody::SeatsAssigned { .. } => "seating.assigned",
            EventBody::MeetingDetailsSet { .. } => "meeting.details_set",
            EventBody::ItemAdded { .. } => "agenda.item_added",
            EventBody::ItemUpdated { .. } => "agenda.item_updated",
            EventBody::ItemRemoved { .. } => "agenda.item_removed",
            EventBody::AgendaReordered { .. } => "agenda.reordered",
            EventBody::DocumentAdded { .. } => "document.added",
            EventBody::DocumentVersionAdded { .. } => "document.version_added",
            EventBody::DocumentUpdated { .. } => "document.updated",
            EventBody::DocumentRemoved { .. } => "document.removed",
            EventBody::MeetingSubmitted { .. } => "meeting.submitted",
            EventBody::MeetingApproved { .. } => "meeting.approved",
            EventBody::MeetingSentBack { .. } => "meeting.sent_back",
            EventBody::MeetingPublished { .. } => "meeting.published",
        }
    }

    /// For a person's live feed: may they see this event of a meeting they are invited to?
    /// Only what delegates need, and restricted documents only for the people named.
    pub fn visible_to_invitee(&self, person: &Id) -> bool {
        let named = |r: &Option<Vec<Id>>| r.as_ref().is_none_or(|names| names.contains(person));
        match self {
            EventBody::DocumentAdded { document, .. } => named(&document.restricted_to),
            EventBody::DocumentUpdated {
                restricted_to,
                was_restricted_to,
                ..
            } => named(restricted_to) || named(was_restricted_to),
            EventBody::DocumentVersionAdded { restricted_to, .. }
            | EventBody::DocumentRemoved { restricted_to, .. } => named(restricted_to),
            // Someone else's reason for absence stays with the secretary.
            EventBody::AttendanceMarked {
                person_id, reason, ..
            } => person_id == person || reason.is_none(),
            EventBody::SeatsAssigned { .. }
            | EventBody::MeetingDetailsSet { .. }
            | EventBody::ItemAdded { .. }
            | EventBody::ItemUpdated { .. }
            | EventBody::ItemRemoved { .. }
            | EventBody::AgendaReordered { .. }
            | EventBody::MeetingPublished { .. } => true,
            _ => false,
        }
    }

    /// The meeting an event belongs to, for that meeting's live feed.
    pub fn meeting_id(&self) -> Option<&Id> {
        match self {
            EventBody::MeetingCreated { meeting } => Some(&meeting.id),
            EventBody::AttendanceMarked { meeting_id, .. }
            | EventBody::SeatsAssigned { meeting_id, .. }
            | EventBody::MeetingDetailsSet { meeting_id, .. }
            | EventBody::ItemAdded { meeting_id, .. }
            | EventBody::ItemUpdated { meeting_id, .. }
            | EventBody::ItemRemoved { meeting_id, .. }
            | EventBody::AgendaReordered { meeting_id, .. }
            | EventBody::DocumentAdded { meeting_id, .. }
            | EventBody::DocumentVersionAdded { meeting_id, .. }
            | EventBody::DocumentUpdated { meeting_id, .. }
            | EventBody::DocumentRemoved { meeting_id, .. }
            | EventBody::MeetingSubmitted { meeting_id }
            | EventBody::MeetingApproved { meeting_id }
            | EventBody::MeetingSentBack { meeting_id, .. }
            | EventBody::MeetingPublished { meeting_id } => Some(meeting_id),
            _ => None,
        }
    }

    pub fn visibility(&self) -> Visibility {
        match self {
            EventBody::NodeInitialised { .. }
            | EventBody::RoomRenamed { .. }
            | EventBody::NoticePosted { .. }
            | EventBody::NoticeCleared {} => Visibility::Public,
            _ => Visibility::Staff,
        }
    }
}

/// One event as stored and as synced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub v: u16,
    pub origin: NodeId,
    /// Gap-free, starting at 1, per origin.
    pub seq: u64,
    /// Hash of the stored bytes of the origin's previous event.
    pub prev: Hash,
    /// The node's wall clock when it accepted the event. Informational only: a box may have no
    /// battery clock, so order always comes from `seq`, never from this.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: Actor,
    #[serde(flatten)]
    pub body: EventBody,
}

impl EventEnvelope {
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// The fields every reader needs even when it cannot decode the body (a newer kind).
#[derive(Debug, Clone, Deserialize)]
pub struct EnvelopeHeader {
    pub v: u16,
    pub origin: NodeId,
    pub seq: u64,
    pub prev: Hash,
    pub kind: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_and_keeps_kind_strings() {
        let e = EventEnvelope {
            v: ENVELOPE_VERSION,
            origin: NodeId::random(),
            seq: 7,
            prev: Hash::of(b"x"),
            at: OffsetDateTime::UNIX_EPOCH,
            actor: Actor::Node,
            body: EventBody::NoticePosted {
                text: NoticeText::parse("Họp lúc 8 giờ").unwrap(),
            },
        };
        let bytes = e.encode().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["kind"], "notice.posted");
        assert_eq!(json["body"]["text"], "Họp lúc 8 giờ");
        assert_eq!(EventEnvelope::decode(&bytes).unwrap(), e);
        let h: EnvelopeHeader = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(h.seq, 7);
    }

    #[test]
    fn decoding_refuses_invalid_text_inside_events() {
        let bad = r#"{"v":1,"origin":"00000000000000000000000000000000","seq":1,
            "prev":"0000000000000000000000000000000000000000000000000000000000000000",
            "at":"2026-01-01T00:00:00Z","actor":{"type":"node"},
            "kind":"room.renamed","body":{"name":"   "}}"#;
        assert!(EventEnvelope::decode(bad.as_bytes()).is_err());
    }

    #[test]
    fn node_id_parse() {
        let id = NodeId::random();
        assert_eq!(NodeId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(NodeId::parse("XYZ"), None);
        assert_eq!(id.short().len(), 6);
    }
}
