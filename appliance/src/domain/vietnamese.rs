//! Vietnamese letters: one canonical spelling of a name for comparing, finding duplicates and
//! sorting, while the name is shown as it was typed.
//!
//! Unicode normalisation (NFC/NFD) comes from the `unicode-normalization` crate. Two things it
//! does not do, because they are not Unicode equivalences, are done here:
//!
//! * **Tone placement.** "Hòa" and "Hoà", "Thủy" and "Thuỷ", "khỏe" and "khoẻ" are the same
//!   syllable written with the old and the new rule for where the tone mark goes. Which letter
//!   carries the mark never changes the word, so [`canonical`] takes the tone off the syllable
//!   and puts it back on one letter chosen by a fixed rule (the new one). There is no crate for
//!   this (searched crates.io and docs.rs for Vietnamese tone placement in November 2026; the
//!   input-method crates, e.g. `vi`, place tones while typing but do not canonicalise text).
//! * **Look-alike D.** "Ðạt" typed with U+00D0 (Icelandic eth, from some fonts and old
//!   converters) or U+0189 (African D) looks exactly like "Đạt" (U+0110): both become đ.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The twelve Vietnamese vowels, each with its six tones in dictionary order: none, huyền,
/// hỏi, ngã, sắc, nặng. The row index is the vowel, the column index is the tone.
const VOWELS: [[char; 6]; 12] = [
    ['a', 'à', 'ả', 'ã', 'á', 'ạ'],
    ['ă', 'ằ', 'ẳ', 'ẵ', 'ắ', 'ặ'],
    ['â', 'ầ', 'ẩ', 'ẫ', 'ấ', 'ậ'],
    ['e', 'è', 'ẻ', 'ẽ', 'é', 'ẹ'],
    ['ê', 'ề', 'ể', 'ễ', 'ế', 'ệ'],
    ['i', 'ì', 'ỉ', 'ĩ', 'í', 'ị'],
    ['o', 'ò', 'ỏ', 'õ', 'ó', 'ọ'],
    ['ô', 'ồ', 'ổ', 'ỗ', 'ố', 'ộ'],
    ['ơ', 'ờ', 'ở', 'ỡ', 'ớ', 'ợ'],
    ['u', 'ù', 'ủ', 'ũ', 'ú', 'ụ'],
    ['ư', 'ừ', 'ử', 'ữ', 'ứ', 'ự'],
    ['y', 'ỳ', 'ỷ', 'ỹ', 'ý', 'ỵ'],
];

/// The combining tone mark for each tone (index = tone), as NFD writes them.
#[cfg(test)]
const TONE_MARKS: [char; 6] = ['\0', '\u{300}', '\u{309}', '\u{303}', '\u{301}', '\u{323}'];

/// Text in NFC, the form most keyboards type and the one we store.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

fn single_lowercase(c: char) -> char {
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Letters that look like đ but are other code points.
fn is_lookalike_d(c: char) -> bool {
    matches!(c, 'ð' | 'ɖ')
}

/// One precomposed character split the way Vietnamese spelling sees it: a lower-case base
/// letter (which keeps its breve/circumflex/horn/stroke, since ă, ô, đ are letters of their
/// own), a tone, and whether it was upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Letter {
    pub base: char,
    /// 0 = no tone, then huyền, hỏi, ngã, sắc, nặng (the column of `VOWELS`).
    pub tone: u8,
    pub upper: bool,
}

impl Letter {
    pub fn split(c: char) -> Letter {
        let lower = single_lowercase(c);
        let upper = lower != c;
        let lower = if is_lookalike_d(lower) { 'đ' } else { lower };
        for row in &VOWELS {
            if let Some(tone) = row.iter().position(|&v| v == lower) {
                return Letter {
                    base: row[0],
                    tone: tone as u8,
                    upper,
                };
            }
        }
        Letter {
            base: lower,
            tone: 0,
            upper,
        }
    }
}

/// A letter of the Vietnamese alphabet (with f, j, w, z), in either case and with any tone.
pub fn is_vietnamese_letter(c: char) -> bool {
    let base = Letter::split(c).base;
    base.is_ascii_lowercase() || matches!(base, 'ă' | 'â' | 'đ' | 'ê' | 'ô' | 'ơ' | 'ư')
}

fn is_vowel(base: char) -> bool {
    VOWELS.iter().any(|row| row[0] == base)
}

fn with_tone(base: char, tone: u8) -> char {
    VOWELS
        .iter()
        .find(|row| row[0] == base)
        .and_then(|row| row.get(usize::from(tone)))
        .copied()
        .unwrap_or(base)
}

/// Which letter of a syllable (given as toneless lower-case bases) carries the tone under the
/// new rule: a vowel with a mark of its own (ơ in ươ); else in "oa", "oe", "uy" and before a
/// final consonant the second vowel; else the first of two, the middle of three. The u of
/// "qu" and the i of "gi" belong to the consonant. Any fixed rule would do for comparing; this
/// one gives the spelling of current school books.
fn tone_position(bases: &[char]) -> Option<usize> {
    let mut start = bases.iter().position(|&b| is_vowel(b))?;
    let next_is_vowel = |i: usize| bases.get(i + 1).is_some_and(|&b| is_vowel(b));
    if start > 0 && next_is_vowel(start) {
        match (bases.get(start - 1), bases.get(start)) {
            (Some('q'), Some('u')) | (Some('g'), Some('i')) => start += 1,
            _ => {}
        }
    }
    let len = bases
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| is_vowel(b))
        .count();
    let cluster = bases.get(start..start + len).unwrap_or_default();
    let closed = start + len < bases.len();
    if let Some(i) = cluster
        .iter()
        .rposition(|b| matches!(b, 'ă' | 'â' | 'ê' | 'ô' | 'ơ' | 'ư'))
    {
        return Some(start + i);
    }
    Some(match cluster {
        [_] => start,
        ['o', 'a'] | ['o', 'e'] | ['u', 'y'] => start + 1,
        [_, _] if closed => start + 1,
        [_, _] => start,
        _ => start + 1,
    })
}

/// One run of letters in canonical form, lower case.
fn canonical_syllable(word: &[char], out: &mut String) {
    let letters: Vec<Letter> = word.iter().map(|&c| Letter::split(c)).collect();
    let mut tones = letters.iter().map(|l| l.tone).filter(|&t| t != 0);
    let tone = tones.next().unwrap_or(0);
    let bases: Vec<char> = letters.iter().map(|l| l.base).collect();
    let position = if tone == 0 || tones.next().is_some() {
        // No tone, or two (not a Vietnamese syllable): leave the tones where they are.
        None
    } else {
        tone_position(&bases)
    };
    for (i, letter) in letters.iter().enumerate() {
        out.push(match position {
            Some(p) if p == i => with_tone(letter.base, tone),
            Some(_) => letter.base,
            None => with_tone(letter.base, letter.tone),
        });
    }
}

/// The canonical spelling used to compare names: NFC, lower case, đ for its look-alikes, and
/// each syllable's tone mark on the letter the new rule puts it on. "Lê Thanh Hòa" and
/// "LÊ THANH HOÀ" give "lê thanh hoà"; "Ðạt" (U+00D0) gives "đạt". Never shown to users.
pub fn canonical(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut word: Vec<char> = Vec::new();
    for c in s.nfc() {
        if c.is_alphabetic() {
            word.push(c);
            continue;
        }
        canonical_syllable(&word, &mut out);
        word.clear();
        out.extend(c.to_lowercase());
    }
    canonical_syllable(&word, &mut out);
    out
}

/// Lower-case, without tones or letter marks (đ → d, ơ → o), for matching words that people
/// type in many ways, such as the column headers of a spreadsheet.
pub fn fold_for_matching(s: &str) -> String {
    s.nfd()
        .filter(|&c| !is_combining_mark(c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'đ' | 'ð' | 'ɖ' => 'd',
            other => other,
        })
        .collect()
}

/// Splits tone marks off precomposed letters (leaving ă â ê ô ơ ư whole): the form Windows-1258
/// stores. Only tests need it, to build legacy files.
#[cfg(test)]
pub(crate) fn detach_tones(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        let letter = Letter::split(c);
        if letter.tone == 0 {
            out.push(c);
            continue;
        }
        let base = if letter.upper {
            letter.base.to_uppercase().next().unwrap_or(letter.base)
        } else {
            letter.base
        };
        out.push(base);
        out.push(TONE_MARKS[usize::from(letter.tone)]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_and_new_tone_placement_are_one_spelling() {
        for (old, new) in [
            ("Lê Thanh Hòa", "Lê Thanh Hoà"),
            ("Nguyễn Thị Thủy", "Nguyễn Thị Thuỷ"),
            ("Khỏe", "Khoẻ"),
            ("Hóa", "Hoá"),
            ("Lòe", "Loè"),
            ("Thúy", "Thuý"),
            ("Xòe", "Xoè"),
        ] {
            assert_eq!(canonical(old), canonical(new), "{old} / {new}");
            assert_eq!(canonical(old), new.to_lowercase(), "{old}");
        }
    }

    #[test]
    fn tone_goes_where_the_new_rule_puts_it() {
        for (typed, want) in [
            // A letter with its own mark carries the tone; in ươ the ơ.
            ("nguyễn", "nguyễn"),
            ("ngừơi", "người"),
            ("tụôi", "tuội"),
            ("chiếc", "chiếc"),
            // Two vowels, open: the first; closed: the second.
            ("mùa", "mùa"),
            ("cái", "cái"),
            ("hoàng", "hoàng"),
            ("hòang", "hoàng"),
            ("thuận", "thuận"),
            // Three vowels: the middle one.
            ("ngoái", "ngoái"),
            ("khuỷu", "khuỷu"),
            ("ngoẹo", "ngoẹo"),
            // The u of qu and the i of gi are consonants.
            ("quý", "quý"),
            ("qúy", "quý"),
            ("quà", "quà"),
            ("giữ", "giữ"),
            ("gìư", "giừ"),
            ("gì", "gì"),
            ("giường", "giường"),
            ("quốc", "quốc"),
            // One vowel.
            ("Ý", "ý"),
            ("lan", "lan"),
        ] {
            assert_eq!(canonical(typed), want, "{typed}");
        }
    }

    #[test]
    fn every_form_of_a_name_has_one_canonical_spelling() {
        let forms = [
            "Lê Thanh Hòa".to_owned(),
            "Lê Thanh Hoà".to_owned(),
            "LÊ THANH HOÀ".to_owned(),
            "Lê Thanh Hòa".nfd().collect::<String>(),
            detach_tones("Lê Thanh Hoà"),
        ];
        for f in &forms {
            assert_eq!(canonical(f), "lê thanh hoà", "{f:?}");
        }
        assert_ne!(canonical("Lê Thanh Hoa"), canonical("Lê Thanh Hoà"));
        assert_ne!(canonical("Lê Thanh Hóa"), canonical("Lê Thanh Hoà"));
    }

    #[test]
    fn lookalike_d_is_d_with_stroke() {
        assert_eq!(canonical("Ðạt"), canonical("Đạt"));
        assert_eq!(canonical("\u{189}ạt"), "đạt");
        assert_eq!(canonical("Trần Văn ðức"), "trần văn đức");
        assert_ne!(canonical("Dạt"), canonical("Đạt"));
        assert_eq!(fold_for_matching("Ðơn vị"), "don vi");
    }

    #[test]
    fn other_characters_pass_through() {
        assert_eq!(canonical("Ksor H'Hen"), "ksor h'hen");
        assert_eq!(canonical("Nguyễn-Văn  A1"), "nguyễn-văn  a1");
        // Two tones in one run is not Vietnamese: left as typed.
        assert_eq!(canonical("àá"), "àá");
        assert_eq!(canonical(""), "");
    }

    #[test]
    fn vietnamese_letters() {
        for c in "aăâbcdđeêfghijklmnoôơpqrstuưvwxyzÀẶẤỆỢỰỲĐÐ".chars() {
            assert!(is_vietnamese_letter(c), "{c}");
        }
        for c in "äµªñßж".chars() {
            assert!(!is_vietnamese_letter(c), "{c}");
        }
    }

    #[test]
    fn fold_strips_all_marks() {
        assert_eq!(fold_for_matching("Số Điện Thoại"), "so dien thoai");
        assert_eq!(
            fold_for_matching(&"Họ và tên".nfd().collect::<String>()),
            "ho va ten"
        );
        assert_eq!(fold_for_matching("ĐƠN VỊ"), "don vi");
    }

    #[test]
    fn nfc_composes_decomposed_and_windows_1258_forms() {
        for s in ["Nguyễn Thị Ánh", "Đặng Hữu Ước", "Ỷ Lan Ẵm Ợ"] {
            assert_eq!(nfc(&s.nfd().collect::<String>()), s);
            assert_eq!(nfc(&detach_tones(s)), s);
        }
        // Marks in a non-canonical order still compose.
        assert_eq!(nfc("a\u{323}\u{306}"), "ặ");
    }
}
