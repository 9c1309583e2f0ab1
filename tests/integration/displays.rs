//! Projector screens paired as read-only displays: the secretary's code, the screen's cookie,
//! what a display reads, that it writes nothing, that its wrong codes count like a tablet's,
//! and that a revocation ends its feed at once.

use crate::helpers::*;
use crate::tablets::{box_with_staff, CHAIR_PW, SECRETARY_PW};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// The secretary's code for a new display: `(code, long form from the QR link)`.
pub async fn display_code(b: &TestBox, sec: &str, label: &str) -> (String, String) {
    let (s, v) = b
        .call(
            Method::POST,
            "/api/displays/code",
            Some(sec),
            Some(json!({ "label": label })),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let code = v["code"].as_str().unwrap().to_owned();
    let link = v["link"].as_str().unwrap();
    assert!(link.contains("/screen?code="), "{link}");
    let long = link.split("code=").nth(1).unwrap().to_owned();
    assert!(long.len() == 22 && long.starts_with(&code), "{link}");
    (code, long)
}

/// The screen's side: `(status, body, cookie)`.
async fn try_pair_from(c: &Client, b: &TestBox, code: &str) -> (StatusCode, Value, Option<String>) {
    let r = c
        .post(b.url("/api/displays/pair"))
        .header("origin", b.origin())
        .json(&json!({ "code": code, "label": "" }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().to_owned());
    if let Some(c) = &cookie {
        for attr in [
            "phonghop_display=",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=15552000",
        ] {
            assert!(c.contains(attr), "display cookie lacks {attr}: {c}");
        }
    }
    let v: Value = r.json().await.unwrap();
    (
        status,
        v,
        cookie.map(|c| c.split(';').next().unwrap().to_owned()),
    )
}

/// Pairs a new display and returns its cookie (`phonghop_display=…`).
pub async fn pair_display(b: &TestBox, sec: &str, label: &str) -> String {
    let (code, _) = display_code(b, sec, label).await;
    let (s, v, cookie) = try_pair_from(&b.client, b, &code).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["label"], label);
    cookie.unwrap()
}

pub fn client_from(b: &TestBox, from: IpAddr) -> Client {
    let pem = std::fs::read(b.dir.join("tls/root.pem")).unwrap();
    Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .local_address(from)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_display_pairs_once_reads_the_room_writes_nothing_and_is_revoked() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let chair = b.sign_in("chutri", CHAIR_PW).await;
    let p = b.add_person(&sec, "Lê Văn An", "0912345678").await;
    let meeting = b.meeting_with(&sec, std::slice::from_ref(&p), &[]).await;
    let tablet = b.pair_tablet(&sec, &p, "2580").await;
    let (s, _) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/absence"),
            Some(&tablet.cookie),
            Some(json!({"reason": "Đi khám bệnh"})),
        )
        .await;
    assert_eq!(s, 200);

    let (code, _) = display_code(&b, &sec, "Máy chiếu hội trường").await;
    // A wrong code is refused; the right one pairs once, and only once.
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let (s, e, cookie) = try_pair_from(&b.client, &b, &wrong).await;
    assert_eq!(
        (s, e["code"].as_str(), cookie),
        (StatusCode::BAD_REQUEST, Some("pair.code_invalid"), None)
    );
    // A tablet's pairing does not accept a display's code.
    let (s, e, _) = b
        .try_pair(
            &code,
            "2580",
            &p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("pair.code_invalid"))
    );
    let (s, v, cookie) = try_pair_from(&b.client, &b, &code).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["label"], "Máy chiếu hội trường");
    let display = cookie.unwrap();
    let (s, e, _) = try_pair_from(&b.client, &b, &code).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("pair.code_invalid"))
    );

    // Who am I: a display, acting for nobody.
    let (s, me) = b.call(Method::GET, "/api/me", Some(&display), None).await;
    assert_eq!(s, 200);
    assert_eq!(me["kind"], "display");
    assert_eq!(me["display"]["label"], "Máy chiếu hội trường");
    assert!(me["person"].is_null());

    // It reads the published meeting, its live state and the attendance without private parts.
    let (s, list) = b
        .call(Method::GET, "/api/meetings", Some(&display), None)
        .await;
    assert_eq!(s, 200);
    let m = &list["meetings"][0];
    assert_eq!(m["id"], meeting.as_str());
    assert_eq!(m["my_role"], "projector");
    assert_eq!(m["live_phase"], "not_started");
    let (s, sheet) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}/attendance"),
            Some(&display),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let row = &sheet["rows"][0];
    assert_eq!(row["person"]["name"], "Lê Văn An");
    assert_eq!(row["status"], "excused");
    assert!(row["person"]["phone"].is_null(), "{row}");
    assert!(row["reason"].is_null(), "{row}");

    // Every write is refused, and changes nothing.
    let head = b.get_json("/api/room").await["head_seq"].clone();
    for (method, path, body) in [
        (
            Method::POST,
            format!("/api/meetings/{meeting}/check-in"),
            None,
        ),
        (
            Method::POST,
            format!("/api/meetings/{meeting}/live/start"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/meetings/{meeting}/live/speakers"),
            Some(json!({"request_id": "0123456789abcdef0123456789abcdef", "kind": "opinion"})),
        ),
        (
            Method::POST,
            "/api/room/notices".to_owned(),
            Some(json!({"text": "Xin chào"})),
        ),
        (
            Method::POST,
            "/api/displays/code".to_owned(),
            Some(json!({})),
        ),
    ] {
        let (s, e) = b.call(method.clone(), &path, Some(&display), body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {path}: {e}");
        assert!(e["message"].is_string(), "{e}");
    }
    assert_eq!(b.get_json("/api/room").await["head_seq"], head);

    // Its feed follows the meeting: the chair opens it, and the list says it is running.
    let mut feed = SseReader::open_as(
        &b.client,
        &b.url(&format!("/api/meetings/{meeting}/events")),
        None,
        Some(&display),
    )
    .await;
    let (s, v) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/live/start"),
            Some(&chair),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let ev = feed
        .next(Duration::from_secs(5))
        .await
        .expect("the display's feed did not carry meeting.started");
    assert_eq!(ev.event.as_deref(), Some("meeting.started"));
    let (_, list) = b
        .call(Method::GET, "/api/meetings", Some(&display), None)
        .await;
    assert_eq!(list["meetings"][0]["live_phase"], "running");
    let (s, live) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}/live"),
            Some(&display),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(live["phase"], "running");
    assert_eq!(live["can_run"], false);

    // The secretary sees it in the list and revokes it: its feed ends, and it is told why.
    let (s, list) = b.call(Method::GET, "/api/displays", Some(&sec), None).await;
    assert_eq!(s, 200);
    let displays = list["displays"].as_array().unwrap();
    assert_eq!(displays.len(), 1);
    assert_eq!(displays[0]["label"], "Máy chiếu hội trường");
    assert!(displays[0]["revoked_at"].is_null());
    let id = displays[0]["id"].as_str().unwrap().to_owned();
    let (s, _) = b
        .call(
            Method::DELETE,
            &format!("/api/displays/{id}"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert!(
        feed.ends_within(Duration::from_secs(5)).await,
        "a revoked display's feed must end"
    );
    let (s, e) = b.call(Method::GET, "/api/me", Some(&display), None).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("display.revoked"))
    );
    assert!(e["message"].as_str().unwrap().contains("thu hồi"), "{e}");
    let (s, _) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}/live"),
            Some(&display),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (_, list) = b.call(Method::GET, "/api/displays", Some(&sec), None).await;
    assert!(list["displays"][0]["revoked_at"].is_string());
    // Revoking again changes nothing; an unknown display is not found.
    let (s, _) = b
        .call(
            Method::DELETE,
            &format!("/api/displays/{id}"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = b
        .call(
            Method::DELETE,
            "/api/displays/0123456789abcdef0123456789abcdef",
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(s, 404);

    // The pairing and the revocation are in the record, on no public feed.
    let (_, room) = b.call(Method::GET, "/api/room", None, None).await;
    assert!(room["head_seq"].as_u64().unwrap() > head.as_u64().unwrap());
}

#[tokio::test]
async fn wrong_display_codes_count_toward_the_same_limits_as_a_tablets() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let p = b.add_person(&sec, "Phạm Thị Chín", "").await;
    let (code, long) = display_code(&b, &sec, "Máy chiếu").await;
    let tablet_code = b.pairing_code(&sec, &p).await;
    let n: u32 = code.parse().unwrap();
    let guesser = client_from(&b, IpAddr::V4(Ipv4Addr::new(127, 0, 3, 7)));
    // Wrong typed codes from one address: refused, until the address is locked out.
    let mut statuses = Vec::new();
    for i in 0..12u32 {
        let g = format!("{:06}", (n + 1 + i * 7919) % 1_000_000);
        let (s, e, _) = try_pair_from(&guesser, &b, &g).await;
        statuses.push(format!("{} {}", s.as_u16(), e["code"].as_str().unwrap()));
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| *s == "400 pair.code_invalid")
            .count(),
        9,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| *s == "429 pair.locked_out")
            .count(),
        3,
        "{statuses:?}"
    );
    // The same address is locked out of a tablet's pairing too: one limit for both doors.
    let node = b.get_json("/api/room").await["node_id"]
        .as_str()
        .unwrap()
        .to_owned();
    use p256::ecdsa::{signature::Signer, Signature, SigningKey};
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let sig: Signature = key.sign(format!("phonghop-pair:{node}:{tablet_code}").as_bytes());
    use base64::Engine;
    let b64 = |x: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(x);
    let r = guesser
        .post(b.url("/api/devices/pair"))
        .header("origin", b.origin())
        .json(&json!({
            "code": tablet_code, "pin": "2468", "label": "x",
            "public_key": b64(key.verifying_key().to_encoded_point(false).as_bytes()),
            "signature": b64(&sig.to_bytes()),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // The wrong typed codes spent the box-wide budget: another address typing a wrong code
    // now waits as well, without the code being looked up.
    let other = client_from(&b, IpAddr::V4(Ipv4Addr::new(127, 0, 3, 8)));
    let (s, e, _) = try_pair_from(&other, &b, &format!("{:06}", (n + 500_000) % 1_000_000)).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("pair.locked_out")),
        "{e}"
    );
    // A long form with a wrong tail is refused; the QR link's long form still pairs.
    let forged = format!("{code}{}", "0".repeat(16));
    let (s, e, _) = try_pair_from(&other, &b, &forged).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("pair.code_invalid"))
    );
    let (s, v, cookie) = try_pair_from(&other, &b, &long).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(cookie.is_some());
    // Used once: the same link pairs no second screen.
    let third = client_from(&b, IpAddr::V4(Ipv4Addr::new(127, 0, 3, 9)));
    let (s, _, _) = try_pair_from(&third, &b, &long).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn only_the_secretary_hands_out_display_codes() {
    let (b, _tmp) = box_with_staff().await;
    let chair = b.sign_in("chutri", CHAIR_PW).await;
    let admin = b.admin().await;
    for who in [&chair, &admin] {
        let (s, _) = b
            .call(
                Method::POST,
                "/api/displays/code",
                Some(who),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, _) = b
        .call(Method::POST, "/api/displays/code", None, Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // An expired or unknown display cookie is nobody.
    let (s, me) = b
        .call(
            Method::GET,
            "/api/me",
            Some("phonghop_display=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            None,
        )
        .await;
    assert_eq!(
        (s, me["kind"].as_str()),
        (StatusCode::OK, Some("anonymous"))
    );
}
