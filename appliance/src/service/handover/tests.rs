use super::*;
use crate::domain::records::MeetingStatus;
use crate::domain::{RoomName, Username};
use crate::service::{meetings, prepare};
use crate::store::Account;
use time::OffsetDateTime;

fn staff(user: &str, role: Role) -> Caller {
    Caller::Staff(Account {
        username: Username::parse(user).unwrap(),
        display_name: user.into(),
        roles: vec![role],
        created_at: OffsetDateTime::now_utc(),
        disabled: false,
        password_set_at: None,
    })
}

fn node(dir: &std::path::Path, role: NodeRole) -> Store {
    Store::init(dir, &RoomName::parse("Phòng họp").unwrap(), role).unwrap()
}

/// Records at the hub that `box_id` enrolled, as `box.enrolled` does.
fn enrol(hub: &Store, box_id: &NodeId, room: &str) {
    hub.append(
        Actor::Node,
        vec![EventBody::BoxEnrolled {
            token_id: Id::random(),
            node_id: box_id.clone(),
            room: room.into(),
            cert_serial: "01".into(),
            cert_not_after: OffsetDateTime::now_utc() + time::Duration::days(365),
        }],
    )
    .unwrap();
}

fn refused(r: Result<impl std::fmt::Debug, ServiceError>) -> Refusal {
    match r {
        Err(ServiceError::Refused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A hub with the demo's people, body and published meeting (real PDFs, questions), a room box
/// enrolled with it, and the meeting's id.
fn hub_and_box() -> (tempfile::TempDir, Store, Store, Id) {
    let dir = tempfile::tempdir().unwrap();
    let hub = node(&dir.path().join("hub"), NodeRole::Hub);
    crate::demo::seed(&hub).unwrap();
    let room = node(&dir.path().join("box"), NodeRole::Room);
    enrol(&hub, room.node_id(), "Phòng họp UBND xã Tân Phú");
    let mid = hub.read(records::meeting_headers).unwrap().remove(0).id;
    (dir, hub, room, mid)
}

fn handover_event(hub: &Store) -> EventEnvelope {
    hub.events_after(0, usize::MAX)
        .unwrap()
        .into_iter()
        .find(|e| e.body.kind() == "meeting.handed_over")
        .unwrap()
}

#[test]
fn a_handed_over_meeting_is_adopted_whole_once_and_the_hub_changes_it_no_more() {
    let (_dir, hub, room, mid) = hub_and_box();
    let sec = staff("thuky", Role::Secretary);
    let me = room.node_id().clone();
    let before = hub.read(|t| records::meeting(t, &mid)).unwrap().unwrap();
    assert_eq!(before.status, MeetingStatus::Published);
    assert!(!before.documents.is_empty());

    let header = hand_over(&hub, &sec, &mid, me.as_str()).unwrap();
    let to = header.handed_over_to.unwrap();
    assert_eq!(
        (&to.node, to.room.as_str()),
        (&me, "Phòng họp UBND xã Tân Phú")
    );

    // The hub refuses every change from now on, whatever the route.
    assert_eq!(
        refused(hand_over(&hub, &sec, &mid, me.as_str())),
        Refusal::HandedOver
    );
    let details = prepare::Details {
        title: Some("Đổi tên".into()),
        starts_at: None,
        place: None,
        chair_id: None,
    };
    assert_eq!(
        refused(prepare::set_details(&hub, &sec, &mid, details)),
        Refusal::HandedOver
    );
    let item = prepare::ItemInput {
        title: Some("Mục mới".into()),
        ..Default::default()
    };
    assert_eq!(
        refused(prepare::add_item(&hub, &sec, &mid, &item)),
        Refusal::HandedOver
    );
    let doc = &before.documents[0];
    assert_eq!(
        refused(prepare::plan_version(&hub, &sec, &doc.id, "moi.pdf")),
        Refusal::HandedOver
    );
    let chair = staff("chutri", Role::Chair);
    assert_eq!(
        refused(crate::service::live::start(&hub, &chair, &mid)),
        Refusal::HandedOver
    );
    // Underneath the commands, the hub's store itself takes no event of that meeting.
    let head = hub.head_seq().unwrap();
    let r = hub.append(
        Actor::Node,
        vec![EventBody::MeetingSentBack {
            meeting_id: mid.clone(),
            comment: "x".into(),
        }],
    );
    assert!(matches!(r, Err(StoreError::MeetingHandedOver)), "{r:?}");
    assert_eq!(hub.head_seq().unwrap(), head);

    let ev = handover_event(&hub);
    let EventBody::MeetingHandedOver { snapshot, .. } = &ev.body else {
        unreachable!()
    };
    // The snapshot names every person of the meeting, with their fields.
    let people: BTreeSet<&Id> = snapshot.people.iter().map(|p| &p.id).collect();
    for p in before
        .members
        .iter()
        .chain(&before.guests)
        .chain(&before.chair_id)
    {
        assert!(people.contains(p), "person {p} missing from the snapshot");
    }
    assert_eq!(snapshot.meeting.documents.len(), before.documents.len());
    assert!(
        !snapshot.questions.is_empty(),
        "the demo prepares questions"
    );

    // What the hub grants the box and what the box fetches: the same pure answer.
    let granted: BTreeSet<String> = blobs_of(&me, &ev).into_iter().map(|(s, _)| s).collect();
    let all: BTreeSet<String> = before
        .documents
        .iter()
        .flat_map(|d| d.versions.iter().map(|v| v.sha256.clone()))
        .collect();
    assert_eq!(granted, all);
    assert!(blobs_of(&NodeId::random(), &ev).is_empty());
    // A box the event is not for: nothing to fetch, nothing to adopt.
    let other = NodeId::random();
    assert!(blobs_needed(&room, &other, &ev).unwrap().is_empty());
    let room_head = room.head_seq().unwrap();
    adopt(&room, &other, &ev.origin, ev.seq, &ev).unwrap();
    assert_eq!(room.head_seq().unwrap(), room_head);

    // The box needs the documents' files first, and refuses without them, writing nothing.
    let needed = blobs_needed(&room, &me, &ev).unwrap();
    let expected: BTreeSet<String> = before
        .documents
        .iter()
        .flat_map(|d| d.versions.iter().map(|v| v.sha256.clone()))
        .collect();
    assert_eq!(
        needed
            .iter()
            .map(|(s, _)| s.clone())
            .collect::<BTreeSet<_>>(),
        expected
    );
    assert!(matches!(
        adopt(&room, &me, &ev.origin, ev.seq, &ev),
        Err(ServiceError::Conflict(_))
    ));
    assert_eq!(room.head_seq().unwrap(), room_head);
    for (sha, _) in &needed {
        let bytes = std::fs::read(hub.blobs().path(sha).unwrap()).unwrap();
        room.blobs().put_bytes(&bytes).unwrap();
    }
    assert!(blobs_needed(&room, &me, &ev).unwrap().is_empty());

    adopt(&room, &me, &ev.origin, ev.seq, &ev).unwrap();
    let adopted_at = room.head_seq().unwrap();
    assert_eq!(adopted_at, room_head + 1);
    // Again (the pull loop after a crash): nothing more.
    adopt(&room, &me, &ev.origin, ev.seq, &ev).unwrap();
    assert_eq!(room.head_seq().unwrap(), adopted_at);
    assert!(blobs_needed(&room, &me, &ev).unwrap().is_empty());

    // The box has the meeting as the hub had it, under the hub's ids, published from here.
    let got = room.read(|t| records::meeting(t, &mid)).unwrap().unwrap();
    assert_eq!(got.agenda, before.agenda);
    assert_eq!(got.documents, before.documents);
    assert_eq!(
        (
            got.status,
            &got.title,
            got.starts_at,
            &got.members,
            &got.guests,
            &got.chair_id
        ),
        (
            before.status,
            &before.title,
            before.starts_at,
            &before.members,
            &before.guests,
            &before.chair_id
        )
    );
    assert_eq!(got.published_seq, Some(adopted_at));
    assert_eq!(
        got.adopted_from,
        Some(EventRef {
            origin: hub.node_id().clone(),
            seq: ev.seq
        })
    );
    assert_eq!(got.handed_over_to, None);
    for p in &snapshot.people {
        let here = room.read(|t| records::person(t, &p.id)).unwrap().unwrap();
        assert_eq!(crate::domain::event::PersonEntry::from(&here), *p);
    }
    let body = room
        .read(|t| records::body(t, &before.body_id))
        .unwrap()
        .unwrap();
    assert_eq!(crate::domain::event::BodyEntry::from(&body), snapshot.body);
    let questions = room.read(|t| records::questions(t, &mid)).unwrap();
    let hub_questions = hub.read(|t| records::questions(t, &mid)).unwrap();
    assert_eq!(
        questions.iter().map(|q| &q.question).collect::<Vec<_>>(),
        hub_questions
            .iter()
            .map(|q| &q.question)
            .collect::<Vec<_>>()
    );

    // A rebuild from the box's own log gives the same read models.
    let dump = room.read_model_dump().unwrap();
    room.rebuild().unwrap();
    assert!(room.read_model_dump().unwrap() == dump, "rebuild differs");

    // The box carries on with it like one of its own: the secretary there adds an item.
    let added = prepare::add_item(&room, &sec, &mid, &item).unwrap();
    assert_eq!(added.title, "Mục mới");
}

#[test]
fn only_an_enrolled_box_gets_a_meeting_and_only_before_it_starts() {
    let (_dir, hub, room, mid) = hub_and_box();
    let sec = staff("thuky", Role::Secretary);
    let it = staff("quantri", Role::ItAdmin);
    let chair = staff("chutri", Role::Chair);
    let unknown = Refusal::Hub(HubRefusal::UnknownBox);
    assert_eq!(refused(hand_over(&hub, &sec, &mid, "not a node")), unknown);
    assert_eq!(
        refused(hand_over(&hub, &sec, &mid, NodeId::random().as_str())),
        unknown
    );
    assert!(matches!(
        hand_over(&hub, &chair, &mid, room.node_id().as_str()),
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        hand_over(&hub, &sec, &Id::random(), room.node_id().as_str()),
        Err(ServiceError::NotFound)
    ));
    // A revoked box gets nothing.
    let revoked = NodeId::random();
    enrol(&hub, &revoked, "Phòng cũ");
    crate::service::hub::revoke_box(&hub, &it, revoked.as_str(), "hỏng").unwrap();
    assert_eq!(
        refused(hand_over(&hub, &it, &mid, revoked.as_str())),
        unknown
    );
    // A meeting that started at the hub stays there.
    hub.append(
        Actor::Node,
        vec![EventBody::MeetingStarted {
            meeting_id: mid.clone(),
        }],
    )
    .unwrap();
    assert_eq!(
        refused(hand_over(&hub, &it, &mid, room.node_id().as_str())),
        Refusal::NotHandable
    );
    // A draft goes, by IT staff too; a room box hands nothing over.
    let body = hub.read(records::bodies).unwrap().remove(0);
    let draft = meetings::create(
        &hub,
        &sec,
        meetings::NewMeeting {
            body_id: body.id.clone(),
            title: "Họp chuyên đề".into(),
            starts_at: OffsetDateTime::now_utc() + time::Duration::days(3),
            chair_id: None,
            guests: vec![],
            place: String::new(),
        },
    )
    .unwrap();
    let h = hand_over(&hub, &it, &draft.id, room.node_id().as_str()).unwrap();
    assert!(h.handed_over_to.is_some());
    assert_eq!(
        refused(hand_over(&room, &sec, &draft.id, hub.node_id().as_str())),
        Refusal::Hub(HubRefusal::WrongRole)
    );
    // A draft adopted: the chair's review and the delegates' feeds start nowhere yet.
    let ev = handover_event(&hub);
    adopt(&room, room.node_id(), &ev.origin, ev.seq, &ev).unwrap();
    let got = room
        .read(|t| records::meeting_header(t, &draft.id))
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.status, got.published_seq, got.submitted_seq),
        (MeetingStatus::Draft, None, None)
    );
}

#[test]
fn a_box_that_has_a_meeting_of_that_id_from_elsewhere_leaves_it_as_it_is() {
    let (_dir, hub, room, mid) = hub_and_box();
    let sec = staff("thuky", Role::Secretary);
    hand_over(&hub, &sec, &mid, room.node_id().as_str()).unwrap();
    let ev = handover_event(&hub);
    let EventBody::MeetingHandedOver { snapshot, .. } = &ev.body else {
        unreachable!()
    };
    for (sha, _) in snapshot.blobs() {
        let bytes = std::fs::read(hub.blobs().path(sha).unwrap()).unwrap();
        room.blobs().put_bytes(&bytes).unwrap();
    }
    // The same meeting, made on the box by some other path (a restored copy, say).
    let mut own = snapshot.meeting.clone();
    own.agenda.clear();
    own.documents.clear();
    room.append(
        Actor::Node,
        vec![
            EventBody::BodyCreated {
                body: snapshot.body.clone(),
            },
            EventBody::MeetingCreated { meeting: own },
        ],
    )
    .unwrap();
    let head = room.head_seq().unwrap();
    let before = room.read(|t| records::meeting(t, &mid)).unwrap().unwrap();
    // Refused for good, so the hub's later events are not held up: nothing is written.
    adopt(&room, room.node_id(), &ev.origin, ev.seq, &ev).unwrap();
    assert_eq!(room.head_seq().unwrap(), head);
    let after = room.read(|t| records::meeting(t, &mid)).unwrap().unwrap();
    assert_eq!(after, before);
    assert_eq!(after.adopted_from, None);
}
