//! Commands: each checks who is asking and what is asked against the current state, then
//! hands the resulting events to the store. Handlers call exactly one of these.

pub mod annotations;
pub mod archive;
pub mod attendance;
pub mod bodies;
pub mod devices;
pub mod displays;
pub mod downward;
pub mod handover;
pub mod hub;
pub mod import;
pub mod live;
pub mod meetings;
pub mod people;
pub mod prepare;
pub mod room;
pub mod seating;
pub mod staff;
pub mod vote;

use crate::domain::device::DeviceError;
use crate::domain::person::PersonError;
use crate::domain::records::{Device, Display, Id, LayoutError, Person};
use crate::domain::{Actor, Role, TextError};
use crate::store::{Account, StoreError};
use std::time::Duration;

/// Who is asking, as the HTTP layer established it from a cookie.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    /// Staff signed in with a password.
    Staff(Account),
    /// A tablet paired to a person.
    Device {
        device: Device,
        person: Person,
    },
    /// A projector screen paired as a read-only display: it reads what the room may see.
    Display(Display),
}

impl Caller {
    /// A staff member holding a role that passes `may`.
    pub fn staff_may(&self, may: fn(Role) -> bool) -> bool {
        matches!(self, Caller::Staff(a) if a.has(may))
    }

    /// Refuses unless `may` holds: 401 for nobody, 403 for someone else.
    pub fn require(&self, may: fn(Role) -> bool) -> Result<(), ServiceError> {
        match self {
            Caller::Anonymous => Err(ServiceError::Unauthenticated),
            _ if self.staff_may(may) => Ok(()),
            _ => Err(ServiceError::Forbidden),
        }
    }

    /// The caller as the visibility policy sees them.
    pub fn viewer(&self) -> crate::domain::visibility::Viewer<'_> {
        use crate::domain::visibility::Viewer;
        match self {
            Caller::Anonymous => Viewer::Anonymous,
            Caller::Staff(a) => Viewer::Staff(&a.roles),
            Caller::Device { person, .. } => Viewer::Device(&person.id),
            Caller::Display(_) => Viewer::Display,
        }
    }

    /// The person a paired device acts for.
    pub fn person_id(&self) -> Option<&Id> {
        match self {
            Caller::Device { person, .. } => Some(&person.id),
            _ => None,
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            Caller::Anonymous => Actor::Node,
            Caller::Staff(a) => Actor::Staff {
                username: a.username.to_string(),
            },
            Caller::Device { device, person } => Actor::Device {
                device_id: device.id.to_string(),
                person_id: person.id.to_string(),
            },
            // A display never writes (every write of a display is refused before it reaches
            // a command); were one to slip through, it would not pass as anyone.
            Caller::Display(_) => Actor::Node,
        }
    }
}

/// A command refused by a rule of the meeting, each with its own API code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    PersonInvalid(PersonError),
    PersonDuplicate,
    /// Not a CSV or XLSX file; what it looks like, so the message can say how to save it.
    ImportUnsupported(crate::import::FileKind),
    /// An XLSX file that could not be read.
    ImportDamaged,
    /// No header with a name column; whether the file's encoding is the likely cause.
    ImportNoNameColumn {
        found: Vec<String>,
        encoding_likely: bool,
    },
    ImportTooLarge,
    ImportEmpty,
    ImportHasErrors {
        invalid: usize,
    },
    ImportPreviewExpired,
    PairCodeInvalid,
    PairPinWrong,
    PairLockedOut(Duration),
    /// A bad PIN, key or signature from the tablet.
    Device(DeviceError),
    DeviceRevoked,
    /// The secretary revoked this projector screen.
    DisplayRevoked,
    AttendanceDeviceOnly,
    AttendanceAlreadyPresent,
    LayoutInvalid(LayoutError),
    SeatInUse(String),
    /// The meeting is not at a status that allows this (e.g. approving a published meeting).
    WrongStatus(crate::domain::records::MeetingStatus),
    AgendaStale,
    Upload(crate::domain::document::UploadError),
    DocumentDuplicateTitle,
    DocumentTooLarge(u64),
    DocumentEmpty,
    /// Right password, but the IT admin disabled the account.
    AccountDisabled,
    /// The current password given to change one's own is wrong.
    AccountWrongPassword,
    /// The new password is the old one.
    AccountSamePassword,
    /// The IT admin acting on their own account through the admin commands.
    AccountSelf,
    /// The user name is taken.
    AccountTaken(String),
    /// A live-meeting command that does not fit the meeting's state now.
    Live(crate::domain::live::LiveError),
    /// A mark or note refused (its shape, its document version, its owner).
    Annotation(crate::domain::annotation::AnnotationError),
    /// A vote command that does not fit the question's state, or a ballot refused.
    Vote(crate::domain::vote::VoteError),
    /// An enrolment or a box's sync refused by the hub.
    Hub(crate::domain::hub::HubRefusal),
    /// The hub handed this meeting to a room box: it is changed there, not at the hub.
    HandedOver,
    /// A meeting that started or ended at the hub is not handed to a room.
    NotHandable,
    /// A request that names something wrong: an unknown seat, a person not invited, …
    Invalid {
        code: &'static str,
        detail: String,
    },
}

/// Why a command was refused. The HTTP layer maps each variant to one status and code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input: {0}")]
    Invalid(#[from] TextError),
    #[error("not signed in")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("too many failed attempts; locked for {0:?}")]
    LockedOut(Duration),
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("refused: {0:?}")]
    Refused(Refusal),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
    /// Too many password checks at once; try again in a moment.
    #[error("busy: too many password checks at once")]
    Busy,
}

impl From<Refusal> for ServiceError {
    fn from(r: Refusal) -> Self {
        ServiceError::Refused(r)
    }
}

impl From<PersonError> for ServiceError {
    fn from(e: PersonError) -> Self {
        ServiceError::Refused(Refusal::PersonInvalid(e))
    }
}

impl From<crate::auth::HashError> for ServiceError {
    fn from(e: crate::auth::HashError) -> Self {
        match e {
            crate::auth::HashError::Busy(_) => ServiceError::Busy,
            crate::auth::HashError::Params(m) => ServiceError::Internal(m),
        }
    }
}
