//! The one place where errors become HTTP responses. Every error body is
//! `{"code": "...", "message": "<Vietnamese>", "message_en": "<English>"}`; the web app shows
//! its own text for the code and falls back to the message. Internal detail goes to the log.

use crate::domain::device::DeviceError;
use crate::domain::person::{PersonError, PhoneProblem};
use crate::domain::records::LayoutError;
use crate::domain::TextError;
use crate::import::{FileKind, LetterDamage};
use crate::service::{Refusal, ServiceError};
use crate::store::{BlobError, StoreError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug)]
pub enum ApiError {
    Invalid(TextError),
    BadJson(String),
    Unauthenticated,
    Forbidden,
    BadCredentials,
    LockedOut(std::time::Duration),
    BadOrigin,
    NotFound,
    Conflict(String),
    DiskFull,
    Unavailable,
    /// A stored document's bytes no longer match its hash: it is not served.
    BlobDamaged,
    Refused(Refusal),
    Internal(String),
    /// Too many password checks at once.
    Busy,
    /// Annotated copies are being made for others (each holds the whole PDF in memory).
    ExportBusy,
    /// A JSON body over the limit.
    TooLarge(usize),
    /// An HTTPS request for a host name that is not the box's.
    UnknownHost,
}

/// When a client turned away by [`ApiError::ExportBusy`] may try again.
const EXPORT_RETRY: std::time::Duration = std::time::Duration::from_secs(10);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(t) => ApiError::Invalid(t),
            ServiceError::Unauthenticated => ApiError::Unauthenticated,
            ServiceError::Forbidden => ApiError::Forbidden,
            ServiceError::BadCredentials => ApiError::BadCredentials,
            ServiceError::LockedOut(d) => ApiError::LockedOut(d),
            ServiceError::Conflict(m) => ApiError::Conflict(m),
            ServiceError::Refused(r) => ApiError::Refused(r),
            ServiceError::NotFound => ApiError::NotFound,
            ServiceError::Store(s) => s.into(),
            ServiceError::Internal(m) => ApiError::Internal(m),
            ServiceError::Busy => ApiError::Busy,
        }
    }
}

/// What the hub answers to any change of a meeting it handed to a room.
pub const HANDED_OVER_VI: &str = "Cuộc họp đã giao cho phòng họp; mọi thay đổi làm tại phòng họp.";

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DiskFull => ApiError::DiskFull,
            StoreError::MeetingHandedOver => ApiError::Refused(Refusal::HandedOver),
            StoreError::Unavailable => ApiError::Unavailable,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<BlobError> for ApiError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::Store(s) => s.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

fn field_vi(field: &str) -> &'static str {
    match field {
        "name" => "Tên",
        "text" => "Nội dung",
        "username" => "Tên đăng nhập",
        "password" => "Mật khẩu",
        "display_name" => "Họ tên",
        _ => "Giá trị",
    }
}

/// The field name in Vietnamese, for messages about people.
fn person_field_vi(field: &str) -> &'static str {
    match field {
        "name" => "Họ và tên",
        "position" => "Chức vụ",
        "unit" => "Đơn vị",
        "phone" => "Số điện thoại",
        "notes" => "Ghi chú",
        "role" => "Vai trò",
        _ => "Giá trị",
    }
}

/// Why a phone number was refused, in Vietnamese, as `PhoneProblem`'s Display says in English.
fn phone_problem_vi(problem: PhoneProblem) -> String {
    match problem {
        PhoneProblem::InvalidChars => "chỉ được có chữ số, dấu cách, dấu chấm, gạch ngang, dấu ngoặc và +84 ở đầu (mỗi ô một số)".into(),
        PhoneProblem::Foreign => "đây không phải số của Việt Nam".into(),
        PhoneProblem::UnknownPrefix => "đầu số không đúng (số di động bắt đầu bằng 03, 05, 07, 08, 09; số cố định bằng 02; số di động 11 chữ số 01x đã đổi sang 10 chữ số từ năm 2018)".into(),
        PhoneProblem::WrongLength { digits } => format!("có {digits} chữ số, trong khi số di động có 10 chữ số, số cố định có 10 hoặc 11"),
    }
}

/// The kind of document an upload claims to be, in Vietnamese, for messages written in
/// Vietnamese (`UploadError::Disguised` names it in English).
fn file_type_vi(what: &str) -> &str {
    match what {
        "Word document" => "văn bản Word (.docx)",
        "Excel workbook" => "bảng tính Excel (.xlsx)",
        "PowerPoint presentation" => "bản trình chiếu PowerPoint (.pptx)",
        "PNG image" => "ảnh PNG",
        "JPEG image" => "ảnh JPEG",
        other => other,
    }
}

/// How to save a file that is not a CSV or XLSX so that it can be imported.
fn unsupported_file(kind: FileKind) -> (String, String) {
    const SAVE_VI: &str = "Hãy mở tệp, chọn Tệp → Lưu thành, chọn kiểu “Sổ làm việc Excel (*.xlsx)” rồi chọn lại tệp mới.";
    const SAVE_EN: &str = "Open the file, choose File → Save As, pick “Excel Workbook (*.xlsx)” and choose the new file.";
    const LIST_VI: &str = "Hãy chọn tệp Excel (.xlsx) hoặc CSV có danh sách người.";
    const LIST_EN: &str = "Choose the Excel (.xlsx) or CSV file that holds the list of people.";
    let (what_vi, what_en, fix_vi, fix_en) = match kind {
        FileKind::OldOffice => (
            "Đây là tệp Excel 97-2003 (.xls), loại cũ mà phòng họp không đọc, hoặc một tệp Office có đặt mật khẩu.",
            "This is an Excel 97-2003 file (.xls), an old kind the box does not read, or a password-protected Office file.",
            "Hãy mở tệp trong Excel, chọn Tệp → Lưu thành, chọn kiểu “Sổ làm việc Excel (*.xlsx)” rồi chọn lại tệp .xlsx mới. Nếu tệp có mật khẩu, hãy gỡ mật khẩu trước.",
            "Open it in Excel, choose File → Save As, pick “Excel Workbook (*.xlsx)” and choose the new .xlsx file. If it has a password, remove the password first.",
        ),
        FileKind::ExcelBinary => ("Đây là sổ làm việc nhị phân của Excel (.xlsb).", "This is an Excel binary workbook (.xlsb).", SAVE_VI, SAVE_EN),
        FileKind::OpenDocument => (
            "Đây là tệp LibreOffice/OpenDocument (.ods).",
            "This is a LibreOffice/OpenDocument file (.ods).",
            "Hãy mở tệp trong LibreOffice, chọn Tệp → Lưu thành, chọn kiểu “Excel 2007-365 (.xlsx)” rồi chọn lại tệp mới.",
            "Open it in LibreOffice, choose File → Save As, pick “Excel 2007-365 (.xlsx)” and choose the new file.",
        ),
        FileKind::Html => (
            "Tệp này thực ra là một trang web (HTML), dù có thể mang đuôi .xls.",
            "This file is really a web page (HTML), even if its name ends in .xls.",
            SAVE_VI,
            SAVE_EN,
        ),
        FileKind::Xml => ("Tệp này là bảng tính dạng XML.", "This file is an XML spreadsheet.", SAVE_VI, SAVE_EN),
        FileKind::Pdf => ("Đây là tệp PDF, không phải bảng tính.", "This is a PDF, not a spreadsheet.", LIST_VI, LIST_EN),
        FileKind::Image => ("Đây là một ảnh, không phải bảng tính.", "This is a picture, not a spreadsheet.", LIST_VI, LIST_EN),
        FileKind::WordDocument => (
            "Đây là văn bản Word (.docx), không phải bảng tính.",
            "This is a Word document (.docx), not a spreadsheet.",
            "Hãy chép bảng danh sách sang Excel, lưu thành tệp .xlsx rồi chọn tệp đó.",
            "Copy the table of people into Excel, save it as .xlsx and choose that file.",
        ),
        FileKind::Presentation => ("Đây là bản trình chiếu PowerPoint (.pptx), không phải bảng tính.", "This is a PowerPoint presentation (.pptx), not a spreadsheet.", LIST_VI, LIST_EN),
        FileKind::Rtf => ("Đây là văn bản RTF, không phải bảng tính.", "This is an RTF document, not a spreadsheet.", LIST_VI, LIST_EN),
        FileKind::Zip | FileKind::Archive => (
            "Đây là tệp nén.",
            "This is a compressed archive.",
            "Hãy giải nén rồi chọn tệp Excel (.xlsx) hoặc CSV bên trong.",
            "Extract it and choose the Excel (.xlsx) or CSV file inside.",
        ),
        FileKind::Binary => ("Tệp này không phải văn bản hay bảng tính.", "This file is neither text nor a spreadsheet.", LIST_VI, LIST_EN),
    };
    (format!("{what_vi} {fix_vi}"), format!("{what_en} {fix_en}"))
}

/// How to export a list again with its Vietnamese letters: the one fix for lost letters.
const EXPORT_AGAIN_VI: &str = "Hãy mở tệp gốc (bản còn đủ dấu) và lưu lại thành Excel (.xlsx), hoặc thành CSV UTF-8 (trong Excel: Tệp → Lưu thành → “CSV UTF-8 (phân cách bằng dấu phẩy)”), rồi chọn lại tệp.";
const EXPORT_AGAIN_EN: &str = "Open the original (the copy that still has its accents) and save it as Excel (.xlsx), or as CSV UTF-8 (in Excel: File → Save As → “CSV UTF-8 (Comma delimited)”), then choose it again.";

fn no_name_column(found: &[String], encoding_likely: bool) -> (String, String) {
    let list = if found.is_empty() {
        ("(không có)".to_owned(), "(none)".to_owned())
    } else {
        let quoted: Vec<String> = found.iter().map(|c| format!("“{c}”")).collect();
        (quoted.join(", "), quoted.join(", "))
    };
    if encoding_likely {
        (
            format!("Không tìm thấy cột “Họ và tên”. Các cột đọc được: {}. Nguyên nhân có lẽ là bảng mã: tệp đã mất dấu tiếng Việt (chữ bị thay bằng “?” hoặc ký tự lạ). {EXPORT_AGAIN_VI}", list.0),
            format!("No “Họ và tên” (full name) column was found. Columns read: {}. The encoding is the likely cause: the file has lost its Vietnamese letters (replaced by “?” or odd characters). {EXPORT_AGAIN_EN}", list.1),
        )
    } else {
        (
            format!("Không tìm thấy cột “Họ và tên”. Các cột đọc được: {}. Chữ tiếng Việt trong tệp vẫn đọc đúng, nên không phải do bảng mã: hãy đặt tên cột chứa họ tên là “Họ và tên”, trong 10 dòng đầu của bảng.", list.0),
            format!("No “Họ và tên” (full name) column was found. Columns read: {}. The Vietnamese letters read correctly, so the encoding is not the cause: name the column that holds the names “Họ và tên”, within the first 10 rows.", list.1),
        )
    }
}

/// The file-wide notice for damaged letters, and the reason on each damaged cell.
pub fn letter_damage(damage: LetterDamage) -> (&'static str, String, String) {
    match damage {
        LetterDamage::Lost => (
            "import.lost_letters",
            format!("Tệp này đã mất dấu tiếng Việt: các chữ có dấu đã bị thay bằng “?” (ví dụ “V? Quang Uyên”) khi tệp được lưu bằng một bảng mã cũ, và không thể khôi phục từ tệp này. {EXPORT_AGAIN_VI}"),
            format!("This file has lost its Vietnamese letters: accented letters were replaced by “?” (e.g. “V? Quang Uyên”) when it was saved in an old encoding, and cannot be recovered from this file. {EXPORT_AGAIN_EN}"),
        ),
        LetterDamage::Misread => (
            "import.misread_letters",
            format!("Chữ tiếng Việt trong tệp này đã bị đọc sai bảng mã rồi lưu lại (ví dụ “Nguyá»…n” thay cho “Nguyễn”). {EXPORT_AGAIN_VI}"),
            format!("The Vietnamese letters in this file were once read in the wrong encoding and saved that way (e.g. “Nguyá»…n” for “Nguyễn”). {EXPORT_AGAIN_EN}"),
        ),
    }
}

/// Status, code and both messages for a person's invalid field.
pub fn person_error(e: &PersonError) -> (&'static str, String, String) {
    let f = e.field();
    let fv = person_field_vi(f);
    match e {
        PersonError::Empty { .. } => (
            "input.empty",
            format!("{fv} không được để trống."),
            format!("The {f} must not be empty."),
        ),
        PersonError::TooLong { max, .. } => (
            "input.too_long",
            format!("{fv} dài quá {max} ký tự."),
            format!("The {f} is longer than {max} characters."),
        ),
        PersonError::ControlChar { .. } => (
            "input.control_char",
            format!("{fv} chứa ký tự không hợp lệ."),
            format!("The {f} contains a control character."),
        ),
        PersonError::NoLetter { .. } => (
            "input.no_letter",
            format!("{fv} phải có chữ cái."),
            format!("The {f} must contain a letter."),
        ),
        PersonError::BadPhone { problem, .. } => (
            "input.bad_phone",
            format!(
                "{fv} không phải số điện thoại Việt Nam hợp lệ: {}.",
                phone_problem_vi(*problem)
            ),
            format!("The {f} is not a valid Vietnamese phone number: {problem}."),
        ),
        PersonError::UnknownKind { value, .. } => (
            "input.bad_role",
            format!("Vai trò \"{value}\" không rõ: ghi \"Thành viên\" hoặc \"Khách mời\"."),
            format!("Unknown role {value:?}: use member or guest."),
        ),
    }
}

fn refusal(r: &Refusal) -> (StatusCode, &'static str, String, String) {
    use StatusCode as S;
    match r {
        Refusal::PersonInvalid(e) => {
            let (code, vi, en) = person_error(e);
            (S::UNPROCESSABLE_ENTITY, code, vi, en)
        }
        Refusal::PersonDuplicate => (S::CONFLICT, "person.duplicate", "Người này đã có trong danh sách (trùng họ tên và số điện thoại).".into(), "This person is already on the list (same name and phone).".into()),
        Refusal::ImportUnsupported(kind) => {
            let (vi, en) = unsupported_file(*kind);
            (S::UNSUPPORTED_MEDIA_TYPE, "import.unsupported_format", vi, en)
        }
        Refusal::ImportDamaged => (S::UNPROCESSABLE_ENTITY, "import.damaged", "Không đọc được tệp Excel này; có thể tệp bị hỏng. Hãy mở tệp trong Excel, lưu lại thành “Sổ làm việc Excel (*.xlsx)” rồi chọn lại.".into(), "This Excel file could not be read; it may be damaged. Open it in Excel, save it again as “Excel Workbook (*.xlsx)” and choose it again.".into()),
        Refusal::ImportNoNameColumn { found, encoding_likely } => {
            let (vi, en) = no_name_column(found, *encoding_likely);
            (S::UNPROCESSABLE_ENTITY, "import.no_name_column", vi, en)
        }
        Refusal::ImportTooLarge => (S::PAYLOAD_TOO_LARGE, "import.too_large", "Tệp quá lớn (tối đa 5 MB, 5.000 dòng).".into(), "The file is too large (at most 5 MB, 5,000 rows).".into()),
        Refusal::ImportEmpty => (S::UNPROCESSABLE_ENTITY, "import.empty", "Tệp không có dòng nào để nhập.".into(), "The file has no rows to import.".into()),
        Refusal::ImportHasErrors { invalid } => (S::UNPROCESSABLE_ENTITY, "import.has_errors", format!("Còn {invalid} dòng lỗi. Sửa tệp, hoặc chọn bỏ qua các dòng lỗi. Chưa nhập ai."), format!("{invalid} rows have errors. Fix the file or choose to skip them. Nobody was imported.")),
        Refusal::ImportPreviewExpired => (S::GONE, "import.preview_expired", "Bản xem trước đã hết hạn. Vui lòng chọn lại tệp.".into(), "The preview has expired. Choose the file again.".into()),
        Refusal::PairCodeInvalid => (S::BAD_REQUEST, "pair.code_invalid", "Mã ghép nối không đúng, đã hết hạn hoặc đã được dùng. Xin thư ký cấp mã mới.".into(), "The pairing code is wrong, expired or already used. Ask the secretary for a new one.".into()),
        Refusal::PairPinWrong => (S::UNAUTHORIZED, "pair.pin_wrong", "Mã PIN không đúng.".into(), "Wrong PIN.".into()),
        Refusal::PairLockedOut(wait) => {
            let mins = wait.as_secs().div_ceil(60).max(1);
            (S::TOO_MANY_REQUESTS, "pair.locked_out", format!("Nhập sai quá nhiều lần. Vui lòng thử lại sau {mins} phút hoặc gặp thư ký."), format!("Too many failed attempts. Try again in {mins} minutes or see the secretary."))
        }
        Refusal::Device(e) => match e {
            DeviceError::BadCode => (S::BAD_REQUEST, "pair.code_invalid", "Mã ghép nối gồm 6 chữ số.".into(), "The pairing code has 6 digits.".into()),
            DeviceError::BadPin => (S::UNPROCESSABLE_ENTITY, "input.bad_pin", "Mã PIN gồm 4 đến 8 chữ số.".into(), "The PIN has 4 to 8 digits.".into()),
            DeviceError::WeakPin => (S::UNPROCESSABLE_ENTITY, "input.weak_pin", "Mã PIN quá dễ đoán (như 1111 hoặc 1234). Hãy chọn mã khác.".into(), "The PIN is too easy to guess (like 1111 or 1234). Choose another.".into()),
            DeviceError::BadKey => (S::UNPROCESSABLE_ENTITY, "pair.key_invalid", "Trình duyệt gửi khóa không hợp lệ. Hãy dùng Safari, Chrome hoặc Edge mới.".into(), "The browser sent an invalid key. Use a recent Safari, Chrome or Edge.".into()),
            DeviceError::BadSignature => (S::UNPROCESSABLE_ENTITY, "pair.signature_invalid", "Chữ ký của máy không hợp lệ. Hãy thử lại.".into(), "The device's signature is invalid. Try again.".into()),
        },
        Refusal::DeviceRevoked => (S::UNAUTHORIZED, "device.revoked", "Máy này đã bị thu hồi. Vui lòng liên hệ thư ký.".into(), "This device has been revoked. Please see the secretary.".into()),
        Refusal::DisplayRevoked => (S::UNAUTHORIZED, "display.revoked", "Màn hình này đã bị thu hồi. Vui lòng liên hệ thư ký để ghép nối lại.".into(), "This screen has been revoked. Please ask the secretary to pair it again.".into()),
        Refusal::AttendanceDeviceOnly => (S::FORBIDDEN, "attendance.device_only", "Đại biểu tự điểm danh trên máy tính bảng của mình.".into(), "Delegates check in on their own paired tablet.".into()),
        Refusal::AttendanceAlreadyPresent => (S::CONFLICT, "attendance.already_present", "Bạn đã điểm danh có mặt, không thể báo vắng.".into(), "You have already checked in; you cannot send a leave of absence.".into()),
        Refusal::LayoutInvalid(e) => {
            let vi = match e {
                LayoutError::TooManySeats(n) => format!("Phòng họp có tối đa {n} chỗ ngồi."),
                LayoutError::BadSeatId(id) => format!("Mã chỗ ngồi \"{id}\" không hợp lệ."),
                LayoutError::DuplicateSeat(id) => format!("Mã chỗ ngồi \"{id}\" bị trùng."),
                LayoutError::BadLabel(id) => format!("Tên chỗ ngồi {id} trống hoặc quá dài."),
                LayoutError::OutOfRoom(id) => format!("Chỗ ngồi {id} nằm ngoài phòng."),
            };
            (S::UNPROCESSABLE_ENTITY, "seating.invalid", vi, e.to_string())
        }
        Refusal::SeatInUse(seat) => (S::CONFLICT, "seating.seat_in_use", format!("Chỗ ngồi {seat} đang được xếp cho một cuộc họp, không thể xóa."), format!("Seat {seat} is assigned in a meeting and cannot be removed.")),
        Refusal::WrongStatus(st) => {
            use crate::domain::records::MeetingStatus as M;
            let vi = match st {
                M::Draft => "Cuộc họp đang ở dạng dự thảo.",
                M::Submitted => "Cuộc họp đang chờ chủ trì duyệt; chưa thể làm việc này.",
                M::Approved => "Cuộc họp đã được duyệt, đang chờ phát hành; chưa thể làm việc này.",
                M::Published => "Cuộc họp đã phát hành; không thể làm việc này.",
            };
            (S::CONFLICT, "meeting.wrong_status", vi.into(), format!("The meeting is {st:?}; this step is not possible now."))
        }
        Refusal::AgendaStale => (S::CONFLICT, "agenda.stale", "Chương trình họp vừa được người khác thay đổi. Đã tải lại; hãy sắp xếp lại.".into(), "The agenda was changed by someone else. Reload and reorder again.".into()),
        Refusal::Upload(e) => {
            use crate::domain::document::UploadError as U;
            match e {
                U::BadName => (S::UNPROCESSABLE_ENTITY, "document.bad_name", "Tên tệp không hợp lệ (trống, quá dài, hoặc có ký tự đặc biệt như / \\).".into(), e.to_string()),
                U::UnsupportedType(t) => (S::UNSUPPORTED_MEDIA_TYPE, "document.unsupported_type", format!("Không nhận loại tệp \"{t}\". Nhận PDF, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), ảnh PNG hoặc JPEG."), e.to_string()),
                U::Disguised(what) => (S::UNSUPPORTED_MEDIA_TYPE, if *what == "PDF" { "document.not_pdf" } else { "document.disguised" }, format!("Nội dung tệp không phải {} như tên tệp cho biết.", file_type_vi(what)), e.to_string()),
            }
        }
        Refusal::DocumentDuplicateTitle => (S::CONFLICT, "document.duplicate_title", "Mục này đã có tài liệu cùng tên.".into(), "This agenda item already has a document with that title.".into()),
        Refusal::DocumentTooLarge(limit) => (S::PAYLOAD_TOO_LARGE, "document.too_large", format!("Tệp lớn quá giới hạn {} MB.", limit / 1024 / 1024), format!("The file is larger than the limit of {} MB.", limit / 1024 / 1024)),
        Refusal::DocumentEmpty => (S::UNPROCESSABLE_ENTITY, "document.empty", "Tệp rỗng (0 byte).".into(), "The file is empty.".into()),
        Refusal::AccountDisabled => (S::FORBIDDEN, "account.disabled", "Tài khoản này đã bị khóa. Hãy liên hệ cán bộ CNTT.".into(), "This account has been disabled. Contact IT staff.".into()),
        Refusal::AccountWrongPassword => (S::FORBIDDEN, "account.wrong_password", "Mật khẩu hiện tại không đúng. Mật khẩu chưa được đổi.".into(), "The current password is wrong. The password was not changed.".into()),
        Refusal::AccountSamePassword => (S::UNPROCESSABLE_ENTITY, "account.same_password", "Mật khẩu mới phải khác mật khẩu hiện tại.".into(), "The new password must differ from the current one.".into()),
        Refusal::AccountSelf => (S::CONFLICT, "account.self", "Không thể làm việc này với chính tài khoản của bạn. Để đổi mật khẩu của mình, dùng “Đổi mật khẩu”.".into(), "You cannot do this to your own account. To change your own password, use “Change password”.".into()),
        Refusal::AccountTaken(u) => (S::CONFLICT, "account.taken", format!("Tên đăng nhập “{u}” đã có người dùng. Hãy chọn tên khác."), format!("The user name “{u}” is taken. Choose another.")),
        Refusal::Live(e) => live_refusal(*e),
        Refusal::Vote(e) => vote_refusal(*e),
        Refusal::Annotation(e) => annotation_refusal(*e),
        Refusal::Hub(e) => hub_refusal(e),
        Refusal::HandedOver => (S::CONFLICT, "meeting.handed_over", HANDED_OVER_VI.into(), "The meeting was handed over to a room; every change is made in that room.".into()),
        Refusal::NotHandable => (S::CONFLICT, "meeting.not_handable", "Cuộc họp đã bắt đầu hoặc đã kết thúc tại trung tâm; không giao cho phòng họp được.".into(), "The meeting started or ended at the central office; it cannot be handed to a room.".into()),
        Refusal::Invalid { code: "account.bad_role", detail } => (S::UNPROCESSABLE_ENTITY, "account.bad_role", "Tài khoản cán bộ chỉ có vai trò quản trị IT, thư ký hoặc chủ trì.".into(), detail.clone()),
        Refusal::Invalid { code: "annotation.export_unreadable", detail } => (S::UNPROCESSABLE_ENTITY, "annotation.export_unreadable", "Máy chủ phòng họp không đọc được cấu trúc của tệp PDF này nên chưa tạo được bản có ghi chú. Các ghi chú của đồng chí vẫn được lưu và hiện trong trình đọc.".into(), format!("The meeting room server cannot read this PDF's structure, so it cannot make the annotated copy; your marks are kept and show in the reader ({detail}).")),
        Refusal::Invalid { code: "annotation.export_encrypted", detail } => (S::UNPROCESSABLE_ENTITY, "annotation.export_encrypted", "Tệp PDF này được khóa bằng mật khẩu nên máy chủ phòng họp không tạo được bản có ghi chú.".into(), format!("This PDF is locked with a password, so the meeting room server cannot make the annotated copy ({detail}).")),
        Refusal::Invalid { code: "annotation.export_too_large", detail } => (S::UNPROCESSABLE_ENTITY, "annotation.export_too_large", format!("Tài liệu lớn hơn {} MB nên máy chủ phòng họp không tạo bản có ghi chú.", crate::annotated::MAX_BYTES / 1024 / 1024), detail.clone()),
        Refusal::Invalid { code, detail } => (S::UNPROCESSABLE_ENTITY, code, "Yêu cầu không hợp lệ.".into(), detail.clone()),
    }
}

/// A live-meeting refusal: its status, code and Vietnamese message (English from Display).
fn live_refusal(e: crate::domain::live::LiveError) -> (StatusCode, &'static str, String, String) {
    use crate::domain::live::LiveError as L;
    use StatusCode as S;
    let (status, code, vi) = match e {
        L::NotStarted => (S::CONFLICT, "live.not_started", "Cuộc họp chưa khai mạc."),
        L::AlreadyStarted => (S::CONFLICT, "live.already_started", "Cuộc họp đã khai mạc."),
        L::NotRunning => (
            S::CONFLICT,
            "live.not_running",
            "Cuộc họp đang nghỉ giải lao; hãy tiếp tục cuộc họp trước.",
        ),
        L::NotPaused => (
            S::CONFLICT,
            "live.not_paused",
            "Cuộc họp không ở trạng thái nghỉ.",
        ),
        L::Ended => (S::CONFLICT, "live.ended", "Cuộc họp đã bế mạc."),
        L::NoItem => (
            S::CONFLICT,
            "live.no_item",
            "Chưa có nội dung nào đang được thảo luận.",
        ),
        L::UnknownItem => (
            S::UNPROCESSABLE_ENTITY,
            "live.unknown_item",
            "Không có nội dung này trong chương trình họp.",
        ),
        L::UnknownRequest => (
            S::CONFLICT,
            "live.unknown_request",
            "Lượt đăng ký phát biểu này không còn trong danh sách chờ.",
        ),
        L::NobodySpeaking => (
            S::CONFLICT,
            "live.nobody_speaking",
            "Hiện không có ai đang phát biểu.",
        ),
        L::AlreadySpeaking => (
            S::CONFLICT,
            "live.already_speaking",
            "Người này đang phát biểu.",
        ),
        L::NotPresent => (
            S::CONFLICT,
            "live.not_present",
            "Bạn cần điểm danh trước khi đăng ký phát biểu.",
        ),
        L::StaleOrder => (
            S::CONFLICT,
            "live.stale_order",
            "Danh sách phát biểu vừa thay đổi. Đã tải lại; hãy sắp xếp lại.",
        ),
        L::BadSeconds => (
            S::UNPROCESSABLE_ENTITY,
            "live.bad_seconds",
            "Thời gian phát biểu từ 10 giây đến 60 phút.",
        ),
        L::BadReason => (
            S::UNPROCESSABLE_ENTITY,
            "live.bad_reason",
            "Hãy ghi lý do tạm nghỉ (tối đa 200 ký tự).",
        ),
        L::UnknownDocument => (
            S::UNPROCESSABLE_ENTITY,
            "live.unknown_document",
            "Tài liệu này không thuộc cuộc họp.",
        ),
        L::BadPage => (
            S::UNPROCESSABLE_ENTITY,
            "live.bad_page",
            "Số trang không hợp lệ.",
        ),
        L::BadReply => (
            S::UNPROCESSABLE_ENTITY,
            "live.bad_reply",
            "Giải trình phải trả lời một chất vấn của nội dung đang thảo luận.",
        ),
        L::BadOperator => (
            S::UNPROCESSABLE_ENTITY,
            "live.bad_operator",
            "Chỉ có thể giao điều hành cho tài khoản thư ký đang hoạt động.",
        ),
        L::TooManyRequests => (
            S::TOO_MANY_REQUESTS,
            "live.too_many_requests",
            "Bạn đã đăng ký phát biểu quá nhiều lần trong cuộc họp này. Hãy giơ tay để chủ tọa mời.",
        ),
    };
    (status, code, vi.to_owned(), e.to_string())
}

/// A refused mark or note: its status, code and Vietnamese message (English from Display).
fn annotation_refusal(
    e: crate::domain::annotation::AnnotationError,
) -> (StatusCode, &'static str, String, String) {
    use crate::domain::annotation::AnnotationError as A;
    use StatusCode as S;
    let (status, code, vi) = match e {
        A::BadPage => (
            S::UNPROCESSABLE_ENTITY,
            "annotation.bad_page",
            "Số trang không hợp lệ.",
        ),
        A::BadGeometry => (
            S::UNPROCESSABLE_ENTITY,
            "annotation.bad_geometry",
            "Nét vẽ hoặc vùng đánh dấu không hợp lệ hoặc quá lớn.",
        ),
        A::BadText => (
            S::UNPROCESSABLE_ENTITY,
            "annotation.bad_text",
            "Ghi chú quá dài (tối đa 5.000 ký tự) hoặc có ký tự không hợp lệ.",
        ),
        A::BadColor => (
            S::UNPROCESSABLE_ENTITY,
            "annotation.bad_color",
            "Màu không có trong bảng màu.",
        ),
        A::BadWidth => (
            S::UNPROCESSABLE_ENTITY,
            "annotation.bad_width",
            "Độ dày nét bút không hợp lệ.",
        ),
        A::BadVersion => (
            S::UNPROCESSABLE_ENTITY,
            "annotation.bad_version",
            "Ghi chú không khớp với phiên bản tài liệu này.",
        ),
        A::NotOwner => (
            S::FORBIDDEN,
            "annotation.not_owner",
            "Đây là ghi chú của người khác; bạn không sửa được.",
        ),
        A::TooMany => (
            S::CONFLICT,
            "annotation.too_many",
            "Tài liệu này đã có quá nhiều ghi chú của bạn.",
        ),
        A::NoPresenter => (
            S::UNPROCESSABLE_ENTITY,
            "annotation.no_presenter",
            "Nội dung này chưa có người trình bày trong danh sách đại biểu, nên chưa gửi được.",
        ),
        A::BadRevision => (
            S::UNPROCESSABLE_ENTITY,
            "annotation.bad_revision",
            "Phiên bản ghi chú không hợp lệ. Hãy tải lại trang.",
        ),
    };
    (status, code, vi.to_owned(), e.to_string())
}

/// A vote refusal: its status, code and Vietnamese message (English from Display).
/// An enrolment or box refusal on the hub.
fn hub_refusal(e: &crate::domain::hub::HubRefusal) -> (StatusCode, &'static str, String, String) {
    use crate::domain::hub::HubRefusal as H;
    use StatusCode as S;
    match e {
        H::WrongRole => (S::CONFLICT, "hub.wrong_role", "Việc này chỉ làm được trên máy chủ trung tâm (hub), không phải trên hộp phòng họp.".into(), "This is done on the central-office hub, not on a room box.".into()),
        H::TokenInvalid => (S::FORBIDDEN, "enrol.token_invalid", "Mã đăng ký không đúng. Hãy kiểm tra lại hoặc xin mã mới ở trung tâm.".into(), "The enrolment token is wrong. Check it, or ask the central office for a new one.".into()),
        H::TokenExpired => (S::FORBIDDEN, "enrol.token_expired", "Mã đăng ký đã hết hạn (dùng được 24 giờ). Hãy xin mã mới ở trung tâm.".into(), "The enrolment token has expired (it works for 24 hours). Ask the central office for a new one.".into()),
        H::TokenUsed => (S::CONFLICT, "enrol.token_used", "Mã đăng ký này đã được một hộp khác dùng. Mỗi mã chỉ dùng một lần.".into(), "Another box already used this enrolment token. Each token works once.".into()),
        H::BadRoom => (S::UNPROCESSABLE_ENTITY, "enrol.bad_room", "Hãy ghi tên phòng họp (tối đa 120 ký tự).".into(), "Give the room's name (at most 120 characters).".into()),
        H::UnknownBox => (S::NOT_FOUND, "hub.unknown_box", "Không có hộp phòng họp này trong danh sách đã đăng ký.".into(), "No enrolled room box has this id.".into()),
        H::AlreadyRevoked => (S::CONFLICT, "hub.already_revoked", "Hộp phòng họp này đã bị thu hồi.".into(), "This room box is already revoked.".into()),
        H::BadRequest(detail) => (S::UNPROCESSABLE_ENTITY, "enrol.bad_request", "Yêu cầu đăng ký của hộp không hợp lệ.".into(), format!("The box's enrolment request is not valid: {detail}")),
    }
}

fn vote_refusal(e: crate::domain::vote::VoteError) -> (StatusCode, &'static str, String, String) {
    use crate::domain::vote::VoteError as V;
    use StatusCode as S;
    let (status, code, vi) = match e {
        V::BadTitle => (
            S::UNPROCESSABLE_ENTITY,
            "vote.bad_title",
            "Hãy ghi nội dung biểu quyết (tối đa 500 ký tự).",
        ),
        V::BadCandidates => (
            S::UNPROCESSABLE_ENTITY,
            "vote.bad_candidates",
            "Danh sách ứng cử viên cần từ 1 đến 50 người, không trùng tên.",
        ),
        V::BadMaxChoices => (
            S::UNPROCESSABLE_ENTITY,
            "vote.bad_max_choices",
            "Số người được chọn phải từ 1 đến số ứng cử viên.",
        ),
        V::MotionWithCandidates => (
            S::UNPROCESSABLE_ENTITY,
            "vote.motion_with_candidates",
            "Biểu quyết tán thành/không tán thành không có danh sách ứng cử viên.",
        ),
        V::SecretChangeable => (
            S::UNPROCESSABLE_ENTITY,
            "vote.secret_changeable",
            "Bỏ phiếu kín không cho phép sửa phiếu đã bỏ.",
        ),
        V::BadCountdown => (
            S::UNPROCESSABLE_ENTITY,
            "vote.bad_countdown",
            "Thời gian biểu quyết từ 10 giây đến 60 phút.",
        ),
        V::BadThreshold => (
            S::UNPROCESSABLE_ENTITY,
            "vote.bad_threshold",
            "Tỷ lệ thông qua phải là một phân số lớn hơn 0 và không quá 1.",
        ),
        V::UnknownQuestion => (
            S::NOT_FOUND,
            "vote.unknown_question",
            "Không có nội dung biểu quyết này.",
        ),
        V::AlreadyOpened => (
            S::CONFLICT,
            "vote.already_opened",
            "Nội dung này đã mở biểu quyết nên không sửa hoặc xóa được.",
        ),
        V::NotOpen => (S::CONFLICT, "vote.not_open", "Biểu quyết chưa mở."),
        V::Closed => (
            S::CONFLICT,
            "vote.closed",
            "Biểu quyết đã kết thúc; phiếu không được tính.",
        ),
        V::AnotherOpen => (
            S::CONFLICT,
            "vote.another_open",
            "Đang có một biểu quyết khác mở. Hãy kết thúc biểu quyết đó trước.",
        ),
        V::NoQuorum => (
            S::CONFLICT,
            "vote.no_quorum",
            "Chưa đủ số thành viên có mặt theo quy định nên chưa thể biểu quyết.",
        ),
        V::MeetingNotRunning => (
            S::CONFLICT,
            "vote.meeting_not_running",
            "Cuộc họp phải đang diễn ra (đã khai mạc, không nghỉ giải lao) mới mở biểu quyết được.",
        ),
        V::NotMember => (
            S::FORBIDDEN,
            "vote.not_member",
            "Chỉ thành viên có quyền biểu quyết, trên máy tính bảng của mình, mới bỏ phiếu được.",
        ),
        V::NotPresent => (
            S::CONFLICT,
            "vote.not_present",
            "Bạn cần điểm danh trước khi biểu quyết.",
        ),
        V::AlreadyVoted => (
            S::CONFLICT,
            "vote.already_voted",
            "Bạn đã biểu quyết nội dung này rồi.",
        ),
        V::BadMark => (
            S::UNPROCESSABLE_ENTITY,
            "vote.bad_mark",
            "Lựa chọn không phù hợp với nội dung biểu quyết.",
        ),
        V::BadSignature => (
            S::FORBIDDEN,
            "vote.bad_signature",
            "Chữ ký của máy trên phiếu không hợp lệ. Phiếu không được tính.",
        ),
        V::BadReceipt => (
            S::UNPROCESSABLE_ENTITY,
            "vote.bad_receipt",
            "Phiếu thiếu mã phiếu hoặc mã biên nhận hợp lệ.",
        ),
        V::BadManualCount => (
            S::UNPROCESSABLE_ENTITY,
            "vote.bad_manual_count",
            "Kết quả kiểm phiếu tay không hợp lệ: số phiếu vượt số thành viên, hoặc thiếu lý do.",
        ),
        V::Unsigned => (
            S::INTERNAL_SERVER_ERROR,
            "vote.unsigned",
            "Không ký được kết quả biểu quyết.",
        ),
    };
    (status, code, vi.to_owned(), e.to_string())
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, vi, en): (StatusCode, &str, String, String) = match &self {
            ApiError::Refused(r) => refusal(r),
            ApiError::Invalid(t) => {
                let f = t.field();
                let (vi, en) = match t {
                    TextError::Empty { .. } => (
                        format!("{} không được để trống.", field_vi(f)),
                        format!("The {f} must not be empty."),
                    ),
                    TextError::TooLong { max, .. } => (
                        format!("{} dài quá {max} ký tự.", field_vi(f)),
                        format!("The {f} is longer than {max} characters."),
                    ),
                    TextError::TooShort { min, .. } => (
                        format!("{} phải có ít nhất {min} ký tự.", field_vi(f)),
                        format!("The {f} must have at least {min} characters."),
                    ),
                    TextError::ControlChar { .. } => (
                        format!("{} chứa ký tự không hợp lệ.", field_vi(f)),
                        format!("The {f} contains a control character."),
                    ),
                    TextError::BadChars { .. } => (
                        format!("{} chỉ được dùng chữ a-z, số 0-9 và . _ -", field_vi(f)),
                        format!("The {f} may only use a-z, 0-9 and . _ -"),
                    ),
                };
                let code = match t {
                    TextError::Empty { .. } => "input.empty",
                    TextError::TooLong { .. } => "input.too_long",
                    TextError::TooShort { .. } => "input.too_short",
                    TextError::ControlChar { .. } => "input.control_char",
                    TextError::BadChars { .. } => "input.bad_chars",
                };
                (StatusCode::UNPROCESSABLE_ENTITY, code, vi, en)
            }
            ApiError::BadJson(detail) => (
                StatusCode::BAD_REQUEST,
                "input.bad_json",
                "Dữ liệu gửi lên không đúng định dạng.".into(),
                format!("The request body is not valid: {detail}"),
            ),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "auth.required",
                "Bạn cần đăng nhập.".into(),
                "You need to sign in.".into(),
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "auth.forbidden",
                "Bạn không có quyền làm việc này.".into(),
                "You are not allowed to do this.".into(),
            ),
            ApiError::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                "auth.bad_credentials",
                "Sai tên đăng nhập hoặc mật khẩu.".into(),
                "Wrong user name or password.".into(),
            ),
            ApiError::LockedOut(wait) => {
                let mins = wait.as_secs().div_ceil(60).max(1);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    "auth.locked_out",
                    format!("Nhập sai quá nhiều lần. Vui lòng thử lại sau {mins} phút."),
                    format!("Too many failed attempts. Try again in {mins} minutes."),
                )
            }
            ApiError::BadOrigin => (
                StatusCode::FORBIDDEN,
                "request.bad_origin",
                "Yêu cầu không đến từ ứng dụng Phonghop của phòng họp này.".into(),
                "The request did not come from this room's Phonghop app.".into(),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "Không tìm thấy.".into(),
                "Not found.".into(),
            ),
            ApiError::Conflict(m) => (
                StatusCode::CONFLICT,
                "conflict",
                "Thao tác xung đột với dữ liệu hiện có.".into(),
                m.clone(),
            ),
            ApiError::DiskFull => (
                StatusCode::INSUFFICIENT_STORAGE,
                "store.disk_full",
                "Bộ nhớ của thiết bị đã đầy. Báo cán bộ CNTT. Thao tác chưa được lưu.".into(),
                "The box's disk is full. Tell IT staff. Nothing was saved.".into(),
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Thiết bị đang tắt hoặc khởi động lại.".into(),
                "The box is shutting down or restarting.".into(),
            ),
            ApiError::Busy => (
                StatusCode::TOO_MANY_REQUESTS,
                "auth.busy",
                "Thiết bị đang bận kiểm tra mật khẩu. Vui lòng thử lại sau ít giây.".into(),
                "The box is busy checking passwords. Try again in a few seconds.".into(),
            ),
            ApiError::ExportBusy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "annotation.export_busy",
                "Máy chủ phòng họp đang tạo bản có ghi chú cho đại biểu khác. Vui lòng thử lại sau ít phút.".into(),
                "The meeting room server is making annotated copies for others. Try again in a few minutes.".into(),
            ),
            ApiError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "input.too_large",
                format!("Dữ liệu gửi lên quá lớn (tối đa {} KB).", limit / 1024),
                format!("The request body is too large (at most {} KB).", limit / 1024),
            ),
            ApiError::UnknownHost => (
                StatusCode::MISDIRECTED_REQUEST,
                "request.unknown_host",
                "Địa chỉ này không phải của thiết bị phòng họp. Hãy mở bằng địa chỉ in trên thiết bị hoặc quét mã QR.".into(),
                "This address is not one of the box's names. Open the address printed on the box or scan its QR code.".into(),
            ),
            ApiError::BlobDamaged => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "document.damaged",
                "Tệp tài liệu lưu trong thiết bị đã bị hỏng nên không mở được. Báo thư ký tải lên lại tệp này, hoặc báo cán bộ CNTT.".into(),
                "The document's file on the box is damaged (its bytes no longer match its hash), so it is not served. Ask the secretary to upload the file again, or tell IT staff.".into(),
            ),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Có lỗi trong thiết bị. Thao tác chưa được lưu; hãy thử lại.".into(),
                    "Something went wrong on the box. Nothing was saved; try again.".into(),
                )
            }
        };
        let mut body = serde_json::json!({"code": code, "message": vi, "message_en": en});
        if let ApiError::Invalid(t) = &self {
            body["field"] = t.field().into();
        }
        if let ApiError::Refused(Refusal::PersonInvalid(e)) = &self {
            body["field"] = e.field().into();
        }
        let mut resp = (status, Json(body)).into_response();
        let wait = match &self {
            ApiError::LockedOut(w) | ApiError::Refused(Refusal::PairLockedOut(w)) => Some(w),
            _ => None,
        };
        let wait = match &self {
            ApiError::Busy => Some(&std::time::Duration::from_secs(1)),
            ApiError::ExportBusy => Some(&EXPORT_RETRY),
            _ => wait,
        };
        if let Some(wait) = wait {
            if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// The largest JSON body accepted (axum's default body limit).
pub const JSON_LIMIT: usize = 2 * 1024 * 1024;

/// JSON bodies whose rejection is an [`ApiError`] with a code, not axum's plain text.
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::TooLarge(JSON_LIMIT))
            }
            Err(rejection) => Err(ApiError::BadJson(rejection.body_text())),
        }
    }
}
