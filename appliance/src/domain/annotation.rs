//! A delegate's own marks on a document (highlights, underlines, ink, sticky notes, bookmarks)
//! and their personal note on an agenda item. Private to their owner unless shared.
//!
//! Anchoring: PDF page coordinates in hundredths of a point (whole numbers, so the stored JSON
//! is exact and the same on every device; origin at the page's bottom-left as PDF defines it),
//! on one version of the document, named by its SHA-256, so a mark stays where it was at
//! every zoom and orientation, and a new version does not move old marks onto other words.
//!
//! Concurrent edits (the same person on two tablets, or one tablet offline for a day): every
//! save carries its own revision (the tablet's count of edits, always rising) and the base
//! revision, the one the box had when the tablet started editing. The box applies a save only
//! when it was made from what the box keeps now (the base is the stored revision, or the stored
//! revision came from the same device, whose edits are sequential) and its revision is higher:
//! the first save to arrive wins, and a save that was made alongside it, on another device, is
//! answered "lost" without being applied ([`applies`]). The tablet then keeps what it had aside:
//! a sticky note's text as a new note beside it, a personal note's text appended to the one
//! that won. Nothing acknowledged is overwritten by an edit made without seeing it. A retry of
//! a save that was applied and since superseded is told apart by the box's record of applied
//! saves, so it is not kept aside twice. A delete is a save of a tombstone and follows the same
//! rule. Nothing is merged inside one mark: the whole mark is the unit.
//!
//! Replaying the log applies each save that is newer by `(rev, device)`; the box only logs saves
//! that [`applies`] let through, whose revisions rise, so a replay ends where the box was.

use super::records::Id;
use serde::{Deserialize, Serialize};

/// Why a mark or a note was refused. Each has its own API code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AnnotationError {
    #[error("the page must be 1 to 100000")]
    BadPage,
    #[error("the geometry is empty, too large or not finite")]
    BadGeometry,
    #[error("the text is too long or has control characters")]
    BadText,
    #[error("unknown colour")]
    BadColor,
    #[error("the pen width must be 0.5 to 24 points (50 to 2400)")]
    BadWidth,
    #[error("the document version is not one of this document's")]
    BadVersion,
    #[error("this mark belongs to someone else")]
    NotOwner,
    #[error("too many marks on this document")]
    TooMany,
    #[error("the document's agenda item names no presenter person")]
    NoPresenter,
    #[error("the revision must be 1 or more and above the base revision")]
    BadRevision,
}

/// Whether a save of revision `rev`, edited from the box's revision `base_rev` on `device`,
/// applies over the stored revision `stored_rev` saved by `stored_device`: it must be newer,
/// and made from what the box keeps (or follow the same device's own earlier save).
pub fn applies(rev: u64, base_rev: u64, device: &Id, stored_rev: u64, stored_device: &Id) -> bool {
    rev > stored_rev && (base_rev >= stored_rev || device == stored_device)
}

/// Checks a save's revisions: `rev` at least 1 and above `base_rev` (a tablet that sends no base
/// edited from the revision before its own).
pub fn base_of(rev: u64, base_rev: Option<u64>) -> Result<u64, AnnotationError> {
    let base = base_rev.unwrap_or(rev.saturating_sub(1));
    if rev == 0 || base >= rev {
        return Err(AnnotationError::BadRevision);
    }
    Ok(base)
}

/// What kind of mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationKind {
    Highlight,
    Underline,
    /// Freehand pen.
    Ink,
    /// A sticky note at a point.
    Note,
    /// The whole page is bookmarked.
    Bookmark,
}

/// Who sees a mark besides its owner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Sharing {
    #[default]
    Private,
    /// Everyone with a role in the meeting who may see the document.
    Meeting,
    /// The meeting's chair (and the staff who prepare it).
    Chair,
    /// The person named presenter of the agenda item the document belongs to ("gửi người
    /// trình bày"); refused when the item names no presenter person.
    Presenter,
}

/// The colours offered (the tablet shows them; anything else is refused).
pub const COLORS: &[&str] = &[
    "yellow", "green", "blue", "pink", "red", "black", "orange", "purple",
];

/// A rectangle on a page in hundredths of a PDF point: `[x1, y1, x2, y2]`.
pub type Rect = [i32; 4];
/// A point on a page in hundredths of a PDF point.
pub type Point = [i32; 2];

pub const MAX_PAGE: u32 = 100_000;
pub const MAX_RECTS: usize = 400;
pub const MAX_STROKES: usize = 200;
pub const MAX_POINTS: usize = 4_000;
pub const MAX_TEXT_CHARS: usize = 5_000;
/// Marks one person may keep on one document (deleted ones included).
pub const MAX_PER_DOCUMENT: usize = 5_000;

/// A mark as the tablet sends it and the log keeps it. Permanent (`annotation.saved`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct AnnotationEntry {
    /// Made on the tablet, so a retried save or delete is the same mark.
    pub id: Id,
    pub owner_id: Id,
    pub document_id: Id,
    /// The SHA-256 of the document version the mark was made on.
    pub version_sha256: String,
    pub page: u32,
    pub kind: AnnotationKind,
    #[serde(default)]
    pub color: String,
    /// Pen width in hundredths of a point (ink only).
    #[serde(default)]
    pub width: u32,
    /// Highlight and underline: the text's quads as rectangles; note: one point-sized box.
    #[serde(default)]
    pub rects: Vec<Rect>,
    /// Ink: the strokes, each a list of points.
    #[serde(default)]
    pub strokes: Vec<Vec<Point>>,
    /// Note: its text; highlight: the text it covers (for the list of notes), optional.
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub sharing: Sharing,
    /// The tablet's revision of this mark (1 for a new one).
    pub rev: u64,
    /// The device that saved this revision (the tie-break between equal revisions).
    pub device_id: Id,
    /// A tombstone: the mark was erased.
    #[serde(default)]
    pub deleted: bool,
}

/// Within a page and its margin: PDF pages are at most 14,400 points wide (200 inches).
fn on_page(v: i32) -> bool {
    (-100_000..=2_000_000).contains(&v)
}

fn clean_text(raw: &str) -> Result<String, AnnotationError> {
    let t = raw.trim();
    if t.chars().count() > MAX_TEXT_CHARS
        || t.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(AnnotationError::BadText);
    }
    Ok(t.to_owned())
}

impl AnnotationEntry {
    /// Checks a mark's shape; trims its text. The document, version and owner are the
    /// service's to check.
    pub fn checked(mut self) -> Result<Self, AnnotationError> {
        if self.page == 0 || self.page > MAX_PAGE {
            return Err(AnnotationError::BadPage);
        }
        if !super::records::is_lower_hex(&self.version_sha256, 64) {
            return Err(AnnotationError::BadVersion);
        }
        self.text = clean_text(&self.text)?;
        if self.deleted {
            // A tombstone keeps nothing but where it was.
            self.rects.clear();
            self.strokes.clear();
            self.text.clear();
            return Ok(self);
        }
        if !(self.kind == AnnotationKind::Bookmark || COLORS.contains(&self.color.as_str())) {
            return Err(AnnotationError::BadColor);
        }
        let rect_ok = |r: &Rect| r.iter().all(|v| on_page(*v));
        match self.kind {
            AnnotationKind::Highlight | AnnotationKind::Underline => {
                if self.rects.is_empty()
                    || self.rects.len() > MAX_RECTS
                    || !self.rects.iter().all(rect_ok)
                    || !self.strokes.is_empty()
                {
                    return Err(AnnotationError::BadGeometry);
                }
            }
            AnnotationKind::Ink => {
                if !(50..=2_400).contains(&self.width) {
                    return Err(AnnotationError::BadWidth);
                }
                let points: usize = self.strokes.iter().map(Vec::len).sum();
                if self.strokes.is_empty()
                    || self.strokes.len() > MAX_STROKES
                    || points > MAX_POINTS
                    || self.strokes.iter().any(Vec::is_empty)
                    || !self
                        .strokes
                        .iter()
                        .flatten()
                        .all(|p| p.iter().all(|v| on_page(*v)))
                    || !self.rects.is_empty()
                {
                    return Err(AnnotationError::BadGeometry);
                }
            }
            AnnotationKind::Note => {
                if self.rects.len() != 1 || !rect_ok(&self.rects[0]) || !self.strokes.is_empty() {
                    return Err(AnnotationError::BadGeometry);
                }
            }
            AnnotationKind::Bookmark => {
                if !self.rects.is_empty() || !self.strokes.is_empty() {
                    return Err(AnnotationError::BadGeometry);
                }
            }
        }
        Ok(self)
    }

    /// Whether this save wins over `other` (the stored one): a higher revision, or the same
    /// revision from a device whose id sorts after.
    pub fn wins_over(&self, other: &AnnotationEntry) -> bool {
        (self.rev, &self.device_id) > (other.rev, &other.device_id)
    }
}

/// A delegate's own note on an agenda item. Permanent (`item_note.saved`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ItemNoteEntry {
    pub item_id: Id,
    pub owner_id: Id,
    pub text: String,
    pub rev: u64,
    pub device_id: Id,
}

impl ItemNoteEntry {
    pub fn checked(mut self) -> Result<Self, AnnotationError> {
        self.text = clean_text(&self.text)?;
        Ok(self)
    }

    pub fn wins_over(&self, other: &ItemNoteEntry) -> bool {
        (self.rev, &self.device_id) > (other.rev, &other.device_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> Id {
        Id::parse(&format!("{n:032x}")).unwrap()
    }

    fn mark(kind: AnnotationKind) -> AnnotationEntry {
        AnnotationEntry {
            id: id(1),
            owner_id: id(2),
            document_id: id(3),
            version_sha256: "ab".repeat(32),
            page: 2,
            kind,
            color: "yellow".into(),
            width: 200,
            rects: vec![[7_200, 70_000, 30_000, 71_200]],
            strokes: vec![],
            text: String::new(),
            sharing: Sharing::Private,
            rev: 1,
            device_id: id(9),
            deleted: false,
        }
    }

    #[test]
    fn shapes_are_checked() {
        assert!(mark(AnnotationKind::Highlight).checked().is_ok());
        assert!(mark(AnnotationKind::Note).checked().is_ok());
        let mut ink = mark(AnnotationKind::Ink);
        ink.rects.clear();
        ink.strokes = vec![vec![[1_000, 1_000], [2_000, 2_500]]];
        assert!(ink.clone().checked().is_ok());
        let mut wide = ink.clone();
        wide.width = 10_000;
        assert_eq!(wide.checked().unwrap_err(), AnnotationError::BadWidth);
        let mut far = ink.clone();
        far.strokes[0][1][0] = i32::MAX;
        assert_eq!(far.checked().unwrap_err(), AnnotationError::BadGeometry);
        let mut huge = ink;
        huge.strokes = vec![vec![[100, 100]; MAX_POINTS + 1]];
        assert_eq!(huge.checked().unwrap_err(), AnnotationError::BadGeometry);
        let mut page0 = mark(AnnotationKind::Highlight);
        page0.page = 0;
        assert_eq!(page0.checked().unwrap_err(), AnnotationError::BadPage);
        let mut color = mark(AnnotationKind::Highlight);
        color.color = "url(javascript:1)".into();
        assert_eq!(color.checked().unwrap_err(), AnnotationError::BadColor);
        let mut empty = mark(AnnotationKind::Underline);
        empty.rects.clear();
        assert_eq!(empty.checked().unwrap_err(), AnnotationError::BadGeometry);
        let mut control = mark(AnnotationKind::Note);
        control.text = "a\u{0007}b".into();
        assert_eq!(control.checked().unwrap_err(), AnnotationError::BadText);
        let mut sha = mark(AnnotationKind::Bookmark);
        sha.rects.clear();
        sha.version_sha256 = "xyz".into();
        assert_eq!(sha.checked().unwrap_err(), AnnotationError::BadVersion);
        let mut gone = mark(AnnotationKind::Note);
        gone.deleted = true;
        gone.text = "secret".into();
        let gone = gone.checked().unwrap();
        assert!(gone.text.is_empty() && gone.rects.is_empty());
    }

    #[test]
    fn a_save_applies_only_over_what_it_was_made_from() {
        let (a, b) = (id(1), id(2));
        // Made from the stored revision: applies.
        assert!(applies(2, 1, &a, 1, &b));
        // Three offline edits on one tablet, sent as one save from revision 1: applies.
        assert!(applies(4, 1, &a, 1, &b));
        // Another device saved revision 2 meanwhile: this save, also made from 1, is lost,
        // whatever its own count of edits.
        assert!(!applies(2, 1, &a, 2, &b));
        assert!(!applies(9, 1, &a, 2, &b));
        // The same device's own earlier save, still in flight when this edit was made: applies.
        assert!(applies(3, 1, &a, 2, &a));
        // Never an older or equal revision, even from the same device (the log replays by rev).
        assert!(!applies(2, 1, &a, 2, &a));
        assert!(!applies(2, 2, &a, 3, &b));
        // A box restored from an older backup than the tablet saw: applies.
        assert!(applies(6, 5, &a, 3, &b));
        assert_eq!(base_of(3, None), Ok(2));
        assert_eq!(base_of(3, Some(1)), Ok(1));
        assert_eq!(base_of(0, None), Err(AnnotationError::BadRevision));
        assert_eq!(base_of(3, Some(3)), Err(AnnotationError::BadRevision));
    }

    #[test]
    fn the_higher_revision_wins_and_ties_go_to_the_later_device() {
        let a = mark(AnnotationKind::Highlight);
        let mut b = a.clone();
        b.rev = 2;
        assert!(b.wins_over(&a));
        assert!(!a.wins_over(&b));
        let mut c = a.clone();
        c.device_id = id(10);
        assert!(c.wins_over(&a));
        assert!(!a.wins_over(&c));
        assert!(
            !a.wins_over(&a.clone()),
            "the same save again changes nothing"
        );
    }
}
