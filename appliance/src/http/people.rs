//! People, bodies, tablets: the secretary's lists and the pairing of devices.

use super::error::ApiJson;
use super::{blocking, client_addr, ApiError, AppState};
use crate::domain::records::{Body, BodyKind, Device, Id, Person};
use crate::service::devices::{self, PairRequest, DEVICE_COOKIE, DEVICE_DAYS};
use crate::service::import::{self as people_import, RowProblem};
use crate::service::{bodies, people, Caller, Refusal};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(me))
        .route("/api/people", get(list_people).post(add_person))
        .route("/api/people/import/preview", post(import_preview))
        .route("/api/people/import", post(import_commit))
        .route("/api/people/{id}/pairing-code", post(pairing_code))
        .route("/api/people/{id}/devices", get(person_devices))
        .route("/api/people/{id}/pin", delete(reset_pin))
        .route("/api/devices/pair", post(pair))
        .route("/api/devices/events", get(device_events))
        .route("/api/devices/{id}", delete(revoke))
        .route("/api/bodies", get(list_bodies).post(create_body))
        .route("/api/bodies/{id}", put(set_rules))
        .route("/api/bodies/{id}/members", put(set_members))
}

/// Parses an id from the path; a malformed one is simply not found.
pub fn id(raw: &str) -> Result<Id, ApiError> {
    Id::parse(raw).ok_or(ApiError::NotFound)
}

fn time(t: time::OffsetDateTime) -> String {
    super::utc(t)
}

pub fn person_json(p: &Person) -> Value {
    serde_json::to_value(super::views::PersonView::from(p)).unwrap_or(Value::Null)
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
    json!({"id": b.id, "name": b.name, "kind": b.kind, "quorum": b.quorum, "pass": b.pass,
        "publish_lead_days": b.publish_lead_days, "members": b.members})
}

async fn set_rules(
    State(st): State<AppState>,
    caller: Caller,
    Path(bid): Path<String>,
    ApiJson(r): ApiJson<bodies::RulesInput>,
) -> Result<Json<Value>, ApiError> {
    let bid = id(&bid)?;
    let store = st.store.clone();
    let body = blocking(move || Ok(bodies::set_rules(&store, &caller, &bid, &r)?)).await?;
    Ok(Json(body_json(&body)))
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
        Caller::Display(display) => json!({
            "kind": "display",
            "display": super::views::DisplayView::from(&display),
            "person": null,
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

/// A new pairing code. The link is built from the address the secretary's own browser used
/// (HTTP/2 carries it in `:authority`, not `Host`), so the tablet beside them can open it too;
/// `ip_url` is the same link by the box's IP address, for tablets that cannot resolve
/// `.local` names. Both links carry the long form of the code
/// (see [`crate::domain::device::PairingCode`]).
async fn pairing_code(
    State(st): State<AppState>,
    caller: Caller,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    Path(pid): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let pid = id(&pid)?;
    let store = st.store.clone();
    let lifetime = st.pairing_code_lifetime;
    let (code, expires_at) =
        blocking(move || Ok(devices::issue_code(&store, &caller, &pid, lifetime)?)).await?;
    let link = st.pairing_guard.link_form(&code);
    let host = super::request_host(&uri, &headers);
    let url = format!("{}/pair?code={link}", st.site.https_url(host));
    let ip_url = st
        .site
        .https_ip_url()
        .map(|base| format!("{base}/pair?code={link}"));
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "code": code.expose(),
            "expires_at": time(expires_at),
            "url": url,
            "ip_url": ip_url,
        })),
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

/// Who may follow pairings: staff who hand out codes or revoke tablets.
fn may_watch_devices(caller: &Caller) -> bool {
    use crate::domain::Role;
    caller.staff_may(Role::may_pair_devices) || caller.staff_may(Role::may_revoke_devices)
}

/// The rules of the devices feed: pairings and revocations of tablets and projector screens,
/// for as long as the caller's session still allows it (a sign-out ends the feed).
struct DeviceFeed {
    store: crate::store::Store,
    headers: axum::http::HeaderMap,
}

impl super::live::FeedRules for DeviceFeed {
    fn decide(&self, e: &crate::domain::EventEnvelope) -> super::live::Decision {
        use crate::domain::EventBody;
        match e.body {
            EventBody::DevicePaired { .. }
            | EventBody::DeviceRevoked { .. }
            | EventBody::DisplayPaired { .. }
            | EventBody::DisplayRevoked { .. } => super::live::Decision::Whole,
            _ => super::live::Decision::Skip,
        }
    }

    fn still_allowed(&self) -> bool {
        super::resolve_caller(&self.store, &self.headers).is_ok_and(|c| may_watch_devices(&c))
    }
}

/// `GET /api/devices/events`: tablets paired and revoked, live, for the staff who hand out
/// codes or revoke tablets. The desk shows each pairing at once, so a pairing nobody at the
/// desk expected (a guessed code) is seen while the meeting is still on.
async fn device_events(
    State(st): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    axum::extract::Query(q): axum::extract::Query<super::live::Since>,
) -> Result<Response, ApiError> {
    if !may_watch_devices(&caller) {
        caller.require(crate::domain::Role::may_pair_devices)?;
    }
    let live_rx = st.store.subscribe();
    let after = super::live::start_point(&st, &headers, &q)?;
    let rules = DeviceFeed {
        store: st.store.clone(),
        headers,
    };
    Ok(super::live::stream_from(st, live_rx, after, rules).into_response())
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
    let cookie = super::own_cookie(
        DEVICE_COOKIE,
        paired.token.clone(),
        time::Duration::days(DEVICE_DAYS),
    )?;
    let mut resp = (
        StatusCode::CREATED,
        Json(json!({
            "device": device_json(&paired.device),
            "person": person_json(&paired.person),
            "pin_set": paired.pin_set,
        })),
    )
        .into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
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

/// Percent-decodes the `X-File-Name` header (UTF-8 names travel encoded).
pub fn decode_file_name(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn problem_json(p: &RowProblem) -> Value {
    use crate::import::{LetterDamage, RowError};
    let (field, code, vi, en) = match p {
        RowProblem::Exists => (
            "name",
            "row.exists",
            "Người này đã có trong danh sách của phòng họp.".to_owned(),
            "This person is already on the box.".to_owned(),
        ),
        RowProblem::Row(RowError::Field(e)) => {
            let (code, vi, en) = super::error::person_error(e);
            (e.field(), code, vi, en)
        }
        RowProblem::Row(RowError::Duplicate { first_line }) => (
            "name",
            "row.duplicate",
            format!("Trùng người với dòng {first_line} (cùng họ tên, cùng số điện thoại)."),
            format!("Same person as row {first_line} (same name and phone)."),
        ),
        RowProblem::Row(RowError::Repeated { first_line }) => (
            "name",
            "row.repeated",
            format!("Dòng này lặp lại dòng {first_line}."),
            format!("This row repeats row {first_line}."),
        ),
        RowProblem::Row(RowError::DamagedLetters { field, damage }) => (
            *field,
            match damage {
                LetterDamage::Lost => "row.lost_letters",
                LetterDamage::Misread => "row.misread_letters",
            },
            match damage {
                LetterDamage::Lost => "Chữ có dấu đã mất, bị thay bằng “?”.".to_owned(),
                LetterDamage::Misread => "Chữ có dấu bị đọc sai bảng mã.".to_owned(),
            },
            match damage {
                LetterDamage::Lost => "Accented letters were lost to “?”.".to_owned(),
                LetterDamage::Misread => {
                    "Accented letters were read in the wrong encoding.".to_owned()
                }
            },
        ),
        RowProblem::Row(RowError::SpreadsheetError { field, value }) => (
            *field,
            "row.spreadsheet_error",
            format!("Ô có lỗi Excel {value}."),
            format!("The cell shows the spreadsheet error {value}."),
        ),
    };
    json!({"field": field, "code": code, "message": vi, "message_en": en})
}

async fn import_preview(
    State(st): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    // Who is asking comes first: nobody else gets to make the box hold a 5 MB body.
    caller.require(crate::domain::Role::may_manage_meetings)?;
    let limit = crate::import::MAX_BYTES;
    let bytes = axum::body::to_bytes(body, limit + 1)
        .await
        .map_err(|_| ApiError::Refused(Refusal::ImportTooLarge))?;
    let name = headers
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(decode_file_name)
        .unwrap_or_default();
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let st2 = st.clone();
    let pv = blocking(move || {
        Ok(people_import::preview(
            &st2.store,
            &st2.imports,
            &caller,
            &bytes,
            &name,
            ctype.as_deref(),
        )?)
    })
    .await?;
    let rows: Vec<Value> = pv
        .rows
        .iter()
        .map(|r| {
            json!({
                "line": r.line,
                "ok": r.problems.is_empty(),
                "cells": {
                    "name": r.cells.name,
                    "position": r.cells.position,
                    "unit": r.cells.unit,
                    "phone": r.cells.phone,
                    "role": r.cells.role,
                },
                "person": r.draft.as_ref().map(|d| json!({
                    "name": d.name.as_str(),
                    "position": d.position.as_ref().map(|v| v.as_str()),
                    "unit": d.unit.as_ref().map(|v| v.as_str()),
                    "phone": d.phone.as_ref().map(|v| v.as_str()),
                    "kind": d.kind.to_string(),
                })),
                "errors": r.problems.iter().map(problem_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let format = match &pv.format {
        crate::import::ImportFormat::Xlsx { .. } => "xlsx",
        crate::import::ImportFormat::Csv { .. } => "csv",
    };
    let damage = pv.damage.map(|d| {
        let (code, vi, en) = super::error::letter_damage(d);
        json!({"code": code, "message": vi, "message_en": en})
    });
    Ok(Json(json!({
        "preview_id": pv.id,
        "format": format,
        "header_row": pv.header_row,
        "rows": rows,
        "valid": pv.valid(),
        "invalid": pv.invalid(),
        "damage": damage,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportCommit {
    preview_id: Id,
    #[serde(default)]
    skip_invalid: bool,
    #[serde(default)]
    body_id: Option<Id>,
}

async fn import_commit(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(c): ApiJson<ImportCommit>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let st2 = st.clone();
    let done = blocking(move || {
        Ok(people_import::commit(
            &st2.store,
            &st2.imports,
            &caller,
            &c.preview_id,
            c.skip_invalid,
            c.body_id.as_ref(),
        )?)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"imported": done.imported, "skipped": done.skipped})),
    ))
}
