//! Member lists as commune offices really send them, through the real preview and import API:
//! letters lost to `?` by an old encoding, the same person spelt two ways, files that are not
//! spreadsheets. Every message the secretary reads is checked in Vietnamese and in English.

use crate::tablets::{box_with_staff, fixture, upload_preview, SECRETARY_PW};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn rows(pv: &Value) -> &Vec<Value> {
    pv["rows"].as_array().unwrap()
}

fn codes(row: &Value) -> Vec<&str> {
    row["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect()
}

/// Words that must not appear inside a Vietnamese message.
fn assert_vietnamese(message: &str) {
    for english in [
        "document",
        "file",
        "Save",
        "workbook",
        "spreadsheet",
        "encoding",
        "column",
    ] {
        assert!(
            !message.contains(english),
            "English {english:?} in the Vietnamese message {message:?}"
        );
    }
}

#[tokio::test]
async fn a_list_whose_letters_were_lost_is_not_thirty_valid_rows() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let (s, pv) = upload_preview(
        &b,
        &sec,
        "thanh-vien-mat-dau.csv",
        fixture("thanh-vien-mat-dau.csv"),
    )
    .await;
    assert_eq!(s, 200, "{pv}");
    assert_eq!(
        (pv["valid"].as_u64(), pv["invalid"].as_u64()),
        (Some(0), Some(30)),
        "{pv}"
    );
    // One plain notice for the whole file, saying what happened and how to export again.
    assert_eq!(pv["damage"]["code"], "import.lost_letters");
    let vi = pv["damage"]["message"].as_str().unwrap();
    assert!(vi.contains("mất dấu tiếng Việt"), "{vi}");
    assert!(vi.contains("UTF-8") && vi.contains(".xlsx"), "{vi}");
    assert_vietnamese(vi);
    let en = pv["damage"]["message_en"].as_str().unwrap();
    assert!(
        en.contains("lost its Vietnamese letters") && en.contains("UTF-8"),
        "{en}"
    );
    // Each row shows whose row it is, and why it is refused.
    let first = &rows(&pv)[0];
    assert_eq!(first["cells"]["name"], "Nguy?n V?n Hùng");
    assert_eq!(first["cells"]["position"], "Ch? t?ch UBND xã");
    assert!(first["person"].is_null());
    assert_eq!(codes(first)[..2], ["row.lost_letters", "row.lost_letters"]);
    assert_eq!(first["errors"][0]["field"], "name");
    // Nothing can be imported from it.
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
    assert!(list["people"].as_array().unwrap().is_empty());

    // A header that lost its letters too: the refusal names the encoding as the cause.
    let garbled = "H? và tên,Ch?c v?\nV? Quang Uyên,Ch? t?ch UBND x?\n";
    let (s, e) = upload_preview(&b, &sec, "ds.csv", garbled.as_bytes().to_vec()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("import.no_name_column")
        )
    );
    let vi = e["message"].as_str().unwrap();
    assert!(
        vi.contains("bảng mã") && vi.contains("mất dấu") && vi.contains("UTF-8"),
        "{vi}"
    );
    assert_vietnamese(vi);
    assert!(e["message_en"]
        .as_str()
        .unwrap()
        .contains("encoding is the likely cause"));
    // Good letters, no name column: the message says the encoding is not the cause.
    let (_, e) = upload_preview(
        &b,
        &sec,
        "ds.csv",
        "Đại biểu,Chức vụ\nA,B\n".as_bytes().to_vec(),
    )
    .await;
    let vi = e["message"].as_str().unwrap();
    assert!(vi.contains("không phải do bảng mã"), "{vi}");
    assert!(e["message_en"].as_str().unwrap().contains("not the cause"));
}

#[tokio::test]
async fn the_same_person_spelt_two_ways_is_found_once() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    let (s, p) = b
        .call(
            Method::POST,
            "/api/people",
            Some(&sec),
            Some(json!({"name": "Lê Thanh Hòa", "phone": "0912000001"})),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    // New tone placement, same phone: the same person.
    let (s, e) = b
        .call(
            Method::POST,
            "/api/people",
            Some(&sec),
            Some(json!({"name": "Lê Thanh Hoà", "phone": "0912 000 001"})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("person.duplicate"))
    );

    let csv = "STT,Họ và tên,Số điện thoại\n\
               1,Lê Thanh Hoà,0912000001\n\
               2,Nguyễn Văn \u{D0}ạt,0912000002\n\
               3,Nguyễn Văn Đạt,0912000002\n\
               4,Phạm Thị Thuỷ,\n\
               5,Phạm Thị Thủy,\n\
               6,Trần Văn Bình,0912000003\n\
               7,Trần Văn Bình,0912000003\n";
    let (s, pv) = upload_preview(&b, &sec, "ds.csv", csv.as_bytes().to_vec()).await;
    assert_eq!(s, 200, "{pv}");
    let r = rows(&pv);
    assert_eq!(codes(&r[0]), ["row.exists"]);
    assert_eq!(codes(&r[1]), Vec::<&str>::new());
    assert_eq!(codes(&r[2]), ["row.duplicate"]);
    assert_eq!(
        r[2]["errors"][0]["message"],
        "Trùng người với dòng 3 (cùng họ tên, cùng số điện thoại)."
    );
    assert_eq!(codes(&r[4]), ["row.duplicate"]);
    assert_eq!(codes(&r[6]), ["row.repeated"]);
    assert_eq!(r[6]["errors"][0]["message"], "Dòng này lặp lại dòng 7.");
    assert_eq!(r[6]["cells"]["name"], "Trần Văn Bình");
    assert_eq!(
        (pv["valid"].as_u64(), pv["invalid"].as_u64()),
        (Some(3), Some(4))
    );

    // Spellings are kept as typed, and sorted together by the letters they stand for.
    let (s, done) = b
        .call(
            Method::POST,
            "/api/people/import",
            Some(&sec),
            Some(json!({"preview_id": pv["preview_id"], "skip_invalid": true})),
        )
        .await;
    assert_eq!(
        (s, done["imported"].as_u64()),
        (StatusCode::CREATED, Some(3))
    );
    let (_, list) = b.call(Method::GET, "/api/people", Some(&sec), None).await;
    let names: Vec<&str> = list["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Trần Văn Bình",
            "Nguyễn Văn \u{D0}ạt",
            "Lê Thanh Hòa",
            "Phạm Thị Thuỷ"
        ]
    );
}

#[tokio::test]
async fn refusals_say_in_vietnamese_what_to_do() {
    let (b, _tmp) = box_with_staff().await;
    let sec = b.sign_in("thuky", SECRETARY_PW).await;
    // An old Excel 97-2003 file.
    let xls = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0".to_vec();
    let (s, e) = upload_preview(&b, &sec, "Danh sách.xls", xls).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("import.unsupported_format")
        )
    );
    let vi = e["message"].as_str().unwrap();
    assert!(
        vi.contains("Excel 97-2003 (.xls)") && vi.contains("Lưu thành") && vi.contains("(*.xlsx)"),
        "{vi}"
    );
    assert_vietnamese(vi);
    assert!(e["message_en"].as_str().unwrap().contains("Save As"));
    // A Word document, in a Vietnamese sentence.
    let docx = {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file(
            "word/document.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        std::io::Write::write_all(&mut w, b"<w:document/>").unwrap();
        w.finish().unwrap().into_inner()
    };
    let (_, e) = upload_preview(&b, &sec, "giay-moi.docx", docx).await;
    let vi = e["message"].as_str().unwrap();
    assert!(vi.contains("văn bản Word"), "{vi}");
    assert_vietnamese(vi);
    // A phone number's reason, in both languages.
    let (_, e) = b
        .call(
            Method::POST,
            "/api/people",
            Some(&sec),
            Some(json!({"name": "Vũ Văn Em", "phone": "091234"})),
        )
        .await;
    let vi = e["message"].as_str().unwrap();
    assert!(
        vi.contains("có 6 chữ số") && vi.contains("10 chữ số"),
        "{vi}"
    );
    assert!(e["message_en"]
        .as_str()
        .unwrap()
        .contains("wrong number of digits (6)"));
    let (_, pv) = upload_preview(
        &b,
        &sec,
        "ds.csv",
        "Họ và tên,SĐT\nVũ Văn Em,01681234567\n".as_bytes().to_vec(),
    )
    .await;
    let vi = pv["rows"][0]["errors"][0]["message"].as_str().unwrap();
    assert!(vi.contains("đầu số") && vi.contains("2018"), "{vi}");
    assert_eq!(pv["rows"][0]["cells"]["phone"], "01681234567");
}
