//! The adapter's tests: bytes in, checked rows out, through every format and encoding.

use super::xlsx::{check_shared_string_counts, MAX_UNZIPPED_BYTES};
use super::*;
use crate::domain::import::MAX_COLUMNS;
use crate::domain::person::{PersonError, PersonKind, PersonName};
use crate::domain::vietnamese::detach_tones;
use std::io::{Cursor, Read};

const UBND_CSV: &str = include_str!("../../../tests/fixtures/thanh-vien-ubnd.csv");
const XLSX_30: &[u8] = include_bytes!("../../../tests/fixtures/thanh-vien-30.xlsx");

fn csv(text: &str) -> Result<ImportPreview, ImportError> {
    preview(text.as_bytes(), "ds.csv", Some("text/csv"))
}

fn valid(p: &ImportPreview) -> Vec<&PersonDraft> {
    p.sheet
        .rows
        .iter()
        .filter_map(|r| r.person.as_ref().ok())
        .collect()
}

fn errors_of(p: &ImportPreview, line: usize) -> &[RowError] {
    p.sheet
        .rows
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
    assert_eq!(p.sheet.header_row, 1);
    assert_eq!(p.sheet.errors_count, 0);
    assert_eq!(p.sheet.rows.len(), 7);
    let first = &valid(&p)[0];
    assert_eq!(first.name.as_str(), "Lò Văn Thành");
    assert_eq!(
        first.position.as_ref().unwrap().as_str(),
        "Chủ tịch UBND xã"
    );
    assert_eq!(first.unit.as_ref().unwrap().as_str(), "UBND xã Mường Báng");
    assert_eq!(first.phone.as_ref().unwrap().as_str(), "0912000001");
    assert_eq!(first.kind, PersonKind::Member);
    assert_eq!(p.sheet.rows[6].line, 8);
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
    assert_eq!(p.sheet.header_row, 5);
    assert_eq!(p.sheet.errors_count, 0);
    let lines: Vec<usize> = p.sheet.rows.iter().map(|r| r.line).collect();
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
    assert_eq!(p.sheet.errors_count, 0);
    let v = valid(&p);
    assert_eq!(v[0].name.as_str(), "Nguyễn Văn \"Tí\" An");
    assert_eq!(
        v[0].notes.as_ref().unwrap().as_str(),
        "dòng 1 dòng 2, vẫn ô đó"
    );
    assert_eq!(v[0].position.as_ref().unwrap().as_str(), "Ủy viên");
    // Rows are counted as records, as Excel numbers them.
    assert_eq!(p.sheet.rows[1].line, 3);
}

#[test]
fn csv_reader_edge_cases() {
    let recs =
        |t: &str| -> Vec<Vec<String>> { super::csv::records(t, ',').map(|(_, f)| f).collect() };
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
    // Rows copied cell for cell say so; the same person written differently is a duplicate.
    assert_eq!(errors_of(&p, 6), [RowError::Repeated { first_line: 5 }]);
    assert_eq!(errors_of(&p, 7), []);
    assert_eq!(errors_of(&p, 8), [RowError::Repeated { first_line: 2 }]);
    assert_eq!(p.sheet.errors_count, 3);
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
    assert_eq!(p.sheet.errors_count, 4);
}

#[test]
fn missing_name_column_lists_what_was_found() {
    let err = csv("DANH SÁCH\nĐại biểu,Chức vụ,Đơn vị\nA,B,C\n").unwrap_err();
    assert_eq!(
        err,
        ImportError::MissingColumn {
            found: vec!["Đại biểu".into(), "Chức vụ".into(), "Đơn vị".into()],
            encoding_likely: false,
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
    assert_eq!(p.sheet.ignored_columns, ["Ngày sinh"]);
    // "Tên" alone is the full name.
    let p = csv("Tên,Đơn vị\nNguyễn Thị Lan,UBND\n").unwrap();
    assert_eq!(valid(&p)[0].name.as_str(), "Nguyễn Thị Lan");
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
    assert_eq!(csv(&text).unwrap().sheet.rows.len(), MAX_ROWS);
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
    assert_eq!(p.sheet.header_row, 4);
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
    assert_eq!(p.sheet.rows[0].line, 5);
    assert!(p.sheet.ignored_columns.is_empty());
}

#[test]
fn xlsx_fixture_file_reads_30_people() {
    let p = preview(XLSX_30, "thanh-vien-30.xlsx", None).unwrap();
    check_30(&p);
    assert_eq!(p.sheet.errors_count, 0);
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
    assert_eq!(p.sheet.rows.len(), 32);
    assert_eq!(p.sheet.errors_count, 2);
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
    assert_eq!(p.sheet.header_row, 2);
    let v = valid(&p);
    assert_eq!(v.len(), 2);
    assert_eq!(v[1].unit.as_ref().unwrap().as_str(), "UBND xã Mường Báng");
    assert_eq!(p.sheet.ignored_columns, ["Email"]);
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

// --- Lost letters across encodings --------------------------------------------------------

const GARBLED_CSV: &str = include_str!("../../../tests/fixtures/thanh-vien-mat-dau.csv");

fn utf16le(text: &str) -> Vec<u8> {
    let mut bytes = b"\xFF\xFE".to_vec();
    for unit in text.encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    bytes
}

#[test]
fn a_list_whose_letters_were_lost_to_question_marks_has_no_valid_row() {
    // The same damaged text as UTF-8, as UTF-16 ("Unicode text" from Excel) and as the
    // single-byte code page the damage came from.
    let (cp1252, _, unmappable) = encoding_rs::WINDOWS_1252.encode(GARBLED_CSV);
    assert!(!unmappable);
    for (label, bytes) in [
        ("utf-8", GARBLED_CSV.as_bytes().to_vec()),
        ("utf-16", utf16le(GARBLED_CSV)),
        ("code page", cp1252.into_owned()),
    ] {
        let p = preview(&bytes, "ds.csv", None).unwrap();
        assert_eq!(p.sheet.rows.len(), 30, "{label}");
        assert_eq!(p.sheet.errors_count, 30, "{label}: not one row is valid");
        assert_eq!(p.sheet.damage, Some(LetterDamage::Lost), "{label}");
        let first = &p.sheet.rows[0];
        assert_eq!(first.cells.name, "Nguy?n V?n Hùng", "{label}");
        assert_eq!(
            first.person.as_ref().unwrap_err()[0],
            RowError::DamagedLetters {
                field: "name",
                damage: LetterDamage::Lost
            },
            "{label}"
        );
    }
}

#[test]
fn an_excel_list_with_lost_letters_is_flagged_too() {
    let bytes = build_xlsx(&[["V? Quang Uyên", "Ch? t?ch UBND x?", "", "", ""]]);
    let p = preview(&bytes, "ds.xlsx", None).unwrap();
    assert_eq!(p.sheet.damage, Some(LetterDamage::Lost));
    assert_eq!(p.sheet.errors_count, 1);
    let row = p.sheet.rows.last().unwrap();
    assert_eq!(row.cells.name, "V? Quang Uyên");
    assert!(row.person.is_err());
}

#[test]
fn a_header_lost_to_question_marks_blames_the_encoding() {
    let text = "H? và tên,Ch?c v?\nV? Quang Uyên,Ch? t?ch UBND x?\n";
    for bytes in [text.as_bytes().to_vec(), utf16le(text)] {
        match preview(&bytes, "ds.csv", None) {
            Err(ImportError::MissingColumn {
                found,
                encoding_likely,
            }) => {
                assert_eq!(found, ["H? và tên", "Ch?c v?"]);
                assert!(encoding_likely);
            }
            other => panic!("{other:?}"),
        }
    }
    // A TCVN3 (ABC font) file read as Windows-1258: "Họ và tên" shows as "Hä vµ tªn".
    let tcvn3 = b"H\xe4 v\xb5 t\xaan,Ch\xf8c v\xf4\nL\xf2 V\xa8n Th\xb5nh,\xa6y vi\xaan\n";
    assert!(matches!(
        preview(tcvn3, "ds.csv", None),
        Err(ImportError::MissingColumn {
            encoding_likely: true,
            ..
        })
    ));
    // Good letters and no name column: not the encoding.
    assert!(matches!(
        csv("Đại biểu,Chức vụ\nA,B\n"),
        Err(ImportError::MissingColumn {
            encoding_likely: false,
            ..
        })
    ));
}

#[test]
fn intact_lists_in_every_encoding_show_no_damage() {
    let text =
        "Họ và tên,Chức vụ,Ghi chú\nLê Thanh Hòa,Ủy viên,Có đi không?\nĐặng Văn Ơn,Phó Chủ tịch,\n";
    let legacy = detach_tones(text);
    let (cp1258, _, unmappable) = encoding_rs::WINDOWS_1258.encode(&legacy);
    assert!(!unmappable);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    for bytes in [
        text.as_bytes().to_vec(),
        bom,
        utf16le(text),
        cp1258.into_owned(),
    ] {
        let p = preview(&bytes, "ds.csv", None).unwrap();
        assert_eq!(p.sheet.damage, None, "{:?}", p.format);
        assert_eq!(p.sheet.errors_count, 0, "{:?}", p.format);
        assert_eq!(valid(&p)[0].name.as_str(), "Lê Thanh Hòa");
    }
}

#[test]
fn utf8_misread_once_and_saved_again_is_flagged() {
    let text = "Họ và tên,Chức vụ\nNguyễn Văn An,Ủy viên\n";
    let misread: String = text
        .bytes()
        .map(|b| {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(&[b])
                .0
                .into_owned()
        })
        .collect();
    let p = preview(misread.as_bytes(), "ds.csv", None);
    // The header itself is misread, so the file is refused with the encoding as the cause.
    assert!(
        matches!(
            p,
            Err(ImportError::MissingColumn {
                encoding_likely: true,
                ..
            })
        ),
        "{p:?}"
    );
    let body = "Ho va ten,Chuc vu\nNguyá»…n VÄƒn An,á»¦y viÃªn\n";
    let p = csv(body).unwrap();
    assert_eq!(p.sheet.damage, Some(LetterDamage::Misread));
    assert_eq!(p.sheet.errors_count, 1);
}
