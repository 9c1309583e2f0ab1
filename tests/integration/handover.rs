//! Issue 12, "meetings prepared at the office flow down to the room": the office's secretary
//! prepares a meeting on the hub with the ordinary desk, hands it to an enrolled room box, and
//! the room has it (documents readable on a delegate's tablet) while the hub refuses any change.

use crate::feed_matrix;
use crate::helpers::*;
use crate::sync::{enrolled_box, init_hub, node_id_of, wait_synced};
use crate::tablets::{add_secretary_and_chair, fixture, SECRETARY_PW};
use phonghop::domain::NodeId;
use phonghop::store::Store;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const HANDED_OVER_VI: &str = "Cuộc họp đã giao cho phòng họp; mọi thay đổi làm tại phòng họp.";

/// The office console's row for `meeting` (`GET /api/hub/meetings`).
async fn office_row(hub: &TestBox, cookie: &str, meeting: &str) -> Value {
    let (s, list) = hub
        .call(Method::GET, "/api/hub/meetings", Some(cookie), None)
        .await;
    assert_eq!(s, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == meeting)
        .unwrap()
        .clone()
}

/// How many `meeting.adopted` the box's own log holds (the box stopped).
fn adoptions(box_dir: &Path) -> usize {
    Store::open(box_dir)
        .unwrap()
        .events_after(0, usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|e| e.body.kind() == "meeting.adopted")
        .count()
}

#[tokio::test]
async fn a_meeting_prepared_at_the_office_is_handed_to_its_room_and_the_office_changes_it_no_more()
{
    let tmp = tempfile::tempdir().unwrap();
    let hub_dir = tmp.path().join("hub");
    init_hub(&hub_dir);
    add_secretary_and_chair(&hub_dir);
    let mut hub = TestBox::from_child(hub_dir.clone(), spawn_node("hub", &hub_dir, &[])).await;
    let admin = hub.admin().await;
    let box_dir = enrolled_box(&hub, &admin, tmp.path(), "tan-phu").await;
    let node = node_id_of(&box_dir);
    add_secretary_and_chair(&box_dir);
    let mut b = TestBox::attach(box_dir.clone(), &[]).await;

    // The office's secretary prepares the meeting with the ordinary desk, review included.
    let sec = hub.sign_in("thuky", SECRETARY_PW).await;
    let an = hub.add_person(&sec, "Lê Văn An", "0912 345 678").await;
    let binh = hub.add_person(&sec, "Trần Thị Bình", "").await;
    let meeting = hub
        .meeting_with(&sec, &[an.clone(), binh.clone()], &[])
        .await;
    let (s, item) = hub
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/items"),
            Some(&sec),
            Some(json!({"title": "Dự toán ngân sách 2027", "presenter_id": an})),
        )
        .await;
    assert_eq!(s, 201, "{item}");
    let item = item["id"].as_str().unwrap().to_owned();
    let pdf = fixture("to-trinh-du-toan.pdf");
    let r = hub
        .client
        .post(hub.url(&format!(
            "/api/meetings/{meeting}/items/{item}/documents?title=T%E1%BB%9D%20tr%C3%ACnh"
        )))
        .header("origin", hub.origin())
        .header("cookie", &sec)
        .header("x-file-name", "to-trinh.pdf")
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let doc: Value = r.json().await.unwrap();
    let sha = doc["versions"][0]["sha256"].as_str().unwrap().to_owned();

    // Refusals: a box the office does not know; a chair may not hand over.
    let path = format!("/api/hub/meetings/{meeting}/handover");
    let (s, v) = hub
        .call(
            Method::POST,
            &path,
            Some(&sec),
            Some(json!({"node": NodeId::random().to_string()})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (404, Some("hub.unknown_box")),
        "{v}"
    );
    let chair = hub.sign_in("chutri", crate::tablets::CHAIR_PW).await;
    let (s, _) = hub
        .call(
            Method::POST,
            &path,
            Some(&chair),
            Some(json!({"node": node})),
        )
        .await;
    assert_eq!(s, 403);
    let (s, v) = hub
        .call(Method::POST, &path, Some(&sec), Some(json!({"node": node})))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["handed_over_to"]["room"], "Phòng họp tan-phu");
    assert_eq!(v["handed_over_to"]["node"], node.as_str());
    let (s, v) = hub
        .call(Method::POST, &path, Some(&sec), Some(json!({"node": node})))
        .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("meeting.handed_over")),
        "{v}"
    );

    // The office changes it no more, whatever the route.
    let edits = [
        (
            Method::PUT,
            format!("/api/meetings/{meeting}"),
            Some(json!({"title": "Đổi"})),
        ),
        (
            Method::POST,
            format!("/api/meetings/{meeting}/items"),
            Some(json!({"title": "Thêm"})),
        ),
        (
            Method::PUT,
            format!("/api/meetings/{meeting}/items/{item}"),
            Some(json!({"title": "Sửa"})),
        ),
        (
            Method::POST,
            format!("/api/meetings/{meeting}/submit"),
            None,
        ),
        // No check of its own for this: the hub's store refuses it beneath the command.
        (
            Method::PUT,
            format!("/api/meetings/{meeting}/attendance/{an}"),
            Some(json!({"status": "excused", "reason": "Đi công tác"})),
        ),
        (
            Method::POST,
            format!("/api/meetings/{meeting}/questions"),
            Some(
                json!({"item_id": item, "title": "Thông qua dự toán", "kind": "motion", "secrecy": "named"}),
            ),
        ),
    ];
    for (method, p, body) in edits {
        let (s, v) = hub.call(method.clone(), &p, Some(&sec), body).await;
        assert_eq!(
            (s.as_u16(), v["code"].as_str()),
            (409, Some("meeting.handed_over")),
            "{method} {p}: {v}"
        );
        assert_eq!(v["message"], HANDED_OVER_VI);
    }
    let (_, m) = hub
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(m["agenda"].as_array().unwrap().len(), 1, "{m}");
    assert_eq!(m["handed_over_to"]["room"], "Phòng họp tan-phu");
    let row = office_row(&hub, &sec, &meeting).await;
    assert_eq!(
        (row["received"].as_bool(), row["documents"].as_u64()),
        (Some(false), Some(1)),
        "{row}"
    );

    // The room box pulls the hub's log, fetches the PDF and adopts the meeting by itself.
    let box_admin = b.admin().await;
    let box_sec = b.sign_in("thuky", SECRETARY_PW).await;
    let (s, _) = b
        .call(Method::POST, "/api/sync/now", Some(&box_admin), None)
        .await;
    assert_eq!(s, 202);
    let start = Instant::now();
    loop {
        let (s, v) = b
            .call(
                Method::GET,
                &format!("/api/meetings/{meeting}"),
                Some(&box_sec),
                None,
            )
            .await;
        if s == 200 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the box did not adopt the meeting: {s} {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // On the box: the meeting, published, with its document readable on An's tablet.
    let tablet = b.pair_tablet(&box_sec, &an, "2468").await;
    let (s, seen) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}"),
            Some(&tablet.cookie),
            None,
        )
        .await;
    assert_eq!(s, 200, "{seen}");
    assert_eq!(seen["status"], "published");
    assert_eq!(seen["from_hub"], true);
    assert_eq!(seen["agenda"][0]["presenter_id"], an.as_str());
    assert_eq!(seen["documents"][0]["versions"][0]["sha256"], sha.as_str());
    let r = b
        .client
        .get(b.url(&format!("/api/blobs/{sha}")))
        .header("cookie", &tablet.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.bytes().await.unwrap() == pdf,
        "the PDF as uploaded at the office"
    );
    // The room carries on with it: its secretary adds an item there.
    let (s, v) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/items"),
            Some(&box_sec),
            Some(json!({"title": "Việc khác"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");

    // The live feed: the adoption (the whole meeting, every phone and restricted document in
    // it) reaches the room's staff, never a delegate's tablet; the new item reaches both.
    let upto = feed_matrix::head(&b).await;
    for (who, cookie, staff) in [
        ("secretary", box_sec.as_str(), true),
        ("delegate", tablet.cookie.as_str(), false),
    ] {
        let mut feed = feed_matrix::open_feed(&b, &meeting, Some(cookie), 0).await;
        let got = feed_matrix::read_until(&mut feed, upto).await;
        let kinds: Vec<&str> = got.iter().map(|g| g.kind.as_str()).collect();
        assert_eq!(
            kinds.contains(&"meeting.adopted"),
            staff,
            "{who}: {kinds:?}"
        );
        assert!(kinds.contains(&"agenda.item_added"), "{who}: {kinds:?}");
        if !staff {
            assert!(
                got.iter().all(|g| !g.text.contains("0912")),
                "no phone number on a delegate's feed: {got:?}"
            );
        }
    }
    assert_eq!(
        feed_matrix::feed_status(&b, &meeting, None).await,
        401,
        "no feed for a caller who is nobody"
    );
    // At the office, the hand-over is on its staff's feed.
    let hub_head = feed_matrix::head(&hub).await;
    let mut feed = feed_matrix::open_feed(&hub, &meeting, Some(&sec), 0).await;
    let got = feed_matrix::read_until(&mut feed, hub_head).await;
    assert!(
        got.iter().any(|g| g.kind == "meeting.handed_over"),
        "{:?}",
        got.iter().map(|g| &g.kind).collect::<Vec<_>>()
    );

    // The office sees the room has it once the box's log is up.
    let head = b.post_notice(&box_admin, "Đã nhận cuộc họp").await;
    let admin = hub.admin().await;
    wait_synced(&hub, &admin, &node, head, Duration::from_secs(60)).await;
    let start = Instant::now();
    loop {
        let row = office_row(&hub, &admin, &meeting).await;
        if row["received"] == true {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{row}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And still refuses a change.
    let (s, v) = hub
        .call(
            Method::PUT,
            &format!("/api/meetings/{meeting}"),
            Some(&sec),
            Some(json!({"place": "Hội trường"})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("meeting.handed_over")),
        "{v}"
    );
    // Adopted once, whatever the pull loop did again; the hub holds the box's log as it is.
    b.terminate();
    hub.terminate();
    assert_eq!(adoptions(&box_dir), 1);
    crate::sync::assert_hub_holds_box(&hub_dir, &box_dir);
    crate::sync::assert_archive_is_the_box_state(&hub_dir, &box_dir);
}
