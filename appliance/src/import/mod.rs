//! The import adapter: reads an uploaded member list (Excel or CSV, as commune offices keep
//! them) into rows of cells, and hands them to the row rules in [`crate::domain::import`].
//!
//! This is where bytes are guessed at: the file format from its content (office programs often
//! give files the wrong extension), the text encoding of a CSV (UTF-8, UTF-16, or the legacy
//! Windows-1258), its separator, and the sheet of a workbook. CSV is parsed by the `csv` crate,
//! XLSX by `calamine` behind a ZIP inspection (see [`xlsx`]). Whatever the bytes, this module
//! returns a value or an error and never panics.

mod csv;
#[cfg(test)]
mod tests;
mod xlsx;

use crate::domain::import::{
    has_foreign_letters, letter_damage, read_sheet, Sheet, SheetError, MAX_ROWS,
};
use std::fmt;

pub use crate::domain::import::{ImportRow, LetterDamage, PersonDraft, RowCells, RowError};

/// Uploads larger than this are refused before any parsing: a commune list is a few kB.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Rows with content kept while reading, before the header tells which are blank "STT only"
/// template rows. Bounds memory on hostile input; real files stop far below.
const MAX_RAW_ROWS: usize = 10 * MAX_ROWS;

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
    /// No header row with a name column among the first rows. `found` holds the texts of the
    /// row that looked most like a header, so the user can see what was read;
    /// `encoding_likely` says whether they show damaged letters (or a legacy font encoding),
    /// so that re-exporting the file, not renaming a column, is the fix.
    #[error(
        "no name column (encoding likely the cause: {encoding_likely}); columns found: {found:?}"
    )]
    MissingColumn {
        found: Vec<String>,
        encoding_likely: bool,
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
    /// How the file was read, shown in the preview so a wrong guess is visible.
    pub format: ImportFormat,
    pub sheet: Sheet,
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
            let (sheet, rows) = xlsx::read(bytes).map_err(|e| match e {
                xlsx::Failure::NotWorkbook(kind) => unsupported(kind),
                xlsx::Failure::Import(e) => e,
            })?;
            (ImportFormat::Xlsx { sheet }, rows)
        }
        Sniffed::Text(text, encoding) => {
            if let Some(kind) = markup_or_binary(&text) {
                return Err(unsupported(kind));
            }
            let (separator, rows) = csv::read(&text)?;
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
    let legacy = matches!(
        format,
        ImportFormat::Csv {
            encoding: TextEncoding::Windows1258,
            ..
        }
    );
    let sheet = read_sheet(&rows).map_err(|e| match e {
        SheetError::MissingColumn { found } => {
            let encoding_likely = found
                .iter()
                .any(|c| letter_damage(c, false).is_some() || (legacy && has_foreign_letters(c)));
            ImportError::MissingColumn {
                found,
                encoding_likely,
            }
        }
        SheetError::TooManyRows { max } => ImportError::TooManyRows { max },
    })?;
    Ok(ImportPreview { format, sheet })
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
