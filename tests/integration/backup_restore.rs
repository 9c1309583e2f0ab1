//! `phonghop backup` while staff write, `phonghop restore` into an empty directory, and every
//! way a bad archive is refused with nothing left behind.

use crate::helpers::*;
use phonghop::store::Store;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn run(args: &[&str]) -> std::process::Output {
    phonghop(args)
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn backup(data: &Path, out: &Path) -> std::process::Output {
    run(&[
        "backup",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

fn restore(from: &Path, data: &Path) -> std::process::Output {
    run(&[
        "restore",
        "--from",
        from.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ])
}

/// Nothing but `keep` in `dir`: no half-restored directory, no temporary debris.
fn only(dir: &Path, keep: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = keep.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names, want, "left behind in {}", dir.display());
}

#[tokio::test]
async fn a_backup_taken_while_staff_write_restores_every_acknowledged_write() {
    let tb = TestBox::start_demo().await;
    let cookie = tb.admin().await;
    let tb = Arc::new(tb);
    let stop = Arc::new(AtomicBool::new(false));
    // (seq, text, when the 201 arrived)
    let acked: Arc<Mutex<Vec<(u64, String, Instant)>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..8 {
        let (tb, cookie, stop, acked) = (tb.clone(), cookie.clone(), stop.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let t = format!("Thông báo {w}-{i}");
                let seq = tb.post_notice(&cookie, &t).await;
                acked.lock().unwrap().push((seq, t, Instant::now()));
                i += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("phonghop-backup.tar.gz");
    let started = Instant::now();
    let out = {
        let (dir, file) = (tb.dir.clone(), file.clone());
        tokio::task::spawn_blocking(move || backup(&dir, &file))
            .await
            .unwrap()
    };
    let ended = Instant::now();
    assert!(out.status.success(), "backup failed: {}", text(&out));
    assert!(
        text(&out).contains("lúc đang chạy / while serving"),
        "{}",
        text(&out)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let before: Vec<_> = acked.iter().filter(|a| a.2 < started).collect();
    let during = acked
        .iter()
        .filter(|a| a.2 >= started && a.2 <= ended)
        .count();
    assert!(before.len() > 20, "too little load: {}", before.len());
    assert!(during > 0, "no write was acknowledged while the backup ran");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the backup holds private keys");
    }
    let mut tb = Arc::into_inner(tb).expect("writers are done");
    assert!(tb.terminate().success());

    // Into a directory that does not exist yet.
    let target = tmp.path().join("restored");
    let out = restore(&file, &target);
    assert!(out.status.success(), "restore failed: {}", text(&out));
    let out = run(&["verify", "--data", target.to_str().unwrap(), "--blobs"]);
    assert!(out.status.success(), "verify failed: {}", text(&out));
    assert!(
        text(&out).contains("every one matches its hash"),
        "{}",
        text(&out)
    );

    // The restored log is exactly a prefix of the box's log, and holds every write that was
    // acknowledged before the backup started.
    let original = Store::open(&tb.dir).unwrap();
    let all = original.events_after(0, usize::MAX).unwrap();
    let restored = Store::open(&target).unwrap();
    let got = restored.events_after(0, usize::MAX).unwrap();
    let head = got.len();
    assert_eq!(restored.head_seq().unwrap(), head as u64);
    assert_eq!(got[..], all[..head], "not a prefix of the box's log");
    assert!(
        head < all.len(),
        "writes after the snapshot should be missing"
    );
    for (seq, t, _) in &before {
        let e = &got
            .get(*seq as usize - 1)
            .unwrap_or_else(|| panic!("acknowledged write {seq} ({t}) is missing"));
        match &e.body {
            phonghop::domain::EventBody::NoticePosted { text } => assert_eq!(text.as_str(), t),
            other => panic!("event {seq} is {other:?}"),
        }
    }
    // Marked, so sync can tell a fork from history; the mark names the heads it holds.
    let mark = restored.restored().unwrap().expect("a restore mark");
    assert_eq!(mark.heads.len(), 1);
    assert_eq!(mark.heads[0].seq, head as u64);
    assert!(original.restored().unwrap().is_none());
    let node = restored.node_id().clone();
    assert_eq!(
        &node,
        original.node_id(),
        "the same box, not a new identity"
    );
    drop((original, restored));

    // It serves, with the same root (tablets keep trusting it), the documents and the accounts.
    let root_before = std::fs::read(tb.dir.join("tls/root.pem")).unwrap();
    assert_eq!(
        std::fs::read(target.join("tls/root.pem")).unwrap(),
        root_before
    );
    let out = run(&["doctor", "--data", target.to_str().unwrap()]);
    assert!(
        text(&out).contains("This box was restored on"),
        "{}",
        text(&out)
    );
    let back = TestBox::attach(target.clone(), &[]).await;
    let room = back.get_json("/api/room").await;
    assert!(room["notice"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Thông báo"));
    back.sign_in("thuky", "thuky-demo").await;
}

/// A fresh demo box's backup, taken with the box stopped, and the (stopped) box.
async fn one_backup(tmp: &Path) -> (TestBox, PathBuf) {
    let mut tb = TestBox::start_demo().await;
    assert!(tb.terminate().success());
    let file = tmp.join("good.tar.gz");
    let out = backup(&tb.dir, &file);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("while serving"), "{}", text(&out));
    (tb, file)
}

/// Rewrites an archive entry by entry; `edit` may change a file's bytes (and the manifest).
fn rewrite(src: &Path, dst: &Path, mut edit: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>) {
    use std::io::Read;
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(src).unwrap());
    let mut ar = tar::Archive::new(gz);
    let out = flate2::write::GzEncoder::new(
        std::fs::File::create(dst).unwrap(),
        flate2::Compression::fast(),
    );
    let mut b = tar::Builder::new(out);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes).unwrap();
        let Some(bytes) = edit(&path, bytes) else {
            continue;
        };
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o600);
        b.append_data(&mut h, &path, bytes.as_slice()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap();
}

#[tokio::test]
async fn corrupt_truncated_and_foreign_archives_are_refused_and_leave_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (tb, good) = one_backup(tmp.path()).await;
    let bytes = std::fs::read(&good).unwrap();
    let cases = tmp.path().join("cases");
    std::fs::create_dir(&cases).unwrap();
    let mut bad: Vec<(&str, PathBuf, &str)> = Vec::new();

    let p = cases.join("truncated.tar.gz");
    std::fs::write(&p, &bytes[..bytes.len() * 2 / 3]).unwrap();
    bad.push(("truncated", p, "cắt cụt"));

    // One byte of a document changed, the archive otherwise well formed.
    let p = cases.join("blob-changed.tar.gz");
    rewrite(&good, &p, |path, mut b| {
        if path.starts_with("blobs/") {
            b[100] ^= 0x01;
        }
        Some(b)
    });
    bad.push(("damaged document", p, "does not match its SHA-256"));

    // The store changed (a byte flipped) but the manifest kept.
    let p = cases.join("store-changed.tar.gz");
    rewrite(&good, &p, |path, mut b| {
        if path == "phonghop.redb" {
            let at = b.len() / 2;
            b[at] ^= 0xff;
        }
        Some(b)
    });
    bad.push(("damaged store", p, "bị hỏng"));

    // A document missing from the archive though the manifest lists it.
    let p = cases.join("blob-missing.tar.gz");
    let mut dropped = false;
    rewrite(&good, &p, |path, b| {
        if path.starts_with("blobs/") && !dropped {
            dropped = true;
            return None;
        }
        Some(b)
    });
    bad.push(("missing document", p, "missing"));

    // Made by a newer Phonghop.
    let p = cases.join("newer.tar.gz");
    rewrite(&good, &p, |path, b| {
        if path == "manifest.json" {
            let mut m: serde_json::Value = serde_json::from_slice(&b).unwrap();
            m["schema_version"] = 99.into();
            return Some(serde_json::to_vec(&m).unwrap());
        }
        Some(b)
    });
    bad.push(("newer schema", p, "phiên bản Phonghop mới hơn"));

    // Not a Phonghop backup: a tar.gz of something else, and not even a gzip file.
    let p = cases.join("other.tar.gz");
    rewrite(&good, &p, |path, b| (path != "manifest.json").then_some(b));
    bad.push(("no manifest", p, "không phải bản sao lưu Phonghop"));
    let p = cases.join("notes.txt");
    std::fs::write(&p, "không phải bản sao lưu").unwrap();
    bad.push(("plain text", p, "not a Phonghop backup"));

    for (what, file, says) in &bad {
        // Into a missing directory, and into an empty one.
        let missing = tmp.path().join("target-missing");
        let out = restore(file, &missing);
        assert_eq!(out.status.code(), Some(65), "{what}: {}", text(&out));
        let t = text(&out);
        assert!(t.contains(says), "{what}: {t}");
        assert!(t.contains("Nothing was written"), "{what}: {t}");
        assert!(t.contains("Không có gì được ghi"), "{what}: {t}");
        assert!(!missing.exists(), "{what}: target made");
        let empty = tmp.path().join("target-empty");
        std::fs::create_dir(&empty).unwrap();
        let out = restore(file, &empty);
        assert_eq!(out.status.code(), Some(65), "{what}: {}", text(&out));
        only(&empty, &[]);
        std::fs::remove_dir(&empty).unwrap();
        only(tmp.path(), &["cases", "good.tar.gz"]);
    }

    // A directory with anything in it is never restored into, even from a good backup.
    let full = tmp.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("ghi-chu.txt"), "giữ lại").unwrap();
    let out = restore(&good, &full);
    assert_eq!(out.status.code(), Some(73), "{}", text(&out));
    assert!(text(&out).contains("không trống"), "{}", text(&out));
    only(&full, &["ghi-chu.txt"]);
    // A backup never overwrites an existing file.
    let out = backup(&tb.dir, &good);
    assert_eq!(out.status.code(), Some(73), "{}", text(&out));

    // A box with a damaged document is not backed up half-way: the command names the fix and
    // leaves no file.
    let shard = std::fs::read_dir(tb.dir.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap() != "tmp")
        .unwrap();
    let blob = std::fs::read_dir(&shard)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[10] ^= 0x01;
    std::fs::write(&blob, bytes).unwrap();
    let out = backup(&tb.dir, &tmp.path().join("damaged.tar.gz"));
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    assert!(
        text(&out).contains("phonghop verify --blobs"),
        "{}",
        text(&out)
    );
    only(tmp.path(), &["cases", "full", "good.tar.gz"]);
    // Nor a snapshot left in the data directory (and the socket went with the box).
    only(&tb.dir, &["blobs", "phonghop.redb", "tls"]);

    // The good one restores into an empty directory, and verifies.
    let empty = tmp.path().join("target-empty");
    std::fs::create_dir(&empty).unwrap();
    let out = restore(&good, &empty);
    assert!(out.status.success(), "{}", text(&out));
    let out = run(&["verify", "--data", empty.to_str().unwrap(), "--blobs"]);
    assert!(out.status.success(), "{}", text(&out));
}
