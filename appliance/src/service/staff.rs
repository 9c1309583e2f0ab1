//! Staff accounts and sign-in.

use super::ServiceError;
use crate::auth::{self, Limiter};
use crate::domain::{Actor, EventBody, Password, Role, TextError, Username};
use crate::store::{accounts, Account, Session, Store};
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
    // Hash outside the transaction: argon2 is deliberately slow.
    let phc = auth::hash_password(password).map_err(ServiceError::from)?;
    store.write(actor, |tx| {
        if tx.account(&username)?.is_some() {
            return Err(ServiceError::Conflict(format!(
                "the user name {username} is taken"
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
        accounts::account(txn, &s.username)
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
