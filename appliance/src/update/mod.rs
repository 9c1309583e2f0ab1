//! Signed updates of the box software, installed without a visit and rolled back by the box
//! itself when the new release does not become healthy.
//!
//! - The office signs a release offline (`phonghop release sign`, minisign format, Ed25519);
//!   the trusted comment names the version and target: `phonghop 0.3.0 x86_64-linux`.
//! - The hub pins the release key; a box gets it at enrolment (`DATA/sync/hub.json`) and
//!   refuses every update without it.
//! - An offer (the hub's `update.offered`, or `phonghop update apply` from a USB stick) is
//!   verified, then STAGED: `DATA/updates/<version>/phonghop` (0755, fsync, rename) and
//!   `DATA/updates/state.json` (atomic) marking it as the trial. The box then restarts.
//! - At the next start, [`boot::select`] runs the trial once; the trial commits itself only
//!   after a real health check ([`boot::prove_and_commit`]). A trial that already had its
//!   attempt is rolled back: the packaged binary (never overwritten) or the previous good
//!   release runs again.
//!
//! The dispatcher of hub events (`service::downward`) calls [`blobs_needed`] and [`react`].

pub mod boot;
pub mod release;

use crate::domain::{Actor, EventBody, EventEnvelope, NodeId};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// `DATA/updates/`: staged releases and the state file.
pub const UPDATES_DIR: &str = "updates";
const STATE_FILE: &str = "state.json";
const BINARY: &str = "phonghop";

/// Set by the selector when it execs a staged release: the release's version. A process that
/// has it does not select again.
pub const ENV_RUN: &str = "PHONGHOP_UPDATE_RUN";
/// How long (seconds) a trial must keep its store and runtime answering before it commits
/// (default 60).
pub const ENV_SETTLE: &str = "PHONGHOP_UPDATE_SETTLE_SECS";
/// How long (seconds) a trial has to prove itself before it gives up (default 600).
pub const ENV_DEADLINE: &str = "PHONGHOP_UPDATE_DEADLINE_SECS";

/// The exit code of a box that stops to run a staged release: not 0 (systemd's
/// `Restart=on-failure` starts it again) and not in `RestartPreventExitStatus=`.
pub const EXIT_RESTART: u8 = 79;
/// The exit code of a trial that failed its health check or its deadline.
pub const EXIT_UNHEALTHY: u8 = 76;

/// The platform a release is built for, as the trusted comment names it, e.g. `x86_64-linux`.
pub fn target() -> String {
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}

/// The version of the packaged binary (this build).
pub fn packaged_version() -> semver::Version {
    semver::Version::parse(env!("CARGO_PKG_VERSION")).unwrap_or(semver::Version::new(0, 0, 0))
}

/// The release this process runs: the staged one the selector started, or this build.
pub fn running_version() -> String {
    std::env::var(ENV_RUN)
        .ok()
        .filter(|v| semver::Version::parse(v).is_ok())
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned())
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("hộp chưa có khóa phát hành (ghim khi đăng ký với trung tâm) / this box has no pinned release key (it is pinned at enrolment with a hub that has one): updates are refused")]
    NoPinnedKey,
    #[error("khóa phát hành không đọc được / the release key is not a minisign public key: {0}")]
    BadKey(String),
    #[error("chữ ký không đọc được / the signature file is not a minisign signature: {0}")]
    BadSignature(String),
    #[error("chữ ký không khớp / the signature does not verify with the pinned release key (another key, or the file was changed)")]
    Forged,
    #[error("chú thích tin cậy phải là \"phonghop VERSION TARGET\" / the trusted comment must read \"phonghop VERSION TARGET\", not {0:?}")]
    BadComment(String),
    #[error("bản {version} dành cho {target}, hộp này là {ours} / release {version} is for {target}, this box is {ours}")]
    WrongTarget {
        version: String,
        target: String,
        ours: String,
    },
    #[error("bản {offered} không mới hơn bản đang chạy {running} / release {offered} is not newer than the running {running} (a downgrade is refused unless it returns to the recorded previous release)")]
    Downgrade { offered: String, running: String },
    #[error("bản {0} đã thử và bị hoàn tác / release {0} was tried on this box and rolled back; sign a new version")]
    AlreadyFailed(String),
    #[error("lời mời cập nhật không khớp với tệp / the offer does not match the file: {0}")]
    Mismatch(String),
    #[error("không ghi được / cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} bị hỏng / is damaged: {reason}", path.display())]
    Damaged { path: PathBuf, reason: String },
    #[error(transparent)]
    Settings(#[from] crate::sync::SettingsError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl UpdateError {
    /// The CLI's exit code: bad input 64/65, a refused release 77, I/O 74.
    pub fn exit_code(&self) -> u8 {
        match self {
            UpdateError::BadKey(_) | UpdateError::BadSignature(_) | UpdateError::BadComment(_) => {
                65
            }
            UpdateError::NoPinnedKey
            | UpdateError::Forged
            | UpdateError::WrongTarget { .. }
            | UpdateError::Downgrade { .. }
            | UpdateError::AlreadyFailed(_)
            | UpdateError::Mismatch(_) => 77,
            UpdateError::Io { .. } => 74,
            UpdateError::Damaged { .. } | UpdateError::Settings(_) => 65,
            UpdateError::Store(e) => crate::server::store_exit_code(e),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> UpdateError + '_ {
    move |source| UpdateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A verified release: what its signature's trusted comment says, and the file's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub version: semver::Version,
    pub target: String,
    pub sha256: String,
    pub size: u64,
}

/// The base64 key line of a minisign public key, given as the `.pub` file or the line alone.
pub fn key_line(public_key: &str) -> Option<&str> {
    public_key
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
}

/// Parses a minisign public key (file text or the bare line).
pub fn parse_key(public_key: &str) -> Result<minisign_verify::PublicKey, UpdateError> {
    let line = key_line(public_key).ok_or_else(|| UpdateError::BadKey("empty".into()))?;
    minisign_verify::PublicKey::from_base64(line).map_err(|e| UpdateError::BadKey(e.to_string()))
}

/// The version and target named by a trusted comment `phonghop VERSION TARGET`.
pub fn parse_comment(comment: &str) -> Result<(semver::Version, String), UpdateError> {
    let bad = || UpdateError::BadComment(comment.to_owned());
    let mut words = comment.split_whitespace();
    let (Some("phonghop"), Some(version), Some(target), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(bad());
    };
    let version = semver::Version::parse(version).map_err(|_| bad())?;
    Ok((version, target.to_owned()))
}

/// Checks `signature` (minisign text) over `bytes` with `public_key`, and reads the release
/// it names. Nothing else is trusted: the version and target come from the signed comment.
pub fn verify(public_key: &str, bytes: &[u8], signature: &str) -> Result<Release, UpdateError> {
    let key = parse_key(public_key)?;
    let sig = minisign_verify::Signature::decode(signature)
        .map_err(|e| UpdateError::BadSignature(e.to_string()))?;
    key.verify(bytes, &sig, false)
        .map_err(|_| UpdateError::Forged)?;
    let (version, target) = parse_comment(sig.trusted_comment())?;
    Ok(Release {
        version,
        target,
        sha256: hex::encode(Sha256::digest(bytes)),
        size: bytes.len() as u64,
    })
}

/// `DATA/updates/state.json`: which staged release runs, which is on trial, which failed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct UpdateState {
    /// The committed release the box runs instead of the packaged binary (None: the package).
    #[serde(default)]
    pub current: Option<Installed>,
    /// The release that ran before `current` (None: the package), kept for a rollback.
    #[serde(default)]
    pub previous: Option<Installed>,
    /// A staged release not yet committed.
    #[serde(default)]
    pub trial: Option<Trial>,
    /// Releases that were tried here and rolled back (most recent last, a few kept).
    #[serde(default)]
    pub failed: Vec<Failed>,
    /// Outcomes not yet written to the box's log (written at the next start of the store).
    #[serde(default)]
    pub unrecorded: Vec<Outcome>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Installed {
    pub version: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Trial {
    pub version: String,
    pub sha256: String,
    /// Starts of the trial so far: the selector counts one (durably) before it execs it, so a
    /// trial that crashed or was killed by systemd's watchdog is never started twice.
    pub attempts: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Failed {
    pub version: String,
    pub sha256: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Installed {
        version: String,
        previous: String,
    },
    RolledBack {
        version: String,
        reason: String,
        running: String,
    },
}

const KEEP_FAILED: usize = 8;

pub fn updates_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(UPDATES_DIR)
}

/// Where a staged release's binary lives.
pub fn binary_path(data_dir: &Path, version: &str) -> PathBuf {
    updates_dir(data_dir).join(version).join(BINARY)
}

impl UpdateState {
    pub fn load(data_dir: &Path) -> Result<UpdateState, UpdateError> {
        let path = updates_dir(data_dir).join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| UpdateError::Damaged {
                path,
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(UpdateState::default()),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Writes the state atomically (temp file, fsync, rename, fsync of the directory).
    pub fn save(&self, data_dir: &Path) -> Result<(), UpdateError> {
        let dir = updates_dir(data_dir);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| UpdateError::Damaged {
            path: dir.join(STATE_FILE),
            reason: e.to_string(),
        })?;
        write_atomic(&dir, STATE_FILE, &bytes, 0o600)
    }

    /// The release the box runs when it starts: the committed one, else the package.
    pub fn installed_version(&self) -> String {
        self.current
            .as_ref()
            .map(|c| c.version.clone())
            .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned())
    }

    fn failed_before(&self, version: &str, sha256: &str) -> bool {
        self.failed
            .iter()
            .any(|f| f.version == version && f.sha256 == sha256)
    }

    /// Moves the trial to `failed` and notes the outcome for the log.
    pub fn roll_back(&mut self, reason: &str) -> Option<Failed> {
        let trial = self.trial.take()?;
        let failed = Failed {
            version: trial.version.clone(),
            sha256: trial.sha256,
            reason: reason.to_owned(),
        };
        self.failed.push(failed.clone());
        let excess = self.failed.len().saturating_sub(KEEP_FAILED);
        self.failed.drain(..excess);
        self.unrecorded.push(Outcome::RolledBack {
            version: trial.version,
            reason: reason.to_owned(),
            running: self.installed_version(),
        });
        Some(failed)
    }
}

fn write_atomic(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> Result<(), UpdateError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = dir.join(format!(".{name}.tmp"));
    let dest = dir.join(name);
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &dest)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(io(&dest))
}

/// Whether the box takes `release` given its state: the right target, not a release that
/// already failed here, and newer than what runs unless it returns to the recorded previous
/// release.
pub fn admissible(state: &UpdateState, release: &Release) -> Result<(), UpdateError> {
    let ours = target();
    let version = release.version.to_string();
    if release.target != ours {
        return Err(UpdateError::WrongTarget {
            version,
            target: release.target.clone(),
            ours,
        });
    }
    if state.failed_before(&version, &release.sha256) {
        return Err(UpdateError::AlreadyFailed(version));
    }
    let running = state.installed_version();
    let newer = semver::Version::parse(&running).map_or(true, |r| release.version > r);
    let back_to_previous = state
        .previous
        .as_ref()
        .is_some_and(|p| p.version == version && p.sha256 == release.sha256);
    if !newer && !back_to_previous {
        return Err(UpdateError::Downgrade {
            offered: version,
            running,
        });
    }
    Ok(())
}

/// What staging did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staged {
    /// Written and marked as the trial: restart to run it.
    New(Release),
    /// This very release was already staged (an offer handled twice).
    Already(Release),
}

/// Stages a verified release: the binary into `DATA/updates/<version>/phonghop` (0755, fsync,
/// rename), then the state file marks it as the trial. Nothing is written if a check fails.
pub fn stage(data_dir: &Path, release: &Release, bytes: &[u8]) -> Result<Staged, UpdateError> {
    let mut state = UpdateState::load(data_dir)?;
    let version = release.version.to_string();
    // Already staged (or on trial right now): never reset its count of attempts.
    if state
        .trial
        .as_ref()
        .is_some_and(|t| t.version == version && t.sha256 == release.sha256)
    {
        return Ok(Staged::Already(release.clone()));
    }
    admissible(&state, release)?;
    if hex::encode(Sha256::digest(bytes)) != release.sha256 {
        return Err(UpdateError::Mismatch(
            "the bytes changed after verification".into(),
        ));
    }
    let dir = updates_dir(data_dir).join(&version);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    write_atomic(&dir, BINARY, bytes, 0o755)?;
    state.trial = Some(Trial {
        version,
        sha256: release.sha256.clone(),
        attempts: 0,
    });
    state.save(data_dir)?;
    Ok(Staged::New(release.clone()))
}

/// The release key pinned at enrolment (`DATA/sync/hub.json`), if any. Only the settings
/// file is read: checking a release needs the key, not the sync credentials.
pub fn pinned_key(data_dir: &Path) -> Result<String, UpdateError> {
    let path = data_dir.join(crate::sync::SYNC_DIR).join("hub.json");
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(UpdateError::NoPinnedKey),
        Err(e) => return Err(io(&path)(e)),
    };
    let settings: crate::sync::HubSettings =
        serde_json::from_slice(&text).map_err(|e| UpdateError::Damaged {
            path,
            reason: e.to_string(),
        })?;
    settings
        .release_key
        .filter(|k| !k.trim().is_empty())
        .ok_or(UpdateError::NoPinnedKey)
}

/// `phonghop update apply`: verifies `bytes` with the pinned key and stages them.
pub fn apply(data_dir: &Path, bytes: &[u8], signature: &str) -> Result<Staged, UpdateError> {
    let key = pinned_key(data_dir)?;
    let release = verify(&key, bytes, signature)?;
    stage(data_dir, &release, bytes)
}

static RESTART: AtomicBool = AtomicBool::new(false);
static RESTART_NOTIFY: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Asks the running server to stop and exit with [`EXIT_RESTART`], so that systemd starts it
/// again and the selector runs the staged release.
pub fn request_restart() {
    RESTART.store(true, Ordering::SeqCst);
    RESTART_NOTIFY.notify_waiters();
    RESTART_NOTIFY.notify_one();
}

pub fn restart_requested() -> bool {
    RESTART.load(Ordering::SeqCst)
}

/// How long (seconds) a staged update waits for a meeting in session to end before the box
/// restarts anyway (default 6 hours: a meeting left open must not block updates forever).
pub const ENV_MAX_WAIT: &str = "PHONGHOP_UPDATE_MAX_WAIT_SECS";

/// Resolves once [`request_restart`] was called and no meeting is in session (or it waited
/// `PHONGHOP_UPDATE_MAX_WAIT_SECS`): tablets in a meeting are not cut off for an update.
pub async fn restart_wanted(store: Store) {
    loop {
        if restart_requested() {
            break;
        }
        RESTART_NOTIFY.notified().await;
    }
    let max_wait = std::time::Duration::from_secs(
        std::env::var(ENV_MAX_WAIT)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(6 * 3600),
    );
    no_meeting_in_session(store, MEETING_POLL, max_wait).await;
}

/// How often a staged update looks whether the meeting in session has ended.
const MEETING_POLL: std::time::Duration = std::time::Duration::from_secs(5);

/// Resolves when no meeting of the box is in session (running or in recess), looking every
/// `poll`, or after `max_wait` whatever the meetings do.
async fn no_meeting_in_session(
    store: Store,
    poll: std::time::Duration,
    max_wait: std::time::Duration,
) {
    let since = std::time::Instant::now();
    let mut said = false;
    loop {
        let s = store.clone();
        let busy =
            tokio::task::spawn_blocking(move || s.read(crate::store::records::meeting_in_session))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or(false);
        if !busy || since.elapsed() >= max_wait {
            return;
        }
        if !said {
            tracing::warn!("an update is staged; the box restarts when the meeting ends");
            said = true;
        }
        tokio::time::sleep(poll).await;
    }
}

/// An offer from the hub, if `event` is one meant for `me`.
fn offer_for<'a>(me: &NodeId, event: &'a EventEnvelope) -> Option<OfferRef<'a>> {
    match &event.body {
        EventBody::UpdateOffered {
            version,
            target,
            sha256,
            size,
            signature,
            nodes,
        } if nodes.as_ref().is_none_or(|n| n.contains(me)) => Some(OfferRef {
            version,
            target,
            sha256,
            size: *size,
            signature,
        }),
        _ => None,
    }
}

struct OfferRef<'a> {
    version: &'a str,
    target: &'a str,
    sha256: &'a str,
    size: u64,
    signature: &'a str,
}

/// The blobs a hub event needs on box `me`: the binary of an `update.offered` addressed to
/// it (every box when the offer names none). A pure function of the event, since the hub uses
/// it too to decide which box may download which file; whether the box takes the release is
/// decided in [`react`], after the download.
pub fn blobs_needed(me: &NodeId, event: &EventEnvelope) -> Vec<(String, u64)> {
    offer_for(me, event)
        .map(|o| vec![(o.sha256.to_owned(), o.size)])
        .unwrap_or_default()
}

/// What this box downloads for a hub event: [`blobs_needed`], less a release built for
/// another platform. The hub grants the file to every box the offer names (it cannot know
/// their platforms), but an arm64 box would only refuse an x86-64 binary after fetching it,
/// perhaps 30 MB over a commune's link. [`react`] then finds no file and skips the offer.
pub fn blobs_to_fetch(me: &NodeId, event: &EventEnvelope) -> Vec<(String, u64)> {
    match offer_for(me, event) {
        Some(o) if o.target == target() => vec![(o.sha256.to_owned(), o.size)],
        Some(o) => {
            tracing::info!(
                version = o.version,
                target = o.target,
                "update offer for another platform, not downloaded"
            );
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// Handles a hub event on this box: an `update.offered` meant for it is verified against
/// the pinned key, checked (target, no downgrade), staged, and the server is asked to restart
/// ([`request_restart`]). Idempotent: the same offer again finds it staged, committed or
/// failed. An offer this box refuses is logged and skipped (`Ok`), so the pull goes on.
pub fn react(
    store: &Store,
    me: &NodeId,
    hub_origin: &NodeId,
    hub_seq: u64,
    event: &EventEnvelope,
) -> Result<(), UpdateError> {
    let Some(offer) = offer_for(me, event) else {
        return Ok(());
    };
    let dir = store.dir();
    let state = UpdateState::load(dir)?;
    if state
        .current
        .as_ref()
        .is_some_and(|c| c.version == offer.version && c.sha256 == offer.sha256)
    {
        return Ok(());
    }
    if let Some(t) = state
        .trial
        .as_ref()
        .filter(|t| t.version == offer.version && t.sha256 == offer.sha256)
    {
        // Handled before: staged and waiting for the restart, or running on trial now (the
        // restart came before the sync loop noted this event). Its attempt count stands.
        if t.attempts == 0 {
            request_restart();
        }
        store.blobs().remove(offer.sha256);
        return Ok(());
    }
    let Some(path) = store.blobs().path(offer.sha256) else {
        tracing::warn!(hub = %hub_origin, seq = hub_seq, "update offer with a bad hash, skipped");
        return Ok(());
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Not fetched: blobs_needed said this box does not take it.
            tracing::info!(
                version = offer.version,
                "update offer not for this box, skipped"
            );
            return Ok(());
        }
        Err(e) => return Err(io(&path)(e)),
    };
    let staged = pinned_key(dir)
        .and_then(|key| verify(&key, &bytes, offer.signature))
        .and_then(|release| {
            if release.version.to_string() != offer.version
                || release.target != offer.target
                || release.sha256 != offer.sha256
            {
                return Err(UpdateError::Mismatch(format!(
                    "the hub says {} {} but the signature says {} {}",
                    offer.version, offer.target, release.version, release.target
                )));
            }
            stage(dir, &release, &bytes)
        });
    // The binary now lives in DATA/updates/ (or was refused): the box's blob store does not
    // keep a second copy on its SD card. A second run of this reaction finds it staged.
    if !matches!(staged, Err(UpdateError::Io { .. } | UpdateError::Store(_))) {
        store.blobs().remove(offer.sha256);
    }
    match staged {
        Ok(s) => {
            let r = match &s {
                Staged::New(r) | Staged::Already(r) => r,
            };
            tracing::warn!(
                version = %r.version,
                hub = %hub_origin,
                seq = hub_seq,
                "update staged; restarting to run it"
            );
            request_restart();
            Ok(())
        }
        Err(e @ (UpdateError::Io { .. } | UpdateError::Store(_))) => Err(e),
        Err(e) => {
            tracing::warn!(hub = %hub_origin, seq = hub_seq, "update offer refused: {e}");
            Ok(())
        }
    }
}

/// Writes the outcomes noted in the state file to the box's log (`update.installed`,
/// `update.rolled_back`), so that IT staff see them at the hub, then clears them.
pub fn record_outcomes(store: &Store) -> Result<usize, UpdateError> {
    let dir = store.dir();
    let mut state = UpdateState::load(dir)?;
    if state.unrecorded.is_empty() {
        return Ok(0);
    }
    let events: Vec<EventBody> = state
        .unrecorded
        .iter()
        .map(|o| match o.clone() {
            Outcome::Installed { version, previous } => {
                EventBody::UpdateInstalled { version, previous }
            }
            Outcome::RolledBack {
                version,
                reason,
                running,
            } => EventBody::UpdateRolledBack {
                version,
                reason,
                running,
            },
        })
        .collect();
    let n = events.len();
    store.append(Actor::Node, events)?;
    state.unrecorded.clear();
    state.save(dir)?;
    Ok(n)
}

#[cfg(test)]
mod tests;
