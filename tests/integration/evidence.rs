//! The evidence package of a closed vote: downloaded from the box, then checked offline by the
//! real `phonghop verify-vote`, as it came and with one byte changed or the root swapped.

use crate::helpers::*;
use crate::live::Room;
use crate::votes::{hex32, receipt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::Path;

/// GET the package as `cookie`: the status, the content type and the bytes.
async fn download(r: &Room, cookie: &str, question: &str) -> (StatusCode, String, Vec<u8>) {
    let res =
        r.b.client
            .get(r.b.url(&format!(
                "/api/meetings/{}/questions/{question}/evidence.zip",
                r.meeting
            )))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
    let status = res.status();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, res.bytes().await.unwrap().to_vec())
}

/// The raw bytes of `/result`, as the API returns them.
async fn result_bytes(r: &Room, cookie: &str, question: &str) -> Vec<u8> {
    let res =
        r.b.client
            .get(r.b.url(&format!(
                "/api/meetings/{}/questions/{question}/result",
                r.meeting
            )))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 200);
    res.bytes().await.unwrap().to_vec()
}

struct Checked {
    ok: bool,
    code: Option<i32>,
    out: String,
    err: String,
}

/// Runs `phonghop verify-vote` on `zip`, written to a file in `dir`.
fn verify_vote(dir: &Path, name: &str, zip: &[u8], extra: &[&str]) -> Checked {
    let file = dir.join(name);
    std::fs::write(&file, zip).unwrap();
    let mut args = vec!["verify-vote", file.to_str().unwrap()];
    args.extend(extra);
    let out = phonghop(&args);
    Checked {
        ok: out.status.success(),
        code: out.status.code(),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The package with one file's bytes changed.
fn rewrite(zip: &[u8], name: &str, change: impl Fn(Vec<u8>) -> Vec<u8>) -> Vec<u8> {
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut found = false;
    for i in 0..src.len() {
        let mut f = src.by_index(i).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        let fname = f.name().unwrap().into_owned();
        if fname == name {
            bytes = change(bytes);
            found = true;
        }
        out.start_file(fname, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&bytes).unwrap();
    }
    assert!(found, "no {name} in the package");
    out.finish().unwrap().into_inner()
}

fn entry(zip: &[u8], name: &str) -> Vec<u8> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut f = z.by_name(name).unwrap();
    let mut out = Vec::new();
    f.read_to_end(&mut out).unwrap();
    out
}

/// Replaces the first `from` in result.json with `to`, once, asserting it was there.
fn edit_result(zip: &[u8], from: &str, to: &str) -> Vec<u8> {
    let (from, to) = (from.to_owned(), to.to_owned());
    rewrite(zip, "result.json", move |b| {
        let text = String::from_utf8(b).unwrap();
        assert!(text.contains(&from), "{from} is not in result.json");
        text.replacen(&from, &to, 1).into_bytes()
    })
}

/// The root's fingerprint as the onboarding page shows it.
fn fingerprint(pem: &str) -> String {
    use sha2::{Digest, Sha256};
    let (_, p) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
    hex::encode_upper(Sha256::digest(&p.contents))
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":")
}

/// A look-alike root: a CA with the same name as the box's and another key. Only the
/// signature on the node's certificate tells them apart.
fn other_root(like: &str) -> String {
    let (_, pem) = x509_parser::pem::parse_x509_pem(like.as_bytes()).unwrap();
    let cert = pem.parse_x509().unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.distinguished_name = rcgen::DistinguishedName::new();
    for attr in cert.subject().iter_attributes() {
        let kind = match attr.attr_type().to_id_string().as_str() {
            "2.5.4.3" => rcgen::DnType::CommonName,
            "2.5.4.10" => rcgen::DnType::OrganizationName,
            other => panic!("unexpected name part {other}"),
        };
        p.distinguished_name.push(kind, attr.as_str().unwrap());
    }
    let other = p.self_signed(&key).unwrap().pem();
    let (_, o) = x509_parser::pem::parse_x509_pem(other.as_bytes()).unwrap();
    assert_eq!(o.parse_x509().unwrap().subject(), cert.subject());
    other
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[tokio::test]
async fn a_named_vote_exports_a_package_that_verifies_and_fails_on_one_changed_byte() {
    let r = Room::new().await;
    let v = r.open_vote(json!({})).await;
    // Before the close there is nothing to export.
    let (s, _, body) = download(&r, &r.tablet("D"), &v.question).await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "{}",
        String::from_utf8_lossy(&body)
    );
    for (tag, choice) in [("A", "approve"), ("B", "approve"), ("C", "disapprove")] {
        let (s, a) = v.named(tag, &hex32(), json!({ "choice": choice })).await;
        assert_eq!(s, 200, "{a}");
    }
    v.close().await;
    // Anyone with a role may take it away; someone outside the meeting may not.
    let (s, kind, zip) = download(&r, &r.tablet("D"), &v.question).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&zip));
    assert_eq!(kind, "application/zip");
    let (s, _, _) = download(&r, &r.tablet("O"), &v.question).await;
    assert!(
        s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
        "{s}"
    );
    // result.json is the API's answer byte for byte; the certificates are the box's.
    assert_eq!(
        entry(&zip, "result.json"),
        result_bytes(&r, &r.tablet("D"), &v.question).await
    );
    let root = r.b.root_pem();
    assert_eq!(entry(&zip, "certificates/root.pem"), root.as_bytes());
    let devices: Value = serde_json::from_slice(&entry(&zip, "certificates/devices.json")).unwrap();
    assert_eq!(devices.as_array().unwrap().len(), 3);
    let readme = String::from_utf8(entry(&zip, "README.txt")).unwrap();
    assert!(readme.contains("phonghop verify-vote"));

    let dir = tmp();
    let c = verify_vote(dir.path(), "named.zip", &zip, &[]);
    assert!(c.ok, "{}\n{}", c.out, c.err);
    for line in [
        "OK   result.json đọc được",
        "result.json parses (record, signature, certificate)",
        "certificates/node.pem is the certificate in result.json",
        "was issued by the root (the root's signature verifies)",
        "for document signing (EKU 1.3.6.1.5.5.7.3.36)",
        "were valid when the vote closed",
        "the box's signature over the result record (RFC 8785 canonical JSON) verifies",
        "the 3 tablets' signatures on 3 named ballots verify",
        "the recount matches the recorded outcome",
        "certificates/devices.json matches the 3 devices in the record",
        "2 tán thành, 1 không tán thành, 0 không biểu quyết: KHÔNG ĐƯỢC THÔNG QUA",
        "VALID: every check passed",
    ] {
        assert!(c.out.contains(line), "{line:?} not printed:\n{}", c.out);
    }
    // It prints the root's fingerprint, the one the box shows, and says to compare it.
    assert!(c.out.contains(&fingerprint(&root)), "{}", c.out);
    assert!(c.out.contains("onboarding page"), "{}", c.out);
    // With the box's own ca.pem given.
    let root_file = dir.path().join("ca.pem");
    std::fs::write(&root_file, &root).unwrap();
    let c = verify_vote(
        dir.path(),
        "named.zip",
        &zip,
        &["--root", root_file.to_str().unwrap()],
    );
    assert!(c.ok, "{}\n{}", c.out, c.err);
    assert!(c.out.contains("root given with --root"), "{}", c.out);

    // One count digit inside the record.
    let bad = edit_result(&zip, r#""approve":2"#, r#""approve":3"#);
    let c = verify_vote(dir.path(), "count.zip", &bad, &[]);
    assert!(!c.ok);
    assert_eq!(c.code, Some(65));
    assert!(c.out.contains("LỖI  Chữ ký của hệ thống"), "{}", c.out);
    assert!(c.out.contains("the recount differs"), "{}", c.out);
    assert!(c.err.contains("NOT VALID"), "{}", c.err);
    assert!(c.err.contains("the box's signature"), "{}", c.err);

    // One character of one tablet's signature.
    let json: Value = serde_json::from_slice(&entry(&zip, "result.json")).unwrap();
    let sig = json["record"]["ballots"][1]["signature"].as_str().unwrap();
    let mut flipped: Vec<char> = sig.chars().collect();
    flipped[20] = if flipped[20] == 'A' { 'B' } else { 'A' };
    let flipped: String = flipped.into_iter().collect();
    let bad = edit_result(&zip, sig, &flipped);
    let c = verify_vote(dir.path(), "ballot.zip", &bad, &[]);
    assert!(!c.ok);
    assert!(c.out.contains(": bad signature"), "{}", c.out);
    assert!(c.err.contains("bad signature"), "{}", c.err);

    // Another box's root in the package, and another root given.
    let other = other_root(&root);
    assert_ne!(other, root);
    let swapped = rewrite(&zip, "certificates/root.pem", |_| {
        other.clone().into_bytes()
    });
    let c = verify_vote(dir.path(), "root.zip", &swapped, &[]);
    assert!(!c.ok);
    assert!(c.err.contains("was issued by the root"), "{}", c.err);
    let other_file = dir.path().join("other.pem");
    std::fs::write(&other_file, &other).unwrap();
    let c = verify_vote(
        dir.path(),
        "named.zip",
        &zip,
        &["--root", other_file.to_str().unwrap()],
    );
    assert!(!c.ok);
    assert!(c.err.contains("was issued by the root"), "{}", c.err);

    // Not a package at all.
    let c = verify_vote(dir.path(), "junk.zip", b"PK not really", &[]);
    assert!(!c.ok);
    assert!(c.out.contains("cannot read the package"), "{}", c.out);
    let missing = dir.path().join("nothing-here.zip");
    let out = phonghop(&["verify-vote", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(66));
}

#[tokio::test]
async fn a_secret_vote_package_verifies_and_a_changed_choice_fails() {
    let r = Room::new().await;
    let v = r.open_vote(json!({"secrecy": "secret"})).await;
    for (tag, choice) in [("A", "approve"), ("B", "disapprove"), ("D", "approve")] {
        let (s, a) = v.secret(tag, &receipt(), json!({ "choice": choice })).await;
        assert_eq!(s, 200, "{a}");
    }
    v.close().await;
    let (s, _, zip) = download(&r, &r.tablet("A"), &v.question).await;
    assert_eq!(s, 200);
    let dir = tmp();
    let c = verify_vote(dir.path(), "secret.zip", &zip, &[]);
    assert!(c.ok, "{}\n{}", c.out, c.err);
    assert!(
        c.out.contains(
            "the 3 tablets' participation signatures verify; 3 receipts well formed and sorted"
        ),
        "{}",
        c.out
    );
    assert!(c.out.contains("the recount matches"), "{}", c.out);
    // A voter's choice changed under its receipt.
    let bad = edit_result(
        &zip,
        r#""mark":{"choice":"disapprove"}"#,
        r#""mark":{"choice":"approve"}"#,
    );
    let c = verify_vote(dir.path(), "choice.zip", &bad, &[]);
    assert!(!c.ok);
    assert!(c.out.contains("the recount differs"), "{}", c.out);
    assert!(c.err.contains("the box's signature"), "{}", c.err);
}

#[tokio::test]
async fn a_hand_count_package_verifies_and_its_pdf_says_it_was_counted_by_hand() {
    let r = Room::new().await;
    let v = r.open_vote(json!({})).await;
    let (s, q) = r
        .q(
            &r.sec,
            Method::POST,
            &format!("/{}/manual", v.question),
            Some(json!({
                "counts": {"approve": 3, "disapprove": 1, "abstain": 0},
                "reason": "Máy tính bảng hết pin, biểu quyết giơ tay"
            })),
        )
        .await;
    assert_eq!(s, 200, "{q}");
    let (s, _, zip) = download(&r, &r.chair, &v.question).await;
    assert_eq!(s, 200);
    let dir = tmp();
    let c = verify_vote(dir.path(), "manual.zip", &zip, &[]);
    assert!(c.ok, "{}\n{}", c.out, c.err);
    assert!(
        c.out
            .contains("the hand count's figures give the recorded outcome"),
        "{}",
        c.out
    );
    assert!(c.out.contains("(kiểm phiếu thủ công)"), "{}", c.out);
    // The PDF is text a reader can select, in Vietnamese.
    let pdf = entry(&zip, "result.pdf");
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "Thông qua báo cáo kinh tế - xã hội năm 2026",
        "Kiểm phiếu thủ công",
        "Máy tính bảng hết pin, biểu quyết giơ tay",
        "ĐƯỢC THÔNG QUA",
        "Chữ ký điện tử chuyên dùng của hệ thống phòng họp",
    ] {
        assert!(text.contains(want), "{want:?} not in the PDF:\n{text}");
    }
    // The hand count's figures changed: the box's signature and the arithmetic both fail.
    let bad = edit_result(&zip, r#""approve":3"#, r#""approve":1"#);
    let c = verify_vote(dir.path(), "manual-bad.zip", &bad, &[]);
    assert!(!c.ok);
    assert!(c.err.contains("the box's signature"), "{}", c.err);
    assert!(c.err.contains("hand count's figures"), "{}", c.err);
}
