//! Certificates and TLS settings for box ⇄ hub sync (`docs/sync-protocol.md`).
//!
//! - On the hub, the root signs each enrolled box's **client certificate** from the box's CSR:
//!   an end entity (the root allows one level below it), `clientAuth` only, naming the box by a
//!   URI SAN `urn:phonghop:node:<node id>`. The hub ignores every name the CSR asks for.
//! - The hub's sync port demands such a certificate ([`CertAuthority::sync_server_config`]).
//! - The box ([`box_client_config`]) trusts only the hub root it pinned at enrolment and shows
//!   its client certificate.

use std::sync::Arc;

use rcgen::{
    CertificateParams, CertificateSigningRequestParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use time::OffsetDateTime;

use super::{parse, CertAuthority, TlsError};
use crate::domain::NodeId;

const NODE_URI_PREFIX: &str = "urn:phonghop:node:";

/// A client certificate the hub issued to a box.
#[derive(Debug, Clone)]
pub struct ClientCert {
    pub pem: String,
    pub serial_hex: String,
    pub not_after: OffsetDateTime,
}

/// A key and a CSR the box sends at enrolment.
pub struct ClientRequest {
    pub key_pem: String,
    pub csr_pem: String,
}

/// Makes the box's sync key and a certificate request for it.
pub fn client_request(node: &NodeId) -> Result<ClientRequest, TlsError> {
    let key = super::issue::new_key()?;
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("Phonghop box {node}"));
    p.distinguished_name = dn;
    let csr = p.serialize_request(&key)?;
    Ok(ClientRequest {
        key_pem: key.serialize_pem(),
        csr_pem: csr.pem()?,
    })
}

/// The node id a client certificate names, if it names exactly one.
pub fn node_of_client_cert(der: &[u8]) -> Option<NodeId> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    let mut found = None;
    for name in &san.value.general_names {
        if let x509_parser::extensions::GeneralName::URI(uri) = name {
            if let Some(id) = uri.strip_prefix(NODE_URI_PREFIX) {
                if found.is_some() {
                    return None;
                }
                found = Some(NodeId::parse(id)?);
            }
        }
    }
    found
}

impl CertAuthority {
    /// Issues a box's client certificate from its CSR (PEM). The CSR's own signature must
    /// verify; its subject and names are replaced by the hub's.
    pub fn issue_client_cert(
        &self,
        csr_pem: &str,
        node: &NodeId,
        room: &str,
        now: OffsetDateTime,
    ) -> Result<ClientCert, TlsError> {
        super::check_clock(now)?;
        let csr = CertificateSigningRequestParams::from_pem(csr_pem)?;
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Phonghop");
        let cn: String = format!("Phonghop box {room}")
            .chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect();
        dn.push(DnType::CommonName, cn);
        p.distinguished_name = dn;
        p.serial_number = Some(super::issue::random_serial());
        let now = now.replace_nanosecond(0).unwrap_or(now);
        p.not_before = now - super::issue::BACKDATE;
        p.not_after =
            (now + crate::domain::hub::CLIENT_CERT_LIFETIME).min(self.root.facts.not_after);
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.use_authority_key_identifier_extension = true;
        p.subject_alt_names = vec![SanType::URI(
            format!("{NODE_URI_PREFIX}{node}").as_str().try_into()?,
        )];
        let cert = p.signed_by(&csr.public_key, &self.root.issuer)?;
        let der = cert.der().clone();
        let facts = parse::CertFacts::parse(&der, &self.dir)?;
        Ok(ClientCert {
            pem: super::pem_cert(&der),
            serial_hex: facts.serial_hex,
            not_after: facts.not_after,
        })
    }

    /// The sync port's TLS settings: the same server certificate, and a client certificate
    /// issued by this node's root is required (ALPN http/1.1 and h2).
    pub fn sync_server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let mut roots = RootCertStore::empty();
        roots.add(self.root.der.clone())?;
        let verifier = WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::clone(&self.provider),
        )
        .build()
        .map_err(|e| TlsError::SelfCheck(format!("client verifier: {e}")))?;
        let mut config = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(self.resolver.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The box's TLS settings for talking to its hub: only `hub_root_pem` is trusted, and the
/// client certificate is shown when `client` is given (`(certificate PEM, key PEM)`).
pub fn box_client_config(
    hub_root_pem: &str,
    client: Option<(&str, &str)>,
) -> Result<ClientConfig, TlsError> {
    let path = std::path::Path::new("hub-root.pem");
    let root = parse::cert_from_pem(hub_root_pem.as_bytes(), path)?;
    let mut roots = RootCertStore::empty();
    roots.add(root)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    let mut config = match client {
        Some((cert_pem, key_pem)) => {
            let cert =
                parse::cert_from_pem(cert_pem.as_bytes(), std::path::Path::new("client.pem"))?;
            let key = parse::key_from_pem(key_pem.as_bytes(), std::path::Path::new("client.key"))?;
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
            builder.with_client_auth_cert(vec![CertificateDer::from(cert.to_vec())], key)?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The key of a PEM, for checks.
pub fn key_matches_cert(key_pem: &str, cert_pem: &str) -> bool {
    let (Ok(key), Ok(cert)) = (
        KeyPair::from_pem(key_pem),
        parse::cert_from_pem(cert_pem.as_bytes(), std::path::Path::new("client.pem")),
    ) else {
        return false;
    };
    parse::CertFacts::parse(&cert, std::path::Path::new("client.pem"))
        .is_ok_and(|f| f.matches_key(&key))
}
