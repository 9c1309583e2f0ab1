//! The box's notes key (node-local, never in the log) and opening sealed events: for the read
//! models when they are applied, and for the owner's feed.

use super::tables::NOTES_KEY;
use super::{Store, StoreError, Tx};
use crate::domain::seal::{self, NotesKey};
use crate::domain::EventEnvelope;
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

const KEY_NAME: &str = "v1";

fn key_in(txn: &WriteTransaction) -> Result<Option<NotesKey>, StoreError> {
    let t = txn.open_table(NOTES_KEY)?;
    let found = t.get(KEY_NAME)?;
    Ok(found.and_then(|v| NotesKey::from_bytes(v.value())))
}

impl Tx<'_> {
    /// The box's notes key, made on first use.
    pub fn notes_key(&mut self) -> Result<NotesKey, StoreError> {
        if let Some(k) = key_in(self.txn)? {
            return Ok(k);
        }
        let k = NotesKey::random();
        self.txn
            .open_table(NOTES_KEY)?
            .insert(KEY_NAME, k.bytes().as_slice())?;
        Ok(k)
    }
}

/// Applies a sealed event as the plain one it stands for. A node without the key (the hub's
/// archive) or a body that does not open leaves the read models as they are.
pub(super) fn apply_sealed(txn: &WriteTransaction, e: &EventEnvelope) -> Result<(), StoreError> {
    let Some(key) = key_in(txn)? else {
        return Ok(());
    };
    match seal::open(&key, &e.body) {
        Some(Ok(body)) => super::records::apply(txn, &EventEnvelope { body, ..e.clone() }),
        Some(Err(err)) => {
            tracing::warn!(seq = e.seq, "a sealed note does not open: {err}");
            Ok(())
        }
        None => Ok(()),
    }
}

impl Store {
    /// The plain event a sealed one stands for (`None` when `e` is not sealed, or when this
    /// node has no key that opens it).
    pub fn open_sealed(&self, e: &EventEnvelope) -> Result<Option<EventEnvelope>, StoreError> {
        if !matches!(
            e.body,
            crate::domain::EventBody::AnnotationSealed { .. }
                | crate::domain::EventBody::ItemNoteSealed { .. }
        ) {
            return Ok(None);
        }
        let key = {
            let txn = self.db()?.begin_read()?;
            let t = match txn.open_table(NOTES_KEY) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let found = t.get(KEY_NAME)?;
            found.and_then(|v| NotesKey::from_bytes(v.value()))
        };
        let Some(key) = key else { return Ok(None) };
        Ok(match seal::open(&key, &e.body) {
            Some(Ok(body)) => Some(EventEnvelope { body, ..e.clone() }),
            _ => None,
        })
    }
}
