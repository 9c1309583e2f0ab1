//! Preparing a meeting over HTTP: agenda, document uploads streamed into the blob store,
//! the review steps, and serving documents with Range, ETag and immutable caching.

use super::error::ApiJson;
use super::people::id;
use super::{blocking, ApiError, AppState};
use crate::domain::document::FileType;
use crate::domain::records::{Document, Id, Item, Meeting, Step};
use crate::service::prepare::{self, Details, DocumentInput, ItemInput, UploadPlan};
use crate::service::{Caller, Refusal};
use crate::store::{records, BlobError};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/meetings/{id}/items", post(add_item))
        .route(
            "/api/meetings/{id}/items/{item}",
            put(update_item).delete(remove_item),
        )
        .route("/api/meetings/{id}/agenda", put(reorder))
        .route(
            "/api/meetings/{id}/items/{item}/documents",
            post(upload_document),
        )
        .route("/api/documents/{doc}/versions", post(upload_version))
        .route(
            "/api/documents/{doc}",
            put(update_document).delete(remove_document),
        )
        .route("/api/meetings/{id}/submit", post(submit))
        .route("/api/meetings/{id}/approve", post(approve))
        .route("/api/meetings/{id}/send-back", post(send_back))
        .route("/api/meetings/{id}/publish", post(publish))
        .route("/api/blobs/{sha}", get(blob))
}

fn meeting_summary(m: &Meeting) -> Value {
    json!({"id": m.id, "status": m.status, "review_comment": m.review_comment, "published_at": m.published_at.map(super::utc)})
}

fn document_json(d: &Document) -> super::views::DocumentView {
    super::views::DocumentView::of(d, None)
}

pub async fn set_details(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(d): ApiJson<Details>,
) -> Result<Json<Value>, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let m = blocking(move || Ok(prepare::set_details(&store, &caller, &mid, d)?)).await?;
    Ok(Json(
        json!({"id": m.id, "title": m.title, "place": m.place, "chair_id": m.chair_id}),
    ))
}

async fn add_item(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(i): ApiJson<ItemInput>,
) -> Result<(StatusCode, Json<Item>), ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let item = blocking(move || Ok(prepare::add_item(&store, &caller, &mid, &i)?)).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

async fn update_item(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, iid)): Path<(String, String)>,
    ApiJson(i): ApiJson<ItemInput>,
) -> Result<Json<Item>, ApiError> {
    let (mid, iid) = (id(&mid)?, id(&iid)?);
    let store = st.store.clone();
    Ok(Json(
        blocking(move || Ok(prepare::update_item(&store, &caller, &mid, &iid, &i)?)).await?,
    ))
}

async fn remove_item(
    State(st): State<AppState>,
    caller: Caller,
    Path((mid, iid)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (mid, iid) = (id(&mid)?, id(&iid)?);
    let store = st.store.clone();
    blocking(move || Ok(prepare::remove_item(&store, &caller, &mid, &iid)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reorder {
    order: Vec<Id>,
    expected: Vec<Id>,
}

async fn reorder(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(r): ApiJson<Reorder>,
) -> Result<Json<Value>, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let agenda = blocking(move || {
        Ok(prepare::reorder(
            &store,
            &caller,
            &mid,
            &r.order,
            &r.expected,
        )?)
    })
    .await?;
    Ok(Json(json!({ "agenda": agenda })))
}

#[derive(Deserialize)]
struct UploadQuery {
    title: Option<String>,
    number: Option<String>,
    /// Person ids, comma-separated: the document is restricted to them from the start.
    restricted_to: Option<String>,
}

fn file_name(headers: &HeaderMap) -> String {
    headers
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(super::people::decode_file_name)
        .unwrap_or_default()
}

/// An answer that holds on to the rest of the request body until the answer has been sent.
/// Over HTTP/2, dropping a request body before answering resets the stream (the client sees
/// an error, not the 413); dropped after the answer, the reset says "no error" and the
/// client reads the answer.
struct HoldUntilSent<H> {
    inner: Body,
    _held: H,
}

impl<H: Unpin> http_body::Body for HoldUntilSent<H> {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

fn refuse_holding<H: Unpin + Send + 'static>(e: ApiError, held: H) -> Response {
    let (parts, inner) = e.into_response().into_parts();
    Response::from_parts(parts, Body::new(HoldUntilSent { inner, _held: held }))
}

/// A declared `Content-Length` over the limit is refused before any of the body is read.
fn check_declared(headers: &HeaderMap, limit: u64, body: Body) -> Result<Body, Box<Response>> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > limit => {
            tracing::info!(declared = n, limit, "upload refused by its declared length");
            Err(Box::new(refuse_holding(
                ApiError::Refused(Refusal::DocumentTooLarge(limit)),
                body,
            )))
        }
        _ => Ok(body),
    }
}

/// How an upload ended short of an error.
enum Stored {
    Done(Document),
    /// Refused with an answer that must be sent as it is.
    Refused(Response),
}

/// Streams the body into the blob store, checking its first bytes against the declared type,
/// then records it. A refused or interrupted upload leaves nothing behind.
async fn store_upload(
    st: AppState,
    caller: Caller,
    plan: UploadPlan,
    body: Body,
) -> Result<Stored, ApiError> {
    let limit = st.max_upload;
    let file_type = plan.file_type;
    let mut data = body.into_data_stream();
    let stored = st
        .store
        .blobs()
        .put_checked(&mut data, limit, FileType::PREFIX, move |prefix| {
            file_type.check(prefix).map_err(|e| e.to_string())
        })
        .await;
    let blob = match stored {
        Ok(b) => b,
        Err(BlobError::TooLarge { limit }) => {
            return Ok(Stored::Refused(refuse_holding(
                ApiError::Refused(Refusal::DocumentTooLarge(limit)),
                data,
            )))
        }
        Err(BlobError::Empty) => return Err(ApiError::Refused(Refusal::DocumentEmpty)),
        Err(BlobError::Rejected(_)) => {
            let e = file_type
                .check(&[])
                .err()
                .unwrap_or(crate::domain::document::UploadError::BadName);
            return Ok(Stored::Refused(refuse_holding(
                ApiError::Refused(Refusal::Upload(e)),
                data,
            )));
        }
        Err(BlobError::Interrupted(why)) => {
            tracing::info!(%why, "upload interrupted; nothing kept");
            return Err(ApiError::Refused(Refusal::Invalid {
                code: "document.interrupted",
                detail: why,
            }));
        }
        Err(BlobError::Store(e)) => return Err(e.into()),
    };
    let store = st.store.clone();
    let sha = blob.sha256.clone();
    let committed =
        blocking(move || Ok(prepare::commit_upload(&store, &caller, &plan, &blob)?)).await;
    if committed.is_err() {
        // Refused after the bytes were stored: drop them unless another document has them.
        let store = st.store.clone();
        let _ = blocking(move || {
            if !store.read(|t| records::blob_known(t, &sha))? {
                store.blobs().remove(&sha);
            }
            Ok(())
        })
        .await;
    }
    committed.map(Stored::Done)
}

fn created(stored: Stored) -> Response {
    match stored {
        Stored::Done(d) => (StatusCode::CREATED, Json(document_json(&d))).into_response(),
        Stored::Refused(r) => r,
    }
}

async fn upload_document(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((mid, iid)): Path<(String, String)>,
    Query(q): Query<UploadQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let (mid, iid) = (id(&mid)?, id(&iid)?);
    // Who is asking comes before anything about the request.
    caller.require(crate::domain::Role::may_manage_meetings)?;
    let body = match check_declared(&headers, st.max_upload, body) {
        Ok(b) => b,
        Err(refused) => return Ok(*refused),
    };
    let name = file_name(&headers);
    let restricted_to = match q.restricted_to.as_deref().filter(|r| !r.trim().is_empty()) {
        None => None,
        Some(list) => Some(
            list.split(',')
                .map(|p| Id::parse(p.trim()))
                .collect::<Option<Vec<Id>>>()
                .ok_or(ApiError::Refused(Refusal::Invalid {
                    code: "person.unknown",
                    detail: "restricted_to must list person ids".into(),
                }))?,
        ),
    };
    let (store, c2) = (st.store.clone(), caller.clone());
    let plan = blocking(move || {
        let new = prepare::NewDocument {
            title: q.title.unwrap_or_default(),
            number: q.number,
            file_name: name,
            restricted_to,
        };
        Ok(prepare::plan_document(&store, &c2, &mid, &iid, new)?)
    })
    .await?;
    Ok(created(store_upload(st, caller, plan, body).await?))
}

async fn upload_version(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(did): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let did = id(&did)?;
    let name = file_name(&headers);
    let (store, c2) = (st.store.clone(), caller.clone());
    let plan = blocking(move || Ok(prepare::plan_version(&store, &c2, &did, &name)?)).await?;
    let body = match check_declared(&headers, st.max_upload, body) {
        Ok(b) => b,
        Err(refused) => return Ok(*refused),
    };
    Ok(created(store_upload(st, caller, plan, body).await?))
}

async fn update_document(
    State(st): State<AppState>,
    caller: Caller,
    Path(did): Path<String>,
    ApiJson(input): ApiJson<DocumentInput>,
) -> Result<Json<super::views::DocumentView>, ApiError> {
    let did = id(&did)?;
    let store = st.store.clone();
    let d = blocking(move || Ok(prepare::update_document(&store, &caller, &did, &input)?)).await?;
    Ok(Json(document_json(&d)))
}

async fn remove_document(
    State(st): State<AppState>,
    caller: Caller,
    Path(did): Path<String>,
) -> Result<StatusCode, ApiError> {
    let did = id(&did)?;
    let store = st.store.clone();
    blocking(move || Ok(prepare::remove_document(&store, &caller, &did)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn do_step(
    st: AppState,
    caller: Caller,
    mid: String,
    step: Step,
    comment: Option<String>,
) -> Result<Json<Value>, ApiError> {
    let mid = id(&mid)?;
    let store = st.store.clone();
    let m = blocking(move || {
        Ok(prepare::step(
            &store,
            &caller,
            &mid,
            step,
            comment.as_deref(),
        )?)
    })
    .await?;
    Ok(Json(meeting_summary(&m)))
}

async fn submit(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    do_step(st, caller, mid, Step::Submit, None).await
}

async fn approve(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    do_step(st, caller, mid, Step::Approve, None).await
}

async fn publish(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    do_step(st, caller, mid, Step::Publish, None).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBack {
    comment: String,
}

async fn send_back(
    State(st): State<AppState>,
    caller: Caller,
    Path(mid): Path<String>,
    ApiJson(b): ApiJson<SendBack>,
) -> Result<Json<Value>, ApiError> {
    do_step(st, caller, mid, Step::SendBack, Some(b.comment)).await
}

#[derive(Deserialize)]
struct BlobQuery {
    name: Option<String>,
}

/// `Content-Disposition` with a plain-ASCII fallback and the real UTF-8 name (RFC 6266/5987).
pub fn disposition(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\' && c != '%' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// One `bytes=` range of a file of `len` bytes: `Ok(None)` for no (or an unusable multi-)range,
/// `Err` when the range cannot be satisfied.
fn parse_range(header: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = header.and_then(|h| h.strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None); // Several ranges: serve the whole file, which is allowed.
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        (s, "") => (s.parse().map_err(|_| ())?, len.saturating_sub(1)),
        (s, e) => {
            let (s, e): (u64, u64) = (s.parse().map_err(|_| ())?, e.parse().map_err(|_| ())?);
            (s, e.min(len.saturating_sub(1)))
        }
    };
    if len == 0 || start >= len || start > end {
        return Err(());
    }
    Ok(Some((start, end)))
}

async fn blob(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(sha): Path<String>,
    Query(q): Query<BlobQuery>,
) -> Result<Response, ApiError> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let store = st.store.clone();
    let key = sha.clone();
    let version = blocking(move || Ok(prepare::readable_blob(&store, &caller, &key)?))
        .await?
        .ok_or(ApiError::NotFound)?;
    let path = st.store.blobs().path(&sha).ok_or(ApiError::NotFound)?;
    let etag = format!("\"{sha}\"");
    let name = q
        .name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| version.file_name.clone());
    let mut common = vec![
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable".to_owned(),
        ),
        (header::ACCEPT_RANGES, "bytes".to_owned()),
        (header::CONTENT_TYPE, version.content_type.clone()),
        (header::CONTENT_DISPOSITION, disposition("inline", &name)),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        for (k, v) in common.drain(..2) {
            if let Ok(v) = HeaderValue::from_str(&v) {
                r.headers_mut().insert(k, v);
            }
        }
        return Ok(r);
    }
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ApiError::Internal(format!("blob {sha}: {e}")))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .len();
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    );
    let (status, start, count) = match range {
        Ok(None) => (StatusCode::OK, 0, len),
        Ok(Some((s, e))) => (StatusCode::PARTIAL_CONTENT, s, e - s + 1),
        Err(()) => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(r);
        }
    };
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(count), 256 * 1024);
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = status;
    common.push((header::CONTENT_LENGTH, count.to_string()));
    if status == StatusCode::PARTIAL_CONTENT {
        common.push((
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{len}", start + count - 1),
        ));
    }
    for (k, v) in common {
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().insert(k, v);
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=50-500"), 100), Ok(Some((50, 99))));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=5-2"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=x-"), 100), Err(()));
    }

    #[test]
    fn vietnamese_file_names_in_disposition() {
        let d = disposition("inline", "Tờ trình số 12.pdf");
        assert!(
            d.starts_with(
                "inline; filename=\"T_ tr_nh s_ 12.pdf\"; filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh"
            ),
            "{d}"
        );
    }
}
