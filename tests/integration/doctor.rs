//! `phonghop doctor`: a healthy box passes (running and stopped), and each failure it reports
//! is made for real: a full disk (a small tmpfs), an expired certificate (issued by the box's
//! own intermediate, in the past), a wrong clock (libfaketime), a port held by another program.

use crate::helpers::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `doctor --json`, optionally under a wrapper (faketime), and returns the exit code and
/// the report.
pub(crate) fn doctor(dir: &Path, wrapper: &[&str]) -> (Option<i32>, Value) {
    let mut argv: Vec<&str> = wrapper.to_vec();
    argv.extend([bin(), "doctor", "--data", dir.to_str().unwrap(), "--json"]);
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", argv[0]));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

/// The checks with this id.
pub(crate) fn checks<'a>(r: &'a Value, id: &str) -> Vec<&'a Value> {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .collect()
}

fn failed(r: &Value) -> Vec<String> {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An initialised box whose configured ports are free ones (not 443/80, which this machine may
/// use for something else).
fn new_box(tmp: &Path) -> PathBuf {
    let dir = tmp.join("data");
    init_dir(&dir);
    std::fs::write(
        dir.join("phonghop.toml"),
        format!(
            "https_port = {}\nhttp_port = {}\n",
            free_port(),
            free_port()
        ),
    )
    .unwrap();
    dir
}

/// Serves once, so the certificates exist, and stops.
async fn served_once(dir: &Path) {
    let mut tb = TestBox::attach(dir.to_path_buf(), &[]).await;
    tb.post_notice(&tb.admin().await, "Họp lúc 8 giờ").await;
    assert!(tb.terminate().success());
}

#[tokio::test]
async fn a_healthy_box_passes_running_and_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = new_box(tmp.path());
    let mut tb = TestBox::attach(dir.clone(), &[]).await;
    let (code, r) = doctor(&dir, &[]);
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["ok"], true);
    assert_eq!(r["server_running"], true, "read through the control socket");
    // The machine's own disk may be low: a warning, never a failure, for a box this small.
    assert_ne!(checks(&r, "disk")[0]["status"], "fail");
    for id in ["clock", "certificates", "store", "blobs", "ports"] {
        let c = checks(&r, id);
        assert!(!c.is_empty(), "no {id} check");
        assert!(c.iter().all(|c| c["status"] == "ok"), "{id}: {c:?}");
    }
    let ports = checks(&r, "ports");
    assert!(ports[0]["en"]
        .as_str()
        .unwrap()
        .contains(&tb.https_port.to_string()));
    assert_eq!(checks(&r, "hub")[0]["status"], "info");
    assert!(checks(&r, "hub")[0]["en"]
        .as_str()
        .unwrap()
        .contains("Not enrolled"));
    // Every check speaks both languages.
    for c in r["checks"].as_array().unwrap() {
        assert!(!c["vi"].as_str().unwrap().is_empty() && !c["en"].as_str().unwrap().is_empty());
    }
    assert!(tb.terminate().success());
    let (code, r) = doctor(&dir, &[]);
    assert_eq!(code, Some(0), "{r:#}");
    assert_eq!(r["server_running"], false);
    assert!(checks(&r, "ports").iter().all(|c| c["status"] == "ok"));
    // The text form says the same, and exits 0.
    let out = phonghop(&["doctor", "--data", dir.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Không có lỗi / no failures."), "{text}");
}

#[tokio::test]
async fn a_full_disk_is_reported_with_its_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    // A private mount namespace: an 8 MB tmpfs, a box set up on it, then the disk filled.
    let script = r#"mount -t tmpfs -o size=8m none "$1" || exit 90
"$0" init --data "$1/data" --room "Phòng họp nhỏ" --admin-password mat-khau-quan-tri >/dev/null || exit 91
dd if=/dev/zero of="$1/fill" bs=64k 2>/dev/null
exec "$0" doctor --data "$1/data" --json"#;
    let out = Command::new("unshare")
        .args(["-rm", "sh", "-c", script, bin(), mnt.to_str().unwrap()])
        .output()
        .expect("unshare (util-linux) is needed for the full-disk test");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{:?}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(out.status.code(), Some(1), "{r:#}");
    assert_eq!(r["ok"], false);
    let disk = checks(&r, "disk")[0];
    assert_eq!(disk["status"], "fail", "{disk}");
    assert!(
        disk["en"].as_str().unwrap().contains("nearly full"),
        "{disk}"
    );
    assert!(
        disk["vi"].as_str().unwrap().contains("Đĩa gần đầy"),
        "{disk}"
    );
    assert!(disk["fix_en"].as_str().unwrap().contains("Free some space"));
    assert!(disk["fix_vi"]
        .as_str()
        .unwrap()
        .contains("Giải phóng chỗ trống"));
}

#[tokio::test]
async fn an_expired_certificate_is_reported_and_a_restart_fixes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = new_box(tmp.path());
    served_once(&dir).await;
    // A serving certificate from the box's own intermediate that expired yesterday.
    let tls = dir.join("tls");
    let key =
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(tls.join("intermediate.key")).unwrap())
            .unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(
        &std::fs::read_to_string(tls.join("intermediate.pem")).unwrap(),
        key,
    )
    .unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(91);
    params.not_after = now - time::Duration::days(1);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = params.signed_by(&leaf_key, &issuer).unwrap();
    std::fs::write(tls.join("leaf.pem"), leaf.pem()).unwrap();
    std::fs::write(tls.join("leaf.key"), leaf_key.serialize_pem()).unwrap();

    let (code, r) = doctor(&dir, &[]);
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(failed(&r), vec!["certificates"], "{r:#}");
    let c = checks(&r, "certificates")[0];
    assert!(
        c["en"]
            .as_str()
            .unwrap()
            .contains("HTTPS serving certificate expired"),
        "{c}"
    );
    assert!(c["vi"].as_str().unwrap().contains("đã hết hạn"), "{c}");
    assert!(
        c["fix_en"].as_str().unwrap().contains("restart the box"),
        "{c}"
    );

    // The fix it gives works: a start reissues the leaf.
    let mut tb = TestBox::attach(dir.clone(), &[]).await;
    assert!(tb.terminate().success());
    let (code, r) = doctor(&dir, &[]);
    assert_eq!(code, Some(0), "{r:#}");
}

#[tokio::test]
async fn a_wrong_clock_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = new_box(tmp.path());
    served_once(&dir).await;
    let faketime = "faketime";
    assert!(
        Command::new(faketime).arg("--version").output().is_ok(),
        "faketime (Debian package faketime) is needed: tests/setup.sh installs it"
    );
    // Three days behind the events the box has written.
    let (code, r) = doctor(&dir, &[faketime, "-f", "-3d"]);
    assert_eq!(code, Some(1), "{r:#}");
    let clock = checks(&r, "clock")[0];
    assert_eq!(clock["status"], "fail", "{clock}");
    assert!(
        clock["en"]
            .as_str()
            .unwrap()
            .contains("before the last event was recorded"),
        "{clock}"
    );
    assert!(
        clock["fix_en"].as_str().unwrap().contains("timedatectl"),
        "{clock}"
    );
    // A box without a clock battery that booted without network.
    let (code, r) = doctor(&dir, &[faketime, "2025-06-01 00:00:00"]);
    assert_eq!(code, Some(1), "{r:#}");
    let clock = checks(&r, "clock")[0];
    assert_eq!(clock["status"], "fail", "{clock}");
    assert!(
        clock["vi"].as_str().unwrap().contains("Đồng hồ sai"),
        "{clock}"
    );
    // The same box with the right time is fine.
    let (code, r) = doctor(&dir, &[]);
    assert_eq!(code, Some(0), "{r:#}");
}

#[tokio::test]
async fn a_port_held_by_another_program_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = new_box(tmp.path());
    let other = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = other.local_addr().unwrap().port();
    std::fs::write(
        dir.join("phonghop.toml"),
        format!("https_port = {port}\nhttp_port = {}\n", free_port()),
    )
    .unwrap();
    let (code, r) = doctor(&dir, &[]);
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(failed(&r), vec!["ports"], "{r:#}");
    let c = checks(&r, "ports")
        .into_iter()
        .find(|c| c["status"] == "fail")
        .unwrap();
    assert!(
        c["en"]
            .as_str()
            .unwrap()
            .contains(&format!("Port {port} (https) is held by another program")),
        "{c}"
    );
    assert!(c["fix_en"].as_str().unwrap().contains("ss -ltnp"), "{c}");
    drop(other);
}

#[tokio::test]
async fn damaged_hub_settings_are_reported_and_a_backup_keeps_the_enrolment_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = new_box(tmp.path());
    let (code, r) = doctor(&dir, &[]);
    assert_eq!(code, Some(0), "{r:#}");
    assert!(checks(&r, "hub")[0]["en"]
        .as_str()
        .unwrap()
        .contains("Not enrolled"));
    // An enrolment cut short: hub.json unreadable.
    std::fs::create_dir(dir.join("sync")).unwrap();
    std::fs::write(dir.join("sync/hub.json"), "{\"hub_url\": ").unwrap();
    let (code, r) = doctor(&dir, &[]);
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(failed(&r), vec!["hub"], "{r:#}");
    let hub = checks(&r, "hub")[0];
    assert!(
        hub["en"]
            .as_str()
            .unwrap()
            .contains("sync settings are damaged"),
        "{hub}"
    );
    assert!(
        hub["fix_en"].as_str().unwrap().contains("phonghop enroll"),
        "{hub}"
    );
    // The enrolment files travel with a backup, as the CA does.
    let file = tmp.path().join("b.tar.gz");
    let out = phonghop(&[
        "backup",
        "--data",
        dir.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = tmp.path().join("back");
    let out = phonghop(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data",
        back.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(back.join("sync/hub.json")).unwrap(),
        std::fs::read(dir.join("sync/hub.json")).unwrap()
    );
    assert_eq!(
        std::fs::read(back.join("phonghop.toml")).unwrap(),
        std::fs::read(dir.join("phonghop.toml")).unwrap()
    );
}
