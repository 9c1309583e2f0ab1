//! Commands: each checks who is asking and what is asked against the current state, then
//! hands the resulting events to the store. Handlers call exactly one of these.

pub mod room;
pub mod staff;

use crate::domain::TextError;
use crate::store::StoreError;
use std::time::Duration;

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
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}
