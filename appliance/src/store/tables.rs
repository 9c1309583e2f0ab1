//! Every redb table of the node, in one place. Values are JSON with their own version fields
//! where they are synced; keys are chosen so that range scans answer the questions asked.

use redb::TableDefinition;

/// Node facts: `schema_version`, `node_id`, `role`, `created_at`.
pub const META: TableDefinition<&str, &str> = TableDefinition::new("meta");

/// The node's own event log: seq → the exact encoded envelope (the hash covers these bytes).
pub const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");

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

/// Read model of meetings: meeting id → JSON [`crate::domain::records::Meeting`].
pub const MEETINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("meetings");

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
