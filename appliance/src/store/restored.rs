//! The mark a restore leaves: the node's state was put back from a backup, so its log may end
//! before events a peer (the hub) already holds. Sync reads [`Store::restored`] and, when set,
//! treats a disagreement at or after the marked head as a fork to report, never as history to
//! write over. Node-local (in `meta`): it is not an event, since appending one would itself
//! reuse a sequence number the peer may already hold.

use super::tables::META;
use super::{OriginHead, Store, StoreError};
use redb::ReadableDatabase;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The key in `meta`.
const KEY: &str = "restored";

/// When and from what the node was restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreMark {
    #[serde(with = "time::serde::rfc3339")]
    pub restored_at: OffsetDateTime,
    /// When the backup was taken (the box's clock then).
    #[serde(with = "time::serde::rfc3339")]
    pub backup_created_at: OffsetDateTime,
    /// The log heads the backup held, per origin: events after these on any peer were written
    /// by this node before the restore and are not here.
    pub heads: Vec<OriginHead>,
}

impl Store {
    /// Whether this node was restored from a backup, and from which heads.
    pub fn restored(&self) -> Result<Option<RestoreMark>, StoreError> {
        let txn = self.db()?.begin_read()?;
        let meta = txn.open_table(META)?;
        let Some(v) = meta.get(KEY)? else {
            return Ok(None);
        };
        Ok(Some(serde_json::from_str(v.value())?))
    }

    /// Records the restore (done once, by `phonghop restore`, before the directory is put in
    /// place). A later restore replaces the mark.
    pub fn mark_restored(&self, mark: &RestoreMark) -> Result<(), StoreError> {
        let json = serde_json::to_string(mark)?;
        self.write_local(|tx| {
            tx.txn().open_table(META)?.insert(KEY, json.as_str())?;
            Ok::<_, StoreError>(())
        })
    }
}
