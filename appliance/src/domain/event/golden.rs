//! Golden files: the exact JSON of one sample of every event kind, as it is stored in a log.
//! A change to a payload, a value type or a kind string that would alter stored bytes makes
//! these tests fail; old logs must keep decoding, so the fix is a new kind (see
//! [`EventBody::KINDS`]), never an edit of the golden file.
//!
//! `PHONGHOP_BLESS=1 cargo test golden` writes the files for a kind that has none yet; it never
//! overwrites an existing one.

use super::*;
use crate::domain::person::{PersonName, Phone, Position, Unit};
use crate::domain::quorum::Threshold;
use crate::domain::records::{BodyKind, DocumentKind, LayoutShape, MeetingStatus};
use crate::domain::vote::{
    Base, Choice, Counts, Electorate, Marked, Method, Outcome, Participation, QuestionKind,
    ResultRecord, Secrecy, SignedBallot, SignedResult, TieRule, VoterKey,
};
use std::collections::BTreeSet;
use std::path::PathBuf;
use time::macros::datetime;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("appliance/src/domain/event/golden")
}

fn id(n: u8) -> Id {
    Id::parse(&format!("{:032x}", n)).unwrap()
}

fn key() -> crate::domain::device::DeviceKey {
    use base64::Engine;
    let secret = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
    let point =
        p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&secret.public_key(), false);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(point.as_bytes());
    crate::domain::device::DeviceKey::parse(&b64).unwrap()
}

fn version() -> VersionEntry {
    VersionEntry {
        n: 1,
        sha256: "ab".repeat(32),
        size: 48213,
        file_name: "Tờ trình số 12.pdf".into(),
        content_type: "application/pdf".into(),
        uploaded_at: datetime!(2026-11-20 02:30:00 UTC),
    }
}

fn item() -> ItemEntry {
    ItemEntry {
        id: id(4),
        title: "Dự toán ngân sách xã năm 2027".into(),
        presenter: "Phó Chủ tịch UBND xã".into(),
        duration_minutes: Some(30),
        description: "Thảo luận và biểu quyết".into(),
        presenter_id: None,
    }
}

/// One sample of every kind, in the order of [`EventBody::KINDS`].
pub(crate) fn samples() -> Vec<EventBody> {
    let starts = datetime!(2026-12-01 01:00:00 UTC);
    vec![
        EventBody::NodeInitialised {
            room_name: RoomName::parse("Phòng họp UBND xã Tân Phú").unwrap(),
            role: "room".into(),
        },
        EventBody::RoomRenamed {
            name: RoomName::parse("Phòng họp số 2").unwrap(),
        },
        EventBody::NoticePosted {
            text: NoticeText::parse("Nghỉ giải lao 15 phút").unwrap(),
        },
        EventBody::NoticeCleared {},
        EventBody::AccountCreated {
            username: Username::parse("thuky").unwrap(),
            display_name: "Thư ký".into(),
            roles: vec![Role::Secretary],
        },
        EventBody::PersonAdded {
            person: PersonEntry {
                id: id(1),
                name: PersonName::parse("Nguyễn Thị Lan").unwrap(),
                position: Position::parse("Chủ tịch UBND xã").unwrap(),
                unit: Unit::parse("UBND xã Tân Phú").unwrap(),
                phone: Phone::parse("0912 345 678").unwrap(),
            },
        },
        EventBody::BodyCreated {
            body: BodyEntry {
                id: id(2),
                name: "UBND xã Tân Phú".into(),
                kind: BodyKind::Ubnd,
                quorum: Threshold::TWO_THIRDS,
                pass: Threshold::MORE_THAN_HALF,
                members: vec![id(1)],
                publish_lead_days: 3,
            },
        },
        EventBody::BodyMembersSet {
            body_id: id(2),
            members: vec![id(1), id(9)],
        },
        EventBody::BodyRulesSet {
            body_id: id(2),
            name: "UBND xã Tân Phú".into(),
            quorum: Threshold::TWO_THIRDS,
            pass: Threshold::MORE_THAN_HALF,
            publish_lead_days: 5,
        },
        EventBody::MeetingCreated {
            meeting: MeetingEntry {
                id: id(3),
                body_id: id(2),
                title: "Họp UBND xã thường kỳ tháng 12".into(),
                starts_at: starts,
                chair_id: Some(id(1)),
                members: vec![id(1), id(9)],
                guests: vec![id(10)],
                place: "Hội trường UBND xã".into(),
                status: MeetingStatus::Draft,
                published_at: None,
                review_comment: None,
                agenda: vec![],
                documents: vec![],
            },
        },
        EventBody::PairingCodeIssued {
            person_id: id(1),
            expires_at: datetime!(2026-11-30 08:10:00 UTC),
        },
        EventBody::DevicePaired {
            device: DeviceEntry {
                id: id(5),
                person_id: id(1),
                label: "iPad của chị Lan".into(),
                key: key(),
                paired_at: datetime!(2026-11-30 08:01:00 UTC),
                revoked_at: None,
            },
        },
        EventBody::DeviceRevoked { device_id: id(5) },
        EventBody::PinSet { person_id: id(1) },
        EventBody::PinReset { person_id: id(1) },
        EventBody::AttendanceMarked {
            meeting_id: id(3),
            person_id: id(9),
            status: AttendanceStatus::Excused,
            at: Some(datetime!(2026-11-30 09:00:00 UTC)),
            reason: Some("Đi công tác huyện".into()),
        },
        EventBody::LayoutSaved {
            layout: LayoutEntry {
                shape: LayoutShape::U,
                seats: vec![SeatEntry {
                    id: "A1".into(),
                    label: "Ghế 1".into(),
                    x: 100,
                    y: 200,
                }],
            },
        },
        EventBody::SeatsAssigned {
            meeting_id: id(3),
            assignments: [("A1".to_owned(), id(1))].into_iter().collect(),
        },
        EventBody::MeetingDetailsSet {
            meeting_id: id(3),
            title: "Họp UBND xã thường kỳ tháng 12".into(),
            starts_at: starts,
            place: "Phòng họp tầng 2".into(),
            chair_id: Some(id(1)),
        },
        EventBody::ItemAdded {
            meeting_id: id(3),
            item: item(),
        },
        EventBody::ItemUpdated {
            meeting_id: id(3),
            item: item(),
        },
        EventBody::ItemRemoved {
            meeting_id: id(3),
            item_id: id(4),
        },
        EventBody::AgendaReordered {
            meeting_id: id(3),
            order: vec![id(4), id(11)],
        },
        EventBody::DocumentAdded {
            meeting_id: id(3),
            document: DocumentEntry {
                id: id(6),
                item_id: id(4),
                title: "Tờ trình dự toán".into(),
                number: Some("12/TTr-UBND".into()),
                kind: DocumentKind::Pdf,
                restricted_to: None,
                versions: vec![version()],
            },
        },
        EventBody::DocumentVersionAdded {
            meeting_id: id(3),
            document_id: id(6),
            version: VersionEntry { n: 2, ..version() },
            restricted_to: Some(vec![id(1)]),
        },
        EventBody::DocumentUpdated {
            meeting_id: id(3),
            document_id: id(6),
            title: "Tờ trình dự toán (sửa)".into(),
            number: None,
            restricted_to: Some(vec![id(1)]),
            was_restricted_to: None,
        },
        EventBody::DocumentRemoved {
            meeting_id: id(3),
            document_id: id(6),
            restricted_to: None,
        },
        EventBody::MeetingSubmitted { meeting_id: id(3) },
        EventBody::MeetingApproved { meeting_id: id(3) },
        EventBody::MeetingSentBack {
            meeting_id: id(3),
            comment: "Bổ sung báo cáo tài chính".into(),
        },
        EventBody::MeetingPublished { meeting_id: id(3) },
        EventBody::AccountPasswordChanged {
            username: Username::parse("thuky").unwrap(),
        },
        EventBody::AccountPasswordReset {
            username: Username::parse("thuky").unwrap(),
        },
        EventBody::AccountDisabled {
            username: Username::parse("thuky").unwrap(),
        },
        EventBody::AccountEnabled {
            username: Username::parse("thuky").unwrap(),
        },
        EventBody::AccountSessionsEnded {
            username: Username::parse("thuky").unwrap(),
        },
        EventBody::AccountRemoved {
            username: Username::parse("thuky").unwrap(),
        },
        EventBody::MeetingStarted { meeting_id: id(3) },
        EventBody::MeetingPaused {
            meeting_id: id(3),
            reason: "Nghỉ giải lao 15 phút".into(),
        },
        EventBody::MeetingResumed { meeting_id: id(3) },
        EventBody::MeetingEnded { meeting_id: id(3) },
        EventBody::ItemOpened {
            meeting_id: id(3),
            item_id: id(11),
        },
        EventBody::SpeechRequested {
            meeting_id: id(3),
            request: SpeechRequestEntry {
                id: id(12),
                person_id: id(9),
                item_id: id(11),
                kind: crate::domain::live::SpeechKind::Question,
                replies_to: None,
                before: None,
            },
        },
        EventBody::SpeechWithdrawn {
            meeting_id: id(3),
            request_id: id(12),
        },
        EventBody::SpeechReordered {
            meeting_id: id(3),
            order: vec![id(13), id(14)],
        },
        EventBody::SpeechTimeSet {
            meeting_id: id(3),
            request_id: id(13),
            seconds: 240,
        },
        EventBody::SpeechLimitsSet {
            meeting_id: id(3),
            limits: crate::domain::live::SpeechLimits::default(),
        },
        EventBody::SpeechStarted {
            meeting_id: id(3),
            request_id: id(13),
            seconds: 180,
        },
        EventBody::SpeechEnded {
            meeting_id: id(3),
            request_id: id(13),
        },
        EventBody::FollowSet {
            meeting_id: id(3),
            document_id: id(6),
            page: 3,
        },
        EventBody::FollowStopped { meeting_id: id(3) },
        EventBody::ConsoleDelegated {
            meeting_id: id(3),
            username: Some(Username::parse("thuky").unwrap()),
        },
        EventBody::DisplayPaired {
            display: DisplayEntry {
                id: id(14),
                label: "Máy chiếu phòng họp".into(),
                paired_at: datetime!(2026-11-30 07:45:00 UTC),
            },
        },
        EventBody::DisplayRevoked { display_id: id(14) },
        EventBody::QuestionAdded {
            meeting_id: id(3),
            question: question(),
        },
        EventBody::QuestionUpdated {
            meeting_id: id(3),
            question: question(),
        },
        EventBody::QuestionRemoved {
            meeting_id: id(3),
            question_id: id(16),
        },
        EventBody::VoteOpened {
            meeting_id: id(3),
            question_id: id(15),
            question: question(),
            nonce: "5a".repeat(32),
            electorate: Electorate {
                members: 2,
                present: 2,
            },
            closes_at: Some(datetime!(2026-12-01 02:05:00 UTC)),
        },
        EventBody::BallotCast {
            meeting_id: id(3),
            question_id: id(15),
            ballot: ballot(),
        },
        EventBody::VoteParticipated {
            meeting_id: id(3),
            question_id: id(15),
            participation: Participation {
                person_id: id(9),
                device_id: id(18),
                signature: "cGFydGljaXBhdGlvbg".into(),
            },
        },
        EventBody::VoteClosed {
            meeting_id: id(3),
            question_id: id(15),
            result: Box::new(SignedResult {
                record: ResultRecord {
                    format: crate::domain::vote::RESULT_FORMAT.into(),
                    node: "00000000000000000000000000000007".into(),
                    meeting_id: id(3),
                    meeting_title: "Họp UBND xã tháng 12".into(),
                    body_name: "UBND xã Tân Phú".into(),
                    chair_id: Some(id(1)),
                    item_title: item().title,
                    question: question(),
                    nonce: "5a".repeat(32),
                    opened_at: Some(datetime!(2026-12-01 02:00:00 UTC)),
                    closed_at: datetime!(2026-12-01 02:04:10 UTC),
                    electorate: Electorate {
                        members: 2,
                        present: 2,
                    },
                    method: Method::Electronic,
                    outcome: Outcome::Motion(crate::domain::vote::decide(
                        Counts {
                            approve: 1,
                            disapprove: 0,
                            abstain: 0,
                        },
                        Electorate {
                            members: 2,
                            present: 2,
                        },
                        Base::AllMembers,
                        Threshold::MORE_THAN_HALF,
                        TieRule::ChairDecides,
                        Some(Choice::Approve),
                    )),
                    voters: vec![VoterKey {
                        person_id: id(1),
                        name: "Nguyễn Văn An".into(),
                        device_id: id(5),
                        device_key: key(),
                    }],
                    ballots: vec![ballot()],
                    participations: vec![],
                    receipts: vec![],
                },
                signature: "bm9kZS1zaWduYXR1cmU".into(),
                certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
                    .into(),
            }),
        },
        EventBody::AnnotationSaved {
            meeting_id: id(3),
            annotation: crate::domain::annotation::AnnotationEntry {
                id: id(19),
                owner_id: id(1),
                document_id: id(6),
                version_sha256: "ab".repeat(32),
                page: 2,
                kind: crate::domain::annotation::AnnotationKind::Highlight,
                color: "yellow".into(),
                width: 0,
                rects: vec![[7_200, 70_000, 30_000, 71_200]],
                strokes: vec![],
                text: "dự toán thu ngân sách".into(),
                sharing: crate::domain::annotation::Sharing::Meeting,
                rev: 3,
                device_id: id(5),
                deleted: false,
            },
            shared_before: crate::domain::annotation::Sharing::Private,
        },
        EventBody::ItemNoteSaved {
            meeting_id: id(3),
            note: crate::domain::annotation::ItemNoteEntry {
                item_id: id(4),
                owner_id: id(1),
                text: "Hỏi lại khoản chi sửa đường liên thôn".into(),
                rev: 1,
                device_id: id(5),
            },
        },
        EventBody::EnrolmentIssued {
            token_id: id(9),
            room: "Phòng họp UBND xã Tân Phú".into(),
            expires_at: datetime!(2026-11-21 02:30:00 UTC),
        },
        EventBody::BoxEnrolled {
            token_id: id(9),
            node_id: NodeId::parse(&"c".repeat(32)).unwrap(),
            room: "Phòng họp UBND xã Tân Phú".into(),
            cert_serial: "4a".repeat(16),
            cert_not_after: datetime!(2027-11-20 02:30:00 UTC),
        },
        EventBody::BoxRevoked {
            node_id: NodeId::parse(&"c".repeat(32)).unwrap(),
            reason: "Máy bị mất".into(),
        },
        EventBody::NodeEnrolled {
            hub_node_id: NodeId::parse(&"d".repeat(32)).unwrap(),
            hub_url: "https://trungtam.example.gov.vn".into(),
            hub_root_sha256: "ef".repeat(32),
        },
        EventBody::LogCheckpoint {
            seq: 41,
            hash: Hash::of(b"event 41"),
            signature: "MEUCIQ".into(),
            certificate_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
                .into(),
        },
        EventBody::AnnotationSealed {
            meeting_id: id(3),
            owner_id: id(1),
            document_id: id(6),
            annotation_id: id(8),
            shared_before: crate::domain::annotation::Sharing::Private,
            sealed: "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA".into(),
        },
        EventBody::ItemNoteSealed {
            meeting_id: id(3),
            owner_id: id(1),
            sealed: "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA".into(),
        },
        EventBody::SyncConflict {
            origin: NodeId::parse(&"c".repeat(32)).unwrap(),
            seq: 57,
            reason: "fork".into(),
            ours: Some(Hash::of(b"ours")),
            theirs: Hash::of(b"theirs"),
        },
        EventBody::MeetingHandedOver {
            meeting_id: id(3),
            node_id: NodeId::parse(&"c".repeat(32)).unwrap(),
            room: "Phòng họp UBND xã Tân Phú".into(),
            snapshot: Box::new(snapshot()),
        },
        EventBody::MeetingAdopted {
            from: EventRef {
                origin: NodeId::parse(&"d".repeat(32)).unwrap(),
                seq: 88,
            },
            snapshot: Box::new(snapshot()),
        },
    ]
}

fn snapshot() -> HandoverSnapshot {
    HandoverSnapshot {
        meeting: MeetingEntry {
            id: id(3),
            body_id: id(2),
            title: "Họp UBND xã thường kỳ tháng 12".into(),
            starts_at: datetime!(2026-12-01 01:00:00 UTC),
            chair_id: Some(id(1)),
            members: vec![id(1), id(9)],
            guests: vec![id(10)],
            place: "Hội trường UBND xã".into(),
            status: MeetingStatus::Published,
            published_at: Some(datetime!(2026-11-25 03:00:00 UTC)),
            review_comment: None,
            agenda: vec![ItemEntry {
                presenter_id: Some(id(9)),
                ..item()
            }],
            documents: vec![DocumentEntry {
                id: id(6),
                item_id: id(4),
                title: "Tờ trình dự toán".into(),
                number: Some("12/TTr-UBND".into()),
                kind: DocumentKind::Pdf,
                restricted_to: None,
                versions: vec![version()],
            }],
        },
        body: BodyEntry {
            id: id(2),
            name: "UBND xã Tân Phú".into(),
            kind: BodyKind::Ubnd,
            quorum: Threshold::TWO_THIRDS,
            pass: Threshold::MORE_THAN_HALF,
            members: vec![id(1), id(9)],
            publish_lead_days: 3,
        },
        people: vec![PersonEntry {
            id: id(1),
            name: PersonName::parse("Nguyễn Văn Minh").unwrap(),
            position: Position::parse("Chủ tịch UBND xã").unwrap(),
            unit: None,
            phone: Phone::parse("0912 345 678").unwrap(),
        }],
        questions: vec![question()],
    }
}

fn question() -> crate::domain::vote::QuestionEntry {
    crate::domain::vote::QuestionEntry {
        id: id(15),
        item_id: id(4),
        title: "Thông qua dự toán ngân sách xã năm 2027".into(),
        kind: QuestionKind::Motion,
        candidates: vec![],
        max_choices: 1,
        secrecy: Secrecy::Named,
        base: Base::AllMembers,
        threshold: Threshold::MORE_THAN_HALF,
        tie: TieRule::ChairDecides,
        changeable: false,
        countdown_seconds: Some(300),
    }
}

fn ballot() -> SignedBallot {
    SignedBallot {
        id: id(17),
        person_id: id(1),
        device_id: id(5),
        mark: Marked::Choice(Choice::Approve),
        signature: "YmFsbG90LXNpZ25hdHVyZQ".into(),
    }
}

fn envelope(body: EventBody) -> EventEnvelope {
    EventEnvelope {
        v: ENVELOPE_VERSION,
        origin: NodeId::parse("0123456789abcdef0123456789abcdef").unwrap(),
        seq: 42,
        prev: Hash::of(b"previous event"),
        at: datetime!(2026-11-30 08:15:02 UTC),
        actor: Actor::Staff {
            username: "thuky".into(),
        },
        body,
    }
}

#[test]
fn every_kind_has_one_sample_in_order() {
    let kinds: Vec<&str> = samples().iter().map(EventBody::kind).collect();
    let listed: Vec<&str> = EventBody::KINDS.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        kinds, listed,
        "add a sample for every new kind, in KINDS order"
    );
    let unique: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(unique.len(), listed.len(), "a kind string is listed twice");
}

#[test]
fn stored_bytes_of_every_kind_match_the_golden_files() {
    let bless = std::env::var_os("PHONGHOP_BLESS").is_some();
    let mut failures = Vec::new();
    for body in samples() {
        let kind = body.kind();
        let e = envelope(body);
        let bytes = e.encode().unwrap();
        let path = dir().join(format!("{kind}.json"));
        match std::fs::read(&path) {
            Ok(golden) => {
                // The file holds the bytes plus a final newline for editors.
                let golden = golden.strip_suffix(b"\n").unwrap_or(&golden);
                if golden != bytes.as_slice() {
                    failures.push(format!(
                        "{kind}: stored bytes changed\n  golden: {}\n  now:    {}",
                        String::from_utf8_lossy(golden),
                        String::from_utf8_lossy(&bytes)
                    ));
                }
                // Old bytes must still decode to the same event.
                match EventEnvelope::decode(golden) {
                    Ok(d) if d == e => {}
                    Ok(d) => failures.push(format!("{kind}: golden decodes to {d:?}")),
                    Err(err) => failures.push(format!("{kind}: golden no longer decodes: {err}")),
                }
            }
            Err(_) if bless => {
                let mut out = bytes.clone();
                out.push(b'\n');
                std::fs::write(&path, out).unwrap();
            }
            Err(err) => failures.push(format!(
                "{kind}: no golden file at {} ({err}); run with PHONGHOP_BLESS=1 to write it",
                path.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_golden_file_is_left_without_its_kind() {
    let listed: BTreeSet<String> = EventBody::KINDS
        .iter()
        .map(|(k, _)| format!("{k}.json"))
        .collect();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            listed.contains(&name),
            "{name} has no kind any more: old logs hold it, so its variant must stay"
        );
    }
}
