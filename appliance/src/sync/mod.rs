//! Box ⇄ hub sync (`docs/sync-protocol.md`): the messages both sides share, the box's sync
//! settings on disk (`DATA/sync/`), enrolment, and the box's sync loop.
//!
//! The hub's side of the wire is in `http::sync`; the receiver rules are in `store::sync`.

pub mod client;
pub mod enroll;
mod pull;

use crate::domain::{Hash, NodeId};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// The protocol this build speaks, and the oldest it still speaks. A peer one version apart
/// still syncs; further apart, both sides say so plainly and stop.
pub const PROTOCOL: u32 = 1;
pub const MIN_PROTOCOL: u32 = 1;

/// Request headers: the protocol the box speaks, its build, and its head (for the hub's
/// overview of backlogs).
pub const HEADER_PROTOCOL: &str = "phonghop-sync";
pub const HEADER_VERSION: &str = "phonghop-version";
pub const HEADER_HEAD: &str = "phonghop-head";
/// How far the box holds the hub's own log (for the hub's overview of the downward backlog).
pub const HEADER_HUB_HELD: &str = "phonghop-hub-held";
/// Resumable blob upload (the names follow the IETF resumable-upload draft).
pub const HEADER_OFFSET: &str = "upload-offset";
pub const HEADER_LENGTH: &str = "upload-length";

/// One push: at most this many events, and about this many bytes.
pub const MAX_BATCH_EVENTS: usize = 1000;
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// How many blob hashes one `blobs/missing` question may list.
pub const MAX_MISSING_QUERY: usize = 1000;

/// `GET /sync/v1/hello`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hello {
    pub node_id: String,
    pub protocol: u32,
    pub min_protocol: u32,
    pub app_version: String,
}

/// `GET /sync/v1/cursor`: how far the receiver holds an origin.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CursorMsg {
    pub origin: String,
    pub seq: u64,
    pub hash: String,
}

/// `POST /sync/v1/events` answer, sent only after the receiver's durable commit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Ack {
    pub origin: String,
    pub acked_seq: u64,
    pub acked_hash: String,
}

/// `POST /sync/v1/blobs/missing` question and answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MissingQuery {
    pub sha256: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MissingReply {
    pub missing: Vec<String>,
}

/// Whether two protocol ranges overlap.
pub fn compatible(their_min: u32, their_max: u32) -> bool {
    their_min <= PROTOCOL && MIN_PROTOCOL <= their_max
}

pub fn hash_hex(h: &Hash) -> String {
    h.to_hex()
}

/// `DATA/sync/`: where an enrolled box keeps its hub's address, its pinned root and its client
/// certificate and key. Written once by `phonghop enroll`, read at every start.
pub const SYNC_DIR: &str = "sync";
const SETTINGS_FILE: &str = "hub.json";
const HUB_ROOT_FILE: &str = "hub-root.pem";
const CLIENT_CERT_FILE: &str = "client.pem";
const CLIENT_KEY_FILE: &str = "client.key";

/// The box's sync settings (`DATA/sync/hub.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HubSettings {
    /// The hub's web address, as IT staff gave it (enrolment, the IT page's link).
    pub hub_url: String,
    /// Where the box syncs: the hub's host with its sync port (mutual TLS).
    pub sync_url: String,
    pub hub_node_id: String,
    pub hub_root_sha256: String,
    /// The room name the hub recorded for this box.
    pub room: String,
    #[serde(with = "time::serde::rfc3339")]
    pub enrolled_at: OffsetDateTime,
}

/// An enrolled box's sync settings and credentials.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub settings: HubSettings,
    pub hub_root_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is damaged: {reason}. Enrol the box again (`phonghop enroll`)", path.display())]
    Damaged { path: PathBuf, reason: String },
}

fn read(dir: &Path, name: &str) -> Result<Option<String>, SettingsError> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SettingsError::Io { path, source }),
    }
}

impl Enrolled {
    /// The settings in `data_dir/sync/`, `None` if the box never enrolled.
    pub fn load(data_dir: &Path) -> Result<Option<Enrolled>, SettingsError> {
        let dir = data_dir.join(SYNC_DIR);
        let Some(settings) = read(&dir, SETTINGS_FILE)? else {
            return Ok(None);
        };
        let damaged = |name: &str, reason: String| SettingsError::Damaged {
            path: dir.join(name),
            reason,
        };
        let settings: HubSettings =
            serde_json::from_str(&settings).map_err(|e| damaged(SETTINGS_FILE, e.to_string()))?;
        let need = |name: &str| -> Result<String, SettingsError> {
            read(&dir, name)?.ok_or_else(|| damaged(name, "missing".into()))
        };
        let enrolled = Enrolled {
            settings,
            hub_root_pem: need(HUB_ROOT_FILE)?,
            client_cert_pem: need(CLIENT_CERT_FILE)?,
            client_key_pem: need(CLIENT_KEY_FILE)?,
        };
        if !crate::tls::sync::key_matches_cert(&enrolled.client_key_pem, &enrolled.client_cert_pem)
        {
            return Err(damaged(
                CLIENT_KEY_FILE,
                "the key does not match client.pem".into(),
            ));
        }
        Ok(Some(enrolled))
    }

    /// Writes the settings: the files first, `hub.json` last (atomically), so a box is
    /// enrolled only once everything it needs is on disk.
    pub fn save(&self, data_dir: &Path) -> Result<(), SettingsError> {
        let dir = data_dir.join(SYNC_DIR);
        let io = |path: PathBuf| move |source| SettingsError::Io { path, source };
        std::fs::create_dir_all(&dir).map_err(io(dir.clone()))?;
        let settings =
            serde_json::to_vec_pretty(&self.settings).map_err(|e| SettingsError::Damaged {
                path: dir.join(SETTINGS_FILE),
                reason: e.to_string(),
            })?;
        for (name, bytes, mode) in [
            (HUB_ROOT_FILE, self.hub_root_pem.as_bytes(), 0o644),
            (CLIENT_CERT_FILE, self.client_cert_pem.as_bytes(), 0o644),
            (CLIENT_KEY_FILE, self.client_key_pem.as_bytes(), 0o600),
            (SETTINGS_FILE, settings.as_slice(), 0o644),
        ] {
            write_atomic(&dir, name, bytes, mode).map_err(io(dir.join(name)))?;
        }
        Ok(())
    }
}

fn write_atomic(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, dir.join(name))?;
    std::fs::File::open(dir)?.sync_all()
}

/// The node id named in a hub's hello, checked against the one enrolment recorded.
pub fn same_node(a: &str, b: &NodeId) -> bool {
    NodeId::parse(a).is_some_and(|n| &n == b)
}
