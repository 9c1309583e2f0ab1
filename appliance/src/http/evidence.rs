//! The evidence package of a closed vote as a download: the signed result, its certificates,
//! the voters' device keys, the PDF and a README in one ZIP (see `crate::evidence`).

use super::people::id;
use super::{blocking, ApiError, AppState};
use crate::service::vote;
use crate::service::Caller;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/meetings/{id}/questions/{qid}/evidence.zip",
        get(evidence_zip),
    )
}

/// Anyone with a role in the meeting, once the vote is closed (the same rule as `/result`).
async fn evidence_zip(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, qid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (mid, qid) = (id(&mid)?, id(&qid)?);
    let store = st.store.clone();
    let root = st.ca.own_root_pem();
    let (name, zip) = blocking(move || {
        let signed = vote::signed_result(&store, &caller, &mid, &qid)?;
        let zip = crate::evidence::package(&signed, &root)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok((crate::evidence::file_name(&signed.record), zip))
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                super::prepare::disposition("attachment", &name),
            ),
        ],
        zip,
    )
        .into_response())
}
