//! A delegate's marks on documents and notes on agenda items, from their own paired tablet.
//! Every save carries the whole mark and its revision; the box keeps the winner (see
//! `domain/annotation.rs`) and answers with it, so a tablet that lost a race learns what won.

use super::meetings::visible_header;
use super::{Caller, Refusal, ServiceError};
use crate::domain::annotation::{
    applies, base_of, AnnotationEntry, AnnotationError, AnnotationKind, ItemNoteEntry, Point, Rect,
    Sharing, MAX_PER_DOCUMENT,
};
use crate::domain::records::{Id, Item};
use crate::domain::visibility::{self, sees_annotation, MeetingRole};
use crate::domain::EventBody;
use crate::store::{records, Store};
use serde::Deserialize;

impl From<AnnotationError> for ServiceError {
    fn from(e: AnnotationError) -> Self {
        ServiceError::Refused(Refusal::Annotation(e))
    }
}

/// What a caller sees of a meeting's marks: their own (erased ones as tombstones, so a tablet
/// back from a day offline learns of them), and the ones shared with them.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct AnnotationsSeen {
    pub annotations: Vec<AnnotationEntry>,
    /// The caller's own notes on the meeting's items.
    pub notes: Vec<ItemNoteEntry>,
    /// The names of the people whose shared marks are in `annotations`, so a tablet can say
    /// whose a mark is.
    pub names: std::collections::BTreeMap<Id, String>,
}

/// A save's answer: the mark as the box keeps it now, whether this save is what it keeps, and
/// whether it lost to an edit made alongside it on another device (never applied: the tablet
/// keeps what it had aside). A retry of a save that was applied is neither applied nor lost.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct AnnotationSaved {
    pub annotation: AnnotationEntry,
    pub applied: bool,
    pub lost: bool,
}

#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct NoteSaved {
    pub note: ItemNoteEntry,
    pub applied: bool,
    pub lost: bool,
}

/// The person and device of a paired tablet with a role in the meeting; staff accounts and
/// displays have no notes of their own.
fn tablet(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
) -> Result<(Id, Id, MeetingRole), ServiceError> {
    let (_, role) = visible_header(store, caller, meeting_id)?;
    match caller {
        Caller::Device { device, person } => Ok((person.id.clone(), device.id.clone(), role)),
        _ => Err(ServiceError::Forbidden),
    }
}

/// The marks and notes a caller may see in a meeting.
pub fn list(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
) -> Result<AnnotationsSeen, ServiceError> {
    let (_, role) = visible_header(store, caller, meeting_id)?;
    let viewer = caller.viewer();
    let me = caller.person_id().cloned();
    store
        .read(|t| {
            let docs = records::documents(t, meeting_id)?;
            let agenda = records::agenda(t, meeting_id)?;
            let all = records::annotations(t, meeting_id)?;
            let annotations: Vec<AnnotationEntry> = all
                .into_iter()
                .filter(|a| {
                    let own = me.as_ref() == Some(&a.owner_id);
                    let doc = docs.iter().find(|d| d.id == a.document_id);
                    let presenter = doc.and_then(|d| presenter_of(&agenda, &d.item_id));
                    own || (!a.deleted
                        && sees_annotation(viewer, role, &a.owner_id, a.sharing, presenter)
                        && doc.is_some_and(|d| visibility::sees_document(viewer, role, d)))
                })
                .collect();
            let notes = match &me {
                Some(p) => records::item_notes(t, meeting_id, p)?,
                None => vec![],
            };
            let mut names = std::collections::BTreeMap::new();
            for a in &annotations {
                if me.as_ref() != Some(&a.owner_id) && !names.contains_key(&a.owner_id) {
                    if let Some(p) = records::person(t, &a.owner_id)? {
                        names.insert(a.owner_id.clone(), p.name.to_string());
                    }
                }
            }
            Ok(AnnotationsSeen {
                annotations,
                notes,
                names,
            })
        })
        .map_err(ServiceError::from)
}

/// The presenter person of an agenda item, if the secretary named one.
fn presenter_of<'a>(agenda: &'a [Item], item: &Id) -> Option<&'a Id> {
    agenda
        .iter()
        .find(|i| &i.id == item)
        .and_then(|i| i.presenter_id.as_ref())
}

/// A mark as the tablet sends it: the owner and device are the caller's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnotationInput {
    pub document_id: Id,
    pub version_sha256: String,
    pub page: u32,
    pub kind: AnnotationKind,
    #[serde(default)]
    pub color: String,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub rects: Vec<Rect>,
    #[serde(default)]
    pub strokes: Vec<Vec<Point>>,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub sharing: Sharing,
    pub rev: u64,
    /// The box's revision the tablet edited from (0 for a new mark; `rev - 1` when absent).
    #[serde(default)]
    pub base_rev: Option<u64>,
    #[serde(default)]
    pub deleted: bool,
}

/// Saves (or erases: `deleted`) one of the caller's own marks.
pub fn save(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    annotation_id: &Id,
    input: AnnotationInput,
) -> Result<AnnotationSaved, ServiceError> {
    let (person, device, role) = tablet(store, caller, meeting_id)?;
    let base_rev = base_of(input.rev, input.base_rev)?;
    let entry = AnnotationEntry {
        id: annotation_id.clone(),
        owner_id: person.clone(),
        document_id: input.document_id,
        version_sha256: input.version_sha256,
        page: input.page,
        kind: input.kind,
        color: input.color,
        width: input.width,
        rects: input.rects,
        strokes: input.strokes,
        text: input.text,
        sharing: input.sharing,
        rev: input.rev,
        device_id: device,
        deleted: input.deleted,
    }
    .checked()?;
    let viewer = caller.viewer();
    let (_, saved) = store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let (doc, stored, count) = tx.read(|t| {
            Ok((
                records::meeting_document(t, meeting_id, &entry.document_id)?,
                records::annotation(t, meeting_id, annotation_id)?,
                records::annotation_count(t, meeting_id, &person, &entry.document_id)?,
            ))
        })?;
        // A document the person may not see does not exist for them.
        let doc = doc
            .filter(|d| visibility::sees_document(viewer, role, d))
            .ok_or(ServiceError::NotFound)?;
        // Sent to the presenter: the document's item must name a presenter person (an erase
        // needs none: it only hides the mark).
        if entry.sharing == Sharing::Presenter && !entry.deleted {
            let item = tx.read(|t| records::agenda_item(t, meeting_id, &doc.item_id))?;
            if item.and_then(|i| i.presenter_id).is_none() {
                return Err(AnnotationError::NoPresenter.into());
            }
        }
        if !doc
            .versions
            .iter()
            .any(|v| v.sha256 == entry.version_sha256)
        {
            return Err(AnnotationError::BadVersion.into());
        }
        if let Some(s) = &stored {
            if s.owner_id != person {
                return Err(AnnotationError::NotOwner.into());
            }
            if s.document_id != entry.document_id {
                return Err(AnnotationError::BadVersion.into());
            }
            if !applies(entry.rev, base_rev, &entry.device_id, s.rev, &s.device_id) {
                let retried = tx.read(|t| {
                    records::mark_save_applied(
                        t,
                        meeting_id,
                        annotation_id,
                        entry.rev,
                        &entry.device_id,
                    )
                })?;
                return Ok((
                    vec![],
                    AnnotationSaved {
                        annotation: s.clone(),
                        applied: false,
                        lost: !retried,
                    },
                ));
            }
        } else if count >= MAX_PER_DOCUMENT as u64 {
            return Err(AnnotationError::TooMany.into());
        }
        let shared_before = stored.map(|s| s.sharing).unwrap_or_default();
        // A private mark goes into the log sealed with the box's notes key.
        let event = sealed(
            tx,
            EventBody::AnnotationSaved {
                meeting_id: meeting_id.clone(),
                annotation: entry.clone(),
                shared_before,
            },
        )?;
        Ok((
            vec![event],
            AnnotationSaved {
                annotation: entry.clone(),
                applied: true,
                lost: false,
            },
        ))
    })?;
    Ok(saved)
}

/// The event as the log keeps it: private marks and personal notes sealed with the box's notes
/// key, so that the copy of the log at the central office cannot be read.
fn sealed(tx: &mut crate::store::Tx<'_>, body: EventBody) -> Result<EventBody, ServiceError> {
    let key = tx.notes_key()?;
    crate::domain::seal::seal(&key, body).map_err(|e| ServiceError::Internal(e.to_string()))
}

/// A personal note on an agenda item as the tablet sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    pub text: String,
    pub rev: u64,
    /// The box's revision the tablet edited from (`rev - 1` when absent).
    #[serde(default)]
    pub base_rev: Option<u64>,
}

/// Saves the caller's own note on an agenda item (an empty text clears it).
pub fn save_note(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    item_id: &Id,
    input: NoteInput,
) -> Result<NoteSaved, ServiceError> {
    let (person, device, _) = tablet(store, caller, meeting_id)?;
    let base_rev = base_of(input.rev, input.base_rev)?;
    let note = ItemNoteEntry {
        item_id: item_id.clone(),
        owner_id: person.clone(),
        text: input.text,
        rev: input.rev,
        device_id: device,
    }
    .checked()?;
    let (_, saved) = store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let (item, stored) = tx.read(|t| {
            Ok((
                records::agenda_item(t, meeting_id, item_id)?,
                records::item_note(t, meeting_id, &person, item_id)?,
            ))
        })?;
        if item.is_none() {
            return Err(ServiceError::NotFound);
        }
        if let Some(s) =
            stored.filter(|s| !applies(note.rev, base_rev, &note.device_id, s.rev, &s.device_id))
        {
            let retried = tx.read(|t| records::note_save_applied(t, meeting_id, &note))?;
            return Ok((
                vec![],
                NoteSaved {
                    note: s,
                    applied: false,
                    lost: !retried,
                },
            ));
        }
        let event = sealed(
            tx,
            EventBody::ItemNoteSaved {
                meeting_id: meeting_id.clone(),
                note: note.clone(),
            },
        )?;
        Ok((
            vec![event],
            NoteSaved {
                note: note.clone(),
                applied: true,
                lost: false,
            },
        ))
    })?;
    Ok(saved)
}

/// A copy of one version of a document with the caller's own marks on it drawn in ("bản có
/// ghi chú của tôi"), and the file name to give it.
pub fn annotated_copy(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    document_id: &Id,
    version: u32,
) -> Result<(Vec<u8>, String), ServiceError> {
    let (person, _, role) = tablet(store, caller, meeting_id)?;
    let viewer = caller.viewer();
    let (doc, marks) = store.read(|t| {
        Ok((
            records::meeting_document(t, meeting_id, document_id)?,
            records::annotations(t, meeting_id)?,
        ))
    })?;
    let doc = doc
        .filter(|d| visibility::sees_document(viewer, role, d))
        .ok_or(ServiceError::NotFound)?;
    let v = doc
        .versions
        .iter()
        .find(|v| v.n == version)
        .ok_or(ServiceError::NotFound)?;
    let mine: Vec<AnnotationEntry> = marks
        .into_iter()
        .filter(|m| {
            m.owner_id == person
                && m.document_id == doc.id
                && m.version_sha256 == v.sha256
                && !m.deleted
        })
        .collect();
    if v.size > crate::annotated::MAX_BYTES {
        return Err(Refusal::Invalid {
            code: "annotation.export_too_large",
            detail: format!(
                "documents over {} MB cannot be exported with marks",
                crate::annotated::MAX_BYTES / 1024 / 1024
            ),
        }
        .into());
    }
    let path = store
        .blobs()
        .path(&v.sha256)
        .ok_or(ServiceError::NotFound)?;
    let bytes = std::fs::read(&path).map_err(|e| ServiceError::Internal(e.to_string()))?;
    if crate::domain::Hash::of(&bytes).to_hex() != v.sha256 {
        return Err(ServiceError::Internal(
            "the document file is damaged".into(),
        ));
    }
    let out = crate::annotated::annotated(&bytes, &mine).map_err(|e| Refusal::Invalid {
        code: match e {
            crate::annotated::ExportError::Encrypted => "annotation.export_encrypted",
            crate::annotated::ExportError::TooLarge => "annotation.export_too_large",
            crate::annotated::ExportError::Unreadable(_) => "annotation.export_unreadable",
        },
        detail: e.to_string(),
    })?;
    let stem = v
        .file_name
        .strip_suffix(".pdf")
        .or_else(|| v.file_name.strip_suffix(".PDF"))
        .unwrap_or(&v.file_name);
    Ok((out, format!("{stem} - ghi chu cua toi.pdf")))
}
