//! The room itself: its name and the notices shown on every tablet.

use super::ServiceError;
use crate::domain::{Actor, EventBody, EventEnvelope, NoticeText, Role, RoomName};
use crate::store::{Account, Store};
use std::sync::Arc;

fn require(account: &Account, may: fn(Role) -> bool) -> Result<(), ServiceError> {
    if account.has(may) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden)
    }
}

fn actor(account: &Account) -> Actor {
    Actor::Staff {
        username: account.username.to_string(),
    }
}

pub fn rename(store: &Store, by: &Account, name: &str) -> Result<Arc<EventEnvelope>, ServiceError> {
    require(by, Role::may_configure_room)?;
    let name = RoomName::parse(name)?;
    let (events, ()) = store.write(actor(by), |tx| {
        let unchanged = tx.room()?.name == name;
        let events = if unchanged {
            vec![]
        } else {
            vec![EventBody::RoomRenamed { name }]
        };
        Ok::<_, ServiceError>((events, ()))
    })?;
    last_or_head(store, events)
}

pub fn post_notice(
    store: &Store,
    by: &Account,
    text: &str,
) -> Result<Arc<EventEnvelope>, ServiceError> {
    require(by, Role::may_post_notices)?;
    let text = NoticeText::parse(text)?;
    let events = store.append(actor(by), vec![EventBody::NoticePosted { text }])?;
    last_or_head(store, events)
}

/// Clears the notice; returns `None` if there was none, so the log does not fill with no-ops.
pub fn clear_notice(
    store: &Store,
    by: &Account,
) -> Result<Option<Arc<EventEnvelope>>, ServiceError> {
    require(by, Role::may_post_notices)?;
    let (events, ()) = store.write(actor(by), |tx| {
        let events = if tx.room()?.notice.is_some() {
            vec![EventBody::NoticeCleared {}]
        } else {
            vec![]
        };
        Ok::<_, ServiceError>((events, ()))
    })?;
    Ok(events.into_iter().last())
}

fn last_or_head(
    store: &Store,
    events: Vec<Arc<EventEnvelope>>,
) -> Result<Arc<EventEnvelope>, ServiceError> {
    if let Some(e) = events.into_iter().last() {
        return Ok(e);
    }
    let head = store.head_seq()?;
    store
        .events_after(head.saturating_sub(1), 1)?
        .into_iter()
        .next()
        .map(Arc::new)
        .ok_or_else(|| ServiceError::Internal("empty log".into()))
}
