//! Counters for `/metrics` in the Prometheus text format. Kept small and in-house: a handful
//! of series, no labels from user input (routes are the matched patterns, never raw paths).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

pub struct Metrics {
    started: Instant,
    /// (route, method, status) → requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// route → latency histogram.
    latency: Mutex<BTreeMap<String, Histogram>>,
    /// (family, method) → API requests, whatever the status: the load the screens put on the
    /// box. The family is the matched route's segment after `/api/` (`meetings`, `room`…).
    api: Mutex<BTreeMap<(String, String), u64>>,
    live_clients: AtomicI64,
    tls_handshake_failures: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            requests: Mutex::default(),
            latency: Mutex::default(),
            api: Mutex::default(),
            live_clients: AtomicI64::new(0),
            tls_handshake_failures: AtomicI64::new(0),
        }
    }
}

/// Counts one live-feed client for as long as it is held.
pub struct LiveClientGuard<'a>(&'a Metrics);

impl Drop for LiveClientGuard<'_> {
    fn drop(&mut self) {
        self.0.live_clients.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Figures the metrics cannot know by themselves, read at scrape time.
#[derive(Default)]
pub struct StoreFigures {
    pub db_bytes: u64,
    pub blob_bytes: u64,
    pub head_seq: u64,
    pub connections_open: u64,
    pub connections_refused: u64,
    pub password_checks: u64,
    pub password_busy: u64,
}

impl Metrics {
    pub fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route.to_owned(), method.to_owned(), status))
                .or_default() += 1;
        }
        if let Some(family) = api_family(route) {
            if let Ok(mut a) = self.api.lock() {
                *a.entry((family.to_owned(), method.to_owned())).or_default() += 1;
            }
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route.to_owned()).or_default();
            let secs = elapsed.as_secs_f64();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    pub fn live_client(&self) -> LiveClientGuard<'_> {
        self.live_clients.fetch_add(1, Ordering::Relaxed);
        LiveClientGuard(self)
    }

    pub fn live_clients(&self) -> i64 {
        self.live_clients.load(Ordering::Relaxed)
    }

    pub fn tls_handshake_failed(&self) {
        self.tls_handshake_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self, store: &StoreFigures) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP phonghop_uptime_seconds Seconds since the process started.\n# TYPE phonghop_uptime_seconds gauge\nphonghop_uptime_seconds {:.3}", self.started.elapsed().as_secs_f64());
        let _ = writeln!(out, "# HELP phonghop_http_requests_total HTTP requests by matched route, method and status.\n# TYPE phonghop_http_requests_total counter");
        if let Ok(r) = self.requests.lock() {
            for ((route, method, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "phonghop_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}",
                    escape(route),
                    escape(method),
                    status,
                    n
                );
            }
        }
        let _ = writeln!(out, "# HELP phonghop_api_requests_total API requests by route family (the path segment after /api/) and method, whatever the status. The live feeds count here too.\n# TYPE phonghop_api_requests_total counter");
        if let Ok(a) = self.api.lock() {
            for ((family, method), n) in a.iter() {
                let _ = writeln!(
                    out,
                    "phonghop_api_requests_total{{family=\"{}\",method=\"{}\"}} {}",
                    escape(family),
                    escape(method),
                    n
                );
            }
        }
        let _ = writeln!(out, "# HELP phonghop_http_request_duration_seconds Time to the response head, by route.\n# TYPE phonghop_http_request_duration_seconds histogram");
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                let route = escape(route);
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(out, "phonghop_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}", h.counts[i]);
                }
                let _ = writeln!(out, "phonghop_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(
                    out,
                    "phonghop_http_request_duration_seconds_sum{{route=\"{route}\"}} {:.6}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "phonghop_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        let _ = writeln!(out, "# HELP phonghop_live_clients Open live-feed (SSE) connections.\n# TYPE phonghop_live_clients gauge\nphonghop_live_clients {}", self.live_clients());
        let _ = writeln!(out, "# HELP phonghop_tls_handshake_failures_total TLS handshakes that failed or timed out.\n# TYPE phonghop_tls_handshake_failures_total counter\nphonghop_tls_handshake_failures_total {}", self.tls_handshake_failures.load(Ordering::Relaxed));
        let _ = writeln!(out, "# HELP phonghop_store_bytes Bytes on disk, by part of the store.\n# TYPE phonghop_store_bytes gauge\nphonghop_store_bytes{{part=\"db\"}} {}\nphonghop_store_bytes{{part=\"blobs\"}} {}", store.db_bytes, store.blob_bytes);
        let _ = writeln!(out, "# HELP phonghop_log_head_seq Sequence number of the last event in the node's log.\n# TYPE phonghop_log_head_seq gauge\nphonghop_log_head_seq {}", store.head_seq);
        let _ = writeln!(out, "# HELP phonghop_connections_open Open connections on both ports.\n# TYPE phonghop_connections_open gauge\nphonghop_connections_open {}", store.connections_open);
        let _ = writeln!(out, "# HELP phonghop_connections_refused_total Connections closed at once for being over a cap.\n# TYPE phonghop_connections_refused_total counter\nphonghop_connections_refused_total {}", store.connections_refused);
        let _ = writeln!(out, "# HELP phonghop_password_checks_total Argon2 runs (sign-ins, PIN checks, new hashes).\n# TYPE phonghop_password_checks_total counter\nphonghop_password_checks_total {}", store.password_checks);
        let _ = writeln!(out, "# HELP phonghop_password_busy_total Password checks refused because too many were waiting.\n# TYPE phonghop_password_busy_total counter\nphonghop_password_busy_total {}", store.password_busy);
        out
    }
}

/// `/api/meetings/{id}/seats` → `meetings`; `None` outside the API.
fn api_family(route: &str) -> Option<&str> {
    let rest = route.strip_prefix("/api/")?;
    let family = rest.split('/').next().unwrap_or(rest);
    (!family.is_empty()).then_some(family)
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_buckets() {
        let m = Metrics::default();
        m.record("/healthz", "GET", 200, Duration::from_millis(2));
        m.record("/healthz", "GET", 200, Duration::from_millis(200));
        let _g = m.live_client();
        let text = m.render(&StoreFigures {
            db_bytes: 10,
            blob_bytes: 0,
            head_seq: 3,
            connections_open: 2,
            connections_refused: 0,
            password_checks: 5,
            password_busy: 0,
        });
        assert!(text.contains(
            "phonghop_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.0025\"} 1"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(text.contains("phonghop_live_clients 1"));
        assert!(text.contains("phonghop_log_head_seq 3"));
        assert!(text.contains("phonghop_password_checks_total 5"));
    }

    #[test]
    fn counts_api_requests_by_family() {
        let m = Metrics::default();
        m.record("/api/meetings/{id}", "GET", 200, Duration::from_millis(1));
        m.record(
            "/api/meetings/{id}/seats",
            "GET",
            404,
            Duration::from_millis(1),
        );
        m.record("/api/meetings", "POST", 201, Duration::from_millis(1));
        m.record("/api/room", "GET", 200, Duration::from_millis(1));
        m.record("/healthz", "GET", 200, Duration::from_millis(1));
        m.record("static", "GET", 200, Duration::from_millis(1));
        let text = m.render(&StoreFigures::default());
        assert!(text.contains("phonghop_api_requests_total{family=\"meetings\",method=\"GET\"} 2"));
        assert!(text.contains("phonghop_api_requests_total{family=\"meetings\",method=\"POST\"} 1"));
        assert!(text.contains("phonghop_api_requests_total{family=\"room\",method=\"GET\"} 1"));
        assert_eq!(text.matches("phonghop_api_requests_total{").count(), 3);
    }
}
