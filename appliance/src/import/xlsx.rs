//! XLSX workbooks, read with `calamine` after a look inside the ZIP: the archive must be an
//! Excel workbook (not a Word file or an OpenDocument sheet renamed), must unpack to a sane
//! size, and must not claim a forged number of shared strings (calamine reserves memory for
//! it). Merged cells are filled in, and the first sheet with a header wins.

use super::{FileKind, ImportError, MAX_RAW_ROWS};
use crate::domain::import::{header_score, is_blank, RawRow, MAX_COLUMNS, MAX_ROWS};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{Cursor, Read};

/// An XLSX is a ZIP; a 5 MB ZIP can unpack to gigabytes. Real lists of 5,000 people unpack to
/// a few MB.
pub(super) const MAX_UNZIPPED_BYTES: u64 = 48 * 1024 * 1024;
/// calamine reserves memory for the number of shared strings the file claims; a forged count
/// would abort the process, so we check it first.
const MAX_SHARED_STRINGS: u64 = 1_000_000;
/// Cells filled in from merged regions, in total, so a merge over a whole sheet stays cheap.
const MAX_MERGE_FILL: usize = 200_000;

pub(super) enum Failure {
    /// A ZIP, but not an Excel workbook.
    NotWorkbook(FileKind),
    Import(ImportError),
}

impl From<ImportError> for Failure {
    fn from(e: ImportError) -> Self {
        Failure::Import(e)
    }
}

fn damaged(e: impl fmt::Display) -> ImportError {
    ImportError::Damaged {
        detail: e.to_string(),
    }
}

pub(super) fn read(bytes: &[u8]) -> Result<(String, Vec<RawRow>), Failure> {
    // calamine is careful, but it is a large parser fed hostile bytes; a panic in it must
    // become "damaged file", not a failed request with no answer.
    std::panic::catch_unwind(|| {
        inspect_zip(bytes)?;
        read_workbook(bytes).map_err(Failure::Import)
    })
    .unwrap_or_else(|_| {
        Err(Failure::Import(damaged(
            "the spreadsheet reader gave up on this file",
        )))
    })
}

/// Checks, before calamine sees the file, that the ZIP is an Excel workbook and that it
/// unpacks to a sane size (every entry is inflated up to the budget, so lying size fields do
/// not help a zip bomb), and that no shared-strings count is forged.
fn inspect_zip(bytes: &[u8]) -> Result<(), Failure> {
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
        Err(Failure::NotWorkbook(FileKind::ExcelBinary))
    } else if has("mimetype") && has("content.xml") {
        Err(Failure::NotWorkbook(FileKind::OpenDocument))
    } else if has_prefix("word/") {
        Err(Failure::NotWorkbook(FileKind::WordDocument))
    } else if has_prefix("ppt/") {
        Err(Failure::NotWorkbook(FileKind::Presentation))
    } else {
        Err(Failure::NotWorkbook(FileKind::Zip))
    }
}

/// calamine calls `Vec::reserve(uniqueCount)`; a forged count of billions makes the allocator
/// abort the whole server. Any `uniqueCount` that is not a plain, plausible number is refused.
pub(super) fn check_shared_string_counts(xml: &[u8]) -> Result<(), ImportError> {
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
        if header_score(&rows).is_some() {
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
