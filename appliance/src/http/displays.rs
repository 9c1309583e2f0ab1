//! Projector screens paired as read-only displays: the secretary's code, the screen's pairing,
//! the list and the revocation.

use super::error::ApiJson;
use super::people::id;
use super::views::{DisplayCode, DisplayList, DisplayView};
use super::{blocking, client_addr, ApiError, AppState};
use crate::service::displays::{self, PairDisplay, DISPLAY_COOKIE, DISPLAY_DAYS};
use crate::service::Caller;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/displays", get(list))
        .route("/api/displays/code", post(code))
        .route("/api/displays/pair", post(pair))
        .route("/api/displays/{id}", delete(revoke))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeRequest {
    #[serde(default)]
    label: String,
}

/// A new display code, and the QR link with its long form: `/screen?code=…` on the address
/// the secretary's browser used, and the same by the box's IP address.
async fn code(
    State(st): State<AppState>,
    caller: Caller,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<(StatusCode, Json<DisplayCode>), ApiError> {
    let store = st.store.clone();
    let lifetime = st.pairing_code_lifetime;
    let (code, expires_at) =
        blocking(move || Ok(displays::issue_code(&store, &caller, &req.label, lifetime)?)).await?;
    let long = st.pairing_guard.link_form(&code);
    let host = super::request_host(&uri, &headers);
    let link = format!("{}/screen?code={long}", st.site.https_url(host));
    let ip_link = st
        .site
        .https_ip_url()
        .map(|base| format!("{base}/screen?code={long}"));
    Ok((
        StatusCode::CREATED,
        Json(DisplayCode {
            code: code.expose().to_owned(),
            link,
            ip_link,
            expires_at: super::utc(expires_at),
        }),
    ))
}

async fn pair(
    State(st): State<AppState>,
    ext: axum::http::Extensions,
    ApiJson(req): ApiJson<PairDisplay>,
) -> Result<Response, ApiError> {
    let client = client_addr(&ext);
    let st2 = st.clone();
    let paired = blocking(move || {
        Ok(displays::pair(
            &st2.store,
            &st2.pairing_guard,
            &client,
            &req,
        )?)
    })
    .await?;
    let cookie = super::own_cookie(
        DISPLAY_COOKIE,
        paired.token.clone(),
        time::Duration::days(DISPLAY_DAYS),
    )?;
    let mut resp = (
        StatusCode::CREATED,
        Json(DisplayView::from(&paired.display)),
    )
        .into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(resp)
}

async fn list(State(st): State<AppState>, caller: Caller) -> Result<Json<DisplayList>, ApiError> {
    let store = st.store.clone();
    let list = blocking(move || Ok(displays::list(&store, &caller)?)).await?;
    Ok(Json(DisplayList {
        displays: list.iter().map(DisplayView::from).collect(),
    }))
}

async fn revoke(
    State(st): State<AppState>,
    caller: Caller,
    Path(did): Path<String>,
) -> Result<StatusCode, ApiError> {
    let did = id(&did)?;
    let store = st.store.clone();
    blocking(move || Ok(displays::revoke(&store, &caller, &did)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}
