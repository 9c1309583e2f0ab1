//! mDNS end to end: the real binary announces the room inside a private network namespace
//! (loopback only, never a real interface) and `phonghop discover` finds it there.

use crate::helpers::*;
use std::process::Command;

#[test]
fn serve_announces_the_room_and_discover_finds_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    init_dir(&dir);
    let script = r#"
set -e
ip link set lo up
ip link set lo multicast on
"$0" serve --data "$1" --https-port 0 --http-port 0 --mdns lo 2>"$1/serve.log" &
pid=$!
for i in $(seq 1 200); do [ -s "$1/serving.json" ] && break; sleep 0.05; done
"$0" discover --mdns lo --timeout 4
kill -TERM $pid
wait $pid
"#;
    let out = Command::new("unshare")
        .args(["-rn", "sh", "-c", script, bin(), dir.to_str().unwrap()])
        .output()
        .expect("unshare is needed for the mDNS test (util-linux)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "namespace run failed: {stdout}\n{}\n{log}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with(ROOM))
        .unwrap_or_else(|| panic!("room not discovered: {stdout}\n{log}"));
    assert!(line.contains(".local:"), "{line}");
    assert!(line.contains("127.0.0.1"), "{line}");
}
