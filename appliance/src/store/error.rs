//! The store's errors. Callers match on the variants; the message says what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path} is not a Phonghop data directory that this version can open: {detail}. Nothing was changed; restore it from a backup or point --data at the right directory")]
    Corrupt { path: PathBuf, detail: String },

    #[error("{path} was written by a newer Phonghop (schema {found}, this version reads up to {supported}). Nothing was changed; install the newer version")]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    #[error("{path} is already in use by another Phonghop process; stop it first")]
    InUse { path: PathBuf },

    #[error("{path} holds files but no phonghop.redb; refusing to initialise over them")]
    NotEmpty { path: PathBuf },

    #[error("{path} is already initialised")]
    AlreadyInitialised { path: PathBuf },

    #[error("no data directory at {path}; run `phonghop init` first")]
    NotInitialised { path: PathBuf },

    #[error("the disk is full; free some space (old backups, logs) and try again")]
    DiskFull,

    #[error("storage error: {0}")]
    Db(String),

    #[error("the store is being reopened after an I/O error; try again in a moment")]
    Unavailable,

    /// A change to a meeting this hub handed to a room box: the box owns it now.
    #[error("the meeting was handed over to a room; every change is made in that room")]
    MeetingHandedOver,

    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("could not encode a record: {0}")]
    Encode(#[from] serde_json::Error),
}

fn is_disk_full(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOSPC) || e.kind() == std::io::ErrorKind::StorageFull
}

impl StoreError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        if is_disk_full(&source) {
            return StoreError::DiskFull;
        }
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<redb::StorageError> for StoreError {
    fn from(e: redb::StorageError) -> Self {
        match e {
            redb::StorageError::Io(io) if is_disk_full(&io) => StoreError::DiskFull,
            other => StoreError::Db(other.to_string()),
        }
    }
}

macro_rules! via_redb_error {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                match redb::Error::from(e) {
                    redb::Error::Io(io) if is_disk_full(&io) => StoreError::DiskFull,
                    other => StoreError::Db(other.to_string()),
                }
            }
        }
    )*};
}
via_redb_error!(
    redb::TransactionError,
    redb::TableError,
    redb::CommitError,
    redb::DatabaseError
);
