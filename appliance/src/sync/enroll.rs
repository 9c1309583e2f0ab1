//! `phonghop enroll https://HUB TOKEN`: the box joins its central office.
//!
//! 1. The token carries the SHA-256 of the hub's root certificate. The box fetches the root
//!    from the hub (`/ca.pem`) and refuses unless it has exactly that fingerprint; from then on
//!    it trusts only that root for the hub (pinned).
//! 2. The box makes its sync key and a certificate request, and sends them with the token over
//!    a connection verified against the pinned root.
//! 3. The hub answers with the box's client certificate and its sync port. The box writes
//!    `DATA/sync/` and records `node.enrolled` in its own log.
//! 4. With the request the box also sends a CSR for a new CA key and its names; a hub with a
//!    province CA answers with a box CA under the province root, which the box adopts
//!    ([`crate::tls::province::adopt`]): it then serves under the province root, and its own
//!    root cross-signs the box CA so tablets that trusted the box keep working.

use super::{Enrolled, HubSettings, SettingsError};
use crate::domain::hub::EnrolmentToken;
use crate::domain::{Actor, EventBody, NodeId};
use crate::service::hub::{EnrolReply, EnrolRequest};
use crate::store::{NodeRole, Store, StoreError};
use rustls::pki_types::pem::PemObject;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error("{0}")]
    BadToken(#[from] crate::domain::hub::BadToken),
    #[error("the hub address must be https://HOST[:PORT], not {0:?}")]
    BadUrl(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("this data directory belongs to a hub; only room boxes enrol")]
    NotARoomBox,
    #[error("this box is already enrolled with {0}; pass --replace to enrol it again")]
    AlreadyEnrolled(String),
    #[error("cannot reach the hub at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("the hub's root certificate has fingerprint {found}, but the token expects {expected}: this is not the hub that issued the token (or the token was mistyped). Nothing was sent")]
    WrongHub { expected: String, found: String },
    #[error("the hub refused: {message} ({code})")]
    Refused { code: String, message: String },
    #[error("the hub's answer is not usable: {0}")]
    BadReply(String),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

/// The HTTPS base of a hub address: `https://host[:port]`, with no path.
fn base_url(raw: &str) -> Result<reqwest::Url, EnrollError> {
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| EnrollError::BadUrl(raw.into()))?;
    if url.scheme() != "https" || url.host_str().is_none() || !url.username().is_empty() {
        return Err(EnrollError::BadUrl(raw.into()));
    }
    let mut base = url.clone();
    base.set_path("/");
    base.set_query(None);
    base.set_fragment(None);
    Ok(base)
}

fn client(config: rustls::ClientConfig) -> Result<reqwest::Client, EnrollError> {
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| EnrollError::BadReply(e.to_string()))
}

/// Takes the hub's root certificate over an unverified connection, and keeps it only if its
/// fingerprint is the token's.
async fn fetch_pinned_root(
    base: &reqwest::Url,
    token: &EnrolmentToken,
) -> Result<String, EnrollError> {
    let unreachable = |e: reqwest::Error| EnrollError::Unreachable {
        url: base.to_string(),
        detail: e.to_string(),
    };
    let anything = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| EnrollError::BadReply(e.to_string()))?;
    let url = base
        .join("ca.pem")
        .map_err(|_| EnrollError::BadUrl(base.to_string()))?;
    let pem = anything
        .get(url)
        .send()
        .await
        .map_err(unreachable)?
        .error_for_status()
        .map_err(unreachable)?
        .text()
        .await
        .map_err(unreachable)?;
    let der = rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()
        .and_then(Result::ok)
        .ok_or_else(|| EnrollError::BadReply("the hub's /ca.pem holds no certificate".into()))?;
    let found = hex::encode(Sha256::digest(der.as_ref()));
    if found != token.root_sha256_hex() {
        return Err(EnrollError::WrongHub {
            expected: token.root_sha256_hex(),
            found,
        });
    }
    Ok(pem)
}

/// What an enrolment did.
#[derive(Debug)]
pub struct Outcome {
    pub enrolled: Enrolled,
    /// Set when the box now serves under the province root.
    pub province: Option<crate::tls::province::Adopted>,
    /// Why the box keeps its own root, when it does.
    pub province_note: Option<String>,
}

/// Enrols the box in `data_dir` (which must not be serving) with the hub at `hub_url`.
/// `sync_url` overrides where the box syncs (a test routes it through a proxy).
pub async fn enroll(
    data_dir: &Path,
    hub_url: &str,
    token: &str,
    sync_url: Option<&str>,
    replace: bool,
) -> Result<Outcome, EnrollError> {
    let token = EnrolmentToken::parse(token)?;
    let base = base_url(hub_url)?;
    let store = Store::open(data_dir)?;
    if store.role() != NodeRole::Room {
        return Err(EnrollError::NotARoomBox);
    }
    if let Some(existing) = Enrolled::load(data_dir)? {
        if !replace {
            return Err(EnrollError::AlreadyEnrolled(existing.settings.hub_url));
        }
    }
    let root_pem = fetch_pinned_root(&base, &token).await?;
    let pinned = client(crate::tls::sync::box_client_config(&root_pem, None)?)?;
    let request = crate::tls::sync::client_request(store.node_id())?;
    let room = store.room()?.name.as_str().to_owned();
    // The box's CA exists before anything is asked (a box enrolled before its first start).
    let tls_dir = data_dir.join("tls");
    // The `.local` name the server announces (`server::local_name`, out of this layer's reach).
    let local_name = format!("phonghop-{}.local", store.node_id().short());
    let names = crate::tls::BoxNames::detect(&local_name)?;
    crate::tls::CertAuthority::load_or_create(&tls_dir, &room, &names)?;
    let box_ca = crate::tls::province::box_ca_request(&room)?;
    let body = EnrolRequest {
        token: token.to_string(),
        node_id: store.node_id().to_string(),
        csr_pem: request.csr_pem.clone(),
        box_room: Some(room.clone()),
        app_version: Some(env!("CARGO_PKG_VERSION").into()),
        box_ca_csr_pem: Some(box_ca.csr_pem.clone()),
        names: Some(names.clone()),
    };
    let url = base
        .join("api/hub/enrol")
        .map_err(|_| EnrollError::BadUrl(hub_url.into()))?;
    // The hub's API takes writes only with the Origin of its own pages; the box says it is
    // talking to that hub.
    let response = pinned
        .post(url)
        .header(reqwest::header::ORIGIN, base.origin().ascii_serialization())
        .json(&body)
        .send()
        .await
        .map_err(|e| EnrollError::Unreachable {
            url: base.to_string(),
            detail: e.to_string(),
        })?;
    if !response.status().is_success() {
        let status = response.status();
        let err: serde_json::Value = response.json().await.unwrap_or_default();
        return Err(EnrollError::Refused {
            code: err["code"].as_str().unwrap_or(status.as_str()).to_owned(),
            message: err["message"].as_str().unwrap_or("(no message)").to_owned(),
        });
    }
    let reply: EnrolReply = response
        .json()
        .await
        .map_err(|e| EnrollError::BadReply(e.to_string()))?;
    let reply_root =
        rustls::pki_types::CertificateDer::pem_slice_iter(reply.hub_root_pem.as_bytes())
            .next()
            .and_then(Result::ok)
            .map(|d| hex::encode(Sha256::digest(d.as_ref())));
    if reply_root.as_deref() != Some(token.root_sha256_hex().as_str()) {
        return Err(EnrollError::BadReply(
            "the hub answered with another root certificate".into(),
        ));
    }
    let cert_der =
        rustls::pki_types::CertificateDer::pem_slice_iter(reply.client_cert_pem.as_bytes())
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| EnrollError::BadReply("no client certificate".into()))?;
    if crate::tls::sync::node_of_client_cert(&cert_der).as_ref() != Some(store.node_id()) {
        return Err(EnrollError::BadReply(
            "the client certificate names another box".into(),
        ));
    }
    if !crate::tls::sync::key_matches_cert(&request.key_pem, &reply.client_cert_pem) {
        return Err(EnrollError::BadReply(
            "the client certificate is not for this box's key".into(),
        ));
    }
    let hub_node = NodeId::parse(&reply.hub_node_id)
        .ok_or_else(|| EnrollError::BadReply("the hub's node id is not valid".into()))?;
    let sync_url = match sync_url {
        Some(u) => base_url(u)?.to_string(),
        None => {
            let mut u = base.clone();
            u.set_port(Some(reply.sync_port))
                .map_err(|()| EnrollError::BadUrl(hub_url.into()))?;
            u.to_string()
        }
    };
    // The hub names the box CA after the room it recorded, which may differ from the box's.
    let province = match &reply.province {
        Some(chain) => Some(crate::tls::province::adopt(
            &tls_dir,
            chain,
            &box_ca.key_pem,
            &reply.room,
            &names,
            time::OffsetDateTime::now_utc(),
        )?),
        None => None,
    };
    if province.is_some() {
        // Issues the leaf under the new chain and checks it through both roots.
        crate::tls::CertAuthority::load_or_create(&tls_dir, &room, &names)?;
    }
    let enrolled = Enrolled {
        settings: HubSettings {
            hub_url: base.to_string(),
            sync_url,
            hub_node_id: hub_node.to_string(),
            hub_root_sha256: token.root_sha256_hex(),
            room: reply.room.clone(),
            enrolled_at: time::OffsetDateTime::now_utc(),
            release_key: reply.release_key.clone(),
        },
        hub_root_pem: reply.hub_root_pem.clone(),
        client_cert_pem: reply.client_cert_pem.clone(),
        client_key_pem: request.key_pem,
    };
    enrolled.save(data_dir)?;
    store.append(
        Actor::Node,
        vec![EventBody::NodeEnrolled {
            hub_node_id: hub_node,
            hub_url: base.to_string(),
            hub_root_sha256: token.root_sha256_hex(),
        }],
    )?;
    Ok(Outcome {
        enrolled,
        province,
        province_note: reply.province_note,
    })
}
