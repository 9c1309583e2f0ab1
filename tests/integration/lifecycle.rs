//! Start-up errors, probes and a clean shutdown.

use crate::helpers::*;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_port_in_use_is_a_clear_error() {
    let b = TestBox::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("other");
    init_dir(&other);
    let port = b.https_port.to_string();
    let mut c = spawn_serve(&other, &["--https-port", &port]);
    let status = wait_exit(&mut c, Duration::from_secs(15));
    let mut err = String::new();
    use std::io::Read;
    c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(status.code(), Some(69), "{err}");
    assert!(
        err.contains(&format!("port {port} is already in use")),
        "{err}"
    );
}

#[tokio::test]
async fn the_same_directory_cannot_be_served_twice() {
    let b = TestBox::start().await;
    let mut c = spawn_serve(&b.dir, &[]);
    let status = wait_exit(&mut c, Duration::from_secs(15));
    assert_eq!(status.code(), Some(69));
}

#[tokio::test]
async fn probes_and_metrics() {
    let b = TestBox::start().await;
    assert_eq!(b.get_json("/healthz").await["status"], "ok");
    let ready = b.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready");
    let _feed = SseReader::open(&b.client, &b.url("/api/room/events"), None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let text = b
        .client
        .get(b.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "phonghop_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("phonghop_http_request_duration_seconds_count{route=\"/readyz\"}"));
    assert!(text.contains("phonghop_live_clients 1"), "{text}");
    assert!(text.contains("phonghop_store_bytes{part=\"db\"}"));
}

// Multi-threaded, so the client keeps reading its feed while the test waits for the exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_live_feeds_and_exits_cleanly() {
    let mut b = TestBox::start().await;
    let mut feed = SseReader::open(&b.client, &b.url("/api/room/events"), None).await;
    let started = Instant::now();
    let status = b.terminate();
    assert!(status.success(), "exit status {status}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "shutdown took {:?}",
        started.elapsed()
    );
    assert!(
        feed.ends_within(Duration::from_secs(2)).await,
        "the feed was not closed"
    );
    assert!(!b.dir.join("serving.json").exists());
}

#[test]
fn help_speaks_plainly() {
    let out = phonghop(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "serve",
        "init",
        "admin",
        "verify",
        "discover",
        "verify-vote",
    ] {
        assert!(text.contains(cmd), "{cmd} missing from --help: {text}");
    }
    let out = phonghop(&["verify-vote", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--root") && text.contains("evidence package"),
        "{text}"
    );
    let out = phonghop(&["serve", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--https-port") && text.contains("PHONGHOP_HTTPS_PORT"),
        "{text}"
    );
}

#[test]
fn a_privileged_port_without_permission_is_a_clear_error() {
    // Run as `nobody`, which may not bind ports below 1024.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            bin(),
        ])
        .args([
            "serve",
            "--data",
            dir.to_str().unwrap(),
            "--https-port",
            "443",
            "--http-port",
            "0",
            "--mdns",
            "off",
        ])
        .env("PHONGHOP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .output()
        .expect("setpriv (util-linux)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(77), "{err}");
    assert!(err.contains("no permission to listen on port 443"), "{err}");
    assert!(err.contains("CAP_NET_BIND_SERVICE"), "{err}");
}
