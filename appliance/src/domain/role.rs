//! Who is asking: the roles of the meeting, and the actor recorded on each event.

use serde::{Deserialize, Serialize};

/// A role a person or device holds. Later issues attach roles per meeting; the room-level
/// roles below are what staff accounts carry today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Provisions and looks after the box.
    ItAdmin,
    /// Prepares meetings and keeps the record (thư ký).
    Secretary,
    /// Approves publishing and runs the meeting (chủ trì).
    Chair,
    /// A voting member on a paired tablet (đại biểu).
    Delegate,
    /// Invited without a vote (khách mời).
    Guest,
    /// The read-only projector screen.
    Projector,
}

impl Role {
    /// Posting notices to every tablet is the secretary's job; the chair and IT staff may too.
    pub fn may_post_notices(self) -> bool {
        matches!(self, Role::Secretary | Role::Chair | Role::ItAdmin)
    }
    /// Room settings (its name) belong to IT staff, who set the box up.
    pub fn may_configure_room(self) -> bool {
        matches!(self, Role::ItAdmin)
    }
    /// Operational metrics reveal load and sizes: IT staff only.
    pub fn may_read_metrics(self) -> bool {
        matches!(self, Role::ItAdmin)
    }
}

/// Who caused an event, as recorded in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// The box itself (start-up, certificate renewal, migrations).
    Node,
    /// A staff account, by user name.
    Staff { username: String },
    /// An operator at the box's console, through a subcommand.
    Console,
}
