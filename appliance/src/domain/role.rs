//! Who is asking: the roles of the meeting, and the actor recorded on each event.

use serde::{Deserialize, Serialize};

/// A role a person or device holds. Later issues attach roles per meeting; the room-level
/// roles below are what staff accounts carry today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
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
    /// Staff accounts (passwords, disabling, removing, sessions) are IT staff's to manage.
    pub fn may_manage_accounts(self) -> bool {
        matches!(self, Role::ItAdmin)
    }
    /// Enrolling and revoking room boxes, and running sync, are IT staff's.
    pub fn may_manage_sync(self) -> bool {
        matches!(self, Role::ItAdmin)
    }
    /// Handing a meeting prepared at the central office to a room box: IT staff, who know
    /// the boxes, or the secretary who prepared it.
    pub fn may_hand_over(self) -> bool {
        matches!(self, Role::ItAdmin | Role::Secretary)
    }
    /// The central office's archive of every box's meetings: office staff.
    pub fn may_read_archive(self) -> bool {
        matches!(self, Role::ItAdmin | Role::Secretary | Role::Chair)
    }
    /// Operational metrics reveal load and sizes: IT staff only.
    pub fn may_read_metrics(self) -> bool {
        matches!(self, Role::ItAdmin)
    }
    /// People, bodies, meetings, attendance and seating are the secretary's to keep.
    pub fn may_manage_meetings(self) -> bool {
        matches!(self, Role::Secretary)
    }
    /// The list of people: the secretary keeps it, the chair and IT staff read it.
    pub fn may_read_people(self) -> bool {
        matches!(self, Role::Secretary | Role::Chair | Role::ItAdmin)
    }
    /// Pairing codes are handed out at the secretary's desk.
    pub fn may_pair_devices(self) -> bool {
        matches!(self, Role::Secretary)
    }
    /// A lost or stolen tablet is revoked by the secretary or IT staff.
    pub fn may_revoke_devices(self) -> bool {
        matches!(self, Role::Secretary | Role::ItAdmin)
    }
    /// Staff who see every meeting: the secretary who keeps them and the chair who runs them.
    pub fn may_read_meetings(self) -> bool {
        matches!(self, Role::Secretary | Role::Chair)
    }
}

/// Who caused an event, as recorded in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// The box itself (start-up, certificate renewal, migrations).
    Node,
    /// A staff account, by user name.
    Staff { username: String },
    /// An operator at the box's console, through a subcommand.
    Console,
    /// A paired device, acting for its person.
    Device {
        device_id: String,
        person_id: String,
    },
}
