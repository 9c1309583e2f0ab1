//! A fault-injecting TCP proxy for the sync tests (issue 12).
//!
//! It listens on `127.0.0.1:0`, forwards every connection to one target, and treats each
//! connection by a plan drawn from a seeded [`Schedule`]: chunks delayed by a few ms to hundreds
//! of ms, a throttled rate, a cut (reset) after N bytes in either direction, a clean close (FIN)
//! after N bytes, a reset at accept, and windows in which the port is closed so connections are
//! refused. It counts the bytes it forwards in each direction, for the wire ÷ payload figure.
//!
//! TLS runs on top, so the proxy never duplicates or reorders bytes inside a connection: that
//! would only break the TLS record MAC, which says nothing about the sync protocol. Duplicated
//! and reordered *messages* arise the way they do on a real link: the client retries after a
//! cut, and a request the server has already committed is sent again. The replay mode goes one
//! step further: after a connection has ended, it sends the same TCP bytes again to the target
//! in a new connection. A server must refuse a replayed TLS connection (its handshake has a new
//! random, so the old client Finished and records cannot verify); tests check that nothing a
//! replay carries takes effect.
//!
//! The module is shared by the integration tests (`tests/integration/main.rs`) and the
//! shaped-link bench helper (`benches/sync_link.rs`), hence no test-only crates here.
#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

/// How much of each connection's client → target bytes is kept for replay.
const RECORD_LIMIT: usize = 16 * 1024 * 1024;
const BUF: usize = 16 * 1024;

/// Which way bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client → target (the box's requests, uploads).
    Up,
    /// Target → client (the hub's answers, downloads).
    Down,
}

/// Chunks delayed with probability `percent`, each by `min_ms..=max_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delay {
    pub percent: u8,
    pub min_ms: u64,
    pub max_ms: u64,
}

/// What happens to one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnPlan {
    /// Accept, then reset at once (the client sees a reset during its handshake).
    pub reset_at_accept: bool,
    pub delay: Option<Delay>,
    /// Bytes per second, each direction.
    pub throttle: Option<u64>,
    /// Reset both sides once this many bytes went this way (the last chunk is forwarded only
    /// up to that count, so the cut falls mid-record, mid-message).
    pub cut: Option<(Dir, u64)>,
    /// Close both sides cleanly (FIN) once this many bytes went this way.
    pub close: Option<(Dir, u64)>,
    /// When the connection has ended, send its client bytes again in a new connection.
    pub replay: bool,
}

impl ConnPlan {
    pub fn is_clean(&self) -> bool {
        *self == ConnPlan::default()
    }
}

/// A seeded schedule: the plan of connection `i` depends only on `(seed, i)`, so a failing run
/// is repeated with the seed it prints. After `faulty_connections` connections, or once
/// [`FaultProxy::heal`] is called, every connection is clean, so a test can wait for the
/// system to converge.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub seed: u64,
    /// Share of connections that get a fault, in percent.
    pub fault_percent: u8,
    pub faulty_connections: u64,
    /// Windows, from the schedule's start, in which the port is closed (connections refused).
    pub outages: Vec<(Duration, Duration)>,
    /// Share of connections replayed after they end, in percent.
    pub replay_percent: u8,
    /// Largest byte count at which a cut or close falls.
    pub max_cut: u64,
    /// Times, from the schedule's start, at which every open connection is reset at once (the
    /// link drops; a client that keeps one connection alive would otherwise meet only the plan
    /// of its first connection).
    pub drops: Vec<Duration>,
    /// Plans given in full to the first connections (then the random part takes over).
    pub script: Vec<ConnPlan>,
}

impl Schedule {
    /// Every connection forwarded untouched.
    pub fn clean() -> Schedule {
        Schedule {
            seed: 0,
            fault_percent: 0,
            faulty_connections: 0,
            outages: Vec::new(),
            replay_percent: 0,
            max_cut: 0,
            drops: Vec::new(),
            script: Vec::new(),
        }
    }

    /// Connection `i` gets `plans[i]`; every later one is clean.
    pub fn scripted(plans: Vec<ConnPlan>) -> Schedule {
        Schedule {
            script: plans,
            ..Schedule::clean()
        }
    }

    /// A random schedule drawn from `seed`: how often faults strike, for how many connections,
    /// the outages, and how far into a connection a cut may fall.
    pub fn random(seed: u64) -> Schedule {
        let mut rng = StdRng::seed_from_u64(seed);
        let n_outages = rng.gen_range(0..=2u32);
        let mut t = Duration::ZERO;
        let mut outages = Vec::new();
        for _ in 0..n_outages {
            t += Duration::from_millis(rng.gen_range(50..1500));
            let len = Duration::from_millis(rng.gen_range(100..1200));
            outages.push((t, len));
            t += len;
        }
        let drops = (0..rng.gen_range(1..=3u32))
            .map(|_| Duration::from_millis(rng.gen_range(100..3500)))
            .collect();
        Schedule {
            seed,
            drops,
            fault_percent: rng.gen_range(20..=70),
            faulty_connections: rng.gen_range(4..=30),
            outages,
            replay_percent: rng.gen_range(0..=25),
            // Up to 3 MiB: within a request's headers, inside a blob chunk, or after several.
            max_cut: *[4 * 1024u64, 64 * 1024, 512 * 1024, 3 * 1024 * 1024]
                .get(rng.gen_range(0..4usize))
                .unwrap_or(&65536),
            script: Vec::new(),
        }
    }

    /// The plan of connection `index` (0 for the first accepted).
    pub fn plan(&self, index: u64) -> ConnPlan {
        if let Some(p) = usize::try_from(index).ok().and_then(|i| self.script.get(i)) {
            return p.clone();
        }
        if index >= self.faulty_connections {
            return ConnPlan::default();
        }
        let mut rng = StdRng::seed_from_u64(
            self.seed
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(index),
        );
        let mut plan = ConnPlan {
            replay: rng.gen_range(0..100u8) < self.replay_percent,
            ..ConnPlan::default()
        };
        if rng.gen_range(0..100u8) >= self.fault_percent {
            return plan;
        }
        let dir = if rng.gen_bool(0.6) {
            Dir::Up
        } else {
            Dir::Down
        };
        let at = rng.gen_range(0..=self.max_cut.max(1));
        match rng.gen_range(0..10u8) {
            0 => plan.reset_at_accept = true,
            1..=4 => plan.cut = Some((dir, at)),
            5..=6 => plan.close = Some((dir, at)),
            7 => {
                plan.throttle = Some(rng.gen_range(64 * 1024..=1024 * 1024));
                if rng.gen_bool(0.5) {
                    plan.cut = Some((dir, at));
                }
            }
            _ => {
                let min_ms = rng.gen_range(2..50);
                plan.delay = Some(Delay {
                    percent: rng.gen_range(5..=60),
                    min_ms,
                    max_ms: rng.gen_range(min_ms..=400),
                });
                if rng.gen_bool(0.3) {
                    plan.cut = Some((dir, at));
                }
            }
        }
        plan
    }
}

/// Counters since the proxy started.
#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    reset_at_accept: AtomicU64,
    cut: AtomicU64,
    closed: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    replays: AtomicU64,
    replay_bytes: AtomicU64,
    replays_answered_after_handshake: AtomicU64,
    refused_windows: AtomicU64,
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub accepted: u64,
    pub reset_at_accept: u64,
    pub cut: u64,
    pub closed: u64,
    /// Bytes forwarded client → target (replays not included).
    pub bytes_up: u64,
    /// Bytes forwarded target → client.
    pub bytes_down: u64,
    pub replays: u64,
    pub replay_bytes: u64,
    pub refused_windows: u64,
}

/// One ended connection.
#[derive(Debug, Clone)]
pub struct ConnRecord {
    pub index: u64,
    pub plan: ConnPlan,
    pub up: u64,
    pub down: u64,
    /// The client's bytes (up to 16 MiB), for replay.
    pub client_bytes: Arc<Vec<u8>>,
}

/// What a replay got back.
#[derive(Debug, Clone)]
pub struct ReplayOutcome {
    pub sent: usize,
    pub received: Vec<u8>,
    /// The target ended the connection (EOF or reset) before the timeout.
    pub target_closed: bool,
}

impl ReplayOutcome {
    /// TLS records the target sent with content type 23 (application data) after its
    /// handshake records. A TLS 1.3 server sends its encrypted handshake as type 23 too, so this
    /// counts records after the first flight; see [`tls_records`].
    pub fn record_types(&self) -> Vec<u8> {
        tls_records(&self.received)
            .into_iter()
            .map(|(t, _)| t)
            .collect()
    }
}

/// The (content type, length) of each whole TLS record in `bytes`.
pub fn tls_records(bytes: &[u8]) -> Vec<(u8, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 5 <= bytes.len() {
        let len = u16::from_be_bytes([bytes[i + 3], bytes[i + 4]]) as usize;
        if i + 5 + len > bytes.len() {
            break;
        }
        out.push((bytes[i], len));
        i += 5 + len;
    }
    out
}

struct Shared {
    target: SocketAddr,
    schedule: Mutex<Schedule>,
    started: Mutex<Instant>,
    next_index: AtomicU64,
    healed: AtomicBool,
    counters: Counters,
    records: Mutex<Vec<ConnRecord>>,
    replay_outcomes: Mutex<Vec<ReplayOutcome>>,
    /// The open connections' stop switches, to end them all at once.
    live: Mutex<std::collections::HashMap<u64, watch::Sender<u8>>>,
    next_conn: AtomicU64,
}

/// The running proxy. Dropping it stops accepting; connections in flight end with it.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let s = TcpSocket::new_v4()?;
    s.set_reuseaddr(true)?;
    s.bind(addr)?;
    s.listen(1024)
}

impl FaultProxy {
    /// Listens on `127.0.0.1:0` and forwards to `target`.
    pub async fn start(target: SocketAddr, schedule: Schedule) -> std::io::Result<FaultProxy> {
        Self::start_on(
            "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
            target,
            schedule,
        )
        .await
    }

    /// Listens on `listen` (port 0 picks one) and forwards to `target`.
    pub async fn start_on(
        listen: SocketAddr,
        target: SocketAddr,
        schedule: Schedule,
    ) -> std::io::Result<FaultProxy> {
        let listener = bind(listen)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            target,
            schedule: Mutex::new(schedule),
            started: Mutex::new(Instant::now()),
            next_index: AtomicU64::new(0),
            healed: AtomicBool::new(false),
            counters: Counters::default(),
            records: Mutex::new(Vec::new()),
            replay_outcomes: Mutex::new(Vec::new()),
            live: Mutex::new(std::collections::HashMap::new()),
            next_conn: AtomicU64::new(0),
        });
        let task = tokio::spawn(accept_loop(listener, addr, shared.clone()));
        Ok(FaultProxy { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn schedule(&self) -> Schedule {
        self.shared
            .schedule
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A new schedule from now on: connection indices and outage times start again at zero.
    pub fn set_schedule(&self, schedule: Schedule) {
        *self
            .shared
            .schedule
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = schedule;
        *self
            .shared
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Instant::now();
        self.shared.next_index.store(0, Ordering::SeqCst);
        self.shared.healed.store(false, Ordering::SeqCst);
    }

    /// Every new connection is clean from now on (connections in flight keep their plan).
    pub fn heal(&self) {
        self.shared.healed.store(true, Ordering::SeqCst);
    }

    /// Resets every open connection at once, as a dropped link does. Returns how many.
    pub fn cut_all(&self) -> usize {
        end_all(&self.shared, STOP_CUT)
    }

    /// Closes every open connection cleanly (FIN both ways). Returns how many.
    pub fn close_all(&self) -> usize {
        end_all(&self.shared, STOP_CLOSE)
    }

    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        Stats {
            accepted: c.accepted.load(Ordering::SeqCst),
            reset_at_accept: c.reset_at_accept.load(Ordering::SeqCst),
            cut: c.cut.load(Ordering::SeqCst),
            closed: c.closed.load(Ordering::SeqCst),
            bytes_up: c.bytes_up.load(Ordering::SeqCst),
            bytes_down: c.bytes_down.load(Ordering::SeqCst),
            replays: c.replays.load(Ordering::SeqCst),
            replay_bytes: c.replay_bytes.load(Ordering::SeqCst),
            refused_windows: c.refused_windows.load(Ordering::SeqCst),
        }
    }

    /// Connections that have ended, in the order they ended.
    pub fn records(&self) -> Vec<ConnRecord> {
        self.shared
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// What the automatic replays (plans with `replay`) got back.
    pub fn replay_outcomes(&self) -> Vec<ReplayOutcome> {
        self.shared
            .replay_outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends the client bytes of an ended connection again, in a new connection to the target,
    /// and reads what comes back for up to `wait`.
    pub async fn replay(
        &self,
        record: &ConnRecord,
        wait: Duration,
    ) -> std::io::Result<ReplayOutcome> {
        replay_bytes(&self.shared, &record.client_bytes, wait).await
    }
}

async fn replay_bytes(
    shared: &Shared,
    bytes: &[u8],
    wait: Duration,
) -> std::io::Result<ReplayOutcome> {
    shared.counters.replays.fetch_add(1, Ordering::SeqCst);
    let mut s = TcpStream::connect(shared.target).await?;
    s.set_nodelay(true)?;
    let (mut r, mut w) = s.split();
    let deadline = tokio::time::Instant::now() + wait;
    let mut received = Vec::new();
    let mut target_closed = false;
    let mut sent = 0usize;
    // Write and read at once: the target may answer (or close) before it has read everything.
    let write = async {
        for chunk in bytes.chunks(BUF) {
            if w.write_all(chunk).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        let _ = w.shutdown().await;
    };
    let read = async {
        let mut buf = vec![0u8; BUF];
        loop {
            match tokio::time::timeout_at(deadline, r.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    target_closed = true;
                    break;
                }
                Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
    };
    tokio::join!(write, read);
    shared
        .counters
        .replay_bytes
        .fetch_add(sent as u64, Ordering::SeqCst);
    Ok(ReplayOutcome {
        sent,
        received,
        target_closed,
    })
}

fn end_all(shared: &Shared, how: u8) -> usize {
    let live = shared.live.lock().unwrap_or_else(|e| e.into_inner());
    for stop in live.values() {
        stop.send_if_modified(|s| {
            let first = *s == RUNNING;
            if first {
                *s = how;
            }
            first
        });
    }
    if how == STOP_CUT {
        shared
            .counters
            .cut
            .fetch_add(live.len() as u64, Ordering::SeqCst);
    } else {
        shared
            .counters
            .closed
            .fetch_add(live.len() as u64, Ordering::SeqCst);
    }
    live.len()
}

/// Whether a link drop of the schedule fell in `(from, to]`, times from the schedule's start.
fn drop_due(shared: &Shared, from: Duration, to: Duration) -> bool {
    if shared.healed.load(Ordering::SeqCst) {
        return false;
    }
    let schedule = shared.schedule.lock().unwrap_or_else(|e| e.into_inner());
    schedule.drops.iter().any(|d| *d > from && *d <= to)
}

/// The next outage window that has not ended, relative to the schedule's start.
fn outage_now(shared: &Shared) -> Option<Duration> {
    if shared.healed.load(Ordering::SeqCst) {
        return None;
    }
    let elapsed = shared
        .started
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .elapsed();
    let schedule = shared.schedule.lock().unwrap_or_else(|e| e.into_inner());
    schedule
        .outages
        .iter()
        .find(|(at, len)| elapsed >= *at && elapsed < *at + *len)
        .map(|(at, len)| *at + *len - elapsed)
}

async fn accept_loop(mut listener: TcpListener, addr: SocketAddr, shared: Arc<Shared>) {
    let mut checked = Duration::ZERO;
    loop {
        let elapsed = shared
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .elapsed();
        if elapsed < checked {
            checked = Duration::ZERO; // a new schedule started
        }
        if drop_due(&shared, checked, elapsed) {
            end_all(&shared, STOP_CUT);
        }
        checked = elapsed;
        if let Some(left) = outage_now(&shared) {
            // Close the port: pending and new connections are refused until the window ends.
            drop(listener);
            shared
                .counters
                .refused_windows
                .fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(left).await;
            listener = loop {
                match bind(addr) {
                    Ok(l) => break l,
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            };
            continue;
        }
        // Wake up now and then to notice an outage window starting.
        let accepted =
            match tokio::time::timeout(Duration::from_millis(25), listener.accept()).await {
                Ok(Ok((s, _))) => s,
                Ok(Err(_)) | Err(_) => continue,
            };
        let index = shared.next_index.fetch_add(1, Ordering::SeqCst);
        let plan = if shared.healed.load(Ordering::SeqCst) {
            ConnPlan::default()
        } else {
            shared
                .schedule
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .plan(index)
        };
        shared.counters.accepted.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(handle(accepted, index, plan, shared.clone()));
    }
}

/// How a connection ended, shared by its two pumps.
struct ConnCtl {
    plan: ConnPlan,
    /// Set once one pump decided to end the connection: [`STOP_CUT`] or [`STOP_CLOSE`].
    stop: watch::Sender<u8>,
    up: AtomicU64,
    down: AtomicU64,
    record: Mutex<Vec<u8>>,
}

async fn handle(client: TcpStream, index: u64, plan: ConnPlan, shared: Arc<Shared>) {
    if plan.reset_at_accept {
        shared
            .counters
            .reset_at_accept
            .fetch_add(1, Ordering::SeqCst);
        let _ = client.set_zero_linger();
        drop(client);
        return;
    }
    let server = match TcpStream::connect(shared.target).await {
        Ok(s) => s,
        Err(_) => {
            let _ = client.set_zero_linger();
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let (stop, _) = watch::channel(RUNNING);
    let ctl = Arc::new(ConnCtl {
        plan: plan.clone(),
        stop,
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
        record: Mutex::new(Vec::new()),
    });
    let key = shared.next_conn.fetch_add(1, Ordering::SeqCst);
    shared
        .live
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, ctl.stop.clone());
    let up = tokio::spawn(pump(Dir::Up, cr, sw, ctl.clone(), shared.clone()));
    let down = tokio::spawn(pump(Dir::Down, sr, cw, ctl.clone(), shared.clone()));
    let _ = tokio::join!(up, down);
    shared
        .live
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&key);
    let client_bytes = Arc::new(std::mem::take(
        &mut *ctl.record.lock().unwrap_or_else(|e| e.into_inner()),
    ));
    let rec = ConnRecord {
        index,
        plan: plan.clone(),
        up: ctl.up.load(Ordering::SeqCst),
        down: ctl.down.load(Ordering::SeqCst),
        client_bytes: client_bytes.clone(),
    };
    shared
        .records
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(rec);
    if plan.replay && !client_bytes.is_empty() {
        if let Ok(outcome) = replay_bytes(&shared, &client_bytes, Duration::from_secs(5)).await {
            shared
                .replay_outcomes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(outcome);
        }
    }
}

const RUNNING: u8 = 0;
const STOP_CUT: u8 = 1;
const STOP_CLOSE: u8 = 2;

#[derive(Clone, Copy)]
enum End {
    /// The reader reached EOF: pass the half-close on.
    Eof,
    /// Reset both sockets.
    Cut,
    /// FIN both sockets.
    Close,
    /// The other pump ended the connection.
    Stopped,
    /// A read or write failed: reset the other side too.
    Error,
}

async fn pump(
    dir: Dir,
    mut r: OwnedReadHalf,
    mut w: OwnedWriteHalf,
    ctl: Arc<ConnCtl>,
    shared: Arc<Shared>,
) {
    let mut stop = ctl.stop.subscribe();
    let plan = &ctl.plan;
    let mut rng = StdRng::seed_from_u64(rand::random());
    let limit = match (plan.cut, plan.close) {
        (Some((d, n)), _) if d == dir => Some((n, End::Cut)),
        (_, Some((d, n))) if d == dir => Some((n, End::Close)),
        _ => None,
    };
    let buf_len = plan
        .throttle
        .map(|bps| ((bps / 20) as usize).clamp(512, BUF))
        .unwrap_or(BUF);
    let mut buf = vec![0u8; buf_len];
    let mut forwarded: u64 = 0;
    let work = async {
        // A cut or close at 0 bytes happens before anything passes.
        if let Some((0, end)) = limit {
            return end;
        }
        loop {
            let n = match r.read(&mut buf).await {
                Ok(0) => return End::Eof,
                Ok(n) => n,
                Err(_) => return End::Error,
            };
            let mut take = n;
            let mut end = None;
            if let Some((at, f)) = limit {
                if forwarded + n as u64 >= at {
                    take = (at - forwarded) as usize;
                    end = Some(f);
                }
            }
            if let Some(d) = plan.delay {
                if rng.gen_range(0..100u8) < d.percent {
                    let ms = rng.gen_range(d.min_ms..=d.max_ms.max(d.min_ms));
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
            }
            if let Some(bps) = plan.throttle {
                let secs = take as f64 / bps.max(1) as f64;
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            }
            if take > 0 {
                if w.write_all(&buf[..take]).await.is_err() {
                    return End::Error;
                }
                forwarded += take as u64;
                let counter = match dir {
                    Dir::Up => (&ctl.up, &shared.counters.bytes_up),
                    Dir::Down => (&ctl.down, &shared.counters.bytes_down),
                };
                counter.0.fetch_add(take as u64, Ordering::SeqCst);
                counter.1.fetch_add(take as u64, Ordering::SeqCst);
                if dir == Dir::Up {
                    let mut rec = ctl.record.lock().unwrap_or_else(|e| e.into_inner());
                    if rec.len() + take <= RECORD_LIMIT {
                        rec.extend_from_slice(&buf[..take]);
                    }
                }
            }
            if let Some(e) = end {
                return e;
            }
        }
    };
    let end = tokio::select! {
        e = work => e,
        _ = stop.wait_for(|s| *s != RUNNING) => End::Stopped,
    };
    match end {
        End::Eof => {
            let _ = w.shutdown().await;
        }
        End::Cut | End::Error => {
            if matches!(end, End::Cut) {
                shared.counters.cut.fetch_add(1, Ordering::SeqCst);
            }
            // SO_LINGER 0: closing sends a reset, not a FIN. Both sockets, since each pump
            // holds half of each.
            let _ = r.as_ref().set_zero_linger();
            let _ = w.as_ref().set_zero_linger();
            ctl.stop.send_replace(STOP_CUT);
            // Dropping a write half would send a FIN before the reset.
            w.forget();
        }
        End::Close => {
            shared.counters.closed.fetch_add(1, Ordering::SeqCst);
            let _ = w.shutdown().await;
            ctl.stop.send_replace(STOP_CLOSE);
        }
        End::Stopped => {
            // After a cut the sockets only reset (no FIN first); after a close, FIN.
            if *ctl.stop.borrow() == STOP_CLOSE {
                let _ = w.shutdown().await;
            } else {
                // Ended from outside (a link drop) or by the other pump's cut: reset.
                let _ = r.as_ref().set_zero_linger();
                let _ = w.as_ref().set_zero_linger();
                w.forget();
            }
        }
    }
}
