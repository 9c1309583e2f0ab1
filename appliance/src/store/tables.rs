//! Every redb table of the node, in one place. Values are JSON with their own version fields
//! where they are synced; keys are chosen so that range scans answer the questions asked.

use redb::TableDefinition;

/// Node facts: `schema_version`, `node_id`, `role`, `created_at`.
pub const META: TableDefinition<&str, &str> = TableDefinition::new("meta");

/// Schema 1–2: the node's own log keyed by seq alone. Schema 3 moves it into [`EVENTS`].
pub const LOG_V2: TableDefinition<u64, &[u8]> = TableDefinition::new("log");

/// Every origin's log: `(origin node id, seq)` → the exact encoded envelope (the hash covers
/// these bytes). The node's own log is one origin among them; others arrive by sync.
pub const EVENTS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("events");

/// What the node holds of each origin: node id → JSON [`super::Cursor`] (`seq` and `hash` of
/// the last event stored, everything before it present).
pub const CURSORS: TableDefinition<&str, &[u8]> = TableDefinition::new("cursors");

/// Where start-up's integrity check may begin: node id → JSON [`super::Cursor`] of the last
/// event whose chain was verified from the genesis.
pub const CHECKPOINTS: TableDefinition<&str, &[u8]> = TableDefinition::new("checkpoints");

/// Read model of the room: `state` → JSON [`super::RoomState`].
pub const ROOM: TableDefinition<&str, &[u8]> = TableDefinition::new("room");

/// Read model of staff accounts: user name → JSON [`super::Account`].
pub const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");

/// Node-local secrets, never synced: user name → argon2id PHC string.
pub const CREDENTIALS: TableDefinition<&str, &str> = TableDefinition::new("credentials");

/// Signed-in sessions: SHA-256 of the cookie token (hex) → JSON [`super::Session`]. Only the
/// hash is kept, so a copy of the database does not let anyone sign in.
pub const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");

/// Blobs the node holds: SHA-256 (hex) → JSON [`super::blobs::BlobInfo`].
pub const BLOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("blobs");

/// Read model of people: person id → JSON [`crate::domain::records::Person`].
pub const PEOPLE: TableDefinition<&str, &[u8]> = TableDefinition::new("people");

/// Read model of bodies: body id → JSON [`crate::domain::records::Body`].
pub const BODIES: TableDefinition<&str, &[u8]> = TableDefinition::new("bodies");

/// Schema 1–2: meeting id → the whole meeting with its agenda and documents in one value.
pub const MEETINGS_V2: TableDefinition<&str, &[u8]> = TableDefinition::new("meetings");

/// Read model of meetings, one small record each: meeting id → JSON
/// [`crate::domain::records::MeetingHeader`].
pub const MEETINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("meeting_headers");

/// Read model of agenda items: `<meeting id>/<item id>` → JSON `{pos, item}`.
pub const AGENDA: TableDefinition<&str, &[u8]> = TableDefinition::new("agenda");

/// Read model of documents: `<meeting id>/<document id>` → JSON `{ord, document}`.
pub const DOCUMENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("documents");

/// Index: document id → its meeting id.
pub const DOCUMENT_MEETING: TableDefinition<&str, &str> = TableDefinition::new("document_meeting");

/// Index: `<sha256>/<document id>` → meeting id, for every version of a live document, so a
/// download finds the documents that hold a blob without reading every meeting.
pub const BLOB_USES: TableDefinition<&str, &str> = TableDefinition::new("blob_uses");

/// Read model of attendance: `<meeting id>/<person id>` → JSON
/// [`crate::domain::records::AttendanceRecord`]; a prefix scan lists one meeting.
pub const ATTENDANCE: TableDefinition<&str, &[u8]> = TableDefinition::new("attendance");

/// Read model of paired devices: device id → JSON [`crate::domain::records::Device`].
pub const DEVICES: TableDefinition<&str, &[u8]> = TableDefinition::new("devices");

/// Node-local: SHA-256 of a device cookie (hex) → device id.
pub const DEVICE_TOKENS: TableDefinition<&str, &str> = TableDefinition::new("device_tokens");

/// Node-local: SHA-256 of node id and pairing code (hex) → JSON [`super::records::CodeEntry`].
pub const PAIRING_CODES: TableDefinition<&str, &[u8]> = TableDefinition::new("pairing_codes");

/// Node-local: person id → argon2id PHC string of their PIN.
pub const PINS: TableDefinition<&str, &str> = TableDefinition::new("pins");

/// Read model of seating: `layout` → the room's layout; `meeting/<id>` → its assignments.
pub const SEATING: TableDefinition<&str, &[u8]> = TableDefinition::new("seating");

/// Read model of live meetings: meeting id → JSON [`crate::domain::live::LiveState`] (phase,
/// current item, the speakers' queue, who has the floor, "follow me").
pub const LIVE: TableDefinition<&str, &[u8]> = TableDefinition::new("live");

/// Read model of speeches heard: `<meeting id>/<seq of the event that ended it, 20 digits>` →
/// JSON [`crate::domain::live::Speech`]; a prefix scan lists one meeting's in order.
pub const SPEECHES: TableDefinition<&str, &[u8]> = TableDefinition::new("speeches");

/// Read model of paired displays (projector screens): display id → JSON
/// [`crate::domain::records::Display`].
pub const DISPLAYS: TableDefinition<&str, &[u8]> = TableDefinition::new("displays");

/// Node-local: SHA-256 of a display cookie (hex) → display id.
pub const DISPLAY_TOKENS: TableDefinition<&str, &str> = TableDefinition::new("display_tokens");

/// Node-local: SHA-256 of node id and a display's pairing code (hex) → JSON
/// [`super::records::DisplayCodeEntry`].
pub const DISPLAY_CODES: TableDefinition<&str, &[u8]> = TableDefinition::new("display_codes");

/// Read model of questions to vote on: `<meeting id>/<question id>` → JSON
/// [`crate::domain::vote::Question`].
pub const QUESTIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("questions");

/// Read model of what each voter cast: `<question id>/<person id>` → JSON
/// [`crate::domain::vote::Cast`] (a named ballot, or a secret vote's participation record).
pub const BALLOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("ballots");

/// Read model of signed results: question id → JSON [`crate::domain::vote::SignedResult`].
pub const RESULTS: TableDefinition<&str, &[u8]> = TableDefinition::new("results");

/// Node-local, never in the log: a secret vote's choices while it is open, `<question
/// id>/<receipt>` → JSON [`crate::domain::vote::Marked`]. The receipt is random, so the
/// key order says nothing about the order of arrival; no time and no person is stored. The
/// rows go when the vote closes (its `vote.closed` event publishes them, sorted by receipt).
/// Not a read model: a rebuild keeps it.
pub const SECRET_CHOICES: TableDefinition<&str, &[u8]> = TableDefinition::new("secret_choices");

/// Read model of delegates' marks on documents: `<meeting id>/<annotation id>` → JSON
/// [`crate::domain::annotation::AnnotationEntry`] (the winning revision; erased ones stay as
/// tombstones so a tablet that was offline learns of the erasure).
pub const ANNOTATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("annotations");

/// Read model: how many marks each person keeps on each document, `<meeting id>/<person
/// id>/<document id>` → JSON count (tombstones included), for the per-document limit.
pub const ANNOTATION_COUNTS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("annotation_counts");

/// Read model of personal notes on agenda items: `<meeting id>/<person id>/<item id>` → JSON
/// [`crate::domain::annotation::ItemNoteEntry`].
pub const ITEM_NOTES: TableDefinition<&str, &[u8]> = TableDefinition::new("item_notes");

/// Read model of every save of a mark or a personal note the box applied, winning or since
/// superseded: `<meeting id>/a/<annotation id>/<rev, 20 digits>/<device id>` and
/// `<meeting id>/n/<person id>/<item id>/<rev, 20 digits>/<device id>` → JSON `true`. It tells
/// a tablet's retry of a save that was applied (its answer lost) from a save that lost to a
/// concurrent edit, which the tablet then keeps aside instead of dropping.
pub const NOTE_SAVES: TableDefinition<&str, &[u8]> = TableDefinition::new("note_saves");

/// Read model on the hub of enrolment tokens issued: token id → JSON
/// [`crate::domain::hub::Enrolment`].
pub const ENROLMENTS: TableDefinition<&str, &[u8]> = TableDefinition::new("enrolments");

/// Read model on the hub of enrolled room boxes: node id → JSON
/// [`crate::domain::hub::EnrolledBox`].
pub const BOXES: TableDefinition<&str, &[u8]> = TableDefinition::new("boxes");

/// Read model of recorded sync conflicts: `<origin>/<seq, 20 digits>/<offered hash>` → JSON
/// [`crate::domain::hub::SyncConflictRecord`].
pub const CONFLICTS: TableDefinition<&str, &[u8]> = TableDefinition::new("sync_conflicts");

/// Node-local on the hub, never in the log: SHA-256 of an enrolment token's secret → token id.
pub const ENROLMENT_SECRETS: TableDefinition<&str, &str> =
    TableDefinition::new("enrolment_secrets");

/// Node-local on the hub: node id → JSON [`crate::domain::hub::PeerContact`], what each box
/// said when it last synced.
pub const PEER_CONTACTS: TableDefinition<&str, &[u8]> = TableDefinition::new("peer_contacts");

/// Node-local, never in the log: the box's notes key, which seals delegates' private marks and
/// personal notes in the log (see [`crate::domain::seal`]). Kept by a rebuild and in backups.
pub const NOTES_KEY: TableDefinition<&str, &[u8]> = TableDefinition::new("notes_key");

/// The read models: tables built only by applying events, emptied and replayed by a rebuild.
pub const READ_MODELS: &[TableDefinition<&str, &[u8]>] = &[
    ROOM,
    ACCOUNTS,
    PEOPLE,
    BODIES,
    MEETINGS,
    AGENDA,
    DOCUMENTS,
    ATTENDANCE,
    DEVICES,
    SEATING,
    BLOBS,
    LIVE,
    SPEECHES,
    DISPLAYS,
    QUESTIONS,
    BALLOTS,
    RESULTS,
    ANNOTATIONS,
    ANNOTATION_COUNTS,
    ITEM_NOTES,
    NOTE_SAVES,
    ENROLMENTS,
    BOXES,
    CONFLICTS,
];

/// The read models' indexes, rebuilt with them.
pub const READ_MODEL_INDEXES: &[TableDefinition<&str, &str>] = &[DOCUMENT_MEETING, BLOB_USES];
