//! Importing a member list (CSV or XLSX): a preview first, with every row's problems, then an
//! import that is all or nothing, unless the secretary chooses to skip the rows in error.

use super::people::same_person;
use super::{Caller, Refusal, ServiceError};
use crate::domain::person::PersonKind;
use crate::domain::records::{Id, Person};
use crate::domain::{EventBody, Role};
use crate::import::{
    self, ImportError, ImportFormat, LetterDamage, PersonDraft, RowCells, RowError,
};
use crate::store::{records, Store};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a preview waits for the secretary to confirm it.
const PREVIEW_TTL: Duration = Duration::from_secs(30 * 60);
/// Previews kept at once; the oldest goes first. Each holds at most 5,000 rows.
const PREVIEW_MAX: usize = 16;

/// What is wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    Row(RowError),
    /// The same person is already on the box.
    Exists,
}

#[derive(Debug, Clone)]
pub struct PreviewRow {
    pub line: usize,
    /// The row's cells as read, shown when there is no valid person to show.
    pub cells: RowCells,
    pub draft: Option<PersonDraft>,
    pub problems: Vec<RowProblem>,
}

#[derive(Debug, Clone)]
pub struct Preview {
    pub id: Id,
    pub format: ImportFormat,
    pub header_row: usize,
    pub rows: Vec<PreviewRow>,
    /// The file's Vietnamese letters were lost or misread before the upload.
    pub damage: Option<LetterDamage>,
}

impl Preview {
    pub fn valid(&self) -> usize {
        self.rows.iter().filter(|r| r.problems.is_empty()).count()
    }
    pub fn invalid(&self) -> usize {
        self.rows.len() - self.valid()
    }
}

/// Previews waiting for confirmation, in memory: a restart simply asks for the file again.
#[derive(Default)]
pub struct ImportStash {
    previews: Mutex<HashMap<Id, (Instant, String, Preview)>>,
}

fn who(caller: &Caller) -> String {
    match caller {
        Caller::Staff(a) => a.username.to_string(),
        _ => String::new(),
    }
}

fn refusal(e: ImportError) -> Refusal {
    match e {
        ImportError::Empty | ImportError::NoWorksheet => Refusal::ImportEmpty,
        ImportError::TooLarge { .. }
        | ImportError::TooManyRows { .. }
        | ImportError::UnpacksTooLarge { .. } => Refusal::ImportTooLarge,
        ImportError::Unsupported { looks_like, .. } => Refusal::ImportUnsupported(looks_like),
        ImportError::Damaged { detail } => {
            tracing::info!(%detail, "import: damaged workbook");
            Refusal::ImportDamaged
        }
        ImportError::MissingColumn {
            found,
            encoding_likely,
        } => Refusal::ImportNoNameColumn {
            found,
            encoding_likely,
        },
    }
}

fn to_person(d: &PersonDraft) -> Person {
    Person {
        id: Id::random(),
        name: d.name.clone(),
        position: d.position.clone(),
        unit: d.unit.clone(),
        phone: d.phone.clone(),
    }
}

/// Reads the file and checks every row, against the file itself and against the people
/// already on the box. Nothing is stored but the preview, in memory.
pub fn preview(
    store: &Store,
    stash: &ImportStash,
    caller: &Caller,
    bytes: &[u8],
    file_name: &str,
    content_type: Option<&str>,
) -> Result<Preview, ServiceError> {
    caller.require(Role::may_manage_meetings)?;
    let parsed = import::preview(bytes, file_name, content_type).map_err(refusal)?;
    let sheet = parsed.sheet;
    if sheet.rows.is_empty() {
        return Err(Refusal::ImportEmpty.into());
    }
    let existing = store.read(records::people)?;
    let rows = sheet
        .rows
        .into_iter()
        .map(|r| match r.person {
            Ok(d) => {
                let exists = existing.iter().any(|p| same_person(p, &to_person(&d)));
                PreviewRow {
                    line: r.line,
                    cells: r.cells,
                    problems: if exists {
                        vec![RowProblem::Exists]
                    } else {
                        vec![]
                    },
                    draft: Some(d),
                }
            }
            Err(errors) => PreviewRow {
                line: r.line,
                cells: r.cells,
                draft: None,
                problems: errors.into_iter().map(RowProblem::Row).collect(),
            },
        })
        .collect();
    let preview = Preview {
        id: Id::random(),
        format: parsed.format,
        header_row: sheet.header_row,
        rows,
        damage: sheet.damage,
    };
    if let Ok(mut p) = stash.previews.lock() {
        p.retain(|_, (at, _, _)| at.elapsed() < PREVIEW_TTL);
        while p.len() >= PREVIEW_MAX {
            let Some(oldest) = p
                .iter()
                .min_by_key(|(_, (at, _, _))| *at)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            p.remove(&oldest);
        }
        p.insert(
            preview.id.clone(),
            (Instant::now(), who(caller), preview.clone()),
        );
    }
    Ok(preview)
}

pub struct Imported {
    pub imported: usize,
    pub skipped: usize,
}

/// Imports a previewed file: every valid row, in one transaction, or nothing at all.
pub fn commit(
    store: &Store,
    stash: &ImportStash,
    caller: &Caller,
    preview_id: &Id,
    skip_invalid: bool,
    body_id: Option<&Id>,
) -> Result<Imported, ServiceError> {
    caller.require(Role::may_manage_meetings)?;
    let preview = {
        let p = stash
            .previews
            .lock()
            .map_err(|_| ServiceError::Internal("stash lock".into()))?;
        match p.get(preview_id) {
            Some((at, owner, pv)) if at.elapsed() < PREVIEW_TTL && *owner == who(caller) => {
                pv.clone()
            }
            _ => return Err(Refusal::ImportPreviewExpired.into()),
        }
    };
    let result =
        store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
            let existing = tx.read(records::people)?;
            let body =
                match body_id {
                    Some(id) => Some(tx.read(|t| records::body(t, id))?.ok_or_else(|| {
                        Refusal::Invalid {
                            code: "body.unknown",
                            detail: format!("no body {id}"),
                        }
                    })?),
                    None => None,
                };
            let mut people: Vec<(Person, PersonKind)> = Vec::new();
            let mut skipped = 0;
            for row in &preview.rows {
                let fresh = row
                    .draft
                    .as_ref()
                    .filter(|_| row.problems.is_empty())
                    .map(|d| (to_person(d), d.kind));
                match fresh {
                    // Someone may have added the same person since the preview.
                    Some((p, kind)) if !existing.iter().any(|e| same_person(e, &p)) => {
                        people.push((p, kind))
                    }
                    _ => skipped += 1,
                }
            }
            if skipped > 0 && !skip_invalid {
                return Err(Refusal::ImportHasErrors { invalid: skipped }.into());
            }
            let mut events: Vec<EventBody> = people
                .iter()
                .map(|(p, _)| EventBody::PersonAdded { person: p.into() })
                .collect();
            if let Some(body) = body {
                let mut members = body.members.clone();
                members.extend(
                    people
                        .iter()
                        .filter(|(_, k)| *k == PersonKind::Member)
                        .map(|(p, _)| p.id.clone()),
                );
                events.push(EventBody::BodyMembersSet {
                    body_id: body.id.clone(),
                    members,
                });
            }
            Ok((
                events,
                Imported {
                    imported: people.len(),
                    skipped,
                },
            ))
        })?;
    if let Ok(mut p) = stash.previews.lock() {
        p.remove(preview_id);
    }
    tracing::info!(
        imported = result.1.imported,
        skipped = result.1.skipped,
        "people imported"
    );
    Ok(result.1)
}
