//! A bad data directory stops `serve` with a clear message and exit code, touching nothing.

use crate::helpers::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn serve_once(dir: &std::path::Path) -> (Option<i32>, String) {
    let mut c = spawn_serve(dir, &[]);
    let status = wait_exit(&mut c, Duration::from_secs(15));
    let mut err = String::new();
    use std::io::Read;
    c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status.code(), err)
}

fn snapshot(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut files: Vec<_> = walk(dir)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().display().to_string(),
                sha256_file(&p),
            )
        })
        .collect();
    files.sort();
    files
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_corrupt_store_is_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    init_dir(&dir);
    // Garbage over the database file, as after a bad SD card.
    std::fs::write(dir.join("phonghop.redb"), vec![0x5au8; 64 * 1024]).unwrap();
    let before = snapshot(&dir);
    let (code, err) = serve_once(&dir);
    assert_eq!(code, Some(65), "{err}");
    assert!(err.contains("is not a Phonghop data directory"), "{err}");
    assert!(err.contains("Nothing was changed"), "{err}");
    assert_eq!(
        snapshot(&dir),
        before,
        "serve must not touch a corrupt directory"
    );

    let out = phonghop(&["verify", "--data", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(65));
}

#[test]
fn a_store_from_a_newer_version_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    init_dir(&dir);
    {
        let db = redb::Database::open(dir.join("phonghop.redb")).unwrap();
        let meta: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("meta");
        let txn = db.begin_write().unwrap();
        txn.open_table(meta)
            .unwrap()
            .insert("schema_version", "99")
            .unwrap();
        txn.commit().unwrap();
    }
    let before = snapshot(&dir);
    let (code, err) = serve_once(&dir);
    assert_eq!(code, Some(65), "{err}");
    assert!(err.contains("newer Phonghop (schema 99"), "{err}");
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn a_foreign_directory_is_never_initialised_over() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("important.docx"), b"someone's work").unwrap();
    let (code, err) = serve_once(&dir);
    assert_eq!(code, Some(73), "{err}");
    assert!(err.contains("refusing to initialise"), "{err}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[tokio::test]
async fn serve_on_an_empty_directory_sets_the_box_up() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new");
    let b = TestBox::attach(dir.clone(), &["--room", "Phòng họp HĐND xã Đông Hưng"]).await;
    assert_eq!(
        b.get_json("/api/room").await["name"],
        "Phòng họp HĐND xã Đông Hưng"
    );
    let saved = std::fs::read_to_string(dir.join("initial-admin-password.txt")).unwrap();
    let (user, password) = saved.trim().split_once(' ').unwrap();
    assert_eq!(user, "admin");
    b.sign_in(user, password).await;
}

#[test]
fn a_bad_config_file_is_reported_with_its_path() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    init_dir(&dir);
    std::fs::write(dir.join("phonghop.toml"), "https_prot = 443\n").unwrap();
    let out = Command::new(bin())
        .args(["serve", "--data", dir.to_str().unwrap(), "--mdns", "off"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("phonghop.toml") && err.contains("https_prot"),
        "{err}"
    );
}

/// A store written by the previous release (schema 2: one log keyed by seq, one record per
/// meeting), with the demo meeting, people, seats and published documents.
fn copy_v2_fixture(to: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v2/phonghop.redb");
    std::fs::copy(src, to.join("phonghop.redb")).unwrap();
}

fn meta_value(dir: &Path, key: &str) -> String {
    let db = redb::ReadOnlyDatabase::open(dir.join("phonghop.redb")).unwrap();
    use redb::ReadableDatabase;
    let txn = db.begin_read().unwrap();
    let meta: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("meta");
    let v = txn
        .open_table(meta)
        .unwrap()
        .get(key)
        .unwrap()
        .unwrap()
        .value()
        .to_owned();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_from_the_previous_release_is_migrated_with_its_chain_and_meetings() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    copy_v2_fixture(&dir);
    assert_eq!(meta_value(&dir, "schema_version"), "2");
    let mut b = TestBox::attach(dir.clone(), &[]).await;
    let chair = b.sign_in("chutri", "chutri-demo").await;
    let list: serde_json::Value = b
        .client
        .get(b.url("/api/meetings"))
        .header("cookie", &chair)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let m = &list["meetings"][0];
    assert_eq!(m["status"], "published", "{m}");
    let items: Vec<&str> = m["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(items.len(), 3, "{m}");
    assert_eq!(m["documents"].as_array().unwrap().len(), 3, "{m}");
    // The documents' items are the agenda's, in the agenda's order.
    for d in m["documents"].as_array().unwrap() {
        assert!(m["agenda"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == d["item_id"]));
    }
    // A new event chains on to the migrated log.
    let admin = b.admin().await;
    b.post_notice(&admin, "Sau nâng cấp").await;
    assert!(b.terminate().success());
    assert_eq!(meta_value(&dir, "schema_version"), "3");
    let out = phonghop(&["verify", "--data", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("OK: 26 events"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_from_schema_one_is_migrated_forward() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    copy_v2_fixture(&dir);
    // Make it a schema-1 store: without the tables that people and tablets added.
    {
        let db = redb::Database::open(dir.join("phonghop.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        for t in [
            "people",
            "bodies",
            "meetings",
            "attendance",
            "devices",
            "device_tokens",
            "pairing_codes",
            "pins",
            "seating",
        ] {
            let def: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new(t);
            let _ = txn.delete_table(def);
            let def: redb::TableDefinition<&str, &str> = redb::TableDefinition::new(t);
            let _ = txn.delete_table(def);
        }
        let meta: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("meta");
        txn.open_table(meta)
            .unwrap()
            .insert("schema_version", "1")
            .unwrap();
        txn.commit().unwrap();
    }
    let mut b = TestBox::attach(dir.clone(), &[]).await;
    let admin = b.admin().await;
    // The read models come back from the log, the people included.
    let r = b
        .client
        .get(b.url("/api/people"))
        .header("cookie", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let people: serde_json::Value = r.json().await.unwrap();
    assert_eq!(people["people"].as_array().unwrap().len(), 7, "{people}");
    assert!(b.terminate().success());
    assert_eq!(meta_value(&dir, "schema_version"), "3");
}
