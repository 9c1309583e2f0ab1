//! Read models for people, bodies, meetings, attendance, devices and seating, and the
//! node-local secrets of pairing (codes, device cookies, PINs), which never enter the log.

use super::tables::{
    ATTENDANCE, BLOBS, BODIES, DEVICES, DEVICE_TOKENS, MEETINGS, PAIRING_CODES, PEOPLE, PINS,
    SEATING,
};
use super::{StoreError, Tx};
use crate::domain::records::{
    Assignments, AttendanceRecord, Body, Device, Id, Layout, Meeting, Person,
};
use crate::domain::{EventBody, EventEnvelope};
use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

type JsonTable = TableDefinition<'static, &'static str, &'static [u8]>;

/// A pairing code waiting to be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeEntry {
    pub person_id: Id,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

fn attendance_key(meeting: &Id, person: &Id) -> String {
    format!("{meeting}/{person}")
}

fn seats_key(meeting: &Id) -> String {
    format!("meeting/{meeting}")
}

fn put<T: Serialize>(
    txn: &WriteTransaction,
    def: JsonTable,
    key: &str,
    v: &T,
) -> Result<(), StoreError> {
    let mut t = txn.open_table(def)?;
    t.insert(key, serde_json::to_vec(v)?.as_slice())?;
    Ok(())
}

fn get_w<T: DeserializeOwned>(
    txn: &WriteTransaction,
    def: JsonTable,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let t = txn.open_table(def)?;
    let v = t.get(key)?;
    v.map(|b| serde_json::from_slice(b.value()).map_err(StoreError::from))
        .transpose()
}

/// Updates the read models for the people-and-tablets events; other events are not ours.
pub(super) fn apply(txn: &WriteTransaction, e: &EventEnvelope) -> Result<(), StoreError> {
    match &e.body {
        EventBody::PersonAdded { person } => put(txn, PEOPLE, person.id.as_str(), person),
        EventBody::BodyCreated { body } => put(txn, BODIES, body.id.as_str(), body),
        EventBody::BodyMembersSet { body_id, members } => {
            let mut body: Body = get_w(txn, BODIES, body_id.as_str())?
                .ok_or_else(|| StoreError::Db(format!("body {body_id} missing")))?;
            body.members = members.clone();
            put(txn, BODIES, body_id.as_str(), &body)
        }
        EventBody::BodyRulesSet {
            body_id,
            name,
            quorum,
            pass,
            publish_lead_days,
        } => {
            let mut body: Body = get_w(txn, BODIES, body_id.as_str())?
                .ok_or_else(|| StoreError::Db(format!("body {body_id} missing")))?;
            body.name = name.clone();
            body.quorum = *quorum;
            body.pass = *pass;
            body.publish_lead_days = *publish_lead_days;
            put(txn, BODIES, body_id.as_str(), &body)
        }
        EventBody::MeetingCreated { meeting } => put(txn, MEETINGS, meeting.id.as_str(), meeting),
        EventBody::DevicePaired { device } => put(txn, DEVICES, device.id.as_str(), device),
        EventBody::DeviceRevoked { device_id } => {
            let mut device: Device = get_w(txn, DEVICES, device_id.as_str())?
                .ok_or_else(|| StoreError::Db(format!("device {device_id} missing")))?;
            device.revoked_at = Some(e.at);
            put(txn, DEVICES, device_id.as_str(), &device)?;
            // Its cookie stays known, so the tablet can be told it was revoked.
            Ok(())
        }
        EventBody::PinReset { person_id } => {
            txn.open_table(PINS)?.remove(person_id.as_str())?;
            Ok(())
        }
        EventBody::AttendanceMarked {
            meeting_id,
            person_id,
            status,
            at,
            reason,
        } => put(
            txn,
            ATTENDANCE,
            &attendance_key(meeting_id, person_id),
            &AttendanceRecord {
                status: *status,
                at: *at,
                reason: reason.clone(),
            },
        ),
        EventBody::LayoutSaved { layout } => put(txn, SEATING, "layout", layout),
        EventBody::SeatsAssigned {
            meeting_id,
            assignments,
        } => put(txn, SEATING, &seats_key(meeting_id), assignments),
        EventBody::PairingCodeIssued { .. } | EventBody::PinSet { .. } => Ok(()),
        EventBody::MeetingDetailsSet { meeting_id, .. }
        | EventBody::ItemAdded { meeting_id, .. }
        | EventBody::ItemUpdated { meeting_id, .. }
        | EventBody::ItemRemoved { meeting_id, .. }
        | EventBody::AgendaReordered { meeting_id, .. }
        | EventBody::DocumentAdded { meeting_id, .. }
        | EventBody::DocumentVersionAdded { meeting_id, .. }
        | EventBody::DocumentUpdated { meeting_id, .. }
        | EventBody::DocumentRemoved { meeting_id, .. }
        | EventBody::MeetingSubmitted { meeting_id }
        | EventBody::MeetingApproved { meeting_id }
        | EventBody::MeetingSentBack { meeting_id, .. }
        | EventBody::MeetingPublished { meeting_id } => {
            let mut meeting: Meeting = get_w(txn, MEETINGS, meeting_id.as_str())?
                .ok_or_else(|| StoreError::Db(format!("meeting {meeting_id} missing")))?;
            meeting.apply(&e.body, e.at);
            put(txn, MEETINGS, meeting_id.as_str(), &meeting)?;
            // Blobs a document refers to are recorded, so they are kept and can be served.
            let version = match &e.body {
                EventBody::DocumentAdded { document, .. } => document.current(),
                EventBody::DocumentVersionAdded { version, .. } => Some(version),
                _ => None,
            };
            if let Some(v) = version {
                put(
                    txn,
                    BLOBS,
                    &v.sha256,
                    &crate::store::BlobInfo {
                        sha256: v.sha256.clone(),
                        size: v.size,
                    },
                )?;
            }
            Ok(())
        }
        EventBody::NodeInitialised { .. }
        | EventBody::RoomRenamed { .. }
        | EventBody::NoticePosted { .. }
        | EventBody::NoticeCleared {}
        | EventBody::AccountCreated { .. } => Ok(()),
    }
}

impl Tx<'_> {
    /// Replaces any earlier code of the same person, so only the newest one works.
    pub fn put_pairing_code(
        &mut self,
        code_hash: &str,
        entry: &CodeEntry,
    ) -> Result<(), StoreError> {
        let mut t = self.txn().open_table(PAIRING_CODES)?;
        let mut stale = Vec::new();
        let now = OffsetDateTime::now_utc();
        for row in t.iter()? {
            let (k, v) = row?;
            let e: CodeEntry = serde_json::from_slice(v.value())?;
            if e.person_id == entry.person_id || e.expires_at <= now {
                stale.push(k.value().to_owned());
            }
        }
        for k in stale {
            t.remove(k.as_str())?;
        }
        t.insert(code_hash, serde_json::to_vec(entry)?.as_slice())?;
        Ok(())
    }

    /// Takes a code out, so it can be used once only.
    pub fn take_pairing_code(&mut self, code_hash: &str) -> Result<Option<CodeEntry>, StoreError> {
        let mut t = self.txn().open_table(PAIRING_CODES)?;
        let removed = t.remove(code_hash)?;
        removed
            .map(|v| serde_json::from_slice(v.value()).map_err(StoreError::from))
            .transpose()
    }

    pub fn put_device_token(&mut self, token_hash: &str, device_id: &Id) -> Result<(), StoreError> {
        self.txn()
            .open_table(DEVICE_TOKENS)?
            .insert(token_hash, device_id.as_str())?;
        Ok(())
    }

    pub fn set_pin(&mut self, person_id: &Id, phc: &str) -> Result<(), StoreError> {
        self.txn()
            .open_table(PINS)?
            .insert(person_id.as_str(), phc)?;
        Ok(())
    }
}

fn get<T: DeserializeOwned>(
    txn: &ReadTransaction,
    def: JsonTable,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let t = txn.open_table(def)?;
    let v = t.get(key)?;
    v.map(|b| serde_json::from_slice(b.value()).map_err(StoreError::from))
        .transpose()
}

fn all<T: DeserializeOwned>(txn: &ReadTransaction, def: JsonTable) -> Result<Vec<T>, StoreError> {
    let t = txn.open_table(def)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        let (_, v) = row?;
        out.push(serde_json::from_slice(v.value())?);
    }
    Ok(out)
}

pub fn person(txn: &ReadTransaction, id: &Id) -> Result<Option<Person>, StoreError> {
    get(txn, PEOPLE, id.as_str())
}

/// Everyone, in no particular order (callers sort the Vietnamese way).
pub fn people(txn: &ReadTransaction) -> Result<Vec<Person>, StoreError> {
    all(txn, PEOPLE)
}

pub fn body(txn: &ReadTransaction, id: &Id) -> Result<Option<Body>, StoreError> {
    get(txn, BODIES, id.as_str())
}

pub fn bodies(txn: &ReadTransaction) -> Result<Vec<Body>, StoreError> {
    all(txn, BODIES)
}

pub fn meeting(txn: &ReadTransaction, id: &Id) -> Result<Option<Meeting>, StoreError> {
    get(txn, MEETINGS, id.as_str())
}

pub fn meetings(txn: &ReadTransaction) -> Result<Vec<Meeting>, StoreError> {
    all(txn, MEETINGS)
}

/// Every recorded attendance of one meeting, by person.
pub fn attendance(
    txn: &ReadTransaction,
    meeting: &Id,
) -> Result<BTreeMap<Id, AttendanceRecord>, StoreError> {
    let t = txn.open_table(ATTENDANCE)?;
    let prefix = format!("{meeting}/");
    let mut out = BTreeMap::new();
    for row in t.range(prefix.as_str()..)? {
        let (k, v) = row?;
        let Some(person) = k.value().strip_prefix(&prefix).and_then(Id::parse) else {
            break;
        };
        out.insert(person, serde_json::from_slice(v.value())?);
    }
    Ok(out)
}

pub fn attendance_of(
    txn: &ReadTransaction,
    meeting: &Id,
    person: &Id,
) -> Result<AttendanceRecord, StoreError> {
    Ok(get(txn, ATTENDANCE, &attendance_key(meeting, person))?.unwrap_or_default())
}

pub fn device(txn: &ReadTransaction, id: &Id) -> Result<Option<Device>, StoreError> {
    get(txn, DEVICES, id.as_str())
}

pub fn devices_of(txn: &ReadTransaction, person: &Id) -> Result<Vec<Device>, StoreError> {
    let mut d: Vec<Device> = all(txn, DEVICES)?;
    d.retain(|d| &d.person_id == person);
    d.sort_by_key(|d| d.paired_at);
    Ok(d)
}

/// The device behind a cookie; revoked devices are returned too, so the caller can say so.
pub fn device_by_token(
    txn: &ReadTransaction,
    token_hash: &str,
) -> Result<Option<Device>, StoreError> {
    let t = txn.open_table(DEVICE_TOKENS)?;
    let Some(id) = t.get(token_hash)?.and_then(|v| Id::parse(v.value())) else {
        return Ok(None);
    };
    device(txn, &id)
}

pub fn pin(txn: &ReadTransaction, person: &Id) -> Result<Option<String>, StoreError> {
    let t = txn.open_table(PINS)?;
    let v = t.get(person.as_str())?;
    Ok(v.map(|s| s.value().to_owned()))
}

pub fn has_pin(txn: &ReadTransaction, person: &Id) -> Result<bool, StoreError> {
    Ok(pin(txn, person)?.is_some())
}

pub fn layout(txn: &ReadTransaction) -> Result<Option<Layout>, StoreError> {
    get(txn, SEATING, "layout")
}

pub fn seats(txn: &ReadTransaction, meeting: &Id) -> Result<Assignments, StoreError> {
    Ok(get(txn, SEATING, &seats_key(meeting))?.unwrap_or_default())
}

pub fn pairing_code(
    txn: &ReadTransaction,
    code_hash: &str,
) -> Result<Option<CodeEntry>, StoreError> {
    get(txn, PAIRING_CODES, code_hash)
}

/// Whether any document refers to this blob.
pub fn blob_known(txn: &ReadTransaction, sha256: &str) -> Result<bool, StoreError> {
    let t = txn.open_table(BLOBS)?;
    let found = t.get(sha256)?.is_some();
    Ok(found)
}
