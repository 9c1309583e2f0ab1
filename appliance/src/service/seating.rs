//! The seating map: the room's layout, laid out once, and who sits where in each meeting.

use super::meetings::{visible, MeetingRole};
use super::{Caller, Refusal, ServiceError};
use crate::domain::records::{Assignments, Id, Layout, LayoutShape};
use crate::domain::{EventBody, Role};
use crate::store::{records, Store};
use std::collections::HashSet;

/// The room's layout; an empty one until the secretary lays the room out.
pub fn layout(store: &Store, caller: &Caller) -> Result<Layout, ServiceError> {
    if matches!(caller, Caller::Anonymous) {
        return Err(ServiceError::Unauthenticated);
    }
    Ok(store.read(records::layout)?.unwrap_or(Layout {
        shape: LayoutShape::Rows,
        seats: Vec::new(),
    }))
}

pub fn save_layout(store: &Store, caller: &Caller, layout: Layout) -> Result<Layout, ServiceError> {
    caller.require(Role::may_manage_meetings)?;
    let layout = layout.validate().map_err(Refusal::LayoutInvalid)?;
    let ids: HashSet<&str> = layout.seats.iter().map(|s| s.id.as_str()).collect();
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        // A seat someone is assigned to may not vanish from under them.
        let meetings = tx.read(records::meeting_headers)?;
        for m in &meetings {
            let seats = tx.read(|t| records::seats(t, &m.id))?;
            if let Some(seat) = seats.keys().find(|s| !ids.contains(s.as_str())) {
                return Err(Refusal::SeatInUse(seat.clone()).into());
            }
        }
        Ok::<_, ServiceError>((
            vec![EventBody::LayoutSaved {
                layout: (&layout).into(),
            }],
            (),
        ))
    })?;
    Ok(layout)
}

pub fn seats(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
) -> Result<(Layout, Assignments), ServiceError> {
    let (meeting, _) = visible(store, caller, meeting_id)?;
    let layout = layout(store, caller)?;
    let seats = store.read(|t| records::seats(t, &meeting.id))?;
    Ok((layout, seats))
}

pub fn assign(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    assignments: Assignments,
) -> Result<Assignments, ServiceError> {
    let (meeting, role) = visible(store, caller, meeting_id)?;
    if role != MeetingRole::Secretary {
        return Err(ServiceError::Forbidden);
    }
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        // Checked against the layout as it is inside this write, so a seat removed a moment
        // ago cannot be handed out.
        let layout = tx.read(records::layout)?.unwrap_or(Layout {
            shape: LayoutShape::Rows,
            seats: Vec::new(),
        });
        let seat_ids: HashSet<&str> = layout.seats.iter().map(|s| s.id.as_str()).collect();
        let mut people = HashSet::new();
        for (seat, person) in &assignments {
            if !seat_ids.contains(seat.as_str()) {
                return Err(Refusal::Invalid {
                    code: "seating.unknown_seat",
                    detail: format!("no seat {seat} in the room's layout"),
                }
                .into());
            }
            if !(meeting.members.contains(person) || meeting.guests.contains(person)) {
                return Err(Refusal::Invalid {
                    code: "seating.not_invited",
                    detail: format!("{person} is not invited to this meeting"),
                }
                .into());
            }
            if !people.insert(person) {
                return Err(Refusal::Invalid {
                    code: "seating.two_seats",
                    detail: format!("{person} is given two seats"),
                }
                .into());
            }
        }
        Ok((
            vec![EventBody::SeatsAssigned {
                meeting_id: meeting.id.clone(),
                assignments: assignments.clone(),
            }],
            (),
        ))
    })?;
    Ok(assignments)
}
