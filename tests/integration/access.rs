//! Who may do what: one table, a row for every route and every kind of caller.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};

const SECRETARY_PW: &str = "thu-ky-mat-khau";
const CHAIR_PW: &str = "chu-tri-mat-khau";

async fn box_with_staff() -> (TestBox, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    init_dir(&dir);
    for (user, name, role, pw) in [
        ("thuky", "Trần Thị Thu", "secretary", SECRETARY_PW),
        ("chutri", "Nguyễn Văn Minh", "chair", CHAIR_PW),
    ] {
        let out = phonghop(&[
            "admin",
            "create",
            "--data",
            dir.to_str().unwrap(),
            "--username",
            user,
            "--name",
            name,
            "--role",
            role,
            "--password",
            pw,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (TestBox::attach(dir, &[]).await, tmp)
}

#[derive(Clone, Copy, Debug)]
enum Caller {
    Anonymous,
    ForgedCookie,
    SignedOut,
    ItAdmin,
    Secretary,
    Chair,
}

const ALL: [Caller; 6] = [
    Caller::Anonymous,
    Caller::ForgedCookie,
    Caller::SignedOut,
    Caller::ItAdmin,
    Caller::Secretary,
    Caller::Chair,
];

/// (method, path, body, expected status for each caller in `ALL` order)
fn matrix() -> Vec<(Method, &'static str, Option<Value>, [u16; 6])> {
    vec![
        (Method::GET, "/api/room", None, [200; 6]),
        (
            Method::PUT,
            "/api/room",
            Some(json!({"name": "Phòng họp mới"})),
            [401, 401, 401, 200, 403, 403],
        ),
        (
            Method::POST,
            "/api/room/notices",
            Some(json!({"text": "Nghỉ giải lao 15 phút"})),
            [401, 401, 401, 201, 201, 201],
        ),
        (
            Method::DELETE,
            "/api/room/notices",
            None,
            [401, 401, 401, 204, 204, 204],
        ),
        (Method::GET, "/api/session", None, [200; 6]),
        (Method::DELETE, "/api/session", None, [204; 6]),
        (Method::GET, "/healthz", None, [200; 6]),
        (Method::GET, "/readyz", None, [200; 6]),
        // The test client is on loopback, which may always read metrics (a local scraper).
        (Method::GET, "/metrics", None, [200; 6]),
        (Method::GET, "/ca.pem", None, [200; 6]),
        (Method::GET, "/api/nothing-here", None, [404; 6]),
    ]
}

#[tokio::test]
async fn role_by_route_matrix() {
    let (b, _tmp) = box_with_staff().await;
    let signed_out = b.admin().await;
    let r = b
        .client
        .delete(b.url("/api/session"))
        .header("origin", b.origin())
        .header("cookie", &signed_out)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    for (method, path, body, expected) in matrix() {
        for (caller, want) in ALL.iter().zip(expected) {
            // Fresh sessions per request: DELETE /api/session signs the caller out.
            let cookie = match caller {
                Caller::Anonymous => None,
                Caller::ForgedCookie => {
                    Some("phonghop_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned())
                }
                Caller::SignedOut => Some(signed_out.clone()),
                Caller::ItAdmin => Some(b.admin().await),
                Caller::Secretary => Some(b.sign_in("thuky", SECRETARY_PW).await),
                Caller::Chair => Some(b.sign_in("chutri", CHAIR_PW).await),
            };
            let mut req = b
                .client
                .request(method.clone(), b.url(path))
                .header("origin", b.origin());
            if let Some(c) = &cookie {
                req = req.header("cookie", c);
            }
            if let Some(body) = &body {
                req = req.json(body);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            assert_eq!(status, want, "{method} {path} as {caller:?}: {text}");
            if status >= 400 {
                let err: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|_| panic!("{method} {path}: error is not JSON: {text}"));
                assert!(
                    err["code"].is_string()
                        && err["message"].is_string()
                        && err["message_en"].is_string(),
                    "{text}"
                );
            }
        }
    }
}

#[tokio::test]
async fn writes_need_this_box_as_origin() {
    let b = TestBox::start().await;
    let admin = b.admin().await;
    for origin in [
        None,
        Some("https://evil.example"),
        Some(&*format!("http://127.0.0.1:{}", b.https_port)),
    ] {
        let mut req = b
            .client
            .post(b.url("/api/room/notices"))
            .header("cookie", &admin)
            .json(&json!({"text": "x"}));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 403, "origin {origin:?}");
        assert_eq!(
            r.json::<Value>().await.unwrap()["code"],
            "request.bad_origin"
        );
    }
    // Nothing was written.
    assert!(b.get_json("/api/room").await["notice"].is_null());
}

#[tokio::test]
async fn bad_input_gets_a_code_and_a_vietnamese_message() {
    let b = TestBox::start().await;
    let admin = b.admin().await;
    let head = b.get_json("/api/room").await["head_seq"].clone();
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "/api/room/notices",
            json!({"text": "   "}),
            422,
            "input.empty",
        ),
        (
            "/api/room/notices",
            json!({"text": "a".repeat(501)}),
            422,
            "input.too_long",
        ),
        (
            "/api/room/notices",
            json!({"text": "chuông\u{7}"}),
            422,
            "input.control_char",
        ),
        (
            "/api/room/notices",
            json!({"txt": "typo"}),
            400,
            "input.bad_json",
        ),
        (
            "/api/room/notices",
            json!("just a string"),
            400,
            "input.bad_json",
        ),
    ];
    for (path, body, status, code) in cases {
        let r = b
            .client
            .post(b.url(path))
            .header("origin", b.origin())
            .header("cookie", &admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["code"], code, "{body}");
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    let r = b
        .client
        .post(b.url("/api/room/notices"))
        .header("origin", b.origin())
        .header("cookie", &admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        b.get_json("/api/room").await["head_seq"],
        head,
        "bad input wrote nothing"
    );
}

#[tokio::test]
async fn wrong_passwords_lock_the_account_out() {
    let b = TestBox::start().await;
    let try_sign_in = |pw: &'static str| {
        let req = b
            .client
            .post(b.url("/api/session"))
            .header("origin", b.origin())
            .json(&json!({"username": "admin", "password": pw}));
        async move { req.send().await.unwrap() }
    };
    for _ in 0..4 {
        let r = try_sign_in("sai-mat-khau").await;
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.json::<Value>().await.unwrap()["code"],
            "auth.bad_credentials"
        );
    }
    let r = try_sign_in("sai-mat-khau").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    // Even the right password waits out the lockout.
    let r = try_sign_in(ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 429);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["code"], "auth.locked_out");
    assert!(e["message"].as_str().unwrap().contains("thử lại sau"));
}

#[tokio::test]
async fn an_unknown_user_looks_like_a_wrong_password() {
    let b = TestBox::start().await;
    let r = b
        .client
        .post(b.url("/api/session"))
        .header("origin", b.origin())
        .json(&json!({"username": "khong-co", "password": "whatever-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "auth.bad_credentials"
    );
}
