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
