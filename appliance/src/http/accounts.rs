//! Staff accounts: the IT admin's page (list, add, reset a password, disable, remove, end
//! sessions) and every staff member's own password.

use super::error::ApiJson;
use super::{blocking, cookie_value, ApiError, AppState, Staff};
use crate::auth::SESSION_COOKIE;
use crate::domain::{Password, Role};
use crate::service::staff::{self, AccountRow};
use crate::store::Account;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/session/password", post(change_own_password))
        .route("/api/accounts", get(list).post(create))
        .route("/api/accounts/{username}", delete(remove))
        .route("/api/accounts/{username}/password", put(reset_password))
        .route("/api/accounts/{username}/disable", post(disable))
        .route("/api/accounts/{username}/enable", post(enable))
        .route("/api/accounts/{username}/sessions", delete(end_sessions))
}

fn account_json(a: &Account, sessions: Option<usize>) -> Value {
    let mut v = json!({
        "username": a.username.as_str(),
        "display_name": a.display_name,
        "roles": a.roles,
        "disabled": a.disabled,
        "created_at": a.created_at.format(&Rfc3339).unwrap_or_default(),
        "password_set_at": a.password_set_at.and_then(|t| t.format(&Rfc3339).ok()),
    });
    if let Some(n) = sessions {
        v["sessions"] = n.into();
    }
    v
}

async fn list(State(st): State<AppState>, Staff(by): Staff) -> Result<Json<Value>, ApiError> {
    let store = st.store.clone();
    let rows = blocking(move || Ok(staff::list_accounts(&store, &by)?)).await?;
    let accounts: Vec<Value> = rows
        .iter()
        .map(|AccountRow { account, sessions }| account_json(account, Some(*sessions)))
        .collect();
    Ok(Json(json!({"accounts": accounts})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    username: String,
    display_name: String,
    roles: Vec<Role>,
    password: String,
}

async fn create(
    State(st): State<AppState>,
    Staff(by): Staff,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let store = st.store.clone();
    let account = blocking(move || {
        Ok(staff::create_by_admin(
            &store,
            &by,
            &body.username,
            &body.display_name,
            body.roles,
            &body.password,
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(account_json(&account, Some(0)))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    current: String,
    new: String,
}

async fn change_own_password(
    State(st): State<AppState>,
    Staff(by): Staff,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<StatusCode, ApiError> {
    let token = cookie_value(&headers, SESSION_COOKIE)
        .ok_or(ApiError::Unauthenticated)?
        .to_owned();
    let st2 = st.clone();
    blocking(move || {
        Ok(staff::change_own_password(
            &st2.store,
            &st2.sign_in_limiter,
            &by,
            &token,
            &body.current,
            &body.new,
        )?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    password: String,
}

async fn reset_password(
    State(st): State<AppState>,
    Staff(by): Staff,
    Path(username): Path<String>,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<StatusCode, ApiError> {
    let store = st.store.clone();
    blocking(move || {
        // Who may comes first: a secretary learns nothing from a bad password.
        if !by.has(Role::may_manage_accounts) {
            return Err(ApiError::Forbidden);
        }
        let password = Password::parse(&body.password).map_err(ApiError::Invalid)?;
        Ok(staff::reset_password(
            &store,
            Some(&by),
            &username,
            &password,
        )?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn disable(
    State(st): State<AppState>,
    Staff(by): Staff,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let store = st.store.clone();
    blocking(move || Ok(staff::set_disabled(&store, &by, &username, true)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn enable(
    State(st): State<AppState>,
    Staff(by): Staff,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let store = st.store.clone();
    blocking(move || Ok(staff::set_disabled(&store, &by, &username, false)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(st): State<AppState>,
    Staff(by): Staff,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let store = st.store.clone();
    blocking(move || Ok(staff::remove_account(&store, &by, &username)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn end_sessions(
    State(st): State<AppState>,
    Staff(by): Staff,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = st.store.clone();
    let ended = blocking(move || Ok(staff::end_sessions(&store, &by, &username)?)).await?;
    Ok(Json(json!({"ended": ended})))
}
