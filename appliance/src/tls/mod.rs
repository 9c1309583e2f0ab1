//! The box's own certificate authority and the hot-renewed server certificate.
//!
//! Three levels, all ECDSA P-256 with random 16-byte serials and AKI/SKI:
//! - a root CA (about 10 years), created once; tablets trust it, so it is never replaced
//!   automatically;
//! - an intermediate CA (5 years at most, pathlen 0) whose critical NameConstraints permit only
//!   the box's DNS names and IP subnets, so a stolen box key cannot impersonate anything else;
//! - a leaf (90 days including a 1-day backdate), renewed 30 days before it expires and served
//!   to new connections without a restart.
//!
//! Files under the directory the caller gives (`DATA/tls/`): `root.pem`, `root.key`,
//! `intermediate.pem`, `intermediate.key`, `leaf.pem` (leaf only, no chain), `leaf.key` and
//! `names.json` (what the intermediate covers). Keys are PKCS#8 PEM with mode 0600; every file is
//! replaced atomically.
//!
//! Loading policy: unreadable or unparsable files are an error, never silently replaced. A root
//! certificate without its key (or the reverse, once anything was issued under it) is an error.
//! An intermediate or leaf that is missing, does not match its key, was not issued by the level
//! above, no longer covers the box's names, or is near expiry is reissued with a warning: these
//! states follow from an interrupted write or a move to another network, and reissuing them
//! costs nothing because the root stays.
//!
//! A clock earlier than [`CLOCK_FLOOR`] (a box without a real-time-clock battery) is never used
//! to issue anything: existing certificates are kept and nothing new is created.

mod issue;
mod mobileconfig;
mod names;
mod parse;
pub mod province;
mod resolver;
mod store;
pub mod sync;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rcgen::{Issuer, KeyPair};
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

pub use mobileconfig::mobileconfig;
pub use names::{BoxNames, Subnet};

use names::Coverage;
use parse::CertFacts;
use resolver::LeafResolver;
use store::{
    CROSS_CERT, INTERMEDIATE_CERT, INTERMEDIATE_KEY, ISSUING_CERT, KEY_MODE, LEAF_CERT, LEAF_KEY,
    NAMES, OWN_ROOT_CERT, OWN_ROOT_KEY, PUBLIC_MODE, ROOT_CERT, ROOT_KEY, SIGNING_CERT,
    SIGNING_KEY,
};

/// Renew the leaf when less than this remains.
pub const LEAF_RENEW_BEFORE: Duration = Duration::days(30);
/// Replace the intermediate when less than this remains, so a new leaf always gets its full
/// lifetime.
pub const INTERMEDIATE_RENEW_BEFORE: Duration = Duration::days(180);
/// No certificate is issued while the clock reads earlier than this.
pub const CLOCK_FLOOR: OffsetDateTime = time::macros::datetime!(2026-01-01 00:00 UTC);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is corrupt: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("incomplete certificate authority in {}: {reason}", dir.display())]
    Incomplete { dir: PathBuf, reason: String },
    #[error("invalid box name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },
    #[error("the system clock reads {now}, before {CLOCK_FLOOR}; set the clock before the box issues certificates")]
    ClockNotSet { now: OffsetDateTime },
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot list network interfaces: {0}")]
    Interfaces(#[source] std::io::Error),
    #[error("a freshly issued certificate fails verification (bug): {0}")]
    SelfCheck(String),
}

/// What the current leaf certificate is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeafInfo {
    /// Lower-case hex, no sign padding.
    pub serial_hex: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    pub dns: Vec<String>,
    pub ips: Vec<IpAddr>,
}

/// `names.json`: what the current intermediate covers, for people and other tools. The
/// certificate itself stays the authority; this file is rewritten whenever it disagrees.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct NamesRecord {
    intermediate_serial: String,
    dns: Vec<String>,
    subnets: Vec<Subnet>,
    #[serde(with = "time::serde::rfc3339")]
    written_at: OffsetDateTime,
}

struct Root {
    der: CertificateDer<'static>,
    facts: CertFacts,
    issuer: Issuer<'static, KeyPair>,
}

/// Province mode: the province root (no key), the hub's issuing CA and the box CA's copy
/// cross-signed by the box's own root. See [`province`].
struct Province {
    root_der: CertificateDer<'static>,
    root_facts: CertFacts,
    issuing_der: CertificateDer<'static>,
    issuing_facts: CertFacts,
    cross_der: CertificateDer<'static>,
    cross_facts: CertFacts,
    verifier: Arc<WebPkiServerVerifier>,
}

/// Which root tablets should trust, for the IT page and the doctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustInfo {
    /// `own` (a stand-alone box's root) or `province` (the province root, after enrolment).
    pub mode: &'static str,
    pub root_subject: String,
    pub root_sha256: String,
    /// The box's own root, still trusted for it through the cross-signed box CA.
    pub own_root_sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    pub intermediate_not_after: OffsetDateTime,
    /// The box's names and addresses its CA does not cover (province mode only: the leaf
    /// leaves them out until the box enrols again).
    pub uncovered: Vec<String>,
}

struct Intermediate {
    der: CertificateDer<'static>,
    facts: CertFacts,
    issuer: Issuer<'static, KeyPair>,
    coverage: Coverage,
}

struct Leaf {
    facts: CertFacts,
    certified: Arc<CertifiedKey>,
}

struct State {
    names: BoxNames,
    intermediate: Intermediate,
    leaf: Leaf,
    /// Province mode: names the box CA does not cover.
    uncovered: Vec<String>,
}

/// The outcome of looking at a stored intermediate or leaf.
enum Check<T> {
    Good(T),
    /// Usable, but should be replaced (names changed, near expiry).
    Stale(T, String),
    /// Missing or inconsistent; must be replaced.
    Broken(String),
}

/// The box's CA and its current server certificate. Share it as `Arc<CertAuthority>`.
pub struct CertAuthority {
    dir: PathBuf,
    /// The box's own root (with its key): signs the record-signing certificate, the hub's
    /// client certificates, and in province mode the cross-signed box CA.
    root: Root,
    province: Option<Province>,
    provider: Arc<CryptoProvider>,
    verifier: Arc<WebPkiServerVerifier>,
    resolver: Arc<LeafResolver>,
    config: Arc<ServerConfig>,
    state: Mutex<State>,
}

impl std::fmt::Debug for CertAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertAuthority")
            .field("dir", &self.dir)
            .field("root_serial", &self.root.facts.serial_hex)
            .finish_non_exhaustive()
    }
}

impl CertAuthority {
    /// Loads the CA from `dir`, creating what is missing, and reissues the intermediate and/or
    /// leaf if `names` are no longer covered or the leaf is due. See the module docs for what
    /// counts as an error.
    pub fn load_or_create(dir: &Path, room_name: &str, names: &BoxNames) -> Result<Self, TlsError> {
        Self::load_or_create_at(dir, room_name, names, OffsetDateTime::now_utc())
    }

    fn load_or_create_at(
        dir: &Path,
        room_name: &str,
        names: &BoxNames,
        now: OffsetDateTime,
    ) -> Result<Self, TlsError> {
        let names = names.normalized()?;
        let clock_ok = now >= CLOCK_FLOOR;
        if !clock_ok {
            tracing::error!(%now, "system clock is not set; no certificate will be issued");
        }
        store::ensure_dir(dir)?;
        store::remove_stale_temps(dir)?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (root, province) = load_or_create_root(dir, room_name, now, &provider)?;
        let verifier = build_verifier(&root.der, &provider)?;
        let ctx = Ctx {
            dir,
            root: &root,
            province: province.as_ref(),
            provider: &provider,
            verifier: &verifier,
        };

        let (intermediate, fresh) = match load_intermediate(&ctx, &names, now, clock_ok)? {
            Check::Good(i) => (i, false),
            Check::Stale(i, reason) if province.is_some() => {
                tracing::warn!(%reason, "keeping the box CA from the hub: only the hub can reissue it (enrol again)");
                (i, false)
            }
            Check::Broken(reason) if province.is_some() => {
                return Err(TlsError::Incomplete {
                    dir: dir.to_path_buf(),
                    reason: format!(
                        "province mode, but the box CA cannot be used ({reason}); enrol again \
                         (phonghop enroll --replace), or restore tls/ from a backup"
                    ),
                });
            }
            Check::Stale(i, reason) if !clock_ok => {
                tracing::error!(%reason, "keeping the intermediate CA because the clock is not set");
                (i, false)
            }
            Check::Stale(_, reason) | Check::Broken(reason) => {
                tracing::warn!(%reason, "issuing a new intermediate CA");
                (ctx.issue_intermediate(&names, now)?, true)
            }
        };
        if !fresh {
            sync_names_record(dir, &intermediate, now)?;
        }

        let leaf = match fresh {
            true => ctx.issue_leaf(&intermediate, &names, now)?,
            false => match ctx.load_leaf(&intermediate, &names, now, clock_ok)? {
                Check::Good(l) => l,
                Check::Stale(l, reason) if !clock_ok => {
                    tracing::error!(%reason, "keeping the leaf certificate because the clock is not set");
                    l
                }
                Check::Stale(_, reason) | Check::Broken(reason) => {
                    tracing::info!(%reason, "issuing a new leaf certificate");
                    ctx.issue_leaf(&intermediate, &names, now)?
                }
            },
        };

        let uncovered = ctx.uncovered(&intermediate, &names);
        if !uncovered.is_empty() {
            tracing::warn!(uncovered = ?uncovered, "the box CA from the hub does not cover these names; the leaf leaves them out (enrol again to add them)");
        }
        let resolver = Arc::new(LeafResolver::new(Arc::clone(&leaf.certified)));
        let mut config = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

        tracing::info!(
            dir = %dir.display(),
            root_serial = %root.facts.serial_hex,
            intermediate_serial = %intermediate.facts.serial_hex,
            leaf_serial = %leaf.facts.serial_hex,
            leaf_not_after = %leaf.facts.not_after,
            "certificate authority ready"
        );
        Ok(Self {
            dir: dir.to_path_buf(),
            root,
            province,
            provider,
            verifier,
            resolver,
            config: Arc::new(config),
            state: Mutex::new(State {
                names,
                intermediate,
                leaf,
                uncovered,
            }),
        })
    }

    /// The node's record-signing key (`signing.key`, `signing.pem`), made on first use: an
    /// end entity under the root, for signing vote results and never anything else. A key that
    /// does not match its certificate, or a certificate not issued by this root, is replaced
    /// (records signed before carry their own certificate, so they still verify).
    pub fn record_signer(&self, room_name: &str) -> Result<crate::signing::RecordSigner, TlsError> {
        let cert_path = store::path(&self.dir, SIGNING_CERT);
        let key_path = store::path(&self.dir, SIGNING_KEY);
        let existing = match (
            store::read_optional(&cert_path)?,
            store::read_optional(&key_path)?,
        ) {
            (Some(cert), Some(key)) => {
                let der = parse::cert_from_pem(&cert, &cert_path)?;
                let key = parse::key_from_pem(&key, &key_path)?;
                let facts = CertFacts::parse(&der, &cert_path)?;
                if facts.matches_key(&key) && facts.issued_by(&self.root.facts) {
                    Some((der, key))
                } else {
                    tracing::warn!(
                        "the record-signing certificate does not fit; issuing a new one"
                    );
                    None
                }
            }
            _ => None,
        };
        let (der, key) = match existing {
            Some(pair) => pair,
            None => {
                let now = OffsetDateTime::now_utc();
                if now < CLOCK_FLOOR {
                    return Err(TlsError::ClockNotSet { now });
                }
                let issued = issue::record_signing(
                    room_name,
                    &self.root.issuer,
                    self.root.facts.not_after,
                    now,
                )?;
                store::write_atomic(
                    &self.dir,
                    SIGNING_KEY,
                    issued.key.serialize_pem().as_bytes(),
                    KEY_MODE,
                )?;
                store::write_atomic(
                    &self.dir,
                    SIGNING_CERT,
                    pem_cert(&issued.der).as_bytes(),
                    PUBLIC_MODE,
                )?;
                tracing::info!("record-signing certificate issued");
                (issued.der, issued.key)
            }
        };
        crate::signing::RecordSigner::new(&key.serialize_der(), pem_cert(&der), self.own_root_pem())
            .map_err(|e| parse::corrupt(&key_path, e.to_string()))
    }

    /// The HTTPS server configuration (ALPN h2 and http/1.1). Built once; renewals reach it
    /// through its certificate resolver.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.config)
    }

    /// The root tablets should trust: the province root in province mode, else the box's own.
    pub fn root_pem(&self) -> String {
        pem_cert(self.trust_der())
    }

    pub fn root_der(&self) -> Vec<u8> {
        self.trust_der().to_vec()
    }

    fn trust_der(&self) -> &CertificateDer<'static> {
        match &self.province {
            Some(p) => &p.root_der,
            None => &self.root.der,
        }
    }

    /// The box's own root: the record-signing certificate's and (on a hub) the sync client
    /// certificates' issuer. The same as [`Self::root_pem`] on a stand-alone box.
    pub fn own_root_pem(&self) -> String {
        pem_cert(&self.root.der)
    }

    pub fn own_root_der(&self) -> Vec<u8> {
        self.root.der.to_vec()
    }

    /// True once the box serves under the province root.
    pub fn is_province(&self) -> bool {
        self.province.is_some()
    }

    /// SHA-256 of the root tablets should trust, upper-case hex pairs joined by ':', for
    /// people to compare on the onboarding page.
    pub fn root_sha256_fingerprint(&self) -> String {
        province::fingerprint(self.trust_der())
    }

    /// Which root is in use, and what the box CA leaves out.
    pub fn trust_info(&self) -> TrustInfo {
        let state = self.lock();
        let (mode, facts) = match &self.province {
            Some(p) => ("province", &p.root_facts),
            None => ("own", &self.root.facts),
        };
        TrustInfo {
            mode,
            root_subject: facts.cn.clone().unwrap_or_default(),
            root_sha256: province::fingerprint(self.trust_der()),
            own_root_sha256: province::fingerprint(&self.root.der),
            intermediate_not_after: state.intermediate.facts.not_after,
            uncovered: state.uncovered.clone(),
        }
    }

    pub fn intermediate_pem(&self) -> String {
        pem_cert(&self.lock().intermediate.der)
    }

    pub fn leaf_info(&self) -> LeafInfo {
        leaf_info(&self.lock().leaf.facts)
    }

    pub fn leaf_not_after(&self) -> OffsetDateTime {
        self.lock().leaf.facts.not_after
    }

    pub fn leaf_serial_hex(&self) -> String {
        self.lock().leaf.facts.serial_hex.clone()
    }

    /// The names currently certified (normalized).
    pub fn names(&self) -> BoxNames {
        self.lock().names.clone()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reissues the leaf if less than [`LEAF_RENEW_BEFORE`] remains or it is not yet valid
    /// (the clock jumped back), and the intermediate too if it is near its end. Returns whether
    /// a new leaf is now served. Does nothing while the clock is before [`CLOCK_FLOOR`].
    pub fn renew_if_due(&self, now: OffsetDateTime) -> Result<bool, TlsError> {
        if now < CLOCK_FLOOR {
            tracing::warn!(%now, "clock not set; certificate renewal skipped");
            return Ok(false);
        }
        let mut state = self.lock();
        let inter_due = self.province.is_none()
            && due(&state.intermediate.facts, now, INTERMEDIATE_RENEW_BEFORE);
        let leaf_due = due(&state.leaf.facts, now, LEAF_RENEW_BEFORE);
        if !inter_due && !leaf_due {
            return Ok(false);
        }
        let names = state.names.clone();
        self.reissue(&mut state, names, inter_due, now)?;
        Ok(true)
    }

    /// Issues a new leaf now, whatever its age (and a new intermediate if it is near its end).
    pub fn force_renew(&self) -> Result<LeafInfo, TlsError> {
        let now = OffsetDateTime::now_utc();
        check_clock(now)?;
        let mut state = self.lock();
        let inter_due = self.province.is_none()
            && due(&state.intermediate.facts, now, INTERMEDIATE_RENEW_BEFORE);
        let names = state.names.clone();
        self.reissue(&mut state, names, inter_due, now)?;
        Ok(leaf_info(&state.leaf.facts))
    }

    /// Adopts new names (e.g. after the box joined another network): a new intermediate if
    /// they are not all covered, a new leaf if its names differ. Returns whether anything was
    /// reissued. In province mode only the hub can widen the box CA: the leaf then covers what
    /// the box CA allows, the rest is reported by [`Self::trust_info`], and serving goes on.
    pub fn update_names(&self, names: &BoxNames) -> Result<bool, TlsError> {
        let names = names.normalized()?;
        let mut state = self.lock();
        let mut uncovered = state.intermediate.coverage.uncovered(&names);
        if self.province.is_some() {
            uncovered = reportable(uncovered);
            if !uncovered.is_empty() && uncovered != state.uncovered {
                tracing::warn!(uncovered = ?uncovered, "the box CA from the hub does not cover these names; enrol again to add them");
            }
            state.uncovered = uncovered;
            uncovered = Vec::new();
        }
        let leaf_names = self.ctx().leaf_names(&state.intermediate, &names)?;
        let leaf_stale = leaf_names_problem(&state.leaf.facts, &leaf_names).is_some();
        if uncovered.is_empty() && !leaf_stale {
            state.names = names;
            return Ok(false);
        }
        let now = OffsetDateTime::now_utc();
        check_clock(now)?;
        if !uncovered.is_empty() {
            tracing::info!(uncovered = ?uncovered, "names changed beyond the intermediate CA; reissuing it");
        }
        self.reissue(&mut state, names, !uncovered.is_empty(), now)?;
        Ok(true)
    }

    /// Issues (and persists) a new leaf, and first a new intermediate if asked; the in-memory
    /// state and the served certificate change only once everything is on disk.
    fn reissue(
        &self,
        state: &mut State,
        names: BoxNames,
        new_intermediate: bool,
        now: OffsetDateTime,
    ) -> Result<(), TlsError> {
        let ctx = self.ctx();
        if new_intermediate && self.province.is_none() {
            let inter = ctx.issue_intermediate(&names, now)?;
            let leaf = ctx.issue_leaf(&inter, &names, now)?;
            state.intermediate = inter;
            self.install(state, leaf);
        } else {
            let leaf = ctx.issue_leaf(&state.intermediate, &names, now)?;
            self.install(state, leaf);
        }
        state.names = names;
        Ok(())
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            dir: &self.dir,
            root: &self.root,
            province: self.province.as_ref(),
            provider: &self.provider,
            verifier: &self.verifier,
        }
    }

    fn install(&self, state: &mut State, leaf: Leaf) {
        self.resolver.replace(Arc::clone(&leaf.certified));
        tracing::info!(
            serial = %leaf.facts.serial_hex,
            not_after = %leaf.facts.not_after,
            "now serving a new leaf certificate"
        );
        state.leaf = leaf;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Writers replace whole fields after all fallible work, so a poisoned state is whole.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Checks renewal every `every` (at least one second) until `shutdown` completes. The first
/// check runs at once. Failures are logged and retried at the next tick; the current leaf keeps
/// being served meanwhile.
pub async fn renewal_loop(
    ca: Arc<CertAuthority>,
    every: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    let every = every.max(std::time::Duration::from_secs(1));
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => {
                tracing::debug!("certificate renewal loop stopped");
                return;
            }
            _ = ticker.tick() => {
                let ca = Arc::clone(&ca);
                // Key generation and fsync are blocking work.
                let outcome = tokio::task::spawn_blocking(move || {
                    let renewed = ca.renew_if_due(OffsetDateTime::now_utc());
                    (renewed, ca.leaf_info())
                })
                .await;
                match outcome {
                    Ok((Ok(true), info)) => tracing::info!(
                        serial = %info.serial_hex,
                        not_after = %info.not_after,
                        "leaf certificate renewed"
                    ),
                    Ok((Ok(false), info)) => tracing::debug!(
                        not_after = %info.not_after,
                        "leaf certificate not due for renewal"
                    ),
                    Ok((Err(e), _)) => tracing::warn!(error = %e, "certificate renewal failed; will retry"),
                    Err(e) => tracing::error!(error = %e, "certificate renewal task failed"),
                }
            }
        }
    }
}

/// What issuing needs, shared by the loader and the renewal path.
struct Ctx<'a> {
    dir: &'a Path,
    root: &'a Root,
    province: Option<&'a Province>,
    provider: &'a Arc<CryptoProvider>,
    verifier: &'a WebPkiServerVerifier,
}

impl Ctx<'_> {
    /// The names the leaf carries: all of them, or in province mode what the box CA covers.
    fn leaf_names(&self, inter: &Intermediate, names: &BoxNames) -> Result<BoxNames, TlsError> {
        match self.province {
            Some(_) => province::restrict(names, &inter.coverage),
            None => Ok(names.clone()),
        }
    }

    fn uncovered(&self, inter: &Intermediate, names: &BoxNames) -> Vec<String> {
        match self.province {
            Some(_) => reportable(inter.coverage.uncovered(names)),
            None => Vec::new(),
        }
    }

    /// Writes intermediate.key, intermediate.pem, then names.json.
    fn issue_intermediate(
        &self,
        names: &BoxNames,
        now: OffsetDateTime,
    ) -> Result<Intermediate, TlsError> {
        check_clock(now)?;
        let issued = issue::intermediate(names, &self.root.issuer, self.root.facts.not_after, now)?;
        let path = store::path(self.dir, INTERMEDIATE_CERT);
        let facts = CertFacts::parse(&issued.der, &path)?;
        let key_pem = issued.key.serialize_pem();
        let issuer = Issuer::from_ca_cert_der(&issued.der, issued.key)?;
        store::write_atomic(self.dir, INTERMEDIATE_KEY, key_pem.as_bytes(), KEY_MODE)?;
        store::write_atomic(
            self.dir,
            INTERMEDIATE_CERT,
            pem_cert(&issued.der).as_bytes(),
            PUBLIC_MODE,
        )?;
        let inter = Intermediate {
            der: issued.der,
            facts,
            issuer,
            coverage: Coverage::of(names),
        };
        write_names_record(self.dir, &inter, now)?;
        tracing::info!(
            serial = %inter.facts.serial_hex,
            dns = ?names.dns,
            subnets = %names.subnets.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            "issued a new intermediate CA"
        );
        Ok(inter)
    }

    /// Verifies the new leaf against the root before writing leaf.key then leaf.pem.
    fn issue_leaf(
        &self,
        inter: &Intermediate,
        names: &BoxNames,
        now: OffsetDateTime,
    ) -> Result<Leaf, TlsError> {
        check_clock(now)?;
        let names = &self.leaf_names(inter, names)?;
        let issued = issue::leaf(names, &inter.issuer, inter.facts.not_after, now)?;
        let path = store::path(self.dir, LEAF_CERT);
        let facts = CertFacts::parse(&issued.der, &path)?;
        self.verify(inter, &issued.der, names, now)
            .map_err(TlsError::SelfCheck)?;
        let certified = self.certified_key(inter, issued.der.clone(), &issued.key)?;
        store::write_atomic(
            self.dir,
            LEAF_KEY,
            issued.key.serialize_pem().as_bytes(),
            KEY_MODE,
        )?;
        store::write_atomic(
            self.dir,
            LEAF_CERT,
            pem_cert(&issued.der).as_bytes(),
            PUBLIC_MODE,
        )?;
        Ok(Leaf { facts, certified })
    }

    fn load_leaf(
        &self,
        inter: &Intermediate,
        names: &BoxNames,
        now: OffsetDateTime,
        clock_ok: bool,
    ) -> Result<Check<Leaf>, TlsError> {
        let Some((der, key)) = read_pair(self.dir, LEAF_CERT, LEAF_KEY)? else {
            return Ok(Check::Broken("leaf.pem or leaf.key is missing".into()));
        };
        let facts = CertFacts::parse(&der, &store::path(self.dir, LEAF_CERT))?;
        if !facts.matches_key(&key) {
            return Ok(Check::Broken(
                "leaf.key does not match leaf.pem (interrupted write?)".into(),
            ));
        }
        if !facts.issued_by(&inter.facts) {
            return Ok(Check::Broken(
                "leaf.pem was not issued by intermediate.pem".into(),
            ));
        }
        let certified = self.certified_key(inter, der.clone(), &key)?;
        let names = &self.leaf_names(inter, names)?;
        let stale = leaf_names_problem(&facts, names).or_else(|| {
            if !clock_ok {
                None
            } else if due(&facts, now, LEAF_RENEW_BEFORE) {
                Some(format!(
                    "leaf is valid from {} to {}; renewal is due",
                    facts.not_before, facts.not_after
                ))
            } else {
                self.verify(inter, &der, names, now).err()
            }
        });
        let leaf = Leaf { facts, certified };
        Ok(match stale {
            Some(reason) => Check::Stale(leaf, reason),
            None => Check::Good(leaf),
        })
    }

    fn certified_key(
        &self,
        inter: &Intermediate,
        leaf: CertificateDer<'static>,
        key: &KeyPair,
    ) -> Result<Arc<CertifiedKey>, TlsError> {
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut chain = vec![leaf, inter.der.clone()];
        if let Some(p) = self.province {
            chain.push(p.issuing_der.clone());
            chain.push(p.cross_der.clone());
        }
        let ck = CertifiedKey::from_der(chain, key_der, self.provider)?;
        Ok(Arc::new(ck))
    }

    /// Full webpki path validation (signatures, validity, name constraints) of the chain for
    /// every name and address, as a client trusting only the root would do it; in province
    /// mode, once trusting only the province root and once trusting only the box's own root.
    fn verify(
        &self,
        inter: &Intermediate,
        leaf: &CertificateDer<'_>,
        names: &BoxNames,
        now: OffsetDateTime,
    ) -> Result<(), String> {
        let Some(p) = self.province else {
            return verify_every_name(
                self.verifier,
                std::slice::from_ref(&inter.der),
                leaf,
                names,
                now,
            );
        };
        let chain = [
            inter.der.clone(),
            p.issuing_der.clone(),
            p.cross_der.clone(),
        ];
        verify_every_name(&p.verifier, &chain, leaf, names, now)
            .map_err(|e| format!("province root: {e}"))?;
        verify_every_name(self.verifier, &chain, leaf, names, now)
            .map_err(|e| format!("the box's own root: {e}"))
    }
}

/// The box's own root, and the province chain if the box enrolled under a province root.
///
/// Province mode is `root.pem` (the province root) without `root.key`, next to `own-root.pem`
/// and `own-root.key`. An enrolment cut before `root.pem` was replaced leaves `root.*` equal to
/// `own-root.*` (the copies are dropped); one cut after it leaves a `root.key` equal to
/// `own-root.key` (removed). Anything else is an error, never guessed at.
fn load_or_create_root(
    dir: &Path,
    room_name: &str,
    now: OffsetDateTime,
    provider: &Arc<CryptoProvider>,
) -> Result<(Root, Option<Province>), TlsError> {
    let own_cert_path = store::path(dir, OWN_ROOT_CERT);
    let own_key_path = store::path(dir, OWN_ROOT_KEY);
    let own_cert = store::read_optional(&own_cert_path)?;
    let own_key = store::read_optional(&own_key_path)?;
    if own_cert.is_none() && own_key.is_none() {
        return Ok((load_or_create_own_root(dir, room_name, now)?, None));
    }
    let incomplete = |reason: String| TlsError::Incomplete {
        dir: dir.to_path_buf(),
        reason,
    };
    let (Some(own_cert), Some(own_key)) = (own_cert, own_key) else {
        return Err(incomplete(format!(
            "only one of {OWN_ROOT_CERT} and {OWN_ROOT_KEY} exists; restore the other from a \
             backup (tablets trust this root)"
        )));
    };
    let cert_path = store::path(dir, ROOT_CERT);
    let key_path = store::path(dir, ROOT_KEY);
    let Some(cert) = store::read_optional(&cert_path)? else {
        return Err(incomplete(format!(
            "{OWN_ROOT_CERT} exists but {ROOT_CERT} (the province root) is missing; restore it \
             from a backup, or enrol again"
        )));
    };
    let own_der = parse::cert_from_pem(&own_cert, &own_cert_path)?;
    let cert_der = parse::cert_from_pem(&cert, &cert_path)?;
    if let Some(key) = store::read_optional(&key_path)? {
        if key != own_key {
            return Err(incomplete(format!(
                "{ROOT_KEY} differs from {OWN_ROOT_KEY}; move one of them away by hand"
            )));
        }
        if cert_der == own_der {
            tracing::warn!("an enrolment was cut before the province root was written; keeping the box's own root");
            for p in [&own_cert_path, &own_key_path] {
                std::fs::remove_file(p).map_err(|e| store::io_err("remove", p, e))?;
            }
            return Ok((load_or_create_own_root(dir, room_name, now)?, None));
        }
        tracing::warn!(
            "an enrolment was cut after the province root was written; removing {ROOT_KEY}"
        );
        std::fs::remove_file(&key_path).map_err(|e| store::io_err("remove", &key_path, e))?;
    }
    store::tighten_key_mode(&own_key_path)?;
    let key = parse::key_from_pem(&own_key, &own_key_path)?;
    let root = root_from_parts(own_der, key, &own_cert_path, &own_key_path, now)?;
    let province = load_province(dir, cert_der, &root, provider)?;
    Ok((root, Some(province)))
}

fn load_province(
    dir: &Path,
    root_der: CertificateDer<'static>,
    own: &Root,
    provider: &Arc<CryptoProvider>,
) -> Result<Province, TlsError> {
    let root_path = store::path(dir, ROOT_CERT);
    let root_facts = CertFacts::parse(&root_der, &root_path)?;
    if !root_facts.is_ca || root_facts.subject_raw != root_facts.issuer_raw {
        return Err(parse::corrupt(
            &root_path,
            "not a self-signed CA certificate (the province root)",
        ));
    }
    let read_cert = |name: &str| -> Result<(CertificateDer<'static>, CertFacts), TlsError> {
        let path = store::path(dir, name);
        let bytes = store::read_optional(&path)?.ok_or_else(|| TlsError::Incomplete {
            dir: dir.to_path_buf(),
            reason: format!(
                "province mode, but {name} is missing; enrol again (phonghop enroll --replace)"
            ),
        })?;
        let der = parse::cert_from_pem(&bytes, &path)?;
        let facts = CertFacts::parse(&der, &path)?;
        Ok((der, facts))
    };
    let (issuing_der, issuing_facts) = read_cert(ISSUING_CERT)?;
    let (cross_der, cross_facts) = read_cert(CROSS_CERT)?;
    if !issuing_facts.issued_by(&root_facts) || !province::signed_by(&issuing_der, &root_der) {
        return Err(parse::corrupt(
            &store::path(dir, ISSUING_CERT),
            "not issued by the province root in root.pem",
        ));
    }
    if !cross_facts.issued_by(&own.facts) {
        return Err(parse::corrupt(
            &store::path(dir, CROSS_CERT),
            "not issued by own-root.pem",
        ));
    }
    let verifier = build_verifier(&root_der, provider)?;
    Ok(Province {
        root_der,
        root_facts,
        issuing_der,
        issuing_facts,
        cross_der,
        cross_facts,
        verifier,
    })
}

fn load_or_create_own_root(
    dir: &Path,
    room_name: &str,
    now: OffsetDateTime,
) -> Result<Root, TlsError> {
    let cert_path = store::path(dir, ROOT_CERT);
    let key_path = store::path(dir, ROOT_KEY);
    let cert = store::read_optional(&cert_path)?;
    let key = store::read_optional(&key_path)?;
    let issued_below: Vec<&str> = [INTERMEDIATE_CERT, INTERMEDIATE_KEY, LEAF_CERT, LEAF_KEY]
        .into_iter()
        .filter(|n| store::exists(dir, n))
        .collect();
    let incomplete = |reason: String| TlsError::Incomplete {
        dir: dir.to_path_buf(),
        reason,
    };

    match (cert, key) {
        (Some(cert), Some(key)) => {
            store::tighten_key_mode(&key_path)?;
            let der = parse::cert_from_pem(&cert, &cert_path)?;
            let key = parse::key_from_pem(&key, &key_path)?;
            root_from_parts(der, key, &cert_path, &key_path, now)
        }
        (Some(_), None) => Err(incomplete(format!(
            "{ROOT_CERT} exists but {ROOT_KEY} is missing, so nothing can be signed; restore \
             {ROOT_KEY} from a backup (tablets trust this root, so it is not replaced)"
        ))),
        (None, Some(_)) if !issued_below.is_empty() => Err(incomplete(format!(
            "{ROOT_KEY} exists but {ROOT_CERT} is missing while {} exist; restore {ROOT_CERT}",
            issued_below.join(", ")
        ))),
        (None, Some(key)) => {
            // The first start was cut between writing the key and the certificate: nobody can
            // trust this root yet, so finishing it is safe.
            tracing::warn!("{ROOT_KEY} without {ROOT_CERT}: finishing an interrupted first start");
            check_clock(now)?;
            store::tighten_key_mode(&key_path)?;
            let key = parse::key_from_pem(&key, &key_path)?;
            let der = issue::root_with_key(room_name, now, &key)?;
            store::write_atomic(dir, ROOT_CERT, pem_cert(&der).as_bytes(), PUBLIC_MODE)?;
            root_from_parts(der, key, &cert_path, &key_path, now)
        }
        (None, None) if !issued_below.is_empty() => Err(incomplete(format!(
            "{ROOT_CERT} and {ROOT_KEY} are missing but {} exist; a new root would not be \
             trusted by the tablets. Restore the root files, or move the directory away to \
             start over",
            issued_below.join(", ")
        ))),
        (None, None) => {
            check_clock(now)?;
            tracing::info!(dir = %dir.display(), "creating the box's root CA");
            let issued = issue::root(room_name, now)?;
            let key_pem = issued.key.serialize_pem();
            store::write_atomic(dir, ROOT_KEY, key_pem.as_bytes(), KEY_MODE)?;
            store::write_atomic(
                dir,
                ROOT_CERT,
                pem_cert(&issued.der).as_bytes(),
                PUBLIC_MODE,
            )?;
            root_from_parts(issued.der, issued.key, &cert_path, &key_path, now)
        }
    }
}

fn root_from_parts(
    der: CertificateDer<'static>,
    key: KeyPair,
    cert_path: &Path,
    key_path: &Path,
    now: OffsetDateTime,
) -> Result<Root, TlsError> {
    let facts = CertFacts::parse(&der, cert_path)?;
    if !facts.matches_key(&key) {
        return Err(parse::corrupt(
            key_path,
            format!("does not match {ROOT_CERT}"),
        ));
    }
    if !facts.is_ca || facts.subject_raw != facts.issuer_raw {
        return Err(parse::corrupt(
            cert_path,
            "not a self-signed CA certificate",
        ));
    }
    if now >= CLOCK_FLOOR {
        if now > facts.not_after {
            tracing::error!(not_after = %facts.not_after, "the root CA has expired; clients will reject the box");
        } else if facts.not_after - now < Duration::days(365) {
            tracing::warn!(not_after = %facts.not_after, "the root CA expires within a year");
        }
    }
    let issuer = Issuer::from_ca_cert_der(&der, key)
        .map_err(|e| parse::corrupt(cert_path, format!("cannot use as issuer: {e}")))?;
    Ok(Root { der, facts, issuer })
}

fn load_intermediate(
    ctx: &Ctx<'_>,
    names: &BoxNames,
    now: OffsetDateTime,
    clock_ok: bool,
) -> Result<Check<Intermediate>, TlsError> {
    let Some((der, key)) = read_pair(ctx.dir, INTERMEDIATE_CERT, INTERMEDIATE_KEY)? else {
        return Ok(Check::Broken(
            "intermediate.pem or intermediate.key is missing".into(),
        ));
    };
    let cert_path = store::path(ctx.dir, INTERMEDIATE_CERT);
    let facts = CertFacts::parse(&der, &cert_path)?;
    if !facts.matches_key(&key) {
        return Ok(Check::Broken(
            "intermediate.key does not match intermediate.pem (interrupted write?)".into(),
        ));
    }
    match ctx.province {
        None if !facts.issued_by(&ctx.root.facts) => {
            return Ok(Check::Broken(
                "intermediate.pem was not issued by root.pem".into(),
            ));
        }
        Some(p) if !facts.issued_by(&p.issuing_facts) => {
            return Ok(Check::Broken(
                "intermediate.pem was not issued by issuing.pem".into(),
            ));
        }
        Some(p)
            if p.cross_facts.subject_raw != facts.subject_raw
                || p.cross_facts.public_key != facts.public_key =>
        {
            return Ok(Check::Broken(
                "intermediate-cross.pem is not a copy of intermediate.pem".into(),
            ));
        }
        _ => {}
    }
    let Some(coverage) = facts.permitted.clone().filter(|_| facts.is_ca) else {
        return Ok(Check::Broken(
            "intermediate.pem is not a name-constrained CA".into(),
        ));
    };
    let issuer = Issuer::from_ca_cert_der(&der, key)
        .map_err(|e| parse::corrupt(&cert_path, format!("cannot use as issuer: {e}")))?;
    let uncovered = coverage.uncovered(names);
    let inter = Intermediate {
        der,
        facts,
        issuer,
        coverage,
    };
    if !uncovered.is_empty() {
        let reason = format!("it does not cover {}", uncovered.join(", "));
        return Ok(Check::Stale(inter, reason));
    }
    if clock_ok && due(&inter.facts, now, INTERMEDIATE_RENEW_BEFORE) {
        let reason = format!(
            "it is valid from {} to {}",
            inter.facts.not_before, inter.facts.not_after
        );
        return Ok(Check::Stale(inter, reason));
    }
    Ok(Check::Good(inter))
}

/// Both files of a certificate and its key, or `None` if either is missing. Unparsable content
/// is an error.
fn read_pair(
    dir: &Path,
    cert_name: &str,
    key_name: &str,
) -> Result<Option<(CertificateDer<'static>, KeyPair)>, TlsError> {
    let cert_path = store::path(dir, cert_name);
    let key_path = store::path(dir, key_name);
    let (Some(cert), Some(key)) = (
        store::read_optional(&cert_path)?,
        store::read_optional(&key_path)?,
    ) else {
        return Ok(None);
    };
    store::tighten_key_mode(&key_path)?;
    let der = parse::cert_from_pem(&cert, &cert_path)?;
    let key = parse::key_from_pem(&key, &key_path)?;
    Ok(Some((der, key)))
}

/// Keeps names.json in step with the intermediate. Unparsable JSON is an error like any other
/// corrupt file; a missing or outdated one (cut write) is rewritten.
fn sync_names_record(
    dir: &Path,
    inter: &Intermediate,
    now: OffsetDateTime,
) -> Result<(), TlsError> {
    let path = store::path(dir, NAMES);
    match store::read_optional(&path)? {
        Some(bytes) => {
            let record: NamesRecord = serde_json::from_slice(&bytes)
                .map_err(|e| parse::corrupt(&path, format!("bad JSON: {e}")))?;
            if record.intermediate_serial == inter.facts.serial_hex
                && record.dns == inter.coverage.dns
                && record.subnets == inter.coverage.subnets
            {
                return Ok(());
            }
            tracing::warn!("names.json does not describe intermediate.pem; rewriting it");
        }
        None => tracing::warn!("names.json is missing; rewriting it"),
    }
    write_names_record(dir, inter, now)
}

fn write_names_record(
    dir: &Path,
    inter: &Intermediate,
    now: OffsetDateTime,
) -> Result<(), TlsError> {
    let record = NamesRecord {
        intermediate_serial: inter.facts.serial_hex.clone(),
        dns: inter.coverage.dns.clone(),
        subnets: inter.coverage.subnets.clone(),
        written_at: now,
    };
    let mut json = serde_json::to_vec_pretty(&record).map_err(|e| TlsError::Io {
        action: "serialise",
        path: store::path(dir, NAMES),
        source: e.into(),
    })?;
    json.push(b'\n');
    store::write_atomic(dir, NAMES, &json, PUBLIC_MODE)
}

fn build_verifier(
    root: &CertificateDer<'static>,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.add(root.clone())?;
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
        .build()
        .map_err(|e| TlsError::SelfCheck(format!("cannot build a verifier for the root: {e}")))
}

/// What of an uncovered list is worth telling people in province mode: the hub never grants
/// a bare host name such as `phonghop` (it could be a top-level domain), and tablets do not
/// use one (they use the `.local` name or an address), so those are left out.
fn reportable(uncovered: Vec<String>) -> Vec<String> {
    uncovered
        .into_iter()
        .filter(|n| n.contains('.') || n.contains(':') || n.parse::<IpAddr>().is_ok())
        .collect()
}

/// Due for replacement: not yet valid, or less than `margin` left.
fn due(facts: &CertFacts, now: OffsetDateTime, margin: Duration) -> bool {
    now < facts.not_before || facts.not_after - now < margin
}

/// Why a leaf's names differ from `names`, if they do.
fn leaf_names_problem(facts: &CertFacts, names: &BoxNames) -> Option<String> {
    let mut have_dns = facts.dns.clone();
    let mut want_dns = names.dns.clone();
    have_dns.sort();
    want_dns.sort();
    let mut have_ips = facts.ips.clone();
    let mut want_ips = names.ips.clone();
    have_ips.sort();
    want_ips.sort();
    if have_dns != want_dns || have_ips != want_ips {
        return Some("the box's names or addresses changed".into());
    }
    if facts.cn.as_deref() != Some(names.primary()) {
        return Some("the primary name changed".into());
    }
    None
}

fn leaf_info(facts: &CertFacts) -> LeafInfo {
    LeafInfo {
        serial_hex: facts.serial_hex.clone(),
        not_before: facts.not_before,
        not_after: facts.not_after,
        dns: facts.dns.clone(),
        ips: facts.ips.clone(),
    }
}

fn check_clock(now: OffsetDateTime) -> Result<(), TlsError> {
    if now < CLOCK_FLOOR {
        return Err(TlsError::ClockNotSet { now });
    }
    Ok(())
}

fn pem_cert(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Full webpki path validation of `leaf` for every DNS name and address in `names`.
fn verify_every_name(
    verifier: &WebPkiServerVerifier,
    intermediates: &[CertificateDer<'static>],
    leaf: &CertificateDer<'_>,
    names: &BoxNames,
    now: OffsetDateTime,
) -> Result<(), String> {
    let secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
    let mut targets: Vec<(String, ServerName<'static>)> = Vec::new();
    for d in &names.dns {
        let sn = ServerName::try_from(d.clone()).map_err(|e| format!("{d}: {e}"))?;
        targets.push((d.clone(), sn));
    }
    for ip in &names.ips {
        targets.push((ip.to_string(), ServerName::from(*ip)));
    }
    for (label, sn) in targets {
        verifier
            .verify_server_cert(leaf, intermediates, &sn, &[], at)
            .map_err(|e| format!("chain does not verify for {label}: {e}"))?;
    }
    Ok(())
}
