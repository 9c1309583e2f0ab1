//! Staff accounts and sign-in.

use super::{Refusal, ServiceError};
use crate::auth::{self, Limiter};
use crate::domain::{Actor, EventBody, Password, Role, TextError, Username};
use crate::store::{accounts, Account, Session, Store};
use std::collections::BTreeMap;
use time::{Duration as TimeDuration, OffsetDateTime};

/// Makes a staff account with a password. Used by `phonghop init` and `phonghop admin create`.
pub fn create_account(
    store: &Store,
    actor: Actor,
    username: &str,
    display_name: &str,
    roles: Vec<Role>,
    password: &Password,
) -> Result<Account, ServiceError> {
    let username = Username::parse(username)?;
    let display_name = display_name.trim().to_owned();
    if display_name.is_empty() {
        return Err(TextError::Empty {
            field: "display_name",
        }
        .into());
    }
    if roles.is_empty() {
        return Err(ServiceError::Conflict(
            "an account needs at least one role".into(),
        ));
    }
    if let Some(r) = roles.iter().find(|r| !STAFF_ROLES.contains(r)) {
        return Err(Refusal::Invalid {
            code: "account.bad_role",
            detail: format!("{r:?} is not a staff role: use it_admin, secretary or chair"),
        }
        .into());
    }
    // Hash outside the transaction: argon2 is deliberately slow.
    let phc = auth::hash_password(password).map_err(ServiceError::from)?;
    store.write(actor, |tx| {
        if tx.account(&username)?.is_some() {
            return Err(ServiceError::from(Refusal::AccountTaken(
                username.to_string(),
            )));
        }
        tx.set_credential(&username, &phc)?;
        let created = EventBody::AccountCreated {
            username: username.clone(),
            display_name: display_name.clone(),
            roles: roles.clone(),
        };
        Ok((vec![created], ()))
    })?;
    store
        .read(|txn| accounts::account(txn, &username))?
        .ok_or_else(|| ServiceError::Internal("account vanished".into()))
}

/// Checks a user name and password; on success opens a session and returns its cookie token.
/// The attempt counts against both the user name and the client's address *before* argon2
/// runs, so parallel guesses cannot slip past the lockout.
pub fn sign_in(
    store: &Store,
    limiter: &Limiter,
    client: &str,
    username: &str,
    password: &str,
) -> Result<(String, Account), ServiceError> {
    let user_key = format!("user:{}", username.trim().to_lowercase());
    let client_key = format!("ip:{client}");
    let refused = |wait| {
        tracing::warn!(%client, username = %user_key, "sign-in refused: locked out");
        ServiceError::LockedOut(wait)
    };
    let by_user = limiter.attempt(&user_key).map_err(refused)?;
    let by_client = limiter.attempt(&client_key).map_err(refused)?;
    let fail = |by_user: auth::Attempt<'_>, by_client: auth::Attempt<'_>| {
        let locked = [by_user.failed(), by_client.failed()]
            .into_iter()
            .flatten()
            .max();
        tracing::warn!(%client, username = %user_key, "sign-in failed");
        match locked {
            Some(wait) => ServiceError::LockedOut(wait),
            None => ServiceError::BadCredentials,
        }
    };
    let (Ok(username), Ok(password)) = (Username::parse(username), Password::parse(password))
    else {
        return Err(fail(by_user, by_client));
    };
    let (account, phc) = store.read(|txn| {
        Ok((
            accounts::account(txn, &username)?,
            accounts::credential(txn, &username)?,
        ))
    })?;
    // Busy: the places taken above are given back (dropped), not counted as failures.
    let ok = auth::verify_password(phc.as_deref().unwrap_or(auth::dummy_hash()), &password)
        .map_err(|_| ServiceError::Busy)?;
    let Some(account) = account.filter(|_| ok && phc.is_some()) else {
        return Err(fail(by_user, by_client));
    };
    // Said only to someone who knows the password, so it reveals nothing to a guesser.
    if account.disabled {
        tracing::warn!(%client, username = %account.username, "sign-in refused: account disabled");
        return Err(Refusal::AccountDisabled.into());
    }
    by_user.succeeded();
    by_client.succeeded();
    let (token, hash) = auth::new_token();
    let now = OffsetDateTime::now_utc();
    let session = Session {
        username: account.username.clone(),
        created_at: now,
        expires_at: now + TimeDuration::hours(auth::SESSION_HOURS),
    };
    store.write_local(|tx| {
        tx.purge_sessions(now)?;
        tx.put_session(&hash, &session)
    })?;
    tracing::info!(%client, username = %account.username, "signed in");
    Ok((token, account))
}

/// The account behind a session cookie, if the session is valid.
pub fn session_account(store: &Store, token: &str) -> Result<Option<Account>, ServiceError> {
    let hash = auth::token_hash(token);
    let found = store.read(|txn| {
        let Some(s) = accounts::session(txn, &hash)? else {
            return Ok(None);
        };
        if s.expires_at <= OffsetDateTime::now_utc() {
            return Ok(None);
        }
        Ok(accounts::account(txn, &s.username)?.filter(|a| !a.disabled))
    })?;
    Ok(found)
}

pub fn sign_out(store: &Store, token: &str) -> Result<(), ServiceError> {
    let hash = auth::token_hash(token);
    store.write_local(|tx| tx.delete_session(&hash).map(|_| ()))?;
    Ok(())
}

pub fn has_accounts(store: &Store) -> Result<bool, ServiceError> {
    Ok(store.read(accounts::account_count)? > 0)
}

/// The roles a staff account may hold; the others belong to people on tablets.
pub const STAFF_ROLES: [Role; 3] = [Role::ItAdmin, Role::Secretary, Role::Chair];

fn actor(a: &Account) -> Actor {
    Actor::Staff {
        username: a.username.to_string(),
    }
}

/// Only the IT admin manages accounts, and never their own through these commands (their own
/// password is changed with the old one; disabling or removing oneself would lock the box).
fn require_admin_over(by: &Account, username: &str) -> Result<Username, ServiceError> {
    if !by.has(Role::may_manage_accounts) {
        return Err(ServiceError::Forbidden);
    }
    let username = Username::parse(username).map_err(|_| ServiceError::NotFound)?;
    if username == by.username {
        return Err(Refusal::AccountSelf.into());
    }
    Ok(username)
}

/// An account as the IT admin's list shows it.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub account: Account,
    /// Unexpired sessions (browsers signed in).
    pub sessions: usize,
}

pub fn list_accounts(store: &Store, by: &Account) -> Result<Vec<AccountRow>, ServiceError> {
    if !by.has(Role::may_manage_accounts) {
        return Err(ServiceError::Forbidden);
    }
    let now = OffsetDateTime::now_utc();
    let (all, live): (Vec<Account>, BTreeMap<String, usize>) = store.read(|txn| {
        Ok((
            accounts::all_accounts(txn)?,
            accounts::live_sessions(txn, now)?,
        ))
    })?;
    Ok(all
        .into_iter()
        .map(|account| {
            let sessions = live.get(account.username.as_str()).copied().unwrap_or(0);
            AccountRow { account, sessions }
        })
        .collect())
}

/// The IT admin makes an account from the web app (the box keeps running).
pub fn create_by_admin(
    store: &Store,
    by: &Account,
    username: &str,
    display_name: &str,
    roles: Vec<Role>,
    password: &str,
) -> Result<Account, ServiceError> {
    if !by.has(Role::may_manage_accounts) {
        return Err(ServiceError::Forbidden);
    }
    let password = Password::parse(password)?;
    create_account(store, actor(by), username, display_name, roles, &password)
}

/// A staff member changes their own password, proving the old one. Their other sessions end
/// in the same write; the one they are using stays. Wrong guesses count like failed sign-ins.
pub fn change_own_password(
    store: &Store,
    limiter: &Limiter,
    by: &Account,
    current_session: &str,
    current: &str,
    new: &str,
) -> Result<(), ServiceError> {
    let user_key = format!("user:{}", by.username);
    let new = Password::parse(new)?;
    // Counted before the check, like a sign-in, so parallel guesses get no further.
    let attempt = limiter
        .attempt(&user_key)
        .map_err(ServiceError::LockedOut)?;
    let phc = store
        .read(|txn| accounts::credential(txn, &by.username))?
        .ok_or(ServiceError::Unauthenticated)?;
    let current_ok = match Password::parse(current) {
        Ok(c) => auth::verify_password(&phc, &c).map_err(|_| ServiceError::Busy)?,
        Err(_) => false,
    };
    if !current_ok {
        tracing::warn!(username = %by.username, "password change refused: wrong current password");
        return Err(match attempt.failed() {
            Some(wait) => ServiceError::LockedOut(wait),
            None => Refusal::AccountWrongPassword.into(),
        });
    }
    attempt.succeeded();
    if auth::verify_password(&phc, &new).map_err(|_| ServiceError::Busy)? {
        return Err(Refusal::AccountSamePassword.into());
    }
    let new_phc = auth::hash_password(&new)?;
    let keep = auth::token_hash(current_session);
    store.write(actor(by), |tx| {
        // Reset by the IT admin since the old password was checked: that one wins.
        if tx.credential(&by.username)?.as_deref() != Some(phc.as_str()) {
            return Err(ServiceError::from(Refusal::AccountWrongPassword));
        }
        tx.set_credential(&by.username, &new_phc)?;
        tx.end_sessions_of(&by.username, Some(&keep))?;
        Ok((
            vec![EventBody::AccountPasswordChanged {
                username: by.username.clone(),
            }],
            (),
        ))
    })?;
    tracing::info!(username = %by.username, "password changed");
    Ok(())
}

/// Sets a new password for someone; every session of theirs ends in the same write. `by` is
/// the IT admin on the web app; the console (`phonghop admin reset-password`) passes `None`.
pub fn reset_password(
    store: &Store,
    by: Option<&Account>,
    username: &str,
    password: &Password,
) -> Result<(), ServiceError> {
    let (username, actor) = match by {
        Some(a) => (require_admin_over(a, username)?, actor(a)),
        None => (
            Username::parse(username).map_err(|_| ServiceError::NotFound)?,
            Actor::Console,
        ),
    };
    let phc = auth::hash_password(password)?;
    store.write(actor, |tx| {
        if tx.account(&username)?.is_none() {
            return Err(ServiceError::NotFound);
        }
        tx.set_credential(&username, &phc)?;
        let ended = tx.end_sessions_of(&username, None)?;
        tracing::info!(%username, ended, "password reset; sessions ended");
        Ok((vec![EventBody::AccountPasswordReset { username }], ()))
    })?;
    Ok(())
}

/// Disables (`true`) or enables an account. Disabling ends its sessions in the same write.
/// Asking for the state it is already in changes nothing and records nothing.
pub fn set_disabled(
    store: &Store,
    by: &Account,
    username: &str,
    disabled: bool,
) -> Result<(), ServiceError> {
    let username = require_admin_over(by, username)?;
    store.write(actor(by), |tx| {
        let account = tx.account(&username)?.ok_or(ServiceError::NotFound)?;
        if account.disabled == disabled {
            return Ok::<_, ServiceError>((vec![], ()));
        }
        if disabled {
            tx.end_sessions_of(&username, None)?;
            Ok((vec![EventBody::AccountDisabled { username }], ()))
        } else {
            Ok((vec![EventBody::AccountEnabled { username }], ()))
        }
    })?;
    Ok(())
}

/// Removes an account with its password and sessions. The log keeps what it did.
pub fn remove_account(store: &Store, by: &Account, username: &str) -> Result<(), ServiceError> {
    let username = require_admin_over(by, username)?;
    store.write(actor(by), |tx| {
        if tx.account(&username)?.is_none() {
            return Err(ServiceError::NotFound);
        }
        tx.delete_credential(&username)?;
        tx.end_sessions_of(&username, None)?;
        Ok((vec![EventBody::AccountRemoved { username }], ()))
    })?;
    Ok(())
}

/// Ends every session of an account at once; its open live feeds close on this event.
/// Returns how many sessions ended.
pub fn end_sessions(store: &Store, by: &Account, username: &str) -> Result<usize, ServiceError> {
    let username = require_admin_over(by, username)?;
    let (_, ended) = store.write(actor(by), |tx| {
        if tx.account(&username)?.is_none() {
            return Err(ServiceError::NotFound);
        }
        let ended = tx.end_sessions_of(&username, None)?;
        Ok((vec![EventBody::AccountSessionsEnded { username }], ended))
    })?;
    Ok(ended)
}
