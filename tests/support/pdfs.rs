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
