//! `phonghop access-sheet`: the printed page a room keeps on the table. Read back as a person
//! and a camera would: its text in Vietnamese, and both QR codes decoded from the rendered page.

use crate::helpers::*;
use std::path::Path;

fn text_of(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert_eq!(pages.len(), 1, "the sheet is one page");
    let raw = doc.extract_text(&pages).unwrap();
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders the page at 3 px per point and decodes every QR code on it, top to bottom.
fn qr_codes(pdf: &[u8]) -> Vec<String> {
    let doc = hayro::hayro_syntax::Pdf::new(std::sync::Arc::new(pdf.to_vec())).unwrap();
    let pages = doc.pages();
    let page = pages.iter().next().unwrap();
    let settings = hayro::RenderSettings {
        x_scale: 3.0,
        y_scale: 3.0,
        ..Default::default()
    };
    let pixmap = hayro::render(
        page,
        &hayro::RenderCache::new(),
        &hayro::hayro_interpret::InterpreterSettings::default(),
        &settings,
    );
    let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let c = pixmap.sample(x as u16, y as u16);
        // Transparent is the white paper.
        if c.a < 128 {
            255
        } else {
            ((u16::from(c.r) + u16::from(c.g) + u16::from(c.b)) / 3) as u8
        }
    });
    let mut found: Vec<(i32, String)> = img
        .detect_grids()
        .into_iter()
        .map(|g| {
            let top = g.bounds.iter().map(|p| p.y).min().unwrap();
            (top, g.decode().expect("a QR code that decodes").1)
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, t)| t).collect()
}

fn sheet(
    data: &Path,
    out: &Path,
    ssid: &str,
    passphrase: &str,
    extra: &[&str],
) -> std::process::Output {
    std::process::Command::new(bin())
        .args(["access-sheet", "--data", data.to_str().unwrap()])
        .args(extra)
        .args(["--ssid", ssid, "--passphrase", passphrase])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap()
}

/// Made while the box runs (its certificate authority exists from the first start), as the
/// first-boot script does, with the room's name given.
#[tokio::test]
async fn the_sheet_reads_in_vietnamese_and_both_qr_codes_scan() {
    let b = TestBox::start().await;
    let data = b.dir.clone();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("to-ket-noi.pdf");
    // Every character the Wi-Fi QR format escapes, in the SSID and the passphrase.
    let (ssid, pass) = ("Phòng họp; tầng 2", r#"mk:a,b;c\d"e-2026"#);
    // The store is the running box's: the name must be given.
    let run = sheet(&data, &out, ssid, pass, &[]);
    assert_eq!(run.status.code(), Some(66));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--room"));
    assert!(!out.exists());
    let run = sheet(&data, &out, ssid, pass, &["--room", ROOM]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let pdf = std::fs::read(&out).unwrap();
    let text = text_of(&pdf);
    for expected in [
        "Kết nối phòng họp không giấy",
        ROOM,
        "Bước 1. Kết nối Wi-Fi của phòng họp",
        "Tên mạng (SSID):",
        ssid,
        "Mật khẩu Wi-Fi:",
        pass,
        "Bước 2. Mở trang của phòng họp",
        "http://phonghop.lan/",
        "Mã vân tay chứng thư gốc (SHA-256):",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    // The fingerprint printed is the one the box's root certificate has.
    let pem = std::fs::read(data.join("tls/root.pem")).unwrap();
    let (_, der) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    let fp: String = {
        use sha2::Digest;
        let hex = hex::encode_upper(sha2::Sha256::digest(&der.contents));
        hex.as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":")
    };
    // The fingerprint wraps over lines; compare without the breaks.
    assert!(text.replace(' ', "").contains(&fp), "{fp} not in {text}");

    assert_eq!(
        qr_codes(&pdf),
        vec![
            r#"WIFI:T:WPA;S:Phòng họp\; tầng 2;P:mk\:a\,b\;c\\d\"e-2026;;"#.to_owned(),
            "http://phonghop.lan/".to_owned(),
        ]
    );
}

/// Stopped box: the name comes from the data directory; a bad passphrase writes nothing.
#[test]
fn a_passphrase_hostapd_would_refuse_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    init_dir(&data);
    let out = tmp.path().join("sheet.pdf");
    let run = sheet(&data, &out, "PhongHop", "ngắn", &[]);
    assert_eq!(run.status.code(), Some(64));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("8 to 63 printable ASCII"), "{err}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "only data/"
    );
}
