//! The live feed: resume after a dropped connection with no loss and no duplicate.

use crate::helpers::*;
use serde_json::Value;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn seq(e: &SseEvent) -> u64 {
    let id: u64 = e.id.as_deref().unwrap().parse().unwrap();
    let data: Value = serde_json::from_str(&e.data).unwrap();
    assert_eq!(data["seq"].as_u64(), Some(id), "id and data disagree");
    id
}

#[tokio::test]
async fn a_dropped_feed_resumes_with_exactly_the_missed_events() {
    let b = TestBox::start().await;
    let admin = b.admin().await;
    let head = b.get_json("/api/room").await["head_seq"].as_u64().unwrap();

    let mut feed = SseReader::open(
        &b.client,
        &b.url(&format!("/api/room/events?since={head}")),
        None,
    )
    .await;
    let mut acked = Vec::new();
    for i in 0..3 {
        acked.push(b.post_notice(&admin, &format!("Thông báo {i}")).await);
    }
    let mut seen = Vec::new();
    for _ in 0..3 {
        let e = feed.next(WAIT).await.expect("live event");
        assert_eq!(e.event.as_deref(), Some("notice.posted"));
        seen.push(seq(&e));
    }
    assert_eq!(seen, acked);

    // The tablet drops off the Wi-Fi; the meeting goes on without it.
    drop(feed);
    let last_seen = *seen.last().unwrap();
    let mut missed = Vec::new();
    for i in 3..8 {
        missed.push(b.post_notice(&admin, &format!("Thông báo {i}")).await);
    }

    // It comes back with Last-Event-ID and gets the missed events, then live ones.
    let mut feed = SseReader::open(&b.client, &b.url("/api/room/events"), Some(last_seen)).await;
    let mut replayed = Vec::new();
    for _ in 0..missed.len() {
        let e = feed.next(WAIT).await.expect("replayed event");
        let data: Value = serde_json::from_str(&e.data).unwrap();
        assert!(data["body"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Thông báo"));
        replayed.push(seq(&e));
    }
    assert_eq!(replayed, missed, "replay must be exact");
    let live = b.post_notice(&admin, "Sau khi kết nối lại").await;
    let e = feed.next(WAIT).await.expect("live after replay");
    assert_eq!(seq(&e), live);
    assert!(
        feed.next(Duration::from_millis(500)).await.is_none(),
        "no duplicates"
    );

    // ?since= works the same for clients that cannot set headers.
    let mut feed = SseReader::open(
        &b.client,
        &b.url(&format!("/api/room/events?since={}", missed[2])),
        None,
    )
    .await;
    let e = feed.next(WAIT).await.unwrap();
    assert_eq!(seq(&e), missed[3]);
}

#[tokio::test]
async fn staff_only_events_never_reach_the_public_feed() {
    let b = TestBox::start().await;
    // From the start: node.initialised (public) and account.created (staff only).
    let mut feed = SseReader::open(&b.client, &b.url("/api/room/events?since=0"), None).await;
    let first = feed.next(WAIT).await.unwrap();
    assert_eq!(first.event.as_deref(), Some("node.initialised"));
    let admin = b.admin().await;
    let n = b.post_notice(&admin, "Công khai").await;
    let next = feed.next(WAIT).await.unwrap();
    assert_eq!(next.event.as_deref(), Some("notice.posted"));
    assert_eq!(seq(&next), n);
    assert!(!next.data.contains("account.created"));
}

#[tokio::test]
async fn many_feeds_see_the_same_events_in_order() {
    let b = TestBox::start().await;
    let admin = b.admin().await;
    let head = b.get_json("/api/room").await["head_seq"].as_u64().unwrap();
    let mut feeds = Vec::new();
    for _ in 0..20 {
        feeds.push(
            SseReader::open(
                &b.client,
                &b.url(&format!("/api/room/events?since={head}")),
                None,
            )
            .await,
        );
    }
    let mut acked = Vec::new();
    for i in 0..10 {
        acked.push(b.post_notice(&admin, &format!("n{i}")).await);
    }
    for f in &mut feeds {
        let mut got = Vec::new();
        for _ in 0..acked.len() {
            got.push(seq(&f.next(WAIT).await.unwrap()));
        }
        assert_eq!(got, acked);
    }
}
