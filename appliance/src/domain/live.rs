//! The live meeting: started, paused for a recess, resumed and ended; the agenda item under
//! discussion and the time spent on it; the speakers' queue and who has the floor; the page
//! the chair asks every tablet to follow. A pure state machine over the log's events, so the
//! box, a rebuild and every screen arrive at the same state from the same events.
//!
//! Times come from the events' `at` (the box's clock), never from a tablet's: a screen shows a
//! countdown as `seconds − (box now − started_at)`, with the box's "now" from the API.

use super::event::EventBody;
use super::records::Id;
use super::text::Username;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Kinds of speech (loại phát biểu).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum SpeechKind {
    /// Ý kiến: an opinion on the item.
    Opinion,
    /// Chất vấn: a question to someone who must answer.
    Question,
    /// Giải trình: the answer to a question.
    Reply,
    /// Kiến nghị thủ tục: a point of order; it goes before every other kind.
    Procedural,
}

impl SpeechKind {
    pub const ALL: [SpeechKind; 4] = [
        SpeechKind::Opinion,
        SpeechKind::Question,
        SpeechKind::Reply,
        SpeechKind::Procedural,
    ];
}

/// The shortest and longest speaking time the chair may set, in seconds.
pub const MIN_SECONDS: u32 = 10;
pub const MAX_SECONDS: u32 = 3600;
/// The longest recess reason.
pub const MAX_REASON_CHARS: usize = 200;
/// The highest page a "follow me" may name.
pub const MAX_PAGE: u32 = 100_000;

/// Speaking time per kind, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SpeechLimits {
    pub opinion: u32,
    pub question: u32,
    pub reply: u32,
    pub procedural: u32,
}

impl Default for SpeechLimits {
    /// Five minutes for an opinion or a reply, three for a question, one for a point of order.
    fn default() -> Self {
        Self {
            opinion: 300,
            question: 180,
            reply: 300,
            procedural: 60,
        }
    }
}

impl SpeechLimits {
    pub fn of(&self, kind: SpeechKind) -> u32 {
        match kind {
            SpeechKind::Opinion => self.opinion,
            SpeechKind::Question => self.question,
            SpeechKind::Reply => self.reply,
            SpeechKind::Procedural => self.procedural,
        }
    }

    /// Every time within [`MIN_SECONDS`]..=[`MAX_SECONDS`].
    pub fn check(self) -> Result<Self, LiveError> {
        for k in SpeechKind::ALL {
            check_seconds(self.of(k))?;
        }
        Ok(self)
    }
}

pub fn check_seconds(s: u32) -> Result<u32, LiveError> {
    if (MIN_SECONDS..=MAX_SECONDS).contains(&s) {
        Ok(s)
    } else {
        Err(LiveError::BadSeconds)
    }
}

/// A recess reason as typed: trimmed, 1 to 200 characters, no control characters.
pub fn parse_reason(raw: &str) -> Result<String, LiveError> {
    let r = raw.trim();
    if r.is_empty() || r.chars().count() > MAX_REASON_CHARS || r.chars().any(char::is_control) {
        return Err(LiveError::BadReason);
    }
    Ok(r.to_owned())
}

/// Where the meeting is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    NotStarted,
    Running,
    /// Nghỉ giải lao: a recess.
    Paused,
    Ended,
}

/// Why a live command was refused. Each has its own API code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    #[error("the meeting has not started")]
    NotStarted,
    #[error("the meeting has already started")]
    AlreadyStarted,
    #[error("the meeting is not running")]
    NotRunning,
    #[error("the meeting is not paused")]
    NotPaused,
    #[error("the meeting has ended")]
    Ended,
    #[error("no agenda item is open")]
    NoItem,
    #[error("no such agenda item")]
    UnknownItem,
    #[error("no such request to speak")]
    UnknownRequest,
    #[error("nobody has the floor")]
    NobodySpeaking,
    #[error("the request is already being heard")]
    AlreadySpeaking,
    #[error("check in before asking to speak")]
    NotPresent,
    #[error("the order must list exactly the current item's queue")]
    StaleOrder,
    #[error("a speaking time is 10 to 3600 seconds")]
    BadSeconds,
    #[error("a recess needs a reason of 1 to 200 characters")]
    BadReason,
    #[error("no such document in this meeting")]
    UnknownDocument,
    #[error("a page is a number from 1")]
    BadPage,
    #[error("a reply answers a question of this item")]
    BadReply,
    #[error("only a secretary's account can be handed the console")]
    BadOperator,
    #[error("too many requests to speak from one person in this meeting")]
    TooManyRequests,
}

/// The most requests to speak one tablet may make in a meeting (withdrawn ones included): a
/// delegate speaks a few times a meeting; a tablet that asks and withdraws in a loop must not
/// grow the meeting's state without end.
pub const MAX_REQUESTS_PER_PERSON: usize = 100;

/// One request to speak while it waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Request {
    pub id: Id,
    pub person_id: Id,
    pub item_id: Id,
    pub kind: SpeechKind,
    /// For a reply: the question it answers.
    pub replies_to: Option<Id>,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// A time the chair set for this person; otherwise the kind's applies.
    pub seconds_set: Option<u32>,
}

/// Who has the floor, since when, for how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Speaking {
    #[serde(flatten)]
    #[ts(flatten)]
    pub request: Request,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// The time given, in seconds; the countdown turns red past it.
    pub seconds: u32,
}

/// A speech that was heard, for the minutes and the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Speech {
    pub id: Id,
    pub person_id: Id,
    pub item_id: Id,
    pub kind: SpeechKind,
    pub replies_to: Option<Id>,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
    /// The time that was given.
    pub seconds: u32,
}

impl Speech {
    /// How long it lasted, in whole seconds (never negative, even if the box's clock jumped).
    pub fn spoke_seconds(&self) -> u64 {
        let d = (self.ended_at - self.started_at).whole_seconds();
        u64::try_from(d).unwrap_or(0)
    }
}

/// A recess and its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Pause {
    pub reason: String,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}

/// The agenda item under discussion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CurrentItem {
    pub item_id: Id,
    /// When its clock last started; `None` while the meeting is paused.
    #[ts(type = "string | null")]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    /// Time already spent on it before `since`, in milliseconds.
    pub spent_ms: i64,
}

/// The document and page every following tablet shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Follow {
    pub document_id: Id,
    pub page: u32,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}

/// The live state of one meeting. Finished speeches are returned by [`LiveState::apply`] to be
/// kept apart, so this stays small however long the meeting runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveState {
    pub phase: Phase,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    pub paused: Option<Pause>,
    pub item: Option<CurrentItem>,
    /// Time spent on items that are not current, in milliseconds.
    pub item_spent_ms: BTreeMap<Id, i64>,
    /// Every waiting request, of every item, in the order they will be heard.
    pub queue: Vec<Request>,
    pub speaking: Option<Speaking>,
    pub limits: SpeechLimits,
    pub follow: Option<Follow>,
    /// The secretary the chair handed the console to.
    pub operator: Option<Username>,
    /// Requests heard, withdrawn or lapsed, so that a retried request changes nothing.
    pub closed: Vec<Closed>,
}

/// A request that is over, and whose it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {
    pub id: Id,
    pub person_id: Id,
}

impl From<&Request> for Closed {
    fn from(r: &Request) -> Self {
        Closed {
            id: r.id.clone(),
            person_id: r.person_id.clone(),
        }
    }
}

fn ms_between(from: OffsetDateTime, to: OffsetDateTime) -> i64 {
    let ms = (to - from).whole_milliseconds();
    i64::try_from(ms.max(0)).unwrap_or(i64::MAX)
}

impl LiveState {
    /// Whether a request with this id was ever made here.
    pub fn knows(&self, request: &Id) -> bool {
        self.queue.iter().any(|r| &r.id == request)
            || self
                .speaking
                .as_ref()
                .is_some_and(|s| &s.request.id == request)
            || self.closed.iter().any(|c| &c.id == request)
    }

    /// Whose request this is, waiting, speaking or over.
    pub fn owner(&self, request: &Id) -> Option<&Id> {
        self.open_request(request)
            .map(|r| &r.person_id)
            .or_else(|| {
                self.closed
                    .iter()
                    .find(|c| &c.id == request)
                    .map(|c| &c.person_id)
            })
    }

    /// A request with this id, waiting or speaking.
    pub fn open_request(&self, id: &Id) -> Option<&Request> {
        self.queue.iter().find(|r| &r.id == id).or_else(|| {
            self.speaking
                .as_ref()
                .map(|s| &s.request)
                .filter(|r| &r.id == id)
        })
    }

    /// The person's waiting or current request on this item, if any.
    pub fn open_request_of(&self, person: &Id, item: &Id) -> Option<&Request> {
        self.speaking
            .as_ref()
            .map(|s| &s.request)
            .into_iter()
            .chain(self.queue.iter())
            .find(|r| &r.person_id == person && &r.item_id == item)
    }

    pub fn current_item(&self) -> Option<&Id> {
        self.item.as_ref().map(|i| &i.item_id)
    }

    /// How many requests this person has made here, waiting, speaking or over.
    pub fn requests_of(&self, person: &Id) -> usize {
        self.queue.iter().filter(|r| &r.person_id == person).count()
            + self
                .speaking
                .as_ref()
                .is_some_and(|s| &s.request.person_id == person) as usize
            + self
                .closed
                .iter()
                .filter(|c| &c.person_id == person)
                .count()
    }

    /// The waiting requests of the current item, in order.
    pub fn item_queue(&self) -> impl Iterator<Item = &Request> {
        let item = self.current_item().cloned();
        self.queue
            .iter()
            .filter(move |r| Some(&r.item_id) == item.as_ref())
    }

    /// Where a new request goes: the id of the request it is placed before, or `None` for the
    /// end. A point of order goes after other points of order and before everything else of
    /// its item; a reply goes right after the question it answers (first, if the question is
    /// being heard or was heard).
    pub fn placement(&self, item: &Id, kind: SpeechKind, replies_to: Option<&Id>) -> Option<Id> {
        let of_item = || self.queue.iter().filter(|r| &r.item_id == item);
        match (kind, replies_to) {
            (SpeechKind::Procedural, _) => of_item()
                .find(|r| r.kind != SpeechKind::Procedural)
                .map(|r| r.id.clone()),
            (_, Some(q)) => {
                let pos = self.queue.iter().position(|r| &r.id == q);
                match pos {
                    Some(p) => self.queue[p + 1..]
                        .iter()
                        .find(|r| &r.item_id == item)
                        .map(|r| r.id.clone()),
                    None => of_item()
                        .find(|r| r.kind != SpeechKind::Procedural)
                        .map(|r| r.id.clone()),
                }
            }
            _ => None,
        }
    }

    /// Milliseconds spent on the current item up to `now`.
    pub fn item_elapsed_ms(&self, now: OffsetDateTime) -> Option<i64> {
        self.item.as_ref().map(|i| {
            i.spent_ms
                .saturating_add(i.since.map(|s| ms_between(s, now)).unwrap_or(0))
        })
    }

    fn end_speech(&mut self, at: OffsetDateTime) -> Option<Speech> {
        let s = self.speaking.take()?;
        self.closed.push(Closed::from(&s.request));
        Some(Speech {
            id: s.request.id,
            person_id: s.request.person_id,
            item_id: s.request.item_id,
            kind: s.request.kind,
            replies_to: s.request.replies_to,
            started_at: s.started_at,
            ended_at: at.max(s.started_at),
            seconds: s.seconds,
        })
    }

    /// Stops the current item's clock, keeping what was spent.
    fn stop_item_clock(&mut self, at: OffsetDateTime) {
        if let Some(i) = self.item.as_mut() {
            if let Some(since) = i.since.take() {
                i.spent_ms = i.spent_ms.saturating_add(ms_between(since, at));
            }
        }
    }

    fn close_item(&mut self, at: OffsetDateTime) {
        self.stop_item_clock(at);
        if let Some(i) = self.item.take() {
            self.item_spent_ms.insert(i.item_id, i.spent_ms);
        }
    }

    /// Applies one of the meeting's events (others change nothing) at the box's time `at`.
    /// Returns the speech that ended with it, if one did.
    pub fn apply(&mut self, body: &EventBody, at: OffsetDateTime) -> Option<Speech> {
        match body {
            EventBody::MeetingStarted { .. } => {
                self.phase = Phase::Running;
                self.started_at = Some(at);
                if let Some(i) = self.item.as_mut() {
                    i.since = Some(at);
                }
                None
            }
            EventBody::MeetingPaused { reason, .. } => {
                let ended = self.end_speech(at);
                self.stop_item_clock(at);
                self.phase = Phase::Paused;
                self.paused = Some(Pause {
                    reason: reason.clone(),
                    since: at,
                });
                ended
            }
            EventBody::MeetingResumed { .. } => {
                self.phase = Phase::Running;
                self.paused = None;
                if let Some(i) = self.item.as_mut() {
                    i.since = Some(at);
                }
                None
            }
            EventBody::MeetingEnded { .. } => {
                let ended = self.end_speech(at);
                self.close_item(at);
                self.phase = Phase::Ended;
                self.ended_at = Some(at);
                self.paused = None;
                self.follow = None;
                let lapsed: Vec<Closed> = self.queue.drain(..).map(|r| Closed::from(&r)).collect();
                self.closed.extend(lapsed);
                ended
            }
            EventBody::ItemOpened { item_id, .. } => {
                let ended = self.end_speech(at);
                self.close_item(at);
                let spent_ms = self.item_spent_ms.remove(item_id).unwrap_or(0);
                self.item = Some(CurrentItem {
                    item_id: item_id.clone(),
                    since: (self.phase == Phase::Running).then_some(at),
                    spent_ms,
                });
                ended
            }
            EventBody::SpeechRequested { request, .. } => {
                if self.knows(&request.id) {
                    return None;
                }
                let r = Request {
                    id: request.id.clone(),
                    person_id: request.person_id.clone(),
                    item_id: request.item_id.clone(),
                    kind: request.kind,
                    replies_to: request.replies_to.clone(),
                    requested_at: at,
                    seconds_set: None,
                };
                let pos = request
                    .before
                    .as_ref()
                    .and_then(|b| self.queue.iter().position(|q| &q.id == b))
                    .unwrap_or(self.queue.len());
                self.queue.insert(pos, r);
                None
            }
            EventBody::SpeechWithdrawn { request_id, .. } => {
                if let Some(p) = self.queue.iter().position(|r| &r.id == request_id) {
                    let r = self.queue.remove(p);
                    self.closed.push(Closed::from(&r));
                }
                None
            }
            EventBody::SpeechReordered { order, .. } => {
                // Only the slots the listed requests hold change hands; others stay put.
                let slots: Vec<usize> = self
                    .queue
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| order.contains(&r.id))
                    .map(|(i, _)| i)
                    .collect();
                let moved: Vec<Request> = order
                    .iter()
                    .filter_map(|id| self.queue.iter().find(|r| &r.id == id).cloned())
                    .collect();
                if moved.len() == slots.len() {
                    for (slot, r) in slots.into_iter().zip(moved) {
                        self.queue[slot] = r;
                    }
                }
                None
            }
            EventBody::SpeechTimeSet {
                request_id,
                seconds,
                ..
            } => {
                match self.speaking.as_mut() {
                    Some(s) if &s.request.id == request_id => s.seconds = *seconds,
                    _ => {
                        if let Some(r) = self.queue.iter_mut().find(|r| &r.id == request_id) {
                            r.seconds_set = Some(*seconds);
                        }
                    }
                }
                None
            }
            EventBody::SpeechLimitsSet { limits, .. } => {
                self.limits = *limits;
                None
            }
            EventBody::SpeechStarted {
                request_id,
                seconds,
                ..
            } => {
                let p = self.queue.iter().position(|r| &r.id == request_id)?;
                let ended = self.end_speech(at);
                let request = self.queue.remove(p);
                self.speaking = Some(Speaking {
                    request,
                    started_at: at,
                    seconds: *seconds,
                });
                ended
            }
            EventBody::SpeechEnded { request_id, .. } => {
                if self
                    .speaking
                    .as_ref()
                    .is_some_and(|s| &s.request.id == request_id)
                {
                    self.end_speech(at)
                } else {
                    None
                }
            }
            EventBody::FollowSet {
                document_id, page, ..
            } => {
                self.follow = Some(Follow {
                    document_id: document_id.clone(),
                    page: *page,
                    since: at,
                });
                None
            }
            EventBody::FollowStopped { .. } => {
                self.follow = None;
                None
            }
            EventBody::ConsoleDelegated { username, .. } => {
                self.operator = username.clone();
                None
            }
            _ => None,
        }
    }
}

/// One person's speaking in a meeting, for the report (OpenSlides#7143: time per person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SpeakerTotal {
    pub person_id: Id,
    pub speeches: u32,
    /// Seconds actually spoken.
    pub seconds: u64,
    /// Speeches that ran past the time given.
    pub over_time: u32,
    pub by_kind: BTreeMap<SpeechKind, u32>,
}

/// Totals per person, most time first.
pub fn totals(history: &[Speech]) -> Vec<SpeakerTotal> {
    let mut by: BTreeMap<&Id, SpeakerTotal> = BTreeMap::new();
    for s in history {
        let t = by.entry(&s.person_id).or_insert_with(|| SpeakerTotal {
            person_id: s.person_id.clone(),
            speeches: 0,
            seconds: 0,
            over_time: 0,
            by_kind: BTreeMap::new(),
        });
        t.speeches += 1;
        t.seconds += s.spoke_seconds();
        if s.spoke_seconds() > u64::from(s.seconds) {
            t.over_time += 1;
        }
        *t.by_kind.entry(s.kind).or_insert(0) += 1;
    }
    let mut out: Vec<SpeakerTotal> = by.into_values().collect();
    out.sort_by(|a, b| {
        b.seconds
            .cmp(&a.seconds)
            .then(a.person_id.cmp(&b.person_id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::SpeechRequestEntry;
    use time::macros::datetime;

    fn id(n: u8) -> Id {
        Id::parse(&format!("{n:032x}")).unwrap()
    }
    const M: u8 = 3;
    const ITEM: u8 = 4;

    fn t(s: i64) -> OffsetDateTime {
        datetime!(2026-12-01 01:00:00 UTC) + time::Duration::seconds(s)
    }

    fn ask(
        st: &LiveState,
        rid: u8,
        person: u8,
        kind: SpeechKind,
        replies_to: Option<u8>,
    ) -> EventBody {
        let replies_to = replies_to.map(id);
        EventBody::SpeechRequested {
            meeting_id: id(M),
            request: SpeechRequestEntry {
                id: id(rid),
                person_id: id(person),
                item_id: id(ITEM),
                kind,
                before: st.placement(&id(ITEM), kind, replies_to.as_ref()),
                replies_to,
            },
        }
    }

    fn started() -> LiveState {
        let mut st = LiveState::default();
        st.apply(&EventBody::MeetingStarted { meeting_id: id(M) }, t(0));
        st.apply(
            &EventBody::ItemOpened {
                meeting_id: id(M),
                item_id: id(ITEM),
            },
            t(0),
        );
        st
    }

    fn order(st: &LiveState) -> Vec<Id> {
        st.item_queue().map(|r| r.id.clone()).collect()
    }

    #[test]
    fn points_of_order_jump_the_queue_and_replies_follow_their_question() {
        let mut st = started();
        for (rid, p, k) in [(20, 1, SpeechKind::Opinion), (21, 2, SpeechKind::Question)] {
            let e = ask(&st, rid, p, k, None);
            st.apply(&e, t(1));
        }
        let e = ask(&st, 22, 3, SpeechKind::Procedural, None);
        st.apply(&e, t(2));
        let e = ask(&st, 23, 5, SpeechKind::Procedural, None);
        st.apply(&e, t(2));
        assert_eq!(order(&st), vec![id(22), id(23), id(20), id(21)]);
        // A reply to the question goes right after it, not at the end.
        let e = ask(&st, 24, 9, SpeechKind::Opinion, None);
        st.apply(&e, t(3));
        let e = ask(&st, 25, 6, SpeechKind::Reply, Some(21));
        st.apply(&e, t(3));
        assert_eq!(
            order(&st),
            vec![id(22), id(23), id(20), id(21), id(25), id(24)]
        );
    }

    #[test]
    fn a_retried_request_changes_nothing() {
        let mut st = started();
        let e = ask(&st, 20, 1, SpeechKind::Opinion, None);
        st.apply(&e, t(1));
        let before = st.clone();
        st.apply(&e, t(5));
        assert_eq!(st, before);
    }

    #[test]
    fn the_floor_times_the_speech_and_the_history_keeps_it() {
        let mut st = started();
        let e = ask(&st, 20, 1, SpeechKind::Question, None);
        st.apply(&e, t(1));
        let started = EventBody::SpeechStarted {
            meeting_id: id(M),
            request_id: id(20),
            seconds: 180,
        };
        assert_eq!(st.apply(&started, t(10)), None);
        assert_eq!(st.speaking.as_ref().unwrap().started_at, t(10));
        assert!(st.queue.is_empty());
        let ended = st
            .apply(
                &EventBody::SpeechEnded {
                    meeting_id: id(M),
                    request_id: id(20),
                },
                t(250),
            )
            .unwrap();
        assert_eq!(ended.spoke_seconds(), 240);
        assert!(st.knows(&id(20)));
        let report = totals(&[ended]);
        assert_eq!(report[0].seconds, 240);
        assert_eq!(report[0].over_time, 1);
    }

    #[test]
    fn a_recess_stops_the_item_clock_and_ends_the_speech() {
        let mut st = started();
        let e = ask(&st, 20, 1, SpeechKind::Opinion, None);
        st.apply(&e, t(1));
        st.apply(
            &EventBody::SpeechStarted {
                meeting_id: id(M),
                request_id: id(20),
                seconds: 300,
            },
            t(60),
        );
        let ended = st.apply(
            &EventBody::MeetingPaused {
                meeting_id: id(M),
                reason: "Nghỉ giải lao 15 phút".into(),
            },
            t(120),
        );
        assert!(ended.is_some());
        assert_eq!(st.item_elapsed_ms(t(1000)), Some(120_000));
        st.apply(&EventBody::MeetingResumed { meeting_id: id(M) }, t(1020));
        assert_eq!(st.item_elapsed_ms(t(1030)), Some(130_000));
        // Another item and back: the first item's time is kept.
        st.apply(
            &EventBody::ItemOpened {
                meeting_id: id(M),
                item_id: id(7),
            },
            t(1040),
        );
        st.apply(
            &EventBody::ItemOpened {
                meeting_id: id(M),
                item_id: id(ITEM),
            },
            t(1100),
        );
        assert_eq!(st.item_elapsed_ms(t(1100)), Some(140_000));
        assert_eq!(st.item_spent_ms.get(&id(7)), Some(&60_000));
    }

    #[test]
    fn reordering_moves_only_the_listed_requests() {
        let mut st = started();
        for rid in 20..23 {
            let e = ask(&st, rid, rid, SpeechKind::Opinion, None);
            st.apply(&e, t(1));
        }
        st.apply(
            &EventBody::SpeechReordered {
                meeting_id: id(M),
                order: vec![id(22), id(20), id(21)],
            },
            t(2),
        );
        assert_eq!(order(&st), vec![id(22), id(20), id(21)]);
        // A list that does not match the queue changes nothing.
        st.apply(
            &EventBody::SpeechReordered {
                meeting_id: id(M),
                order: vec![id(20), id(99)],
            },
            t(3),
        );
        assert_eq!(order(&st), vec![id(22), id(20), id(21)]);
    }

    #[test]
    fn limits_and_reasons_are_checked() {
        assert!(SpeechLimits::default().check().is_ok());
        let l = SpeechLimits {
            question: 5,
            ..SpeechLimits::default()
        };
        assert_eq!(l.check(), Err(LiveError::BadSeconds));
        assert!(parse_reason("  ").is_err());
        assert!(parse_reason(&"x".repeat(201)).is_err());
        assert_eq!(parse_reason(" Nghỉ trưa ").unwrap(), "Nghỉ trưa");
    }
}
