//! The shaped link in the suite (issue 12): `benches/sync-link.sh` at its scaled-down size
//! (SCENARIO=smoke: 10 MB of distinct PDFs, 4 Mbit/s, 5% loss, one cut of 3 s with the box's
//! sockets aborted), the sync half only. A real hub and a real box in two network namespaces
//! joined by a veth; the script verifies every PDF at the hub by SHA-256 and runs
//! `phonghop verify` on the hub. The full runs, side by side with rsync, are `make bench-sync`.

use crate::helpers::*;
use crate::pdfs::meeting_pdf;
use std::process::Command;

#[test]
fn a_box_syncs_a_10_mb_package_over_a_shaped_link_with_a_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let payload = tmp.path().join("payload");
    std::fs::create_dir_all(&payload).unwrap();
    let mut total = 0;
    for n in 0..10u64 {
        let pdf = meeting_pdf(n, 1_000_000);
        total += pdf.len();
        std::fs::write(payload.join(format!("tai-lieu-{n:02}.pdf")), pdf).unwrap();
    }
    assert_eq!(total, 10_000_000);
    let out = Command::new("bash")
        .arg("benches/sync-link.sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SCENARIO", "smoke")
        .env("RUN", "sync")
        .env("PROXY", "0")
        .env("SYNC_LINK_HELPER", "")
        .env("PHONGHOP_BIN", bin())
        .env("PAYLOAD_DIR", &payload)
        .env("LIMIT", "150")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(out.status.success(), "sync-link.sh failed");
    let run: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v["tool"] == "phonghop" && v["run"] == "shaped")
        .expect("a figures line for the shaped run");
    assert_eq!(run["payload_bytes"], 10_000_000);
    assert_eq!(run["cuts"], 1, "the cut happened during the transfer");
    assert!(run["wire_per_payload"].as_f64().unwrap() >= 1.0);
}
