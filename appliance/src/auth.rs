//! Staff sign-in: argon2id password hashes, session tokens that are stored only as hashes, and
//! a limiter that locks out repeated wrong guesses.
//!
//! Every argon2 run (sign-in, PIN check, new hash) passes through one gate: at most
//! [`HashGate::permits`] run at once, a short queue waits behind them, and anything beyond the
//! queue is refused at once ([`Busy`], 429 to the client). Each run borrows its working memory
//! (19 MiB with the default parameters) from a pool of at most one buffer per permit, so a
//! flood of failed sign-ins cannot grow the process: the pool is reused through a burst and
//! handed back to the system once nobody is hashing.

use crate::domain::Password;
use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "phonghop_session";
/// How long a staff session lasts: one working day and a bit.
pub const SESSION_HOURS: i64 = 12;
/// The most memory one argon2 run may ask for (a stored hash with a bigger `m` is refused
/// rather than allowed to grow the pool): 64 MiB.
const MAX_BLOCKS: usize = 64 * 1024;

/// Every argon2 run so far, for `/metrics` (and the tests that count them).
static PASSWORD_CHECKS: AtomicU64 = AtomicU64::new(0);
/// Runs refused because the gate's queue was full.
static PASSWORD_BUSY: AtomicU64 = AtomicU64::new(0);

pub fn password_checks() -> u64 {
    PASSWORD_CHECKS.load(Ordering::Relaxed)
}
pub fn password_busy() -> u64 {
    PASSWORD_BUSY.load(Ordering::Relaxed)
}

/// The gate was full: too many password checks at once. The client may retry in a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks at once")]
pub struct Busy;

/// Bounds concurrent argon2 runs and lends each one a reusable memory buffer.
pub struct HashGate {
    permits: usize,
    queue: usize,
    state: Mutex<GateState>,
    freed: Condvar,
}

struct GateState {
    running: usize,
    waiting: usize,
    /// Idle buffers; at most `permits` ever exist.
    pool: Vec<Vec<Block>>,
}

/// A running argon2 slot: its buffer goes back to the pool when dropped.
struct Permit<'a> {
    gate: &'a HashGate,
    blocks: Vec<Block>,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let blocks = std::mem::take(&mut self.blocks);
        let mut s = match self.gate.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        s.running -= 1;
        if !blocks.is_empty() {
            s.pool.push(blocks);
        }
        let drained = s.running == 0 && s.waiting == 0;
        // Nobody is hashing: the buffers (19 MiB each) go back too, rather than stay in a
        // box that may now serve a meeting for hours. The next burst allocates them again.
        let idle_pool = if drained {
            std::mem::take(&mut s.pool)
        } else {
            Vec::new()
        };
        drop(s);
        let released = !idle_pool.is_empty();
        drop(idle_pool);
        self.gate.freed.notify_one();
        if released {
            // The buffers were just freed: hand them back now, whenever the last trim was.
            trim_heap();
        } else if drained {
            give_back_freed_memory();
        }
    }
}

/// After a burst of checks, hands the heap memory that the burst's requests freed (TLS and
/// HTTP buffers, JSON) back to the system: glibc keeps it otherwise. At most every 2 s.
fn give_back_freed_memory() {
    static LAST: AtomicU64 = AtomicU64::new(0);
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let now = u64::try_from(EPOCH.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(0);
    let last = LAST.load(Ordering::Relaxed);
    if now.saturating_sub(last) < 2_000 && last != 0 {
        return;
    }
    if LAST
        .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    trim_heap();
}

/// Hands glibc's free heap memory back to the system.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory glibc holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Caps glibc's per-thread heaps: each blocking thread that runs a request would otherwise
/// get its own, and memory freed in one is not reused by another.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt is called once at start, before the runtime's threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

impl HashGate {
    /// `permits` runs at once, `queue` more waiting; memory is `permits` × 19 MiB at most.
    pub fn new(permits: usize, queue: usize) -> Self {
        Self {
            permits: permits.max(1),
            queue,
            state: Mutex::new(GateState {
                running: 0,
                waiting: 0,
                pool: Vec::new(),
            }),
            freed: Condvar::new(),
        }
    }

    /// The box's gate: one run per core, but at most two, so that the pool stays under 40 MiB
    /// (the box must stay under 64 MiB however many sign-ins fail); four waiting per run.
    pub fn global() -> &'static HashGate {
        static GATE: OnceLock<HashGate> = OnceLock::new();
        GATE.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let permits = cores.clamp(1, 2);
            HashGate::new(permits, permits * 4)
        })
    }

    pub fn permits(&self) -> usize {
        self.permits
    }

    fn enter(&self, blocks_needed: usize) -> Result<Permit<'_>, Busy> {
        let mut s = self.state.lock().map_err(|_| Busy)?;
        if s.running >= self.permits {
            if s.waiting >= self.queue {
                PASSWORD_BUSY.fetch_add(1, Ordering::Relaxed);
                return Err(Busy);
            }
            s.waiting += 1;
            while s.running >= self.permits {
                s = match self.freed.wait(s) {
                    Ok(s) => s,
                    Err(p) => p.into_inner(),
                };
            }
            s.waiting -= 1;
        }
        s.running += 1;
        let mut blocks = s.pool.pop().unwrap_or_default();
        drop(s);
        if blocks.len() < blocks_needed {
            blocks.resize(blocks_needed, Block::default());
        }
        Ok(Permit { gate: self, blocks })
    }

    /// Runs argon2 with `params` on a pooled buffer.
    fn run(
        &self,
        argon: &Argon2<'_>,
        params: &Params,
        secret: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), HashError> {
        let needed = params.block_count();
        if needed > MAX_BLOCKS {
            return Err(HashError::Params("memory cost too high".into()));
        }
        let mut permit = self.enter(needed).map_err(HashError::Busy)?;
        PASSWORD_CHECKS.fetch_add(1, Ordering::Relaxed);
        argon
            .hash_password_into_with_memory(secret, salt, out, &mut permit.blocks[..needed])
            .map_err(|e| HashError::Params(e.to_string()))
    }
}

/// Why hashing did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error(transparent)]
    Busy(Busy),
    #[error("argon2: {0}")]
    Params(String),
}

/// A new argon2id hash (PHC string) with the crate's default parameters.
pub fn hash_password(p: &Password) -> Result<String, HashError> {
    hash_with(HashGate::global(), p)
}

fn hash_with(gate: &HashGate, p: &Password) -> Result<String, HashError> {
    let bad = |e: argon2::password_hash::Error| HashError::Params(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_raw = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_raw).map_err(bad)?;
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    gate.run(&argon, &params, p.expose().as_bytes(), salt_bytes, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(bad)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(bad)?),
    };
    Ok(phc.to_string())
}

/// Checks `p` against a stored PHC string, with the stored parameters. `Ok(false)` for a wrong
/// password or a hash this box cannot read; `Err(Busy)` when the gate is full.
pub fn verify_password(phc: &str, p: &Password) -> Result<bool, Busy> {
    verify_with(HashGate::global(), phc, p)
}

fn verify_with(gate: &HashGate, phc: &str, p: &Password) -> Result<bool, Busy> {
    let Some((argon, params, salt, expected)) = parse_phc(phc) else {
        tracing::error!("a stored password hash cannot be read");
        return Ok(false);
    };
    let mut out = vec![0u8; expected.len()];
    match gate.run(&argon, &params, p.expose().as_bytes(), &salt, &mut out) {
        // Output's equality is constant-time.
        Ok(()) => Ok(Output::new(&out).is_ok_and(|o| o == expected)),
        Err(HashError::Busy(b)) => Err(b),
        Err(HashError::Params(e)) => {
            tracing::error!(%e, "a stored password hash cannot be checked");
            Ok(false)
        }
    }
}

fn parse_phc(phc: &str) -> Option<(Argon2<'static>, Params, Vec<u8>, Output)> {
    let h = PasswordHash::new(phc).ok()?;
    let algorithm = Algorithm::try_from(h.algorithm).ok()?;
    let version = match h.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&h).ok()?;
    let mut salt_raw = [0u8; 64];
    let salt = h.salt?.decode_b64(&mut salt_raw).ok()?.to_vec();
    let expected = h.hash?;
    Some((
        Argon2::new(algorithm, version, params.clone()),
        params,
        salt,
        expected,
    ))
}

/// A dummy hash to verify against when the user does not exist, so that a wrong user name
/// takes as long as a wrong password and does not reveal which accounts exist.
pub fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Ez5hNf+7W3dZ1wqjYQSdnkt3EXLmZQfnhm1jG5Mk0g"
}

/// A new random session token (for the cookie) and its hash (for the store).
pub fn new_token() -> (String, String) {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Counts attempts per key (a user name, a person, or a client address) and locks the key out
/// for a while after too many failures.
///
/// An attempt is counted *before* the slow check ([`Limiter::attempt`]): a check in flight
/// holds a place, so a burst of parallel guesses gets at most `max_failures` checks, however
/// many arrive at once. The lock itself starts when the last of those fails.
pub struct Limiter {
    max_failures: u32,
    window: Duration,
    lockout: Duration,
    state: Mutex<HashMap<String, Attempts>>,
}

struct Attempts {
    failures: u32,
    /// Checks in flight for this key.
    pending: u32,
    first: Instant,
    locked_until: Option<Instant>,
}

/// One counted attempt. Say how it ended with [`Attempt::failed`] or [`Attempt::succeeded`];
/// dropped without either (the request broke off before the check), it frees its place
/// without counting as a failure.
#[must_use = "an attempt must be marked failed or succeeded"]
pub struct Attempt<'a> {
    limiter: &'a Limiter,
    key: String,
    done: bool,
}

impl Attempt<'_> {
    /// Records the failure; `Some(wait)` if it locked the key out.
    pub fn failed(mut self) -> Option<Duration> {
        self.done = true;
        self.limiter.finish(&self.key, false)
    }

    /// The secret was right: the key's count starts over.
    pub fn succeeded(mut self) {
        self.done = true;
        self.limiter.finish(&self.key, true);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Ok(mut s) = self.limiter.state.lock() {
                if let Some(a) = s.get_mut(&self.key) {
                    a.pending = a.pending.saturating_sub(1);
                }
            }
        }
    }
}

impl Limiter {
    pub fn new(max_failures: u32, window: Duration, lockout: Duration) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            lockout,
            state: Mutex::default(),
        }
    }

    /// `Some(wait)` while `key` is locked out.
    pub fn locked(&self, key: &str) -> Option<Duration> {
        let now = Instant::now();
        let state = self.state.lock().ok()?;
        let until = state.get(key)?.locked_until?;
        (until > now).then(|| until - now)
    }

    /// Takes a place for one check of `key`, or says how long to wait: while the key is
    /// locked, and while failures plus checks in flight already reach the limit.
    pub fn attempt(&self, key: &str) -> Result<Attempt<'_>, Duration> {
        let now = Instant::now();
        let mut state = self.state.lock().map_err(|_| self.lockout)?;
        if state.len() > 10_000 {
            // Bounded memory under a flood of made-up keys: forget stale entries.
            state.retain(|_, a| {
                a.pending > 0
                    || now.duration_since(a.first) < self.window
                    || a.locked_until.is_some_and(|u| u > now)
            });
        }
        let a = state.entry(key.to_owned()).or_insert(Attempts {
            failures: 0,
            pending: 0,
            first: now,
            locked_until: None,
        });
        if let Some(until) = a.locked_until {
            if until > now {
                return Err(until - now);
            }
            a.locked_until = None;
            a.failures = 0;
            a.first = now;
        }
        if now.duration_since(a.first) > self.window {
            a.failures = 0;
            a.first = now;
        }
        if a.failures + a.pending >= self.max_failures {
            // Full with checks still running: wait as if locked.
            return Err(self.lockout);
        }
        a.pending += 1;
        Ok(Attempt {
            limiter: self,
            key: key.to_owned(),
            done: false,
        })
    }

    fn finish(&self, key: &str, ok: bool) -> Option<Duration> {
        let now = Instant::now();
        let mut state = self.state.lock().ok()?;
        if ok {
            state.remove(key);
            return None;
        }
        let a = state.get_mut(key)?;
        a.pending = a.pending.saturating_sub(1);
        a.failures += 1;
        if a.failures >= self.max_failures {
            let until = now + self.lockout;
            a.locked_until = Some(a.locked_until.map_or(until, |u| u.max(until)));
            return Some(self.lockout);
        }
        None
    }

    /// Records a failure that needed no slow check (a malformed request).
    pub fn fail(&self, key: &str) -> Option<Duration> {
        match self.attempt(key) {
            Ok(a) => a.failed(),
            Err(wait) => Some(wait),
        }
    }

    pub fn succeed(&self, key: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.remove(key);
        }
    }
}

/// A box-wide budget of failures (a token bucket): `burst` at once, then `per_minute`.
/// Per-address limits do not stop a guesser who rotates addresses; this does.
pub struct Budget {
    burst: f64,
    per_sec: f64,
    state: Mutex<(f64, Instant)>,
}

impl Budget {
    pub fn new(burst: u32, per_minute: u32) -> Self {
        Self {
            burst: f64::from(burst),
            per_sec: f64::from(per_minute) / 60.0,
            state: Mutex::new((f64::from(burst), Instant::now())),
        }
    }

    /// Takes one unit; `Err(wait)` when the budget is spent.
    pub fn take(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let mut s = self.state.lock().map_err(|_| Duration::from_secs(60))?;
        let (tokens, last) = *s;
        let tokens =
            (tokens + now.duration_since(last).as_secs_f64() * self.per_sec).min(self.burst);
        if tokens < 1.0 {
            *s = (tokens, now);
            let wait = if self.per_sec > 0.0 {
                (1.0 - tokens) / self.per_sec
            } else {
                3600.0
            };
            return Err(Duration::from_secs_f64(wait.max(1.0)));
        }
        *s = (tokens - 1.0, now);
        Ok(())
    }

    /// Gives one unit back (the attempt turned out not to be a failure).
    pub fn refund(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.0 = (s.0 + 1.0).min(self.burst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    #[test]
    fn password_round_trip() {
        let p = Password::parse("mật khẩu dài").unwrap();
        let h = hash_password(&p).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(verify_password(&h, &p), Ok(true));
        assert_eq!(
            verify_password(&h, &Password::parse("sai mật khẩu").unwrap()),
            Ok(false)
        );
        assert_eq!(verify_password(dummy_hash(), &p), Ok(false));
        assert_eq!(verify_password("not a hash", &p), Ok(false));
        // The crate's own verifier agrees with the pooled one, both ways.
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(Argon2::default()
            .verify_password(p.expose().as_bytes(), &parsed)
            .is_ok());
        let theirs = {
            use argon2::PasswordHasher;
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(p.expose().as_bytes(), &salt)
                .unwrap()
                .to_string()
        };
        assert_eq!(verify_password(&theirs, &p), Ok(true));
    }

    #[test]
    fn the_gate_bounds_runs_and_refuses_beyond_its_queue() {
        let gate = std::sync::Arc::new(HashGate::new(1, 1));
        let p = Password::parse("mật khẩu dài").unwrap();
        let h = hash_with(&gate, &p).unwrap();
        // Hold the only permit, fill the queue, then the next one is refused.
        let held = gate.enter(8).unwrap();
        let g2 = gate.clone();
        let (h2, p2) = (h.clone(), p.clone());
        let waiter = std::thread::spawn(move || verify_with(&g2, &h2, &p2));
        while gate.state.lock().unwrap().waiting == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(verify_with(&gate, &h, &p), Err(Busy));
        drop(held);
        assert_eq!(waiter.join().unwrap(), Ok(true));
        // Nobody hashes any more: no buffer is kept.
        assert_eq!(gate.state.lock().unwrap().pool.len(), 0);
    }

    #[test]
    fn limiter_locks_after_max_failures() {
        let l = Limiter::new(3, Duration::from_secs(60), Duration::from_secs(300));
        assert!(l.fail("admin").is_none());
        assert!(l.fail("admin").is_none());
        assert!(l.locked("admin").is_none());
        assert!(l.fail("admin").is_some());
        assert!(l.locked("admin").is_some());
        assert!(l.locked("other").is_none());
        assert!(l.attempt("admin").is_err());
    }

    #[test]
    fn parallel_attempts_hold_places_before_the_check() {
        let l = Limiter::new(3, Duration::from_secs(60), Duration::from_secs(300));
        let a: Vec<_> = (0..3).map(|_| l.attempt("k").unwrap()).collect();
        assert!(l.attempt("k").is_err(), "a fourth check while three run");
        let mut a = a.into_iter();
        // One broke off before its check: its place is free again.
        drop(a.next());
        let again = l.attempt("k").unwrap();
        assert!(a.next().unwrap().failed().is_none());
        assert!(a.next().unwrap().failed().is_none());
        assert!(again.failed().is_some());
        assert!(l.locked("k").is_some());
    }

    #[test]
    fn a_budget_refills_and_refunds() {
        let b = Budget::new(2, 60);
        assert!(b.take().is_ok());
        assert!(b.take().is_ok());
        assert!(b.take().is_err());
        b.refund();
        assert!(b.take().is_ok());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (t1, h1) = new_token();
        let (t2, _) = new_token();
        assert_ne!(t1, t2);
        assert_eq!(token_hash(&t1), h1);
        assert_eq!(h1.len(), 64);
    }
}
