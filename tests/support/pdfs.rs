//! Distinct PDFs of chosen sizes, made deterministically from the fixtures: a fixture, then
//! comment lines (`%…` after `%%EOF`, which readers ignore) of bytes drawn from SHA-256 of the
//! file's number, so every file has its own hash and nothing compresses it away. Shared by the
//! sync fault test and the shaped-link bench (`benches/sync_link.rs`).
#![allow(dead_code)]

use sha2::{Digest, Sha256};

const FIXTURES: [&[u8]; 3] = [
    include_bytes!("../fixtures/bao-cao-kinh-te-xa-hoi.pdf"),
    include_bytes!("../fixtures/giay-moi-hop.pdf"),
    include_bytes!("../fixtures/to-trinh-du-toan.pdf"),
];

/// PDF number `n` of (at least the fixture's and at most) `size` bytes: the same `(n, size)`
/// always gives the same bytes, and different `n` give different bytes.
pub fn meeting_pdf(n: u64, size: usize) -> Vec<u8> {
    let base = FIXTURES[(n % 3) as usize];
    let mut out = Vec::with_capacity(size.max(base.len() + 64));
    out.extend_from_slice(base);
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(format!("%phonghop-sync-fixture {n}\n").as_bytes());
    let mut counter: u64 = 0;
    while out.len() + 2 <= size {
        let mut h = Sha256::new();
        h.update(n.to_le_bytes());
        h.update(counter.to_le_bytes());
        counter += 1;
        let line = hex::encode(h.finalize());
        // `%` + 64 hex digits + newline, cut to fit the size exactly.
        let room = size - out.len() - 2;
        out.push(b'%');
        out.extend_from_slice(&line.as_bytes()[..line.len().min(room)]);
        out.push(b'\n');
    }
    // One byte short at most: widen the last comment line.
    if out.len() < size && out.ends_with(b"\n") {
        out.pop();
        out.resize(size - 1, b' ');
        out.push(b'\n');
    }
    out
}

/// A scan as scanners and copiers write it: `pages` A4 pages, each one image of about
/// `image_bytes` of grain that does not compress (drawn from SHA-256, so the same arguments
/// give the same file), a line of text, a flat page tree and a classic cross-reference table.
pub fn scanned_pdf(pages: usize, image_bytes: usize) -> Vec<u8> {
    let side = ((image_bytes / 3) as f64).sqrt() as usize;
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let count = 4 + pages * 3;
    let mut offsets = vec![0usize; count];
    let obj = |out: &mut Vec<u8>,
               offsets: &mut Vec<usize>,
               n: usize,
               body: &str,
               stream: Option<&[u8]>| {
        offsets[n] = out.len();
        out.extend_from_slice(format!("{n} 0 obj\n{body}\n").as_bytes());
        if let Some(s) = stream {
            out.extend_from_slice(b"stream\n");
            out.extend_from_slice(s);
            out.extend_from_slice(b"\nendstream\n");
        }
        out.extend_from_slice(b"endobj\n");
    };
    obj(
        &mut out,
        &mut offsets,
        1,
        "<< /Type /Catalog /Pages 2 0 R >>",
        None,
    );
    let kids: Vec<String> = (0..pages)
        .map(|i| format!("{} 0 R", 4 + i * 3 + 2))
        .collect();
    let tree = format!(
        "<< /Type /Pages /Count {pages} /Kids [{}] >>",
        kids.join(" ")
    );
    obj(&mut out, &mut offsets, 2, &tree, None);
    let font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
    obj(&mut out, &mut offsets, 3, font, None);
    let mut pixels = Vec::with_capacity(side * side * 3 + 32);
    for i in 0..pages {
        pixels.clear();
        let mut counter: u64 = 0;
        while pixels.len() < side * side * 3 {
            let mut h = Sha256::new();
            h.update((i as u64).to_le_bytes());
            h.update(counter.to_le_bytes());
            counter += 1;
            pixels.extend_from_slice(&h.finalize());
        }
        pixels.truncate(side * side * 3);
        let img = 4 + i * 3;
        let head = format!(
            "<< /Type /XObject /Subtype /Image /Width {side} /Height {side} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length {} >>",
            pixels.len()
        );
        obj(&mut out, &mut offsets, img, &head, Some(&pixels));
        let text = format!(
            "BT /F1 28 Tf 60 780 Td (TRANG {}) Tj ET q 480 0 0 480 57 200 cm /Im0 Do Q",
            i + 1
        );
        let head = format!("<< /Length {} >>", text.len());
        obj(
            &mut out,
            &mut offsets,
            img + 1,
            &head,
            Some(text.as_bytes()),
        );
        let page = format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> /XObject << /Im0 {img} 0 R >> >> /Contents {} 0 R >>",
            img + 1
        );
        obj(&mut out, &mut offsets, img + 2, &page, None);
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {count}\n0000000000 65535 f \n").as_bytes());
    for off in offsets.iter().skip(1) {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {count} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdfs_are_distinct_sized_and_start_as_pdfs() {
        let a = meeting_pdf(1, 200_000);
        let b = meeting_pdf(4, 200_000);
        assert_eq!((a.len(), b.len()), (200_000, 200_000));
        for size in 60_000..60_200 {
            assert_eq!(meeting_pdf(3, size).len(), size);
        }
        assert!(a.starts_with(b"%PDF-") && b.starts_with(b"%PDF-"));
        assert_ne!(sha256_hex(&a), sha256_hex(&b), "same fixture, other number");
        assert_eq!(a, meeting_pdf(1, 200_000), "deterministic");
        // Smaller than the fixture: the fixture and the marker line only.
        assert!(meeting_pdf(2, 10).len() < 40_000);
    }
}
