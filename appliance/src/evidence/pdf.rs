//! `result.pdf`: the signed result as an A4 page people can read, in Vietnamese. Noto Sans is
//! embedded as a subset, written as a CID font (Type 0 / CIDFontType2, Identity-H) with a
//! ToUnicode map, so every Vietnamese letter is shown and can be selected and searched.
//!
//! The file is one revision with a classic cross-reference table, no form fields and no
//! encryption: the chair's signing software adds a PAdES signature as an incremental update
//! and places it in the empty box drawn at the end ([`SignatureBox`]).

use super::EvidenceError;
use crate::domain::person::PersonName;
use crate::domain::quorum::{Comparison, Threshold};
use crate::domain::vote::{
    Base, Choice, Marked, Method, Outcome, QuestionEntry, QuestionKind, Secrecy, SignedResult,
    TieRule,
};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use unicode_normalization::UnicodeNormalization;

/// Noto Sans (SIL OFL 1.1; the licence is in `appliance/assets/fonts/OFL.txt`).
const REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Regular.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/NotoSans-Bold.ttf");

/// The legal name of the box's signature (Law on Electronic Transactions 20/2023/QH15): a
/// specialised electronic signature, never "chữ ký số".
pub const LEGAL_LABEL: &str = "Chữ ký điện tử chuyên dùng của hệ thống phòng họp";

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
/// 2 cm margins; the footer sits in the bottom one.
const MARGIN: f32 = 56.7;
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;
pub(crate) const BODY: f32 = 10.5;
pub(crate) const SMALL: f32 = 8.5;
/// Where the labels of "label: value" lines end.
const LABEL_W: f32 = 150.0;

/// Where the chair's signature goes: the page (1-based) and the box in PDF points, as signing
/// software asks for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignatureBox {
    pub page: usize,
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

/// The PDF and where its signature box is.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub pages: usize,
    pub signature_box: SignatureBox,
}

/// Renders the result of a closed vote.
pub fn render(signed: &SignedResult) -> Result<Rendered, EvidenceError> {
    let mut doc = Doc::new()?;
    write_result(&mut doc, signed);
    doc.finish(signed)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

/// One embedded font: its face for measuring, and the glyphs used so far.
struct Font {
    data: &'static [u8],
    face: ttf_parser::Face<'static>,
    /// Old glyph id → new, in the order first used; the new ids are the CIDs in the content.
    remap: subsetter::GlyphRemapper,
    /// New glyph id → the text it stands for, for the ToUnicode map.
    text: BTreeMap<u16, char>,
    resource: &'static [u8],
    postscript: &'static str,
}

impl Font {
    fn new(
        data: &'static [u8],
        resource: &'static [u8],
        postscript: &'static str,
    ) -> Result<Self, EvidenceError> {
        let face = ttf_parser::Face::parse(data, 0)
            .map_err(|e| EvidenceError::Pdf(format!("the embedded font: {e}")))?;
        Ok(Font {
            data,
            face,
            remap: subsetter::GlyphRemapper::new(),
            text: BTreeMap::new(),
            resource,
            postscript,
        })
    }

    fn units(&self) -> f32 {
        f32::from(self.face.units_per_em().max(1))
    }

    fn glyph(&self, c: char) -> u16 {
        self.face.glyph_index(c).map(|g| g.0).unwrap_or(0)
    }

    fn advance(&self, gid: u16) -> f32 {
        f32::from(
            self.face
                .glyph_hor_advance(ttf_parser::GlyphId(gid))
                .unwrap_or(0),
        )
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text.chars().map(|c| self.advance(self.glyph(c))).sum();
        units * size / self.units()
    }

    /// The text as two-byte CIDs (the subset's glyph ids), recording what each stands for.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let old = self.glyph(c);
            let new = self.remap.remap(old);
            if old != 0 {
                self.text.entry(new).or_insert(c);
            }
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }
}

/// Pages being laid out from the top down (the result PDF and the room's access sheet).
pub(crate) struct Doc {
    fonts: [Font; 2],
    pages: Vec<Content>,
    /// The baseline of the next line on the current page.
    y: f32,
    signature_box: Option<SignatureBox>,
}

/// Text as it may be drawn: NFC (so each Vietnamese letter is one precomposed glyph) with
/// control characters turned into spaces.
fn clean(s: &str) -> String {
    s.nfc()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl Doc {
    pub(crate) fn new() -> Result<Self, EvidenceError> {
        let mut d = Doc {
            fonts: [
                Font::new(REGULAR_TTF, b"F1", "NotoSans-Regular")?,
                Font::new(BOLD_TTF, b"F2", "NotoSans-Bold")?,
            ],
            pages: Vec::new(),
            y: 0.0,
            signature_box: None,
        };
        d.new_page();
        Ok(d)
    }

    fn font(&self, w: Weight) -> &Font {
        match w {
            Weight::Regular => &self.fonts[0],
            Weight::Bold => &self.fonts[1],
        }
    }

    fn font_mut(&mut self, w: Weight) -> &mut Font {
        match w {
            Weight::Regular => &mut self.fonts[0],
            Weight::Bold => &mut self.fonts[1],
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = PAGE_H - MARGIN;
    }

    fn page(&mut self) -> &mut Content {
        if self.pages.is_empty() {
            self.pages.push(Content::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page unless `height` more points fit above the bottom margin.
    fn ensure(&mut self, height: f32) {
        if self.y - height < MARGIN {
            self.new_page();
        }
    }

    fn leading(size: f32) -> f32 {
        size * 1.45
    }

    /// Draws one line of text with its baseline at (x, y).
    fn text_at(&mut self, w: Weight, size: f32, x: f32, y: f32, text: &str) {
        let bytes = self.font_mut(w).encode(text);
        let resource = self.font(w).resource;
        let page = self.page();
        page.begin_text();
        page.set_font(Name(resource), size);
        page.next_line(x, y);
        page.show(Str(&bytes));
        page.end_text();
    }

    /// Breaks text into lines no wider than `width`, at spaces, or inside a word too long for
    /// a line.
    fn wrap(&self, w: Weight, size: f32, text: &str, width: f32) -> Vec<String> {
        let font = self.font(w);
        let mut lines = Vec::new();
        for paragraph in clean(text).split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if font.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line is cut where it must be.
                for c in word.chars() {
                    line.push(c);
                    if font.width(&line, size) > width && line.chars().count() > 1 {
                        line.pop();
                        lines.push(std::mem::take(&mut line));
                        line.push(c);
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    /// A wrapped paragraph starting at `indent` from the left margin.
    pub(crate) fn para(&mut self, w: Weight, size: f32, indent: f32, text: &str) {
        for line in self.wrap(w, size, text, TEXT_W - indent) {
            self.ensure(Self::leading(size));
            let y = self.y - size;
            self.text_at(w, size, MARGIN + indent, y, &line);
            self.y -= Self::leading(size);
        }
    }

    pub(crate) fn centered(&mut self, w: Weight, size: f32, text: &str) {
        for line in self.wrap(w, size, text, TEXT_W) {
            self.ensure(Self::leading(size));
            let x = MARGIN + (TEXT_W - self.font(w).width(&line, size)) / 2.0;
            let y = self.y - size;
            self.text_at(w, size, x, y, &line);
            self.y -= Self::leading(size);
        }
    }

    /// "Label: value" with the value wrapped beside the label.
    pub(crate) fn field(&mut self, label: &str, value: &str) {
        let lines = self.wrap(Weight::Regular, BODY, value, TEXT_W - LABEL_W);
        let lead = Self::leading(BODY);
        self.ensure(lead * lines.len().min(3) as f32);
        let y = self.y - BODY;
        self.text_at(Weight::Bold, BODY, MARGIN, y, label);
        for line in lines {
            self.ensure(lead);
            let y = self.y - BODY;
            self.text_at(Weight::Regular, BODY, MARGIN + LABEL_W, y, &line);
            self.y -= lead;
        }
    }

    pub(crate) fn gap(&mut self, h: f32) {
        self.y -= h;
    }

    fn rule(&mut self, x0: f32, x1: f32, y: f32) {
        let page = self.page();
        page.set_line_width(0.5);
        page.move_to(x0, y);
        page.line_to(x1, y);
        page.stroke();
    }

    pub(crate) fn heading(&mut self, text: &str) {
        self.gap(6.0);
        self.ensure(Self::leading(12.0) * 3.0);
        self.para(Weight::Bold, 12.0, 0.0, text);
        self.gap(2.0);
    }

    /// A table with a bold header row, repeated on each page it runs onto. `cols` are the
    /// headers and widths; each cell wraps within its column.
    fn table(&mut self, size: f32, cols: &[(&str, f32)], rows: &[Vec<String>]) {
        let lead = Self::leading(size);
        let pad = 4.0;
        let header = |d: &mut Doc| {
            d.ensure(lead * 2.0 + pad * 2.0);
            let mut x = MARGIN;
            let y = d.y - BODY;
            for (h, w) in cols {
                d.text_at(Weight::Bold, BODY, x, y, h);
                x += w;
            }
            d.y -= lead;
            let y = d.y;
            d.rule(MARGIN, MARGIN + TEXT_W, y);
            d.y -= pad;
        };
        header(self);
        for row in rows {
            let cells: Vec<Vec<String>> = cols
                .iter()
                .zip(row)
                .map(|((_, w), cell)| self.wrap(Weight::Regular, size, cell, w - 6.0))
                .collect();
            let height = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * lead;
            if self.y - height < MARGIN {
                self.new_page();
                header(self);
            }
            let mut x = MARGIN;
            for ((_, w), lines) in cols.iter().zip(&cells) {
                let mut y = self.y - size;
                for line in lines {
                    self.text_at(Weight::Regular, size, x, y, line);
                    y -= lead;
                }
                x += w;
            }
            self.y -= height;
        }
        let y = self.y;
        self.rule(MARGIN, MARGIN + TEXT_W, y);
        self.gap(pad);
    }

    /// The empty box for the chair's signature, with its caption; it stays on one page.
    fn signature_box(&mut self, caption: &[&str]) {
        let width = 250.0;
        let height = 80.0;
        let lead = Self::leading(BODY);
        self.gap(10.0);
        self.ensure(lead * caption.len() as f32 + height + 8.0);
        let x = MARGIN + TEXT_W - width;
        for (i, line) in caption.iter().enumerate() {
            let weight = if i == 0 {
                Weight::Bold
            } else {
                Weight::Regular
            };
            let size = if i == 0 { BODY } else { SMALL };
            let tx = x + (width - self.font(weight).width(line, size)) / 2.0;
            let y = self.y - size;
            self.text_at(weight, size, tx, y, line);
            self.y -= Self::leading(size);
        }
        self.gap(4.0);
        let y = self.y - height;
        let page = self.page();
        page.set_line_width(0.75);
        page.rect(x, y, width, height);
        page.stroke();
        self.signature_box = Some(SignatureBox {
            page: self.pages.len(),
            x,
            y,
            width,
            height,
        });
        self.y = y - lead;
    }

    /// The result's footer, title and file id, then the file.
    fn finish(self, signed: &SignedResult) -> Result<Rendered, EvidenceError> {
        // The question's id first: a long meeting title is cut, never the id.
        let footer = format!(
            "Mã vấn đề {} — {}",
            signed.record.question.id,
            clean(&signed.record.meeting_title)
        );
        let title = format!(
            "Kết quả biểu quyết: {}",
            clean(&signed.record.question.title)
        );
        let id = Sha256::digest(signed.signature.as_bytes())[..16].to_vec();
        let signature_box = self
            .signature_box
            .ok_or_else(|| EvidenceError::Pdf("the layout has no signature box".into()))?;
        let (bytes, pages) = self.write(&footer, &title, id)?;
        Ok(Rendered {
            bytes,
            pages,
            signature_box,
        })
    }

    /// Page numbers and `footer` on every page, then the font subsets, then the file with
    /// `title` in its document information and `id` as its file identifier.
    pub(crate) fn write(
        mut self,
        footer: &str,
        title: &str,
        id: Vec<u8>,
    ) -> Result<(Vec<u8>, usize), EvidenceError> {
        let total = self.pages.len();
        let footer = self
            .wrap(Weight::Regular, SMALL, footer, TEXT_W - 80.0)
            .into_iter()
            .next()
            .unwrap_or_default();
        for i in 0..total {
            let number = format!("Trang {}/{}", i + 1, total);
            let nw = self.font(Weight::Regular).width(&number, SMALL);
            let foot = self.font_mut(Weight::Regular).encode(&footer);
            let num = self.font_mut(Weight::Regular).encode(&number);
            let page = &mut self.pages[i];
            page.set_line_width(0.5);
            page.move_to(MARGIN, MARGIN - 12.0);
            page.line_to(MARGIN + TEXT_W, MARGIN - 12.0);
            page.stroke();
            for (x, bytes) in [(MARGIN, &foot), (MARGIN + TEXT_W - nw, &num)] {
                page.begin_text();
                page.set_font(Name(b"F1"), SMALL);
                page.next_line(x, MARGIN - 24.0);
                page.show(Str(bytes));
                page.end_text();
            }
        }

        let mut next = 1;
        let mut alloc = || {
            let r = Ref::new(next);
            next += 1;
            r
        };
        let catalog = alloc();
        let tree = alloc();
        let info = alloc();
        let font_refs: Vec<Ref> = (0..self.fonts.len()).map(|_| alloc()).collect();
        let page_refs: Vec<(Ref, Ref)> = (0..total).map(|_| (alloc(), alloc())).collect();

        let mut pdf = Pdf::new();
        pdf.set_file_id((id.clone(), id));
        pdf.catalog(catalog).pages(tree).lang(TextStr("vi"));
        pdf.document_info(info)
            .title(TextStr(title))
            .producer(TextStr("Phonghop"));
        pdf.pages(tree)
            .kids(page_refs.iter().map(|(p, _)| *p))
            .count(i32::try_from(total).unwrap_or(i32::MAX));
        for ((page_ref, content_ref), content) in page_refs.iter().zip(self.pages) {
            let mut page = pdf.page(*page_ref);
            page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
                .parent(tree)
                .contents(*content_ref);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            for (font, r) in self.fonts.iter().zip(&font_refs) {
                fonts.pair(Name(font.resource), *r);
            }
            fonts.finish();
            resources.finish();
            page.finish();
            pdf.stream(*content_ref, &content.finish());
        }
        for (font, type0) in self.fonts.iter().zip(&font_refs) {
            embed(&mut pdf, font, *type0, &mut alloc)?;
        }
        Ok((pdf.finish(), total))
    }

    /// A QR code of `text`, `size` points wide, centred, its top at the current line; the
    /// next line starts below it.
    pub(crate) fn qr(&mut self, text: &str, size: f32) -> Result<(), EvidenceError> {
        let (width, dark) = crate::qr::modules(text)
            .ok_or_else(|| EvidenceError::Pdf("the text is too long for a QR code".into()))?;
        // Four light modules around it, as scanners expect.
        let module = size / (width + 8) as f32;
        self.ensure(size);
        let left = MARGIN + (TEXT_W - size) / 2.0 + 4.0 * module;
        let top = self.y - 4.0 * module;
        let page = self.page();
        page.set_fill_gray(0.0);
        for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
            let (row, col) = (i / width, i % width);
            page.rect(
                left + col as f32 * module,
                top - (row + 1) as f32 * module,
                module,
                module,
            );
        }
        page.fill_nonzero();
        self.y -= size;
        Ok(())
    }
}

/// Writes one font: the Type 0 font at `type0`, its CID font, descriptor, subset program and
/// ToUnicode map.
fn embed(
    pdf: &mut Pdf,
    font: &Font,
    type0: Ref,
    alloc: &mut impl FnMut() -> Ref,
) -> Result<(), EvidenceError> {
    let (cid, descriptor, program, cmap) = (alloc(), alloc(), alloc(), alloc());
    let subset = subsetter::subset(font.data, 0, &font.remap)
        .map_err(|e| EvidenceError::Pdf(format!("cannot subset the font: {e}")))?;
    // The subset's tag: six capitals from the glyphs it holds (PDF 32000 9.6.4).
    let digest = Sha256::digest(
        font.remap
            .remapped_gids()
            .flat_map(u16::to_be_bytes)
            .collect::<Vec<u8>>(),
    );
    let tag: String = digest
        .iter()
        .take(6)
        .map(|b| char::from(b'A' + b % 26))
        .collect();
    let base = format!("{tag}+{}", font.postscript);
    let info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(type0)
        .base_font(Name(base.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);
    let scale = 1000.0 / font.units();
    let widths: Vec<f32> = font
        .remap
        .remapped_gids()
        .map(|old| font.advance(old) * scale)
        .collect();
    let mut c = pdf.cid_font(cid);
    c.subtype(CidFontType::Type2)
        .base_font(Name(base.as_bytes()))
        .system_info(info)
        .font_descriptor(descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    c.widths().consecutive(0, widths);
    c.finish();
    let f = &font.face;
    let bbox = f.global_bounding_box();
    let bold = font.postscript.ends_with("Bold");
    pdf.font_descriptor(descriptor)
        .name(Name(base.as_bytes()))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * scale,
            f32::from(bbox.y_min) * scale,
            f32::from(bbox.x_max) * scale,
            f32::from(bbox.y_max) * scale,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(f.ascender()) * scale)
        .descent(f32::from(f.descender()) * scale)
        .cap_height(f32::from(f.capital_height().unwrap_or(f.ascender())) * scale)
        .stem_v(if bold { 140.0 } else { 80.0 })
        .font_file2(program);
    let length = i32::try_from(subset.len()).unwrap_or(i32::MAX);
    pdf.stream(program, &subset).pair(Name(b"Length1"), length);
    pdf.stream(cmap, &to_unicode(&font.text));
    Ok(())
}

/// The ToUnicode CMap: each CID (new glyph id) to the text it stands for, written as the
/// minimal CMap of PDF 32000-1 §9.10.3 (pdf-writer's `UnicodeCmap` adds `/CMapVersion` and
/// `/WMode`, which are valid but which some readers' text extraction, lopdf's among them, does
/// not parse).
fn to_unicode(text: &BTreeMap<u16, char>) -> Vec<u8> {
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let pairs: Vec<(&u16, &char)> = text.iter().collect();
    for block in pairs.chunks(100) {
        out.push_str(&format!("{} beginbfchar\n", block.len()));
        for (gid, c) in block {
            let mut units = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            out.push_str(&format!("<{gid:04X}> <{hex}>\n"));
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out.into_bytes()
}

/// The choices as the law names them.
pub fn choice_vi(c: Choice) -> &'static str {
    match c {
        Choice::Approve => "Tán thành",
        Choice::Disapprove => "Không tán thành",
        Choice::Abstain => "Không biểu quyết",
    }
}

fn mark_vi(q: &QuestionEntry, m: &Marked) -> String {
    match m {
        Marked::Choice(c) => choice_vi(*c).to_owned(),
        Marked::Candidates(ids) if ids.is_empty() => "Phiếu trắng (không chọn ai)".to_owned(),
        Marked::Candidates(ids) => q
            .candidates
            .iter()
            .filter(|c| ids.contains(&c.id))
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn base_vi(b: Base) -> &'static str {
    match b {
        Base::AllMembers => "tổng số thành viên",
        Base::Present => "số thành viên có mặt",
        Base::Cast => "số phiếu biểu quyết",
    }
}

fn threshold_vi(t: Threshold, b: Base) -> String {
    match t.comparison {
        Comparison::MoreThan => format!("Quá {}/{} {}", t.numerator, t.denominator, base_vi(b)),
        Comparison::AtLeast => format!(
            "Từ {}/{} {} trở lên",
            t.numerator,
            t.denominator,
            base_vi(b)
        ),
    }
}

fn tie_vi(t: TieRule, s: Secrecy) -> &'static str {
    match (t, s) {
        (TieRule::ChairDecides, Secrecy::Named) => "Theo ý kiến đã biểu quyết của Chủ tọa",
        (TieRule::ChairDecides, Secrecy::Secret) => {
            "Chỉ theo ngưỡng (bỏ phiếu kín: không biết ý kiến của Chủ tọa)"
        }
        (TieRule::ThresholdOnly, _) => "Chỉ theo ngưỡng",
    }
}

/// "quá 1/2", "từ 2/3 trở lên".
fn threshold_short(t: Threshold) -> String {
    match t.comparison {
        Comparison::MoreThan => format!("quá {}/{}", t.numerator, t.denominator),
        Comparison::AtLeast => format!("từ {}/{} trở lên", t.numerator, t.denominator),
    }
}

/// A time as people in Vietnam read it (UTC+7, no daylight saving).
fn time_vi(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC));
    format!(
        "{:02}:{:02}:{:02} ngày {:02}/{:02}/{} (giờ Việt Nam)",
        t.hour(),
        t.minute(),
        t.second(),
        t.day(),
        u8::from(t.month()),
        t.year()
    )
}

/// Hex pairs in upper case joined by ':', as the box's onboarding page shows fingerprints.
pub fn fingerprint(bytes: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(bytes))
        .as_bytes()
        .chunks(2)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect::<Vec<_>>()
        .join(":")
}

/// The raw bytes of a base64url signature (its text if it does not decode).
fn signature_bytes(sig: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig.trim())
        .unwrap_or_else(|_| sig.as_bytes().to_vec())
}

fn write_result(d: &mut Doc, signed: &SignedResult) {
    let r = &signed.record;
    let q = &r.question;
    d.centered(Weight::Bold, 11.0, &r.body_name.to_uppercase());
    d.gap(10.0);
    let title = match q.kind {
        QuestionKind::Motion => "KẾT QUẢ BIỂU QUYẾT",
        QuestionKind::Election => "KẾT QUẢ BẦU",
    };
    d.centered(Weight::Bold, 16.0, title);
    d.gap(8.0);
    d.field("Cơ quan:", &r.body_name);
    d.field("Cuộc họp:", &r.meeting_title);
    d.field("Nội dung:", &r.item_title);
    d.field("Vấn đề biểu quyết:", &q.title);
    d.field(
        "Hình thức:",
        match (q.kind, q.secrecy) {
            (QuestionKind::Motion, Secrecy::Named) => "Biểu quyết công khai (ghi danh)",
            (QuestionKind::Election, Secrecy::Named) => "Bầu công khai (ghi danh)",
            (_, Secrecy::Secret) => "Bỏ phiếu kín",
        },
    );
    d.field("Cách tính:", &threshold_vi(q.threshold, q.base));
    if q.kind == QuestionKind::Motion {
        d.field("Khi hòa phiếu:", tie_vi(q.tie, q.secrecy));
    }
    if let Some(at) = r.opened_at {
        d.field("Bắt đầu:", &time_vi(at));
    }
    d.field("Kết thúc:", &time_vi(r.closed_at));
    d.field(
        "Thành viên:",
        &format!(
            "{} thành viên, {} có mặt khi biểu quyết",
            r.electorate.members, r.electorate.present
        ),
    );
    if let Method::Manual {
        reason,
        entered_by,
        set_aside,
    } = &r.method
    {
        d.heading("Kiểm phiếu thủ công");
        d.field("Lý do:", reason);
        d.field("Người nhập:", entered_by);
        if *set_aside > 0 {
            d.field(
                "Phiếu điện tử:",
                &format!("{set_aside} phiếu điện tử đã nhận được để riêng, không tính"),
            );
        }
    }

    d.heading("Kết quả");
    match &r.outcome {
        Outcome::Motion(dec) => {
            let c = dec.counts;
            let pct = |n: u32| {
                if dec.base_size == 0 {
                    String::new()
                } else {
                    format!(
                        " ({}% {})",
                        format!("{:.2}", f64::from(n) * 100.0 / f64::from(dec.base_size))
                            .replace('.', ","),
                        base_vi(dec.base)
                    )
                }
            };
            d.field("Tán thành:", &format!("{}{}", c.approve, pct(c.approve)));
            d.field(
                "Không tán thành:",
                &format!("{}{}", c.disapprove, pct(c.disapprove)),
            );
            d.field(
                "Không biểu quyết:",
                &format!("{}{}", c.abstain, pct(c.abstain)),
            );
            d.field("Chưa biểu quyết:", &dec.not_voted.to_string());
            d.field(
                "Số tán thành cần có:",
                &format!(
                    "{} ({} của {}, {})",
                    dec.required,
                    threshold_short(dec.threshold),
                    dec.base_size,
                    base_vi(dec.base)
                ),
            );
            if dec.tie_decided_by_chair {
                d.para(
                    Weight::Regular,
                    BODY,
                    0.0,
                    "Số tán thành và không tán thành bằng nhau; kết quả theo ý kiến đã biểu quyết của Chủ tọa.",
                );
            }
            d.gap(6.0);
            d.centered(
                Weight::Bold,
                15.0,
                if dec.passed {
                    "ĐƯỢC THÔNG QUA"
                } else {
                    "KHÔNG ĐƯỢC THÔNG QUA"
                },
            );
        }
        Outcome::Election(e) => {
            d.field(
                "Số phiếu:",
                &format!("{} (phiếu trắng: {})", e.ballots, e.blank),
            );
            d.field("Số người được bầu:", &e.seats.to_string());
            d.field(
                "Số phiếu cần có:",
                &format!(
                    "{} ({} của {}, {})",
                    e.required,
                    threshold_short(e.threshold),
                    e.base_size,
                    base_vi(e.base)
                ),
            );
            let rows: Vec<Vec<String>> = e
                .candidates
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    vec![
                        (i + 1).to_string(),
                        t.name.clone(),
                        t.votes.to_string(),
                        if t.elected {
                            "Trúng cử".to_owned()
                        } else {
                            "Không trúng cử".to_owned()
                        },
                    ]
                })
                .collect();
            d.gap(4.0);
            d.table(
                BODY,
                &[
                    ("STT", 36.0),
                    ("Người ứng cử", TEXT_W - 36.0 - 80.0 - 110.0),
                    ("Số phiếu", 80.0),
                    ("Kết quả", 110.0),
                ],
                &rows,
            );
            if e.tie_at_last_seat {
                d.para(
                    Weight::Regular,
                    BODY,
                    0.0,
                    "Có người ứng cử bằng phiếu nhau ở vị trí cuối cùng: những người này chưa trúng cử, cần bầu lại.",
                );
            }
        }
    }

    match (q.secrecy, &r.method) {
        (Secrecy::Named, Method::Electronic) => {
            d.heading(&format!("Danh sách biểu quyết ({} người)", r.ballots.len()));
            let mut rows: Vec<(Option<_>, String, String)> = r
                .ballots
                .iter()
                .map(|b| {
                    let name = r
                        .voters
                        .iter()
                        .find(|v| v.person_id == b.person_id)
                        .map(|v| v.name.clone())
                        .unwrap_or_else(|| b.person_id.to_string());
                    let key = PersonName::parse(&name).ok().map(|n| n.sort_key());
                    (key, name, mark_vi(q, &b.mark))
                })
                .collect();
            rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .enumerate()
                .map(|(i, (_, name, mark))| vec![(i + 1).to_string(), name, mark])
                .collect();
            d.table(
                BODY,
                &[
                    ("STT", 36.0),
                    ("Họ và tên", 220.0),
                    (
                        match q.kind {
                            QuestionKind::Motion => "Ý kiến",
                            QuestionKind::Election => "Bầu cho",
                        },
                        TEXT_W - 36.0 - 220.0,
                    ),
                ],
                &rows,
            );
        }
        (Secrecy::Secret, Method::Electronic) => {
            d.heading(&format!(
                "Danh sách mã phiếu ({} phiếu, sắp theo mã)",
                r.receipts.len()
            ));
            d.para(
                Weight::Regular,
                SMALL,
                0.0,
                "Mỗi người bỏ phiếu giữ mã phiếu của mình trên máy tính bảng và có thể tìm thấy nó dưới đây cùng lựa chọn đã ghi. Danh sách không cho biết mã nào của ai.",
            );
            let rows: Vec<Vec<String>> = r
                .receipts
                .iter()
                .enumerate()
                .map(|(i, c)| vec![(i + 1).to_string(), c.receipt.clone(), mark_vi(q, &c.mark)])
                .collect();
            d.table(
                SMALL,
                &[
                    ("STT", 30.0),
                    ("Mã phiếu", 345.0),
                    ("Lựa chọn", TEXT_W - 30.0 - 345.0),
                ],
                &rows,
            );
        }
        (_, Method::Manual { .. }) => {}
    }

    // The chair signs under the result, before the technical details.
    d.signature_box(&[
        "XÁC NHẬN CỦA CHỦ TỌA",
        "(ký số tại văn phòng, chữ ký PAdES)",
    ]);

    // The technical details stay on one page.
    d.gap(6.0);
    d.ensure(170.0);
    d.heading(LEGAL_LABEL);
    d.para(
        Weight::Regular,
        SMALL,
        0.0,
        "Kết quả này được hệ thống phòng họp ký bằng khóa riêng của hệ thống (ECDSA P-256, SHA-256) trên bản ghi JSON chuẩn hóa (RFC 8785) trong tệp result.json của hồ sơ. Tệp PDF này là bản để đọc; để kiểm tra, chạy: phonghop verify-vote <tệp hồ sơ .zip>.",
    );
    d.field("Mã hệ thống:", &r.node);
    d.field("Vân tay chữ ký:", "SHA-256 của chữ ký của hệ thống");
    d.para(
        Weight::Regular,
        SMALL,
        12.0,
        &fingerprint(&signature_bytes(&signed.signature)),
    );
    let cert = certificate_summary(&signed.certificate);
    d.field("Chứng thư ký:", &cert.0);
    d.field("Vân tay chứng thư:", "SHA-256 của chứng thư ký");
    d.para(Weight::Regular, SMALL, 12.0, &cert.1);
}

/// The signing certificate's subject and its fingerprint.
fn certificate_summary(pem: &str) -> (String, String) {
    match x509_parser::pem::parse_x509_pem(pem.as_bytes()) {
        Ok((_, p)) => {
            let subject = p
                .parse_x509()
                .map(|c| c.subject().to_string())
                .unwrap_or_else(|_| "(không đọc được)".into());
            (subject, fingerprint(&p.contents))
        }
        Err(_) => ("(không đọc được)".into(), fingerprint(pem.as_bytes())),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, node, sign, TITLE};
    use super::*;
    use crate::domain::vote::Counts;
    use Choice::*;

    /// The text a reader gets when selecting everything, with runs of white space as one.
    fn text_of(pdf: &[u8]) -> String {
        let doc = lopdf::Document::load_mem(pdf).unwrap();
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        let raw = doc.extract_text(&pages).unwrap();
        raw.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn a_named_vote_reads_in_vietnamese_with_every_name_and_the_decision() {
        let b = node();
        let signed = sign(
            &b,
            fixture::named(&[Approve, Approve, Approve, Disapprove, Abstain]),
        );
        let out = render(&signed).unwrap();
        let text = text_of(&out.bytes);
        for want in [
            TITLE,
            "ỦY BAN NHÂN DÂN XÃ TÂN PHÚ",
            "KẾT QUẢ BIỂU QUYẾT",
            "Kỳ họp thứ mười hai, Hội đồng nhân dân xã khóa XXI",
            "Biểu quyết công khai (ghi danh)",
            "Quá 1/2 tổng số thành viên",
            "Tán thành: 3",
            "Số tán thành cần có: 4",
            "KHÔNG ĐƯỢC THÔNG QUA",
            "Nguyễn Văn An",
            "Trần Thị Bích Ngọc",
            "Lê Hoàng Yến",
            "Tán thành: 3 (50,00% tổng số thành viên)",
            "Số tán thành cần có: 4 (quá 1/2 của 6, tổng số thành viên)",
            "Không biểu quyết",
            LEGAL_LABEL,
            "XÁC NHẬN CỦA CHỦ TỌA",
            "09:04:10 ngày 01/12/2026",
        ] {
            assert!(
                text.contains(want),
                "{want:?} is not in the PDF's text:\n{text}"
            );
        }
        assert!(!text.contains("Phiếu trắng"));
        assert!(!text.to_lowercase().contains("chữ ký số"), "{text}");
        assert!(text.contains(&fingerprint(&signature_bytes(&signed.signature))));
    }

    #[test]
    fn an_election_shows_each_candidates_votes_and_who_is_elected() {
        let b = node();
        // Six members, more than half of all = 4 votes to be elected.
        let signed = sign(
            &b,
            fixture::election(&[&[1, 2], &[1, 3], &[1, 2], &[1, 2], &[], &[3]]),
        );
        let out = render(&signed).unwrap();
        let text = text_of(&out.bytes);
        for want in [
            "KẾT QUẢ BẦU",
            "Bầu Phó Chủ tịch Ủy ban nhân dân xã nhiệm kỳ 2026-2031",
            "Số phiếu: 6 (phiếu trắng: 1)",
            "1 Nguyễn Thị Hoa 4 Trúng cử",
            "2 Trần Văn Minh 3 Không trúng cử",
            "3 Lê Thị Thu 2 Không trúng cử",
            "Phiếu trắng (không chọn ai)",
            "Nguyễn Thị Hoa, Trần Văn Minh",
        ] {
            assert!(text.contains(want), "{want:?} missing:\n{text}");
        }
        assert!(super::super::verify::verify_package(
            &super::super::package(&signed, &b.root_pem).unwrap(),
            None
        )
        .passed());
    }

    #[test]
    fn a_passed_motion_says_so() {
        let b = node();
        let signed = sign(&b, fixture::named(&[Approve, Approve, Approve, Approve]));
        let text = text_of(&render(&signed).unwrap().bytes);
        assert!(text.contains("ĐƯỢC THÔNG QUA"), "{text}");
        assert!(!text.contains("KHÔNG ĐƯỢC THÔNG QUA"), "{text}");
    }

    #[test]
    fn a_secret_vote_lists_the_receipts_sorted_and_no_names() {
        let b = node();
        let record = fixture::secret(&[Approve, Disapprove, Approve]);
        let receipts: Vec<String> = record.receipts.iter().map(|c| c.receipt.clone()).collect();
        let signed = sign(&b, record);
        let text = text_of(&render(&signed).unwrap().bytes);
        assert!(text.contains("Bỏ phiếu kín"), "{text}");
        let at: Vec<usize> = receipts
            .iter()
            .map(|r| text.find(r.as_str()).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "receipts out of order");
        assert!(
            !text.contains("Nguyễn Văn An"),
            "a secret vote's PDF names a voter"
        );
    }

    #[test]
    fn a_hand_count_is_marked_with_its_reason() {
        let b = node();
        let signed = sign(
            &b,
            fixture::manual(Counts {
                approve: 4,
                disapprove: 1,
                abstain: 0,
            }),
        );
        let text = text_of(&render(&signed).unwrap().bytes);
        for want in [
            "Kiểm phiếu thủ công",
            "Mất điện, kiểm phiếu giơ tay",
            "2 phiếu điện tử đã nhận được để riêng",
            "ĐƯỢC THÔNG QUA",
        ] {
            assert!(text.contains(want), "{want:?} missing:\n{text}");
        }
    }

    #[test]
    fn a_long_list_runs_onto_numbered_pages_and_the_box_stays_whole() {
        let b = node();
        let choices: Vec<Choice> = (0..150)
            .map(|i| [Approve, Disapprove, Abstain][i % 3])
            .collect();
        let signed = sign(&b, fixture::named(&choices));
        let out = render(&signed).unwrap();
        assert!(out.pages >= 4, "{} pages", out.pages);
        let text = text_of(&out.bytes);
        assert!(text.contains(&format!("Trang 1/{}", out.pages)));
        assert!(text.contains(&format!("Trang {0}/{0}", out.pages)));
        // Every row is there: the last row's number, and the header again on later pages.
        assert!(text.contains("150 "), "{text}");
        assert!(text.matches("Họ và tên").count() >= 3);
        let s = out.signature_box;
        assert!(s.page >= 3, "the box comes after the list");
        assert!(s.y >= MARGIN && s.y + s.height <= PAGE_H - MARGIN);
    }

    /// Figures for a large vote (not a timed test): `cargo test --lib
    /// figures_for_a_thousand_voters -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn figures_for_a_thousand_voters() {
        let b = node();
        let choices: Vec<Choice> = (0..1000)
            .map(|i| [Approve, Disapprove, Abstain][i % 3])
            .collect();
        let signed = sign(&b, fixture::named(&choices));
        let t = std::time::Instant::now();
        let out = render(&signed).unwrap();
        let pdf_ms = t.elapsed().as_millis();
        let t = std::time::Instant::now();
        let zip = super::super::package(&signed, &b.root_pem).unwrap();
        let zip_ms = t.elapsed().as_millis();
        let t = std::time::Instant::now();
        assert!(super::super::verify::verify_package(&zip, None).passed());
        let verify_ms = t.elapsed().as_millis();
        println!(
            "1000 named ballots: PDF {} pages, {} bytes, {pdf_ms} ms; ZIP {} bytes, {zip_ms} ms; verify {verify_ms} ms",
            out.pages,
            out.bytes.len(),
            zip.len()
        );
    }

    #[test]
    fn the_chair_can_sign_it_with_pades_in_the_box() {
        use pdf_signer::{sign_pdf_bytes, verify_pdf_bytes, Appearance, SignOptions};
        let b = node();
        let signed = sign(&b, fixture::named(&[Approve, Approve, Approve, Approve]));
        let out = render(&signed).unwrap();
        // One revision, a classic cross-reference table, no form and no encryption: what
        // signing software needs to append a signature.
        let doc = lopdf::Document::load_mem(&out.bytes).unwrap();
        assert!(doc.trailer.get(b"Encrypt").is_err());
        assert!(doc.catalog().unwrap().get(b"AcroForm").is_err());
        assert_eq!(
            out.bytes.windows(9).filter(|w| w == b"startxref").count(),
            1
        );
        assert!(out.bytes.windows(5).any(|w| w == b"xref\n"));
        let p12 = pdf_signer::testkit::self_signed_p256_p12("chu-toa");
        let s = out.signature_box;
        let opts = SignOptions {
            reason: Some("Xác nhận kết quả biểu quyết".into()),
            name: Some("Chủ tọa".into()),
            signing_time: Some("D:20261201100000Z".into()),
            appearance: Some(Appearance {
                page: s.page,
                x: f64::from(s.x),
                y: f64::from(s.y),
                width: f64::from(s.width),
                height: f64::from(s.height),
                text: "Chu toa".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let chair_signed = sign_pdf_bytes(&out.bytes, &p12, "chu-toa", &opts).unwrap();
        // An incremental update: the box's bytes are untouched in front.
        assert!(chair_signed.starts_with(&out.bytes));
        let report = verify_pdf_bytes(&chair_signed).unwrap();
        assert_eq!(report.signatures.len(), 1);
        let sig = &report.signatures[0];
        assert!(sig.valid, "{}", sig.detail);
        assert!(sig.covers_whole_document);
        assert!(report.all_valid() && report.document_intact());
        // The text is still there after signing.
        assert!(text_of(&chair_signed).contains("ĐƯỢC THÔNG QUA"));
        // A changed byte after signing is seen.
        let mut bad = chair_signed.clone();
        let at = out.bytes.len() / 2;
        bad[at] ^= 1;
        let report = verify_pdf_bytes(&bad).unwrap();
        assert!(!report.all_valid());
    }
}
