//! The province's certificate authority (`docs/security.md`, "Province root").
//!
//! Four levels, all ECDSA P-256 with random 16-byte serials and AKI/SKI:
//! - the **province root** (20 years, pathlen 2), made once on an offline machine by
//!   `phonghop province-ca init`; its key never touches the hub;
//! - the hub's **issuing CA** (10 years at most, pathlen 1), whose key is made on the hub
//!   (`phonghop hub ca-request`) and whose certificate the offline root signs from the CSR
//!   (`phonghop province-ca sign`), then installed on the hub (`phonghop hub ca-install`);
//! - one **box CA** per enrolled box (5 years at most, never beyond the issuing CA, pathlen 0,
//!   critical NameConstraints limited to the names and subnets the hub granted), issued at
//!   enrolment from the box's CSR;
//! - the box's **leaf**, which the box renews by itself under its box CA.
//!
//! A box that had its own root keeps it aside (`own-root.pem`, `own-root.key`) and has it sign
//! a second certificate for the same box CA (`intermediate-cross.pem`: same subject, same key,
//! same constraints). The box serves leaf, box CA, issuing CA and the cross certificate, so a
//! tablet that trusts either root finds a path. The old root's pathlen is 1, which is why it
//! cross-signs the box CA and not the hub's issuing CA: a path old root → issuing CA → box CA
//! → leaf would have two CAs below a root that allows one, and clients reject it.
//!
//! Hub files, under `DATA/tls/province/`: `root.pem` (the province root, no key),
//! `issuing.pem`, `issuing.key`, and while a request is pending `issuing-request.key` and
//! `issuing.csr`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, PublicKeyData,
};
use rustls::pki_types::CertificateDer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::issue::{box_ca_params, new_key, random_serial, BACKDATE};
use super::names::{normalize_dns, BoxNames, Coverage, Subnet};
use super::parse::{self, CertFacts};
use super::store::{self, KEY_MODE, PUBLIC_MODE};
use super::{pem_cert, TlsError};

pub const PROVINCE_ROOT_LIFETIME: Duration = Duration::days(7305);
pub const ISSUING_LIFETIME: Duration = Duration::days(3652);
pub const BOX_CA_LIFETIME: Duration = Duration::days(5 * 365);

/// Files `province-ca init` writes into its output directory.
pub const OFFLINE_ROOT_CERT: &str = "province-root.pem";
pub const OFFLINE_ROOT_KEY: &str = "province-root.key";

/// The hub's directory for the province CA, under `DATA/tls/`.
pub const HUB_DIR: &str = "province";
const HUB_ROOT: &str = "root.pem";
const HUB_ISSUING_CERT: &str = "issuing.pem";
const HUB_ISSUING_KEY: &str = "issuing.key";
const HUB_REQUEST_KEY: &str = "issuing-request.key";
pub const HUB_REQUEST_CSR: &str = "issuing.csr";

/// SHA-256 of a certificate, upper-case hex pairs joined by ':'.
pub fn fingerprint(der: &[u8]) -> String {
    colon_hex(&Sha256::digest(der))
}

fn colon_hex(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
        .as_bytes()
        .chunks(2)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect::<Vec<_>>()
        .join(":")
}

/// A short fingerprint of a public key (its first 8 SHA-256 bytes), which the hub prints when
/// it makes a request and the offline machine prints when it signs: people compare them.
pub fn key_fingerprint(raw_public_key: &[u8]) -> String {
    colon_hex(&Sha256::digest(raw_public_key)[..8])
}

fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

fn dn(cn: &str) -> DistinguishedName {
    let cn: String = cn.chars().filter(|c| !c.is_control()).take(64).collect();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Phonghop");
    dn.push(DnType::CommonName, cn.trim());
    dn
}

/// The subject of a box's CA, the same bytes on the hub (which issues it) and on the box
/// (whose old root cross-signs it).
pub(crate) fn box_ca_name(room: &str) -> DistinguishedName {
    let room: String = room.chars().filter(|c| !c.is_control()).collect();
    let budget = 64usize.saturating_sub("Phonghop  Box CA".chars().count());
    let room: String = room.trim().chars().take(budget).collect();
    dn(&format!("Phonghop {} Box CA", room.trim()))
}

// ---------------------------------------------------------------------------------------------
// The offline root.

/// What `province-ca init` made.
#[derive(Debug, Clone)]
pub struct OfflineRoot {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub fingerprint: String,
    pub not_after: OffsetDateTime,
}

/// Makes the province root in `out` (created 0700 if missing). Refuses to overwrite either file.
pub fn init_offline_root(
    out: &Path,
    name: &str,
    now: OffsetDateTime,
) -> Result<OfflineRoot, TlsError> {
    super::check_clock(now)?;
    let name = name.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(TlsError::InvalidName {
            name: name.into(),
            reason: "give the province's name, e.g. \"Tỉnh Đồng Tháp\"".into(),
        });
    }
    store::ensure_dir(out)?;
    for f in [OFFLINE_ROOT_CERT, OFFLINE_ROOT_KEY] {
        if store::exists(out, f) {
            return Err(TlsError::Incomplete {
                dir: out.to_path_buf(),
                reason: format!("{f} already exists; a province has one root, never replaced"),
            });
        }
    }
    let now = whole_seconds(now);
    let key = new_key()?;
    let mut p = CertificateParams::default();
    let cn: String = name.chars().take(64 - " Root CA".len()).collect();
    p.distinguished_name = dn(&format!("{} Root CA", cn.trim()));
    p.serial_number = Some(random_serial());
    p.not_before = now - BACKDATE;
    p.not_after = now + PROVINCE_ROOT_LIFETIME;
    // Below it: the hub's issuing CA, then one CA per box.
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(2));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.use_authority_key_identifier_extension = true;
    let der = p.self_signed(&key)?.der().clone();
    store::write_atomic(
        out,
        OFFLINE_ROOT_KEY,
        key.serialize_pem().as_bytes(),
        KEY_MODE,
    )?;
    store::write_atomic(
        out,
        OFFLINE_ROOT_CERT,
        pem_cert(&der).as_bytes(),
        PUBLIC_MODE,
    )?;
    let facts = CertFacts::parse(&der, &out.join(OFFLINE_ROOT_CERT))?;
    Ok(OfflineRoot {
        cert_path: out.join(OFFLINE_ROOT_CERT),
        key_path: out.join(OFFLINE_ROOT_KEY),
        fingerprint: fingerprint(&der),
        not_after: facts.not_after,
    })
}

/// What `province-ca sign` made.
#[derive(Debug, Clone)]
pub struct SignedIssuing {
    pub pem: String,
    pub subject: String,
    pub key_fingerprint: String,
    pub not_after: OffsetDateTime,
}

/// Signs a hub's issuing-CA request with the offline root in `root_dir`. Only the CSR's key
/// and common name are taken; everything else is the root's choice.
pub fn sign_issuing_csr(
    root_dir: &Path,
    csr_pem: &str,
    now: OffsetDateTime,
) -> Result<SignedIssuing, TlsError> {
    super::check_clock(now)?;
    let cert_path = root_dir.join(OFFLINE_ROOT_CERT);
    let key_path = root_dir.join(OFFLINE_ROOT_KEY);
    let root_pem =
        store::read_optional(&cert_path)?.ok_or_else(|| parse::corrupt(&cert_path, "missing"))?;
    let key_pem =
        store::read_optional(&key_path)?.ok_or_else(|| parse::corrupt(&key_path, "missing"))?;
    let root_der = parse::cert_from_pem(&root_pem, &cert_path)?;
    let key = parse::key_from_pem(&key_pem, &key_path)?;
    let root_facts = CertFacts::parse(&root_der, &cert_path)?;
    if !root_facts.matches_key(&key) {
        return Err(parse::corrupt(
            &key_path,
            "does not match province-root.pem",
        ));
    }
    let issuer = Issuer::from_ca_cert_der(&root_der, key)
        .map_err(|e| parse::corrupt(&cert_path, format!("cannot use as issuer: {e}")))?;
    let csr = CertificateSigningRequestParams::from_pem(csr_pem)?;
    let cn = csr
        .params
        .distinguished_name
        .get(&DnType::CommonName)
        .and_then(|v| match v {
            rcgen::DnValue::Utf8String(s) => Some(s.clone()),
            rcgen::DnValue::PrintableString(s) => Some(s.as_str().to_owned()),
            _ => None,
        })
        .unwrap_or_else(|| "Phonghop hub Issuing CA".into());
    let now = whole_seconds(now);
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(&cn);
    p.serial_number = Some(random_serial());
    p.not_before = now - BACKDATE;
    p.not_after = (now + ISSUING_LIFETIME).min(root_facts.not_after);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.use_authority_key_identifier_extension = true;
    let der = p.signed_by(&csr.public_key, &issuer)?.der().clone();
    let facts = CertFacts::parse(&der, Path::new("issuing.pem"))?;
    Ok(SignedIssuing {
        pem: pem_cert(&der),
        subject: cn,
        key_fingerprint: key_fingerprint(csr.public_key.der_bytes()),
        not_after: facts.not_after,
    })
}

// ---------------------------------------------------------------------------------------------
// The hub's issuing CA.

/// What `hub ca-request` made.
#[derive(Debug, Clone)]
pub struct IssuingRequest {
    pub csr_path: PathBuf,
    pub key_fingerprint: String,
}

/// Makes the hub's issuing key (kept as `issuing-request.key` until its certificate is
/// installed) and writes its CSR. An installed issuing CA keeps working meanwhile.
pub fn hub_ca_request(tls_dir: &Path, hub_name: &str) -> Result<IssuingRequest, TlsError> {
    let dir = tls_dir.join(HUB_DIR);
    store::ensure_dir(tls_dir)?;
    store::ensure_dir(&dir)?;
    let key = new_key()?;
    let mut p = CertificateParams::default();
    let budget = 64usize.saturating_sub(" Issuing CA".len());
    let name: String = hub_name
        .chars()
        .filter(|c| !c.is_control())
        .take(budget)
        .collect();
    p.distinguished_name = dn(&format!("{} Issuing CA", name.trim()));
    let csr = p.serialize_request(&key)?.pem()?;
    store::write_atomic(
        &dir,
        HUB_REQUEST_KEY,
        key.serialize_pem().as_bytes(),
        KEY_MODE,
    )?;
    store::write_atomic(&dir, HUB_REQUEST_CSR, csr.as_bytes(), PUBLIC_MODE)?;
    Ok(IssuingRequest {
        csr_path: dir.join(HUB_REQUEST_CSR),
        key_fingerprint: key_fingerprint(key.der_bytes()),
    })
}

/// What `hub ca-install` installed.
#[derive(Debug, Clone)]
pub struct Installed {
    pub root_fingerprint: String,
    pub root_subject: String,
    pub issuing_not_after: OffsetDateTime,
}

fn bad(what: &str, reason: impl Into<String>) -> TlsError {
    parse::corrupt(Path::new(what), reason)
}

/// Checks the signed issuing certificate against the pending key and the province root, then
/// installs it. Writes `issuing.key`, `issuing.pem`, `root.pem`, and only then removes the
/// pending key, so a cut install can simply be run again.
pub fn hub_ca_install(
    tls_dir: &Path,
    cert_pem: &[u8],
    root_pem: &[u8],
    now: OffsetDateTime,
) -> Result<Installed, TlsError> {
    let dir = tls_dir.join(HUB_DIR);
    let cert = parse::cert_from_pem(cert_pem, Path::new("the issuing certificate"))?;
    let root = parse::cert_from_pem(root_pem, Path::new("the province root"))?;
    let cert_facts = CertFacts::parse(&cert, Path::new("the issuing certificate"))?;
    let root_facts = CertFacts::parse(&root, Path::new("the province root"))?;
    if !root_facts.is_ca || root_facts.subject_raw != root_facts.issuer_raw {
        return Err(bad(
            "the province root",
            "is not a self-signed CA certificate",
        ));
    }
    if !signed_by(&cert, &root) {
        return Err(bad(
            "the issuing certificate",
            "was not signed by this province root (wrong root file?)",
        ));
    }
    if !cert_facts.is_ca {
        return Err(bad("the issuing certificate", "is not a CA certificate"));
    }
    if now < cert_facts.not_before || now > cert_facts.not_after {
        return Err(bad(
            "the issuing certificate",
            format!(
                "is valid from {} to {}, not now ({now}); check the clocks",
                cert_facts.not_before, cert_facts.not_after
            ),
        ));
    }
    let request_path = dir.join(HUB_REQUEST_KEY);
    let current_path = dir.join(HUB_ISSUING_KEY);
    let key_bytes = [&request_path, &current_path]
        .into_iter()
        .filter_map(|p| {
            store::read_optional(p)
                .ok()
                .flatten()
                .map(|b| (p.clone(), b))
        })
        .find(|(p, b)| parse::key_from_pem(b, p).is_ok_and(|k| cert_facts.matches_key(&k)));
    let Some((from, key_bytes)) = key_bytes else {
        return Err(bad(
            "the issuing certificate",
            "is not for this hub's key: run `phonghop hub ca-request` on this hub and sign the \
             request it writes",
        ));
    };
    store::write_atomic(&dir, HUB_ISSUING_KEY, &key_bytes, KEY_MODE)?;
    store::write_atomic(
        &dir,
        HUB_ISSUING_CERT,
        pem_cert(&cert).as_bytes(),
        PUBLIC_MODE,
    )?;
    store::write_atomic(&dir, HUB_ROOT, pem_cert(&root).as_bytes(), PUBLIC_MODE)?;
    if from == request_path {
        for f in [HUB_REQUEST_KEY, HUB_REQUEST_CSR] {
            let p = dir.join(f);
            if p.exists() {
                std::fs::remove_file(&p).map_err(|e| store::io_err("remove", &p, e))?;
            }
        }
    }
    Ok(Installed {
        root_fingerprint: fingerprint(&root),
        root_subject: root_facts.cn.unwrap_or_default(),
        issuing_not_after: cert_facts.not_after,
    })
}

/// Whether `child` carries a valid signature by `issuer`'s key.
pub(crate) fn signed_by(child: &[u8], issuer: &[u8]) -> bool {
    use x509_parser::prelude::FromDer;
    let (Ok((_, c)), Ok((_, i))) = (
        x509_parser::certificate::X509Certificate::from_der(child),
        x509_parser::certificate::X509Certificate::from_der(issuer),
    ) else {
        return false;
    };
    c.verify_signature(Some(i.public_key())).is_ok()
}

/// The province chain a box receives at enrolment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProvinceChain {
    pub root_pem: String,
    pub issuing_pem: String,
    /// The box's CA, issued from its CSR.
    pub intermediate_pem: String,
    /// What the box CA covers (it may be less than the box asked for).
    pub granted: BoxNames,
    /// Names the box asked for and did not get, with the reason.
    #[serde(default)]
    pub refused: Vec<String>,
}

/// The hub's installed issuing CA.
pub struct HubIssuer {
    root_der: CertificateDer<'static>,
    issuing_der: CertificateDer<'static>,
    issuing_facts: CertFacts,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for HubIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubIssuer")
            .field("issuing_serial", &self.issuing_facts.serial_hex)
            .finish_non_exhaustive()
    }
}

impl HubIssuer {
    /// The installed issuing CA, or `None` if none was installed. Half an installation (a
    /// certificate without its key or the reverse) is an error.
    pub fn load(tls_dir: &Path) -> Result<Option<Self>, TlsError> {
        let dir = tls_dir.join(HUB_DIR);
        let read = |f: &str| store::read_optional(&dir.join(f));
        match (
            read(HUB_ROOT)?,
            read(HUB_ISSUING_CERT)?,
            read(HUB_ISSUING_KEY)?,
        ) {
            (None, None, None) => Ok(None),
            (Some(root), Some(cert), Some(key)) => {
                let root_der = parse::cert_from_pem(&root, &dir.join(HUB_ROOT))?;
                let cert_path = dir.join(HUB_ISSUING_CERT);
                let issuing_der = parse::cert_from_pem(&cert, &cert_path)?;
                let key = parse::key_from_pem(&key, &dir.join(HUB_ISSUING_KEY))?;
                let issuing_facts = CertFacts::parse(&issuing_der, &cert_path)?;
                if !issuing_facts.matches_key(&key) || !signed_by(&issuing_der, &root_der) {
                    return Err(TlsError::Incomplete {
                        dir,
                        reason: "issuing.pem, issuing.key and root.pem do not belong together; \
                                 run `phonghop hub ca-install` again"
                            .into(),
                    });
                }
                let issuer = Issuer::from_ca_cert_der(&issuing_der, key).map_err(|e| {
                    parse::corrupt(&cert_path, format!("cannot use as issuer: {e}"))
                })?;
                Ok(Some(Self {
                    root_der,
                    issuing_der,
                    issuing_facts,
                    issuer,
                }))
            }
            _ => Err(TlsError::Incomplete {
                dir,
                reason: "the province CA is half installed; run `phonghop hub ca-install` again"
                    .into(),
            }),
        }
    }

    pub fn root_fingerprint(&self) -> String {
        fingerprint(&self.root_der)
    }

    pub fn issuing_not_after(&self) -> OffsetDateTime {
        self.issuing_facts.not_after
    }

    /// Issues a box's CA from its CSR: pathlen 0, critical NameConstraints limited to what
    /// [`grant`] allows of `asked`, valid 5 years at most and never beyond the issuing CA.
    pub fn issue_box_ca(
        &self,
        csr_pem: &str,
        asked: &BoxNames,
        room: &str,
        now: OffsetDateTime,
    ) -> Result<ProvinceChain, TlsError> {
        super::check_clock(now)?;
        if now > self.issuing_facts.not_after {
            return Err(TlsError::Incomplete {
                dir: PathBuf::from(HUB_DIR),
                reason: "the hub's issuing CA has expired; renew it with the offline root".into(),
            });
        }
        let csr = CertificateSigningRequestParams::from_pem(csr_pem)?;
        let (granted, refused) = grant(asked)?;
        let now = whole_seconds(now);
        let mut p = CertificateParams::default();
        p.distinguished_name = box_ca_name(room);
        p.serial_number = Some(random_serial());
        p.not_before = now - BACKDATE;
        p.not_after = (now + BOX_CA_LIFETIME).min(self.issuing_facts.not_after);
        box_ca_params(&mut p, &granted);
        let der = p.signed_by(&csr.public_key, &self.issuer)?.der().clone();
        Ok(ProvinceChain {
            root_pem: pem_cert(&self.root_der),
            issuing_pem: pem_cert(&self.issuing_der),
            intermediate_pem: pem_cert(&der),
            granted,
            refused,
        })
    }
}

/// What the hub grants of the names a box asks for. Every tablet of the province trusts what a
/// box CA signs, and a box sits in a commune hall where it can be stolen, so a box CA covers
/// only names and addresses that exist inside a room, never a public one:
/// - DNS: `localhost`; names under the local-use suffixes `.local` (mDNS), `.lan` (the
///   access point's fixed name), `.home.arpa` (RFC 8375) and `.internal`; and single-label
///   host names with a digit or '-' (no top-level domain looks like that). A public name such
///   as `hop.xa.gov.vn` or `www.example.vn`, or a bare suffix (`local`, `vn`), is refused: a
///   stolen box must not be able to impersonate a real site to the province's tablets;
/// - subnets: loopback, and private, shared or link-local ranges only (RFC 1918, RFC 6598,
///   169.254/16, IPv6 ULA fc00::/7 and fe80::/10), IPv4 /16 or narrower and IPv6 /48 or
///   narrower; a wider private subnet is narrowed to the box's own addresses in it; a public
///   address is refused.
pub fn grant(asked: &BoxNames) -> Result<(BoxNames, Vec<String>), TlsError> {
    const LOCAL_SUFFIXES: [&str; 4] = [".local", ".lan", ".home.arpa", ".internal"];
    let asked = asked.normalized()?;
    let mut refused = Vec::new();
    let mut dns = Vec::new();
    for d in &asked.dns {
        let d = normalize_dns(d)?;
        let local_use = LOCAL_SUFFIXES
            .iter()
            .any(|suffix| d.len() > suffix.len() && d.ends_with(suffix));
        let host_only = !d.contains('.')
            && !d.starts_with("xn--")
            && d.bytes().any(|b| b == b'-' || b.is_ascii_digit());
        if d == "localhost" || local_use || host_only {
            dns.push(d);
        } else {
            refused.push(format!("{d} (not a name inside the room)"));
        }
    }
    let mut subnets = Vec::new();
    for s in &asked.subnets {
        if !s.addr().is_loopback() && !in_room_address(s.addr()) {
            refused.push(format!("{s} (a public address)"));
            continue;
        }
        let loopback = s.addr().is_loopback();
        let narrow_enough = match s.addr() {
            IpAddr::V4(_) => s.prefix() >= 16,
            IpAddr::V6(_) => s.prefix() >= 48,
        };
        if loopback || narrow_enough {
            subnets.push(*s);
        } else {
            let hosts: Vec<Subnet> = asked
                .ips
                .iter()
                .filter(|ip| s.contains(**ip))
                .map(|ip| Subnet::host(*ip))
                .collect();
            refused.push(format!("{s} (too wide; narrowed to the box's addresses)"));
            subnets.extend(hosts);
        }
    }
    let ips = asked
        .ips
        .iter()
        .copied()
        .filter(|ip| subnets.iter().any(|s| s.contains(*ip)))
        .collect();
    // (The narrowing above only ever keeps private addresses: a host subnet comes from an
    // address inside a private subnet.)
    if dns.is_empty() {
        dns.push("localhost".into());
    }
    let granted = BoxNames { dns, ips, subnets }.normalized()?;
    Ok((granted, refused))
}

/// Whether an address is one a room network uses and the internet does not route: private
/// (RFC 1918), shared (RFC 6598), link-local, the documentation ranges (RFC 5737, RFC 3849;
/// the test rooms use them), or IPv6 unique-local and link-local.
fn in_room_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            let documentation = matches!(
                (o[0], o[1], o[2]),
                (192, 0, 2) | (198, 51, 100) | (203, 0, 113)
            );
            v4.is_private()
                || v4.is_link_local()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || documentation
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The box's side of enrolment.

/// The key and CSR for the box's CA, made at enrolment.
pub struct BoxCaRequest {
    pub key_pem: String,
    pub csr_pem: String,
}

pub fn box_ca_request(room: &str) -> Result<BoxCaRequest, TlsError> {
    let key = new_key()?;
    let mut p = CertificateParams::default();
    p.distinguished_name = box_ca_name(room);
    let csr = p.serialize_request(&key)?.pem()?;
    Ok(BoxCaRequest {
        key_pem: key.serialize_pem(),
        csr_pem: csr,
    })
}

/// What changed when a box adopted the province chain.
#[derive(Debug, Clone)]
pub struct Adopted {
    pub province_root_fingerprint: String,
    pub own_root_fingerprint: String,
    /// The box's names its CA does not cover (so its leaf leaves them out).
    pub uncovered: Vec<String>,
    /// What the hub refused of the names the box asked for, with the reason.
    pub refused: Vec<String>,
}

/// The box takes the province chain into `tls_dir`, whose own CA must already exist (call
/// [`super::CertAuthority::load_or_create`] first). Everything is checked before anything is
/// written: the box CA is for `key_pem` and issued by the issuing CA under the province root,
/// and a test leaf under it verifies (webpki) through both roots. Then `own-root.*` (copies),
/// `issuing.pem`, `intermediate-cross.pem`, `intermediate.key`, `intermediate.pem`, and last
/// `root.pem` (the commit) are written and `root.key` removed. The leaf is reissued at the next
/// load.
pub fn adopt(
    tls_dir: &Path,
    chain: &ProvinceChain,
    key_pem: &str,
    room: &str,
    names: &BoxNames,
    now: OffsetDateTime,
) -> Result<Adopted, TlsError> {
    use super::store::{
        CROSS_CERT, INTERMEDIATE_CERT, INTERMEDIATE_KEY, ISSUING_CERT, OWN_ROOT_CERT, OWN_ROOT_KEY,
        ROOT_CERT, ROOT_KEY,
    };
    super::check_clock(now)?;
    let reply = |what: &str| PathBuf::from(format!("the hub's {what}"));
    let province_root = parse::cert_from_pem(chain.root_pem.as_bytes(), &reply("root"))?;
    let issuing = parse::cert_from_pem(chain.issuing_pem.as_bytes(), &reply("issuing CA"))?;
    let inter = parse::cert_from_pem(chain.intermediate_pem.as_bytes(), &reply("box CA"))?;
    let key = parse::key_from_pem(key_pem.as_bytes(), &reply("box CA key"))?;
    let inter_facts = CertFacts::parse(&inter, &reply("box CA"))?;
    if !inter_facts.matches_key(&key) {
        return Err(bad("the hub's box CA", "is not for the key this box sent"));
    }
    if !signed_by(&inter, &issuing) || !signed_by(&issuing, &province_root) {
        return Err(bad("the hub's chain", "does not lead to the province root"));
    }
    let Some(coverage) = inter_facts.permitted.clone().filter(|_| inter_facts.is_ca) else {
        return Err(bad("the hub's box CA", "is not a name-constrained CA"));
    };

    // The box's own root, from wherever it is now.
    let (own_cert_name, own_key_name) = if store::exists(tls_dir, ROOT_KEY) {
        (ROOT_CERT, ROOT_KEY)
    } else {
        (OWN_ROOT_CERT, OWN_ROOT_KEY)
    };
    let own_cert_bytes = store::read_optional(&tls_dir.join(own_cert_name))?
        .ok_or_else(|| parse::corrupt(&tls_dir.join(own_cert_name), "missing"))?;
    let own_key_bytes = store::read_optional(&tls_dir.join(own_key_name))?
        .ok_or_else(|| parse::corrupt(&tls_dir.join(own_key_name), "missing"))?;
    let own_der = parse::cert_from_pem(&own_cert_bytes, &tls_dir.join(own_cert_name))?;
    let own_key = parse::key_from_pem(&own_key_bytes, &tls_dir.join(own_key_name))?;
    let own_facts = CertFacts::parse(&own_der, &tls_dir.join(own_cert_name))?;
    if !own_facts.matches_key(&own_key) {
        return Err(parse::corrupt(
            &tls_dir.join(own_key_name),
            "does not match the box's root certificate",
        ));
    }
    let own_issuer = Issuer::from_ca_cert_der(&own_der, own_key)?;

    // The old root's copy of the box CA: same subject, key and constraints.
    let now = whole_seconds(now);
    let granted = BoxNames {
        dns: coverage.dns.clone(),
        ips: Vec::new(),
        subnets: coverage.subnets.clone(),
    };
    let mut p = CertificateParams::default();
    p.distinguished_name = box_ca_name(room);
    p.serial_number = Some(random_serial());
    p.not_before = now - BACKDATE;
    p.not_after = inter_facts.not_after.min(own_facts.not_after);
    box_ca_params(&mut p, &granted);
    let cross = p.signed_by(&key, &own_issuer)?.der().clone();
    let cross_facts = CertFacts::parse(&cross, Path::new(CROSS_CERT))?;
    if cross_facts.subject_raw != inter_facts.subject_raw {
        return Err(bad(
            "the hub's box CA",
            "has another subject than this box's request (room names differ?)",
        ));
    }

    // A test leaf for what is covered must verify through each root.
    let covered = restrict(names, &coverage)?;
    let inter_issuer = Issuer::from_ca_cert_der(&inter, key)?;
    let test_leaf = super::issue::leaf(&covered, &inter_issuer, inter_facts.not_after, now)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    verify_for_names(
        &province_root,
        &[inter.clone(), issuing.clone(), cross.clone()],
        &test_leaf.der,
        &covered,
        now,
        &provider,
    )
    .map_err(|e| bad("the hub's chain", format!("province root: {e}")))?;
    verify_for_names(
        &own_der,
        &[inter.clone(), issuing.clone(), cross.clone()],
        &test_leaf.der,
        &covered,
        now,
        &provider,
    )
    .map_err(|e| bad("the cross-signed box CA", format!("own root: {e}")))?;

    if own_cert_name == ROOT_CERT {
        store::write_atomic(tls_dir, OWN_ROOT_KEY, &own_key_bytes, KEY_MODE)?;
        store::write_atomic(tls_dir, OWN_ROOT_CERT, &own_cert_bytes, PUBLIC_MODE)?;
    }
    store::write_atomic(
        tls_dir,
        ISSUING_CERT,
        pem_cert(&issuing).as_bytes(),
        PUBLIC_MODE,
    )?;
    store::write_atomic(
        tls_dir,
        CROSS_CERT,
        pem_cert(&cross).as_bytes(),
        PUBLIC_MODE,
    )?;
    store::write_atomic(tls_dir, INTERMEDIATE_KEY, key_pem.as_bytes(), KEY_MODE)?;
    store::write_atomic(
        tls_dir,
        INTERMEDIATE_CERT,
        pem_cert(&inter).as_bytes(),
        PUBLIC_MODE,
    )?;
    store::write_atomic(
        tls_dir,
        ROOT_CERT,
        pem_cert(&province_root).as_bytes(),
        PUBLIC_MODE,
    )?;
    let root_key = tls_dir.join(ROOT_KEY);
    if root_key.exists() {
        std::fs::remove_file(&root_key).map_err(|e| store::io_err("remove", &root_key, e))?;
        std::fs::File::open(tls_dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| store::io_err("fsync directory", tls_dir, e))?;
    }
    Ok(Adopted {
        province_root_fingerprint: fingerprint(&province_root),
        own_root_fingerprint: fingerprint(&own_der),
        uncovered: super::reportable(coverage.uncovered(names)),
        refused: chain.refused.clone(),
    })
}

/// The part of `names` a CA with `coverage` may certify.
pub(crate) fn restrict(names: &BoxNames, coverage: &Coverage) -> Result<BoxNames, TlsError> {
    let names = names.normalized()?;
    let dns: Vec<String> = names
        .dns
        .iter()
        .filter(|d| {
            coverage
                .uncovered(&BoxNames {
                    dns: vec![(*d).clone()],
                    ips: Vec::new(),
                    subnets: Vec::new(),
                })
                .is_empty()
        })
        .cloned()
        .collect();
    let ips: Vec<IpAddr> = names
        .ips
        .iter()
        .copied()
        .filter(|ip| coverage.subnets.iter().any(|s| s.contains(*ip)))
        .collect();
    let subnets: Vec<Subnet> = names
        .subnets
        .iter()
        .copied()
        .filter(|s| coverage.subnets.iter().any(|c| c.contains_subnet(s)))
        .collect();
    Ok(BoxNames { dns, ips, subnets })
}

/// Full webpki path validation of `leaf` for every name and address in `names`, as a client
/// trusting only `root` would do it.
pub(crate) fn verify_for_names(
    root: &CertificateDer<'static>,
    intermediates: &[CertificateDer<'static>],
    leaf: &CertificateDer<'_>,
    names: &BoxNames,
    now: OffsetDateTime,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<(), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).map_err(|e| e.to_string())?;
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::clone(provider),
    )
    .build()
    .map_err(|e| e.to_string())?;
    super::verify_every_name(&verifier, intermediates, leaf, names, now)
}

/// For the doctor: on a box in province mode (`root.pem` is the province root), the addresses
/// and subnets of its interfaces now that its box CA does not cover. `None` on a box serving
/// under its own root (which reissues its CA by itself) or when the files cannot be read.
pub fn uncovered_addresses_now(tls_dir: &Path) -> Option<Vec<String>> {
    use super::store::{INTERMEDIATE_CERT, OWN_ROOT_CERT, ROOT_KEY};
    if !store::exists(tls_dir, OWN_ROOT_CERT) || store::exists(tls_dir, ROOT_KEY) {
        return None;
    }
    let path = tls_dir.join(INTERMEDIATE_CERT);
    let der = parse::cert_from_pem(&store::read_optional(&path).ok()??, &path).ok()?;
    let coverage = CertFacts::parse(&der, &path).ok()?.permitted?;
    let now = BoxNames::detect("localhost").ok()?;
    let addresses = BoxNames {
        dns: Vec::new(),
        ips: now.ips,
        subnets: now.subnets,
    };
    Some(coverage.uncovered(&addresses))
}

/// True if `tls_dir` holds a box serving under the province root.
pub fn is_province_dir(tls_dir: &Path) -> bool {
    use super::store::{OWN_ROOT_CERT, ROOT_KEY};
    store::exists(tls_dir, OWN_ROOT_CERT) && !store::exists(tls_dir, ROOT_KEY)
}

#[cfg(test)]
mod tests {
    use super::super::store::{
        CROSS_CERT, INTERMEDIATE_CERT, ISSUING_CERT, LEAF_CERT, OWN_ROOT_CERT, OWN_ROOT_KEY,
        ROOT_CERT, ROOT_KEY,
    };
    use super::super::CertAuthority;
    use super::*;

    const ROOM: &str = "Xã Tân Hòa";

    fn names() -> BoxNames {
        BoxNames {
            dns: vec!["phonghop-test.local".into(), "phonghop-test".into()],
            ips: vec!["192.168.50.10".parse().unwrap()],
            subnets: vec!["192.168.50.0/24".parse().unwrap()],
        }
    }

    fn der_at(dir: &Path, name: &str) -> CertificateDer<'static> {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        parse::cert_from_pem(&bytes, &dir.join(name)).unwrap()
    }

    fn with_x509<R>(
        der: &[u8],
        f: impl FnOnce(&x509_parser::certificate::X509Certificate<'_>) -> R,
    ) -> R {
        let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
        f(&cert)
    }

    /// Offline root, hub issuing CA (through the CSR round trip), installed.
    fn hub_with_province(tmp: &Path) -> (PathBuf, HubIssuer) {
        let now = OffsetDateTime::now_utc();
        let usb = tmp.join("usb");
        init_offline_root(&usb, "Tỉnh Thử", now).unwrap();
        let hub_tls = tmp.join("hub-tls");
        let req = hub_ca_request(&hub_tls, "Phonghop hub").unwrap();
        let csr = std::fs::read_to_string(&req.csr_path).unwrap();
        let signed = sign_issuing_csr(&usb, &csr, now).unwrap();
        assert_eq!(signed.key_fingerprint, req.key_fingerprint);
        let root_pem = std::fs::read(usb.join(OFFLINE_ROOT_CERT)).unwrap();
        hub_ca_install(&hub_tls, signed.pem.as_bytes(), &root_pem, now).unwrap();
        assert!(!hub_tls.join(HUB_DIR).join(HUB_REQUEST_KEY).exists());
        let issuer = HubIssuer::load(&hub_tls).unwrap().unwrap();
        (usb, issuer)
    }

    /// A box with its own CA that then enrols; returns its tls dir.
    fn province_box(tmp: &Path, issuer: &HubIssuer) -> PathBuf {
        let dir = tmp.join("box-tls");
        CertAuthority::load_or_create(&dir, ROOM, &names()).unwrap();
        let req = box_ca_request(ROOM).unwrap();
        let now = OffsetDateTime::now_utc();
        let chain = issuer
            .issue_box_ca(&req.csr_pem, &names(), ROOM, now)
            .unwrap();
        let adopted = adopt(&dir, &chain, &req.key_pem, ROOM, &names(), now).unwrap();
        assert!(adopted.uncovered.is_empty(), "{:?}", adopted.uncovered);
        dir
    }

    #[test]
    fn certificates_have_the_required_fields() {
        let tmp = tempfile::tempdir().unwrap();
        let (usb, issuer) = hub_with_province(tmp.path());
        let before = OffsetDateTime::now_utc();
        let root = der_at(&usb, OFFLINE_ROOT_CERT);
        let root_not_after = with_x509(&root, |c| {
            assert!(c.is_ca());
            let bc = c.basic_constraints().unwrap().unwrap();
            assert!(bc.critical && bc.value.path_len_constraint == Some(2));
            let years = (c.validity().not_after.to_datetime() - before).whole_days() / 365;
            assert!((19..=20).contains(&years), "{years}");
            c.validity().not_after.to_datetime()
        });
        let key_mode = std::fs::metadata(usb.join(OFFLINE_ROOT_KEY)).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(key_mode.permissions().mode() & 0o777, 0o600);

        let issuing_not_after = with_x509(&issuer.issuing_der, |c| {
            let bc = c.basic_constraints().unwrap().unwrap();
            assert!(bc.critical && bc.value.ca);
            assert_eq!(bc.value.path_len_constraint, Some(1));
            let ku = c.key_usage().unwrap().unwrap();
            assert!(ku.value.key_cert_sign() && !ku.value.digital_signature());
            assert!(c.validity().not_after.to_datetime() <= root_not_after);
            c.validity().not_after.to_datetime()
        });
        assert!(signed_by(&issuer.issuing_der, &root));

        let req = box_ca_request(ROOM).unwrap();
        let chain = issuer
            .issue_box_ca(&req.csr_pem, &names(), ROOM, before)
            .unwrap();
        let inter =
            parse::cert_from_pem(chain.intermediate_pem.as_bytes(), Path::new("x")).unwrap();
        with_x509(&inter, |c| {
            let bc = c.basic_constraints().unwrap().unwrap();
            assert!(bc.critical && bc.value.ca);
            assert_eq!(bc.value.path_len_constraint, Some(0));
            let nc = c.name_constraints().unwrap().unwrap();
            assert!(nc.critical, "NameConstraints must be critical");
            let permitted = format!("{:?}", nc.value.permitted_subtrees);
            assert!(permitted.contains("phonghop-test.local"), "{permitted}");
            let na = c.validity().not_after.to_datetime();
            assert!(na <= issuing_not_after);
            assert!(na - before <= BOX_CA_LIFETIME);
        });
        // Near the issuing CA's end, the box CA stops with it.
        let late = issuing_not_after - Duration::days(365);
        let chain = issuer
            .issue_box_ca(&req.csr_pem, &names(), ROOM, late)
            .unwrap();
        let inter =
            parse::cert_from_pem(chain.intermediate_pem.as_bytes(), Path::new("x")).unwrap();
        with_x509(&inter, |c| {
            assert_eq!(c.validity().not_after.to_datetime(), issuing_not_after);
        });
    }

    #[test]
    fn the_hub_grants_only_the_boxs_own_names() {
        let asked = BoxNames {
            dns: vec![
                "phonghop-ab12.local".into(),
                "phonghop.lan".into(),
                "box-7".into(),
                "vn".into(),
                "gov.vn".into(),
                "local".into(),
                "lan".into(),
                "hop.xa.gov.vn".into(),
                "www.vietcombank.com.vn".into(),
            ],
            ips: vec!["10.1.2.3".parse().unwrap(), "14.160.0.1".parse().unwrap()],
            subnets: vec![
                "10.0.0.0/8".parse().unwrap(),
                "192.168.50.0/24".parse().unwrap(),
                "14.160.0.0/16".parse().unwrap(),
                "8.8.8.8/32".parse().unwrap(),
                "fd00:1::/64".parse().unwrap(),
                "2402:800::/48".parse().unwrap(),
            ],
        };
        let (granted, refused) = grant(&asked).unwrap();
        assert_eq!(
            granted.dns,
            ["phonghop-ab12.local", "phonghop.lan", "box-7", "localhost"]
        );
        assert!(granted.subnets.contains(&"10.1.2.3/32".parse().unwrap()));
        assert!(granted
            .subnets
            .contains(&"192.168.50.0/24".parse().unwrap()));
        assert!(granted.subnets.contains(&"fd00:1::/64".parse().unwrap()));
        assert!(!granted.subnets.contains(&"10.0.0.0/8".parse().unwrap()));
        for public in [
            "14.160.0.0/16",
            "8.8.8.8/32",
            "2001:db8::/48",
            "14.160.0.1/32",
        ] {
            let p: Subnet = public.parse().unwrap();
            assert!(!granted.subnets.contains(&p), "{public} granted");
        }
        assert!(!granted.ips.contains(&"14.160.0.1".parse().unwrap()));
        assert_eq!(refused.len(), 10, "{refused:?}");
    }

    #[test]
    fn the_box_serves_under_both_roots_and_renews() {
        let tmp = tempfile::tempdir().unwrap();
        let (usb, issuer) = hub_with_province(tmp.path());
        let dir = province_box(tmp.path(), &issuer);
        assert!(!dir.join(ROOT_KEY).exists());
        assert!(dir.join(OWN_ROOT_KEY).exists());
        let own_root = der_at(&dir, OWN_ROOT_CERT);
        assert_eq!(der_at(&dir, ROOT_CERT), der_at(&usb, OFFLINE_ROOT_CERT));

        let ca = CertAuthority::load_or_create(&dir, ROOM, &names()).unwrap();
        assert!(ca.is_province());
        let info = ca.trust_info();
        assert_eq!(info.mode, "province");
        assert_eq!(info.root_subject, "Tỉnh Thử Root CA");
        assert_eq!(ca.root_der(), der_at(&usb, OFFLINE_ROOT_CERT).to_vec());
        assert_eq!(ca.own_root_der(), own_root.to_vec());
        // The record signer stays under the box's own root.
        ca.record_signer(ROOM).unwrap();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = [
            der_at(&dir, INTERMEDIATE_CERT),
            der_at(&dir, ISSUING_CERT),
            der_at(&dir, CROSS_CERT),
        ];
        let now = OffsetDateTime::now_utc();
        let n = names().normalized().unwrap();
        for root in [der_at(&usb, OFFLINE_ROOT_CERT), own_root.clone()] {
            verify_for_names(&root, &chain, &der_at(&dir, LEAF_CERT), &n, now, &provider).unwrap();
        }
        // openssl, an independent client, agrees: the served chain for the province root, and
        // the cross certificate for the old root. (OpenSSL takes the first certificate whose
        // subject matches and does not backtrack, so given the whole served chain it follows
        // the province path only; see docs/security.md.)
        let pem = |d: &CertificateDer<'_>| super::super::pem_cert(d);
        let served = dir.join("served.pem");
        std::fs::write(&served, chain.iter().map(&pem).collect::<String>()).unwrap();
        let cross_only = dir.join("cross-only.pem");
        std::fs::write(&cross_only, pem(&chain[2])).unwrap();
        for (root, untrusted) in [
            (usb.join(OFFLINE_ROOT_CERT), &served),
            (dir.join(OWN_ROOT_CERT), &cross_only),
        ] {
            let out = std::process::Command::new("openssl")
                .arg("verify")
                .arg("-CAfile")
                .arg(&root)
                .arg("-untrusted")
                .arg(untrusted)
                .args(["-purpose", "sslserver", "-x509_strict"])
                .arg(dir.join(LEAF_CERT))
                .output()
                .expect("the openssl binary is needed for these tests");
            let text = String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && text.contains(": OK"),
                "{}: {text}",
                root.display()
            );
        }
        // A renewal keeps the box CA and the chain.
        let before = ca.leaf_serial_hex();
        ca.force_renew().unwrap();
        assert_ne!(ca.leaf_serial_hex(), before);
        for root in [der_at(&usb, OFFLINE_ROOT_CERT), own_root] {
            verify_for_names(&root, &chain, &der_at(&dir, LEAF_CERT), &n, now, &provider).unwrap();
        }
        assert_eq!(der_at(&dir, INTERMEDIATE_CERT), chain[0]);
    }

    #[test]
    fn a_new_subnet_outside_the_box_ca_keeps_serving_and_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let (usb, issuer) = hub_with_province(tmp.path());
        let dir = province_box(tmp.path(), &issuer);
        let moved = BoxNames {
            dns: names().dns,
            ips: vec!["10.20.30.40".parse().unwrap()],
            subnets: vec!["10.20.0.0/16".parse().unwrap()],
        };
        let ca = CertAuthority::load_or_create(&dir, ROOM, &moved).unwrap();
        let info = ca.trust_info();
        assert!(
            info.uncovered.contains(&"10.20.30.40".to_string()),
            "{info:?}"
        );
        let leaf = ca.leaf_info();
        assert!(!leaf.ips.contains(&"10.20.30.40".parse().unwrap()));
        assert!(leaf.dns.contains(&"phonghop-test.local".to_string()));
        // What is served still verifies for the covered names.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = [
            der_at(&dir, INTERMEDIATE_CERT),
            der_at(&dir, ISSUING_CERT),
            der_at(&dir, CROSS_CERT),
        ];
        let covered = BoxNames {
            dns: vec!["phonghop-test.local".into()],
            ips: vec!["127.0.0.1".parse().unwrap()],
            subnets: Vec::new(),
        };
        verify_for_names(
            &der_at(&usb, OFFLINE_ROOT_CERT),
            &chain,
            &der_at(&dir, LEAF_CERT),
            &covered,
            OffsetDateTime::now_utc(),
            &provider,
        )
        .unwrap();
        // At run time too.
        let ca = CertAuthority::load_or_create(&dir, ROOM, &names()).unwrap();
        assert!(ca.trust_info().uncovered.is_empty());
        ca.update_names(&moved).unwrap();
        assert!(!ca.trust_info().uncovered.is_empty());
    }

    #[test]
    fn cut_enrolments_resolve_without_guessing() {
        let tmp = tempfile::tempdir().unwrap();
        let (_usb, issuer) = hub_with_province(tmp.path());
        // Cut after root.pem was replaced, before root.key was removed.
        let dir = province_box(tmp.path(), &issuer);
        std::fs::copy(dir.join(OWN_ROOT_KEY), dir.join(ROOT_KEY)).unwrap();
        let ca = CertAuthority::load_or_create(&dir, ROOM, &names()).unwrap();
        assert!(ca.is_province());
        assert!(!dir.join(ROOT_KEY).exists());

        // Cut before root.pem was replaced: the copies go, the box keeps its own root.
        let other = tmp.path().join("other");
        let first = CertAuthority::load_or_create(&other, ROOM, &names()).unwrap();
        std::fs::copy(other.join(ROOT_CERT), other.join(OWN_ROOT_CERT)).unwrap();
        std::fs::copy(other.join(ROOT_KEY), other.join(OWN_ROOT_KEY)).unwrap();
        let again = CertAuthority::load_or_create(&other, ROOM, &names()).unwrap();
        assert!(!again.is_province());
        assert_eq!(again.root_der(), first.root_der());
        assert!(!other.join(OWN_ROOT_KEY).exists());

        // A missing piece of the province chain is an error, not a silent new root.
        std::fs::remove_file(dir.join(CROSS_CERT)).unwrap();
        let err = CertAuthority::load_or_create(&dir, ROOM, &names()).unwrap_err();
        assert!(err.to_string().contains("intermediate-cross.pem"), "{err}");
        assert!(!dir.join(ROOT_KEY).exists());
    }

    #[test]
    fn a_chain_for_another_key_or_root_is_refused_before_anything_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        let (_usb, issuer) = hub_with_province(tmp.path());
        let dir = tmp.path().join("box");
        CertAuthority::load_or_create(&dir, ROOM, &names()).unwrap();
        let req = box_ca_request(ROOM).unwrap();
        let other = box_ca_request(ROOM).unwrap();
        let now = OffsetDateTime::now_utc();
        let chain = issuer
            .issue_box_ca(&req.csr_pem, &names(), ROOM, now)
            .unwrap();
        assert!(adopt(&dir, &chain, &other.key_pem, ROOM, &names(), now).is_err());
        let mut foreign = chain.clone();
        foreign.root_pem = std::fs::read_to_string(dir.join(ROOT_CERT)).unwrap();
        assert!(adopt(&dir, &foreign, &req.key_pem, ROOM, &names(), now).is_err());
        assert!(dir.join(ROOT_KEY).exists());
        assert!(!dir.join(OWN_ROOT_CERT).exists());
        assert!(!dir.join(ISSUING_CERT).exists());
    }
}
