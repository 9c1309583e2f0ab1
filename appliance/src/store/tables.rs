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
