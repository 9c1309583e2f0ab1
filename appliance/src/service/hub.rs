//! The central office's commands about room boxes: issuing an enrolment token, enrolling a
//! box with it, revoking a box, and the overview of every box for the office's IT staff.

use super::{Caller, Refusal, ServiceError};
use crate::domain::hub::{
    room_label, EnrolledBox, Enrolment, EnrolmentToken, HubRefusal, PeerContact, ENROLMENT_LIFETIME,
};
use crate::domain::records::Id;
use crate::domain::{Actor, EventBody, NodeId, Role};
use crate::store::{hub as records, Cursor, NodeRole, Store};
use crate::tls::CertAuthority;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

fn refuse(r: HubRefusal) -> ServiceError {
    ServiceError::Refused(Refusal::Hub(r))
}

pub(super) fn require_hub(store: &Store) -> Result<(), ServiceError> {
    match store.role() {
        NodeRole::Hub => Ok(()),
        NodeRole::Room => Err(refuse(HubRefusal::WrongRole)),
    }
}

/// A token just issued: shown once to IT staff, never stored whole.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub token: String,
    pub enrolment: Enrolment,
}

/// IT staff on the hub issue a one-time token for a named room.
pub fn issue_enrolment(
    store: &Store,
    ca: &CertAuthority,
    caller: &Caller,
    raw_room: &str,
) -> Result<IssuedToken, ServiceError> {
    caller.require(Role::may_manage_sync)?;
    require_hub(store)?;
    let room = room_label(raw_room).map_err(refuse)?;
    let mut secret = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let root_sha: [u8; 32] = Sha256::digest(ca.root_der()).into();
    let token = EnrolmentToken::new(secret, root_sha);
    let token_id = Id::random();
    let expires_at = OffsetDateTime::now_utc() + ENROLMENT_LIFETIME;
    let hash = token.secret_hash();
    let (_, ()) = store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        tx.put_enrolment_secret(&hash, token_id.as_str())?;
        Ok((
            vec![EventBody::EnrolmentIssued {
                token_id: token_id.clone(),
                room: room.clone(),
                expires_at,
            }],
            (),
        ))
    })?;
    let enrolment = store
        .read(records::enrolments)?
        .into_iter()
        .find(|e| e.token_id == token_id)
        .ok_or_else(|| ServiceError::Internal("the enrolment just written is missing".into()))?;
    Ok(IssuedToken {
        token: token.to_string(),
        enrolment,
    })
}

/// What a box sends to enrol.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub token: String,
    pub node_id: String,
    /// The certificate request for the box's sync key (PEM).
    pub csr_pem: String,
    /// The box's own room name, for the record.
    #[serde(default)]
    pub box_room: Option<String>,
    #[serde(default)]
    pub app_version: Option<String>,
    /// The certificate request for the box's CA (a new key), when the box wants to serve under
    /// the province root.
    #[serde(default)]
    pub box_ca_csr_pem: Option<String>,
    /// The names and subnets the box answers to, for its CA's name constraints.
    #[serde(default)]
    pub names: Option<crate::tls::BoxNames>,
}

/// What the hub answers: the box's client certificate and what it needs to reach the hub.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolReply {
    pub hub_node_id: String,
    pub room: String,
    pub client_cert_pem: String,
    pub hub_root_pem: String,
    /// The port of the hub's sync listener (mutual TLS).
    pub sync_port: u16,
    /// The box's CA under the province root, when the hub has a province CA and the box asked.
    #[serde(default)]
    pub province: Option<crate::tls::province::ProvinceChain>,
    /// Why there is no `province` (for the box to print).
    #[serde(default)]
    pub province_note: Option<String>,
    /// The office's release key (minisign public key) the box pins for updates, if the hub
    /// has one (`DATA/release-key.pub`, set with `phonghop hub --release-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_key: Option<String>,
}

/// The hub's release key file in its data directory.
pub const RELEASE_KEY_FILE: &str = "release-key.pub";

/// The hub's release key, if it has one.
pub fn release_key(store: &Store) -> Option<String> {
    std::fs::read_to_string(store.dir().join(RELEASE_KEY_FILE))
        .ok()
        .filter(|k| crate::update::parse_key(k).is_ok())
}

/// A box enrols with a token. The token's secret is the only credential; a box that lost the
/// answer may send the same request again while the token is valid and gets a new certificate.
pub fn enrol_box(
    store: &Store,
    ca: &CertAuthority,
    req: &EnrolRequest,
    sync_port: u16,
) -> Result<EnrolReply, ServiceError> {
    require_hub(store)?;
    let token = EnrolmentToken::parse(&req.token).map_err(|_| refuse(HubRefusal::TokenInvalid))?;
    let node = NodeId::parse(&req.node_id).ok_or_else(|| {
        refuse(HubRefusal::BadRequest(
            "node_id is not 32 hex digits".into(),
        ))
    })?;
    if &node == store.node_id() {
        return Err(refuse(HubRefusal::BadRequest(
            "that is the hub's own node id".into(),
        )));
    }
    let now = OffsetDateTime::now_utc();
    let hash = token.secret_hash();
    let (_, reply) = store.write(Actor::Node, |tx| -> Result<_, ServiceError> {
        let enrolment = tx
            .enrolment_by_secret(&hash)?
            .ok_or_else(|| refuse(HubRefusal::TokenInvalid))?;
        if enrolment.expires_at <= now {
            return Err(refuse(HubRefusal::TokenExpired));
        }
        if enrolment.used_by.as_ref().is_some_and(|n| n != &node) {
            return Err(refuse(HubRefusal::TokenUsed));
        }
        let cert = ca
            .issue_client_cert(&req.csr_pem, &node, &enrolment.room, now)
            .map_err(|e| refuse(HubRefusal::BadRequest(e.to_string())))?;
        let (province, province_note) = province_chain(ca, req, &enrolment.room, now)?;
        let reply = EnrolReply {
            hub_node_id: store.node_id().to_string(),
            room: enrolment.room.clone(),
            client_cert_pem: cert.pem,
            hub_root_pem: ca.own_root_pem(),
            sync_port,
            province,
            province_note,
            release_key: release_key(store),
        };
        Ok((
            vec![EventBody::BoxEnrolled {
                token_id: enrolment.token_id,
                node_id: node.clone(),
                room: enrolment.room,
                cert_serial: cert.serial_hex,
                cert_not_after: cert.not_after,
            }],
            reply,
        ))
    })?;
    tracing::info!(node = %node, "room box enrolled");
    Ok(reply)
}

/// The box's CA under the province root, if the hub has a province CA (`DATA/tls/province/`)
/// and the box sent a request for one; otherwise a note saying why not.
fn province_chain(
    ca: &CertAuthority,
    req: &EnrolRequest,
    room: &str,
    now: OffsetDateTime,
) -> Result<(Option<crate::tls::province::ProvinceChain>, Option<String>), ServiceError> {
    let (Some(csr), Some(names)) = (&req.box_ca_csr_pem, &req.names) else {
        return Ok((
            None,
            Some("the box did not ask for a CA under the province root".into()),
        ));
    };
    let issuer = crate::tls::province::HubIssuer::load(ca.dir()).map_err(|e| {
        tracing::error!(error = %e, "the province CA on this hub cannot be used");
        ServiceError::Internal(format!("the hub's province CA cannot be used: {e}"))
    })?;
    let Some(issuer) = issuer else {
        return Ok((
            None,
            Some(
                "this hub has no province CA (phonghop hub ca-install); the box keeps its own root"
                    .into(),
            ),
        ));
    };
    let chain = issuer
        .issue_box_ca(csr, names, room, now)
        .map_err(|e| refuse(HubRefusal::BadRequest(e.to_string())))?;
    Ok((Some(chain), None))
}

/// IT staff on the hub revoke a box: its sync stops at its next request.
pub fn revoke_box(
    store: &Store,
    caller: &Caller,
    node: &str,
    raw_reason: &str,
) -> Result<EnrolledBox, ServiceError> {
    caller.require(Role::may_manage_sync)?;
    require_hub(store)?;
    let node = NodeId::parse(node).ok_or_else(|| refuse(HubRefusal::UnknownBox))?;
    let reason: String = raw_reason
        .chars()
        .filter(|c| !c.is_control())
        .take(500)
        .collect();
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let b = tx
            .enrolled_box(&node)?
            .ok_or_else(|| refuse(HubRefusal::UnknownBox))?;
        if b.revoked.is_some() {
            return Err(refuse(HubRefusal::AlreadyRevoked));
        }
        Ok((
            vec![EventBody::BoxRevoked {
                node_id: node.clone(),
                reason: reason.trim().to_owned(),
            }],
            (),
        ))
    })?;
    store
        .read(|t| records::enrolled_box(t, &node))?
        .ok_or_else(|| ServiceError::Internal("the revoked box is missing".into()))
}

/// Records a fork met while receiving a box's log, once per (origin, seq, offered event):
/// a box that keeps offering the same events records nothing more.
pub fn record_fork(
    store: &Store,
    origin: &NodeId,
    seq: u64,
    ours: Option<crate::domain::Hash>,
    theirs: crate::domain::Hash,
) -> Result<(), ServiceError> {
    store.write(Actor::Node, |tx| -> Result<_, ServiceError> {
        if tx.read(|t| records::conflict_known(t, origin, seq, &theirs))? {
            return Ok((Vec::new(), ()));
        }
        Ok((
            vec![EventBody::SyncConflict {
                origin: origin.clone(),
                seq,
                reason: "fork".into(),
                ours,
                theirs,
            }],
            (),
        ))
    })?;
    Ok(())
}

/// One box as the office's IT page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct BoxOverview {
    #[serde(flatten)]
    pub record: EnrolledBox,
    /// How far the hub holds the box's log.
    pub cursor: Cursor,
    pub contact: Option<PeerContact>,
    /// Events the box said it holds and the hub does not yet (`None` until it says).
    pub backlog_up: Option<u64>,
    /// Events of the hub's own log the box does not hold yet, as it last said (`None` until
    /// it says).
    pub backlog_down: Option<u64>,
    /// Conflicts recorded about this box's log, oldest first.
    pub conflicts: Vec<crate::domain::hub::SyncConflictRecord>,
}

/// Every enrolled box, with what the hub holds of it: for IT staff, and for the office staff
/// who read the archive (revoking and enrolling stay IT staff's).
pub fn boxes(store: &Store, caller: &Caller) -> Result<Vec<BoxOverview>, ServiceError> {
    caller.require(Role::may_read_archive)?;
    require_hub(store)?;
    let rows = store.read(|t| {
        let mut out = Vec::new();
        for b in records::enrolled_boxes(t)? {
            let contact = records::peer_contact(t, &b.node_id)?;
            let conflicts = records::conflicts_of(t, &b.node_id)?;
            out.push((b, contact, conflicts));
        }
        Ok(out)
    })?;
    let mut out = Vec::with_capacity(rows.len());
    let hub_head = store.head_seq()?;
    for (record, contact, conflicts) in rows {
        let cursor = store.cursor(&record.node_id)?;
        let backlog_up = contact
            .as_ref()
            .and_then(|c| c.reported_head)
            .map(|h| h.saturating_sub(cursor.seq));
        let backlog_down = contact
            .as_ref()
            .and_then(|c| c.hub_log_held)
            .map(|held| hub_head.saturating_sub(held));
        out.push(BoxOverview {
            record,
            cursor,
            contact,
            backlog_up,
            backlog_down,
            conflicts,
        });
    }
    out.sort_by(|a, b| a.record.room.cmp(&b.record.room));
    Ok(out)
}

/// The tokens issued, newest first (without their secrets, which the hub does not keep).
pub fn enrolments(store: &Store, caller: &Caller) -> Result<Vec<Enrolment>, ServiceError> {
    caller.require(Role::may_manage_sync)?;
    require_hub(store)?;
    let mut all = store.read(records::enrolments)?;
    all.sort_by_key(|e| std::cmp::Reverse(e.issued_at));
    Ok(all)
}

/// One release the hub offered (`update.offered` in its own log), for the IT page.
#[derive(Debug, Clone, Serialize)]
pub struct OfferedRelease {
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub version: String,
    pub target: String,
    pub sha256: String,
    pub size: u64,
    /// The boxes it is offered to; None: every box.
    pub nodes: Option<Vec<NodeId>>,
}

/// The hub's release key and the releases it offered, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateOffers {
    /// Whether the hub has a release key to give enrolling boxes.
    pub release_key: bool,
    pub offers: Vec<OfferedRelease>,
}

/// The releases offered so far. Reads the hub's own log (offers are rare; only events whose
/// bytes name the kind are decoded).
pub fn update_offers(store: &Store, caller: &Caller) -> Result<UpdateOffers, ServiceError> {
    caller.require(Role::may_manage_sync)?;
    require_hub(store)?;
    const KIND: &[u8] = br#""kind":"update.offered""#;
    let own = store.node_id().clone();
    let mut offers = Vec::new();
    let mut after = 0;
    loop {
        let lines = store.raw_events_after(&own, after, 1000, 4 * 1024 * 1024)?;
        if lines.is_empty() {
            break;
        }
        // Where the next batch starts: only the last line's header is read.
        if let Some(last) = lines.last() {
            let header: crate::domain::event::EnvelopeHeader = serde_json::from_slice(last)
                .map_err(|e| ServiceError::Internal(format!("unreadable hub event: {e}")))?;
            after = header.seq;
        }
        for line in &lines {
            if !line.windows(KIND.len()).any(|w| w == KIND) {
                continue;
            }
            let Ok(e) = crate::domain::EventEnvelope::decode(line) else {
                continue;
            };
            if let EventBody::UpdateOffered {
                version,
                target,
                sha256,
                size,
                nodes,
                ..
            } = e.body
            {
                offers.push(OfferedRelease {
                    seq: e.seq,
                    at: e.at,
                    version,
                    target,
                    sha256,
                    size,
                    nodes,
                });
            }
        }
    }
    offers.reverse();
    Ok(UpdateOffers {
        release_key: release_key(store).is_some(),
        offers,
    })
}
