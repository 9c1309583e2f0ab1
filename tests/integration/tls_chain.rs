//! The box's own CA: a client trusting only its root reaches it by IP and by name, and the
//! intermediate's name constraints stop it from vouching for anyone else.

use crate::helpers::*;
use rcgen::{CertificateParams, DnType, Issuer, KeyPair, SanType};
use std::process::Command;

#[tokio::test]
async fn a_client_trusting_only_the_root_connects_by_ip_and_by_name() {
    let b = TestBox::start().await;
    for host in ["127.0.0.1", "localhost", "[::1]", b.local_name.as_str()] {
        let url = format!("https://{host}:{}/healthz", b.https_port);
        let r = b.client.get(&url).send().await;
        match r {
            Ok(r) => assert_eq!(r.status(), 200, "{url}"),
            // The test machine may have IPv6 switched off; every other host must work.
            Err(e) if host == "[::1]" && e.is_connect() => {}
            Err(e) => panic!("{url}: {e:?}"),
        }
    }
    // A client with no trust in the box's CA is refused.
    let stranger = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    assert!(stranger.get(b.url("/healthz")).send().await.is_err());
}

fn openssl_verify(dir: &std::path::Path, leaf: &std::path::Path) -> (bool, String) {
    let out = Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(dir.join("root.pem"))
        .arg("-untrusted")
        .arg(dir.join("intermediate.pem"))
        .arg(leaf)
        .output()
        .expect("openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn openssl_accepts_the_chain_and_rejects_names_outside_the_constraints() {
    let b = TestBox::start().await;
    let tls = b.dir.join("tls");
    let (ok, text) = openssl_verify(&tls, &tls.join("leaf.pem"));
    assert!(ok, "the box's own leaf must verify: {text}");

    // The served chain is the same leaf the box keeps on disk.
    let served = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{}", b.https_port),
            "-servername",
            "localhost",
            "-CAfile",
        ])
        .arg(tls.join("root.pem"))
        .arg("-verify_return_error")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&served.stdout).contains("Verify return code: 0 (ok)"),
        "{}",
        String::from_utf8_lossy(&served.stdout)
    );

    // Someone who stole the intermediate key issues certificates for other names.
    let key =
        KeyPair::from_pem(&std::fs::read_to_string(tls.join("intermediate.key")).unwrap()).unwrap();
    let issuer = Issuer::from_ca_cert_pem(
        &std::fs::read_to_string(tls.join("intermediate.pem")).unwrap(),
        key,
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for (label, san) in [
        (
            "dns",
            SanType::DnsName("evil.example.com".try_into().unwrap()),
        ),
        ("ip", SanType::IpAddress("8.8.8.8".parse().unwrap())),
    ] {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, "evil");
        params.subject_alt_names = vec![san];
        let leaf_key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&leaf_key, &issuer).unwrap();
        let path = tmp.path().join(format!("{label}.pem"));
        std::fs::write(&path, cert.pem()).unwrap();
        let (ok, text) = openssl_verify(&tls, &path);
        assert!(
            !ok,
            "a {label} name outside the constraints must be rejected: {text}"
        );
        assert!(
            text.to_lowercase().contains("name constraint") || text.contains("permitted subtree"),
            "rejected for the wrong reason: {text}"
        );
    }
}

#[test]
fn keys_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    init_dir(&dir);
    // `init` makes the store; the CA is made on first serve.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let b = rt.block_on(TestBox::attach(dir.clone(), &[]));
    for key in ["root.key", "intermediate.key", "leaf.key"] {
        let mode = std::fs::metadata(dir.join("tls").join(key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key} has mode {mode:o}");
    }
    drop(b);
}
