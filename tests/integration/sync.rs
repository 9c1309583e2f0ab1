//! Box ⇄ hub sync (issue 12): a real hub and a real box, enrolled with a token, over mutual
//! TLS on loopback. What the hub holds is compared byte for byte with the box's own log.

use crate::helpers::*;
use phonghop::domain::NodeId;
use phonghop::store::Store;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(crate) const HUB_ROOM: &str = "Trung tâm tỉnh (thử nghiệm)";

/// `phonghop init --hub` with the test's IT admin password.
pub(crate) fn init_hub(dir: &Path) {
    let out = phonghop(&[
        "init",
        "--hub",
        "--data",
        dir.to_str().unwrap(),
        "--room",
        HUB_ROOM,
        "--admin-password",
        ADMIN_PASSWORD,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running hub.
pub(crate) async fn start_hub() -> (tempfile::TempDir, TestBox) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    init_hub(&dir);
    let child = spawn_node("hub", &dir, &[]);
    let hub = TestBox::from_child(dir, child).await;
    assert!(hub.sync_port.is_some(), "a hub says its sync port");
    (tmp, hub)
}

/// Issues an enrolment token on the hub as its IT admin.
pub(crate) async fn issue_token(hub: &TestBox, admin: &str, room: &str) -> String {
    let r = hub
        .client
        .post(hub.url("/api/hub/enrolments"))
        .header("origin", hub.origin())
        .header("cookie", admin)
        .json(&json!({ "room": room }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// `phonghop enroll` on a stopped box directory.
pub(crate) fn enroll(
    box_dir: &Path,
    hub: &TestBox,
    token: &str,
    extra: &[&str],
) -> std::process::Output {
    let url = hub.origin();
    let mut args = vec![
        "enroll",
        "--data",
        box_dir.to_str().unwrap(),
        url.as_str(),
        token,
    ];
    args.extend(extra);
    phonghop(&args)
}

/// A fresh box directory enrolled with `hub` (the box is not started).
pub(crate) async fn enrolled_box(hub: &TestBox, admin: &str, tmp: &Path, name: &str) -> PathBuf {
    let dir = tmp.join(name);
    init_dir(&dir);
    let token = issue_token(hub, admin, &format!("Phòng họp {name}")).await;
    let out = enroll(&dir, hub, &token, &[]);
    assert!(
        out.status.success(),
        "enroll failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

pub(crate) fn node_id_of(dir: &Path) -> String {
    // The node id is in the first event of the box's own log.
    let store = Store::open(dir).unwrap();
    store.node_id().to_string()
}

/// Waits until the hub holds the box's log up to `head`; returns the hub's view of the box.
pub(crate) async fn wait_synced(
    hub: &TestBox,
    admin: &str,
    node: &str,
    head: u64,
    limit: Duration,
) -> Value {
    let start = Instant::now();
    loop {
        let r = hub
            .client
            .get(hub.url("/api/hub/boxes"))
            .header("cookie", admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let boxes: Value = r.json().await.unwrap();
        let b = boxes
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["node_id"] == node)
            .cloned();
        if let Some(b) = b {
            if b["cursor"]["seq"].as_u64() == Some(head) {
                return b;
            }
        }
        assert!(
            start.elapsed() < limit,
            "the hub did not reach event {head} of {node} within {limit:?}: {boxes}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Presses "Đồng bộ ngay" on a box's IT page.
pub(crate) async fn sync_now(b: &TestBox, admin: &str) {
    let r = b
        .client
        .post(b.url("/api/sync/now"))
        .header("origin", b.origin())
        .header("cookie", admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

pub(crate) async fn box_status(b: &TestBox, admin: &str) -> Value {
    let r = b
        .client
        .get(b.url("/api/sync/status"))
        .header("cookie", admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Every blob file under `dir/blobs`, by name.
pub(crate) fn blob_names(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(dir.join("blobs")).unwrap().flatten() {
        let name = shard.file_name().to_string_lossy().to_string();
        if name.len() != 2 {
            continue;
        }
        for f in std::fs::read_dir(shard.path()).unwrap().flatten() {
            out.push(f.file_name().to_string_lossy().to_string());
        }
    }
    out.sort();
    out
}

/// With both stopped: the hub's copy of the box's log is the box's log, byte for byte, the
/// hub's chains verify, and every document file of the box is at the hub and intact.
pub(crate) fn assert_hub_holds_box(hub_dir: &Path, box_dir: &Path) {
    let b = Store::open(box_dir).unwrap();
    let h = Store::open(hub_dir).unwrap();
    let node: NodeId = b.node_id().clone();
    let ours = b
        .raw_events_after(&node, 0, usize::MAX, usize::MAX)
        .unwrap();
    let theirs = h
        .raw_events_after(&node, 0, usize::MAX, usize::MAX)
        .unwrap();
    assert_eq!(ours.len(), theirs.len(), "same number of events");
    assert!(ours == theirs, "the hub's copy differs from the box's log");
    assert_eq!(h.cursor(&node).unwrap(), b.cursor(&node).unwrap());
    let report = h.verify().unwrap();
    assert!(report.broken.is_none(), "{:?}", report.broken);
    for name in blob_names(box_dir) {
        let path = hub_dir.join("blobs").join(&name[..2]).join(&name);
        assert!(path.is_file(), "blob {name} missing at the hub");
        assert_eq!(sha256_file(&path), name, "blob {name} damaged at the hub");
    }
}

#[tokio::test]
async fn an_enrolled_box_sends_its_whole_log_and_documents_to_the_hub() {
    let (tmp, mut hub) = start_hub().await;
    let hub_admin = hub.admin().await;
    let box_dir = enrolled_box(&hub, &hub_admin, tmp.path(), "tan-phu").await;
    let node = node_id_of(&box_dir);
    // The demo meeting brings real PDFs.
    let mut b = TestBox::attach(box_dir.clone(), &["--demo"]).await;
    let admin = b.admin().await;
    let status = box_status(&b, &admin).await;
    assert_eq!(status["enrolled"], true);
    assert_eq!(status["room"], "Phòng họp tan-phu");
    let mut head = 0;
    for i in 0..5 {
        head = b.post_notice(&admin, &format!("Thông báo {i}")).await;
    }
    let seen = wait_synced(&hub, &hub_admin, &node, head, Duration::from_secs(30)).await;
    assert_eq!(seen["room"], "Phòng họp tan-phu");
    assert_eq!(seen["revoked"], Value::Null);
    assert!(seen["contact"]["last_contact"].is_string(), "{seen}");
    // "Đồng bộ ngay" after more writes: the box's status reaches the new head with no backlog.
    let head = b.post_notice(&admin, "Sau cùng").await;
    sync_now(&b, &admin).await;
    wait_synced(&hub, &hub_admin, &node, head, Duration::from_secs(30)).await;
    let start = Instant::now();
    loop {
        let s = box_status(&b, &admin).await;
        if s["backlog_events"] == 0 && s["state"] == "idle" {
            assert!(s["last_success"].is_string());
            assert!(
                s["bytes_sent"].as_u64().unwrap() > 100_000,
                "the PDFs were sent: {s}"
            );
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The office's archive shows the box's meeting, and serves its documents to office staff.
    let meetings: Value = hub
        .client
        .get(hub.url(&format!("/api/hub/boxes/{node}/meetings")))
        .header("cookie", &hub_admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = meetings.as_array().unwrap_or_else(|| panic!("{meetings}"));
    assert!(!list.is_empty(), "{meetings}");
    let demo = list
        .iter()
        .find(|m| m["documents"].as_u64() > Some(0))
        .unwrap();
    let mid = demo["id"].as_str().unwrap();
    let detail: Value = hub
        .client
        .get(hub.url(&format!("/api/hub/boxes/{node}/meetings/{mid}")))
        .header("cookie", &hub_admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["info"]["title"], demo["title"]);
    let version = &detail["documents"][0]["versions"][0];
    let sha = version["sha256"].as_str().unwrap();
    let r = hub
        .client
        .get(hub.url(&format!("/api/blobs/{sha}")))
        .header("cookie", &hub_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(
        hex::encode(sha2::Digest::finalize(sha2::Digest::chain_update(
            sha2::Sha256::default(),
            &bytes
        ))),
        sha
    );
    // Nobody signed in gets nothing.
    let r = hub
        .client
        .get(hub.url(&format!("/api/blobs/{sha}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = hub
        .client
        .get(hub.url(&format!("/api/hub/boxes/{node}/meetings")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    b.terminate();
    hub.terminate();
    assert!(!blob_names(&box_dir).is_empty(), "the demo has documents");
    assert_hub_holds_box(&hub.dir, &box_dir);
    assert_archive_is_the_box_state(&hub.dir, &box_dir);
    // The hub holds the box's signed statement of how far its log went.
    let h = Store::open(&hub.dir).unwrap();
    let nid = NodeId::parse(&node).unwrap();
    let checkpoints: Vec<_> = h
        .raw_events_after(&nid, 0, usize::MAX, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|l| phonghop::domain::EventEnvelope::decode(&l).unwrap())
        .filter(|e| e.body.kind() == "log.checkpoint")
        .collect();
    assert!(!checkpoints.is_empty(), "a checkpoint was signed");
    for e in checkpoints {
        let phonghop::domain::EventBody::LogCheckpoint {
            seq,
            hash,
            signature,
            certificate_pem,
        } = &e.body
        else {
            unreachable!()
        };
        assert_eq!((*seq + 1, *hash), (e.seq, e.prev));
        let statement = phonghop::domain::hub::CheckpointStatement::new(&nid, *seq, hash);
        let key = phonghop::signing::certificate_key(certificate_pem).unwrap();
        phonghop::signing::verify_json(&key, &statement, signature).unwrap();
    }
}

/// The hub's archive of a box is exactly the state the box's own log builds on the box.
pub(crate) fn assert_archive_is_the_box_state(hub_dir: &Path, box_dir: &Path) {
    let b = Store::open(box_dir).unwrap();
    let h = Store::open(hub_dir).unwrap();
    let ours = b.read_model_dump().unwrap();
    let theirs = h.archive_dump(b.node_id()).unwrap();
    for (table, rows) in &ours {
        if phonghop::store::archive::NOT_ARCHIVED_TABLES.contains(&table.as_str()) {
            assert!(
                theirs[table].is_empty(),
                "delegates' notes are not archived"
            );
            continue;
        }
        assert!(
            theirs.get(table) == Some(rows),
            "table {table} differs between the box and the hub's archive"
        );
    }
}

#[tokio::test]
async fn enrolment_pins_the_hub_and_each_token_works_once_for_one_box() {
    let (tmp, hub) = start_hub().await;
    let admin = hub.admin().await;
    let (_tmp2, other_hub) = start_hub().await;
    let other_admin = other_hub.admin().await;

    let dir = tmp.path().join("box");
    init_dir(&dir);
    // A token from another hub: its fingerprint does not match this hub's root.
    let foreign = issue_token(&other_hub, &other_admin, "Phòng A").await;
    let out = enroll(&dir, &hub, &foreign, &[]);
    assert_eq!(
        out.status.code(),
        Some(77),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("fingerprint"));
    assert!(!dir.join("sync/hub.json").exists(), "nothing kept");

    // Not a token at all.
    let out = enroll(&dir, &hub, "PH1-not-a-token", &[]);
    assert_eq!(out.status.code(), Some(64));

    // A right-looking token the hub never issued (its root fingerprint is right).
    let real = issue_token(&hub, &admin, "Phòng B").await;
    let forged = format!(
        "PH1-{}-{}",
        "0".repeat(32),
        real.rsplit('-').next().unwrap()
    );
    let out = enroll(&dir, &hub, &forged, &[]);
    assert_eq!(out.status.code(), Some(77));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("enrol.token_invalid"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The real token works once; a second box cannot reuse it.
    let out = enroll(&dir, &hub, &real, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second = tmp.path().join("box2");
    init_dir(&second);
    let out = enroll(&second, &hub, &real, &[]);
    assert_eq!(out.status.code(), Some(77));
    assert!(String::from_utf8_lossy(&out.stderr).contains("enrol.token_used"));
    // Enrolling the same box again needs --replace.
    let out = enroll(&dir, &hub, &real, &[]);
    assert_eq!(out.status.code(), Some(73));

    // The box's log records the enrolment; the hub lists the token as used by that box.
    let node = node_id_of(&dir);
    let store = Store::open(&dir).unwrap();
    let events = store.events_after(0, 100).unwrap();
    assert!(events.iter().any(|e| e.body.kind() == "node.enrolled"));
    drop(store);
    let list: Value = hub
        .client
        .get(hub.url("/api/hub/enrolments"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let used = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["room"] == "Phòng B")
        .unwrap();
    assert_eq!(used["used_by"], node.as_str());
    assert!(
        used.get("token").is_none(),
        "the hub never shows a token again"
    );

    // Staff other than IT cannot issue tokens; nobody signed out can.
    let r = hub
        .client
        .post(hub.url("/api/hub/enrolments"))
        .header("origin", hub.origin())
        .json(&json!({"room": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// A client for the hub's sync port, trusting the hub's root, with an optional client
/// certificate.
fn sync_client(hub: &TestBox, identity: Option<reqwest::Identity>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(hub.root_pem().as_bytes()).unwrap())
        .timeout(Duration::from_secs(10));
    if let Some(id) = identity {
        b = b.identity(id);
    }
    b.build().unwrap()
}

fn identity_of(box_dir: &Path) -> reqwest::Identity {
    let mut pem = std::fs::read(box_dir.join("sync/client.pem")).unwrap();
    pem.extend(std::fs::read(box_dir.join("sync/client.key")).unwrap());
    reqwest::Identity::from_pem(&pem).unwrap()
}

#[tokio::test]
async fn the_sync_port_admits_only_enrolled_boxes_and_a_revoked_box_stops_at_once() {
    let (tmp, hub) = start_hub().await;
    let admin = hub.admin().await;
    let box_dir = enrolled_box(&hub, &admin, tmp.path(), "a").await;
    let node = node_id_of(&box_dir);
    let sync = |path: &str| format!("https://127.0.0.1:{}{path}", hub.sync_port.unwrap());

    // No client certificate: the handshake itself fails.
    let anon = sync_client(&hub, None);
    assert!(anon.get(sync("/sync/v1/hello")).send().await.is_err());
    // The web port does not serve sync at all (it answers with the web app, not the protocol).
    let r = hub
        .client
        .get(hub.url("/sync/v1/hello"))
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(!text.contains("min_protocol"), "{text}");

    let client = sync_client(&hub, Some(identity_of(&box_dir)));
    // The protocol version must be said.
    let r = client.get(sync("/sync/v1/hello")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "sync.version");
    let r = client
        .get(sync("/sync/v1/hello"))
        .header("phonghop-sync", "99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let ok = |rb: reqwest::RequestBuilder| rb.header("phonghop-sync", "1");
    let r = ok(client.get(sync("/sync/v1/hello"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A box asks only about its own log.
    let hub_node = node_id_of_running(&hub).await;
    let r = ok(client.get(sync(&format!("/sync/v1/cursor?origin={hub_node}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "sync.wrong_origin"
    );
    // And pushes only its own events: another box's log is refused.
    let other_dir = tmp.path().join("other");
    init_dir(&other_dir);
    let other = Store::open(&other_dir).unwrap();
    let lines = other
        .raw_events_after(other.node_id(), 0, 100, usize::MAX)
        .unwrap();
    drop(other);
    let body: Vec<u8> = lines
        .iter()
        .flat_map(|l| l.iter().copied().chain([b'\n']))
        .collect();
    let r = ok(client.post(sync("/sync/v1/events")))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "sync.wrong_origin"
    );
    // A blob nobody asked about is not accepted (no filling the hub's disk).
    let r = ok(client.patch(sync(&format!("/sync/v1/blobs/{}", "ab".repeat(32)))))
        .header("upload-offset", "0")
        .header("upload-length", "4")
        .body("abcd")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "sync.not_requested"
    );

    // The box syncs; then IT revokes it and its very next request is refused.
    let mut b = TestBox::attach(box_dir.clone(), &[]).await;
    let box_admin = b.admin().await;
    let head = b.post_notice(&box_admin, "Trước khi thu hồi").await;
    wait_synced(&hub, &admin, &node, head, Duration::from_secs(30)).await;
    let r = hub
        .client
        .post(hub.url(&format!("/api/hub/boxes/{node}/revoke")))
        .header("origin", hub.origin())
        .header("cookie", &admin)
        .json(&json!({"reason": "Máy bị mất"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = ok(client.get(sync("/sync/v1/hello"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "sync.revoked");
    let later = b.post_notice(&box_admin, "Sau khi thu hồi").await;
    let start = Instant::now();
    loop {
        let s = box_status(&b, &box_admin).await;
        if s["state"] == "refused" {
            assert!(
                s["last_error"].as_str().unwrap().contains("sync.revoked"),
                "{s}"
            );
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = wait_synced(&hub, &admin, &node, head, Duration::from_secs(5)).await;
    assert!(seen["revoked"]["reason"] == "Máy bị mất");
    assert!(later > head);
    b.terminate();
}

#[tokio::test]
async fn a_forged_checkpoint_is_refused_and_nothing_of_its_batch_is_stored() {
    use phonghop::domain::{Actor, EventBody, EventEnvelope, Hash};
    let (tmp, hub) = start_hub().await;
    let admin = hub.admin().await;
    let box_dir = enrolled_box(&hub, &admin, tmp.path(), "c").await;
    let store = Store::open(&box_dir).unwrap();
    let own = store.node_id().clone();
    let mut lines = store.raw_events_after(&own, 0, 100, usize::MAX).unwrap();
    let head = store.cursor(&own).unwrap();
    drop(store);
    // A checkpoint that chains correctly but whose signature is not the box's.
    let forged = EventEnvelope {
        v: 1,
        origin: own.clone(),
        seq: head.seq + 1,
        prev: head.hash,
        at: time::OffsetDateTime::now_utc(),
        actor: Actor::Node,
        body: EventBody::LogCheckpoint {
            seq: head.seq,
            hash: head.hash,
            signature: "A".repeat(86),
            certificate_pem: std::fs::read_to_string(box_dir.join("sync/client.pem")).unwrap(),
        },
    };
    let _ = Hash::GENESIS;
    lines.push(forged.encode().unwrap());
    let body: Vec<u8> = lines
        .iter()
        .flat_map(|l| l.iter().copied().chain([b'\n']))
        .collect();
    let client = sync_client(&hub, Some(identity_of(&box_dir)));
    let r = client
        .post(format!(
            "https://127.0.0.1:{}/sync/v1/events",
            hub.sync_port.unwrap()
        ))
        .header("phonghop-sync", "1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "sync.bad_checkpoint"
    );
    let r = client
        .get(format!(
            "https://127.0.0.1:{}/sync/v1/cursor?origin={own}",
            hub.sync_port.unwrap()
        ))
        .header("phonghop-sync", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["seq"],
        0,
        "nothing of the batch stored"
    );
}

async fn node_id_of_running(b: &TestBox) -> String {
    let v = b.get_json("/api/room").await;
    v["node_id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no node_id in /api/room: {v}"))
}

#[tokio::test]
async fn a_box_restored_from_an_old_backup_is_detected_as_a_fork_and_overwrites_nothing() {
    let (tmp, mut hub) = start_hub().await;
    let admin = hub.admin().await;
    let box_dir = enrolled_box(&hub, &admin, tmp.path(), "f").await;
    let node = node_id_of(&box_dir);
    let backup = tmp.path().join("backup");
    copy_dir(&box_dir, &backup);
    let mut b = TestBox::attach(box_dir.clone(), &[]).await;
    let box_admin = b.admin().await;
    let head = b.post_notice(&box_admin, "Bản gốc").await;
    wait_synced(&hub, &admin, &node, head, Duration::from_secs(30)).await;
    b.terminate();
    // The box's disk is replaced by the old copy, and the meeting goes on writing.
    std::fs::remove_dir_all(&box_dir).unwrap();
    copy_dir(&backup, &box_dir);
    let mut b = TestBox::attach(box_dir.clone(), &[]).await;
    let box_admin = b.admin().await;
    for i in 0..3 {
        b.post_notice(&box_admin, &format!("Sau khôi phục {i}"))
            .await;
    }
    let start = Instant::now();
    loop {
        let s = box_status(&b, &box_admin).await;
        if s["state"] == "fork" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The office sees the conflict, recorded once however often the box tries again.
    for _ in 0..2 {
        sync_now(&b, &box_admin).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let start = Instant::now();
    let seen = loop {
        let v: Value = hub
            .client
            .get(hub.url("/api/hub/boxes"))
            .header("cookie", &admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let b = v
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["node_id"] == node)
            .cloned()
            .unwrap();
        if !b["conflicts"].as_array().unwrap().is_empty() {
            break b;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{b}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let conflicts = seen["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{seen}");
    assert_eq!(conflicts[0]["reason"], "fork");
    assert_eq!(conflicts[0]["seq"], head);
    b.terminate();
    hub.terminate();
    // The hub kept what it had: the original events, not the restored box's new ones.
    let h = Store::open(&hub.dir).unwrap();
    let nid = NodeId::parse(&node).unwrap();
    assert_eq!(h.cursor(&nid).unwrap().seq, head);
    let held = h.raw_events_after(&nid, 0, usize::MAX, usize::MAX).unwrap();
    let text = String::from_utf8_lossy(held.last().unwrap()).to_string();
    assert!(text.contains("Bản gốc"), "{text}");
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// On a hub: tokens and revocations are the IT admin's; the box list and the archive are open
/// to office staff; nothing to anyone signed out.
#[tokio::test]
async fn hub_routes_by_role() {
    use crate::tablets::{CHAIR_PW, SECRETARY_PW};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    init_hub(&dir);
    crate::tablets::add_secretary_and_chair(&dir);
    let child = spawn_node("hub", &dir, &[]);
    let hub = TestBox::from_child(dir, child).await;
    let it = hub.admin().await;
    let box_dir = enrolled_box(&hub, &it, tmp.path(), "r").await;
    let node = node_id_of(&box_dir);
    let sec = hub.sign_in("thuky", SECRETARY_PW).await;
    let chair = hub.sign_in("chutri", CHAIR_PW).await;
    let unknown = "0".repeat(32);
    let rows: Vec<(reqwest::Method, String, Option<Value>, [u16; 4])> = vec![
        (
            reqwest::Method::POST,
            "/api/hub/enrolments".into(),
            Some(json!({"room": "Phòng X"})),
            [401, 201, 403, 403],
        ),
        (
            reqwest::Method::GET,
            "/api/hub/enrolments".into(),
            None,
            [401, 200, 403, 403],
        ),
        (
            reqwest::Method::GET,
            "/api/hub/boxes".into(),
            None,
            [401, 200, 200, 200],
        ),
        (
            reqwest::Method::GET,
            format!("/api/hub/boxes/{node}/meetings"),
            None,
            [401, 200, 200, 200],
        ),
        (
            reqwest::Method::GET,
            format!("/api/hub/boxes/{unknown}/meetings"),
            None,
            [401, 404, 404, 404],
        ),
        (
            reqwest::Method::POST,
            format!("/api/hub/boxes/{unknown}/revoke"),
            Some(json!({"reason": "x"})),
            [401, 404, 403, 403],
        ),
        (
            reqwest::Method::GET,
            "/api/sync/status".into(),
            None,
            [401, 200, 403, 403],
        ),
    ];
    for (method, path, body, want) in rows {
        for (i, cookie) in [None, Some(&it), Some(&sec), Some(&chair)]
            .into_iter()
            .enumerate()
        {
            let mut rb = hub
                .client
                .request(method.clone(), hub.url(&path))
                .header("origin", hub.origin());
            if let Some(c) = cookie {
                rb = rb.header("cookie", c);
            }
            if let Some(b) = &body {
                rb = rb.json(b);
            }
            let got = rb.send().await.unwrap().status().as_u16();
            assert_eq!(got, want[i], "{method} {path} as caller {i}");
        }
    }
    // The enrolled box's own revocation, by IT only.
    let r = hub
        .client
        .post(hub.url(&format!("/api/hub/boxes/{node}/revoke")))
        .header("origin", hub.origin())
        .header("cookie", &sec)
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// Starts the hub in `dir` again on the same sync port (the boxes' settings name it).
pub(crate) async fn restart_hub(dir: &Path, sync_port: u16) -> TestBox {
    let port = sync_port.to_string();
    let child = spawn_node("hub", dir, &["--sync-port", &port]);
    TestBox::from_child(dir.to_path_buf(), child).await
}

/// `kill -9` of the hub while a box is sending it documents and events, twice, and of the box
/// in the middle of a push: after restarts both converge, nothing lost, nothing twice.
#[tokio::test]
async fn the_hub_and_the_box_killed_mid_sync_converge_after_restart() {
    let (tmp, mut hub) = start_hub().await;
    let admin = hub.admin().await;
    let box_dir = enrolled_box(&hub, &admin, tmp.path(), "k").await;
    let node = node_id_of(&box_dir);
    let sync_port = hub.sync_port.unwrap();
    let hub_dir = hub.dir.clone();
    // The demo's PDFs make the first push take a while.
    let mut b = TestBox::attach(box_dir.clone(), &["--demo"]).await;
    for wait_ms in [150u64, 400] {
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        hub.kill_hard();
        hub = restart_hub(&hub_dir, sync_port).await;
    }
    // The box killed in turn, right after more writes (a push under way or about to be).
    let box_admin = b.admin().await;
    for i in 0..5 {
        b.post_notice(&box_admin, &format!("Trước khi tắt {i}"))
            .await;
    }
    tokio::time::sleep(Duration::from_millis(1600)).await;
    b.kill_hard();
    let mut b = TestBox::attach(box_dir.clone(), &[]).await;
    let box_admin = b.admin().await;
    let head = b.post_notice(&box_admin, "Sau khi khởi động lại").await;
    let admin = hub.admin().await;
    wait_synced(&hub, &admin, &node, head, Duration::from_secs(60)).await;
    b.terminate();
    hub.terminate();
    assert_hub_holds_box(&hub_dir, &box_dir);
    assert_archive_is_the_box_state(&hub_dir, &box_dir);
}

/// The hub restored from an old backup holds less of the box's log than the box knows it
/// sent: the box sends again what is missing, from the hub's own cursor.
#[tokio::test]
async fn a_hub_restored_from_an_old_backup_gets_back_what_it_lost() {
    let (tmp, mut hub) = start_hub().await;
    let admin = hub.admin().await;
    let box_dir = enrolled_box(&hub, &admin, tmp.path(), "h").await;
    let node = node_id_of(&box_dir);
    let sync_port = hub.sync_port.unwrap();
    let hub_dir = hub.dir.clone();
    let mut b = TestBox::attach(box_dir.clone(), &[]).await;
    let box_admin = b.admin().await;
    let early = b.post_notice(&box_admin, "Trước bản sao lưu").await;
    wait_synced(&hub, &admin, &node, early, Duration::from_secs(30)).await;
    hub.terminate();
    let backup = tmp.path().join("hub-backup");
    copy_dir(&hub_dir, &backup);
    hub = restart_hub(&hub_dir, sync_port).await;
    let admin = hub.admin().await;
    let mut head = early;
    for i in 0..5 {
        head = b
            .post_notice(&box_admin, &format!("Sau bản sao lưu {i}"))
            .await;
    }
    wait_synced(&hub, &admin, &node, head, Duration::from_secs(30)).await;
    // The hub's disk is replaced by the old copy.
    hub.terminate();
    std::fs::remove_dir_all(&hub_dir).unwrap();
    copy_dir(&backup, &hub_dir);
    hub = restart_hub(&hub_dir, sync_port).await;
    let admin = hub.admin().await;
    sync_now(&b, &box_admin).await;
    wait_synced(&hub, &admin, &node, head, Duration::from_secs(60)).await;
    b.terminate();
    hub.terminate();
    assert_hub_holds_box(&hub_dir, &box_dir);
}
