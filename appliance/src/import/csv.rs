//! CSV as Excel and LibreOffice write it, read with the `csv` crate: RFC 4180 quoting (a field
//! that starts with a quote runs to the matching quote; separators, line breaks and doubled
//! quotes inside it are text), a quote elsewhere is an ordinary character, CRLF, LF and a lone
//! CR (old Mac) end a record, and an unclosed quote runs to the end of the file.

use super::{ImportError, MAX_RAW_ROWS};
use crate::domain::import::{header_score, is_blank, RawRow, HEADER_SEARCH_ROWS, MAX_COLUMNS};

/// Every record of `text` with its 1-based row number as a spreadsheet shows it, and its
/// fields (at most `MAX_COLUMNS`). Blank lines are rows too, so the numbers match Excel's.
pub(super) fn records(
    text: &str,
    separator: char,
) -> impl Iterator<Item = (usize, Vec<String>)> + '_ {
    // One kind of line break, so that the reader's line count is the row number. A lone CR
    // inside a quoted cell becomes LF, which the cell reads the same (breaks become spaces).
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let bytes = text.into_bytes();
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(u8::try_from(separator).unwrap_or(b','))
        .from_reader(std::io::Cursor::new(bytes.clone()));
    let mut record = ::csv::StringRecord::new();
    // Line breaks inside quoted fields of earlier records: they are not rows.
    let mut breaks_before = 0usize;
    std::iter::from_fn(move || {
        // The text is valid UTF-8 and the separators ASCII, so reading cannot fail; stop if it
        // ever does rather than loop.
        if !reader.read_record(&mut record).unwrap_or(false) {
            return None;
        }
        // The reader skips blank lines before a record without counting them into the
        // record's own position, so the row is found from where the record ends: the reader
        // now stands after its line break (if it has one).
        let after = reader.position();
        let ended_by_break = usize::try_from(after.byte())
            .ok()
            .and_then(|end| end.checked_sub(1))
            .and_then(|last| bytes.get(last))
            == Some(&b'\n');
        let last_line = (after.line() as usize).saturating_sub(usize::from(ended_by_break));
        let breaks_inside: usize = record.iter().map(|f| f.matches('\n').count()).sum();
        let first_line = last_line.saturating_sub(breaks_inside);
        let row = first_line.saturating_sub(breaks_before).max(1);
        breaks_before += breaks_inside;
        let fields: Vec<String> = record.iter().take(MAX_COLUMNS).map(str::to_owned).collect();
        Some((row, fields))
    })
}

/// Non-blank rows of a CSV text with one separator.
fn rows(text: &str, separator: char) -> impl Iterator<Item = RawRow> + '_ {
    records(text, separator)
        .filter(|(_, cells)| !cells.iter().all(|c| is_blank(c)))
        .map(|(line, cells)| RawRow { line, cells })
}

/// Picks the separator under which the first rows contain the best header, then reads every
/// row with it. With no header under any separator, the one that splits the first rows most
/// is used, so the "column not found" error lists sensible columns.
pub(super) fn read(text: &str) -> Result<(char, Vec<RawRow>), ImportError> {
    const SEPARATORS: [char; 3] = [',', ';', '\t'];
    let mut best: Option<(usize, char)> = None;
    let mut widest: Option<(usize, char)> = None;
    for sep in SEPARATORS {
        let head: Vec<RawRow> = rows(text, sep).take(HEADER_SEARCH_ROWS).collect();
        if let Some(score) = header_score(&head) {
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, sep));
            }
        }
        let width = head.iter().map(|r| r.cells.len()).max().unwrap_or(0);
        if widest.is_none_or(|(w, _)| width > w) {
            widest = Some((width, sep));
        }
    }
    let separator = best.or(widest).map_or(',', |(_, sep)| sep);
    let mut out = Vec::new();
    for row in rows(text, separator) {
        if out.len() >= MAX_RAW_ROWS {
            return Err(ImportError::TooManyRows {
                max: super::MAX_ROWS,
            });
        }
        out.push(row);
    }
    Ok((separator, out))
}
