//! Pairing tablets to people, and revoking them. A delegate never types a password in the
//! middle of a meeting: the secretary hands out a short code, the delegate adds their PIN, and
//! the tablet proves it holds its own key.

use super::{Caller, Refusal, ServiceError};
use crate::auth::{self, Budget, Limiter};
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

/// Brute-force guards: wrong PINs per person, failures per client address, and wrong typed
/// codes for the whole box (a guesser may rotate addresses; IPv6 gives a tablet many).
pub struct PairingGuard {
    per_person: Limiter,
    per_client: Limiter,
    typed_codes: Budget,
    /// The box's secret for the QR form of codes.
    link_key: Vec<u8>,
}

/// Wrong typed codes the whole box accepts: a burst of this many, then this many a minute.
/// See docs/security.md for what that means for a live code.
pub const TYPED_CODE_BURST: u32 = 10;
pub const TYPED_CODES_PER_MINUTE: u32 = 10;

impl PairingGuard {
    pub fn new(link_key: Vec<u8>) -> Self {
        let window = Duration::from_secs(15 * 60);
        Self {
            per_person: Limiter::new(5, window, window),
            per_client: Limiter::new(10, window, window),
            typed_codes: Budget::new(TYPED_CODE_BURST, TYPED_CODES_PER_MINUTE),
            link_key,
        }
    }

    /// The QR link's form of `code`.
    pub fn link_form(&self, code: &PairingCode) -> String {
        code.link_form(&self.link_key)
    }

    /// Counts one pairing attempt from `client` before anything is looked up; refused while
    /// the client is locked out.
    pub fn client_attempt(&self, client: &str) -> Result<auth::Attempt<'_>, ServiceError> {
        self.per_client
            .attempt(&format!("pair-ip:{client}"))
            .map_err(|wait| {
                tracing::warn!(%client, "pairing refused: client locked out");
                ServiceError::from(Refusal::PairLockedOut(wait))
            })
    }

    /// A failed attempt: the refusal, or the lock-out it earned.
    pub fn client_failed(
        &self,
        client: &str,
        attempt: auth::Attempt<'_>,
        r: Refusal,
    ) -> ServiceError {
        if let Some(wait) = attempt.failed() {
            tracing::warn!(%client, "pairing: client locked out after repeated failures");
            return Refusal::PairLockedOut(wait).into();
        }
        tracing::info!(%client, refusal = ?r, "pairing failed");
        r.into()
    }

    /// Spends one of the box-wide typed-code guesses (refunded when the code is right).
    pub fn take_typed_code(&self) -> Result<(), Duration> {
        self.typed_codes.take()
    }

    pub fn refund_typed_code(&self) {
        self.typed_codes.refund()
    }

    /// Whether a QR-form code carries this box's proof.
    pub fn tail_matches(&self, code: &PairingCode) -> bool {
        code.tail_matches(&self.link_key)
    }
}

impl Default for PairingGuard {
    fn default() -> Self {
        let mut key = vec![0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut key);
        Self::new(key)
    }
}

fn code_hash(store: &Store, code: &PairingCode) -> String {
    hex::encode(Sha256::digest(format!(
        "{}:{}",
        store.node_id(),
        code.short()
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
///
/// Every limit takes its place before the check it guards: the client's attempt before the
/// code is looked up, the box-wide budget before a typed code is looked up, the person's
/// attempt before argon2 runs. A burst of parallel guesses gets no further than one at a time.
pub fn pair(
    store: &Store,
    guard: &PairingGuard,
    client: &str,
    req: &PairRequest,
) -> Result<Paired, ServiceError> {
    let by_client = guard.client_attempt(client)?;
    let client_failed =
        |by_client: auth::Attempt<'_>, r: Refusal| guard.client_failed(client, by_client, r);
    let code = match PairingCode::parse(&req.code) {
        Ok(c) => c,
        Err(_) => return Err(client_failed(by_client, Refusal::PairCodeInvalid)),
    };
    let key = DeviceKey::parse(&req.public_key).map_err(Refusal::Device)?;
    key.verify(
        &pairing_message(store.node_id().as_str(), &code),
        &req.signature,
    )
    .map_err(Refusal::Device)?;
    // The QR form carries its own proof; a typed code spends the box-wide budget until it
    // turns out to be right.
    let typed = code.tail().is_none();
    if typed {
        if let Err(wait) = guard.typed_codes.take() {
            tracing::warn!(%client, "pairing refused: too many wrong codes on the whole box");
            drop(by_client);
            return Err(Refusal::PairLockedOut(wait).into());
        }
    } else if !code.tail_matches(&guard.link_key) {
        return Err(client_failed(by_client, Refusal::PairCodeInvalid));
    }
    let hash = code_hash(store, &code);

    // Look the code up without using it: a wrong PIN must not burn the code.
    let found = store.read(|t| records::pairing_code(t, &hash))?;
    let entry = match found {
        Some(e) if e.expires_at > OffsetDateTime::now_utc() => e,
        _ => return Err(client_failed(by_client, Refusal::PairCodeInvalid)),
    };
    if typed {
        guard.typed_codes.refund();
    }
    let person_key = format!("pin:{}", entry.person_id);
    let (person, pin_hash) = store.read(|t| {
        Ok((
            records::person(t, &entry.person_id)?,
            records::pin(t, &entry.person_id)?,
        ))
    })?;
    let person = person.ok_or(ServiceError::NotFound)?;
    // Strength rules apply when a PIN is chosen; an existing PIN is simply right or wrong.
    let (new_pin_hash, by_person) = match &pin_hash {
        Some(phc) => {
            let by_person = guard.per_person.attempt(&person_key).map_err(|wait| {
                tracing::warn!(%client, person = %entry.person_id, "pairing refused: person locked out");
                ServiceError::from(Refusal::PairLockedOut(wait))
            })?;
            let entered = Pin::entered(&req.pin).map_err(Refusal::Device)?;
            let right = auth::verify_password(phc, &pin_secret(&entered)?)
                .map_err(|_| ServiceError::Busy)?;
            if !right {
                let _ = by_client.failed();
                if let Some(wait) = by_person.failed() {
                    tracing::warn!(%client, person = %person.id, "pairing: PIN locked after repeated wrong PINs");
                    return Err(Refusal::PairLockedOut(wait).into());
                }
                tracing::info!(%client, person = %person.id, "pairing: wrong PIN");
                return Err(Refusal::PairPinWrong.into());
            }
            (None, Some(by_person))
        }
        None => {
            let pin = Pin::parse(&req.pin).map_err(Refusal::Device)?;
            (Some(auth::hash_password(&pin_secret(&pin)?)?), None)
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
    by_client.succeeded();
    if let Some(p) = by_person {
        p.succeeded();
    } else {
        guard.per_person.succeed(&person_key);
    }
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
