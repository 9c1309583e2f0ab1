//! Reading back what we wrote: PEM files into DER, and the few certificate fields the loader
//! needs to decide whether a stored certificate can still be used.

use std::net::IpAddr;
use std::path::Path;

use rcgen::{KeyPair, PublicKeyData};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use time::OffsetDateTime;
use x509_parser::extensions::{GeneralName, ParsedExtension};

use super::names::{Coverage, Subnet};
use super::TlsError;

pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> TlsError {
    TlsError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The one certificate in a PEM file.
pub(crate) fn cert_from_pem(
    bytes: &[u8],
    path: &Path,
) -> Result<CertificateDer<'static>, TlsError> {
    let mut certs = CertificateDer::pem_slice_iter(bytes);
    let first = certs
        .next()
        .ok_or_else(|| corrupt(path, "no CERTIFICATE block"))?
        .map_err(|e| corrupt(path, format!("bad PEM: {e}")))?;
    if certs.next().is_some() {
        return Err(corrupt(path, "more than one certificate"));
    }
    Ok(first)
}

/// A P-256 private key in PKCS#8 PEM.
pub(crate) fn key_from_pem(bytes: &[u8], path: &Path) -> Result<KeyPair, TlsError> {
    let text = std::str::from_utf8(bytes).map_err(|_| corrupt(path, "not a PEM text file"))?;
    let key =
        KeyPair::from_pem(text).map_err(|e| corrupt(path, format!("bad private key: {e}")))?;
    if key.algorithm() != &rcgen::PKCS_ECDSA_P256_SHA256 {
        return Err(corrupt(path, "not an ECDSA P-256 key"));
    }
    Ok(key)
}

/// The certificate fields the loader looks at.
#[derive(Debug, Clone)]
pub(crate) struct CertFacts {
    pub serial_hex: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub cn: Option<String>,
    pub subject_raw: Vec<u8>,
    pub issuer_raw: Vec<u8>,
    pub public_key: Vec<u8>,
    pub ski: Option<Vec<u8>>,
    pub aki: Option<Vec<u8>>,
    pub is_ca: bool,
    pub dns: Vec<String>,
    pub ips: Vec<IpAddr>,
    /// Permitted subtrees, if the certificate has a NameConstraints extension.
    pub permitted: Option<Coverage>,
}

impl CertFacts {
    pub fn parse(der: &[u8], path: &Path) -> Result<Self, TlsError> {
        let (rest, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| corrupt(path, format!("bad certificate: {e}")))?;
        if !rest.is_empty() {
            return Err(corrupt(path, "trailing bytes after the certificate"));
        }
        let mut facts = CertFacts {
            serial_hex: serial_hex(cert.raw_serial()),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            cn: cert
                .subject()
                .iter_common_name()
                .next()
                .and_then(|a| a.as_str().ok())
                .map(str::to_string),
            subject_raw: cert.subject().as_raw().to_vec(),
            issuer_raw: cert.issuer().as_raw().to_vec(),
            public_key: cert.public_key().subject_public_key.data.to_vec(),
            ski: None,
            aki: None,
            is_ca: cert.is_ca(),
            dns: Vec::new(),
            ips: Vec::new(),
            permitted: None,
        };
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => facts.ski = Some(id.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    facts.aki = aki.key_identifier.as_ref().map(|id| id.0.to_vec());
                }
                ParsedExtension::SubjectAlternativeName(san) => {
                    for name in &san.general_names {
                        match name {
                            GeneralName::DNSName(d) => facts.dns.push(d.to_ascii_lowercase()),
                            GeneralName::IPAddress(b) => {
                                if let Some(ip) = ip_from_bytes(b) {
                                    facts.ips.push(ip);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                ParsedExtension::NameConstraints(nc) => {
                    let mut cov = Coverage::default();
                    for sub in nc.permitted_subtrees.iter().flatten() {
                        match &sub.base {
                            GeneralName::DNSName(d) => cov.dns.push(d.to_ascii_lowercase()),
                            GeneralName::IPAddress(b) => {
                                if let Some(s) = subnet_from_bytes(b) {
                                    cov.subnets.push(s);
                                }
                            }
                            _ => {}
                        }
                    }
                    facts.permitted = Some(cov);
                }
                ParsedExtension::ParseError { error } => {
                    return Err(corrupt(path, format!("bad extension {}: {error}", ext.oid)));
                }
                _ => {}
            }
        }
        Ok(facts)
    }

    /// True if `key` is the private half of this certificate's public key.
    pub fn matches_key(&self, key: &KeyPair) -> bool {
        key.der_bytes() == self.public_key.as_slice()
    }

    /// True if `issuer` signed this certificate, judged by name and key identifier.
    /// (The signature itself is checked by the webpki verification of the whole chain.)
    pub fn issued_by(&self, issuer: &CertFacts) -> bool {
        self.issuer_raw == issuer.subject_raw && self.aki.is_some() && self.aki == issuer.ski
    }
}

/// Serial as lower-case hex without sign padding.
pub(crate) fn serial_hex(raw: &[u8]) -> String {
    let start = raw.iter().position(|b| *b != 0).unwrap_or(raw.len());
    let trimmed = &raw[start..];
    if trimmed.is_empty() {
        "00".to_string()
    } else {
        hex::encode(trimmed)
    }
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => <[u8; 4]>::try_from(b).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(b).ok().map(IpAddr::from),
        _ => None,
    }
}

/// A name-constraint IP subtree: address then mask, both 4 or 16 bytes. Non-contiguous masks
/// are ignored (we never write them), which can only make coverage look smaller.
fn subnet_from_bytes(b: &[u8]) -> Option<Subnet> {
    let half = b.len() / 2;
    if half != 4 && half != 16 {
        return None;
    }
    let (addr, mask) = b.split_at(half);
    let ones: u32 = mask.iter().map(|m| m.count_ones()).sum();
    let contiguous = mask
        .iter()
        .flat_map(|m| (0..8).rev().map(move |i| (m >> i) & 1))
        .skip_while(|bit| *bit == 1)
        .all(|bit| bit == 0);
    if !contiguous {
        return None;
    }
    let prefix = u8::try_from(ones).ok()?;
    Subnet::new(ip_from_bytes(addr)?, prefix).ok()
}
