//! provisioning/first-boot.sh in its dry-run mode: the access-point files it would install,
//! rendered into a temporary directory, and the commands it would run; bad input refused
//! before anything is written; shellcheck clean.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("provisioning/first-boot.sh")
}

fn first_boot(dry: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(script())
        .args(["--dry-run", dry.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap()
}

const SSID: &str = r#"Phòng họp; "tầng 2""#;
const PASS: &str = r#"a&b\c$d"e:f 'g'"#;

fn full_args() -> Vec<&'static str> {
    vec![
        "--room",
        "Phòng họp UBND xã Tân Phú",
        "--slug",
        "tanphu",
        "--deb",
        "/srv/phonghop_0.1.0-1_arm64.deb",
        "--ap",
        "--ssid",
        SSID,
        "--passphrase",
        PASS,
        "--enroll",
        "https://hub.example.vn:8443/",
        "--token",
        "tok-123",
    ]
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path.trim_start_matches('/')))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_dry_run_renders_the_access_point_and_lists_every_step() {
    let tmp = tempfile::tempdir().unwrap();
    let dry = tmp.path().join("out");
    let out = first_boot(&dry, &full_args());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let hostapd = read(&dry, "/etc/hostapd/hostapd.conf");
    for line in [
        "interface=wlan0".to_owned(),
        format!("ssid={SSID}"),
        "utf8_ssid=1".to_owned(),
        "country_code=VN".to_owned(),
        "channel=6".to_owned(),
        "wpa=2".to_owned(),
        "wpa_key_mgmt=WPA-PSK".to_owned(),
        "rsn_pairwise=CCMP".to_owned(),
        // Taken as written: no shell or sed expansion of & \ $ " '.
        format!("wpa_passphrase={PASS}"),
    ] {
        assert!(
            hostapd.lines().any(|l| l == line),
            "{line:?} not in\n{hostapd}"
        );
    }
    assert!(!hostapd.contains('@'), "a placeholder left: {hostapd}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dry.join("etc/hostapd/hostapd.conf"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the passphrase file is root-only");

    let dnsmasq = read(&dry, "/etc/dnsmasq.d/phonghop.conf");
    for line in [
        "interface=wlan0",
        "no-resolv",
        "address=/phonghop.lan/192.168.50.1",
        "address=/phonghop-tanphu.lan/192.168.50.1",
        "dhcp-range=192.168.50.20,192.168.50.250,255.255.255.0,12h",
        "dhcp-option=option:dns-server,192.168.50.1",
    ] {
        assert!(
            dnsmasq.lines().any(|l| l == line),
            "{line:?} not in\n{dnsmasq}"
        );
    }
    let network = read(&dry, "/etc/systemd/network/10-phonghop-ap.network");
    assert!(network.lines().any(|l| l == "Address=192.168.50.1/24"));
    assert!(network.lines().any(|l| l == "Name=wlan0"));
    let nm = read(&dry, "/etc/NetworkManager/conf.d/phonghop-ap.conf");
    assert!(nm.contains("unmanaged-devices=interface-name:wlan0"));

    let commands = read(&dry, "commands.txt");
    let steps: Vec<&str> = commands.lines().collect();
    let find = |prefix: &str| {
        steps
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in\n{commands}"))
    };
    let host = find("hostnamectl set-hostname phonghop-tanphu");
    let install = find("apt-get install -y /srv/phonghop_0.1.0-1_arm64.deb");
    let init = find("runuser -u phonghop -- phonghop init --data /var/lib/phonghop --room");
    let ap = find("systemctl enable systemd-networkd.service hostapd.service dnsmasq.service");
    let enroll = find(
        "runuser -u phonghop -- phonghop enroll --data /var/lib/phonghop https://hub.example.vn:8443/",
    );
    assert!(
        !commands.contains("tok-123"),
        "the token is on a command line"
    );
    let start = find("systemctl enable --now phonghop.service");
    let sheet = find("phonghop access-sheet --data /var/lib/phonghop");
    assert!(host < install && install < init && init < ap && ap < enroll);
    assert!(enroll < start && start < sheet, "{commands}");
    assert!(steps[sheet].contains("--url http://phonghop.lan/"));

    // Idempotent: a second run renders the same files.
    let again = first_boot(&dry, &full_args());
    assert!(again.status.success());
    assert_eq!(read(&dry, "/etc/hostapd/hostapd.conf"), hostapd);
    assert_eq!(read(&dry, "/etc/dnsmasq.d/phonghop.conf"), dnsmasq);
}

#[test]
fn without_the_access_point_no_wifi_files_are_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dry = tmp.path().join("out");
    let out = first_boot(&dry, &["--room", "Phòng họp", "--slug", "a-1"]);
    assert!(out.status.success());
    assert!(!dry.join("etc").exists());
    let commands = read(&dry, "commands.txt");
    assert!(commands.contains("systemctl enable --now phonghop.service"));
    assert!(!commands.contains("hostapd") && !commands.contains("enroll"));
}

#[test]
fn bad_input_is_refused_before_anything_is_written() {
    for (args, says) in [
        (vec!["--room", "R", "--slug", "Tân Phú"], "--slug"),
        (vec!["--slug", "tanphu"], "--room is required"),
        (
            vec![
                "--room",
                "R",
                "--slug",
                "a",
                "--ap",
                "--ssid",
                "S",
                "--passphrase",
                "short",
            ],
            "8 to 63 printable ASCII",
        ),
        (
            vec![
                "--room",
                "R",
                "--slug",
                "a",
                "--ap",
                "--ssid",
                "S",
                "--passphrase",
                "mật khẩu có dấu",
            ],
            "8 to 63 printable ASCII",
        ),
        (
            vec![
                "--room",
                "R",
                "--slug",
                "a",
                "--ap",
                "--ssid",
                "",
                "--passphrase",
                "12345678",
            ],
            "--ssid must be 1 to 32 bytes",
        ),
        (
            vec![
                "--room",
                "R",
                "--slug",
                "a",
                "--enroll",
                "http://hub/",
                "--token",
                "t",
            ],
            "https://",
        ),
        (
            vec!["--room", "R", "--slug", "a", "--token", "t"],
            "go together",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let dry = tmp.path().join("out");
        let out = first_boot(&dry, &args);
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!dry.exists(), "{args:?} wrote something");
    }
}

#[test]
fn the_script_passes_shellcheck() {
    let found = Command::new("sh")
        .args(["-c", "command -v shellcheck"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIPPED: shellcheck is not installed (apt-get install shellcheck)");
        return;
    }
    let out = Command::new("shellcheck").arg(script()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
