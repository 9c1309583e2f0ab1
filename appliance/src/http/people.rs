//! People, bodies, tablets: the secretary's lists and the pairing of devices.

use super::error::ApiJson;
use super::{blocking, client_addr, ApiError, AppState};
use crate::domain::records::{Body, BodyKind, Device, Id, Person};
use crate::service::devices::{self, PairRequest, DEVICE_COOKIE, DEVICE_DAYS};
use crate::service::{bodies, people, Caller};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(me))
        .route("/api/people", get(list_people).post(add_person))
        .route("/api/people/{id}/pairing-code", post(pairing_code))
        .route("/api/people/{id}/devices", get(person_devices))
        .route("/api/people/{id}/pin", delete(reset_pin))
        .route("/api/devices/pair", post(pair))
        .route("/api/devices/{id}", delete(revoke))
        .route("/api/bodies", get(list_bodies).post(create_body))
        .route("/api/bodies/{id}/members", put(set_members))
}

/// Parses an id from the path; a malformed one is simply not found.
pub fn id(raw: &str) -> Result<Id, ApiError> {
    Id::parse(raw).ok_or(ApiError::NotFound)
}

fn time(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub fn person_json(p: &Person) -> Value {
    json!({
        "id": p.id,
        "name": p.name.as_str(),
        "given_name": p.name.given(),
        "position": p.position.as_ref().map(|v| v.as_str()),
        "unit": p.unit.as_ref().map(|v| v.as_str()),
        "phone": p.phone.as_ref().map(|v| v.as_str()),
    })
}

fn device_json(d: &Device) -> Value {
    json!({
        "id": d.id,
        "label": d.label,
        "paired_at": time(d.paired_at),
        "revoked_at": d.revoked_at.map(time),
    })
}

fn body_json(b: &Body) -> Value {
    json!({"id": b.id, "name": b.name, "kind": b.kind, "quorum": b.quorum, "pass": b.pass, "members": b.members})
}

async fn me(caller: Caller) -> Json<Value> {
    Json(match caller {
        Caller::Anonymous => json!({"kind": "anonymous"}),
        Caller::Staff(a) => json!({
            "kind": "staff",
            "account": {"username": a.username.as_str(), "display_name": a.display_name, "roles": a.roles},
            "person": null,
        }),
        Caller::Device { device, person } => json!({
            "kind": "device",
            "device": device_json(&device),
            "person": person_json(&person),
        }),
    })
}

async fn list_people(State(st): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let store = st.store.clone();
    let rows = blocking(move || Ok(people::list(&store, &caller)?)).await?;
    let people: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = person_json(&r.person);
            v["devices"] = r.devices.into();
            v["has_pin"] = r.has_pin.into();
            v
        })
        .collect();
    Ok(Json(json!({ "people": people })))
}

async fn add_person(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<people::NewPerson>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let store = st.store.clone();
    let p = blocking(move || Ok(people::add(&store, &caller, &input)?)).await?;
    Ok((StatusCode::CREATED, Json(person_json(&p))))
}

async fn pairing_code(
    State(st): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(pid): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let pid = id(&pid)?;
    let store = st.store.clone();
    let (code, expires_at) =
        blocking(move || Ok(devices::issue_code(&store, &caller, &pid)?)).await?;
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let url = format!("{}/pair?code={}", st.site.https_url(host), code.expose());
    Ok((
        StatusCode::CREATED,
        Json(json!({"code": code.expose(), "expires_at": time(expires_at), "url": url})),
    ))
}

async fn person_devices(
    State(st): State<AppState>,
    caller: Caller,
    Path(pid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let pid = id(&pid)?;
    let store = st.store.clone();
    let list = blocking(move || Ok(devices::devices_of(&store, &caller, &pid)?)).await?;
    Ok(Json(
        json!({"devices": list.iter().map(device_json).collect::<Vec<_>>()}),
    ))
}

async fn reset_pin(
    State(st): State<AppState>,
    caller: Caller,
    Path(pid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let pid = id(&pid)?;
    let store = st.store.clone();
    blocking(move || Ok(devices::reset_pin(&store, &caller, &pid)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn pair(
    State(st): State<AppState>,
    ext: axum::http::Extensions,
    ApiJson(req): ApiJson<PairRequest>,
) -> Result<Response, ApiError> {
    let client = client_addr(&ext);
    let st2 = st.clone();
    let paired = blocking(move || {
        Ok(devices::pair(
            &st2.store,
            &st2.pairing_guard,
            &client,
            &req,
        )?)
    })
    .await?;
    let cookie = format!(
        "{DEVICE_COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        paired.token,
        DEVICE_DAYS * 86_400
    );
    let mut resp = (
        StatusCode::CREATED,
        Json(json!({
            "device": device_json(&paired.device),
            "person": person_json(&paired.person),
            "pin_set": paired.pin_set,
        })),
    )
        .into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(resp)
}

async fn revoke(
    State(st): State<AppState>,
    caller: Caller,
    Path(did): Path<String>,
) -> Result<StatusCode, ApiError> {
    let did = id(&did)?;
    let store = st.store.clone();
    blocking(move || Ok(devices::revoke(&store, &caller, &did)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_bodies(State(st): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let store = st.store.clone();
    let list = blocking(move || Ok(bodies::list(&store, &caller)?)).await?;
    Ok(Json(
        json!({"bodies": list.iter().map(body_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewBody {
    name: String,
    kind: BodyKind,
}

async fn create_body(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<NewBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let store = st.store.clone();
    let body = blocking(move || Ok(bodies::create(&store, &caller, &b.name, b.kind)?)).await?;
    Ok((StatusCode::CREATED, Json(body_json(&body))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Members {
    members: Vec<Id>,
}

async fn set_members(
    State(st): State<AppState>,
    caller: Caller,
    Path(bid): Path<String>,
    ApiJson(m): ApiJson<Members>,
) -> Result<Json<Value>, ApiError> {
    let bid = id(&bid)?;
    let store = st.store.clone();
    let body =
        blocking(move || Ok(bodies::set_members(&store, &caller, &bid, &m.members)?)).await?;
    Ok(Json(body_json(&body)))
}
