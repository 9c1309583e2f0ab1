//! The demo data behind `serve --demo`: the members of a commune People's Committee, their body,
//! a meeting tomorrow morning with a U-shaped seating plan, staff accounts with known passwords,
//! and a notice. For trying the box out, never for a real room.

use crate::domain::event::{
    BodyEntry, DocumentEntry, ItemEntry, LayoutEntry, MeetingEntry, PersonEntry,
};
use crate::domain::records::{
    Body, BodyKind, Document, DocumentKind, Id, Item, Layout, LayoutShape, MeetingStatus, Person,
    Seat, Version,
};
use crate::domain::{Actor, EventBody, NoticeText, Password, Role};
use crate::import;
use crate::service::{staff, Refusal, ServiceError};
use crate::store::{records, Store};
use time::{Duration, OffsetDateTime, Time, UtcOffset};

/// The member list shipped with the binary.
const MEMBERS_CSV: &[u8] = include_bytes!("../demo/thanh-vien-ubnd.csv");

/// One agenda item of the demo meeting and its document.
struct DemoItem {
    title: &'static str,
    presenter: &'static str,
    minutes: u16,
    document: &'static str,
    number: &'static str,
    file: &'static str,
    bytes: &'static [u8],
}

/// The demo meeting's agenda.
const AGENDA: [DemoItem; 3] = [
    DemoItem {
        title: "Khai mạc, thông qua chương trình",
        presenter: "Chủ tịch UBND xã",
        minutes: 10,
        document: "Giấy mời họp",
        number: "35/GM-UBND",
        file: "giay-moi-hop.pdf",
        bytes: include_bytes!("../demo/giay-moi-hop.pdf"),
    },
    DemoItem {
        title: "Báo cáo tình hình kinh tế - xã hội",
        presenter: "Phó Chủ tịch UBND xã",
        minutes: 45,
        document: "Báo cáo tình hình kinh tế - xã hội",
        number: "120/BC-UBND",
        file: "bao-cao-kinh-te-xa-hoi.pdf",
        bytes: include_bytes!("../demo/bao-cao-kinh-te-xa-hoi.pdf"),
    },
    DemoItem {
        title: "Tờ trình dự toán ngân sách",
        presenter: "Công chức Tài chính - Kế toán",
        minutes: 30,
        document: "Tờ trình dự toán ngân sách",
        number: "12/TTr-UBND",
        file: "to-trinh-du-toan.pdf",
        bytes: include_bytes!("../demo/to-trinh-du-toan.pdf"),
    },
];

/// Staff accounts anyone trying the box can sign in with.
pub const ACCOUNTS: [(&str, &str, Role, &str); 2] = [
    (
        "thuky",
        "Đỗ Minh Quân (thư ký)",
        Role::Secretary,
        "thuky-demo",
    ),
    (
        "chutri",
        "Lò Văn Thành (chủ trì)",
        Role::Chair,
        "chutri-demo",
    ),
];

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(e.to_string())
}

/// A U-shaped table: the chair's side at the top, the two arms down the room.
fn u_layout(n: usize) -> Layout {
    let top = n.div_ceil(3);
    let side = (n - top).div_ceil(2);
    let mut seats = Vec::new();
    let mut push = |x: usize, y: usize| {
        let i = seats.len() + 1;
        seats.push(Seat {
            id: format!("S{i}"),
            label: format!("Ghế {i}"),
            x: u16::try_from(x).unwrap_or(1000),
            y: u16::try_from(y).unwrap_or(1000),
        });
    };
    for i in 0..top {
        push(200 + i * 600 / top.max(1), 120);
    }
    for i in 0..side {
        push(120, 260 + i * 600 / side.max(1));
    }
    for i in 0..(n - top - side) {
        push(880, 260 + i * 600 / side.max(1));
    }
    Layout {
        shape: LayoutShape::U,
        seats,
    }
}

/// Seeds the demo once; a box that already has people is left as it is.
pub fn seed(store: &Store) -> Result<(), ServiceError> {
    for (user, name, role, pw) in ACCOUNTS {
        let password = Password::parse(pw).map_err(internal)?;
        match staff::create_account(store, Actor::Console, user, name, vec![role], &password) {
            Ok(_) | Err(ServiceError::Refused(Refusal::AccountTaken(_))) => {}
            Err(e) => return Err(e),
        }
    }
    if store.room()?.notice.is_none() {
        let text = NoticeText::parse(
            "Chào mừng đến phòng họp không giấy. Cuộc họp sẽ bắt đầu lúc 8 giờ 00.",
        )
        .map_err(internal)?;
        store.append(Actor::Console, vec![EventBody::NoticePosted { text }])?;
    }
    if !store.read(records::people)?.is_empty() {
        return Ok(());
    }
    let preview = import::preview(MEMBERS_CSV, "thanh-vien-ubnd.csv", None).map_err(internal)?;
    let people: Vec<Person> = preview
        .sheet
        .rows
        .into_iter()
        .filter_map(|r| r.person.ok())
        .map(|d| Person {
            id: Id::random(),
            name: d.name,
            position: d.position,
            unit: d.unit,
            phone: d.phone,
        })
        .collect();
    let (quorum, pass) = BodyKind::Ubnd.default_rules();
    let body = Body {
        id: Id::random(),
        name: "UBND xã Mường Báng".into(),
        kind: BodyKind::Ubnd,
        quorum,
        pass,
        members: people.iter().map(|p| p.id.clone()).collect(),
        publish_lead_days: 3,
    };
    // Tomorrow at 8:00, Vietnam time.
    let vn = UtcOffset::from_hms(7, 0, 0).map_err(internal)?;
    let tomorrow = OffsetDateTime::now_utc().to_offset(vn).date() + Duration::days(1);
    let starts_at = tomorrow
        .with_time(Time::from_hms(8, 0, 0).map_err(internal)?)
        .assume_offset(vn);
    let meeting = MeetingEntry {
        id: Id::random(),
        body_id: body.id.clone(),
        title: "Phiên họp UBND xã thường kỳ".into(),
        starts_at,
        chair_id: people.first().map(|p| p.id.clone()),
        members: body.members.clone(),
        guests: Vec::new(),
        place: "Phòng họp UBND xã Mường Báng".into(),
        status: MeetingStatus::Draft,
        published_at: None,
        review_comment: None,
        agenda: Vec::new(),
        documents: Vec::new(),
    };
    let layout = u_layout(people.len().max(8));
    let assignments = layout
        .seats
        .iter()
        .zip(&people)
        .map(|(s, p)| (s.id.clone(), p.id.clone()))
        .collect();
    let meeting_id = meeting.id.clone();
    let mut agenda_events = Vec::new();
    let now = OffsetDateTime::now_utc();
    for DemoItem {
        title,
        presenter,
        minutes,
        document: doc_title,
        number,
        file,
        bytes,
    } in AGENDA
    {
        let item = Item {
            id: Id::random(),
            title: title.into(),
            presenter: presenter.into(),
            duration_minutes: Some(minutes),
            description: String::new(),
            presenter_id: None,
            updated_after_publish: false,
        };
        let blob = store.blobs().put_bytes(bytes)?;
        let document = Document {
            id: Id::random(),
            item_id: item.id.clone(),
            title: doc_title.into(),
            number: Some(number.into()),
            kind: DocumentKind::Pdf,
            restricted_to: None,
            versions: vec![Version {
                n: 1,
                sha256: blob.sha256,
                size: blob.size,
                file_name: file.into(),
                content_type: "application/pdf".into(),
                uploaded_at: now,
            }],
        };
        agenda_events.push(EventBody::ItemAdded {
            meeting_id: meeting_id.clone(),
            item: ItemEntry::from(&item),
        });
        agenda_events.push(EventBody::DocumentAdded {
            meeting_id: meeting_id.clone(),
            document: DocumentEntry::from(&document),
        });
        // A named motion on each item, ready for the chair to open.
        agenda_events.push(EventBody::QuestionAdded {
            meeting_id: meeting_id.clone(),
            question: crate::domain::vote::QuestionEntry {
                id: Id::random(),
                item_id: item.id.clone(),
                title: format!("Thông qua: {title}"),
                kind: crate::domain::vote::QuestionKind::Motion,
                candidates: Vec::new(),
                max_choices: 1,
                secrecy: crate::domain::vote::Secrecy::Named,
                base: crate::domain::vote::Base::AllMembers,
                threshold: body.pass,
                tie: crate::domain::vote::TieRule::ChairDecides,
                changeable: false,
                countdown_seconds: None,
            },
        });
    }
    let mut events: Vec<EventBody> = people
        .into_iter()
        .map(|person| EventBody::PersonAdded {
            person: PersonEntry::from(&person),
        })
        .collect();
    events.extend([
        EventBody::BodyCreated {
            body: BodyEntry::from(&body),
        },
        EventBody::LayoutSaved {
            layout: LayoutEntry::from(&layout),
        },
        EventBody::MeetingCreated { meeting },
        EventBody::SeatsAssigned {
            meeting_id: meeting_id.clone(),
            assignments,
        },
    ]);
    events.extend(agenda_events);
    // Reviewed and published, so delegates' tablets have it at once.
    events.extend([
        EventBody::MeetingSubmitted {
            meeting_id: meeting_id.clone(),
        },
        EventBody::MeetingApproved {
            meeting_id: meeting_id.clone(),
        },
        EventBody::MeetingPublished { meeting_id },
    ]);
    store.append(Actor::Console, events)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RoomName;
    use crate::store::NodeRole;

    #[test]
    fn the_demo_has_a_meeting_with_everyone_seated_and_seeds_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(
            dir.path(),
            &RoomName::parse("Demo").unwrap(),
            NodeRole::Room,
        )
        .unwrap();
        seed(&store).unwrap();
        let head = store.head_seq().unwrap();
        seed(&store).unwrap();
        assert_eq!(
            store.head_seq().unwrap(),
            head,
            "a second seed adds nothing"
        );
        let (people, meetings, layout) = store
            .read(|t| {
                Ok((
                    records::people(t)?,
                    records::meetings(t)?,
                    records::layout(t)?,
                ))
            })
            .unwrap();
        assert_eq!(people.len(), 7);
        assert_eq!(meetings.len(), 1);
        assert_eq!(meetings[0].status, MeetingStatus::Published);
        assert_eq!(meetings[0].agenda.len(), 3);
        assert_eq!(meetings[0].documents.len(), 3);
        for d in &meetings[0].documents {
            assert!(store.blobs().contains(&d.versions[0].sha256));
        }
        let seats = store.read(|t| records::seats(t, &meetings[0].id)).unwrap();
        assert_eq!(seats.len(), 7);
        let layout = layout.unwrap();
        assert!(layout.clone().validate().is_ok());
        assert_eq!(layout.seats.len(), 8);
    }
}
