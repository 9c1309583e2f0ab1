//! Downloads as a tablet's browser sees them: conditional and range requests, the file name in
//! both spellings, a damaged document never served, and the web app sent compressed.

use crate::helpers::*;
use crate::tablets::{box_with_staff, SECRETARY_PW};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

fn encode(name: &str) -> String {
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

/// A PDF-looking file of `len` bytes whose content depends on `seed`.
fn pdf(len: usize, seed: u8) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n".to_vec();
    v.extend((0..len - v.len()).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    v
}

/// A draft meeting with one agenda item: (meeting, item).
async fn draft_with_item(b: &TestBox, sec: &str) -> (String, String) {
    let (s, body) = b
        .call(
            Method::POST,
            "/api/bodies",
            Some(sec),
            Some(json!({"name": "UBND xã Tân Phú", "kind": "ubnd"})),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let (s, m) = b
        .call(
            Method::POST,
            "/api/meetings",
            Some(sec),
            Some(json!({"body_id": body["id"], "title": "Họp tải tài liệu", "starts_at": "2026-12-20T01:00:00Z"})),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let mid = m["id"].as_str().unwrap().to_owned();
    let (s, item) = b
        .call(
            Method::POST,
            &format!("/api/meetings/{mid}/items"),
            Some(sec),
            Some(json!({"title": "Mục 1"})),
        )
        .await;
    assert_eq!(s, 201, "{item}");
    (mid, item["id"].as_str().unwrap().to_owned())
}

async fn upload(
    b: &TestBox,
    sec: &str,
    meeting: &str,
    item: &str,
    title: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Value {
    let r = b
        .client
        .post(b.url(&format!(
            "/api/meetings/{meeting}/items/{item}/documents?title={}",
            encode(title)
        )))
        .header("origin", b.origin())
        .header("cookie", sec)
        .header("x-file-name", encode(file_name))
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

fn blob_path(dir: &Path, sha: &str) -> PathBuf {
    dir.join("blobs").join(&sha[..2]).join(sha)
}

fn flip_byte(path: &Path, at: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8];
    f.read_exact_at(&mut b, at).unwrap();
    f.write_all_at(&[b[0] ^ 0x20], at).unwrap();
}

#[tokio::test]
async fn conditional_and_range_requests_and_file_names() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let (meeting, item) = draft_with_item(&b, &sec).await;
    // The name as macOS sends it: decomposed (NFD).
    let nfd =
        "To\u{31B}\u{300} tri\u{300}nh so\u{302}\u{301} 12 \u{110}a\u{323}i ho\u{323}\u{302}i.pdf";
    let content = pdf(300_000, 7);
    let d = upload(&b, &sec, &meeting, &item, "Tờ trình", nfd, content.clone()).await;
    assert_eq!(
        d["versions"][0]["file_name"], "Tờ trình số 12 Đại hội.pdf",
        "stored composed (NFC)"
    );
    let url = b.url(d["versions"][0]["url"].as_str().unwrap());
    let get = || b.client.get(&url).header("cookie", &sec);

    let r = get().send().await.unwrap();
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let disp = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disp.starts_with("inline; filename=\"To trinh so 12 Dai hoi.pdf\"; filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh%20s%E1%BB%91%2012%20%C4%90%E1%BA%A1i%20h%E1%BB%99i.pdf"),
        "{disp}"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), content.as_slice());

    // A weak validator matches for If-None-Match.
    for tag in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"x\", W/{etag}"),
    ] {
        let r = get().header("if-none-match", &tag).send().await.unwrap();
        assert_eq!(r.status(), 304, "{tag}");
        assert_eq!(r.headers()["etag"], etag.as_str());
    }
    let r = get()
        .header("if-none-match", "W/\"0000\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // If-Range: the same content gets the part; an older tag or a date gets the whole file.
    let r = get()
        .header("range", "bytes=100-199")
        .header("if-range", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 100-199/{}", content.len()).as_str()
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &content[100..200]);
    for old in [
        "\"0000000000000000000000000000000000000000000000000000000000000000\"".to_owned(),
        format!("W/{etag}"),
        "Mon, 30 Nov 2026 06:00:00 GMT".to_owned(),
    ] {
        let r = get()
            .header("range", "bytes=100-199")
            .header("if-range", &old)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "If-Range {old}");
        assert!(r.headers().get("content-range").is_none());
        assert_eq!(r.bytes().await.unwrap().len(), content.len());
    }

    // Ranges as before: a suffix, several ranges (the whole file), past the end (416).
    let r = get().header("range", "bytes=-10").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        &content[content.len() - 10..]
    );
    let r = get().header("range", "bytes=0-1,5-6").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = get()
        .header("range", format!("bytes={}-", content.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes */{}", content.len()).as_str()
    );
}

#[tokio::test]
async fn a_damaged_document_is_never_served() {
    let (mut b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let (meeting, item) = draft_with_item(&b, &sec).await;
    // Larger than one read chunk, so the damage lies in bytes already on their way.
    let whole = pdf(1_200_000, 1);
    let ranged = pdf(600_000, 2);
    let d1 = upload(
        &b,
        &sec,
        &meeting,
        &item,
        "Báo cáo",
        "bao-cao.pdf",
        whole.clone(),
    )
    .await;
    let d2 = upload(
        &b,
        &sec,
        &meeting,
        &item,
        "Tờ trình",
        "to-trinh.pdf",
        ranged.clone(),
    )
    .await;
    let sha1 = d1["versions"][0]["sha256"].as_str().unwrap().to_owned();
    let sha2 = d2["versions"][0]["sha256"].as_str().unwrap().to_owned();
    let url1 = b.url(&format!("/api/blobs/{sha1}"));
    let url2 = b.url(&format!("/api/blobs/{sha2}"));

    // Both read fine, and a range of the second is served (and its check remembered).
    let r = b
        .client
        .get(&url1)
        .header("cookie", &sec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), whole.as_slice());
    let r = b
        .client
        .get(&url2)
        .header("cookie", &sec)
        .header("range", "bytes=0-1023")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);

    flip_byte(&blob_path(&b.dir, &sha1), 5_000);
    flip_byte(&blob_path(&b.dir, &sha2), 500_000);

    // A whole download starts, but is cut off: the client never holds a complete 200 body.
    let r = b
        .client
        .get(&url1)
        .header("cookie", &sec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.bytes().await;
    assert!(
        body.is_err(),
        "a damaged blob must not arrive complete ({} bytes)",
        body.map(|b| b.len()).unwrap_or(0)
    );
    // Known now: refused outright with a clear error.
    let r = b
        .client
        .get(&url1)
        .header("cookie", &sec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "document.damaged", "{v}");
    // A range of a changed file is checked whole before its first part goes out.
    let r = b
        .client
        .get(&url2)
        .header("cookie", &sec)
        .header("range", "bytes=0-1023")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "document.damaged", "{v}");

    // Reported: readiness, metrics, and the staff's list of documents to upload again.
    let ready = b.get_json("/readyz").await;
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["damaged_blobs"], 2, "{ready}");
    let metrics = b
        .client
        .get(b.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("\nphonghop_blob_mismatches_total 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nphonghop_blobs_damaged 2\n"),
        "{metrics}"
    );
    let (s, v) = b
        .call(Method::GET, "/api/integrity", Some(&sec), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["damaged_blobs"], 2);
    let mut titles: Vec<&str> = v["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    titles.sort();
    assert_eq!(titles, ["Báo cáo", "Tờ trình"], "{v}");

    // Uploading the same file again repairs it.
    upload(
        &b,
        &sec,
        &meeting,
        &item,
        "Báo cáo bản 2",
        "bao-cao.pdf",
        whole.clone(),
    )
    .await;
    let r = b
        .client
        .get(&url1)
        .header("cookie", &sec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), whole.as_slice());
    assert_eq!(b.get_json("/readyz").await["damaged_blobs"], 1);

    // Offline, `verify --blobs` names the damaged file and fails; without --blobs the chain
    // check alone passes.
    assert!(b.terminate().success());
    let dir = b.dir.to_str().unwrap().to_owned();
    let out = phonghop(&["verify", "--data", &dir, "--blobs"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{err}");
    assert!(err.contains(&sha2) && !err.contains(&sha1), "{err}");
    assert!(err.contains("1 of 2 document files are damaged"), "{err}");
    let out = phonghop(&["verify", "--data", &dir]);
    assert!(out.status.success());
}

#[tokio::test]
async fn damage_is_found_after_a_restart_before_anyone_asks() {
    let (mut b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let (meeting, item) = draft_with_item(&b, &sec).await;
    let d = upload(
        &b,
        &sec,
        &meeting,
        &item,
        "Biên bản",
        "bien-ban.pdf",
        pdf(400_000, 3),
    )
    .await;
    let other = upload(
        &b,
        &sec,
        &meeting,
        &item,
        "Phụ lục",
        "phu-luc.pdf",
        pdf(200_000, 4),
    )
    .await;
    let sha = d["versions"][0]["sha256"].as_str().unwrap().to_owned();
    assert!(b.terminate().success());
    flip_byte(&blob_path(&b.dir, &sha), 123_456);
    b.restart().await;
    let start = std::time::Instant::now();
    let ready = loop {
        let ready = b.get_json("/readyz").await;
        if ready["damaged_blobs"] == 1 || start.elapsed() > std::time::Duration::from_secs(15) {
            break ready;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["damaged_blobs"], 1, "{ready}");
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let (_, v) = b
        .call(Method::GET, "/api/integrity", Some(&sec), None)
        .await;
    assert_eq!(v["documents"][0]["title"], "Biên bản", "{v}");
    let (_, session) = b.call(Method::GET, "/api/session", Some(&sec), None).await;
    assert_eq!(session["damaged_blobs"], 1, "{session}");
    let r = b
        .client
        .get(b.url(&format!("/api/blobs/{sha}")))
        .header("cookie", &sec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500, "known damaged: refused before any byte");

    // A file that is gone altogether is reported the same way.
    let gone = other["versions"][0]["sha256"].as_str().unwrap();
    std::fs::remove_file(blob_path(&b.dir, gone)).unwrap();
    let r = b
        .client
        .get(b.url(&format!("/api/blobs/{gone}")))
        .header("cookie", &sec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "document.damaged");
    assert_eq!(b.get_json("/readyz").await["damaged_blobs"], 2);
}

/// The built web app's directory, and the name of one file in `assets/` starting with `prefix`.
fn built_asset(prefix: &str) -> (PathBuf, String) {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/dist");
    let name = std::fs::read_dir(dist.join("assets"))
        .expect("web/dist is built (make web)")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with(prefix) && n.ends_with(".js"))
        .unwrap_or_else(|| panic!("no {prefix}*.js in web/dist/assets"));
    (dist, format!("assets/{name}"))
}

#[tokio::test]
async fn the_web_app_goes_out_compressed() {
    let b = TestBox::start().await;
    let (dist, worker) = built_asset("readerWorker-");
    let plain = std::fs::read(dist.join(&worker)).unwrap();
    let url = b.url(&format!("/{worker}"));
    let get = |ae: Option<&str>| {
        let mut r = b.client.get(&url);
        if let Some(ae) = ae {
            r = r.header("accept-encoding", ae);
        }
        r.send()
    };

    let r = get(None).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(r.headers()["vary"], "Accept-Encoding");
    let etag_plain = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(r.bytes().await.unwrap().as_ref(), plain.as_slice());

    let r = get(Some("gzip, deflate, br, zstd")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "br");
    assert_eq!(r.headers()["vary"], "Accept-Encoding");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let etag_br = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(etag_br, etag_plain);
    let len: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let br = r.bytes().await.unwrap();
    assert_eq!(br.len(), len);
    assert!(
        br.len() * 3 < plain.len(),
        "the pdf.js worker goes out at under a third of its size ({} of {})",
        br.len(),
        plain.len()
    );
    let mut unpacked = Vec::new();
    brotli_decompressor::Decompressor::new(br.as_ref(), 4096)
        .read_to_end(&mut unpacked)
        .unwrap();
    assert_eq!(unpacked, plain);

    let r = get(Some("br;q=0, gzip")).await.unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let etag_gz = r.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag_gz != etag_plain && etag_gz != etag_br);
    let gz = r.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(gz.as_ref())
        .read_to_end(&mut unpacked)
        .unwrap();
    assert_eq!(unpacked, plain);

    // Revalidation works per encoding.
    let r = b
        .client
        .get(&url)
        .header("accept-encoding", "br")
        .header("if-none-match", &etag_br)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    let r = b
        .client
        .get(&url)
        .header("if-none-match", &etag_br)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the plain copy is another representation");

    // The app's page, too; the compressed copies are not addressable by themselves.
    let r = get(Some("br")).await.unwrap();
    assert_eq!(r.headers()["content-encoding"], "br");
    let r = b
        .client
        .get(b.url("/"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("content-security-policy").is_some());
    let r = b
        .client
        .get(b.url(&format!("/{worker}.br")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
