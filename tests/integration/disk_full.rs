//! A full disk: writes are refused with a clear error and nothing half-written, and the box
//! recovers by itself once space is freed. The data directory sits on a small tmpfs mounted in
//! a private mount namespace; the test reaches it through /proc/<pid>/root.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_full_disk_refuses_writes_cleanly_and_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let script = r#"mount -t tmpfs -o size=6m none "$1" && exec "$0" serve --data "$1/data" --https-port 0 --http-port 0 --mdns off --room "Phòng họp nhỏ""#;
    let child = Command::new("unshare")
        .args(["-rm", "sh", "-c", script, bin(), mnt.to_str().unwrap()])
        .env("PHONGHOP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare (util-linux) is needed for the disk-full test");
    // Stopped even when an assertion fails half-way.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = &mut KillOnDrop(child).0;
    let view: PathBuf = format!("/proc/{}/root{}/data", child.id(), mnt.display()).into();
    let start = Instant::now();
    let serving: Value = loop {
        if let Ok(t) = std::fs::read_to_string(view.join("serving.json")) {
            if let Ok(v) = serde_json::from_str(&t) {
                break v;
            }
        }
        assert!(child.try_wait().unwrap().is_none(), "serve exited early");
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let port = serving["https_port"].as_u64().unwrap() as u16;
    let client = client_for(&view, "unused.local", port);
    let url = |p: &str| format!("https://127.0.0.1:{port}{p}");
    let origin = format!("https://127.0.0.1:{port}");
    let r = client
        .post(url("/api/session"))
        .header("origin", &origin)
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let post = |text: String| {
        let req = client
            .post(url("/api/room/notices"))
            .header("origin", &origin)
            .header("cookie", &cookie)
            .json(&json!({ "text": text }));
        async move { req.send().await.unwrap() }
    };
    assert_eq!(
        post("Trước khi đầy".into()).await.status(),
        StatusCode::CREATED
    );

    // Fill the disk.
    let filler = view.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    let mut acked = vec!["Trước khi đầy".to_owned()];
    let mut refused = None;
    for i in 0..200 {
        let text = format!("Khi đầy {i} {}", "x".repeat(400));
        let r = post(text.clone()).await;
        match r.status() {
            StatusCode::CREATED => acked.push(text),
            StatusCode::INSUFFICIENT_STORAGE => {
                refused = Some(r.json::<Value>().await.unwrap());
                break;
            }
            other => panic!("unexpected {other}: {}", r.text().await.unwrap()),
        }
    }
    let refused = refused.expect("a full disk must refuse writes");
    assert_eq!(refused["code"], "store.disk_full");
    assert!(refused["message"].as_str().unwrap().contains("đầy"));
    let ready = client.get(url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "readyz must report the full disk");

    // Space comes back; the box takes writes again without a restart.
    std::fs::remove_file(&filler).unwrap();
    let r = post("Sau khi dọn".into()).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    acked.push("Sau khi dọn".into());

    // Every acknowledged write is there, in order, and nothing else.
    let mut feed = SseReader::open(&client, &url("/api/room/events?since=0"), None).await;
    let mut texts = Vec::new();
    while let Some(e) = feed.next(Duration::from_secs(2)).await {
        let d: Value = serde_json::from_str(&e.data).unwrap();
        if let Some(t) = d["body"]["text"].as_str() {
            texts.push(t.to_owned());
        }
    }
    assert_eq!(texts, acked);
}
