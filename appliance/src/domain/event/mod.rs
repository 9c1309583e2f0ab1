//! The events of a node's log. Every accepted change is one or more of these, chained by hash
//! so that the record is tamper-evident, and numbered per origin so that sync can resume.
//!
//! The encoding is versioned (`v`): a reader keeps the exact stored bytes, and the hash is
//! taken over those bytes, so an event written by a newer version still verifies here even if
//! this version cannot decode its body.

#[cfg(test)]
pub(crate) mod golden;
pub mod payload;

use super::records::{Assignments, AttendanceStatus, Id};
use super::role::{Actor, Role};
use super::text::{NoticeText, RoomName, Username};
pub use payload::{
    BodyEntry, DeviceEntry, DisplayEntry, DocumentEntry, EventRef, HandoverSnapshot, ItemEntry,
    LayoutEntry, MeetingEntry, PersonEntry, SeatEntry, SpeechRequestEntry, VersionEntry,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use time::OffsetDateTime;

/// The envelope version this build writes.
pub const ENVELOPE_VERSION: u16 = 1;

/// A node (room box or hub), named by a random id made at `init`. It never changes, so a
/// node's log can be told apart from every other's when they meet at the hub.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
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

/// What happened. The `kind` strings are part of the sync protocol: never rename one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
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
    PersonAdded { person: PersonEntry },
    #[serde(rename = "body.created")]
    BodyCreated { body: BodyEntry },
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
    MeetingCreated { meeting: MeetingEntry },
    /// A pairing code was handed out. The code itself stays node-local (only its hash).
    #[serde(rename = "pairing.code_issued")]
    PairingCodeIssued {
        person_id: Id,
        #[ts(type = "string")]
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    #[serde(rename = "device.paired")]
    DevicePaired { device: DeviceEntry },
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
        #[ts(type = "string | null")]
        #[serde(default, with = "time::serde::rfc3339::option")]
        at: Option<OffsetDateTime>,
        reason: Option<String>,
    },
    #[serde(rename = "seating.layout_saved")]
    LayoutSaved { layout: LayoutEntry },
    #[serde(rename = "seating.assigned")]
    SeatsAssigned {
        meeting_id: Id,
        assignments: Assignments,
    },
    #[serde(rename = "meeting.details_set")]
    MeetingDetailsSet {
        meeting_id: Id,
        title: String,
        #[ts(type = "string")]
        #[serde(with = "time::serde::rfc3339")]
        starts_at: OffsetDateTime,
        place: String,
        chair_id: Option<Id>,
    },
    #[serde(rename = "agenda.item_added")]
    ItemAdded { meeting_id: Id, item: ItemEntry },
    #[serde(rename = "agenda.item_updated")]
    ItemUpdated { meeting_id: Id, item: ItemEntry },
    #[serde(rename = "agenda.item_removed")]
    ItemRemoved { meeting_id: Id, item_id: Id },
    #[serde(rename = "agenda.reordered")]
    AgendaReordered { meeting_id: Id, order: Vec<Id> },
    #[serde(rename = "document.added")]
    DocumentAdded {
        meeting_id: Id,
        document: DocumentEntry,
    },
    /// Document events carry who may see the document, so a live feed can filter them
    /// without a lookup.
    #[serde(rename = "document.version_added")]
    DocumentVersionAdded {
        meeting_id: Id,
        document_id: Id,
        version: VersionEntry,
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
    /// A staff member changed their own password (knowing the old one). The hash stays
    /// node-local; their other sessions ended in the same write.
    #[serde(rename = "account.password_changed")]
    AccountPasswordChanged { username: Username },
    /// The IT admin set a new password for someone; all their sessions ended.
    #[serde(rename = "account.password_reset")]
    AccountPasswordReset { username: Username },
    /// The IT admin disabled an account: it cannot sign in, its sessions ended.
    #[serde(rename = "account.disabled")]
    AccountDisabled { username: Username },
    /// The IT admin enabled a disabled account again.
    #[serde(rename = "account.enabled")]
    AccountEnabled { username: Username },
    /// The IT admin removed an account, its password and its sessions.
    #[serde(rename = "account.removed")]
    AccountRemoved { username: Username },
    /// The IT admin ended every session of an account (its open feeds close too).
    #[serde(rename = "account.sessions_ended")]
    AccountSessionsEnded { username: Username },
    /// The chair opened the meeting (khai mạc).
    #[serde(rename = "meeting.started")]
    MeetingStarted { meeting_id: Id },
    /// A recess, with its reason ("Nghỉ giải lao 15 phút").
    #[serde(rename = "meeting.paused")]
    MeetingPaused { meeting_id: Id, reason: String },
    #[serde(rename = "meeting.resumed")]
    MeetingResumed { meeting_id: Id },
    /// The chair closed the meeting (bế mạc); requests still waiting lapse.
    #[serde(rename = "meeting.ended")]
    MeetingEnded { meeting_id: Id },
    /// The agenda item under discussion from now on.
    #[serde(rename = "agenda.item_opened")]
    ItemOpened { meeting_id: Id, item_id: Id },
    /// Xin phát biểu: a request joins the queue in front of `request.before` (or last).
    #[serde(rename = "speech.requested")]
    SpeechRequested {
        meeting_id: Id,
        request: SpeechRequestEntry,
    },
    #[serde(rename = "speech.withdrawn")]
    SpeechWithdrawn { meeting_id: Id, request_id: Id },
    /// The chair's new order for the current item's waiting requests.
    #[serde(rename = "speech.reordered")]
    SpeechReordered { meeting_id: Id, order: Vec<Id> },
    /// A speaking time for one person (waiting, or extending the current speech).
    #[serde(rename = "speech.time_set")]
    SpeechTimeSet {
        meeting_id: Id,
        request_id: Id,
        seconds: u32,
    },
    #[serde(rename = "speech.limits_set")]
    SpeechLimitsSet {
        meeting_id: Id,
        limits: super::live::SpeechLimits,
    },
    /// The chair gave the floor, for `seconds`; the clock starts at the event's time.
    #[serde(rename = "speech.started")]
    SpeechStarted {
        meeting_id: Id,
        request_id: Id,
        seconds: u32,
    },
    #[serde(rename = "speech.ended")]
    SpeechEnded { meeting_id: Id, request_id: Id },
    /// "Follow me": every following tablet shows this page of this document.
    #[serde(rename = "follow.set")]
    FollowSet {
        meeting_id: Id,
        document_id: Id,
        page: u32,
    },
    #[serde(rename = "follow.stopped")]
    FollowStopped { meeting_id: Id },
    /// The chair handed the console to a secretary's account (or took it back: `null`).
    #[serde(rename = "console.delegated")]
    ConsoleDelegated {
        meeting_id: Id,
        username: Option<Username>,
    },
    /// A projector screen paired as a read-only display (no person, no PIN).
    #[serde(rename = "display.paired")]
    DisplayPaired { display: DisplayEntry },
    /// The secretary revoked a display; its cookie stops working at once.
    #[serde(rename = "display.revoked")]
    DisplayRevoked { display_id: Id },
    /// A question to vote on, prepared for an agenda item.
    #[serde(rename = "question.added")]
    QuestionAdded {
        meeting_id: Id,
        question: super::vote::QuestionEntry,
    },
    /// A question changed before it was opened (the whole question, replaced).
    #[serde(rename = "question.updated")]
    QuestionUpdated {
        meeting_id: Id,
        question: super::vote::QuestionEntry,
    },
    #[serde(rename = "question.removed")]
    QuestionRemoved { meeting_id: Id, question_id: Id },
    /// Voting opened, with the server's nonce that every ballot signs, the size of the body
    /// and of the room at that moment, and when the countdown closes it.
    #[serde(rename = "vote.opened")]
    VoteOpened {
        meeting_id: Id,
        question_id: Id,
        /// The question as it was opened: what every ballot answers.
        question: super::vote::QuestionEntry,
        nonce: String,
        electorate: super::vote::Electorate,
        #[ts(type = "string | null")]
        #[serde(default, with = "time::serde::rfc3339::option")]
        closes_at: Option<OffsetDateTime>,
    },
    /// A named ballot, signed by the voter's tablet.
    #[serde(rename = "vote.ballot_cast")]
    BallotCast {
        meeting_id: Id,
        question_id: Id,
        ballot: super::vote::SignedBallot,
    },
    /// Someone took part in a secret vote: who, never how.
    #[serde(rename = "vote.participated")]
    VoteParticipated {
        meeting_id: Id,
        question_id: Id,
        participation: super::vote::Participation,
    },
    /// The result, signed by the node: the first event that carries a secret vote's choices.
    #[serde(rename = "vote.closed")]
    VoteClosed {
        meeting_id: Id,
        question_id: Id,
        result: Box<super::vote::SignedResult>,
    },
    /// A delegate's mark on a document, new, changed or erased (a tombstone): the whole mark,
    /// the revision that won. `shared_before`: whether the revision it replaced was shared, so
    /// those who saw it learn that it is gone.
    #[serde(rename = "annotation.saved")]
    AnnotationSaved {
        meeting_id: Id,
        annotation: super::annotation::AnnotationEntry,
        #[serde(default)]
        shared_before: super::annotation::Sharing,
    },
    /// A delegate's own note on an agenda item.
    #[serde(rename = "item_note.saved")]
    ItemNoteSaved {
        meeting_id: Id,
        note: super::annotation::ItemNoteEntry,
    },
    /// The hub issued a one-time enrolment token for a room (the token itself is node-local:
    /// only its hash is kept, in a table that never travels).
    #[serde(rename = "enrolment.issued")]
    EnrolmentIssued {
        token_id: Id,
        room: String,
        #[ts(type = "string")]
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// The hub enrolled a room box: the box's node id and the client certificate it syncs with.
    #[serde(rename = "box.enrolled")]
    BoxEnrolled {
        token_id: Id,
        #[ts(type = "string")]
        node_id: NodeId,
        room: String,
        cert_serial: String,
        #[ts(type = "string")]
        #[serde(with = "time::serde::rfc3339")]
        cert_not_after: OffsetDateTime,
    },
    /// The hub stopped accepting a box's sync: its certificate no longer works.
    #[serde(rename = "box.revoked")]
    BoxRevoked {
        #[ts(type = "string")]
        node_id: NodeId,
        reason: String,
    },
    /// This box enrolled with a hub: from now on it syncs with it.
    #[serde(rename = "node.enrolled")]
    NodeEnrolled {
        #[ts(type = "string")]
        hub_node_id: NodeId,
        hub_url: String,
        /// SHA-256 of the hub's root certificate, as the token pinned it.
        hub_root_sha256: String,
    },
    /// The node signs how far its own log went: `(origin, seq, hash)` of the event just before
    /// this one, with its record-signing key, so that a receiver can later prove what the node
    /// had recorded (see `docs/sync-protocol.md`, "Signed checkpoints").
    #[serde(rename = "log.checkpoint")]
    LogCheckpoint {
        seq: u64,
        #[ts(type = "string")]
        hash: Hash,
        /// ECDSA P-256 over the canonical JSON of [`super::hub::CheckpointStatement`].
        signature: String,
        /// The record-signing certificate (PEM) whose key signed.
        certificate_pem: String,
    },
    /// A private mark, sealed with the box's notes key (see [`super::seal`]): who owns it and
    /// which document it is on stay readable, what it says and where it is do not.
    #[serde(rename = "annotation.sealed")]
    AnnotationSealed {
        meeting_id: Id,
        owner_id: Id,
        document_id: Id,
        annotation_id: Id,
        #[serde(default)]
        shared_before: super::annotation::Sharing,
        sealed: String,
    },
    /// A personal note on an agenda item, sealed with the box's notes key.
    #[serde(rename = "item_note.sealed")]
    ItemNoteSealed {
        meeting_id: Id,
        owner_id: Id,
        sealed: String,
    },
    /// A sync receiver met another node's events that disagree with what it holds (a fork):
    /// recorded, never resolved silently; IT staff decide.
    #[serde(rename = "sync.conflict")]
    SyncConflict {
        #[ts(type = "string")]
        origin: NodeId,
        seq: u64,
        /// `fork`: the sender's event at `seq` differs from the one held.
        reason: String,
        #[ts(type = "string | null")]
        ours: Option<Hash>,
        #[ts(type = "string")]
        theirs: Hash,
    },
    /// The hub handed a meeting it prepared to a room box: from now on the box owns it and the
    /// hub refuses every change to it. The snapshot is what the room needs, as the hub's read
    /// models held it at that moment; the box applies nothing of this event itself, it records
    /// its own `meeting.adopted`.
    #[serde(rename = "meeting.handed_over")]
    MeetingHandedOver {
        meeting_id: Id,
        /// The room box it was handed to.
        #[ts(type = "string")]
        node_id: NodeId,
        /// That box's room, as enrolled.
        room: String,
        snapshot: Box<HandoverSnapshot>,
    },
    /// A room box took over a meeting the hub handed to it (`from`: the hub's
    /// `meeting.handed_over`): people, body and meeting as the snapshot says, under the hub's
    /// ids.
    #[serde(rename = "meeting.adopted")]
    MeetingAdopted {
        from: EventRef,
        snapshot: Box<HandoverSnapshot>,
    },
}

impl EventBody {
    /// Every kind this build writes, with the version of its body. A kind's body may gain
    /// optional fields (old events still decode, with the default); any other change is a new
    /// kind string (`<kind>.v2`) with its own variant, and the old variant stays so that old
    /// logs keep decoding. The golden files pin each kind's JSON.
    pub const KINDS: &'static [(&'static str, u16)] = &[
        ("node.initialised", 1),
        ("room.renamed", 1),
        ("notice.posted", 1),
        ("notice.cleared", 1),
        ("account.created", 1),
        ("person.added", 1),
        ("body.created", 1),
        ("body.members_set", 1),
        ("body.rules_set", 1),
        ("meeting.created", 1),
        ("pairing.code_issued", 1),
        ("device.paired", 1),
        ("device.revoked", 1),
        ("pin.set", 1),
        ("pin.reset", 1),
        ("attendance.marked", 1),
        ("seating.layout_saved", 1),
        ("seating.assigned", 1),
        ("meeting.details_set", 1),
        ("agenda.item_added", 1),
        ("agenda.item_updated", 1),
        ("agenda.item_removed", 1),
        ("agenda.reordered", 1),
        ("document.added", 1),
        ("document.version_added", 1),
        ("document.updated", 1),
        ("document.removed", 1),
        ("meeting.submitted", 1),
        ("meeting.approved", 1),
        ("meeting.sent_back", 1),
        ("meeting.published", 1),
        ("account.password_changed", 1),
        ("account.password_reset", 1),
        ("account.disabled", 1),
        ("account.enabled", 1),
        ("account.sessions_ended", 1),
        ("account.removed", 1),
        ("meeting.started", 1),
        ("meeting.paused", 1),
        ("meeting.resumed", 1),
        ("meeting.ended", 1),
        ("agenda.item_opened", 1),
        ("speech.requested", 1),
        ("speech.withdrawn", 1),
        ("speech.reordered", 1),
        ("speech.time_set", 1),
        ("speech.limits_set", 1),
        ("speech.started", 1),
        ("speech.ended", 1),
        ("follow.set", 1),
        ("follow.stopped", 1),
        ("console.delegated", 1),
        ("display.paired", 1),
        ("display.revoked", 1),
        ("question.added", 1),
        ("question.updated", 1),
        ("question.removed", 1),
        ("vote.opened", 1),
        ("vote.ballot_cast", 1),
        ("vote.participated", 1),
        ("vote.closed", 1),
        ("annotation.saved", 1),
        ("item_note.saved", 1),
        ("enrolment.issued", 1),
        ("box.enrolled", 1),
        ("box.revoked", 1),
        ("node.enrolled", 1),
        ("log.checkpoint", 1),
        ("annotation.sealed", 1),
        ("item_note.sealed", 1),
        ("sync.conflict", 1),
        ("meeting.handed_over", 1),
        ("meeting.adopted", 1),
    ];

    /// The version of this event's body (see [`Self::KINDS`]).
    pub fn version(&self) -> u16 {
        let kind = self.kind();
        Self::KINDS
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| *v)
            .unwrap_or(1)
    }

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
            EventBody::AccountPasswordChanged { .. } => "account.password_changed",
            EventBody::AccountPasswordReset { .. } => "account.password_reset",
            EventBody::AccountDisabled { .. } => "account.disabled",
            EventBody::AccountEnabled { .. } => "account.enabled",
            EventBody::AccountRemoved { .. } => "account.removed",
            EventBody::AccountSessionsEnded { .. } => "account.sessions_ended",
            EventBody::MeetingStarted { .. } => "meeting.started",
            EventBody::MeetingPaused { .. } => "meeting.paused",
            EventBody::MeetingResumed { .. } => "meeting.resumed",
            EventBody::MeetingEnded { .. } => "meeting.ended",
            EventBody::ItemOpened { .. } => "agenda.item_opened",
            EventBody::SpeechRequested { .. } => "speech.requested",
            EventBody::SpeechWithdrawn { .. } => "speech.withdrawn",
            EventBody::SpeechReordered { .. } => "speech.reordered",
            EventBody::SpeechTimeSet { .. } => "speech.time_set",
            EventBody::SpeechLimitsSet { .. } => "speech.limits_set",
            EventBody::SpeechStarted { .. } => "speech.started",
            EventBody::SpeechEnded { .. } => "speech.ended",
            EventBody::FollowSet { .. } => "follow.set",
            EventBody::FollowStopped { .. } => "follow.stopped",
            EventBody::ConsoleDelegated { .. } => "console.delegated",
            EventBody::DisplayPaired { .. } => "display.paired",
            EventBody::DisplayRevoked { .. } => "display.revoked",
            EventBody::QuestionAdded { .. } => "question.added",
            EventBody::QuestionUpdated { .. } => "question.updated",
            EventBody::QuestionRemoved { .. } => "question.removed",
            EventBody::VoteOpened { .. } => "vote.opened",
            EventBody::BallotCast { .. } => "vote.ballot_cast",
            EventBody::VoteParticipated { .. } => "vote.participated",
            EventBody::VoteClosed { .. } => "vote.closed",
            EventBody::AnnotationSaved { .. } => "annotation.saved",
            EventBody::ItemNoteSaved { .. } => "item_note.saved",
            EventBody::EnrolmentIssued { .. } => "enrolment.issued",
            EventBody::BoxEnrolled { .. } => "box.enrolled",
            EventBody::BoxRevoked { .. } => "box.revoked",
            EventBody::NodeEnrolled { .. } => "node.enrolled",
            EventBody::LogCheckpoint { .. } => "log.checkpoint",
            EventBody::AnnotationSealed { .. } => "annotation.sealed",
            EventBody::ItemNoteSealed { .. } => "item_note.sealed",
            EventBody::SyncConflict { .. } => "sync.conflict",
            EventBody::MeetingHandedOver { .. } => "meeting.handed_over",
            EventBody::MeetingAdopted { .. } => "meeting.adopted",
        }
    }

    /// The blobs an event refers to, as `(sha256, size)`: a receiver must hold each of them
    /// before it stores the event (sync's "blobs first" rule).
    pub fn blob_refs(&self) -> Vec<(&str, u64)> {
        match self {
            EventBody::DocumentAdded { document, .. } => document
                .versions
                .iter()
                .map(|v| (v.sha256.as_str(), v.size))
                .collect(),
            EventBody::DocumentVersionAdded { version, .. } => {
                vec![(version.sha256.as_str(), version.size)]
            }
            // The box that adopts a meeting holds its files first. The hub's
            // `meeting.handed_over` names them too, but every box stores the hub's whole log
            // and fetches only the files of the meetings handed to it
            // (`service::handover::blobs_needed`), so it is not held to them.
            EventBody::MeetingAdopted { snapshot, .. } => snapshot.blobs(),
            _ => Vec::new(),
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
            EventBody::MeetingStarted { meeting_id, .. } => Some(meeting_id),
            EventBody::MeetingPaused { meeting_id, .. } => Some(meeting_id),
            EventBody::MeetingResumed { meeting_id, .. } => Some(meeting_id),
            EventBody::MeetingEnded { meeting_id, .. } => Some(meeting_id),
            EventBody::ItemOpened { meeting_id, .. } => Some(meeting_id),
            EventBody::SpeechRequested { meeting_id, .. } => Some(meeting_id),
            EventBody::SpeechWithdrawn { meeting_id, .. } => Some(meeting_id),
            EventBody::SpeechReordered { meeting_id, .. } => Some(meeting_id),
            EventBody::SpeechTimeSet { meeting_id, .. } => Some(meeting_id),
            EventBody::SpeechLimitsSet { meeting_id, .. } => Some(meeting_id),
            EventBody::SpeechStarted { meeting_id, .. } => Some(meeting_id),
            EventBody::SpeechEnded { meeting_id, .. } => Some(meeting_id),
            EventBody::QuestionAdded { meeting_id, .. }
            | EventBody::QuestionUpdated { meeting_id, .. }
            | EventBody::QuestionRemoved { meeting_id, .. }
            | EventBody::VoteOpened { meeting_id, .. }
            | EventBody::BallotCast { meeting_id, .. }
            | EventBody::VoteParticipated { meeting_id, .. }
            | EventBody::VoteClosed { meeting_id, .. }
            | EventBody::AnnotationSaved { meeting_id, .. }
            | EventBody::ItemNoteSaved { meeting_id, .. }
            | EventBody::AnnotationSealed { meeting_id, .. }
            | EventBody::ItemNoteSealed { meeting_id, .. } => Some(meeting_id),
            EventBody::FollowSet { meeting_id, .. } => Some(meeting_id),
            EventBody::FollowStopped { meeting_id, .. } => Some(meeting_id),
            EventBody::ConsoleDelegated { meeting_id, .. } => Some(meeting_id),
            EventBody::MeetingHandedOver { meeting_id, .. } => Some(meeting_id),
            EventBody::MeetingAdopted { snapshot, .. } => Some(&snapshot.meeting.id),

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
            | EventBody::AccountSessionsEnded { .. }
            | EventBody::PersonAdded { .. }
            | EventBody::BodyCreated { .. }
            | EventBody::BodyMembersSet { .. }
            | EventBody::BodyRulesSet { .. }
            | EventBody::PairingCodeIssued { .. }
            | EventBody::DevicePaired { .. }
            | EventBody::DeviceRevoked { .. }
            | EventBody::DisplayPaired { .. }
            | EventBody::DisplayRevoked { .. }
            | EventBody::PinSet { .. }
            | EventBody::PinReset { .. }
            | EventBody::LayoutSaved { .. }
            | EventBody::EnrolmentIssued { .. }
            | EventBody::BoxEnrolled { .. }
            | EventBody::BoxRevoked { .. }
            | EventBody::NodeEnrolled { .. }
            | EventBody::LogCheckpoint { .. }
            | EventBody::SyncConflict { .. } => None,
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
