//! `phonghop hub offer-update`: the hub checks a signed release with its release key, keeps the
//! binary in its blob store and records `update.offered` in its log. The command runs it on the
//! store directly when the hub is stopped, or asks the running hub through the control socket
//! (the binary travels over the socket), so offering an update does not stop the office.

use super::OpsError;
use crate::domain::{Actor, EventBody, NodeId};
use crate::store::Store;
use serde::{Deserialize, Serialize};

/// The largest release the hub takes (a release binary is about 30 MB).
pub const MAX_RELEASE_BYTES: u64 = 512 * 1024 * 1024;

/// What was offered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Offered {
    pub version: String,
    pub target: String,
    pub sha256: String,
    pub size: u64,
    /// The hub's event that records the offer.
    pub seq: u64,
}

/// Checks `bytes` against `signature` (a `.minisig` text) with the hub's release key and
/// records the offer, for `nodes` only when some are named. Nothing is kept when a check fails.
pub fn offer(
    store: &Store,
    bytes: &[u8],
    signature: &str,
    nodes: Vec<NodeId>,
) -> Result<Offered, OpsError> {
    if store.role() != crate::store::NodeRole::Hub {
        return Err(OpsError::new(
            65,
            "Đây không phải dữ liệu của máy chủ trung tâm.",
            "This is not a hub's data directory.",
        ));
    }
    let key = crate::service::hub::release_key(store).ok_or_else(|| {
        OpsError::new(
            78,
            "Trung tâm chưa có khóa phát hành: khởi động trung tâm một lần với --release-key phonghop-release.pub.",
            "The hub has no release key: start it once with --release-key phonghop-release.pub.",
        )
    })?;
    let release = crate::update::verify(&key, bytes, signature).map_err(|e| {
        let text = e.to_string();
        OpsError::new(e.exit_code(), text.clone(), text)
    })?;
    let info = store.blobs().put_bytes(bytes)?;
    let appended = store.append(
        Actor::Node,
        vec![EventBody::UpdateOffered {
            version: release.version.to_string(),
            target: release.target.clone(),
            sha256: info.sha256.clone(),
            size: info.size,
            signature: signature.to_owned(),
            nodes: (!nodes.is_empty()).then_some(nodes),
        }],
    )?;
    Ok(Offered {
        version: release.version.to_string(),
        target: release.target,
        sha256: info.sha256,
        size: info.size,
        seq: appended.first().map(|e| e.seq).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RoomName;
    use crate::update::release;

    /// The hub checks a release before it keeps anything: a changed binary, a signature by
    /// another key, or no release key at all leave its log and blob store as they were.
    #[test]
    fn a_release_that_fails_a_check_is_not_offered_and_nothing_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("hub");
        let store = Store::init(
            &dir,
            &RoomName::parse("Trung tâm tỉnh").unwrap(),
            crate::store::NodeRole::Hub,
        )
        .unwrap();
        let bytes = b"#!/bin/sh\nexit 0\n".to_vec();
        let file = tmp.path().join("phonghop");
        std::fs::write(&file, &bytes).unwrap();
        let (sk, pk) = release::keygen(&tmp.path().join("office"), true).unwrap();
        let sig = release::sign(&sk, &file, "9.0.0", &crate::update::target()).unwrap();
        let sig = std::fs::read_to_string(sig).unwrap();
        let head = store.head_seq().unwrap();
        let sha = |b: &[u8]| crate::domain::Hash::of(b).to_hex();

        // No release key yet.
        assert_eq!(offer(&store, &bytes, &sig, vec![]).unwrap_err().code, 78);
        std::fs::copy(&pk, dir.join(crate::service::hub::RELEASE_KEY_FILE)).unwrap();
        // A binary changed after signing.
        let mut changed = bytes.clone();
        changed.push(b'\n');
        assert!(offer(&store, &changed, &sig, vec![]).is_err());
        // Signed by a key the hub does not hold.
        let (other_sk, _) = release::keygen(&tmp.path().join("other"), true).unwrap();
        let other = release::sign(&other_sk, &file, "9.0.0", &crate::update::target()).unwrap();
        let other = std::fs::read_to_string(other).unwrap();
        assert!(offer(&store, &bytes, &other, vec![]).is_err());
        assert_eq!(store.head_seq().unwrap(), head, "nothing recorded");
        assert!(!store.blobs().contains(&sha(&changed)) && !store.blobs().contains(&sha(&bytes)));

        // The office's own release is offered.
        let offered = offer(&store, &bytes, &sig, vec![]).unwrap();
        assert_eq!(offered.version, "9.0.0");
        assert_eq!(store.head_seq().unwrap(), head + 1);
        assert!(store.blobs().contains(&offered.sha256));
    }
}
