//! The evidence package of a closed vote (hồ sơ kết quả biểu quyết): one ZIP that anyone can
//! take away and check offline with `phonghop verify-vote`. It holds the signed result as the
//! API returns it, the certificates it rests on, each voter's device key, a readable PDF laid
//! out for the chair's PAdES signature, and a README. The JSON is the evidence; the PDF is a
//! copy for people, not signed by the box.
//!
//! An adapter like `import`: it turns domain values into files and back, with no store and no
//! HTTP.

pub mod pdf;
pub mod verify;

use crate::domain::device::DeviceKey;
use crate::domain::records::Id;
use crate::domain::vote::{ResultRecord, SignedResult};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// The files of a package, by their names inside the ZIP.
pub const RESULT_JSON: &str = "result.json";
pub const NODE_PEM: &str = "certificates/node.pem";
pub const ROOT_PEM: &str = "certificates/root.pem";
pub const DEVICES_JSON: &str = "certificates/devices.json";
pub const RESULT_PDF: &str = "result.pdf";
pub const README_TXT: &str = "README.txt";

/// The largest file the verifier reads out of a package: far above a 1,000-voter result, far
/// below what a hostile ZIP could inflate to.
const MAX_ENTRY: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("cannot write the package: {0}")]
    Write(String),
    #[error("cannot write the PDF: {0}")]
    Pdf(String),
    #[error("the file is not a ZIP archive: {0}")]
    NotZip(String),
    #[error("the package has no {0}")]
    Missing(&'static str),
    #[error("{0} is larger than the verifier reads ({MAX_ENTRY} bytes)")]
    TooLarge(&'static str),
    #[error("cannot read {0}: {1}")]
    Read(&'static str, String),
}

/// A voter's device as registered at pairing: `certificates/devices.json` lists one per voter,
/// so the keys can be compared with the box's device list without reading the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceEntry {
    pub device_id: Id,
    pub person_id: Id,
    pub name: String,
    /// The device's P-256 public key, SEC1 uncompressed, base64url without padding.
    pub public_key: DeviceKey,
}

/// The device list of a record, in the record's order.
pub fn devices(record: &ResultRecord) -> Vec<DeviceEntry> {
    record
        .voters
        .iter()
        .map(|v| DeviceEntry {
            device_id: v.device_id.clone(),
            person_id: v.person_id.clone(),
            name: v.name.clone(),
            public_key: v.device_key.clone(),
        })
        .collect()
}

/// Builds the ZIP for a signed result. `root_pem` is the box's root certificate. The entries
/// carry the close time, so the same result always gives the same bytes.
pub fn package(signed: &SignedResult, root_pem: &str) -> Result<Vec<u8>, EvidenceError> {
    let write = |e: &dyn std::fmt::Display| EvidenceError::Write(e.to_string());
    let result_json = serde_json::to_vec(signed).map_err(|e| write(&e))?;
    let mut devices_json =
        serde_json::to_vec_pretty(&devices(&signed.record)).map_err(|e| write(&e))?;
    devices_json.push(b'\n');
    let pdf = pdf::render(signed)?;
    let readme = readme(signed);
    let files: [(&str, &[u8]); 6] = [
        (README_TXT, readme.as_bytes()),
        (RESULT_JSON, &result_json),
        (RESULT_PDF, &pdf.bytes),
        (NODE_PEM, signed.certificate.as_bytes()),
        (ROOT_PEM, root_pem.as_bytes()),
        (DEVICES_JSON, &devices_json),
    ];
    let t = signed.record.closed_at;
    let stamp = zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).unwrap_or(1980),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    )
    .unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp)
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(name, options).map_err(|e| write(&e))?;
        zip.write_all(bytes).map_err(|e| write(&e))?;
    }
    Ok(zip.finish().map_err(|e| write(&e))?.into_inner())
}

/// The files of a package as read back, each `None` when absent.
#[derive(Debug, Default)]
pub struct Package {
    pub result_json: Option<Vec<u8>>,
    pub node_pem: Option<Vec<u8>>,
    pub root_pem: Option<Vec<u8>>,
    pub devices_json: Option<Vec<u8>>,
    pub result_pdf: Option<Vec<u8>>,
}

/// Reads a package's files out of the ZIP's bytes.
pub fn open(bytes: &[u8]) -> Result<Package, EvidenceError> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| EvidenceError::NotZip(e.to_string()))?;
    let mut take = |name: &'static str| -> Result<Option<Vec<u8>>, EvidenceError> {
        let file = match zip.by_name(name) {
            Ok(f) => f,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(EvidenceError::Read(name, e.to_string())),
        };
        let mut out = Vec::new();
        file.take(MAX_ENTRY + 1)
            .read_to_end(&mut out)
            .map_err(|e| EvidenceError::Read(name, e.to_string()))?;
        if out.len() as u64 > MAX_ENTRY {
            return Err(EvidenceError::TooLarge(name));
        }
        Ok(Some(out))
    };
    Ok(Package {
        result_json: take(RESULT_JSON)?,
        node_pem: take(NODE_PEM)?,
        root_pem: take(ROOT_PEM)?,
        devices_json: take(DEVICES_JSON)?,
        result_pdf: take(RESULT_PDF)?,
    })
}

/// The file name a browser saves the package as.
pub fn file_name(record: &ResultRecord) -> String {
    format!(
        "ket-qua-bieu-quyet-{}-{}.zip",
        record.closed_at.date(),
        record.question.id
    )
}

/// README.txt: what is in the package and how to check it, in Vietnamese and English.
pub fn readme(signed: &SignedResult) -> String {
    let r = &signed.record;
    format!(
        "HỒ SƠ KẾT QUẢ BIỂU QUYẾT / VOTE RESULT EVIDENCE PACKAGE\r\n\
         \r\n\
         {body}\r\n\
         {meeting}\r\n\
         {question}\r\n\
         \r\n\
         TIẾNG VIỆT\r\n\
         \r\n\
         Tệp này gồm:\r\n\
         - result.json: kết quả đã ký (bản ghi, chữ ký của hệ thống, chứng thư ký), đúng như\r\n\
           hệ thống phòng họp trả về. Đây là bằng chứng; mọi tệp khác để đối chiếu.\r\n\
         - result.pdf: bản đọc được của kết quả, có ô trống để Chủ tọa ký số (PAdES) tại văn\r\n\
           phòng. Tệp PDF không do hệ thống ký.\r\n\
         - certificates/node.pem: chứng thư ký kết quả của hệ thống phòng họp.\r\n\
         - certificates/root.pem: chứng thư gốc của hệ thống phòng họp.\r\n\
         - certificates/devices.json: mã thiết bị, người dùng và khóa công khai của từng máy\r\n\
           tính bảng đã biểu quyết, như khi ghép nối.\r\n\
         \r\n\
         Chữ ký trong hồ sơ là chữ ký điện tử chuyên dùng của hệ thống phòng họp (Luật Giao dịch\r\n\
         điện tử 20/2023/QH15), không phải chữ ký số công cộng.\r\n\
         \r\n\
         Cách kiểm tra (không cần mạng):\r\n\
             phonghop verify-vote {file}\r\n\
         Lệnh kiểm tra chữ ký của từng máy tính bảng, chữ ký của hệ thống, chứng thư ký được cấp\r\n\
         từ chứng thư gốc, và đếm lại phiếu; in ra từng điều đã kiểm tra. Hãy so dấu vân tay\r\n\
         SHA-256 của chứng thư gốc mà lệnh in ra với dấu vân tay trên trang cài đặt của hệ thống\r\n\
         phòng họp, hoặc chạy với --root <tệp chứng thư gốc>. Chỉ một byte bị sửa là lệnh báo lỗi.\r\n\
         \r\n\
         ENGLISH\r\n\
         \r\n\
         This package holds:\r\n\
         - result.json: the signed result (the record, the box's signature, the signing\r\n\
           certificate) exactly as the meeting-room box returns it. This is the evidence; the\r\n\
           other files are there to compare.\r\n\
         - result.pdf: a readable copy with an empty box for the chair's PAdES signature, added\r\n\
           at the office. The box does not sign the PDF.\r\n\
         - certificates/node.pem: the box's record-signing certificate.\r\n\
         - certificates/root.pem: the box's root certificate.\r\n\
         - certificates/devices.json: each voting tablet's device id, person and public key as\r\n\
           registered at pairing.\r\n\
         \r\n\
         The signatures are a specialised electronic signature of the meeting-room system (Law\r\n\
         on Electronic Transactions 20/2023/QH15), not a public digital signature.\r\n\
         \r\n\
         To check it (offline):\r\n\
             phonghop verify-vote {file}\r\n\
         It checks every tablet's signature, the box's signature, that the signing certificate\r\n\
         was issued by the root, and recounts the ballots, printing each check. Compare the\r\n\
         root's SHA-256 fingerprint it prints with the one on the box's onboarding page, or run\r\n\
         it with --root <root certificate file>. Any changed byte makes it fail.\r\n",
        body = r.body_name,
        meeting = r.meeting_title,
        question = r.question.title,
        file = file_name(r),
    )
}

/// Signed results for the tests: a real box root and record-signing certificate, and tablets
/// with their own P-256 keys signing real ballots.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::domain::device::DeviceKey;
    use crate::domain::quorum::Threshold;
    use crate::domain::records::Id;
    use crate::domain::vote::*;
    use base64::Engine;
    use p256::ecdsa::signature::Signer;

    pub struct Node {
        pub signer: crate::signing::RecordSigner,
        pub root_pem: String,
        _dir: tempfile::TempDir,
    }

    pub fn node() -> Node {
        let dir = tempfile::tempdir().unwrap();
        let names = crate::tls::BoxNames {
            dns: vec!["phonghop-test.local".into()],
            ips: vec!["192.168.50.10".parse().unwrap()],
            subnets: vec!["192.168.50.0/24".parse().unwrap()],
        };
        let ca = crate::tls::CertAuthority::load_or_create(dir.path(), ROOM, &names).unwrap();
        let signer = ca.record_signer(ROOM).unwrap();
        Node {
            root_pem: ca.root_pem(),
            signer,
            _dir: dir,
        }
    }

    pub const ROOM: &str = "Phòng họp UBND xã Tân Phú";
    pub const TITLE: &str = "Thông qua báo cáo kinh tế - xã hội năm 2026 và kế hoạch phát triển kinh tế - xã hội, bảo đảm quốc phòng - an ninh năm 2027 của xã Tân Phú";

    pub fn id(n: u32) -> Id {
        Id::parse(&format!("{n:032x}")).unwrap()
    }

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    pub struct Tablet {
        pub person: Id,
        pub device: Id,
        pub name: String,
        key: p256::ecdsa::SigningKey,
    }

    impl Tablet {
        pub fn new(n: u32, name: &str) -> Tablet {
            Tablet {
                person: id(1000 + n),
                device: id(2000 + n),
                name: name.into(),
                key: p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng),
            }
        }
        pub fn public(&self) -> DeviceKey {
            let point = self.key.verifying_key().to_encoded_point(false);
            DeviceKey::parse(&b64(point.as_bytes())).unwrap()
        }
        pub fn sign(&self, text: &str) -> String {
            let sig: p256::ecdsa::Signature = self.key.sign(text.as_bytes());
            b64(&sig.to_bytes())
        }
        pub fn voter(&self) -> VoterKey {
            VoterKey {
                person_id: self.person.clone(),
                name: self.name.clone(),
                device_id: self.device.clone(),
                device_key: self.public(),
            }
        }
    }

    const NAMES: [&str; 6] = [
        "Nguyễn Văn An",
        "Trần Thị Bích Ngọc",
        "Lê Hoàng Yến",
        "Phạm Đức Thắng",
        "Võ Thị Ánh",
        "Đặng Quốc Bảo",
    ];

    pub fn question(secrecy: Secrecy) -> QuestionEntry {
        QuestionEntry {
            id: id(15),
            item_id: id(4),
            title: TITLE.into(),
            kind: QuestionKind::Motion,
            candidates: vec![],
            max_choices: 1,
            secrecy,
            base: Base::AllMembers,
            threshold: Threshold::MORE_THAN_HALF,
            tie: TieRule::ChairDecides,
            changeable: false,
            countdown_seconds: None,
        }
    }

    fn record(q: QuestionEntry, members: u32) -> ResultRecord {
        ResultRecord {
            format: RESULT_FORMAT.into(),
            node: "00000000000000000000000000000007".into(),
            meeting_id: id(3),
            meeting_title: "Kỳ họp thứ mười hai, Hội đồng nhân dân xã khóa XXI".into(),
            body_name: "Ủy ban nhân dân xã Tân Phú".into(),
            chair_id: Some(id(1001)),
            item_title: "Báo cáo tình hình kinh tế - xã hội".into(),
            question: q,
            nonce: "5a".repeat(32),
            opened_at: Some(time::macros::datetime!(2026-12-01 02:00:00 UTC)),
            closed_at: time::macros::datetime!(2026-12-01 02:04:10 UTC),
            electorate: Electorate {
                members,
                present: members,
            },
            method: Method::Electronic,
            outcome: Outcome::Motion(decide(
                Counts::default(),
                Electorate {
                    members,
                    present: members,
                },
                Base::AllMembers,
                Threshold::MORE_THAN_HALF,
                TieRule::ChairDecides,
                None,
            )),
            voters: vec![],
            ballots: vec![],
            participations: vec![],
            receipts: vec![],
        }
    }

    /// The i-th tablet's named ballot, signed, with its voter.
    fn cast_signed(r: &mut ResultRecord, t: &Tablet, i: usize, mark: Marked) {
        let bid = id(3000 + i as u32);
        let text = ballot_payload(
            &r.node,
            &r.meeting_id,
            &r.question.id,
            &r.nonce,
            &bid,
            &mark,
        );
        r.ballots.push(SignedBallot {
            id: bid,
            person_id: t.person.clone(),
            device_id: t.device.clone(),
            mark,
            signature: t.sign(&text),
        });
        r.voters.push(t.voter());
    }

    /// A named vote: `choices[i]` is the i-th tablet's.
    pub fn named(choices: &[Choice]) -> ResultRecord {
        let mut r = record(
            question(Secrecy::Named),
            choices.len().max(NAMES.len()) as u32,
        );
        for (i, c) in choices.iter().enumerate() {
            let t = Tablet::new(i as u32 + 1, NAMES[i % NAMES.len()]);
            let mark = Marked::Choice(*c);
            cast_signed(&mut r, &t, i, mark);
        }
        let marks: Vec<Marked> = r.ballots.iter().map(|b| b.mark.clone()).collect();
        r.outcome = Outcome::count(&r.question, &marks, r.electorate, chair_mark(&r));
        r
    }

    /// A named election of two among three: each tablet's chosen candidates (1-based).
    pub fn election(chosen: &[&[u32]]) -> ResultRecord {
        let mut q = question(Secrecy::Named);
        q.kind = QuestionKind::Election;
        q.title = "Bầu Phó Chủ tịch Ủy ban nhân dân xã nhiệm kỳ 2026-2031".into();
        q.max_choices = 2;
        q.candidates = ["Nguyễn Thị Hoa", "Trần Văn Minh", "Lê Thị Thu"]
            .iter()
            .enumerate()
            .map(|(i, n)| Candidate {
                id: id(50 + i as u32 + 1),
                name: (*n).into(),
            })
            .collect();
        let mut r = record(q, NAMES.len() as u32);
        for (i, picks) in chosen.iter().enumerate() {
            let t = Tablet::new(i as u32 + 1, NAMES[i % NAMES.len()]);
            let mark = Marked::Candidates(picks.iter().map(|p| id(50 + p)).collect());
            cast_signed(&mut r, &t, i, mark);
        }
        let marks: Vec<Marked> = r.ballots.iter().map(|b| b.mark.clone()).collect();
        r.outcome = Outcome::count(&r.question, &marks, r.electorate, None);
        r
    }

    /// A secret vote with `n` receipts per choice in `choices`.
    pub fn secret(choices: &[Choice]) -> ResultRecord {
        let mut r = record(
            question(Secrecy::Secret),
            choices.len().max(NAMES.len()) as u32,
        );
        for (i, c) in choices.iter().enumerate() {
            let t = Tablet::new(i as u32 + 1, NAMES[i % NAMES.len()]);
            let text =
                participation_payload(&r.node, &r.meeting_id, &r.question.id, &r.nonce, &t.person);
            r.participations.push(Participation {
                person_id: t.person.clone(),
                device_id: t.device.clone(),
                signature: t.sign(&text),
            });
            r.voters.push(t.voter());
            r.receipts.push(ReceiptMark {
                receipt: format!(
                    "{:064x}",
                    (i as u64 + 7).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                ),
                mark: Marked::Choice(*c),
            });
        }
        r.receipts.sort_by(|a, b| a.receipt.cmp(&b.receipt));
        let marks: Vec<Marked> = r.receipts.iter().map(|c| c.mark.clone()).collect();
        r.outcome = Outcome::count(&r.question, &marks, r.electorate, None);
        r
    }

    /// A hand count of a motion.
    pub fn manual(counts: Counts) -> ResultRecord {
        let mut r = record(question(Secrecy::Named), 6);
        r.method = Method::Manual {
            reason: "Mất điện, kiểm phiếu giơ tay".into(),
            entered_by: "thuky".into(),
            set_aside: 2,
        };
        r.outcome = Outcome::Motion(decide(
            counts,
            r.electorate,
            Base::AllMembers,
            Threshold::MORE_THAN_HALF,
            TieRule::ThresholdOnly,
            None,
        ));
        r
    }

    pub fn sign(b: &Node, record: ResultRecord) -> SignedResult {
        SignedResult {
            signature: b.signer.sign_json(&record).unwrap(),
            certificate: b.signer.certificate_pem().to_owned(),
            record,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use super::*;
    use crate::domain::vote::Choice::*;

    #[test]
    fn a_package_holds_the_six_files_and_reads_back_unchanged() {
        let b = node();
        let signed = sign(&b, fixture::named(&[Approve, Approve, Disapprove]));
        let zip = package(&signed, &b.root_pem).unwrap();
        let p = open(&zip).unwrap();
        assert_eq!(p.result_json.unwrap(), serde_json::to_vec(&signed).unwrap());
        assert_eq!(p.node_pem.unwrap(), signed.certificate.as_bytes());
        assert_eq!(p.root_pem.unwrap(), b.root_pem.as_bytes());
        let devices: Vec<DeviceEntry> = serde_json::from_slice(&p.devices_json.unwrap()).unwrap();
        assert_eq!(devices.len(), 3);
        assert_eq!(devices[0].public_key, signed.record.voters[0].device_key);
        assert!(p.result_pdf.unwrap().starts_with(b"%PDF-"));
        // The same result gives the same bytes.
        assert_eq!(zip, package(&signed, &b.root_pem).unwrap());
        let mut names: Vec<String> = {
            let z = zip::ZipArchive::new(std::io::Cursor::new(&zip)).unwrap();
            z.file_names().map(|n| n.unwrap().into_owned()).collect()
        };
        names.sort();
        assert_eq!(
            names,
            [
                README_TXT,
                DEVICES_JSON,
                NODE_PEM,
                ROOT_PEM,
                RESULT_JSON,
                RESULT_PDF
            ]
        );
    }

    #[test]
    fn the_readme_says_how_to_check_in_both_languages() {
        let b = node();
        let signed = sign(&b, fixture::secret(&[Approve]));
        let text = readme(&signed);
        assert!(text.contains("phonghop verify-vote ket-qua-bieu-quyet-2026-12-01-"));
        assert!(text.contains("Cách kiểm tra"));
        assert!(text.contains("To check it"));
        assert!(text.contains("chữ ký điện tử chuyên dùng"));
        assert!(!text.to_lowercase().contains("là chữ ký số"));
    }
}
