//! Sync under a faulty link (issue 12): a real hub (`phonghop hub`) and a real box
//! (`phonghop serve`), the box enrolled with its sync URL pointing at the fault proxy
//! (tests/support/faultproxy.rs), which forwards to the hub's sync port. Each round draws a
//! schedule from a seed (delays, throttling, cuts mid-message in either direction, clean
//! closes, resets, refused windows, replayed connections), writes events and uploads PDFs on
//! the box, lets the faults strike, heals the link, and checks that:
//! - the hub's cursor for the box reaches the box's head, and the box sees it acknowledged;
//! - every PDF the box holds is at the hub, whole (SHA-256 of the hub's file);
//!
//! and at the end, with both stopped and their stores opened with phonghop's `Store`:
//! - the hub's events of the box's origin are byte for byte the box's log, each `seq` once;
//! - both chains verify, and each node's read models equal a rebuild from its log (no event
//!   applied twice).
//!
//! `SYNC_FAULT_ROUNDS` (default 6) and `SYNC_FAULT_SEED` (default fixed, so `make test` is
//! repeatable) choose the schedules; `make bench-sync-faults` runs many more from a random seed.
//! A failing round prints its seed: `SYNC_FAULT_SEED=<seed> SYNC_FAULT_ROUNDS=1` repeats it.

use crate::faultproxy::*;
use crate::helpers::*;
use crate::pdfs::{meeting_pdf, sha256_hex};
use crate::prepare::encode;
use crate::sync::{assert_hub_holds_box, box_status, enroll, issue_token, node_id_of, start_hub};
use crate::tablets::{add_secretary_and_chair, SECRETARY_PW};
use phonghop::store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long the faults of one round may strike before the link is healed.
const FAULT_PHASE: Duration = Duration::from_secs(4);
/// How long a healed link may take to converge.
const CONVERGE: Duration = Duration::from_secs(60);

/// A hub, a fault proxy in front of its sync port, and a box (with a secretary) enrolled
/// with its sync URL pointing at the proxy.
pub struct SyncPair {
    pub hub: TestBox,
    pub hub_admin: String,
    pub proxy: FaultProxy,
    pub room: TestBox,
    pub node: String,
    _tmp: (tempfile::TempDir, tempfile::TempDir),
}

impl SyncPair {
    pub async fn start(schedule: Schedule) -> SyncPair {
        let (hub_tmp, hub) = start_hub().await;
        let hub_admin = hub.admin().await;
        let target = ([127, 0, 0, 1], hub.sync_port.unwrap()).into();
        let proxy = FaultProxy::start(target, schedule).await.unwrap();
        let box_tmp = tempfile::tempdir().unwrap();
        let dir = box_tmp.path().join("data");
        init_dir(&dir);
        add_secretary_and_chair(&dir);
        let token = issue_token(&hub, &hub_admin, ROOM).await;
        let via = format!("https://127.0.0.1:{}", proxy.addr().port());
        let out = enroll(&dir, &hub, &token, &["--sync-url", &via]);
        assert!(
            out.status.success(),
            "enroll: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let node = node_id_of(&dir);
        let room = TestBox::attach(dir, &[]).await;
        SyncPair {
            hub,
            hub_admin,
            proxy,
            room,
            node,
            _tmp: (hub_tmp, box_tmp),
        }
    }

    /// The hub's cursor for the box, from `GET /api/hub/boxes`.
    pub async fn hub_cursor(&self) -> Option<u64> {
        let (s, boxes) = self
            .hub
            .call(Method::GET, "/api/hub/boxes", Some(&self.hub_admin), None)
            .await;
        assert_eq!(s, 200, "{boxes}");
        boxes
            .as_array()?
            .iter()
            .find(|b| b["node_id"] == self.node.as_str())?["cursor"]["seq"]
            .as_u64()
    }

    /// Waits until the hub holds the box's whole log and every blob, and the box knows it,
    /// pressing "sync now" every few seconds. Returns the head reached, or what was last seen.
    /// `hub_head`: the hub's own log must have reached the box that far too (0: not checked).
    pub async fn wait_converged(
        &self,
        box_admin: &str,
        limit: Duration,
        hub_head: u64,
    ) -> Result<u64, String> {
        let deadline = Instant::now() + limit;
        let mut nudged = Instant::now();
        loop {
            let st = box_status(&self.room, box_admin).await;
            let head = st["head"].as_u64().unwrap_or(0);
            let at_hub = self.hub_cursor().await;
            if st["hub_cursor"].as_u64() == Some(head)
                && st["blobs_pending"].as_u64() == Some(0)
                && st["backlog_events"].as_u64() == Some(0)
                && at_hub == Some(head)
                && st["hub_log_held"].as_u64().unwrap_or(0) >= hub_head
            {
                return Ok(head);
            }
            if Instant::now() > deadline {
                return Err(format!("box status {st}, hub cursor {at_hub:?}"));
            }
            if nudged.elapsed() > Duration::from_secs(3) {
                let (s, v) = self
                    .room
                    .call(Method::POST, "/api/sync/now", Some(box_admin), None)
                    .await;
                assert!(s.is_success(), "sync now: {s} {v}");
                nudged = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A draft meeting with one agenda item, for the uploads.
async fn meeting_and_item(b: &TestBox, sec: &str) -> (String, String) {
    let m = b.draft_meeting(sec, &[], "2026-12-10T01:00:00Z").await;
    let item = b.add_item(sec, &m, "Báo cáo kinh tế - xã hội").await;
    (m, item)
}

/// One round's writes: notices, sometimes PDFs of 30 kB to 1.5 MB. Returns the PDFs' hashes
/// and sizes.
async fn write_round(
    b: &TestBox,
    admin: &str,
    sec: &str,
    (meeting, item): (&str, &str),
    rng: &mut StdRng,
    next_pdf: &mut u64,
) -> Vec<(String, usize)> {
    let mut hashes = Vec::new();
    for i in 0..rng.gen_range(3..15) {
        b.post_notice(
            admin,
            &format!("Thông báo số {i}: họp lúc {} giờ", 7 + i % 10),
        )
        .await;
        if rng.gen_bool(0.25) {
            let size = rng.gen_range(30_000..1_500_000);
            let pdf = meeting_pdf(*next_pdf, size);
            *next_pdf += 1;
            let path = format!(
                "/api/meetings/{meeting}/items/{item}/documents?title={}&number={}",
                encode(&format!("Tài liệu {next_pdf}")),
                encode("12/TTr-UBND")
            );
            let sha = sha256_hex(&pdf);
            let len = pdf.len();
            let (s, v) = b
                .upload(sec, &path, &format!("tai-lieu-{next_pdf}.pdf"), pdf)
                .await;
            assert_eq!(s, 201, "{v}");
            hashes.push((sha, len));
        }
    }
    hashes
}

/// A stopped node's read models are what its log implies: nothing applied twice or skipped.
fn assert_read_models_match_a_rebuild(dir: &Path) {
    let store = Store::open(dir).unwrap();
    let live = store.read_model_dump().unwrap();
    store.rebuild().unwrap();
    assert!(
        store.read_model_dump().unwrap() == live,
        "{}: read models differ from a rebuild of the log",
        dir.display()
    );
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn sync_converges_byte_for_byte_under_random_link_faults() {
    let rounds = env_u64("SYNC_FAULT_ROUNDS").unwrap_or(6);
    let base = env_u64("SYNC_FAULT_SEED").unwrap_or(0x5EED_0012);
    eprintln!("sync faults: {rounds} rounds from seed {base}");
    let mut pair = SyncPair::start(Schedule::clean()).await;
    let box_admin = pair.room.admin().await;
    let hub_admin = pair.hub.admin().await;
    let mut hub_head = 0u64;
    let sec = pair.room.sign_in("thuky", SECRETARY_PW).await;
    let (meeting, item) = meeting_and_item(&pair.room, &sec).await;
    let mut rng = StdRng::seed_from_u64(base);
    let mut next_pdf = base % 1000;
    let mut blobs = Vec::new();
    let mut payload = 0u64;
    let started = Instant::now();
    for round in 0..rounds {
        let seed = base.wrapping_add(round);
        let schedule = Schedule::random(seed);
        pair.proxy.set_schedule(schedule.clone());
        let before = pair.proxy.stats();
        let t = Instant::now();
        let new = write_round(
            &pair.room,
            &box_admin,
            &sec,
            (&meeting, &item),
            &mut rng,
            &mut next_pdf,
        )
        .await;
        // The office writes too, while the link is bad: it must reach the box.
        for i in 0..rng.gen_range(1..5) {
            hub_head = pair
                .hub
                .post_notice(&hub_admin, &format!("Trung tâm, vòng {round}, tin {i}"))
                .await;
        }
        payload += new.iter().map(|(_, size)| *size as u64).sum::<u64>();
        blobs.extend(new.into_iter().map(|(sha, _)| sha));
        tokio::time::sleep(FAULT_PHASE.saturating_sub(t.elapsed())).await;
        pair.proxy.heal();
        let head = pair
            .wait_converged(&box_admin, CONVERGE, hub_head)
            .await
            .unwrap_or_else(|e| panic!("round {round}, seed {seed} ({schedule:?}): {e}"));
        for sha in &blobs {
            let at_hub = pair.hub.dir.join("blobs").join(&sha[..2]).join(sha);
            assert!(
                at_hub.is_file() && sha256_file(&at_hub) == *sha,
                "round {round}, seed {seed}: blob {sha} missing or damaged at the hub"
            );
        }
        let s = pair.proxy.stats();
        eprintln!(
            "round {round} seed {seed}: head {head}, {} connections, {} cut, {} closed, {} reset, {} refused windows, {} replays; {} B up, {} B down; {:.1} s",
            s.accepted - before.accepted,
            s.cut - before.cut,
            s.closed - before.closed,
            s.reset_at_accept - before.reset_at_accept,
            s.refused_windows - before.refused_windows,
            s.replays - before.replays,
            s.bytes_up - before.bytes_up,
            s.bytes_down - before.bytes_down,
            t.elapsed().as_secs_f64()
        );
    }
    let s = pair.proxy.stats();
    eprintln!(
        "sync faults: {rounds} rounds in {:.1} s, {} PDFs, {payload} B of PDFs; {} B up through the proxy; {} cuts, {} closes, {} resets, {} replays",
        started.elapsed().as_secs_f64(),
        blobs.len(),
        s.bytes_up,
        s.cut,
        s.closed,
        s.reset_at_accept,
        s.replays
    );
    assert!(s.cut + s.closed + s.reset_at_accept > 0, "no fault struck");
    // Both stopped: the hub's copy of the box's log is the box's log, byte for byte, each seq
    // once; both chains verify; every blob is whole at the hub; no event applied twice.
    pair.room.terminate();
    pair.hub.terminate();
    assert_hub_holds_box(&pair.hub.dir, &pair.room.dir);
    // And the other way: the box holds the hub's own log, byte for byte, each seq once.
    {
        let h = Store::open(&pair.hub.dir).unwrap();
        let hub_node = h.node_id().clone();
        let theirs = h
            .raw_events_after(&hub_node, 0, usize::MAX, usize::MAX)
            .unwrap();
        drop(h);
        let b = Store::open(&pair.room.dir).unwrap();
        let held = b
            .raw_events_after(&hub_node, 0, usize::MAX, usize::MAX)
            .unwrap();
        assert!(held == theirs, "the box's copy of the hub's log differs");
    }
    assert_read_models_match_a_rebuild(&pair.room.dir);
    assert_read_models_match_a_rebuild(&pair.hub.dir);
}

#[tokio::test]
async fn a_replayed_sync_connection_is_refused_by_the_hub_and_changes_nothing() {
    let pair = SyncPair::start(Schedule::clean()).await;
    let box_admin = pair.room.admin().await;
    for i in 0..5 {
        pair.room
            .post_notice(&box_admin, &format!("Thông báo {i}"))
            .await;
    }
    let head = pair.wait_converged(&box_admin, CONVERGE, 0).await.unwrap();
    let (_, before) = pair
        .hub
        .call(Method::GET, "/api/hub/boxes", Some(&pair.hub_admin), None)
        .await;
    // End the box's kept-alive connection, then replay every recorded sync connection
    // (mutual TLS) to the hub, pushes included.
    pair.proxy.close_all();
    let t = Instant::now();
    while pair.proxy.records().is_empty() && t.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let records = pair.proxy.records();
    assert!(records.iter().any(|r| r.up > 2000), "{records:?}");
    for rec in records.iter().filter(|r| r.up > 0) {
        let out = pair
            .proxy
            .replay(rec, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(out.target_closed, "the hub ends a replayed connection");
        let n = tls_records(&out.received).len();
        assert!(n <= 8, "the hub answered a replay with {n} records");
    }
    // The hub's view of the box did not move (no contact recorded from a replay).
    let (_, after) = pair
        .hub
        .call(Method::GET, "/api/hub/boxes", Some(&pair.hub_admin), None)
        .await;
    assert_eq!(before, after);
    assert_eq!(pair.hub_cursor().await, Some(head));
}
