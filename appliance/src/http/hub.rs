//! The central office's API for IT staff (enrolment tokens, the boxes, revoking one), the
//! enrolment a box makes with its token, and a box's own sync status and "sync now" button.

use super::error::ApiJson;
use super::{blocking, client_addr, ApiError, AppState};
use crate::domain::Role;
use crate::service::hub::{self, BoxOverview, EnrolReply, EnrolRequest, IssuedToken};
use crate::service::{Caller, ServiceError};
use crate::sync::client::SyncStatus;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/hub/enrolments", get(list_enrolments).post(issue))
        .route("/api/hub/enrol", post(enrol))
        .route("/api/hub/boxes", get(boxes))
        .route("/api/hub/updates", get(update_offers))
        .route("/api/hub/boxes/{node}/revoke", post(revoke))
        .route("/api/hub/boxes/{node}/meetings", get(archive_meetings))
        .route("/api/hub/boxes/{node}/meetings/{id}", get(archive_meeting))
        .route("/api/hub/meetings", get(office_meetings))
        .route("/api/hub/meetings/{id}/handover", post(hand_over))
        .route("/api/sync/status", get(status))
        .route("/api/sync/now", post(sync_now))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRequest {
    room: String,
}

async fn issue(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<IssueRequest>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let (store, ca) = (st.store.clone(), st.ca.clone());
    let issued =
        blocking(move || Ok(hub::issue_enrolment(&store, &ca, &caller, &req.room)?)).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

async fn list_enrolments(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<crate::domain::hub::Enrolment>>, ApiError> {
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(hub::enrolments(&store, &caller)?)).await?,
    ))
}

/// A box enrols with its token. The token is the credential, so wrong tokens count against
/// the caller's address like wrong passwords do.
async fn enrol(
    State(st): State<AppState>,
    ext: axum::http::Extensions,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> Result<Json<EnrolReply>, ApiError> {
    let client = format!("enrol:{}", client_addr(&ext));
    let Some(sync_port) = st.hub_sync_port else {
        return Err(ServiceError::Refused(crate::service::Refusal::Hub(
            crate::domain::hub::HubRefusal::WrongRole,
        ))
        .into());
    };
    let attempt = st
        .sign_in_limiter
        .attempt(&client)
        .map_err(ApiError::LockedOut)?;
    let (store, ca) = (st.store.clone(), st.ca.clone());
    let result = blocking(move || Ok(hub::enrol_box(&store, &ca, &req, sync_port)?)).await;
    match &result {
        Err(ApiError::Refused(crate::service::Refusal::Hub(
            crate::domain::hub::HubRefusal::TokenInvalid,
        ))) => {
            attempt.failed();
        }
        Ok(_) => attempt.succeeded(),
        Err(_) => {}
    }
    result.map(Json)
}

async fn boxes(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<BoxOverview>>, ApiError> {
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(hub::boxes(&store, &caller)?)).await?,
    ))
}

/// The releases the hub offered to its boxes (IT staff).
async fn update_offers(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<hub::UpdateOffers>, ApiError> {
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(hub::update_offers(&store, &caller)?)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeRequest {
    #[serde(default)]
    reason: String,
}

async fn revoke(
    State(st): State<AppState>,
    caller: Caller,
    Path(node): Path<String>,
    ApiJson(req): ApiJson<RevokeRequest>,
) -> Result<Json<crate::domain::hub::EnrolledBox>, ApiError> {
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(hub::revoke_box(&store, &caller, &node, &req.reason)?)).await?,
    ))
}

async fn archive_meetings(
    State(st): State<AppState>,
    caller: Caller,
    Path(node): Path<String>,
) -> Result<Json<Vec<crate::service::archive::ArchivedMeetingSummary>>, ApiError> {
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(crate::service::archive::meetings(&store, &caller, &node)?)).await?,
    ))
}

async fn archive_meeting(
    State(st): State<AppState>,
    caller: Caller,
    Path((node, mid)): Path<(String, String)>,
) -> Result<Json<crate::service::archive::ArchivedMeeting>, ApiError> {
    let mid = super::people::id(&mid)?;
    let store = st.store.clone();
    Ok(Json(
        blocking(move || {
            Ok(crate::service::archive::meeting(
                &store, &caller, &node, &mid,
            )?)
        })
        .await?,
    ))
}

/// The sync status, with which root tablets should trust (own or the province's).
#[derive(serde::Serialize)]
struct StatusView {
    #[serde(flatten)]
    sync: SyncStatus,
    trust: crate::tls::TrustInfo,
}

async fn status(State(st): State<AppState>, caller: Caller) -> Result<Json<StatusView>, ApiError> {
    caller.require(Role::may_manage_sync)?;
    let (store, sync) = (st.store.clone(), st.sync.clone());
    let sync = blocking(move || Ok(sync.status(&store))).await?;
    Ok(Json(StatusView {
        sync,
        trust: st.ca.trust_info(),
    }))
}

async fn sync_now(State(st): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    caller.require(Role::may_manage_sync)?;
    if st.sync.sync_now() {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::Conflict(
            "Hộp này chưa đăng ký với trung tâm (phonghop enroll).".into(),
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HandoverRequest {
    node: String,
}

/// The office hands a meeting it prepared to a room box.
async fn hand_over(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(req): ApiJson<HandoverRequest>,
) -> Result<Json<crate::domain::records::MeetingHeader>, ApiError> {
    let mid = super::people::id(&mid)?;
    let store = st.store.clone();
    Ok(Json(
        blocking(move || {
            Ok(crate::service::handover::hand_over(
                &store, &caller, &mid, &req.node,
            )?)
        })
        .await?,
    ))
}

/// The meetings prepared at the office, with where each was handed and whether its room has it.
async fn office_meetings(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<crate::service::handover::OfficeMeeting>>, ApiError> {
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(crate::service::handover::office_meetings(&store, &caller)?)).await?,
    ))
}
