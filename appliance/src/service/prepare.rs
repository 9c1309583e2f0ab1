//! Preparing a meeting: details, the agenda, documents with versions, and the review workflow
//! from draft to published. Only the secretary edits; only the chair approves or sends back.

use super::bodies::known_people;
use super::meetings::{not_handed_over, visible, visible_header, MeetingRole};
use super::{Caller, Refusal, ServiceError};
use crate::domain::document::{FileName, FileType, UploadError};
use crate::domain::event::{DocumentEntry, ItemEntry, VersionEntry};
use crate::domain::records::{
    Document, Id, Item, Meeting, MeetingHeader, MeetingStatus, Step, Version,
};
use crate::domain::{EventBody, Role};
use crate::store::{records, BlobInfo, Store, Tx};
use time::{OffsetDateTime, UtcOffset, Weekday};

fn invalid(code: &'static str, detail: impl Into<String>) -> ServiceError {
    Refusal::Invalid {
        code,
        detail: detail.into(),
    }
    .into()
}

fn text(raw: &str, max: usize, code: &'static str, required: bool) -> Result<String, ServiceError> {
    let t = raw.trim();
    if (required && t.is_empty())
        || t.chars().count() > max
        || t.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(invalid(
            code,
            format!("1 to {max} characters, no control characters"),
        ));
    }
    Ok(t.to_owned())
}

/// The meeting as the secretary may change it: checked inside the write, so two secretaries
/// cannot interleave a step and an edit.
fn editable_meeting(tx: &Tx<'_>, id: &Id) -> Result<MeetingHeader, ServiceError> {
    let m = tx
        .read(|t| records::meeting_header(t, id))?
        .ok_or(ServiceError::NotFound)?;
    not_handed_over(&m)?;
    if !m.status.editable() {
        return Err(Refusal::WrongStatus(m.status).into());
    }
    Ok(m)
}

fn secretary(store: &Store, caller: &Caller, id: &Id) -> Result<(), ServiceError> {
    caller.require(Role::may_manage_meetings)?;
    visible_header(store, caller, id)?;
    Ok(())
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Details {
    pub title: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub starts_at: Option<OffsetDateTime>,
    pub place: Option<String>,
    pub chair_id: Option<Id>,
}

pub fn set_details(
    store: &Store,
    caller: &Caller,
    id: &Id,
    d: Details,
) -> Result<MeetingHeader, ServiceError> {
    secretary(store, caller, id)?;
    if let Some(c) = &d.chair_id {
        known_people(store, std::slice::from_ref(c))?;
    }
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let m = editable_meeting(tx, id)?;
        Ok((
            vec![EventBody::MeetingDetailsSet {
                meeting_id: id.clone(),
                title: match &d.title {
                    Some(t) => text(t, 300, "meeting.bad_title", true)?,
                    None => m.title.clone(),
                },
                starts_at: d.starts_at.unwrap_or(m.starts_at),
                place: match &d.place {
                    Some(p) => text(p, 200, "meeting.bad_place", false)?,
                    None => m.place.clone(),
                },
                chair_id: d.chair_id.clone().or(m.chair_id.clone()),
            }],
            (),
        ))
    })?;
    Ok(visible_header(store, caller, id)?.0)
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    pub title: Option<String>,
    pub presenter: Option<String>,
    /// Absent: unchanged; `null`: no presenter person; an id: one of the meeting's members,
    /// guests or its chair.
    #[serde(default, deserialize_with = "present")]
    pub presenter_id: Option<Option<Id>>,
    pub duration_minutes: Option<u16>,
    pub description: Option<String>,
}

/// Tells a field sent as `null` (`Some(None)`) from one not sent at all (`None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// Refuses a presenter person who is not one of the meeting's members, guests or its chair.
fn check_presenter(m: &MeetingHeader, item: &Item) -> Result<(), ServiceError> {
    match &item.presenter_id {
        Some(p)
            if !(m.members.contains(p)
                || m.guests.contains(p)
                || m.chair_id.as_ref() == Some(p)) =>
        {
            Err(invalid(
                "item.bad_presenter_person",
                "the presenter must be one of the meeting's members or guests",
            ))
        }
        _ => Ok(()),
    }
}

fn build_item(id: Id, old: Option<&Item>, i: &ItemInput) -> Result<Item, ServiceError> {
    let title = match (&i.title, old) {
        (Some(t), _) => text(t, 300, "item.bad_title", true)?,
        (None, Some(o)) => o.title.clone(),
        (None, None) => return Err(invalid("item.bad_title", "an agenda item needs a title")),
    };
    let presenter = match (&i.presenter, old) {
        (Some(p), _) => text(p, 200, "item.bad_presenter", false)?,
        (None, Some(o)) => o.presenter.clone(),
        (None, None) => String::new(),
    };
    let description = match (&i.description, old) {
        (Some(d), _) => text(d, 5000, "item.bad_description", false)?,
        (None, Some(o)) => o.description.clone(),
        (None, None) => String::new(),
    };
    let duration_minutes = i.duration_minutes.or(old.and_then(|o| o.duration_minutes));
    if duration_minutes.is_some_and(|d| d == 0 || d > 600) {
        return Err(invalid("item.bad_duration", "1 to 600 minutes"));
    }
    let presenter_id = match &i.presenter_id {
        Some(p) => p.clone(),
        None => old.and_then(|o| o.presenter_id.clone()),
    };
    Ok(Item {
        id,
        title,
        presenter,
        duration_minutes,
        description,
        presenter_id,
        updated_after_publish: false,
    })
}

/// The item as the read model holds it now (with its "đã cập nhật" mark).
fn stored_item(store: &Store, meeting: &Id, item: Item) -> Result<Item, ServiceError> {
    Ok(store
        .read(|t| records::agenda_item(t, meeting, &item.id))?
        .unwrap_or(item))
}

pub fn add_item(
    store: &Store,
    caller: &Caller,
    meeting: &Id,
    input: &ItemInput,
) -> Result<Item, ServiceError> {
    secretary(store, caller, meeting)?;
    let item = build_item(Id::random(), None, input)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let m = editable_meeting(tx, meeting)?;
        check_presenter(&m, &item)?;
        Ok((
            vec![EventBody::ItemAdded {
                meeting_id: meeting.clone(),
                item: ItemEntry::from(&item),
            }],
            (),
        ))
    })?;
    stored_item(store, meeting, item)
}

pub fn update_item(
    store: &Store,
    caller: &Caller,
    meeting: &Id,
    item_id: &Id,
    input: &ItemInput,
) -> Result<Item, ServiceError> {
    secretary(store, caller, meeting)?;
    let (_, item) = store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let m = editable_meeting(tx, meeting)?;
        let old = tx
            .read(|t| records::agenda_item(t, meeting, item_id))?
            .ok_or(ServiceError::NotFound)?;
        let item = build_item(item_id.clone(), Some(&old), input)?;
        check_presenter(&m, &item)?;
        Ok((
            vec![EventBody::ItemUpdated {
                meeting_id: meeting.clone(),
                item: ItemEntry::from(&item),
            }],
            item,
        ))
    })?;
    stored_item(store, meeting, item)
}

pub fn remove_item(
    store: &Store,
    caller: &Caller,
    meeting: &Id,
    item_id: &Id,
) -> Result<(), ServiceError> {
    secretary(store, caller, meeting)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let m = editable_meeting(tx, meeting)?;
        if m.status != MeetingStatus::Draft {
            return Err(Refusal::WrongStatus(m.status).into());
        }
        if tx
            .read(|t| records::agenda_item(t, meeting, item_id))?
            .is_none()
        {
            return Err(ServiceError::NotFound);
        }
        let documents = tx.read(|t| records::documents(t, meeting))?;
        if documents.iter().any(|d| &d.item_id == item_id) {
            return Err(invalid(
                "item.has_documents",
                "remove the item's documents first",
            ));
        }
        Ok((
            vec![EventBody::ItemRemoved {
                meeting_id: meeting.clone(),
                item_id: item_id.clone(),
            }],
            (),
        ))
    })?;
    Ok(())
}

/// Reorders the agenda. `expected` is the order the client saw: if someone changed the agenda
/// since, the reorder is refused rather than applied to a list the user did not see.
pub fn reorder(
    store: &Store,
    caller: &Caller,
    meeting: &Id,
    order: &[Id],
    expected: &[Id],
) -> Result<Vec<Item>, ServiceError> {
    secretary(store, caller, meeting)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let m = editable_meeting(tx, meeting)?;
        if m.status != MeetingStatus::Draft {
            return Err(Refusal::WrongStatus(m.status).into());
        }
        let agenda = tx.read(|t| records::agenda(t, meeting))?;
        let current: Vec<&Id> = agenda.iter().map(|i| &i.id).collect();
        if current != expected.iter().collect::<Vec<_>>() {
            return Err(Refusal::AgendaStale.into());
        }
        let mut sorted_new: Vec<&Id> = order.iter().collect();
        let mut sorted_cur = current.clone();
        sorted_new.sort();
        sorted_cur.sort();
        if sorted_new != sorted_cur {
            return Err(invalid(
                "agenda.bad_order",
                "the order must name every item exactly once",
            ));
        }
        Ok((
            vec![EventBody::AgendaReordered {
                meeting_id: meeting.clone(),
                order: order.to_vec(),
            }],
            (),
        ))
    })?;
    Ok(visible(store, caller, meeting)?.0.agenda)
}

/// An upload the secretary may make, checked before a byte of it is stored.
#[derive(Debug, Clone)]
pub struct UploadPlan {
    pub meeting: Id,
    pub item: Id,
    /// `None` for a new document, else the document that gets a new version.
    pub document: Option<Id>,
    pub title: String,
    pub number: Option<String>,
    pub file_name: FileName,
    pub file_type: FileType,
    /// Who may see a new document from the start (a restriction set later would leave a moment
    /// when everyone could see its title).
    pub restricted_to: Option<Vec<Id>>,
}

fn upload_error(e: UploadError) -> ServiceError {
    Refusal::Upload(e).into()
}

fn check_title_free(
    documents: &[Document],
    item: &Id,
    title: &str,
    except: Option<&Id>,
) -> Result<(), ServiceError> {
    let taken = documents.iter().any(|d| {
        &d.item_id == item
            && Some(&d.id) != except
            && d.title.to_lowercase() == title.to_lowercase()
    });
    if taken {
        return Err(Refusal::DocumentDuplicateTitle.into());
    }
    Ok(())
}

/// What the secretary says about a new document, as typed.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub title: String,
    pub number: Option<String>,
    pub file_name: String,
    pub restricted_to: Option<Vec<Id>>,
}

/// Checks a new document before its upload is read.
pub fn plan_document(
    store: &Store,
    caller: &Caller,
    meeting: &Id,
    item: &Id,
    new: NewDocument,
) -> Result<UploadPlan, ServiceError> {
    secretary(store, caller, meeting)?;
    let NewDocument {
        title,
        number,
        file_name,
        restricted_to,
    } = new;
    if let Some(names) = &restricted_to {
        known_people(store, names)?;
    }
    let file_name = FileName::parse(&file_name).map_err(upload_error)?;
    let file_type = FileType::of(&file_name).map_err(upload_error)?;
    let title = text(&title, 300, "document.bad_title", true)?;
    let number = number
        .as_deref()
        .map(|n| text(n, 60, "document.bad_number", false))
        .transpose()?
        .filter(|n| !n.is_empty());
    let m = visible(store, caller, meeting)?.0;
    not_handed_over(&m)?;
    if !m.status.editable() {
        return Err(Refusal::WrongStatus(m.status).into());
    }
    if !m.agenda.iter().any(|i| &i.id == item) {
        return Err(ServiceError::NotFound);
    }
    check_title_free(&m.documents, item, &title, None)?;
    Ok(UploadPlan {
        meeting: meeting.clone(),
        item: item.clone(),
        document: None,
        title,
        number,
        file_name,
        file_type,
        restricted_to,
    })
}

/// Checks a new version of a document before its upload is read.
pub fn plan_version(
    store: &Store,
    caller: &Caller,
    document: &Id,
    file_name: &str,
) -> Result<UploadPlan, ServiceError> {
    caller.require(Role::may_manage_meetings)?;
    let (m, d) = find_document(store, document)?;
    let file_name = FileName::parse(file_name).map_err(upload_error)?;
    let file_type = FileType::of(&file_name).map_err(upload_error)?;
    not_handed_over(&m)?;
    if file_type.kind() != d.kind {
        return Err(upload_error(UploadError::UnsupportedType(
            "a different kind of file than the first version".into(),
        )));
    }
    if !m.status.editable() {
        return Err(Refusal::WrongStatus(m.status).into());
    }
    Ok(UploadPlan {
        meeting: m.id,
        item: d.item_id.clone(),
        document: Some(d.id.clone()),
        title: d.title.clone(),
        number: d.number.clone(),
        file_name,
        file_type,
        restricted_to: d.restricted_to.clone(),
    })
}

fn find_document(store: &Store, document: &Id) -> Result<(MeetingHeader, Document), ServiceError> {
    store
        .read(|t| records::document(t, document))?
        .ok_or(ServiceError::NotFound)
}

/// Records an upload whose bytes are stored. Re-checks everything inside the write.
pub fn commit_upload(
    store: &Store,
    caller: &Caller,
    plan: &UploadPlan,
    blob: &BlobInfo,
) -> Result<Document, ServiceError> {
    let version_of = |n: u32| VersionEntry {
        n,
        sha256: blob.sha256.clone(),
        size: blob.size,
        file_name: plan.file_name.as_str().to_owned(),
        content_type: plan.file_type.content_type().to_owned(),
        uploaded_at: OffsetDateTime::now_utc(),
    };
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let m = editable_meeting(tx, &plan.meeting)?;
        match &plan.document {
            None => {
                if tx
                    .read(|t| records::agenda_item(t, &m.id, &plan.item))?
                    .is_none()
                {
                    return Err(ServiceError::NotFound);
                }
                let documents = tx.read(|t| records::documents(t, &m.id))?;
                check_title_free(&documents, &plan.item, &plan.title, None)?;
                let document = DocumentEntry {
                    id: Id::random(),
                    item_id: plan.item.clone(),
                    title: plan.title.clone(),
                    number: plan.number.clone(),
                    kind: plan.file_type.kind(),
                    restricted_to: plan.restricted_to.clone(),
                    versions: vec![version_of(1)],
                };
                Ok((
                    vec![EventBody::DocumentAdded {
                        meeting_id: m.id.clone(),
                        document,
                    }],
                    (),
                ))
            }
            Some(doc_id) => {
                let (_, d) = tx
                    .read(|t| records::document(t, doc_id))?
                    .filter(|(h, _)| h.id == m.id)
                    .ok_or(ServiceError::NotFound)?;
                let n = d.versions.last().map(|v| v.n + 1).unwrap_or(1);
                Ok((
                    vec![EventBody::DocumentVersionAdded {
                        meeting_id: m.id.clone(),
                        document_id: doc_id.clone(),
                        version: version_of(n),
                        restricted_to: d.restricted_to.clone(),
                    }],
                    (),
                ))
            }
        }
    })?;
    let documents = store.read(|t| records::documents(t, &plan.meeting))?;
    documents
        .into_iter()
        .rfind(|d| d.item_id == plan.item && d.title == plan.title)
        .ok_or(ServiceError::NotFound)
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    pub title: Option<String>,
    pub number: Option<String>,
    /// `Some(None)` lifts the restriction; absent leaves it.
    #[serde(default, with = "double_option")]
    pub restricted_to: Option<Option<Vec<Id>>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
    }
}

pub fn update_document(
    store: &Store,
    caller: &Caller,
    document: &Id,
    input: &DocumentInput,
) -> Result<Document, ServiceError> {
    caller.require(Role::may_manage_meetings)?;
    let (m, _) = find_document(store, document)?;
    if let Some(Some(names)) = &input.restricted_to {
        known_people(store, names)?;
    }
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let m = editable_meeting(tx, &m.id)?;
        let documents = tx.read(|t| records::documents(t, &m.id))?;
        let d = documents
            .iter()
            .find(|d| &d.id == document)
            .ok_or(ServiceError::NotFound)?;
        let title = match &input.title {
            Some(t) => text(t, 300, "document.bad_title", true)?,
            None => d.title.clone(),
        };
        check_title_free(&documents, &d.item_id, &title, Some(&d.id))?;
        let number = match &input.number {
            Some(n) => Some(text(n, 60, "document.bad_number", false)?).filter(|n| !n.is_empty()),
            None => d.number.clone(),
        };
        let restricted_to = match &input.restricted_to {
            Some(r) => r.clone(),
            None => d.restricted_to.clone(),
        };
        Ok((
            vec![EventBody::DocumentUpdated {
                meeting_id: m.id.clone(),
                document_id: d.id.clone(),
                title,
                number,
                restricted_to,
                was_restricted_to: d.restricted_to.clone(),
            }],
            (),
        ))
    })?;
    Ok(find_document(store, document)?.1)
}

pub fn remove_document(store: &Store, caller: &Caller, document: &Id) -> Result<(), ServiceError> {
    caller.require(Role::may_manage_meetings)?;
    let (m, _) = find_document(store, document)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let m = editable_meeting(tx, &m.id)?;
        if m.status != MeetingStatus::Draft {
            return Err(Refusal::WrongStatus(m.status).into());
        }
        let (_, d) = tx
            .read(|t| records::document(t, document))?
            .ok_or(ServiceError::NotFound)?;
        Ok((
            vec![EventBody::DocumentRemoved {
                meeting_id: m.id.clone(),
                document_id: d.id.clone(),
                restricted_to: d.restricted_to.clone(),
            }],
            (),
        ))
    })?;
    Ok(())
}

/// One step of the review: submit and publish are the secretary's, approve and send back the
/// chair's (a chair account, or the person named chair of the meeting on their tablet).
pub fn step(
    store: &Store,
    caller: &Caller,
    meeting: &Id,
    step: Step,
    comment: Option<&str>,
) -> Result<Meeting, ServiceError> {
    let (_, role) = visible_header(store, caller, meeting)?;
    let allowed = match step {
        Step::Submit | Step::Publish => role == MeetingRole::Secretary,
        Step::Approve | Step::SendBack => role == MeetingRole::Chair,
    };
    if !allowed {
        return Err(ServiceError::Forbidden);
    }
    let comment = match step {
        Step::SendBack => Some(text(
            comment.unwrap_or(""),
            2000,
            "review.comment_required",
            true,
        )?),
        _ => None,
    };
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let m = tx
            .read(|t| records::meeting_header(t, meeting))?
            .ok_or(ServiceError::NotFound)?;
        not_handed_over(&m)?;
        if m.status.after(step).is_none() {
            return Err(Refusal::WrongStatus(m.status).into());
        }
        let id = m.id.clone();
        let event = match step {
            Step::Submit => EventBody::MeetingSubmitted { meeting_id: id },
            Step::Approve => EventBody::MeetingApproved { meeting_id: id },
            Step::SendBack => EventBody::MeetingSentBack {
                meeting_id: id,
                comment: comment.clone().unwrap_or_default(),
            },
            Step::Publish => EventBody::MeetingPublished { meeting_id: id },
        };
        Ok((vec![event], ()))
    })?;
    tracing::info!(meeting = %meeting, ?step, "meeting review step");
    Ok(visible(store, caller, meeting)?.0)
}

/// Working days (Monday to Friday, Vietnam time) from `from` to the day before `to`.
pub fn working_days_between(from: OffsetDateTime, to: OffsetDateTime) -> u32 {
    let vn = UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC);
    let (mut day, end) = (from.to_offset(vn).date(), to.to_offset(vn).date());
    let mut n = 0;
    while day < end {
        if !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
            n += 1;
        }
        match day.next_day() {
            Some(d) => day = d,
            None => break,
        }
    }
    n
}

/// `(days_before, rule_days)` when a meeting was published later than its body's rule.
pub fn publish_warning(
    store: &Store,
    m: &MeetingHeader,
) -> Result<Option<(u32, u32)>, ServiceError> {
    let Some(published) = m.published_at else {
        return Ok(None);
    };
    let rule = store
        .read(|t| records::body(t, &m.body_id))?
        .map(|b| b.publish_lead_days)
        .unwrap_or(3);
    let days = working_days_between(published, m.starts_at);
    Ok((days < rule).then_some((days, rule)))
}

/// The version behind a blob, if `caller` may read it now: the visibility policy decides, for
/// each live document that holds the blob, against the meeting and the document as they are.
pub fn readable_blob(
    store: &Store,
    caller: &Caller,
    sha256: &str,
) -> Result<Option<Version>, ServiceError> {
    if matches!(caller, Caller::Anonymous) {
        return Err(ServiceError::Unauthenticated);
    }
    let viewer = caller.viewer();
    let uses = store.read(|t| records::documents_using_blob(t, sha256))?;
    for (meeting, d) in uses {
        let Some(role) = crate::domain::visibility::meeting_role(viewer, &meeting) else {
            continue;
        };
        if !crate::domain::visibility::sees_document(viewer, role, &d) {
            continue;
        }
        if let Some(v) = d.versions.iter().find(|v| v.sha256 == sha256) {
            return Ok(Some(v.clone()));
        }
    }
    Ok(None)
}

/// A document version whose stored file is damaged, for the staff's integrity report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DamagedDocument {
    pub meeting_id: Id,
    pub meeting_title: String,
    pub document_id: Id,
    pub title: String,
    pub version: u32,
    pub file_name: String,
    pub sha256: String,
}

/// The documents that use the damaged blobs `shas`: the secretary and the chair see which
/// documents to upload again; IT staff may ask but get none (they see only how many files are
/// damaged); anyone else is refused.
pub fn damaged_documents(
    store: &Store,
    caller: &Caller,
    shas: &[String],
) -> Result<Vec<DamagedDocument>, ServiceError> {
    if caller.staff_may(Role::may_read_metrics) && !caller.staff_may(Role::may_read_meetings) {
        return Ok(Vec::new());
    }
    caller.require(Role::may_read_meetings)?;
    if shas.is_empty() {
        return Ok(Vec::new());
    }
    let viewer = caller.viewer();
    let mut out = Vec::new();
    for sha in shas {
        for (meeting, d) in store.read(|t| records::documents_using_blob(t, sha))? {
            let sees = crate::domain::visibility::meeting_role(viewer, &meeting)
                .is_some_and(|role| crate::domain::visibility::sees_document(viewer, role, &d));
            if !sees {
                continue;
            }
            for v in d.versions.iter().filter(|v| &v.sha256 == sha) {
                out.push(DamagedDocument {
                    meeting_id: meeting.id.clone(),
                    meeting_title: meeting.title.clone(),
                    document_id: d.id.clone(),
                    title: d.title.clone(),
                    version: v.n,
                    file_name: v.file_name.clone(),
                    sha256: v.sha256.clone(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn working_days_skip_weekends() {
        // Published Friday morning for a Monday meeting: one working day (Friday).
        assert_eq!(
            working_days_between(
                datetime!(2026-11-27 02:00 UTC),
                datetime!(2026-11-30 01:00 UTC)
            ),
            1
        );
        // Published Monday for the next Monday: five.
        assert_eq!(
            working_days_between(
                datetime!(2026-11-23 02:00 UTC),
                datetime!(2026-11-30 01:00 UTC)
            ),
            5
        );
        assert_eq!(
            working_days_between(
                datetime!(2026-11-30 02:00 UTC),
                datetime!(2026-11-30 01:00 UTC)
            ),
            0
        );
    }
}
