//! Preparing a meeting over HTTP: agenda, document uploads streamed into the blob store,
//! the review steps, and serving documents with Range, ETag and immutable caching.

use super::error::ApiJson;
use super::people::id;
use super::{blocking, ApiError, AppState};
use crate::domain::document::FileType;
use crate::domain::records::{Document, Id, Item, Meeting, Step};
use crate::service::prepare::{self, Details, DocumentInput, ItemInput, UploadPlan};
use crate::service::{Caller, Refusal};
use crate::store::blobs::Checked;
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
        .route("/api/integrity", get(integrity))
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
        Err(e @ BlobError::Damaged(_)) => return Err(ApiError::Internal(e.to_string())),
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

/// Stored documents found damaged since the start, for the staff: how many, and (for the
/// secretary and the chair) which documents to upload again.
async fn integrity(State(st): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let damaged = st.store.blobs().damaged();
    let store = st.store.clone();
    let count = damaged.len();
    let documents =
        blocking(move || Ok(prepare::damaged_documents(&store, &caller, &damaged)?)).await?;
    Ok(Json(
        json!({"damaged_blobs": count, "documents": documents}),
    ))
}

#[derive(Deserialize)]
struct BlobQuery {
    name: Option<String>,
}

/// `Content-Disposition` with a plain-ASCII fallback and the real UTF-8 name (RFC 6266/5987).
/// The fallback spells Vietnamese without its marks (`Tờ trình` → `To trinh`, `đ` → `d`), as
/// people write it when accents are not available.
pub fn disposition(kind: &str, name: &str) -> String {
    let ascii: String = deunicode::deunicode_with_tofu(name, "_")
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

/// What a request's `Range` asks of a file of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Wanted {
    /// No range, one the box does not serve (several ranges, another unit): the whole file.
    Whole,
    /// One range, first and last byte included.
    Part(u64, u64),
    /// A range that cannot be satisfied: 416.
    Unsatisfiable,
}

/// Parsed by `http-range-header`, the parser tower-http's file server uses.
pub(super) fn wanted_range(header: Option<&str>, len: u64) -> Wanted {
    use http_range_header::{RangeInvalid, RangeUnsatisfiableError as E};
    let Some(h) = header else {
        return Wanted::Whole;
    };
    match http_range_header::parse_range_header(h).and_then(|r| r.validate(len)) {
        Ok(ranges) => match ranges.as_slice() {
            [one] => Wanted::Part(*one.start(), *one.end()),
            // Several ranges: serving the whole file is allowed, and simpler for every client.
            _ => Wanted::Whole,
        },
        // Not a `bytes=` range: ignored, as RFC 9110 says.
        Err(E::Invalid(RangeInvalid::DoesNotStartWithToken)) => Wanted::Whole,
        Err(_) => Wanted::Unsatisfiable,
    }
}

/// Whether an `If-None-Match` list names this entity tag (weak comparison, RFC 9110 13.1.2).
pub fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let ours = strip(etag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == "*" || strip(t) == ours)
}

/// Whether a `Range` may be honoured under `If-Range` (RFC 9110 13.1.5): only when the client's
/// copy is this very content (strong comparison). A date, or an older tag, gets the whole file.
fn if_range_holds(headers: &HeaderMap, etag: &str) -> bool {
    match headers.get(header::IF_RANGE) {
        None => true,
        Some(v) => v.to_str().is_ok_and(|v| v.trim() == etag),
    }
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
    let version = blocking(move || {
        Ok(match prepare::readable_blob(&store, &caller, &key)? {
            Some(v) => Some(v),
            // At the hub: a document of a box's archive, for office staff.
            None => crate::service::archive::archived_version(&store, &caller, &key)?,
        })
    })
    .await?
    .ok_or(ApiError::NotFound)?;
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
    if none_match(&headers, &etag) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        for (k, v) in common.drain(..2) {
            if let Ok(v) = HeaderValue::from_str(&v) {
                r.headers_mut().insert(k, v);
            }
        }
        return Ok(r);
    }
    let blobs = st.store.blobs();
    let Some(mut open) = blobs.open_blob(&sha).await? else {
        // A document names it, yet its file is gone: as bad as damaged, and reported the same.
        blobs.report_missing(&sha);
        return Err(ApiError::BlobDamaged);
    };
    let len = open.len;
    let range = if if_range_holds(&headers, &etag) {
        wanted_range(
            headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
            len,
        )
    } else {
        Wanted::Whole
    };
    let (status, start, count) = match range {
        Wanted::Whole => (StatusCode::OK, 0, len),
        Wanted::Part(s, e) => (StatusCode::PARTIAL_CONTENT, s, e - s + 1),
        Wanted::Unsatisfiable => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(r);
        }
    };
    let damaged = |e: BlobError| match e {
        BlobError::Damaged(_) => ApiError::BlobDamaged,
        other => other.into(),
    };
    let body = if status == StatusCode::OK {
        // A blob already known to be damaged is refused at once; otherwise it is hashed as it
        // streams and cut off before its end if it turns out damaged.
        if blobs.checked(&sha, open.stamp) == Checked::Damaged {
            return Err(ApiError::BlobDamaged);
        }
        Body::from_stream(blobs.verified_stream(&sha, open))
    } else {
        // A part cannot be checked by itself: the whole blob is checked once, then remembered.
        blobs.ensure_verified(&sha, &open).await.map_err(damaged)?;
        if start > 0 {
            open.file
                .seek(std::io::SeekFrom::Start(start))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
        }
        Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
            open.file.take(count),
            256 * 1024,
        ))
    };
    let mut r = Response::new(body);
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
        use Wanted::*;
        assert_eq!(wanted_range(None, 100), Whole);
        assert_eq!(wanted_range(Some("bytes=0-9"), 100), Part(0, 9));
        assert_eq!(wanted_range(Some("bytes=90-"), 100), Part(90, 99));
        assert_eq!(wanted_range(Some("bytes=-10"), 100), Part(90, 99));
        assert_eq!(wanted_range(Some("bytes=-500"), 100), Part(0, 99));
        assert_eq!(wanted_range(Some("bytes=50-500"), 100), Part(50, 99));
        assert_eq!(wanted_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(wanted_range(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(wanted_range(Some("bytes=5-2"), 100), Unsatisfiable);
        assert_eq!(wanted_range(Some("bytes=0-1,5-6"), 100), Whole);
        assert_eq!(wanted_range(Some("bytes=x-"), 100), Unsatisfiable);
        assert_eq!(wanted_range(Some("items=0-9"), 100), Whole);
    }

    #[test]
    fn conditional_headers() {
        let mut h = HeaderMap::new();
        let etag = "\"abc\"";
        assert!(!none_match(&h, etag));
        assert!(if_range_holds(&h, etag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("W/\"abc\""));
        assert!(none_match(&h, etag), "a weak tag matches for If-None-Match");
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", \"abc\""),
        );
        assert!(none_match(&h, etag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"abd\""));
        assert!(!none_match(&h, etag));
        h.insert(header::IF_RANGE, HeaderValue::from_static("\"abc\""));
        assert!(if_range_holds(&h, etag));
        for other in ["\"old\"", "W/\"abc\"", "Mon, 30 Nov 2026 06:00:00 GMT"] {
            h.insert(header::IF_RANGE, HeaderValue::from_str(other).unwrap());
            assert!(!if_range_holds(&h, etag), "{other}");
        }
    }

    #[test]
    fn vietnamese_file_names_in_disposition() {
        let d = disposition("inline", "Tờ trình số 12.pdf");
        assert!(
            d.starts_with(
                "inline; filename=\"To trinh so 12.pdf\"; filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh"
            ),
            "{d}"
        );
        let d = disposition("attachment", "ĐIỂM DANH Đại hội \"đợt 1\" 50%.csv");
        assert!(
            d.starts_with("attachment; filename=\"DIEM DANH Dai hoi _dot 1_ 50_.csv\";"),
            "{d}"
        );
    }
}
