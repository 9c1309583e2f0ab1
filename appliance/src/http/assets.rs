//! The web app, built by Vite into `web/dist` and embedded in the binary. Hashed assets are
//! cached forever; `index.html` is revalidated by ETag so a new version shows up at once.
//! The build also writes brotli and gzip copies (`web/build/precompress.ts`); each request gets
//! the smallest copy its `Accept-Encoding` allows, with its own ETag and `Vary: Accept-Encoding`.

use super::ApiError;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web/dist"]
#[allow_missing = true]
struct Assets;

/// The app's Content-Security-Policy: only the box, no inline scripts, no framing. pdf.js runs
/// its worker from a same-origin module and renders to canvas, which 'self' and blob: cover.
const CSP: &str = "default-src 'self'; script-src 'self'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Phonghop</title><p>Giao diện web chưa được build. Chạy <code>make run</code>.</p><p lang=en>The web app is not built. Run <code>make run</code>.</p>";

/// The precompressed copies the build makes, best first: (`Content-Encoding`, file suffix).
const ENCODINGS: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

/// Whether `Accept-Encoding` allows `coding` (RFC 9110 12.5.3): listed, or covered by `*`, with a
/// non-zero q.
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    let mut named = None;
    let mut star = None;
    for item in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            named = Some(q > 0.0);
        } else if name == "*" {
            star = Some(q > 0.0);
        }
    }
    named.or(star).unwrap_or(false)
}

/// The `Content-Type` of a built file: text and scripts in UTF-8; the web manifest
/// (`manifest.webmanifest`) as `application/manifest+json`, as browsers expect for installing.
fn content_type(name: &str) -> String {
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    if mime.type_() == "text" || mime.subtype() == "javascript" {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

pub async fn serve(uri: Uri, headers: HeaderMap) -> Result<Response, ApiError> {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") || path == "api" {
        return Err(ApiError::NotFound);
    }
    // The compressed copies are served only as an encoding of their original.
    if ENCODINGS.iter().any(|(_, suffix)| path.ends_with(suffix)) {
        return Err(ApiError::NotFound);
    }
    let (name, file) = match Assets::get(path).filter(|_| !path.is_empty()) {
        Some(f) => (path, f),
        None if path.contains('.') && !path.ends_with(".html") => return Err(ApiError::NotFound),
        // Client-side routes all load the app.
        None => match Assets::get("index.html") {
            Some(f) => ("index.html", f),
            None => {
                return Ok((
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    NOT_BUILT,
                )
                    .into_response())
            }
        },
    };
    let encoded = ENCODINGS
        .iter()
        .filter(|(coding, _)| accepts(&headers, coding))
        .find_map(|(coding, suffix)| Assets::get(&format!("{name}{suffix}")).map(|f| (*coding, f)));
    let (encoding, file) = match encoded {
        Some((coding, f)) => (Some(coding), f),
        None => (None, file),
    };
    // Each encoding is its own representation, with its own tag.
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let immutable = name.starts_with("assets/");
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let not_modified = super::prepare::none_match(&headers, &etag);
    let mut resp = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = content_type(name);
        let mut r = file.data.into_owned().into_response();
        if let Ok(v) = HeaderValue::from_str(&mime) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Some(coding) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if name == "index.html" {
        // Everything the app needs comes from the box itself; nothing may load from outside.
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(ae: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(ae).unwrap());
        h
    }

    #[test]
    fn content_types_of_the_installable_app() {
        assert_eq!(
            content_type("manifest.webmanifest"),
            "application/manifest+json"
        );
        assert_eq!(content_type("sw.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("icons/icon-192.png"), "image/png");
    }

    #[test]
    fn accept_encoding() {
        assert!(!accepts(&HeaderMap::new(), "br"));
        assert!(accepts(&with("gzip, deflate, br, zstd"), "br"));
        assert!(accepts(&with("gzip, deflate, br"), "gzip"));
        assert!(!accepts(&with("gzip, deflate"), "br"));
        assert!(!accepts(&with("br;q=0, gzip"), "br"));
        assert!(accepts(&with("br;q=0, gzip"), "gzip"));
        assert!(accepts(&with("*"), "br"));
        assert!(!accepts(&with("*, br;q=0"), "br"));
        assert!(accepts(&with("BR;Q=0.5"), "br"));
        assert!(!accepts(&with("identity"), "gzip"));
    }
}
