//! The live meeting through the API and its feed: the chair's console, the speakers' queue,
//! "follow me", who may run it, and that a dropped feed, a retried request and a restart of
//! the box all end in exactly the same state.

use crate::helpers::*;
use crate::tablets::{box_with_staff, Tablet, CHAIR_PW, SECRETARY_PW};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// A published meeting under way: members A, B, D and the chair's own person C (each with a
/// checked-in tablet), a guest G, an outsider O; two agenda items and a PDF.
pub(crate) struct Room {
    pub b: TestBox,
    _tmp: tempfile::TempDir,
    pub sec: String,
    pub chair: String,
    pub meeting: String,
    pub items: [String; 2],
    pub doc: String,
    people: Vec<(&'static str, String)>,
    pub tablets: Vec<(&'static str, Tablet)>,
}

impl Room {
    pub(crate) async fn new() -> Room {
        let (b, tmp) = box_with_staff().await;
        let sec = b.sign_in("thuky", SECRETARY_PW).await;
        let chair = b.sign_in("chutri", CHAIR_PW).await;
        let mut people = Vec::new();
        for (tag, name) in [
            ("A", "Lê Văn An"),
            ("B", "Phạm Thị Bình"),
            ("C", "Nguyễn Văn Chính"),
            ("D", "Hoàng Văn Dũng"),
            ("G", "Đỗ Thị Giang"),
            ("O", "Bùi Văn Ông"),
        ] {
            people.push((tag, b.add_person(&sec, name, "").await));
        }
        let id = |t: &str| people.iter().find(|(k, _)| *k == t).unwrap().1.clone();
        let members = ["A", "B", "C", "D"].map(id).to_vec();
        let (s, body) = b
            .call(
                Method::POST,
                "/api/bodies",
                Some(&sec),
                Some(json!({"name": "UBND xã Tân Phú", "kind": "ubnd"})),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        let bid = body["id"].as_str().unwrap().to_owned();
        let (s, v) = b
            .call(
                Method::PUT,
                &format!("/api/bodies/{bid}/members"),
                Some(&sec),
                Some(json!({"members": members})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let (s, m) = b
            .call(
                Method::POST,
                "/api/meetings",
                Some(&sec),
                Some(json!({
                    "body_id": bid, "title": "Họp UBND xã thường kỳ tháng 12",
                    "starts_at": "2026-12-01T01:00:00Z", "chair_id": id("C"), "guests": [id("G")],
                })),
            )
            .await;
        assert_eq!(s, 201, "{m}");
        let meeting = m["id"].as_str().unwrap().to_owned();
        let items = [
            b.add_item(&sec, &meeting, "Báo cáo kinh tế - xã hội").await,
            b.add_item(&sec, &meeting, "Dự toán ngân sách 2027").await,
        ];
        let doc = b
            .upload_pdf(&sec, &meeting, &items[0], "Tờ trình", "giay-moi-hop.pdf")
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        b.publish(&sec, &meeting).await;
        let mut tablets = Vec::new();
        for (tag, pin) in [
            ("A", "2580"),
            ("B", "3691"),
            ("C", "4702"),
            ("D", "5813"),
            ("G", "6924"),
            ("O", "7035"),
        ] {
            let t = b.pair_tablet(&sec, &id(tag), pin).await;
            if tag != "O" {
                let _ = b.check_in(&t, &meeting).await;
            }
            tablets.push((tag, t));
        }
        Room {
            b,
            _tmp: tmp,
            sec,
            chair,
            meeting,
            items,
            doc,
            people,
            tablets,
        }
    }

    pub(crate) fn person(&self, tag: &str) -> String {
        self.people
            .iter()
            .find(|(k, _)| *k == tag)
            .unwrap()
            .1
            .clone()
    }

    pub(crate) fn tablet(&self, tag: &str) -> String {
        self.tablets
            .iter()
            .find(|(k, _)| *k == tag)
            .unwrap()
            .1
            .cookie
            .clone()
    }

    async fn live(
        &self,
        cookie: &str,
        method: Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let body = (method != Method::GET && method != Method::DELETE).then_some(body);
        self.b
            .call(
                method,
                &format!("/api/meetings/{}/live{path}", self.meeting),
                Some(cookie),
                body,
            )
            .await
    }

    /// A call that must succeed; returns the live view.
    pub(crate) async fn ok(&self, cookie: &str, method: Method, path: &str, body: Value) -> Value {
        let (s, v) = self.live(cookie, method.clone(), path, body).await;
        assert_eq!(s, 200, "{method} live{path}: {v}");
        v
    }

    async fn ask(&self, tag: &str, rid: &str, kind: &str) -> Value {
        let cookie = self.tablet(tag);
        self.ok(
            &cookie,
            Method::POST,
            "/speakers",
            json!({"request_id": rid, "kind": kind}),
        )
        .await
    }
}

fn rid(n: u8) -> String {
    format!("{n:032x}")
}

fn queue_people(v: &Value) -> Vec<String> {
    let item = v["item"]["item_id"].as_str().unwrap_or_default().to_owned();
    v["queue"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["item_id"] == item.as_str())
        .map(|r| r["person_id"].as_str().unwrap().to_owned())
        .collect()
}

/// The state a screen keeps, without the per-caller and per-moment fields.
fn state_of(v: &Value) -> Value {
    let mut v = v.clone();
    for k in ["now", "seq", "role", "can_run"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

#[tokio::test]
async fn the_chair_runs_the_queue_and_the_history_keeps_every_speech() {
    let r = Room::new().await;
    let chair = r.chair.clone();
    let v = r.ok(&chair, Method::GET, "", json!({})).await;
    assert_eq!(v["phase"], "not_started");
    // Before the start, nobody can ask to speak.
    let (s, e) = r
        .live(
            &r.tablet("A"),
            Method::POST,
            "/speakers",
            json!({"request_id": rid(1), "kind": "opinion"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("live.not_started"))
    );

    let v = r.ok(&chair, Method::POST, "/start", json!({})).await;
    assert_eq!(v["phase"], "running");
    assert_eq!(
        v["item"]["item_id"],
        r.items[0].as_str(),
        "the first item opens"
    );

    // Two opinions, then a point of order that jumps ahead of both.
    r.ask("A", &rid(1), "opinion").await;
    r.ask("B", &rid(2), "question").await;
    let v = r.ask("D", &rid(3), "procedural").await;
    assert_eq!(
        queue_people(&v),
        vec![r.person("D"), r.person("A"), r.person("B")]
    );
    // A double tap with a new id and a retry with the same id change nothing.
    r.ask("A", &rid(1), "opinion").await;
    let v = r.ask("A", &rid(9), "opinion").await;
    assert_eq!(queue_people(&v).len(), 3, "{v}");
    // The chair answers B's question with a reply by C, placed right after it.
    let v = r
        .ok(
            &chair,
            Method::POST,
            "/speakers",
            json!({"request_id": rid(4), "kind": "reply", "person_id": r.person("C"), "replies_to": rid(2)}),
        )
        .await;
    assert_eq!(
        queue_people(&v),
        vec![r.person("D"), r.person("A"), r.person("B"), r.person("C")]
    );
    // The chair moves A first, then gives D the floor for 90 s.
    let (s, e) = r
        .live(
            &chair,
            Method::PUT,
            "/speakers",
            json!({"order": [rid(1), rid(3)]}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("live.stale_order"))
    );
    let v = r
        .ok(
            &chair,
            Method::PUT,
            "/speakers",
            json!({"order": [rid(1), rid(3), rid(2), rid(4)]}),
        )
        .await;
    assert_eq!(queue_people(&v)[0], r.person("A"));
    let v = r
        .ok(
            &chair,
            Method::POST,
            &format!("/speakers/{}/floor", rid(3)),
            json!({"seconds": 90}),
        )
        .await;
    assert_eq!(v["speaking"]["person_id"], r.person("D").as_str());
    assert_eq!(v["speaking"]["seconds"], 90);
    // The countdown is the box's: started_at and now are both the box's clock.
    let started = v["speaking"]["started_at"].as_str().unwrap();
    let now = v["now"].as_str().unwrap();
    assert!(started <= now, "{started} {now}");
    // Giving A the floor ends D's speech; A withdraws nothing now, and B withdraws.
    r.ok(
        &chair,
        Method::POST,
        &format!("/speakers/{}/floor", rid(1)),
        json!({}),
    )
    .await;
    let v = r
        .ok(
            &r.tablet("B"),
            Method::DELETE,
            &format!("/speakers/{}", rid(2)),
            json!({}),
        )
        .await;
    assert_eq!(v["speaking"]["person_id"], r.person("A").as_str());
    assert_eq!(
        v["speaking"]["seconds"], 300,
        "an opinion's time by default"
    );
    let v = r.ok(&chair, Method::POST, "/floor/end", json!({})).await;
    assert!(v["speaking"].is_null());
    let history: Vec<&str> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["person_id"].as_str().unwrap())
        .collect();
    assert_eq!(history, vec![r.person("D"), r.person("A")]);
    assert_eq!(v["history"][0]["kind"], "procedural");
    assert_eq!(v["history"][0]["item_id"], r.items[0].as_str());
    let report =
        r.b.call(
            Method::GET,
            &format!("/api/meetings/{}/live/report", r.meeting),
            Some(&r.tablet("A")),
            None,
        )
        .await
        .1;
    assert_eq!(report["speakers"].as_array().unwrap().len(), 2, "{report}");
    assert!(report["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "Lê Văn An" && s["speeches"] == 1));

    // A recess stops the clock, a second pause is refused, the next item moves on. Who is
    // asking comes before what is asked: a delegate's empty reason is 403, not 422.
    let (s, _) = r
        .live(
            &r.tablet("A"),
            Method::POST,
            "/pause",
            json!({"reason": "  "}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, e) = r
        .live(&chair, Method::POST, "/pause", json!({"reason": "  "}))
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("live.bad_reason"))
    );
    let v = r
        .ok(
            &chair,
            Method::POST,
            "/pause",
            json!({"reason": "Nghỉ giải lao 15 phút"}),
        )
        .await;
    assert_eq!(v["paused"]["reason"], "Nghỉ giải lao 15 phút");
    assert!(v["item"]["since"].is_null());
    let (s, _) = r
        .live(
            &chair,
            Method::POST,
            &format!("/speakers/{}/floor", rid(4)),
            json!({}),
        )
        .await;
    assert_eq!(s.as_u16(), 409, "nobody speaks during a recess");
    r.ok(&chair, Method::POST, "/resume", json!({})).await;
    let v = r
        .ok(
            &chair,
            Method::POST,
            "/item",
            json!({"item_id": r.items[1]}),
        )
        .await;
    assert_eq!(v["item"]["item_id"], r.items[1].as_str());
    assert!(v["item_spent_ms"][&r.items[0]].as_i64().is_some());
    assert!(
        queue_people(&v).is_empty(),
        "the new item has its own queue"
    );
    let v = r.ok(&chair, Method::POST, "/end", json!({})).await;
    assert_eq!(v["phase"], "ended");
    assert!(
        v["queue"].as_array().unwrap().is_empty(),
        "waiting requests lapse"
    );
}

#[tokio::test]
async fn follow_me_reaches_who_may_see_the_document_and_hides_it_from_others() {
    let r = Room::new().await;
    let chair = r.chair.clone();
    r.ok(&chair, Method::POST, "/start", json!({})).await;
    // Restrict the document to A before following it.
    let (s, v) =
        r.b.call(
            Method::PUT,
            &format!("/api/documents/{}", r.doc),
            Some(&r.sec),
            Some(json!({"restricted_to": [r.person("A")]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let url = r.b.url(&format!("/api/meetings/{}/events", r.meeting));
    let head = r.b.get_json("/api/room").await["head_seq"]
        .as_u64()
        .unwrap();
    let mut a = SseReader::open_as(&r.b.client, &url, Some(head), Some(&r.tablet("A"))).await;
    let mut bee = SseReader::open_as(&r.b.client, &url, Some(head), Some(&r.tablet("B"))).await;
    let (s, e) = r
        .live(
            &chair,
            Method::PUT,
            "/follow",
            json!({"document_id": r.doc, "page": 0}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("live.bad_page"))
    );
    r.ok(
        &chair,
        Method::PUT,
        "/follow",
        json!({"document_id": r.doc, "page": 3}),
    )
    .await;
    let ev = a.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(ev.event.as_deref(), Some("follow.set"));
    let body: Value = serde_json::from_str(&ev.data).unwrap();
    assert_eq!(body["body"]["page"], 3);
    assert_eq!(body["body"]["document_id"], r.doc.as_str());
    let ev = bee.next(Duration::from_secs(5)).await.unwrap();
    let body: Value = serde_json::from_str(&ev.data).unwrap();
    assert_eq!(
        body["body"],
        json!({"meeting_id": r.meeting, "hidden": true}),
        "B may not see the document: not even its id"
    );
    let v = r.ok(&r.tablet("B"), Method::GET, "", json!({})).await;
    assert_eq!(v["follow"]["hidden"], true);
    assert!(v["follow"]["document_id"].is_null());
    let v = r.ok(&r.tablet("A"), Method::GET, "", json!({})).await;
    assert_eq!(v["follow"]["page"], 3);
    let v = r.ok(&chair, Method::DELETE, "/follow", json!({})).await;
    assert!(v["follow"].is_null());
}

#[tokio::test]
async fn a_feed_resumed_mid_queue_and_a_restarted_box_give_the_same_state() {
    let mut r = Room::new().await;
    let chair = r.chair.clone();
    r.ok(&chair, Method::POST, "/start", json!({})).await;
    r.ask("A", &rid(1), "opinion").await;
    let url = r.b.url(&format!("/api/meetings/{}/events", r.meeting));
    let before = r.ok(&r.tablet("B"), Method::GET, "", json!({})).await;
    let seen = before["seq"].as_u64().unwrap();
    let mut feed = SseReader::open_as(&r.b.client, &url, Some(seen), Some(&r.tablet("B"))).await;
    r.ask("B", &rid(2), "question").await;
    let first = feed.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(first.event.as_deref(), Some("speech.requested"));
    let last_id: u64 = first.id.unwrap().parse().unwrap();
    // The Wi-Fi drops; meanwhile the queue moves on.
    drop(feed);
    r.ask("D", &rid(3), "procedural").await;
    r.ok(
        &chair,
        Method::POST,
        &format!("/speakers/{}/floor", rid(3)),
        json!({}),
    )
    .await;
    let mut feed = SseReader::open_as(&r.b.client, &url, Some(last_id), Some(&r.tablet("B"))).await;
    let mut kinds = Vec::new();
    while let Some(ev) = feed.next(Duration::from_millis(800)).await {
        kinds.push(ev.event.unwrap());
    }
    assert_eq!(
        kinds,
        vec!["speech.requested", "speech.started"],
        "exactly what was missed, once"
    );
    let live = r.ok(&r.tablet("B"), Method::GET, "", json!({})).await;
    // kill -9 mid-meeting: every acknowledged change is there after the restart.
    r.b.kill_hard();
    r.b.restart().await;
    let after = r.ok(&r.tablet("B"), Method::GET, "", json!({})).await;
    assert_eq!(state_of(&after), state_of(&live));
    assert_eq!(after["speaking"]["person_id"], r.person("D").as_str());
    assert_eq!(queue_people(&after), vec![r.person("A"), r.person("B")]);
    let _ = r.sec;
}

#[tokio::test]
async fn only_the_chair_or_the_secretary_handed_the_console_runs_it() {
    let r = Room::new().await;
    let admin = r.b.admin().await;
    let (s, v) = r
        .b
        .call(
            Method::POST,
            "/api/accounts",
            Some(&admin),
            Some(json!({"username": "thuky2", "display_name": "Thư Ký Hai", "roles": ["secretary"], "password": "thu-ky-hai-mat-khau"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let other_sec = r.b.sign_in("thuky2", "thu-ky-hai-mat-khau").await;
    // The chair hands the console to `thuky`; only the chair may.
    let (s, _) = r
        .live(
            &r.sec,
            Method::PUT,
            "/operator",
            json!({"username": "thuky"}),
        )
        .await;
    assert_eq!(s, 403, "a secretary cannot take the console");
    let (s, e) = r
        .live(
            &r.chair,
            Method::PUT,
            "/operator",
            json!({"username": "chutri"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("live.bad_operator"))
    );
    let v = r
        .ok(
            &r.tablet("C"),
            Method::PUT,
            "/operator",
            json!({"username": "thuky"}),
        )
        .await;
    assert_eq!(v["operator"], "thuky");
    assert_eq!(v["can_run"], true, "the chair's tablet runs it too");
    let (s, v) = r.live(&r.sec, Method::GET, "", json!({})).await;
    assert_eq!((s.as_u16(), &v["can_run"]), (200, &json!(true)));
    let (_, v) = r.live(&other_sec, Method::GET, "", json!({})).await;
    assert_eq!(v["can_run"], false);

    r.ok(&r.sec, Method::POST, "/start", json!({})).await;
    r.ask("A", &rid(1), "opinion").await;
    r.ask("G", &rid(2), "opinion").await;
    let doc = r.doc.clone();
    // Every console command: for each caller, the status it gets (in this order: anonymous,
    // IT admin, the other secretary, the delegated secretary, the chair's account, the chair's
    // tablet, a delegate, a guest, an outsider's tablet).
    let anon = String::new();
    let it = admin.clone();
    let callers: Vec<(&str, String)> = vec![
        ("anonymous", anon),
        ("it admin", it),
        ("other secretary", other_sec.clone()),
        ("operator", r.sec.clone()),
        ("chair", r.chair.clone()),
        ("chair tablet", r.tablet("C")),
        ("delegate", r.tablet("A")),
        ("guest", r.tablet("G")),
        ("outsider", r.tablet("O")),
    ];
    type Row = (Method, String, Value, [u16; 9]);
    let rows: Vec<Row> = vec![
        (
            Method::GET,
            String::new(),
            json!({}),
            [401, 403, 200, 200, 200, 200, 200, 200, 404],
        ),
        (
            Method::GET,
            "/report".into(),
            json!({}),
            [401, 403, 200, 200, 200, 200, 200, 200, 404],
        ),
        (
            Method::POST,
            "/start".into(),
            json!({}),
            [401, 403, 403, 409, 409, 409, 403, 403, 404],
        ),
        (
            Method::POST,
            "/resume".into(),
            json!({}),
            [401, 403, 403, 409, 409, 409, 403, 403, 404],
        ),
        (
            Method::POST,
            "/item".into(),
            json!({"item_id": r.items[0]}),
            [401, 403, 403, 200, 200, 200, 403, 403, 404],
        ),
        (
            Method::PUT,
            "/limits".into(),
            json!({"opinion": 240, "question": 120, "reply": 180, "procedural": 60}),
            [401, 403, 403, 200, 200, 200, 403, 403, 404],
        ),
        (
            Method::PUT,
            format!("/speakers/{}/time", rid(1)),
            json!({"seconds": 120}),
            [401, 403, 403, 200, 200, 200, 403, 403, 404],
        ),
        (
            Method::PUT,
            "/speakers".into(),
            json!({"order": [rid(2), rid(1)]}),
            [401, 403, 403, 200, 200, 200, 403, 403, 404],
        ),
        // Someone else's request: the delegate may not withdraw the guest's.
        (
            Method::DELETE,
            format!("/speakers/{}", rid(2)),
            json!({}),
            [401, 403, 403, 200, 200, 200, 403, 200, 404],
        ),
        // Asking for A: A's own tablet and those who run it (a no-op: A already waits).
        (
            Method::POST,
            "/speakers".into(),
            json!({"request_id": rid(7), "kind": "opinion", "person_id": r.person("A")}),
            [401, 403, 403, 200, 200, 200, 200, 403, 404],
        ),
        (
            Method::POST,
            format!("/speakers/{}/floor", rid(1)),
            json!({}),
            [401, 403, 403, 200, 409, 409, 403, 403, 404],
        ),
        (
            Method::POST,
            "/floor/end".into(),
            json!({}),
            [401, 403, 403, 200, 409, 409, 403, 403, 404],
        ),
        (
            Method::PUT,
            "/follow".into(),
            json!({"document_id": doc, "page": 2}),
            [401, 403, 403, 200, 200, 200, 403, 403, 404],
        ),
        (
            Method::DELETE,
            "/follow".into(),
            json!({}),
            [401, 403, 403, 200, 200, 200, 403, 403, 404],
        ),
        (
            Method::POST,
            "/pause".into(),
            json!({"reason": "Nghỉ trưa"}),
            [401, 403, 403, 200, 409, 409, 403, 403, 404],
        ),
        (
            Method::POST,
            "/resume".into(),
            json!({}),
            [401, 403, 403, 200, 409, 409, 403, 403, 404],
        ),
        (
            Method::PUT,
            "/operator".into(),
            json!({"username": "thuky"}),
            [401, 403, 403, 403, 200, 200, 403, 403, 404],
        ),
        (
            Method::POST,
            "/end".into(),
            json!({}),
            [401, 403, 403, 200, 409, 409, 403, 403, 404],
        ),
    ];
    for (method, path, body, want) in rows {
        for ((who, cookie), want) in callers.iter().zip(want) {
            let cookie = (!cookie.is_empty()).then_some(cookie.as_str());
            let body = (method != Method::GET && method != Method::DELETE).then(|| body.clone());
            let (s, v) =
                r.b.call(
                    method.clone(),
                    &format!("/api/meetings/{}/live{path}", r.meeting),
                    cookie,
                    body,
                )
                .await;
            assert_eq!(s.as_u16(), want, "{method} live{path} as {who}: {v}");
            if s.as_u16() >= 400 {
                assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
            }
        }
    }
    // Every event names who did it: the console's changes by the delegated secretary are
    // recorded as thuky's. (Actors are not on the feed, so ask `verify`-free: the log export
    // is not public; the report of the speech shows the floor was given.)
    let v = r.ok(&r.chair, Method::GET, "", json!({})).await;
    assert_eq!(v["phase"], "ended");
    assert_eq!(v["history"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_tablet_that_asks_and_withdraws_in_a_loop_is_stopped() {
    let r = Room::new().await;
    r.ok(&r.chair, Method::POST, "/start", json!({})).await;
    let cookie = r.tablet("A");
    let mut refused = None;
    for n in 0..110u32 {
        let id = format!("{:032x}", 1000 + n);
        let (s, v) = r
            .live(
                &cookie,
                Method::POST,
                "/speakers",
                json!({"request_id": id, "kind": "opinion"}),
            )
            .await;
        if s != StatusCode::OK {
            refused = Some((
                n,
                s.as_u16(),
                v["code"].as_str().unwrap_or_default().to_owned(),
            ));
            break;
        }
        let (s, v) = r
            .live(
                &cookie,
                Method::DELETE,
                &format!("/speakers/{id}"),
                json!({}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    assert_eq!(
        refused,
        Some((100, 429, "live.too_many_requests".to_owned())),
        "the 101st request of one tablet is refused"
    );
    // Others are not affected, and the chair can still add this person.
    r.ask("B", &rid(1), "opinion").await;
    let v = r
        .ok(
            &r.chair,
            Method::POST,
            "/speakers",
            json!({"request_id": rid(2), "kind": "opinion", "person_id": r.person("A")}),
        )
        .await;
    assert_eq!(queue_people(&v), vec![r.person("B"), r.person("A")]);
}

#[tokio::test]
async fn the_one_tap_intervention_gives_the_floor_in_the_same_write() {
    let r = Room::new().await;
    r.ok(&r.chair, Method::POST, "/start", json!({})).await;
    r.ask("A", &rid(1), "opinion").await;
    r.ask("B", &rid(2), "question").await;
    r.ok(
        &r.chair,
        Method::POST,
        &format!("/speakers/{}/floor", rid(1)),
        json!({}),
    )
    .await;
    let before = r.b.get_json("/api/room").await["head_seq"]
        .as_u64()
        .unwrap();
    // D raised a hand: added and given the floor at once; A's speech ends.
    let v = r
        .ok(
            &r.chair,
            Method::POST,
            "/speakers",
            json!({"request_id": rid(3), "kind": "procedural", "person_id": r.person("D"), "floor": true}),
        )
        .await;
    assert_eq!(v["speaking"]["person_id"], r.person("D").as_str());
    assert_eq!(v["speaking"]["seconds"], 60);
    assert_eq!(v["history"][0]["person_id"], r.person("A").as_str());
    assert_eq!(queue_people(&v), vec![r.person("B")]);
    let after = v["seq"].as_u64().unwrap();
    assert_eq!(
        after - before,
        3,
        "requested, A's speech ended, D's started: one write"
    );
    // B already waits: "now" gives B's waiting request the floor, no second entry.
    let v = r
        .ok(
            &r.chair,
            Method::POST,
            "/speakers",
            json!({"request_id": rid(4), "kind": "opinion", "person_id": r.person("B"), "floor": true}),
        )
        .await;
    assert_eq!(v["speaking"]["id"], rid(2).as_str());
    assert!(queue_people(&v).is_empty());
    // Only the console may: a delegate asking "now" for themself is refused.
    let (s, _) = r
        .live(
            &r.tablet("A"),
            Method::POST,
            "/speakers",
            json!({"request_id": rid(5), "kind": "opinion", "floor": true}),
        )
        .await;
    assert_eq!(s, 403, "a delegate cannot take the floor");
    let (s, _) = r
        .live(
            &r.tablet("G"),
            Method::POST,
            "/speakers",
            json!({"request_id": rid(6), "kind": "opinion", "floor": true}),
        )
        .await;
    assert_eq!(s, 403);
}
