use super::*;

fn keys(dir: &Path) -> (PathBuf, String) {
    let (sk, pk) = release::keygen(dir, true).unwrap();
    (sk, std::fs::read_to_string(pk).unwrap())
}

fn signed(dir: &Path, sk: &Path, name: &str, bytes: &[u8], version: &str) -> String {
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    let sig = release::sign(sk, &file, version, &target()).unwrap();
    std::fs::read_to_string(sig).unwrap()
}

#[test]
fn a_signed_release_verifies_and_names_its_version_and_target() {
    let tmp = tempfile::tempdir().unwrap();
    let (sk, pk) = keys(tmp.path());
    let sig = signed(tmp.path(), &sk, "bin", b"new release", "0.3.0");
    let r = verify(&pk, b"new release", &sig).unwrap();
    assert_eq!(r.version, semver::Version::new(0, 3, 0));
    assert_eq!(r.target, target());
    assert_eq!(r.size, 11);
    // A changed byte, another key, a mangled signature: all refused.
    assert!(matches!(
        verify(&pk, b"new releasf", &sig),
        Err(UpdateError::Forged)
    ));
    let other = tempfile::tempdir().unwrap();
    let (_, other_pk) = keys(other.path());
    assert!(verify(&other_pk, b"new release", &sig).is_err());
    assert!(matches!(
        verify(&pk, b"new release", "not a signature"),
        Err(UpdateError::BadSignature(_))
    ));
}

#[test]
fn the_trusted_comment_must_be_exactly_phonghop_version_target() {
    assert!(parse_comment("phonghop 0.3.0 x86_64-linux").is_ok());
    for bad in [
        "timestamp:1555779966\tfile:test",
        "phonghop 0.3 x86_64-linux",
        "phonghop 0.3.0",
        "phonghop 0.3.0 x86_64-linux extra",
        "other 0.3.0 x86_64-linux",
    ] {
        assert!(parse_comment(bad).is_err(), "{bad}");
    }
}

#[test]
fn staging_refuses_downgrades_other_targets_and_failed_releases_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let release = |v: &str, t: &str| Release {
        version: semver::Version::parse(v).unwrap(),
        target: t.into(),
        sha256: hex::encode(Sha256::digest(b"x")),
        size: 1,
    };
    let older = release("0.0.1", &target());
    assert!(matches!(
        stage(&data, &older, b"x"),
        Err(UpdateError::Downgrade { .. })
    ));
    let same = release(env!("CARGO_PKG_VERSION"), &target());
    assert!(matches!(
        stage(&data, &same, b"x"),
        Err(UpdateError::Downgrade { .. })
    ));
    assert!(matches!(
        stage(&data, &release("9.0.0", "sparc-plan9"), b"x"),
        Err(UpdateError::WrongTarget { .. })
    ));
    assert!(!updates_dir(&data).exists(), "nothing staged");

    let newer = release("9.0.0", &target());
    assert!(matches!(
        stage(&data, &newer, b"x").unwrap(),
        Staged::New(_)
    ));
    assert!(matches!(
        stage(&data, &newer, b"x").unwrap(),
        Staged::Already(_)
    ));
    let bin = binary_path(&data, "9.0.0");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&bin).unwrap().permissions().mode() & 0o777,
        0o755
    );
    let mut state = UpdateState::load(&data).unwrap();
    assert_eq!(state.trial.as_ref().unwrap().attempts, 0);
    state.roll_back("did not become healthy");
    state.save(&data).unwrap();
    assert!(matches!(
        stage(&data, &newer, b"x"),
        Err(UpdateError::AlreadyFailed(_))
    ));
    let state = UpdateState::load(&data).unwrap();
    assert_eq!(state.unrecorded.len(), 1);
    assert!(state.trial.is_none());
}

#[test]
fn returning_to_the_recorded_previous_release_is_not_a_downgrade() {
    let state = UpdateState {
        current: Some(Installed {
            version: "9.1.0".into(),
            sha256: "b".repeat(64),
        }),
        previous: Some(Installed {
            version: "9.0.0".into(),
            sha256: "a".repeat(64),
        }),
        ..Default::default()
    };
    let back = Release {
        version: semver::Version::new(9, 0, 0),
        target: target(),
        sha256: "a".repeat(64),
        size: 1,
    };
    assert!(admissible(&state, &back).is_ok());
    let other_bytes = Release {
        sha256: "c".repeat(64),
        ..back
    };
    assert!(admissible(&state, &other_bytes).is_err());
}

mod offers_from_the_hub {
    use super::*;
    use crate::domain::{Hash, RoomName};
    use crate::store::NodeRole;

    fn enrolled_box(dir: &Path, release_key: Option<&str>) -> Store {
        let store =
            Store::init(dir, &RoomName::parse("Phòng họp").unwrap(), NodeRole::Room).unwrap();
        let settings = crate::sync::HubSettings {
            hub_url: "https://hub.example/".into(),
            sync_url: "https://hub.example:8444/".into(),
            hub_node_id: "d".repeat(32),
            hub_root_sha256: "e".repeat(64),
            room: "Phòng họp".into(),
            enrolled_at: time::OffsetDateTime::now_utc(),
            release_key: release_key.map(str::to_owned),
        };
        let sync = dir.join(crate::sync::SYNC_DIR);
        std::fs::create_dir_all(&sync).unwrap();
        std::fs::write(
            sync.join("hub.json"),
            serde_json::to_vec(&settings).unwrap(),
        )
        .unwrap();
        store
    }

    fn offer(
        version: &str,
        sha256: &str,
        size: u64,
        signature: &str,
        nodes: Option<Vec<NodeId>>,
    ) -> EventEnvelope {
        EventEnvelope {
            v: 1,
            origin: NodeId::parse(&"d".repeat(32)).unwrap(),
            seq: 9,
            prev: Hash::GENESIS,
            at: time::OffsetDateTime::now_utc(),
            actor: Actor::Node,
            body: EventBody::UpdateOffered {
                version: version.into(),
                target: target(),
                sha256: sha256.into(),
                size,
                signature: signature.into(),
                nodes,
            },
        }
    }

    #[test]
    fn an_offer_for_this_box_is_fetched_verified_staged_and_restarts_it_once() {
        let tmp = tempfile::tempdir().unwrap();
        let office = tmp.path().join("office");
        let (sk, pk) = keys(&office);
        let bytes = b"#!/bin/sh\nexit 0\n";
        let sig = signed(&office, &sk, "bin", bytes, "9.0.0");
        let sha = hex::encode(Sha256::digest(bytes));
        let hub = NodeId::parse(&"d".repeat(32)).unwrap();

        // Without a pinned key the box downloads it but refuses it, and keeps no copy.
        let bare = enrolled_box(&tmp.path().join("bare"), None);
        let me = bare.node_id().clone();
        let event = offer("9.0.0", &sha, bytes.len() as u64, &sig, None);
        assert_eq!(blobs_needed(&me, &event), vec![(sha.clone(), 17)]);
        bare.blobs().put_bytes(bytes).unwrap();
        react(&bare, &me, &hub, 9, &event).unwrap();
        assert!(UpdateState::load(bare.dir()).unwrap().trial.is_none());
        assert!(!bare.blobs().contains(&sha));
        assert!(!restart_requested());

        let store = enrolled_box(&tmp.path().join("box"), Some(&pk));
        let me = store.node_id().clone();
        // Meant for another box: nothing to fetch, nothing staged.
        let elsewhere = offer("9.0.0", &sha, 17, &sig, Some(vec![hub.clone()]));
        assert!(blobs_needed(&me, &elsewhere).is_empty());
        react(&store, &me, &hub, 9, &elsewhere).unwrap();
        assert!(UpdateState::load(store.dir()).unwrap().trial.is_none());

        let event = offer(
            "9.0.0",
            &sha,
            bytes.len() as u64,
            &sig,
            Some(vec![me.clone()]),
        );
        assert_eq!(blobs_needed(&me, &event), vec![(sha.clone(), 17)]);
        assert_eq!(blobs_to_fetch(&me, &event), vec![(sha.clone(), 17)]);

        // Built for another platform: the hub grants it (it cannot know), the box does not
        // download it, and with no file it skips the offer.
        let mut foreign = event.clone();
        if let EventBody::UpdateOffered { target, .. } = &mut foreign.body {
            *target = if std::env::consts::ARCH == "aarch64" {
                "x86_64-linux".into()
            } else {
                "aarch64-linux".into()
            };
        }
        assert_eq!(blobs_needed(&me, &foreign), vec![(sha.clone(), 17)]);
        assert!(blobs_to_fetch(&me, &foreign).is_empty());
        react(&store, &me, &hub, 8, &foreign).unwrap();
        assert!(UpdateState::load(store.dir()).unwrap().trial.is_none());
        assert!(!restart_requested());

        // The hub claims another version than the signature: refused, nothing staged.
        store.blobs().put_bytes(bytes).unwrap();
        let lying = offer("9.9.9", &sha, 17, &sig, None);
        react(&store, &me, &hub, 10, &lying).unwrap();
        assert!(UpdateState::load(store.dir()).unwrap().trial.is_none());
        assert!(!restart_requested());

        store.blobs().put_bytes(bytes).unwrap();
        react(&store, &me, &hub, 9, &event).unwrap();
        react(&store, &me, &hub, 9, &event).unwrap();
        let mut state = UpdateState::load(store.dir()).unwrap();
        assert_eq!(state.trial.as_ref().unwrap().version, "9.0.0");
        // The trial runs (its attempt counted) and the sync loop hands it the same offer again
        // (the restart came before the loop noted it): the attempt is not reset.
        state.trial.as_mut().unwrap().attempts = 1;
        state.save(store.dir()).unwrap();
        store.blobs().put_bytes(bytes).unwrap();
        react(&store, &me, &hub, 9, &event).unwrap();
        let state = UpdateState::load(store.dir()).unwrap();
        assert_eq!(state.trial.as_ref().unwrap().attempts, 1);
        assert!(!store.blobs().contains(&sha));
        assert_eq!(
            std::fs::read(binary_path(store.dir(), "9.0.0")).unwrap(),
            bytes
        );
        assert!(restart_requested());
    }

    /// A staged update does not cut off a meeting: the restart waits while one is running or
    /// in recess, goes ahead when it ends, and goes ahead anyway after the longest wait.
    #[tokio::test]
    async fn a_staged_update_waits_for_the_meeting_in_session_to_end() {
        use std::time::Duration;
        let tmp = tempfile::tempdir().unwrap();
        let store = enrolled_box(&tmp.path().join("box"), None);
        let meeting = crate::domain::records::Id::random();
        let event = |body: EventBody| store.append(Actor::Node, vec![body]).unwrap();
        event(EventBody::MeetingStarted {
            meeting_id: meeting.clone(),
        });
        let poll = Duration::from_millis(20);
        let waiting = tokio::spawn(no_meeting_in_session(
            store.clone(),
            poll,
            Duration::from_secs(3600),
        ));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "running: no restart");
        event(EventBody::MeetingPaused {
            meeting_id: meeting.clone(),
            reason: "Nghỉ giải lao".into(),
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "in recess: no restart");
        event(EventBody::MeetingEnded {
            meeting_id: meeting.clone(),
        });
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("ended: the restart goes ahead")
            .unwrap();
        // A meeting left open does not hold an update for ever.
        let other = crate::domain::records::Id::random();
        event(EventBody::MeetingStarted { meeting_id: other });
        let start = std::time::Instant::now();
        no_meeting_in_session(store.clone(), poll, Duration::from_millis(200)).await;
        assert!(start.elapsed() >= Duration::from_millis(200));
        // With no meeting in session it goes at once.
        let idle = tempfile::tempdir().unwrap();
        let quiet = enrolled_box(&idle.path().join("box"), None);
        tokio::time::timeout(
            Duration::from_millis(500),
            no_meeting_in_session(quiet, Duration::from_secs(60), Duration::from_secs(3600)),
        )
        .await
        .expect("nothing in session: at once");
    }
}
