//! Meetings as far as people and tablets need them: who is invited, in what role.

use super::bodies::known_people;
use super::{Caller, Refusal, ServiceError};
use crate::domain::event::MeetingEntry;
use crate::domain::records::{Id, Meeting, MeetingHeader, MeetingStatus};
use crate::domain::visibility;
pub use crate::domain::visibility::MeetingRole;
use crate::domain::{EventBody, Role};
use crate::store::{records, Store};
use time::OffsetDateTime;

/// What `caller` is in `meeting`, or `None` if it is none of their business.
pub fn role_in(caller: &Caller, meeting: &MeetingHeader) -> Option<MeetingRole> {
    visibility::meeting_role(caller.viewer(), meeting)
}

fn may_read_meetings(caller: &Caller) -> Result<(), ServiceError> {
    match caller {
        Caller::Anonymous => Err(ServiceError::Unauthenticated),
        Caller::Staff(a) if !a.has(Role::may_read_meetings) && !a.has(|r| r == Role::Projector) => {
            Err(ServiceError::Forbidden)
        }
        _ => Ok(()),
    }
}

/// The meeting's own facts and the caller's role in it, without reading its agenda and
/// documents; 404 for a meeting the caller may not see, so its existence is not revealed.
pub fn visible_header(
    store: &Store,
    caller: &Caller,
    id: &Id,
) -> Result<(MeetingHeader, MeetingRole), ServiceError> {
    may_read_meetings(caller)?;
    let meeting = store
        .read(|t| records::meeting_header(t, id))?
        .ok_or(ServiceError::NotFound)?;
    let role = role_in(caller, &meeting).ok_or(ServiceError::NotFound)?;
    Ok((meeting, role))
}

/// The meeting with its agenda and documents, and the caller's role in it.
pub fn visible(
    store: &Store,
    caller: &Caller,
    id: &Id,
) -> Result<(Meeting, MeetingRole), ServiceError> {
    let (_, role) = visible_header(store, caller, id)?;
    let meeting = store
        .read(|t| records::meeting(t, id))?
        .ok_or(ServiceError::NotFound)?;
    Ok((meeting, role))
}

pub fn list(store: &Store, caller: &Caller) -> Result<Vec<(Meeting, MeetingRole)>, ServiceError> {
    may_read_meetings(caller)?;
    let mut out = store.read(|t| {
        let mut out = Vec::new();
        for h in records::meeting_headers(t)? {
            if let Some(role) = role_in(caller, &h) {
                if let Some(m) = records::meeting(t, &h.id)? {
                    out.push((m, role));
                }
            }
        }
        Ok(out)
    })?;
    out.sort_by_key(|(m, _)| m.starts_at);
    Ok(out)
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    pub body_id: Id,
    pub title: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    #[serde(default)]
    pub chair_id: Option<Id>,
    #[serde(default)]
    pub guests: Vec<Id>,
    #[serde(default)]
    pub place: String,
}

pub fn create(store: &Store, caller: &Caller, input: NewMeeting) -> Result<Meeting, ServiceError> {
    caller.require(Role::may_manage_meetings)?;
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 300 || title.chars().any(char::is_control) {
        return Err(Refusal::Invalid {
            code: "meeting.bad_title",
            detail: "a meeting's title is 1 to 300 characters".into(),
        }
        .into());
    }
    let body = store
        .read(|t| records::body(t, &input.body_id))?
        .ok_or_else(|| Refusal::Invalid {
            code: "body.unknown",
            detail: format!("no body {}", input.body_id),
        })?;
    let mut guests = known_people(store, &input.guests)?;
    guests.retain(|g| !body.members.contains(g));
    if let Some(chair) = &input.chair_id {
        known_people(store, std::slice::from_ref(chair))?;
    }
    let meeting = MeetingEntry {
        id: Id::random(),
        body_id: body.id.clone(),
        title: title.to_owned(),
        starts_at: input.starts_at,
        chair_id: input.chair_id,
        members: body.members.clone(),
        guests,
        place: input.place.trim().chars().take(200).collect(),
        status: MeetingStatus::Draft,
        published_at: None,
        review_comment: None,
        agenda: Vec::new(),
        documents: Vec::new(),
    };
    let id = meeting.id.clone();
    store.write(caller.actor(), |_| -> Result<_, ServiceError> {
        Ok::<_, ServiceError>((vec![EventBody::MeetingCreated { meeting }], ()))
    })?;
    store
        .read(|t| records::meeting(t, &id))?
        .ok_or(ServiceError::NotFound)
}

/// Refuses any change to a meeting the hub handed to a room box: the box owns it now.
pub fn not_handed_over(m: &MeetingHeader) -> Result<(), ServiceError> {
    match m.handed_over_to {
        Some(_) => Err(Refusal::HandedOver.into()),
        None => Ok(()),
    }
}
