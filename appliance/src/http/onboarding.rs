//! Plain HTTP serves only onboarding: the page that helps a tablet trust the box's CA, the CA
//! itself in the forms each platform wants, and a redirect to HTTPS for everything else.

use super::AppState;
use crate::qr;
use crate::tls;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/ca.pem", get(ca_pem))
        .route("/ca.crt", get(ca_der))
        .route("/ca.mobileconfig", get(ca_mobileconfig))
        .route("/qr.svg", get(qr_svg))
        .route("/healthz", get(super::probes::healthz))
        .fallback(redirect)
}

fn host(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|v| v.to_str().ok())
}

/// Everything that is not onboarding goes to the same path over HTTPS.
async fn redirect(State(st): State<AppState>, headers: HeaderMap, uri: Uri) -> Redirect {
    let base = st.site.https_url(host(&headers));
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    Redirect::permanent(&format!("{base}{pq}"))
}

pub async fn ca_pem(State(st): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/x-pem-file"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"phonghop-ca.pem\"",
            ),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        st.ca.root_pem(),
    )
        .into_response()
}

pub async fn ca_der(State(st): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/x-x509-ca-cert"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"phonghop-ca.crt\"",
            ),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        st.ca.root_der(),
    )
        .into_response()
}

async fn ca_mobileconfig(State(st): State<AppState>) -> Response {
    let room = st
        .store
        .room()
        .map(|r| r.name.as_str().to_owned())
        .unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "application/x-apple-aspen-config"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"phonghop.mobileconfig\"",
            ),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        tls::mobileconfig(&st.ca.root_der(), &room, st.store.node_id().as_str()),
    )
        .into_response()
}

async fn qr_svg(State(st): State<AppState>, headers: HeaderMap) -> Response {
    match qr::svg(&format!("{}/", st.site.https_url(host(&headers)))) {
        Some(svg) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The onboarding page, Vietnamese first with English below.
async fn page(State(st): State<AppState>, headers: HeaderMap) -> Html<String> {
    let url = format!("{}/", st.site.https_url(host(&headers)));
    let room = st
        .store
        .room()
        .map(|r| r.name.as_str().to_owned())
        .unwrap_or_else(|_| "Phonghop".to_owned());
    let qr = qr::svg(&url).unwrap_or_default();
    let qr = qr.split_once("?>").map(|(_, s)| s).unwrap_or(&qr);
    let trust = st.ca.trust_info();
    let (step1, province) = if trust.mode == "province" {
        (
            "Cài <strong>Chứng thư gốc của tỉnh</strong> (chỉ làm một lần cho mỗi máy).".to_owned(),
            format!(
                r#"<div class="card province" id="province">
 <p><strong>Hộp này đã gia nhập hệ thống phòng họp của tỉnh.</strong> Chứng thư cần cài bây giờ là <strong>Chứng thư gốc của tỉnh</strong> ({subject}). Cài một lần là máy mở được mọi phòng họp trong tỉnh.</p>
 <p>Máy tính bảng đã cài chứng thư riêng của hộp này trước đây vẫn vào được như cũ, không phải làm gì. Khi tiện, cài thêm Chứng thư gốc của tỉnh để dùng được ở các phòng họp khác.</p>
 <p class="en" lang="en">This box has joined the province: install the province root certificate once and the device opens every meeting room of the province. Tablets that trusted this box's own certificate keep working.</p>
</div>
"#,
                subject = html_escape(&trust.root_subject)
            ),
        )
    } else {
        (
            "Cài chứng thư của phòng họp (chỉ làm một lần cho mỗi máy).".to_owned(),
            String::new(),
        )
    };
    let step1_en = if trust.mode == "province" {
        "the province root certificate"
    } else {
        "the room's certificate"
    };
    Html(format!(
        include_str!("onboarding.html"),
        step1 = step1,
        step1_en = step1_en,
        province = province,
        room = html_escape(&room),
        url = html_escape(&url),
        qr = qr,
        fingerprint = html_escape(&st.ca.root_sha256_fingerprint()),
        // The name the device shows for the certificate to switch on.
        ca_name = html_escape(if trust.root_subject.is_empty() {
            "Phonghop"
        } else {
            &trust.root_subject
        }),
    ))
}
