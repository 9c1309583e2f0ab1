//! Running the meeting live: the chair's console (start, recess, resume, end, the agenda item
//! under discussion), the speakers' queue, the floor and its time, and "follow me". The chair
//! runs it, or the secretary the chair handed the console to; delegates ask to speak from
//! their own tablet. Every change is an event, so a reload, a reconnect or a restart of the
//! box shows exactly the same state.

use super::meetings::{visible_header, MeetingRole};
use super::{Caller, Refusal, ServiceError};
use crate::domain::event::SpeechRequestEntry;
use crate::domain::live::{
    self, check_seconds, LiveError, LiveState, Phase, Speech, SpeechKind, SpeechLimits,
};
use crate::domain::records::{Id, Meeting, MeetingHeader, MeetingStatus};
use crate::domain::visibility::{self, runs_meeting};
use crate::domain::{EventBody, Role, Username};
use crate::store::{records, Store};
use time::OffsetDateTime;

impl From<LiveError> for ServiceError {
    fn from(e: LiveError) -> Self {
        ServiceError::Refused(Refusal::Live(e))
    }
}

/// The live meeting as one caller may see it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub meeting: MeetingHeader,
    pub role: MeetingRole,
    pub state: LiveState,
    pub history: Vec<Speech>,
    /// The log's head this snapshot reflects: a feed opened `?since=` it misses nothing.
    pub seq: u64,
    /// The box's clock when the snapshot was read.
    pub now: OffsetDateTime,
    /// Whether the caller may run the console.
    pub can_run: bool,
    /// Whether the caller may see the document being followed.
    pub follow_visible: bool,
}

fn is_operator(caller: &Caller, state: &LiveState) -> bool {
    match (caller, &state.operator) {
        (Caller::Staff(a), Some(op)) => &a.username == op,
        _ => false,
    }
}

/// The live state of a meeting, for anyone with a role in it.
pub fn snapshot(store: &Store, caller: &Caller, meeting_id: &Id) -> Result<Snapshot, ServiceError> {
    let (_, role) = visible_header(store, caller, meeting_id)?;
    snapshot_as(store, caller, meeting_id, role)
}

/// The snapshot for a caller whose role in the meeting a command has just established.
fn snapshot_as(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    role: MeetingRole,
) -> Result<Snapshot, ServiceError> {
    let (seq, (meeting, state, history, follow_doc)) = store.read_with_head(|t| {
        let meeting = records::meeting_header(t, meeting_id)?;
        let state = records::live(t, meeting_id)?;
        let history = records::speeches(t, meeting_id)?;
        let follow_doc = match &state.follow {
            Some(f) => records::document(t, &f.document_id)?.map(|(_, d)| d),
            None => None,
        };
        Ok((meeting, state, history, follow_doc))
    })?;
    let meeting = meeting.ok_or(ServiceError::NotFound)?;
    let follow_visible = follow_doc
        .as_ref()
        .is_some_and(|d| visibility::sees_document(caller.viewer(), role, d));
    Ok(Snapshot {
        can_run: runs_meeting(role, is_operator(caller, &state)),
        meeting,
        role,
        state,
        history,
        seq,
        now: OffsetDateTime::now_utc(),
        follow_visible,
    })
}

/// Runs one console command: the caller must run the meeting; `decide` sees the meeting and
/// its live state as last committed and returns the events (none: nothing to change).
fn operate(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    decide: impl FnOnce(&Meeting, &LiveState) -> Result<Vec<EventBody>, ServiceError>,
) -> Result<Snapshot, ServiceError> {
    let (_, role) = visible_header(store, caller, meeting_id)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let (meeting, state) = tx.read(|t| {
            Ok((
                records::meeting(t, meeting_id)?,
                records::live(t, meeting_id)?,
            ))
        })?;
        let meeting = meeting.ok_or(ServiceError::NotFound)?;
        super::meetings::not_handed_over(&meeting)?;
        if !runs_meeting(role, is_operator(caller, &state)) {
            return Err(ServiceError::Forbidden);
        }
        Ok((decide(&meeting, &state)?, ()))
    })?;
    snapshot_as(store, caller, meeting_id, role)
}

/// Refuses when the meeting is not under way (not started, or over).
fn under_way(state: &LiveState) -> Result<(), LiveError> {
    match state.phase {
        Phase::NotStarted => Err(LiveError::NotStarted),
        Phase::Ended => Err(LiveError::Ended),
        Phase::Running | Phase::Paused => Ok(()),
    }
}

/// The event that ends the current speech, if someone has the floor.
fn end_current(meeting: &Id, state: &LiveState) -> Option<EventBody> {
    state.speaking.as_ref().map(|s| EventBody::SpeechEnded {
        meeting_id: meeting.clone(),
        request_id: s.request.id.clone(),
    })
}

/// Khai mạc: opens the meeting and, if none is open, its first agenda item.
pub fn start(store: &Store, caller: &Caller, meeting_id: &Id) -> Result<Snapshot, ServiceError> {
    operate(store, caller, meeting_id, |m, st| {
        if m.status != MeetingStatus::Published {
            return Err(Refusal::WrongStatus(m.status).into());
        }
        match st.phase {
            Phase::NotStarted => {}
            Phase::Ended => return Err(LiveError::Ended.into()),
            Phase::Running | Phase::Paused => return Err(LiveError::AlreadyStarted.into()),
        }
        let mut out = vec![EventBody::MeetingStarted {
            meeting_id: m.id.clone(),
        }];
        if st.item.is_none() {
            if let Some(first) = m.agenda.first() {
                out.push(EventBody::ItemOpened {
                    meeting_id: m.id.clone(),
                    item_id: first.id.clone(),
                });
            }
        }
        Ok(out)
    })
}

/// A recess with its reason; whoever has the floor stops.
pub fn pause(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    reason: &str,
) -> Result<Snapshot, ServiceError> {
    operate(store, caller, meeting_id, |m, st| {
        let reason = live::parse_reason(reason)?;
        under_way(st)?;
        if st.phase != Phase::Running {
            return Err(LiveError::NotRunning.into());
        }
        let mut out: Vec<EventBody> = end_current(&m.id, st).into_iter().collect();
        out.push(EventBody::MeetingPaused {
            meeting_id: m.id.clone(),
            reason,
        });
        Ok(out)
    })
}

pub fn resume(store: &Store, caller: &Caller, meeting_id: &Id) -> Result<Snapshot, ServiceError> {
    operate(store, caller, meeting_id, |m, st| {
        under_way(st)?;
        if st.phase != Phase::Paused {
            return Err(LiveError::NotPaused.into());
        }
        Ok(vec![EventBody::MeetingResumed {
            meeting_id: m.id.clone(),
        }])
    })
}

/// Bế mạc: closes the meeting; requests still waiting lapse.
pub fn end(store: &Store, caller: &Caller, meeting_id: &Id) -> Result<Snapshot, ServiceError> {
    operate(store, caller, meeting_id, |m, st| {
        under_way(st)?;
        let mut out: Vec<EventBody> = end_current(&m.id, st).into_iter().collect();
        out.push(EventBody::MeetingEnded {
            meeting_id: m.id.clone(),
        });
        Ok(out)
    })
}

/// Moves the meeting to an agenda item; whoever has the floor stops.
pub fn open_item(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    item_id: &Id,
) -> Result<Snapshot, ServiceError> {
    operate(store, caller, meeting_id, |m, st| {
        under_way(st)?;
        if !m.agenda.iter().any(|i| &i.id == item_id) {
            return Err(LiveError::UnknownItem.into());
        }
        if st.current_item() == Some(item_id) {
            return Ok(vec![]);
        }
        let mut out: Vec<EventBody> = end_current(&m.id, st).into_iter().collect();
        out.push(EventBody::ItemOpened {
            meeting_id: m.id.clone(),
            item_id: item_id.clone(),
        });
        Ok(out)
    })
}

/// A request to speak, as the tablet or the console sends it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// Chosen by the client: a retry with the same id changes nothing.
    pub request_id: Id,
    pub kind: SpeechKind,
    /// Someone else, added by whoever runs the meeting (a raised hand).
    #[serde(default)]
    pub person_id: Option<Id>,
    /// For a reply: the question it answers.
    #[serde(default)]
    pub replies_to: Option<Id>,
    /// The console's one-tap intervention: the person gets the floor at once, in the same
    /// write (their waiting request, if they already have one on this item).
    #[serde(default)]
    pub floor: bool,
}

/// Xin phát biểu. A delegate asks for themself (checked in, on the current item); whoever runs
/// the meeting may add anyone invited. A retried request, or a second one from the same person
/// on the same item, changes nothing.
pub fn request(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    input: NewRequest,
) -> Result<Snapshot, ServiceError> {
    let (_, role) = visible_header(store, caller, meeting_id)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let (meeting, state) = tx.read(|t| {
            Ok((
                records::meeting_header(t, meeting_id)?,
                records::live(t, meeting_id)?,
            ))
        })?;
        let meeting = meeting.ok_or(ServiceError::NotFound)?;
        let runs = runs_meeting(role, is_operator(caller, &state));
        let own = caller.person_id();
        let person = match (&input.person_id, own) {
            (Some(p), _) if runs => p.clone(),
            (Some(p), Some(me)) if p == me => me.clone(),
            (None, Some(me)) => me.clone(),
            _ => return Err(ServiceError::Forbidden),
        };
        let for_self = own == Some(&person);
        if for_self && !runs && !visibility::may_request_floor(caller.viewer(), role) {
            return Err(ServiceError::Forbidden);
        }
        if input.floor && !runs {
            return Err(ServiceError::Forbidden);
        }
        if state.knows(&input.request_id) {
            return Ok((vec![], ()));
        }
        under_way(&state)?;
        if input.floor && state.phase != Phase::Running {
            return Err(LiveError::NotRunning.into());
        }
        let item = state.current_item().cloned().ok_or(LiveError::NoItem)?;
        if !meeting.is_invited(&person) {
            return Err(ServiceError::NotFound);
        }
        if !runs {
            let mark = tx.read(|t| records::attendance_of(t, meeting_id, &person))?;
            if !mark.status.in_room() {
                return Err(LiveError::NotPresent.into());
            }
        }
        if let Some(open) = state.open_request_of(&person, &item) {
            // A second request is the first; "now" gives that one the floor.
            let waiting = state.queue.iter().any(|r| r.id == open.id);
            if !(input.floor && waiting) {
                return Ok((vec![], ()));
            }
            let mut out: Vec<EventBody> = end_current(meeting_id, &state).into_iter().collect();
            out.push(EventBody::SpeechStarted {
                meeting_id: meeting_id.clone(),
                request_id: open.id.clone(),
                seconds: open.seconds_set.unwrap_or_else(|| state.limits.of(open.kind)),
            });
            return Ok((out, ()));
        }
        if !runs && state.requests_of(&person) >= live::MAX_REQUESTS_PER_PERSON {
            tracing::warn!(meeting = %meeting_id, person = %person, "request to speak refused: too many from one person");
            return Err(LiveError::TooManyRequests.into());
        }
        match (input.kind, &input.replies_to) {
            (SpeechKind::Reply, Some(q)) => {
                let history = tx.read(|t| records::speeches(t, meeting_id))?;
                let is_question = state
                    .open_request(q)
                    .map(|r| (r.kind, &r.item_id))
                    .or_else(|| {
                        history
                            .iter()
                            .find(|s| &s.id == q)
                            .map(|s| (s.kind, &s.item_id))
                    })
                    .is_some_and(|(k, i)| k == SpeechKind::Question && i == &item);
                if !is_question {
                    return Err(LiveError::BadReply.into());
                }
            }
            (_, Some(_)) => return Err(LiveError::BadReply.into()),
            (_, None) => {}
        }
        let before = state.placement(&item, input.kind, input.replies_to.as_ref());
        let mut out = vec![EventBody::SpeechRequested {
            meeting_id: meeting_id.clone(),
            request: SpeechRequestEntry {
                id: input.request_id.clone(),
                person_id: person,
                item_id: item,
                kind: input.kind,
                replies_to: input.replies_to.clone(),
                before,
            },
        }];
        if input.floor {
            out.extend(end_current(meeting_id, &state));
            out.push(EventBody::SpeechStarted {
                meeting_id: meeting_id.clone(),
                request_id: input.request_id.clone(),
                seconds: state.limits.of(input.kind),
            });
        }
        Ok((out, ()))
    })?;
    snapshot_as(store, caller, meeting_id, role)
}

/// Withdraws a waiting request: its own tablet, or whoever runs the meeting.
pub fn withdraw(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    request_id: &Id,
) -> Result<Snapshot, ServiceError> {
    let (_, role) = visible_header(store, caller, meeting_id)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let state = tx.read(|t| records::live(t, meeting_id))?;
        let runs = runs_meeting(role, is_operator(caller, &state));
        let owner = state.owner(request_id).ok_or(LiveError::UnknownRequest)?;
        if !runs && caller.person_id() != Some(owner) {
            return Err(ServiceError::Forbidden);
        }
        if state.closed.iter().any(|c| &c.id == request_id) {
            // A retried withdrawal, or one that came after the request was heard.
            return Ok((vec![], ()));
        }
        if state
            .speaking
            .as_ref()
            .is_some_and(|s| &s.request.id == request_id)
        {
            return Err(LiveError::AlreadySpeaking.into());
        }
        Ok((
            vec![EventBody::SpeechWithdrawn {
                meeting_id: meeting_id.clone(),
                request_id: request_id.clone(),
            }],
            (),
        ))
    })?;
    snapshot_as(store, caller, meeting_id, role)
}

/// The chair's new order for the current item's queue: exactly the requests waiting now.
pub fn reorder(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    order: Vec<Id>,
) -> Result<Snapshot, ServiceError> {
    operate(store, caller, meeting_id, |m, st| {
        under_way(st)?;
        let mut now: Vec<&Id> = st.item_queue().map(|r| &r.id).collect();
        let mut asked: Vec<&Id> = order.iter().collect();
        now.sort();
        asked.sort();
        if now != asked {
            return Err(LiveError::StaleOrder.into());
        }
        Ok(vec![EventBody::SpeechReordered {
            meeting_id: m.id.clone(),
            order: order.clone(),
        }])
    })
}

/// Gives the floor to a waiting request, for `seconds` (else the time set for the person,
/// else the kind's); whoever was speaking stops.
pub fn give_floor(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    request_id: &Id,
    seconds: Option<u32>,
) -> Result<Snapshot, ServiceError> {
    operate(store, caller, meeting_id, |m, st| {
        let seconds = seconds.map(check_seconds).transpose()?;
        under_way(st)?;
        if st.phase != Phase::Running {
            return Err(LiveError::NotRunning.into());
        }
        if st
            .speaking
            .as_ref()
            .is_some_and(|s| &s.request.id == request_id)
        {
            return Err(LiveError::AlreadySpeaking.into());
        }
        let r = st
            .queue
            .iter()
            .find(|r| &r.id == request_id)
            .ok_or(LiveError::UnknownRequest)?;
        let seconds = seconds
            .or(r.seconds_set)
            .unwrap_or_else(|| st.limits.of(r.kind));
        let mut out: Vec<EventBody> = end_current(&m.id, st).into_iter().collect();
        out.push(EventBody::SpeechStarted {
            meeting_id: m.id.clone(),
            request_id: request_id.clone(),
            seconds,
        });
        Ok(out)
    })
}

/// Ends the current speech.
pub fn end_floor(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
) -> Result<Snapshot, ServiceError> {
    operate(store, caller, meeting_id, |m, st| {
        under_way(st)?;
        end_current(&m.id, st)
            .map(|e| vec![e])
            .ok_or_else(|| LiveError::NobodySpeaking.into())
    })
}

/// A speaking time for one waiting person, or more time for the current speaker.
pub fn set_time(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    request_id: &Id,
    seconds: u32,
) -> Result<Snapshot, ServiceError> {
    operate(store, caller, meeting_id, |m, st| {
        let seconds = check_seconds(seconds)?;
        under_way(st)?;
        if st.open_request(request_id).is_none() {
            return Err(LiveError::UnknownRequest.into());
        }
        Ok(vec![EventBody::SpeechTimeSet {
            meeting_id: m.id.clone(),
            request_id: request_id.clone(),
            seconds,
        }])
    })
}

/// Speaking time per kind, for requests given the floor from now on.
pub fn set_limits(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    limits: SpeechLimits,
) -> Result<Snapshot, ServiceError> {
    operate(store, caller, meeting_id, |m, st| {
        let limits = limits.check()?;
        if st.phase == Phase::Ended {
            return Err(LiveError::Ended.into());
        }
        if st.limits == limits {
            return Ok(vec![]);
        }
        Ok(vec![EventBody::SpeechLimitsSet {
            meeting_id: m.id.clone(),
            limits,
        }])
    })
}

/// "Follow me": every following tablet opens this document at this page.
pub fn follow(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    document_id: &Id,
    page: u32,
) -> Result<Snapshot, ServiceError> {
    operate(store, caller, meeting_id, |m, st| {
        if !(1..=live::MAX_PAGE).contains(&page) {
            return Err(LiveError::BadPage.into());
        }
        if st.phase == Phase::Ended {
            return Err(LiveError::Ended.into());
        }
        if !m.documents.iter().any(|d| &d.id == document_id) {
            return Err(LiveError::UnknownDocument.into());
        }
        if st
            .follow
            .as_ref()
            .is_some_and(|f| &f.document_id == document_id && f.page == page)
        {
            return Ok(vec![]);
        }
        Ok(vec![EventBody::FollowSet {
            meeting_id: m.id.clone(),
            document_id: document_id.clone(),
            page,
        }])
    })
}

pub fn unfollow(store: &Store, caller: &Caller, meeting_id: &Id) -> Result<Snapshot, ServiceError> {
    operate(store, caller, meeting_id, |m, st| {
        Ok(if st.follow.is_some() {
            vec![EventBody::FollowStopped {
                meeting_id: m.id.clone(),
            }]
        } else {
            vec![]
        })
    })
}

/// The chair hands the console to a secretary's account (`None`: takes it back).
pub fn delegate(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    username: Option<&str>,
) -> Result<Snapshot, ServiceError> {
    let (_, role) = visible_header(store, caller, meeting_id)?;
    if role != MeetingRole::Chair {
        return Err(ServiceError::Forbidden);
    }
    let username = username
        .map(|u| Username::parse(u).map_err(|_| LiveError::BadOperator))
        .transpose()?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        if let Some(u) = &username {
            let ok = tx
                .account(u)?
                .is_some_and(|a| !a.disabled && a.has(Role::may_manage_meetings));
            if !ok {
                return Err(LiveError::BadOperator.into());
            }
        }
        let state = tx.read(|t| records::live(t, meeting_id))?;
        if state.operator == username {
            return Ok((vec![], ()));
        }
        Ok((
            vec![EventBody::ConsoleDelegated {
                meeting_id: meeting_id.clone(),
                username: username.clone(),
            }],
            (),
        ))
    })?;
    snapshot_as(store, caller, meeting_id, role)
}

/// Who spoke how often and how long (for the minutes), with every speech.
pub fn report(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
) -> Result<(Vec<live::SpeakerTotal>, Vec<Speech>), ServiceError> {
    let s = snapshot(store, caller, meeting_id)?;
    Ok((live::totals(&s.history), s.history))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, RoomName};
    use crate::store::{Account, NodeRole};

    #[test]
    fn every_console_event_records_who_ran_it() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::init(dir.path(), &RoomName::parse("P").unwrap(), NodeRole::Room).unwrap();
        crate::demo::seed(&store).unwrap();
        let meeting = store
            .read(crate::store::records::meeting_headers)
            .unwrap()
            .remove(0);
        let chair = Caller::Staff(Account {
            username: Username::parse("chutri").unwrap(),
            display_name: "Chủ trì".into(),
            roles: vec![Role::Chair],
            created_at: OffsetDateTime::now_utc(),
            disabled: false,
            password_set_at: None,
        });
        let head = store.head_seq().unwrap();
        start(&store, &chair, &meeting.id).unwrap();
        pause(&store, &chair, &meeting.id, "Nghỉ giải lao 15 phút").unwrap();
        let events = store.events_after(head, 10).unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.body.kind()).collect();
        assert_eq!(
            kinds,
            ["meeting.started", "agenda.item_opened", "meeting.paused"]
        );
        for e in &events {
            assert_eq!(
                e.actor,
                Actor::Staff {
                    username: "chutri".into()
                }
            );
        }
    }
}
