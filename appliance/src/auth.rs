//! Staff sign-in: argon2id password hashes, session tokens that are stored only as hashes, and
//! a limiter that locks out repeated wrong guesses.

use crate::domain::Password;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "phonghop_session";
/// How long a staff session lasts: one working day and a bit.
pub const SESSION_HOURS: i64 = 12;

pub fn hash_password(p: &Password) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(p.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify_password(phc: &str, p: &Password) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(p.expose().as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
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

/// Counts failed attempts per key (a user name, or a client address) and locks the key out
/// for a while after too many.
pub struct Limiter {
    max_failures: u32,
    window: Duration,
    lockout: Duration,
    state: Mutex<HashMap<String, Attempts>>,
}

struct Attempts {
    failures: u32,
    first: Instant,
    locked_until: Option<Instant>,
}

impl Limiter {
    pub fn new(max_failures: u32, window: Duration, lockout: Duration) -> Self {
        Self {
            max_failures,
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

    /// Records a failure; returns `Some(wait)` if this failure locked the key out.
    pub fn fail(&self, key: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut state = self.state.lock().ok()?;
        if state.len() > 10_000 {
            // Bounded memory under a flood of made-up keys: forget stale entries.
            state.retain(|_, a| {
                now.duration_since(a.first) < self.window || a.locked_until.is_some_and(|u| u > now)
            });
        }
        let a = state.entry(key.to_owned()).or_insert(Attempts {
            failures: 0,
            first: now,
            locked_until: None,
        });
        if now.duration_since(a.first) > self.window {
            a.failures = 0;
            a.first = now;
        }
        a.failures += 1;
        if a.failures >= self.max_failures {
            a.failures = 0;
            a.first = now;
            a.locked_until = Some(now + self.lockout);
            return Some(self.lockout);
        }
        None
    }

    pub fn succeed(&self, key: &str) {
        if let Ok(mut state) = self.state.lock() {
            state.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let p = Password::parse("mật khẩu dài").unwrap();
        let h = hash_password(&p).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, &p));
        assert!(!verify_password(
            &h,
            &Password::parse("sai mật khẩu").unwrap()
        ));
        assert!(!verify_password(dummy_hash(), &p));
        assert!(!verify_password("not a hash", &p));
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
