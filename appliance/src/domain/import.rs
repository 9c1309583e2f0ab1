//! Reading an uploaded member list (Excel or CSV, as commune offices keep them) into people the
//! secretary can check before saving: every row either becomes a [`PersonDraft`] or says, in
//! terms the secretary can act on, what is wrong with it.
//!
//! Real lists are messy: a title row above the header, blank and numbering rows, merged cells,
//! phone numbers that Excel turned into numbers, legacy Windows-1258 text, a PDF uploaded by
//! mistake. Whatever the bytes, this module returns a value or an error and never panics.

use super::person::{
    fold_for_matching, Note, PersonError, PersonKind, PersonName, Phone, Position, Unit,
};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{Cursor, Read};

/// Uploads larger than this are refused before any parsing: a commune list is a few kB.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// At most this many people per file: far above any commune body, low enough for one preview.
pub const MAX_ROWS: usize = 5_000;
/// The header must be among the first rows that have content; above it there are only titles.
const HEADER_SEARCH_ROWS: usize = 10;
/// Columns beyond this are ignored: no member list is this wide, and it bounds memory.
const MAX_COLUMNS: usize = 64;
/// Rows with content kept while reading, before the header tells which are blank "STT only"
/// template rows. Bounds memory on hostile input; real files stop far below.
const MAX_RAW_ROWS: usize = 10 * MAX_ROWS;
/// An XLSX is a ZIP; a 5 MB ZIP can unpack to gigabytes. Real lists of 5,000 people unpack to
/// a few MB.
const MAX_UNZIPPED_BYTES: u64 = 48 * 1024 * 1024;
/// calamine reserves memory for the number of shared strings the file claims; a forged count
/// would abort the process, so we check it first.
const MAX_SHARED_STRINGS: u64 = 1_000_000;
/// Cells filled in from merged regions, in total, so a merge over a whole sheet stays cheap.
const MAX_MERGE_FILL: usize = 200_000;

/// Why a whole file was refused. Each variant maps to one API error code; `detail` is for the
/// log, not for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is empty")]
    Empty,
    #[error("the file has {bytes} bytes; at most {max} are accepted")]
    TooLarge { bytes: usize, max: usize },
    /// Not a spreadsheet. `named` is the spreadsheet extension the file name claims (".xls"),
    /// if any, because "named .xls but actually a web page" tells the user what to do.
    #[error("unsupported format: the file looks like {looks_like}")]
    Unsupported {
        looks_like: FileKind,
        named: Option<String>,
    },
    #[error("the workbook could not be read: {detail}")]
    Damaged { detail: String },
    #[error("the workbook unpacks to more than {max} bytes")]
    UnpacksTooLarge { max: u64 },
    #[error("the workbook has no worksheet")]
    NoWorksheet,
    /// No header row with the required column among the first rows. `found` holds the texts
    /// of the row that looked most like a header, so the user can see what was read.
    #[error("required column {column} not found; columns found: {found:?}")]
    MissingColumn {
        column: &'static str,
        found: Vec<String>,
    },
    #[error("more than {max} rows")]
    TooManyRows { max: usize },
}

/// What an unsupported upload looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Image,
    /// Excel 97-2003 (.xls), Word 97-2003, or a password-protected workbook: all are OLE files.
    OldOffice,
    /// Excel binary workbook (.xlsb).
    ExcelBinary,
    /// LibreOffice/OpenDocument (.ods, .odt).
    OpenDocument,
    /// Word (.docx).
    WordDocument,
    /// PowerPoint (.pptx).
    Presentation,
    /// Some other ZIP archive.
    Zip,
    /// gzip, RAR, 7-Zip.
    Archive,
    /// A web page; several office programs export these with an .xls name.
    Html,
    Xml,
    Rtf,
    /// Bytes that are not text.
    Binary,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Pdf => "a PDF document",
            FileKind::Image => "an image",
            FileKind::OldOffice => "an Excel 97-2003 (.xls) or password-protected Office file",
            FileKind::ExcelBinary => "an Excel binary workbook (.xlsb)",
            FileKind::OpenDocument => "an OpenDocument file (.ods/.odt)",
            FileKind::WordDocument => "a Word document (.docx)",
            FileKind::Presentation => "a PowerPoint presentation (.pptx)",
            FileKind::Zip => "a ZIP archive",
            FileKind::Archive => "a compressed archive",
            FileKind::Html => "a web page (HTML)",
            FileKind::Xml => "an XML file",
            FileKind::Rtf => "an RTF document",
            FileKind::Binary => "binary data, not text",
        })
    }
}

/// How the file was read, shown in the preview so a wrong guess is visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportFormat {
    Xlsx {
        sheet: String,
    },
    Csv {
        encoding: TextEncoding,
        separator: char,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    /// The Vietnamese Windows code page; assumed for any text that is not valid UTF-8.
    Windows1258,
}

/// The whole file, checked row by row, for the secretary to confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportPreview {
    pub format: ImportFormat,
    /// 1-based row of the header, as Excel numbers rows.
    pub header_row: usize,
    /// Rows with content below the header, in file order.
    pub rows: Vec<ImportRow>,
    /// How many of `rows` have errors.
    pub errors_count: usize,
    /// Header texts that matched no known column, so the user sees what was left out.
    pub ignored_columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based row number as Excel shows it. For CSV this is the record number, which is the
    /// line number unless a quoted cell spans lines.
    pub line: usize,
    pub person: Result<PersonDraft, Vec<RowError>>,
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
    /// The same person (same name, and the same phone or both without one) appears earlier.
    #[error("duplicate of row {first_line}")]
    Duplicate { first_line: usize },
    /// The cell holds a spreadsheet error such as "#N/A" or "#REF!" instead of a value.
    #[error("{field} shows the spreadsheet error {value}")]
    SpreadsheetError { field: &'static str, value: String },
}

impl RowError {
    /// The field the error is about, for the API's error body.
    pub fn field(&self) -> &'static str {
        match self {
            RowError::Field(e) => e.field(),
            RowError::Duplicate { .. } => "name",
            RowError::SpreadsheetError { field, .. } => field,
        }
    }
}

/// Reads an uploaded list. The content decides the format; `file_name` and `content_type`
/// only help explain a refusal, since office programs often give files the wrong extension.
pub fn preview(
    bytes: &[u8],
    file_name: &str,
    content_type: Option<&str>,
) -> Result<ImportPreview, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::TooLarge {
            bytes: bytes.len(),
            max: MAX_BYTES,
        });
    }
    let unsupported = |looks_like| ImportError::Unsupported {
        looks_like,
        named: spreadsheet_extension(file_name, content_type),
    };
    let (format, rows) = match sniff(bytes) {
        Sniffed::Zip => {
            let (sheet, rows) = read_xlsx(bytes).map_err(|e| match e {
                XlsxFailure::NotWorkbook(kind) => unsupported(kind),
                XlsxFailure::Import(e) => e,
            })?;
            (ImportFormat::Xlsx { sheet }, rows)
        }
        Sniffed::Text(text, encoding) => {
            if let Some(kind) = markup_or_binary(&text) {
                return Err(unsupported(kind));
            }
            let (separator, rows) = read_csv(&text)?;
            (
                ImportFormat::Csv {
                    encoding,
                    separator,
                },
                rows,
            )
        }
        Sniffed::Other(kind) => return Err(unsupported(kind)),
    };
    build_preview(format, &rows)
}

/// The spreadsheet-like extension the upload claims, for the "named .xls but is a PDF" message.
fn spreadsheet_extension(file_name: &str, content_type: Option<&str>) -> Option<String> {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    match ext.as_deref() {
        Some(e @ ("xls" | "xlsx" | "xlsm" | "csv" | "txt" | "tsv")) => Some(format!(".{e}")),
        Some(_) => None,
        None => match content_type.map(str::to_ascii_lowercase).as_deref() {
            Some("application/vnd.ms-excel") => Some(".xls".into()),
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") => {
                Some(".xlsx".into())
            }
            Some("text/csv") => Some(".csv".into()),
            _ => None,
        },
    }
}

// --- Sniffing ---------------------------------------------------------------------------------

enum Sniffed {
    Zip,
    Text(String, TextEncoding),
    Other(FileKind),
}

fn sniff(bytes: &[u8]) -> Sniffed {
    const MAGIC: &[(&[u8], FileKind)] = &[
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", FileKind::OldOffice),
        (b"%PDF", FileKind::Pdf),
        (b"\x89PNG", FileKind::Image),
        (b"\xFF\xD8\xFF", FileKind::Image),
        (b"GIF8", FileKind::Image),
        (b"II*\0", FileKind::Image),
        (b"MM\0*", FileKind::Image),
        (b"\x1F\x8B", FileKind::Archive),
        (b"Rar!\x1A\x07", FileKind::Archive),
        (b"7z\xBC\xAF\x27\x1C", FileKind::Archive),
        (b"{\\rtf", FileKind::Rtf),
        // An empty ZIP: nothing to read in it either way.
        (b"PK\x05\x06", FileKind::Zip),
    ];
    if bytes.starts_with(b"PK\x03\x04") {
        return Sniffed::Zip;
    }
    if let Some((_, kind)) = MAGIC.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Sniffed::Other(*kind);
    }
    // RIFF....WEBP and ISO media (HEIC photos from phones).
    if (bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP"))
        || bytes.get(4..8) == Some(b"ftyp")
    {
        return Sniffed::Other(FileKind::Image);
    }
    let (text, encoding) = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        (
            String::from_utf8_lossy(rest).into_owned(),
            TextEncoding::Utf8Bom,
        )
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        let (text, _) = encoding_rs::UTF_16LE.decode_without_bom_handling(rest);
        (text.into_owned(), TextEncoding::Utf16Le)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        let (text, _) = encoding_rs::UTF_16BE.decode_without_bom_handling(rest);
        (text.into_owned(), TextEncoding::Utf16Be)
    } else if mostly_utf8(bytes) {
        (
            String::from_utf8_lossy(bytes).into_owned(),
            TextEncoding::Utf8,
        )
    } else {
        // Not UTF-8: the only legacy encoding Vietnamese Windows offices save CSV in. Every
        // byte decodes, so garbage is caught below by its control characters instead.
        let (text, _) = encoding_rs::WINDOWS_1258.decode_without_bom_handling(bytes);
        (text.into_owned(), TextEncoding::Windows1258)
    };
    Sniffed::Text(text, encoding)
}

/// Valid UTF-8, or UTF-8 with a few damaged bytes (a file cut short, one bad paste): Windows-1258
/// text almost never forms valid multi-byte UTF-8 sequences, so many of them with few errors
/// means UTF-8. Reading a UTF-8 file as Windows-1258 would garble every accented letter.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut multibyte, mut invalid) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    invalid == 0 || multibyte >= 10 * invalid
}

/// Text that is not a CSV after all: a web page or XML (often saved as ".xls"), or binary
/// data that happened to decode.
fn markup_or_binary(text: &str) -> Option<FileKind> {
    let mut controls = 0usize;
    let mut total = 0usize;
    for c in text.chars() {
        total += 1;
        if c == '\0' {
            return Some(FileKind::Binary);
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
            controls += 1;
        }
    }
    // A stray control character can be a typo; many of them means it is not text.
    if controls > 8 && controls * 100 > total {
        return Some(FileKind::Binary);
    }
    let start = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    let head: String = start.chars().take(64).collect::<String>().to_lowercase();
    if head.starts_with("<?xml") {
        if head.contains("<html") {
            return Some(FileKind::Html);
        }
        return Some(FileKind::Xml);
    }
    if head.starts_with('<') {
        return Some(FileKind::Html);
    }
    None
}

// --- Raw rows ---------------------------------------------------------------------------------

/// One row with content, before interpretation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawRow {
    /// 1-based row number as the user sees it.
    line: usize,
    cells: Vec<String>,
}

impl RawRow {
    fn cell(&self, i: Option<usize>) -> &str {
        i.and_then(|i| self.cells.get(i))
            .map(String::as_str)
            .unwrap_or("")
    }
}

fn is_blank(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_whitespace() || c == '\u{200B}' || c == '\u{FEFF}')
}

// --- CSV --------------------------------------------------------------------------------------

/// RFC 4180 records, read the way Excel reads them: a field that starts with a quote runs to
/// the matching quote (separators, line breaks and doubled quotes inside it are text); a quote
/// anywhere else is an ordinary character; CRLF, LF and a lone CR (old Mac) end a record. An
/// unclosed quote runs to the end of the file rather than failing.
struct CsvRecords<'a> {
    rest: &'a str,
    separator: char,
    record: usize,
}

impl<'a> CsvRecords<'a> {
    fn new(text: &'a str, separator: char) -> Self {
        Self {
            rest: text,
            separator,
            record: 0,
        }
    }
}

impl Iterator for CsvRecords<'_> {
    /// The 1-based record number and its fields (at most `MAX_COLUMNS`).
    type Item = (usize, Vec<String>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        self.record += 1;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut chars = self.rest.chars();
        let mut in_quotes = false;
        let mut at_start = true;
        let push = |fields: &mut Vec<String>, field: &mut String| {
            let f = std::mem::take(field);
            if fields.len() < MAX_COLUMNS {
                fields.push(f);
            }
        };
        loop {
            let Some(c) = chars.next() else {
                push(&mut fields, &mut field);
                self.rest = "";
                break;
            };
            if in_quotes {
                if c == '"' {
                    if chars.as_str().starts_with('"') {
                        chars.next();
                        field.push('"');
                    } else {
                        in_quotes = false;
                    }
                } else {
                    field.push(c);
                }
            } else if c == '"' && at_start {
                in_quotes = true;
                at_start = false;
            } else if c == self.separator {
                push(&mut fields, &mut field);
                at_start = true;
            } else if c == '\n' || c == '\r' {
                push(&mut fields, &mut field);
                let rest = chars.as_str();
                self.rest = if c == '\r' {
                    rest.strip_prefix('\n').unwrap_or(rest)
                } else {
                    rest
                };
                break;
            } else {
                field.push(c);
                at_start = false;
            }
        }
        Some((self.record, fields))
    }
}

/// Non-blank rows of a CSV text with one separator.
fn csv_rows(text: &str, separator: char) -> impl Iterator<Item = RawRow> + '_ {
    CsvRecords::new(text, separator)
        .filter(|(_, cells)| !cells.iter().all(|c| is_blank(c)))
        .map(|(line, cells)| RawRow { line, cells })
}

/// Picks the separator under which the first rows contain the best header, then reads every
/// row with it. With no header under any separator, the one that splits the first row most
/// is used, so the "column not found" error lists sensible columns.
fn read_csv(text: &str) -> Result<(char, Vec<RawRow>), ImportError> {
    const SEPARATORS: [char; 3] = [',', ';', '\t'];
    let mut best: Option<(usize, char)> = None;
    let mut widest: Option<(usize, char)> = None;
    for sep in SEPARATORS {
        let head: Vec<RawRow> = csv_rows(text, sep).take(HEADER_SEARCH_ROWS).collect();
        if let Ok((_, columns)) = find_header(&head) {
            if best.is_none_or(|(score, _)| columns.recognised > score) {
                best = Some((columns.recognised, sep));
            }
        }
        let width = head.iter().map(|r| r.cells.len()).max().unwrap_or(0);
        if widest.is_none_or(|(w, _)| width > w) {
            widest = Some((width, sep));
        }
    }
    let separator = best.or(widest).map_or(',', |(_, sep)| sep);
    let mut rows = Vec::new();
    for row in csv_rows(text, separator) {
        if rows.len() >= MAX_RAW_ROWS {
            return Err(ImportError::TooManyRows { max: MAX_ROWS });
        }
        rows.push(row);
    }
    Ok((separator, rows))
}

// --- XLSX -------------------------------------------------------------------------------------

enum XlsxFailure {
    /// A ZIP, but not an Excel workbook.
    NotWorkbook(FileKind),
    Import(ImportError),
}

impl From<ImportError> for XlsxFailure {
    fn from(e: ImportError) -> Self {
        XlsxFailure::Import(e)
    }
}

fn damaged(e: impl fmt::Display) -> ImportError {
    ImportError::Damaged {
        detail: e.to_string(),
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<(String, Vec<RawRow>), XlsxFailure> {
    // calamine is careful, but it is a large parser fed hostile bytes; a panic in it must
    // become "damaged file", not a failed request with no answer.
    std::panic::catch_unwind(|| {
        inspect_zip(bytes)?;
        read_workbook(bytes).map_err(XlsxFailure::Import)
    })
    .unwrap_or_else(|_| {
        Err(XlsxFailure::Import(damaged(
            "the spreadsheet reader gave up on this file",
        )))
    })
}

/// Checks, before calamine sees the file, that the ZIP is an Excel workbook and that it
/// unpacks to a sane size (every entry is inflated up to the budget, so lying size fields do
/// not help a zip bomb), and that no shared-strings count is forged.
fn inspect_zip(bytes: &[u8]) -> Result<(), XlsxFailure> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    let mut names = Vec::with_capacity(archive.len().min(1024));
    let mut budget = MAX_UNZIPPED_BYTES;
    let mut buf = Vec::new();
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(damaged)?;
        names.push(String::from_utf8_lossy(entry.name_raw()).to_ascii_lowercase());
        buf.clear();
        let read = entry
            .take(budget.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(damaged)? as u64;
        if read > budget {
            return Err(ImportError::UnpacksTooLarge {
                max: MAX_UNZIPPED_BYTES,
            }
            .into());
        }
        budget -= read;
        check_shared_string_counts(&buf)?;
    }
    let has = |name: &str| names.iter().any(|n| n == name);
    let has_prefix = |prefix: &str| names.iter().any(|n| n.starts_with(prefix));
    if has("xl/workbook.xml") {
        Ok(())
    } else if has("xl/workbook.bin") {
        Err(XlsxFailure::NotWorkbook(FileKind::ExcelBinary))
    } else if has("mimetype") && has("content.xml") {
        Err(XlsxFailure::NotWorkbook(FileKind::OpenDocument))
    } else if has_prefix("word/") {
        Err(XlsxFailure::NotWorkbook(FileKind::WordDocument))
    } else if has_prefix("ppt/") {
        Err(XlsxFailure::NotWorkbook(FileKind::Presentation))
    } else {
        Err(XlsxFailure::NotWorkbook(FileKind::Zip))
    }
}

/// calamine calls `Vec::reserve(uniqueCount)`; a forged count of billions makes the allocator
/// abort the whole server. Any `uniqueCount` that is not a plain, plausible number is refused.
fn check_shared_string_counts(xml: &[u8]) -> Result<(), ImportError> {
    const ATTR: &[u8] = b"uniqueCount";
    let forged = || damaged("implausible shared string count");
    let mut from = 0;
    while let Some(pos) = xml
        .get(from..)
        .and_then(|rest| rest.windows(ATTR.len()).position(|w| w == ATTR))
    {
        let mut i = from + pos + ATTR.len();
        from = i;
        let skip_ws = |i: &mut usize| {
            while xml.get(*i).is_some_and(u8::is_ascii_whitespace) {
                *i += 1;
            }
        };
        skip_ws(&mut i);
        if xml.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        skip_ws(&mut i);
        let Some(&quote @ (b'"' | b'\'')) = xml.get(i) else {
            return Err(forged());
        };
        let start = i + 1;
        let len = xml
            .get(start..)
            .and_then(|rest| rest.iter().position(|&b| b == quote))
            .ok_or_else(forged)?;
        let value = xml.get(start..start + len).ok_or_else(forged)?;
        let value = std::str::from_utf8(value).map_err(|_| forged())?.trim();
        let digits = value.trim_start_matches('0');
        if !value.bytes().all(|b| b.is_ascii_digit())
            || digits.len() > 9
            || digits.parse::<u64>().unwrap_or(0) > MAX_SHARED_STRINGS
        {
            return Err(forged());
        }
    }
    Ok(())
}

fn read_workbook(bytes: &[u8]) -> Result<(String, Vec<RawRow>), ImportError> {
    use calamine::{Reader, SheetType, SheetVisible, Xlsx};
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(damaged)?;
    let mut sheets: Vec<(bool, String)> = workbook
        .sheets_metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| (s.visible != SheetVisible::Visible, s.name.clone()))
        .collect();
    // Visible sheets first, in workbook order: the list is rarely on a hidden sheet.
    sheets.sort_by_key(|(hidden, _)| *hidden);
    let mut first = None;
    for (_, name) in sheets.into_iter().take(20) {
        let rows = read_sheet(&mut workbook, &name)?;
        if find_header(&rows).is_ok() {
            return Ok((name, rows));
        }
        first.get_or_insert((name, rows));
    }
    first.ok_or(ImportError::NoWorksheet)
}

fn read_sheet(
    workbook: &mut calamine::Xlsx<Cursor<&[u8]>>,
    name: &str,
) -> Result<Vec<RawRow>, ImportError> {
    // Merged regions are a convenience (a unit written once for a group); a file whose merge
    // list cannot be read is still worth reading.
    let merges = workbook.merge_cells_by_sheet_name(name).unwrap_or_default();
    let mut grid: BTreeMap<u32, BTreeMap<u32, String>> = BTreeMap::new();
    let mut reader = workbook.worksheet_cells_reader(name).map_err(damaged)?;
    while let Some(cell) = reader.next_cell().map_err(damaged)? {
        let (row, col) = cell.get_position();
        if col as usize >= MAX_COLUMNS {
            continue;
        }
        let text = cell_text(cell.get_value());
        if is_blank(&text) {
            continue;
        }
        if !grid.contains_key(&row) && grid.len() >= MAX_RAW_ROWS {
            return Err(ImportError::TooManyRows { max: MAX_ROWS });
        }
        grid.entry(row).or_default().insert(col, text);
    }
    drop(reader);
    fill_merged(&mut grid, &merges);
    Ok(grid
        .into_iter()
        .map(|(row, cols)| {
            let width = cols.keys().next_back().map_or(0, |&c| c as usize + 1);
            let mut cells = vec![String::new(); width];
            for (col, text) in cols {
                if let Some(slot) = cells.get_mut(col as usize) {
                    *slot = text;
                }
            }
            RawRow {
                line: row as usize + 1,
                cells,
            }
        })
        .collect())
}

/// Copies the value of each merged region into all its cells: the unit merged down a group
/// of people belongs to each of them, and a header merged over two rows labels the row below.
fn fill_merged(grid: &mut BTreeMap<u32, BTreeMap<u32, String>>, merges: &[calamine::Dimensions]) {
    let Some(&last_row) = grid.keys().next_back() else {
        return;
    };
    let mut filled = 0usize;
    for region in merges {
        let (r0, c0) = region.start;
        let r1 = region.end.0.min(last_row);
        let c1 = region.end.1.min(MAX_COLUMNS as u32 - 1);
        if r1 < r0 || c1 < c0 {
            continue;
        }
        let Some(value) = grid.get(&r0).and_then(|cols| cols.get(&c0)).cloned() else {
            continue;
        };
        let area = (r1 - r0 + 1) as usize * (c1 - c0 + 1) as usize;
        if filled + area > MAX_MERGE_FILL {
            return;
        }
        filled += area;
        for r in r0..=r1 {
            let cols = grid.entry(r).or_default();
            for c in c0..=c1 {
                cols.entry(c).or_insert_with(|| value.clone());
            }
        }
    }
}

/// A cell as the user sees it. Whole numbers lose the ".0" so that a phone typed as a number
/// (912345678) reaches `Phone::parse`, which restores the leading 0.
fn cell_text(value: &calamine::DataRef<'_>) -> String {
    use calamine::DataRef;
    match value {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number_text(*f),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        // A date in a member list is a mistake; showing Excel's serial number makes the row
        // error visible instead of inventing a format.
        DataRef::DateTime(d) => number_text(d.as_f64()),
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    }
}

fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
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

fn build_preview(format: ImportFormat, rows: &[RawRow]) -> Result<ImportPreview, ImportError> {
    let (header_index, columns) =
        find_header(rows).map_err(|found| ImportError::MissingColumn {
            column: "name",
            found,
        })?;
    let header_row = rows.get(header_index).map_or(1, |r| r.line);
    let mut seen: HashMap<(String, Option<String>), usize> = HashMap::new();
    let mut out = Vec::new();
    for row in rows.iter().skip(header_index + 1) {
        if is_filler(row, &columns) {
            continue;
        }
        if out.len() >= MAX_ROWS {
            return Err(ImportError::TooManyRows { max: MAX_ROWS });
        }
        out.push(ImportRow {
            line: row.line,
            person: read_person(row, &columns, &mut seen),
        });
    }
    let errors_count = out.iter().filter(|r| r.person.is_err()).count();
    Ok(ImportPreview {
        format,
        header_row,
        rows: out,
        errors_count,
        ignored_columns: columns.ignored,
    })
}

/// Reads one row, collecting every problem rather than stopping at the first, so the user can
/// fix a row in one go. `seen` maps (name, phone) to the first row that had them.
fn read_person(
    row: &RawRow,
    columns: &Columns,
    seen: &mut HashMap<(String, Option<String>), usize>,
) -> Result<PersonDraft, Vec<RowError>> {
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

    if let (Some(name), Some(phone)) = (&name, &phone) {
        let key = (
            name.matching_key(),
            phone.as_ref().map(|p| p.as_str().to_owned()),
        );
        match seen.get(&key) {
            Some(&first_line) => errors.push(RowError::Duplicate { first_line }),
            None => {
                seen.insert(key, row.line);
            }
        }
    }

    match (name, phone, kind) {
        (Some(name), Some(phone), Some(kind)) if errors.is_empty() => Ok(PersonDraft {
            name,
            position,
            unit,
            phone,
            kind,
            notes,
        }),
        _ => Err(errors),
    }
}

/// Keeps the value, or records why there is none.
fn collect<T>(errors: &mut Vec<RowError>, result: Result<T, PersonError>) -> Option<T> {
    result.map_err(|e| errors.push(e.into())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::person::detach_tones;

    const UBND_CSV: &str = include_str!("../../../tests/fixtures/thanh-vien-ubnd.csv");
    const XLSX_30: &[u8] = include_bytes!("../../../tests/fixtures/thanh-vien-30.xlsx");

    fn csv(text: &str) -> Result<ImportPreview, ImportError> {
        preview(text.as_bytes(), "ds.csv", Some("text/csv"))
    }

    fn valid(p: &ImportPreview) -> Vec<&PersonDraft> {
        p.rows
            .iter()
            .filter_map(|r| r.person.as_ref().ok())
            .collect()
    }

    fn errors_of(p: &ImportPreview, line: usize) -> &[RowError] {
        p.rows
            .iter()
            .find(|r| r.line == line)
            .and_then(|r| r.person.as_ref().err())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    #[test]
    fn shared_fixture_parses_fully() {
        let p = csv(UBND_CSV).unwrap();
        assert_eq!(
            p.format,
            ImportFormat::Csv {
                encoding: TextEncoding::Utf8,
                separator: ','
            }
        );
        assert_eq!(p.header_row, 1);
        assert_eq!(p.errors_count, 0);
        assert_eq!(p.rows.len(), 7);
        let first = &valid(&p)[0];
        assert_eq!(first.name.as_str(), "Lò Văn Thành");
        assert_eq!(
            first.position.as_ref().unwrap().as_str(),
            "Chủ tịch UBND xã"
        );
        assert_eq!(first.unit.as_ref().unwrap().as_str(), "UBND xã Mường Báng");
        assert_eq!(first.phone.as_ref().unwrap().as_str(), "0912000001");
        assert_eq!(first.kind, PersonKind::Member);
        assert_eq!(p.rows[6].line, 8);
    }

    #[test]
    fn title_rows_blank_rows_and_numbering_row_above_data() {
        let text = "DANH SÁCH THÀNH VIÊN UBND XÃ MƯỜNG BÁNG,,,\n\
                    (Kèm theo Quyết định số 12/QĐ-UBND),,,\n\
                    ,,,\n\
                    \n\
                    STT,Họ và tên,Chức vụ,Số điện thoại (di động)\n\
                    (1),(2),(3),(4)\n\
                    1,Lò Văn Thành,Chủ tịch UBND xã,0912 000 001\n\
                    ,,,\n\
                    2,Cầm Thị Hoa,Phó Chủ tịch UBND xã,\n\
                    3,,,\n\
                    4,,,\n";
        let p = csv(text).unwrap();
        assert_eq!(p.header_row, 5);
        assert_eq!(p.errors_count, 0);
        let lines: Vec<usize> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [7, 9]);
        assert_eq!(valid(&p)[1].phone, None);
    }

    #[test]
    fn semicolon_and_tab_separators() {
        let text = "Họ tên;Chức vụ;Đơn vị;SĐT\r\nHoàng Văn Ơn;Công chức, Địa chính;\"UBND xã; Mường Báng\";0912.000.007\r\n";
        let p = csv(text).unwrap();
        assert_eq!(
            p.format,
            ImportFormat::Csv {
                encoding: TextEncoding::Utf8,
                separator: ';'
            }
        );
        let d = valid(&p)[0];
        assert_eq!(
            d.position.as_ref().unwrap().as_str(),
            "Công chức, Địa chính"
        );
        assert_eq!(d.unit.as_ref().unwrap().as_str(), "UBND xã; Mường Báng");
        assert_eq!(d.phone.as_ref().unwrap().as_str(), "0912000007");

        let tsv = "Name\tPosition\nLò Văn Thành\tChủ tịch\n";
        let p = csv(tsv).unwrap();
        assert!(matches!(
            p.format,
            ImportFormat::Csv {
                separator: '\t',
                ..
            }
        ));
        assert_eq!(valid(&p).len(), 1);
    }

    #[test]
    fn quoted_fields_with_separators_quotes_and_newlines() {
        let text = "Họ và tên,Ghi chú,Chức vụ\n\"Nguyễn Văn \"\"Tí\"\" An\",\"dòng 1\ndòng 2, vẫn ô đó\",Ủy viên\nLê Thị Bé,,\n";
        let p = csv(text).unwrap();
        assert_eq!(p.errors_count, 0);
        let v = valid(&p);
        assert_eq!(v[0].name.as_str(), "Nguyễn Văn \"Tí\" An");
        assert_eq!(
            v[0].notes.as_ref().unwrap().as_str(),
            "dòng 1 dòng 2, vẫn ô đó"
        );
        assert_eq!(v[0].position.as_ref().unwrap().as_str(), "Ủy viên");
        // Rows are counted as records, as Excel numbers them.
        assert_eq!(p.rows[1].line, 3);
    }

    #[test]
    fn csv_reader_edge_cases() {
        let recs =
            |t: &str| -> Vec<Vec<String>> { CsvRecords::new(t, ',').map(|(_, f)| f).collect() };
        assert_eq!(recs("a,b\r\nc"), [vec!["a", "b"], vec!["c"]]);
        assert_eq!(recs("a\rb\r\n"), [vec!["a"], vec!["b"]]);
        assert_eq!(recs("x\"y,\"z"), [vec!["x\"y", "z"]]);
        assert_eq!(recs("\"ab\"cd,e"), [vec!["abcd", "e"]]);
        assert_eq!(recs("\"unclosed,\nrest"), [vec!["unclosed,\nrest"]]);
        assert_eq!(recs(",\n"), [vec!["", ""]]);
        assert_eq!(recs(&",".repeat(1000))[0].len(), MAX_COLUMNS);
    }

    #[test]
    fn windows_1258_is_detected_and_recomposed() {
        let nfc = "Họ và tên;Chức vụ;Đơn vị\nNguyễn Thị Ánh;Phó Chủ tịch UBND xã;Ủy ban nhân dân xã\nĐặng Hữu Ước;Ủy viên;Công an xã\n";
        let legacy = detach_tones(nfc);
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1258.encode(&legacy);
        assert!(!unmappable, "the test text must fit the code page");
        assert!(std::str::from_utf8(&bytes).is_err());
        let p = preview(&bytes, "ds.csv", None).unwrap();
        assert_eq!(
            p.format,
            ImportFormat::Csv {
                encoding: TextEncoding::Windows1258,
                separator: ';'
            }
        );
        let v = valid(&p);
        assert_eq!(v[0].name.as_str(), "Nguyễn Thị Ánh");
        assert_eq!(
            v[0].position.as_ref().unwrap().as_str(),
            "Phó Chủ tịch UBND xã"
        );
        assert_eq!(v[1].name.as_str(), "Đặng Hữu Ước");
        assert_eq!(v[1].name, PersonName::parse("Đặng Hữu Ước").unwrap());
    }

    #[test]
    fn damaged_utf8_stays_utf8() {
        let mut bytes = UBND_CSV.as_bytes().to_vec();
        bytes.insert(40, 0xFF);
        // Cut inside the last "ữ"-like sequence too.
        bytes.extend_from_slice("Vũ Thị Ngữ".as_bytes());
        bytes.pop();
        let p = preview(&bytes, "ds.csv", None).unwrap();
        assert!(matches!(
            p.format,
            ImportFormat::Csv {
                encoding: TextEncoding::Utf8,
                ..
            }
        ));
        assert_eq!(valid(&p)[1].name.as_str(), "Cầm Thị Hoa");
    }

    #[test]
    fn utf8_bom_and_utf16() {
        let text = "Họ và tên,Điện thoại\nLò Văn Thành,912000001\n";
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        let p = preview(&bom, "ds.csv", None).unwrap();
        assert!(matches!(
            p.format,
            ImportFormat::Csv {
                encoding: TextEncoding::Utf8Bom,
                ..
            }
        ));
        let d = valid(&p)[0];
        assert_eq!(d.name.as_str(), "Lò Văn Thành");
        assert_eq!(d.phone.as_ref().unwrap().as_str(), "0912000001");

        for (bom, le, enc) in [
            (&b"\xFF\xFE"[..], true, TextEncoding::Utf16Le),
            (&b"\xFE\xFF"[..], false, TextEncoding::Utf16Be),
        ] {
            let mut bytes = bom.to_vec();
            for unit in text.replace(',', "\t").encode_utf16() {
                bytes.extend(if le {
                    unit.to_le_bytes()
                } else {
                    unit.to_be_bytes()
                });
            }
            let p = preview(&bytes, "ds.txt", None).unwrap();
            assert_eq!(
                p.format,
                ImportFormat::Csv {
                    encoding: enc,
                    separator: '\t'
                }
            );
            assert_eq!(valid(&p)[0].name.as_str(), "Lò Văn Thành");
        }
    }

    #[test]
    fn duplicates_name_the_first_row() {
        let text = "Họ và tên,SĐT\n\
                    Nguyễn Văn An,0912000001\n\
                    NGUYỄN  VĂN AN,+84 912 000 001\n\
                    Nguyễn Văn An,0912000002\n\
                    Lê Thị Bé,\n\
                    Lê Thị Bé,\n\
                    Nguyễn Văn Ân,0912000001\n\
                    Nguyễn Văn An,0912000001\n";
        let p = csv(text).unwrap();
        assert_eq!(errors_of(&p, 2), []);
        assert_eq!(errors_of(&p, 3), [RowError::Duplicate { first_line: 2 }]);
        assert_eq!(errors_of(&p, 4), []);
        assert_eq!(errors_of(&p, 6), [RowError::Duplicate { first_line: 5 }]);
        assert_eq!(errors_of(&p, 7), []);
        assert_eq!(errors_of(&p, 8), [RowError::Duplicate { first_line: 2 }]);
        assert_eq!(p.errors_count, 3);
    }

    #[test]
    fn row_errors_are_all_reported() {
        let long = "x".repeat(121);
        let text = format!(
            "Họ và tên,Chức vụ,Điện thoại,Vai trò\n\
             ,Ủy viên,0912000001,\n\
             Lê Văn Bảy,{long},091234,Chủ trì\n\
             #N/A,Ủy viên,,Khách mời\n\
             \"Lò\u{7}Văn\",,,\n\
             Trần Văn Khách,Bí thư Đảng ủy,,Khách mời\n"
        );
        let p = csv(&text).unwrap();
        assert_eq!(
            errors_of(&p, 2),
            [RowError::Field(PersonError::Empty { field: "name" })]
        );
        let e = errors_of(&p, 3);
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!(
            e.iter().map(RowError::field).collect::<Vec<_>>(),
            ["position", "phone", "role"]
        );
        assert_eq!(
            errors_of(&p, 4),
            [RowError::SpreadsheetError {
                field: "name",
                value: "#N/A".into()
            }]
        );
        assert_eq!(
            errors_of(&p, 5),
            [RowError::Field(PersonError::ControlChar { field: "name" })]
        );
        assert_eq!(valid(&p)[0].kind, PersonKind::Guest);
        assert_eq!(p.errors_count, 4);
    }

    #[test]
    fn missing_name_column_lists_what_was_found() {
        let err = csv("DANH SÁCH\nĐại biểu,Chức vụ,Đơn vị\nA,B,C\n").unwrap_err();
        assert_eq!(
            err,
            ImportError::MissingColumn {
                column: "name",
                found: vec!["Đại biểu".into(), "Chức vụ".into(), "Đơn vị".into()]
            }
        );
        // A header too far down is not found either.
        let mut text = "Tiêu đề\n".repeat(10);
        text.push_str("Họ và tên\nLan\n");
        assert!(matches!(csv(&text), Err(ImportError::MissingColumn { .. })));
    }

    #[test]
    fn split_family_and_given_columns() {
        let text = "STT,Họ và đệm,Tên,Ngày sinh\n1,Nguyễn Thị,Lan,1/1/1980\n";
        let p = csv(text).unwrap();
        assert_eq!(valid(&p)[0].name.as_str(), "Nguyễn Thị Lan");
        assert_eq!(p.ignored_columns, ["Ngày sinh"]);
        // "Tên" alone is the full name.
        let p = csv("Tên,Đơn vị\nNguyễn Thị Lan,UBND\n").unwrap();
        assert_eq!(valid(&p)[0].name.as_str(), "Nguyễn Thị Lan");
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
    fn unsupported_formats_say_what_they_look_like() {
        let kind = |bytes: &[u8], name: &str| match preview(bytes, name, None) {
            Err(ImportError::Unsupported { looks_like, named }) => (looks_like, named),
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(
            kind(b"%PDF-1.7\n...", "giay-moi.pdf"),
            (FileKind::Pdf, None)
        );
        assert_eq!(
            kind(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0", "ds.xls"),
            (FileKind::OldOffice, Some(".xls".into()))
        );
        assert_eq!(kind(b"\x89PNG\r\n\x1a\n", "anh.png").0, FileKind::Image);
        assert_eq!(kind(b"\xFF\xD8\xFF\xE0", "anh.jpg").0, FileKind::Image);
        assert_eq!(
            kind(b"<html><table><tr><td>x</td></tr></table></html>", "ds.xls"),
            (FileKind::Html, Some(".xls".into()))
        );
        assert_eq!(
            kind(b"<?xml version=\"1.0\"?><Workbook/>", "a").0,
            FileKind::Xml
        );
        assert_eq!(kind(b"\x00\x01\x02binary", "a.bin").0, FileKind::Binary);
        assert_eq!(kind(b"PK\x05\x06\0\0\0\0", "a.zip").0, FileKind::Zip);
        assert_eq!(preview(b"", "a.csv", None), Err(ImportError::Empty));
        let big = vec![b'a'; MAX_BYTES + 1];
        assert!(matches!(
            preview(&big, "a.csv", None),
            Err(ImportError::TooLarge { .. })
        ));
    }

    #[test]
    fn too_many_rows() {
        let mut text = String::from("Họ và tên\n");
        for i in 0..=MAX_ROWS {
            text.push_str(&format!("Người Số {i}\n"));
        }
        assert_eq!(csv(&text), Err(ImportError::TooManyRows { max: MAX_ROWS }));
        // Exactly the limit is fine; blank rows do not count.
        let mut text = String::from("Họ và tên\n");
        for i in 0..MAX_ROWS {
            text.push_str(&format!("Người Số {i}\n\n"));
        }
        assert_eq!(csv(&text).unwrap().rows.len(), MAX_ROWS);
    }

    #[test]
    fn shared_string_count_guard() {
        assert!(check_shared_string_counts(b"<sst count=\"3\" uniqueCount=\"3\">").is_ok());
        assert!(check_shared_string_counts(b"<sst uniqueCount = '0003'>").is_ok());
        assert!(check_shared_string_counts(b"<sst uniqueCount=\"99999999999\">").is_err());
        assert!(check_shared_string_counts(b"<sst uniqueCount=\"1e9\">").is_err());
        assert!(check_shared_string_counts(b"<sst uniqueCount=\"5").is_err());
        assert!(check_shared_string_counts(b"uniqueCount").is_ok());
    }

    // --- XLSX ---------------------------------------------------------------------------------

    /// 30 people of a commune People's Committee after the 2025 reform: (name, position, unit,
    /// phone as Excel would store it, role).
    const PEOPLE: [(&str, &str, &str, Phone30, &str); 30] = {
        use Phone30::*;
        [
            (
                "Nguyễn Văn Hùng",
                "Chủ tịch UBND xã",
                "UBND xã Tân Phú",
                Num(912_345_601.0),
                "Thành viên",
            ),
            (
                "Trần Thị Mai",
                "Phó Chủ tịch UBND xã",
                "UBND xã Tân Phú",
                Num(912_345_602.0),
                "Thành viên",
            ),
            (
                "Lê Quang Vinh",
                "Phó Chủ tịch UBND xã",
                "UBND xã Tân Phú",
                Num(912_345_603.0),
                "Thành viên",
            ),
            (
                "Phạm Đức Thắng",
                "Ủy viên UBND xã - Trưởng Công an xã",
                "Công an xã Tân Phú",
                Num(983_110_204.0),
                "Thành viên",
            ),
            (
                "Lường Văn Khánh",
                "Ủy viên UBND xã - Chỉ huy trưởng Ban CHQS xã",
                "Ban Chỉ huy Quân sự xã",
                Num(976_220_305.0),
                "Thành viên",
            ),
            (
                "Đặng Thị Hồng Nhung",
                "Chánh Văn phòng HĐND và UBND xã",
                "Văn phòng HĐND và UBND xã",
                Text("0915 406 117"),
                "Thành viên",
            ),
            (
                "Vũ Minh Tuấn",
                "Trưởng phòng Kinh tế",
                "Phòng Kinh tế",
                Num(904_512_398.0),
                "Thành viên",
            ),
            (
                "Bùi Thị Thu Hà",
                "Trưởng phòng Văn hóa - Xã hội",
                "Phòng Văn hóa - Xã hội",
                Num(868_203_114.0),
                "Thành viên",
            ),
            (
                "Hoàng Ngọc Ánh",
                "Giám đốc Trung tâm Phục vụ hành chính công",
                "Trung tâm Phục vụ hành chính công xã",
                Text("0356.771.209"),
                "Thành viên",
            ),
            (
                "Ngô Thị Anh",
                "Phó Chánh Văn phòng HĐND và UBND xã",
                "Văn phòng HĐND và UBND xã",
                Num(389_145_620.0),
                "Thành viên",
            ),
            (
                "Đỗ Văn Bình",
                "Phó Trưởng phòng Kinh tế",
                "Phòng Kinh tế",
                Num(945_118_027.0),
                "Thành viên",
            ),
            (
                "Hà Thị Cúc",
                "Phó Trưởng phòng Văn hóa - Xã hội",
                "Phòng Văn hóa - Xã hội",
                Num(918_660_431.0),
                "Thành viên",
            ),
            (
                "Quàng Văn Đức",
                "Công chức Địa chính - Xây dựng",
                "Phòng Kinh tế",
                Num(397_052_846.0),
                "Thành viên",
            ),
            (
                "Cầm Thị Hoa",
                "Công chức Tài chính - Kế toán",
                "Phòng Kinh tế",
                Num(912_873_350.0),
                "Thành viên",
            ),
            (
                "Lò Văn Thành",
                "Công chức Tư pháp - Hộ tịch",
                "Văn phòng HĐND và UBND xã",
                Num(869_330_472.0),
                "Thành viên",
            ),
            (
                "Vi Thị Yến",
                "Công chức Văn phòng - Thống kê",
                "Văn phòng HĐND và UBND xã",
                Num(707_215_983.0),
                "Thành viên",
            ),
            (
                "Dương Minh Khoa",
                "Công chức Văn hóa - Xã hội",
                "Phòng Văn hóa - Xã hội",
                Num(934_402_561.0),
                "Thành viên",
            ),
            (
                "Mai Xuân Lộc",
                "Công chức Nông nghiệp - Môi trường",
                "Phòng Kinh tế",
                Num(977_640_118.0),
                "Thành viên",
            ),
            (
                "Trịnh Thị Phương",
                "Công chức Giáo dục - Y tế",
                "Phòng Văn hóa - Xã hội",
                Num(822_517_604.0),
                "Thành viên",
            ),
            (
                "Lý Văn Sơn",
                "Công chức Kinh tế - Hạ tầng",
                "Phòng Kinh tế",
                Num(396_284_735.0),
                "Thành viên",
            ),
            (
                "Tô Thị Thanh Tâm",
                "Chuyên viên Trung tâm Phục vụ hành chính công",
                "Trung tâm Phục vụ hành chính công xã",
                Num(911_028_466.0),
                "Thành viên",
            ),
            (
                "Đinh Công Trứ",
                "Phó Trưởng Công an xã",
                "Công an xã Tân Phú",
                Num(963_771_052.0),
                "Thành viên",
            ),
            (
                "Hồ Thị Uyên",
                "Công chức Lao động - Thương binh",
                "Phòng Văn hóa - Xã hội",
                Num(353_906_127.0),
                "Thành viên",
            ),
            (
                "Lâm Quốc Việt",
                "Phó Chỉ huy trưởng Ban CHQS xã",
                "Ban Chỉ huy Quân sự xã",
                Num(985_243_710.0),
                "Thành viên",
            ),
            (
                "Châu Thị Xuân",
                "Chuyên viên Văn phòng HĐND và UBND xã",
                "Văn phòng HĐND và UBND xã",
                Text("+84 913 552 804"),
                "Thành viên",
            ),
            (
                "Kiều Văn Ước",
                "Chuyên viên Phòng Kinh tế",
                "Phòng Kinh tế",
                Num(387_610_249.0),
                "Thành viên",
            ),
            (
                "Phan Văn Lợi",
                "Bí thư Đảng ủy xã",
                "Đảng ủy xã Tân Phú",
                Num(913_200_001.0),
                "Khách mời",
            ),
            (
                "Nguyễn Thị Ơn",
                "Chủ tịch Ủy ban MTTQ Việt Nam xã",
                "Ủy ban MTTQ Việt Nam xã",
                Num(914_300_002.0),
                "Khách mời",
            ),
            (
                "Triệu Văn Zẩu",
                "Trưởng thôn Nà Hán",
                "Thôn Nà Hán",
                Text(""),
                "Khách mời",
            ),
            (
                "Vàng A Dế",
                "Chủ tịch Hội Nông dân xã",
                "Hội Nông dân xã",
                Text("(0213) 387 6543"),
                "Khách mời",
            ),
        ]
    };

    #[derive(Clone, Copy)]
    enum Phone30 {
        /// A phone typed into a number cell: Excel keeps 912345678.
        Num(f64),
        Text(&'static str),
    }

    /// Writes the list as an office would: a merged title, a subtitle, a blank row, the
    /// header on row 4, then the people; `extra` rows are appended below.
    fn build_xlsx(extra: &[[&str; 5]]) -> Vec<u8> {
        use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook};
        let mut wb = Workbook::new();
        // A fixed creation date keeps the committed fixture byte-for-byte reproducible.
        let created = ExcelDateTime::from_ymd(2026, 11, 27).unwrap();
        wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
        let ws = wb.add_worksheet();
        ws.set_name("Danh sách").unwrap();
        let title = Format::new().set_bold().set_align(FormatAlign::Center);
        let bold = Format::new().set_bold();
        ws.merge_range(
            0,
            0,
            0,
            5,
            "DANH SÁCH THÀNH VIÊN UBND XÃ TÂN PHÚ NHIỆM KỲ 2026-2031",
            &title,
        )
        .unwrap();
        ws.merge_range(
            1,
            0,
            1,
            5,
            "(Kèm theo Giấy mời số 45/GM-UBND ngày 20/11/2026)",
            &Format::new(),
        )
        .unwrap();
        for (c, h) in [
            "STT",
            "Họ và tên",
            "Chức vụ",
            "Đơn vị",
            "Số điện thoại",
            "Vai trò",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string_with_format(3, c as u16, *h, &bold).unwrap();
        }
        let mut r = 4u32;
        for (i, (name, position, unit, phone, role)) in PEOPLE.iter().enumerate() {
            ws.write_number(r, 0, (i + 1) as f64).unwrap();
            ws.write_string(r, 1, *name).unwrap();
            ws.write_string(r, 2, *position).unwrap();
            ws.write_string(r, 3, *unit).unwrap();
            match phone {
                Phone30::Num(n) => {
                    ws.write_number(r, 4, *n).unwrap();
                }
                Phone30::Text("") => {}
                Phone30::Text(t) => {
                    ws.write_string(r, 4, *t).unwrap();
                }
            }
            ws.write_string(r, 5, *role).unwrap();
            r += 1;
        }
        for row in extra {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    ws.write_string(r, c as u16 + 1, *v).unwrap();
                }
            }
            r += 1;
        }
        for (c, w) in [5.0, 26.0, 44.0, 36.0, 16.0, 12.0].iter().enumerate() {
            ws.set_column_width(c as u16, *w).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    fn fixture_path() -> std::path::PathBuf {
        // Relative to this source file, so it works from the crate and from a scratch crate
        // that includes this module by path.
        std::path::Path::new(file!())
            .parent()
            .unwrap()
            .join("../../../tests/fixtures/thanh-vien-30.xlsx")
    }

    /// Rewrites tests/fixtures/thanh-vien-30.xlsx; run with `cargo test -- --ignored
    /// regenerate_xlsx_fixture` after changing `PEOPLE`.
    #[test]
    #[ignore]
    fn regenerate_xlsx_fixture() {
        std::fs::write(fixture_path(), build_xlsx(&[])).unwrap();
    }

    fn check_30(p: &ImportPreview) {
        assert_eq!(
            p.format,
            ImportFormat::Xlsx {
                sheet: "Danh sách".into()
            }
        );
        assert_eq!(p.header_row, 4);
        let v = valid(p);
        assert_eq!(v.len(), 30);
        assert_eq!(v[0].name.as_str(), "Nguyễn Văn Hùng");
        assert_eq!(v[0].phone.as_ref().unwrap().as_str(), "0912345601");
        assert_eq!(v[5].phone.as_ref().unwrap().as_str(), "0915406117");
        assert_eq!(v[9].phone.as_ref().unwrap().as_str(), "0389145620");
        assert_eq!(v[24].phone.as_ref().unwrap().as_str(), "0913552804");
        assert_eq!(v[28].phone, None);
        assert_eq!(v[29].phone.as_ref().unwrap().as_str(), "02133876543");
        assert_eq!(v.iter().filter(|d| d.kind == PersonKind::Guest).count(), 4);
        assert_eq!(p.rows[0].line, 5);
        assert!(p.ignored_columns.is_empty());
    }

    #[test]
    fn xlsx_fixture_file_reads_30_people() {
        let p = preview(XLSX_30, "thanh-vien-30.xlsx", None).unwrap();
        check_30(&p);
        assert_eq!(p.errors_count, 0);
    }

    #[test]
    fn xlsx_with_title_numbers_and_a_bad_row() {
        let bytes = build_xlsx(&[
            [
                "Lò Thị Sai",
                "Ủy viên",
                "UBND xã Tân Phú",
                "0912 34",
                "Thành viên",
            ],
            ["", "", "", "", ""],
            ["Nguyễn Văn Hùng", "Chủ tịch UBND xã", "", "912345601", ""],
        ]);
        let p = preview(&bytes, "ds.xlsx", None).unwrap();
        check_30(&p);
        assert_eq!(p.rows.len(), 32);
        assert_eq!(p.errors_count, 2);
        assert!(matches!(
            errors_of(&p, 35),
            [RowError::Field(PersonError::BadPhone { .. })]
        ));
        assert_eq!(errors_of(&p, 37), [RowError::Duplicate { first_line: 5 }]);
        // People sort by given name in Vietnamese order.
        let mut drafts: Vec<PersonDraft> = valid(&p).into_iter().cloned().collect();
        crate::domain::person::sort_by_name(&mut drafts, |d| &d.name);
        let given: Vec<&str> = drafts.iter().take(4).map(|d| d.name.given()).collect();
        assert_eq!(given, ["Anh", "Ánh", "Bình", "Cúc"]);
    }

    #[test]
    fn xlsx_merged_unit_is_filled_down_and_two_row_header_works() {
        use rust_xlsxwriter::{Format, Workbook};
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let f = Format::new();
        ws.merge_range(0, 0, 1, 0, "STT", &f).unwrap();
        ws.merge_range(0, 1, 1, 1, "Họ và tên", &f).unwrap();
        ws.merge_range(0, 2, 0, 3, "Liên hệ", &f).unwrap();
        ws.write_string(1, 2, "Điện thoại").unwrap();
        ws.write_string(1, 3, "Email").unwrap();
        ws.merge_range(0, 4, 1, 4, "Đơn vị", &f).unwrap();
        ws.write_string(2, 1, "Lò Văn Thành").unwrap();
        ws.write_string(3, 1, "Cầm Thị Hoa").unwrap();
        ws.merge_range(2, 4, 3, 4, "UBND xã Mường Báng", &f)
            .unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let p = preview(&bytes, "ds.xlsx", None).unwrap();
        assert_eq!(p.header_row, 2);
        let v = valid(&p);
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].unit.as_ref().unwrap().as_str(), "UBND xã Mường Báng");
        assert_eq!(p.ignored_columns, ["Email"]);
    }

    #[test]
    fn xlsx_other_zips_and_bombs() {
        use std::io::Write;
        let zip_with = |entries: &[(&str, &[u8])]| {
            let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
            for (name, data) in entries {
                w.start_file(*name, zip::write::SimpleFileOptions::default())
                    .unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap().into_inner()
        };
        let kind = |bytes: &[u8]| match preview(bytes, "x.xlsx", None) {
            Err(ImportError::Unsupported { looks_like, .. }) => looks_like,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            kind(&zip_with(&[("word/document.xml", b"<w/>")])),
            FileKind::WordDocument
        );
        assert_eq!(
            kind(&zip_with(&[("mimetype", b"x"), ("content.xml", b"<x/>")])),
            FileKind::OpenDocument
        );
        assert_eq!(kind(&zip_with(&[("a.txt", b"hi")])), FileKind::Zip);
        // 100 MB of zeros compresses to about 100 kB.
        let zeros = vec![0u8; 100 * 1024 * 1024];
        let bomb = zip_with(&[("xl/workbook.xml", &zeros)]);
        assert!(bomb.len() < MAX_BYTES);
        assert_eq!(
            preview(&bomb, "x.xlsx", None),
            Err(ImportError::UnpacksTooLarge {
                max: MAX_UNZIPPED_BYTES
            })
        );
    }

    #[test]
    fn xlsx_forged_shared_string_count_is_refused() {
        // Rewrite the count inside a real workbook's sharedStrings.xml.
        let original = build_xlsx(&[]);
        let mut archive = zip::ZipArchive::new(Cursor::new(&original[..])).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).unwrap();
            let name = entry.name().unwrap().to_string();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            if name == "xl/sharedStrings.xml" {
                let text = String::from_utf8(data).unwrap();
                let start = text.find("uniqueCount=\"").unwrap() + 13;
                let end = start + text[start..].find('"').unwrap();
                data = format!("{}99999999999{}", &text[..start], &text[end..]).into_bytes();
            }
            out.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut out, &data).unwrap();
        }
        let forged = out.finish().unwrap().into_inner();
        assert!(matches!(
            preview(&forged, "x.xlsx", None),
            Err(ImportError::Damaged { .. })
        ));
    }

    /// A small deterministic generator, so failures reproduce.
    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn never_panics_on_random_bytes() {
        let mut seed = 42u64;
        // With and without a ZIP signature or a BOM in front.
        for len in [1usize, 2, 3, 4, 10, 100, 1000, 20_000] {
            for prefix in [&b""[..], b"PK\x03\x04", b"\xEF\xBB\xBF", b"\xFF\xFE"] {
                let mut bytes = prefix.to_vec();
                bytes.extend((0..len).map(|_| lcg(&mut seed) as u8));
                let _ = preview(&bytes, "x", None);
            }
        }
    }

    #[test]
    fn never_panics_on_truncated_or_mutated_xlsx() {
        let xlsx = build_xlsx(&[]);
        let mut seed = 7u64;
        for cut in (0..xlsx.len()).step_by(97) {
            assert!(preview(&xlsx[..cut], "x.xlsx", None).is_err());
        }
        for _ in 0..300 {
            let mut bytes = xlsx.clone();
            for _ in 0..1 + lcg(&mut seed) % 8 {
                let i = (lcg(&mut seed) as usize) % bytes.len();
                bytes[i] = lcg(&mut seed) as u8;
            }
            let _ = preview(&bytes, "x.xlsx", None);
        }
    }

    #[test]
    fn never_panics_on_huge_cells_and_degenerate_csv() {
        let huge = format!(
            "Họ và tên,Chức vụ\n{},{}\n",
            "Á".repeat(1_000_000),
            "x".repeat(1_000_000)
        );
        let p = csv(&huge).unwrap();
        assert_eq!(errors_of(&p, 2).len(), 2);
        let _ = csv(&",".repeat(MAX_BYTES - 1));
        let _ = csv(&"\n".repeat(MAX_BYTES - 1));
        let _ = csv(&"\"".repeat(MAX_BYTES - 1));
        let _ = csv("Họ và tên\n\u{301}\u{301}\u{323}\n");
    }
}
