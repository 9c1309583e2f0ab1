//! The people of a meeting as plain values: a name that sorts the Vietnamese way, a phone number
//! in one canonical form, and the short texts (chức vụ, đơn vị) shown next to a name.
//!
//! Vietnamese text reaches us precomposed (NFC, what most keyboards type), decomposed (NFD, what
//! macOS and some web forms send) or half-decomposed (Windows-1258 puts the tone mark after the
//! letter). Every type here stores NFC (the `unicode-normalization` crate), keeping the spelling
//! as typed; comparing, finding duplicates and sorting go through [`super::vietnamese::canonical`],
//! so "Lê Thanh Hòa" and "Lê Thanh Hoà" (old and new tone placement) are one person.

use super::vietnamese::{canonical, fold_for_matching, nfc, Letter};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// Why a value for a person was refused. `field` is the API's name for the input ("name",
/// "phone", ...) so the HTTP layer can point at it and word the message in Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains a control character")]
    ControlChar { field: &'static str },
    #[error("{field} contains no letter")]
    NoLetter { field: &'static str },
    #[error("{field} is not a Vietnamese phone number: {problem}")]
    BadPhone {
        field: &'static str,
        problem: PhoneProblem,
    },
    #[error("{field} {value:?} is neither a member nor a guest")]
    UnknownKind { field: &'static str, value: String },
}

impl PersonError {
    /// The field the error is about, for the API's error body.
    pub fn field(&self) -> &'static str {
        match self {
            PersonError::Empty { field }
            | PersonError::TooLong { field, .. }
            | PersonError::ControlChar { field }
            | PersonError::NoLetter { field }
            | PersonError::BadPhone { field, .. }
            | PersonError::UnknownKind { field, .. } => field,
        }
    }
}

/// What exactly is wrong with a phone number, so the message can help the secretary fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneProblem {
    /// Letters or symbols other than `+`, spaces, dots, dashes and brackets (often two numbers
    /// in one cell, or "máy lẻ" extensions).
    #[error("only digits, spaces, '.', '-', '(', ')' and a leading '+84' are allowed")]
    InvalidChars,
    /// A foreign number (`+` followed by a country code other than 84).
    #[error("not a Vietnamese number")]
    Foreign,
    /// The national number does not start with 02 (landline) or 03/05/07/08/09 (mobile). The
    /// old 11-digit 01x mobile numbers land here: they were renumbered in 2018.
    #[error("unknown prefix")]
    UnknownPrefix,
    /// Mobiles have 10 digits, landlines 10 or 11 (counting the leading 0).
    #[error("wrong number of digits ({digits})")]
    WrongLength { digits: usize },
}

// --- Vietnamese letters -----------------------------------------------------------------------

/// The Vietnamese alphabet in order, with f, j, w, z (foreign names) at their Latin places.
/// Digraphs (ch, ng, nh, ...) are not letters of their own: modern lists sort letter by letter,
/// as CLDR's "standard" Vietnamese collation does (its "traditional" one is the exception).
const ALPHABET: [char; 33] = [
    'a', 'ă', 'â', 'b', 'c', 'd', 'đ', 'e', 'ê', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'ô', 'ơ', 'p', 'q', 'r', 's', 't', 'u', 'ư', 'v', 'w', 'x', 'y', 'z',
];

/// Zero-width characters and soft hyphens that come along with text pasted from web pages or
/// Word. They are invisible, so refusing them would puzzle the user; keeping them would make
/// two identical-looking names differ.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// Shared cleaning for every text field of a person: drop invisible characters, recompose to
/// NFC, refuse control characters, turn any run of whitespace (including tabs, line breaks in a
/// spreadsheet cell and no-break spaces) into one space, and bound the length in characters.
/// `Ok(None)` when nothing is left.
fn clean_line(field: &'static str, raw: &str, max: usize) -> Result<Option<String>, PersonError> {
    // Composing shrinks a letter to no less than a quarter (a base and up to three marks, as in
    // Greek), so longer input is refused before the work is done: a cell can hold megabytes.
    let visible = raw
        .chars()
        .filter(|&c| !c.is_whitespace() && !is_invisible(c))
        .count();
    if visible > 4 * max {
        return Err(PersonError::TooLong { field, max });
    }
    let composed = nfc(&raw.replace(is_invisible, ""));
    if composed
        .chars()
        .any(|c| c.is_control() && !c.is_whitespace())
    {
        return Err(PersonError::ControlChar { field });
    }
    let collapsed = composed.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return Ok(None);
    }
    if collapsed.chars().count() > max {
        return Err(PersonError::TooLong { field, max });
    }
    Ok(Some(collapsed))
}

// --- Name -------------------------------------------------------------------------------------

/// A person's full name as written in Vietnamese order: family name first, given name last,
/// e.g. "Nguyễn Thị Lan". Stored in NFC with single spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    pub const MAX: usize = 100;
    const FIELD: &'static str = "name";

    pub fn parse(raw: &str) -> Result<Self, PersonError> {
        let field = Self::FIELD;
        let name = clean_line(field, raw, Self::MAX)?.ok_or(PersonError::Empty { field })?;
        if !name.chars().any(char::is_alphabetic) {
            return Err(PersonError::NoLetter { field });
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The given name (tên), the last word: "Lan" in "Nguyễn Thị Lan".
    pub fn given(&self) -> &str {
        self.0.rsplit(' ').next().unwrap_or(&self.0)
    }

    /// The family name (họ), the first word: "Nguyễn" in "Nguyễn Thị Lan". For a one-word name
    /// this is the same word as `given`.
    pub fn family(&self) -> &str {
        self.0.split(' ').next().unwrap_or(&self.0)
    }

    /// The middle names (tên đệm) between family and given name, if any: "Thị".
    pub fn middle(&self) -> Option<&str> {
        let start = self.0.find(' ')? + 1;
        let end = self.0.rfind(' ')?;
        self.0.get(start..end).filter(|m| !m.is_empty())
    }

    /// The same name whatever its case, tone placement or look-alike Đ, for finding
    /// duplicates: "NGUYỄN VĂN AN" and "Nguyễn Văn An" are one person, as are "Lê Thanh Hòa"
    /// and "Lê Thanh Hoà"; "Nguyễn Văn Ân" is another.
    pub fn matching_key(&self) -> String {
        canonical(&self.0)
    }

    /// The key that puts names in Vietnamese order; see [`vietnamese_cmp`].
    pub fn sort_key(&self) -> NameSortKey {
        let words: Vec<&str> = self.0.split(' ').collect();
        // Given name first, then family name, then the middle names left to right.
        let mut ordered: Vec<&str> = Vec::with_capacity(words.len());
        if let Some((given, rest)) = words.split_last() {
            ordered.push(given);
            ordered.extend(rest.iter().copied());
        }
        let mut case = Vec::new();
        let words = ordered
            .into_iter()
            .map(|w| {
                let mut key = WordKey::default();
                // Letters and tones from the canonical spelling, so that where the tone mark
                // sits ("Hòa", "Hoà") does not change the order; case from the name as typed.
                for letter in canonical(w).chars().map(Letter::split) {
                    if let Some(weight) = primary_weight(letter.base) {
                        key.letters.push(weight);
                        key.tones.push(letter.tone);
                    }
                }
                case.extend(
                    w.chars()
                        .map(Letter::split)
                        .filter(|l| primary_weight(l.base).is_some())
                        .map(|l| l.upper),
                );
                key
            })
            .collect();
        NameSortKey {
            words,
            case,
            exact: self.0.clone(),
        }
    }
}

/// Where a base letter goes at the first level: digits, then the alphabet, then anything else
/// by code point. Punctuation (the apostrophe in "H'Hen", a hyphen) is ignored until the
/// last tie-break, as in the Unicode collation algorithm.
fn primary_weight(base: char) -> Option<u32> {
    if let Some(d) = base.to_digit(10) {
        return Some(d + 1);
    }
    if let Some(i) = ALPHABET.iter().position(|&l| l == base) {
        return Some(100 + i as u32);
    }
    if base.is_alphanumeric() {
        return Some(1000 + u32::from(base));
    }
    None
}

/// One word's weights: letters first, tones only when all letters are equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
struct WordKey {
    letters: Vec<u32>,
    tones: Vec<u8>,
}

/// Sort key for a [`PersonName`]: compare keys instead of names when sorting many times.
///
/// Order, strongest first: for the given name, then the family name, then each middle name,
/// compare letters in the Vietnamese alphabet and then tones; then letter case over the whole
/// name (lower before upper); then the exact text, so only equal names compare equal.
///
/// Tones are a difference inside a word, not across the whole name, so everyone called "Anh"
/// comes before everyone called "Ánh", and both before "Bình". The tone order none < huyền <
/// hỏi < ngã < sắc < nặng is that of Vietnamese dictionaries (Hoàng Phê (ed.), Từ điển tiếng
/// Việt, Viện Ngôn ngữ học) and of Unicode CLDR's Vietnamese collation
/// (common/collation/vi.xml: `&̀<<̉<<̃<<́<<̣`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NameSortKey {
    words: Vec<WordKey>,
    case: Vec<bool>,
    exact: String,
}

/// Vietnamese order for two names; see [`NameSortKey`].
pub fn vietnamese_cmp(a: &PersonName, b: &PersonName) -> Ordering {
    a.sort_key().cmp(&b.sort_key())
}

/// Sorts anything that has a name (people, drafts, tablets' users) in Vietnamese order,
/// computing each key once.
pub fn sort_by_name<T>(items: &mut [T], name: impl Fn(&T) -> &PersonName) {
    items.sort_by_cached_key(|item| name(item).sort_key());
}

impl TryFrom<String> for PersonName {
    type Error = PersonError;
    fn try_from(s: String) -> Result<Self, PersonError> {
        Self::parse(&s)
    }
}

impl From<PersonName> for String {
    fn from(n: PersonName) -> String {
        n.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// --- Phone ------------------------------------------------------------------------------------

/// A Vietnamese phone number in national form: "0912345678" (mobile, 10 digits) or
/// "02133876543" (landline, 10-11 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    const FIELD: &'static str = "phone";

    /// Accepts what people write: "0912 345 678", "0912.345.678", "+84 912-345-678",
    /// "+84 (0) 912345678", "(0213) 387 6543". Also accepts what Excel leaves of a number typed
    /// without quotes: 912345678 (leading 0 dropped) and 84912345678. Empty means no phone.
    pub fn parse(raw: &str) -> Result<Option<Self>, PersonError> {
        let field = Self::FIELD;
        let bad = |problem| PersonError::BadPhone { field, problem };
        let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || is_invisible(c));
        if trimmed.is_empty() {
            return Ok(None);
        }
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '.' | '-' | '(' | ')' | '\u{A0}' => {}
                _ => return Err(bad(PhoneProblem::InvalidChars)),
            }
        }
        if digits.is_empty() {
            return Err(bad(PhoneProblem::InvalidChars));
        }
        let international = if plus {
            Some(
                digits
                    .strip_prefix("84")
                    .ok_or(bad(PhoneProblem::Foreign))?,
            )
        } else if let Some(rest) = digits.strip_prefix("0084") {
            Some(rest)
        } else {
            // 84912345678: "+84..." typed into an Excel number cell. No national number has
            // 11 digits starting with 8, so this cannot be misread.
            digits
                .strip_prefix("84")
                .filter(|rest| rest.len() == 9 && !rest.starts_with('0'))
        };
        let national = match international {
            // "+84 (0) 912..." keeps the trunk 0 in brackets; drop it.
            Some(rest) => format!("0{}", rest.strip_prefix('0').unwrap_or(rest)),
            None if !digits.starts_with('0')
                && (digits.len() == 9 || (digits.len() == 10 && digits.starts_with('2'))) =>
            {
                // Excel stores 0912345678 typed into a number cell as 912345678.
                format!("0{digits}")
            }
            None => digits,
        };
        let len = national.len();
        let mut chars = national.chars();
        let valid_lengths = match (chars.next(), chars.next()) {
            (Some('0'), Some('2')) => 10..=11,
            (Some('0'), Some('3' | '5' | '7' | '8' | '9')) => 10..=10,
            (Some('0'), None) => 10..=10,
            _ => return Err(bad(PhoneProblem::UnknownPrefix)),
        };
        if !valid_lengths.contains(&len) {
            return Err(bad(PhoneProblem::WrongLength { digits: len }));
        }
        Ok(Some(Self(national)))
    }

    /// The national form, "0912345678".
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The international form for `tel:` links and SMS gateways, "+84912345678".
    pub fn international(&self) -> String {
        format!("+84{}", self.0.get(1..).unwrap_or_default())
    }

    /// Mobile numbers can get SMS invitations; landlines (02x) cannot.
    pub fn is_mobile(&self) -> bool {
        !self.0.starts_with("02")
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Phone {
    type Error = PersonError;
    fn try_from(s: String) -> Result<Self, PersonError> {
        Self::parse(&s)?.ok_or(PersonError::Empty { field: Self::FIELD })
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

// --- Short texts ------------------------------------------------------------------------------

macro_rules! bounded_text {
    ($(#[$doc:meta])* $t:ident, $field:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
        #[serde(try_from = "String", into = "String")]
        pub struct $t(String);

        impl $t {
            pub const MAX: usize = $max;
            /// Empty (or only spaces) means "not given".
            pub fn parse(raw: &str) -> Result<Option<Self>, PersonError> {
                Ok(clean_line($field, raw, Self::MAX)?.map(Self))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $t {
            type Error = PersonError;
            fn try_from(s: String) -> Result<Self, PersonError> {
                Self::parse(&s)?.ok_or(PersonError::Empty { field: $field })
            }
        }

        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
    };
}

bounded_text!(
    /// A person's position (chức vụ), e.g. "Phó Chủ tịch UBND xã".
    Position,
    "position",
    120
);
bounded_text!(
    /// The body a person works for (đơn vị, cơ quan), e.g. "Phòng Kinh tế".
    Unit,
    "unit",
    120
);
bounded_text!(
    /// A free remark next to a person in the invitation list (ghi chú).
    Note,
    "notes",
    500
);

/// Whether a person votes: a member (thành viên, đại biểu) does, a guest (khách mời) does not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    #[default]
    Member,
    Guest,
}

impl PersonKind {
    const FIELD: &'static str = "role";

    /// Reads the "Vai trò" column. Empty means member, since most lists only hold members.
    pub fn parse(raw: &str) -> Result<Self, PersonError> {
        let field = Self::FIELD;
        let folded = fold_for_matching(raw);
        let words = folded.split_whitespace().collect::<Vec<_>>().join(" ");
        match words.as_str() {
            "" | "thanh vien" | "dai bieu" | "member" | "delegate" => Ok(PersonKind::Member),
            "khach moi" | "khach" | "guest" => Ok(PersonKind::Guest),
            _ => {
                let value = raw.trim().chars().take(40).collect();
                if raw.chars().any(char::is_control) {
                    return Err(PersonError::ControlChar { field });
                }
                Err(PersonError::UnknownKind { field, value })
            }
        }
    }
}

impl fmt::Display for PersonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PersonKind::Member => "member",
            PersonKind::Guest => "guest",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::vietnamese::detach_tones;
    use unicode_normalization::UnicodeNormalization;

    fn name(s: &str) -> PersonName {
        PersonName::parse(s).unwrap()
    }

    fn nfd(s: &str) -> String {
        s.nfd().collect()
    }

    #[test]
    fn name_is_trimmed_collapsed_and_split() {
        let n = name("  Nguyễn \u{A0} Thị\t\tLan ");
        assert_eq!(n.as_str(), "Nguyễn Thị Lan");
        assert_eq!(n.given(), "Lan");
        assert_eq!(n.family(), "Nguyễn");
        assert_eq!(n.middle(), Some("Thị"));
        let n = name("Tôn Nữ Thị Ngọc Hà");
        assert_eq!(n.middle(), Some("Nữ Thị Ngọc"));
        let n = name("Lan");
        assert_eq!((n.given(), n.family(), n.middle()), ("Lan", "Lan", None));
        assert_eq!(name("Lò Thành").middle(), None);
    }

    #[test]
    fn name_refuses_bad_input() {
        use PersonError::*;
        assert_eq!(
            PersonName::parse(" \u{200B} "),
            Err(Empty { field: "name" })
        );
        assert_eq!(
            PersonName::parse("Lan\u{7}"),
            Err(ControlChar { field: "name" })
        );
        assert_eq!(PersonName::parse("123"), Err(NoLetter { field: "name" }));
        assert_eq!(
            PersonName::parse(&"Ánh".repeat(34)),
            Err(TooLong {
                field: "name",
                max: 100
            })
        );
        // 100 characters, each two or three bytes, is fine.
        assert!(PersonName::parse(&"Ánh ".repeat(25)).is_ok());
        // Invisible characters from the web are dropped, not refused.
        assert_eq!(name("Lan\u{200B}").as_str(), "Lan");
    }

    #[test]
    fn nfd_and_windows_1258_forms_become_nfc() {
        for s in [
            "Nguyễn Thị Ánh",
            "Đặng Hữu Ước",
            "Quàng Văn Đức",
            "Hoàng Văn Ơn",
            "Ỷ Lan Ẵm Ợ",
        ] {
            assert_eq!(name(&nfd(s)).as_str(), s, "nfd of {s}");
            assert_eq!(name(&detach_tones(s)).as_str(), s, "1258 form of {s}");
            assert_eq!(name(&nfd(s)), name(s));
        }
        // Marks in a non-canonical order still compose: dot below before breve.
        assert_eq!(name("Da\u{306}\u{323}ng").as_str(), "Dặng");
        assert_eq!(name("Da\u{323}\u{306}ng").as_str(), "Dặng");
        // Other languages compose by the same standard.
        assert_eq!(name("Nun\u{303}ez").as_str(), "Nuñez");
    }

    fn sorted(list: &[&str]) -> Vec<String> {
        let mut names: Vec<PersonName> = list.iter().map(|s| name(s)).collect();
        sort_by_name(&mut names, |n| n);
        names.into_iter().map(|n| n.0).collect()
    }

    #[test]
    fn sorts_by_given_then_family_then_middle() {
        assert_eq!(
            sorted(&[
                "Trần Văn Bình",
                "Nguyễn Thị Ánh",
                "Lê Văn Anh",
                "Nguyễn Văn Anh",
                "Lê Thị Anh",
                "Phạm Anh",
            ]),
            [
                "Lê Thị Anh",
                "Lê Văn Anh",
                "Nguyễn Văn Anh",
                "Phạm Anh",
                "Nguyễn Thị Ánh",
                "Trần Văn Bình",
            ]
        );
    }

    #[test]
    fn vietnamese_alphabet_order() {
        // ă â after a; đ after d; ê after e; ô ơ after o; ư after u; f j w z at Latin places.
        assert_eq!(
            sorted(&[
                "X Ư", "X U", "X Ơ", "X Ô", "X O", "X Ê", "X E", "X Đ", "X D", "X Â", "X Ă", "X A",
                "X Z", "X Y", "X W", "X V", "X J", "X I", "X F", "X G",
            ]),
            [
                "X A", "X Ă", "X Â", "X D", "X Đ", "X E", "X Ê", "X F", "X G", "X I", "X J", "X O",
                "X Ô", "X Ơ", "X U", "X Ư", "X V", "X W", "X Y", "X Z",
            ]
        );
        // Letter by letter: "Chi" before "Cúc" before "Dũng" before "Đức".
        assert_eq!(
            sorted(&["A Đức", "A Dũng", "A Cúc", "A Chi"]),
            ["A Chi", "A Cúc", "A Dũng", "A Đức"]
        );
    }

    #[test]
    fn tones_are_a_secondary_difference_in_dictionary_order() {
        assert_eq!(
            sorted(&[
                "A Ạnh", "A Ánh", "A Ãnh", "A Ảnh", "A Ành", "A Anh", "A Bình", "A Anhe"
            ]),
            ["A Anh", "A Ành", "A Ảnh", "A Ãnh", "A Ánh", "A Ạnh", "A Anhe", "A Bình"]
        );
    }

    #[test]
    fn case_and_normalisation_do_not_change_order() {
        let upper = name("NGUYỄN VĂN AN");
        let lower = name("nguyễn văn bình");
        assert_eq!(vietnamese_cmp(&upper, &lower), Ordering::Less);
        let composed = name("Lê Thị Ánh");
        let decomposed = name(&nfd("Lê Thị Ánh"));
        assert_eq!(vietnamese_cmp(&composed, &decomposed), Ordering::Equal);
        // Only equal names compare equal; case decides last.
        assert_eq!(
            vietnamese_cmp(&name("Lê Văn An"), &name("LÊ VĂN AN")),
            Ordering::Less
        );
        assert_eq!(
            name("LÊ VĂN AN").matching_key(),
            name("Lê Văn An").matching_key()
        );
        assert_ne!(
            name("Lê Văn Ân").matching_key(),
            name("Lê Văn An").matching_key()
        );
    }

    #[test]
    fn punctuation_is_ignored_until_the_end() {
        assert_eq!(
            sorted(&["Ksor H'Hen", "Ksor Hà", "Ksor Hen"]),
            ["Ksor Hà", "Ksor Hen", "Ksor H'Hen"]
        );
    }

    #[test]
    fn tone_placement_and_lookalike_d_are_one_person_shown_as_typed() {
        let old = name("Lê Thanh Hòa");
        let new = name("Lê Thanh Hoà");
        assert_eq!(old.matching_key(), new.matching_key());
        assert_eq!(old.as_str(), "Lê Thanh Hòa");
        assert_eq!(new.as_str(), "Lê Thanh Hoà");
        let eth = name("Nguyễn Văn \u{D0}ạt");
        assert_eq!(eth.matching_key(), name("Nguyễn Văn Đạt").matching_key());
        assert_eq!(eth.as_str(), "Nguyễn Văn \u{D0}ạt");
        // Both spellings sort together, before "Hoạ" and after "Hoa"; Ð sorts as Đ, not after Z.
        assert_eq!(
            sorted(&["A Hoạ", "A Hòa", "A Hoa", "A Hoà", "A Hoá"]),
            ["A Hoa", "A Hoà", "A Hòa", "A Hoá", "A Hoạ"]
        );
        assert_eq!(
            sorted(&["A Zung", "A \u{D0}ạt", "A Dung", "A Em"]),
            ["A Dung", "A \u{D0}ạt", "A Em", "A Zung"]
        );
    }

    #[test]
    fn phone_forms() {
        let p = |s: &str| Phone::parse(s).unwrap().map(|p| p.0);
        assert_eq!(p(""), None);
        assert_eq!(p("   "), None);
        for s in [
            "0912345678",
            "0912 345 678",
            "0912.345.678",
            "0912-345-678",
            "+84912345678",
            "+84 912 345 678",
            "+84 (0) 912 345 678",
            "0084 912345678",
            "84912345678",
            "912345678",
            " 0912345678\u{A0}",
        ] {
            assert_eq!(p(s).as_deref(), Some("0912345678"), "{s}");
        }
        assert_eq!(p("(0213) 387 6543").as_deref(), Some("02133876543"));
        assert_eq!(p("2133876543").as_deref(), Some("02133876543"));
        assert_eq!(p("0243 826 123").as_deref(), Some("0243826123"));
        let phone = Phone::parse("0912345678").unwrap().unwrap();
        assert_eq!(phone.international(), "+84912345678");
        assert!(phone.is_mobile());
        assert!(!Phone::parse("02133876543").unwrap().unwrap().is_mobile());
    }

    #[test]
    fn phone_refusals() {
        let problem = |s: &str| match Phone::parse(s) {
            Err(PersonError::BadPhone { field, problem }) => {
                assert_eq!(field, "phone");
                problem
            }
            other => panic!("{s}: {other:?}"),
        };
        use PhoneProblem::*;
        assert_eq!(problem("0912 345 678 / 0987 654 321"), InvalidChars);
        assert_eq!(problem("0912345678 máy lẻ 12"), InvalidChars);
        assert_eq!(problem("abc"), InvalidChars);
        assert_eq!(problem("+"), InvalidChars);
        assert_eq!(problem("+33 6 12 34 56 78"), Foreign);
        assert_eq!(problem("01681234567"), UnknownPrefix);
        assert_eq!(problem("0412345678"), UnknownPrefix);
        assert_eq!(problem("091234567"), WrongLength { digits: 9 });
        assert_eq!(problem("09123456789"), WrongLength { digits: 11 });
        assert_eq!(problem("1234"), UnknownPrefix);
        assert_eq!(problem("0"), WrongLength { digits: 1 });
        assert_eq!(problem("021234567"), WrongLength { digits: 9 });
    }

    #[test]
    fn short_texts_and_kind() {
        assert_eq!(Position::parse("  ").unwrap(), None);
        assert_eq!(
            Position::parse(" Phó  Chủ tịch UBND xã ")
                .unwrap()
                .unwrap()
                .as_str(),
            "Phó Chủ tịch UBND xã"
        );
        assert_eq!(
            Unit::parse(&"x".repeat(121)),
            Err(PersonError::TooLong {
                field: "unit",
                max: 120
            })
        );
        assert_eq!(PersonKind::parse("").unwrap(), PersonKind::Member);
        assert_eq!(PersonKind::parse("Thành viên").unwrap(), PersonKind::Member);
        assert_eq!(
            PersonKind::parse(" KHÁCH  MỜI ").unwrap(),
            PersonKind::Guest
        );
        assert_eq!(
            PersonKind::parse(&nfd("Khách mời")).unwrap(),
            PersonKind::Guest
        );
        assert!(matches!(
            PersonKind::parse("Chủ trì"),
            Err(PersonError::UnknownKind { field: "role", .. })
        ));
    }

    #[test]
    fn serde_round_trip_refuses_bad_values() {
        let n: PersonName = serde_json::from_str("\"Nguyễn Thị Lan\"").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"Nguyễn Thị Lan\"");
        assert!(serde_json::from_str::<PersonName>("\"  \"").is_err());
        assert!(serde_json::from_str::<Phone>("\"\"").is_err());
        let p: Phone = serde_json::from_str("\"0912 345 678\"").unwrap();
        assert_eq!(p.as_str(), "0912345678");
    }
}
