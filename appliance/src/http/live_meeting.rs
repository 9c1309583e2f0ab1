//! The live meeting's API: the chair's console, the speakers' queue and "follow me". Every
//! command answers with the live view as the caller now sees it; the same changes reach every
//! screen as events on the meeting's feed.

use super::error::ApiJson;
use super::people::id;
use super::views::{LiveView, SpeakerLine, SpeakingReport};
use super::{blocking, ApiError, AppState};
use crate::domain::live::SpeechLimits;
use crate::domain::records::Id;
use crate::service::live::{self, NewRequest, Snapshot};
use crate::service::{Caller, ServiceError};
use crate::store::{records, Store};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/meetings/{id}/live", get(view))
        .route("/api/meetings/{id}/live/start", post(start))
        .route("/api/meetings/{id}/live/pause", post(pause))
        .route("/api/meetings/{id}/live/resume", post(resume))
        .route("/api/meetings/{id}/live/end", post(end))
        .route("/api/meetings/{id}/live/item", post(open_item))
        .route(
            "/api/meetings/{id}/live/speakers",
            post(request).put(reorder),
        )
        .route(
            "/api/meetings/{id}/live/speakers/{rid}",
            axum::routing::delete(withdraw),
        )
        .route("/api/meetings/{id}/live/speakers/{rid}/floor", post(floor))
        .route("/api/meetings/{id}/live/speakers/{rid}/time", put(set_time))
        .route("/api/meetings/{id}/live/floor/end", post(end_floor))
        .route("/api/meetings/{id}/live/limits", put(limits))
        .route(
            "/api/meetings/{id}/live/follow",
            put(follow).delete(unfollow),
        )
        .route("/api/meetings/{id}/live/operator", put(operator))
        .route("/api/meetings/{id}/live/report", get(report))
}

/// Runs one command off the async workers and shapes its answer.
async fn run(
    st: AppState,
    f: impl FnOnce(&Store) -> Result<Snapshot, ServiceError> + Send + 'static,
) -> Result<Json<LiveView>, ApiError> {
    let store = st.store.clone();
    let snap = blocking(move || Ok(f(&store)?)).await?;
    Ok(Json(LiveView::from(&snap)))
}

async fn view(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Json<LiveView>, ApiError> {
    let mid = id(&mid)?;
    run(st, move |s| live::snapshot(s, &caller, &mid)).await
}

/// An empty JSON object, for commands that take nothing (`{}`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Nothing {}

async fn start(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(Nothing {}): ApiJson<Nothing>,
) -> Result<Json<LiveView>, ApiError> {
    let mid = id(&mid)?;
    run(st, move |s| live::start(s, &caller, &mid)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Recess {
    reason: String,
}

async fn pause(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(r): ApiJson<Recess>,
) -> Result<Json<LiveView>, ApiError> {
    let mid = id(&mid)?;
    run(st, move |s| live::pause(s, &caller, &mid, &r.reason)).await
}

async fn resume(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(Nothing {}): ApiJson<Nothing>,
) -> Result<Json<LiveView>, ApiError> {
    let mid = id(&mid)?;
    run(st, move |s| live::resume(s, &caller, &mid)).await
}

async fn end(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(Nothing {}): ApiJson<Nothing>,
) -> Result<Json<LiveView>, ApiError> {
    let mid = id(&mid)?;
    run(st, move |s| live::end(s, &caller, &mid)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenItem {
    item_id: Id,
}

async fn open_item(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(o): ApiJson<OpenItem>,
) -> Result<Json<LiveView>, ApiError> {
    let mid = id(&mid)?;
    run(st, move |s| live::open_item(s, &caller, &mid, &o.item_id)).await
}

async fn request(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(r): ApiJson<NewRequest>,
) -> Result<(StatusCode, Json<LiveView>), ApiError> {
    let mid = id(&mid)?;
    let v = run(st, move |s| live::request(s, &caller, &mid, r)).await?;
    Ok((StatusCode::OK, v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Order {
    order: Vec<Id>,
}

async fn reorder(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(o): ApiJson<Order>,
) -> Result<Json<LiveView>, ApiError> {
    let mid = id(&mid)?;
    run(st, move |s| live::reorder(s, &caller, &mid, o.order)).await
}

async fn withdraw(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, rid)): Path<(String, String)>,
) -> Result<Json<LiveView>, ApiError> {
    let (mid, rid) = (id(&mid)?, id(&rid)?);
    run(st, move |s| live::withdraw(s, &caller, &mid, &rid)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Floor {
    #[serde(default)]
    seconds: Option<u32>,
}

async fn floor(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, rid)): Path<(String, String)>,
    ApiJson(f): ApiJson<Floor>,
) -> Result<Json<LiveView>, ApiError> {
    let (mid, rid) = (id(&mid)?, id(&rid)?);
    run(st, move |s| {
        live::give_floor(s, &caller, &mid, &rid, f.seconds)
    })
    .await
}

async fn end_floor(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(Nothing {}): ApiJson<Nothing>,
) -> Result<Json<LiveView>, ApiError> {
    let mid = id(&mid)?;
    run(st, move |s| live::end_floor(s, &caller, &mid)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Seconds {
    seconds: u32,
}

async fn set_time(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, rid)): Path<(String, String)>,
    ApiJson(t): ApiJson<Seconds>,
) -> Result<Json<LiveView>, ApiError> {
    let (mid, rid) = (id(&mid)?, id(&rid)?);
    run(st, move |s| {
        live::set_time(s, &caller, &mid, &rid, t.seconds)
    })
    .await
}

async fn limits(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(l): ApiJson<SpeechLimits>,
) -> Result<Json<LiveView>, ApiError> {
    let mid = id(&mid)?;
    run(st, move |s| live::set_limits(s, &caller, &mid, l)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowAt {
    document_id: Id,
    page: u32,
}

async fn follow(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(f): ApiJson<FollowAt>,
) -> Result<Json<LiveView>, ApiError> {
    let mid = id(&mid)?;
    run(st, move |s| {
        live::follow(s, &caller, &mid, &f.document_id, f.page)
    })
    .await
}

async fn unfollow(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Json<LiveView>, ApiError> {
    let mid = id(&mid)?;
    run(st, move |s| live::unfollow(s, &caller, &mid)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Operator {
    username: Option<String>,
}

async fn operator(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(o): ApiJson<Operator>,
) -> Result<Json<LiveView>, ApiError> {
    let mid = id(&mid)?;
    run(st, move |s| {
        live::delegate(s, &caller, &mid, o.username.as_deref())
    })
    .await
}

async fn report(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Json<SpeakingReport>, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let (totals, speeches, names) = blocking(move || {
        let (totals, speeches) = live::report(&store, &caller, &mid)?;
        let names = store.read(|t| {
            let mut out = Vec::new();
            for s in &totals {
                out.push(
                    records::person(t, &s.person_id)?
                        .map(|p| p.name.as_str().to_owned())
                        .unwrap_or_default(),
                );
            }
            Ok(out)
        })?;
        Ok((totals, speeches, names))
    })
    .await?;
    let speakers = totals
        .into_iter()
        .zip(names)
        .map(|(t, name)| SpeakerLine {
            person_id: t.person_id,
            name,
            speeches: t.speeches,
            seconds: t.seconds,
            over_time: t.over_time,
            by_kind: t.by_kind,
        })
        .collect();
    Ok(Json(SpeakingReport { speakers, speeches }))
}
