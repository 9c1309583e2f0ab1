//! People and tablets through the API: pairing a tablet with a code, a PIN and its own key,
//! checking in, the live quorum, leave of absence, revocation and the seating map.

use crate::helpers::*;
use base64::Engine;
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

pub const SECRETARY_PW: &str = "thu-ky-mat-khau";
pub const CHAIR_PW: &str = "chu-tri-mat-khau";

/// A box with a secretary (`thuky`) and a chair (`chutri`) account.
pub async fn box_with_staff() -> (TestBox, tempfile::TempDir) {
    box_with_staff_and_config("").await
}

/// Like [`box_with_staff`], with this `phonghop.toml`.
pub async fn box_with_staff_and_config(config: &str) -> (TestBox, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    init_dir(&dir);
    std::fs::write(dir.join("phonghop.toml"), config).unwrap();
    add_secretary_and_chair(&dir);
    (TestBox::attach(dir, &[]).await, tmp)
}

/// Creates the secretary `thuky` and the chair `chutri` in a stopped data directory.
pub fn add_secretary_and_chair(dir: &std::path::Path) {
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
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What a tablet holds after pairing: its cookie and its device id.
pub struct Tablet {
    pub cookie: String,
    pub device_id: String,
    /// The device's key, as the tablet keeps it (non-extractable in a browser).
    pub key: SigningKey,
}

impl Tablet {
    /// Signs `text` as WebCrypto does: ECDSA P-256 / SHA-256, r‖s, base64url.
    pub fn sign(&self, text: &str) -> String {
        let sig: Signature = self.key.sign(text.as_bytes());
        b64(&sig.to_bytes())
    }
}

/// Typed calls, named after what people do.
impl TestBox {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("origin", self.origin());
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn add_person(&self, sec: &str, name: &str, phone: &str) -> String {
        let (s, v) = self
            .call(
                Method::POST,
                "/api/people",
                Some(sec),
                Some(json!({"name": name, "position": "Ủy viên", "phone": phone})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    /// A UBND body with these members and a meeting of it; returns the meeting id.
    pub async fn meeting_with(&self, sec: &str, members: &[String], guests: &[String]) -> String {
        let (s, body) = self
            .call(
                Method::POST,
                "/api/bodies",
                Some(sec),
                Some(json!({"name": "UBND xã Tân Phú", "kind": "ubnd"})),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        let bid = body["id"].as_str().unwrap();
        let (s, v) = self
            .call(
                Method::PUT,
                &format!("/api/bodies/{bid}/members"),
                Some(sec),
                Some(json!({"members": members})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let (s, m) = self.call(Method::POST, "/api/meetings", Some(sec), Some(json!({
            "body_id": bid, "title": "Họp UBND thường kỳ tháng 12", "starts_at": "2026-12-01T01:00:00Z", "guests": guests,
        }))).await;
        assert_eq!(s, 201, "{m}");
        let id = m["id"].as_str().unwrap().to_owned();
        self.publish(sec, &id).await;
        id
    }

    /// The review: the secretary submits, the chair approves, the secretary publishes.
    pub async fn publish(&self, sec: &str, meeting: &str) {
        let chair = self.sign_in("chutri", CHAIR_PW).await;
        for (who, step) in [
            (sec, "submit"),
            (chair.as_str(), "approve"),
            (sec, "publish"),
        ] {
            let (s, v) = self
                .call(
                    Method::POST,
                    &format!("/api/meetings/{meeting}/{step}"),
                    Some(who),
                    None,
                )
                .await;
            assert_eq!(s, 200, "{step}: {v}");
        }
    }

    pub async fn pairing_code(&self, sec: &str, person: &str) -> String {
        let (s, v) = self
            .call(
                Method::POST,
                &format!("/api/people/{person}/pairing-code"),
                Some(sec),
                None,
            )
            .await;
        assert_eq!(s, 201, "{v}");
        assert!(v["url"].as_str().unwrap().contains("/pair?code="));
        v["code"].as_str().unwrap().to_owned()
    }

    /// The tablet's side of pairing, as the web app does it.
    pub async fn try_pair(
        &self,
        code: &str,
        pin: &str,
        key: &SigningKey,
    ) -> (StatusCode, Value, Option<String>) {
        let node = self.get_json("/api/room").await["node_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let sig: Signature = key.sign(format!("phonghop-pair:{node}:{code}").as_bytes());
        let r = self
            .client
            .post(self.url("/api/devices/pair"))
            .header("origin", self.origin())
            .json(&json!({
                "code": code, "pin": pin, "label": "iPad",
                "public_key": b64(key.verifying_key().to_encoded_point(false).as_bytes()),
                "signature": b64(&sig.to_bytes()),
            }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let cookie = r
            .headers()
            .get("set-cookie")
            .map(|c| c.to_str().unwrap().to_owned());
        if let Some(c) = &cookie {
            for attr in ["HttpOnly", "Secure", "SameSite=Strict"] {
                assert!(c.contains(attr), "device cookie lacks {attr}: {c}");
            }
        }
        let v: Value = r.json().await.unwrap();
        (
            status,
            v,
            cookie.map(|c| c.split(';').next().unwrap().to_owned()),
        )
    }

    pub async fn pair_tablet(&self, sec: &str, person: &str, pin: &str) -> Tablet {
        let code = self.pairing_code(sec, person).await;
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let (s, v, cookie) = self.try_pair(&code, pin, &key).await;
        assert_eq!(s, 201, "{v}");
        Tablet {
            cookie: cookie.unwrap(),
            device_id: v["device"]["id"].as_str().unwrap().to_owned(),
            key,
        }
    }

    pub async fn check_in(&self, tablet: &Tablet, meeting: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &format!("/api/meetings/{meeting}/check-in"),
            Some(&tablet.cookie),
            None,
        )
        .await
    }

    pub async fn quorum(&self, cookie: &str, meeting: &str) -> Value {
        let (s, v) = self
            .call(
                Method::GET,
                &format!("/api/meetings/{meeting}/attendance"),
                Some(cookie),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["quorum"].clone()
    }
}

#[tokio::test]
async fn a_delegate_pairs_a_tablet_checks_in_and_the_quorum_moves() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let chair = b.sign_in("chutri", CHAIR_PW).await;
    let names = ["Lê Văn An", "Phạm Thị Bình", "Đặng Minh Châu"];
    let mut ids = Vec::new();
    for (i, n) in names.iter().enumerate() {
        ids.push(b.add_person(&sec, n, &format!("091234567{i}")).await);
    }
    let guest = b.add_person(&sec, "Võ Thị Khách", "").await;
    let meeting = b
        .meeting_with(&sec, &ids, std::slice::from_ref(&guest))
        .await;

    // The chair watches the meeting's live feed.
    let mut feed = {
        let r = b
            .client
            .get(b.url(&format!("/api/meetings/{meeting}/events")))
            .header("cookie", &chair)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r
    };
    let q = b.quorum(&chair, &meeting).await;
    assert_eq!(
        (
            q["members"].as_u64(),
            q["present"].as_u64(),
            q["required"].as_u64(),
            q["reached"].as_bool()
        ),
        (Some(3), Some(0), Some(2), Some(false))
    );

    let an = b.pair_tablet(&sec, &ids[0], "2580").await;
    let (s, me) = b.call(Method::GET, "/api/me", Some(&an.cookie), None).await;
    assert_eq!(s, 200);
    assert_eq!(me["kind"], "device");
    assert_eq!(me["person"]["name"], "Lê Văn An");
    assert_eq!(me["person"]["given_name"], "An");

    let (s, mine) = b
        .call(Method::GET, "/api/meetings", Some(&an.cookie), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(mine["meetings"][0]["id"], meeting.as_str());
    assert_eq!(mine["meetings"][0]["my_role"], "delegate");

    let (s, row) = b.check_in(&an, &meeting).await;
    assert_eq!(s, 200, "{row}");
    assert_eq!(row["status"], "present");
    assert!(row["at"].is_string());
    // Twice is harmless.
    let (s, again) = b.check_in(&an, &meeting).await;
    assert_eq!((s, &again["at"]), (StatusCode::OK, &row["at"]));

    // The chair's feed got exactly one attendance event.
    let chunk = tokio::time::timeout(Duration::from_secs(5), async {
        let mut text = String::new();
        while !text.contains("attendance.marked") {
            text.push_str(&String::from_utf8_lossy(
                &feed.chunk().await.unwrap().unwrap(),
            ));
        }
        text
    })
    .await
    .expect("the chair's feed shows the check-in");
    assert!(chunk.contains(&ids[0]));

    // A guest's check-in never counts for the quorum.
    let khach = b.pair_tablet(&sec, &guest, "4826").await;
    let (s, row) = b.check_in(&khach, &meeting).await;
    assert_eq!((s, row["kind"].as_str()), (StatusCode::OK, Some("guest")));
    let q = b.quorum(&chair, &meeting).await;
    assert_eq!(
        (q["present"].as_u64(), q["reached"].as_bool()),
        (Some(1), Some(false))
    );

    let binh = b.pair_tablet(&sec, &ids[1], "7391").await;
    b.check_in(&binh, &meeting).await;
    let q = b.quorum(&chair, &meeting).await;
    assert_eq!(
        (q["present"].as_u64(), q["reached"].as_bool()),
        (Some(2), Some(true))
    );

    // The third sends a leave of absence, and the secretary sees it with the reason.
    let chau = b.pair_tablet(&sec, &ids[2], "3690").await;
    let (s, row) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/absence"),
            Some(&chau.cookie),
            Some(json!({"reason": "Đi công tác huyện"})),
        )
        .await;
    assert_eq!(
        (s, row["status"].as_str()),
        (StatusCode::OK, Some("excused"))
    );
    // Once present, no leave of absence.
    let (s, e) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/absence"),
            Some(&an.cookie),
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("attendance.already_present"))
    );

    // The secretary marks the one who left early; the quorum drops.
    let (s, row) = b
        .call(
            Method::PUT,
            &format!("/api/meetings/{meeting}/attendance/{}", ids[1]),
            Some(&sec),
            Some(json!({"status": "left_early"})),
        )
        .await;
    assert_eq!(
        (s, row["status"].as_str()),
        (StatusCode::OK, Some("left_early"))
    );
    let q = b.quorum(&chair, &meeting).await;
    assert_eq!(
        (q["present"].as_u64(), q["reached"].as_bool()),
        (Some(1), Some(false))
    );

    // The attendance list opens in Excel with Vietnamese intact.
    let r = b
        .client
        .get(b.url(&format!("/api/meetings/{meeting}/attendance.csv")))
        .header("cookie", &sec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''"));
    let csv = r.bytes().await.unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
    let csv = String::from_utf8(csv.to_vec()).unwrap();
    assert!(
        csv.contains("Lê Văn An")
            && csv.contains("Có mặt")
            && csv.contains("Vắng có phép")
            && csv.contains("Đi công tác huyện"),
        "{csv}"
    );
}

#[tokio::test]
async fn pairing_codes_are_single_use_and_pins_are_guarded() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let person = b.add_person(&sec, "Hoàng Văn Dũng", "0987654321").await;
    let first = b.pair_tablet(&sec, &person, "5829").await;

    // A used code does not work again.
    let code = b.pairing_code(&sec, &person).await;
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let (s, _, _) = b.try_pair(&code, "5829", &key).await;
    assert_eq!(s, 201);
    let (s, e, cookie) = b.try_pair(&code, "5829", &key).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("pair.code_invalid"))
    );
    assert!(cookie.is_none());

    // A new code replaces the old one.
    let old = b.pairing_code(&sec, &person).await;
    let new = b.pairing_code(&sec, &person).await;
    if old != new {
        let (s, e, _) = b.try_pair(&old, "5829", &key).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("pair.code_invalid"))
        );
    }

    // A signature over another code (a replayed or forged request) is refused, code kept.
    let other = SigningKey::random(&mut rand::rngs::OsRng);
    let node = b.get_json("/api/room").await["node_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sig: Signature = other.sign(format!("phonghop-pair:{node}:000000").as_bytes());
    let (s, e) = b
        .call(
            Method::POST,
            "/api/devices/pair",
            None,
            Some(json!({
                "code": new, "pin": "5829", "label": "x",
                "public_key": b64(other.verifying_key().to_encoded_point(false).as_bytes()),
                "signature": b64(&sig.to_bytes()),
            })),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("pair.signature_invalid")
        )
    );
    let (s, e) = b.call(Method::POST, "/api/devices/pair", None, Some(json!({
        "code": new, "pin": "5829", "label": "x", "public_key": "bm90LWEta2V5", "signature": "AAAA",
    }))).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("pair.key_invalid"))
    );

    // Wrong PINs: four tell the user, the fifth locks the person out, even with the right PIN.
    for _ in 0..4 {
        let (s, e, _) = b.try_pair(&new, "0000", &key).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("pair.pin_wrong")),
            "{e}"
        );
    }
    let (s, e, _) = b.try_pair(&new, "0000", &key).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("pair.locked_out"))
    );
    assert!(e["message"].as_str().unwrap().contains("phút"));
    let (s, _, _) = b.try_pair(&new, "5829", &key).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);

    // The first tablet still works until it is revoked; then it is told so.
    let (s, _) = b
        .call(Method::GET, "/api/me", Some(&first.cookie), None)
        .await;
    assert_eq!(s, 200);
    let (s, list) = b
        .call(
            Method::GET,
            &format!("/api/people/{person}/devices"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(list["devices"].as_array().unwrap().len(), 2);
    let (s, _) = b
        .call(
            Method::DELETE,
            &format!("/api/devices/{}", first.device_id),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, e) = b
        .call(Method::GET, "/api/me", Some(&first.cookie), None)
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("device.revoked"))
    );
    assert!(e["message"].as_str().unwrap().contains("thu hồi"));
}

#[tokio::test]
async fn the_first_pairing_sets_the_pin_and_weak_pins_are_refused() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let person = b.add_person(&sec, "Trương Thị Giang", "").await;
    let code = b.pairing_code(&sec, &person).await;
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    for (pin, code_expected) in [
        ("1234", "input.weak_pin"),
        ("1111", "input.weak_pin"),
        ("12", "input.bad_pin"),
    ] {
        let (s, e, _) = b.try_pair(&code, pin, &key).await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code_expected)),
            "{pin}"
        );
    }
    let (s, v, _) = b.try_pair(&code, "8642", &key).await;
    assert_eq!(
        (s, v["pin_set"].as_bool()),
        (StatusCode::CREATED, Some(true))
    );
    // The second tablet must know the same PIN.
    let code = b.pairing_code(&sec, &person).await;
    let (s, e, _) = b.try_pair(&code, "9753", &key).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("pair.pin_wrong"))
    );
    let (s, v, _) = b.try_pair(&code, "8642", &key).await;
    assert_eq!(
        (s, v["pin_set"].as_bool()),
        (StatusCode::CREATED, Some(false))
    );
    // A forgotten PIN is reset by the secretary; the next pairing sets a new one.
    let (s, _) = b
        .call(
            Method::DELETE,
            &format!("/api/people/{person}/pin"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let code = b.pairing_code(&sec, &person).await;
    let (s, v, _) = b.try_pair(&code, "9753", &key).await;
    assert_eq!(
        (s, v["pin_set"].as_bool()),
        (StatusCode::CREATED, Some(true))
    );
}

#[tokio::test]
async fn meetings_are_visible_only_to_the_invited() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let invited = b.add_person(&sec, "Ngô Văn Hải", "").await;
    let outsider = b.add_person(&sec, "Bùi Thị Lan", "").await;
    let meeting = b
        .meeting_with(&sec, std::slice::from_ref(&invited), &[])
        .await;
    let out = b.pair_tablet(&sec, &outsider, "2468").await;
    let (s, list) = b
        .call(Method::GET, "/api/meetings", Some(&out.cookie), None)
        .await;
    assert_eq!(s, 200);
    assert!(list["meetings"].as_array().unwrap().is_empty());
    for path in [
        format!("/api/meetings/{meeting}"),
        format!("/api/meetings/{meeting}/attendance"),
        format!("/api/meetings/{meeting}/seats"),
    ] {
        let (s, _) = b.call(Method::GET, &path, Some(&out.cookie), None).await;
        assert_eq!(s, 404, "{path}");
    }
    let (s, _) = b.check_in(&out, &meeting).await;
    assert_eq!(s, 404);
    // Staff do not check in for delegates.
    let (s, e) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/check-in"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("attendance.device_only"))
    );
}

#[tokio::test]
async fn the_seating_map_keeps_seats_and_people_consistent() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let a = b.add_person(&sec, "Lý Văn Phúc", "").await;
    let c = b.add_person(&sec, "Mai Thị Quế", "").await;
    let stranger = b.add_person(&sec, "Kha Văn Sơn", "").await;
    let meeting = b.meeting_with(&sec, &[a.clone(), c.clone()], &[]).await;
    let layout = json!({"shape": "rows", "seats": [
        {"id": "A1", "label": "Hàng 1 - Ghế 1", "x": 100, "y": 200},
        {"id": "A2", "label": "Hàng 1 - Ghế 2", "x": 300, "y": 200},
    ]});
    let (s, v) = b
        .call(Method::PUT, "/api/room/layout", Some(&sec), Some(layout))
        .await;
    assert_eq!(s, 200, "{v}");
    let refused = [
        (json!({"A1": stranger}), "seating.not_invited"),
        (json!({"A1": a, "A2": a}), "seating.two_seats"),
        (json!({"Z9": a}), "seating.unknown_seat"),
    ];
    for (assignments, code) in refused {
        let (s, e) = b
            .call(
                Method::PUT,
                &format!("/api/meetings/{meeting}/seats"),
                Some(&sec),
                Some(json!({ "assignments": assignments })),
            )
            .await;
        assert_eq!(
            (s, e["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{assignments}"
        );
    }
    let (s, _) = b
        .call(
            Method::PUT,
            &format!("/api/meetings/{meeting}/seats"),
            Some(&sec),
            Some(json!({"assignments": {"A1": a, "A2": c}})),
        )
        .await;
    assert_eq!(s, 200);
    // A seat in use cannot be removed from the room.
    let (s, e) = b
        .call(
            Method::PUT,
            "/api/room/layout",
            Some(&sec),
            Some(
                json!({"shape": "rows", "seats": [{"id": "A1", "label": "Ghế 1", "x": 1, "y": 1}]}),
            ),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("seating.seat_in_use"))
    );
    let (s, e) = b.call(Method::PUT, "/api/room/layout", Some(&sec), Some(json!({"shape": "rows", "seats": [{"id": "A1", "label": "Ghế 1", "x": 1, "y": 1}, {"id": "A1", "label": "x", "x": 2, "y": 2}]}))).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("seating.invalid"))
    );

    // The delegate sees where they sit.
    let tablet = b.pair_tablet(&sec, &a, "1357").await;
    let (s, m) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}"),
            Some(&tablet.cookie),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(m["my_seat"], "A1");
    b.check_in(&tablet, &meeting).await;
    let (_, sheet) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}/attendance"),
            Some(&sec),
            None,
        )
        .await;
    let row = sheet["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["person"]["id"] == a.as_str())
        .unwrap();
    assert_eq!(
        (row["seat"].as_str(), row["status"].as_str()),
        (Some("A1"), Some("present"))
    );
}

#[tokio::test]
async fn people_are_listed_in_vietnamese_order_and_bad_input_is_explained() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    for n in [
        "Nguyễn Văn Bình",
        "Trần Thị Ánh",
        "Lê Văn An",
        "Phạm Đức Đông",
        "Đỗ Thị Dung",
    ] {
        b.add_person(&sec, n, "").await;
    }
    let (_, list) = b.call(Method::GET, "/api/people", Some(&sec), None).await;
    let names: Vec<&str> = list["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    // By given name in Vietnamese alphabet order: An, Ánh, Bình, Dung, Đông.
    assert_eq!(
        names,
        [
            "Lê Văn An",
            "Trần Thị Ánh",
            "Nguyễn Văn Bình",
            "Đỗ Thị Dung",
            "Phạm Đức Đông"
        ]
    );

    let (s, e) = b
        .call(
            Method::POST,
            "/api/people",
            Some(&sec),
            Some(json!({"name": "Lê Văn An"})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("person.duplicate"))
    );
    let (s, e) = b
        .call(
            Method::POST,
            "/api/people",
            Some(&sec),
            Some(json!({"name": "Vũ Văn Em", "phone": "12345"})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str(), e["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("input.bad_phone"),
            Some("phone")
        )
    );
    let (s, e) = b
        .call(
            Method::POST,
            "/api/people",
            Some(&sec),
            Some(json!({"name": "   "})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str(), e["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("input.empty"),
            Some("name")
        )
    );
    let (_, list) = b.call(Method::GET, "/api/people", Some(&sec), None).await;
    assert_eq!(
        list["people"].as_array().unwrap().len(),
        5,
        "refused input wrote nothing"
    );
}

pub async fn upload_preview(
    b: &TestBox,
    cookie: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let encoded: String = name
        .bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == b'.' {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect();
    let r = b
        .client
        .post(b.url("/api/people/import/preview"))
        .header("origin", b.origin())
        .header("cookie", cookie)
        .header("x-file-name", encoded)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap())
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[tokio::test]
async fn the_secretary_imports_thirty_people_from_excel_into_a_body() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let (s, body) = b
        .call(
            Method::POST,
            "/api/bodies",
            Some(&sec),
            Some(json!({"name": "UBND xã Mường Báng", "kind": "ubnd"})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, pv) = upload_preview(
        &b,
        &sec,
        "Danh sách thành viên.xlsx",
        fixture("thanh-vien-30.xlsx"),
    )
    .await;
    assert_eq!(s, 200, "{pv}");
    assert_eq!(pv["format"], "xlsx");
    assert_eq!(
        (pv["valid"].as_u64(), pv["invalid"].as_u64()),
        (Some(30), Some(0)),
        "{pv}"
    );
    // Nothing is stored by a preview.
    let (_, list) = b.call(Method::GET, "/api/people", Some(&sec), None).await;
    assert!(list["people"].as_array().unwrap().is_empty());
    let (s, done) = b
        .call(
            Method::POST,
            "/api/people/import",
            Some(&sec),
            Some(json!({"preview_id": pv["preview_id"], "body_id": body["id"]})),
        )
        .await;
    assert_eq!(
        (s, done["imported"].as_u64()),
        (StatusCode::CREATED, Some(30)),
        "{done}"
    );
    let (_, list) = b.call(Method::GET, "/api/people", Some(&sec), None).await;
    assert_eq!(list["people"].as_array().unwrap().len(), 30);
    let (_, bodies) = b.call(Method::GET, "/api/bodies", Some(&sec), None).await;
    let guests = pv["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["person"]["kind"] == "guest")
        .count();
    assert_eq!(
        bodies["bodies"][0]["members"].as_array().unwrap().len(),
        30 - guests,
        "guests are not members"
    );
    // The preview is used up, and importing the same file again finds everyone already there.
    let (s, e) = b
        .call(
            Method::POST,
            "/api/people/import",
            Some(&sec),
            Some(json!({"preview_id": pv["preview_id"]})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::GONE, Some("import.preview_expired"))
    );
    let (_, again) = upload_preview(&b, &sec, "x.xlsx", fixture("thanh-vien-30.xlsx")).await;
    assert_eq!(again["invalid"].as_u64(), Some(30));
    assert_eq!(again["rows"][0]["errors"][0]["code"], "row.exists");
}

#[tokio::test]
async fn a_bad_member_list_imports_nobody_unless_the_bad_rows_are_skipped() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let csv = "DANH SÁCH THÀNH VIÊN UBND XÃ\n\nHọ và tên;Chức vụ;Số điện thoại\nLò Văn Thành;Chủ tịch;0912000001\n;Không tên;0912000009\nCầm Thị Hoa;Phó Chủ tịch;12345\nLò Văn Thành;Chủ tịch;0912000001\nQuàng Văn Đức;Ủy viên;0912000003\n";
    let (s, pv) = upload_preview(&b, &sec, "ds.csv", csv.as_bytes().to_vec()).await;
    assert_eq!(s, 200, "{pv}");
    assert_eq!(
        (pv["valid"].as_u64(), pv["invalid"].as_u64()),
        (Some(2), Some(3)),
        "{pv}"
    );
    let codes: Vec<&str> = pv["rows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["code"].as_str().unwrap())
        })
        .collect();
    assert!(
        codes.contains(&"input.bad_phone") && codes.contains(&"row.repeated"),
        "{codes:?}"
    );
    let bad_phone = pv["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            !r["errors"].as_array().unwrap().is_empty()
                && r["errors"][0]["code"] == "input.bad_phone"
        })
        .unwrap();
    assert_eq!(
        bad_phone["line"], 6,
        "the row number as the secretary sees it in the file"
    );
    let (s, e) = b
        .call(
            Method::POST,
            "/api/people/import",
            Some(&sec),
            Some(json!({"preview_id": pv["preview_id"]})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("import.has_errors"))
    );
    let (_, list) = b.call(Method::GET, "/api/people", Some(&sec), None).await;
    assert!(
        list["people"].as_array().unwrap().is_empty(),
        "nothing half-imported"
    );
    let (s, done) = b
        .call(
            Method::POST,
            "/api/people/import",
            Some(&sec),
            Some(json!({"preview_id": pv["preview_id"], "skip_invalid": true})),
        )
        .await;
    assert_eq!(
        (s, done["imported"].as_u64(), done["skipped"].as_u64()),
        (StatusCode::CREATED, Some(2), Some(3))
    );

    // Not a member list at all.
    let (s, e) = upload_preview(&b, &sec, "to-trinh.pdf", b"%PDF-1.7 fake".to_vec()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("import.unsupported_format")
        )
    );
    let (s, e) = upload_preview(
        &b,
        &sec,
        "x.csv",
        "STT,Chức vụ\n1,Ủy viên\n".as_bytes().to_vec(),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("import.no_name_column")
        )
    );
    assert!(e["message"].as_str().unwrap().contains("Chức vụ"));
    let (s, e) = upload_preview(&b, &sec, "x.csv", vec![]).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("import.empty"))
    );
    let (s, e) = upload_preview(&b, &sec, "big.csv", vec![b'a'; 6 * 1024 * 1024]).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("import.too_large"))
    );
    // A legacy Windows-1258 file from an old office computer.
    // Windows-1258 writes tones as combining marks after the letter.
    let decomposed = "Ho\u{323} va\u{300} tên,Chư\u{301}c vu\u{323}\nNguyê\u{303}n Thi\u{323} A\u{301}nh,U\u{309}y viên\n";
    let (legacy, _, unmappable) = encoding_rs::WINDOWS_1258.encode(decomposed);
    assert!(!unmappable);
    let (s, pv) = upload_preview(&b, &sec, "cu.csv", legacy.to_vec()).await;
    assert_eq!(s, 200, "{pv}");
    assert_eq!(pv["rows"][0]["person"]["name"], "Nguyễn Thị Ánh");
    // Only the secretary imports.
    let chair = b.sign_in("chutri", CHAIR_PW).await;
    let (s, _) = upload_preview(&b, &chair, "ds.csv", csv.as_bytes().to_vec()).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn an_expired_pairing_code_is_refused() {
    // Codes that live one second, so the test need not wait ten minutes.
    let (b, _tmp) = box_with_staff_and_config(
        "pairing_code_seconds = 1
",
    )
    .await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let person = b.add_person(&sec, "Tạ Văn Trễ", "").await;
    let code = b.pairing_code(&sec, &person).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let (s, e, cookie) = b.try_pair(&code, "2580", &key).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("pair.code_invalid"))
    );
    assert!(cookie.is_none());
}

#[tokio::test]
async fn each_body_keeps_its_own_quorum_rule() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let mut ids = Vec::new();
    for n in ["Một", "Hai", "Ba", "Bốn"] {
        ids.push(b.add_person(&sec, &format!("Nguyễn Văn {n}"), "").await);
    }
    let meeting = b.meeting_with(&sec, &ids, &[]).await;
    assert_eq!(
        b.quorum(&sec, &meeting).await["required"],
        3,
        "the law's default: at least 2/3 of 4"
    );
    let (_, bodies) = b.call(Method::GET, "/api/bodies", Some(&sec), None).await;
    let body = bodies["bodies"][0]["id"].as_str().unwrap().to_owned();
    let (s, v) = b.call(Method::PUT, &format!("/api/bodies/{body}"), Some(&sec), Some(json!({
        "quorum": {"numerator": 1, "denominator": 2, "comparison": "more_than"}, "publish_lead_days": 5,
    }))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["publish_lead_days"], 5);
    assert_eq!(
        b.quorum(&sec, &meeting).await["required"],
        3,
        "more than half of 4"
    );
    let (s, v) = b
        .call(
            Method::PUT,
            &format!("/api/bodies/{body}"),
            Some(&sec),
            Some(json!({
                "quorum": {"numerator": 1, "denominator": 3, "comparison": "at_least"},
            })),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        b.quorum(&sec, &meeting).await["required"],
        2,
        "at least 1/3 of 4"
    );
    let (s, e) = b
        .call(
            Method::PUT,
            &format!("/api/bodies/{body}"),
            Some(&sec),
            Some(json!({
                "pass": {"numerator": 3, "denominator": 2, "comparison": "at_least"},
            })),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("body.bad_rule"))
    );
}
