use std::fs;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, ServerName};
use time::{Duration, OffsetDateTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use x509_parser::extensions::ParsedExtension;

use super::*;

const ROOM: &str = "Xã Tân Hòa";

fn test_names() -> BoxNames {
    BoxNames {
        dns: vec!["phonghop-test.local".into(), "phonghop-test".into()],
        ips: vec!["192.168.50.10".parse().unwrap()],
        subnets: vec!["192.168.50.0/24".parse().unwrap()],
    }
}

fn moved_names() -> BoxNames {
    BoxNames {
        dns: vec!["phonghop-test.local".into(), "phonghop-test".into()],
        ips: vec!["10.20.30.40".parse().unwrap()],
        subnets: vec!["10.20.0.0/16".parse().unwrap()],
    }
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    fs::read(dir.join(name)).unwrap()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Runs `openssl verify` on `leaf` against the stored root and intermediate.
fn openssl_verify(dir: &Path, leaf: &Path, extra: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(dir.join(ROOT_CERT))
        .arg("-untrusted")
        .arg(dir.join(INTERMEDIATE_CERT))
        .args(["-purpose", "sslserver", "-x509_strict"])
        .args(extra)
        .arg(leaf)
        .output()
        .expect("the openssl binary is needed for these tests");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success() && text.contains(": OK"), text)
}

fn with_x509<R>(
    der: &[u8],
    f: impl FnOnce(&x509_parser::certificate::X509Certificate<'_>) -> R,
) -> R {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    f(&cert)
}

fn der_of(dir: &Path, name: &str) -> CertificateDer<'static> {
    parse::cert_from_pem(&read(dir, name), &dir.join(name)).unwrap()
}

#[test]
fn creates_every_file_with_private_keys_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tls");
    let ca = CertAuthority::load_or_create(&dir, ROOM, &test_names()).unwrap();
    for name in [
        ROOT_CERT,
        ROOT_KEY,
        INTERMEDIATE_CERT,
        INTERMEDIATE_KEY,
        LEAF_CERT,
        LEAF_KEY,
        NAMES,
    ] {
        assert!(dir.join(name).is_file(), "{name} missing");
    }
    for key in [ROOT_KEY, INTERMEDIATE_KEY, LEAF_KEY] {
        assert_eq!(mode(&dir.join(key)), 0o600, "{key}");
    }
    assert_eq!(mode(&dir), 0o700);
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(ca.root_pem().as_bytes(), read(&dir, ROOT_CERT).as_slice());
    assert_eq!(ca.root_der(), der_of(&dir, ROOT_CERT).to_vec());

    let record: serde_json::Value = serde_json::from_slice(&read(&dir, NAMES)).unwrap();
    assert_eq!(record["dns"][0], "phonghop-test.local");
    let subnets: Vec<&str> = record["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(subnets.contains(&"192.168.50.0/24"));
    assert!(subnets.contains(&"127.0.0.0/8"));
    assert!(subnets.contains(&"::1/128"));
}

#[test]
fn certificates_have_the_required_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let before = OffsetDateTime::now_utc();
    let ca = CertAuthority::load_or_create(dir, ROOM, &test_names()).unwrap();

    with_x509(&der_of(dir, ROOT_CERT), |c| {
        let cn = c
            .subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap();
        assert_eq!(cn, "Phonghop Xã Tân Hòa Root CA");
        assert!(c.is_ca());
        assert_eq!(c.raw_serial().len(), 16);
        let years = (c.validity().not_after.to_datetime() - before).whole_days() / 365;
        assert!((9..=10).contains(&years));
        let ku = c.key_usage().unwrap().unwrap();
        assert!(ku.critical && ku.value.key_cert_sign() && ku.value.crl_sign());
    });

    with_x509(&der_of(dir, INTERMEDIATE_CERT), |c| {
        assert_eq!(c.raw_serial().len(), 16);
        let bc = c.basic_constraints().unwrap().unwrap();
        assert!(bc.critical && bc.value.ca);
        assert_eq!(bc.value.path_len_constraint, Some(0));
        let ku = c.key_usage().unwrap().unwrap();
        assert!(ku.value.key_cert_sign() && ku.value.crl_sign() && !ku.value.digital_signature());
        let nc = c.name_constraints().unwrap().unwrap();
        assert!(nc.critical, "NameConstraints must be critical");
        assert!(nc.value.excluded_subtrees.is_none());
        let ext = |want: fn(&ParsedExtension<'_>) -> bool| {
            c.extensions().iter().any(|e| want(e.parsed_extension()))
        };
        assert!(ext(|e| matches!(
            e,
            ParsedExtension::AuthorityKeyIdentifier(_)
        )));
        assert!(ext(|e| matches!(
            e,
            ParsedExtension::SubjectKeyIdentifier(_)
        )));
    });

    let leaf = der_of(dir, LEAF_CERT);
    with_x509(&leaf, |c| {
        assert_eq!(c.raw_serial().len(), 16);
        let cn = c
            .subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap();
        assert_eq!(cn, "phonghop-test.local");
        let bc = c.basic_constraints().unwrap().unwrap();
        assert!(!bc.value.ca);
        let ku = c.key_usage().unwrap().unwrap();
        assert!(ku.value.digital_signature() && !ku.value.key_cert_sign());
        let eku = c.extended_key_usage().unwrap().unwrap();
        assert!(eku.value.server_auth && !eku.value.client_auth);
        let nb = c.validity().not_before.to_datetime();
        let na = c.validity().not_after.to_datetime();
        assert!(na - nb <= Duration::days(90));
        let backdate = before - nb;
        assert!(
            backdate > Duration::hours(23) && backdate < Duration::hours(25),
            "{backdate}"
        );
        let san = c.subject_alternative_name().unwrap().unwrap();
        let text = format!("{:?}", san.value.general_names);
        for want in ["phonghop-test.local", "phonghop-test", "localhost"] {
            assert!(text.contains(want), "{want} not in {text}");
        }
        assert!(c.extensions().iter().any(|e| matches!(
            e.parsed_extension(),
            ParsedExtension::AuthorityKeyIdentifier(_)
        )));
    });
    let info = ca.leaf_info();
    let want_ips: Vec<IpAddr> = ["192.168.50.10", "127.0.0.1", "::1"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(info.ips, want_ips);
    assert_eq!(info.serial_hex, ca.leaf_serial_hex());
    assert_eq!(info.not_after, ca.leaf_not_after());
}

#[test]
fn reload_keeps_root_intermediate_and_leaf() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = CertAuthority::load_or_create(dir, ROOM, &test_names()).unwrap();
    let inter = read(dir, INTERMEDIATE_CERT);
    let leaf = read(dir, LEAF_CERT);
    drop(first);

    // A renamed room keeps the root: tablets already trust it.
    let again = CertAuthority::load_or_create(dir, "Another room", &test_names()).unwrap();
    assert_eq!(again.root_der(), der_of(dir, ROOT_CERT).to_vec());
    assert_eq!(read(dir, INTERMEDIATE_CERT), inter);
    assert_eq!(read(dir, LEAF_CERT), leaf);
    assert_eq!(
        again.leaf_serial_hex(),
        CertFacts::parse(&der_of(dir, LEAF_CERT), dir)
            .unwrap()
            .serial_hex
    );
}

#[test]
fn openssl_accepts_the_chain_for_every_name_and_address() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    CertAuthority::load_or_create(dir, ROOM, &test_names()).unwrap();
    let leaf = dir.join(LEAF_CERT);
    let (ok, out) = openssl_verify(dir, &leaf, &[]);
    assert!(ok, "{out}");
    for host in ["phonghop-test.local", "phonghop-test", "localhost"] {
        let (ok, out) = openssl_verify(dir, &leaf, &["-verify_hostname", host]);
        assert!(ok, "{host}: {out}");
    }
    for ip in ["192.168.50.10", "127.0.0.1", "::1"] {
        let (ok, out) = openssl_verify(dir, &leaf, &["-verify_ip", ip]);
        assert!(ok, "{ip}: {out}");
    }
    let (ok, _) = openssl_verify(dir, &leaf, &["-verify_hostname", "example.com"]);
    assert!(!ok);
}

#[test]
fn subnet_change_reissues_intermediate_but_keeps_root() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = CertAuthority::load_or_create(dir, ROOM, &test_names()).unwrap();
    let root = first.root_der();
    let inter = read(dir, INTERMEDIATE_CERT);
    let leaf_serial = first.leaf_serial_hex();
    drop(first);

    let moved = CertAuthority::load_or_create(dir, ROOM, &moved_names()).unwrap();
    assert_eq!(moved.root_der(), root);
    assert_eq!(read(dir, ROOT_CERT), moved.root_pem().into_bytes());
    assert_ne!(read(dir, INTERMEDIATE_CERT), inter);
    assert_ne!(moved.leaf_serial_hex(), leaf_serial);
    let record: serde_json::Value = serde_json::from_slice(&read(dir, NAMES)).unwrap();
    assert!(record["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "10.20.0.0/16"));
    assert!(!record["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "192.168.50.0/24"));
    let (ok, out) = openssl_verify(dir, &dir.join(LEAF_CERT), &["-verify_ip", "10.20.30.40"]);
    assert!(ok, "{out}");
    let (ok, _) = openssl_verify(dir, &dir.join(LEAF_CERT), &["-verify_ip", "192.168.50.10"]);
    assert!(!ok);

    // A new address inside a covered subnet only needs a new leaf.
    let inter = read(dir, INTERMEDIATE_CERT);
    let mut same_subnet = moved_names();
    same_subnet.ips = vec!["10.20.99.1".parse().unwrap()];
    drop(moved);
    let again = CertAuthority::load_or_create(dir, ROOM, &same_subnet).unwrap();
    assert_eq!(read(dir, INTERMEDIATE_CERT), inter);
    assert!(again
        .leaf_info()
        .ips
        .contains(&"10.20.99.1".parse().unwrap()));
}

#[test]
fn update_names_at_run_time() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let ca = CertAuthority::load_or_create(dir, ROOM, &test_names()).unwrap();
    let root = ca.root_der();
    assert!(!ca.update_names(&test_names()).unwrap());
    let inter = read(dir, INTERMEDIATE_CERT);
    assert!(ca.update_names(&moved_names()).unwrap());
    assert_eq!(ca.root_der(), root);
    assert_ne!(read(dir, INTERMEDIATE_CERT), inter);
    assert_eq!(
        ca.intermediate_pem().into_bytes(),
        read(dir, INTERMEDIATE_CERT)
    );
    assert_eq!(ca.names(), moved_names().normalized().unwrap());
    let (ok, out) = openssl_verify(dir, &dir.join(LEAF_CERT), &["-verify_ip", "10.20.30.40"]);
    assert!(ok, "{out}");
}

/// Issues, with the box's own intermediate key, a certificate the box should not be able to
/// make: one for a foreign name or address.
fn issue_with_intermediate(dir: &Path, cn: &str, san: SanType) -> CertificateDer<'static> {
    let key_pem = String::from_utf8(read(dir, INTERMEDIATE_KEY)).unwrap();
    let cert_pem = String::from_utf8(read(dir, INTERMEDIATE_CERT)).unwrap();
    let issuer = Issuer::from_ca_cert_pem(&cert_pem, KeyPair::from_pem(&key_pem).unwrap()).unwrap();
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::days(1);
    p.not_after = now + Duration::days(30);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    p.subject_alt_names = vec![san];
    p.signed_by(&key, &issuer).unwrap().der().clone()
}

#[test]
fn name_constraints_reject_foreign_names_and_addresses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let ca = CertAuthority::load_or_create(dir, ROOM, &test_names()).unwrap();
    let verifier = build_verifier(&ca.root.der, &ca.provider).unwrap();
    let inter = der_of(dir, INTERMEDIATE_CERT);
    let now = rustls::pki_types::UnixTime::now();

    let cases: [(&str, &str, SanType, ServerName<'static>, bool); 3] = [
        (
            "control",
            "phonghop-test.local",
            SanType::DnsName("sub.phonghop-test.local".try_into().unwrap()),
            ServerName::try_from("sub.phonghop-test.local").unwrap(),
            true,
        ),
        (
            "evil-dns",
            "evil.example.com",
            SanType::DnsName("evil.example.com".try_into().unwrap()),
            ServerName::try_from("evil.example.com").unwrap(),
            false,
        ),
        (
            "evil-ip",
            "phonghop-test.local",
            SanType::IpAddress("8.8.8.8".parse().unwrap()),
            ServerName::from("8.8.8.8".parse::<IpAddr>().unwrap()),
            false,
        ),
    ];
    for (label, cn, san, server_name, should_pass) in cases {
        let der = issue_with_intermediate(dir, cn, san);
        let path = dir.join(format!("{label}.pem"));
        fs::write(&path, pem_cert(&der)).unwrap();
        let (ok, out) = openssl_verify(dir, &path, &[]);
        assert_eq!(ok, should_pass, "{label}: {out}");
        if !should_pass {
            assert!(
                out.contains("permitted subtree violation") || out.contains("name constraint"),
                "{label}: {out}"
            );
        }
        let webpki =
            verifier.verify_server_cert(&der, std::slice::from_ref(&inter), &server_name, &[], now);
        assert_eq!(webpki.is_ok(), should_pass, "{label}: {webpki:?}");
    }
}

#[test]
fn corrupt_or_incomplete_files_are_errors_and_left_untouched() {
    let names = test_names();
    let cases: [(&str, &[u8]); 4] = [
        (
            INTERMEDIATE_CERT,
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ),
        (ROOT_KEY, b"garbage"),
        (
            LEAF_KEY,
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ),
        (NAMES, b"{not json"),
    ];
    for (name, junk) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        CertAuthority::load_or_create(dir, ROOM, &names).unwrap();
        fs::write(dir.join(name), junk).unwrap();
        let err = CertAuthority::load_or_create(dir, ROOM, &names).unwrap_err();
        assert!(matches!(err, TlsError::Corrupt { .. }), "{name}: {err:?}");
        assert!(err.to_string().contains(name), "{name}: {err}");
        assert_eq!(read(dir, name), junk, "{name} was modified");
    }

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    CertAuthority::load_or_create(dir, ROOM, &names).unwrap();
    let root_key = read(dir, ROOT_KEY);
    fs::remove_file(dir.join(ROOT_KEY)).unwrap();
    let err = CertAuthority::load_or_create(dir, ROOM, &names).unwrap_err();
    assert!(matches!(err, TlsError::Incomplete { .. }), "{err:?}");
    assert!(!dir.join(ROOT_KEY).exists());

    fs::write(dir.join(ROOT_KEY), &root_key).unwrap();
    fs::remove_file(dir.join(ROOT_CERT)).unwrap();
    let err = CertAuthority::load_or_create(dir, ROOM, &names).unwrap_err();
    assert!(matches!(err, TlsError::Incomplete { .. }), "{err:?}");
    assert!(err.to_string().contains("root.pem"), "{err}");
    assert!(!dir.join(ROOT_CERT).exists());

    // A key that belongs to another certificate is corruption for the root.
    let other = tempfile::tempdir().unwrap();
    CertAuthority::load_or_create(other.path(), ROOM, &names).unwrap();
    fs::copy(other.path().join(ROOT_CERT), dir.join(ROOT_CERT)).unwrap();
    let err = CertAuthority::load_or_create(dir, ROOM, &names).unwrap_err();
    assert!(matches!(err, TlsError::Corrupt { .. }), "{err:?}");
}

#[test]
fn interrupted_writes_are_repaired_under_the_same_root() {
    let names = test_names();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = CertAuthority::load_or_create(dir, ROOM, &names).unwrap();
    let root = first.root_der();
    let serial = first.leaf_serial_hex();
    drop(first);

    // Power cut after the new leaf key, before the new leaf certificate.
    let stray = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    fs::write(dir.join(LEAF_KEY), stray.serialize_pem()).unwrap();
    fs::write(dir.join(".leaf.key.tmp-abcdef"), b"partial").unwrap();
    let ca = CertAuthority::load_or_create(dir, ROOM, &names).unwrap();
    assert_eq!(ca.root_der(), root);
    assert_ne!(ca.leaf_serial_hex(), serial);
    assert!(!dir.join(".leaf.key.tmp-abcdef").exists());
    let (ok, out) = openssl_verify(dir, &dir.join(LEAF_CERT), &[]);
    assert!(ok, "{out}");
    drop(ca);

    // Power cut on first start, between root.key and root.pem.
    let fresh = tempfile::tempdir().unwrap();
    let fdir = fresh.path();
    fs::write(fdir.join(ROOT_KEY), stray.serialize_pem()).unwrap();
    let ca = CertAuthority::load_or_create(fdir, ROOM, &names).unwrap();
    assert_eq!(mode(&fdir.join(ROOT_KEY)), 0o600);
    let root_facts = CertFacts::parse(&ca.root_der(), fdir).unwrap();
    assert!(root_facts.matches_key(&stray));
    let (ok, out) = openssl_verify(fdir, &fdir.join(LEAF_CERT), &[]);
    assert!(ok, "{out}");

    // names.json lost: rewritten, nothing else changes.
    let leaf = read(fdir, LEAF_CERT);
    drop(ca);
    fs::remove_file(fdir.join(NAMES)).unwrap();
    CertAuthority::load_or_create(fdir, ROOM, &names).unwrap();
    assert!(fdir.join(NAMES).is_file());
    assert_eq!(read(fdir, LEAF_CERT), leaf);
}

#[test]
fn renew_if_due_follows_the_calendar() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let ca = CertAuthority::load_or_create(dir, ROOM, &test_names()).unwrap();
    let now = OffsetDateTime::now_utc();
    let first = ca.leaf_info();
    assert!(!ca.renew_if_due(now).unwrap());
    assert!(!ca.renew_if_due(now + Duration::days(58)).unwrap());
    assert_eq!(ca.leaf_info(), first);

    assert!(ca.renew_if_due(now + Duration::days(60)).unwrap());
    let second = ca.leaf_info();
    assert_ne!(second.serial_hex, first.serial_hex);
    assert!(second.not_after > first.not_after);
    assert_eq!(
        read(dir, LEAF_CERT),
        pem_cert(&ca.resolver.current().cert[0]).into_bytes()
    );

    // The clock jumped back: the leaf issued "in the future" is not valid yet.
    assert!(ca.renew_if_due(now).unwrap());
    let third = ca.leaf_info();
    assert!(third.not_before < now);

    // A clock that was never set is ignored.
    let epoch = OffsetDateTime::UNIX_EPOCH;
    assert!(!ca.renew_if_due(epoch).unwrap());
    assert_eq!(ca.leaf_info(), third);

    // Near the intermediate's end, both are replaced; the root stays.
    let inter = read(dir, INTERMEDIATE_CERT);
    let late = now + Duration::days(5 * 365 - 100);
    assert!(ca.renew_if_due(late).unwrap());
    assert_ne!(read(dir, INTERMEDIATE_CERT), inter);
    assert_eq!(ca.root_der(), der_of(dir, ROOT_CERT).to_vec());
}

#[test]
fn an_unset_clock_issues_nothing_but_keeps_serving() {
    let epoch = OffsetDateTime::UNIX_EPOCH + Duration::days(3);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let err = CertAuthority::load_or_create_at(dir, ROOM, &test_names(), epoch).unwrap_err();
    assert!(matches!(err, TlsError::ClockNotSet { .. }), "{err:?}");
    assert!(!dir.join(ROOT_KEY).exists());

    let ca = CertAuthority::load_or_create(dir, ROOM, &test_names()).unwrap();
    let serial = ca.leaf_serial_hex();
    drop(ca);
    let ca = CertAuthority::load_or_create_at(dir, ROOM, &test_names(), epoch).unwrap();
    assert_eq!(ca.leaf_serial_hex(), serial);
}

#[test]
fn names_are_normalized() {
    let names = BoxNames {
        dns: vec!["Phonghop-Test.Local.".into(), "phonghop-test.local".into()],
        ips: vec![
            "192.168.50.10".parse().unwrap(),
            "10.9.8.7".parse().unwrap(),
        ],
        subnets: vec![
            "192.168.50.77/24".parse().unwrap(),
            "192.168.50.128/25".parse().unwrap(),
        ],
    }
    .normalized()
    .unwrap();
    assert_eq!(names.dns, vec!["phonghop-test.local", "localhost"]);
    assert_eq!(names.primary(), "phonghop-test.local");
    let subnets: Vec<String> = names.subnets.iter().map(ToString::to_string).collect();
    assert_eq!(
        subnets,
        vec!["192.168.50.0/24", "127.0.0.0/8", "::1/128", "10.9.8.7/32"]
    );
    assert_eq!(names.ips.len(), 4);

    for bad in [
        "",
        "a..b",
        "-x.local",
        "phòng.local",
        "a_b.local",
        "10.0.0.1",
        "*.local",
    ] {
        let r = BoxNames {
            dns: vec![bad.into()],
            ..BoxNames::default()
        }
        .normalized();
        assert!(matches!(r, Err(TlsError::InvalidName { .. })), "{bad:?}");
    }
    assert!("10.0.0.0/33".parse::<Subnet>().is_err());
    let s: Subnet = "fd00:1:2:3::9/64".parse().unwrap();
    assert_eq!(s.to_string(), "fd00:1:2:3::/64");
    assert!(s.contains("fd00:1:2:3:ffff::1".parse().unwrap()));
    assert!(!s.contains("fd00:1:2:4::1".parse().unwrap()));
    assert!(!s.contains("10.0.0.1".parse().unwrap()));
    let wide: Subnet = "0.0.0.0/0".parse().unwrap();
    assert!(wide.contains_subnet(&"10.0.0.0/8".parse().unwrap()));
}

#[test]
fn detect_finds_loopback_and_skips_link_local() {
    let names = BoxNames::detect("phonghop-detect.local").unwrap();
    assert_eq!(names.primary(), "phonghop-detect.local");
    assert!(names.dns.iter().any(|d| d == "localhost"));
    assert!(names.ips.contains(&"127.0.0.1".parse().unwrap()));
    assert!(names.subnets.contains(&"127.0.0.0/8".parse().unwrap()));
    assert!(!names
        .ips
        .iter()
        .any(|ip| matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)));
    let tmp = tempfile::tempdir().unwrap();
    CertAuthority::load_or_create(tmp.path(), ROOM, &names).unwrap();
}

/// A client that trusts only `root_pem`. Returns the served leaf's serial and the ALPN protocol.
async fn connect(
    addr: std::net::SocketAddr,
    root_pem: &str,
    name: ServerName<'static>,
) -> Result<(String, Option<Vec<u8>>), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(parse::cert_from_pem(root_pem.as_bytes(), Path::new("root")).unwrap())
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let mut greeting = [0u8; 2];
    tls.read_exact(&mut greeting)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(&greeting, b"hi");
    let (_, conn) = tls.get_ref();
    let chain = conn.peer_certificates().unwrap();
    assert_eq!(chain.len(), 2, "leaf and intermediate are served");
    let serial = CertFacts::parse(&chain[0], Path::new("peer"))
        .unwrap()
        .serial_hex;
    Ok((serial, conn.alpn_protocol().map(<[u8]>::to_vec)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_by_name_and_address_and_hot_renewal() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = Arc::new(CertAuthority::load_or_create(tmp.path(), ROOM, &test_names()).unwrap());
    let acceptor = tokio_rustls::TlsAcceptor::from(ca.server_config());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let _ = tls.write_all(b"hi").await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });

    let root = ca.root_pem();
    let first = ca.leaf_serial_hex();
    for name in [
        ServerName::try_from("localhost").unwrap(),
        ServerName::try_from("phonghop-test.local").unwrap(),
        ServerName::from("127.0.0.1".parse::<IpAddr>().unwrap()),
    ] {
        let (serial, alpn) = connect(addr, &root, name.clone()).await.unwrap();
        assert_eq!(serial, first, "{name:?}");
        assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
    }
    let err = connect(
        addr,
        &root,
        ServerName::try_from("evil.example.com").unwrap(),
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("NotValidForName") || err.contains("not valid for name"),
        "{err}"
    );

    let renewed = {
        let ca = Arc::clone(&ca);
        tokio::task::spawn_blocking(move || ca.force_renew())
            .await
            .unwrap()
            .unwrap()
    };
    assert_ne!(renewed.serial_hex, first);
    let (serial, _) = connect(addr, &root, ServerName::try_from("localhost").unwrap())
        .await
        .unwrap();
    assert_eq!(serial, renewed.serial_hex);
    let (serial, _) = connect(
        addr,
        &root,
        ServerName::from("127.0.0.1".parse::<IpAddr>().unwrap()),
    )
    .await
    .unwrap();
    assert_eq!(serial, renewed.serial_hex);
}

#[tokio::test]
async fn renewal_loop_stops_on_shutdown() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = Arc::new(CertAuthority::load_or_create(tmp.path(), ROOM, &test_names()).unwrap());
    let serial = ca.leaf_serial_hex();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(renewal_loop(
        Arc::clone(&ca),
        std::time::Duration::ZERO,
        async move {
            let _ = rx.await;
        },
    ));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    tx.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ca.leaf_serial_hex(), serial, "a fresh leaf is not renewed");
}
