//! `phonghop doctor`: checks a box and says, in plain Vietnamese and English, what is wrong and
//! how to fix it. It works whether the box is running (the store is asked through the control
//! socket, since `serve` holds the redb file locked) or stopped (the store is opened directly).
//! Nothing is sent on the network: ports and the mDNS port are only bound and released.

use super::{control, OpsError};
use crate::config::{Config, Overrides};
use crate::store::{BlobInfo, OriginHead, RestoreMark, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::path::Path;
use time::{Duration, OffsetDateTime};

/// Under this much free space the box stops taking writes safely (`/readyz` says `disk_low`).
pub const DISK_FAIL_BYTES: u64 = 64 * 1024 * 1024;
/// Under this much, a warning: a few large documents or one backup fill it.
pub const DISK_WARN_BYTES: u64 = 512 * 1024 * 1024;
/// How far behind its own last event the clock may read before it is called wrong (events
/// written a moment ago by a box whose clock was then corrected by a little).
const CLOCK_SLACK: Duration = Duration::minutes(2);
/// A serving certificate this close to expiry is worth a warning (the box renews it 30 days
/// before, so this means renewal is failing or the box has been off).
const LEAF_WARN: Duration = Duration::days(7);
/// The root: tablets trust it by hand, so a year's notice.
const ROOT_WARN: Duration = Duration::days(365);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Info,
    Warn,
    Fail,
}

/// One check's outcome, in both languages, with the fix when something is wrong.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    pub id: String,
    pub status: Status,
    pub vi: String,
    pub en: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_vi: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_en: Option<String>,
}

impl Check {
    fn new(id: &str, status: Status, vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            id: id.to_owned(),
            status,
            vi: vi.into(),
            en: en.into(),
            fix_vi: None,
            fix_en: None,
        }
    }
    fn fix(mut self, vi: impl Into<String>, en: impl Into<String>) -> Self {
        self.fix_vi = Some(vi.into());
        self.fix_en = Some(en.into());
        self
    }
}

/// Everything `doctor` found; `--json` prints this for the IT page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// False when any check failed.
    pub ok: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub data_dir: String,
    /// Whether a `phonghop serve` answered on the control socket.
    pub server_running: bool,
    pub checks: Vec<Check>,
}

/// What the store says of itself, computed by whoever holds it: the running box (through the
/// control socket) or `doctor` itself when the box is stopped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreReport {
    pub node_id: String,
    pub role: String,
    pub schema_version: u32,
    pub heads: Vec<OriginHead>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_event_at: Option<OffsetDateTime>,
    /// Events whose chain links were checked, every origin.
    pub events: u64,
    /// The first broken link, if any.
    pub broken: Option<BrokenAt>,
    /// Blobs documents refer to.
    pub blobs: Vec<BlobInfo>,
    /// Blobs the running box has found damaged since it started.
    pub damaged_known: Vec<String>,
    pub restored: Option<RestoreMark>,
    /// The sync loop's state, known only to the running box (`None` when read offline).
    #[serde(default)]
    pub sync: Option<SyncReport>,
}

/// What the running box's sync loop says (from [`crate::sync::client::SyncStatus`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncReport {
    pub enrolled: bool,
    /// `idle`, `syncing`, `backoff`, `fork`, `refused` or `incompatible`.
    pub state: String,
    pub hub: Option<String>,
    pub hub_cursor: Option<u64>,
    pub backlog_events: Option<u64>,
    pub blobs_pending: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success: Option<OffsetDateTime>,
    pub last_error: Option<String>,
}

impl SyncReport {
    pub fn of(s: &crate::sync::client::SyncStatus) -> Self {
        Self {
            enrolled: s.enrolled,
            state: serde_json::to_value(s.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            hub: s.hub.clone(),
            hub_cursor: s.hub_cursor,
            backlog_events: s.backlog_events,
            blobs_pending: s.blobs_pending,
            last_success: s.last_success,
            last_error: s.last_error.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BrokenAt {
    pub origin: String,
    pub seq: u64,
    pub reason: String,
}

/// Walks every chain and lists what the store refers to. Safe while serving (read
/// transactions only).
pub fn store_report(store: &Store) -> Result<StoreReport, OpsError> {
    let facts = store.facts()?;
    let v = store.verify()?;
    Ok(StoreReport {
        node_id: facts.node_id.as_str().to_owned(),
        role: facts.role,
        schema_version: facts.schema_version,
        heads: facts.heads,
        last_event_at: facts.last_event_at,
        events: v.events,
        broken: v.broken.map(|b| BrokenAt {
            origin: b.origin,
            seq: b.seq,
            reason: b.reason,
        }),
        blobs: facts.blobs,
        damaged_known: store.blobs().damaged(),
        restored: store.restored()?,
        sync: None,
    })
}

/// Runs every check on `dir` at the current time.
pub fn run(dir: &Path) -> Report {
    let now = OffsetDateTime::now_utc();
    let mut checks = Vec::new();
    let (store, running) = match control::connect(dir) {
        Ok(Some(conn)) => (control::report(conn), true),
        Ok(None) => (offline_report(dir), false),
        Err(e) => (Err(e), false),
    };
    checks.push(server_check(dir, running));
    let config = Config::resolve(dir, Overrides::default());
    checks.push(clock_check(now, store.as_ref().ok(), dir));
    checks.push(disk_check(dir));
    checks.extend(cert_checks(dir, now));
    checks.extend(store_checks(dir, &store));
    match &config {
        Ok(c) => {
            checks.extend(port_checks(dir, c, running));
            checks.push(mdns_check(c));
        }
        Err(e) => checks.push(
            Check::new(
                "config",
                Status::Fail,
                format!("Tệp cấu hình sai: {e}"),
                format!("The configuration file is wrong: {e}"),
            )
            .fix(
                "Sửa khóa hoặc giá trị được nêu trong phonghop.toml rồi chạy lại.",
                "Fix the key or value named in phonghop.toml and run it again.",
            ),
        ),
    }
    checks.extend(hub_checks(dir, store.as_ref().ok(), now));
    checks.push(update_check(dir));
    Report {
        ok: checks.iter().all(|c| c.status != Status::Fail),
        at: now,
        data_dir: dir.display().to_string(),
        server_running: running,
        checks,
    }
}

fn offline_report(dir: &Path) -> Result<StoreReport, OpsError> {
    let store = Store::open(dir).map_err(|e| match e {
        StoreError::InUse { .. } => OpsError::new(
            69,
            "Phonghop đang chạy nhưng không trả lời qua control.sock (có thể là phiên bản cũ), nên không đọc được dữ liệu.",
            "Phonghop is running but does not answer on control.sock (perhaps an older version), so the store cannot be read.",
        ),
        other => other.into(),
    })?;
    store_report(&store)
}

fn server_check(dir: &Path, running: bool) -> Check {
    if running {
        let pid = std::fs::read_to_string(dir.join(crate::server::SERVING_FILE))
            .ok()
            .and_then(|t| serde_json::from_str::<crate::server::Serving>(&t).ok())
            .map(|s| s.pid.to_string())
            .unwrap_or_else(|| "?".into());
        Check::new(
            "server",
            Status::Info,
            format!("Phonghop đang chạy (pid {pid})."),
            format!("Phonghop is running (pid {pid})."),
        )
    } else {
        Check::new(
            "server",
            Status::Info,
            "Phonghop không chạy; dữ liệu được đọc trực tiếp.",
            "Phonghop is not running; the data was read directly.",
        )
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn clock_check(now: OffsetDateTime, store: Option<&StoreReport>, dir: &Path) -> Check {
    let fix_vi = "Đặt lại giờ: kiểm tra mạng và đồng bộ giờ (timedatectl status; timedatectl set-ntp true), \
                  hoặc đặt tay: sudo timedatectl set-time 'YYYY-MM-DD HH:MM:SS'. Hộp không có pin đồng hồ \
                  (Raspberry Pi) cần mạng để lấy giờ khi khởi động.";
    let fix_en = "Set the clock: check the network and time sync (timedatectl status; timedatectl set-ntp true), \
                  or set it by hand: sudo timedatectl set-time 'YYYY-MM-DD HH:MM:SS'. A box without a clock \
                  battery (Raspberry Pi) needs the network to get the time at boot.";
    let shown = rfc3339(now);
    if now < crate::tls::CLOCK_FLOOR {
        return Check::new(
            "clock",
            Status::Fail,
            format!("Đồng hồ sai: đang chỉ {shown}, trước ngày 01/01/2026, sớm hơn cả phiên bản phần mềm này."),
            format!("The clock is wrong: it reads {shown}, before 1 January 2026, earlier than this version of the software."),
        )
        .fix(fix_vi, fix_en);
    }
    if let Some(last) = store.and_then(|s| s.last_event_at) {
        if now + CLOCK_SLACK < last {
            return Check::new(
                "clock",
                Status::Fail,
                format!(
                    "Đồng hồ sai: đang chỉ {shown}, trước thời điểm ghi sự kiện cuối cùng ({}).",
                    rfc3339(last)
                ),
                format!(
                    "The clock is wrong: it reads {shown}, before the last event was recorded ({}).",
                    rfc3339(last)
                ),
            )
            .fix(fix_vi, fix_en);
        }
    }
    // The box backdates its leaf by a day; a clock before even that is behind.
    if let Some(Ok(Some(c))) = read_cert(&dir.join("tls/leaf.pem")) {
        {
            if now < c.not_before {
                return Check::new(
                    "clock",
                    Status::Fail,
                    format!(
                        "Đồng hồ sai: đang chỉ {shown}, trước ngày chứng thư của hộp bắt đầu có hiệu lực ({}).",
                        rfc3339(c.not_before)
                    ),
                    format!(
                        "The clock is wrong: it reads {shown}, before the box's certificate became valid ({}).",
                        rfc3339(c.not_before)
                    ),
                )
                .fix(fix_vi, fix_en);
            }
        }
    }
    Check::new(
        "clock",
        Status::Ok,
        format!("Đồng hồ: {shown}, không sớm hơn dữ liệu đã ghi."),
        format!("Clock: {shown}, not earlier than what was recorded."),
    )
}

fn mib(b: u64) -> String {
    format!("{} MB", b / (1024 * 1024))
}

fn disk_check(dir: &Path) -> Check {
    let probe = if dir.exists() {
        dir.to_path_buf()
    } else {
        dir.parent().unwrap_or(Path::new("/")).to_path_buf()
    };
    let fix_vi =
        "Giải phóng chỗ trống: chép các bản sao lưu cũ sang nơi khác rồi xóa, xóa nhật ký cũ \
                  (sudo journalctl --vacuum-size=100M), hoặc thay thẻ nhớ lớn hơn.";
    let fix_en = "Free some space: move old backups elsewhere and delete them, trim old logs \
                  (sudo journalctl --vacuum-size=100M), or use a larger card.";
    let Some(free) = crate::http::probes::free_bytes(&probe) else {
        return Check::new(
            "disk",
            Status::Fail,
            format!("Không đọc được dung lượng trống của {}.", probe.display()),
            format!("Cannot read the free space of {}.", probe.display()),
        )
        .fix(
            "Kiểm tra đường dẫn --data và quyền truy cập.",
            "Check the --data path and its permissions.",
        );
    };
    if free < DISK_FAIL_BYTES {
        Check::new(
            "disk",
            Status::Fail,
            format!("Đĩa gần đầy: chỉ còn {} trống (cần ít nhất {}). Hộp sẽ từ chối ghi.", mib(free), mib(DISK_FAIL_BYTES)),
            format!("The disk is nearly full: only {} free (at least {} needed). The box will refuse writes.", mib(free), mib(DISK_FAIL_BYTES)),
        )
        .fix(fix_vi, fix_en)
    } else if free < DISK_WARN_BYTES {
        Check::new(
            "disk",
            Status::Warn,
            format!("Đĩa còn ít chỗ: {} trống.", mib(free)),
            format!("The disk is getting full: {} free.", mib(free)),
        )
        .fix(fix_vi, fix_en)
    } else {
        Check::new(
            "disk",
            Status::Ok,
            format!("Đĩa: còn {} trống.", mib(free)),
            format!("Disk: {} free.", mib(free)),
        )
    }
}

/// The facts of a PEM certificate file that the checks need.
struct CertInfo {
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    der: Vec<u8>,
}

/// `None` when the file does not exist; `Some(Err)` when it cannot be read or parsed.
fn read_cert(path: &Path) -> Option<Result<Option<CertInfo>, String>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(e.to_string())),
    };
    let parsed = (|| {
        let (_, pem) = x509_parser::pem::parse_x509_pem(&bytes).map_err(|e| e.to_string())?;
        let cert = pem.parse_x509().map_err(|e| e.to_string())?;
        let v = cert.validity();
        let t = |s: i64| OffsetDateTime::from_unix_timestamp(s).map_err(|e| e.to_string());
        Ok(Some(CertInfo {
            not_before: t(v.not_before.timestamp())?,
            not_after: t(v.not_after.timestamp())?,
            der: pem.contents.clone(),
        }))
    })();
    Some(parsed)
}

/// Whether `child` (DER) carries a valid signature by `issuer` (DER).
fn signed_by(child: &[u8], issuer: &[u8]) -> bool {
    use x509_parser::prelude::FromDer;
    let (Ok((_, c)), Ok((_, i))) = (
        x509_parser::certificate::X509Certificate::from_der(child),
        x509_parser::certificate::X509Certificate::from_der(issuer),
    ) else {
        return false;
    };
    c.verify_signature(Some(i.public_key())).is_ok()
}

fn cert_checks(dir: &Path, now: OffsetDateTime) -> Vec<Check> {
    let tls = dir.join("tls");
    let root = read_cert(&tls.join("root.pem"));
    if root.is_none() {
        return vec![Check::new(
            "certificates",
            Status::Info,
            "Chưa có chứng thư: hộp tạo chúng khi chạy lần đầu.",
            "No certificates yet: the box makes them on its first start.",
        )];
    }
    let files = [
        ("root.pem", "chứng thư gốc", "root certificate", ROOT_WARN),
        (
            "intermediate.pem",
            "chứng thư trung gian",
            "intermediate certificate",
            LEAF_WARN,
        ),
        (
            "leaf.pem",
            "chứng thư phục vụ HTTPS",
            "HTTPS serving certificate",
            LEAF_WARN,
        ),
        (
            "signing.pem",
            "chứng thư ký kết quả biểu quyết",
            "vote-result signing certificate",
            LEAF_WARN,
        ),
    ];
    let mut out = Vec::new();
    let mut ders: Vec<Option<Vec<u8>>> = Vec::new();
    // In province mode only the hub can issue the box CA: warn early, and say to enrol again.
    let province = crate::tls::province::is_province_dir(&tls);
    for (file, vi, en, warn) in files {
        let box_ca = province && file == "intermediate.pem";
        let warn = if box_ca { Duration::days(180) } else { warn };
        let path = tls.join(file);
        let info = match read_cert(&path) {
            None if file == "signing.pem" => {
                ders.push(None);
                continue;
            }
            None => Err("missing".to_owned()),
            Some(r) => r,
        };
        let info = match info {
            Ok(Some(i)) => i,
            Ok(None) | Err(_) => {
                let why = info.err().unwrap_or_default();
                out.push(
                    Check::new(
                        "certificates",
                        Status::Fail,
                        format!("Không đọc được {vi} ({}): {why}.", path.display()),
                        format!("Cannot read the {en} ({}): {why}.", path.display()),
                    )
                    .fix(
                        "Khởi động lại hộp: nó tự cấp lại chứng thư trung gian và chứng thư phục vụ. Nếu là chứng thư gốc, khôi phục thư mục tls/ từ bản sao lưu.",
                        "Restart the box: it reissues the intermediate and serving certificates by itself. If it is the root, restore tls/ from a backup.",
                    ),
                );
                ders.push(None);
                continue;
            }
        };
        let until = rfc3339(info.not_after);
        let renew_vi = if box_ca {
            "Chứng thư của tỉnh cho hộp này sắp hết hạn: đăng ký lại hộp với trung tâm (phonghop enroll --replace)."
        } else if file == "root.pem" {
            "Chứng thư gốc không tự thay: tạo hộp mới hoặc đăng ký với trung tâm, rồi cài lại chứng thư trên mọi máy tính bảng (mục 9)."
        } else {
            "Kiểm tra đồng hồ, rồi khởi động lại hộp (sudo systemctl restart phonghop): hộp tự cấp chứng thư mới khi khởi động."
        };
        let renew_en = if box_ca {
            "The box's CA under the province root is near its end: enrol the box again (phonghop enroll --replace)."
        } else if file == "root.pem" {
            "The root is never replaced by itself: set up the box again or enrol it with the hub, then trust the new root on every tablet (section 9)."
        } else {
            "Check the clock, then restart the box (sudo systemctl restart phonghop): it issues a new certificate when it starts."
        };
        if now > info.not_after {
            out.push(
                Check::new(
                    "certificates",
                    Status::Fail,
                    format!(
                        "{} đã hết hạn ngày {until}: máy tính bảng sẽ báo lỗi bảo mật.",
                        capitalise(vi)
                    ),
                    format!("The {en} expired on {until}: tablets will show a security error."),
                )
                .fix(renew_vi, renew_en),
            );
        } else if now < info.not_before {
            out.push(
                Check::new(
                    "certificates",
                    Status::Fail,
                    format!(
                        "{} chưa có hiệu lực (từ {}).",
                        capitalise(vi),
                        rfc3339(info.not_before)
                    ),
                    format!(
                        "The {en} is not valid yet (from {}).",
                        rfc3339(info.not_before)
                    ),
                )
                .fix(
                    "Đồng hồ của hộp có thể đang chậm: xem mục đồng hồ ở trên.",
                    "The box's clock is probably behind: see the clock check above.",
                ),
            );
        } else if info.not_after - now < warn {
            out.push(
                Check::new(
                    "certificates",
                    Status::Warn,
                    format!("{} sắp hết hạn: ngày {until}.", capitalise(vi)),
                    format!("The {en} expires soon: on {until}."),
                )
                .fix(renew_vi, renew_en),
            );
        }
        ders.push(Some(info.der));
    }
    // The chain: intermediate under root, leaf and signing certificate under the intermediate.
    // In province mode: intermediate under issuing.pem under root.pem (the province root), its
    // cross-signed copy and the signing certificate under own-root.pem.
    let own_root = if province {
        read_cert(&tls.join("own-root.pem")).and_then(|r| r.ok().flatten())
    } else {
        None
    };
    if let (Some(Some(root)), Some(Some(inter))) = (ders.first(), ders.get(1)) {
        let mut broken = Vec::new();
        if province {
            let issuing = read_cert(&tls.join("issuing.pem")).and_then(|r| r.ok().flatten());
            let cross =
                read_cert(&tls.join("intermediate-cross.pem")).and_then(|r| r.ok().flatten());
            match &issuing {
                Some(i) if signed_by(inter, &i.der) && signed_by(&i.der, root) => {}
                _ => broken.push("intermediate.pem ← issuing.pem ← root.pem"),
            }
            match (&cross, &own_root) {
                (Some(c), Some(o)) if signed_by(&c.der, &o.der) => {}
                _ => broken.push("intermediate-cross.pem ← own-root.pem"),
            }
        } else if !signed_by(inter, root) {
            broken.push("intermediate.pem ← root.pem");
        }
        if let Some(Some(leaf)) = ders.get(2) {
            if !signed_by(leaf, inter) {
                broken.push("leaf.pem ← intermediate.pem");
            }
        }
        if let Some(Some(sig)) = ders.get(3) {
            let under_own = own_root.as_ref().is_some_and(|o| signed_by(sig, &o.der));
            if !signed_by(sig, inter) && !signed_by(sig, root) && !under_own {
                broken.push("signing.pem ← intermediate.pem");
            }
        }
        if !broken.is_empty() {
            out.push(
                Check::new(
                    "certificates",
                    Status::Fail,
                    format!("Chuỗi chứng thư không khớp: {}.", broken.join(", ")),
                    format!("The certificate chain does not hold: {}.", broken.join(", ")),
                )
                .fix(
                    "Khởi động lại hộp để nó cấp lại chứng thư; nếu vẫn lỗi, khôi phục thư mục tls/ từ bản sao lưu.",
                    "Restart the box so it reissues its certificates; if that does not help, restore tls/ from a backup.",
                ),
            );
        }
    }
    if province {
        let uncovered = crate::tls::province::uncovered_addresses_now(&tls).unwrap_or_default();
        if !uncovered.is_empty() {
            let list = uncovered.join(", ");
            out.push(
                Check::new(
                    "certificates",
                    Status::Warn,
                    format!("Chứng thư của tỉnh không bao gồm địa chỉ mới của hộp: {list}. Hộp vẫn phục vụ, nhưng máy tính bảng dùng các địa chỉ này sẽ báo lỗi bảo mật."),
                    format!("The province certificate does not cover the box's new addresses: {list}. The box keeps serving, but tablets using these addresses get a security error."),
                )
                .fix(
                    "Đăng ký lại hộp với trung tâm để được cấp chứng thư mới: dừng hộp, phonghop enroll --replace https://<trung-tâm> <mã mới>, khởi động lại.",
                    "Enrol the box again for a new certificate: stop the box, phonghop enroll --replace https://<hub> <new token>, start it.",
                ),
            );
        }
    }
    if out.is_empty() {
        let leaf_until = read_cert(&tls.join("leaf.pem"))
            .and_then(|r| r.ok().flatten())
            .map(|c| rfc3339(c.not_after))
            .unwrap_or_default();
        out.push(Check::new(
            "certificates",
            Status::Ok,
            format!(
                "Chứng thư hợp lệ{}; chứng thư phục vụ có hạn đến {leaf_until}.",
                if province {
                    " (dưới chứng thư gốc của tỉnh)"
                } else {
                    ""
                }
            ),
            format!(
                "Certificates valid{}; the serving certificate runs until {leaf_until}.",
                if province {
                    " (under the province root)"
                } else {
                    ""
                }
            ),
        ));
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn store_checks(dir: &Path, store: &Result<StoreReport, OpsError>) -> Vec<Check> {
    let s = match store {
        Ok(s) => s,
        Err(e) => {
            return vec![Check::new("store", Status::Fail, e.vi.clone(), e.en.clone()).fix(
                "Đọc thông báo; không xóa dữ liệu. Nếu dữ liệu hỏng, khôi phục từ bản sao lưu (phonghop restore).",
                "Read the message; do not delete data. If the data is damaged, restore from a backup (phonghop restore).",
            )]
        }
    };
    let mut out = Vec::new();
    match &s.broken {
        Some(BrokenAt {
            origin,
            seq,
            reason,
        }) => out.push(
            Check::new(
                "store",
                Status::Fail,
                format!("Nhật ký sự kiện bị hỏng ở sự kiện {seq} (nguồn {origin}): {reason}."),
                format!("The event log is broken at event {seq} (origin {origin}): {reason}."),
            )
            .fix(
                "Không xóa gì. Dừng hộp, giữ nguyên thư mục dữ liệu, khôi phục bản sao lưu gần nhất vào thư mục mới (phonghop restore) và báo cho người phát triển.",
                "Delete nothing. Stop the box, keep the data directory as it is, restore the latest backup into a new directory (phonghop restore) and tell the developers.",
            ),
        ),
        None => out.push(Check::new(
            "store",
            Status::Ok,
            format!("Dữ liệu: {} sự kiện, chuỗi băm nguyên vẹn.", s.events),
            format!("Store: {} events, hash chain intact.", s.events),
        )),
    }
    // Every referenced blob present and matching its name; files hashed here, by this process.
    let blobs = dir.join("blobs");
    let mut missing = Vec::new();
    for b in &s.blobs {
        let p = blobs
            .join(&b.sha256[..2.min(b.sha256.len())])
            .join(&b.sha256);
        if !p.is_file() {
            missing.push(b.sha256.clone());
        }
    }
    let bad = match crate::store::blobs::verify_all(&blobs) {
        Ok((_, bad)) => bad,
        Err(e) => {
            out.push(Check::new(
                "blobs",
                Status::Fail,
                format!("Không đọc được thư mục tài liệu: {e}"),
                format!("Cannot read the documents folder: {e}"),
            ));
            return out;
        }
    };
    let mut damaged: Vec<String> = bad
        .iter()
        .map(|b| {
            b.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    damaged.extend(s.damaged_known.iter().cloned());
    damaged.sort();
    damaged.dedup();
    if missing.is_empty() && damaged.is_empty() {
        out.push(Check::new(
            "blobs",
            Status::Ok,
            format!("Tài liệu: {} tệp, tệp nào cũng khớp mã băm.", s.blobs.len()),
            format!(
                "Documents: {} files, every one matches its hash.",
                s.blobs.len()
            ),
        ));
    } else {
        let list = missing
            .iter()
            .chain(damaged.iter())
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        out.push(
            Check::new(
                "blobs",
                Status::Fail,
                format!("{} tệp tài liệu bị mất, {} tệp bị hỏng: {list}.", missing.len(), damaged.len()),
                format!("{} document files missing, {} damaged: {list}.", missing.len(), damaged.len()),
            )
            .fix(
                "Hộp không phát các tệp này. Tải lại các tài liệu đó trên màn hình chuẩn bị cuộc họp, hoặc khôi phục từ bản sao lưu.",
                "The box does not serve these files. Upload those documents again on the preparation screen, or restore from a backup.",
            ),
        );
    }
    if let Some(m) = &s.restored {
        let head = m
            .heads
            .iter()
            .find(|h| h.origin == s.node_id)
            .map(|h| h.seq)
            .unwrap_or(0);
        out.push(Check::new(
            "restored",
            Status::Info,
            format!(
                "Hộp này được khôi phục ngày {} từ bản sao lưu tạo ngày {} (đến sự kiện {head}).",
                rfc3339(m.restored_at),
                rfc3339(m.backup_created_at)
            ),
            format!(
                "This box was restored on {} from a backup made on {} (up to event {head}).",
                rfc3339(m.restored_at),
                rfc3339(m.backup_created_at)
            ),
        ));
    }
    out
}

fn port_checks(dir: &Path, config: &Config, running: bool) -> Vec<Check> {
    let serving = std::fs::read_to_string(dir.join(crate::server::SERVING_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<crate::server::Serving>(&t).ok());
    let ports = match (&serving, running) {
        (Some(s), true) => vec![("https", s.https_port), ("http", s.http_port)],
        _ => vec![("https", config.https_port), ("http", config.http_port)],
    };
    let mut out = Vec::new();
    for (what, port) in ports {
        if running {
            out.push(Check::new(
                "ports",
                Status::Ok,
                format!("Cổng {port} ({what}) do Phonghop giữ."),
                format!("Port {port} ({what}) is held by Phonghop."),
            ));
            continue;
        }
        let ip = config
            .bind
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        match std::net::TcpListener::bind((ip, port)) {
            Ok(_) => out.push(Check::new(
                "ports",
                Status::Ok,
                format!("Cổng {port} ({what}) đang trống, sẵn sàng cho Phonghop."),
                format!("Port {port} ({what}) is free for Phonghop."),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => out.push(
                Check::new(
                    "ports",
                    Status::Fail,
                    format!("Cổng {port} ({what}) đang bị một chương trình khác giữ, nên Phonghop không khởi động được."),
                    format!("Port {port} ({what}) is held by another program, so Phonghop cannot start."),
                )
                .fix(
                    format!("Xem chương trình nào: sudo ss -ltnp 'sport = :{port}'. Dừng nó (ví dụ sudo systemctl disable --now nginx), hoặc đặt cổng khác trong phonghop.toml."),
                    format!("See which program: sudo ss -ltnp 'sport = :{port}'. Stop it (e.g. sudo systemctl disable --now nginx), or set another port in phonghop.toml."),
                ),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => out.push(Check::new(
                "ports",
                Status::Info,
                format!("Không kiểm tra được cổng {port} ({what}) khi không có quyền root; dịch vụ systemd có quyền mở cổng này."),
                format!("Cannot check port {port} ({what}) without root; the systemd service is allowed to open it."),
            )),
            Err(e) => out.push(Check::new(
                "ports",
                Status::Warn,
                format!("Không kiểm tra được cổng {port} ({what}): {e}"),
                format!("Cannot check port {port} ({what}): {e}"),
            )),
        }
    }
    out
}

/// Binds the mDNS port the way the announcer does (shared, SO_REUSEADDR and SO_REUSEPORT) and
/// lets it go. No group is joined and nothing is sent, on any interface.
fn mdns_check(config: &Config) -> Check {
    if config.mdns == "off" {
        return Check::new(
            "mdns",
            Status::Info,
            "mDNS đang tắt (mdns = \"off\"): máy tính bảng mở hộp bằng địa chỉ IP hoặc mã QR.",
            "mDNS is off (mdns = \"off\"): tablets open the box by IP address or QR code.",
        );
    }
    let bound = (|| {
        use socket2::{Domain, Protocol, Socket, Type};
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        s.set_reuse_address(true)?;
        s.set_reuse_port(true)?;
        let addr = std::net::SocketAddr::from(([0, 0, 0, 0], 5353));
        s.bind(&addr.into())
    })();
    match bound {
        Ok(()) => Check::new(
            "mdns",
            Status::Ok,
            format!("mDNS: mở được cổng 5353 (giao diện: {}).", config.mdns),
            format!("mDNS: port 5353 can be opened (interfaces: {}).", config.mdns),
        ),
        Err(e) => Check::new(
            "mdns",
            Status::Fail,
            format!("mDNS: không mở được cổng 5353: {e}. Máy tính bảng sẽ không tìm thấy tên .local của hộp."),
            format!("mDNS: cannot open port 5353: {e}. Tablets will not find the box's .local name."),
        )
        .fix(
            "Một chương trình khác giữ riêng cổng 5353 (sudo ss -lunp 'sport = :5353'). Dừng nó, hoặc đặt mdns = \"off\" và dùng địa chỉ IP, mã QR hoặc chế độ điểm phát Wi-Fi.",
            "Another program holds port 5353 for itself (sudo ss -lunp 'sport = :5353'). Stop it, or set mdns = \"off\" and use the IP address, the QR code or access-point mode.",
        ),
    }
}

/// The hub link and the sync backlog. Enrolment is read from `DATA/sync/` (no lock needed);
/// the sync loop's state comes from the running box, since only it knows whether the last
/// session reached the hub. Nothing is sent to the hub from here.
fn hub_checks(dir: &Path, store: Option<&StoreReport>, now: OffsetDateTime) -> Vec<Check> {
    let enrolled = match crate::sync::Enrolled::load(dir) {
        Ok(Some(e)) => e,
        Ok(None) => {
            return vec![
                Check::new(
                    "hub",
                    Status::Info,
                    "Chưa đăng ký với trung tâm: hộp chạy độc lập.",
                    "Not enrolled with a hub: the box runs stand-alone.",
                ),
                Check::new(
                    "sync_backlog",
                    Status::Info,
                    "Không có gì chờ gửi về trung tâm (chưa đăng ký).",
                    "Nothing waits to be sent to a hub (not enrolled).",
                ),
            ]
        }
        Err(e) => {
            return vec![Check::new(
                "hub",
                Status::Fail,
                format!("Thiết lập đồng bộ với trung tâm bị hỏng: {e}"),
                format!("The hub sync settings are damaged: {e}"),
            )
            .fix(
                "Đăng ký lại với trung tâm bằng mã mới (phonghop enroll), hoặc khôi phục thư mục sync/ từ bản sao lưu.",
                "Enrol with the hub again with a new token (phonghop enroll), or restore sync/ from a backup.",
            )]
        }
    };
    let hub = enrolled.settings.hub_url.clone();
    let Some(sync) = store.and_then(|s| s.sync.as_ref()) else {
        return vec![
            Check::new(
                "hub",
                Status::Info,
                format!("Đã đăng ký với trung tâm {hub} từ {}; chỉ biết tình trạng đồng bộ khi hộp đang chạy.", rfc3339(enrolled.settings.enrolled_at)),
                format!("Enrolled with the hub {hub} since {}; the sync state is known only while the box runs.", rfc3339(enrolled.settings.enrolled_at)),
            ),
        ];
    };
    let last = sync
        .last_success
        .map(rfc3339)
        .unwrap_or_else(|| "chưa lần nào / never".into());
    let error = sync.last_error.clone().unwrap_or_default();
    let hub_check = match sync.state.as_str() {
        "fork" => Check::new(
            "hub",
            Status::Fail,
            format!("Trung tâm giữ nhật ký của hộp khác với nhật ký trên hộp (rẽ nhánh, ví dụ sau khi khôi phục bản sao lưu cũ): hộp đã ngừng gửi. {error}"),
            format!("The hub holds a different copy of this box's log (a fork, e.g. after restoring an old backup): the box stopped sending. {error}"),
        )
        .fix(
            "Không xóa gì. Báo cán bộ CNTT ở trung tâm: họ xem xung đột trên trang của trung tâm và quyết định.",
            "Delete nothing. Tell the IT staff at the hub: they see the conflict on the hub's page and decide.",
        ),
        "refused" => Check::new(
            "hub",
            Status::Fail,
            format!("Trung tâm từ chối hộp này (có thể đã bị thu hồi). {error}"),
            format!("The hub refuses this box (it may have been revoked). {error}"),
        )
        .fix(
            "Hỏi trung tâm; nếu cần, đăng ký lại bằng mã mới (phonghop enroll).",
            "Ask the hub's IT staff; if needed, enrol again with a new token (phonghop enroll).",
        ),
        "incompatible" => Check::new(
            "hub",
            Status::Fail,
            format!("Phiên bản của hộp và của trung tâm không hợp nhau. {error}"),
            format!("The box's and the hub's versions do not fit together. {error}"),
        )
        .fix("Nâng cấp Phonghop trên hộp hoặc ở trung tâm.", "Upgrade Phonghop on the box or at the hub."),
        "backoff" => Check::new(
            "hub",
            Status::Warn,
            format!("Chưa kết nối được trung tâm {hub} (lần đồng bộ cuối: {last}): {error}"),
            format!("Cannot reach the hub {hub} (last sync: {last}): {error}"),
        )
        .fix(
            "Kiểm tra mạng Internet (4G, đường truyền văn phòng). Hộp vẫn chạy bình thường và tự gửi lại khi có mạng.",
            "Check the internet link (4G, office line). The box keeps working and sends by itself once the link is back.",
        ),
        _ => Check::new(
            "hub",
            Status::Ok,
            format!("Đã đăng ký với trung tâm {hub}; lần đồng bộ cuối: {last}."),
            format!("Enrolled with the hub {hub}; last sync: {last}."),
        ),
    };
    let stale = sync
        .last_success
        .is_none_or(|t| now - t > Duration::days(1));
    let backlog = match sync.backlog_events {
        Some(0) if sync.blobs_pending == 0 => Check::new(
            "sync_backlog",
            Status::Ok,
            "Trung tâm đã nhận mọi thứ.",
            "The hub has everything.",
        ),
        Some(n) => Check::new(
            "sync_backlog",
            if stale { Status::Warn } else { Status::Info },
            format!(
                "Đang chờ gửi về trung tâm: {n} sự kiện, {} tài liệu.",
                sync.blobs_pending
            ),
            format!(
                "Waiting to be sent to the hub: {n} events, {} documents.",
                sync.blobs_pending
            ),
        ),
        None => Check::new(
            "sync_backlog",
            if stale { Status::Warn } else { Status::Info },
            "Chưa biết trung tâm đã nhận đến đâu (chưa có lần đồng bộ nào xong).",
            "Not known yet how far the hub holds this box's log (no sync session has finished).",
        ),
    };
    vec![hub_check, backlog]
}

/// The report as text: each check on its line, with the fix under it.
pub fn render_text(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "Phonghop doctor: {} ({})", r.data_dir, rfc3339(r.at));
    for c in &r.checks {
        let mark = match c.status {
            Status::Ok => "[ OK ]",
            Status::Info => "[INFO]",
            Status::Warn => "[CHÚ Ý / WARN]",
            Status::Fail => "[LỖI / FAIL]",
        };
        let _ = writeln!(s, "{mark} {}", c.vi);
        let _ = writeln!(s, "       {}", c.en);
        if let (Some(vi), Some(en)) = (&c.fix_vi, &c.fix_en) {
            let _ = writeln!(s, "       Cách sửa: {vi}");
            let _ = writeln!(s, "       Fix: {en}");
        }
    }
    let failed = r.checks.iter().filter(|c| c.status == Status::Fail).count();
    if failed == 0 {
        let _ = writeln!(s, "Không có lỗi / no failures.");
    } else {
        let _ = writeln!(s, "{failed} mục lỗi / {failed} check(s) failed.");
    }
    s
}

/// Which release the box runs, and whether a signed update is staged, on trial, or was rolled
/// back (`crate::update`).
fn update_check(dir: &Path) -> Check {
    use crate::update::{pinned_key, UpdateState};
    let state = match UpdateState::load(dir) {
        Ok(s) => s,
        Err(e) => {
            return Check::new(
                "update",
                Status::Warn,
                format!("Không đọc được trạng thái cập nhật: {e}. Hộp chạy bản của gói cài đặt."),
                format!("The update state cannot be read: {e}. The box runs the packaged release."),
            )
            .fix(
                "Cài lại bản cập nhật (phonghop update apply) hoặc báo cho văn phòng.",
                "Apply the update again (phonghop update apply) or tell the office.",
            )
        }
    };
    let installed = state.installed_version();
    if let Some(t) = &state.trial {
        let (vi, en) = if t.attempts == 0 {
            (
                "sẽ chạy thử ở lần khởi động tới",
                "runs on trial at the next start",
            )
        } else {
            ("đang chạy thử", "is on trial")
        };
        return Check::new(
            "update",
            Status::Info,
            format!("Bản {} {vi}; bản đang dùng: {installed}.", t.version),
            format!(
                "Release {} {en}; the installed release is {installed}.",
                t.version
            ),
        );
    }
    let superseded = |v: &str| match (
        semver::Version::parse(v),
        semver::Version::parse(&installed),
    ) {
        (Ok(f), Ok(i)) => f <= i,
        _ => true,
    };
    if let Some(f) = state.failed.last().filter(|f| !superseded(&f.version)) {
        return Check::new(
            "update",
            Status::Warn,
            format!(
                "Bản {} đã bị hoàn tác ({}); hộp chạy bản {installed}.",
                f.version, f.reason
            ),
            format!(
                "Release {} was rolled back ({}); the box runs {installed}.",
                f.version, f.reason
            ),
        )
        .fix(
            "Báo cho văn phòng: bản này không chạy được trên hộp; văn phòng ký một bản mới hơn.",
            "Tell the office: this release does not run on the box; the office signs a newer one.",
        );
    }
    match pinned_key(dir) {
        Ok(_) => Check::new(
            "update",
            Status::Ok,
            format!("Bản đang dùng: {installed}; nhận bản cập nhật có chữ ký của văn phòng."),
            format!("Installed release: {installed}; takes updates signed by the office."),
        ),
        Err(_) => Check::new(
            "update",
            Status::Info,
            format!("Bản đang dùng: {installed}. Hộp chưa có khóa phát hành nên từ chối mọi bản cập nhật."),
            format!("Installed release: {installed}. The box has no release key, so it refuses every update."),
        )
        .fix(
            "Đăng ký (lại) hộp với trung tâm sau khi trung tâm có khóa phát hành (hướng dẫn, mục 22).",
            "Enrol the box (again) once the hub has a release key (guide, section 22).",
        ),
    }
}
