//! A delegate's marks on documents and notes on agenda items: read what one may see, save
//! one's own. The same changes reach the owner's other tablets (and whom a mark is shared
//! with) as `annotation.saved` / `item_note.saved` on the meeting's feed.

use super::error::ApiJson;
use super::people::id;
use super::{blocking, ApiError, AppState};
use crate::service::annotations::{
    self, AnnotationInput, AnnotationSaved, AnnotationsSeen, NoteInput, NoteSaved,
};
use crate::service::Caller;
use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/meetings/{id}/annotations", get(list))
        .route("/api/meetings/{id}/annotations/{aid}", put(save))
        .route("/api/meetings/{id}/items/{item}/note", put(save_note))
        .route(
            "/api/meetings/{id}/documents/{doc}/versions/{n}/annotated.pdf",
            get(annotated),
        )
}

/// "Bản có ghi chú của tôi": the version with the caller's own marks drawn in.
async fn annotated(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, did, n)): Path<(String, String, String)>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let (mid, did) = (id(&mid)?, id(&did)?);
    let n: u32 = n
        .parse()
        .map_err(|_| ApiError::from(crate::service::ServiceError::NotFound))?;
    let store = st.store.clone();
    let (bytes, name) =
        blocking(move || Ok(annotations::annotated_copy(&store, &caller, &mid, &did, n)?)).await?;
    let disposition = super::prepare::disposition("attachment", &name);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Json<AnnotationsSeen>, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(annotations::list(&store, &caller, &mid)?)).await?,
    ))
}

async fn save(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, aid)): Path<(String, String)>,
    ApiJson(input): ApiJson<AnnotationInput>,
) -> Result<Json<AnnotationSaved>, ApiError> {
    let (mid, aid) = (id(&mid)?, id(&aid)?);
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(annotations::save(&store, &caller, &mid, &aid, input)?)).await?,
    ))
}

async fn save_note(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, item)): Path<(String, String)>,
    ApiJson(input): ApiJson<NoteInput>,
) -> Result<Json<NoteSaved>, ApiError> {
    let (mid, item) = (id(&mid)?, id(&item)?);
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(annotations::save_note(&store, &caller, &mid, &item, input)?)).await?,
    ))
}
