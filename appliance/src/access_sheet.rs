//! The room's access sheet: one A4 page in Vietnamese, printed and left on the table, with the
//! Wi-Fi QR code (tablets join the room's network by pointing the camera), then the QR code and
//! address of the box's onboarding page, and the root certificate's fingerprint to compare.
//! `phonghop access-sheet --data DIR --ssid … --passphrase … --out sheet.pdf`.
//!
//! The page is laid out with the result PDF's writer ([`crate::evidence::pdf`]: Noto Sans,
//! subset, searchable) and the QR codes come from [`crate::qr`].

use crate::evidence::pdf::{Doc, Weight, BODY, SMALL};
use crate::store::Store;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The address the access-point mode's DNS gives the box (provisioning/templates/dnsmasq.conf).
pub const DEFAULT_URL: &str = "http://phonghop.lan/";

#[derive(Debug, clap::Args)]
pub struct AccessSheetArgs {
    /// The box's data directory (for the room's name and the root certificate's fingerprint).
    #[arg(long, env = "PHONGHOP_DATA", default_value = "/var/lib/phonghop")]
    pub data: PathBuf,
    /// The room's Wi-Fi name (SSID), 1 to 32 bytes.
    #[arg(long)]
    pub ssid: String,
    /// The Wi-Fi's WPA2 passphrase: 8 to 63 printable ASCII characters.
    #[arg(long, env = "PHONGHOP_WIFI_PASSPHRASE", hide_env_values = true)]
    pub passphrase: String,
    /// The onboarding page tablets open first (plain HTTP; it installs the room's certificate).
    #[arg(long, default_value = DEFAULT_URL)]
    pub url: String,
    /// The room's name to print; by default the name the box was set up with (read from the
    /// data directory, which needs the box stopped).
    #[arg(long)]
    pub room: Option<String>,
    /// Where to write the PDF.
    #[arg(long)]
    pub out: PathBuf,
}

/// What goes on the sheet.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub room: String,
    pub ssid: String,
    pub passphrase: String,
    pub url: String,
    /// SHA-256 of the root certificate, "AB:CD:…", when the data directory has one.
    pub fingerprint: Option<String>,
}

/// Input that cannot make a sheet a tablet can use.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("the Wi-Fi name (SSID) must be 1 to 32 bytes, not {0}")]
    Ssid(usize),
    #[error("the WPA2 passphrase must be 8 to 63 printable ASCII characters (letters without accents, digits, punctuation)")]
    Passphrase,
    #[error("the address must start with http:// or https://, e.g. {DEFAULT_URL}")]
    Url,
    #[error("{0}")]
    Room(String),
    #[error("cannot make the PDF: {0}")]
    Pdf(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl SheetError {
    pub fn exit_code(&self) -> u8 {
        match self {
            SheetError::Ssid(_) | SheetError::Passphrase | SheetError::Url => 64,
            SheetError::Room(_) => 66,
            SheetError::Pdf(_) => 70,
            SheetError::Write { .. } => 73,
        }
    }
}

/// `\ ; , : "` are escaped with a backslash in a Wi-Fi QR field (the ZXing `WIFI:` format that
/// Android and iOS cameras read).
fn escape_wifi(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    for c in field.chars() {
        if matches!(c, '\\' | ';' | ',' | ':' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The text of the Wi-Fi QR code: `WIFI:T:WPA;S:<ssid>;P:<passphrase>;;`.
pub fn wifi_qr_text(ssid: &str, passphrase: &str) -> String {
    format!(
        "WIFI:T:WPA;S:{};P:{};;",
        escape_wifi(ssid),
        escape_wifi(passphrase)
    )
}

impl Sheet {
    /// Checks what a tablet and hostapd would refuse.
    pub fn check(&self) -> Result<(), SheetError> {
        if self.ssid.is_empty() || self.ssid.len() > 32 {
            return Err(SheetError::Ssid(self.ssid.len()));
        }
        let len = self.passphrase.len();
        if !(8..=63).contains(&len) || !self.passphrase.chars().all(|c| (' '..='~').contains(&c)) {
            return Err(SheetError::Passphrase);
        }
        let lower = self.url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) || self.url.len() < 9 {
            return Err(SheetError::Url);
        }
        Ok(())
    }

    /// The sheet as a one-page A4 PDF.
    pub fn render(&self) -> Result<Vec<u8>, SheetError> {
        self.check()?;
        let pdf = |e: crate::evidence::EvidenceError| SheetError::Pdf(e.to_string());
        let mut d = Doc::new().map_err(pdf)?;
        d.centered(Weight::Bold, 18.0, "Kết nối phòng họp không giấy");
        d.centered(Weight::Bold, 13.0, &self.room);
        d.gap(10.0);

        d.heading("Bước 1. Kết nối Wi-Fi của phòng họp");
        d.para(
            Weight::Regular,
            BODY,
            0.0,
            "Mở Camera trên máy tính bảng, hướng vào mã dưới đây và chạm vào thông báo để kết nối. \
             Nếu máy không đọc được mã, vào Cài đặt > Wi-Fi và nhập tên mạng, mật khẩu bên dưới.",
        );
        d.gap(6.0);
        d.qr(&wifi_qr_text(&self.ssid, &self.passphrase), 170.0)
            .map_err(pdf)?;
        d.gap(6.0);
        d.field("Tên mạng (SSID):", &self.ssid);
        d.field("Mật khẩu Wi-Fi:", &self.passphrase);
        d.gap(8.0);

        d.heading("Bước 2. Mở trang của phòng họp");
        d.para(
            Weight::Regular,
            BODY,
            0.0,
            "Sau khi đã kết nối Wi-Fi, quét mã này (hoặc gõ địa chỉ vào trình duyệt). \
             Lần đầu tiên, trang hướng dẫn cài chứng thư của phòng họp để kết nối an toàn.",
        );
        d.gap(6.0);
        d.qr(&self.url, 170.0).map_err(pdf)?;
        d.gap(6.0);
        d.field("Địa chỉ:", &self.url);
        if let Some(fp) = &self.fingerprint {
            d.field("Mã vân tay chứng thư gốc (SHA-256):", fp);
            d.para(
                Weight::Regular,
                SMALL,
                0.0,
                "So sánh mã vân tay này với mã hiện trên trang cài chứng thư; nếu khác nhau, \
                 không cài và báo cho cán bộ công nghệ thông tin.",
            );
        }
        d.gap(8.0);
        d.para(
            Weight::Regular,
            SMALL,
            0.0,
            "Giữ tờ này ở bàn thư ký. Ai có tờ này có thể vào mạng Wi-Fi của phòng họp; \
             khi đổi mật khẩu Wi-Fi, in lại tờ mới và hủy tờ cũ.",
        );
        let id = Sha256::digest(format!("{}\0{}\0{}", self.room, self.ssid, self.url).as_bytes())
            [..16]
            .to_vec();
        let title = format!("Kết nối phòng họp: {}", self.room);
        let footer = format!("Phonghop — {}", self.room);
        let (bytes, _pages) = d.write(&footer, &title, id).map_err(pdf)?;
        Ok(bytes)
    }
}

/// SHA-256 of the PEM certificate's DER, "AB:CD:…", as the onboarding page shows it.
fn fingerprint_of(pem: &[u8]) -> Option<String> {
    let (_, p) = x509_parser::pem::parse_x509_pem(pem).ok()?;
    let hex = hex::encode_upper(Sha256::digest(&p.contents));
    Some(
        hex.as_bytes()
            .chunks(2)
            .filter_map(|c| std::str::from_utf8(c).ok())
            .collect::<Vec<_>>()
            .join(":"),
    )
}

fn room_name(data: &Path, given: Option<String>) -> Result<String, SheetError> {
    if let Some(r) = given {
        return Ok(r);
    }
    let store = Store::open(data).map_err(|e| {
        SheetError::Room(format!(
            "cannot read the room's name from {}: {e}. Give it with --room",
            data.display()
        ))
    })?;
    let room = store
        .room()
        .map_err(|e| SheetError::Room(format!("cannot read the room's name: {e}")))?;
    Ok(room.name.as_str().to_owned())
}

/// `phonghop access-sheet`: checks the input, renders, and writes the PDF whole or not at all.
pub fn run(args: AccessSheetArgs) -> Result<PathBuf, SheetError> {
    let mut sheet = Sheet {
        room: String::new(),
        ssid: args.ssid,
        passphrase: args.passphrase,
        url: args.url,
        fingerprint: std::fs::read(args.data.join("tls").join("root.pem"))
            .ok()
            .and_then(|pem| fingerprint_of(&pem)),
    };
    sheet.check()?;
    sheet.room = room_name(&args.data, args.room)?;
    let bytes = sheet.render()?;
    let out = args.out;
    let write = |source| SheetError::Write {
        path: out.clone(),
        source,
    };
    let mut tmp = out.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, &bytes).map_err(write)?;
    std::fs::rename(&tmp, &out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        write(e)
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> Sheet {
        Sheet {
            room: "Phòng họp UBND xã Tân Phú".into(),
            ssid: "PhongHop-TanPhu".into(),
            passphrase: "hop-khong-giay-2026".into(),
            url: DEFAULT_URL.into(),
            fingerprint: None,
        }
    }

    #[test]
    fn wifi_fields_escape_the_five_special_characters() {
        assert_eq!(
            wifi_qr_text(r#"a\b;c,d:e"f"#, "p;w:x,y\\z\"1"),
            r#"WIFI:T:WPA;S:a\\b\;c\,d\:e\"f;P:p\;w\:x\,y\\z\"1;;"#
        );
        assert_eq!(
            wifi_qr_text("Phòng họp", "12345678"),
            "WIFI:T:WPA;S:Phòng họp;P:12345678;;"
        );
    }

    #[test]
    fn what_a_tablet_or_hostapd_would_refuse_is_refused() {
        let mut s = sheet();
        s.passphrase = "short".into();
        assert!(matches!(s.render(), Err(SheetError::Passphrase)));
        s.passphrase = "mật khẩu có dấu".into();
        assert!(matches!(s.check(), Err(SheetError::Passphrase)));
        s = sheet();
        s.ssid = "x".repeat(33);
        assert!(matches!(s.check(), Err(SheetError::Ssid(33))));
        s = sheet();
        s.url = "phonghop.lan".into();
        assert!(matches!(s.check(), Err(SheetError::Url)));
        assert!(sheet().render().unwrap().starts_with(b"%PDF-"));
    }
}
