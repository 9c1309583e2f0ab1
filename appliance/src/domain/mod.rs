//! The meeting's rules as plain types: parsing user input into values that are valid by
//! construction, the events of the log, and who may do what. Nothing here does I/O, so the
//! rules can be tested without a store or a server.

pub mod annotation;
pub mod device;
pub mod document;
pub mod event;
pub mod hub;
pub mod import;
pub mod live;
pub mod person;
pub mod quorum;
pub mod records;
pub mod role;
pub mod seal;
pub mod text;
pub mod vietnamese;
pub mod visibility;
pub mod vote;

pub use event::{EventBody, EventEnvelope, Hash, NodeId};
pub use role::{Actor, Role};
pub use text::{NoticeText, Password, RoomName, TextError, Username};
