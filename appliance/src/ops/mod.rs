//! Operations for IT staff, run from the command line: `backup`, `restore` and `doctor`, and the
//! control socket through which a running box takes its own backup and answers the doctor.
//! Outer layer, beside `cli` and `server`: it uses the store, the config and the TLS files.
//!
//! - [`archive`]: the backup file (a tar.gz with a manifest of SHA-256 hashes);
//! - [`backup`] and [`restore`]: the two commands;
//! - [`control`]: `DATA/control.sock`, owner only, served by `phonghop serve`;
//! - [`doctor`]: the health checks, in Vietnamese and English, each with its fix;
//! - [`offer`]: a hub offering a signed release, stopped or running.

pub mod archive;
pub mod backup;
pub mod control;
pub mod doctor;
pub mod offer;
pub mod restore;

use crate::store::StoreError;
use std::path::Path;

/// A failure of an operations command: an exit code and the same sentence in Vietnamese and
/// English, each saying what to do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OpsError {
    pub code: u8,
    pub vi: String,
    pub en: String,
}

impl std::fmt::Display for OpsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n{}", self.vi, self.en)
    }
}

impl std::error::Error for OpsError {}

impl OpsError {
    pub fn new(code: u8, vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            code,
            vi: vi.into(),
            en: en.into(),
        }
    }

    pub fn io(path: &Path, e: std::io::Error) -> Self {
        StoreError::io(path, e).into()
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        let d = detail.into();
        Self::new(
            70,
            format!("Lỗi bên trong chương trình: {d}"),
            format!("Internal error: {d}"),
        )
    }

    /// Writing the archive failed (the output disk, or the reader went away).
    pub fn write_failed(e: impl std::fmt::Display) -> Self {
        let d = e.to_string();
        if d.contains("No space left") {
            return StoreError::DiskFull.into();
        }
        Self::new(
            74,
            format!("Không ghi được bản sao lưu: {d}. Kiểm tra chỗ trống nơi lưu tệp rồi chạy lại."),
            format!("Could not write the backup: {d}. Check the free space where the file goes and run it again."),
        )
    }

    pub fn blob_damaged(sha256: &str, detail: &str) -> Self {
        Self::new(
            65,
            format!(
                "Không sao lưu được: tệp tài liệu {sha256} bị hỏng hoặc mất ({detail}). \
                 Chạy `phonghop verify --blobs` để xem tài liệu nào, tải lại tài liệu đó, rồi sao lưu lại."
            ),
            format!(
                "Backup stopped: the document file {sha256} is damaged or missing ({detail}). \
                 Run `phonghop verify --blobs` to see which document, upload it again, then back up again."
            ),
        )
    }

    pub fn not_backup(detail: impl std::fmt::Display) -> Self {
        Self::new(
            65,
            format!(
                "Tệp này không phải bản sao lưu Phonghop ({detail}). Không có gì được ghi. \
                 Kiểm tra lại tên tệp (bản sao lưu do `phonghop backup` tạo, đuôi .tar.gz)."
            ),
            format!(
                "This file is not a Phonghop backup ({detail}). Nothing was written. \
                 Check the file name (a backup made by `phonghop backup`, ending in .tar.gz)."
            ),
        )
    }

    pub fn truncated(detail: impl std::fmt::Display) -> Self {
        Self::new(
            65,
            format!(
                "Bản sao lưu bị thiếu hoặc bị cắt cụt ({detail}). Không có gì được ghi. \
                 Chép lại tệp từ nơi lưu gốc, hoặc dùng bản sao lưu khác."
            ),
            format!(
                "The backup is incomplete or truncated ({detail}). Nothing was written. \
                 Copy the file again from where it is kept, or use another backup."
            ),
        )
    }

    pub fn corrupt(detail: impl std::fmt::Display) -> Self {
        Self::new(
            65,
            format!(
                "Bản sao lưu bị hỏng: {detail}. Không có gì được ghi. \
                 Chép lại tệp từ nơi lưu gốc, hoặc dùng bản sao lưu khác."
            ),
            format!(
                "The backup is damaged: {detail}. Nothing was written. \
                 Copy the file again from where it is kept, or use another backup."
            ),
        )
    }

    pub fn newer(format: u32, schema: u32) -> Self {
        Self::new(
            65,
            format!(
                "Bản sao lưu này do phiên bản Phonghop mới hơn tạo (định dạng {format}, lược đồ {schema}; \
                 bản này đọc đến định dạng {}, lược đồ {}). Không có gì được ghi. Cài phiên bản mới hơn rồi khôi phục.",
                archive::FORMAT_VERSION,
                crate::store::SCHEMA_VERSION
            ),
            format!(
                "This backup was made by a newer Phonghop (format {format}, schema {schema}; this \
                 version reads up to format {}, schema {}). Nothing was written. Install the newer version, then restore.",
                archive::FORMAT_VERSION,
                crate::store::SCHEMA_VERSION
            ),
        )
    }
}

impl From<StoreError> for OpsError {
    fn from(e: StoreError) -> Self {
        let code = crate::server::store_exit_code(&e);
        match e {
            StoreError::DiskFull => Self::new(
                74,
                "Đĩa đã đầy. Giải phóng chỗ trống (xóa bản sao lưu cũ, nhật ký cũ) rồi chạy lại.",
                "The disk is full. Free some space (old backups, old logs) and run it again.",
            ),
            other => {
                let en = other.to_string();
                Self::new(code, format!("Lỗi dữ liệu: {en}"), en)
            }
        }
    }
}
