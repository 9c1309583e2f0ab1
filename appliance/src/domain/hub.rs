//! The central office's records of room boxes: enrolment tokens, enrolled boxes, and what each
//! box last said when it synced. Pure types and parsing; the hub's service decides.

use super::records::Id;
use super::NodeId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// How long an enrolment token works after it is issued.
pub const ENROLMENT_LIFETIME: time::Duration = time::Duration::hours(24);
/// How long a box's client certificate is valid; the box renews it over sync before then.
pub const CLIENT_CERT_LIFETIME: time::Duration = time::Duration::days(365);

/// A one-time enrolment token as IT staff carry it from the hub to the box:
/// `PH1-<secret, 32 hex>-<SHA-256 of the hub's root certificate, 64 hex>`. The secret proves
/// the box was sent by the hub's staff; the fingerprint lets the box check that it talks to
/// that hub before it sends anything (the box pins it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentToken {
    secret: [u8; 16],
    root_sha256: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an enrolment token: it looks like PH1-<32 hex digits>-<64 hex digits>")]
pub struct BadToken;

impl EnrolmentToken {
    pub fn new(secret: [u8; 16], root_sha256: [u8; 32]) -> Self {
        Self {
            secret,
            root_sha256,
        }
    }

    pub fn parse(s: &str) -> Result<Self, BadToken> {
        let s = s.trim();
        let mut parts = s.split('-');
        let (Some("PH1"), Some(secret), Some(fp), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(BadToken);
        };
        let mut out = Self {
            secret: [0; 16],
            root_sha256: [0; 32],
        };
        hex::decode_to_slice(secret.to_ascii_lowercase(), &mut out.secret).map_err(|_| BadToken)?;
        hex::decode_to_slice(fp.to_ascii_lowercase(), &mut out.root_sha256)
            .map_err(|_| BadToken)?;
        Ok(out)
    }

    /// What the hub keeps of the token: never the secret itself.
    pub fn secret_hash(&self) -> String {
        hex::encode(Sha256::digest(self.secret))
    }

    /// The SHA-256 fingerprint of the hub's root certificate, lower-case hex.
    pub fn root_sha256_hex(&self) -> String {
        hex::encode(self.root_sha256)
    }
}

impl std::fmt::Display for EnrolmentToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PH1-{}-{}",
            hex::encode(self.secret),
            hex::encode(self.root_sha256)
        )
    }
}

/// A hub command refused, each with its own API code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubRefusal {
    /// The command is for a hub and this node is a room box (or the reverse).
    WrongRole,
    /// No token with this secret was issued here.
    TokenInvalid,
    TokenExpired,
    /// Another box already enrolled with this token.
    TokenUsed,
    /// The room's name is empty or too long.
    BadRoom,
    UnknownBox,
    AlreadyRevoked,
    /// The box's certificate request could not be read or is not signed by its key.
    BadRequest(String),
}

/// The room's name as IT staff typed it: trimmed, without control characters, 1 to 120
/// characters.
pub fn room_label(raw: &str) -> Result<String, HubRefusal> {
    let clean: String = raw.chars().filter(|c| !c.is_control()).collect();
    let clean = clean.trim();
    if clean.is_empty() || clean.chars().count() > 120 {
        return Err(HubRefusal::BadRoom);
    }
    Ok(clean.to_owned())
}

/// What a signed checkpoint states: "this node's log `origin` reached event `seq`, whose
/// stored bytes hash to `hash`". Signed over its canonical JSON (RFC 8785).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointStatement {
    /// Always `phonghop-checkpoint/1`, so the signature cannot be taken for anything else.
    pub kind: String,
    pub origin: String,
    pub seq: u64,
    pub hash: String,
}

impl CheckpointStatement {
    pub const KIND: &'static str = "phonghop-checkpoint/1";

    pub fn new(origin: &NodeId, seq: u64, hash: &super::Hash) -> Self {
        Self {
            kind: Self::KIND.to_owned(),
            origin: origin.to_string(),
            seq,
            hash: hash.to_hex(),
        }
    }
}

/// How often a box signs a checkpoint of its log: after this many new events, or when
/// something new is older than [`CHECKPOINT_MAX_AGE`] since the last one.
pub const CHECKPOINT_EVENTS: u64 = 500;
pub const CHECKPOINT_MAX_AGE: time::Duration = time::Duration::hours(1);

/// An enrolment token issued on the hub (read model of `enrolment.issued`, `box.enrolled`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Enrolment {
    pub token_id: Id,
    pub room: String,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[ts(type = "string | null")]
    pub used_by: Option<NodeId>,
}

/// A room box the hub enrolled (read model of `box.enrolled`, `box.revoked`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct EnrolledBox {
    #[ts(type = "string")]
    pub node_id: NodeId,
    pub room: String,
    pub token_id: Id,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub enrolled_at: OffsetDateTime,
    pub cert_serial: String,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub cert_not_after: OffsetDateTime,
    pub revoked: Option<Revocation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Revocation {
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub reason: String,
}

/// A recorded sync conflict (read model of `sync.conflict`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SyncConflictRecord {
    #[ts(type = "string")]
    pub origin: NodeId,
    #[ts(type = "number")]
    pub seq: u64,
    pub reason: String,
    pub ours: Option<String>,
    pub theirs: String,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Where in the receiver's own log it was recorded.
    #[ts(type = "number")]
    pub recorded_seq: u64,
}

/// What a box said the last time it synced (node-local on the hub: it changes with every
/// contact and is not history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PeerContact {
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub last_contact: OffsetDateTime,
    /// The box's build (`Phonghop-Version` header).
    pub app_version: String,
    /// The last event the box said it holds (its head), if it said.
    #[ts(type = "number | null")]
    pub reported_head: Option<u64>,
    /// How far the box said it holds the hub's own log (`Phonghop-Hub-Held`), if it said.
    #[ts(type = "number | null")]
    #[serde(default)]
    pub hub_log_held: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_and_anything_else_is_refused() {
        let t = EnrolmentToken::new([0xab; 16], [0x12; 32]);
        let s = t.to_string();
        assert_eq!(s.len(), 4 + 32 + 1 + 64);
        assert_eq!(EnrolmentToken::parse(&s).unwrap(), t);
        assert_eq!(
            EnrolmentToken::parse(&format!("  {}\n", s.to_uppercase())).unwrap(),
            t
        );
        for bad in [
            "",
            "PH1",
            "PH2-abababababababababababababababab-1212121212121212121212121212121212121212121212121212121212121212",
            "PH1-abab-1212",
            "PH1-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz-1212121212121212121212121212121212121212121212121212121212121212",
            &format!("{s}-x"),
        ] {
            assert_eq!(EnrolmentToken::parse(bad), Err(BadToken), "{bad:?}");
        }
        assert_ne!(t.secret_hash(), hex::encode([0xab; 16]));
        assert_eq!(t.root_sha256_hex(), "12".repeat(32));
    }
}
