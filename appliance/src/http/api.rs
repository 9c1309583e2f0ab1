//! The JSON API for the room and for staff sessions.

use super::error::ApiJson;
use super::{
    blocking, client_addr, cookie_value, own_cookie, ApiError, AppState, MaybeStaff, Staff,
};
use crate::auth::{SESSION_COOKIE, SESSION_HOURS};
use crate::domain::EventEnvelope;
use crate::service::{room, staff};
use crate::store::Account;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/room", get(get_room).put(put_room))
        .route("/api/room/notices", post(post_notice).delete(delete_notice))
        .route(
            "/api/session",
            get(get_session).post(post_session).delete(delete_session),
        )
}

/// The event as live feeds and write responses show it.
pub(super) fn event_json(e: &EventEnvelope) -> Value {
    let body = serde_json::to_value(&e.body)
        .ok()
        .and_then(|mut v| v.get_mut("body").map(Value::take))
        .unwrap_or(Value::Null);
    json!({
        "seq": e.seq,
        "kind": e.body.kind(),
        "at": e.at.format(&Rfc3339).unwrap_or_default(),
        "body": body,
    })
}

/// The record's integrity as staff screens show it.
pub(super) fn integrity_json(i: &crate::store::Integrity) -> Value {
    use crate::store::Integrity;
    match i {
        Integrity::Broken(b) => json!({
            "status": "broken", "origin": b.origin, "seq": b.seq, "reason": b.reason,
        }),
        Integrity::Intact { events } => json!({"status": "intact", "events": events}),
        Integrity::CheckedFromCheckpoint { upto } => json!({"status": "checking", "upto": upto}),
    }
}

/// What the landing page needs. Public: anyone on the room's Wi-Fi may see the room's name.
async fn get_room(State(st): State<AppState>) -> Result<Json<Value>, ApiError> {
    let room = st.store.room()?;
    let head = st.store.head_seq()?;
    let notice = room
        .notice
        .map(|n| json!({"text": n.text.as_str(), "at": super::utc(n.at), "seq": n.seq}));
    Ok(Json(json!({
        "name": room.name.as_str(),
        "node_id": st.store.node_id().as_str(),
        "role": st.store.role().as_str(),
        "version": crate::update::running_version(),
        "head_seq": head,
        "notice": notice,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameBody {
    name: String,
}

async fn put_room(
    State(st): State<AppState>,
    Staff(by): Staff,
    ApiJson(body): ApiJson<RenameBody>,
) -> Result<Json<Value>, ApiError> {
    let store = st.store.clone();
    let e = blocking(move || Ok(room::rename(&store, &by, &body.name)?)).await?;
    Ok(Json(event_json(&e)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeBody {
    text: String,
}

async fn post_notice(
    State(st): State<AppState>,
    Staff(by): Staff,
    ApiJson(body): ApiJson<NoticeBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let store = st.store.clone();
    let e = blocking(move || Ok(room::post_notice(&store, &by, &body.text)?)).await?;
    Ok((StatusCode::CREATED, Json(event_json(&e))))
}

async fn delete_notice(
    State(st): State<AppState>,
    Staff(by): Staff,
) -> Result<StatusCode, ApiError> {
    let store = st.store.clone();
    blocking(move || Ok(room::clear_notice(&store, &by)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn account_json(a: &Account) -> Value {
    json!({"username": a.username.as_str(), "display_name": a.display_name, "roles": a.roles})
}

async fn get_session(
    State(st): State<AppState>,
    MaybeStaff(who): MaybeStaff,
) -> Result<Json<Value>, ApiError> {
    match who {
        // Staff are told at once if the record's chain is broken.
        Some(a) => Ok(Json(json!({
            "signed_in": true,
            "account": account_json(&a),
            "integrity": integrity_json(&st.store.integrity()),
            // Document files found not to match their hash (`GET /api/integrity` says which).
            "damaged_blobs": st.store.blobs().damaged().len(),
        }))),
        None => Ok(Json(json!({"signed_in": false}))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInBody {
    username: String,
    password: String,
}

async fn post_session(
    State(st): State<AppState>,
    req_ext: axum::http::Extensions,
    ApiJson(body): ApiJson<SignInBody>,
) -> Result<Response, ApiError> {
    let client = client_addr(&req_ext);
    let st2 = st.clone();
    let (token, account) = blocking(move || {
        Ok(staff::sign_in(
            &st2.store,
            &st2.sign_in_limiter,
            &client,
            &body.username,
            &body.password,
        )?)
    })
    .await?;
    let cookie = own_cookie(SESSION_COOKIE, token, time::Duration::hours(SESSION_HOURS))?;
    let mut resp =
        Json(json!({"signed_in": true, "account": account_json(&account)})).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(resp)
}

async fn delete_session(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        let store = st.store.clone();
        blocking(move || Ok(staff::sign_out(&store, &token)?)).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        own_cookie(SESSION_COOKIE, String::new(), time::Duration::ZERO)?,
    );
    Ok(resp)
}
