//! A delegate's marks and notes through the API and the feed: private by default (not even
//! the staff see them), shared on request, edits by revision with the winner answered, and
//! every kind of bad input refused with nothing written.

use crate::helpers::SseReader;
use crate::live::Room;
use crate::votes::hex32;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

impl Room {
    async fn sha(&self, cookie: &str) -> String {
        let (s, m) = self
            .b
            .call(
                Method::GET,
                &format!("/api/meetings/{}", self.meeting),
                Some(cookie),
                None,
            )
            .await;
        assert_eq!(s, 200, "{m}");
        let doc = m["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == self.doc.as_str())
            .unwrap();
        doc["versions"][0]["sha256"].as_str().unwrap().to_owned()
    }

    async fn mark(&self, tag: &str, aid: &str, body: Value) -> (StatusCode, Value) {
        self.b
            .call(
                Method::PUT,
                &format!("/api/meetings/{}/annotations/{aid}", self.meeting),
                Some(&self.tablet(tag)),
                Some(body),
            )
            .await
    }

    async fn marks(&self, cookie: &str) -> Value {
        let (s, v) = self
            .b
            .call(
                Method::GET,
                &format!("/api/meetings/{}/annotations", self.meeting),
                Some(cookie),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }
}

/// The next event of `kind` on a feed, skipping the meeting's other events.
async fn next_of(feed: &mut SseReader, kind: &str) -> crate::helpers::SseEvent {
    loop {
        let ev = feed.next(Duration::from_secs(5)).await.expect(kind);
        if ev.event.as_deref() == Some(kind) {
            return ev;
        }
    }
}

fn highlight(doc: &str, sha: &str, rev: u64) -> Value {
    json!({
        "document_id": doc, "version_sha256": sha, "page": 2, "kind": "highlight",
        "color": "yellow", "rects": [[7200, 70000, 30000, 71200]],
        "text": "dự toán thu ngân sách", "rev": rev,
    })
}

fn ids(v: &Value) -> Vec<String> {
    v["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_private_mark_reaches_only_its_owner_until_shared() {
    let r = Room::new().await;
    let sha = r.sha(&r.tablet("A")).await;
    let feed_url = r.b.url(&format!("/api/meetings/{}/events", r.meeting));
    let head = r.b.get_json("/api/room").await["head_seq"]
        .as_u64()
        .unwrap();
    let mut b_feed =
        SseReader::open_as(&r.b.client, &feed_url, Some(head), Some(&r.tablet("B"))).await;
    let mut chair_feed =
        SseReader::open_as(&r.b.client, &feed_url, Some(head), Some(&r.chair)).await;
    let mut a_feed =
        SseReader::open_as(&r.b.client, &feed_url, Some(head), Some(&r.tablet("A"))).await;
    let aid = hex32();
    let (s, v) = r.mark("A", &aid, highlight(&r.doc, &sha, 1)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["applied"], true);
    assert_eq!(v["annotation"]["owner_id"], r.person("A").as_str());
    // The owner's feed carries it; nobody else's, not even the chair's or the staff's list.
    let got = a_feed
        .next(Duration::from_secs(5))
        .await
        .expect("owner's feed");
    assert_eq!(got.event.as_deref(), Some("annotation.saved"));
    assert_eq!(ids(&r.marks(&r.tablet("A")).await), vec![aid.clone()]);
    for cookie in [r.tablet("B"), r.chair.clone(), r.sec.clone()] {
        let seen = r.marks(&cookie).await;
        assert!(ids(&seen).is_empty());
        assert_eq!(
            seen["names"],
            json!({}),
            "no name of anyone whose marks one cannot see"
        );
    }
    // A notice on the room and a new event prove the other feeds are live and skipped it.
    r.b.call(
        Method::POST,
        "/api/room/notices",
        Some(&r.sec),
        Some(json!({"text": "Nghỉ 5 phút"})),
    )
    .await;
    let (s, _) =
        r.b.call(
            Method::POST,
            &format!("/api/meetings/{}/live/start", r.meeting),
            Some(&r.chair),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 200);
    for feed in [&mut b_feed, &mut chair_feed] {
        let ev = feed.next(Duration::from_secs(5)).await.expect("next event");
        assert_eq!(ev.event.as_deref(), Some("meeting.started"), "{}", ev.data);
    }
    // Shared with the meeting: B sees it, in the list and on the feed.
    let mut shared = highlight(&r.doc, &sha, 2);
    shared["sharing"] = json!("meeting");
    assert_eq!(r.mark("A", &aid, shared).await.0, 200);
    let ev = next_of(&mut b_feed, "annotation.saved").await;
    assert!(ev.data.contains("dự toán thu ngân sách"));
    let b_sees = r.marks(&r.tablet("B")).await;
    assert_eq!(ids(&b_sees), vec![aid.clone()]);
    // B's tablet can say whose mark it is.
    assert_eq!(b_sees["names"][r.person("A")], "Lê Văn An", "{b_sees}");
    // Back to private: B is told it is gone, without its content.
    assert_eq!(r.mark("A", &aid, highlight(&r.doc, &sha, 3)).await.0, 200);
    let ev = next_of(&mut b_feed, "annotation.saved").await;
    let body: Value = serde_json::from_str(&ev.data).unwrap();
    assert_eq!(
        body["body"],
        json!({"meeting_id": r.meeting, "annotation_id": aid, "hidden": true})
    );
    assert!(ids(&r.marks(&r.tablet("B")).await).is_empty());
}

#[tokio::test]
async fn edits_merge_by_revision_and_other_people_cannot_touch_a_mark() {
    let r = Room::new().await;
    let sha = r.sha(&r.tablet("A")).await;
    let aid = hex32();
    assert_eq!(r.mark("A", &aid, highlight(&r.doc, &sha, 2)).await.0, 200);
    // An older revision (a tablet that was offline) loses, and is told what won.
    let mut old = highlight(&r.doc, &sha, 1);
    old["color"] = json!("green");
    let (s, v) = r.mark("A", &aid, old).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["applied"], false);
    assert_eq!(v["annotation"]["color"], "yellow");
    // The same save again changes nothing (a retry).
    let head = r.b.get_json("/api/room").await["head_seq"]
        .as_u64()
        .unwrap();
    assert_eq!(
        r.mark("A", &aid, highlight(&r.doc, &sha, 2)).await.1["applied"],
        false
    );
    assert_eq!(
        r.b.get_json("/api/room").await["head_seq"]
            .as_u64()
            .unwrap(),
        head
    );
    // Someone else's tablet cannot edit or erase it.
    let mut erase = highlight(&r.doc, &sha, 9);
    erase["deleted"] = json!(true);
    let (s, e) = r.mark("B", &aid, erase.clone()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("annotation.not_owner"))
    );
    // Staff accounts have no marks of their own.
    let (s, _) =
        r.b.call(
            Method::PUT,
            &format!("/api/meetings/{}/annotations/{}", r.meeting, hex32()),
            Some(&r.sec),
            Some(highlight(&r.doc, &sha, 1)),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The owner erases it: a tombstone stays for the owner's other tablets.
    let (s, v) = r.mark("A", &aid, erase).await;
    assert_eq!(s, 200, "{v}");
    let mine = r.marks(&r.tablet("A")).await;
    assert_eq!(mine["annotations"][0]["deleted"], true);
    assert_eq!(mine["annotations"][0]["text"], "");
}

#[tokio::test]
async fn bad_marks_are_refused_with_nothing_written() {
    let r = Room::new().await;
    let sha = r.sha(&r.tablet("A")).await;
    let head = r.b.get_json("/api/room").await["head_seq"]
        .as_u64()
        .unwrap();
    let base = highlight(&r.doc, &sha, 1);
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let many_points: Vec<[i32; 2]> = (0..5000).map(|i| [i, i]).collect();
    let cases: Vec<(Value, u16, &str)> = vec![
        (with("page", json!(0)), 422, "annotation.bad_page"),
        (with("rects", json!([])), 422, "annotation.bad_geometry"),
        (
            with("rects", json!([[0, 0, 2147483647, 1]])),
            422,
            "annotation.bad_geometry",
        ),
        (
            with("rects", json!(vec![[1, 1, 2, 2]; 401])),
            422,
            "annotation.bad_geometry",
        ),
        (with("color", json!("#ff0000")), 422, "annotation.bad_color"),
        (
            with("text", json!("x".repeat(5001))),
            422,
            "annotation.bad_text",
        ),
        (
            with("version_sha256", json!("ab".repeat(32))),
            422,
            "annotation.bad_version",
        ),
        (
            with("version_sha256", json!("nope")),
            422,
            "annotation.bad_version",
        ),
        (
            json!({"document_id": r.doc, "version_sha256": sha, "page": 1, "kind": "ink", "color": "red", "width": 200, "strokes": [many_points], "rev": 1}),
            422,
            "annotation.bad_geometry",
        ),
        (with("document_id", json!(hex32())), 404, "not_found"),
    ];
    for (body, status, code) in cases {
        let (s, e) = r.mark("A", &hex32(), body.clone()).await;
        assert_eq!(
            (s.as_u16(), e["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    // Malformed JSON: a float coordinate, a string page, an unknown field.
    for body in [
        with("rects", json!([[1.5, 2, 3, 4]])),
        with("page", json!("2")),
        with("owner_id", json!(r.person("B"))),
    ] {
        let (s, e) = r.mark("A", &hex32(), body.clone()).await;
        assert!(s == 400 || s == 422, "{s} {body}");
        assert!(e["code"].is_string(), "{e}");
    }
    assert_eq!(
        r.b.get_json("/api/room").await["head_seq"]
            .as_u64()
            .unwrap(),
        head
    );
}

#[tokio::test]
async fn a_document_the_person_may_not_see_cannot_be_marked() {
    let r = Room::new().await;
    let sha = r.sha(&r.tablet("A")).await;
    // The secretary restricts the document to B: A may no longer mark it, nor see B's marks.
    let (s, v) =
        r.b.call(
            Method::PUT,
            &format!("/api/documents/{}", r.doc),
            Some(&r.sec),
            Some(json!({"restricted_to": [r.person("B")]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = r.mark("A", &hex32(), highlight(&r.doc, &sha, 1)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let mut shared = highlight(&r.doc, &sha, 1);
    shared["sharing"] = json!("meeting");
    assert_eq!(r.mark("B", &hex32(), shared).await.0, 200);
    assert!(ids(&r.marks(&r.tablet("A")).await).is_empty());
    assert_eq!(ids(&r.marks(&r.tablet("D")).await).len(), 0);
    assert_eq!(ids(&r.marks(&r.tablet("B")).await).len(), 1);
}

#[tokio::test]
async fn a_note_per_item_is_its_owners_alone() {
    let r = Room::new().await;
    let url = format!("/api/meetings/{}/items/{}/note", r.meeting, r.items[0]);
    let (s, v) =
        r.b.call(
            Method::PUT,
            &url,
            Some(&r.tablet("A")),
            Some(json!({"text": "Hỏi lại khoản chi sửa đường", "rev": 1})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        r.marks(&r.tablet("A")).await["notes"][0]["text"],
        "Hỏi lại khoản chi sửa đường"
    );
    for cookie in [r.tablet("B"), r.chair.clone(), r.sec.clone()] {
        assert!(r.marks(&cookie).await["notes"]
            .as_array()
            .unwrap()
            .is_empty());
    }
    let (s, _) =
        r.b.call(
            Method::PUT,
            &format!("/api/meetings/{}/items/{}/note", r.meeting, hex32()),
            Some(&r.tablet("A")),
            Some(json!({"text": "x", "rev": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// "My annotated copy": the version with the owner's marks as PDF annotations, nobody else's.
#[tokio::test]
async fn the_annotated_copy_carries_the_owners_marks_only() {
    let r = Room::new().await;
    let sha = r.sha(&r.tablet("A")).await;
    let mut page1 = highlight(&r.doc, &sha, 1);
    page1["page"] = json!(1);
    assert_eq!(r.mark("A", &hex32(), page1.clone()).await.0, 200);
    let mut shared = page1.clone();
    shared["sharing"] = json!("meeting");
    shared["kind"] = json!("underline");
    assert_eq!(r.mark("B", &hex32(), shared).await.0, 200);
    let url = format!(
        "/api/meetings/{}/documents/{}/versions/1/annotated.pdf",
        r.meeting, r.doc
    );
    let get = |cookie: String| {
        let req = r.b.client.get(r.b.url(&url)).header("cookie", cookie);
        async move { req.send().await.unwrap() }
    };
    let resp = get(r.tablet("A")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    let bytes = resp.bytes().await.unwrap();
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    let page = *doc.get_pages().get(&1).unwrap();
    let subtypes: Vec<Vec<u8>> = doc
        .get_page_annotations(page)
        .unwrap()
        .iter()
        .map(|a| a.get(b"Subtype").unwrap().as_name().unwrap().to_vec())
        .collect();
    assert_eq!(
        subtypes,
        vec![b"Highlight".to_vec()],
        "A's own mark, not B's shared one"
    );
    // Staff have no marks of their own; a version that does not exist is 404.
    assert_eq!(get(r.sec.clone()).await.status(), 403);
    let missing =
        r.b.client
            .get(r.b.url(&url.replace("/versions/1/", "/versions/7/")))
            .header("cookie", r.tablet("A"))
            .send()
            .await
            .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_mark_sent_to_the_presenter_reaches_the_presenter_only() {
    let r = Room::new().await;
    let sha = r.sha(&r.tablet("A")).await;
    let aid = hex32();
    let mut to_presenter = highlight(&r.doc, &sha, 1);
    to_presenter["sharing"] = json!("presenter");
    // The item names no presenter person yet: refused, nothing written.
    let (s, v) = r.mark("A", &aid, to_presenter.clone()).await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["code"], "annotation.no_presenter", "{v}");
    assert!(ids(&r.marks(&r.tablet("A")).await).is_empty());
    // The presenter must be one of the meeting's people: the outsider O is refused.
    let item_url = format!("/api/meetings/{}/items/{}", r.meeting, r.items[0]);
    let (s, v) =
        r.b.call(
            Method::PUT,
            &item_url,
            Some(&r.sec),
            Some(json!({"presenter_id": r.person("O")})),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["code"], "item.bad_presenter_person", "{v}");
    let (s, v) =
        r.b.call(
            Method::PUT,
            &item_url,
            Some(&r.sec),
            Some(json!({"presenter_id": r.person("D"), "presenter": "Hoàng Văn Dũng"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["presenter_id"], r.person("D").as_str());
    // The meeting as a delegate reads it names the presenter person.
    let (_, m) =
        r.b.call(
            Method::GET,
            &format!("/api/meetings/{}", r.meeting),
            Some(&r.tablet("A")),
            None,
        )
        .await;
    assert_eq!(
        m["agenda"][0]["presenter_id"],
        r.person("D").as_str(),
        "{m}"
    );

    let feed_url = r.b.url(&format!("/api/meetings/{}/events", r.meeting));
    let head = r.b.get_json("/api/room").await["head_seq"]
        .as_u64()
        .unwrap();
    let mut d_feed =
        SseReader::open_as(&r.b.client, &feed_url, Some(head), Some(&r.tablet("D"))).await;
    let mut b_feed =
        SseReader::open_as(&r.b.client, &feed_url, Some(head), Some(&r.tablet("B"))).await;
    let (s, v) = r.mark("A", &aid, to_presenter).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["annotation"]["sharing"], "presenter");
    // D, the presenter, sees it on the feed and in the list, with whose it is.
    let ev = next_of(&mut d_feed, "annotation.saved").await;
    assert!(ev.data.contains("dự toán thu ngân sách"), "{}", ev.data);
    let d_sees = r.marks(&r.tablet("D")).await;
    assert_eq!(ids(&d_sees), vec![aid.clone()]);
    assert_eq!(d_sees["names"][r.person("A")], "Lê Văn An");
    // Another delegate, the chair and the staff do not.
    for cookie in [r.tablet("B"), r.tablet("C"), r.chair.clone(), r.sec.clone()] {
        assert!(ids(&r.marks(&cookie).await).is_empty());
    }
    let (s, _) =
        r.b.call(
            Method::POST,
            &format!("/api/meetings/{}/live/start", r.meeting),
            Some(&r.chair),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 200);
    let ev = b_feed
        .next(Duration::from_secs(5))
        .await
        .expect("next event");
    assert_eq!(
        ev.event.as_deref(),
        Some("meeting.started"),
        "B's feed skipped the mark: {}",
        ev.data
    );
    // Replayed from before the mark: D's feed carries it.
    let mut d_replay =
        SseReader::open_as(&r.b.client, &feed_url, Some(head), Some(&r.tablet("D"))).await;
    let ev = next_of(&mut d_replay, "annotation.saved").await;
    assert!(ev.data.contains("dự toán thu ngân sách"), "{}", ev.data);
    // The secretary names G (a guest) instead: asked as the item is now, G sees the mark, live
    // and replayed, and D no longer does.
    let set_presenter = |who: String| {
        let (b, url, sec) = (&r.b, item_url.clone(), r.sec.clone());
        async move {
            let (s, v) = b
                .call(
                    Method::PUT,
                    &url,
                    Some(&sec),
                    Some(json!({ "presenter_id": who })),
                )
                .await;
            assert_eq!(s, 200, "{v}");
        }
    };
    set_presenter(r.person("G")).await;
    assert_eq!(ids(&r.marks(&r.tablet("G")).await), vec![aid.clone()]);
    assert!(ids(&r.marks(&r.tablet("D")).await).is_empty());
    let mut g_replay =
        SseReader::open_as(&r.b.client, &feed_url, Some(head), Some(&r.tablet("G"))).await;
    let ev = next_of(&mut g_replay, "annotation.saved").await;
    assert!(ev.data.contains("dự toán thu ngân sách"), "{}", ev.data);
    let mut d_replay =
        SseReader::open_as(&r.b.client, &feed_url, Some(head), Some(&r.tablet("D"))).await;
    loop {
        let ev = d_replay.next(Duration::from_secs(5)).await.expect("replay");
        assert_ne!(
            ev.event.as_deref(),
            Some("annotation.saved"),
            "D is no longer the presenter: {}",
            ev.data
        );
        if ev.event.as_deref() == Some("agenda.item_updated") {
            break;
        }
    }
    set_presenter(r.person("D")).await;

    // Back to private: D is told it is gone, without its content.
    assert_eq!(r.mark("A", &aid, highlight(&r.doc, &sha, 2)).await.0, 200);
    let ev = next_of(&mut d_feed, "annotation.saved").await;
    let body: Value = serde_json::from_str(&ev.data).unwrap();
    assert_eq!(
        body["body"],
        json!({"meeting_id": r.meeting, "annotation_id": aid, "hidden": true})
    );
    assert!(ids(&r.marks(&r.tablet("D")).await).is_empty());
}

/// The log travels to the central office whole, so a private mark and a personal note are
/// written to it sealed with the box's own key: their words appear nowhere in the log, while
/// the box (and a rebuild of its read models) still reads them, and a shared mark stays clear.
#[tokio::test]
async fn private_marks_and_notes_are_sealed_in_the_log_and_read_only_on_the_box() {
    let mut r = Room::new().await;
    let sha = r.sha(&r.tablet("A")).await;
    let secret = format!("BÍ MẬT {}", hex32());
    let note = format!("GHI CHÚ RIÊNG {}", hex32());
    let open = format!("CÔNG KHAI {}", hex32());
    let mut private = highlight(&r.doc, &sha, 1);
    private["text"] = json!(secret);
    let (s, v) = r.mark("A", &hex32(), private).await;
    assert_eq!(s, 200, "{v}");
    let mut shared = highlight(&r.doc, &sha, 1);
    shared["text"] = json!(open);
    shared["sharing"] = json!("meeting");
    let (s, v) = r.mark("A", &hex32(), shared).await;
    assert_eq!(s, 200, "{v}");
    let url = format!("/api/meetings/{}/items/{}/note", r.meeting, r.items[0]);
    let (s, v) =
        r.b.call(
            Method::PUT,
            &url,
            Some(&r.tablet("A")),
            Some(json!({"text": note, "rev": 1})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // The owner's feed, replayed from the start, carries the plain mark and note.
    let feed_url = r.b.url(&format!("/api/meetings/{}/events", r.meeting));
    let mut feed = SseReader::open_as(&r.b.client, &feed_url, Some(0), Some(&r.tablet("A"))).await;
    let ev = next_of(&mut feed, "annotation.saved").await;
    assert!(ev.data.contains(&secret), "{}", ev.data);
    let ev = next_of(&mut feed, "item_note.saved").await;
    assert!(ev.data.contains(&note), "{}", ev.data);
    drop(feed);
    r.b.terminate();

    let store = phonghop::store::Store::open(&r.b.dir).unwrap();
    let log = store
        .raw_events_after(store.node_id(), 0, usize::MAX, usize::MAX)
        .unwrap();
    let text: Vec<String> = log
        .iter()
        .map(|l| String::from_utf8_lossy(l).to_string())
        .collect();
    assert!(text.iter().any(|l| l.contains("\"annotation.sealed\"")));
    assert!(text.iter().any(|l| l.contains("\"item_note.sealed\"")));
    assert!(
        !text.iter().any(|l| l.contains(&secret)),
        "a private mark in the clear"
    );
    assert!(
        !text.iter().any(|l| l.contains(&note)),
        "a personal note in the clear"
    );
    assert!(
        text.iter().any(|l| l.contains(&open)),
        "a shared mark is meant to be read"
    );
    drop(store);

    // Rebuilt from the log, the box still reads them (its key is kept beside the log).
    let out = crate::helpers::phonghop(&["rebuild", "--data", r.b.dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    r.b.restart().await;
    let marks = r.marks(&r.tablet("A")).await;
    assert!(marks.to_string().contains(&secret), "{marks}");
    assert!(marks.to_string().contains(&note), "{marks}");
}

/// From the room's Wi-Fi, at once: the owner's saves of one mark racing each other (a tablet
/// replaying its queue while the person edits), and another delegate trying to overwrite it.
/// The box keeps the highest revision, writes one event per save it applied and none for the
/// rest, and every refusal leaves the log as it was.
#[tokio::test]
async fn a_burst_of_saves_to_one_mark_keeps_the_highest_revision_and_writes_each_once() {
    use futures_util::future::join_all;
    use rand::seq::SliceRandom;
    let r = Room::new().await;
    let sha = r.sha(&r.tablet("A")).await;
    let aid = hex32();
    async fn head(b: &crate::helpers::TestBox) -> u64 {
        b.get_json("/api/room").await["head_seq"].as_u64().unwrap()
    }
    let before = head(&r.b).await;
    let mut revs: Vec<u64> = (1..=40).collect();
    revs.shuffle(&mut rand::thread_rng());
    let colors = ["yellow", "green", "blue", "pink"];
    let answers = join_all(revs.iter().map(|&rev| {
        let mut body = highlight(&r.doc, &sha, rev);
        body["color"] = json!(colors[rev as usize % colors.len()]);
        r.mark("A", &aid, body)
    }))
    .await;
    let mut applied = 0;
    for (s, v) in &answers {
        assert_eq!(*s, StatusCode::OK, "{v}");
        if v["applied"] == true {
            applied += 1;
        }
        // Whatever a save is told is at least its own revision: it never hears of an older one.
        assert!(v["annotation"]["rev"].as_u64().unwrap() >= 1, "{v}");
    }
    assert!(applied >= 1, "the first save to arrive is applied");
    let after = head(&r.b).await;
    assert_eq!(
        after - before,
        applied,
        "one event per applied save, none for the others"
    );
    let mine = r.marks(&r.tablet("A")).await;
    let list = mine["annotations"].as_array().unwrap();
    assert_eq!(list.len(), 1, "one mark, not one per save: {mine}");
    assert_eq!(list[0]["rev"], 40);
    assert_eq!(list[0]["color"], colors[0]);

    // Another delegate's tablet fires at it from 20 addresses at once: every one refused.
    let attacks = join_all((0..20u8).map(|i| {
        let mut erase = highlight(&r.doc, &sha, 1000 + u64::from(i));
        erase["deleted"] = json!(true);
        let client = crate::displays::client_from(
            &r.b,
            std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 9, i + 1)),
        );
        let url =
            r.b.url(&format!("/api/meetings/{}/annotations/{aid}", r.meeting));
        let (origin, cookie) = (r.b.origin(), r.tablet("B"));
        async move {
            let resp = client
                .put(url)
                .header("origin", origin)
                .header("cookie", cookie)
                .json(&erase)
                .send()
                .await
                .unwrap();
            let s = resp.status();
            (s, resp.json::<Value>().await.unwrap())
        }
    }))
    .await;
    for (s, v) in attacks {
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("annotation.not_owner")),
            "{v}"
        );
    }
    assert_eq!(head(&r.b).await, after, "no refused save wrote anything");
    let mine = r.marks(&r.tablet("A")).await;
    assert_eq!(mine["annotations"][0]["rev"], 40);
    assert_ne!(mine["annotations"][0]["deleted"], true);
}

/// "Bản có ghi chú của tôi" of a 30 MB scan, asked for by four tablets at once and by one of
/// them six times over: the box makes a few copies at a time and one per person, so one tablet
/// firing requests cannot take its memory. The others wait their turn and get their copy; the
/// repeats are told to try again (503 `annotation.export_busy`, Retry-After, in Vietnamese);
/// every copy made is the scan's own bytes with the person's mark after them.
#[tokio::test]
async fn copies_of_a_large_scan_are_made_a_few_at_a_time_and_one_per_person() {
    use futures_util::future::join_all;
    let r = Room::new().await;
    let scan = crate::pdfs::scanned_pdf(60, 30 * 1024 * 1024 / 60);
    let path = format!(
        "/api/meetings/{}/items/{}/documents?title=B%E1%BA%A3n%20qu%C3%A9t",
        r.meeting, r.items[1]
    );
    let (s, v) =
        r.b.upload(&r.sec, &path, "ban-quet.pdf", scan.clone())
            .await;
    assert_eq!(s, 201, "{v}");
    let doc = v["id"].as_str().unwrap().to_owned();
    let sha = v["versions"][0]["sha256"].as_str().unwrap().to_owned();
    for tag in ["A", "B", "C", "D"] {
        let (s, v) = r.mark(tag, &hex32(), highlight(&doc, &sha, 1)).await;
        assert_eq!(s, 200, "{tag}: {v}");
    }
    let url = r.b.url(&format!(
        "/api/meetings/{}/documents/{doc}/versions/1/annotated.pdf",
        r.meeting
    ));
    let ask = |tag: &'static str| {
        let (client, url, cookie) = (r.b.client.clone(), url.clone(), r.tablet(tag));
        async move {
            let resp = client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            let status = resp.status();
            let retry = resp
                .headers()
                .get("retry-after")
                .map(|h| h.to_str().unwrap().to_owned());
            (tag, status, retry, resp.bytes().await.unwrap().to_vec())
        }
    };
    let tags = ["A", "A", "A", "A", "A", "A", "B", "C", "D"];
    let answers = join_all(tags.iter().map(|t| ask(t))).await;
    let (mut made, mut busy) = (Vec::new(), Vec::new());
    for (tag, status, retry, body) in answers {
        if status == StatusCode::OK {
            assert!(
                body.starts_with(&scan),
                "{tag}: the scan's own bytes in front"
            );
            assert!(
                body.windows(10).any(|w| w == b"/Highlight"),
                "{tag}: with the mark"
            );
            made.push(tag);
        } else {
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(
                (status, v["code"].as_str(), retry.as_deref()),
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Some("annotation.export_busy"),
                    Some("10")
                ),
                "{tag}: {v}"
            );
            assert!(v["message"].as_str().unwrap().contains("thử lại"), "{v}");
            busy.push(tag);
        }
    }
    for tag in ["B", "C", "D"] {
        assert!(
            made.contains(&tag),
            "{tag} waited its turn: {made:?} {busy:?}"
        );
    }
    assert!(made.contains(&"A"), "{made:?}");
    assert!(
        busy.iter().all(|t| *t == "A") && !busy.is_empty(),
        "only A's repeats were turned away: {busy:?}"
    );
    // Once its copy is made, A gets the next one at once.
    let (_, status, _, body) = ask("A").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with(&scan));
    // A tablet that hangs up does not free its place while its copy is still being made, so
    // asking and hanging up in a loop cannot start copies without end: asked again at once,
    // it is turned away. (A copy of this scan takes about 150 ms here, so the hang-up comes
    // at a few points within it.) hyper keeps running a handler whose HTTP/2 stream the
    // client reset, so this held before the place moved into the copy's own work too; that
    // move covers a handler dropped for any other reason (a connection cut by the idle limit).
    let mut turned_away = Vec::new();
    for cut in [10u64, 25, 50, 80, 120] {
        // B has no copy in the making.
        let start = std::time::Instant::now();
        while ask("B").await.1 != StatusCode::OK {
            assert!(start.elapsed() < Duration::from_secs(30));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if tokio::time::timeout(Duration::from_millis(cut), ask("B"))
            .await
            .is_ok()
        {
            continue;
        }
        let (_, status, retry, _) = ask("B").await;
        turned_away.push((cut, status, retry));
    }
    assert!(
        turned_away
            .iter()
            .any(|(_, s, r)| *s == StatusCode::SERVICE_UNAVAILABLE && r.as_deref() == Some("10")),
        "a hang-up kept its place until its copy was made: {turned_away:?}"
    );

    // A slow client: C's tablet reads the first piece of its copy and stops. The copy is made,
    // but it holds the box's memory until it is sent, so C keeps its place: asked again, it
    // is turned away; once C has read it all, the next copy is made. (On its own connection:
    // an unread stream must not stall the other answers on a shared one.)
    // A tablet asking for its copy from its own address, the answer left unread.
    let start_reading = |tag: &'static str, octet: u8| {
        let client = crate::displays::client_from(
            &r.b,
            std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 9, octet)),
        );
        let (url, cookie) = (url.clone(), r.tablet(tag));
        async move {
            client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
        }
    };
    let mut reading = start_reading("C", 50).await;
    assert_eq!(reading.status(), StatusCode::OK);
    let first = reading.chunk().await.unwrap().unwrap();
    assert!(scan.starts_with(&first));
    // D reads slowly too: two copies made and unread, yet the room's places for making copies
    // are free, and A gets one at once.
    let mut reading_d = start_reading("D", 51).await;
    assert!(scan.starts_with(&reading_d.chunk().await.unwrap().unwrap()));
    assert_eq!(
        ask("A").await.1,
        StatusCode::OK,
        "the slow readers hold no place for making copies"
    );
    drop(reading_d);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, status, retry, _) = ask("C").await;
    assert_eq!(
        (status, retry.as_deref()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("10")),
        "a copy still being read keeps its place"
    );
    let mut read = first.len();
    while let Some(piece) = reading.chunk().await.unwrap() {
        read += piece.len();
    }
    assert!(read > scan.len(), "the whole copy, marks and all: {read}");
    assert_eq!(ask("C").await.1, StatusCode::OK);
}

/// The live feed against the policy for marks: one mark taken through every sharing and then
/// erased, plus a personal note, × every kind of caller in the meeting, live and replayed.
/// `W` is the mark whole (its revision), `H` "gone" (`{annotation_id, hidden: true}`, to
/// someone who saw it before), `-` nothing at all. The note's words reach its owner only.
#[tokio::test]
async fn every_mark_event_reaches_every_kind_of_caller_as_the_policy_says() {
    use crate::feed_matrix::{head, open_feed, read_until, Got};
    let r = Room::new().await;
    let sha = r.sha(&r.tablet("A")).await;
    // D presents the item the document belongs to; A reads on a second tablet too.
    let (s, v) =
        r.b.call(
            Method::PUT,
            &format!("/api/meetings/{}/items/{}", r.meeting, r.items[0]),
            Some(&r.sec),
            Some(json!({"presenter_id": r.person("D")})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let a2 = r.b.pair_tablet(&r.sec, &r.person("A"), "2580").await.cookie;
    let display = crate::displays::pair_display(&r.b, &r.sec, "Máy chiếu hội trường").await;
    let callers: Vec<(&str, String)> = vec![
        ("owner", r.tablet("A")),
        ("owner's second tablet", a2),
        ("member", r.tablet("B")),
        ("chair's tablet", r.tablet("C")),
        ("presenter", r.tablet("D")),
        ("guest", r.tablet("G")),
        ("secretary", r.sec.clone()),
        ("chair account", r.chair.clone()),
        ("projector", display),
    ];
    // A tablet of someone not in the meeting has no feed of it.
    let outsider = r.tablet("O");
    assert_eq!(
        crate::feed_matrix::feed_status(&r.b, &r.meeting, Some(&outsider)).await,
        404
    );
    let from = head(&r.b).await;
    let mut live = Vec::new();
    for (_, cookie) in &callers {
        live.push(open_feed(&r.b, &r.meeting, Some(cookie), from).await);
    }

    let aid = hex32();
    const WORDS: &str = "dự toán thu ngân sách";
    // What each caller's list (`GET …/annotations`) holds of the mark after each revision.
    let mut listed: Vec<Vec<u64>> = vec![vec![]; callers.len()];
    for (rev, sharing) in [
        (1, "private"),
        (2, "meeting"),
        (3, "chair"),
        (4, "presenter"),
        (5, "private"),
        (6, "erased"),
    ] {
        let mut body = highlight(&r.doc, &sha, rev);
        if sharing == "erased" {
            body["deleted"] = json!(true);
        } else {
            body["sharing"] = json!(sharing);
        }
        let (s, v) = r.mark("A", &aid, body).await;
        assert_eq!(
            (s, v["applied"].as_bool()),
            (StatusCode::OK, Some(true)),
            "{v}"
        );
        for (i, (_, cookie)) in callers.iter().enumerate() {
            if ids(&r.marks(cookie).await).contains(&aid) {
                listed[i].push(rev);
            }
        }
    }
    let (s, _) =
        r.b.call(
            Method::PUT,
            &format!("/api/meetings/{}/items/{}/note", r.meeting, r.items[0]),
            Some(&r.tablet("A")),
            Some(json!({"text": "Hỏi lại khoản chi sửa trường học", "rev": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // Something every caller sees, so that each feed can be read to its end.
    let end = r.b.add_item(&r.sec, &r.meeting, "Mục bổ sung").await;
    let upto = head(&r.b).await;
    assert!(!end.is_empty());

    let marks_of = |got: &[Got]| -> String {
        got.iter()
            .filter(|g| g.kind.starts_with("annotation."))
            .map(|g| {
                if g.body["hidden"] == true {
                    assert_eq!(g.body["annotation_id"], aid.as_str(), "{}", g.text);
                    assert!(
                        !g.text.contains(WORDS),
                        "a gone mark carries nothing: {}",
                        g.text
                    );
                    "H".to_owned()
                } else {
                    format!("W{}", g.body["annotation"]["rev"])
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    //                          rev: 1 private, 2 meeting, 3 chair, 4 presenter, 5 private, 6 erased
    let want = [
        ("owner", "W1 W2 W3 W4 W5 W6", true),
        ("owner's second tablet", "W1 W2 W3 W4 W5 W6", true),
        ("member", "W2 H", false),
        ("chair's tablet", "W2 W3 H", false),
        ("presenter", "W2 H W4 H", false),
        ("guest", "W2 H", false),
        ("secretary", "W2 W3 H", false),
        ("chair account", "W2 W3 H", false),
        ("projector", "", false),
    ];
    for (i, (who, cookie)) in callers.iter().enumerate() {
        let (name, marks, owner) = want[i];
        assert_eq!(*who, name);
        // Replayed from the very start of the log, as a tablet that lost everything asks.
        let replayed = read_until(
            &mut open_feed(&r.b, &r.meeting, Some(cookie), 0).await,
            upto,
        )
        .await;
        let got = read_until(&mut live[i], upto).await;
        // The list holds the mark exactly while the feed gives it whole.
        let whole: Vec<u64> = marks
            .split_whitespace()
            .filter_map(|m| m.strip_prefix('W')?.parse().ok())
            .collect();
        assert_eq!(listed[i], whole, "{who}: the list after each revision");
        for (how, got) in [("live", &got), ("replayed", &replayed)] {
            assert_eq!(marks_of(got), marks, "{who}, {how}");
            let notes: Vec<&Got> = got
                .iter()
                .filter(|g| g.kind.starts_with("item_note."))
                .collect();
            assert_eq!(notes.len(), usize::from(owner), "{who}, {how}: {notes:?}");
            let all: String = got.iter().map(|g| g.text.as_str()).collect();
            assert_eq!(
                all.contains("sửa trường học"),
                owner,
                "{who}, {how}: the note's words"
            );
            assert!(
                got.iter().any(|g| g.kind == "agenda.item_added"),
                "{who}, {how}: the feed was read to its end"
            );
        }
    }
}

/// What the box made of a save: "applied", "lost" (an edit made alongside it was kept), or
/// "retry" (this save was applied before).
fn outcome(v: &Value) -> &'static str {
    match (v["applied"].as_bool(), v["lost"].as_bool()) {
        (Some(true), Some(false)) => "applied",
        (Some(false), Some(true)) => "lost",
        (Some(false), Some(false)) => "retry",
        _ => "a malformed answer",
    }
}

/// One delegate on two tablets edits the same sticky note and the same item note without
/// seeing the other's edit. The first save to reach the box is kept; the other is answered
/// "lost", never applied, so nothing the first tablet was told was saved gets overwritten. A
/// retry of a save that was applied (its answer lost on the Wi-Fi) is not "lost", even after the
/// other tablet edited on top of it, and even after a rebuild of the read models; a tablet's own
/// save still in flight does not make its next one lost.
#[tokio::test]
async fn edits_made_alongside_each_other_on_two_tablets_are_answered_lost_not_overwritten() {
    let mut r = Room::new().await;
    let sha = r.sha(&r.tablet("A")).await;
    let a2 = r.b.pair_tablet(&r.sec, &r.person("A"), "2580").await.cookie;
    let aid = hex32();
    let note = |text: &str, rev: u64, base: u64| {
        json!({
            "document_id": r.doc, "version_sha256": sha, "page": 1, "kind": "note",
            "color": "yellow", "rects": [[7200, 70000, 7200, 70000]], "text": text,
            "rev": rev, "base_rev": base,
        })
    };
    let path = format!("/api/meetings/{}/annotations/{aid}", r.meeting);
    async fn call(
        b: &crate::helpers::TestBox,
        path: &str,
        cookie: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        b.call(Method::PUT, path, Some(cookie), Some(body)).await
    }
    async fn head(b: &crate::helpers::TestBox) -> u64 {
        b.get_json("/api/room").await["head_seq"].as_u64().unwrap()
    }
    let a1 = r.tablet("A");
    let (s, v) = call(&r.b, &path, &a1, note("Hỏi khoản 3", 1, 0)).await;
    assert_eq!((s, outcome(&v)), (StatusCode::OK, "applied"), "{v}");
    // Both tablets have revision 1. The first tablet's edit arrives first and is kept.
    let (_, v) = call(&r.b, &path, &a1, note("Hỏi khoản 3 và khoản 5", 2, 1)).await;
    assert_eq!(outcome(&v), "applied", "{v}");
    let before = head(&r.b).await;
    // The second tablet, offline, made three edits from revision 1 and sends the last: lost,
    // told what the box keeps, and nothing written.
    let (s, v) = call(&r.b, &path, &a2, note("Đề nghị làm rõ nguồn vốn", 4, 1)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(outcome(&v), "lost", "{v}");
    assert_eq!(v["annotation"]["text"], "Hỏi khoản 3 và khoản 5");
    assert_eq!(head(&r.b).await, before, "a lost save writes nothing");
    // The first tablet's answer was lost on the Wi-Fi and it retries: not lost, nothing written.
    let (_, v) = call(&r.b, &path, &a1, note("Hỏi khoản 3 và khoản 5", 2, 1)).await;
    assert_eq!(outcome(&v), "retry", "{v}");
    // The second tablet, having seen revision 2, edits on top of it: kept.
    let (_, v) = call(
        &r.b,
        &path,
        &a2,
        note("Hỏi khoản 3, khoản 5; nguồn vốn", 3, 2),
    )
    .await;
    assert_eq!(outcome(&v), "applied", "{v}");
    // and a second edit made while the first was still in flight (same base): kept too.
    let (_, v) = call(
        &r.b,
        &path,
        &a2,
        note("Hỏi khoản 3, khoản 5; nguồn vốn ODA", 4, 2),
    )
    .await;
    assert_eq!(outcome(&v), "applied", "{v}");
    // The first tablet's old retry, after the other tablet built on it: still not lost.
    let (_, v) = call(&r.b, &path, &a1, note("Hỏi khoản 3 và khoản 5", 2, 1)).await;
    assert_eq!(outcome(&v), "retry", "{v}");
    assert_eq!(
        v["annotation"]["text"],
        "Hỏi khoản 3, khoản 5; nguồn vốn ODA"
    );

    // The same for a personal note on an agenda item.
    let note_path = format!("/api/meetings/{}/items/{}/note", r.meeting, r.items[0]);
    let item_note =
        |text: &str, rev: u64, base: u64| json!({"text": text, "rev": rev, "base_rev": base});
    assert_eq!(
        call(&r.b, &note_path, &a2, item_note("Ý kiến 1", 1, 0))
            .await
            .1["applied"],
        true
    );
    let (_, v) = call(&r.b, &note_path, &a1, item_note("Ý kiến từ máy 1", 1, 0)).await;
    assert_eq!(outcome(&v), "lost", "{v}");
    assert_eq!(v["note"]["text"], "Ý kiến 1");
    assert_eq!(
        call(
            &r.b,
            &note_path,
            &a1,
            item_note("Ý kiến 1\n\nÝ kiến từ máy 1", 2, 1)
        )
        .await
        .1["applied"],
        true
    );
    let (_, v) = call(&r.b, &note_path, &a2, item_note("Ý kiến 1", 1, 0)).await;
    assert_eq!(outcome(&v), "retry", "a retry: {v}");

    // Bad revisions are refused with a code, and nothing written.
    let before = head(&r.b).await;
    for (rev, base) in [(0, 0), (3, 3), (2, 5)] {
        let (s, v) = call(&r.b, &path, &a1, note("x", rev, base)).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("annotation.bad_revision")
            ),
            "rev {rev} base {base}: {v}"
        );
    }
    let (s, v) = call(&r.b, &note_path, &a1, item_note("x", 0, 0)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("annotation.bad_revision")
        )
    );
    assert_eq!(head(&r.b).await, before);

    // The record of applied saves is rebuilt from the (sealed) log: a retry stays a retry.
    r.b.terminate();
    let out = crate::helpers::phonghop(&["rebuild", "--data", r.b.dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    r.b.restart().await;
    let (_, v) = call(&r.b, &path, &a1, note("Hỏi khoản 3 và khoản 5", 2, 1)).await;
    assert_eq!(outcome(&v), "retry", "{v}");
    // The first tablet, having seen revision 2, edits it without seeing revisions 3 and 4: lost.
    let (_, v) = call(&r.b, &path, &a1, note("Hỏi khoản 3 và khoản 7", 3, 2)).await;
    assert_eq!(outcome(&v), "lost", "{v}");
    let (_, v) = call(&r.b, &note_path, &a2, item_note("Ý kiến 1", 1, 0)).await;
    assert_eq!(outcome(&v), "retry", "{v}");
}

/// The same person's two tablets fire 20 saves each at one note, all edited from revision 1,
/// from 40 addresses at once: the box keeps the saves of whichever tablet reached it first and
/// answers every save of the other "lost"; it writes one event per applied save and none for
/// the rest.
#[tokio::test]
async fn two_tablets_racing_on_one_note_from_many_addresses_keep_one_tablets_edits() {
    use futures_util::future::join_all;
    let r = Room::new().await;
    let sha = r.sha(&r.tablet("A")).await;
    let a2 = r.b.pair_tablet(&r.sec, &r.person("A"), "2580").await.cookie;
    let aid = hex32();
    let body = |text: String, rev: u64, base: u64| {
        json!({
            "document_id": r.doc, "version_sha256": sha, "page": 1, "kind": "note",
            "color": "yellow", "rects": [[7200, 70000, 7200, 70000]], "text": text,
            "rev": rev, "base_rev": base,
        })
    };
    let (s, v) = r.mark("A", &aid, body("Bản đầu".into(), 1, 0)).await;
    assert_eq!(s, 200, "{v}");
    let head = || async {
        r.b.get_json("/api/room").await["head_seq"]
            .as_u64()
            .unwrap()
    };
    let before = head().await;
    let tablets = [("một", r.tablet("A")), ("hai", a2)];
    let url =
        r.b.url(&format!("/api/meetings/{}/annotations/{aid}", r.meeting));
    let answers = join_all((0..40u8).map(|i| {
        let (which, cookie) = tablets[usize::from(i % 2)].clone();
        let rev = 2 + u64::from(i / 2);
        let client = crate::displays::client_from(
            &r.b,
            std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 10, i + 1)),
        );
        let (url, origin) = (url.clone(), r.b.origin());
        let save = body(format!("máy {which}, lần {rev}"), rev, 1);
        async move {
            let resp = client
                .put(url)
                .header("origin", origin)
                .header("cookie", cookie)
                .json(&save)
                .send()
                .await
                .unwrap();
            let s = resp.status();
            (which, s, resp.json::<Value>().await.unwrap())
        }
    }))
    .await;
    let mut applied = std::collections::BTreeMap::<&str, u64>::new();
    let mut lost = std::collections::BTreeMap::<&str, u64>::new();
    for (which, s, v) in &answers {
        assert_eq!(*s, StatusCode::OK, "{v}");
        match outcome(v) {
            "applied" => *applied.entry(which).or_default() += 1,
            "lost" => *lost.entry(which).or_default() += 1,
            other => panic!("{other}: {v}"),
        }
    }
    assert_eq!(
        applied.len(),
        1,
        "only one tablet's saves applied: {applied:?}"
    );
    let (winner, n) = applied.iter().next().map(|(w, n)| (*w, *n)).unwrap();
    let loser = if winner == "một" { "hai" } else { "một" };
    assert_eq!(
        lost.get(loser),
        Some(&20),
        "every save of the other tablet is lost: {lost:?}"
    );
    assert_eq!(head().await - before, n, "one event per applied save");
    let mine = r.marks(&r.tablet("A")).await;
    let kept = &mine["annotations"][0];
    assert!(
        kept["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("máy {winner},")),
        "{kept}"
    );
}
