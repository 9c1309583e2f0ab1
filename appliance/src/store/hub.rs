//! The hub's records of room boxes: the read models of enrolment tokens and enrolled boxes,
//! and the node-local secrets and contact times that never travel.

use super::records::{all, get, get_w, put};
use super::tables::{BOXES, CONFLICTS, ENROLMENTS, ENROLMENT_SECRETS, PEER_CONTACTS};
use super::{StoreError, Tx};
use crate::domain::hub::{EnrolledBox, Enrolment, PeerContact, Revocation, SyncConflictRecord};
use crate::domain::{EventBody, EventEnvelope, NodeId};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

pub(super) fn apply(txn: &WriteTransaction, e: &EventEnvelope) -> Result<(), StoreError> {
    match &e.body {
        EventBody::EnrolmentIssued {
            token_id,
            room,
            expires_at,
        } => put(
            txn,
            ENROLMENTS,
            token_id.as_str(),
            &Enrolment {
                token_id: token_id.clone(),
                room: room.clone(),
                issued_at: e.at,
                expires_at: *expires_at,
                used_by: None,
            },
        ),
        EventBody::BoxEnrolled {
            token_id,
            node_id,
            room,
            cert_serial,
            cert_not_after,
        } => {
            if let Some(mut enrolment) = get_w::<Enrolment>(txn, ENROLMENTS, token_id.as_str())? {
                enrolment.used_by = Some(node_id.clone());
                put(txn, ENROLMENTS, token_id.as_str(), &enrolment)?;
            }
            put(
                txn,
                BOXES,
                node_id.as_str(),
                &EnrolledBox {
                    node_id: node_id.clone(),
                    room: room.clone(),
                    token_id: token_id.clone(),
                    enrolled_at: e.at,
                    cert_serial: cert_serial.clone(),
                    cert_not_after: *cert_not_after,
                    revoked: None,
                },
            )
        }
        EventBody::BoxRevoked { node_id, reason } => {
            let Some(mut b) = get_w::<EnrolledBox>(txn, BOXES, node_id.as_str())? else {
                return Ok(());
            };
            b.revoked = Some(Revocation {
                at: e.at,
                reason: reason.clone(),
            });
            put(txn, BOXES, node_id.as_str(), &b)
        }
        EventBody::SyncConflict {
            origin,
            seq,
            reason,
            ours,
            theirs,
        } => put(
            txn,
            CONFLICTS,
            &conflict_key(origin, *seq, theirs),
            &SyncConflictRecord {
                origin: origin.clone(),
                seq: *seq,
                reason: reason.clone(),
                ours: ours.map(|h| h.to_hex()),
                theirs: theirs.to_hex(),
                at: e.at,
                recorded_seq: e.seq,
            },
        ),
        _ => Ok(()),
    }
}

fn conflict_key(origin: &NodeId, seq: u64, theirs: &crate::domain::Hash) -> String {
    format!("{origin}/{seq:020}/{}", theirs.to_hex())
}

/// Whether this exact conflict (same origin, seq and offered event) is already recorded.
pub fn conflict_known(
    txn: &ReadTransaction,
    origin: &NodeId,
    seq: u64,
    theirs: &crate::domain::Hash,
) -> Result<bool, StoreError> {
    Ok(get::<SyncConflictRecord>(txn, CONFLICTS, &conflict_key(origin, seq, theirs))?.is_some())
}

/// The conflicts recorded about one origin, oldest first.
pub fn conflicts_of(
    txn: &ReadTransaction,
    origin: &NodeId,
) -> Result<Vec<SyncConflictRecord>, StoreError> {
    super::records::values_with_prefix(txn, CONFLICTS, &format!("{origin}/"))
}

pub fn enrolled_box(
    txn: &ReadTransaction,
    node: &NodeId,
) -> Result<Option<EnrolledBox>, StoreError> {
    get(txn, BOXES, node.as_str())
}

pub fn enrolled_boxes(txn: &ReadTransaction) -> Result<Vec<EnrolledBox>, StoreError> {
    all(txn, BOXES)
}

pub fn enrolments(txn: &ReadTransaction) -> Result<Vec<Enrolment>, StoreError> {
    all(txn, ENROLMENTS)
}

pub fn peer_contact(
    txn: &ReadTransaction,
    node: &NodeId,
) -> Result<Option<PeerContact>, StoreError> {
    get(txn, PEER_CONTACTS, node.as_str())
}

impl Tx<'_> {
    /// Keeps the hash of an enrolment token's secret, node-locally.
    pub fn put_enrolment_secret(
        &mut self,
        secret_hash: &str,
        token_id: &str,
    ) -> Result<(), StoreError> {
        self.txn
            .open_table(ENROLMENT_SECRETS)?
            .insert(secret_hash, token_id)?;
        Ok(())
    }

    /// The enrolment a token's secret belongs to, if any.
    pub fn enrolment_by_secret(&self, secret_hash: &str) -> Result<Option<Enrolment>, StoreError> {
        let token_id = {
            let t = self.txn.open_table(ENROLMENT_SECRETS)?;
            let found = t.get(secret_hash)?;
            match found {
                Some(v) => v.value().to_owned(),
                None => return Ok(None),
            }
        };
        get_w(self.txn, ENROLMENTS, &token_id)
    }

    /// A box the hub enrolled, seen from inside a write.
    pub fn enrolled_box(&self, node: &NodeId) -> Result<Option<EnrolledBox>, StoreError> {
        get_w(self.txn, BOXES, node.as_str())
    }

    /// Records what a box said when it synced (node-local).
    pub fn put_peer_contact(
        &mut self,
        node: &NodeId,
        contact: &PeerContact,
    ) -> Result<(), StoreError> {
        put(self.txn, PEER_CONTACTS, node.as_str(), contact)
    }
}
