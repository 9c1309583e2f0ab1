//! Preparing a meeting through the API: agenda, documents, review and publishing, serving
//! documents with Range and ETag, and every kind of bad upload leaving nothing behind.

use crate::helpers::*;
use crate::tablets::{box_with_staff, box_with_staff_and_config, CHAIR_PW, SECRETARY_PW};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

pub(crate) fn encode(name: &str) -> String {
    name.bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == b'.' || c == b'-' {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect()
}

impl TestBox {
    /// A draft meeting of a new body with these members; returns its id.
    pub(crate) async fn draft_meeting(
        &self,
        sec: &str,
        members: &[String],
        starts_at: &str,
    ) -> String {
        let (_, body) = self
            .call(
                Method::POST,
                "/api/bodies",
                Some(sec),
                Some(json!({"name": "UBND xã Đông Hưng", "kind": "ubnd"})),
            )
            .await;
        let bid = body["id"].as_str().unwrap();
        self.call(
            Method::PUT,
            &format!("/api/bodies/{bid}/members"),
            Some(sec),
            Some(json!({"members": members})),
        )
        .await;
        let (s, m) = self.call(Method::POST, "/api/meetings", Some(sec), Some(json!({
            "body_id": bid, "title": "Kỳ họp thứ 5 HĐND xã", "starts_at": starts_at, "place": "Hội trường UBND xã",
        }))).await;
        assert_eq!(s, 201, "{m}");
        m["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn add_item(&self, sec: &str, meeting: &str, title: &str) -> String {
        let (s, v) = self.call(Method::POST, &format!("/api/meetings/{meeting}/items"), Some(sec), Some(json!({"title": title, "presenter": "Chủ tịch UBND xã", "duration_minutes": 30}))).await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn upload(
        &self,
        cookie: &str,
        path: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let r = self
            .client
            .post(self.url(path))
            .header("origin", self.origin())
            .header("cookie", cookie)
            .header("x-file-name", encode(file_name))
            .body(bytes)
            .send()
            .await
            .unwrap();
        let s = r.status();
        let text = r.text().await.unwrap();
        (
            s,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub(crate) async fn upload_pdf(
        &self,
        sec: &str,
        meeting: &str,
        item: &str,
        title: &str,
        fixture_name: &str,
    ) -> Value {
        let path = format!(
            "/api/meetings/{meeting}/items/{item}/documents?title={}&number={}",
            encode(title),
            encode("12/TTr-UBND")
        );
        let (s, v) = self
            .upload(sec, &path, fixture_name, fixture(fixture_name))
            .await;
        assert_eq!(s, 201, "{v}");
        v
    }

    fn blob_files(&self) -> usize {
        let blobs = self.dir.join("blobs");
        std::fs::read_dir(&blobs)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name() != "tmp")
            .map(|e| std::fs::read_dir(e.path()).unwrap().count())
            .sum::<usize>()
            + std::fs::read_dir(blobs.join("tmp")).unwrap().count()
    }
}

#[tokio::test]
async fn a_meeting_goes_from_draft_to_the_delegates_tablets() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let chair = b.sign_in("chutri", CHAIR_PW).await;
    let lan = b.add_person(&sec, "Nguyễn Thị Lan", "").await;
    let minh = b.add_person(&sec, "Trần Văn Minh", "").await;
    let outsider = b.add_person(&sec, "Lê Thị Ngoài", "").await;
    let meeting = b
        .draft_meeting(&sec, &[lan.clone(), minh.clone()], "2026-12-20T01:00:00Z")
        .await;
    let items = [
        b.add_item(
            &sec,
            &meeting,
            "Báo cáo tình hình kinh tế - xã hội năm 2026",
        )
        .await,
        b.add_item(&sec, &meeting, "Tờ trình dự toán ngân sách năm 2027")
            .await,
        b.add_item(&sec, &meeting, "Các vấn đề khác").await,
    ];
    b.upload_pdf(
        &sec,
        &meeting,
        &items[0],
        "Báo cáo kinh tế - xã hội",
        "bao-cao-kinh-te-xa-hoi.pdf",
    )
    .await;
    let to_trinh = b
        .upload_pdf(
            &sec,
            &meeting,
            &items[1],
            "Tờ trình dự toán",
            "to-trinh-du-toan.pdf",
        )
        .await;
    b.upload_pdf(
        &sec,
        &meeting,
        &items[2],
        "Giấy mời họp",
        "giay-moi-hop.pdf",
    )
    .await;
    let secret = b
        .upload_pdf(
            &sec,
            &meeting,
            &items[2],
            "Tài liệu mật",
            "to-trinh-du-toan.pdf",
        )
        .await;
    let (s, _) = b
        .call(
            Method::PUT,
            &format!("/api/documents/{}", secret["id"].as_str().unwrap()),
            Some(&sec),
            Some(json!({"restricted_to": [minh]})),
        )
        .await;
    assert_eq!(s, 200);

    let lan_tab = b.pair_tablet(&sec, &lan, "2580").await;
    let minh_tab = b.pair_tablet(&sec, &minh, "3691").await;
    let out_tab = b.pair_tablet(&sec, &outsider, "4702").await;
    let (_, list) = b
        .call(Method::GET, "/api/meetings", Some(&lan_tab.cookie), None)
        .await;
    assert!(
        list["meetings"].as_array().unwrap().is_empty(),
        "a draft is not on the tablets"
    );

    // Review: the secretary cannot approve, the chair can; a step out of turn is refused.
    let (s, _) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/approve"),
            Some(&chair),
            None,
        )
        .await;
    assert_eq!(s, 409);
    b.call(
        Method::POST,
        &format!("/api/meetings/{meeting}/submit"),
        Some(&sec),
        None,
    )
    .await;
    let (s, _) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/approve"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(s, 403);
    let (s, v) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/send-back"),
            Some(&chair),
            Some(json!({"comment": "Bổ sung số liệu quý 4"})),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str(), v["review_comment"].as_str()),
        (StatusCode::OK, Some("draft"), Some("Bổ sung số liệu quý 4"))
    );
    b.call(
        Method::POST,
        &format!("/api/meetings/{meeting}/submit"),
        Some(&sec),
        None,
    )
    .await;
    let (s, v) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/approve"),
            Some(&chair),
            None,
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("approved"))
    );
    let (s, v) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/publish"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("published"))
    );
    let (s, e) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/approve"),
            Some(&chair),
            None,
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("meeting.wrong_status"))
    );

    // The delegate has it: agenda in order, documents, but not the one restricted to Minh.
    let (s, m) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}"),
            Some(&lan_tab.cookie),
            None,
        )
        .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["agenda"].as_array().unwrap().len(), 3);
    assert_eq!(
        m["agenda"][1]["title"],
        "Tờ trình dự toán ngân sách năm 2027"
    );
    let titles: Vec<&str> = m["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(!titles.contains(&"Tài liệu mật"));
    assert!(m["publish_warning"].is_null(), "published weeks ahead");
    let (_, m_minh) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}"),
            Some(&minh_tab.cookie),
            None,
        )
        .await;
    assert_eq!(m_minh["documents"].as_array().unwrap().len(), 4);
    let (s, _) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}"),
            Some(&out_tab.cookie),
            None,
        )
        .await;
    assert_eq!(s, 404, "not invited: not there at all");

    // Reading a document: Range for the first page, ETag for the cache, a Vietnamese name.
    let url = to_trinh["versions"][0]["url"].as_str().unwrap();
    let sha = to_trinh["versions"][0]["sha256"].as_str().unwrap();
    let whole = fixture("to-trinh-du-toan.pdf");
    let r = b
        .client
        .get(b.url(url))
        .header("cookie", &lan_tab.cookie)
        .header("range", "bytes=0-1023")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 0-1023/{}", whole.len()).as_str()
    );
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let disp = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disp.contains("filename*=UTF-8''to-trinh-du-toan.pdf"),
        "{disp}"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &whole[..1024]);
    let r = b
        .client
        .get(b.url(&format!("{url}?name={}", encode("Tờ trình.pdf"))))
        .header("cookie", &lan_tab.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh.pdf"));
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(r.bytes().await.unwrap().as_ref(), whole.as_slice());
    let r = b
        .client
        .get(b.url(url))
        .header("cookie", &lan_tab.cookie)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = b
        .client
        .get(b.url(url))
        .header("cookie", &lan_tab.cookie)
        .header("range", format!("bytes={}-", whole.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    // The outsider, and an anonymous client, cannot fetch it even knowing the hash.
    let r = b
        .client
        .get(b.url(url))
        .header("cookie", &out_tab.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = b.client.get(b.url(url)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // The restricted document's content is also in an unrestricted one, so Lan may fetch that
    // content; a restricted-only blob is refused. (Both use the same PDF here.)
    assert_eq!(sha, secret["versions"][0]["sha256"].as_str().unwrap());

    // A document only for Minh: Lan cannot fetch its content even knowing the hash.
    let mut only = fixture("giay-moi-hop.pdf");
    only.extend_from_slice(b"\n% chi danh cho Minh\n");
    let path = format!(
        "/api/meetings/{meeting}/items/{}/documents?title={}",
        items[2],
        encode("Riêng Minh")
    );
    let (s, d) = b.upload(&sec, &path, "rieng.pdf", only).await;
    assert_eq!(s, 201, "{d}");
    let (s, _) = b
        .call(
            Method::PUT,
            &format!("/api/documents/{}", d["id"].as_str().unwrap()),
            Some(&sec),
            Some(json!({"restricted_to": [minh]})),
        )
        .await;
    assert_eq!(s, 200);
    let private = d["versions"][0]["url"].as_str().unwrap();
    let r = b
        .client
        .get(b.url(private))
        .header("cookie", &lan_tab.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = b
        .client
        .get(b.url(private))
        .header("cookie", &minh_tab.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A new version after publishing: history kept, flagged for delegates.
    let mut v2 = fixture("to-trinh-du-toan.pdf");
    v2.extend_from_slice(b"\n% ban sua doi\n");
    let (s, d) = b
        .upload(
            &sec,
            &format!(
                "/api/documents/{}/versions",
                to_trinh["id"].as_str().unwrap()
            ),
            "to-trinh-v2.pdf",
            v2,
        )
        .await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(d["versions"].as_array().unwrap().len(), 2);
    let (_, m) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}"),
            Some(&lan_tab.cookie),
            None,
        )
        .await;
    let updated = m["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == to_trinh["id"])
        .unwrap();
    assert_eq!(updated["updated_after_publish"], true);
    assert_eq!(
        updated["versions"][0]["n"], 1,
        "earlier versions stay readable"
    );
}

#[tokio::test]
async fn bad_uploads_and_stale_edits_are_refused_and_leave_nothing() {
    let (b, _tmp) = box_with_staff_and_config(
        "max_upload_mb = 1
",
    )
    .await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let p = b.add_person(&sec, "Hà Văn Một", "").await;
    let meeting = b.draft_meeting(&sec, &[p], "2026-12-20T01:00:00Z").await;
    let item = b.add_item(&sec, &meeting, "Mục 1").await;
    let item2 = b.add_item(&sec, &meeting, "Mục 2").await;
    b.upload_pdf(&sec, &meeting, &item, "Tờ trình", "to-trinh-du-toan.pdf")
        .await;
    let before = b.blob_files();
    let path = |title: &str| {
        format!(
            "/api/meetings/{meeting}/items/{item}/documents?title={}",
            encode(title)
        )
    };

    let cases: Vec<(&str, String, Vec<u8>, u16, &str)> = vec![
        (
            "disguised",
            path("Giả PDF"),
            b"<html><body>not a pdf</body></html>".to_vec(),
            415,
            "document.not_pdf",
        ),
        ("empty.pdf", path("Rỗng"), vec![], 422, "document.empty"),
        (
            "../../etc/passwd.pdf",
            path("Đường dẫn"),
            fixture("giay-moi-hop.pdf"),
            422,
            "document.bad_name",
        ),
        (
            "ten\u{1}.pdf",
            path("Ký tự lạ"),
            fixture("giay-moi-hop.pdf"),
            422,
            "document.bad_name",
        ),
        (
            "virus.exe",
            path("Chương trình"),
            b"MZ\x90\x00".to_vec(),
            415,
            "document.unsupported_type",
        ),
        (
            "duplicate.pdf",
            path("Tờ trình"),
            fixture("giay-moi-hop.pdf"),
            409,
            "document.duplicate_title",
        ),
    ];
    for (name, path, bytes, status, code) in cases {
        let name = if name == "disguised" {
            "bao-cao.pdf"
        } else {
            name
        };
        let (s, e) = b.upload(&sec, &path, name, bytes).await;
        assert_eq!(
            (s.as_u16(), e["code"].as_str()),
            (status, Some(code)),
            "{name}: {e}"
        );
    }
    // A ".docx" that is not one: the Vietnamese message names it in Vietnamese.
    let (s, e) = b
        .upload(
            &sec,
            &path("Giấy mời"),
            "giay-moi.docx",
            b"<html></html>".to_vec(),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (415, Some("document.disguised"))
    );
    let vi = e["message"].as_str().unwrap();
    assert!(
        vi.contains("văn bản Word (.docx)") && !vi.contains("document"),
        "{vi}"
    );
    // Over the configured 1 MB, with a real PDF header.
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(1024 * 1024 + 10, b'x');
    let (s, e) = b.upload(&sec, &path("Quá lớn"), "lon.pdf", big).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (413, Some("document.too_large"))
    );
    // An upload cut off half-way.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(b"%PDF-1.7\n".to_vec()),
        Ok(vec![b'y'; 64 * 1024]),
        Err(std::io::Error::other("network down")),
    ];
    let cut = client_for(&b.dir, &b.local_name, b.https_port);
    let r = cut
        .post(b.url(&path("Bị ngắt")))
        .header("origin", b.origin())
        .header("cookie", &sec)
        .header("x-file-name", "ngat.pdf")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    assert!(r.is_err() || !r.unwrap().status().is_success());
    // The tablet is gone: its connection closes.
    drop(cut);
    // The server notices the cut connection within moments; give it a little time.
    let mut left = b.blob_files();
    for _ in 0..50 {
        if left == before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        left = b.blob_files();
    }
    let listing = walkdir_names(&b.dir.join("blobs"));
    assert_eq!(
        left, before,
        "refused and interrupted uploads leave no blob and no temp file: {listing:?}"
    );

    // Reordering from a stale view is refused.
    let (s, e) = b
        .call(
            Method::PUT,
            &format!("/api/meetings/{meeting}/agenda"),
            Some(&sec),
            Some(json!({"order": [item2, item], "expected": [item2, item]})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("agenda.stale"))
    );
    let (s, v) = b
        .call(
            Method::PUT,
            &format!("/api/meetings/{meeting}/agenda"),
            Some(&sec),
            Some(json!({"order": [item2, item], "expected": [item, item2]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["agenda"][0]["id"], item2.as_str());
    // An item with documents cannot be removed; an empty one can.
    let (s, e) = b
        .call(
            Method::DELETE,
            &format!("/api/meetings/{meeting}/items/{item}"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("item.has_documents"))
    );
    let (s, _) = b
        .call(
            Method::DELETE,
            &format!("/api/meetings/{meeting}/items/{item2}"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(s, 204);
    // Editing while the chair reviews is refused.
    b.call(
        Method::POST,
        &format!("/api/meetings/{meeting}/submit"),
        Some(&sec),
        None,
    )
    .await;
    let (s, e) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/items"),
            Some(&sec),
            Some(json!({"title": "Muộn"})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("meeting.wrong_status"))
    );
}

#[tokio::test]
async fn publishing_late_is_flagged() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let p = b.add_person(&sec, "Đinh Văn Hai", "").await;
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let meeting = b.draft_meeting(&sec, &[p], &tomorrow).await;
    b.publish(&sec, &meeting).await;
    let (_, m) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}"),
            Some(&sec),
            None,
        )
        .await;
    assert!(
        m["publish_warning"]["days_before"].as_u64().unwrap() <= 1,
        "{m}"
    );
    assert_eq!(m["publish_warning"]["rule_days"], 3);
}

/// Times come back in UTC whatever offset they were sent with, so that clients can sort them
/// (issue 8, item 10): a meeting at 08:00 in Vietnam sorts before one at 02:00 UTC.
#[tokio::test]
async fn times_come_back_in_utc_whatever_offset_was_sent() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let p = b.add_person(&sec, "Đinh Văn Hai", "").await;
    let early = b
        .draft_meeting(&sec, std::slice::from_ref(&p), "2026-12-01T08:00:00+07:00")
        .await;
    let late = b.draft_meeting(&sec, &[p], "2026-12-01T02:00:00Z").await;
    let (_, one) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{early}"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(one["starts_at"], "2026-12-01T01:00:00Z", "{one}");
    let (_, list) = b.call(Method::GET, "/api/meetings", Some(&sec), None).await;
    let times: Vec<(&str, &str)> = list["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["starts_at"].as_str().unwrap()))
        .collect();
    assert!(
        times.contains(&(early.as_str(), "2026-12-01T01:00:00Z")),
        "{times:?}"
    );
    assert!(
        times.contains(&(late.as_str(), "2026-12-01T02:00:00Z")),
        "{times:?}"
    );
    // Changing the details with another offset: the answer and the read are in UTC too.
    let (s, _) = b
        .call(
            Method::PUT,
            &format!("/api/meetings/{early}"),
            Some(&sec),
            Some(json!({"title": "Kỳ họp thứ 5 HĐND xã", "starts_at": "2026-12-01T07:30:00+07:00", "place": "Hội trường"})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, one) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{early}"),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(one["starts_at"], "2026-12-01T00:30:00Z", "{one}");
}

fn walkdir_names(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walkdir_names(&e.path()));
        } else {
            out.push(e.path().display().to_string());
        }
    }
    out
}

#[tokio::test]
async fn a_tablets_live_feed_carries_only_its_documents_and_ends_when_revoked() {
    use std::time::Duration;
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let lan = b.add_person(&sec, "Nguyễn Thị Lan", "").await;
    let minh = b.add_person(&sec, "Trần Văn Minh", "").await;
    let meeting = b
        .draft_meeting(&sec, &[lan.clone(), minh.clone()], "2026-12-20T01:00:00Z")
        .await;
    let item = b.add_item(&sec, &meeting, "Mục 1").await;
    b.publish(&sec, &meeting).await;
    let lan_tab = b.pair_tablet(&sec, &lan, "2580").await;
    let head = b.get_json("/api/room").await["head_seq"].as_u64().unwrap();
    let mut feed = SseReader::open_as(
        &b.client,
        &b.url(&format!("/api/meetings/{meeting}/events")),
        Some(head),
        Some(&lan_tab.cookie),
    )
    .await;

    // A document for Minh only, restricted from the moment it is uploaded, then one for all.
    let path = format!(
        "/api/meetings/{meeting}/items/{item}/documents?title={}&restricted_to={minh}",
        encode("Riêng Minh")
    );
    let (s, private) = b
        .upload(&sec, &path, "rieng.pdf", fixture("giay-moi-hop.pdf"))
        .await;
    assert_eq!(s, 201, "{private}");
    assert_eq!(private["restricted_to"][0], minh.as_str());
    b.upload_pdf(
        &sec,
        &meeting,
        &item,
        "Cho mọi người",
        "to-trinh-du-toan.pdf",
    )
    .await;
    let mut seen = Vec::new();
    while let Some(e) = feed.next(Duration::from_secs(3)).await {
        let d: Value = serde_json::from_str(&e.data).unwrap();
        seen.push((e.event.clone().unwrap_or_default(), d["body"].to_string()));
        if d["body"].to_string().contains("Cho mọi người") {
            break;
        }
    }
    assert!(
        seen.iter().any(|(_, b)| b.contains("Cho mọi người")),
        "{seen:?}"
    );
    assert!(
        !seen.iter().any(|(_, b)| b.contains("Riêng Minh")),
        "Lan's feed must not carry Minh's document: {seen:?}"
    );

    // Minh's reason for absence is his and the secretary's, not on Lan's tablet.
    let minh_tab = b.pair_tablet(&sec, &minh, "3691").await;
    let (s, _) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{meeting}/absence"),
            Some(&minh_tab.cookie),
            Some(json!({"reason": "Khám bệnh ở huyện"})),
        )
        .await;
    assert_eq!(s, 200);
    b.check_in(&lan_tab, &meeting).await;
    let mut after = Vec::new();
    while let Some(e) = feed.next(Duration::from_secs(2)).await {
        after.push(e.data.clone());
        if e.data.contains(&lan) && e.data.contains("present") {
            break;
        }
    }
    assert!(after.iter().any(|d| d.contains("present")), "{after:?}");
    assert!(!after.iter().any(|d| d.contains("Khám bệnh")), "{after:?}");

    // Revoking Lan's tablet ends its feed at once.
    let (s, _) = b
        .call(
            Method::DELETE,
            &format!("/api/devices/{}", lan_tab.device_id),
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert!(
        feed.ends_within(Duration::from_secs(3)).await,
        "the revoked tablet's feed must end"
    );
}

#[tokio::test]
async fn changes_after_publishing_are_marked_for_delegates() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let lan = b.add_person(&sec, "Nguyễn Thị Lan", "").await;
    let meeting = b
        .draft_meeting(&sec, std::slice::from_ref(&lan), "2026-12-20T01:00:00Z")
        .await;
    let before = b.add_item(&sec, &meeting, "Báo cáo kinh tế - xã hội").await;
    let untouched = b.add_item(&sec, &meeting, "Dự toán ngân sách").await;
    // Edits before publishing are the draft: nothing is marked.
    let (s, _) = b
        .call(
            Method::PUT,
            &format!("/api/meetings/{meeting}"),
            Some(&sec),
            Some(json!({"place": "Phòng họp số 1"})),
        )
        .await;
    assert_eq!(s, 200);
    b.publish(&sec, &meeting).await;
    let tablet = b.pair_tablet(&sec, &lan, "2580").await;
    let seen = |v: &Value| {
        (
            v["changed_after_publish"].clone(),
            v["agenda"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["id"].as_str().unwrap().to_owned(),
                        i["updated_after_publish"].as_bool().unwrap(),
                    )
                })
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
    };
    let (_, v) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}"),
            Some(&tablet.cookie),
            None,
        )
        .await;
    let (changed, items) = seen(&v);
    assert_eq!(
        changed,
        json!({"title": false, "starts_at": false, "place": false})
    );
    assert!(items.values().all(|u| !u), "{v}");

    // After publishing: a new place, a new item and an edited one.
    b.call(
        Method::PUT,
        &format!("/api/meetings/{meeting}"),
        Some(&sec),
        Some(json!({"place": "Hội trường lớn"})),
    )
    .await;
    let added = b.add_item(&sec, &meeting, "Tờ trình bổ sung").await;
    let (s, v) = b
        .call(
            Method::PUT,
            &format!("/api/meetings/{meeting}/items/{before}"),
            Some(&sec),
            Some(json!({"presenter": "Phó Chủ tịch"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["updated_after_publish"], true, "{v}");
    let (_, v) = b
        .call(
            Method::GET,
            &format!("/api/meetings/{meeting}"),
            Some(&tablet.cookie),
            None,
        )
        .await;
    let (changed, items) = seen(&v);
    assert_eq!(
        changed,
        json!({"title": false, "starts_at": false, "place": true})
    );
    assert!(items[&before]);
    assert!(items[&added]);
    assert!(!items[&untouched]);
}
