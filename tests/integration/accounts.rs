//! Staff accounts after the box is set up: one's own password, and the IT admin resetting,
//! disabling, removing accounts and ending sessions, each at once, open feeds included.

use crate::helpers::*;
use crate::tablets::{box_with_staff, SECRETARY_PW};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

async fn signed_in(b: &TestBox, cookie: &str) -> bool {
    let (s, v) = b
        .call(Method::GET, "/api/session", Some(cookie), None)
        .await;
    assert_eq!(s, 200, "{v}");
    v["signed_in"] == true
}

async fn try_sign_in(b: &TestBox, user: &str, pw: &str) -> (u16, Value) {
    let (s, v) = b
        .call(
            Method::POST,
            "/api/session",
            None,
            Some(json!({"username": user, "password": pw})),
        )
        .await;
    (s.as_u16(), v)
}

async fn head(b: &TestBox) -> u64 {
    b.get_json("/api/room").await["head_seq"].as_u64().unwrap()
}

/// The secretary's staff feed of a meeting, open.
async fn open_feed(b: &TestBox, cookie: &str, meeting: &str) -> SseReader {
    SseReader::open_as(
        &b.client,
        &b.url(&format!("/api/meetings/{meeting}/events")),
        None,
        Some(cookie),
    )
    .await
}

#[tokio::test]
async fn changing_ones_own_password_ends_the_other_sessions_and_keeps_this_one() {
    let (b, _tmp) = box_with_staff().await;
    let here = b.sign_in("thuky", SECRETARY_PW).await;
    let elsewhere = b.sign_in("thuky", SECRETARY_PW).await;
    let before = head(&b).await;

    let cases = [
        (
            json!({"current": "khong-phai-mat-khau", "new": "mat-khau-moi-thu-ky"}),
            403,
            "account.wrong_password",
        ),
        (
            json!({"current": SECRETARY_PW, "new": "ngan"}),
            422,
            "input.too_short",
        ),
        (
            json!({"current": SECRETARY_PW, "new": SECRETARY_PW}),
            422,
            "account.same_password",
        ),
    ];
    for (body, status, code) in cases {
        let (s, v) = b
            .call(
                Method::POST,
                "/api/session/password",
                Some(&here),
                Some(body),
            )
            .await;
        assert_eq!(
            (s.as_u16(), v["code"].as_str()),
            (status, Some(code)),
            "{v}"
        );
        assert!(!v["message"].as_str().unwrap().is_ascii(), "{v}");
    }
    assert_eq!(head(&b).await, before, "a refused change records nothing");
    assert!(signed_in(&b, &elsewhere).await);

    let (s, v) = b
        .call(
            Method::POST,
            "/api/session/password",
            Some(&here),
            Some(json!({"current": SECRETARY_PW, "new": "mat-khau-moi-thu-ky"})),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(
        head(&b).await,
        before + 1,
        "one event: account.password_changed"
    );
    assert!(
        signed_in(&b, &here).await,
        "the session that changed it stays"
    );
    assert!(!signed_in(&b, &elsewhere).await, "other sessions end");
    assert_eq!(try_sign_in(&b, "thuky", SECRETARY_PW).await.0, 401);
    b.sign_in("thuky", "mat-khau-moi-thu-ky").await;
}

#[tokio::test]
async fn the_it_admin_resets_disables_removes_and_ends_sessions_at_once_feeds_included() {
    let (b, _tmp) = box_with_staff().await;
    let admin = b.admin().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let p = b.add_person(&sec, "Lê Văn An", "").await;
    let meeting = b.meeting_with(&sec, std::slice::from_ref(&p), &[]).await;
    let wait = Duration::from_secs(5);

    // Ending sessions: the feed the secretary has open closes, the cookie is dead.
    let mut feed = open_feed(&b, &sec, &meeting).await;
    let other = b.sign_in("thuky", SECRETARY_PW).await;
    let before = head(&b).await;
    let (s, v) = b
        .call(
            Method::DELETE,
            "/api/accounts/thuky/sessions",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!((s.as_u16(), v["ended"].as_u64()), (200, Some(2)), "{v}");
    assert!(feed.ends_within(wait).await, "the open feed must close");
    assert!(!signed_in(&b, &sec).await && !signed_in(&b, &other).await);
    assert_eq!(head(&b).await, before + 1);

    // Resetting the password: sessions end, the old password stops working.
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let mut feed = open_feed(&b, &sec, &meeting).await;
    let (s, v) = b
        .call(
            Method::PUT,
            "/api/accounts/thuky/password",
            Some(&admin),
            Some(json!({"password": "mat-khau-cap-lai"})),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    assert!(feed.ends_within(wait).await);
    assert!(!signed_in(&b, &sec).await);
    assert_eq!(try_sign_in(&b, "thuky", SECRETARY_PW).await.0, 401);
    let sec = b.sign_in("thuky", "mat-khau-cap-lai").await;

    // Disabling: sessions end; the right password is refused with a reason.
    let mut feed = open_feed(&b, &sec, &meeting).await;
    let (s, _) = b
        .call(
            Method::POST,
            "/api/accounts/thuky/disable",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert!(feed.ends_within(wait).await);
    assert!(!signed_in(&b, &sec).await);
    let (s, v) = try_sign_in(&b, "thuky", "mat-khau-cap-lai").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("account.disabled")),
        "{v}"
    );
    assert_eq!(
        v["message"],
        "Tài khoản này đã bị khóa. Hãy liên hệ cán bộ CNTT."
    );
    // A wrong password still says only that: nothing about the account.
    assert_eq!(try_sign_in(&b, "thuky", "sai-mat-khau-roi").await.0, 401);
    let (_, list) = b
        .call(Method::GET, "/api/accounts", Some(&admin), None)
        .await;
    let row = list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "thuky")
        .unwrap()
        .clone();
    assert_eq!(
        (row["disabled"].as_bool(), row["sessions"].as_u64()),
        (Some(true), Some(0)),
        "{row}"
    );
    assert!(row["password_set_at"].is_string(), "{row}");

    // Enabling again.
    let (s, _) = b
        .call(
            Method::POST,
            "/api/accounts/thuky/enable",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let sec = b.sign_in("thuky", "mat-khau-cap-lai").await;

    // Removing: gone from the list, its sessions and password with it.
    let before = head(&b).await;
    let (s, _) = b
        .call(Method::DELETE, "/api/accounts/thuky", Some(&admin), None)
        .await;
    assert_eq!(s, 204);
    assert_eq!(head(&b).await, before + 1);
    assert!(!signed_in(&b, &sec).await);
    assert_eq!(try_sign_in(&b, "thuky", "mat-khau-cap-lai").await.0, 401);
    let (_, list) = b
        .call(Method::GET, "/api/accounts", Some(&admin), None)
        .await;
    let names: Vec<&str> = list["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "chutri"]);
    let (s, v) = b
        .call(Method::DELETE, "/api/accounts/thuky", Some(&admin), None)
        .await;
    assert_eq!((s.as_u16(), v["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn the_it_admin_cannot_lock_themselves_out_and_bad_accounts_are_refused() {
    let b = TestBox::start().await;
    let admin = b.admin().await;
    let before = head(&b).await;
    for (method, path, body) in [
        (Method::POST, "/api/accounts/admin/disable", None),
        (Method::DELETE, "/api/accounts/admin", None),
        (Method::DELETE, "/api/accounts/admin/sessions", None),
        (
            Method::PUT,
            "/api/accounts/admin/password",
            Some(json!({"password": "mat-khau-khac-han"})),
        ),
    ] {
        let (s, v) = b.call(method.clone(), path, Some(&admin), body).await;
        assert_eq!(
            (s.as_u16(), v["code"].as_str()),
            (409, Some("account.self")),
            "{method} {path}: {v}"
        );
    }
    let account = |user: &str, roles: Value, pw: &str| json!({"username": user, "display_name": "Phạm Văn Hùng", "roles": roles, "password": pw});
    for (body, status, code) in [
        (
            account("admin", json!(["secretary"]), "mat-khau-hop-le"),
            409,
            "account.taken",
        ),
        (
            account("hung", json!(["delegate"]), "mat-khau-hop-le"),
            422,
            "account.bad_role",
        ),
        (
            account("hung", json!(["secretary"]), "ngan"),
            422,
            "input.too_short",
        ),
        (
            account("Hùng!", json!(["secretary"]), "mat-khau-hop-le"),
            422,
            "input.bad_chars",
        ),
        (
            account("hung", json!([]), "mat-khau-hop-le"),
            409,
            "conflict",
        ),
    ] {
        let (s, v) = b
            .call(
                Method::POST,
                "/api/accounts",
                Some(&admin),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (s.as_u16(), v["code"].as_str()),
            (status, Some(code)),
            "{body}: {v}"
        );
    }
    assert_eq!(head(&b).await, before, "nothing refused is recorded");
    assert!(signed_in(&b, &admin).await);
}

#[tokio::test]
async fn admin_create_while_the_box_runs_refuses_and_says_how() {
    let mut b = TestBox::start().await;
    let dir = b.dir.to_str().unwrap().to_owned();
    let out = phonghop(&[
        "admin",
        "create",
        "--data",
        &dir,
        "--username",
        "thuky",
        "--name",
        "Trần Thị Thu",
        "--role",
        "secretary",
        "--password",
        "mat-khau-thu-ky",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{err}");
    assert!(err.contains("Phonghop đang chạy"), "{err}");
    assert!(err.contains("“Tài khoản” → “Thêm tài khoản”"), "{err}");
    assert!(err.contains("sudo systemctl stop phonghop"), "{err}");

    // The way it names: the IT admin adds the account in the running box.
    let admin = b.admin().await;
    let (s, v) = b
        .call(
            Method::POST,
            "/api/accounts",
            Some(&admin),
            Some(json!({"username": "thuky", "display_name": "Trần Thị Thu", "roles": ["secretary"], "password": "mat-khau-thu-ky"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    b.sign_in("thuky", "mat-khau-thu-ky").await;

    // A lost IT admin password: with the box stopped, the console resets it.
    let out = phonghop(&[
        "admin",
        "reset-password",
        "--data",
        &dir,
        "--username",
        "admin",
    ]);
    assert_eq!(out.status.code(), Some(69));
    b.terminate();
    let out = phonghop(&[
        "admin",
        "reset-password",
        "--data",
        &dir,
        "--username",
        "admin",
        "--password",
        "mat-khau-moi-admin",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    b.restart().await;
    assert_eq!(try_sign_in(&b, "admin", ADMIN_PASSWORD).await.0, 401);
    b.sign_in("admin", "mat-khau-moi-admin").await;
}

#[tokio::test]
async fn guessing_the_current_password_locks_out_like_sign_in() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let (s, _) = b
            .call(
                Method::POST,
                "/api/session/password",
                Some(&sec),
                Some(json!({"current": format!("doan-mo-{i}"), "new": "mat-khau-moi-thu-ky"})),
            )
            .await;
        statuses.push(s.as_u16());
    }
    assert_eq!(statuses, [403, 403, 403, 403, 429]);
    // Locked: even the right one is refused now, here and at sign-in.
    let (s, v) = b
        .call(
            Method::POST,
            "/api/session/password",
            Some(&sec),
            Some(json!({"current": SECRETARY_PW, "new": "mat-khau-moi-thu-ky"})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (429, Some("auth.locked_out")),
        "{v}"
    );
    assert_eq!(try_sign_in(&b, "thuky", SECRETARY_PW).await.0, 429);
    assert!(
        signed_in(&b, &sec).await,
        "the session itself is not ended by guesses"
    );
}
