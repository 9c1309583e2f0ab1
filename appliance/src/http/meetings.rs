//! Meetings, attendance with the live quorum, and the seating map.

use super::error::ApiJson;
use super::live::{self, Decision, FeedRules, Since};
use super::people::id;
use super::views::{AttendanceRow, AttendanceSheet, MeetingList, MeetingView};
use super::{blocking, resolve_caller, ApiError, AppState};
use crate::domain::annotation::Sharing;
use crate::domain::records::{Assignments, Id, Layout, MeetingHeader};
use crate::domain::visibility::{self, Shown};
use crate::domain::{EventBody, EventEnvelope};
use crate::service::attendance::{self, Mark, Row};
use crate::service::meetings::{self, MeetingRole, NewMeeting};
use crate::service::{prepare, seating, Caller};
use crate::store::{records, Store};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/meetings", get(list).post(create))
        .route(
            "/api/meetings/{id}",
            get(one).put(super::prepare::set_details),
        )
        .route("/api/meetings/{id}/events", get(events))
        .route("/api/meetings/{id}/attendance", get(sheet))
        .route("/api/meetings/{id}/attendance.csv", get(csv))
        .route("/api/meetings/{id}/check-in", post(check_in))
        .route("/api/meetings/{id}/absence", post(absence))
        .route("/api/meetings/{id}/attendance/{person}", put(mark))
        .route("/api/meetings/{id}/seats", get(seats).put(assign))
        .route("/api/room/layout", get(layout).put(save_layout))
}

fn row_json(r: &Row) -> Json<AttendanceRow> {
    Json(AttendanceRow::from(r))
}

async fn list(State(st): State<AppState>, caller: Caller) -> Result<Json<MeetingList>, ApiError> {
    let store = st.store.clone();
    let meetings = blocking(move || {
        let mut out = Vec::new();
        for (m, r) in meetings::list(&store, &caller)? {
            let w = prepare::publish_warning(&store, &m)?;
            let mut v = MeetingView::of(&m, r, caller.viewer(), w);
            v.live_phase = store.read(|t| records::live(t, &m.id))?.phase;
            out.push(v);
        }
        Ok(out)
    })
    .await?;
    Ok(Json(MeetingList { meetings }))
}

async fn create(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewMeeting>,
) -> Result<(StatusCode, Json<MeetingView>), ApiError> {
    let store = st.store.clone();
    let m = blocking(move || Ok(meetings::create(&store, &caller, input)?)).await?;
    Ok((
        StatusCode::CREATED,
        Json(MeetingView::of(
            &m,
            MeetingRole::Secretary,
            visibility::Viewer::Anonymous,
            None,
        )),
    ))
}

async fn one(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Json<MeetingView>, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let (mut v, mine) = blocking(move || {
        let (m, role) = meetings::visible(&store, &caller, &mid)?;
        let warning = prepare::publish_warning(&store, &m)?;
        let mine = match caller.person_id() {
            Some(p) => attendance::sheet(&store, &caller, &mid)?
                .rows
                .into_iter()
                .find(|r| &r.person.id == p),
            None => None,
        };
        let mut v = MeetingView::of(&m, role, caller.viewer(), warning);
        v.live_phase = store.read(|t| records::live(t, &mid))?.phase;
        Ok((v, mine))
    })
    .await?;
    v.my_seat = Some(mine.as_ref().and_then(|r| r.seat.clone()));
    v.my_attendance = Some(mine.as_ref().map(AttendanceRow::from));
    Ok(Json(v))
}

/// Meeting headers as of an access epoch, shared by every feed of the meeting: with a room full
/// of tablets, one header is read and held once, not once per tablet. A header's fields that
/// decide who sees what (chair, members, guests, status and where it was submitted and
/// published) change only with events that move the epoch.
#[derive(Default)]
pub struct SharedHeaders {
    map: std::sync::Mutex<std::collections::HashMap<Id, (u64, Arc<MeetingHeader>)>>,
}

impl SharedHeaders {
    /// Meetings whose header is kept; beyond it the oldest epoch's go first.
    const KEEP: usize = 64;

    fn get(&self, store: &Store, meeting: &Id) -> Option<Arc<MeetingHeader>> {
        let epoch = store.access_epoch();
        if let Ok(map) = self.map.lock() {
            if let Some((at, h)) = map.get(meeting) {
                if *at == epoch {
                    return Some(h.clone());
                }
            }
        }
        let header = Arc::new(store.read(|t| records::meeting_header(t, meeting)).ok()??);
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= Self::KEEP {
                map.retain(|_, (at, _)| *at == epoch);
            }
            map.insert(meeting.clone(), (epoch, header.clone()));
        }
        Some(header)
    }
}

/// One client's view of a meeting's feed. Every event is judged by the visibility policy
/// against the caller, the meeting and the document as they are when it is sent, so a replay
/// shows no more than the API would now, and a change of rules reaches feeds already open.
struct MeetingFeed {
    store: Store,
    meeting: Id,
    /// The client's cookies, resolved again whenever the store's access epoch moves.
    headers: HeaderMap,
    shared: Arc<SharedHeaders>,
    /// The last answer to "who is watching, in what role", the access epoch it was given at,
    /// and when: until the epoch moves nothing that answer depends on has changed, except time
    /// itself (a session that expires), so it is also asked again after [`WATCHER_AGE`].
    known: std::sync::Mutex<Option<(u64, Instant, Watcher)>>,
    /// The meeting's "N have voted".
    progress: Option<tokio::sync::watch::Receiver<Option<super::votes::VoteProgress>>>,
}

/// How long a feed trusts its answer to "who is watching" while nothing moves the access
/// epoch: the longest an expired session's feed stays open.
const WATCHER_AGE: Duration = Duration::from_secs(30);

/// Who watches, their role and the meeting's header.
type Watcher = Option<Arc<(Caller, MeetingRole, Arc<MeetingHeader>)>>;

impl MeetingFeed {
    /// The caller now, and their role in the meeting now; `None` if they may no longer watch.
    fn current(&self) -> Watcher {
        let caller = resolve_caller(&self.store, &self.headers).ok()?;
        let header = self.shared.get(&self.store, &self.meeting)?;
        let role = meetings::role_in(&caller, &header)?;
        Some(Arc::new((caller, role, header)))
    }

    /// Like [`Self::current`], answered from the last time when the access epoch has not moved
    /// since and the answer is recent. The epoch is read before asking, so a change during the
    /// question is seen next time.
    fn watcher(&self) -> Watcher {
        let epoch = self.store.access_epoch();
        if let Ok(known) = self.known.lock() {
            if let Some((at, when, w)) = known.as_ref() {
                if *at == epoch && when.elapsed() < WATCHER_AGE {
                    return w.clone();
                }
            }
        }
        let w = self.current();
        if let Ok(mut known) = self.known.lock() {
            *known = Some((epoch, Instant::now(), w.clone()));
        }
        w
    }
}

/// The document an event is about, if any.
fn document_of(body: &EventBody) -> Option<&Id> {
    match body {
        EventBody::DocumentAdded { document, .. } => Some(&document.id),
        EventBody::FollowSet { document_id, .. } => Some(document_id),
        EventBody::AnnotationSaved { annotation, .. } => Some(&annotation.document_id),
        EventBody::DocumentVersionAdded { document_id, .. }
        | EventBody::DocumentUpdated { document_id, .. }
        | EventBody::DocumentRemoved { document_id, .. } => Some(document_id),
        _ => None,
    }
}

impl FeedRules for MeetingFeed {
    fn decide(&self, e: &EventEnvelope) -> Decision {
        // A sealed mark or note is judged, and sent, as the plain event it stands for.
        if let Ok(Some(plain)) = self.store.open_sealed(e) {
            return match self.decide_plain(&plain) {
                Decision::Whole => {
                    Decision::Send(live::sse_json(&plain, &super::api::event_json(&plain)))
                }
                other => other,
            };
        }
        self.decide_plain(e)
    }

    fn still_allowed(&self) -> bool {
        self.still_allowed_now()
    }

    fn progress(&self) -> Option<tokio::sync::watch::Receiver<Option<super::votes::VoteProgress>>> {
        self.progress_now()
    }
}

impl MeetingFeed {
    fn decide_plain(&self, e: &EventEnvelope) -> Decision {
        if e.body.meeting_id() != Some(&self.meeting) {
            // Another subject: only the caller can have changed (a revocation, an account
            // disabled).
            return match self.watcher() {
                Some(_) => Decision::Skip,
                None => Decision::End,
            };
        }
        let Some(watcher) = self.watcher() else {
            return Decision::End;
        };
        let (caller, role, header) = &*watcher;
        let document = match document_of(&e.body) {
            Some(d) => match self
                .store
                .read(|t| records::meeting_document(t, &self.meeting, d))
            {
                Ok(found) => found,
                Err(_) => return Decision::End,
            },
            None => None,
        };
        // A mark sent to the presenter reaches the presenter person of its item as it is now.
        let presenter = match (&e.body, &document) {
            (
                EventBody::AnnotationSaved {
                    annotation,
                    shared_before,
                    ..
                },
                Some(d),
            ) if annotation.sharing == Sharing::Presenter
                || *shared_before == Sharing::Presenter =>
            {
                match self
                    .store
                    .read(|t| records::agenda_item(t, &self.meeting, &d.item_id))
                {
                    Ok(item) => item.and_then(|i| i.presenter_id),
                    Err(_) => return Decision::End,
                }
            }
            _ => None,
        };
        let shown = visibility::meeting_event(
            caller.viewer(),
            *role,
            header,
            e.seq,
            &e.body,
            document.as_ref(),
            presenter.as_ref(),
        );
        match shown {
            Shown::Hidden => Decision::Skip,
            Shown::Whole => Decision::Whole,
            Shown::WithoutReason => {
                let mut v = super::api::event_json(e);
                v["body"]["reason"] = Value::Null;
                Decision::Send(live::sse_json(e, &v))
            }
            Shown::DocumentHidden => {
                let mut v = super::api::event_json(e);
                v["body"] = json!({
                    "meeting_id": self.meeting,
                    "document_id": document_of(&e.body),
                    "hidden": true,
                });
                Decision::Send(live::sse_json(e, &v))
            }
            Shown::FollowHidden => {
                let mut v = super::api::event_json(e);
                v["body"] = json!({"meeting_id": self.meeting, "hidden": true});
                Decision::Send(live::sse_json(e, &v))
            }
            Shown::AnnotationHidden => {
                let annotation_id = match &e.body {
                    EventBody::AnnotationSaved { annotation, .. } => Some(&annotation.id),
                    _ => None,
                };
                let mut v = super::api::event_json(e);
                v["body"] = json!({
                    "meeting_id": self.meeting,
                    "annotation_id": annotation_id,
                    "hidden": true,
                });
                Decision::Send(live::sse_json(e, &v))
            }
            Shown::ResultSummary => match super::votes::ResultSummary::of(&e.body) {
                Some(summary) => {
                    let v = json!({
                        "seq": e.seq,
                        "at": e.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                        "kind": e.body.kind(),
                        "body": summary,
                    });
                    Decision::Send(live::sse_json(e, &v))
                }
                None => Decision::Skip,
            },
        }
    }

    fn still_allowed_now(&self) -> bool {
        self.watcher().is_some()
    }

    fn progress_now(
        &self,
    ) -> Option<tokio::sync::watch::Receiver<Option<super::votes::VoteProgress>>> {
        self.progress.clone()
    }
}

/// The meeting's live feed, for the people who may see the meeting.
async fn events(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(mid): Path<String>,
    Query(q): Query<Since>,
) -> Result<Response, ApiError> {
    let mid = id(&mid)?;
    let live_rx = st.store.subscribe();
    let store = st.store.clone();
    let check = mid.clone();
    blocking(move || Ok(meetings::visible_header(&store, &caller, &check)?)).await?;
    let after = live::start_point(&st, &headers, &q)?;
    let mid_for_progress = mid.clone();
    let rules = MeetingFeed {
        store: st.store.clone(),
        meeting: mid,
        headers,
        shared: st.meeting_headers.clone(),
        known: std::sync::Mutex::new(None),
        progress: st.votes.subscribe(&mid_for_progress),
    };
    Ok(live::stream_from(st, live_rx, after, rules).into_response())
}

async fn sheet(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Json<AttendanceSheet>, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let s = blocking(move || Ok(attendance::sheet(&store, &caller, &mid)?)).await?;
    Ok(Json(AttendanceSheet::from(&s)))
}

async fn csv(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Response, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let (title, body) = blocking(move || Ok(attendance::csv(&store, &caller, &mid)?)).await?;
    let disposition = super::prepare::disposition("attachment", &format!("diem-danh-{title}.csv"));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

async fn check_in(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Json<AttendanceRow>, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let r = blocking(move || Ok(attendance::check_in(&store, &caller, &mid)?)).await?;
    Ok(row_json(&r))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Absence {
    #[serde(default)]
    reason: String,
}

async fn absence(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(a): ApiJson<Absence>,
) -> Result<Json<AttendanceRow>, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let r = blocking(move || Ok(attendance::absence(&store, &caller, &mid, &a.reason)?)).await?;
    Ok(row_json(&r))
}

async fn mark(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, pid)): Path<(String, String)>,
    ApiJson(m): ApiJson<Mark>,
) -> Result<Json<AttendanceRow>, ApiError> {
    let (mid, pid) = (id(&mid)?, id(&pid)?);
    let store = st.store.clone();
    let r = blocking(move || Ok(attendance::mark(&store, &caller, &mid, &pid, m)?)).await?;
    Ok(row_json(&r))
}

async fn layout(State(st): State<AppState>, caller: Caller) -> Result<Json<Layout>, ApiError> {
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(seating::layout(&store, &caller)?)).await?,
    ))
}

async fn save_layout(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(l): ApiJson<Layout>,
) -> Result<Json<Layout>, ApiError> {
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(seating::save_layout(&store, &caller, l)?)).await?,
    ))
}

async fn seats(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let (layout, assignments) =
        blocking(move || Ok(seating::seats(&store, &caller, &mid)?)).await?;
    Ok(Json(json!({"layout": layout, "assignments": assignments})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assign {
    assignments: Assignments,
}

async fn assign(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(a): ApiJson<Assign>,
) -> Result<Json<Value>, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let assignments =
        blocking(move || Ok(seating::assign(&store, &caller, &mid, a.assignments)?)).await?;
    Ok(Json(json!({"assignments": assignments})))
}
