//! The rules for a member list once its cells are read: which row is the header, which column
//! holds what, which rows are people, and what is wrong with each row, in terms the secretary
//! can act on. The import adapter (`crate::import`) turns the uploaded bytes (CSV or XLSX) into
//! [`RawRow`]s; nothing here knows about file formats or encodings.
//!
//! Real lists are messy: a title row above the header, blank and numbering rows, merged cells,
//! phone numbers that Excel turned into numbers, rows pasted twice, and Vietnamese letters that
//! an old program replaced by `?` long before the file reached us. Whatever the cells, this
//! module returns a value or an error and never panics.

use super::person::{Note, PersonError, PersonKind, PersonName, Phone, Position, Unit};
use super::vietnamese::{fold_for_matching, is_vietnamese_letter, nfc};
use std::collections::HashMap;

/// At most this many people per file: far above any commune body, low enough for one preview.
pub const MAX_ROWS: usize = 5_000;
/// The header must be among the first rows that have content; above it there are only titles.
pub const HEADER_SEARCH_ROWS: usize = 10;
/// Columns beyond this are ignored: no member list is this wide, and it bounds memory.
pub const MAX_COLUMNS: usize = 64;
/// Characters of a cell kept for showing a row that has errors.
const SHOWN_CHARS: usize = 120;

/// One row with content, before interpretation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    /// 1-based row number as the user sees it.
    pub line: usize,
    pub cells: Vec<String>,
}

impl RawRow {
    fn cell(&self, i: Option<usize>) -> &str {
        i.and_then(|i| self.cells.get(i))
            .map(String::as_str)
            .unwrap_or("")
    }
}

pub fn is_blank(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_whitespace() || c == '\u{200B}' || c == '\u{FEFF}')
}

// --- Damaged letters --------------------------------------------------------------------------

/// How a file's Vietnamese letters were damaged before it reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterDamage {
    /// Letters replaced by `?` (or by U+FFFD): saved in a code page that has no Vietnamese
    /// letters, e.g. "V? Quang Uyên", "Ch? t?ch UBND x?". The letters cannot be recovered.
    Lost,
    /// UTF-8 read once as a Windows code page and saved again: "Nguyá»…n" for "Nguyễn".
    Misread,
}

/// Whether `text` shows letters lost to `?` or misread. A `?` next to a letter is a lost
/// letter in a name, a position or a unit (none of which ask questions); in free notes
/// (`strict`) only a `?` followed by a letter counts, so "Có đi không?" is fine.
pub fn letter_damage(text: &str, strict: bool) -> Option<LetterDamage> {
    if text.contains('\u{FFFD}') {
        return Some(LetterDamage::Lost);
    }
    let mut prev_letter = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' {
            let next_letter = chars.peek().is_some_and(|n| n.is_alphabetic());
            if next_letter || (prev_letter && !strict) {
                return Some(LetterDamage::Lost);
            }
        }
        prev_letter = c.is_alphabetic();
    }
    misread(text).then_some(LetterDamage::Misread)
}

/// UTF-8 bytes that were decoded with a Windows code page: writing the text back in that code
/// page gives valid UTF-8 with letters beyond ASCII. Real Vietnamese text cannot pass, since
/// most of its letters are missing from both code pages or form no UTF-8 sequence.
fn misread(text: &str) -> bool {
    if text.is_ascii() {
        return false;
    }
    [encoding_rs::WINDOWS_1252, encoding_rs::WINDOWS_1258]
        .iter()
        .any(|code_page| {
            let (bytes, _, unmappable) = code_page.encode(text);
            !unmappable
                && std::str::from_utf8(&bytes).is_ok_and(|s| s.chars().any(char::is_alphabetic))
                && !bytes.is_ascii()
        })
}

/// Letters that neither English nor Vietnamese has: what a Vietnamese file in a legacy font
/// encoding (TCVN3, VNI) looks like when read as Windows-1258 ("Hä vµ tªn").
pub fn has_foreign_letters(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_alphabetic() && !is_vietnamese_letter(c))
}

// --- The result -------------------------------------------------------------------------------

/// Why the rows of a sheet could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetError {
    /// No header row with a name column among the first rows. `found` holds the texts of the
    /// row that looked most like a header, so the user can see what was read.
    #[error("no name column; columns found: {found:?}")]
    MissingColumn { found: Vec<String> },
    #[error("more than {max} rows")]
    TooManyRows { max: usize },
}

/// Every row of a sheet, checked, for the secretary to confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// 1-based row of the header, as Excel numbers rows.
    pub header_row: usize,
    /// Rows with content below the header, in file order.
    pub rows: Vec<ImportRow>,
    /// How many of `rows` have errors.
    pub errors_count: usize,
    /// Header texts that matched no known column, so the user sees what was left out.
    pub ignored_columns: Vec<String>,
    /// Set when any name, position, unit or header shows damaged letters: the whole file needs
    /// exporting again, which one message says better than thirty row errors.
    pub damage: Option<LetterDamage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based row number as Excel shows it.
    pub line: usize,
    /// The cells as read (trimmed, cut to a readable length), so a row with errors still shows
    /// whose row it is.
    pub cells: RowCells,
    pub person: Result<PersonDraft, Vec<RowError>>,
}

/// The texts of one row's known columns as they stand in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowCells {
    pub name: String,
    pub position: String,
    pub unit: String,
    pub phone: String,
    pub role: String,
}

/// A person read from the file, valid but not yet saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonDraft {
    pub name: PersonName,
    pub position: Option<Position>,
    pub unit: Option<Unit>,
    pub phone: Option<Phone>,
    pub kind: PersonKind,
    pub notes: Option<Note>,
}

/// What is wrong with one row. Every variant names the field, so the preview can mark the cell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error(transparent)]
    Field(#[from] PersonError),
    /// The same person (same name whatever its case or tone placement, and the same phone or
    /// both without one) appears earlier.
    #[error("duplicate of row {first_line}")]
    Duplicate { first_line: usize },
    /// The row repeats an earlier row cell for cell (the running number aside): pasted twice.
    #[error("repeats row {first_line}")]
    Repeated { first_line: usize },
    /// The cell holds a spreadsheet error such as "#N/A" or "#REF!" instead of a value.
    #[error("{field} shows the spreadsheet error {value}")]
    SpreadsheetError { field: &'static str, value: String },
    /// The cell's Vietnamese letters were lost or misread before the upload.
    #[error("{field} has damaged letters ({damage:?})")]
    DamagedLetters {
        field: &'static str,
        damage: LetterDamage,
    },
}

impl RowError {
    /// The field the error is about, for the API's error body.
    pub fn field(&self) -> &'static str {
        match self {
            RowError::Field(e) => e.field(),
            RowError::Duplicate { .. } | RowError::Repeated { .. } => "name",
            RowError::SpreadsheetError { field, .. } | RowError::DamagedLetters { field, .. } => {
                field
            }
        }
    }
}

// --- Header -----------------------------------------------------------------------------------

/// What a header cell announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Header {
    FullName,
    /// "Tên" alone: the full name, unless a "Họ" column stands next to it.
    NameOrGiven,
    Family,
    Given,
    Position,
    Unit,
    Phone,
    Notes,
    Role,
    /// "STT": a running number, ignored.
    Number,
}

/// Recognises a header cell whatever its case, diacritics, trailing "(*)" or "(di động)".
fn classify(cell: &str) -> Option<Header> {
    // No header is this long; this keeps megabyte cells from being folded again and again.
    if cell.len() > 200 {
        return None;
    }
    // Text in brackets is a remark ("Số điện thoại (di động)"); drop it.
    let mut plain = String::with_capacity(cell.len());
    let mut depth = 0usize;
    for c in cell.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let whole = classify_words(&plain);
    // "Cơ quan/Đơn vị", "SĐT/Zalo": any part may name the column.
    whole.or_else(|| plain.split('/').find_map(classify_words))
}

fn classify_words(text: &str) -> Option<Header> {
    let folded = fold_for_matching(text);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let key = words.join(" ");
    let starts = |prefix: &str| key == prefix || key.starts_with(&format!("{prefix} "));
    Some(match key.as_str() {
        "ten" => Header::NameOrGiven,
        "name" | "full name" | "fullname" => Header::FullName,
        "ho" | "ho dem" | "ho va dem" | "ho va ten dem" | "ho lot" | "ho va chu lot"
        | "family name" | "surname" | "last name" => Header::Family,
        "given name" | "first name" => Header::Given,
        "position" | "title" | "job title" => Header::Position,
        "unit" | "organisation" | "organization" | "agency" | "noi cong tac" | "ten don vi"
        | "ten co quan" => Header::Unit,
        "sdt" | "so dt" | "dt" | "dtdd" | "di dong" | "phone" | "phone number" | "mobile"
        | "tel" | "telephone" => Header::Phone,
        "notes" | "note" | "remarks" => Header::Notes,
        "vai tro" | "role" => Header::Role,
        "stt" | "tt" | "so tt" | "no" => Header::Number,
        _ if starts("ho va ten") || starts("ho ten") => Header::FullName,
        _ if starts("chuc vu") || starts("chuc danh") => Header::Position,
        _ if starts("don vi") || starts("co quan") => Header::Unit,
        _ if starts("so dien thoai") || starts("dien thoai") => Header::Phone,
        _ if starts("ghi chu") => Header::Notes,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameColumns {
    Full(usize),
    /// "Họ (và đệm)" and "Tên" in separate columns, joined with a space.
    Split {
        family: usize,
        given: usize,
    },
}

/// Which column holds what, once the header is found.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Columns {
    name: NameColumns,
    position: Option<usize>,
    unit: Option<usize>,
    phone: Option<usize>,
    notes: Option<usize>,
    role: Option<usize>,
    number: Option<usize>,
    /// How many kinds of column were recognised: the best header has the most.
    recognised: usize,
    ignored: Vec<String>,
}

fn map_columns(cells: &[String]) -> (Option<Columns>, usize) {
    let mut first: HashMap<Header, usize> = HashMap::new();
    let mut ignored = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        match classify(cell) {
            Some(h) => {
                first.entry(h).or_insert(i);
            }
            None if !is_blank(cell) => ignored.push(cell.trim().to_owned()),
            None => {}
        }
    }
    let get = |h| first.get(&h).copied();
    let given = get(Header::Given).or(get(Header::NameOrGiven));
    let name = match (get(Header::FullName), get(Header::Family), given) {
        (Some(full), _, _) => Some(NameColumns::Full(full)),
        (None, Some(family), Some(given)) => Some(NameColumns::Split { family, given }),
        (None, None, _) => get(Header::NameOrGiven).map(NameColumns::Full),
        (None, Some(_), None) => None,
    };
    let recognised = first.len();
    let columns = name.map(|name| Columns {
        name,
        position: get(Header::Position),
        unit: get(Header::Unit),
        phone: get(Header::Phone),
        notes: get(Header::Notes),
        role: get(Header::Role),
        number: get(Header::Number),
        recognised,
        ignored,
    });
    (columns, recognised)
}

/// The header is the row, among the first rows with content, that names the most known
/// columns including a name; on a tie the upper row wins. Otherwise the error lists the row
/// that looked most like a header.
fn find_header(rows: &[RawRow]) -> Result<(usize, Columns), Vec<String>> {
    let mut best: Option<(usize, Columns)> = None;
    let mut closest: Option<(usize, usize)> = None;
    for (i, row) in rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
        let (columns, recognised) = map_columns(&row.cells);
        if let Some(columns) = columns {
            if best
                .as_ref()
                .is_none_or(|(_, b)| columns.recognised > b.recognised)
            {
                best = Some((i, columns));
            }
        }
        let filled = row.cells.iter().filter(|c| !is_blank(c)).count();
        let score = recognised * 1000 + filled;
        if closest.is_none_or(|(s, _)| score > s) {
            closest = Some((score, i));
        }
    }
    best.ok_or_else(|| {
        closest
            .and_then(|(_, i)| rows.get(i))
            .map(|row| {
                row.cells
                    .iter()
                    .filter(|c| !is_blank(c))
                    .take(30)
                    .map(|c| c.trim().chars().take(60).collect())
                    .collect()
            })
            .unwrap_or_default()
    })
}

// --- Rows -------------------------------------------------------------------------------------

const SPREADSHEET_ERRORS: &[&str] = &[
    "#NULL!",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#N/A",
    "#DATA!",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
    "#FIELD!",
    "#BLOCKED!",
    "#CONNECT!",
    "#UNKNOWN!",
    "#BUSY!",
    "#PYTHON!",
];

/// Rows that carry no person and are skipped silently: only the running number filled in (a
/// template prepared for more people), the "(1) (2) (3)" column-number row that official forms
/// put under the header, or the header repeated (lists pasted together from several pages).
fn is_filler(row: &RawRow, columns: &Columns) -> bool {
    let filled: Vec<(usize, &str)> = row
        .cells
        .iter()
        .enumerate()
        .filter(|(_, c)| !is_blank(c))
        .map(|(i, c)| (i, c.trim()))
        .collect();
    if filled.iter().all(|&(i, _)| Some(i) == columns.number) {
        return true;
    }
    let numbering = |s: &str| {
        let inner = s
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .unwrap_or(s);
        !inner.is_empty() && inner.len() <= 2 && inner.bytes().all(|b| b.is_ascii_digit())
    };
    if filled.len() >= 2 && filled.iter().all(|&(_, c)| numbering(c)) {
        return true;
    }
    let name_cell = match columns.name {
        NameColumns::Full(i) => row.cell(Some(i)),
        NameColumns::Split { given, .. } => row.cell(Some(given)),
    };
    matches!(
        classify(name_cell),
        Some(Header::FullName | Header::NameOrGiven | Header::Given)
    )
}

/// How many kinds of column the best header among `rows` names, if any row is a header with a
/// name column: the adapter reads a CSV with each separator and keeps the best.
pub fn header_score(rows: &[RawRow]) -> Option<usize> {
    find_header(rows)
        .ok()
        .map(|(_, columns)| columns.recognised)
}

/// Checks every row below the header.
pub fn read_sheet(rows: &[RawRow]) -> Result<Sheet, SheetError> {
    let (header_index, columns) =
        find_header(rows).map_err(|found| SheetError::MissingColumn { found })?;
    let header = rows.get(header_index);
    let header_row = header.map_or(1, |r| r.line);
    let mut damage = header.and_then(|h| h.cells.iter().find_map(|c| letter_damage(c, false)));
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for row in rows.iter().skip(header_index + 1) {
        if is_filler(row, &columns) {
            continue;
        }
        if out.len() >= MAX_ROWS {
            return Err(SheetError::TooManyRows { max: MAX_ROWS });
        }
        let (cells, person) = read_person(row, &columns, &mut seen);
        if let Err(errors) = &person {
            damage = damage.or_else(|| {
                errors.iter().find_map(|e| match e {
                    RowError::DamagedLetters { damage, .. } => Some(*damage),
                    _ => None,
                })
            });
        }
        out.push(ImportRow {
            line: row.line,
            cells,
            person,
        });
    }
    let errors_count = out.iter().filter(|r| r.person.is_err()).count();
    Ok(Sheet {
        header_row,
        rows: out,
        errors_count,
        ignored_columns: columns.ignored,
        damage,
    })
}

/// The rows met so far: by their cells, for rows pasted twice, and by (name, phone), for the
/// same person written twice.
#[derive(Default)]
struct Seen {
    rows: HashMap<Vec<String>, usize>,
    people: HashMap<(String, Option<String>), usize>,
}

/// A cell for comparing rows: NFC, single spaces.
fn row_key_cell(cell: &str) -> String {
    nfc(cell).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shown(text: &str) -> String {
    text.chars().take(SHOWN_CHARS).collect()
}

/// Reads one row, collecting every problem rather than stopping at the first, so the user can
/// fix a row in one go.
fn read_person(
    row: &RawRow,
    columns: &Columns,
    seen: &mut Seen,
) -> (RowCells, Result<PersonDraft, Vec<RowError>>) {
    let mut errors = Vec::new();
    // A cell showing "#N/A" is reported as such and then treated as empty.
    let mut cell = |field: &'static str, index: Option<usize>| -> String {
        let text = row.cell(index).trim();
        if SPREADSHEET_ERRORS.contains(&text) {
            errors.push(RowError::SpreadsheetError {
                field,
                value: text.to_owned(),
            });
            return String::new();
        }
        text.to_owned()
    };
    let name_text = match columns.name {
        NameColumns::Full(i) => cell("name", Some(i)),
        NameColumns::Split { family, given } => {
            format!(
                "{} {}",
                cell("name", Some(family)),
                cell("name", Some(given))
            )
        }
    };
    let position_text = cell("position", columns.position);
    let unit_text = cell("unit", columns.unit);
    let phone_text = cell("phone", columns.phone);
    let notes_text = cell("notes", columns.notes);
    let role_text = cell("role", columns.role);
    let name_was_error = errors.iter().any(|e| e.field() == "name");
    let cells = RowCells {
        name: shown(name_text.trim()),
        position: shown(&position_text),
        unit: shown(&unit_text),
        phone: shown(&phone_text),
        role: shown(&role_text),
    };

    // Letters lost to '?' come first: they are why the rest of the row looks odd.
    for (field, text, strict) in [
        ("name", &name_text, false),
        ("position", &position_text, false),
        ("unit", &unit_text, false),
        ("notes", &notes_text, true),
    ] {
        if let Some(damage) = letter_damage(text, strict) {
            errors.push(RowError::DamagedLetters { field, damage });
        }
    }

    let e = &mut errors;
    let name = if name_was_error {
        None
    } else {
        collect(e, PersonName::parse(&name_text))
    };
    let position = collect(e, Position::parse(&position_text)).flatten();
    let unit = collect(e, Unit::parse(&unit_text)).flatten();
    let phone = collect(e, Phone::parse(&phone_text));
    let notes = collect(e, Note::parse(&notes_text)).flatten();
    let kind = collect(e, PersonKind::parse(&role_text));

    // The running number differs between two copies of a row, so it does not count.
    let mut row_key: Vec<String> = row
        .cells
        .iter()
        .enumerate()
        .filter(|&(i, _)| Some(i) != columns.number)
        .map(|(_, c)| row_key_cell(c))
        .collect();
    while row_key.last().is_some_and(String::is_empty) {
        row_key.pop();
    }
    let repeated = match seen.rows.get(&row_key) {
        Some(&first_line) => {
            errors.push(RowError::Repeated { first_line });
            true
        }
        None => {
            seen.rows.insert(row_key, row.line);
            false
        }
    };
    if let (Some(name), Some(phone)) = (&name, &phone) {
        let key = (
            name.matching_key(),
            phone.as_ref().map(|p| p.as_str().to_owned()),
        );
        match seen.people.get(&key) {
            Some(&first_line) if !repeated => {
                errors.push(RowError::Duplicate { first_line });
            }
            Some(_) => {}
            None => {
                seen.people.insert(key, row.line);
            }
        }
    }

    let person = match (name, phone, kind) {
        (Some(name), Some(phone), Some(kind)) if errors.is_empty() => Ok(PersonDraft {
            name,
            position,
            unit,
            phone,
            kind,
            notes,
        }),
        _ => Err(errors),
    };
    (cells, person)
}

/// Keeps the value, or records why there is none.
fn collect<T>(errors: &mut Vec<RowError>, result: Result<T, PersonError>) -> Option<T> {
    result.map_err(|e| errors.push(e.into())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lines: &[&[&str]]) -> Vec<RawRow> {
        lines
            .iter()
            .enumerate()
            .map(|(i, cells)| RawRow {
                line: i + 1,
                cells: cells.iter().map(|c| (*c).to_owned()).collect(),
            })
            .collect()
    }

    fn errors_of(sheet: &Sheet, line: usize) -> Vec<RowError> {
        sheet
            .rows
            .iter()
            .find(|r| r.line == line)
            .and_then(|r| r.person.clone().err())
            .unwrap_or_default()
    }

    #[test]
    fn header_matching_ignores_case_diacritics_and_remarks() {
        for h in [
            "HỌ VÀ TÊN",
            "ho va ten",
            "Họ và tên (*)",
            "Họ và\ntên",
            "Full name",
            "Họ và tên đại biểu",
        ] {
            assert_eq!(classify(h), Some(Header::FullName), "{h}");
        }
        assert_eq!(classify("Cơ quan/Đơn vị"), Some(Header::Unit));
        assert_eq!(classify("SĐT/Zalo"), Some(Header::Phone));
        assert_eq!(classify("Đơn vị công tác"), Some(Header::Unit));
        assert_eq!(classify("Tên đơn vị"), Some(Header::Unit));
        assert_eq!(classify("Ngày sinh"), None);
        assert_eq!(classify("DANH SÁCH THÀNH VIÊN"), None);
    }

    #[test]
    fn question_marks_next_to_letters_are_lost_letters() {
        use LetterDamage::*;
        for s in [
            "V? Quang Uyên",
            "Ch? t?ch UBND x?",
            "?inh V?n Nam",
            "Nguy?n",
            "Tr\u{FFFD}n Văn An",
        ] {
            assert_eq!(letter_damage(s, false), Some(Lost), "{s}");
        }
        for s in ["Nguyễn Văn An", "Phó Chủ tịch", "0912 ? 345", "?", ""] {
            assert_eq!(letter_damage(s, false), None, "{s}");
        }
        // Notes may ask questions; a '?' before a letter is still a lost letter there.
        assert_eq!(letter_damage("Có đi không?", true), None);
        assert_eq!(letter_damage("Có ?i không", true), Some(Lost));
    }

    #[test]
    fn utf8_read_as_a_code_page_is_misread() {
        assert_eq!(
            letter_damage("Nguyá»…n VÄƒn An", false),
            Some(LetterDamage::Misread)
        );
        assert_eq!(
            letter_damage("Lò Văn Thành", false),
            None,
            "real Vietnamese is not misread"
        );
        assert_eq!(letter_damage("Thành", false), None);
        assert_eq!(letter_damage("São Tomé", false), None);
    }

    #[test]
    fn legacy_font_encodings_show_foreign_letters() {
        assert!(has_foreign_letters("Hä vµ tªn"));
        assert!(!has_foreign_letters("Họ và tên"));
        assert!(!has_foreign_letters("Full name"));
    }

    #[test]
    fn garbled_rows_are_errors_that_still_show_the_name() {
        let sheet = read_sheet(&rows(&[
            &["STT", "Ho va ten", "Chuc vu"],
            &["1", "V? Quang Uyên", "Ch? t?ch UBND x?"],
            &["2", "Lò Văn Thành", "Ủy viên"],
        ]))
        .unwrap();
        assert_eq!(sheet.damage, Some(LetterDamage::Lost));
        assert_eq!(sheet.errors_count, 1);
        assert_eq!(
            errors_of(&sheet, 2),
            [
                RowError::DamagedLetters {
                    field: "name",
                    damage: LetterDamage::Lost
                },
                RowError::DamagedLetters {
                    field: "position",
                    damage: LetterDamage::Lost
                }
            ]
        );
        assert_eq!(sheet.rows[0].cells.name, "V? Quang Uyên");
        assert_eq!(sheet.rows[0].cells.position, "Ch? t?ch UBND x?");
        // A clean file has no damage.
        let clean = read_sheet(&rows(&[&["Họ và tên"], &["Lò Văn Thành"]])).unwrap();
        assert_eq!(clean.damage, None);
    }

    #[test]
    fn a_damaged_header_cell_marks_the_file() {
        let sheet =
            read_sheet(&rows(&[&["Ho va ten", "Ch?c v?"], &["Lo Van Thanh", "x"]])).unwrap();
        assert_eq!(sheet.damage, Some(LetterDamage::Lost));
        assert_eq!(sheet.errors_count, 0);
    }

    #[test]
    fn rows_pasted_twice_and_the_same_person_twice() {
        let sheet = read_sheet(&rows(&[
            &["STT", "Họ và tên", "Chức vụ", "SĐT"],
            &["1", "Lê Thanh Hòa", "Ủy viên", "0912000001"],
            &["2", "V? Quang Uyên", "", ""],
            &["3", "Lê Thanh Hoà", "Ủy viên", "0912 000 001"],
            &["4", "V? Quang Uyên", "", ""],
            &["5", "Lê Thanh Hòa", "Ủy viên", "0912000001", ""],
            &["6", "\u{D0}ặng Văn \u{D0}ạt", "", ""],
            &["7", "Đặng Văn Đạt", "", ""],
        ]))
        .unwrap();
        assert_eq!(errors_of(&sheet, 2), []);
        assert_eq!(
            errors_of(&sheet, 4),
            [RowError::Duplicate { first_line: 2 }]
        );
        assert!(errors_of(&sheet, 5).contains(&RowError::Repeated { first_line: 3 }));
        assert_eq!(errors_of(&sheet, 6), [RowError::Repeated { first_line: 2 }]);
        assert_eq!(
            errors_of(&sheet, 8),
            [RowError::Duplicate { first_line: 7 }]
        );
        // The spelling stays as typed.
        let first = sheet.rows[0].person.as_ref().unwrap();
        assert_eq!(first.name.as_str(), "Lê Thanh Hòa");
    }
}
