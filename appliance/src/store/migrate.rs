//! The schema version and the forward migrations between versions. A migration runs inside
//! one write transaction together with the version bump, so it either happens whole or not.

use super::tables::{
    ACCOUNTS, AGENDA, ATTENDANCE, BLOBS, BLOB_USES, BODIES, CHECKPOINTS, CREDENTIALS, CURSORS,
    DEVICES, DEVICE_TOKENS, DISPLAYS, DISPLAY_CODES, DISPLAY_TOKENS, DOCUMENTS, DOCUMENT_MEETING,
    EVENTS, LIVE, LOG_V2, MEETINGS, MEETINGS_V2, META, PAIRING_CODES, PEOPLE, PINS, ROOM, SEATING,
    SESSIONS, SPEECHES,
};
use super::tables::{BALLOTS, QUESTIONS, RESULTS, SECRET_CHOICES};
use super::{NodeRole, StoreError};
use crate::domain::NodeId;
use redb::{Database, ReadableDatabase, WriteTransaction};
use std::path::Path;

/// The schema this build writes and reads.
pub const SCHEMA_VERSION: u32 = 3;

/// The version of the read models' shape. When a build changes how events are projected, it
/// bumps this, and the store rebuilds every read model from the log when it opens.
pub const READ_MODEL_VERSION: u32 = 9;

/// `MIGRATIONS[i]` turns schema `i + 1` into `i + 2`.
type Migration = fn(&WriteTransaction, &NodeId) -> Result<(), StoreError>;
const MIGRATIONS: &[Migration] = &[v1_to_v2_people_and_tablets, v2_to_v3_origin_logs];

/// Schema 2 adds people, bodies, meetings, attendance, devices and seating.
fn v1_to_v2_people_and_tablets(txn: &WriteTransaction, _: &NodeId) -> Result<(), StoreError> {
    txn.open_table(MEETINGS_V2)?;
    create_people_tables(txn)
}

/// Schema 3 keys the log by `(origin, seq)` with a cursor per origin, and stores meetings as
/// one record per item and document. The log's bytes move unchanged (the chain holds); the
/// read models are rebuilt from it, since their shape changed.
fn v2_to_v3_origin_logs(txn: &WriteTransaction, node: &NodeId) -> Result<(), StoreError> {
    use redb::ReadableTable;
    create_origin_tables(txn)?;
    let mut cursor = super::Cursor::EMPTY;
    {
        let old = txn.open_table(LOG_V2)?;
        let mut events = txn.open_table(EVENTS)?;
        for row in old.iter()? {
            let (seq, bytes) = row?;
            events.insert((node.as_str(), seq.value()), bytes.value())?;
            cursor = super::Cursor {
                seq: seq.value(),
                hash: crate::domain::Hash::of(bytes.value()),
            };
        }
    }
    txn.open_table(CURSORS)?
        .insert(node.as_str(), serde_json::to_vec(&cursor)?.as_slice())?;
    txn.delete_table(LOG_V2)?;
    txn.delete_table(MEETINGS_V2)?;
    create_people_tables(txn)?;
    // The read models are rebuilt by the caller once the version is recorded: the stored
    // read-model version is absent, which asks for it.
    Ok(())
}

fn create_origin_tables(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(EVENTS)?;
    txn.open_table(CURSORS)?;
    txn.open_table(CHECKPOINTS)?;
    Ok(())
}

fn create_people_tables(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(PEOPLE)?;
    txn.open_table(BODIES)?;
    txn.open_table(MEETINGS)?;
    txn.open_table(AGENDA)?;
    txn.open_table(DOCUMENTS)?;
    txn.open_table(DOCUMENT_MEETING)?;
    txn.open_table(BLOB_USES)?;
    txn.open_table(ATTENDANCE)?;
    txn.open_table(DEVICES)?;
    txn.open_table(DEVICE_TOKENS)?;
    txn.open_table(PAIRING_CODES)?;
    txn.open_table(PINS)?;
    txn.open_table(SEATING)?;
    txn.open_table(LIVE)?;
    txn.open_table(SPEECHES)?;
    txn.open_table(DISPLAYS)?;
    txn.open_table(DISPLAY_TOKENS)?;
    txn.open_table(DISPLAY_CODES)?;
    txn.open_table(QUESTIONS)?;
    txn.open_table(BALLOTS)?;
    txn.open_table(RESULTS)?;
    txn.open_table(SECRET_CHOICES)?;
    txn.open_table(super::tables::ANNOTATIONS)?;
    txn.open_table(super::tables::ANNOTATION_COUNTS)?;
    txn.open_table(super::tables::ITEM_NOTES)?;
    txn.open_table(super::tables::NOTE_SAVES)?;
    txn.open_table(super::tables::ENROLMENTS)?;
    txn.open_table(super::tables::BOXES)?;
    txn.open_table(super::tables::CONFLICTS)?;
    txn.open_table(super::tables::ENROLMENT_SECRETS)?;
    txn.open_table(super::tables::PEER_CONTACTS)?;
    txn.open_table(super::tables::NOTES_KEY)?;
    Ok(())
}

/// Creates every table and the node's facts in a new database.
pub(super) fn create_schema(
    txn: &WriteTransaction,
    node_id: &NodeId,
    role: NodeRole,
) -> Result<(), StoreError> {
    {
        let mut meta = txn.open_table(META)?;
        meta.insert("schema_version", SCHEMA_VERSION.to_string().as_str())?;
        meta.insert("node_id", node_id.as_str())?;
        meta.insert("role", role.as_str())?;
        let created = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        meta.insert("created_at", created.as_str())?;
        meta.insert(
            "read_model_version",
            READ_MODEL_VERSION.to_string().as_str(),
        )?;
    }
    create_origin_tables(txn)?;
    txn.open_table(ROOM)?;
    txn.open_table(ACCOUNTS)?;
    txn.open_table(CREDENTIALS)?;
    txn.open_table(SESSIONS)?;
    txn.open_table(BLOBS)?;
    create_people_tables(txn)
}

/// The tables of a box's archive at the hub: its read models (and the empty node-local tables
/// the projection may look at).
pub(super) fn create_archive_schema(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(META)?;
    txn.open_table(ROOM)?;
    txn.open_table(ACCOUNTS)?;
    txn.open_table(CREDENTIALS)?;
    txn.open_table(SESSIONS)?;
    txn.open_table(BLOBS)?;
    create_people_tables(txn)
}

/// Checks a database without writing to it: a foreign or newer file must be refused before it
/// is opened for writing, since opening for writing already changes the file's header.
/// `Ok(false)` means it could not be checked read-only (it needs recovery after a crash), and
/// the caller goes on to the normal open, which recovers it.
pub(super) fn precheck(path: &Path) -> Result<bool, StoreError> {
    match redb::ReadOnlyDatabase::open(path) {
        Ok(db) => read_facts(&db, path).map(|_| true),
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => Err(StoreError::InUse {
            path: path.to_path_buf(),
        }),
        Err(redb::DatabaseError::Storage(redb::StorageError::Io(io)))
            if io.kind() == std::io::ErrorKind::InvalidData =>
        {
            Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                detail: io.to_string(),
            })
        }
        Err(e) => {
            tracing::info!("store needs recovery before it can be checked: {e}");
            Ok(false)
        }
    }
}

/// The node's facts, checked: schema version (not newer than this build), id and role.
fn read_facts(
    db: &impl ReadableDatabase,
    path: &Path,
) -> Result<(u32, NodeId, NodeRole), StoreError> {
    let corrupt = |detail: &str| StoreError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.to_owned(),
    };
    let (version, node_id, role) = {
        let txn = db.begin_read().map_err(StoreError::from)?;
        let meta = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => {
                return Err(corrupt(
                    "it has no meta table, so it is not a Phonghop store",
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let get = |k: &str| -> Result<Option<String>, StoreError> {
            Ok(meta.get(k)?.map(|v| v.value().to_owned()))
        };
        let version: u32 = get("schema_version")?
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| corrupt("its schema version is missing or unreadable"))?;
        let node_id = get("node_id")?
            .and_then(|v| NodeId::parse(&v))
            .ok_or_else(|| corrupt("its node id is missing or unreadable"))?;
        let role = match get("role")?.as_deref() {
            Some("room") => NodeRole::Room,
            Some("hub") => NodeRole::Hub,
            _ => return Err(corrupt("its node role is missing or unknown")),
        };
        (version, node_id, role)
    };
    let corrupt = |detail: &str| StoreError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.to_owned(),
    };
    if version == 0 {
        return Err(corrupt("schema version 0 does not exist"));
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok((version, node_id, role))
}

/// The read-model version recorded in the store, if any.
pub(super) fn read_model_version(db: &Database) -> Result<Option<u32>, StoreError> {
    let txn = db.begin_read()?;
    let meta = txn.open_table(META)?;
    let v = meta.get("read_model_version")?;
    Ok(v.and_then(|v| v.value().parse().ok()))
}

/// Reads the node's facts, refusing a foreign or newer database, and brings an older one
/// forward.
pub(super) fn check_and_migrate(
    db: &Database,
    path: &Path,
) -> Result<(NodeId, NodeRole), StoreError> {
    let (version, node_id, role) = read_facts(db, path)?;
    for from in version..SCHEMA_VERSION {
        let migration = MIGRATIONS
            .get((from - 1) as usize)
            .ok_or_else(|| StoreError::Db(format!("no migration from schema {from}")))?;
        let txn = db.begin_write()?;
        migration(&txn, &node_id)?;
        {
            let mut meta = txn.open_table(META)?;
            meta.insert("schema_version", (from + 1).to_string().as_str())?;
        }
        txn.commit()?;
        tracing::info!(from, to = from + 1, "migrated the store");
    }
    Ok((node_id, role))
}
