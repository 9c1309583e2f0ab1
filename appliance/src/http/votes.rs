//! Voting's API: questions on agenda items, opening and closing, ballots from the tablets, the
//! hand count, the signed result; and the coalesced "N have voted" counter on the meeting feed.

use super::error::ApiJson;
use super::people::id;
use super::{blocking, ApiError, AppState};
use crate::domain::records::Id;
use crate::domain::vote::{Method, Outcome, QuestionEntry, SignedResult};
use crate::domain::EventBody;
use crate::service::vote::{
    self, BallotAccepted, BallotInput, Closer, ManualInput, QuestionInput, QuestionSeen,
    QuestionsSeen,
};
use crate::service::{Caller, ServiceError};
use crate::signing::RecordSigner;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/meetings/{id}/questions", get(list).post(add))
        .route(
            "/api/meetings/{id}/questions/{qid}",
            get(one).put(update).delete(remove),
        )
        .route("/api/meetings/{id}/questions/{qid}/open", post(open))
        .route("/api/meetings/{id}/questions/{qid}/close", post(close))
        .route("/api/meetings/{id}/questions/{qid}/ballots", post(ballot))
        .route("/api/meetings/{id}/questions/{qid}/manual", post(manual))
        .route("/api/meetings/{id}/questions/{qid}/result", get(result))
}

/// How often at most the counter goes to a feed.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// "N have voted": what the chair, the projector and the tablets see while a vote is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct VoteProgress {
    pub meeting_id: Id,
    pub question_id: Id,
    /// Ballots (or secret-vote participations) counted so far.
    pub cast: u32,
}

/// The latest counter of each meeting. A feed watches its meeting's; a watch channel keeps
/// only the newest value, so a burst of ballots costs each feed one message per
/// [`PROGRESS_EVERY`], not one per ballot.
#[derive(Default)]
pub struct ProgressBoard {
    meetings: Mutex<HashMap<Id, watch::Sender<Option<VoteProgress>>>>,
}

impl ProgressBoard {
    fn sender(&self, meeting: &Id) -> Option<watch::Sender<Option<VoteProgress>>> {
        let mut m = self.meetings.lock().ok()?;
        Some(
            m.entry(meeting.clone())
                .or_insert_with(|| watch::channel(None).0)
                .clone(),
        )
    }

    pub fn subscribe(&self, meeting: &Id) -> Option<watch::Receiver<Option<VoteProgress>>> {
        self.sender(meeting).map(|s| s.subscribe())
    }

    /// Records a new count; only ever forwards (a late answer never lowers it).
    pub fn set(&self, p: VoteProgress) {
        if let Some(s) = self.sender(&p.meeting_id) {
            s.send_if_modified(|cur| {
                let newer = match cur {
                    Some(c) => c.question_id != p.question_id || c.cast < p.cast,
                    None => true,
                };
                if newer {
                    *cur = Some(p);
                }
                newer
            });
        }
    }
}

/// What the room's screens get of `vote.closed`: the question and what it decided, without
/// the signed record.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ResultSummary {
    pub meeting_id: Id,
    pub question_id: Id,
    pub question: QuestionEntry,
    pub outcome: Outcome,
    pub method: Method,
    pub electorate: crate::domain::vote::Electorate,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub closed_at: time::OffsetDateTime,
    /// Whether the full record names each voter's choice (a named vote).
    pub named: bool,
}

impl ResultSummary {
    pub fn of(body: &EventBody) -> Option<Self> {
        match body {
            EventBody::VoteClosed {
                meeting_id,
                question_id,
                result,
            } => Some(ResultSummary {
                meeting_id: meeting_id.clone(),
                question_id: question_id.clone(),
                question: result.record.question.clone(),
                outcome: result.record.outcome.clone(),
                method: result.record.method.clone(),
                electorate: result.record.electorate,
                closed_at: result.record.closed_at,
                named: result.record.question.secrecy == crate::domain::vote::Secrecy::Named,
            }),
            _ => None,
        }
    }
}

fn signer(st: &AppState) -> Result<Arc<RecordSigner>, ApiError> {
    st.signer.clone().ok_or_else(|| {
        ApiError::from(ServiceError::Refused(crate::service::Refusal::Vote(
            crate::domain::vote::VoteError::Unsigned,
        )))
    })
}

async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Json<QuestionsSeen>, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(vote::list(&store, &caller, &mid)?)).await?,
    ))
}

async fn one(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, qid)): Path<(String, String)>,
) -> Result<Json<QuestionSeen>, ApiError> {
    let (mid, qid) = (id(&mid)?, id(&qid)?);
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(vote::get(&store, &caller, &mid, &qid)?)).await?,
    ))
}

async fn add(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(input): ApiJson<QuestionInput>,
) -> Result<(StatusCode, Json<QuestionSeen>), ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let q = blocking(move || Ok(vote::add(&store, &caller, &mid, input)?)).await?;
    Ok((StatusCode::CREATED, Json(q)))
}

async fn update(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, qid)): Path<(String, String)>,
    ApiJson(input): ApiJson<QuestionInput>,
) -> Result<Json<QuestionSeen>, ApiError> {
    let (mid, qid) = (id(&mid)?, id(&qid)?);
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(vote::update(&store, &caller, &mid, &qid, input)?)).await?,
    ))
}

async fn remove(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, qid)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (mid, qid) = (id(&mid)?, id(&qid)?);
    let store = st.store.clone();
    blocking(move || Ok(vote::remove(&store, &caller, &mid, &qid)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An empty JSON object, for commands that take nothing (`{}`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Nothing {}

async fn open(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, qid)): Path<(String, String)>,
    ApiJson(Nothing {}): ApiJson<Nothing>,
) -> Result<Json<QuestionSeen>, ApiError> {
    let (mid, qid) = (id(&mid)?, id(&qid)?);
    let store = st.store.clone();
    let meeting = mid.clone();
    let q = blocking(move || Ok(vote::open(&store, &caller, &mid, &qid)?)).await?;
    st.votes.set(VoteProgress {
        meeting_id: meeting,
        question_id: q.question.question.id.clone(),
        cast: q.question.cast,
    });
    Ok(Json(q))
}

async fn close(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, qid)): Path<(String, String)>,
    ApiJson(Nothing {}): ApiJson<Nothing>,
) -> Result<Json<QuestionSeen>, ApiError> {
    let (mid, qid) = (id(&mid)?, id(&qid)?);
    let store = st.store.clone();
    let signer = signer(&st)?;
    let q = blocking(move || {
        vote::close(&store, &signer, Closer::Caller(&caller), &mid, &qid)?;
        Ok(vote::get(&store, &caller, &mid, &qid)?)
    })
    .await?;
    Ok(Json(q))
}

async fn ballot(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, qid)): Path<(String, String)>,
    ApiJson(input): ApiJson<BallotInput>,
) -> Result<Json<BallotAccepted>, ApiError> {
    let (mid, qid) = (id(&mid)?, id(&qid)?);
    // The checks (a signature verification each) run a few at a time, so a burst of a
    // thousand ballots does not grow a thread per ballot; waiting for the write costs no
    // thread at all.
    let checked = {
        let _turn = st
            .ballot_checks
            .acquire()
            .await
            .map_err(|_| ApiError::from(ServiceError::Internal("shutting down".into())))?;
        let store = st.store.clone();
        blocking(move || Ok(vote::check_ballot(&store, &caller, &mid, &qid, input)?)).await?
    };
    let meeting = checked.meeting_id().clone();
    let reply = checked.accepted(0);
    let (answer, start) = st.ballots.enqueue(checked)?;
    if start {
        let (queue, store) = (st.ballots.clone(), st.store.clone());
        tokio::task::spawn_blocking(move || queue.drain(&store));
    }
    let cast = answer.await.map_err(|_| {
        ApiError::from(ServiceError::Internal("the ballot writer stopped".into()))
    })??;
    let accepted = BallotAccepted { cast, ..reply };
    st.votes.set(VoteProgress {
        meeting_id: meeting,
        question_id: accepted.question_id.clone(),
        cast: accepted.cast,
    });
    Ok(Json(accepted))
}

async fn manual(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, qid)): Path<(String, String)>,
    ApiJson(input): ApiJson<ManualInput>,
) -> Result<Json<QuestionSeen>, ApiError> {
    let (mid, qid) = (id(&mid)?, id(&qid)?);
    let store = st.store.clone();
    let signer = signer(&st)?;
    let q = blocking(move || {
        vote::manual(&store, &signer, &caller, &mid, &qid, input)?;
        Ok(vote::get(&store, &caller, &mid, &qid)?)
    })
    .await?;
    Ok(Json(q))
}

async fn result(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, qid)): Path<(String, String)>,
) -> Result<Json<SignedResult>, ApiError> {
    let (mid, qid) = (id(&mid)?, id(&qid)?);
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(vote::signed_result(&store, &caller, &mid, &qid)?)).await?,
    ))
}

/// Closes votes whose countdown has run out; runs until `stop` flips.
pub async fn countdown_loop(st: AppState, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick() => {}
        }
        let Some(signer) = st.signer.clone() else {
            continue;
        };
        let store = st.store.clone();
        let done = tokio::task::spawn_blocking(move || -> Result<usize, ServiceError> {
            let now = time::OffsetDateTime::now_utc();
            let mut n = 0;
            for (m, q, at) in vote::countdowns(&store)? {
                if at <= now {
                    vote::close(&store, &signer, Closer::Countdown, &m, &q)?;
                    n += 1;
                }
            }
            Ok(n)
        })
        .await;
        match done {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(closed = n, "votes closed by their countdown"),
            Ok(Err(e)) => tracing::warn!("closing a vote by its countdown failed: {e}"),
            Err(e) => tracing::warn!("the countdown task failed: {e}"),
        }
    }
}
