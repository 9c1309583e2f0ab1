//! The one place where errors become HTTP responses. Every error body is
//! `{"code": "...", "message": "<Vietnamese>", "message_en": "<English>"}`; the web app shows
//! its own text for the code and falls back to the message. Internal detail goes to the log.

use crate::domain::TextError;
use crate::service::ServiceError;
use crate::store::{BlobError, StoreError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug)]
pub enum ApiError {
    Invalid(TextError),
    BadJson(String),
    Unauthenticated,
    Forbidden,
    BadCredentials,
    LockedOut(std::time::Duration),
    BadOrigin,
    NotFound,
    Conflict(String),
    DiskFull,
    Unavailable,
    Internal(String),
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(t) => ApiError::Invalid(t),
            ServiceError::Unauthenticated => ApiError::Unauthenticated,
            ServiceError::Forbidden => ApiError::Forbidden,
            ServiceError::BadCredentials => ApiError::BadCredentials,
            ServiceError::LockedOut(d) => ApiError::LockedOut(d),
            ServiceError::Conflict(m) => ApiError::Conflict(m),
            ServiceError::Store(s) => s.into(),
            ServiceError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DiskFull => ApiError::DiskFull,
            StoreError::Unavailable => ApiError::Unavailable,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<BlobError> for ApiError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::Store(s) => s.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

fn field_vi(field: &str) -> &'static str {
    match field {
        "name" => "Tên",
        "text" => "Nội dung",
        "username" => "Tên đăng nhập",
        "password" => "Mật khẩu",
        "display_name" => "Họ tên",
        _ => "Giá trị",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, vi, en): (StatusCode, &str, String, String) = match &self {
            ApiError::Invalid(t) => {
                let f = t.field();
                let (vi, en) = match t {
                    TextError::Empty { .. } => (
                        format!("{} không được để trống.", field_vi(f)),
                        format!("The {f} must not be empty."),
                    ),
                    TextError::TooLong { max, .. } => (
                        format!("{} dài quá {max} ký tự.", field_vi(f)),
                        format!("The {f} is longer than {max} characters."),
                    ),
                    TextError::TooShort { min, .. } => (
                        format!("{} phải có ít nhất {min} ký tự.", field_vi(f)),
                        format!("The {f} must have at least {min} characters."),
                    ),
                    TextError::ControlChar { .. } => (
                        format!("{} chứa ký tự không hợp lệ.", field_vi(f)),
                        format!("The {f} contains a control character."),
                    ),
                    TextError::BadChars { .. } => (
                        format!("{} chỉ được dùng chữ a-z, số 0-9 và . _ -", field_vi(f)),
                        format!("The {f} may only use a-z, 0-9 and . _ -"),
                    ),
                };
                let code = match t {
                    TextError::Empty { .. } => "input.empty",
                    TextError::TooLong { .. } => "input.too_long",
                    TextError::TooShort { .. } => "input.too_short",
                    TextError::ControlChar { .. } => "input.control_char",
                    TextError::BadChars { .. } => "input.bad_chars",
                };
                (StatusCode::UNPROCESSABLE_ENTITY, code, vi, en)
            }
            ApiError::BadJson(detail) => (
                StatusCode::BAD_REQUEST,
                "input.bad_json",
                "Dữ liệu gửi lên không đúng định dạng.".into(),
                format!("The request body is not valid: {detail}"),
            ),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "auth.required",
                "Bạn cần đăng nhập.".into(),
                "You need to sign in.".into(),
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "auth.forbidden",
                "Bạn không có quyền làm việc này.".into(),
                "You are not allowed to do this.".into(),
            ),
            ApiError::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                "auth.bad_credentials",
                "Sai tên đăng nhập hoặc mật khẩu.".into(),
                "Wrong user name or password.".into(),
            ),
            ApiError::LockedOut(wait) => {
                let mins = wait.as_secs().div_ceil(60).max(1);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    "auth.locked_out",
                    format!("Nhập sai quá nhiều lần. Vui lòng thử lại sau {mins} phút."),
                    format!("Too many failed attempts. Try again in {mins} minutes."),
                )
            }
            ApiError::BadOrigin => (
                StatusCode::FORBIDDEN,
                "request.bad_origin",
                "Yêu cầu không đến từ ứng dụng Phonghop của phòng họp này.".into(),
                "The request did not come from this room's Phonghop app.".into(),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "Không tìm thấy.".into(),
                "Not found.".into(),
            ),
            ApiError::Conflict(m) => (
                StatusCode::CONFLICT,
                "conflict",
                "Thao tác xung đột với dữ liệu hiện có.".into(),
                m.clone(),
            ),
            ApiError::DiskFull => (
                StatusCode::INSUFFICIENT_STORAGE,
                "store.disk_full",
                "Bộ nhớ của thiết bị đã đầy. Báo cán bộ CNTT. Thao tác chưa được lưu.".into(),
                "The box's disk is full. Tell IT staff. Nothing was saved.".into(),
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Thiết bị đang tắt hoặc khởi động lại.".into(),
                "The box is shutting down or restarting.".into(),
            ),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Có lỗi trong thiết bị. Thao tác chưa được lưu; hãy thử lại.".into(),
                    "Something went wrong on the box. Nothing was saved; try again.".into(),
                )
            }
        };
        let mut body = serde_json::json!({"code": code, "message": vi, "message_en": en});
        if let ApiError::Invalid(t) = &self {
            body["field"] = t.field().into();
        }
        let mut resp = (status, Json(body)).into_response();
        if let ApiError::LockedOut(wait) = &self {
            if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// JSON bodies whose rejection is an [`ApiError`] with a code, not axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(ApiError::BadJson(rejection.body_text())),
        }
    }
}
