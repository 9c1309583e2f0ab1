//! Certificate templates for the root, the name-constrained intermediate and the leaf.

use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType, SerialNumber,
};
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use super::names::BoxNames;
use super::TlsError;

pub(crate) const ROOT_LIFETIME: Duration = Duration::days(3652);
pub(crate) const INTERMEDIATE_LIFETIME: Duration = Duration::days(5 * 365);
/// Total leaf lifetime, backdating included.
pub(crate) const LEAF_LIFETIME: Duration = Duration::days(90);
/// The box's clock may be a little off, and a tablet's too.
pub(crate) const BACKDATE: Duration = Duration::days(1);

/// X.520 upper bound for a common name.
const CN_MAX_CHARS: usize = 64;

pub(crate) fn new_key() -> Result<KeyPair, TlsError> {
    Ok(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?)
}

/// 16 random bytes with the top bit clear (a positive INTEGER) and a non-zero first byte (so
/// the encoding is exactly 16 bytes).
pub(crate) fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes[0] &= 0x7f;
    if bytes[0] == 0 {
        bytes[0] = 1;
    }
    SerialNumber::from_slice(&bytes)
}

/// `prefix + middle + suffix`, with `middle` cut so the whole fits in a CN, and control
/// characters dropped (the room name is typed by a person).
fn common_name(prefix: &str, middle: &str, suffix: &str) -> String {
    let room = middle.trim();
    let budget = CN_MAX_CHARS.saturating_sub(prefix.chars().count() + suffix.chars().count());
    let middle: String = room
        .chars()
        .filter(|c| !c.is_control())
        .take(budget)
        .collect();
    let middle = middle.trim();
    if middle.is_empty() {
        format!("{}{}", prefix.trim_end(), suffix)
    } else {
        format!("{prefix}{middle}{suffix}")
    }
}

fn name(cn: String) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Phonghop");
    dn.push(DnType::CommonName, cn);
    dn
}

/// Certificates carry whole seconds; trimming keeps in-memory times equal to reloaded ones.
fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

pub(crate) struct Issued {
    pub der: CertificateDer<'static>,
    pub key: KeyPair,
}

pub(crate) fn root(room_name: &str, now: OffsetDateTime) -> Result<Issued, TlsError> {
    let key = new_key()?;
    let der = root_with_key(room_name, now, &key)?;
    Ok(Issued { der, key })
}

/// Also used to rebuild a root certificate whose key was written but whose certificate was not.
pub(crate) fn root_with_key(
    room_name: &str,
    now: OffsetDateTime,
    key: &KeyPair,
) -> Result<CertificateDer<'static>, TlsError> {
    let now = whole_seconds(now);
    let mut p = CertificateParams::default();
    p.distinguished_name = name(common_name("Phonghop ", room_name, " Root CA"));
    p.serial_number = Some(random_serial());
    p.not_before = now - BACKDATE;
    p.not_after = now + ROOT_LIFETIME;
    // Room for exactly one intermediate below it.
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.use_authority_key_identifier_extension = true;
    Ok(p.self_signed(key)?.der().clone())
}

pub(crate) fn intermediate(
    names: &BoxNames,
    root: &Issuer<'static, KeyPair>,
    root_not_after: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Issued, TlsError> {
    let now = whole_seconds(now);
    let key = new_key()?;
    let mut p = CertificateParams::default();
    p.distinguished_name = name(common_name("Phonghop ", names.primary(), " Box CA"));
    p.serial_number = Some(random_serial());
    p.not_before = now - BACKDATE;
    p.not_after = (now + INTERMEDIATE_LIFETIME).min(root_not_after);
    box_ca_params(&mut p, names);
    let der = p.signed_by(&key, root)?.der().clone();
    Ok(Issued { der, key })
}

pub(crate) fn leaf(
    names: &BoxNames,
    intermediate: &Issuer<'static, KeyPair>,
    intermediate_not_after: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Issued, TlsError> {
    let now = whole_seconds(now);
    let key = new_key()?;
    let mut p = CertificateParams::default();
    // A CN keeps the SAN non-critical acceptable to Chromium (see shared/TESTING.md).
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, names.primary());
    p.distinguished_name = dn;
    p.serial_number = Some(random_serial());
    p.not_before = now - BACKDATE;
    p.not_after = (p.not_before + LEAF_LIFETIME).min(intermediate_not_after);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    let mut sans = Vec::with_capacity(names.dns.len() + names.ips.len());
    for d in &names.dns {
        sans.push(SanType::DnsName(d.as_str().try_into()?));
    }
    sans.extend(names.ips.iter().map(|ip| SanType::IpAddress(*ip)));
    p.subject_alt_names = sans;
    let der = p.signed_by(&key, intermediate)?.der().clone();
    Ok(Issued { der, key })
}

/// The node's record-signing certificate (vote results): an end entity under the root, for
/// document signing only (RFC 9336 id-kp-documentSigning), valid as long as the root.
pub(crate) fn record_signing(
    room_name: &str,
    root: &Issuer<'static, KeyPair>,
    root_not_after: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Issued, TlsError> {
    let now = whole_seconds(now);
    let key = new_key()?;
    let mut p = CertificateParams::default();
    p.distinguished_name = name(common_name("Phonghop ", room_name, " record signing"));
    p.serial_number = Some(random_serial());
    p.not_before = now - BACKDATE;
    p.not_after = root_not_after;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(vec![
        1, 3, 6, 1, 5, 5, 7, 3, 36,
    ])];
    p.use_authority_key_identifier_extension = true;
    let der = p.signed_by(&key, root)?.der().clone();
    Ok(Issued { der, key })
}

/// CA flags, key usages and the critical name constraints of a box CA: pathlen 0, only the
/// box's DNS names and subnets. Shared by the stand-alone box's own CA, the one the province's
/// hub issues, and the box's cross-signed copy of it.
pub(super) fn box_ca_params(p: &mut CertificateParams, names: &BoxNames) {
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.use_authority_key_identifier_extension = true;
    let mut permitted: Vec<GeneralSubtree> = names
        .dns
        .iter()
        .map(|d| GeneralSubtree::DnsName(d.clone()))
        .collect();
    permitted.extend(
        names
            .subnets
            .iter()
            .map(|s| GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(s.addr(), s.prefix()))),
    );
    p.name_constraints = Some(NameConstraints {
        permitted_subtrees: permitted,
        excluded_subtrees: Vec::new(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_name_fits_and_drops_controls() {
        let long = "Phòng họp Ủy ban nhân dân xã ".repeat(5);
        let cn = common_name("Phonghop ", &long, " Root CA");
        assert!(cn.chars().count() <= CN_MAX_CHARS);
        assert!(cn.starts_with("Phonghop Phòng họp"));
        assert!(cn.ends_with(" Root CA"));
        assert_eq!(
            common_name("Phonghop ", " \u{7}", " Root CA"),
            "Phonghop Root CA"
        );
    }

    #[test]
    fn serials_are_positive_16_bytes() {
        for _ in 0..64 {
            let s = random_serial().to_bytes();
            assert_eq!(s.len(), 16);
            assert!(s[0] != 0 && s[0] < 0x80);
        }
    }
}
