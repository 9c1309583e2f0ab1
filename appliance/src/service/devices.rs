//! Pairing tablets to people, and revoking them. A delegate never types a password in the
//! middle of a meeting: the secretary hands out a short code, the delegate adds their PIN, and
//! the tablet proves it holds its own key.

use super::{Caller, Refusal, ServiceError};
use crate::auth::{self, Limiter};
use crate::domain::device::{pairing_message, DeviceKey, PairingCode, Pin};
use crate::domain::records::{Device, Id, Person};
use crate::domain::{EventBody, Password, Role};
use crate::store::records::{self, CodeEntry};
use crate::store::Store;
use sha2::{Digest, Sha256};
use std::time::Duration;
use time::OffsetDateTime;

/// How long a device cookie lasts: a school year of meetings; revocation ends it sooner.
pub const DEVICE_DAYS: i64 = 180;
/// The cookie that identifies a paired device.
pub const DEVICE_COOKIE: &str = "phonghop_device";

/// Brute-force guards: wrong PINs per person, and failures per client address.
pub struct PairingGuard {
    per_person: Limiter,
    per_client: Limiter,
}

impl Default for PairingGuard {
    fn default() -> Self {
        let window = Duration::from_secs(15 * 60);
        Self {
            per_person: Limiter::new(5, window, window),
            per_client: Limiter::new(10, window, window),
        }
    }
}

fn code_hash(store: &Store, code: &PairingCode) -> String {
    hex::encode(Sha256::digest(format!(
        "{}:{}",
        store.node_id(),
        code.expose()
    )))
}

/// The secretary asks for a code for one person. A new code replaces the last one.
pub fn issue_code(
    store: &Store,
    caller: &Caller,
    person_id: &Id,
    lifetime: std::time::Duration,
) -> Result<(PairingCode, OffsetDateTime), ServiceError> {
    caller.require(Role::may_pair_devices)?;
    let code = PairingCode::random();
    let expires_at = OffsetDateTime::now_utc() + lifetime;
    let hash = code_hash(store, &code);
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        if tx.read(|t| records::person(t, person_id))?.is_none() {
            return Err(ServiceError::NotFound);
        }
        tx.put_pairing_code(
            &hash,
            &CodeEntry {
                person_id: person_id.clone(),
                expires_at,
            },
        )?;
        Ok((
            vec![EventBody::PairingCodeIssued {
                person_id: person_id.clone(),
                expires_at,
            }],
            (),
        ))
    })?;
    Ok((code, expires_at))
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairRequest {
    pub code: String,
    pub pin: String,
    pub public_key: String,
    pub signature: String,
    #[serde(default)]
    pub label: String,
}

pub struct Paired {
    pub token: String,
    pub device: Device,
    pub person: Person,
    pub pin_set: bool,
}

fn label(raw: &str) -> String {
    let l: String = raw.chars().filter(|c| !c.is_control()).take(60).collect();
    let l = l.trim();
    if l.is_empty() {
        "Thiết bị".to_owned()
    } else {
        l.to_owned()
    }
}

/// Argon2 hashes PINs as it hashes passwords; a PIN is short, so the lockout does the rest.
fn pin_secret(pin: &Pin) -> Result<Password, ServiceError> {
    Password::parse(&format!("pin:{}", pin.expose()))
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// The tablet pairs itself with a code, the person's PIN and its new key.
pub fn pair(
    store: &Store,
    guard: &PairingGuard,
    client: &str,
    req: &PairRequest,
) -> Result<Paired, ServiceError> {
    let client_key = format!("pair-ip:{client}");
    if let Some(wait) = guard.per_client.locked(&client_key) {
        tracing::warn!(%client, "pairing refused: client locked out");
        return Err(Refusal::PairLockedOut(wait).into());
    }
    let client_failed = |r: Refusal| -> ServiceError {
        if let Some(wait) = guard.per_client.fail(&client_key) {
            tracing::warn!(%client, "pairing: client locked out after repeated failures");
            return Refusal::PairLockedOut(wait).into();
        }
        tracing::info!(%client, refusal = ?r, "pairing failed");
        r.into()
    };
    let code =
        PairingCode::parse(&req.code).map_err(|_| client_failed(Refusal::PairCodeInvalid))?;
    let key = DeviceKey::parse(&req.public_key).map_err(Refusal::Device)?;
    key.verify(
        &pairing_message(store.node_id().as_str(), &code),
        &req.signature,
    )
    .map_err(Refusal::Device)?;
    let hash = code_hash(store, &code);

    // Look the code up without using it: a wrong PIN must not burn the code.
    let found = store.read(|t| records::pairing_code(t, &hash))?;
    let entry = match found {
        Some(e) if e.expires_at > OffsetDateTime::now_utc() => e,
        _ => return Err(client_failed(Refusal::PairCodeInvalid)),
    };
    let person_key = format!("pin:{}", entry.person_id);
    if let Some(wait) = guard.per_person.locked(&person_key) {
        tracing::warn!(%client, person = %entry.person_id, "pairing refused: person locked out");
        return Err(Refusal::PairLockedOut(wait).into());
    }
    let (person, pin_hash) = store.read(|t| {
        Ok((
            records::person(t, &entry.person_id)?,
            records::pin(t, &entry.person_id)?,
        ))
    })?;
    let person = person.ok_or(ServiceError::NotFound)?;
    // Strength rules apply when a PIN is chosen; an existing PIN is simply right or wrong.
    let new_pin_hash = match &pin_hash {
        Some(phc) => {
            let entered = Password::parse(&format!("pin:{}", req.pin.trim()))
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            if !auth::verify_password(phc, &entered) {
                let _ = guard.per_client.fail(&client_key);
                if let Some(wait) = guard.per_person.fail(&person_key) {
                    tracing::warn!(%client, person = %person.id, "pairing: PIN locked after repeated wrong PINs");
                    return Err(Refusal::PairLockedOut(wait).into());
                }
                tracing::info!(%client, person = %person.id, "pairing: wrong PIN");
                return Err(Refusal::PairPinWrong.into());
            }
            None
        }
        None => {
            let pin = Pin::parse(&req.pin).map_err(Refusal::Device)?;
            Some(auth::hash_password(&pin_secret(&pin)?).map_err(ServiceError::Internal)?)
        }
    };

    let (token, token_hash) = auth::new_token();
    let device = Device {
        id: Id::random(),
        person_id: person.id.clone(),
        label: label(&req.label),
        key,
        paired_at: OffsetDateTime::now_utc(),
        revoked_at: None,
    };
    store.write(
        crate::domain::Actor::Device {
            device_id: device.id.to_string(),
            person_id: person.id.to_string(),
        },
        |tx| {
            // Used once: take it now. Someone else may have used it a moment ago.
            if tx.take_pairing_code(&hash)?.is_none() {
                return Err(Refusal::PairCodeInvalid.into());
            }
            // The PIN must not have changed since it was checked.
            if tx.read(|t| records::pin(t, &person.id))? != pin_hash {
                return Err(Refusal::PairPinWrong.into());
            }
            let mut events = Vec::new();
            if let Some(phc) = &new_pin_hash {
                tx.set_pin(&person.id, phc)?;
                events.push(EventBody::PinSet {
                    person_id: person.id.clone(),
                });
            }
            tx.put_device_token(&token_hash, &device.id)?;
            events.push(EventBody::DevicePaired {
                device: (&device).into(),
            });
            Ok::<_, ServiceError>((events, ()))
        },
    )?;
    guard.per_client.succeed(&client_key);
    guard.per_person.succeed(&person_key);
    tracing::info!(%client, person = %person.id, device = %device.id, "tablet paired");
    Ok(Paired {
        token,
        device,
        pin_set: new_pin_hash.is_some(),
        person,
    })
}

/// The device and person behind a device cookie. A revoked device is an error, so the tablet
/// can tell its user.
pub fn device_session(
    store: &Store,
    token: &str,
) -> Result<Option<(Device, Person)>, ServiceError> {
    let hash = auth::token_hash(token);
    let found = store.read(|t| {
        let Some(device) = records::device_by_token(t, &hash)? else {
            return Ok(None);
        };
        Ok(records::person(t, &device.person_id)?.map(|p| (device, p)))
    })?;
    match found {
        Some((d, _)) if d.revoked_at.is_some() => Err(Refusal::DeviceRevoked.into()),
        // The cookie's lifetime is enforced here too, not only by the browser.
        Some((d, _))
            if d.paired_at + time::Duration::days(DEVICE_DAYS) < OffsetDateTime::now_utc() =>
        {
            Ok(None)
        }
        other => Ok(other),
    }
}

pub fn devices_of(
    store: &Store,
    caller: &Caller,
    person_id: &Id,
) -> Result<Vec<Device>, ServiceError> {
    if !(caller.staff_may(Role::may_revoke_devices) || caller.staff_may(Role::may_pair_devices)) {
        caller.require(Role::may_revoke_devices)?;
    }
    if store.read(|t| records::person(t, person_id))?.is_none() {
        return Err(ServiceError::NotFound);
    }
    Ok(store.read(|t| records::devices_of(t, person_id))?)
}

pub fn revoke(store: &Store, caller: &Caller, device_id: &Id) -> Result<(), ServiceError> {
    caller.require(Role::may_revoke_devices)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let device = tx
            .read(|t| records::device(t, device_id))?
            .ok_or(ServiceError::NotFound)?;
        if device.revoked_at.is_some() {
            return Ok((vec![], ()));
        }
        Ok((
            vec![EventBody::DeviceRevoked {
                device_id: device_id.clone(),
            }],
            (),
        ))
    })?;
    tracing::info!(device = %device_id, "device revoked");
    Ok(())
}

pub fn reset_pin(store: &Store, caller: &Caller, person_id: &Id) -> Result<(), ServiceError> {
    caller.require(Role::may_pair_devices)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        if tx.read(|t| records::person(t, person_id))?.is_none() {
            return Err(ServiceError::NotFound);
        }
        // The hash is node-local, so the command removes it; the event only records that.
        tx.remove_pin(person_id)?;
        Ok((
            vec![EventBody::PinReset {
                person_id: person_id.clone(),
            }],
            (),
        ))
    })?;
    Ok(())
}
