//! Start-up and shutdown. [`Application::build`] opens everything that can fail (the store,
//! the CA, both ports) so that errors surface before anything is announced;
//! [`Application::run_until_stopped`] serves until the shutdown future resolves, then drains.

use crate::auth::Limiter;
use crate::config::Config;
use crate::discovery::{self, Announcement, Interfaces};
use crate::http::conn::ConnLimits;
use crate::http::{self, AppState, Shared, Site};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
use crate::tls::{self, BoxNames, CertAuthority};
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// The file, in the data directory, that says where a running box listens. Tests and
/// `phonghop doctor` read it; it is removed on a clean stop.
pub const SERVING_FILE: &str = "serving.json";
/// How long a TLS handshake may take before the connection is dropped (slow-loris guard).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's headers, on both ports: the first request
/// of a connection (whatever its protocol) and, over HTTP/1.1, every later one.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection with no bytes either way for this long is closed. Live feeds send a heartbeat
/// every 15 s, so they are never idle this long.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Concurrent HTTP/2 streams on one connection.
const MAX_STREAMS: u32 = 64;
/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How fast, on average, the start-up check of document files may read (one file at full speed,
/// then a pause in proportion): a fraction of an SD card's speed, so the meeting's own
/// downloads keep the disk (2 GB of documents take about two minutes).
const BLOB_SCRUB_BYTES_PER_SEC: u64 = 16 * 1024 * 1024;
/// How often the chain checkpoint moves to the head while serving: every 5 minutes, or sooner
/// when this many events lie past it (about 0.3 s of walking at the next start, measured by
/// `benches/startup.sh`), so that a start after a power cut stays well under a second.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(300);
const CHECKPOINT_EVENTS: u64 = 100_000;
/// How often the server looks at how far the head ran past the checkpoint.
const CHECKPOINT_LOOK: Duration = Duration::from_secs(10);

/// Why the box could not start, each with its own exit code for systemd and scripts.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("port {port} is already in use: another Phonghop or web server is running. Stop it, or choose another port with --{flag}")]
    PortInUse { port: u16, flag: &'static str },
    #[error("no permission to listen on port {port}: ports below 1024 need root or CAP_NET_BIND_SERVICE (the systemd unit grants it), or use --{flag} with a port above 1024")]
    PortPermission { port: u16, flag: &'static str },
    #[error("cannot listen on port {port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("certificate authority: {0}")]
    Tls(#[from] tls::TlsError),
}

impl StartError {
    /// sysexits-style codes: 65 bad data directory, 69 port busy, 73 cannot create,
    /// 74 I/O (disk full), 77 permission.
    pub fn exit_code(&self) -> u8 {
        match self {
            StartError::PortInUse { .. } => 69,
            StartError::PortPermission { .. } => 77,
            StartError::Bind { .. } => 71,
            StartError::Store(s) => store_exit_code(s),
            // A clock that is not set yet comes right after a time sync: let systemd retry.
            StartError::Tls(tls::TlsError::ClockNotSet { .. }) => 75,
            StartError::Tls(tls::TlsError::Io { source, .. })
                if source.raw_os_error() == Some(libc::ENOSPC) =>
            {
                74
            }
            StartError::Tls(tls::TlsError::Io { .. } | tls::TlsError::Interfaces(_)) => 74,
            StartError::Tls(_) => 65,
        }
    }
}

pub fn store_exit_code(e: &StoreError) -> u8 {
    match e {
        StoreError::Corrupt { .. } | StoreError::NewerSchema { .. } => 65,
        StoreError::InUse { .. } => 69,
        StoreError::NotEmpty { .. } | StoreError::AlreadyInitialised { .. } => 73,
        StoreError::NotInitialised { .. } => 66,
        StoreError::DiskFull | StoreError::Io { .. } => 74,
        StoreError::Db(_)
        | StoreError::Encode(_)
        | StoreError::Unavailable
        | StoreError::MeetingHandedOver => 70,
    }
}

/// Where the box listens, written to [`SERVING_FILE`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Serving {
    pub https_port: u16,
    pub http_port: u16,
    pub https_url: String,
    pub http_url: String,
    pub local_name: String,
    pub pid: u32,
    /// Every HTTPS address that works: the LAN addresses, `localhost`, and the `.local` name
    /// only when mDNS announces it.
    #[serde(default)]
    pub https_urls: Vec<String>,
    /// A hub's sync port (mutual TLS), where room boxes connect.
    #[serde(default)]
    pub sync_port: Option<u16>,
}

pub struct Application {
    config: Config,
    store: Store,
    ca: Arc<CertAuthority>,
    signer: Option<Arc<crate::signing::RecordSigner>>,
    https: TcpListener,
    http: TcpListener,
    /// Only on a hub.
    sync: Option<TcpListener>,
    site: Site,
    serving: Serving,
}

fn bind(bind: Option<IpAddr>, port: u16, flag: &'static str) -> Result<TcpListener, StartError> {
    let classify = |source: std::io::Error| match source.kind() {
        std::io::ErrorKind::AddrInUse => StartError::PortInUse { port, flag },
        std::io::ErrorKind::PermissionDenied => StartError::PortPermission { port, flag },
        _ => StartError::Bind { port, source },
    };
    let listener = match bind {
        Some(ip) => std::net::TcpListener::bind(SocketAddr::new(ip, port)).map_err(classify)?,
        // Dual-stack where the box has IPv6; plain IPv4 where IPv6 is switched off.
        None => {
            match std::net::TcpListener::bind(SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port)) {
                Ok(l) => l,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::AddrInUse | std::io::ErrorKind::PermissionDenied
                    ) =>
                {
                    return Err(classify(e))
                }
                Err(_) => {
                    std::net::TcpListener::bind(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port))
                        .map_err(classify)?
                }
            }
        }
    };
    listener
        .set_nonblocking(true)
        .map_err(|source| StartError::Bind { port, source })?;
    TcpListener::from_std(listener).map_err(|source| StartError::Bind { port, source })
}

/// The `.local` name the box announces and puts in its certificate.
pub fn local_name(store: &Store) -> String {
    format!("phonghop-{}.local", store.node_id().short())
}

/// A LAN address to show people, for devices that do not resolve `.local` names.
pub fn lan_ipv4() -> Option<Ipv4Addr> {
    if_addrs::get_if_addrs()
        .ok()?
        .into_iter()
        .filter(|i| !i.is_loopback())
        .find_map(|i| match i.ip() {
            IpAddr::V4(v4) if !v4.is_link_local() => Some(v4),
            _ => None,
        })
}

/// Every HTTPS base URL a device can use: LAN addresses first (IPv4, then IPv6), then
/// `localhost`, then the `.local` name when mDNS is on.
fn working_urls(site: &Site, ips: &[IpAddr], mdns_on: bool) -> Vec<String> {
    let mut ips: Vec<IpAddr> = ips.iter().copied().filter(|ip| !ip.is_loopback()).collect();
    ips.sort_by_key(|ip| (ip.is_ipv6(), *ip));
    ips.dedup();
    let mut urls: Vec<String> = ips
        .iter()
        .filter(|ip| match ip {
            // A link-local IPv6 address needs a zone to be opened: not worth printing.
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
            IpAddr::V4(_) => true,
        })
        .map(|ip| format!("{}/", site.https_url(Some(&ip.to_string()))))
        .collect();
    urls.push(format!("{}/", site.https_url(Some("localhost"))));
    if mdns_on {
        urls.push(format!("{}/", site.https_url(Some(&site.local_name))));
    }
    urls
}

/// The secret behind the QR form of pairing codes: derived from the CA's root key, so it
/// lasts across restarts and never leaves the box. A box without the key file (moved
/// offline) uses a random one; QR links made before a restart then stop working, and the
/// typed code still does.
fn pairing_link_key(tls_dir: &std::path::Path) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let material = std::fs::read(tls_dir.join("root.key"))
        .or_else(|_| std::fs::read(tls_dir.join("intermediate.key")))
        .unwrap_or_else(|_| {
            let mut r = vec![0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut r);
            r
        });
    let mut h = Sha256::new();
    h.update(b"phonghop pairing link key\0");
    h.update(&material);
    h.finalize().to_vec()
}

/// Raises the soft limit on open files to the hard limit, so the connection caps, not the
/// descriptor limit, decide when connections are refused. Returns the soft limit in force.
pub fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a properly sized out-parameter.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    lim.rlim_cur
}

/// A stream that notes when bytes last moved, in either direction.
struct Tracked<T> {
    inner: T,
    activity: Arc<Activity>,
}

/// When a connection last moved bytes, and whether it has sent a whole request yet.
struct Activity {
    started: std::time::Instant,
    /// Milliseconds after `started`.
    last_ms: std::sync::atomic::AtomicU64,
    served: std::sync::atomic::AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: std::time::Instant::now(),
            last_ms: std::sync::atomic::AtomicU64::new(0),
            served: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// When this connection should be closed if nothing happens before then.
    fn deadline(&self) -> std::time::Instant {
        if self.served.load(std::sync::atomic::Ordering::Relaxed) {
            let last = self.last_ms.load(std::sync::atomic::Ordering::Relaxed);
            self.started + Duration::from_millis(last) + IDLE_TIMEOUT
        } else {
            // Until a first request's headers are in, the connection has HEADER_TIMEOUT (after
            // the TLS handshake's own limit) however many bytes it trickles.
            self.started + HANDSHAKE_TIMEOUT + HEADER_TIMEOUT
        }
    }

    /// Resolves when the connection has been idle (or without a first request) too long.
    async fn expired(&self) {
        loop {
            let deadline = self.deadline();
            if std::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Tracked<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Tracked<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Application {
    /// Opens the CA and binds both ports. Fails fast, with nothing announced.
    pub async fn build(config: Config, store: Store) -> Result<Self, StartError> {
        let local = local_name(&store);
        let names = BoxNames::detect(&local)?;
        let room = store.room()?;
        let tls_dir = config.data_dir.join("tls");
        let ca = {
            let room_name = room.name.as_str().to_owned();
            let tls_dir = tls_dir.clone();
            let names = names.clone();
            tokio::task::spawn_blocking(move || {
                let ca = CertAuthority::load_or_create(&tls_dir, &room_name, &names)?;
                let signer = match ca.record_signer(&room_name) {
                    Ok(s) => Some(Arc::new(s)),
                    Err(e) => {
                        tracing::error!("no record-signing key, so votes cannot be closed: {e}");
                        None
                    }
                };
                Ok::<_, crate::tls::TlsError>((ca, signer))
            })
            .await
            .map_err(|e| StoreError::Db(format!("CA task failed: {e}")))??
        };
        let (ca, signer) = ca;
        let https = bind(config.bind, config.https_port, "https-port")?;
        let http = bind(config.bind, config.http_port, "http-port")?;
        let sync = match store.role() {
            crate::store::NodeRole::Hub => Some(bind(config.bind, config.sync_port, "sync-port")?),
            crate::store::NodeRole::Room => None,
        };
        let sync_port = sync
            .as_ref()
            .map(|l| l.local_addr().map(|a| a.port()).unwrap_or(config.sync_port));
        let https_port = https
            .local_addr()
            .map(|a| a.port())
            .unwrap_or(config.https_port);
        let http_port = http
            .local_addr()
            .map(|a| a.port())
            .unwrap_or(config.http_port);
        let site = Site {
            https_port,
            http_port,
            local_name: local.clone(),
            dns_names: names.dns.clone(),
            ips: names.ips.clone(),
        };
        let mdns_on = config
            .mdns
            .parse::<Interfaces>()
            .is_ok_and(|i| !matches!(i, Interfaces::Off));
        let shown_host = lan_ipv4()
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| local.clone());
        let serving = Serving {
            https_port,
            http_port,
            https_url: format!("{}/", site.https_url(Some(&shown_host))),
            http_url: if http_port == 80 {
                format!("http://{shown_host}/")
            } else {
                format!("http://{shown_host}:{http_port}/")
            },
            https_urls: working_urls(&site, &names.ips, mdns_on),
            local_name: local,
            pid: std::process::id(),
            sync_port,
        };
        Ok(Self {
            config,
            store,
            ca: Arc::new(ca),
            signer,
            https,
            http,
            sync,
            site,
            serving,
        })
    }

    pub fn serving(&self) -> &Serving {
        &self.serving
    }

    fn serving_path(&self) -> PathBuf {
        self.config.data_dir.join(SERVING_FILE)
    }

    /// Serves until `shutdown` resolves, then stops accepting, ends live feeds, says goodbye
    /// on mDNS and waits (bounded) for in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let fd_limit = raise_fd_limit();
        let limits = Arc::new(ConnLimits::for_fd_limit(fd_limit));
        tracing::debug!(
            fd_limit,
            connections = limits.total_max,
            per_address = limits.per_address_max,
            "connection caps"
        );
        // A room box enrolled with a hub pushes its log there whenever a link exists.
        let (sync_handle, sync_task) = match crate::sync::Enrolled::load(&self.config.data_dir) {
            Ok(Some(enrolled)) if self.store.role() == crate::store::NodeRole::Room => {
                match crate::sync::client::spawn(
                    self.store.clone(),
                    enrolled,
                    self.signer.clone(),
                    self.config.sync_idle_check,
                    stop_rx.clone(),
                ) {
                    Ok((handle, task)) => (handle, Some(task)),
                    Err(e) => {
                        tracing::error!("sync with the hub cannot start: {e}");
                        (crate::sync::client::SyncHandle::not_enrolled(), None)
                    }
                }
            }
            Ok(_) => (crate::sync::client::SyncHandle::not_enrolled(), None),
            Err(e) => {
                tracing::error!("sync settings unreadable, not syncing: {e}");
                (crate::sync::client::SyncHandle::not_enrolled(), None)
            }
        };
        let state = AppState::new(Shared {
            conn_limits: limits.clone(),
            store: self.store.clone(),
            metrics: Metrics::default(),
            ca: self.ca.clone(),
            site: self.site.clone(),
            sign_in_limiter: Limiter::new(
                5,
                Duration::from_secs(15 * 60),
                Duration::from_secs(5 * 60),
            ),
            pairing_guard: crate::service::devices::PairingGuard::new(pairing_link_key(
                &self.config.data_dir.join("tls"),
            )),
            imports: crate::service::import::ImportStash::default(),
            wire: Default::default(),
            meeting_headers: Default::default(),
            signer: self.signer.clone(),
            votes: Default::default(),
            ballots: Default::default(),
            ballot_checks: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()) * 2,
            )),
            exports: Default::default(),
            max_upload: self.config.max_upload_bytes,
            pairing_code_lifetime: self.config.pairing_code_lifetime,
            shutdown: stop_rx.clone(),
            sync: sync_handle.clone(),
            hub_sync_port: self.serving.sync_port,
            sync_peers: Default::default(),
        });
        let announcer = {
            let (config, store, site) =
                (self.config.clone(), self.store.clone(), self.site.clone());
            // mdns-sd's calls block briefly while its daemon thread answers.
            tokio::task::spawn_blocking(move || announce(&config, &store, &site))
                .await
                .ok()
                .flatten()
        };
        // The full walk of every chain, after start-up's quick check from the checkpoint: a
        // break found here turns /readyz and the staff screens red; serving goes on so that
        // staff can see it and act.
        {
            let store = self.store.clone();
            tokio::task::spawn_blocking(move || match store.verify_and_record() {
                Ok(r) => tracing::info!(
                    events = r.events,
                    intact = r.broken.is_none(),
                    "event log verified"
                ),
                Err(e) => tracing::error!("could not verify the event log: {e}"),
            });
        }
        // Every document file hashed once, slowly, so a damaged one is reported before a
        // tablet asks for it.
        {
            let (blobs, stop) = (self.store.blobs().clone(), stop_rx.clone());
            tokio::spawn(async move {
                let (checked, damaged) = blobs.scrub(BLOB_SCRUB_BYTES_PER_SEC, stop).await;
                tracing::info!(
                    checked,
                    damaged,
                    "document files checked against their hash"
                );
            });
        }
        // The checkpoint follows the head, so a start after a power cut walks little.
        let checkpoints = {
            let store = self.store.clone();
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                let mut look = tokio::time::interval(CHECKPOINT_LOOK);
                look.tick().await;
                let mut last = std::time::Instant::now();
                loop {
                    tokio::select! {
                        _ = stop.changed() => break,
                        _ = look.tick() => {
                            let far = store.past_checkpoint().unwrap_or(u64::MAX) >= CHECKPOINT_EVENTS;
                            if !far && last.elapsed() < CHECKPOINT_EVERY {
                                continue;
                            }
                            last = std::time::Instant::now();
                            let s = store.clone();
                            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || s.advance_checkpoint()).await {
                                tracing::warn!("could not move the chain checkpoint: {e}");
                            }
                        }
                    }
                }
            })
        };
        let countdowns = tokio::spawn(http::votes::countdown_loop(state.clone(), stop_rx.clone()));
        // `phonghop backup` and `doctor` reach the running box here (owner-only Unix socket).
        let control = crate::ops::control::spawn(self.store.clone(), sync_handle, stop_rx.clone());
        let serving_path = self.serving_path();
        let graceful = Arc::new(GracefulShutdown::new());
        let tls_config = self.ca.server_config();
        let https = tokio::spawn(accept_loop(
            self.https,
            Some(TlsAcceptor::from(tls_config)),
            http::https_router(state.clone()),
            graceful.clone(),
            stop_rx.clone(),
            state.clone(),
            limits.clone(),
        ));
        let plain = tokio::spawn(accept_loop(
            self.http,
            None,
            http::http_router(state.clone()),
            graceful.clone(),
            stop_rx.clone(),
            state.clone(),
            limits.clone(),
        ));
        let sync_listener = match self.sync {
            Some(listener) => Some(tokio::spawn(accept_loop(
                listener,
                Some(TlsAcceptor::from(self.ca.sync_server_config()?)),
                http::sync::router(state.clone()),
                graceful.clone(),
                stop_rx.clone(),
                state.clone(),
                limits.clone(),
            ))),
            None => None,
        };
        let renew = tokio::spawn(tls::renewal_loop(
            self.ca.clone(),
            self.config.renew_check,
            {
                let mut rx = stop_rx.clone();
                async move {
                    let _ = rx.wait_for(|s| *s).await.map(|_| ());
                }
            },
        ));
        write_serving(&serving_path, &self.serving);
        tracing::info!(https = %self.serving.https_url, http = %self.serving.http_url, sync_port = ?self.serving.sync_port, "serving");
        let systemd = crate::watchdog::ready(
            self.store.clone(),
            stop_rx.clone(),
            &format!("serving {}", self.serving.https_url),
        );

        shutdown.await;
        tracing::info!("shutting down: draining requests and closing live feeds");
        systemd.stopping();
        let _ = stop_tx.send(true);
        if let Some(a) = announcer {
            let said = tokio::task::spawn_blocking(move || a.shutdown()).await;
            if let Ok(Err(e)) = said {
                tracing::warn!("mDNS goodbye failed: {e}");
            }
        }
        let _ = https.await;
        let _ = plain.await;
        if let Some(l) = sync_listener {
            let _ = l.await;
        }
        if let Some(t) = sync_task {
            let _ = t.await;
        }
        let _ = renew.await;
        let _ = checkpoints.await;
        let _ = countdowns.await;
        if let Some(c) = control {
            let _ = c.await;
        }
        systemd.finished().await;
        // The accept loops are done, so this is the last handle.
        if let Ok(graceful) = Arc::try_unwrap(graceful) {
            if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
                .await
                .is_err()
            {
                tracing::warn!("some connections did not finish within {DRAIN_TIMEOUT:?}");
            }
        }
        let store = self.store.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.advance_checkpoint()).await {
            tracing::warn!("could not move the chain checkpoint at shutdown: {e}");
        }
        let _ = std::fs::remove_file(&serving_path);
        tracing::info!("stopped");
        Ok(())
    }
}

/// Announces the box on the configured interfaces. A failure is logged, not fatal: the room
/// still works by IP address and by the QR code.
fn announce(config: &Config, store: &Store, site: &Site) -> Option<discovery::Announcer> {
    let ifaces: Interfaces = match config.mdns.parse() {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(mdns = %config.mdns, "bad mDNS interface setting: {e}");
            return None;
        }
    };
    let room = store.room().ok()?;
    let a = Announcement {
        instance: room.name.as_str().to_owned(),
        host: format!("{}.", site.local_name),
        port: site.https_port,
        txt: vec![
            ("path".into(), "/".into()),
            ("node".into(), store.node_id().to_string()),
            ("role".into(), store.role().as_str().into()),
            ("ver".into(), env!("CARGO_PKG_VERSION").into()),
        ],
    };
    match discovery::announce(&ifaces, &a) {
        Ok(announcer) => announcer,
        Err(e) => {
            tracing::warn!("mDNS announcement failed: {e}");
            None
        }
    }
}

fn write_serving(path: &std::path::Path, s: &Serving) {
    let tmp = path.with_extension("json.tmp");
    let ok = serde_json::to_vec_pretty(s)
        .ok()
        .and_then(|b| std::fs::write(&tmp, b).ok())
        .and_then(|()| std::fs::rename(&tmp, path).ok());
    if ok.is_none() {
        tracing::warn!(path = %path.display(), "could not write the serving file");
    }
}

/// The protocol settings both ports share: header-read timeout on HTTP/1.1, a cap on
/// concurrent HTTP/2 streams.
fn conn_builder() -> ConnBuilder<TokioExecutor> {
    let mut builder = ConnBuilder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS);
    builder
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    graceful: Arc<GracefulShutdown>,
    mut stop: watch::Receiver<bool>,
    state: AppState,
    limits: Arc<ConnLimits>,
) {
    let builder = Arc::new(conn_builder());
    loop {
        let (tcp, peer) = tokio::select! {
            _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // Over a cap: close at once, so the descriptor is free again.
        let Some(slot) = limits.admit(peer.ip()) else {
            tracing::debug!(%peer, "connection refused: too many open connections");
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let state = state.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let activity = Arc::new(Activity::new());
            let tcp = Tracked {
                inner: tcp,
                activity: activity.clone(),
            };
            let served = activity.clone();
            // The service for one connection; `peer` is the sync client named by a verified
            // client certificate (only the hub's sync port asks for one).
            let make_svc = move |client: Option<crate::http::sync::SyncPeer>| {
                TowerToHyperService::new(router.map_request(
                    move |mut req: axum::http::Request<hyper::body::Incoming>| {
                        served
                            .served
                            .store(true, std::sync::atomic::Ordering::Relaxed);
                        req.extensions_mut().insert(ConnectInfo(peer));
                        if let Some(c) = &client {
                            req.extensions_mut().insert(c.clone());
                        }
                        req
                    },
                ))
            };
            let serve = async {
                match tls {
                    Some(acceptor) => {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                            Ok(Ok(stream)) => {
                                let sync_peer = stream
                                    .get_ref()
                                    .1
                                    .peer_certificates()
                                    .and_then(|c| c.first())
                                    .and_then(|c| crate::tls::sync::node_of_client_cert(c))
                                    .map(crate::http::sync::SyncPeer);
                                let conn = builder.serve_connection_with_upgrades(
                                    TokioIo::new(stream),
                                    make_svc(sync_peer),
                                );
                                Some(watcher.watch(conn.into_owned()).await)
                            }
                            Ok(Err(e)) => {
                                state.metrics.tls_handshake_failed();
                                tracing::debug!(%peer, "TLS handshake failed: {e}");
                                None
                            }
                            Err(_) => {
                                state.metrics.tls_handshake_failed();
                                tracing::debug!(%peer, "TLS handshake timed out");
                                None
                            }
                        }
                    }
                    None => {
                        let conn = builder
                            .serve_connection_with_upgrades(TokioIo::new(tcp), make_svc(None));
                        Some(watcher.watch(conn.into_owned()).await)
                    }
                }
            };
            let result = tokio::select! {
                r = serve => r,
                () = activity.expired() => {
                    tracing::debug!(%peer, "connection closed: idle or no request in time");
                    None
                }
            };
            if let Some(Err(e)) = result {
                tracing::debug!(%peer, "connection ended with an error: {e}");
            }
        });
    }
}
