//! Integrity while serving: a changed event, a damaged node id and a store with a newer read
//! model are each caught, never served silently.

use crate::helpers::*;
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use std::path::Path;
use std::time::{Duration, Instant};

const EVENTS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("events");
const META: TableDefinition<&str, &str> = TableDefinition::new("meta");

fn node_id(dir: &Path) -> String {
    let db = redb::ReadOnlyDatabase::open(dir.join("phonghop.redb")).unwrap();
    let txn = db.begin_read().unwrap();
    let meta = txn.open_table(META).unwrap();
    let id = meta.get("node_id").unwrap().unwrap().value().to_owned();
    id
}

/// Replaces `from` with `to` inside the stored bytes of the node's own event `seq`, as someone
/// editing the file would.
pub fn forge_event(dir: &Path, seq: u64, from: &str, to: &str) {
    let node = node_id(dir);
    let db = redb::Database::open(dir.join("phonghop.redb")).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut log = txn.open_table(EVENTS).unwrap();
        let old = log
            .get((node.as_str(), seq))
            .unwrap()
            .unwrap()
            .value()
            .to_vec();
        let text = String::from_utf8(old).unwrap();
        assert!(text.contains(from), "event {seq} has no {from:?}: {text}");
        let forged = text.replacen(from, to, 1);
        log.insert((node.as_str(), seq), forged.as_bytes()).unwrap();
    }
    txn.commit().unwrap();
}

async fn readyz(b: &TestBox) -> (u16, serde_json::Value) {
    let r = b.client.get(b.url("/readyz")).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_changed_event_turns_readiness_red_and_staff_see_it() {
    let mut b = TestBox::start().await;
    let admin = b.admin().await;
    for i in 0..5 {
        b.post_notice(&admin, &format!("Thông báo {i}")).await;
    }
    assert_eq!(readyz(&b).await.0, 200);
    b.terminate();
    // Event 3 is before the checkpoint that the last start recorded: only the full walk
    // after start-up can find it.
    forge_event(&b.dir, 3, "Thông báo", "Thông bao");
    b.restart().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let (status, body) = loop {
        let (status, body) = readyz(&b).await;
        if status != 200 || Instant::now() > deadline {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "log_broken");
    assert_eq!(body["broken"]["seq"], 4, "{body}");
    // A signed-in staff member is told on their next look.
    let admin = b.admin().await;
    let s: serde_json::Value = b
        .client
        .get(b.url("/api/session"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["integrity"]["status"], "broken", "{s}");
    // And `verify` agrees, exiting 65.
    b.terminate();
    let out = phonghop(&["verify", "--data", b.dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65));
}

#[tokio::test]
async fn a_change_after_the_checkpoint_is_caught_at_start() {
    let mut b = TestBox::start().await;
    b.terminate();
    // Events written while stopped cannot happen; a forged last event can.
    let admin_events = {
        let db = redb::ReadOnlyDatabase::open(b.dir.join("phonghop.redb")).unwrap();
        let txn = db.begin_read().unwrap();
        let events = txn.open_table(EVENTS).unwrap();
        events.len().unwrap()
    };
    assert!(admin_events >= 2);
    forge_event(&b.dir, admin_events, "\"v\":1", "\"v\":1 ");
    b.restart().await;
    let (status, body) = readyz(&b).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "log_broken");
}

#[tokio::test]
async fn a_damaged_node_id_is_refused_not_replaced() {
    let mut b = TestBox::start().await;
    b.terminate();
    let dir = b.dir.clone();
    let before = std::fs::read(dir.join("tls/intermediate.pem")).unwrap();
    let node = node_id(&dir);
    // One hex digit changed: still a well-formed id, but not this node's.
    let mut damaged: Vec<char> = node.chars().collect();
    damaged[5] = if damaged[5] == 'a' { 'b' } else { 'a' };
    let damaged: String = damaged.into_iter().collect();
    {
        let db = redb::Database::open(dir.join("phonghop.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("node_id", damaged.as_str())
            .unwrap();
        txn.commit().unwrap();
    }
    let mut child = spawn_serve(&dir, &[]);
    let status = wait_exit(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(65), "a damaged node id must be refused");
    let mut err = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("does not match its own event log"), "{err}");
    // Nothing was made anew: the same CA, and no new intermediate.
    assert_eq!(
        std::fs::read(dir.join("tls/intermediate.pem")).unwrap(),
        before
    );
    let out = phonghop(&["verify", "--data", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65));
}

#[tokio::test]
async fn rebuild_gives_the_same_read_models_and_keeps_sign_ins() {
    let mut b = TestBox::start_demo().await;
    let before = b.get_json("/api/room").await;
    b.terminate();
    let out = phonghop(&["rebuild", "--data", b.dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("rebuilt"), "{said}");
    b.restart().await;
    assert_eq!(b.get_json("/api/room").await["name"], before["name"]);
    let chair = b.sign_in("chutri", "chutri-demo").await;
    let list: serde_json::Value = b
        .client
        .get(b.url("/api/meetings"))
        .header("cookie", &chair)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let m = &list["meetings"][0];
    assert_eq!(m["agenda"].as_array().unwrap().len(), 3, "{m}");
    assert_eq!(m["documents"].as_array().unwrap().len(), 3, "{m}");
    assert_eq!(m["status"], "published");
}
