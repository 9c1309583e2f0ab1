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

/// Annotated copies made at once. Each holds the PDF in memory two to three times over (the
/// stored bytes, the parsed document, then the copy and its read-back: about 140 MB for a
/// 60 MB scan), so a room's tablets asking for a large document together must not take a
/// small box's memory.
pub const EXPORTS_AT_ONCE: usize = 2;
/// How long a request waits for its turn before it is told to try again.
const EXPORT_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// The annotated copies being made: at most [`EXPORTS_AT_ONCE`] made at once in all, and one
/// per person being made or sent, so one tablet firing requests (or reading slowly) holds one
/// place, not all of them.
pub struct Exports {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    people: std::sync::Mutex<std::collections::HashSet<crate::domain::records::Id>>,
}

impl Default for Exports {
    fn default() -> Self {
        Exports {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(EXPORTS_AT_ONCE)),
            people: Default::default(),
        }
    }
}

/// A person's place among the copies being made; freed when dropped. It moves into the work
/// that makes the copy, so a client that hangs up does not free the place while its copy is
/// still being made.
struct ExportTurn {
    exports: std::sync::Arc<Exports>,
    person: crate::domain::records::Id,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for ExportTurn {
    fn drop(&mut self) {
        if let Ok(mut people) = self.exports.people.lock() {
            people.remove(&self.person);
        }
    }
}

impl Exports {
    /// Waits for a place for `person`; refused at once if their previous copy is still being
    /// made, and after [`EXPORT_WAIT`] if others hold every place.
    async fn turn(
        self: &std::sync::Arc<Self>,
        person: &crate::domain::records::Id,
    ) -> Result<ExportTurn, ApiError> {
        {
            let mut people = self.people.lock().map_err(|_| ApiError::ExportBusy)?;
            if !people.insert(person.clone()) {
                return Err(ApiError::ExportBusy);
            }
        }
        let mut turn = ExportTurn {
            exports: self.clone(),
            person: person.clone(),
            permit: None,
        };
        match tokio::time::timeout(EXPORT_WAIT, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => {
                turn.permit = Some(permit);
                Ok(turn)
            }
            Ok(Err(_)) => Err(ApiError::Unavailable),
            Err(_) => Err(ApiError::ExportBusy),
        }
    }
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
    // Only a tablet gets a copy (the service refuses the others at once).
    let turn = match &caller {
        Caller::Device { person, .. } => Some(st.exports.turn(&person.id).await?),
        _ => None,
    };
    // The place moves into the work that makes the copy (a handler dropped midway does not
    // free it early) and comes back with the copy. The person's place then travels with the
    // body and is freed when the last byte is sent or the tablet hangs up, so a tablet that
    // reads slowly holds one copy in memory, not one per request.
    let (bytes, name, mut turn) = blocking(move || {
        let (bytes, name) = annotations::annotated_copy(&store, &caller, &mid, &did, n)?;
        Ok((bytes, name, turn))
    })
    .await?;
    // Made: another copy may be made now (a slow reader must not hold the room's places),
    // while this person's place stays with the body.
    if let Some(t) = turn.as_mut() {
        t.permit = None;
    }
    let disposition = super::prepare::disposition("attachment", &name);
    let length = bytes.len();
    let body = futures_util::stream::unfold(
        (bytes::Bytes::from(bytes), 0usize, turn),
        |(bytes, at, turn)| async move {
            (at < bytes.len()).then(|| {
                let end = (at + EXPORT_CHUNK).min(bytes.len());
                let chunk = bytes.slice(at..end);
                (Ok::<_, std::convert::Infallible>(chunk), (bytes, end, turn))
            })
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_LENGTH, length.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// The pieces an annotated copy is sent in.
const EXPORT_CHUNK: usize = 64 * 1024;

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
