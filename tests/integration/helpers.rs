//! The test harness: starts the real `phonghop` binary on port 0 with a fresh data directory,
//! and talks to it over real TLS through a client that trusts only the box's own CA.

use reqwest::{Certificate, Client, StatusCode};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const ROOM: &str = "Phòng họp UBND xã Tân Phú";
pub const ADMIN_PASSWORD: &str = "mat-khau-quan-tri";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_phonghop")
}

/// Runs a subcommand to completion.
pub fn phonghop(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("PHONGHOP_ADMIN_PASSWORD")
        .output()
        .expect("run phonghop")
}

pub fn init_dir(dir: &Path) {
    let out = phonghop(&[
        "init",
        "--data",
        dir.to_str().unwrap(),
        "--room",
        ROOM,
        "--admin-password",
        ADMIN_PASSWORD,
    ]);
    assert!(
        out.status.success(),
        "init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running box.
pub struct TestBox {
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub child: Option<Child>,
    pub https_port: u16,
    pub http_port: u16,
    pub local_name: String,
    pub client: Client,
    /// A hub's sync port.
    pub sync_port: Option<u16>,
}

#[derive(serde::Deserialize)]
struct Serving {
    https_port: u16,
    http_port: u16,
    local_name: String,
    pid: u32,
    #[serde(default)]
    sync_port: Option<u16>,
}

/// Starts `serve` on `dir` and waits until it has written where it listens.
pub fn spawn_serve(dir: &Path, extra: &[&str]) -> Child {
    spawn_node("serve", dir, extra)
}

/// Starts `serve` or `hub` on `dir` (ports 0 unless `extra` names them).
pub fn spawn_node(command: &str, dir: &Path, extra: &[&str]) -> Child {
    let _ = std::fs::remove_file(dir.join("serving.json"));
    let mut args = vec![command, "--data", dir.to_str().unwrap(), "--mdns", "off"];
    if command == "hub" && !extra.contains(&"--sync-port") {
        args.extend(["--sync-port", "0"]);
    }
    if !extra.contains(&"--https-port") {
        args.extend(["--https-port", "0"]);
    }
    if !extra.contains(&"--http-port") {
        args.extend(["--http-port", "0"]);
    }
    args.extend(extra);
    Command::new(bin())
        .args(&args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve")
}

impl TestBox {
    /// A fresh box with an initialised data directory.
    pub async fn start() -> TestBox {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        init_dir(&dir);
        let mut b = TestBox::attach(dir, &[]).await;
        b._tmp = Some(tmp);
        b
    }

    /// A box with the demo meeting (`serve --demo`).
    pub async fn start_demo() -> TestBox {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        init_dir(&dir);
        let mut b = TestBox::attach(dir, &["--demo"]).await;
        b._tmp = Some(tmp);
        b
    }

    /// Starts `serve` on an existing directory.
    pub async fn attach(dir: PathBuf, extra: &[&str]) -> TestBox {
        let child = spawn_serve(&dir, extra);
        TestBox::from_child(dir, child).await
    }

    /// Waits for a `serve` started by hand (with its own limits, say) and attaches to it.
    pub async fn from_child(dir: PathBuf, mut child: Child) -> TestBox {
        let serving = wait_serving(&dir, &mut child).await;
        let client = client_for(&dir, &serving.local_name, serving.https_port);
        TestBox {
            dir,
            _tmp: None,
            child: Some(child),
            https_port: serving.https_port,
            http_port: serving.http_port,
            local_name: serving.local_name,
            client,
            sync_port: serving.sync_port,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{}", self.https_port, path)
    }
    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.https_port)
    }
    pub fn http_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.http_port, path)
    }
    pub fn root_pem(&self) -> String {
        std::fs::read_to_string(self.dir.join("tls/root.pem")).unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.unwrap()
    }

    /// Signs in as staff and returns the session cookie.
    pub async fn sign_in(&self, user: &str, password: &str) -> String {
        let r = self
            .client
            .post(self.url("/api/session"))
            .header("origin", self.origin())
            .json(&serde_json::json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "sign in as {user}");
        let cookie = r
            .headers()
            .get("set-cookie")
            .expect("a session cookie")
            .to_str()
            .unwrap()
            .to_owned();
        for attr in ["HttpOnly", "Secure", "SameSite=Strict"] {
            assert!(cookie.contains(attr), "cookie lacks {attr}: {cookie}");
        }
        cookie.split(';').next().unwrap().to_owned()
    }

    pub async fn admin(&self) -> String {
        self.sign_in("admin", ADMIN_PASSWORD).await
    }

    /// Posts a notice as `cookie` and returns the acknowledged sequence number.
    pub async fn post_notice(&self, cookie: &str, text: &str) -> u64 {
        let r = self
            .client
            .post(self.url("/api/room/notices"))
            .header("origin", self.origin())
            .header("cookie", cookie)
            .json(&serde_json::json!({ "text": text }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["seq"].as_u64().unwrap()
    }

    /// `kill -9`: no chance to flush or clean up.
    pub fn kill_hard(&mut self) {
        let mut c = self.child.take().unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
    }

    /// SIGTERM, and the exit status once it has stopped.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().unwrap();
        signal(c.id(), libc::SIGTERM);
        wait_exit(&mut c, Duration::from_secs(15))
    }

    pub async fn restart(&mut self) {
        let dir = self.dir.clone();
        let mut fresh = TestBox::attach(dir, &[]).await;
        self.child = fresh.child.take();
        self.https_port = fresh.https_port;
        self.http_port = fresh.http_port;
        self.client = fresh.client.clone();
    }
}

impl Drop for TestBox {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn signal(pid: u32, sig: i32) {
    // SAFETY: sending a signal to a child process we started.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

pub fn wait_exit(c: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = c.try_wait().unwrap() {
            return s;
        }
        assert!(
            start.elapsed() < limit,
            "process did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn wait_serving(dir: &Path, child: &mut Child) -> Serving {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("serve exited early with {status}: {err}");
        }
        if let Ok(text) = std::fs::read_to_string(dir.join("serving.json")) {
            if let Ok(s) = serde_json::from_str::<Serving>(&text) {
                if s.pid == child.id() {
                    return s;
                }
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A client that trusts only the box's root CA (no system roots), and resolves the box's
/// `.local` name to loopback.
pub fn client_for(dir: &Path, local_name: &str, https_port: u16) -> Client {
    let pem = std::fs::read(dir.join("tls/root.pem")).unwrap();
    Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(&pem).unwrap())
        .resolve(local_name, ([127, 0, 0, 1], https_port).into())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

/// A minimal SSE reader over a streaming response.
pub struct SseReader {
    resp: reqwest::Response,
    buf: String,
}

impl SseReader {
    pub async fn open(client: &Client, url: &str, last_event_id: Option<u64>) -> SseReader {
        Self::open_as(client, url, last_event_id, None).await
    }

    /// Like [`Self::open`], with a session or device cookie.
    pub async fn open_as(
        client: &Client,
        url: &str,
        last_event_id: Option<u64>,
        cookie: Option<&str>,
    ) -> SseReader {
        let mut req = client.get(url).header("accept", "text/event-stream");
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        SseReader {
            resp,
            buf: String::new(),
        }
    }

    /// The next event with data (comments and retry-only blocks are skipped), or `None` when
    /// the stream ends or nothing comes within `limit`.
    pub async fn next(&mut self, limit: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + limit;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut ev = SseEvent {
                    id: None,
                    event: None,
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        ev.id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        ev.event = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        ev.data.push_str(v.trim_start());
                    }
                }
                if !ev.data.is_empty() {
                    return Some(ev);
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// Reads until the server closes the stream; true if it did within `limit`.
    pub async fn ends_within(&mut self, limit: Duration) -> bool {
        matches!(
            tokio::time::timeout(limit, async {
                while let Ok(Some(_)) = self.resp.chunk().await {}
            })
            .await,
            Ok(())
        )
    }
}

pub fn sha256_file(p: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}
