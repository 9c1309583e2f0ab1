//! systemd's service protocol (`sd_notify`, `Type=notify` units): `READY=1` once both ports
//! accept connections, `WATCHDOG=1` only while the store and the runtime really answer, and
//! `STOPPING=1` when shutdown begins. Without `NOTIFY_SOCKET` (a terminal, a test, a container)
//! every message is a no-op; without `WATCHDOG_USEC` no watchdog task runs.
//!
//! Each round, every half of the watchdog period, checks:
//! - the runtime: a task spawned on it runs (the round itself is a task, so a stalled runtime
//!   sends nothing either);
//! - the store, on the blocking pool: a read transaction returns the head of the log, and the
//!   write path is free: the probe takes the writer's turn and opens a write transaction, then
//!   abandons it (nothing is written, no fsync). A write stuck on a dead disk holds that turn,
//!   so the probe does not come back and no `WATCHDOG=1` is sent until it does.
//!
//! A probe that has not come back is waited for again at the next round, never started twice.

use crate::domain::Actor;
use crate::store::{Store, StoreError};
use sd_notify::NotifyState;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What [`ready`] started: the watchdog task, if systemd asked for one.
pub struct Notifier {
    task: Option<JoinHandle<()>>,
}

/// Tells systemd the box is serving (both ports are bound and their accept loops run) and, if
/// the unit has `WatchdogSec=`, starts the task that feeds the watchdog until `stop` turns true.
pub fn ready(store: Store, stop: watch::Receiver<bool>, status: &str) -> Notifier {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
    let task = sd_notify::watchdog_enabled()
        .filter(|period| !period.is_zero())
        .map(|period| tokio::spawn(feed(store, period, stop)));
    Notifier { task }
}

impl Notifier {
    /// Tells systemd the box is stopping (it may take a while to drain); the watchdog ends
    /// with the server's stop signal.
    pub fn stopping(&self) {
        send(&[
            NotifyState::Stopping,
            NotifyState::Status("draining requests"),
        ]);
    }

    /// Waits for the watchdog task, after the stop signal.
    pub async fn finished(self) {
        if let Some(task) = self.task {
            let _ = task.await;
        }
    }
}

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!("could not notify systemd: {e}");
    }
}

/// Why a probe stopped: it reached the write transaction (the healthy case), or the store
/// failed.
enum Probe {
    Reached,
    Store(StoreError),
}

impl From<StoreError> for Probe {
    fn from(e: StoreError) -> Self {
        Probe::Store(e)
    }
}

/// One check of the store: the head through a read transaction, then the writer's turn and a
/// write transaction, abandoned before anything is written.
pub fn probe_store(store: &Store) -> Result<u64, StoreError> {
    let head = store.head_seq()?;
    let reached = store.write(Actor::Node, |_tx| {
        Err::<(Vec<crate::domain::EventBody>, ()), Probe>(Probe::Reached)
    });
    match reached {
        Ok(_) | Err(Probe::Reached) => Ok(head),
        Err(Probe::Store(e)) => Err(e),
    }
}

async fn feed(store: Store, period: Duration, mut stop: watch::Receiver<bool>) {
    // systemd recommends pinging at half the period; each check may take up to a quarter.
    let every = period / 2;
    let patience = (period / 4).max(Duration::from_millis(50));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pending: Option<JoinHandle<Result<u64, StoreError>>> = None;
    let mut unhealthy_since: Option<Instant> = None;
    tracing::info!(period_ms = period.as_millis() as u64, "systemd watchdog on");
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tick.tick() => {}
        }
        let verdict = check(&store, &mut pending, patience).await;
        match (verdict, unhealthy_since) {
            (Ok(()), since) => {
                if let Some(since) = since {
                    tracing::warn!(
                        after_ms = since.elapsed().as_millis() as u64,
                        "watchdog: the store and the runtime answer again"
                    );
                }
                unhealthy_since = None;
                send(&[NotifyState::Watchdog]);
            }
            (Err(why), None) => {
                tracing::error!(
                    "watchdog: {why}; systemd restarts the box if this lasts {} s",
                    period.as_secs()
                );
                unhealthy_since = Some(Instant::now());
            }
            (Err(_), Some(_)) => {}
        }
    }
}

async fn check(
    store: &Store,
    pending: &mut Option<JoinHandle<Result<u64, StoreError>>>,
    patience: Duration,
) -> Result<(), String> {
    if tokio::time::timeout(patience, tokio::spawn(async {}))
        .await
        .is_err()
    {
        return Err(format!(
            "the runtime did not run a task within {} ms",
            patience.as_millis()
        ));
    }
    let handle = pending.get_or_insert_with(|| {
        let store = store.clone();
        tokio::task::spawn_blocking(move || probe_store(&store))
    });
    match tokio::time::timeout(patience, handle).await {
        Err(_) => Err(format!(
            "the store has not answered a read and a write transaction within {} ms \
             (a write may be stuck on the disk)",
            patience.as_millis()
        )),
        Ok(done) => {
            *pending = None;
            match done {
                Ok(Ok(_head)) => Ok(()),
                Ok(Err(e)) => Err(format!("the store failed its check: {e}")),
                Err(e) => Err(format!("the store check did not finish: {e}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RoomName;
    use crate::store::NodeRole;

    #[test]
    fn the_probe_reads_and_reaches_the_writer_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let room = RoomName::parse("Phòng họp").unwrap();
        let store = Store::init(dir.path(), &room, NodeRole::Room).unwrap();
        let head = store.head_seq().unwrap();
        let size = store.db_size();
        for _ in 0..20 {
            assert_eq!(probe_store(&store).unwrap(), head);
        }
        assert_eq!(store.head_seq().unwrap(), head);
        assert_eq!(store.db_size(), size);
    }
}
