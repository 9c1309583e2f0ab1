//! The downward half of box ⇄ hub sync (issue 12): a room box pulls its hub's own log, byte
//! for byte, and may download only the hub files that the hub's events say it needs.

use crate::helpers::*;
use crate::sync::{
    box_status, copy_dir, enrolled_box, node_id_of, restart_hub, start_hub, sync_now, wait_synced,
};
use phonghop::domain::NodeId;
use phonghop::store::Store;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Waits until the box says it holds the hub's log up to `head`.
async fn wait_box_holds_hub(b: &TestBox, admin: &str, head: u64, limit: Duration) -> Value {
    let start = Instant::now();
    loop {
        let s = box_status(b, admin).await;
        if s["hub_log_held"].as_u64() == Some(head) {
            return s;
        }
        assert!(
            start.elapsed() < limit,
            "the box did not reach the hub's event {head}: {s}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_box_pulls_the_hubs_log_byte_for_byte_and_hears_of_new_events_without_a_restart() {
    let (tmp, mut hub) = start_hub().await;
    let admin = hub.admin().await;
    let box_dir = enrolled_box(&hub, &admin, tmp.path(), "tay-ninh").await;
    let node = node_id_of(&box_dir);
    // The office writes before the box first connects, and again while it runs.
    hub.post_notice(&admin, "Thông báo của trung tâm trước khi hộp kết nối")
        .await;
    let mut b = TestBox::attach(box_dir.clone(), &[]).await;
    let box_admin = b.admin().await;
    let hub_head = hub.post_notice(&admin, "Lịch họp quý IV").await;
    let s = wait_box_holds_hub(&b, &box_admin, hub_head, Duration::from_secs(30)).await;
    assert_eq!(s["hub_log_head"].as_u64(), Some(hub_head), "{s}");
    assert!(s["bytes_received"].as_u64().unwrap() > 0, "{s}");
    // "Sync now" brings the next hub event at once (the idle check is a minute away).
    let later = hub.post_notice(&admin, "Thay đổi địa điểm").await;
    sync_now(&b, &box_admin).await;
    wait_box_holds_hub(&b, &box_admin, later, Duration::from_secs(20)).await;
    // The hub sees how far the box holds its log (the downward backlog).
    let start = Instant::now();
    loop {
        let box_head = box_status(&b, &box_admin).await["head"].as_u64().unwrap();
        let seen = wait_synced(&hub, &admin, &node, box_head, Duration::from_secs(20)).await;
        if seen["contact"]["hub_log_held"].as_u64() == Some(later) {
            assert_eq!(seen["backlog_down"].as_u64(), Some(0), "{seen}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{seen}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    b.terminate();
    hub.terminate();

    // Both stopped: the box holds the hub's log exactly, its chain verifies, and none of it
    // entered the box's own read models (a notice of the hub is not on the box's board).
    let h = Store::open(&hub.dir).unwrap();
    let hub_node: NodeId = h.node_id().clone();
    let theirs = h
        .raw_events_after(&hub_node, 0, usize::MAX, usize::MAX)
        .unwrap();
    drop(h);
    let bs = Store::open(&box_dir).unwrap();
    let held = bs
        .raw_events_after(&hub_node, 0, usize::MAX, usize::MAX)
        .unwrap();
    assert_eq!(held.len(), theirs.len());
    assert!(held == theirs, "the box's copy of the hub's log differs");
    assert!(bs.verify().unwrap().broken.is_none());
    let room = bs.room().unwrap();
    assert!(
        !format!("{room:?}").contains("Lịch họp quý IV"),
        "a hub notice must not appear on the box's own board"
    );
}

#[tokio::test]
async fn an_idle_box_looks_at_its_hub_by_itself_at_the_configured_interval() {
    let (tmp, mut hub) = start_hub().await;
    let admin = hub.admin().await;
    let box_dir = enrolled_box(&hub, &admin, tmp.path(), "nhan-roi").await;
    std::fs::write(box_dir.join("phonghop.toml"), "sync_check_seconds = 2\n").unwrap();
    let mut b = TestBox::attach(box_dir.clone(), &[]).await;
    let box_admin = b.admin().await;
    // The first session pushes the box's log and ends idle.
    let start = Instant::now();
    let own_head = loop {
        let s = box_status(&b, &box_admin).await;
        if s["state"] == "idle" && s["backlog_events"] == 0 {
            break s["head"].as_u64().unwrap();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The office writes twice; nobody touches the box, and it has nothing of its own to send:
    // it hears of each by looking every 2 s (at the default minute, 15 s would not do).
    for text in ["Lịch tiếp dân tháng 12", "Đổi giờ họp giao ban"] {
        let hub_head = hub.post_notice(&admin, text).await;
        wait_box_holds_hub(&b, &box_admin, hub_head, Duration::from_secs(15)).await;
    }
    let s = box_status(&b, &box_admin).await;
    assert_eq!(
        s["head"].as_u64(),
        Some(own_head),
        "the box wrote nothing that could have started a session: {s}"
    );
    b.terminate();
    hub.terminate();
}

#[tokio::test]
async fn a_box_may_read_only_the_hubs_log_and_only_the_files_granted_to_it() {
    let (tmp, mut hub) = start_hub().await;
    let admin = hub.admin().await;
    let box_dir = enrolled_box(&hub, &admin, tmp.path(), "a").await;
    let other_dir = enrolled_box(&hub, &admin, tmp.path(), "b").await;
    let other = node_id_of(&other_dir);
    // Let box b push a little so the hub holds another box's log.
    let mut ob = TestBox::attach(other_dir.clone(), &[]).await;
    let ob_admin = ob.admin().await;
    let head = ob.post_notice(&ob_admin, "Của phòng B").await;
    wait_synced(&hub, &admin, &other, head, Duration::from_secs(30)).await;
    ob.terminate();
    // A file at the hub that no hub event grants to anyone.
    hub.terminate();
    let secret = {
        let h = Store::open(&hub.dir).unwrap();
        h.blobs()
            .put_bytes(b"%PDF-1.4 tai lieu mat cua trung tam")
            .unwrap()
            .sha256
    };
    let port = hub.sync_port.unwrap();
    let hub = restart_hub(&hub.dir.clone(), port).await;
    let hub_node = hub.get_json("/api/room").await["node_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let sync = |path: &str| format!("https://127.0.0.1:{}{path}", hub.sync_port.unwrap());
    let mut pem = std::fs::read(box_dir.join("sync/client.pem")).unwrap();
    pem.extend(std::fs::read(box_dir.join("sync/client.key")).unwrap());
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(hub.root_pem().as_bytes()).unwrap())
        .identity(reqwest::Identity::from_pem(&pem).unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let get = |url: String| client.get(url).header("phonghop-sync", "1");
    // Another box's log: refused.
    let r = get(sync(&format!("/sync/v1/events?origin={other}&after=0")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "sync.wrong_origin"
    );
    // Its own log is not read back from the hub either (the box is its source).
    let own = node_id_of(&box_dir);
    let r = get(sync(&format!("/sync/v1/events?origin={own}&after=0")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The hub's own log: yes, from any point, with its head.
    let r = get(sync(&format!(
        "/sync/v1/events?origin={hub_node}&after=1&limit=2"
    )))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let head: u64 = r.headers()["phonghop-head"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = r.bytes().await.unwrap();
    let lines: Vec<&[u8]> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 2.min(head as usize - 1));
    let first: Value = serde_json::from_slice(lines[0]).unwrap();
    assert_eq!(first["seq"], 2);
    // A hub file no event grants to this box: not served, though the hub holds it.
    let r = get(sync(&format!("/sync/v1/blobs/{secret}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "sync.no_such_blob"
    );
    // Not a file name at all.
    let r = get(sync("/sync/v1/blobs/..%2F..%2Fhub.redb"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_hub_restored_from_an_old_backup_that_writes_again_is_a_fork_on_the_box() {
    let (tmp, mut hub) = start_hub().await;
    let admin = hub.admin().await;
    let box_dir = enrolled_box(&hub, &admin, tmp.path(), "restored-hub").await;
    let port = hub.sync_port.unwrap();
    let hub_dir = hub.dir.clone();
    hub.terminate();
    let backup = tmp.path().join("hub-backup");
    copy_dir(&hub_dir, &backup);
    let hub = restart_hub(&hub_dir, port).await;
    let admin = hub.admin().await;
    let lost = hub.post_notice(&admin, "Bản tin trung tâm sẽ mất").await;
    let mut b = TestBox::attach(box_dir.clone(), &[]).await;
    let box_admin = b.admin().await;
    wait_box_holds_hub(&b, &box_admin, lost, Duration::from_secs(30)).await;
    let held_before = {
        let mut hub = hub;
        hub.terminate();
        hub.dir.clone()
    };
    // The hub's disk is put back from the backup, and the office writes something else at
    // the same place in the hub's log.
    std::fs::remove_dir_all(&held_before).unwrap();
    copy_dir(&backup, &held_before);
    let hub = restart_hub(&held_before, port).await;
    let admin = hub.admin().await;
    let other = hub
        .post_notice(&admin, "Bản tin khác, cùng số thứ tự")
        .await;
    assert_eq!(other, lost, "the restored hub reuses the number");
    sync_now(&b, &box_admin).await;
    let start = Instant::now();
    loop {
        let s = box_status(&b, &box_admin).await;
        // Judged once the session that found it has ended (it is noted during the session).
        if let Some(why) = s["hub_log_error"]
            .as_str()
            .filter(|_| s["state"] != "syncing")
        {
            assert!(why.contains("restored"), "{s}");
            assert_eq!(s["hub_log_held"].as_u64(), Some(lost), "{s}");
            // Only the downward direction stopped: the box's own log still goes up.
            assert_eq!(s["state"], "idle", "{s}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let node = node_id_of_running_box(&b).await;
    let head = b.post_notice(&box_admin, "Hộp vẫn gửi lên").await;
    wait_synced(&hub, &admin, &node, head, Duration::from_secs(30)).await;
    b.terminate();
    // The box kept its copy of the event it had: nothing was written over.
    let bs = Store::open(&box_dir).unwrap();
    let hub_node =
        NodeId::parse(hub.get_json("/api/room").await["node_id"].as_str().unwrap()).unwrap();
    let kept = bs
        .raw_events_after(&hub_node, lost - 1, 1, usize::MAX)
        .unwrap();
    let kept = String::from_utf8(kept[0].clone()).unwrap();
    assert!(kept.contains("sẽ mất"), "{kept}");
}

async fn node_id_of_running_box(b: &TestBox) -> String {
    b.get_json("/api/room").await["node_id"]
        .as_str()
        .unwrap()
        .to_owned()
}
