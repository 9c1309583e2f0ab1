//! A consistent copy of the whole store, taken while the node serves: every table is copied
//! from ONE read transaction into a fresh redb file, so the copy is exactly the state after
//! some commit (a prefix of the log, with the read models and node-local records that went
//! with it). Writers are never blocked: redb readers see a fixed snapshot while commits go on.
//!
//! The blobs the copy refers to are listed from the same transaction. Blob files are
//! immutable and written before the commit that refers to them, and a referenced blob is never
//! removed, so the caller can copy them by hash afterwards.

use super::tables::{BLOBS, CURSORS, EVENTS, META};
use super::{open_error, BlobInfo, Cursor, Store, StoreError, DB_CACHE_BYTES};
use crate::domain::{Hash, NodeId};
use redb::{Database, Durability, Key, ReadTransaction, ReadableTable, TableDefinition, Value};
use redb::{ReadableDatabase, TableHandle};
use serde::{Deserialize, Serialize};
use std::path::Path;
use time::OffsetDateTime;

/// Rows per write transaction in the copy, so memory stays small however large the store.
const BATCH: usize = 8_192;

/// What the snapshot holds, read in the same transaction as the copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFacts {
    pub node_id: NodeId,
    pub role: String,
    pub schema_version: u32,
    /// Every origin held, with how far (the log head per origin).
    pub heads: Vec<OriginHead>,
    /// When the node's own last event was accepted (its wall clock), if any.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_event_at: Option<OffsetDateTime>,
    /// Every blob a document refers to, sorted by hash.
    pub blobs: Vec<BlobInfo>,
    /// Tables copied, with their row counts.
    pub tables: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginHead {
    pub origin: String,
    pub seq: u64,
    pub hash: Hash,
}

impl Store {
    /// Writes a consistent copy of the store to a new redb file at `dest` (which must not
    /// exist), and returns what it holds. Safe while the node serves.
    pub fn snapshot_to(&self, dest: &Path) -> Result<SnapshotFacts, StoreError> {
        let src = self.db()?;
        let txn = src.begin_read()?;
        let out = Database::builder()
            .set_cache_size(DB_CACHE_BYTES / 4)
            .create(dest)
            .map_err(|e| open_error(dest, e))?;
        let mut tables = Vec::new();
        let mut names: Vec<String> = txn.list_tables()?.map(|h| h.name().to_owned()).collect();
        names.sort();
        for name in names {
            let rows = copy_any(&txn, &out, &name)?;
            tables.push((name, rows));
        }
        if txn.list_multimap_tables()?.next().is_some() {
            return Err(StoreError::Db(
                "the store has a multimap table the backup does not know how to copy".into(),
            ));
        }
        // The copy is durable only once an Immediate commit follows the batched ones.
        out.begin_write()?.commit()?;
        drop(out);
        let facts = facts_of(&txn, self.node_id(), tables)?;
        Ok(facts)
    }
}

fn facts_of(
    txn: &ReadTransaction,
    own: &NodeId,
    tables: Vec<(String, u64)>,
) -> Result<SnapshotFacts, StoreError> {
    let meta = txn.open_table(META)?;
    let get = |k: &str| -> Result<String, StoreError> {
        Ok(meta
            .get(k)?
            .map(|v| v.value().to_owned())
            .unwrap_or_default())
    };
    let schema_version = get("schema_version")?
        .parse()
        .map_err(|_| StoreError::Db("the schema version is unreadable".into()))?;
    let role = get("role")?;
    let mut heads = Vec::new();
    for row in txn.open_table(CURSORS)?.iter()? {
        let (k, v) = row?;
        let c: Cursor = serde_json::from_slice(v.value())?;
        heads.push(OriginHead {
            origin: k.value().to_owned(),
            seq: c.seq,
            hash: c.hash,
        });
    }
    #[derive(Deserialize)]
    struct At {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    }
    let events = txn.open_table(EVENTS)?;
    let last_event_at = match events
        .range((own.as_str(), 0)..=(own.as_str(), u64::MAX))?
        .next_back()
    {
        Some(row) => serde_json::from_slice::<At>(row?.1.value())
            .ok()
            .map(|a| a.at),
        None => None,
    };
    let mut blobs = Vec::new();
    for row in txn.open_table(BLOBS)?.iter()? {
        let (_, v) = row?;
        blobs.push(serde_json::from_slice::<BlobInfo>(v.value())?);
    }
    blobs.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    Ok(SnapshotFacts {
        node_id: own.clone(),
        role,
        schema_version,
        heads,
        last_event_at,
        blobs,
        tables,
    })
}

/// Copies the table `name` whatever its key and value types, as long as they are among the
/// shapes the store uses; a table of another shape is an error rather than silently left out.
fn copy_any(src: &ReadTransaction, dst: &Database, name: &str) -> Result<u64, StoreError> {
    if let Some(n) = copy::<(&str, u64), &[u8]>(src, dst, name)? {
        return Ok(n);
    }
    if let Some(n) = copy::<&str, &[u8]>(src, dst, name)? {
        return Ok(n);
    }
    if let Some(n) = copy::<&str, &str>(src, dst, name)? {
        return Ok(n);
    }
    if let Some(n) = copy::<u64, &[u8]>(src, dst, name)? {
        return Ok(n);
    }
    if let Some(n) = copy::<&str, u64>(src, dst, name)? {
        return Ok(n);
    }
    Err(StoreError::Db(format!(
        "the table {name} has a shape the backup does not know how to copy"
    )))
}

/// Copies one table if it has these types: `None` if it has others.
fn copy<K: Key + 'static, V: Value + 'static>(
    src: &ReadTransaction,
    dst: &Database,
    name: &str,
) -> Result<Option<u64>, StoreError> {
    let def: TableDefinition<K, V> = TableDefinition::new(name);
    let table = match src.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableTypeMismatch { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut rows = table.iter()?;
    let mut copied = 0u64;
    loop {
        let mut wtxn = dst.begin_write()?;
        wtxn.set_durability(Durability::None)
            .map_err(|e| StoreError::Db(e.to_string()))?;
        let mut done = true;
        {
            let mut out = wtxn.open_table(def)?;
            for row in rows.by_ref() {
                let (k, v) = row?;
                out.insert(k.value(), v.value())?;
                copied += 1;
                if copied.is_multiple_of(BATCH as u64) {
                    done = false;
                    break;
                }
            }
        }
        wtxn.commit()?;
        if done {
            return Ok(Some(copied));
        }
    }
}

impl Store {
    /// What [`Self::snapshot_to`] would report, without copying anything: the node, its log
    /// heads, when its last event was written and the blobs documents refer to.
    pub fn facts(&self) -> Result<SnapshotFacts, StoreError> {
        let txn = self.db()?.begin_read()?;
        facts_of(&txn, self.node_id(), Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::golden::samples;
    use crate::domain::{Actor, RoomName};
    use crate::store::{NodeRole, DB_FILE};

    #[test]
    fn a_snapshot_holds_every_table_row_for_row_and_opens_as_the_same_node() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(
            &dir.path().join("data"),
            &RoomName::parse("Phòng họp").unwrap(),
            NodeRole::Room,
        )
        .unwrap();
        crate::demo::seed(&store).unwrap();
        store.append(Actor::Console, samples()).unwrap();
        let copy_dir = dir.path().join("copy");
        std::fs::create_dir(&copy_dir).unwrap();
        let facts = store.snapshot_to(&copy_dir.join(DB_FILE)).unwrap();
        assert_eq!(facts.node_id, *store.node_id());
        assert_eq!(facts.heads.len(), 1);
        assert_eq!(facts.heads[0].seq, store.head_seq().unwrap());
        assert!(!facts.blobs.is_empty(), "the demo's documents");
        assert!(facts.tables.iter().any(|(t, n)| t == "events" && *n > 30));
        assert!(facts
            .tables
            .iter()
            .any(|(t, n)| t == "credentials" && *n > 0));
        let copy = Store::open(&copy_dir).unwrap();
        assert_eq!(copy.node_id(), store.node_id());
        assert_eq!(
            copy.read_model_dump().unwrap(),
            store.read_model_dump().unwrap()
        );
        assert_eq!(
            copy.events_after(0, usize::MAX).unwrap(),
            store.events_after(0, usize::MAX).unwrap()
        );
        assert!(copy.verify().unwrap().broken.is_none());
        // Every table, node-local ones (credentials, PINs, device cookies) included.
        let table_names = |s: &Store| {
            s.read(|t| {
                let names: Vec<String> = t
                    .list_tables()?
                    .map(|h| redb::TableHandle::name(&h).to_owned())
                    .collect();
                Ok(names)
            })
            .unwrap()
        };
        assert_eq!(table_names(&copy), table_names(&store));
        assert_eq!(copy.facts().unwrap().blobs, facts.blobs);
    }
}
