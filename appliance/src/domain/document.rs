//! What a document upload may be: its file name, its declared type, and whether its first bytes
//! agree with that type (a `.pdf` that is not a PDF is refused).

use super::records::DocumentKind;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("the file name is empty, too long, or has path parts or control characters")]
    BadName,
    #[error("files of type {0:?} are not accepted")]
    UnsupportedType(String),
    #[error("the file's content is not a {0}")]
    Disguised(&'static str),
}

/// A file name as the user's computer had it, without any path, in Unicode NFC: a name sent
/// decomposed (NFD, as macOS sends it) is stored composed, so it looks and compares the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    pub fn parse(raw: &str) -> Result<Self, UploadError> {
        use unicode_normalization::UnicodeNormalization;
        let composed: String = raw.trim().nfc().collect();
        let s = composed.as_str();
        let bad = s.is_empty()
            || s.chars().count() > 200
            || s.chars()
                .any(|c| c.is_control() || matches!(c, '/' | '\\' | '\0'))
            || s == "."
            || s == ".."
            || s.starts_with('.');
        if bad {
            return Err(UploadError::BadName);
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    fn extension(&self) -> String {
        self.0
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default()
    }
}

/// The types a meeting document may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Pdf,
    Docx,
    Xlsx,
    Pptx,
    Png,
    Jpeg,
}

impl FileType {
    /// Decided by the name's extension; the content is checked against it afterwards.
    pub fn of(name: &FileName) -> Result<Self, UploadError> {
        Ok(match name.extension().as_str() {
            "pdf" => FileType::Pdf,
            "docx" => FileType::Docx,
            "xlsx" => FileType::Xlsx,
            "pptx" => FileType::Pptx,
            "png" => FileType::Png,
            "jpg" | "jpeg" => FileType::Jpeg,
            other => return Err(UploadError::UnsupportedType(other.to_owned())),
        })
    }

    pub fn kind(self) -> DocumentKind {
        match self {
            FileType::Pdf => DocumentKind::Pdf,
            _ => DocumentKind::Attachment,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileType::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
        }
    }

    /// How many leading bytes [`Self::check`] needs.
    pub const PREFIX: usize = 8;

    /// Whether the first bytes of the content are what the type says.
    pub fn check(self, prefix: &[u8]) -> Result<(), UploadError> {
        let ok = match self {
            FileType::Pdf => prefix.starts_with(b"%PDF-"),
            FileType::Docx | FileType::Xlsx | FileType::Pptx => prefix.starts_with(b"PK\x03\x04"),
            FileType::Png => prefix.starts_with(b"\x89PNG\r\n\x1a\n"),
            FileType::Jpeg => prefix.starts_with(&[0xFF, 0xD8, 0xFF]),
        };
        if ok {
            Ok(())
        } else {
            Err(UploadError::Disguised(match self {
                FileType::Pdf => "PDF",
                FileType::Docx => "Word document",
                FileType::Xlsx => "Excel workbook",
                FileType::Pptx => "PowerPoint presentation",
                FileType::Png => "PNG image",
                FileType::Jpeg => "JPEG image",
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_file_names() {
        assert!(FileName::parse("Tờ trình số 12.pdf").is_ok());
        for bad in [
            "",
            "../../etc/passwd",
            "a/b.pdf",
            "a\\b.pdf",
            "x\u{7}.pdf",
            ".hidden.pdf",
            "..",
        ] {
            assert_eq!(FileName::parse(bad), Err(UploadError::BadName), "{bad:?}");
        }
    }

    #[test]
    fn decomposed_names_are_stored_composed() {
        let nfd = "To\u{031B}\u{0300} tri\u{0300}nh so\u{0302}\u{0301} 12.pdf";
        let name = FileName::parse(nfd).unwrap();
        assert_eq!(name.as_str(), "Tờ trình số 12.pdf");
        assert_eq!(name, FileName::parse("Tờ trình số 12.pdf").unwrap());
    }

    #[test]
    fn content_must_match_the_extension() {
        let pdf = FileType::of(&FileName::parse("a.PDF").unwrap()).unwrap();
        assert_eq!(pdf, FileType::Pdf);
        assert!(pdf.check(b"%PDF-1.7\n").is_ok());
        assert_eq!(pdf.check(b"<html>"), Err(UploadError::Disguised("PDF")));
        assert!(FileType::of(&FileName::parse("virus.exe").unwrap()).is_err());
        assert!(FileType::Docx.check(b"PK\x03\x04rest").is_ok());
    }
}
