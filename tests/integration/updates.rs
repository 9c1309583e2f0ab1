//! Signed updates and their rollback, with the real binary: the test plays systemd
//! (`Restart=on-failure`, and the watchdog killing a process that never says it serves).
//!
//! The releases are small signed shell scripts: one exits at once, one hangs without ever
//! serving, one execs the real binary (a good release, reporting its signed version).

use crate::helpers::*;
use crate::sync::{box_status, enrolled_box, node_id_of, sync_now, wait_synced};
use phonghop::domain::EventBody;
use phonghop::store::Store;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The office: a release key pair made with `phonghop release keygen`.
struct Office {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    secret: PathBuf,
    public: PathBuf,
}

impl Office {
    fn new() -> Office {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let out = phonghop(&[
            "release",
            "keygen",
            "--out",
            dir.to_str().unwrap(),
            "--no-password",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Office {
            secret: dir.join("phonghop-release.key"),
            public: dir.join("phonghop-release.pub"),
            dir,
            _tmp: tmp,
        }
    }

    /// Writes an executable script and signs it as `version` with `phonghop release sign`.
    fn release(&self, name: &str, script: &str, version: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = phonghop(&[
            "release",
            "sign",
            "--key",
            self.secret.to_str().unwrap(),
            "--file",
            path.to_str().unwrap(),
            "--version",
            version,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        path
    }
}

fn sig_of(bin: &Path) -> PathBuf {
    PathBuf::from(format!("{}.minisig", bin.display()))
}

fn apply(dir: &Path, bin: &Path, sig: &Path) -> std::process::Output {
    phonghop(&[
        "update",
        "apply",
        "--data",
        dir.to_str().unwrap(),
        "--file",
        bin.to_str().unwrap(),
        "--sig",
        sig.to_str().unwrap(),
    ])
}

fn spawn_box(dir: &Path) -> Child {
    let _ = std::fs::remove_file(dir.join("serving.json"));
    Command::new(bin())
        .args(["serve", "--data", dir.to_str().unwrap(), "--mdns", "off"])
        .args(["--https-port", "0", "--http-port", "0"])
        .env("RUST_LOG", "warn")
        .env("PHONGHOP_UPDATE_SETTLE_SECS", "1")
        .env("PHONGHOP_UPDATE_DEADLINE_SECS", "60")
        .env_remove("PHONGHOP_UPDATE_RUN")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Plays systemd: starts the box, restarts it whenever it exits with a failure, and kills it
/// (as the watchdog would) when it has not served within `watchdog`. Returns the serving box
/// and how each earlier start ended.
async fn supervise(dir: &Path, watchdog: Duration) -> (TestBox, Vec<String>) {
    let mut ends = Vec::new();
    for _ in 0..4 {
        let mut child = spawn_box(dir);
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(
                    !status.success(),
                    "a box exited cleanly: systemd would not restart it"
                );
                ends.push(format!("exited {status}"));
                break;
            }
            let serving: Option<Value> = std::fs::read_to_string(dir.join("serving.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok());
            if serving.is_some_and(|s| s["pid"].as_u64() == Some(u64::from(child.id()))) {
                return (TestBox::from_child(dir.to_path_buf(), child).await, ends);
            }
            if started.elapsed() > watchdog {
                // WatchdogSec= passed without a sign of life: SIGABRT, then a restart.
                signal(child.id(), libc::SIGABRT);
                let _ = child.wait();
                ends.push("killed by the watchdog".into());
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("the box never served again: {ends:?}");
}

fn state(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("updates/state.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn own_events(dir: &Path) -> Vec<EventBody> {
    let store = Store::open(dir).unwrap();
    store
        .events_after(0, 100_000)
        .unwrap()
        .into_iter()
        .map(|e| e.body)
        .collect()
}

async fn version(b: &TestBox) -> String {
    b.get_json("/healthz").await["version"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn notices(b: &TestBox) -> String {
    b.get_json("/api/room").await["notice"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A hub with the office's release key, and a stopped box enrolled with it (so the key is
/// pinned in the box's hub.json), with a notice posted so that its data can be checked.
async fn pinned_box(office: &Office, tmp: &Path) -> PathBuf {
    let hub_dir = tmp.join("hub");
    crate::sync::init_hub(&hub_dir);
    let child = spawn_node(
        "hub",
        &hub_dir,
        &["--release-key", office.public.to_str().unwrap()],
    );
    let mut hub = TestBox::from_child(hub_dir.clone(), child).await;
    let admin = hub.admin().await;
    let dir = enrolled_box(&hub, &admin, tmp, "xa-tan-phu").await;
    hub.terminate();
    let pinned: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sync/hub.json")).unwrap()).unwrap();
    let public = std::fs::read_to_string(&office.public).unwrap();
    assert_eq!(
        pinned["release_key"].as_str().map(str::trim),
        Some(public.trim()),
        "enrolment pins the hub's release key"
    );
    hub_dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_that_crashes_or_hangs_is_rolled_back_and_a_good_one_commits() {
    let office = Office::new();
    let tmp = tempfile::tempdir().unwrap();
    pinned_box(&office, tmp.path()).await;
    let dir = tmp.path().join("xa-tan-phu");
    let packaged = env!("CARGO_PKG_VERSION");

    // The box serves with data of its own.
    let (mut b, _) = supervise(&dir, Duration::from_secs(20)).await;
    let admin = b.admin().await;
    b.post_notice(&admin, "Họp lúc 8 giờ").await;
    assert_eq!(version(&b).await, packaged);
    b.terminate();

    // 1. A release that exits at once: tried once, then rolled back; the box serves its data.
    let crash = office.release("crash", "#!/bin/sh\nexit 1\n", "0.2.0");
    let out = apply(&dir, &crash, &sig_of(&crash));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(state(&dir)["trial"]["version"], "0.2.0");
    let (mut b, ends) = supervise(&dir, Duration::from_secs(20)).await;
    assert_eq!(
        ends.len(),
        1,
        "one failed start, then the rollback: {ends:?}"
    );
    assert_eq!(version(&b).await, packaged);
    assert_eq!(notices(&b).await, "Họp lúc 8 giờ");
    b.terminate();
    let s = state(&dir);
    assert!(s["trial"].is_null());
    assert_eq!(s["failed"][0]["version"], "0.2.0");
    assert!(
        !dir.join("updates/0.2.0").exists(),
        "the failed release is deleted"
    );
    assert!(own_events(&dir).iter().any(|e| matches!(
        e,
        EventBody::UpdateRolledBack { version, running, .. } if version == "0.2.0" && running == packaged
    )));
    // On the spot, the doctor says so.
    let (_, report) = crate::doctor::doctor(&dir, &[]);
    let update = crate::doctor::checks(&report, "update")[0];
    assert_eq!(update["status"], "warn", "{update}");
    assert!(
        update["en"]
            .as_str()
            .unwrap()
            .contains("Release 0.2.0 was rolled back"),
        "{update}"
    );
    // The same release again is refused: it already failed here.
    let again = apply(&dir, &crash, &sig_of(&crash));
    assert_eq!(again.status.code(), Some(77));

    // 2. A release that starts but never serves: the watchdog kills it, the next start rolls
    //    back.
    let hang = office.release("hang", "#!/bin/sh\nexec sleep 600\n", "0.2.1");
    assert!(apply(&dir, &hang, &sig_of(&hang)).status.success());
    let (mut b, ends) = supervise(&dir, Duration::from_secs(4)).await;
    assert_eq!(ends, vec!["killed by the watchdog".to_owned()]);
    assert_eq!(version(&b).await, packaged);
    assert_eq!(notices(&b).await, "Họp lúc 8 giờ");
    b.terminate();
    assert_eq!(state(&dir)["failed"][1]["version"], "0.2.1");

    // 2b. A release that serves but never passes its health check in time (here: it must
    //     settle for an hour within 2 s): it gives up by itself (exit 76), and the next start
    //     rolls back.
    let slow = office.release(
        "slow",
        &format!(
            "#!/bin/sh\nPHONGHOP_UPDATE_SETTLE_SECS=3600 PHONGHOP_UPDATE_DEADLINE_SECS=2 exec '{}' \"$@\"\n",
            bin()
        ),
        "0.2.2",
    );
    assert!(apply(&dir, &slow, &sig_of(&slow)).status.success());
    let (mut b, ends) = supervise(&dir, Duration::from_secs(20)).await;
    assert!(ends.is_empty(), "{ends:?}");
    assert_eq!(
        version(&b).await,
        "0.2.2",
        "the trial serves while it proves itself"
    );
    let mut trial = b.child.take().unwrap();
    let status = wait_exit(&mut trial, Duration::from_secs(30));
    assert_eq!(
        status.code(),
        Some(76),
        "the trial gives up past its deadline"
    );
    let (mut b, ends) = supervise(&dir, Duration::from_secs(20)).await;
    assert!(ends.is_empty(), "{ends:?}");
    assert_eq!(version(&b).await, packaged);
    assert_eq!(notices(&b).await, "Họp lúc 8 giờ");
    b.terminate();
    assert_eq!(state(&dir)["failed"][2]["version"], "0.2.2");

    // 2c. A release that refuses the box's settings (exit 78, which systemd does not restart)
    //     exits 76 while on trial instead, so the box is restarted and rolls back.
    let settings = office.dir.join("renamed-setting.toml");
    std::fs::write(&settings, "a_setting_this_release_refuses = 1\n").unwrap();
    let picky = office.release(
        "picky",
        &format!(
            "#!/bin/sh\nPHONGHOP_CONFIG='{}' exec '{}' \"$@\"\n",
            settings.display(),
            bin()
        ),
        "0.2.3",
    );
    assert!(apply(&dir, &picky, &sig_of(&picky)).status.success());
    let (mut b, ends) = supervise(&dir, Duration::from_secs(20)).await;
    assert_eq!(ends, vec!["exited exit status: 76".to_owned()]);
    assert_eq!(version(&b).await, packaged);
    b.terminate();
    assert_eq!(state(&dir)["failed"][3]["version"], "0.2.3");

    // 3. A good release: it runs, proves itself over HTTPS and commits; it stays after a
    //    restart, and the box's log says so.
    let good = office.release(
        "good",
        &format!("#!/bin/sh\nexec '{}' \"$@\"\n", bin()),
        "0.3.0",
    );
    assert!(apply(&dir, &good, &sig_of(&good)).status.success());
    let (mut b, ends) = supervise(&dir, Duration::from_secs(20)).await;
    assert!(ends.is_empty(), "{ends:?}");
    assert_eq!(version(&b).await, "0.3.0");
    assert_eq!(notices(&b).await, "Họp lúc 8 giờ");
    let start = Instant::now();
    while !state(&dir)["current"]["version"].eq("0.3.0") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the good release did not commit: {}",
            state(&dir)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.terminate();
    let s = state(&dir);
    assert!(s["trial"].is_null());
    assert!(s["previous"].is_null(), "the package was running before");
    assert!(own_events(&dir).iter().any(|e| matches!(
        e,
        EventBody::UpdateInstalled { version, previous } if version == "0.3.0" && previous == packaged
    )));
    let (mut b, ends) = supervise(&dir, Duration::from_secs(20)).await;
    assert!(ends.is_empty());
    assert_eq!(
        version(&b).await,
        "0.3.0",
        "a committed release runs at every start"
    );
    b.terminate();

    let (_, report) = crate::doctor::doctor(&dir, &[]);
    let update = crate::doctor::checks(&report, "update")[0];
    assert_eq!(update["status"], "ok", "{update}");
    assert!(
        update["en"]
            .as_str()
            .unwrap()
            .contains("Installed release: 0.3.0"),
        "{update}"
    );
    // The doctor and the status command can tell too.
    let status = phonghop(&["update", "status", "--data", dir.to_str().unwrap()]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["current"]["version"], "0.3.0");
    // The packaged binary is never written to.
    assert!(Path::new(bin()).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_foreign_or_older_releases_are_refused_and_nothing_is_staged() {
    let office = Office::new();
    let tmp = tempfile::tempdir().unwrap();
    // Not enrolled yet: no pinned key, so even a good signature is refused.
    let lone = tmp.path().join("lone");
    init_dir(&lone);
    let good = office.release("good", "#!/bin/sh\nexit 0\n", "0.9.0");
    let out = apply(&lone, &good, &sig_of(&good));
    assert_eq!(out.status.code(), Some(77));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pinned release key"));
    assert!(!lone.join("updates").exists());

    let hub_dir = pinned_box(&office, tmp.path()).await;
    let dir = tmp.path().join("xa-tan-phu");

    // A changed binary under a good signature.
    let changed = office.dir.join("changed");
    std::fs::write(&changed, "#!/bin/sh\nexit 0 # changed\n").unwrap();
    let out = apply(&dir, &changed, &sig_of(&good));
    assert_eq!(
        out.status.code(),
        Some(77),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Signed with another key.
    let rogue = Office::new();
    let foreign = rogue.release("foreign", "#!/bin/sh\nexit 0\n", "0.9.0");
    let out = apply(&dir, &foreign, &sig_of(&foreign));
    assert_eq!(out.status.code(), Some(77));

    // A signature file that is not one.
    let junk = office.dir.join("junk.minisig");
    std::fs::write(&junk, "untrusted comment: x\nnot base64\n").unwrap();
    assert_eq!(apply(&dir, &good, &junk).status.code(), Some(65));

    // Older than (or as old as) what runs: a downgrade.
    let old = office.release("old", "#!/bin/sh\nexit 0\n", "0.0.9");
    let out = apply(&dir, &old, &sig_of(&old));
    assert_eq!(out.status.code(), Some(77));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not newer"));
    let same = office.release("same", "#!/bin/sh\nexit 0\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(apply(&dir, &same, &sig_of(&same)).status.code(), Some(77));

    // Built for another platform.
    let arm = office.dir.join("arm");
    std::fs::write(&arm, "#!/bin/sh\nexit 0\n").unwrap();
    let out = phonghop(&[
        "release",
        "sign",
        "--key",
        office.secret.to_str().unwrap(),
        "--file",
        arm.to_str().unwrap(),
        "--version",
        "0.9.0",
        "--target",
        "sparc64-plan9",
    ]);
    assert!(out.status.success());
    assert_eq!(apply(&dir, &arm, &sig_of(&arm)).status.code(), Some(77));

    assert!(!dir.join("updates").exists(), "nothing was staged");
    // The box still starts as before.
    let (mut b, ends) = supervise(&dir, Duration::from_secs(20)).await;
    assert!(ends.is_empty());
    assert_eq!(version(&b).await, env!("CARGO_PKG_VERSION"));
    b.terminate();

    // The hub offers only what its own key signed, and records the offer in its log.
    let hub_arg = hub_dir.to_str().unwrap();
    let out = phonghop(&[
        "hub",
        "offer-update",
        "--data",
        hub_arg,
        "--file",
        foreign.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(77));
    let out = phonghop(&[
        "hub",
        "offer-update",
        "--data",
        hub_arg,
        "--file",
        good.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let offered: Vec<EventBody> = own_events(&hub_dir)
        .into_iter()
        .filter(|e| matches!(e, EventBody::UpdateOffered { .. }))
        .collect();
    assert_eq!(offered.len(), 1);
    let EventBody::UpdateOffered {
        version,
        sha256,
        signature,
        nodes,
        ..
    } = &offered[0]
    else {
        unreachable!()
    };
    assert_eq!(version, "0.9.0");
    assert!(nodes.is_none());
    assert_eq!(signature, &std::fs::read_to_string(sig_of(&good)).unwrap());
    assert_eq!(sha256, &sha256_file(&good));
    let held = Store::open(&hub_dir).unwrap().blobs().path(sha256).unwrap();
    assert_eq!(std::fs::read(held).unwrap(), std::fs::read(&good).unwrap());
}

/// The whole way: the office signs, the hub offers to one box, the box pulls the offer over
/// sync, fetches the binary, stages it, restarts (exit 79), runs it on trial, commits it, and
/// the hub receives `update.installed` in the box's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_from_the_hub_reaches_the_box_over_sync_and_is_installed() {
    let office = Office::new();
    let tmp = tempfile::tempdir().unwrap();
    let hub_dir = tmp.path().join("hub");
    crate::sync::init_hub(&hub_dir);
    let child = spawn_node(
        "hub",
        &hub_dir,
        &["--release-key", office.public.to_str().unwrap()],
    );
    let mut hub = TestBox::from_child(hub_dir.clone(), child).await;
    let admin = hub.admin().await;
    let dir = enrolled_box(&hub, &admin, tmp.path(), "xa-tan-phu").await;
    let node = node_id_of(&dir);

    // Offered while the hub runs: the command hands the release to it through its control
    // socket, and the office's console stays up.
    let good = office.release(
        "good",
        &format!("#!/bin/sh\nexec '{}' \"$@\"\n", bin()),
        "0.3.0",
    );
    let out = phonghop(&[
        "hub",
        "offer-update",
        "--data",
        hub_dir.to_str().unwrap(),
        "--file",
        good.to_str().unwrap(),
        "--node",
        &node,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("offered release 0.3.0"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // IT staff see the offer on the hub's page.
    let offers: Value = hub
        .client
        .get(hub.url("/api/hub/updates"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(offers["release_key"], true, "{offers}");
    assert_eq!(offers["offers"][0]["version"], "0.3.0", "{offers}");
    assert_eq!(offers["offers"][0]["nodes"][0], node.as_str(), "{offers}");

    // The box starts on the package, takes the offer and stops (79) to run it; started again
    // (as systemd does), it runs the release on trial. The first start may end before the
    // test sees it serve.
    let mut ends = Vec::new();
    let mut b = loop {
        let (mut b, more) = supervise(&dir, Duration::from_secs(20)).await;
        ends.extend(more);
        if version(&b).await == "0.3.0" {
            break b;
        }
        let mut first = b.child.take().unwrap();
        let status = wait_exit(&mut first, Duration::from_secs(60));
        ends.push(format!("exited {status}"));
        assert!(ends.len() < 3, "{ends:?}");
    };
    assert_eq!(ends, vec!["exited exit status: 79".to_owned()]);
    let start = Instant::now();
    while !state(&dir)["current"]["version"].eq("0.3.0") {
        assert!(start.elapsed() < Duration::from_secs(30), "{}", state(&dir));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The hub receives the box's log with update.installed.
    let box_admin = b.admin().await;
    let head = box_status(&b, &box_admin).await["head"].as_u64().unwrap();
    wait_synced(&hub, &admin, &node, head, Duration::from_secs(30)).await;
    // The hub's box list shows the release the box runs (contact is noted every few seconds;
    // "sync now" makes the box call).
    let start = Instant::now();
    loop {
        sync_now(&b, &box_admin).await;
        let seen = wait_synced(&hub, &admin, &node, head, Duration::from_secs(30)).await;
        if seen["contact"]["app_version"] == "0.3.0" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{seen}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    b.terminate();
    hub.terminate();
    let h = Store::open(&hub_dir).unwrap();
    let box_node = phonghop::domain::NodeId::parse(&node).unwrap();
    let installed = h
        .raw_events_after(&box_node, 0, usize::MAX, usize::MAX)
        .unwrap()
        .iter()
        .filter_map(|l| phonghop::domain::EventEnvelope::decode(l).ok())
        .any(|e| matches!(e.body, EventBody::UpdateInstalled { ref version, .. } if version == "0.3.0"));
    assert!(installed, "IT staff at the hub see the installed release");
    assert!(
        !Store::open(&dir)
            .unwrap()
            .blobs()
            .contains(&sha256_file(&good)),
        "the staged binary is not kept twice on the box"
    );
}
