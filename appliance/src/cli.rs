//! The command line: `serve`, `init`, `admin`, `verify`, `discover`, `verify-vote`, `backup`,
//! `restore`, `doctor`. Plain words in `--help`,
//! one exit code per kind of failure, and every error said in a sentence an operator can act on.

use crate::config::{Config, LogFormat, Overrides};
use crate::domain::{Actor, Password, Role, RoomName};
use crate::server::{self, Application, StartError};
use crate::service::{staff, Refusal, ServiceError};
use crate::store::{NodeRole, Store, StoreError, DB_FILE};
use clap::{Args, Parser, Subcommand};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const ABOUT: &str = "Phonghop: phòng họp không giấy (paperless meeting room).\n\
One box in the meeting room serves the agenda, documents and attendance to tablets over \
the room's Wi-Fi, with its own certificate authority, and keeps working without internet.";

#[derive(Debug, Parser)]
#[command(name = "phonghop", version, about = ABOUT, long_about = None)]
pub struct Cli {
    /// How to write logs: text for a terminal, json for journald.
    #[arg(long, global = true, env = "PHONGHOP_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the meeting-room box: HTTPS for the app, plain HTTP for onboarding tablets.
    /// On an empty data directory it first sets the box up (like `init`).
    Serve(ServeArgs),
    /// Run the central office (hub): the same app for office staff, plus the sync port where
    /// enrolled room boxes send their records (mutual TLS). On an empty data directory it
    /// first sets the hub up.
    Hub(HubArgs),
    /// Enrol this room box with the central office, using a one-time token that IT staff
    /// issued on the hub (stop the box first). From then on the box syncs by itself.
    Enroll(EnrollArgs),
    /// Set up a new data directory: the store, the first IT admin account.
    Init(InitArgs),
    /// Manage staff accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Check the event log's hash chain and report the first broken link, if any; with
    /// --blobs, also re-hash every stored document and name those whose bytes are damaged.
    Verify(VerifyArgs),
    /// Rebuild every read model from the event log (the box must be stopped). Sign-ins,
    /// PINs and paired tablets are kept.
    Rebuild(DataArg),
    /// List Phonghop boxes announced on the local network (mDNS).
    Discover(DiscoverArgs),
    /// Check a vote's evidence package (the ZIP exported after a vote closes) offline: every
    /// tablet's signature, the box's signature, the chain to the root, and the count. Prints
    /// each check; exits 0 only if all pass.
    VerifyVote(VerifyVoteArgs),
    /// Print the room's access sheet (A4 PDF, in Vietnamese): the Wi-Fi QR code, then the QR
    /// code and address of the box's onboarding page.
    AccessSheet(crate::access_sheet::AccessSheetArgs),
    /// Back the box up into one file (a tar.gz with a manifest of SHA-256 hashes), while it
    /// serves or while it is stopped. The file holds the CA's private keys: keep it safe.
    Backup(BackupArgs),
    /// Put a backup back into an empty or missing data directory, after checking every file.
    /// The box is marked as restored, so sync reports a fork instead of overwriting history.
    Restore(RestoreArgs),
    /// Check the box (clock, disk, certificates, store and documents, ports, mDNS, hub) and
    /// say how to fix what is wrong. Exits 1 if any check fails.
    Doctor(DoctorArgs),
    /// The office's release key and signatures (on the offline machine that keeps the key).
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Install a signed release on this box by hand (e.g. from a USB stick); the box runs it
    /// at its next start and rolls back by itself if it does not become healthy.
    #[command(subcommand)]
    Update(UpdateCommand),
    /// The province's root certificate authority, on an offline machine (see
    /// docs/operator-guide.md, "Province root"): make it once, then sign the hub's request.
    #[command(subcommand, name = "province-ca")]
    ProvinceCa(ProvinceCaCommand),
}

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Make the release key pair in DIR: phonghop-release.key (secret: keep it offline,
    /// protected by a password unless --no-password) and phonghop-release.pub (for the hub).
    Keygen {
        #[arg(long)]
        out: PathBuf,
        /// Leave the secret key without a password (tests, or a key kept in a hardware vault).
        #[arg(long)]
        no_password: bool,
    },
    /// Sign a release binary: writes BIN.minisig, whose trusted comment reads
    /// "phonghop VERSION TARGET". The password comes from $PHONGHOP_RELEASE_PASSWORD or the
    /// terminal.
    Sign {
        /// The secret key (phonghop-release.key).
        #[arg(long)]
        key: PathBuf,
        /// The release binary.
        #[arg(long)]
        file: PathBuf,
        /// The release's version (default: this build's).
        #[arg(long)]
        version: Option<String>,
        /// The platform it is built for, e.g. aarch64-linux (default: this machine's).
        #[arg(long)]
        target: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UpdateCommand {
    /// Verify BIN with the release key pinned at enrolment and stage it; then restart the
    /// box (sudo systemctl restart phonghop).
    Apply {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        file: PathBuf,
        /// The signature (default: BIN.minisig).
        #[arg(long)]
        sig: Option<PathBuf>,
    },
    /// Show the installed, previous, staged and failed releases.
    Status {
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProvinceCaCommand {
    /// Make the province root (key and certificate, 20 years) in a new directory, e.g. on a
    /// USB stick. Keep the key offline.
    Init(ProvinceInitArgs),
    /// Sign a hub's issuing-CA request (from `phonghop hub ca-request`) with the root.
    Sign(ProvinceSignArgs),
}

#[derive(Debug, Args)]
pub struct ProvinceInitArgs {
    /// Where to write province-root.pem and province-root.key (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// The province's name, e.g. "Tỉnh Đồng Tháp".
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct ProvinceSignArgs {
    /// The directory `province-ca init` wrote.
    #[arg(long)]
    pub root: PathBuf,
    /// The hub's request (issuing.csr).
    #[arg(long)]
    pub csr: PathBuf,
    /// Where to write the signed certificate (must not exist), e.g. issuing.pem.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Offer a signed release to the room boxes: checks it with the hub's release key, stores
    /// it, and records `update.offered` (through the control socket of a running hub, or in a
    /// stopped hub's store); boxes take it at their next sync.
    OfferUpdate {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        file: PathBuf,
        /// The signature (default: BIN.minisig).
        #[arg(long)]
        sig: Option<PathBuf>,
        /// Offer it only to this box (its node id); repeat for several. Default: every box.
        #[arg(long = "node")]
        nodes: Vec<String>,
    },
    /// Make the hub's issuing-CA key and write its request (issuing.csr) for the offline
    /// province root to sign. The hub may keep running.
    CaRequest(HubCaRequestArgs),
    /// Install the issuing-CA certificate the province root signed. From the next enrolment
    /// on, boxes get a CA under the province root.
    CaInstall(HubCaInstallArgs),
}

#[derive(Debug, Args)]
pub struct HubCaRequestArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// Also copy the request here (e.g. onto the USB stick).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HubCaInstallArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// The signed certificate from `province-ca sign`.
    #[arg(long)]
    pub cert: PathBuf,
    /// The province root certificate (province-root.pem; never the key).
    #[arg(long)]
    pub root: PathBuf,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// The backup file to write, e.g. /root/phonghop-2026-12-01.tar.gz (must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file made by `phonghop backup`.
    #[arg(long)]
    pub from: PathBuf,
    #[command(flatten)]
    pub data: DataArg,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// Print the report as JSON (for the IT page and scripts).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HubArgs {
    #[command(subcommand)]
    pub action: Option<HubCommand>,
    #[command(flatten)]
    pub serve: ServeArgs,
    /// The office's release key (phonghop-release.pub): kept in the hub's data directory and
    /// given to every box that enrols from then on, which installs only releases it signed.
    #[arg(long, env = "PHONGHOP_RELEASE_KEY")]
    pub release_key: Option<PathBuf>,
    /// The sync port for room boxes (default 8444; 0 picks a free port).
    #[arg(long, env = "PHONGHOP_SYNC_PORT")]
    pub sync_port: Option<u16>,
}

#[derive(Debug, Args)]
pub struct EnrollArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// The hub's address, e.g. https://trungtam.example.gov.vn or https://10.0.0.5:8443.
    pub hub_url: String,
    /// The one-time token from the hub (PH1-…). If not given, it is read from
    /// $CREDENTIALS_DIRECTORY/enroll-token (systemd LoadCredential=) or the environment.
    #[arg(env = "PHONGHOP_ENROLL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Sync through this address instead of the hub's host and sync port (a relay, a test).
    #[arg(long)]
    pub sync_url: Option<String>,
    /// Enrol again, replacing an earlier enrolment.
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct VerifyVoteArgs {
    /// The evidence package, e.g. ket-qua-bieu-quyet-2026-12-01-….zip.
    pub file: PathBuf,
    /// The box's root certificate (PEM) to trust instead of the one inside the package, e.g.
    /// the ca.pem downloaded from the box.
    #[arg(long)]
    pub root: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DataArg {
    /// The box's data directory.
    #[arg(long, env = "PHONGHOP_DATA", default_value = "/var/lib/phonghop")]
    pub data: PathBuf,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// Also re-hash every stored document file (slow on a full disk: it reads every byte).
    #[arg(long)]
    pub blobs: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// HTTPS port for the app (default 443; 0 picks a free port).
    #[arg(long, env = "PHONGHOP_HTTPS_PORT")]
    pub https_port: Option<u16>,
    /// Plain-HTTP port for onboarding and redirects (default 80; 0 picks a free port).
    #[arg(long, env = "PHONGHOP_HTTP_PORT")]
    pub http_port: Option<u16>,
    /// Listen on this address only (default: every address).
    #[arg(long, env = "PHONGHOP_BIND")]
    pub bind: Option<IpAddr>,
    /// Interfaces to announce on with mDNS: all (every LAN interface), lo, off, or names
    /// separated by commas (e.g. wlan0,eth0).
    #[arg(long, env = "PHONGHOP_MDNS")]
    pub mdns: Option<String>,
    /// The room's name, used only when the box sets itself up on first start.
    #[arg(long, env = "PHONGHOP_ROOM")]
    pub room: Option<String>,
    /// Add the demo data (staff accounts with known passwords and a notice). For trying the
    /// box out, never for a real room.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// The room's name as tablets show it, e.g. "Phòng họp UBND xã Tân Phú".
    #[arg(long)]
    pub room: String,
    /// Set up a central-office hub instead of a room box.
    #[arg(long)]
    pub hub: bool,
    /// User name of the first IT admin.
    #[arg(long, default_value = "admin")]
    pub admin_user: String,
    /// Password of the first IT admin (at least 8 characters). If not given, a random one is
    /// made and printed once.
    #[arg(long, env = "PHONGHOP_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a staff account (the box must be stopped; while it runs, use the web app's
    /// "Tài khoản" page).
    Create(AdminCreateArgs),
    /// Set a new password for a staff account and end its sessions, e.g. when the IT admin's
    /// own password is lost (the box must be stopped).
    ResetPassword(AdminResetArgs),
}

#[derive(Debug, Args)]
pub struct AdminResetArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// Sign-in name of the account.
    #[arg(long)]
    pub username: String,
    /// New password (at least 8 characters). If not given, a random one is made and printed once.
    #[arg(long, env = "PHONGHOP_NEW_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

#[derive(Debug, Args)]
pub struct AdminCreateArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// Sign-in name: a-z, 0-9, '.', '_' and '-'.
    #[arg(long)]
    pub username: String,
    /// Full name as shown to others, e.g. "Nguyễn Thị Lan".
    #[arg(long)]
    pub name: String,
    /// Role(s): it-admin, secretary, chair. Repeat for several.
    #[arg(long = "role", value_enum, required = true)]
    pub roles: Vec<StaffRole>,
    /// Password (at least 8 characters). If not given, a random one is made and printed once.
    #[arg(long, env = "PHONGHOP_NEW_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StaffRole {
    ItAdmin,
    Secretary,
    Chair,
}

impl From<StaffRole> for Role {
    fn from(r: StaffRole) -> Role {
        match r {
            StaffRole::ItAdmin => Role::ItAdmin,
            StaffRole::Secretary => Role::Secretary,
            StaffRole::Chair => Role::Chair,
        }
    }
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Interfaces to browse on: all, lo, or names separated by commas.
    #[arg(long, default_value = "all")]
    pub mdns: String,
    /// How long to listen, in seconds.
    #[arg(long, default_value_t = 3)]
    pub timeout: u64,
}

/// A failure to report: a sentence and an exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::new(server::store_exit_code(&e), e.to_string())
    }
}

impl From<StartError> for Failure {
    fn from(e: StartError) -> Self {
        Failure::new(e.exit_code(), e.to_string())
    }
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Store(s) => s.into(),
            ServiceError::Conflict(m) => Failure::new(73, m),
            ServiceError::Refused(Refusal::AccountTaken(u)) => {
                Failure::new(73, format!("the user name {u} is taken"))
            }
            ServiceError::NotFound => Failure::new(67, "no such account"),
            ServiceError::Internal(m) => Failure::new(70, m),
            // Anything else is input the operator typed: a usage error.
            other => Failure::new(64, other.to_string()),
        }
    }
}

pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(args) => {
            let dir = args.data.data.clone();
            serve(args, None, cli.log_format).map_err(|f| trial_failure(&dir, f))
        }
        Command::Hub(HubArgs {
            action:
                Some(HubCommand::OfferUpdate {
                    data,
                    file,
                    sig,
                    nodes,
                }),
            ..
        }) => offer_update(&data.data, &file, sig, &nodes),
        Command::Hub(HubArgs {
            action: Some(action),
            ..
        }) => hub_ca(action),
        Command::Hub(args) => pin_release_key(&args.serve.data.data, args.release_key.as_deref())
            .and_then(|()| serve(args.serve, Some(args.sync_port), cli.log_format)),
        Command::ProvinceCa(cmd) => province_ca(cmd),
        Command::Release(ReleaseCommand::Keygen { out, no_password }) => {
            release_keygen(&out, no_password)
        }
        Command::Release(ReleaseCommand::Sign {
            key,
            file,
            version,
            target,
        }) => release_sign(&key, &file, version, target),
        Command::Update(UpdateCommand::Apply { data, file, sig }) => {
            update_apply(&data.data, &file, sig)
        }
        Command::Update(UpdateCommand::Status { data }) => update_status(&data.data),
        Command::Enroll(args) => enroll(args),
        Command::Init(args) => init(args).map(|_| ()),
        Command::Admin(AdminCommand::Create(args)) => admin_create(args),
        Command::Admin(AdminCommand::ResetPassword(args)) => admin_reset_password(args),
        Command::Verify(args) => verify(&args.data.data, args.blobs),
        Command::Rebuild(args) => rebuild(&args.data),
        Command::Discover(args) => discover(args),
        Command::VerifyVote(args) => verify_vote(&args),
        Command::AccessSheet(args) => crate::access_sheet::run(args)
            .map(|out| println!("{}", out.display()))
            .map_err(|e| Failure::new(e.exit_code(), e.to_string())),
        Command::Backup(args) => ops_backup(&args),
        Command::Restore(args) => ops_restore(&args),
        Command::Doctor(args) => ops_doctor(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("phonghop: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn random_password() -> String {
    use rand::Rng;
    // No look-alike characters (0/O, 1/l/I): it is read off a screen and typed by hand.
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|i| {
            let c = ALPHABET[rng.gen_range(0..ALPHABET.len())] as char;
            if i > 0 && i % 4 == 0 {
                format!("-{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn parse_password(raw: Option<String>) -> Result<(Password, bool), Failure> {
    match raw {
        Some(p) => Password::parse(&p)
            .map(|p| (p, false))
            .map_err(|e| Failure::new(64, format!("the password is not acceptable: {e}"))),
        None => Password::parse(&random_password())
            .map(|p| (p, true))
            .map_err(|e| Failure::new(70, e.to_string())),
    }
}

/// Writes a generated password next to the store, readable by the owner only, so that it is
/// not lost when the terminal scrolls away. The operator deletes it after first sign-in.
fn keep_password_file(dir: &Path, user: &str, password: &Password) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("initial-admin-password.txt");
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| writeln!(f, "{user} {}", password.expose()));
    if let Err(e) = written {
        eprintln!("phonghop: could not save {}: {e}", path.display());
    }
}

fn init(args: InitArgs) -> Result<Store, Failure> {
    let room = RoomName::parse(&args.room)
        .map_err(|e| Failure::new(64, format!("the room name is not acceptable: {e}")))?;
    let (password, generated) = parse_password(args.admin_password)?;
    let role = if args.hub {
        NodeRole::Hub
    } else {
        NodeRole::Room
    };
    let store = Store::init(&args.data.data, &room, role)?;
    staff::create_account(
        &store,
        Actor::Console,
        &args.admin_user,
        "Quản trị CNTT",
        vec![Role::ItAdmin],
        &password,
    )?;
    println!(
        "Đã tạo phòng họp \"{}\" tại {} / Initialised \"{}\" in {}",
        room.as_str(),
        args.data.data.display(),
        room.as_str(),
        args.data.data.display()
    );
    if generated {
        keep_password_file(&args.data.data, &args.admin_user, &password);
        println!(
            "Tài khoản quản trị / IT admin account: {}  mật khẩu / password: {}\n(also saved in {}; delete it after signing in)",
            args.admin_user,
            password.expose(),
            args.data.data.join("initial-admin-password.txt").display()
        );
    }
    Ok(store)
}

/// Opens the store, setting the box up first when the data directory is new or empty.
fn open_or_init(args: &ServeArgs, hub: bool) -> Result<Store, Failure> {
    let dir = &args.data.data;
    if dir.join(DB_FILE).exists() {
        return Ok(Store::open(dir)?);
    }
    init(InitArgs {
        data: DataArg { data: dir.clone() },
        room: args.room.clone().unwrap_or_else(|| {
            if hub {
                "Trung tâm".to_owned()
            } else {
                "Phòng họp".to_owned()
            }
        }),
        hub,
        admin_user: "admin".into(),
        admin_password: std::env::var("PHONGHOP_ADMIN_PASSWORD").ok(),
    })
}

fn seed_demo(store: &Store) -> Result<(), Failure> {
    crate::demo::seed(store).map_err(Failure::from)
}

pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,mdns_sd=warn,hyper=warn,rustls=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().with_current_span(true).init(),
        LogFormat::Text => builder.init(),
    }
}

/// Enrols the box with its hub (see [`crate::sync::enroll`]).
fn enroll(args: EnrollArgs) -> Result<(), Failure> {
    let token = match args.token {
        Some(t) => t,
        None => std::env::var_os("CREDENTIALS_DIRECTORY")
            .map(|d| PathBuf::from(d).join("enroll-token"))
            .and_then(|p| std::fs::read_to_string(p).ok())
            .ok_or_else(|| {
                Failure::new(
                    64,
                    "thiếu mã đăng ký / no enrolment token: give it after the hub address, or                      through $CREDENTIALS_DIRECTORY/enroll-token",
                )
            })?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(71, format!("cannot start the runtime: {e}")))?;
    let done = runtime.block_on(crate::sync::enroll::enroll(
        &args.data.data,
        &args.hub_url,
        &token,
        args.sync_url.as_deref(),
        args.replace,
    ));
    use crate::sync::enroll::EnrollError as E;
    match done {
        Ok(out) => {
            let e = &out.enrolled;
            println!(
                "Đã đăng ký với trung tâm / enrolled with the hub: {}
  Phòng / room: {}
  Đồng bộ qua / syncing through: {}",
                e.settings.hub_url, e.settings.room, e.settings.sync_url
            );
            match (&out.province, &out.province_note) {
                (Some(p), _) => {
                    println!(
                        "  Hộp đã vào chứng thư của tỉnh / the box now serves under the province root:
    SHA-256 {}
  Máy tính bảng đã tin chứng thư cũ của hộp vẫn vào được / tablets that trust the box's old root still connect:
    SHA-256 {}
  Máy mới: cài \"Chứng thư gốc của tỉnh\" từ trang cài đặt (http://…/) / new tablets: install the province root from the onboarding page.",
                        p.province_root_fingerprint, p.own_root_fingerprint
                    );
                    if !p.refused.is_empty() {
                        println!(
                            "  Trung tâm không cấp / the hub did not grant: {}",
                            p.refused.join("; ")
                        );
                    }
                    if !p.uncovered.is_empty() {
                        println!(
                            "  Chưa được cấp / not covered (left out of the certificate): {}",
                            p.uncovered.join(", ")
                        );
                    }
                }
                (None, Some(note)) => println!(
                    "  Hộp giữ chứng thư gốc riêng / the box keeps its own root: {note}"
                ),
                (None, None) => {}
            }
            println!("  Khởi động lại hộp để bắt đầu đồng bộ / restart the box to start syncing (sudo systemctl restart phonghop).");
            Ok(())
        }
        Err(E::Store(StoreError::InUse { path })) => Err(Failure::new(
            69,
            format!(
                "Phonghop đang chạy và giữ dữ liệu ở {}. Dừng dịch vụ (sudo systemctl stop phonghop), đăng ký, rồi khởi động lại.
                 Phonghop is running and holds {}. Stop the service, enrol, then start it again.",
                path.display(),
                path.display()
            ),
        )),
        Err(E::Store(e)) => Err(e.into()),
        Err(e @ (E::BadToken(_) | E::BadUrl(_))) => Err(Failure::new(64, e.to_string())),
        Err(e @ E::Unreachable { .. }) => Err(Failure::new(69, e.to_string())),
        Err(e @ (E::WrongHub { .. } | E::Refused { .. })) => Err(Failure::new(77, e.to_string())),
        Err(e @ (E::NotARoomBox | E::AlreadyEnrolled(_))) => Err(Failure::new(73, e.to_string())),
        Err(e) => Err(Failure::new(70, e.to_string())),
    }
}

fn tls_failure(e: crate::tls::TlsError) -> Failure {
    use crate::tls::TlsError as T;
    match e {
        e @ (T::InvalidName { .. } | T::Incomplete { .. } | T::Corrupt { .. }) => {
            Failure::new(65, e.to_string())
        }
        e => Failure::new(70, e.to_string()),
    }
}

/// `phonghop province-ca init|sign`, on the offline machine.
fn province_ca(cmd: ProvinceCaCommand) -> Result<(), Failure> {
    use crate::tls::province;
    let now = time::OffsetDateTime::now_utc();
    match cmd {
        ProvinceCaCommand::Init(a) => {
            let r = province::init_offline_root(&a.out, &a.name, now).map_err(tls_failure)?;
            println!(
                "Chứng thư gốc của tỉnh / province root: {}
  Khóa (giữ ngoại tuyến) / key (keep offline): {}
  SHA-256: {}
  Hết hạn / expires: {}",
                r.cert_path.display(),
                r.key_path.display(),
                r.fingerprint,
                r.not_after
            );
            Ok(())
        }
        ProvinceCaCommand::Sign(a) => {
            if a.out.exists() {
                return Err(Failure::new(
                    73,
                    format!("{} đã có / already exists", a.out.display()),
                ));
            }
            let csr = std::fs::read_to_string(&a.csr)
                .map_err(|e| Failure::new(66, format!("cannot read {}: {e}", a.csr.display())))?;
            let s = province::sign_issuing_csr(&a.root, &csr, now).map_err(tls_failure)?;
            std::fs::write(&a.out, s.pem.as_bytes())
                .map_err(|e| Failure::new(73, format!("cannot write {}: {e}", a.out.display())))?;
            println!(
                "Đã ký / signed: {}
  Chủ thể / subject: {}
  Khóa của trung tâm / hub key: {} (so với dòng ca-request in ra / compare with what ca-request printed)
  Hết hạn / expires: {}",
                a.out.display(),
                s.subject,
                s.key_fingerprint,
                s.not_after
            );
            Ok(())
        }
    }
}

/// `phonghop hub ca-request|ca-install`, on the hub.
fn hub_ca(cmd: HubCommand) -> Result<(), Failure> {
    use crate::tls::province;
    match cmd {
        HubCommand::OfferUpdate {
            data,
            file,
            sig,
            nodes,
        } => offer_update(&data.data, &file, sig, &nodes),
        HubCommand::CaRequest(a) => {
            // The hub's name goes into the request; a running hub holds the store, so then a
            // plain name is used.
            let name = match Store::open(&a.data.data) {
                Ok(store) if store.role() != NodeRole::Hub => {
                    return Err(Failure::new(
                        73,
                        "this data directory is not a hub's / đây không phải trung tâm",
                    ));
                }
                Ok(store) => format!(
                    "Phonghop {}",
                    store.room().map_err(Failure::from)?.name.as_str()
                ),
                Err(StoreError::InUse { .. }) => "Phonghop hub".to_owned(),
                Err(e) => return Err(e.into()),
            };
            let r =
                province::hub_ca_request(&a.data.data.join("tls"), &name).map_err(tls_failure)?;
            if let Some(out) = &a.out {
                std::fs::copy(&r.csr_path, out).map_err(|e| {
                    Failure::new(73, format!("cannot copy to {}: {e}", out.display()))
                })?;
            }
            println!(
                "Yêu cầu / request: {}{}
  Khóa của trung tâm / hub key: {}
  Mang tệp này sang máy ngoại tuyến: phonghop province-ca sign --root DIR --csr issuing.csr --out issuing.pem
  Carry it to the offline machine and sign it there.",
                r.csr_path.display(),
                a.out
                    .as_ref()
                    .map(|o| format!(" (copy: {})", o.display()))
                    .unwrap_or_default(),
                r.key_fingerprint
            );
            Ok(())
        }
        HubCommand::CaInstall(a) => {
            let read = |p: &PathBuf| {
                std::fs::read(p)
                    .map_err(|e| Failure::new(66, format!("cannot read {}: {e}", p.display())))
            };
            let cert = read(&a.cert)?;
            let root = read(&a.root)?;
            let i = province::hub_ca_install(
                &a.data.data.join("tls"),
                &cert,
                &root,
                time::OffsetDateTime::now_utc(),
            )
            .map_err(tls_failure)?;
            println!(
                "Đã cài / installed: {}
  SHA-256 của chứng thư gốc / root: {}
  CA cấp phát hết hạn / issuing CA expires: {}
  Hộp đăng ký từ nay nhận chứng thư dưới gốc của tỉnh / boxes that enrol from now on get a CA under the province root.",
                i.root_subject, i.root_fingerprint, i.issuing_not_after
            );
            Ok(())
        }
    }
}

fn serve(
    args: ServeArgs,
    hub: Option<Option<u16>>,
    log_format: Option<LogFormat>,
) -> Result<(), Failure> {
    let dir = args.data.data.clone();
    // Before anything else: a box runs the release its update state selects (this execs a
    // staged release, or rolls back one that did not become healthy).
    if hub.is_none() && dir.is_dir() {
        crate::update::boot::select(&dir);
    }
    let config_dir_ok = !dir.exists() || dir.is_dir();
    if !config_dir_ok {
        return Err(Failure::new(
            66,
            format!("{} is not a directory", dir.display()),
        ));
    }
    let config = Config::resolve(
        &dir,
        Overrides {
            https_port: args.https_port,
            http_port: args.http_port,
            bind: args.bind,
            mdns: args.mdns.clone(),
            log_format,
            sync_port: hub.flatten(),
        },
    )
    .map_err(|e| Failure::new(78, e.to_string()))?;
    init_tracing(config.log_format);
    let store = open_or_init(&args, hub.is_some())?;
    match (store.role(), hub.is_some()) {
        (NodeRole::Hub, false) => {
            return Err(Failure::new(
                65,
                format!(
                    "{} là dữ liệu của máy chủ trung tâm; chạy `phonghop hub`.
{} holds a hub; run `phonghop hub`.",
                    dir.display(),
                    dir.display()
                ),
            ))
        }
        (NodeRole::Room, true) => {
            return Err(Failure::new(
                65,
                format!(
                    "{} là dữ liệu của một hộp phòng họp; chạy `phonghop serve`.
{} holds a room box; run `phonghop serve`.",
                    dir.display(),
                    dir.display()
                ),
            ))
        }
        _ => {}
    }
    if args.demo {
        seed_demo(&store)?;
    }
    if let Err(e) = crate::update::record_outcomes(&store) {
        tracing::error!("cannot record the outcome of an update: {e}");
    }
    let trial = crate::update::boot::on_trial(&dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(71, format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let bind = config.bind;
        let store_for_update = store.clone();
        let app = Application::build(config, store.clone()).await?;
        print_banner(app.serving(), args.demo);
        if let Some(version) = trial {
            let check = crate::update::boot::SelfCheck {
                https_port: app.serving().https_port,
                local_name: app.serving().local_name.clone(),
                addr: bind
                    .filter(|ip| !ip.is_unspecified())
                    .unwrap_or(IpAddr::from([127, 0, 0, 1])),
            };
            tokio::spawn(crate::update::boot::prove_and_commit(store, version, check));
        }
        let stop = async {
            tokio::select! {
                _ = shutdown_signal() => {},
                _ = crate::update::restart_wanted(store_for_update) => {},
            }
        };
        app.run_until_stopped(stop)
            .await
            .map_err(|e| Failure::new(70, format!("{e:#}")))?;
        if crate::update::restart_requested() {
            return Err(Failure::new(
                crate::update::EXIT_RESTART,
                "khởi động lại để chạy bản cập nhật / restarting to run the staged update",
            ));
        }
        Ok(())
    })
}

fn print_banner(s: &server::Serving, demo: bool) {
    println!("\nPhonghop đang chạy / is running");
    println!(
        "  Mở trên máy tính bảng / open on a tablet:  {}",
        s.https_url
    );
    println!(
        "  Lần đầu, cài chứng thư / first time, trust the CA:  {}",
        s.http_url
    );
    // Every address that works: IP addresses (for tablets that cannot resolve `.local`),
    // localhost, and the mDNS name only when it is announced.
    println!("  Các địa chỉ / every address:");
    for url in &s.https_urls {
        println!("    {url}");
    }
    if let Some(port) = s.sync_port {
        println!("  Cổng đồng bộ cho hộp phòng họp / sync port for room boxes: {port}");
    }
    if let Some(qr) = crate::qr::terminal(&s.https_url) {
        println!("{qr}");
    }
    if demo {
        for (user, name, _, pw) in crate::demo::ACCOUNTS {
            println!("  Demo: {user} / {pw}  {name}");
        }
    }
    println!("  Dừng / stop: Ctrl+C\n");
}

/// Resolves on SIGTERM (systemd) or Ctrl+C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Opens the store for an `admin` subcommand. `serve` holds the database locked, so while the
/// box runs this refuses and says how to do it instead.
fn open_for_admin(dir: &Path, instead: &str, instead_en: &str) -> Result<Store, Failure> {
    match Store::open(dir) {
        Err(StoreError::InUse { path }) => Err(Failure::new(
            69,
            format!(
                "Phonghop đang chạy và giữ dữ liệu ở {path}, nên lệnh này không chạy được lúc này. \
                 {instead} Hoặc dừng dịch vụ (sudo systemctl stop phonghop), chạy lại lệnh này, \
                 rồi khởi động lại (sudo systemctl start phonghop).\n\
                 Phonghop is running and holds the data in {path}, so this command cannot run now. \
                 {instead_en} Or stop the service (sudo systemctl stop phonghop), run this command \
                 again, then start it (sudo systemctl start phonghop).",
                path = path.display()
            ),
        )),
        other => Ok(other?),
    }
}

fn admin_reset_password(args: AdminResetArgs) -> Result<(), Failure> {
    let store = open_for_admin(
        &args.data.data,
        "Quản trị IT khác có thể đặt lại mật khẩu trên trang “Tài khoản” của ứng dụng web.",
        "Another IT admin can reset the password on the web app's “Accounts” page.",
    )?;
    let (password, generated) = parse_password(args.password)?;
    staff::reset_password(&store, None, &args.username, &password)?;
    println!(
        "Đã đặt lại mật khẩu, mọi phiên đăng nhập đã kết thúc / password reset, all sessions ended: {}",
        args.username
    );
    if generated {
        println!("Mật khẩu mới / new password: {}", password.expose());
    }
    Ok(())
}

fn admin_create(args: AdminCreateArgs) -> Result<(), Failure> {
    let store = open_for_admin(
        &args.data.data,
        "Hãy tạo tài khoản trong ứng dụng web: đăng nhập bằng tài khoản quản trị IT, vào “Tài khoản” → “Thêm tài khoản”.",
        "Create the account in the web app: sign in as the IT admin, open “Accounts” → “Add account”.",
    )?;
    let (password, generated) = parse_password(args.password)?;
    let roles = args.roles.into_iter().map(Role::from).collect();
    let account = staff::create_account(
        &store,
        Actor::Console,
        &args.username,
        &args.name,
        roles,
        &password,
    )?;
    println!("Đã tạo tài khoản / created account: {}", account.username);
    if generated {
        println!("Mật khẩu / password: {}", password.expose());
    }
    Ok(())
}

fn verify(dir: &Path, blobs: bool) -> Result<(), Failure> {
    let store = Store::open(dir)?;
    let report = store.verify()?;
    if let Some(b) = report.broken {
        return Err(Failure::new(
            65,
            format!(
                "chain broken at event {} of origin {}: {} ({} events before it are intact)",
                b.seq, b.origin, b.reason, report.events
            ),
        ));
    }
    println!(
        "OK: {} events, chain intact, head {}",
        report.events,
        report
            .head
            .map(|h| h.to_hex())
            .unwrap_or_else(|| "-".into())
    );
    for (origin, n) in &report.origins {
        let whose = if origin == store.node_id() {
            " (this node)"
        } else {
            ""
        };
        println!("  origin {origin}{whose}: {n} events");
    }
    if !blobs {
        return Ok(());
    }
    let (checked, bad) = crate::store::blobs::verify_all(&dir.join("blobs"))?;
    if bad.is_empty() {
        println!("OK: {checked} document files, every one matches its hash");
        return Ok(());
    }
    for b in &bad {
        eprintln!(
            "damaged: {} (its bytes hash to {})",
            b.path.display(),
            b.found
        );
    }
    Err(Failure::new(
        65,
        format!(
            "{} of {checked} document files are damaged (listed above): upload those documents again or restore them from a backup",
            bad.len()
        ),
    ))
}

fn rebuild(dir: &Path) -> Result<(), Failure> {
    let store = Store::open(dir)?;
    let n = store.rebuild()?;
    println!("Đã dựng lại dữ liệu từ nhật ký / read models rebuilt from {n} events");
    Ok(())
}

fn verify_vote(args: &VerifyVoteArgs) -> Result<(), Failure> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| {
            Failure::new(
                66,
                format!("không đọc được / cannot read {}: {e}", p.display()),
            )
        })
    };
    let zip = read(&args.file)?;
    let root = args.root.as_deref().map(read).transpose()?;
    let report = crate::evidence::verify::verify_package(&zip, root.as_deref());
    println!(
        "Kiểm tra hồ sơ biểu quyết / checking the vote evidence package: {}",
        args.file.display()
    );
    if let Some(s) = &report.summary {
        println!("  {s}");
    }
    for c in &report.checks {
        let mark = if c.ok { "OK  " } else { "LỖI " };
        println!("{mark} {} / {}", c.vi, c.en);
    }
    if let Some(fp) = &report.root_fingerprint {
        if report.root_given {
            println!("Chứng thư gốc đã cho (--root) / root given with --root, SHA-256: {fp}");
        } else {
            println!(
                "Chứng thư gốc trong hồ sơ / root in the package, SHA-256: {fp}\n\
                 So dấu vân tay này với dấu vân tay trên trang cài đặt của hệ thống phòng họp, hoặc chạy lại với --root <ca.pem>.\n\
                 Compare this fingerprint with the one on the box's onboarding page, or run again with --root <ca.pem>."
            );
        }
    }
    if report.passed() {
        println!("HỢP LỆ: mọi kiểm tra đều đạt / VALID: every check passed");
        return Ok(());
    }
    let failed: Vec<&str> = report.failures().map(|c| c.en.as_str()).collect();
    Err(Failure::new(
        65,
        format!(
            "KHÔNG HỢP LỆ / NOT VALID: {} check(s) failed: {}",
            failed.len(),
            failed.join("; ")
        ),
    ))
}

impl From<crate::ops::OpsError> for Failure {
    fn from(e: crate::ops::OpsError) -> Self {
        if e.vi == e.en {
            // Already one bilingual sentence (an update's refusal).
            return Failure::new(e.code, e.vi);
        }
        Failure::new(e.code, format!("{}\n{}", e.vi, e.en))
    }
}

fn ops_backup(args: &BackupArgs) -> Result<(), Failure> {
    let m = crate::ops::backup::run(&args.data.data, &args.out)?;
    let head = m.own_head().map(|h| h.seq).unwrap_or(0);
    println!(
        "Đã sao lưu / backed up: {} ({} tệp / files, {} byte, đến sự kiện / up to event {head}{})",
        args.out.display(),
        m.files.len(),
        m.total_bytes(),
        if m.online {
            ", lúc đang chạy / while serving"
        } else {
            ""
        }
    );
    println!("Bản sao lưu chứa khóa bí mật của hộp: cất ở nơi an toàn / the backup holds the box's private keys: keep it safe.");
    Ok(())
}

fn ops_restore(args: &RestoreArgs) -> Result<(), Failure> {
    let r = crate::ops::restore::run(&args.from, &args.data.data)?;
    let head = r.manifest.own_head().map(|h| h.seq).unwrap_or(0);
    println!(
        "Đã khôi phục / restored {} → {} ({} sự kiện, chuỗi nguyên vẹn / events, chain intact; đến sự kiện / up to event {head})",
        args.from.display(),
        args.data.data.display(),
        r.events
    );
    println!("Hộp được đánh dấu là đã khôi phục / the box is marked as restored.");
    Ok(())
}

fn ops_doctor(args: &DoctorArgs) -> Result<(), Failure> {
    let report = crate::ops::doctor::run(&args.data.data);
    if args.json {
        let json =
            serde_json::to_string_pretty(&report).map_err(|e| Failure::new(70, e.to_string()))?;
        println!("{json}");
    } else {
        print!("{}", crate::ops::doctor::render_text(&report));
    }
    if report.ok {
        Ok(())
    } else {
        // The report already said what failed.
        std::process::exit(1)
    }
}

fn discover(args: DiscoverArgs) -> Result<(), Failure> {
    let ifaces = args
        .mdns
        .parse()
        .map_err(|e| Failure::new(64, format!("bad --mdns value: {e}")))?;
    let found = crate::discovery::browse(&ifaces, std::time::Duration::from_secs(args.timeout))
        .map_err(|e| Failure::new(69, e.to_string()))?;
    if found.is_empty() {
        println!("Không thấy phòng họp nào / no boxes found");
    }
    for b in found {
        let addrs: Vec<String> = b.addrs.iter().map(ToString::to_string).collect();
        println!(
            "{}\thttps://{}:{}/\t{}",
            b.instance,
            b.host.trim_end_matches('.'),
            b.port,
            addrs.join(",")
        );
    }
    Ok(())
}

/// A release on trial that fails to start exits with [`crate::update::EXIT_UNHEALTHY`]
/// whatever the cause: a code systemd does not restart (`RestartPreventExitStatus=`, e.g. 78
/// for a setting the new release refuses) would leave the box down instead of rolling back.
fn trial_failure(dir: &Path, f: Failure) -> Failure {
    if f.code == crate::update::EXIT_RESTART || crate::update::boot::on_trial(dir).is_none() {
        return f;
    }
    Failure::new(
        crate::update::EXIT_UNHEALTHY,
        format!(
            "{} (bản đang thử không khởi động được, lần sau hộp quay về bản cũ / the release on trial did not start; the next start rolls back)",
            f.message
        ),
    )
}

fn update_failure(e: crate::update::UpdateError) -> Failure {
    Failure::new(e.exit_code(), e.to_string())
}

fn read_bytes(p: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(p).map_err(|e| {
        Failure::new(
            66,
            format!("không đọc được / cannot read {}: {e}", p.display()),
        )
    })
}

fn sig_text(file: &Path, sig: Option<PathBuf>) -> Result<String, Failure> {
    let path = sig.unwrap_or_else(|| {
        let mut p = file.as_os_str().to_owned();
        p.push(".minisig");
        PathBuf::from(p)
    });
    let bytes = read_bytes(&path)?;
    String::from_utf8(bytes).map_err(|_| {
        Failure::new(
            65,
            format!("{} is not a minisign signature", path.display()),
        )
    })
}

fn release_keygen(out: &Path, no_password: bool) -> Result<(), Failure> {
    let (sk, pk) = crate::update::release::keygen(out, no_password).map_err(update_failure)?;
    println!(
        "Khóa bí mật / secret key: {} (giữ trên máy không nối mạng / keep it on the offline machine)\n\
         Khóa công khai / public key: {} (cho trung tâm: phonghop hub --release-key / give it to the hub)",
        sk.display(),
        pk.display()
    );
    Ok(())
}

fn release_sign(
    key: &Path,
    file: &Path,
    version: Option<String>,
    target: Option<String>,
) -> Result<(), Failure> {
    let version = version.unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned());
    let target = target.unwrap_or_else(crate::update::target);
    let out = crate::update::release::sign(key, file, &version, &target).map_err(update_failure)?;
    println!(
        "Đã ký / signed: {} (phonghop {version} {target})",
        out.display()
    );
    Ok(())
}

fn update_apply(dir: &Path, file: &Path, sig: Option<PathBuf>) -> Result<(), Failure> {
    let sig = sig_text(file, sig)?;
    let bytes = read_bytes(file)?;
    let staged = crate::update::apply(dir, &bytes, &sig).map_err(update_failure)?;
    let (crate::update::Staged::New(r) | crate::update::Staged::Already(r)) = staged;
    println!(
        "Đã chuẩn bị bản {} / release {} staged. Khởi động lại hộp để chạy thử / restart the box to try it: sudo systemctl restart phonghop\n\
         Nếu bản mới không chạy ổn, hộp tự quay về bản cũ / if it does not become healthy, the box goes back by itself.",
        r.version, r.version
    );
    Ok(())
}

fn update_status(dir: &Path) -> Result<(), Failure> {
    let state = crate::update::UpdateState::load(dir).map_err(update_failure)?;
    let json = serde_json::to_string_pretty(&state).map_err(|e| Failure::new(70, e.to_string()))?;
    println!("{json}");
    Ok(())
}

/// `phonghop hub --release-key FILE`: keeps the key in the hub's data directory.
fn pin_release_key(dir: &Path, key: Option<&Path>) -> Result<(), Failure> {
    let Some(key) = key else {
        return Ok(());
    };
    let text = String::from_utf8(read_bytes(key)?)
        .map_err(|_| Failure::new(65, format!("{} is not a key file", key.display())))?;
    crate::update::parse_key(&text).map_err(update_failure)?;
    std::fs::create_dir_all(dir)
        .and_then(|()| {
            let tmp = dir.join(".release-key.pub.tmp");
            std::fs::write(&tmp, text.as_bytes())?;
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, dir.join(crate::service::hub::RELEASE_KEY_FILE))
        })
        .map_err(|e| {
            Failure::new(
                74,
                format!("cannot keep the release key in {}: {e}", dir.display()),
            )
        })
}

fn offer_update(
    dir: &Path,
    file: &Path,
    sig: Option<PathBuf>,
    nodes: &[String],
) -> Result<(), Failure> {
    let sig = sig_text(file, sig)?;
    let bytes = read_bytes(file)?;
    // A running hub takes the offer through its control socket; a stopped one is opened here.
    let offered = match crate::ops::control::connect(dir)? {
        Some(conn) => crate::ops::control::offer_update(conn, &bytes, &sig, nodes)?,
        None => {
            let nodes = nodes
                .iter()
                .map(|n| {
                    crate::domain::NodeId::parse(n).ok_or_else(|| {
                        Failure::new(64, format!("{n} is not a node id (32 hex digits)"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let store = open_for_admin(
                dir,
                "Chạy lại lệnh: trung tâm đang khởi động hoặc đang dừng.",
                "Run the command again: the hub is starting or stopping.",
            )?;
            crate::ops::offer::offer(&store, &bytes, &sig, nodes)?
        }
    };
    println!(
        "Đã mời cập nhật / offered release {} for {} ({} byte, sha256 {}) as event {}",
        offered.version, offered.target, offered.size, offered.sha256, offered.seq
    );
    Ok(())
}
