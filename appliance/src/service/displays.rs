//! Projector screens (and TVs) paired as read-only displays. A display acts for no person and
//! has no PIN: the secretary asks for a code, the screen enters it (or opens the QR link), and
//! from then on its cookie lets it read what the room may see of published meetings, nothing
//! more. Wrong codes count against the same limits as a tablet's.

use super::devices::{PairingGuard, DEVICE_DAYS};
use super::{Caller, Refusal, ServiceError};
use crate::auth;
use crate::domain::device::PairingCode;
use crate::domain::records::{Display, Id};
use crate::domain::{Actor, EventBody, Role};
use crate::store::records::{self, DisplayCodeEntry};
use crate::store::Store;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The cookie that identifies a paired display.
pub const DISPLAY_COOKIE: &str = "phonghop_display";
/// How long a display cookie lasts, like a tablet's; revocation ends it sooner.
pub const DISPLAY_DAYS: i64 = DEVICE_DAYS;

/// A display's code is hashed apart from tablets' codes: the same six digits never pair a
/// tablet when a display was meant, or the other way round.
fn code_hash(store: &Store, code: &PairingCode) -> String {
    hex::encode(Sha256::digest(format!(
        "display:{}:{}",
        store.node_id(),
        code.short()
    )))
}

fn label(raw: &str) -> String {
    let l: String = raw.chars().filter(|c| !c.is_control()).take(60).collect();
    let l = l.trim();
    if l.is_empty() {
        "Màn hình trình chiếu".to_owned()
    } else {
        l.to_owned()
    }
}

/// The secretary asks for a code for a new display, with the name the screen will carry.
pub fn issue_code(
    store: &Store,
    caller: &Caller,
    raw_label: &str,
    lifetime: std::time::Duration,
) -> Result<(PairingCode, OffsetDateTime), ServiceError> {
    caller.require(Role::may_pair_devices)?;
    let code = PairingCode::random();
    let expires_at = OffsetDateTime::now_utc() + lifetime;
    let hash = code_hash(store, &code);
    let entry = DisplayCodeEntry {
        label: label(raw_label),
        expires_at,
    };
    // The code is node-local, like a tablet's; no event is needed for a code nobody used.
    store.write_local(|tx| -> Result<_, ServiceError> {
        tx.put_display_code(&hash, &entry)?;
        Ok(())
    })?;
    tracing::info!("display pairing code issued");
    Ok((code, expires_at))
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairDisplay {
    pub code: String,
    /// The name the screen suggests; the secretary's name for it wins when one was given.
    #[serde(default)]
    pub label: String,
}

pub struct PairedDisplay {
    pub token: String,
    pub display: Display,
}

/// The screen pairs itself with a code. The limits are a tablet's: the client's attempt is
/// counted before the code is looked up, a typed code spends the box-wide budget until it turns
/// out to be right, and the QR form must carry the box's own proof.
pub fn pair(
    store: &Store,
    guard: &PairingGuard,
    client: &str,
    req: &PairDisplay,
) -> Result<PairedDisplay, ServiceError> {
    let by_client = guard.client_attempt(client)?;
    let code = match PairingCode::parse(&req.code) {
        Ok(c) => c,
        Err(_) => return Err(guard.client_failed(client, by_client, Refusal::PairCodeInvalid)),
    };
    let typed = code.tail().is_none();
    if typed {
        if let Err(wait) = guard.take_typed_code() {
            tracing::warn!(%client, "display pairing refused: too many wrong codes on the whole box");
            drop(by_client);
            return Err(Refusal::PairLockedOut(wait).into());
        }
    } else if !guard.tail_matches(&code) {
        return Err(guard.client_failed(client, by_client, Refusal::PairCodeInvalid));
    }
    let hash = code_hash(store, &code);
    let found = store.read(|t| records::display_code(t, &hash))?;
    let entry = match found {
        Some(e) if e.expires_at > OffsetDateTime::now_utc() => e,
        _ => return Err(guard.client_failed(client, by_client, Refusal::PairCodeInvalid)),
    };
    if typed {
        guard.refund_typed_code();
    }
    let (token, token_hash) = auth::new_token();
    let name = if req.label.trim().is_empty() {
        entry.label.clone()
    } else {
        label(&req.label)
    };
    let display = Display {
        id: Id::random(),
        label: name,
        paired_at: OffsetDateTime::now_utc(),
        revoked_at: None,
    };
    // A display acts for nobody: the box records the pairing as its own act.
    store.write(Actor::Node, |tx| {
        // Used once: take it now. Someone else may have used it a moment ago.
        if tx.take_display_code(&hash)?.is_none() {
            return Err(Refusal::PairCodeInvalid.into());
        }
        tx.put_display_token(&token_hash, &display.id)?;
        Ok::<_, ServiceError>((
            vec![EventBody::DisplayPaired {
                display: (&display).into(),
            }],
            (),
        ))
    })?;
    by_client.succeeded();
    let display_id = display.id.to_string();
    tracing::info!(%client, %display_id, "display paired");
    Ok(PairedDisplay { token, display })
}

/// The display behind a display cookie. A revoked display is an error, so the screen can say
/// so; an expired cookie is nobody.
pub fn display_session(store: &Store, token: &str) -> Result<Option<Display>, ServiceError> {
    let hash = auth::token_hash(token);
    match store.read(|t| records::display_by_token(t, &hash))? {
        Some(d) if d.revoked_at.is_some() => Err(Refusal::DisplayRevoked.into()),
        Some(d) if d.paired_at + time::Duration::days(DISPLAY_DAYS) < OffsetDateTime::now_utc() => {
            Ok(None)
        }
        other => Ok(other),
    }
}

/// Every display, revoked ones too, for the secretary's list.
pub fn list(store: &Store, caller: &Caller) -> Result<Vec<Display>, ServiceError> {
    if !caller.staff_may(Role::may_revoke_devices) {
        caller.require(Role::may_pair_devices)?;
    }
    Ok(store.read(records::displays)?)
}

/// Ends a display's pairing: its feeds close and its next call is told it was revoked.
pub fn revoke(store: &Store, caller: &Caller, display_id: &Id) -> Result<(), ServiceError> {
    caller.require(Role::may_revoke_devices)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let display = tx
            .read(|t| records::display(t, display_id))?
            .ok_or(ServiceError::NotFound)?;
        if display.revoked_at.is_some() {
            return Ok((vec![], ()));
        }
        Ok((
            vec![EventBody::DisplayRevoked {
                display_id: display_id.clone(),
            }],
            (),
        ))
    })?;
    tracing::info!(display = %display_id, "display revoked");
    Ok(())
}
