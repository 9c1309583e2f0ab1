//! Who may do what: one table, a row for every route and every kind of caller.

use crate::helpers::*;
use crate::tablets::{box_with_staff, CHAIR_PW, SECRETARY_PW};
use reqwest::Method;
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug)]
enum Caller {
    Anonymous,
    ForgedCookie,
    SignedOut,
    ItAdmin,
    Secretary,
    Chair,
    /// A tablet paired to a person invited to the meeting.
    Delegate,
    /// A tablet paired to a person who is not invited.
    Outsider,
    /// A tablet that was revoked.
    Revoked,
    /// A paired projector screen: it reads what the room may see, and writes nothing.
    Display,
}

const ALL: [Caller; 10] = [
    Caller::Anonymous,
    Caller::ForgedCookie,
    Caller::SignedOut,
    Caller::ItAdmin,
    Caller::Secretary,
    Caller::Chair,
    Caller::Delegate,
    Caller::Outsider,
    Caller::Revoked,
    Caller::Display,
];

/// One row per route: (method, path, body, expected status for each caller in `ALL` order).
/// `{p}` is the delegate's person, `{b}` a body, `{m}` a meeting, `{d}` an unknown device.
fn matrix() -> Vec<(Method, &'static str, Option<Value>, [u16; 10])> {
    const ANY: [u16; 10] = [200; 10];
    vec![
        (Method::GET, "/api/room", None, ANY),
        (
            Method::PUT,
            "/api/room",
            Some(json!({"name": "Phòng họp mới"})),
            [401, 401, 401, 200, 403, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/room/notices",
            Some(json!({"text": "Nghỉ giải lao 15 phút"})),
            [401, 401, 401, 201, 201, 201, 403, 403, 401, 403],
        ),
        (
            Method::DELETE,
            "/api/room/notices",
            None,
            [401, 401, 401, 204, 204, 204, 403, 403, 401, 403],
        ),
        (
            Method::GET,
            "/api/room/layout",
            None,
            [401, 401, 401, 200, 200, 200, 200, 200, 401, 200],
        ),
        (
            Method::PUT,
            "/api/room/layout",
            Some(
                json!({"shape": "rows", "seats": [{"id": "A1", "label": "Ghế 1", "x": 10, "y": 10}]}),
            ),
            [401, 401, 401, 403, 200, 403, 403, 403, 401, 403],
        ),
        (
            Method::GET,
            "/api/session",
            None,
            [200, 200, 200, 200, 200, 200, 200, 200, 401, 200],
        ),
        (
            Method::GET,
            "/api/me",
            None,
            [200, 200, 200, 200, 200, 200, 200, 200, 401, 200],
        ),
        (
            Method::GET,
            "/api/people",
            None,
            [401, 401, 401, 200, 200, 200, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/people",
            Some(json!({"name": "Người Mới Thêm"})),
            [401, 401, 401, 403, 201, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/people/import/preview",
            Some(json!({"not": "a member list"})),
            [401, 401, 401, 403, 422, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/people/import",
            Some(json!({"preview_id": "0123456789abcdef0123456789abcdef"})),
            [401, 401, 401, 403, 410, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/people/{p}/pairing-code",
            None,
            [401, 401, 401, 403, 201, 403, 403, 403, 401, 403],
        ),
        (
            Method::GET,
            "/api/people/{p}/devices",
            None,
            [401, 401, 401, 200, 200, 403, 403, 403, 401, 403],
        ),
        (
            Method::DELETE,
            "/api/people/{p}/pin",
            None,
            [401, 401, 401, 403, 204, 403, 403, 403, 401, 403],
        ),
        (
            Method::DELETE,
            "/api/devices/{d}",
            None,
            [401, 401, 401, 404, 404, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/devices/pair",
            Some(json!({"code": "x", "pin": "2580", "public_key": "", "signature": ""})),
            [400; 10],
        ),
        (
            Method::GET,
            "/api/devices/events",
            None,
            [401, 401, 401, 200, 200, 403, 403, 403, 401, 403],
        ),
        (
            Method::GET,
            "/api/bodies",
            None,
            [401, 401, 401, 200, 200, 200, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/bodies",
            Some(json!({"name": "HĐND xã", "kind": "hdnd"})),
            [401, 401, 401, 403, 201, 403, 403, 403, 401, 403],
        ),
        (
            Method::PUT,
            "/api/bodies/{b}",
            Some(json!({"publish_lead_days": 5})),
            [401, 401, 401, 403, 200, 403, 403, 403, 401, 403],
        ),
        (
            Method::PUT,
            "/api/bodies/{b}/members",
            Some(json!({"members": ["{p}"]})),
            [401, 401, 401, 403, 200, 403, 403, 403, 401, 403],
        ),
        (
            Method::GET,
            "/api/meetings",
            None,
            [401, 401, 401, 403, 200, 200, 200, 200, 401, 200],
        ),
        (
            Method::POST,
            "/api/meetings",
            Some(json!({"body_id": "{b}", "title": "Họp", "starts_at": "2026-12-01T01:00:00Z"})),
            [401, 401, 401, 403, 201, 403, 403, 403, 401, 403],
        ),
        (
            Method::GET,
            "/api/meetings/{m}",
            None,
            [401, 401, 401, 403, 200, 200, 200, 404, 401, 200],
        ),
        (
            Method::GET,
            "/api/meetings/{m}/events",
            None,
            [401, 401, 401, 403, 200, 200, 200, 404, 401, 200],
        ),
        (
            Method::GET,
            "/api/meetings/{m}/attendance",
            None,
            [401, 401, 401, 403, 200, 200, 200, 404, 401, 200],
        ),
        (
            Method::GET,
            "/api/meetings/{m}/attendance.csv",
            None,
            [401, 401, 401, 403, 200, 200, 403, 404, 401, 403],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/absence",
            Some(json!({"reason": "Ốm"})),
            [401, 401, 401, 403, 403, 403, 200, 404, 401, 403],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/check-in",
            None,
            [401, 401, 401, 403, 403, 403, 200, 404, 401, 403],
        ),
        (
            Method::PUT,
            "/api/meetings/{m}/attendance/{p}",
            Some(json!({"status": "late"})),
            [401, 401, 401, 403, 200, 403, 403, 404, 401, 403],
        ),
        (
            Method::GET,
            "/api/meetings/{m}/seats",
            None,
            [401, 401, 401, 403, 200, 200, 200, 404, 401, 200],
        ),
        (
            Method::PUT,
            "/api/meetings/{m}/seats",
            Some(json!({"assignments": {"A1": "{p}"}})),
            [401, 401, 401, 403, 200, 403, 403, 404, 401, 403],
        ),
        (
            Method::PUT,
            "/api/meetings/{m}",
            Some(json!({"place": "Hội trường"})),
            [401, 401, 401, 403, 200, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/items",
            Some(json!({"title": "Mục thêm"})),
            [401, 401, 401, 403, 201, 403, 403, 403, 401, 403],
        ),
        (
            Method::PUT,
            "/api/meetings/{m}/items/{i}",
            Some(json!({"presenter": "Phó Chủ tịch"})),
            [401, 401, 401, 403, 200, 403, 403, 403, 401, 403],
        ),
        // A published meeting keeps its items and their order.
        (
            Method::DELETE,
            "/api/meetings/{m}/items/{d}",
            None,
            [401, 401, 401, 403, 409, 403, 403, 403, 401, 403],
        ),
        (
            Method::PUT,
            "/api/meetings/{m}/agenda",
            Some(json!({"order": ["{i}"], "expected": ["{i}"]})),
            [401, 401, 401, 403, 409, 403, 403, 403, 401, 403],
        ),
        // No file name: refused before a byte is stored.
        (
            Method::POST,
            "/api/meetings/{m}/items/{i}/documents?title=x",
            Some(json!({})),
            [401, 401, 401, 403, 422, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/documents/{doc}/versions",
            Some(json!({})),
            [401, 401, 401, 403, 422, 403, 403, 403, 401, 403],
        ),
        (
            Method::PUT,
            "/api/documents/{doc}",
            Some(json!({"number": "01/TB-UBND"})),
            [401, 401, 401, 403, 200, 403, 403, 403, 401, 403],
        ),
        (
            Method::DELETE,
            "/api/documents/{doc}",
            None,
            [401, 401, 401, 403, 409, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/submit",
            None,
            [401, 401, 401, 403, 409, 403, 403, 404, 401, 403],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/approve",
            None,
            [401, 401, 401, 403, 403, 409, 403, 404, 401, 403],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/send-back",
            Some(json!({"comment": "Sửa lại"})),
            [401, 401, 401, 403, 403, 409, 403, 404, 401, 403],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/publish",
            None,
            [401, 401, 401, 403, 409, 403, 403, 404, 401, 403],
        ),
        (
            Method::GET,
            "/api/blobs/{sha}",
            None,
            [401, 401, 401, 404, 200, 200, 200, 404, 401, 200],
        ),
        (
            Method::GET,
            "/api/integrity",
            None,
            [401, 401, 401, 200, 200, 200, 403, 403, 401, 403],
        ),
        (
            Method::GET,
            "/api/accounts",
            None,
            [401, 401, 401, 200, 403, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/accounts",
            Some(
                json!({"username": "moi", "display_name": "Người Mới", "roles": ["secretary"], "password": "mat-khau-moi-1"}),
            ),
            [401, 401, 401, 201, 403, 403, 403, 403, 401, 403],
        ),
        // Staff give a wrong current password here: 403 `account.wrong_password`.
        (
            Method::POST,
            "/api/session/password",
            Some(json!({"current": "khong-dung-dau", "new": "mat-khau-moi-2"})),
            [401, 401, 401, 403, 403, 403, 403, 403, 401, 403],
        ),
        (
            Method::PUT,
            "/api/accounts/{u}/password",
            Some(json!({"password": "mat-khau-dat-lai"})),
            [401, 401, 401, 204, 403, 403, 403, 403, 401, 403],
        ),
        (
            Method::DELETE,
            "/api/accounts/{u}/sessions",
            None,
            [401, 401, 401, 200, 403, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/accounts/{u}/disable",
            None,
            [401, 401, 401, 204, 403, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/accounts/{u}/enable",
            None,
            [401, 401, 401, 204, 403, 403, 403, 403, 401, 403],
        ),
        (
            Method::DELETE,
            "/api/accounts/{u}",
            None,
            [401, 401, 401, 204, 403, 403, 403, 403, 401, 403],
        ),
        (Method::GET, "/healthz", None, ANY),
        (Method::GET, "/readyz", None, ANY),
        // The test client is on loopback, which may always read metrics (a local scraper).
        (
            Method::GET,
            "/metrics",
            None,
            [200, 200, 200, 200, 200, 200, 200, 200, 401, 200],
        ),
        (Method::GET, "/ca.pem", None, ANY),
        (Method::GET, "/api/nothing-here", None, [404; 10]),
        // Projector screens: the secretary pairs and revokes them; a display reads only.
        (
            Method::GET,
            "/api/displays",
            None,
            [401, 401, 401, 200, 200, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/displays/code",
            Some(json!({"label": "Máy chiếu"})),
            [401, 401, 401, 403, 201, 403, 403, 403, 401, 403],
        ),
        (
            Method::DELETE,
            "/api/displays/{d}",
            None,
            [401, 401, 401, 404, 404, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/displays/pair",
            Some(json!({"label": "no code"})),
            [400; 10],
        ),
        // The live meeting: everyone with a role reads it; only the chair runs it.
        (
            Method::GET,
            "/api/meetings/{m}/live",
            None,
            [401, 401, 401, 403, 200, 200, 200, 404, 401, 200],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/live/speakers",
            Some(json!({"request_id": "00000000000000000000000000000001", "kind": "opinion"})),
            [401, 401, 401, 403, 403, 403, 409, 404, 401, 403],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/live/start",
            Some(json!({})),
            [401, 401, 401, 403, 403, 200, 403, 404, 401, 403],
        ),
        // Voting: the secretary and the chair prepare; whoever runs the console opens and
        // closes; only a member's tablet votes; anyone with a role reads a closed result. A
        // draft is not shown to the room.
        (
            Method::GET,
            "/api/meetings/{m}/questions",
            None,
            [401, 401, 401, 403, 200, 200, 200, 404, 401, 200],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/questions",
            Some(json!({"id": "{q}", "item_id": "{i}", "title": "Thông qua báo cáo"})),
            [401, 401, 401, 403, 201, 201, 403, 404, 401, 403],
        ),
        (
            Method::GET,
            "/api/meetings/{m}/questions/{q}",
            None,
            [401, 401, 401, 403, 200, 200, 404, 404, 401, 404],
        ),
        (
            Method::PUT,
            "/api/meetings/{m}/questions/{q}",
            Some(json!({"item_id": "{i}", "title": "Thông qua báo cáo năm"})),
            [401, 401, 401, 403, 200, 200, 403, 404, 401, 403],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/questions/{q}/open",
            Some(json!({})),
            [401, 401, 401, 403, 403, 200, 403, 404, 401, 403],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/questions/{q}/ballots",
            Some(json!({"ballot_id": "{d}", "mark": {"choice": "approve"}, "signature": "AAAA"})),
            [401, 401, 401, 403, 403, 403, 403, 404, 401, 403],
        ),
        (
            Method::GET,
            "/api/meetings/{m}/questions/{q}/result",
            None,
            [401, 401, 401, 403, 409, 409, 409, 404, 401, 409],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/questions/{q}/close",
            Some(json!({})),
            [401, 401, 401, 403, 403, 200, 403, 404, 401, 403],
        ),
        (
            Method::GET,
            "/api/meetings/{m}/questions/{q}/result",
            None,
            [401, 401, 401, 403, 200, 200, 200, 404, 401, 200],
        ),
        (
            Method::DELETE,
            "/api/meetings/{m}/questions/{q}",
            None,
            [401, 401, 401, 403, 409, 409, 403, 404, 401, 403],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/questions",
            Some(json!({"id": "{q2}", "item_id": "{i}", "title": "Kiểm phiếu bằng tay"})),
            [401, 401, 401, 403, 201, 201, 403, 404, 401, 403],
        ),
        (
            Method::POST,
            "/api/meetings/{m}/questions/{q2}/manual",
            Some(
                json!({"counts": {"approve": 1, "disapprove": 0, "abstain": 0}, "reason": "Mất điện"}),
            ),
            [401, 401, 401, 403, 200, 409, 403, 404, 401, 403],
        ),
        // Sync, on a room box that is not enrolled: IT staff's alone.
        (
            Method::GET,
            "/api/sync/status",
            None,
            [401, 401, 401, 200, 403, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/sync/now",
            Some(json!({})),
            [401, 401, 401, 409, 403, 403, 403, 403, 401, 403],
        ),
        // The hub's routes answer on a room box only that they are the hub's.
        (
            Method::POST,
            "/api/hub/enrolments",
            Some(json!({"room": "Phòng họp xã"})),
            [401, 401, 401, 409, 403, 403, 403, 403, 401, 403],
        ),
        (
            Method::GET,
            "/api/hub/boxes",
            None,
            [401, 401, 401, 409, 409, 409, 403, 403, 401, 403],
        ),
        (
            Method::GET,
            "/api/hub/boxes/{x}/meetings",
            None,
            [401, 401, 401, 409, 409, 409, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/hub/boxes/{x}/revoke",
            Some(json!({"reason": "x"})),
            [401, 401, 401, 409, 403, 403, 403, 403, 401, 403],
        ),
        (
            Method::GET,
            "/api/hub/updates",
            None,
            [401, 401, 401, 409, 403, 403, 403, 403, 401, 403],
        ),
        (
            Method::GET,
            "/api/hub/meetings",
            None,
            [401, 401, 401, 409, 409, 409, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/hub/meetings/{m}/handover",
            Some(json!({"node": "0123456789abcdef0123456789abcdef"})),
            [401, 401, 401, 409, 409, 403, 403, 403, 401, 403],
        ),
        (
            Method::POST,
            "/api/hub/enrol",
            Some(json!({"token": "PH1-x", "node_id": "x", "csr_pem": "x"})),
            [409; 10],
        ),
        // Notes on documents (#11): whoever sees the meeting lists the marks they may see
        // (staff and the projector: only shared ones); only the tablet of a person in the
        // meeting writes marks and notes and takes an annotated copy.
        (
            Method::GET,
            "/api/meetings/{m}/annotations",
            None,
            [401, 401, 401, 403, 200, 200, 200, 404, 401, 200],
        ),
        (
            Method::PUT,
            "/api/meetings/{m}/annotations/{d}",
            Some(json!({
                "document_id": "{doc}", "version_sha256": "{sha}", "page": 1, "kind": "highlight",
                "color": "yellow", "rects": [[7200, 70000, 30000, 71200]], "text": "Giấy mời", "rev": 1,
            })),
            [401, 401, 401, 403, 403, 403, 200, 404, 401, 403],
        ),
        (
            Method::PUT,
            "/api/meetings/{m}/items/{i}/note",
            Some(json!({"text": "Hỏi lại khoản chi", "rev": 1})),
            [401, 401, 401, 403, 403, 403, 200, 404, 401, 403],
        ),
        (
            Method::GET,
            "/api/meetings/{m}/documents/{doc}/versions/1/annotated.pdf",
            None,
            [401, 401, 401, 403, 403, 403, 200, 404, 401, 403],
        ),
        (Method::DELETE, "/api/session", None, [204; 10]),
    ]
}

#[tokio::test]
async fn role_by_route_matrix() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let p = b.add_person(&sec, "Lê Văn An", "").await;
    let o = b.add_person(&sec, "Bùi Thị Lan", "").await;
    let meeting = b.meeting_with(&sec, std::slice::from_ref(&p), &[]).await;
    let (_, item) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/items"),
            Some(&sec),
            Some(json!({"title": "Mục 1"})),
        )
        .await;
    let item = item["id"].as_str().unwrap().to_owned();
    let pdf = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/giay-moi-hop.pdf"),
    )
    .unwrap();
    let r = b
        .client
        .post(b.url(&format!(
            "/api/meetings/{meeting}/items/{item}/documents?title=Gi%E1%BA%A5y%20m%E1%BB%9Di"
        )))
        .header("origin", b.origin())
        .header("cookie", &sec)
        .header("x-file-name", "giay-moi.pdf")
        .body(pdf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let doc: Value = r.json().await.unwrap();
    let (doc_id, sha) = (
        doc["id"].as_str().unwrap().to_owned(),
        doc["versions"][0]["sha256"].as_str().unwrap().to_owned(),
    );
    let (_, bodies) = b.call(Method::GET, "/api/bodies", Some(&sec), None).await;
    let body = bodies["bodies"][0]["id"].as_str().unwrap().to_owned();
    let delegate = b.pair_tablet(&sec, &p, "2580").await;
    let outsider = b.pair_tablet(&sec, &o, "3691").await;
    let revoked = b.pair_tablet(&sec, &p, "2580").await;
    let (s, _) = b
        .call(
            Method::DELETE,
            &format!("/api/devices/{}", revoked.device_id),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let display = crate::displays::pair_display(&b, &sec, "Máy chiếu hội trường").await;
    let display_client = crate::displays::client_from(
        &b,
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 4, 2)),
    );
    let admin = b.admin().await;
    let (s, v) = b
        .call(
            Method::POST,
            "/api/accounts",
            Some(&admin),
            Some(json!({"username": "tamthoi", "display_name": "Tạm Thời", "roles": ["chair"], "password": "mat-khau-tam-thoi"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let signed_out = b.admin().await;
    let (s, _) = b
        .call(Method::DELETE, "/api/session", Some(&signed_out), None)
        .await;
    assert_eq!(s, 204);
    let fill = |t: &str| {
        t.replace("{p}", &p)
            .replace("{b}", &body)
            .replace("{m}", &meeting)
            .replace("{d}", "0123456789abcdef0123456789abcdef")
            .replace("{i}", &item)
            .replace("{doc}", &doc_id)
            .replace("{sha}", &sha)
            .replace("{u}", "tamthoi")
            .replace("{q2}", "0123456789abcdef0123456789abcde2")
            .replace("{q}", "0123456789abcdef0123456789abcde1")
    };
    for (method, path, body, expected) in matrix() {
        let path = fill(path);
        let body = body.map(|v| serde_json::from_str::<Value>(&fill(&v.to_string())).unwrap());
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
                Caller::Delegate => Some(delegate.cookie.clone()),
                Caller::Outsider => Some(outsider.cookie.clone()),
                Caller::Revoked => Some(revoked.cookie.clone()),
                Caller::Display => Some(display.clone()),
            };
            // The projector is its own machine: its wrong pairing codes count for its address.
            let client = match caller {
                Caller::Display => &display_client,
                _ => &b.client,
            };
            let mut req = client
                .request(method.clone(), b.url(&path))
                .header("origin", b.origin());
            if let Some(c) = &cookie {
                req = req.header("cookie", c);
            }
            if let Some(body) = &body {
                req = req.json(body);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            // A live feed never ends by itself: its status is all this row needs.
            let text = if path.ends_with("/events") && status == 200 {
                String::new()
            } else {
                r.text().await.unwrap()
            };
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
                if matches!(caller, Caller::Revoked) && status == 401 {
                    assert_eq!(err["code"], "device.revoked", "{method} {path}");
                }
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
