//! The box under systemd: the units pass `systemd-analyze verify` and keep their hardening, and
//! the real binary speaks the notify protocol to a socket the test binds, as systemd would:
//! READY=1 once the ports answer, WATCHDOG=1 while the store answers (and not while a write is
//! stuck on a frozen disk), STOPPING=1 on SIGTERM.

use crate::helpers::*;
use serde_json::{json, Value};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const UNITS: [&str; 2] = ["phonghop.service", "phonghop-hub.service"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Copies the units with their `ExecStart=` binary pointed at the one under test (verify
/// checks that it exists and is executable; everything else is verified as shipped).
fn units_for_verify(dir: &Path) -> Vec<PathBuf> {
    UNITS
        .iter()
        .map(|u| {
            let text = std::fs::read_to_string(repo().join("systemd").join(u)).unwrap();
            assert!(text.contains("ExecStart=/usr/bin/phonghop "), "{u}");
            let path = dir.join(u);
            std::fs::write(&path, text.replace("/usr/bin/phonghop", bin())).unwrap();
            path
        })
        .collect()
}

#[test]
fn both_units_pass_systemd_analyze_verify_and_keep_their_hardening() {
    if !have("systemd-analyze") {
        eprintln!("SKIPPED: systemd-analyze is not installed (apt-get install systemd)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let units = units_for_verify(tmp.path());
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(&units)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "verify failed: {stderr}");
    // verify exits 0 on unknown keys and bad values ("ignoring"), so any word about our files
    // is a failure.
    let about_ours: Vec<&str> = stderr
        .lines()
        .filter(|l| UNITS.iter().any(|u| l.contains(u)))
        .collect();
    assert!(about_ours.is_empty(), "verify warned: {about_ours:#?}");
    for (u, path) in UNITS.iter().zip(&units) {
        let text = std::fs::read_to_string(path).unwrap();
        for line in [
            "Type=notify",
            "WatchdogSec=30s",
            "AmbientCapabilities=CAP_NET_BIND_SERVICE",
            "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
            "User=phonghop",
        ] {
            assert!(text.lines().any(|l| l == line), "{u} lacks {line}");
        }
        let out = Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--no-pager"])
            .arg(path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        let score: f64 = text
            .lines()
            .find_map(|l| l.split("Overall exposure level for ").nth(1))
            .and_then(|rest| rest.split(": ").nth(1))
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no exposure level for {u}: {text}"));
        assert!(score <= 2.0, "{u}: exposure {score} (was 1.6)");
    }
    let boxed = std::fs::read_to_string(&units[0]).unwrap();
    assert!(boxed.contains("LoadCredential=enroll-token:/etc/phonghop/enroll-token"));
    assert!(boxed.contains("StateDirectory=phonghop\n"));
}

/// The notify socket, as systemd binds it: every datagram with the time it came.
struct NotifySocket {
    path: PathBuf,
    rx: mpsc::Receiver<(Instant, String)>,
}

impl NotifySocket {
    fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = sock.recv(&mut buf) {
                let msg = String::from_utf8_lossy(&buf[..n]).to_string();
                if tx.send((Instant::now(), msg)).is_err() {
                    break;
                }
            }
        });
        NotifySocket { path, rx }
    }

    /// Waits for a datagram with `line` as one of its lines.
    fn wait_for(&self, line: &str, limit: Duration) -> Option<Instant> {
        let end = Instant::now() + limit;
        loop {
            let left = end.checked_duration_since(Instant::now())?;
            match self.rx.recv_timeout(left) {
                Ok((at, msg)) if msg.lines().any(|l| l == line) => return Some(at),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// How many datagrams carry `line` during the next `window`.
    fn count(&self, line: &str, window: Duration) -> usize {
        let end = Instant::now() + window;
        let mut n = 0;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok((_, msg)) if msg.lines().any(|l| l == line) => n += 1,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => panic!("socket closed"),
            }
        }
        n
    }
}

struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serving(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("serving.json")).unwrap()).unwrap()
}

/// WATCHDOG_USEC the tests give: a ping every second.
const WATCHDOG_USEC: &str = "2000000";

#[tokio::test]
async fn ready_after_the_ports_answer_watchdog_while_running_stopping_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    init_dir(&dir);
    let notify = NotifySocket::bind(tmp.path());
    let child = Command::new(bin())
        .args(["serve", "--data", dir.to_str().unwrap(), "--mdns", "off"])
        .args(["--https-port", "0", "--http-port", "0"])
        .env("NOTIFY_SOCKET", &notify.path)
        .env("WATCHDOG_USEC", WATCHDOG_USEC)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);

    notify
        .wait_for("READY=1", Duration::from_secs(30))
        .expect("READY=1 within 30 s");
    // At READY=1 the box answers at once, on both ports.
    let s = serving(&dir);
    let port = s["https_port"].as_u64().unwrap() as u16;
    let client = client_for(&dir, s["local_name"].as_str().unwrap(), port);
    let r = client
        .get(format!("https://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let http = s["http_port"].as_u64().unwrap();
    let r = reqwest::get(format!("http://127.0.0.1:{http}/healthz"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A ping every second (half the period); allow for a loaded machine.
    let pings = notify.count("WATCHDOG=1", Duration::from_secs(5));
    assert!(pings >= 3, "only {pings} WATCHDOG=1 in 5 s");

    let sent = Instant::now();
    signal(child.0.id(), libc::SIGTERM);
    let stopping = notify
        .wait_for("STOPPING=1", Duration::from_secs(10))
        .expect("STOPPING=1 after SIGTERM");
    assert!(stopping >= sent);
    let status = wait_exit(&mut child.0, Duration::from_secs(20));
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn without_notify_socket_the_box_runs_as_before() {
    // NOTIFY_SOCKET unset, WATCHDOG_USEC set: nothing is sent anywhere and nothing fails.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    init_dir(&dir);
    let child = Command::new(bin())
        .args(["serve", "--data", dir.to_str().unwrap(), "--mdns", "off"])
        .args(["--https-port", "0", "--http-port", "0"])
        .env_remove("NOTIFY_SOCKET")
        .env("WATCHDOG_USEC", WATCHDOG_USEC)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut b = TestBox::from_child(dir, child).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(b.get_json("/readyz").await["status"], "ready");
    assert!(b.terminate().success());
}

/// Thaws the file system even when an assertion fails, or the box would hang in the kernel.
struct Thaw {
    pid: u32,
    mnt: PathBuf,
}
impl Thaw {
    fn run(&self, flag: &str) -> bool {
        Command::new("nsenter")
            .args(["-t", &self.pid.to_string(), "-m", "fsfreeze", flag])
            .arg(&self.mnt)
            .status()
            .is_ok_and(|s| s.success())
    }
}
impl Drop for Thaw {
    fn drop(&mut self) {
        self.run("-u");
    }
}

/// The honest broken store: the data directory on its own ext4 file system, frozen with
/// `fsfreeze` (as a dying SD card stalls), while a notice is posted. The write hangs holding
/// the writer's turn, so the watchdog probe cannot take it and WATCHDOG=1 stops; thawed, the
/// write finishes and the pings come back. Needs root (mount, fsfreeze): skipped otherwise.
// Multi-threaded: the notice is sent by a task while this thread blocks on the socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchdog_stops_while_a_write_hangs_on_a_frozen_disk_and_resumes_after() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root
        || !["mkfs.ext4", "fsfreeze", "nsenter", "unshare"]
            .iter()
            .all(|t| have(t))
    {
        eprintln!("SKIPPED: needs root, mkfs.ext4, fsfreeze, nsenter and unshare");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("disk.img");
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    std::fs::File::create(&img)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let mkfs = Command::new("mkfs.ext4")
        .args(["-q", "-F"])
        .arg(&img)
        .status()
        .unwrap();
    assert!(mkfs.success());
    let notify = NotifySocket::bind(tmp.path());
    let script = r#"mount -o loop "$1" "$2" || exit 97
"$0" init --data "$2/data" --room "Phòng họp" --admin-password "$3" >/dev/null || exit 98
exec "$0" serve --data "$2/data" --https-port 0 --http-port 0 --mdns off"#;
    let child = Command::new("unshare")
        .args(["-m", "sh", "-c", script, bin()])
        .arg(&img)
        .arg(&mnt)
        .arg(ADMIN_PASSWORD)
        .env("NOTIFY_SOCKET", &notify.path)
        .env("WATCHDOG_USEC", WATCHDOG_USEC)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    if notify
        .wait_for("READY=1", Duration::from_secs(30))
        .is_none()
    {
        let status = child.0.try_wait().unwrap();
        if matches!(status.and_then(|s| s.code()), Some(97)) {
            eprintln!("SKIPPED: no loop device to mount the test file system on");
            return;
        }
        panic!("no READY=1 ({status:?})");
    }
    let pid = child.0.id();
    let view: PathBuf = format!("/proc/{pid}/root{}/data", mnt.display()).into();
    let s = serving(&view);
    let port = s["https_port"].as_u64().unwrap() as u16;
    let client = client_for(&view, s["local_name"].as_str().unwrap(), port);
    let pings = notify.count("WATCHDOG=1", Duration::from_secs(3));
    assert!(
        pings >= 2,
        "only {pings} WATCHDOG=1 in 3 s before the freeze"
    );

    let origin = format!("https://127.0.0.1:{port}");
    let r = client
        .post(format!("{origin}/api/session"))
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

    let frozen = Thaw {
        pid,
        mnt: mnt.clone(),
    };
    assert!(frozen.run("-f"), "fsfreeze -f failed");
    let notice = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .post(format!("{origin}/api/room/notices"))
                .header("origin", &origin)
                .header("cookie", &cookie)
                .json(&json!({"text": "Họp lúc 14 giờ"}))
                .send()
                .await
                .map(|r| r.status())
        }
    });
    // One ping may already be on its way.
    let _ = notify.count("WATCHDOG=1", Duration::from_secs(2));
    let pings = notify.count("WATCHDOG=1", Duration::from_secs(4));
    assert_eq!(
        pings, 0,
        "WATCHDOG=1 sent while a write hangs on a frozen disk"
    );
    assert!(
        !notice.is_finished(),
        "the notice did not wait for the disk"
    );

    drop(frozen);
    notify
        .wait_for("WATCHDOG=1", Duration::from_secs(5))
        .expect("WATCHDOG=1 again after the thaw");
    let status = tokio::time::timeout(Duration::from_secs(30), notice)
        .await
        .expect("the notice is written after the thaw")
        .unwrap()
        .unwrap();
    assert_eq!(status, 201, "the notice is stored once the disk is back");
}
