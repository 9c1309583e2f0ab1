//! The iOS / iPadOS configuration profile that installs the box's root certificate.

use base64::Engine;
use sha2::{Digest, Sha256};

/// Builds an unsigned `.mobileconfig` (serve it as `application/x-apple-aspen-config`) holding
/// `root_der` as a `com.apple.security.root` payload.
///
/// The UUIDs are derived from the certificate's SHA-256, so the same root always gives the same
/// profile and reinstalling replaces instead of duplicating. `box_id` only feeds the payload
/// identifiers; anything but letters, digits, '-' and '.' is replaced by '-'.
///
/// After installing, iOS still needs full trust switched on by hand (Settings → General → About
/// → Certificate Trust Settings); the description says so in Vietnamese.
pub fn mobileconfig(root_der: &[u8], room_name: &str, box_id: &str) -> String {
    let digest = Sha256::digest(root_der);
    let profile_uuid = derived_uuid(b"phonghop-profile", &digest);
    let cert_uuid = derived_uuid(b"phonghop-root-cert", &digest);
    let id = identifier_part(box_id);
    let room = room_name.trim();
    let fingerprint: String = hex::encode_upper(digest)
        .as_bytes()
        .chunks(2)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect::<Vec<_>>()
        .join(":");

    let display = if room.is_empty() {
        "Phonghop".to_string()
    } else {
        format!("Phonghop – {room}")
    };
    let cert_display = if room.is_empty() {
        "Chứng chỉ gốc Phonghop".to_string()
    } else {
        format!("Chứng chỉ gốc Phonghop – {room}")
    };
    let description = format!(
        "Cài đặt hồ sơ này để máy tính bảng tin cậy kết nối an toàn (HTTPS) tới hộp Phonghop \
         của phòng họp{}. Sau khi cài, vào Cài đặt → Cài đặt chung → Giới thiệu → Cài đặt tin \
         cậy chứng nhận và bật tin cậy đầy đủ cho chứng chỉ này. Dấu vân tay SHA-256: {fingerprint}",
        if room.is_empty() {
            String::new()
        } else {
            format!(" {room}")
        }
    );
    let data = base64::engine::general_purpose::STANDARD.encode(root_der);
    let data_lines: Vec<&str> = data
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    let data_block = data_lines.join("\n\t\t\t");

    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>phonghop-root.cer</string>
			<key>PayloadContent</key>
			<data>
			{data_block}
			</data>
			<key>PayloadDescription</key>
			<string>{cert_desc}</string>
			<key>PayloadDisplayName</key>
			<string>{cert_display}</string>
			<key>PayloadIdentifier</key>
			<string>vn.phonghop.{id}.root-ca</string>
			<key>PayloadType</key>
			<string>com.apple.security.root</string>
			<key>PayloadUUID</key>
			<string>{cert_uuid}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
	</array>
	<key>PayloadDescription</key>
	<string>{description}</string>
	<key>PayloadDisplayName</key>
	<string>{display}</string>
	<key>PayloadIdentifier</key>
	<string>vn.phonghop.{id}</string>
	<key>PayloadOrganization</key>
	<string>Phonghop</string>
	<key>PayloadRemovalDisallowed</key>
	<false/>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>{profile_uuid}</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>
</plist>
"#,
        cert_desc = xml_escape("Chứng chỉ gốc của hộp Phonghop"),
        cert_display = xml_escape(&cert_display),
        description = xml_escape(&description),
        display = xml_escape(&display),
    )
}

fn derived_uuid(label: &[u8], cert_digest: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(label);
    h.update(cert_digest);
    let out = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&out[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
        .to_uppercase()
}

fn identifier_part(box_id: &str) -> String {
    let cleaned: String = box_id
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches(|c| c == '.' || c == '-');
    if cleaned.is_empty() {
        "box".to_string()
    } else {
        cleaned.to_string()
    }
}

/// Escapes the five XML specials and drops characters XML 1.0 does not allow.
fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_is_stable_escaped_and_carries_the_cert() {
        let der = b"\x30\x03\x02\x01\x01 fake der";
        let a = mobileconfig(der, "Xã <Tân> & \"Hòa\"", "box/01 ");
        let b = mobileconfig(der, "Xã <Tân> & \"Hòa\"", "box/01 ");
        assert_eq!(a, b);
        assert!(a.contains("<string>com.apple.security.root</string>"));
        assert!(a.contains(&base64::engine::general_purpose::STANDARD.encode(der)));
        assert!(a.contains("Phonghop – Xã &lt;Tân&gt; &amp; &quot;Hòa&quot;"));
        assert!(!a.contains("<Tân>"));
        assert!(a.contains("vn.phonghop.box-01.root-ca"));
        let other = mobileconfig(b"other", "Xã <Tân> & \"Hòa\"", "box/01 ");
        let uuids = |s: &str| {
            s.lines()
                .zip(s.lines().skip(1))
                .filter(|(k, _)| k.contains("<key>PayloadUUID</key>"))
                .map(|(_, v)| v.trim().to_string())
                .collect::<Vec<_>>()
        };
        let (ua, uo) = (uuids(&a), uuids(&other));
        assert_eq!(ua.len(), 2);
        assert_ne!(ua[0], ua[1]);
        assert_ne!(ua, uo);
        for u in &ua {
            let inner = u
                .trim_start_matches("<string>")
                .trim_end_matches("</string>");
            assert!(uuid::Uuid::parse_str(inner).is_ok(), "{inner}");
        }
    }
}
