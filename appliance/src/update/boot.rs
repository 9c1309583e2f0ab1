//! Boot selection and the trial's proof of health: the part that keeps a far-away box from
//! being left broken.
//!
//! Like the boot counters of Mender, RAUC and SWUpdate (`upgrade_available` + `bootcount`,
//! `BOOT_x_LEFT`), but one level up: the "bootloader" is the packaged `/usr/bin/phonghop`,
//! which the update never overwrites, and the "slots" are `DATA/updates/<version>/`.
//!
//! At the start of `phonghop serve`, before anything else, [`select`] reads
//! `DATA/updates/state.json`:
//! - a trial with no attempt yet: the attempt is counted DURABLY first, then the trial is
//!   exec'd (same pid, so systemd's `Type=notify` and watchdog follow it) with
//!   `PHONGHOP_UPDATE_RUN=<version>` so that it does not select again;
//! - a trial that already had its attempt (it crashed, failed its check, or systemd's watchdog
//!   killed it): rolled back, that is marked failed and its directory deleted, and the box goes
//!   on with the previous good release;
//! - a committed release: exec'd, unless the package is as new or newer (an `apt upgrade`
//!   moved past it), when the package runs and the staged releases are forgotten.
//!
//! The trial commits itself in [`prove_and_commit`] only after a real health check: the store
//! opened and its chain verified, the listeners bound (the server is built), an HTTPS request
//! to itself through its own CA answered, and the store and runtime probes passing for
//! `PHONGHOP_UPDATE_SETTLE_SECS`. If that does not happen before
//! `PHONGHOP_UPDATE_DEADLINE_SECS`, the trial exits with [`super::EXIT_UNHEALTHY`] and the
//! next start rolls it back.

use super::{
    binary_path, updates_dir, Installed, Outcome, UpdateError, UpdateState, ENV_DEADLINE, ENV_RUN,
    ENV_SETTLE,
};
use crate::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};

/// What the selector decided, when it did not exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selected {
    /// This process was itself started by the selector (`PHONGHOP_UPDATE_RUN` set).
    Staged(String),
    /// The packaged binary runs (no update, or every staged release failed or is older).
    Packaged,
}

/// Reads the state and runs the release that should run: returns only if this process is
/// the one to serve (it execs otherwise). A damaged state file is set aside, never fatal:
/// the package always runs.
pub fn select(data_dir: &Path) -> Selected {
    if let Ok(v) = std::env::var(ENV_RUN) {
        return Selected::Staged(v);
    }
    if !updates_dir(data_dir).exists() {
        return Selected::Packaged;
    }
    let mut state = match UpdateState::load(data_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("phonghop: {e}; running the packaged release");
            let path = updates_dir(data_dir).join(super::STATE_FILE);
            let _ = std::fs::rename(&path, path.with_extension("json.damaged"));
            return Selected::Packaged;
        }
    };
    if let Some(trial) = state.trial.clone() {
        let bin = binary_path(data_dir, &trial.version);
        if trial.attempts == 0 && bin.exists() {
            state.trial = Some(super::Trial {
                attempts: 1,
                ..trial.clone()
            });
            // Counted before the exec: a trial that dies in any way is never run twice.
            match state.save(data_dir) {
                Ok(()) => {
                    let err = exec(&bin, &trial.version);
                    eprintln!(
                        "phonghop: cannot start release {} ({}): {err}",
                        trial.version,
                        bin.display()
                    );
                    state.roll_back(&format!("could not be started: {err}"));
                }
                Err(e) => {
                    eprintln!("phonghop: {e}; not trying release {}", trial.version);
                    return Selected::Packaged;
                }
            }
        } else {
            let reason = if bin.exists() {
                "did not become healthy: it stopped or was stopped before its health check passed"
            } else {
                "its staged file is missing"
            };
            eprintln!(
                "phonghop: release {} {reason}; rolling back to {}",
                trial.version,
                state.installed_version()
            );
            state.roll_back(reason);
            let _ = std::fs::remove_dir_all(updates_dir(data_dir).join(&trial.version));
        }
        if let Err(e) = state.save(data_dir) {
            eprintln!("phonghop: {e}");
        }
    }
    let Some(current) = state.current.clone() else {
        return Selected::Packaged;
    };
    let newer_package =
        semver::Version::parse(&current.version).map_or(true, |c| super::packaged_version() >= c);
    if newer_package {
        // The package moved past the staged releases (apt upgrade): it is the release now.
        state.current = None;
        state.previous = None;
        if let Err(e) = state.save(data_dir) {
            eprintln!("phonghop: {e}");
        }
        return Selected::Packaged;
    }
    let bin = binary_path(data_dir, &current.version);
    let err = exec(&bin, &current.version);
    eprintln!(
        "phonghop: cannot start release {} ({}): {err}; running the packaged release",
        current.version,
        bin.display()
    );
    Selected::Packaged
}

/// Replaces this process with `bin`, same arguments, plus `PHONGHOP_UPDATE_RUN`. Returns
/// only on failure.
fn exec(bin: &Path, version: &str) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    std::process::Command::new(bin)
        .args(std::env::args_os().skip(1))
        .env(ENV_RUN, version)
        .exec()
}

fn secs_from_env(name: &str, default: u64) -> Duration {
    Duration::from_secs(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

/// Whether this process is a trial that still has to prove itself.
pub fn on_trial(data_dir: &Path) -> Option<String> {
    let version = std::env::var(ENV_RUN).ok()?;
    let state = UpdateState::load(data_dir).ok()?;
    state
        .trial
        .filter(|t| t.version == version)
        .map(|t| t.version)
}

/// Where the trial asks itself over HTTPS.
pub struct SelfCheck {
    pub https_port: u16,
    pub local_name: String,
    pub addr: std::net::IpAddr,
}

/// Runs in a trial: proves health, then commits. On failure or past the deadline the process
/// exits with [`super::EXIT_UNHEALTHY`] so that the next start rolls back.
pub async fn prove_and_commit(store: Store, version: String, check: SelfCheck) {
    let deadline = secs_from_env(ENV_DEADLINE, 600);
    let settle = secs_from_env(ENV_SETTLE, 60);
    let started = Instant::now();
    let proof = tokio::time::timeout(deadline, prove(&store, &check, settle)).await;
    let failure = match proof {
        Ok(Ok(())) => match commit(&store, &version) {
            Ok(()) => {
                tracing::warn!(
                    version,
                    after_ms = started.elapsed().as_millis() as u64,
                    "update committed: the release passed its health check"
                );
                return;
            }
            Err(e) => format!("cannot commit: {e}"),
        },
        Ok(Err(why)) => why,
        Err(_) => format!("no healthy proof within {} s", deadline.as_secs()),
    };
    tracing::error!(
        version,
        "update trial failed: {failure}; exiting so the box rolls back"
    );
    std::process::exit(i32::from(super::EXIT_UNHEALTHY));
}

async fn prove(store: &Store, check: &SelfCheck, settle: Duration) -> Result<(), String> {
    let s = store.clone();
    let report = tokio::task::spawn_blocking(move || s.verify())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("the store does not verify: {e}"))?;
    if let Some(b) = report.broken {
        return Err(format!("the log is broken at {} of {}", b.seq, b.origin));
    }
    let root = std::fs::read(store.dir().join("tls/root.pem"))
        .map_err(|e| format!("cannot read the box's root certificate: {e}"))?;
    let cert = reqwest::Certificate::from_pem(&root).map_err(|e| e.to_string())?;
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(cert)
        .resolve(
            &check.local_name,
            std::net::SocketAddr::new(check.addr, check.https_port),
        )
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!("https://{}:{}/readyz", check.local_name, check.https_port);
    let mut last = String::new();
    let mut answered = false;
    for _ in 0..20 {
        match client.get(&url).send().await {
            Ok(r) if r.status().is_success() => {
                answered = true;
                break;
            }
            Ok(r) => last = format!("{url} answered {}", r.status()),
            Err(e) => last = format!("{url}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if !answered {
        return Err(format!("the box does not answer itself over HTTPS: {last}"));
    }
    let until = Instant::now() + settle;
    loop {
        let s = store.clone();
        tokio::time::timeout(
            Duration::from_secs(10),
            tokio::task::spawn_blocking(move || crate::watchdog::probe_store(&s)),
        )
        .await
        .map_err(|_| "the store did not answer the watchdog probe within 10 s".to_owned())?
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("the watchdog probe failed: {e}"))?;
        if Instant::now() >= until {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1).min(settle)).await;
    }
}

/// The trial becomes the current release; the one before is kept as `previous`, older
/// release directories are deleted, and `update.installed` goes into the log.
fn commit(store: &Store, version: &str) -> Result<(), UpdateError> {
    let dir = store.dir();
    let mut state = UpdateState::load(dir)?;
    let Some(trial) = state.trial.take().filter(|t| t.version == version) else {
        return Ok(());
    };
    let previous = state.installed_version();
    state.previous = state.current.take();
    state.current = Some(Installed {
        version: trial.version.clone(),
        sha256: trial.sha256,
    });
    state.unrecorded.push(Outcome::Installed {
        version: trial.version,
        previous,
    });
    state.save(dir)?;
    prune(dir, &state);
    super::record_outcomes(store)?;
    Ok(())
}

/// Deletes release directories other than the current and previous ones.
fn prune(data_dir: &Path, state: &UpdateState) {
    let keep: Vec<&str> = [state.current.as_ref(), state.previous.as_ref()]
        .into_iter()
        .flatten()
        .map(|i| i.version.as_str())
        .chain(state.trial.as_ref().map(|t| t.version.as_str()))
        .collect();
    let Ok(entries) = std::fs::read_dir(updates_dir(data_dir)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !keep.contains(&name.as_str()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
