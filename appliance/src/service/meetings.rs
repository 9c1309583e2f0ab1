//! Meetings as far as people and tablets need them: who is invited, in what role.

use super::bodies::known_people;
use super::{Caller, Refusal, ServiceError};
use crate::domain::records::{Id, Meeting, MeetingStatus};
use crate::domain::{EventBody, Role};
use crate::store::{records, Store};
use time::OffsetDateTime;

/// The caller's part in one meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingRole {
    Secretary,
    Chair,
    Delegate,
    Guest,
}

/// What `caller` is in `meeting`, or `None` if it is none of their business.
pub fn role_in(caller: &Caller, meeting: &Meeting) -> Option<MeetingRole> {
    match caller {
        Caller::Anonymous => None,
        Caller::Staff(a) if a.has(Role::may_manage_meetings) => Some(MeetingRole::Secretary),
        Caller::Staff(a) if a.has(|r| r == Role::Chair) => Some(MeetingRole::Chair),
        Caller::Staff(_) => None,
        Caller::Device { person, .. } => {
            // The chair sees the meeting from the time it is submitted for review; everyone
            // else once it is published.
            let published = meeting.status == MeetingStatus::Published;
            if meeting.chair_id.as_ref() == Some(&person.id)
                && meeting.status != MeetingStatus::Draft
            {
                Some(MeetingRole::Chair)
            } else if !published {
                None
            } else if meeting.members.contains(&person.id) {
                Some(MeetingRole::Delegate)
            } else if meeting.guests.contains(&person.id) {
                Some(MeetingRole::Guest)
            } else {
                None
            }
        }
    }
}

/// The meeting and the caller's role in it; 404 for a meeting the caller may not see, so its
/// existence is not revealed.
pub fn visible(
    store: &Store,
    caller: &Caller,
    id: &Id,
) -> Result<(Meeting, MeetingRole), ServiceError> {
    if matches!(caller, Caller::Anonymous) {
        return Err(ServiceError::Unauthenticated);
    }
    if matches!(caller, Caller::Staff(a) if !a.has(Role::may_read_meetings)) {
        return Err(ServiceError::Forbidden);
    }
    let meeting = store
        .read(|t| records::meeting(t, id))?
        .ok_or(ServiceError::NotFound)?;
    let role = role_in(caller, &meeting).ok_or(ServiceError::NotFound)?;
    Ok((meeting, role))
}

pub fn list(store: &Store, caller: &Caller) -> Result<Vec<(Meeting, MeetingRole)>, ServiceError> {
    match caller {
        Caller::Anonymous => return Err(ServiceError::Unauthenticated),
        Caller::Staff(a) if !a.has(Role::may_read_meetings) => return Err(ServiceError::Forbidden),
        _ => {}
    }
    let mut out: Vec<_> = store
        .read(records::meetings)?
        .into_iter()
        .filter_map(|m| role_in(caller, &m).map(|r| (m, r)))
        .collect();
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
    let meeting = Meeting {
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
    store.write(caller.actor(), |_| -> Result<_, ServiceError> {
        Ok::<_, ServiceError>((
            vec![EventBody::MeetingCreated {
                meeting: meeting.clone(),
            }],
            (),
        ))
    })?;
    Ok(meeting)
}
