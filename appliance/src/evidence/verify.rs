//! Checks an evidence package offline, one check per line: the record's JSON, the chain from
//! the node's certificate to the root, the node's signature, every tablet's signature and the
//! recount, and that the copies in `certificates/` agree with the record.

use super::{open, DeviceEntry, Package, DEVICES_JSON, NODE_PEM, RESULT_JSON, ROOT_PEM};
use crate::domain::vote::{check_record, Method, ResultRecord, Secrecy, SignedResult};
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;

/// RFC 9336 id-kp-documentSigning: the node's certificate signs records, nothing else.
pub const DOCUMENT_SIGNING: &str = "1.3.6.1.5.5.7.3.36";

/// One thing checked, said in Vietnamese and in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub ok: bool,
    pub vi: String,
    pub en: String,
}

impl Check {
    fn pass(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Check {
            ok: true,
            vi: vi.into(),
            en: en.into(),
        }
    }

    fn fail(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Check {
            ok: false,
            vi: vi.into(),
            en: en.into(),
        }
    }

    fn of(ok: bool, vi: impl Into<String>, en: impl Into<String>) -> Self {
        Check {
            ok,
            vi: vi.into(),
            en: en.into(),
        }
    }
}

/// Everything the verifier found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub checks: Vec<Check>,
    /// SHA-256 of the root the chain was checked against, as the onboarding page shows it.
    pub root_fingerprint: Option<String>,
    /// Whether that root came from `--root` rather than from the package.
    pub root_given: bool,
    /// What the record says, for the summary line.
    pub summary: Option<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.ok)
    }
}

/// A certificate read from PEM text: its DER, kept so the parsed view can borrow it.
struct Cert(Pem);

impl Cert {
    fn parse(pem: &[u8]) -> Result<Self, String> {
        let (_, pem) = x509_parser::pem::parse_x509_pem(pem).map_err(|e| e.to_string())?;
        pem.parse_x509().map_err(|e| e.to_string())?;
        Ok(Cert(pem))
    }

    fn x509(&self) -> Option<X509Certificate<'_>> {
        self.0.parse_x509().ok()
    }

    fn der(&self) -> &[u8] {
        &self.0.contents
    }
}

/// Checks the package in `zip`. `root` (PEM), when given, is the root to trust instead of the
/// package's own `certificates/root.pem`.
pub fn verify_package(zip: &[u8], root: Option<&[u8]>) -> Report {
    let mut report = Report::default();
    let pkg = match open(zip) {
        Ok(p) => p,
        Err(e) => {
            report.checks.push(Check::fail(
                format!("Không đọc được hồ sơ: {e}"),
                format!("cannot read the package: {e}"),
            ));
            return report;
        }
    };
    let Some(signed) = parse_result(&pkg, &mut report) else {
        return report;
    };
    let r = &signed.record;
    report.summary = Some(summary(r));
    chain(&pkg, &signed, root, &mut report);
    node_signature(&signed, &mut report);
    ballots(r, &mut report);
    devices(&pkg, r, &mut report);
    report
}

fn parse_result(pkg: &Package, report: &mut Report) -> Option<SignedResult> {
    let Some(bytes) = &pkg.result_json else {
        report.checks.push(Check::fail(
            format!("Hồ sơ không có {RESULT_JSON}"),
            format!("the package has no {RESULT_JSON}"),
        ));
        return None;
    };
    match serde_json::from_slice::<SignedResult>(bytes) {
        Ok(s) => {
            report.checks.push(Check::pass(
                format!("{RESULT_JSON} đọc được (bản ghi, chữ ký, chứng thư)"),
                format!("{RESULT_JSON} parses (record, signature, certificate)"),
            ));
            // The signature covers what the JSON parses to; this covers the rest (a renamed
            // key that parsing would skip, added spaces), so every byte counts.
            let exact = serde_json::to_vec(&s).is_ok_and(|again| &again == bytes);
            report.checks.push(Check::of(
                exact,
                format!("{RESULT_JSON} đúng từng byte như hệ thống đã ghi"),
                format!("{RESULT_JSON} is byte for byte as the box wrote it"),
            ));
            Some(s)
        }
        Err(e) => {
            report.checks.push(Check::fail(
                format!("{RESULT_JSON} không đúng định dạng: {e}"),
                format!("{RESULT_JSON} does not parse: {e}"),
            ));
            None
        }
    }
}

/// The node's certificate: the same as `certificates/node.pem`, issued by the root, for
/// document signing, and valid when the vote closed.
fn chain(pkg: &Package, signed: &SignedResult, given: Option<&[u8]>, report: &mut Report) {
    let closed = signed.record.closed_at.unix_timestamp();
    let closed_text = signed
        .record
        .closed_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| closed.to_string());
    let same_copy = pkg
        .node_pem
        .as_deref()
        .is_some_and(|p| p == signed.certificate.as_bytes());
    report.checks.push(Check::of(
        same_copy,
        format!("{NODE_PEM} trùng với chứng thư trong {RESULT_JSON}"),
        format!("{NODE_PEM} is the certificate in {RESULT_JSON}"),
    ));
    let node = match Cert::parse(signed.certificate.as_bytes()) {
        Ok(c) => c,
        Err(e) => {
            report.checks.push(Check::fail(
                format!("Chứng thư ký không đọc được: {e}"),
                format!("the signing certificate does not parse: {e}"),
            ));
            return;
        }
    };
    let (root_pem, from) = match given {
        Some(p) => (Some(p), "--root"),
        None => (pkg.root_pem.as_deref(), ROOT_PEM),
    };
    report.root_given = given.is_some();
    let root = match root_pem.map(Cert::parse) {
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            report.checks.push(Check::fail(
                format!("Chứng thư gốc ({from}) không đọc được: {e}"),
                format!("the root certificate ({from}) does not parse: {e}"),
            ));
            return;
        }
        None => {
            report.checks.push(Check::fail(
                format!("Hồ sơ không có {ROOT_PEM}"),
                format!("the package has no {ROOT_PEM}"),
            ));
            return;
        }
    };
    report.root_fingerprint = Some(super::pdf::fingerprint(root.der()));
    if given.is_some() {
        let same = pkg.root_pem.as_deref().and_then(|p| Cert::parse(p).ok());
        report.checks.push(Check::of(
            same.is_some_and(|c| c.der() == root.der()),
            format!("{ROOT_PEM} trùng với chứng thư gốc đã cho (--root)"),
            format!("{ROOT_PEM} is the root given with --root"),
        ));
    }
    let (Some(n), Some(rt)) = (node.x509(), root.x509()) else {
        return;
    };
    let root_self = rt.verify_signature(None).is_ok() && rt.is_ca();
    report.checks.push(Check::of(
        root_self,
        format!("Chứng thư gốc là chứng thư CA tự ký: {}", rt.subject()),
        format!("the root is a self-signed CA certificate: {}", rt.subject()),
    ));
    let issued = n.issuer() == rt.subject() && n.verify_signature(Some(rt.public_key())).is_ok();
    report.checks.push(Check::of(
        issued,
        format!(
            "Chứng thư ký \"{}\" do chứng thư gốc cấp (chữ ký của gốc hợp lệ)",
            n.subject()
        ),
        format!(
            "the signing certificate \"{}\" was issued by the root (the root's signature verifies)",
            n.subject()
        ),
    ));
    let eku = n.extended_key_usage().ok().flatten().is_some_and(|e| {
        e.value
            .other
            .iter()
            .any(|o| o.to_id_string() == DOCUMENT_SIGNING)
    });
    report.checks.push(Check::of(
        eku,
        format!("Chứng thư ký dùng để ký văn bản (EKU {DOCUMENT_SIGNING})"),
        format!("the signing certificate is for document signing (EKU {DOCUMENT_SIGNING})"),
    ));
    let valid_at = |c: &X509Certificate<'_>| {
        let v = c.validity();
        v.not_before.timestamp() <= closed && closed <= v.not_after.timestamp()
    };
    report.checks.push(Check::of(
        valid_at(&n) && valid_at(&rt),
        format!(
            "Chứng thư ký và chứng thư gốc còn hiệu lực lúc kết thúc biểu quyết ({closed_text})"
        ),
        format!(
            "the signing and root certificates were valid when the vote closed ({closed_text})"
        ),
    ));
}

fn node_signature(signed: &SignedResult, report: &mut Report) {
    let ok = crate::signing::certificate_key(&signed.certificate)
        .and_then(|k| crate::signing::verify_json(&k, &signed.record, &signed.signature))
        .is_ok();
    report.checks.push(Check::of(
        ok,
        "Chữ ký của hệ thống trên bản ghi kết quả (JSON chuẩn RFC 8785) hợp lệ",
        "the box's signature over the result record (RFC 8785 canonical JSON) verifies",
    ));
}

/// Every tablet's signature and the recount, through the same check the box runs.
fn ballots(r: &ResultRecord, report: &mut Report) {
    let problems = check_record(r);
    for p in &problems {
        report.checks.push(Check::fail(
            format!("Bản ghi kết quả: {p}"),
            format!("result record: {p}"),
        ));
    }
    if !problems.is_empty() {
        return;
    }
    match (&r.method, r.question.secrecy) {
        (Method::Electronic, Secrecy::Named) => report.checks.push(Check::pass(
            format!(
                "Chữ ký của {} máy tính bảng trên {} phiếu ghi danh hợp lệ",
                r.voters.len(),
                r.ballots.len()
            ),
            format!(
                "the {} tablets' signatures on {} named ballots verify",
                r.voters.len(),
                r.ballots.len()
            ),
        )),
        (Method::Electronic, Secrecy::Secret) => report.checks.push(Check::pass(
            format!(
                "Chữ ký tham gia của {} máy tính bảng hợp lệ; {} mã phiếu đúng định dạng, sắp theo mã",
                r.participations.len(),
                r.receipts.len()
            ),
            format!(
                "the {} tablets' participation signatures verify; {} receipts well formed and sorted",
                r.participations.len(),
                r.receipts.len()
            ),
        )),
        (Method::Manual { .. }, _) => report.checks.push(Check::pass(
            "Kiểm phiếu thủ công: không có phiếu điện tử để kiểm chữ ký",
            "hand count: no electronic ballots to check",
        )),
    }
    let (vi, en) = match r.method {
        Method::Electronic => (
            "Đếm lại phiếu khớp với kết quả đã ghi",
            "the recount matches the recorded outcome",
        ),
        Method::Manual { .. } => (
            "Các số liệu kiểm phiếu thủ công cho đúng kết quả đã ghi",
            "the hand count's figures give the recorded outcome",
        ),
    };
    report.checks.push(Check::pass(vi, en));
}

fn devices(pkg: &Package, r: &ResultRecord, report: &mut Report) {
    let listed = pkg
        .devices_json
        .as_deref()
        .and_then(|b| serde_json::from_slice::<Vec<DeviceEntry>>(b).ok());
    let ok = listed.is_some_and(|l| l == super::devices(r));
    report.checks.push(Check::of(
        ok,
        format!(
            "{DEVICES_JSON} trùng với {} thiết bị trong bản ghi",
            r.voters.len()
        ),
        format!(
            "{DEVICES_JSON} matches the {} devices in the record",
            r.voters.len()
        ),
    ));
}

/// One line on what was decided.
fn summary(r: &ResultRecord) -> String {
    use crate::domain::vote::Outcome;
    let decided = match &r.outcome {
        Outcome::Motion(d) => format!(
            "{} tán thành, {} không tán thành, {} không biểu quyết: {}",
            d.counts.approve,
            d.counts.disapprove,
            d.counts.abstain,
            if d.passed {
                "ĐƯỢC THÔNG QUA"
            } else {
                "KHÔNG ĐƯỢC THÔNG QUA"
            }
        ),
        Outcome::Election(e) => {
            let elected: Vec<&str> = e
                .candidates
                .iter()
                .filter(|c| c.elected)
                .map(|c| c.name.as_str())
                .collect();
            format!(
                "{} phiếu; trúng cử: {}",
                e.ballots,
                if elected.is_empty() {
                    "không ai".to_owned()
                } else {
                    elected.join(", ")
                }
            )
        }
    };
    let manual = match r.method {
        Method::Manual { .. } => " (kiểm phiếu thủ công)",
        Method::Electronic => "",
    };
    format!("{} — {}{manual}", r.question.title, decided)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, node, sign};
    use super::super::{package, RESULT_JSON, ROOT_PEM};
    use super::*;
    use crate::domain::vote::Choice::*;
    use crate::domain::vote::Counts;
    use std::io::{Read, Write};

    /// The package with one file's bytes replaced.
    fn rewrite(zip: &[u8], name: &str, change: impl Fn(Vec<u8>) -> Vec<u8>) -> Vec<u8> {
        let mut src = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for i in 0..src.len() {
            let mut f = src.by_index(i).unwrap();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            let fname = f.name().unwrap().into_owned();
            if fname == name {
                bytes = change(bytes);
            }
            out.start_file(fname, zip::write::SimpleFileOptions::default())
                .unwrap();
            out.write_all(&bytes).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn failing(r: &Report) -> Vec<String> {
        r.failures().map(|c| c.en.clone()).collect()
    }

    #[test]
    fn an_untouched_package_passes_every_check() {
        let b = node();
        for record in [
            fixture::named(&[Approve, Approve, Disapprove, Approve]),
            fixture::secret(&[Approve, Abstain, Disapprove]),
            fixture::manual(Counts {
                approve: 2,
                disapprove: 3,
                abstain: 1,
            }),
        ] {
            let zip = package(&sign(&b, record), &b.root_pem).unwrap();
            let r = verify_package(&zip, None);
            assert!(r.passed(), "{:?}", failing(&r));
            assert!(r.checks.len() >= 8, "{:#?}", r.checks);
            assert_eq!(
                r.root_fingerprint.as_deref().map(str::len),
                Some(32 * 3 - 1)
            );
            // With the right root given, too.
            let r = verify_package(&zip, Some(b.root_pem.as_bytes()));
            assert!(r.passed() && r.root_given, "{:?}", failing(&r));
        }
    }

    #[test]
    fn one_changed_byte_anywhere_in_the_record_fails() {
        let b = node();
        let signed = sign(&b, fixture::named(&[Approve, Approve, Disapprove, Approve]));
        let zip = package(&signed, &b.root_pem).unwrap();
        let json = String::from_utf8(serde_json::to_vec(&signed).unwrap()).unwrap();
        // A count digit inside the record.
        let count = json.replacen("\"approve\":3", "\"approve\":4", 1);
        assert_ne!(count, json);
        let r = verify_package(
            &rewrite(&zip, RESULT_JSON, |_| count.clone().into_bytes()),
            None,
        );
        let f = failing(&r);
        assert!(f.iter().any(|l| l.contains("the box's signature")), "{f:?}");
        assert!(f.iter().any(|l| l.contains("recount differs")), "{f:?}");
        // One character of one tablet's signature.
        let sig = &signed.record.ballots[1].signature;
        let flipped: String = sig
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i == 10 {
                    if c == 'A' {
                        'B'
                    } else {
                        'A'
                    }
                } else {
                    c
                }
            })
            .collect();
        let changed = json.replacen(sig.as_str(), &flipped, 1);
        let r = verify_package(
            &rewrite(&zip, RESULT_JSON, |_| changed.clone().into_bytes()),
            None,
        );
        let f = failing(&r);
        assert!(f.iter().any(|l| l.contains("bad signature")), "{f:?}");
        assert!(f.iter().any(|l| l.contains("the box's signature")), "{f:?}");
        // Every single byte of the record, each on its own (a JSON that no longer parses
        // fails too).
        let record_start = json.find("\"record\"").unwrap();
        for at in (record_start..json.len()).step_by(13) {
            let mut bytes = json.clone().into_bytes();
            bytes[at] ^= 0x01;
            let r = verify_package(&rewrite(&zip, RESULT_JSON, |_| bytes.clone()), None);
            assert!(!r.passed(), "changing byte {at} went unnoticed");
        }
    }

    #[test]
    fn two_ballots_from_one_person_in_place_of_another_fail() {
        use crate::domain::vote::{ballot_payload, chair_mark, Marked, Outcome, SignedBallot};
        let b = node();
        let mut record = fixture::named(&[Approve, Disapprove]);
        // The first voter's tablet signs a second ballot, which takes the second's place;
        // every signature is good and the voters and ballots are as many.
        let first = fixture::Tablet::new(1, "Nguyễn Văn An");
        record.voters[0] = first.voter();
        let mut ballots = Vec::new();
        for n in 0..2 {
            let bid = fixture::id(4000 + n);
            let mark = Marked::Choice(Approve);
            let text = ballot_payload(
                &record.node,
                &record.meeting_id,
                &record.question.id,
                &record.nonce,
                &bid,
                &mark,
            );
            ballots.push(SignedBallot {
                id: bid,
                person_id: first.person.clone(),
                device_id: first.device.clone(),
                mark,
                signature: first.sign(&text),
            });
        }
        record.ballots = ballots;
        let marks: Vec<Marked> = record.ballots.iter().map(|b| b.mark.clone()).collect();
        record.outcome = Outcome::count(
            &record.question,
            &marks,
            record.electorate,
            chair_mark(&record),
        );
        let zip = package(&sign(&b, record), &b.root_pem).unwrap();
        let f = failing(&verify_package(&zip, None));
        assert!(
            f.iter().any(|l| l.contains("has more than one ballot")),
            "{f:?}"
        );
    }

    #[test]
    fn a_hand_count_whose_figures_do_not_give_its_outcome_fails() {
        let b = node();
        let mut record = fixture::manual(Counts {
            approve: 3,
            disapprove: 2,
            abstain: 0,
        });
        if let crate::domain::vote::Outcome::Motion(d) = &mut record.outcome {
            assert!(!d.passed);
            d.passed = true;
        }
        // Signed by the box as it is: only the arithmetic is wrong.
        let zip = package(&sign(&b, record), &b.root_pem).unwrap();
        let f = failing(&verify_package(&zip, None));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("hand count's figures"), "{f:?}");
    }

    #[test]
    fn another_root_or_a_changed_copy_fails() {
        let b = node();
        let other = node();
        let signed = sign(&b, fixture::secret(&[Approve, Approve]));
        let zip = package(&signed, &b.root_pem).unwrap();
        // The root swapped in the package.
        let swapped = rewrite(&zip, ROOT_PEM, |_| other.root_pem.clone().into_bytes());
        let f = failing(&verify_package(&swapped, None));
        assert!(
            f.iter().any(|l| l.contains("was issued by the root")),
            "{f:?}"
        );
        // The right package checked against another root.
        let r = verify_package(&zip, Some(other.root_pem.as_bytes()));
        let f = failing(&r);
        assert!(
            f.iter().any(|l| l.contains("was issued by the root")),
            "{f:?}"
        );
        assert!(f.iter().any(|l| l.contains("is the root given")), "{f:?}");
        // A whole package re-signed by another box, root and all, passes on its own but not
        // against the first box's root.
        let forged = package(&sign(&other, signed.record.clone()), &other.root_pem).unwrap();
        assert!(verify_package(&forged, None).passed());
        assert!(!verify_package(&forged, Some(b.root_pem.as_bytes())).passed());
        // devices.json that does not match the record.
        let devices = rewrite(&zip, super::super::DEVICES_JSON, |_| b"[]".to_vec());
        let f = failing(&verify_package(&devices, None));
        assert!(
            f.iter().any(|l| l.contains("devices.json matches")),
            "{f:?}"
        );
        // Not a ZIP at all.
        let f = failing(&verify_package(b"not a zip", None));
        assert!(f[0].starts_with("cannot read the package"), "{f:?}");
    }

    #[test]
    fn the_node_certificate_is_for_document_signing_and_valid_at_close() {
        let b = node();
        let mut record = fixture::named(&[Approve]);
        // Closed long before the certificate was issued.
        record.closed_at = time::macros::datetime!(2001-01-01 00:00:00 UTC);
        let zip = package(&sign(&b, record), &b.root_pem).unwrap();
        let f = failing(&verify_package(&zip, None));
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("were valid when the vote closed"), "{f:?}");
    }
}
