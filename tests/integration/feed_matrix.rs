//! The live feed against the visibility policy: every meeting event kind × every kind of
//! caller, replayed from the start and received live, compared with what the API shows the
//! same caller at the same moment. Covers the draft history, documents restricted after
//! upload, a new chair, and feeds that are already open when the rules change.

use crate::helpers::*;
use crate::prepare::{encode, fixture};
use crate::tablets::{box_with_staff, Tablet, CHAIR_PW, SECRETARY_PW};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Every kind of caller the policy distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    SignedOut,
    ItAdmin,
    Secretary,
    ChairAccount,
    /// The tablet of the person who chaired the meeting until the chair changed.
    FormerChairTablet,
    /// A member's tablet; this member becomes the chair later.
    NewChairTablet,
    /// A member whose own document and reason the others must not see.
    MemberTablet,
    GuestTablet,
    OutsiderTablet,
    RevokedTablet,
    /// A projector screen paired as a read-only display.
    Display,
}

const ALL: [Who; 12] = [
    Who::Anonymous,
    Who::SignedOut,
    Who::ItAdmin,
    Who::Secretary,
    Who::ChairAccount,
    Who::FormerChairTablet,
    Who::NewChairTablet,
    Who::MemberTablet,
    Who::GuestTablet,
    Who::OutsiderTablet,
    Who::RevokedTablet,
    Who::Display,
];

/// What each caller's cookie is.
struct Cookies(BTreeMap<Who, Option<String>>);

impl Cookies {
    fn of(&self, w: Who) -> Option<&str> {
        self.0.get(&w).and_then(|c| c.as_deref())
    }
}

/// One event as a feed delivered it.
#[derive(Debug, Clone)]
pub(crate) struct Got {
    pub(crate) seq: u64,
    pub(crate) kind: String,
    pub(crate) body: Value,
    pub(crate) text: String,
}

pub(crate) async fn open_feed(
    b: &TestBox,
    meeting: &str,
    cookie: Option<&str>,
    from: u64,
) -> SseReader {
    SseReader::open_as(
        &b.client,
        &b.url(&format!("/api/meetings/{meeting}/events")),
        Some(from),
        cookie,
    )
    .await
}

/// Reads a feed until the event with `upto` (or a later one) arrived, or nothing more comes.
pub(crate) async fn read_until(feed: &mut SseReader, upto: u64) -> Vec<Got> {
    let mut out = Vec::new();
    while let Some(e) = feed.next(Duration::from_secs(5)).await {
        let v: Value = serde_json::from_str(&e.data).unwrap();
        let seq = e.id.as_deref().unwrap().parse().unwrap();
        out.push(Got {
            seq,
            kind: e.event.clone().unwrap_or_default(),
            body: v["body"].clone(),
            text: e.data.clone(),
        });
        if seq >= upto {
            break;
        }
    }
    out
}

pub(crate) async fn head(b: &TestBox) -> u64 {
    b.get_json("/api/room").await["head_seq"].as_u64().unwrap()
}

pub(crate) async fn feed_status(b: &TestBox, meeting: &str, cookie: Option<&str>) -> u16 {
    let mut req = b
        .client
        .get(b.url(&format!("/api/meetings/{meeting}/events")))
        .header("accept", "text/event-stream");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap().status().as_u16()
}

/// The documents the API shows this caller now: id → title.
async fn api_documents(b: &TestBox, meeting: &str, cookie: &str) -> BTreeMap<String, String> {
    let (s, m) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}"),
            Some(cookie),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    m["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_owned(),
                d["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The documents a feed shows whole (not the "hidden from you" notices).
fn fed_documents(got: &[Got]) -> BTreeSet<String> {
    got.iter()
        .filter(|g| g.kind.starts_with("document.") && g.body["hidden"] != true)
        .filter_map(|g| {
            g.body["document"]["id"]
                .as_str()
                .or(g.body["document_id"].as_str())
                .map(str::to_owned)
        })
        .collect()
}

struct Meeting {
    id: String,
    /// Titles only the staff may ever see: the draft history and the removed file.
    draft_only: Vec<&'static str>,
    /// Events before this were before publication.
    published_seq: u64,
    /// Documents by name.
    docs: BTreeMap<&'static str, String>,
    /// The member whose document and reason are private, and the new chair.
    member: String,
    new_chair: String,
}

async fn upload_doc(
    b: &TestBox,
    sec: &str,
    meeting: &str,
    item: &str,
    title: &str,
    restricted_to: Option<&str>,
) -> String {
    let mut path = format!(
        "/api/meetings/{meeting}/items/{item}/documents?title={}",
        encode(title)
    );
    if let Some(r) = restricted_to {
        path.push_str(&format!("&restricted_to={r}"));
    }
    let (s, v) = b
        .upload(sec, &path, "van-ban.pdf", fixture("giay-moi-hop.pdf"))
        .await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

async fn ok(b: &TestBox, method: Method, path: &str, cookie: &str, body: Option<Value>) -> Value {
    let (s, v) = b.call(method, path, Some(cookie), body).await;
    assert!(s.is_success(), "{path}: {s} {v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_kind_reaches_every_caller_as_the_api_shows_it() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let chair_account = b.sign_in("chutri", CHAIR_PW).await;
    let admin = b.admin().await;
    let signed_out = b.sign_in("thuky", SECRETARY_PW).await;
    ok(&b, Method::DELETE, "/api/session", &signed_out, None).await;

    let chu = b.add_person(&sec, "Nguyễn Văn Chủ", "").await;
    let lan = b.add_person(&sec, "Lê Thị Lan", "").await;
    let minh = b.add_person(&sec, "Trần Văn Minh", "").await;
    let khach = b.add_person(&sec, "Phạm Khách Mời", "").await;
    let ngoai = b.add_person(&sec, "Vũ Người Ngoài", "").await;
    let thu = b.add_person(&sec, "Đỗ Văn Thu", "").await;
    let members = vec![chu.clone(), lan.clone(), minh.clone(), thu.clone()];
    let body = ok(
        &b,
        Method::POST,
        "/api/bodies",
        &sec,
        Some(json!({"name": "UBND xã Tân Phú", "kind": "ubnd"})),
    )
    .await;
    let bid = body["id"].as_str().unwrap();
    ok(
        &b,
        Method::PUT,
        &format!("/api/bodies/{bid}/members"),
        &sec,
        Some(json!({"members": members})),
    )
    .await;
    let created = ok(
        &b,
        Method::POST,
        "/api/meetings",
        &sec,
        Some(json!({
            "body_id": bid, "title": "Họp UBND xã tháng 12", "starts_at": "2026-12-20T01:00:00Z",
            "guests": [khach],
        })),
    )
    .await;
    let mid = created["id"].as_str().unwrap().to_owned();
    let m = format!("/api/meetings/{mid}");
    // Chair and guest.
    ok(&b, Method::PUT, &m, &sec, Some(json!({"chair_id": chu}))).await;
    let (_, body) = b.call(Method::GET, &m, Some(&sec), None).await;
    assert_eq!(body["chair_id"], chu.as_str());

    // --- The draft: what only staff may ever see. ---
    let item1 = b.add_item(&sec, &mid, "Mục dự thảo bí mật").await;
    ok(
        &b,
        Method::PUT,
        &format!("{m}/items/{item1}"),
        &sec,
        Some(json!({"title": "Báo cáo kinh tế - xã hội"})),
    )
    .await;
    let gone = b.add_item(&sec, &mid, "Mục sẽ bị xoá").await;
    ok(&b, Method::DELETE, &format!("{m}/items/{gone}"), &sec, None).await;
    let item3 = b.add_item(&sec, &mid, "Dự toán ngân sách").await;
    ok(
        &b,
        Method::PUT,
        &format!("{m}/agenda"),
        &sec,
        Some(json!({"order": [item3, item1], "expected": [item1, item3]})),
    )
    .await;
    let discipline = upload_doc(&b, &sec, &mid, &item1, "Hồ sơ kỷ luật", Some(&chu)).await;
    ok(
        &b,
        Method::DELETE,
        &format!("/api/documents/{discipline}"),
        &sec,
        None,
    )
    .await;
    let public = upload_doc(&b, &sec, &mid, &item3, "Tờ trình dự toán", None).await;
    let for_minh = upload_doc(&b, &sec, &mid, &item1, "Riêng Minh", Some(&minh)).await;
    let later = upload_doc(&b, &sec, &mid, &item1, "Báo cáo quý", None).await;
    ok(
        &b,
        Method::PUT,
        &format!("{m}/attendance/{thu}"),
        &sec,
        Some(json!({"status": "excused", "reason": "Lý do riêng tư của Thu"})),
    )
    .await;
    ok(&b, Method::POST, &format!("{m}/submit"), &sec, None).await;
    ok(
        &b,
        Method::POST,
        &format!("{m}/send-back"),
        &chair_account,
        Some(json!({"comment": "Bổ sung tờ trình nội bộ"})),
    )
    .await;
    ok(&b, Method::POST, &format!("{m}/submit"), &sec, None).await;
    ok(
        &b,
        Method::POST,
        &format!("{m}/approve"),
        &chair_account,
        None,
    )
    .await;
    ok(&b, Method::POST, &format!("{m}/publish"), &sec, None).await;
    let published_seq = head(&b).await;

    // --- Tablets. ---
    let tab = |t: Tablet| Some(t.cookie);
    let revoked = b.pair_tablet(&sec, &thu, "7531").await;
    ok(
        &b,
        Method::DELETE,
        &format!("/api/devices/{}", revoked.device_id),
        &sec,
        None,
    )
    .await;
    let cookies = Cookies(BTreeMap::from([
        (Who::Anonymous, None),
        (Who::SignedOut, Some(signed_out)),
        (Who::ItAdmin, Some(admin)),
        (Who::Secretary, Some(sec.clone())),
        (Who::ChairAccount, Some(chair_account.clone())),
        (
            Who::FormerChairTablet,
            tab(b.pair_tablet(&sec, &chu, "2580").await),
        ),
        (
            Who::NewChairTablet,
            tab(b.pair_tablet(&sec, &lan, "1470").await),
        ),
        (
            Who::MemberTablet,
            tab(b.pair_tablet(&sec, &minh, "3690").await),
        ),
        (
            Who::GuestTablet,
            tab(b.pair_tablet(&sec, &khach, "8520").await),
        ),
        (
            Who::OutsiderTablet,
            tab(b.pair_tablet(&sec, &ngoai, "9630").await),
        ),
        (Who::RevokedTablet, Some(revoked.cookie)),
        (
            Who::Display,
            Some(crate::displays::pair_display(&b, &sec, "Máy chiếu").await),
        ),
    ]));

    // Who may open the feed at all, and the API agrees.
    let expected_status = |w: Who| match w {
        Who::Anonymous | Who::SignedOut | Who::RevokedTablet => 401,
        Who::ItAdmin => 403,
        Who::OutsiderTablet => 404,
        _ => 200,
    };
    for w in ALL {
        let feed = feed_status(&b, &mid, cookies.of(w)).await;
        let (api, _) = b.call(Method::GET, &m, cookies.of(w), None).await;
        assert_eq!(feed, expected_status(w), "{w:?} opening the feed");
        assert_eq!(api.as_u16(), feed, "{w:?}: the API and the feed disagree");
    }
    let watchers: Vec<Who> = ALL
        .into_iter()
        .filter(|w| expected_status(*w) == 200)
        .collect();

    // --- Feeds open while the rules change. ---
    let start = head(&b).await;
    let mut live = BTreeMap::new();
    let mut received: BTreeMap<Who, Vec<Got>> = BTreeMap::new();
    for w in &watchers {
        live.insert(*w, open_feed(&b, &mid, cookies.of(*w), start).await);
        received.insert(*w, Vec::new());
    }
    // Each change is judged when it happens: the feeds are read up to it before the next one,
    // so that what a feed shows is decided under the rules of that moment.
    macro_rules! settle {
        () => {{
            let upto = head(&b).await;
            for w in &watchers {
                let got = read_until(live.get_mut(w).unwrap(), upto).await;
                received.get_mut(w).unwrap().extend(got);
            }
        }};
    }
    ok(
        &b,
        Method::PUT,
        "/api/room/layout",
        &sec,
        Some(json!({"shape": "rows", "seats": [
            {"id": "A1", "label": "Ghế 1", "x": 10, "y": 10},
            {"id": "A2", "label": "Ghế 2", "x": 60, "y": 10}]})),
    )
    .await;
    ok(
        &b,
        Method::PUT,
        &format!("{m}/seats"),
        &sec,
        Some(json!({"assignments": {"A1": chu, "A2": lan}})),
    )
    .await;
    settle!();
    // A document everyone saw is restricted to Minh.
    ok(
        &b,
        Method::PUT,
        &format!("/api/documents/{later}"),
        &sec,
        Some(json!({"restricted_to": [minh]})),
    )
    .await;
    let (s, v) = b
        .upload(
            &sec,
            &format!("/api/documents/{public}/versions"),
            "to-trinh-v2.pdf",
            fixture("to-trinh-du-toan.pdf"),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let minh_cookie = cookies.of(Who::MemberTablet).unwrap().to_owned();
    ok(
        &b,
        Method::POST,
        &format!("{m}/absence"),
        &minh_cookie,
        Some(json!({"reason": "Đi khám bệnh ở huyện"})),
    )
    .await;
    let lan_cookie = cookies.of(Who::NewChairTablet).unwrap().to_owned();
    ok(
        &b,
        Method::POST,
        &format!("{m}/check-in"),
        &lan_cookie,
        None,
    )
    .await;
    settle!();
    // The meeting runs: Lan asks to speak and gets the floor; the chair shows everyone the
    // page of a document restricted to Minh (the others learn only that it is hidden).
    let live = format!("{m}/live");
    ok(
        &b,
        Method::POST,
        &format!("{live}/start"),
        &chair_account,
        Some(json!({})),
    )
    .await;
    ok(
        &b,
        Method::POST,
        &format!("{live}/speakers"),
        &lan_cookie,
        Some(json!({"request_id": "00000000000000000000000000000077", "kind": "question"})),
    )
    .await;
    ok(
        &b,
        Method::POST,
        &format!("{live}/speakers/00000000000000000000000000000077/floor"),
        &chair_account,
        Some(json!({})),
    )
    .await;
    ok(
        &b,
        Method::PUT,
        &format!("{live}/follow"),
        &chair_account,
        Some(json!({"document_id": later, "page": 2})),
    )
    .await;
    ok(
        &b,
        Method::POST,
        &format!("{live}/floor/end"),
        &chair_account,
        Some(json!({})),
    )
    .await;
    settle!();
    // A new chair, then a document for the new chair only.
    ok(&b, Method::PUT, &m, &sec, Some(json!({"chair_id": lan}))).await;
    settle!();
    let for_new_chair = upload_doc(&b, &sec, &mid, &item3, "Gửi chủ tọa mới", Some(&lan)).await;
    ok(
        &b,
        Method::PUT,
        &m,
        &sec,
        Some(json!({"place": "Hội trường lớn"})),
    )
    .await;
    let end = head(&b).await;
    settle!();

    let meeting = Meeting {
        id: mid.clone(),
        draft_only: vec![
            "Mục dự thảo bí mật",
            "Mục sẽ bị xoá",
            "Hồ sơ kỷ luật",
            "Bổ sung tờ trình nội bộ",
            "Lý do riêng tư của Thu",
        ],
        published_seq,
        docs: BTreeMap::from([
            ("discipline", discipline),
            ("public", public),
            ("for_minh", for_minh),
            ("later", later.clone()),
            ("for_new_chair", for_new_chair.clone()),
        ]),
        member: minh.clone(),
        new_chair: lan.clone(),
    };

    // Live: what each open feed received.
    for w in &watchers {
        let got = &received[w];
        assert_eq!(
            got.last().map(|g| g.seq),
            Some(end),
            "{w:?}'s open feed must reach the last change: {got:?}"
        );
        check(*w, &meeting, got, true);
        // A document the caller could see and then lost is announced, not silently kept.
        let hidden: BTreeSet<&str> = got
            .iter()
            .filter(|g| g.body["hidden"] == true)
            .filter_map(|g| g.body["document_id"].as_str())
            .collect();
        let expected: BTreeSet<&str> = match w {
            // Lan was a member when 'Báo cáo quý' was restricted to Minh; the guest and the
            // projector, who saw it while it was for everyone, too.
            Who::NewChairTablet | Who::GuestTablet | Who::Display => {
                BTreeSet::from([later.as_str()])
            }
            _ => BTreeSet::new(),
        };
        assert_eq!(hidden, expected, "{w:?}: documents announced as hidden");
        if *w == Who::FormerChairTablet {
            assert!(
                !got.iter().any(|g| g.text.contains("Gửi chủ tọa mới")),
                "a replaced chair must not receive the new chair's document: {got:?}"
            );
        }
    }

    // Replayed from the very start, now.
    for w in &watchers {
        let mut feed = open_feed(&b, &mid, cookies.of(*w), 0).await;
        let got = read_until(&mut feed, end).await;
        check(*w, &meeting, &got, false);
        // Replayed now, a lost document is announced to those who lost it, as they are now.
        let hidden: BTreeSet<&str> = got
            .iter()
            .filter(|g| g.body["hidden"] == true)
            .filter_map(|g| g.body["document_id"].as_str())
            .collect();
        let expected: BTreeSet<&str> = match w {
            Who::FormerChairTablet | Who::GuestTablet | Who::Display => {
                BTreeSet::from([later.as_str()])
            }
            _ => BTreeSet::new(),
        };
        assert_eq!(hidden, expected, "{w:?}: replayed hidden documents");
        // The feed shows exactly the documents the API shows now.
        let api = api_documents(&b, &mid, cookies.of(*w).unwrap()).await;
        let fed = fed_documents(&got);
        let api_ids: BTreeSet<String> = api.keys().cloned().collect();
        let fed_live: BTreeSet<String> = fed
            .iter()
            .filter(|d| *d != &meeting.docs["discipline"])
            .cloned()
            .collect();
        // Nothing the API would not show; staff, who replay the whole history, get all of it.
        assert!(
            fed_live.is_subset(&api_ids),
            "{w:?}: the feed shows documents the API does not: {fed_live:?} vs {api_ids:?}"
        );
        if matches!(w, Who::Secretary | Who::ChairAccount) {
            assert_eq!(fed_live, api_ids, "{w:?}");
        }
        // Documents added since publication reach everyone who sees them, in full.
        assert_eq!(
            fed_live.contains(&meeting.docs["for_new_chair"]),
            api_ids.contains(&meeting.docs["for_new_chair"]),
            "{w:?}"
        );
    }
}

/// The rules every delivered event of `w` must satisfy, live or replayed.
fn check(w: Who, m: &Meeting, got: &[Got], live: bool) {
    let kinds: BTreeSet<&str> = got.iter().map(|g| g.kind.as_str()).collect();
    let staff = matches!(w, Who::Secretary | Who::ChairAccount);
    let all_text: String = got.iter().map(|g| g.text.as_str()).collect();
    // Only the meeting's own events, and the kinds each caller may see.
    for g in got {
        assert!(
            g.body["meeting_id"] == m.id.as_str() || g.body["meeting"]["id"] == m.id.as_str(),
            "{w:?} got an event of another subject: {g:?}"
        );
    }
    if staff {
        if !live {
            // Staff who see drafts get the whole history, every meeting kind.
            for k in [
                "meeting.created",
                "meeting.details_set",
                "agenda.item_added",
                "agenda.item_updated",
                "agenda.item_removed",
                "agenda.reordered",
                "document.added",
                "document.version_added",
                "document.updated",
                "document.removed",
                "meeting.submitted",
                "meeting.sent_back",
                "meeting.approved",
                "meeting.published",
                "attendance.marked",
                "seating.assigned",
            ] {
                assert!(kinds.contains(k), "{w:?} lacks {k}: {kinds:?}");
            }
            for t in &m.draft_only {
                assert!(all_text.contains(t), "{w:?} should see the draft '{t}'");
            }
        }
        assert!(all_text.contains("Đi khám bệnh ở huyện"), "{w:?}");
    }
    // The running of the meeting reaches everyone with a role in it; "follow me" on a
    // document the caller may not see says only that (live: as the rules were when it was
    // sent; replayed: as they are now).
    for k in [
        "meeting.started",
        "agenda.item_opened",
        "speech.requested",
        "speech.started",
        "speech.ended",
        "follow.set",
    ] {
        assert!(kinds.contains(k), "{w:?} lacks {k}: {kinds:?}");
    }
    let follow = got.iter().find(|g| g.kind == "follow.set").unwrap();
    let sees_later = staff
        || w == Who::MemberTablet
        || (w == Who::NewChairTablet && !live)
        || (w == Who::FormerChairTablet && live);
    if sees_later {
        assert_eq!(follow.body["page"], 2, "{w:?}: {follow:?}");
    } else {
        assert_eq!(
            follow.body,
            json!({"meeting_id": m.id, "hidden": true}),
            "{w:?}: a hidden document's follow names nothing"
        );
    }
    if staff {
        return;
    }
    // Not staff: nothing from before publication (the new chair's tablet: nothing from
    // before the last submission), and none of the draft's words.
    for g in got {
        assert!(
            g.seq >= m.published_seq || w == Who::NewChairTablet,
            "{w:?} got draft history: {g:?}"
        );
    }
    for t in &m.draft_only {
        assert!(!all_text.contains(t), "{w:?} must not see the draft '{t}'");
    }
    for k in [
        "meeting.created",
        "agenda.item_removed",
        "document.removed",
        "meeting.sent_back",
    ] {
        assert!(!kinds.contains(k), "{w:?} got {k}");
    }
    if w == Who::NewChairTablet && !live {
        // The chair's tablet sees from the last submission: the approval and publication.
        assert!(kinds.contains("meeting.approved"), "{kinds:?}");
        assert!(kinds.contains("meeting.published"), "{kinds:?}");
    }
    // Documents: each only if the caller may see it now.
    let private_doc = |title: &str| all_text.contains(title);
    match w {
        Who::MemberTablet => {
            // Restricted to him after publication: he gets it whole, title and all.
            assert!(private_doc("Báo cáo quý"), "the document now Minh's alone");
            assert!(!private_doc("Gửi chủ tọa mới"));
        }
        Who::NewChairTablet => {
            assert!(private_doc("Gửi chủ tọa mới"), "the new chair sees it");
        }
        Who::FormerChairTablet => {
            assert!(!private_doc("Riêng Minh"));
            assert!(!private_doc("Gửi chủ tọa mới"));
        }
        Who::Display => {
            // The wall shows only what is for everyone.
            assert!(
                private_doc("to-trinh-v2.pdf"),
                "the public document's new version"
            );
            assert!(!private_doc("Riêng Minh"));
            assert!(!private_doc("Gửi chủ tọa mới"));
            assert!(!private_doc("Báo cáo quý"), "restricted after publication");
        }
        _ => {}
    }
    // Someone else's reason for absence: never; one's own: yes.
    let reason_seen = all_text.contains("Đi khám bệnh ở huyện");
    // The chair sees reasons. When Minh sent his, Chủ was the chair and Lan a member; now
    // it is the other way round.
    let reason_allowed = w == Who::MemberTablet
        || (w == Who::NewChairTablet && !live)
        || (w == Who::FormerChairTablet && live);
    assert_eq!(
        reason_seen, reason_allowed,
        "{w:?}: Minh's reason for absence"
    );
    // The redacted form still says who is absent.
    let absence = got
        .iter()
        .find(|g| g.kind == "attendance.marked" && g.body["person_id"] == m.member.as_str());
    let absence = absence.unwrap_or_else(|| panic!("{w:?} must hear of Minh's absence"));
    assert_eq!(absence.body["status"], "excused");
    let _ = &m.new_chair;
}

#[tokio::test]
async fn a_staff_feed_ends_when_its_session_is_signed_out() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let other = b.sign_in("thuky", SECRETARY_PW).await;
    let lan = b.add_person(&sec, "Lê Thị Lan", "").await;
    let mid = b.draft_meeting(&sec, &[lan], "2026-12-20T01:00:00Z").await;
    let mut feed = open_feed(&b, &mid, Some(&other), head(&b).await).await;
    // Still open while the session is valid: an edit arrives.
    b.add_item(&sec, &mid, "Mục 1").await;
    assert!(feed.next(Duration::from_secs(5)).await.is_some());
    ok(&b, Method::DELETE, "/api/session", &other, None).await;
    // No event needed: the feed re-checks its caller and ends.
    assert!(
        feed.ends_within(Duration::from_secs(6)).await,
        "a signed-out session's feed must end"
    );
    // The other session's edits are not delivered to it any more, and it cannot reopen.
    assert_eq!(feed_status(&b, &mid, Some(&other)).await, 401);
}

/// Who watches a meeting with votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Watcher {
    Secretary,
    ChairAccount,
    /// The meeting chair's own tablet (a member who votes).
    ChairTablet,
    /// Two members who vote.
    Minh,
    Lan,
    Guest,
    Display,
}

/// What one feed delivered: events with a seq, and the `vote.progress` messages.
#[derive(Default, Debug)]
struct Fed {
    events: Vec<Got>,
    progress: Vec<SseEvent>,
}

/// Reads a feed until the event `upto` arrived and then for `linger` more (the coalesced
/// counter comes up to 250 ms after the ballot).
async fn read_all(feed: &mut SseReader, upto: u64, linger: Duration, fed: &mut Fed) {
    let mut reached = fed.events.last().is_some_and(|g| g.seq >= upto);
    loop {
        let wait = if reached {
            linger
        } else {
            Duration::from_secs(5)
        };
        let Some(e) = feed.next(wait).await else {
            assert!(reached, "the feed stopped before event {upto}: {fed:?}");
            return;
        };
        match e.id.as_deref() {
            None => {
                assert_eq!(e.event.as_deref(), Some("vote.progress"), "{e:?}");
                fed.progress.push(e);
            }
            Some(id) => {
                let v: Value = serde_json::from_str(&e.data).unwrap();
                let seq: u64 = id.parse().unwrap();
                reached |= seq >= upto;
                fed.events.push(Got {
                    seq,
                    kind: e.event.clone().unwrap_or_default(),
                    body: v["body"].clone(),
                    text: e.data.clone(),
                });
            }
        }
    }
}

/// Signs and sends a ballot as the web app does; returns the ballot id or the receipt.
#[allow(clippy::too_many_arguments)]
async fn vote_as(
    b: &TestBox,
    node: &str,
    meeting: &str,
    question: &str,
    t: &Tablet,
    person: &str,
    secret: bool,
    choice: &str,
) -> String {
    let (_, q) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}/questions/{question}"),
            Some(&t.cookie),
            None,
        )
        .await;
    let nonce = q["question"]["nonce"].as_str().unwrap().to_owned();
    let (key, body) = if secret {
        let receipt = crate::vote_security::receipt();
        let text = format!("phonghop-participation/1|{node}|{meeting}|{question}|{nonce}|{person}");
        (
            receipt.clone(),
            json!({"receipt": receipt, "mark": {"choice": choice}, "signature": t.sign(&text)}),
        )
    } else {
        let ballot = crate::votes::hex32();
        let text =
            format!("phonghop-ballot/1|{node}|{meeting}|{question}|{nonce}|{ballot}|{choice}");
        (
            ballot.clone(),
            json!({"ballot_id": ballot, "mark": {"choice": choice}, "signature": t.sign(&text)}),
        )
    };
    let (s, v) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/questions/{question}/ballots"),
            Some(&t.cookie),
            Some(body),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vote_events_and_the_counter_reach_exactly_whom_the_policy_names() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let chair_account = b.sign_in("chutri", CHAIR_PW).await;
    let chu = b.add_person(&sec, "Nguyễn Văn Chủ", "").await;
    let minh = b.add_person(&sec, "Trần Văn Minh", "").await;
    let lan = b.add_person(&sec, "Lê Thị Lan", "").await;
    let khach = b.add_person(&sec, "Phạm Khách Mời", "").await;
    let body = ok(
        &b,
        Method::POST,
        "/api/bodies",
        &sec,
        Some(json!({"name": "UBND xã Tân Phú", "kind": "ubnd"})),
    )
    .await;
    let bid = body["id"].as_str().unwrap();
    ok(
        &b,
        Method::PUT,
        &format!("/api/bodies/{bid}/members"),
        &sec,
        Some(json!({"members": [chu, minh, lan]})),
    )
    .await;
    let created = ok(
        &b,
        Method::POST,
        "/api/meetings",
        &sec,
        Some(json!({
            "body_id": bid, "title": "Họp UBND xã tháng 12", "starts_at": "2026-12-20T01:00:00Z",
            "guests": [khach], "chair_id": chu,
        })),
    )
    .await;
    let mid = created["id"].as_str().unwrap().to_owned();
    let m = format!("/api/meetings/{mid}");
    let item = b.add_item(&sec, &mid, "Báo cáo kinh tế - xã hội").await;
    b.publish(&sec, &mid).await;
    let node = b.get_json("/api/room").await["node_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tablets = BTreeMap::new();
    for (w, p, pin) in [
        (Watcher::ChairTablet, &chu, "2580"),
        (Watcher::Minh, &minh, "3690"),
        (Watcher::Lan, &lan, "1470"),
        (Watcher::Guest, &khach, "8520"),
    ] {
        let t = b.pair_tablet(&sec, p, pin).await;
        assert_eq!(b.check_in(&t, &mid).await.0, 200);
        tablets.insert(w, t);
    }
    let display = crate::displays::pair_display(&b, &sec, "Máy chiếu").await;
    let cookie = |w: Watcher| -> String {
        match w {
            Watcher::Secretary => sec.clone(),
            Watcher::ChairAccount => chair_account.clone(),
            Watcher::Display => display.clone(),
            t => tablets[&t].cookie.clone(),
        }
    };
    let all = [
        Watcher::Secretary,
        Watcher::ChairAccount,
        Watcher::ChairTablet,
        Watcher::Minh,
        Watcher::Lan,
        Watcher::Guest,
        Watcher::Display,
    ];
    ok(
        &b,
        Method::POST,
        &format!("{m}/live/start"),
        &chair_account,
        Some(json!({})),
    )
    .await;
    let start = head(&b).await;
    let mut feeds = BTreeMap::new();
    for w in all {
        feeds.insert(w, open_feed(&b, &mid, Some(&cookie(w)), start).await);
    }

    // Prepared, changed, one removed; a named vote and a secret one.
    let q = format!("{m}/questions");
    let named = ok(
        &b,
        Method::POST,
        &q,
        &sec,
        Some(json!({"item_id": item, "title": "Câu hỏi nháp bí mật"})),
    )
    .await;
    let named = named["question"]["question"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        &b,
        Method::PUT,
        &format!("{q}/{named}"),
        &sec,
        Some(json!({"item_id": item, "title": "Thông qua báo cáo"})),
    )
    .await;
    let gone = ok(
        &b,
        Method::POST,
        &q,
        &sec,
        Some(json!({"item_id": item, "title": "Câu hỏi sẽ bị xoá"})),
    )
    .await;
    let gone = gone["question"]["question"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&b, Method::DELETE, &format!("{q}/{gone}"), &sec, None).await;
    let secret = ok(
        &b,
        Method::POST,
        &q,
        &sec,
        Some(json!({"item_id": item, "title": "Bỏ phiếu kín", "secrecy": "secret"})),
    )
    .await;
    let secret = secret["question"]["question"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    ok(
        &b,
        Method::POST,
        &format!("{q}/{named}/open"),
        &chair_account,
        Some(json!({})),
    )
    .await;
    let mut ballots = BTreeMap::new();
    for (w, p, choice) in [
        (Watcher::Minh, &minh, "approve"),
        (Watcher::Lan, &lan, "disapprove"),
        (Watcher::ChairTablet, &chu, "approve"),
    ] {
        let id = vote_as(&b, &node, &mid, &named, &tablets[&w], p, false, choice).await;
        ballots.insert(w, id);
        // Each ballot's counter goes out on its own.
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    ok(
        &b,
        Method::POST,
        &format!("{q}/{named}/close"),
        &chair_account,
        Some(json!({})),
    )
    .await;
    ok(
        &b,
        Method::POST,
        &format!("{q}/{secret}/open"),
        &chair_account,
        Some(json!({})),
    )
    .await;
    let mut receipts = BTreeMap::new();
    for (w, p) in [(Watcher::Minh, &minh), (Watcher::Lan, &lan)] {
        let rc = vote_as(&b, &node, &mid, &secret, &tablets[&w], p, true, "approve").await;
        receipts.insert(w, rc);
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    ok(
        &b,
        Method::POST,
        &format!("{q}/{secret}/close"),
        &chair_account,
        Some(json!({})),
    )
    .await;
    let end = head(&b).await;

    for (replayed, from) in [(false, start), (true, start)] {
        for w in all {
            let mut fed = Fed::default();
            if replayed {
                let mut f = open_feed(&b, &mid, Some(&cookie(w)), from).await;
                read_all(&mut f, end, Duration::from_millis(300), &mut fed).await;
            } else {
                read_all(
                    feeds.get_mut(&w).unwrap(),
                    end,
                    Duration::from_millis(800),
                    &mut fed,
                )
                .await;
            }
            let kinds: Vec<&str> = fed.events.iter().map(|g| g.kind.as_str()).collect();
            let count = |k: &str| kinds.iter().filter(|x| **x == k).count();
            let text: String = fed.events.iter().map(|g| g.text.as_str()).collect();
            let staff = matches!(
                w,
                Watcher::Secretary | Watcher::ChairAccount | Watcher::ChairTablet
            );
            let tag = format!("{w:?} (replayed: {replayed})");
            // Questions in preparation: staff and the chair only.
            let prep = if staff { 1 } else { 0 };
            assert_eq!(count("question.added"), 3 * prep, "{tag}: {kinds:?}");
            assert_eq!(count("question.updated"), prep, "{tag}");
            assert_eq!(count("question.removed"), prep, "{tag}");
            assert_eq!(
                text.contains("Câu hỏi nháp bí mật"),
                staff,
                "{tag}: a draft's title"
            );
            assert_eq!(
                text.contains("Câu hỏi sẽ bị xoá"),
                staff,
                "{tag}: a removed draft"
            );
            // The room sees each vote open.
            assert_eq!(count("vote.opened"), 2, "{tag}");
            // A ballot, or a secret vote's participation, reaches only the voter's own tablet.
            let own_ballots = usize::from(ballots.contains_key(&w));
            let own_part = usize::from(receipts.contains_key(&w));
            assert_eq!(count("vote.ballot_cast"), own_ballots, "{tag}: {kinds:?}");
            assert_eq!(count("vote.participated"), own_part, "{tag}: {kinds:?}");
            for (v, id) in &ballots {
                assert_eq!(
                    fed.events
                        .iter()
                        .any(|g| g.kind == "vote.ballot_cast"
                            && g.body["ballot"]["id"] == id.as_str()),
                    *v == w,
                    "{tag}: {v:?}'s ballot"
                );
            }
            // The close: the whole signed record to staff and the chair, the summary to others.
            let closed: Vec<&Got> = fed
                .events
                .iter()
                .filter(|g| g.kind == "vote.closed")
                .collect();
            assert_eq!(closed.len(), 2, "{tag}");
            for c in &closed {
                assert_eq!(c.body["meeting_id"], mid.as_str());
                if staff {
                    assert!(c.body["result"]["signature"].is_string(), "{tag}: {c:?}");
                    assert!(c.body["result"]["record"]["outcome"].is_object(), "{tag}");
                } else {
                    let keys: BTreeSet<&str> = c
                        .body
                        .as_object()
                        .unwrap()
                        .keys()
                        .map(String::as_str)
                        .collect();
                    assert_eq!(
                        keys,
                        BTreeSet::from([
                            "meeting_id",
                            "question_id",
                            "question",
                            "outcome",
                            "method",
                            "electorate",
                            "closed_at",
                            "named"
                        ]),
                        "{tag}: a summary"
                    );
                    assert!(!c.text.contains("signature"), "{tag}: {c:?}");
                    for rc in receipts.values() {
                        assert!(
                            !c.text.contains(rc.as_str()),
                            "{tag}: a receipt in the summary"
                        );
                    }
                }
            }
            // Others' ballot ids and the receipts appear nowhere a non-staff caller reads, except
            // their own ballot; staff get the receipts only in the closed record.
            for (v, id) in &ballots {
                if !staff && *v != w {
                    assert!(!text.contains(id.as_str()), "{tag}: {v:?}'s ballot id");
                }
            }
            for (v, rc) in &receipts {
                let seen = fed
                    .events
                    .iter()
                    .filter(|g| g.text.contains(rc.as_str()))
                    .map(|g| g.kind.as_str())
                    .collect::<Vec<_>>();
                let want: Vec<&str> = if staff { vec!["vote.closed"] } else { vec![] };
                assert_eq!(seen, want, "{tag}: {v:?}'s receipt");
            }
            // The counter: live feeds only, to everyone watching, without an id, forward only.
            if replayed {
                assert!(fed.progress.is_empty(), "{tag}: a replay has no counter");
            } else {
                let mut last: BTreeMap<String, u64> = BTreeMap::new();
                for p in &fed.progress {
                    let v: Value = serde_json::from_str(&p.data).unwrap();
                    assert_eq!(v["kind"], "vote.progress", "{tag}");
                    assert_eq!(v["body"]["meeting_id"], mid.as_str(), "{tag}");
                    assert!(v.get("seq").is_none(), "{tag}: {v}");
                    let qid = v["body"]["question_id"].as_str().unwrap().to_owned();
                    let cast = v["body"]["cast"].as_u64().unwrap();
                    let prev = last.insert(qid, cast);
                    assert!(prev.is_none_or(|p| p < cast), "{tag}: {:?}", fed.progress);
                }
                assert_eq!(last.get(&named), Some(&3), "{tag}: {:?}", fed.progress);
                assert_eq!(last.get(&secret), Some(&2), "{tag}: {:?}", fed.progress);
                assert!(fed.progress.len() <= 2 + 3 + 2, "{tag}: coalesced");
            }
        }
    }
}
