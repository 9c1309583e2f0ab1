//! Sealing a delegate's private marks and notes with a key that never leaves the box.
//!
//! The event log travels whole to the central office (sync moves the exact bytes, so nothing
//! can be cut out of it). A private mark or a personal note is therefore written to the log
//! sealed: ChaCha20-Poly1305 with the box's own notes key, a random 96-bit nonce, and the
//! meeting, the owner and the kind as associated data (so a sealed body cannot be moved to
//! another person or meeting). The box opens it to build its read models and its owner's
//! feed; the hub, which has no key, stores the bytes and can read nothing of them.

use super::annotation::{AnnotationEntry, ItemNoteEntry, Sharing};
use super::records::Id;
use super::EventBody;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

/// The box's notes key: 32 random bytes, node-local, never in the log.
#[derive(Clone)]
pub struct NotesKey([u8; 32]);

impl std::fmt::Debug for NotesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NotesKey(<secret>)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a sealed note cannot be opened with this box's key")]
pub struct SealError;

impl NotesKey {
    pub fn random() -> Self {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        Self(k)
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(Self(b.try_into().ok()?))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<String, SealError> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.0));
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SealError)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out))
    }

    fn open(&self, aad: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed.trim())
            .map_err(|_| SealError)?;
        if raw.len() < 12 + 16 {
            return Err(SealError);
        }
        let (nonce, ct) = raw.split_at(12);
        ChaCha20Poly1305::new(Key::from_slice(&self.0))
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SealError)
    }
}

fn aad(kind: &str, meeting: &Id, owner: &Id) -> String {
    format!("phonghop-sealed/1|{kind}|{meeting}|{owner}")
}

/// Seals a private mark or a personal note; any other event is returned unchanged. A mark
/// shared with anyone stays in the clear, since others are meant to read it.
pub fn seal(key: &NotesKey, body: EventBody) -> Result<EventBody, SealError> {
    match body {
        EventBody::AnnotationSaved {
            meeting_id,
            annotation,
            shared_before,
        } if annotation.sharing == Sharing::Private => {
            let plain = serde_json::to_vec(&annotation).map_err(|_| SealError)?;
            let sealed = key.seal(
                &aad("annotation", &meeting_id, &annotation.owner_id),
                &plain,
            )?;
            Ok(EventBody::AnnotationSealed {
                owner_id: annotation.owner_id.clone(),
                document_id: annotation.document_id.clone(),
                annotation_id: annotation.id.clone(),
                meeting_id,
                shared_before,
                sealed,
            })
        }
        EventBody::ItemNoteSaved { meeting_id, note } => {
            let plain = serde_json::to_vec(&note).map_err(|_| SealError)?;
            let sealed = key.seal(&aad("item_note", &meeting_id, &note.owner_id), &plain)?;
            Ok(EventBody::ItemNoteSealed {
                owner_id: note.owner_id.clone(),
                meeting_id,
                sealed,
            })
        }
        other => Ok(other),
    }
}

/// The plain event a sealed one stands for; `None` for an event that is not sealed.
pub fn open(key: &NotesKey, body: &EventBody) -> Option<Result<EventBody, SealError>> {
    match body {
        EventBody::AnnotationSealed {
            meeting_id,
            owner_id,
            annotation_id,
            document_id,
            shared_before,
            sealed,
        } => Some((|| {
            let plain = key.open(&aad("annotation", meeting_id, owner_id), sealed)?;
            let annotation: AnnotationEntry =
                serde_json::from_slice(&plain).map_err(|_| SealError)?;
            // What the clear fields say must be what was sealed.
            if &annotation.owner_id != owner_id
                || &annotation.id != annotation_id
                || &annotation.document_id != document_id
            {
                return Err(SealError);
            }
            Ok(EventBody::AnnotationSaved {
                meeting_id: meeting_id.clone(),
                annotation,
                shared_before: *shared_before,
            })
        })()),
        EventBody::ItemNoteSealed {
            meeting_id,
            owner_id,
            sealed,
        } => Some((|| {
            let plain = key.open(&aad("item_note", meeting_id, owner_id), sealed)?;
            let note: ItemNoteEntry = serde_json::from_slice(&plain).map_err(|_| SealError)?;
            if &note.owner_id != owner_id {
                return Err(SealError);
            }
            Ok(EventBody::ItemNoteSaved {
                meeting_id: meeting_id.clone(),
                note,
            })
        })()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::annotation::{AnnotationEntry, AnnotationKind};

    fn id(n: u8) -> Id {
        Id::parse(&format!("{n:032x}")).unwrap()
    }

    fn note(owner: Id) -> EventBody {
        EventBody::ItemNoteSaved {
            meeting_id: id(3),
            note: ItemNoteEntry {
                item_id: id(4),
                owner_id: owner,
                text: "Hỏi lại khoản chi".into(),
                rev: 1,
                device_id: id(5),
            },
        }
    }

    #[test]
    fn a_sealed_note_opens_with_the_boxs_key_only_and_cannot_be_moved() {
        let key = NotesKey::random();
        let sealed = seal(&key, note(id(1))).unwrap();
        let EventBody::ItemNoteSealed {
            sealed: ref blob, ..
        } = sealed
        else {
            panic!("{sealed:?}")
        };
        assert!(!blob.contains("Hỏi"));
        assert_eq!(open(&key, &sealed), Some(Ok(note(id(1)))));
        // Another box's key opens nothing.
        assert_eq!(open(&NotesKey::random(), &sealed), Some(Err(SealError)));
        // Given to someone else in the clear fields, it no longer opens.
        let EventBody::ItemNoteSealed {
            meeting_id,
            sealed: blob,
            ..
        } = sealed
        else {
            unreachable!()
        };
        let moved = EventBody::ItemNoteSealed {
            meeting_id,
            owner_id: id(2),
            sealed: blob,
        };
        assert_eq!(open(&key, &moved), Some(Err(SealError)));
        // Anything else is not sealed.
        assert_eq!(open(&key, &EventBody::NoticeCleared {}), None);
    }

    #[test]
    fn only_private_marks_are_sealed() {
        let key = NotesKey::random();
        let mut a = AnnotationEntry {
            id: id(8),
            owner_id: id(1),
            document_id: id(6),
            version_sha256: "ab".repeat(32),
            page: 2,
            kind: AnnotationKind::Bookmark,
            color: String::new(),
            width: 0,
            rects: vec![],
            strokes: vec![],
            text: "Trang quan trọng".into(),
            sharing: Sharing::Private,
            rev: 1,
            device_id: id(5),
            deleted: false,
        };
        let private = EventBody::AnnotationSaved {
            meeting_id: id(3),
            annotation: a.clone(),
            shared_before: Sharing::Private,
        };
        let sealed = seal(&key, private.clone()).unwrap();
        assert_eq!(sealed.kind(), "annotation.sealed");
        assert_eq!(open(&key, &sealed), Some(Ok(private)));
        a.sharing = Sharing::Meeting;
        let shared = EventBody::AnnotationSaved {
            meeting_id: id(3),
            annotation: a,
            shared_before: Sharing::Private,
        };
        assert_eq!(seal(&key, shared.clone()).unwrap(), shared);
    }
}
