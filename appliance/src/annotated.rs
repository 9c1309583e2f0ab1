//! "Bản có ghi chú của tôi": a copy of a document with its reader's marks drawn in, as real PDF
//! annotations (Highlight, Underline, Ink, Text) each carrying its own appearance stream, so
//! every viewer draws them the same way and Acrobat can still edit them. The page's content and
//! resources are not touched: a mark never changes how the document itself is drawn.

use crate::domain::annotation::{AnnotationEntry, AnnotationKind};
use lopdf::{dictionary, Dictionary, Document, Object, ObjectId, Stream};

/// The largest document exported with marks: the whole file is parsed in memory.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the document is not a PDF that can be read: {0}")]
    Unreadable(String),
    #[error("the PDF is encrypted")]
    Encrypted,
    #[error("the PDF is larger than {MAX_BYTES} bytes")]
    TooLarge,
}

/// The colour of a mark as PDF RGB.
fn rgb(name: &str) -> [f32; 3] {
    match name {
        "green" => [0.30, 0.80, 0.35],
        "blue" => [0.25, 0.55, 0.95],
        "pink" => [0.98, 0.55, 0.75],
        "red" => [0.90, 0.15, 0.15],
        "black" => [0.0, 0.0, 0.0],
        "orange" => [1.0, 0.60, 0.10],
        "purple" => [0.60, 0.35, 0.85],
        _ => [1.0, 0.90, 0.10],
    }
}

/// Hundredths of a point → points.
fn pt(v: i32) -> f32 {
    v as f32 / 100.0
}

fn num(v: f32) -> Object {
    Object::Real(v)
}

/// A PDF text string in UTF-16BE with its byte-order mark, so Vietnamese survives.
fn text_string(s: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    for u in s.encode_utf16() {
        bytes.extend_from_slice(&u.to_be_bytes());
    }
    Object::String(bytes, lopdf::StringFormat::Hexadecimal)
}

/// `[x1, y1, x2, y2]` with x1 ≤ x2 and y1 ≤ y2, in points.
fn norm(r: &[i32; 4]) -> [f32; 4] {
    let (a, b) = (pt(r[0].min(r[2])), pt(r[0].max(r[2])));
    let (c, d) = (pt(r[1].min(r[3])), pt(r[1].max(r[3])));
    [a, c, b, d]
}

/// The box around a mark's geometry, with a margin of `pad` points.
fn bbox(m: &AnnotationEntry, pad: f32) -> Option<[f32; 4]> {
    let mut pts: Vec<(f32, f32)> = Vec::new();
    for r in &m.rects {
        let r = norm(r);
        pts.push((r[0], r[1]));
        pts.push((r[2], r[3]));
    }
    for p in m.strokes.iter().flatten() {
        pts.push((pt(p[0]), pt(p[1])));
    }
    let (mut x1, mut y1, mut x2, mut y2) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for (x, y) in pts {
        x1 = x1.min(x);
        y1 = y1.min(y);
        x2 = x2.max(x);
        y2 = y2.max(y);
    }
    (x1 <= x2).then_some([x1 - pad, y1 - pad, x2 + pad, y2 + pad])
}

/// The appearance of one mark, in page space, and its annotation subtype.
fn appearance(m: &AnnotationEntry) -> Option<(&'static str, String)> {
    let [r, g, b] = rgb(&m.color);
    let mut ops = String::new();
    let sub = match m.kind {
        AnnotationKind::Highlight => {
            ops.push_str(&format!("/G0 gs {r} {g} {b} rg\n"));
            for rect in &m.rects {
                let [x1, y1, x2, y2] = norm(rect);
                ops.push_str(&format!("{x1} {y1} {} {} re f\n", x2 - x1, y2 - y1));
            }
            "Highlight"
        }
        AnnotationKind::Underline => {
            ops.push_str(&format!("{r} {g} {b} RG 1.2 w\n"));
            for rect in &m.rects {
                let [x1, y1, x2, _] = norm(rect);
                ops.push_str(&format!("{x1} {} m {x2} {} l S\n", y1 + 0.8, y1 + 0.8));
            }
            "Underline"
        }
        AnnotationKind::Ink => {
            ops.push_str(&format!(
                "{r} {g} {b} RG {} w 1 J 1 j\n",
                m.width as f32 / 100.0
            ));
            for stroke in &m.strokes {
                let mut it = stroke.iter();
                let first = it.next()?;
                ops.push_str(&format!("{} {} m\n", pt(first[0]), pt(first[1])));
                if stroke.len() == 1 {
                    ops.push_str(&format!("{} {} l\n", pt(first[0]), pt(first[1])));
                }
                for p in it {
                    ops.push_str(&format!("{} {} l\n", pt(p[0]), pt(p[1])));
                }
                ops.push_str("S\n");
            }
            "Ink"
        }
        AnnotationKind::Note => {
            // A small square note sign; the text is the annotation's Contents.
            let [x1, y1, _, _] = norm(m.rects.first()?);
            ops.push_str(&format!(
                "{r} {g} {b} rg 0 0 0 RG 0.8 w {x1} {y1} 16 16 re B\n"
            ));
            ops.push_str(&format!(
                "{} {} m {} {} l {} {} m {} {} l S\n",
                x1 + 3.0,
                y1 + 11.0,
                x1 + 13.0,
                y1 + 11.0,
                x1 + 3.0,
                y1 + 6.0,
                x1 + 10.0,
                y1 + 6.0
            ));
            "Text"
        }
        AnnotationKind::Bookmark => return None,
    };
    Some((sub, ops))
}

/// The document with `marks` drawn in. Marks on pages the document does not have, erased marks
/// and bookmarks are left out.
///
/// The marks are appended to the file as an incremental update, the way Acrobat adds comments:
/// the original bytes stay as they were in front, so a document signed by its issuing office
/// (most Vietnamese official papers are) still shows a valid signature, with the marks as
/// changes after signing. A file that was encrypted (with an empty user password, as "no
/// printing" files are) or that the appended copy does not read back from is rewritten whole
/// instead, without the encryption.
pub fn annotated(original: &[u8], marks: &[AnnotationEntry]) -> Result<Vec<u8>, ExportError> {
    if original.len() as u64 > MAX_BYTES {
        return Err(ExportError::TooLarge);
    }
    let doc = Document::load_mem(original).map_err(|e| ExportError::Unreadable(e.to_string()))?;
    if doc.is_encrypted() {
        return Err(ExportError::Encrypted);
    }
    if doc.encryption_state.is_some() {
        return rewritten(doc, marks);
    }
    match appended(original, doc, marks) {
        Ok(out) => Ok(out),
        Err(e) => {
            tracing::debug!("marks not appended, the copy is rewritten: {e}");
            let doc =
                Document::load_mem(original).map_err(|e| ExportError::Unreadable(e.to_string()))?;
            rewritten(doc, marks)
        }
    }
}

/// The original bytes, then one incremental update holding the marks and the pages they are
/// on. Checked by reading the result back: every page there, every mark on its page.
fn appended(
    original: &[u8],
    doc: Document,
    marks: &[AnnotationEntry],
) -> Result<Vec<u8>, ExportError> {
    let bad = |e: lopdf::Error| ExportError::Unreadable(e.to_string());
    let pages = doc.get_pages();
    let mut update = Document::new_from_prev(&doc);
    let placed = add_marks(&mut update, &pages, marks, |update, page| {
        // The page (and an /Annots array it refers to) is written again in the update.
        for id in [Some(page), annots_ref(&doc, page)].into_iter().flatten() {
            if !update.objects.contains_key(&id) {
                update.set_object(id, doc.get_object(id).map_err(bad)?.clone());
            }
        }
        Ok(())
    })?;
    let mut out = Vec::with_capacity(original.len() + 4096 * (placed.len() + 1));
    let mut inc = lopdf::IncrementalDocument::create_from(original.to_vec(), doc);
    inc.new_document = update;
    inc.save_to(&mut out)
        .map_err(|e| ExportError::Unreadable(e.to_string()))?;
    drop(inc);
    // Read back as a viewer would: the same pages, and each page's new marks on it.
    let back = Document::load_mem(&out).map_err(bad)?;
    let back_pages = back.get_pages();
    if back_pages.len() != pages.len() {
        return Err(ExportError::Unreadable(
            "the appended copy lost pages".into(),
        ));
    }
    for (n, ids) in &placed {
        let page = *back_pages
            .get(n)
            .ok_or_else(|| ExportError::Unreadable("a page went missing".into()))?;
        let on_page: Vec<ObjectId> = match back.get_dictionary(page).map_err(bad)?.get(b"Annots") {
            Ok(Object::Array(list)) => list.iter().filter_map(|o| o.as_reference().ok()).collect(),
            Ok(Object::Reference(id)) => match back.get_object(*id) {
                Ok(Object::Array(list)) => {
                    list.iter().filter_map(|o| o.as_reference().ok()).collect()
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        if !ids.iter().all(|id| on_page.contains(id)) {
            return Err(ExportError::Unreadable(format!(
                "the appended marks of page {n} do not read back"
            )));
        }
    }
    Ok(out)
}

/// The whole document written again with the marks in it.
fn rewritten(mut doc: Document, marks: &[AnnotationEntry]) -> Result<Vec<u8>, ExportError> {
    let pages = doc.get_pages();
    add_marks(&mut doc, &pages, marks, |_, _| Ok(()))?;
    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| ExportError::Unreadable(e.to_string()))?;
    Ok(out)
}

/// The object a page's `/Annots` refers to, when it is a reference.
fn annots_ref(doc: &Document, page: ObjectId) -> Option<ObjectId> {
    match doc.get_dictionary(page).ok()?.get(b"Annots") {
        Ok(Object::Reference(id)) => Some(*id),
        _ => None,
    }
}

/// Adds each mark to `target` as an annotation on its page; `prepare` runs before a page's
/// `/Annots` is changed (an incremental update copies the page in). Returns the annotations
/// added, by page number.
fn add_marks(
    target: &mut Document,
    pages: &std::collections::BTreeMap<u32, ObjectId>,
    marks: &[AnnotationEntry],
    mut prepare: impl FnMut(&mut Document, ObjectId) -> Result<(), ExportError>,
) -> Result<std::collections::BTreeMap<u32, Vec<ObjectId>>, ExportError> {
    let mut placed: std::collections::BTreeMap<u32, Vec<ObjectId>> = Default::default();
    let alpha = target.add_object(dictionary! {
        "Type" => "ExtGState",
        "ca" => num(0.35),
        "CA" => num(1.0),
        "BM" => "Multiply",
    });
    for m in marks.iter().filter(|m| !m.deleted) {
        let Some(&page_id) = pages.get(&m.page) else {
            continue;
        };
        let Some((subtype, ops)) = appearance(m) else {
            continue;
        };
        let pad = if m.kind == AnnotationKind::Note {
            16.0
        } else {
            m.width as f32 / 100.0 + 1.0
        };
        let Some(rect) = bbox(m, pad) else {
            continue;
        };
        let form = Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Form",
                "BBox" => rect.iter().map(|v| num(*v)).collect::<Vec<_>>(),
                "Resources" => dictionary! {
                    "ExtGState" => dictionary! { "G0" => Object::Reference(alpha) },
                },
            },
            ops.into_bytes(),
        );
        let form_id = target.add_object(form);
        let [r, g, b] = rgb(&m.color);
        let mut annot = dictionary! {
            "Type" => "Annot",
            "Subtype" => subtype,
            "Rect" => rect.iter().map(|v| num(*v)).collect::<Vec<_>>(),
            "C" => vec![num(r), num(g), num(b)],
            "F" => 4,
            "NM" => text_string(m.id.as_str()),
            "AP" => dictionary! { "N" => Object::Reference(form_id) },
        };
        if !m.text.is_empty() {
            annot.set("Contents", text_string(&m.text));
        }
        match m.kind {
            AnnotationKind::Highlight | AnnotationKind::Underline => {
                let quads: Vec<Object> = m
                    .rects
                    .iter()
                    .flat_map(|r| {
                        let [x1, y1, x2, y2] = norm(r);
                        [x1, y2, x2, y2, x1, y1, x2, y1]
                    })
                    .map(num)
                    .collect();
                annot.set("QuadPoints", quads);
            }
            AnnotationKind::Ink => {
                let list: Vec<Object> = m
                    .strokes
                    .iter()
                    .map(|s| {
                        Object::Array(
                            s.iter()
                                .flat_map(|p| [pt(p[0]), pt(p[1])])
                                .map(num)
                                .collect(),
                        )
                    })
                    .collect();
                annot.set("InkList", list);
                annot.set("BS", dictionary! { "W" => num(m.width as f32 / 100.0) });
            }
            AnnotationKind::Note | AnnotationKind::Bookmark => {}
        }
        annot.set("P", Object::Reference(page_id));
        let annot_id = target.add_object(annot);
        prepare(target, page_id)?;
        add_annotation(target, page_id, annot_id)?;
        placed.entry(m.page).or_default().push(annot_id);
    }
    Ok(placed)
}

/// Appends an annotation to a page's `/Annots`, which may be absent, an array, or a reference
/// to one.
fn add_annotation(doc: &mut Document, page: ObjectId, annot: ObjectId) -> Result<(), ExportError> {
    let bad = |e: lopdf::Error| ExportError::Unreadable(e.to_string());
    let existing = doc
        .get_dictionary(page)
        .map_err(bad)?
        .get(b"Annots")
        .ok()
        .cloned();
    match existing {
        Some(Object::Reference(id)) => {
            if let Ok(Object::Array(list)) = doc.get_object_mut(id) {
                list.push(Object::Reference(annot));
                return Ok(());
            }
            set_annots(doc, page, vec![Object::Reference(annot)])
        }
        Some(Object::Array(mut list)) => {
            list.push(Object::Reference(annot));
            set_annots(doc, page, list)
        }
        _ => set_annots(doc, page, vec![Object::Reference(annot)]),
    }
}

fn set_annots(doc: &mut Document, page: ObjectId, list: Vec<Object>) -> Result<(), ExportError> {
    let dict: &mut Dictionary = doc
        .get_dictionary_mut(page)
        .map_err(|e| ExportError::Unreadable(e.to_string()))?;
    dict.set("Annots", list);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::annotation::Sharing;
    use crate::domain::records::Id;
    use crate::test_pdfs as pdfs;

    fn id(n: u8) -> Id {
        Id::parse(&format!("{n:032x}")).unwrap()
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name),
        )
        .unwrap()
    }

    fn mark(n: u8, page: u32, kind: AnnotationKind) -> AnnotationEntry {
        AnnotationEntry {
            id: id(n),
            owner_id: id(2),
            document_id: id(3),
            version_sha256: "ab".repeat(32),
            page,
            kind,
            color: "yellow".into(),
            width: 300,
            rects: vec![[7_200, 60_000, 30_000, 61_200]],
            strokes: vec![],
            text: "Ghi chú: hỏi lại khoản chi".into(),
            sharing: Sharing::Private,
            rev: 1,
            device_id: id(9),
            deleted: false,
        }
    }

    #[test]
    fn marks_become_annotations_with_appearances_and_the_pages_are_untouched() {
        let original = fixture("to-trinh-du-toan.pdf");
        let before = Document::load_mem(&original).unwrap();
        let mut ink = mark(4, 1, AnnotationKind::Ink);
        ink.rects.clear();
        ink.strokes = vec![vec![[10_000, 10_000], [20_000, 15_000], [30_000, 10_000]]];
        let mut gone = mark(5, 1, AnnotationKind::Highlight);
        gone.deleted = true;
        let marks = vec![
            mark(1, 1, AnnotationKind::Highlight),
            mark(2, 1, AnnotationKind::Underline),
            mark(3, 1, AnnotationKind::Note),
            ink,
            gone,
            mark(6, 999, AnnotationKind::Highlight),
        ];
        let out = annotated(&original, &marks).unwrap();
        let after = Document::load_mem(&out).unwrap();
        let page = *after.get_pages().get(&1).unwrap();
        let annots = after.get_page_annotations(page).unwrap();
        let subtypes: Vec<String> = annots
            .iter()
            .map(|a| {
                String::from_utf8_lossy(a.get(b"Subtype").unwrap().as_name().unwrap()).into_owned()
            })
            .collect();
        for want in ["Highlight", "Underline", "Text", "Ink"] {
            assert!(subtypes.iter().any(|s| s == want), "{subtypes:?}");
        }
        assert_eq!(
            subtypes.len(),
            4,
            "erased marks and missing pages are left out"
        );
        for a in &annots {
            assert!(a.get(b"AP").is_ok(), "every mark carries its appearance");
        }
        // The page's own content is exactly what it was.
        let page_before = *before.get_pages().get(&1).unwrap();
        assert_eq!(
            before.get_page_content(page_before).unwrap(),
            after.get_page_content(page).unwrap()
        );
        assert_eq!(before.get_pages().len(), after.get_pages().len());
    }

    /// Renders page 1 with hayro (a pure-Rust rasterizer that draws annotations' appearance
    /// streams, as pdf.js does) and returns a pixel reader in PDF points.
    fn render_page1(pdf: &[u8]) -> (hayro::vello_cpu::Pixmap, f32) {
        let doc = hayro::hayro_syntax::Pdf::new(std::sync::Arc::new(pdf.to_vec())).unwrap();
        let pages = doc.pages();
        let page = pages.iter().next().unwrap();
        let (_, height) = page.render_dimensions();
        let cache = hayro::RenderCache::new();
        let settings = hayro::RenderSettings {
            x_scale: 2.0,
            y_scale: 2.0,
            ..Default::default()
        };
        let pixmap = hayro::render(
            page,
            &cache,
            &hayro::hayro_interpret::InterpreterSettings::default(),
            &settings,
        );
        (pixmap, height)
    }

    fn px(p: &hayro::vello_cpu::Pixmap, height: f32, x: f32, y: f32) -> [u8; 4] {
        let c = p.sample((x * 2.0) as u16, ((height - y) * 2.0) as u16);
        [c.r, c.g, c.b, c.a]
    }

    /// The check: render the exported page and compare pixels in the marked areas with
    /// the original's, and elsewhere.
    #[test]
    fn the_exported_page_shows_the_marks_where_they_were_made() {
        let original = fixture("to-trinh-du-toan.pdf");
        let mut hl = mark(1, 1, AnnotationKind::Highlight);
        hl.rects = vec![[10_000, 20_000, 40_000, 24_000]];
        let mut ink = mark(2, 1, AnnotationKind::Ink);
        ink.color = "red".into();
        ink.width = 400;
        ink.rects.clear();
        ink.strokes = vec![vec![[10_000, 10_000], [40_000, 10_000]]];
        let out = annotated(&original, &[hl, ink]).unwrap();
        let (before, h) = render_page1(&original);
        let (after, h2) = render_page1(&out);
        assert_eq!(h, h2);
        assert_eq!(
            (before.width(), before.height()),
            (after.width(), after.height())
        );
        // Inside the highlight (100–400 × 200–240 pt): tinted yellow, so less blue than before.
        let (b, a) = (px(&before, h, 250.0, 220.0), px(&after, h, 250.0, 220.0));
        assert_ne!(b, a, "the highlight is drawn");
        assert!(
            a[2] < b[2].max(1) || (b[3] == 0 && a[3] > 0),
            "yellow: {b:?} → {a:?}"
        );
        // On the ink stroke (y = 100 pt, 4 pt wide): red.
        let a = px(&after, h, 250.0, 100.0);
        assert!(a[0] > 150 && a[1] < 100 && a[2] < 100, "red ink: {a:?}");
        // Far from both marks, nothing changed.
        assert_eq!(px(&before, h, 500.0, 60.0), px(&after, h, 500.0, 60.0));
        assert_eq!(px(&before, h, 50.0, 400.0), px(&after, h, 50.0, 400.0));
    }

    /// A page turned with `/Rotate 90`: marks are kept in the page's own (unrotated) space, as
    /// pdf.js's viewport gives them, and the viewer turns them with the page. Rendered, the
    /// stroke and the highlight sit where the turned page shows those points: user-space
    /// (x, y) is drawn at (y, x) from the top-left of the turned page.
    #[test]
    fn marks_on_a_rotated_page_turn_with_it() {
        let mut doc = Document::load_mem(&fixture("to-trinh-du-toan.pdf")).unwrap();
        let page = *doc.get_pages().get(&1).unwrap();
        doc.get_object_mut(page)
            .unwrap()
            .as_dict_mut()
            .unwrap()
            .set("Rotate", 90);
        let mut rotated = Vec::new();
        doc.save_to(&mut rotated).unwrap();
        let mut hl = mark(1, 1, AnnotationKind::Highlight);
        hl.rects = vec![[10_000, 20_000, 40_000, 24_000]];
        let mut ink = mark(2, 1, AnnotationKind::Ink);
        ink.color = "red".into();
        ink.width = 400;
        ink.rects.clear();
        ink.strokes = vec![vec![[10_000, 10_000], [40_000, 10_000]]];
        let out = annotated(&rotated, &[hl, ink]).unwrap();
        let (before, _) = render_page1(&rotated);
        let (after, _) = render_page1(&out);
        assert!(
            after.width() > after.height(),
            "the A4 page is drawn turned (landscape): {}×{}",
            after.width(),
            after.height()
        );
        // Top-left coordinates of the turned page, in points.
        let at = |p: &hayro::vello_cpu::Pixmap, sx: f32, sy: f32| {
            let c = p.sample((sx * 2.0) as u16, (sy * 2.0) as u16);
            [c.r, c.g, c.b, c.a]
        };
        // The stroke at user y = 100, x = 100..400: a vertical red line at 100 pt from the left.
        let a = at(&after, 100.0, 250.0);
        assert!(a[0] > 150 && a[1] < 100 && a[2] < 100, "red ink: {a:?}");
        // Where it would be had the page not turned: unchanged.
        assert_eq!(at(&before, 250.0, 100.0), at(&after, 250.0, 100.0));
        // Inside the highlight (user 250, 220 → 220, 250): tinted.
        let (b, a) = (at(&before, 220.0, 250.0), at(&after, 220.0, 250.0));
        assert!(
            a[2] < b[2].max(1) || (b[3] == 0 && a[3] > 0),
            "yellow: {b:?} → {a:?}"
        );
        // Far from both marks, nothing changed.
        assert_eq!(at(&before, 60.0, 500.0), at(&after, 60.0, 500.0));
    }

    /// The ways an office's PDF may be laid out: as the fixtures come (a classic
    /// cross-reference table), with a cross-reference stream (PDF 1.5 and later, as Word and
    /// most scanners write), and with a page whose `/Annots` is a reference to an array that
    /// already holds a link.
    fn layouts() -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for name in [
            "to-trinh-du-toan.pdf",
            "giay-moi-hop.pdf",
            "bao-cao-kinh-te-xa-hoi.pdf",
        ] {
            let original = fixture(name);
            let mut doc = Document::load_mem(&original).unwrap();
            doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceStream;
            let mut streamed = Vec::new();
            doc.save_to(&mut streamed).unwrap();
            assert!(
                streamed.windows(5).any(|w| w == b"/XRef")
                    && !streamed.windows(5).any(|w| w == b"\nxref"),
                "{name}: a cross-reference stream, no table"
            );
            let mut doc = Document::load_mem(&original).unwrap();
            let page = *doc.get_pages().get(&1).unwrap();
            let link = doc.add_object(dictionary! {
                "Type" => "Annot",
                "Subtype" => "Link",
                "Rect" => vec![num(10.0), num(10.0), num(60.0), num(30.0)],
                "Border" => vec![0.into(), 0.into(), 0.into()],
            });
            let list = doc.add_object(vec![Object::Reference(link)]);
            doc.get_object_mut(page)
                .unwrap()
                .as_dict_mut()
                .unwrap()
                .set("Annots", Object::Reference(list));
            let mut linked = Vec::new();
            doc.save_to(&mut linked).unwrap();
            out.push((name.to_owned(), original));
            out.push((format!("{name}, xref stream"), streamed));
            out.push((format!("{name}, /Annots by reference"), linked));
        }
        out.push(("pages in an object stream".to_owned(), object_stream_pdf()));
        out
    }

    /// A one-page PDF as Word's "Save as PDF" lays it out: the catalog, the page tree and the
    /// page compressed into an object stream, found through a cross-reference stream.
    fn object_stream_pdf() -> Vec<u8> {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>",
        ];
        let mut header = String::new();
        let mut body = String::new();
        for (i, o) in objects.iter().enumerate() {
            header.push_str(&format!("{} {} ", i + 1, body.len()));
            body.push_str(o);
            body.push(' ');
        }
        let mut out: Vec<u8> = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let content = b"0.85 g 50 600 300 150 re f";
        let at4 = out.len();
        out.extend_from_slice(
            format!("4 0 obj\n<< /Length {} >>\nstream\n", content.len()).as_bytes(),
        );
        out.extend_from_slice(content);
        out.extend_from_slice(b"\nendstream\nendobj\n");
        let at5 = out.len();
        let stm = format!("{header}{body}");
        out.extend_from_slice(
            format!(
                "5 0 obj\n<< /Type /ObjStm /N 3 /First {} /Length {} >>\nstream\n{stm}\nendstream\nendobj\n",
                header.len(),
                stm.len()
            )
            .as_bytes(),
        );
        let at6 = out.len();
        let mut xref = Vec::new();
        let mut entry = |kind: u8, field: u32, index: u16| {
            xref.push(kind);
            xref.extend_from_slice(&field.to_be_bytes());
            xref.extend_from_slice(&index.to_be_bytes());
        };
        entry(0, 0, 0xFFFF);
        for i in 0..3 {
            entry(2, 5, i);
        }
        for at in [at4, at5, at6] {
            entry(1, at as u32, 0);
        }
        out.extend_from_slice(
            format!(
                "6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length {} >>\nstream\n",
                xref.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&xref);
        out.extend_from_slice(format!("\nendstream\nendobj\nstartxref\n{at6}\n%%EOF\n").as_bytes());
        out
    }

    fn annots_on_page1(pdf: &[u8]) -> Vec<String> {
        let doc = Document::load_mem(pdf).unwrap();
        let page = *doc.get_pages().get(&1).unwrap();
        doc.get_page_annotations(page)
            .unwrap()
            .iter()
            .map(|a| String::from_utf8_lossy(a.get(b"Subtype").unwrap().as_name().unwrap()).into())
            .collect()
    }

    fn red_stroke() -> AnnotationEntry {
        let mut ink = mark(2, 1, AnnotationKind::Ink);
        ink.color = "red".into();
        ink.width = 400;
        ink.rects.clear();
        ink.strokes = vec![vec![[10_000, 10_000], [40_000, 10_000]]];
        ink
    }

    #[test]
    fn marks_are_appended_after_the_original_bytes_in_every_layout() {
        for (name, original) in layouts() {
            let before = annots_on_page1(&original);
            let out = annotated(
                &original,
                &[mark(1, 1, AnnotationKind::Highlight), red_stroke()],
            )
            .unwrap();
            assert!(
                out.starts_with(&original),
                "{name}: the original bytes stay in front"
            );
            assert!(out.len() > original.len(), "{name}");
            let after = annots_on_page1(&out);
            assert_eq!(after.len(), before.len() + 2, "{name}: {after:?}");
            assert!(
                after.starts_with(&before),
                "{name}: the file's own annotations stay"
            );
            assert_eq!(
                Document::load_mem(&out).unwrap().get_pages().len(),
                Document::load_mem(&original).unwrap().get_pages().len(),
                "{name}"
            );
            // A renderer reads the update: the stroke is drawn.
            let (after, h) = render_page1(&out);
            let a = px(&after, h, 250.0, 100.0);
            assert!(
                a[0] > 150 && a[1] < 100 && a[2] < 100,
                "{name}: red ink: {a:?}"
            );
        }
    }

    /// Official papers come signed by the office that issued them. The annotated copy keeps
    /// that signature valid: the marks are changes after signing, as Acrobat's comments are.
    #[test]
    fn a_signed_document_keeps_its_signature_valid_under_the_marks() {
        use pdf_signer::{sign_pdf_bytes, verify_pdf_bytes, SignOptions};
        let p12 = pdf_signer::testkit::self_signed_p256_p12("ubnd-xa");
        let opts = SignOptions {
            reason: Some("Ký số văn bản".into()),
            name: Some("UBND xã Tân Phú".into()),
            signing_time: Some("D:20261125080000Z".into()),
            ..Default::default()
        };
        let signed =
            sign_pdf_bytes(&fixture("to-trinh-du-toan.pdf"), &p12, "ubnd-xa", &opts).unwrap();
        assert!(verify_pdf_bytes(&signed).unwrap().all_valid());
        let out = annotated(
            &signed,
            &[mark(1, 1, AnnotationKind::Highlight), red_stroke()],
        )
        .unwrap();
        assert!(out.starts_with(&signed));
        let report = verify_pdf_bytes(&out).unwrap();
        assert_eq!(report.signatures.len(), 1);
        let sig = &report.signatures[0];
        assert!(
            sig.valid,
            "the office's signature still verifies: {}",
            sig.detail
        );
        assert!(
            !sig.covers_whole_document,
            "and it says the marks came after it"
        );
        let subtypes = annots_on_page1(&out);
        assert!(
            subtypes.iter().any(|s| s == "Highlight") && subtypes.iter().any(|s| s == "Ink"),
            "{subtypes:?}"
        );
        // Rewritten whole (as before this change), the signature would no longer verify.
        let rewritten = rewritten(Document::load_mem(&signed).unwrap(), &[red_stroke()]).unwrap();
        assert!(!verify_pdf_bytes(&rewritten)
            .map(|r| r.all_valid())
            .unwrap_or(false));
    }

    fn encrypted(user_password: &str) -> Vec<u8> {
        let mut doc = Document::load_mem(&fixture("giay-moi-hop.pdf")).unwrap();
        if doc.trailer.get(b"ID").is_err() {
            let id = Object::String(vec![7; 16], lopdf::StringFormat::Hexadecimal);
            doc.trailer.set("ID", vec![id.clone(), id]);
        }
        let version = lopdf::EncryptionVersion::V2 {
            document: &doc,
            owner_password: "chi-van-thu-biet",
            user_password,
            key_length: 128,
            permissions: lopdf::Permissions::PRINTABLE,
        };
        let state = lopdf::EncryptionState::try_from(version).unwrap();
        doc.encrypt(&state).unwrap();
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    /// "No copying" files: encrypted with an owner password and an empty user password, which
    /// every viewer opens. The copy is rewritten whole and readable; a file that needs a
    /// password to open is refused.
    #[test]
    fn an_encrypted_file_anyone_can_open_is_rewritten_and_one_with_a_password_refused() {
        let locked = encrypted("");
        assert!(locked.windows(8).any(|w| w == b"/Encrypt"));
        let out = annotated(&locked, &[red_stroke()]).unwrap();
        assert!(!out.starts_with(&locked));
        let doc = Document::load_mem(&out).unwrap();
        assert!(!doc.is_encrypted() && doc.trailer.get(b"Encrypt").is_err());
        assert_eq!(annots_on_page1(&out), vec!["Ink".to_owned()]);
        let (after, h) = render_page1(&out);
        let a = px(&after, h, 250.0, 100.0);
        assert!(a[0] > 150 && a[1] < 100 && a[2] < 100, "red ink: {a:?}");
        assert!(matches!(
            annotated(&encrypted("mat-khau"), &[red_stroke()]),
            Err(ExportError::Encrypted)
        ));
    }

    /// `cargo test --lib figures_for_a_large_scan -- --ignored --nocapture`, under
    /// `/usr/bin/time -v` for the peak memory: one export of a 60 MB, 300-page scan.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn figures_for_a_large_scan() {
        let pdf = pdfs::scanned_pdf(300, 60 * 1024 * 1024 / 300);
        let start = std::time::Instant::now();
        let out = annotated(
            &pdf,
            &[red_stroke(), mark(1, 150, AnnotationKind::Highlight)],
        )
        .unwrap();
        println!(
            "a {} MB scan, 2 marks: {:?}, copy {} MB, appended: {}",
            pdf.len() / 1_000_000,
            start.elapsed(),
            out.len() / 1_000_000,
            out.starts_with(&pdf)
        );
    }

    /// A file whose `startxref` points at the wrong place: pdf.js rebuilds the table and shows
    /// it, lopdf does not, so the box says it cannot make the copy (the reader shows why).
    #[test]
    fn a_file_with_a_broken_cross_reference_is_refused_as_unreadable() {
        let mut pdf = fixture("giay-moi-hop.pdf");
        let at = pdf.windows(9).rposition(|w| w == b"startxref").unwrap() + 10;
        let end = at + pdf[at..].iter().position(|b| *b == b'\n').unwrap();
        let wrong = format!("{:0width$}", 17, width = end - at);
        pdf.splice(at..end, wrong.bytes());
        assert!(matches!(
            annotated(&pdf, &[red_stroke()]),
            Err(ExportError::Unreadable(_))
        ));
    }

    #[test]
    fn garbage_is_refused() {
        assert!(matches!(
            annotated(b"%PDF-1.7 not really", &[]),
            Err(ExportError::Unreadable(_))
        ));
    }
}
