//! An acknowledged write survives `kill -9`, and the chain stays intact.

use crate::helpers::*;
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn acknowledged_events_survive_kill_9_with_an_intact_chain() {
    const N: usize = 60;
    let mut b = TestBox::start().await;
    let admin = b.admin().await;
    // Writers in parallel, as many tablets would; every 201 is a promise.
    let mut tasks = Vec::new();
    for i in 0..N {
        let client = b.client.clone();
        let url = b.url("/api/room/notices");
        let origin = b.origin();
        let admin = admin.clone();
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .header("origin", origin)
                .header("cookie", admin)
                .json(&serde_json::json!({"text": format!("Sự kiện số {i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()["seq"].as_u64().unwrap()
        }));
    }
    let mut acked = Vec::new();
    for t in tasks {
        acked.push(t.await.unwrap());
    }
    acked.sort_unstable();
    acked.dedup();
    assert_eq!(acked.len(), N, "every write got its own sequence number");

    b.kill_hard();
    let out = phonghop(&["verify", "--data", b.dir.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "verify after kill -9: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("chain intact"), "{text}");

    b.restart().await;
    let head = b.get_json("/api/room").await["head_seq"].as_u64().unwrap();
    assert!(head >= *acked.last().unwrap());
    let mut feed = SseReader::open(&b.client, &b.url("/api/room/events?since=0"), None).await;
    let mut texts = Vec::new();
    while let Some(e) = feed.next(Duration::from_secs(2)).await {
        let d: Value = serde_json::from_str(&e.data).unwrap();
        if let Some(t) = d["body"]["text"].as_str() {
            texts.push(t.to_owned());
        }
    }
    for i in 0..N {
        assert!(texts.contains(&format!("Sự kiện số {i}")), "event {i} lost");
    }
}

#[tokio::test]
async fn verify_reports_the_first_broken_link() {
    let mut b = TestBox::start().await;
    let admin = b.admin().await;
    for i in 0..5 {
        b.post_notice(&admin, &format!("n{i}")).await;
    }
    b.terminate();
    // Someone edits event 4 in the file directly.
    crate::integrity::forge_event(&b.dir, 4, "\"n", "\"N");
    let out = phonghop(&["verify", "--data", b.dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chain broken at event 5"), "{err}");
}
