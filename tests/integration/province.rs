//! The province root (issue 12): the offline root ceremony with the real binary, a box that
//! enrols with a hub holding a province CA, and what tablets see afterwards: a client trusting
//! only the province root reaches the box, one trusting only the box's old root still does,
//! and the box's CA cannot vouch for a name outside its constraints.

use crate::helpers::*;
use crate::sync::{enroll, issue_token, start_hub};
use reqwest::{Certificate, Client};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn ok(out: &std::process::Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

fn trusting_only(pem: &str, local_name: &str, port: u16) -> Client {
    Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(pem.as_bytes()).unwrap())
        .resolve(local_name, ([127, 0, 0, 1], port).into())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn der(pem: &[u8]) -> CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem).unwrap()
}

/// The offline ceremony: root on a "USB stick", request on the hub, signature offline,
/// install on the hub. Returns the province root's PEM.
fn ceremony(tmp: &Path, hub_dir: &Path) -> String {
    let usb = tmp.join("usb");
    let hub = hub_dir.to_str().unwrap();
    let text = ok(&phonghop(&[
        "province-ca",
        "init",
        "--out",
        usb.to_str().unwrap(),
        "--name",
        "Tỉnh Thử Nghiệm",
    ]));
    assert!(text.contains("SHA-256"), "{text}");
    // A province has one root: init refuses to run twice.
    let again = phonghop(&[
        "province-ca",
        "init",
        "--out",
        usb.to_str().unwrap(),
        "--name",
        "x",
    ]);
    assert!(!again.status.success());

    let csr = tmp.join("issuing.csr");
    let text = ok(&phonghop(&[
        "hub",
        "ca-request",
        "--data",
        hub,
        "--out",
        csr.to_str().unwrap(),
    ]));
    let hub_key = text
        .lines()
        .find(|l| l.contains("hub key"))
        .and_then(|l| l.split(": ").nth(1))
        .unwrap()
        .trim()
        .to_owned();
    let signed = tmp.join("issuing.pem");
    let text = ok(&phonghop(&[
        "province-ca",
        "sign",
        "--root",
        usb.to_str().unwrap(),
        "--csr",
        csr.to_str().unwrap(),
        "--out",
        signed.to_str().unwrap(),
    ]));
    assert!(
        text.contains(&hub_key),
        "the signer shows the hub's key: {text}"
    );
    let root = usb.join("province-root.pem");
    // The wrong root is refused and installs nothing.
    let bad = phonghop(&[
        "hub",
        "ca-install",
        "--data",
        hub,
        "--cert",
        signed.to_str().unwrap(),
        "--root",
        signed.to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
    assert!(!hub_dir.join("tls/province/issuing.pem").exists());
    ok(&phonghop(&[
        "hub",
        "ca-install",
        "--data",
        hub,
        "--cert",
        signed.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
    ]));
    std::fs::read_to_string(root).unwrap()
}

#[tokio::test]
async fn a_box_enrolled_under_the_province_root_is_trusted_through_either_root() {
    let (tmp, hub) = start_hub().await;
    let admin = hub.admin().await;

    // Before the hub has a province CA, enrolment works as before and says so.
    let early = tmp.path().join("early");
    init_dir(&early);
    let token = issue_token(&hub, &admin, "Phòng họp sớm").await;
    let text = ok(&enroll(&early, &hub, &token, &[]));
    assert!(text.contains("keeps its own root"), "{text}");
    assert!(early.join("tls/root.key").exists());

    let province_root = ceremony(tmp.path(), &hub.dir);
    // The hub's backup keeps its issuing CA.
    let backup = tmp.path().join("hub-backup.tar.gz");
    ok(&phonghop(&[
        "backup",
        "--data",
        hub.dir.to_str().unwrap(),
        "--out",
        backup.to_str().unwrap(),
    ]));
    let listing = std::process::Command::new("tar")
        .arg("tzf")
        .arg(&backup)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    for f in [
        "tls/province/issuing.key",
        "tls/province/issuing.pem",
        "tls/province/root.pem",
    ] {
        assert!(listing.contains(f), "{f} not in the backup: {listing}");
    }

    // A box that served on its own first: its tablets trust its own root.
    let mut b = TestBox::start().await;
    let old_root = b.root_pem();
    b.terminate();
    let token = issue_token(&hub, &admin, "Phòng họp xã Tân Phú").await;
    let text = ok(&enroll(&b.dir, &hub, &token, &[]));
    assert!(text.contains("province root"), "{text}");
    let tls = b.dir.join("tls");
    assert!(
        !tls.join("root.key").exists(),
        "the province root has no key on the box"
    );
    assert_eq!(
        std::fs::read_to_string(tls.join("root.pem")).unwrap(),
        province_root
    );
    assert_eq!(
        std::fs::read_to_string(tls.join("own-root.pem")).unwrap(),
        old_root
    );
    b.restart().await;

    for (label, pem) in [("province root", &province_root), ("old root", &old_root)] {
        let c = trusting_only(pem, &b.local_name, b.https_port);
        for host in ["127.0.0.1", "localhost", b.local_name.as_str()] {
            let url = format!("https://{host}:{}/healthz", b.https_port);
            let r = c.get(&url).send().await;
            assert!(
                r.as_ref().is_ok_and(|r| r.status() == 200),
                "{label}, {url}: {r:?}"
            );
        }
    }

    // Tablets are told: the onboarding page offers the province root, the IT page says it.
    let page = reqwest::get(b.http_url("/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Chứng thư gốc của tỉnh"), "{page}");
    assert!(page.contains("đã gia nhập hệ thống phòng họp của tỉnh"));
    // The iPad step names the certificate the device will list: the province root's.
    assert!(
        page.contains("<strong>bật</strong> chứng nhận <strong>Tỉnh Thử Nghiệm"),
        "{page}"
    );
    let served = reqwest::get(b.http_url("/ca.pem"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served, province_root);
    let box_admin = b.admin().await;
    let status = crate::sync::box_status(&b, &box_admin).await;
    assert_eq!(status["trust"]["mode"], "province", "{status}");
    assert_eq!(status["trust"]["root_subject"], "Tỉnh Thử Nghiệm Root CA");
    assert_eq!(status["trust"]["uncovered"], serde_json::json!([]));

    // The doctor follows the province chain (intermediate ← issuing ← province root, the
    // cross certificate and the signing certificate under the old root).
    let (_, report) = crate::doctor::doctor(&b.dir, &[]);
    let certs = crate::doctor::checks(&report, "certificates");
    assert!(certs.iter().all(|c| c["status"] == "ok"), "{certs:?}");
    assert!(
        certs[0]["en"]
            .as_str()
            .unwrap()
            .contains("under the province root"),
        "{certs:?}"
    );

    // The box's CA key cannot vouch for another name or address.
    let inter_pem = std::fs::read_to_string(tls.join("intermediate.pem")).unwrap();
    let inter_key = std::fs::read_to_string(tls.join("intermediate.key")).unwrap();
    let issuing = der(&std::fs::read(tls.join("issuing.pem")).unwrap());
    let cross = der(&std::fs::read(tls.join("intermediate-cross.pem")).unwrap());
    let issuer =
        rcgen::Issuer::from_ca_cert_pem(&inter_pem, rcgen::KeyPair::from_pem(&inter_key).unwrap())
            .unwrap();
    let forge = |san: rcgen::SanType| {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::default();
        p.subject_alt_names = vec![san];
        p.use_authority_key_identifier_extension = true;
        p.signed_by(&key, &issuer).unwrap().der().clone()
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = [der(inter_pem.as_bytes()), issuing, cross];
    for root in [&province_root, &old_root] {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(der(root.as_bytes())).unwrap();
        let v = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let check = |leaf: &CertificateDer<'_>, name: ServerName<'static>| {
            v.verify_server_cert(leaf, &chain, &name, &[], UnixTime::now())
        };
        let own = forge(rcgen::SanType::DnsName(
            b.local_name.as_str().try_into().unwrap(),
        ));
        let own_name = ServerName::try_from(b.local_name.clone()).unwrap();
        assert!(
            check(&own, own_name).is_ok(),
            "control: its own name verifies"
        );
        let evil = forge(rcgen::SanType::DnsName(
            "hop-khac.local".try_into().unwrap(),
        ));
        let r = check(&evil, ServerName::try_from("hop-khac.local").unwrap());
        assert!(r.is_err(), "another box's name must be refused: {r:?}");
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let evil = forge(rcgen::SanType::IpAddress(ip));
        let r = check(&evil, ServerName::from(ip));
        assert!(r.is_err(), "a foreign address must be refused: {r:?}");
    }
}
