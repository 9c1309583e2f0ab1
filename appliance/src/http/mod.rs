//! HTTP: the HTTPS router (the web app and its API) and the plain-HTTP router (onboarding
//! only). Handlers are thin: extract, call one service function, shape the response.

mod accounts;
mod annotations;
mod api;
mod assets;
pub mod conn;
mod displays;
pub mod error;
mod evidence;
mod hub;
mod live;
mod live_meeting;
mod meetings;
mod onboarding;
mod people;
mod prepare;
pub(crate) mod probes;
pub mod sync;
pub mod views;
pub mod votes;

use crate::auth::{Limiter, SESSION_COOKIE};
use crate::metrics::Metrics;
use crate::service::devices::{self, PairingGuard, DEVICE_COOKIE};
use crate::service::displays::{self as display_service, DISPLAY_COOKIE};
use crate::service::{staff, Caller, Refusal, ServiceError};
use crate::store::{Account, Store};
use crate::tls::CertAuthority;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::{header, request::Parts, HeaderMap, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
pub use error::ApiError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tracing::Instrument;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub store: Store,
    /// Open connections, against the caps.
    pub conn_limits: Arc<conn::ConnLimits>,
    pub metrics: Metrics,
    pub ca: Arc<CertAuthority>,
    pub site: Site,
    /// Failed sign-ins per user name and per client address.
    pub sign_in_limiter: Limiter,
    /// Failed pairings per person (wrong PIN) and per client address.
    pub pairing_guard: PairingGuard,
    /// How long a pairing code works.
    pub pairing_code_lifetime: Duration,
    /// The largest document upload accepted, in bytes.
    pub max_upload: u64,
    /// Import previews waiting for the secretary's confirmation.
    pub imports: crate::service::import::ImportStash,
    /// Flips to `true` when the server starts to shut down; live feeds end on it.
    pub shutdown: watch::Receiver<bool>,
    /// The JSON of recent events as every feed sends them whole.
    pub wire: Arc<live::WireCache>,
    /// Meeting headers shared by the meeting feeds.
    pub meeting_headers: Arc<meetings::SharedHeaders>,
    /// The node's record-signing key (vote results); `None` if it could not be made (the
    /// clock was not set on first start), and closing a vote then says so.
    pub signer: Option<Arc<crate::signing::RecordSigner>>,
    /// The latest "N have voted" of each meeting, for the feeds.
    pub votes: Arc<votes::ProgressBoard>,
    /// Ballots waiting for the next durable commit (many share one under load).
    pub ballots: Arc<crate::service::vote::BallotQueue>,
    /// How many ballots may have their signature checked at once.
    pub ballot_checks: Arc<tokio::sync::Semaphore>,
    /// The annotated copies being made (a few at once, one per person).
    pub exports: Arc<annotations::Exports>,
    /// A room box's sync with its hub (status and the "sync now" button).
    pub sync: crate::sync::client::SyncHandle,
    /// On a hub: the port of its sync listener, which enrolment tells boxes.
    pub hub_sync_port: Option<u16>,
    /// On a hub: what it remembers of each box between sync requests.
    pub sync_peers: Arc<sync::SyncPeers>,
}

/// How the box is reached, for redirects, QR codes and the onboarding page.
#[derive(Debug, Clone)]
pub struct Site {
    pub https_port: u16,
    pub http_port: u16,
    /// The box's mDNS name, e.g. `phonghop-3f9a1c.local`.
    pub local_name: String,
    /// Every DNS name the certificate covers; a `Host` outside these (and IP literals) is not
    /// trusted for building redirect URLs, and is refused on HTTPS.
    pub dns_names: Vec<String>,
    /// The box's own addresses (loopback left out), for links a tablet can open without
    /// resolving any name.
    pub ips: Vec<std::net::IpAddr>,
}

impl Site {
    /// The HTTPS base URL for a host the client used, falling back to the `.local` name for a
    /// host we do not answer to.
    pub fn https_url(&self, host_header: Option<&str>) -> String {
        let host = host_header
            .map(strip_port)
            .filter(|h| self.is_own_host(h))
            .unwrap_or(&self.local_name);
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        if self.https_port == 443 {
            format!("https://{host}")
        } else {
            format!("https://{host}:{}", self.https_port)
        }
    }

    /// The same base URL by the box's first LAN address, for tablets that cannot resolve
    /// `.local` names. `None` when the box has no such address.
    pub fn https_ip_url(&self) -> Option<String> {
        let ip = self
            .ips
            .iter()
            .find(|ip| ip.is_ipv4() && !ip.is_loopback())
            .or_else(|| self.ips.iter().find(|ip| !ip.is_loopback()))?;
        Some(self.https_url(Some(&ip.to_string())))
    }

    pub fn is_own_host(&self, host: &str) -> bool {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<std::net::IpAddr>().is_ok()
            || self.dns_names.iter().any(|n| n.eq_ignore_ascii_case(bare))
    }
}

/// The host the client addressed: HTTP/2's `:authority` (which hyper puts in the URI), else
/// the `Host` header.
pub fn request_host<'a>(uri: &'a axum::http::Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    uri.authority()
        .map(|a| a.as_str())
        .or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()))
}

/// `host:port` → `host`, keeping IPv6 literals in brackets whole.
pub fn strip_port(h: &str) -> &str {
    if h.starts_with('[') {
        return h.find(']').map(|i| &h[..=i]).unwrap_or(h);
    }
    match h.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => h,
    }
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The HTTPS side: the web app, its API, probes and the CA for convenience.
pub fn https_router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(accounts::routes())
        .merge(people::routes())
        .merge(meetings::routes())
        .merge(live_meeting::routes())
        .merge(displays::routes())
        .merge(prepare::routes())
        .merge(votes::routes())
        .merge(annotations::routes())
        .merge(evidence::routes())
        .merge(hub::routes())
        .route("/api/room/events", get(live::room_events))
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz))
        .route("/metrics", get(probes::metrics))
        .route("/ca.pem", get(onboarding::ca_pem))
        .route("/ca.crt", get(onboarding::ca_der))
        .fallback(assets::serve)
        .layer(middleware::from_fn(check_origin))
        .layer(middleware::from_fn(no_store))
        .layer(middleware::from_fn_with_state(state.clone(), check_host))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// The plain-HTTP side: onboarding, the CA, and a redirect for everything else.
pub fn http_router(state: AppState) -> Router {
    onboarding::routes()
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// One span per request, carrying the matched route, and the request metrics.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "static".to_owned());
    let method = req.method().clone();
    let span = tracing::info_span!("request", route = %route, method = %method, status = tracing::field::Empty, ms = tracing::field::Empty);
    let started = Instant::now();
    let resp = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    span.record("status", status);
    span.record("ms", elapsed.as_secs_f64() * 1000.0);
    span.in_scope(|| tracing::debug!("handled"));
    state
        .metrics
        .record(&route, method.as_str(), status, elapsed);
    resp
}

/// Refuses HTTPS requests addressed to a name that is not the box's (DNS rebinding: a page
/// elsewhere that points its own name at the box). IP literals are the box's by definition
/// of having reached it; a request without any host is let through.
async fn check_host(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(host) = request_host(req.uri(), req.headers()) {
        let bare = strip_port(host);
        if !st.site.is_own_host(bare) {
            tracing::warn!(host = %bare, "refused a request for another host name");
            return axum::response::IntoResponse::into_response(ApiError::UnknownHost);
        }
    }
    next.run(req).await
}

/// API answers are about one person's session and change all the time: no cache may keep
/// them (a shared tablet, a proxy). Files and the web app set their own caching.
async fn no_store(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut resp = next.run(req).await;
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if api && json && !resp.headers().contains_key(header::CACHE_CONTROL) {
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    resp
}

/// Refuses state-changing requests that do not come from a page of this same box: the
/// `Origin` must be present and name the host the request was sent to. SameSite=Strict
/// cookies already stop most cross-site requests; this closes the rest.
async fn check_origin(req: Request, next: Next) -> Result<Response, ApiError> {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !origin_matches(req.headers(), req.uri()) {
        tracing::warn!(origin = ?req.headers().get(header::ORIGIN), "refused a request from another origin");
        return Err(ApiError::BadOrigin);
    }
    Ok(next.run(req).await)
}

fn origin_matches(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = uri.authority().map(|a| a.as_str().to_owned()).or_else(|| {
        headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    match (origin.strip_prefix("https://"), host) {
        (Some(o), Some(h)) => {
            o.eq_ignore_ascii_case(&h) || o.eq_ignore_ascii_case(h.trim_end_matches(":443"))
        }
        _ => false,
    }
}

/// The client's address as the accept loop saw it, as a key for limits: an IPv6 client
/// counts by its /64, since one device may use many addresses in it.
pub fn client_addr(parts_or_ext: &axum::http::Extensions) -> String {
    parts_or_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| client_key(c.0.ip()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// An address as the limits count it: IPv4 as is, IPv6 by its /64.
pub fn client_key(ip: std::net::IpAddr) -> String {
    match ip.to_canonical() {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// A cookie's value, read with axum-extra's cookie parser.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    axum_extra::extract::cookie::CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value for one of the box's own cookies: HttpOnly, Secure, SameSite=Strict,
/// the whole site, for `max_age` (zero removes it).
pub fn own_cookie(
    name: &'static str,
    value: String,
    max_age: time::Duration,
) -> Result<axum::http::HeaderValue, ApiError> {
    use axum_extra::extract::cookie::{Cookie, SameSite};
    let c = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .build();
    axum::http::HeaderValue::from_str(&c.to_string()).map_err(|e| ApiError::Internal(e.to_string()))
}

/// A signed-in staff member. Extracting it fails with 401 when there is no valid session.
pub struct Staff(pub Account);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    /// Staff only: nobody gets 401, a paired tablet 403 (it is someone, but not staff).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Staff(a) => Ok(Staff(a)),
            Caller::Device { .. } | Caller::Display(_) => Err(ApiError::Forbidden),
            Caller::Anonymous => Err(ApiError::Unauthenticated),
        }
    }
}

/// Who is asking: staff by session, a tablet by device cookie, a projector screen by display
/// cookie, or nobody. A revoked device's cookie is an error (401 `device.revoked`, or
/// `display.revoked`), so the tablet or screen can tell the room.
///
/// A display only reads: any other method is refused here (403), before any handler runs,
/// so no route can forget it.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = resolve_caller(&state.store, &parts.headers)?;
        if matches!(caller, Caller::Display(_))
            && !matches!(parts.method, Method::GET | Method::HEAD)
        {
            return Err(ApiError::Forbidden);
        }
        Ok(caller)
    }
}

/// Who the cookies in `headers` stand for, as the store says now. Live feeds call this again
/// for every event, so a sign-out or a revocation reaches a feed that is already open.
pub fn resolve_caller(store: &Store, headers: &HeaderMap) -> Result<Caller, ApiError> {
    if let Some(token) = cookie_value(headers, SESSION_COOKIE) {
        if let Some(a) = staff::session_account(store, &token)? {
            return Ok(Caller::Staff(a));
        }
    }
    if let Some(token) = cookie_value(headers, DEVICE_COOKIE) {
        return match devices::device_session(store, &token) {
            Ok(Some((device, person))) => Ok(Caller::Device { device, person }),
            Ok(None) => Ok(Caller::Anonymous),
            Err(ServiceError::Refused(Refusal::DeviceRevoked)) => {
                Err(ApiError::Refused(Refusal::DeviceRevoked))
            }
            Err(e) => Err(e.into()),
        };
    }
    if let Some(token) = cookie_value(headers, DISPLAY_COOKIE) {
        return match display_service::display_session(store, &token) {
            Ok(Some(display)) => Ok(Caller::Display(display)),
            Ok(None) => Ok(Caller::Anonymous),
            Err(ServiceError::Refused(Refusal::DisplayRevoked)) => {
                Err(ApiError::Refused(Refusal::DisplayRevoked))
            }
            Err(e) => Err(e.into()),
        };
    }
    Ok(Caller::Anonymous)
}

/// Like [`Staff`], but absent rather than an error.
pub struct MaybeStaff(pub Option<Account>);

impl FromRequestParts<AppState> for MaybeStaff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Staff(a) => Ok(MaybeStaff(Some(a))),
            _ => Ok(MaybeStaff(None)),
        }
    }
}

/// Runs blocking store work (fsync) off the async workers.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("task failed: {e}")))?
}

/// How long a live-feed heartbeat waits; short enough that Wi-Fi gear keeps the link open.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// A time as the API shows it: RFC 3339 in UTC (`…Z`), whatever offset it was sent with, so
/// clients can compare and sort times without parsing offsets.
pub(crate) fn utc(t: time::OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        Site {
            https_port: 8443,
            http_port: 8080,
            local_name: "phonghop-abc123.local".into(),
            dns_names: vec!["phonghop-abc123.local".into(), "localhost".into()],
            ips: vec!["192.168.1.5".parse().unwrap()],
        }
    }

    #[test]
    fn https_url_keeps_known_hosts_only() {
        let s = site();
        assert_eq!(
            s.https_url(Some("localhost:8080")),
            "https://localhost:8443"
        );
        assert_eq!(
            s.https_url(Some("192.168.1.5:80")),
            "https://192.168.1.5:8443"
        );
        assert_eq!(s.https_url(Some("[::1]:8080")), "https://[::1]:8443");
        assert_eq!(
            s.https_url(Some("evil.example")),
            "https://phonghop-abc123.local:8443"
        );
        assert_eq!(s.https_url(None), "https://phonghop-abc123.local:8443");
        assert_eq!(
            s.https_ip_url().as_deref(),
            Some("https://192.168.1.5:8443")
        );
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a = client_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = client_key("2001:db8:1:2:bbbb::9".parse().unwrap());
        assert_eq!(a, b);
        assert_eq!(client_key("::ffff:10.0.0.7".parse().unwrap()), "10.0.0.7");
    }

    #[test]
    fn own_cookies_carry_every_guard() {
        let v = own_cookie("phonghop_session", "tok".into(), time::Duration::hours(12)).unwrap();
        let v = v.to_str().unwrap();
        for part in [
            "phonghop_session=tok",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=43200",
        ] {
            assert!(v.contains(part), "{v}");
        }
    }

    #[test]
    fn origin_must_match_host() {
        let mut h = HeaderMap::new();
        let uri: axum::http::Uri = "/api/x".parse().unwrap();
        h.insert(header::HOST, "localhost:8443".parse().unwrap());
        assert!(!origin_matches(&h, &uri));
        h.insert(header::ORIGIN, "https://localhost:8443".parse().unwrap());
        assert!(origin_matches(&h, &uri));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!origin_matches(&h, &uri));
        h.insert(header::ORIGIN, "http://localhost:8443".parse().unwrap());
        assert!(!origin_matches(&h, &uri));
    }

    #[test]
    fn cookie_parsing() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; phonghop_session=tok; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_value(&h, "phonghop_session").as_deref(), Some("tok"));
        assert_eq!(cookie_value(&h, "c"), None);
    }
}
