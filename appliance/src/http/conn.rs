//! Connection accounting for both ports: how many are open in all and per address, against
//! caps well under the descriptor limit. The accept loop (`server.rs`) admits or refuses each
//! connection; `/metrics` reads the counts.

use std::net::IpAddr;
use std::sync::Arc;

/// Open connections from one address (an IPv6 client counts by its /64).
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 128;
/// Open connections in all, on both ports; lowered further to half the descriptor limit.
pub const MAX_CONNECTIONS: usize = 4096;

/// Counts open connections, in all and per address, and refuses those over the caps.
pub struct ConnLimits {
    pub total_max: usize,
    pub per_address_max: usize,
    state: std::sync::Mutex<(usize, std::collections::HashMap<String, usize>)>,
    refused: std::sync::atomic::AtomicU64,
}

/// One open connection; dropping it frees its place.
pub struct ConnSlot {
    limits: Arc<ConnLimits>,
    key: String,
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        if let Ok(mut s) = self.limits.state.lock() {
            s.0 = s.0.saturating_sub(1);
            if let Some(n) = s.1.get_mut(&self.key) {
                *n -= 1;
                if *n == 0 {
                    s.1.remove(&self.key);
                }
            }
        }
    }
}

impl ConnLimits {
    pub fn new(total_max: usize, per_address_max: usize) -> Self {
        Self {
            total_max,
            per_address_max,
            state: std::sync::Mutex::default(),
            refused: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The caps for this process: [`MAX_CONNECTIONS`], but at most half the descriptor limit
    /// (the rest is for files, the store and the live feeds' bookkeeping).
    pub fn for_fd_limit(fd_limit: u64) -> Self {
        let half = usize::try_from(fd_limit / 2).unwrap_or(usize::MAX);
        let total = MAX_CONNECTIONS.min(half).max(64);
        Self::new(total, MAX_CONNECTIONS_PER_ADDRESS.min(total))
    }

    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<ConnSlot> {
        let key = super::client_key(ip);
        let mut s = self.state.lock().ok()?;
        let here = s.1.get(&key).copied().unwrap_or(0);
        if s.0 >= self.total_max || here >= self.per_address_max {
            drop(s);
            self.refused
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return None;
        }
        s.0 += 1;
        s.1.insert(key.clone(), here + 1);
        Some(ConnSlot {
            limits: self.clone(),
            key,
        })
    }

    pub fn open(&self) -> usize {
        self.state.lock().map_or(0, |s| s.0)
    }

    pub fn refused(&self) -> u64 {
        self.refused.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_address_and_in_all_and_frees_on_drop() {
        let l = Arc::new(ConnLimits::new(3, 2));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = l.admit(a).unwrap();
        let _a2 = l.admit(a).unwrap();
        assert!(l.admit(a).is_none(), "a third from one address");
        let _b1 = l.admit(b).unwrap();
        assert!(l.admit(b).is_none(), "a fourth in all");
        assert_eq!((l.open(), l.refused()), (3, 2));
        drop(a1);
        assert!(l.admit(b).is_some());
        // One IPv6 /64 is one address.
        let l = Arc::new(ConnLimits::new(10, 1));
        let _x = l.admit("2001:db8::1".parse().unwrap()).unwrap();
        assert!(l.admit("2001:db8::2".parse().unwrap()).is_none());
    }

    #[test]
    fn the_total_stays_under_half_the_descriptor_limit() {
        assert_eq!(ConnLimits::for_fd_limit(1024).total_max, 512);
        assert_eq!(ConnLimits::for_fd_limit(1 << 20).total_max, MAX_CONNECTIONS);
    }
}
