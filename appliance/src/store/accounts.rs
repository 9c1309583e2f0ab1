//! Staff accounts, their node-local credentials and their sessions.

use super::tables::{ACCOUNTS, CREDENTIALS, SESSIONS};
use super::{StoreError, Tx};
use crate::domain::{Role, Username};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub username: Username,
    pub display_name: String,
    pub roles: Vec<Role>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// A disabled account cannot sign in; the IT admin may enable it again.
    #[serde(default)]
    pub disabled: bool,
    /// When the password was last changed or reset (none: as set at creation).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub password_set_at: Option<OffsetDateTime>,
}

impl Account {
    pub fn has(&self, pred: impl Fn(Role) -> bool) -> bool {
        self.roles.iter().any(|r| pred(*r))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub username: Username,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

pub(super) fn apply_created(
    txn: &WriteTransaction,
    username: &Username,
    display_name: &str,
    roles: &[Role],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let account = Account {
        username: username.clone(),
        display_name: display_name.to_owned(),
        roles: roles.to_vec(),
        created_at: at,
        disabled: false,
        password_set_at: None,
    };
    let mut t = txn.open_table(ACCOUNTS)?;
    t.insert(username.as_str(), serde_json::to_vec(&account)?.as_slice())?;
    Ok(())
}

/// What an account event changes in the read model.
pub(super) enum Change {
    PasswordSet,
    Disabled(bool),
    Removed,
}

/// Applies a change to an account. An account the log does not hold (it cannot happen in a
/// log this node wrote) is left alone, so a rebuild never stops on it.
pub(super) fn apply_change(
    txn: &WriteTransaction,
    username: &Username,
    change: Change,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut t = txn.open_table(ACCOUNTS)?;
    let found: Option<Account> = match t.get(username.as_str())? {
        Some(v) => Some(serde_json::from_slice(v.value())?),
        None => None,
    };
    let Some(mut account) = found else {
        return Ok(());
    };
    match change {
        Change::PasswordSet => account.password_set_at = Some(at),
        Change::Disabled(d) => account.disabled = d,
        Change::Removed => {
            t.remove(username.as_str())?;
            return Ok(());
        }
    }
    t.insert(username.as_str(), serde_json::to_vec(&account)?.as_slice())?;
    Ok(())
}

impl Tx<'_> {
    /// Every enabled account holding `role`.
    pub fn enabled_with(&self, role: Role) -> Result<Vec<Username>, StoreError> {
        let t = self.txn().open_table(ACCOUNTS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (_, v) = row?;
            let a: Account = serde_json::from_slice(v.value())?;
            if !a.disabled && a.roles.contains(&role) {
                out.push(a.username);
            }
        }
        Ok(out)
    }
    pub fn credential(&self, username: &Username) -> Result<Option<String>, StoreError> {
        let t = self.txn().open_table(CREDENTIALS)?;
        let v = t.get(username.as_str())?;
        Ok(v.map(|s| s.value().to_owned()))
    }
    pub fn delete_credential(&mut self, username: &Username) -> Result<(), StoreError> {
        let mut t = self.txn().open_table(CREDENTIALS)?;
        t.remove(username.as_str())?;
        Ok(())
    }
    /// Ends every session of `username` except the one whose hash is `keep`; returns how many.
    pub fn end_sessions_of(
        &mut self,
        username: &Username,
        keep: Option<&str>,
    ) -> Result<usize, StoreError> {
        let mut t = self.txn().open_table(SESSIONS)?;
        let mut ended = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let s: Session = serde_json::from_slice(v.value())?;
            if &s.username == username && Some(k.value()) != keep {
                ended.push(k.value().to_owned());
            }
        }
        for k in &ended {
            t.remove(k.as_str())?;
        }
        Ok(ended.len())
    }
    pub fn account(&self, username: &Username) -> Result<Option<Account>, StoreError> {
        let t = self.txn().open_table(ACCOUNTS)?;
        let v = t.get(username.as_str())?;
        v.map(|b| serde_json::from_slice(b.value()).map_err(StoreError::from))
            .transpose()
    }
    pub fn set_credential(&mut self, username: &Username, phc: &str) -> Result<(), StoreError> {
        let mut t = self.txn().open_table(CREDENTIALS)?;
        t.insert(username.as_str(), phc)?;
        Ok(())
    }
    pub fn put_session(&mut self, token_hash: &str, s: &Session) -> Result<(), StoreError> {
        let mut t = self.txn().open_table(SESSIONS)?;
        t.insert(token_hash, serde_json::to_vec(s)?.as_slice())?;
        Ok(())
    }
    pub fn delete_session(&mut self, token_hash: &str) -> Result<bool, StoreError> {
        let mut t = self.txn().open_table(SESSIONS)?;
        let removed = t.remove(token_hash)?.is_some();
        Ok(removed)
    }
    /// Drops every expired session; returns how many.
    pub fn purge_sessions(&mut self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let mut t = self.txn().open_table(SESSIONS)?;
        let mut expired = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let s: Session = serde_json::from_slice(v.value())?;
            if s.expires_at <= now {
                expired.push(k.value().to_owned());
            }
        }
        for k in &expired {
            t.remove(k.as_str())?;
        }
        Ok(expired.len())
    }
}

/// Read-side queries, run inside [`super::Store::read`].
pub fn account(txn: &ReadTransaction, username: &Username) -> Result<Option<Account>, StoreError> {
    let t = txn.open_table(ACCOUNTS)?;
    let v = t.get(username.as_str())?;
    v.map(|b| serde_json::from_slice(b.value()).map_err(StoreError::from))
        .transpose()
}

pub fn credential(
    txn: &ReadTransaction,
    username: &Username,
) -> Result<Option<String>, StoreError> {
    let t = txn.open_table(CREDENTIALS)?;
    let v = t.get(username.as_str())?;
    Ok(v.map(|s| s.value().to_owned()))
}

pub fn session(txn: &ReadTransaction, token_hash: &str) -> Result<Option<Session>, StoreError> {
    let t = txn.open_table(SESSIONS)?;
    let v = t.get(token_hash)?;
    v.map(|b| serde_json::from_slice(b.value()).map_err(StoreError::from))
        .transpose()
}

pub fn account_count(txn: &ReadTransaction) -> Result<u64, StoreError> {
    use redb::ReadableTableMetadata;
    let t = txn.open_table(ACCOUNTS)?;
    Ok(t.len()?)
}

/// Every account, by user name.
pub fn all_accounts(txn: &ReadTransaction) -> Result<Vec<Account>, StoreError> {
    let t = txn.open_table(ACCOUNTS)?;
    let mut out = Vec::new();
    for row in t.iter()? {
        let (_, v) = row?;
        out.push(serde_json::from_slice(v.value())?);
    }
    Ok(out)
}

/// How many unexpired sessions each user name holds.
pub fn live_sessions(
    txn: &ReadTransaction,
    now: OffsetDateTime,
) -> Result<std::collections::BTreeMap<String, usize>, StoreError> {
    let t = txn.open_table(SESSIONS)?;
    let mut out = std::collections::BTreeMap::new();
    for row in t.iter()? {
        let (_, v) = row?;
        let s: Session = serde_json::from_slice(v.value())?;
        if s.expires_at > now {
            *out.entry(s.username.as_str().to_owned()).or_insert(0) += 1;
        }
    }
    Ok(out)
}
