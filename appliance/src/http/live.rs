//! The live feed: Server-Sent Events of the node's log, resumable with `Last-Event-ID` (or
//! `?since=`). A reconnecting tablet gets exactly the events it missed, then live ones, with no
//! gap and no duplicate. A client that cannot keep up is cut off and resumes; nothing is
//! buffered for it without bound.

use super::api::event_json;
use super::{ApiError, AppState, HEARTBEAT};
use crate::domain::visibility;
use crate::domain::EventEnvelope;
use crate::store::Store;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

/// What a feed does with one event.
pub enum Decision {
    /// Send the event whole (its JSON is made once for every feed that sends it).
    Whole,
    /// Send this to the client (the event as the client may see it).
    Send(Event),
    /// Not for this client.
    Skip,
    /// The client may no longer watch: end the feed, so its reconnect is told why.
    End,
}

/// What one client's feed shows, asked again for every event and from time to time, so that a
/// sign-out, a revocation or a change of the rules takes effect on a feed already open.
pub trait FeedRules: Send + Sync + 'static {
    fn decide(&self, e: &EventEnvelope) -> Decision;
    /// Whether the client may still watch at all; checked between events.
    fn still_allowed(&self) -> bool;
    /// A counter the feed forwards, coalesced (the meeting's "N have voted").
    fn progress(&self) -> Option<watch::Receiver<Option<super::votes::VoteProgress>>> {
        None
    }
}

/// How often an open feed re-checks that its client may still watch, when no event comes.
const RECHECK: Duration = Duration::from_secs(2);

/// The room's public feed: the same for everyone.
struct RoomFeed;

impl FeedRules for RoomFeed {
    fn decide(&self, e: &EventEnvelope) -> Decision {
        if visibility::on_room_feed(&e.body) {
            Decision::Whole
        } else {
            Decision::Skip
        }
    }
    fn still_allowed(&self) -> bool {
        true
    }
}

/// How much one client may hold up: together with the shared live channel, these bound the
/// memory a live feed can use, however slow the client.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Events queued for one client before it counts as slow.
    queue: usize,
    /// How long a full queue may stay full before the client is cut off.
    grace: Duration,
}

const LIMITS: Limits = Limits {
    queue: 64,
    grace: Duration::from_secs(20),
};
/// Events read from the store per batch while catching a client up.
const REPLAY_BATCH: usize = 256;

#[derive(Deserialize)]
pub struct Since {
    since: Option<u64>,
}

fn resume_point(headers: &HeaderMap, q: &Since) -> Option<u64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or(q.since)
}

/// The JSON of the latest events as they go on a feed whole, made once per event rather than
/// once per feed: with a room full of tablets, one event goes to every one of them.
#[derive(Default)]
pub struct WireCache {
    recent: std::sync::Mutex<
        std::collections::VecDeque<(u64, crate::domain::Hash, std::sync::Arc<str>)>,
    >,
}

impl WireCache {
    /// How many events' JSON it keeps: more than a burst that feeds still work through.
    const KEEP: usize = 256;

    fn json(&self, e: &EventEnvelope) -> std::sync::Arc<str> {
        let hit =
            |q: &std::collections::VecDeque<(u64, crate::domain::Hash, std::sync::Arc<str>)>| {
                q.iter()
                    .rev()
                    .find(|(seq, prev, _)| *seq == e.seq && *prev == e.prev)
                    .map(|(_, _, j)| j.clone())
            };
        if let Ok(q) = self.recent.lock() {
            if let Some(j) = hit(&q) {
                return j;
            }
        }
        let made: std::sync::Arc<str> = event_json(e).to_string().into();
        if let Ok(mut q) = self.recent.lock() {
            if hit(&q).is_none() {
                if q.len() >= Self::KEEP {
                    q.pop_front();
                }
                q.push_back((e.seq, e.prev, made.clone()));
            }
        }
        made
    }

    /// The event, whole, as an SSE message.
    pub fn event(&self, e: &EventEnvelope) -> Event {
        Event::default()
            .id(e.seq.to_string())
            .event(e.body.kind())
            .data(&*self.json(e))
    }
}

/// An event on a feed with the JSON the policy allows (its id and name are the event's).
pub fn sse_json(e: &EventEnvelope, json: &serde_json::Value) -> Event {
    Event::default()
        .id(e.seq.to_string())
        .event(e.body.kind())
        .data(json.to_string())
}

/// `GET /api/room/events`: the room's public events. Without a resume point it starts at the
/// current head (the client has just read `/api/room`).
pub async fn room_events(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Since>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Subscribe before reading the head, so nothing committed in between is missed.
    let live = st.store.subscribe();
    let after = start_point(&st, &headers, &q)?;
    Ok(stream_from(st, live, after, RoomFeed))
}

/// Starts a feed task and wraps its output as an SSE response. The feed passes on what
/// `rules` decide for each event, and ends when they say the client may no longer watch, so
/// the client reconnects and learns why.
pub fn stream_from(
    st: AppState,
    live: broadcast::Receiver<std::sync::Arc<EventEnvelope>>,
    after: u64,
    rules: impl FeedRules,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::channel(LIMITS.queue);
    let store = st.store.clone();
    let shutdown = st.shutdown.clone();
    tokio::spawn(async move {
        let _counted = st.metrics.live_client();
        let out = Out {
            tx,
            limits: LIMITS,
            wire: st.wire.clone(),
        };
        feed(store, live, after, &out, shutdown, &rules).await;
    });
    let hello = Event::default()
        .retry(Duration::from_secs(2))
        .comment("phonghop");
    let stream = tokio_stream::once(hello)
        .chain(ReceiverStream::new(rx))
        .map(Ok::<_, Infallible>);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
}

/// Where a feed starts: the client's resume point, or the current head.
pub fn start_point(st: &AppState, headers: &HeaderMap, q: &Since) -> Result<u64, ApiError> {
    match resume_point(headers, q) {
        Some(n) => Ok(n),
        None => Ok(st.store.head_seq()?),
    }
}

/// Where one feed's events go: the client's bounded queue, how long it may stay full, and the
/// shared JSON of whole events.
struct Out {
    tx: mpsc::Sender<Event>,
    limits: Limits,
    wire: std::sync::Arc<WireCache>,
}

impl Out {
    /// Sends one event, or reports that the client is gone or too slow.
    async fn push(&self, event: Event) -> bool {
        matches!(
            tokio::time::timeout(self.limits.grace, self.tx.send(event)).await,
            Ok(Ok(()))
        )
    }
}

/// What happened to one event on its way to the client.
enum Sent {
    Ok,
    /// The client is gone, too slow, or may no longer watch.
    Stop,
}

async fn offer(out: &Out, e: &EventEnvelope, rules: &dyn FeedRules) -> Sent {
    let event = match rules.decide(e) {
        Decision::Whole => out.wire.event(e),
        Decision::Send(event) => event,
        Decision::Skip => return Sent::Ok,
        Decision::End => {
            tracing::info!(
                seq = e.seq,
                "live feed ended: its client may no longer see it"
            );
            return Sent::Stop;
        }
    };
    if out.push(event).await {
        Sent::Ok
    } else {
        Sent::Stop
    }
}

/// Replays `(after, upto]` from the store (all of it when `upto` is `None`); returns the last
/// sequence number handled, or `None` if the client went away.
async fn replay(
    store: &Store,
    out: &Out,
    mut after: u64,
    upto: Option<u64>,
    rules: &dyn FeedRules,
) -> Option<u64> {
    loop {
        let store = store.clone();
        let batch = tokio::task::spawn_blocking(move || store.events_after(after, REPLAY_BATCH))
            .await
            .ok()?
            .ok()?;
        if batch.is_empty() {
            return Some(after);
        }
        for e in batch {
            if upto.is_some_and(|u| e.seq > u) {
                return Some(after);
            }
            if let Sent::Stop = offer(out, &e, rules).await {
                return None;
            }
            after = e.seq;
        }
    }
}

async fn feed(
    store: Store,
    mut live: broadcast::Receiver<std::sync::Arc<EventEnvelope>>,
    after: u64,
    out: &Out,
    mut shutdown: watch::Receiver<bool>,
    rules: &dyn FeedRules,
) {
    if *shutdown.borrow() || !rules.still_allowed() {
        return;
    }
    let Some(mut last) = replay(&store, out, after, None, rules).await else {
        return;
    };
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut progress = rules.progress();
    if let Some(p) = progress.as_mut() {
        // Only changes from now on: the snapshot the client read has the count.
        p.mark_unchanged();
    }
    // A counter change waits here until the next moment it may go out.
    let mut pending = false;
    let mut next_progress = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = out.tx.closed() => break,
            changed = async {
                match progress.as_mut() {
                    Some(p) => p.changed().await,
                    None => std::future::pending().await,
                }
            }, if !pending => {
                if changed.is_err() {
                    progress = None;
                } else {
                    pending = true;
                }
            }
            _ = tokio::time::sleep_until(next_progress), if pending => {
                pending = false;
                next_progress = tokio::time::Instant::now() + super::votes::PROGRESS_EVERY;
                let current = progress.as_mut().and_then(|p| p.borrow_and_update().clone());
                if let Some(p) = current {
                    let json = serde_json::json!({"kind": "vote.progress", "body": p});
                    let event = Event::default().event("vote.progress").data(json.to_string());
                    if !out.push(event).await {
                        break;
                    }
                }
            }
            _ = recheck.tick() => {
                if !rules.still_allowed() {
                    tracing::info!("live feed ended: its client may no longer watch");
                    break;
                }
            }
            msg = live.recv() => match msg {
                Ok(e) => {
                    if e.seq <= last {
                        continue; // Already sent during replay.
                    }
                    if e.seq > last + 1 {
                        // Fill any hole from the store so the client sees every event once.
                        if replay(&store, out, last, Some(e.seq - 1), rules).await.is_none() {
                            break;
                        }
                    }
                    if let Sent::Stop = offer(out, &e, rules).await {
                        tracing::info!(seq = e.seq, "live client too slow, gone, or no longer allowed; cut off");
                        break;
                    }
                    last = e.seq;
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::info!(missed = n, "live client fell behind; cut off, it will resume");
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, EventBody, NoticeText, RoomName};
    use crate::store::NodeRole;

    struct Every;
    impl FeedRules for Every {
        fn decide(&self, _: &EventEnvelope) -> Decision {
            Decision::Whole
        }
        fn still_allowed(&self) -> bool {
            true
        }
    }

    fn notices(n: usize) -> Vec<EventBody> {
        (0..n)
            .map(|i| EventBody::NoticePosted {
                text: NoticeText::parse(&format!("n{i}")).unwrap(),
            })
            .collect()
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_is_cut_off_with_bounded_memory() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::init(dir.path(), &RoomName::parse("P").unwrap(), NodeRole::Room).unwrap();
        let (_stop_tx, stop_rx) = watch::channel(false);
        let limits = Limits {
            queue: 4,
            grace: Duration::from_millis(200),
        };
        let (tx, mut rx) = mpsc::channel(limits.queue);
        let head = store.head_seq().unwrap();
        let out = Out {
            tx,
            limits,
            wire: Default::default(),
        };
        let (s, live) = (store.clone(), store.subscribe());
        let task = tokio::spawn(async move { feed(s, live, head, &out, stop_rx, &Every).await });
        // More than the live channel holds, in one burst, to a client that reads nothing.
        store.append(Actor::Node, notices(1500)).unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the feed must give up on a client that does not read")
            .unwrap();
        // Only the client's own small queue was ever held for it.
        let mut queued = 0;
        while rx.recv().await.is_some() {
            queued += 1;
        }
        assert_eq!(queued, limits.queue);
    }

    #[tokio::test]
    async fn a_feed_ends_on_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::init(dir.path(), &RoomName::parse("P").unwrap(), NodeRole::Room).unwrap();
        let (stop_tx, stop_rx) = watch::channel(false);
        let (tx, mut rx) = mpsc::channel(8);
        let out = Out {
            tx,
            limits: LIMITS,
            wire: Default::default(),
        };
        let (s, live) = (store.clone(), store.subscribe());
        let task = tokio::spawn(async move { feed(s, live, 0, &out, stop_rx, &Every).await });
        assert!(rx.recv().await.is_some(), "replays the first event");
        stop_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .unwrap()
            .unwrap();
        assert!(rx.recv().await.is_none());
    }
}
