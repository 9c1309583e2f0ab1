//! Bodies that meet (UBND, HĐND, party committees), their members and rules.

use super::{Caller, Refusal, ServiceError};
use crate::domain::records::{Body, BodyKind, Id};
use crate::domain::{EventBody, Role};
use crate::store::{records, Store};

pub fn list(store: &Store, caller: &Caller) -> Result<Vec<Body>, ServiceError> {
    caller.require(Role::may_read_people)?;
    let mut bodies = store.read(records::bodies)?;
    bodies.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(bodies)
}

fn parse_name(raw: &str) -> Result<String, ServiceError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        return Err(Refusal::Invalid {
            code: "body.bad_name",
            detail: "a body's name is 1 to 120 characters".into(),
        }
        .into());
    }
    Ok(name.to_owned())
}

pub fn create(
    store: &Store,
    caller: &Caller,
    name: &str,
    kind: BodyKind,
) -> Result<Body, ServiceError> {
    caller.require(Role::may_manage_meetings)?;
    let (quorum, pass) = kind.default_rules();
    let body = Body {
        id: Id::random(),
        name: parse_name(name)?,
        kind,
        quorum,
        pass,
        members: Vec::new(),
        publish_lead_days: 3,
    };
    store.write(caller.actor(), |_| -> Result<_, ServiceError> {
        Ok::<_, ServiceError>((
            vec![EventBody::BodyCreated {
                body: (&body).into(),
            }],
            (),
        ))
    })?;
    Ok(body)
}

/// Checks that every id names a known person, and drops repeats.
pub fn known_people(store: &Store, ids: &[Id]) -> Result<Vec<Id>, ServiceError> {
    let mut out: Vec<Id> = Vec::with_capacity(ids.len());
    store
        .read(|txn| {
            for id in ids {
                if records::person(txn, id)?.is_none() {
                    return Ok(Err(id.clone()));
                }
                if !out.contains(id) {
                    out.push(id.clone());
                }
            }
            Ok(Ok(()))
        })?
        .map_err(|id| Refusal::Invalid {
            code: "person.unknown",
            detail: format!("no person {id}"),
        })?;
    Ok(out)
}

pub fn set_members(
    store: &Store,
    caller: &Caller,
    body_id: &Id,
    members: &[Id],
) -> Result<Body, ServiceError> {
    caller.require(Role::may_manage_meetings)?;
    let members = known_people(store, members)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        if tx.read(|t| records::body(t, body_id))?.is_none() {
            return Err(ServiceError::NotFound);
        }
        Ok((
            vec![EventBody::BodyMembersSet {
                body_id: body_id.clone(),
                members: members.clone(),
            }],
            (),
        ))
    })?;
    store
        .read(|t| records::body(t, body_id))?
        .ok_or(ServiceError::NotFound)
}

/// A body's name and rules as the secretary changes them; absent fields stay as they are.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesInput {
    pub name: Option<String>,
    pub quorum: Option<crate::domain::quorum::Threshold>,
    pub pass: Option<crate::domain::quorum::Threshold>,
    pub publish_lead_days: Option<u32>,
}

pub fn set_rules(
    store: &Store,
    caller: &Caller,
    body_id: &Id,
    input: &RulesInput,
) -> Result<Body, ServiceError> {
    caller.require(Role::may_manage_meetings)?;
    let name = input.name.as_deref().map(parse_name).transpose()?;
    for t in [&input.quorum, &input.pass].into_iter().flatten() {
        crate::domain::quorum::Threshold::new(t.numerator, t.denominator, t.comparison).map_err(
            |e| Refusal::Invalid {
                code: "body.bad_rule",
                detail: e.to_string(),
            },
        )?;
    }
    if input.publish_lead_days.is_some_and(|d| d > 60) {
        return Err(Refusal::Invalid {
            code: "body.bad_rule",
            detail: "at most 60 working days ahead".into(),
        }
        .into());
    }
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let body = tx
            .read(|t| records::body(t, body_id))?
            .ok_or(ServiceError::NotFound)?;
        Ok((
            vec![EventBody::BodyRulesSet {
                body_id: body_id.clone(),
                name: name.clone().unwrap_or(body.name),
                quorum: input.quorum.unwrap_or(body.quorum),
                pass: input.pass.unwrap_or(body.pass),
                publish_lead_days: input.publish_lead_days.unwrap_or(body.publish_lead_days),
            }],
            (),
        ))
    })?;
    store
        .read(|t| records::body(t, body_id))?
        .ok_or(ServiceError::NotFound)
}
