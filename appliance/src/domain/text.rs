//! Text that users type, parsed once at the edge into types that cannot hold bad values.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a piece of text was refused. Each variant maps to one API error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} is shorter than {min} characters")]
    TooShort { field: &'static str, min: usize },
    #[error("{field} contains a control character")]
    ControlChar { field: &'static str },
    #[error("{field} may only contain a-z, 0-9, '.', '_' and '-'")]
    BadChars { field: &'static str },
}

impl TextError {
    /// The field the error is about, for the API's error body.
    pub fn field(&self) -> &'static str {
        match self {
            TextError::Empty { field }
            | TextError::TooLong { field, .. }
            | TextError::TooShort { field, .. }
            | TextError::ControlChar { field }
            | TextError::BadChars { field } => field,
        }
    }
}

/// Trims, stores NFC (what most keyboards type; macOS sends NFD), refuses control characters
/// (newlines included unless `multiline`), and bounds the length in characters, not bytes,
/// since Vietnamese letters take two or three bytes each.
fn clean(field: &'static str, raw: &str, max: usize, multiline: bool) -> Result<String, TextError> {
    let composed = super::vietnamese::nfc(raw);
    let trimmed = composed.trim();
    if trimmed.is_empty() {
        return Err(TextError::Empty { field });
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !(multiline && c == '\n'))
    {
        return Err(TextError::ControlChar { field });
    }
    if trimmed.chars().count() > max {
        return Err(TextError::TooLong { field, max });
    }
    Ok(trimmed.to_owned())
}

/// The name of a meeting room, as shown on every tablet, e.g. "Phòng họp UBND xã Tân Phú".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "String", into = "String")]
pub struct RoomName(String);

impl RoomName {
    pub const MAX: usize = 120;
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        clean("name", raw, Self::MAX, false).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A short notice from the secretary to every tablet in the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "String", into = "String")]
pub struct NoticeText(String);

impl NoticeText {
    pub const MAX: usize = 500;
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        clean("text", raw, Self::MAX, true).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A staff account's sign-in name: lower-case ASCII so it is easy to type on any keyboard.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub const MAX: usize = 64;
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let field = "username";
        let s = clean(field, raw, Self::MAX, false)?.to_lowercase();
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(TextError::BadChars { field });
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A staff password. Its `Debug` never shows the secret, so it cannot leak into logs.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 256;
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let field = "password";
        let n = raw.chars().count();
        if n == 0 {
            return Err(TextError::Empty { field });
        }
        if n < Self::MIN {
            return Err(TextError::TooShort {
                field,
                min: Self::MIN,
            });
        }
        if n > Self::MAX {
            return Err(TextError::TooLong {
                field,
                max: Self::MAX,
            });
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

macro_rules! string_conversions {
    ($($t:ident),*) => {$(
        impl TryFrom<String> for $t {
            type Error = TextError;
            fn try_from(s: String) -> Result<Self, TextError> { Self::parse(&s) }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String { v.0 }
        }
    )*};
}
string_conversions!(RoomName, NoticeText, Username);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_name_counts_characters_not_bytes() {
        let name = "Ủy ban nhân dân xã Đông Hưng".repeat(4);
        assert!(name.len() > RoomName::MAX);
        assert!(name.chars().count() <= RoomName::MAX);
        assert_eq!(RoomName::parse(&name).unwrap().as_str(), name);
    }

    #[test]
    fn room_name_refuses_blank_control_and_long() {
        assert_eq!(
            RoomName::parse("   "),
            Err(TextError::Empty { field: "name" })
        );
        assert_eq!(
            RoomName::parse("Phòng\u{0}họp"),
            Err(TextError::ControlChar { field: "name" })
        );
        assert!(matches!(
            RoomName::parse(&"a".repeat(121)),
            Err(TextError::TooLong { .. })
        ));
        assert_eq!(
            RoomName::parse("  Phòng họp  ").unwrap().as_str(),
            "Phòng họp"
        );
    }

    #[test]
    fn decomposed_text_is_stored_composed() {
        let nfd = "Pho\u{300}ng ho\u{323}p xa\u{303} \u{110}o\u{302}\u{301}i";
        assert_eq!(RoomName::parse(nfd).unwrap().as_str(), "Phòng họp xã Đối");
        assert_eq!(NoticeText::parse(nfd).unwrap().as_str(), "Phòng họp xã Đối");
    }

    #[test]
    fn notice_allows_newlines_but_not_other_controls() {
        assert!(NoticeText::parse("Dòng 1\nDòng 2").is_ok());
        assert!(NoticeText::parse("a\u{7}b").is_err());
    }

    #[test]
    fn username_is_lowercased_ascii() {
        assert_eq!(Username::parse("Admin").unwrap().as_str(), "admin");
        assert!(Username::parse("thư.ký").is_err());
        assert!(Username::parse("a b").is_err());
    }

    #[test]
    fn password_debug_is_redacted() {
        let p = Password::parse("bí-mật-lắm").unwrap();
        assert!(!format!("{p:?}").contains("bí"));
        assert!(Password::parse("short").is_err());
    }
}
