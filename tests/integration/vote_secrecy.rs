//! A secret vote leaves no link from a person to a choice: not in the event log, not in the
//! box's log output, not on a page of the database file, and after the close the choices exist
//! only in the `vote.closed` record, sorted by receipt rather than by arrival.

use crate::vote_crash::{serve_logged, staffed_dir, Crowd};
use crate::votes::receipt;
use phonghop::domain::records::Id;
use phonghop::store::{records, Store};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;

/// redb's page size.
const PAGE: usize = 4096;

fn positions(hay: &[u8], needle: &str) -> Vec<usize> {
    let n = needle.as_bytes();
    hay.windows(n.len())
        .enumerate()
        .filter(|(_, w)| *w == n)
        .map(|(i, _)| i)
        .collect()
}

/// Every event of the log as its stored JSON, with its kind.
fn events(dir: &Path) -> Vec<(String, String)> {
    let store = Store::open(dir).unwrap();
    store
        .events_after(0, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.body.kind().to_owned(),
                String::from_utf8(e.encode().unwrap()).unwrap(),
            )
        })
        .collect()
}

fn secret_rows(dir: &Path, q: &str) -> Vec<(String, Value)> {
    let store = Store::open(dir).unwrap();
    let q = Id::parse(q).unwrap();
    store
        .read(|t| records::secret_choices(t, &q))
        .unwrap()
        .into_iter()
        .map(|(r, m)| (r, serde_json::to_value(m).unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_vote_links_no_person_to_a_choice_anywhere() {
    const N: usize = 8;
    let (tmp, dir) = staffed_dir();
    let logs = tmp.path().to_owned();
    let b = serve_logged(dir.clone(), "debug", &logs.join("box-1.log")).await;
    let mut c = Crowd::on(b, tmp, N).await;
    let candidates: Vec<Value> = (0..N)
        .map(|i| json!({"name": format!("Ứng viên số {}", i + 1)}))
        .collect();
    let (q, nonce) = c
        .open(json!({
            "title": "Bầu Trưởng ban kinh tế - xã hội", "kind": "election", "secrecy": "secret",
            "max_choices": 1, "candidates": candidates, "base": "cast",
        }))
        .await;
    let (_, seen) =
        c.b.call(Method::GET, &c.q(&format!("/{q}")), Some(&c.sec), None)
            .await;
    let cand: Vec<String> = seen["question"]["question"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect();
    // Voters arrive in descending receipt order, so the sorted list is not the arrival order.
    let mut receipts: Vec<String> = (0..N).map(|_| receipt()).collect();
    receipts.sort_by(|a, b| b.cmp(a));
    for i in 0..N {
        let body = c.secret(
            i,
            &q,
            &nonce,
            &receipts[i],
            json!({"candidates": [cand[i]]}),
        );
        let (s, a) =
            c.b.call(
                Method::POST,
                &c.q(&format!("/{q}/ballots")),
                Some(&c.tablets[i].cookie),
                Some(body),
            )
            .await;
        assert_eq!(s, 200, "{a}");
        // The tablet's own view says it took part, and nothing of how.
        let (_, mine) =
            c.b.call(
                Method::GET,
                &c.q(&format!("/{q}")),
                Some(&c.tablets[i].cookie),
                None,
            )
            .await;
        assert_eq!(mine["mine"], json!({"type": "secret"}), "{mine}");
    }
    // What staff read while it is open names no receipt and no choice.
    for cookie in [&c.sec, &c.chair] {
        let (_, list) = c.b.call(Method::GET, &c.q(""), Some(cookie), None).await;
        let text = list.to_string();
        for r in &receipts {
            assert!(!text.contains(r.as_str()));
        }
        assert!(!text.contains("\"candidates\":[\""), "{text}");
    }

    // --- Before the close, with the box stopped: the file, the log, the box's output. ---
    c.b.terminate();
    let db = std::fs::read(dir.join("phonghop.redb")).unwrap();
    let keyed: usize = receipts
        .iter()
        .map(|r| positions(&db, &format!("{q}/{r}")).len())
        .sum();
    eprintln!("before the close: {keyed} secret_choices keys for {N} receipts in the redb file");
    for r in &receipts {
        let at = positions(&db, r);
        assert!(
            !at.is_empty(),
            "the choice is stored (node-locally) while the vote is open"
        );
        for p in at {
            let page = &db[p / PAGE * PAGE..((p / PAGE + 1) * PAGE).min(db.len())];
            for person in &c.people {
                assert!(
                    positions(page, person).is_empty(),
                    "a receipt shares a database page with a person id"
                );
            }
            assert!(positions(page, "vote.participated").is_empty());
        }
    }
    let log = events(&dir);
    let participations: Vec<&(String, String)> = log
        .iter()
        .filter(|(k, _)| k == "vote.participated")
        .collect();
    assert_eq!(participations.len(), N);
    for (kind, text) in &log {
        for r in &receipts {
            assert!(!text.contains(r.as_str()), "{kind} names a receipt: {text}");
        }
        assert!(
            !text.contains("\"candidates\":[\""),
            "{kind} carries a choice: {text}"
        );
        assert!(!text.contains("\"mark\""), "{kind} carries a mark: {text}");
    }
    let rows = secret_rows(&dir, &q);
    assert_eq!(rows.len(), N);

    // --- The close. ---
    c.b = serve_logged(dir.clone(), "debug", &logs.join("box-2.log")).await;
    let closed = c.close(&q).await;
    let out = &closed["question"]["outcome"];
    assert_eq!(out["ballots"], N as u64, "{out}");
    let record = c.record(&q).await;
    let published: Vec<(String, String)> = record["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["receipt"].as_str().unwrap().to_owned(),
                x["mark"]["candidates"][0].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted: Vec<(String, String)> =
        receipts.iter().cloned().zip(cand.iter().cloned()).collect();
    sorted.sort();
    assert_ne!(
        sorted.iter().map(|x| &x.0).collect::<Vec<_>>(),
        receipts.iter().collect::<Vec<_>>(),
        "arrival order must differ from sorted order for this test to mean anything"
    );
    assert_eq!(
        published, sorted,
        "every receipt with its choice, sorted by receipt"
    );
    c.b.terminate();

    // --- After the close: only vote.closed holds receipts; the node-local rows are gone. ---
    let log = events(&dir);
    let with_receipts: Vec<&str> = log
        .iter()
        .filter(|(_, t)| receipts.iter().any(|r| t.contains(r.as_str())))
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(with_receipts, vec!["vote.closed"]);
    let closed_text = &log.iter().find(|(k, _)| k == "vote.closed").unwrap().1;
    let order: Vec<usize> = receipts
        .iter()
        .map(|r| closed_text.find(r.as_str()).unwrap())
        .collect();
    let mut by_position = receipts.clone();
    by_position.sort_by_key(|r| order[receipts.iter().position(|x| x == r).unwrap()]);
    let mut ascending = receipts.clone();
    ascending.sort();
    assert_eq!(
        by_position, ascending,
        "the closed event lists receipts sorted"
    );
    assert!(
        secret_rows(&dir, &q).is_empty(),
        "secret_choices rows dropped at close"
    );

    // What the file still holds: the receipts inside the closed event and the result's read
    // model, and any `<question>/<receipt>` key of the dropped table left on a freed page.
    let db = std::fs::read(dir.join("phonghop.redb")).unwrap();
    let mut stale = 0;
    for r in &receipts {
        let keys = positions(&db, &format!("{q}/{r}"));
        stale += keys.len();
        for p in keys {
            let page = &db[p / PAGE * PAGE..((p / PAGE + 1) * PAGE).min(db.len())];
            for person in &c.people {
                assert!(
                    positions(page, person).is_empty(),
                    "a stale row beside a person id"
                );
            }
        }
    }
    let bare: usize = receipts.iter().map(|r| positions(&db, r).len()).sum();
    eprintln!("after the close: {bare} occurrences of the {N} receipts in the redb file");
    eprintln!(
        "after the close: {stale} stale secret_choices keys of {N} remain on freed pages of the redb file"
    );

    // The box's own output, through both runs at debug level, names no receipt and no choice.
    for name in ["box-1.log", "box-2.log"] {
        let text = std::fs::read_to_string(logs.join(name)).unwrap();
        eprintln!("{name}: {} lines", text.lines().count());
        assert!(!text.is_empty() || name == "box-2.log");
        for r in &receipts {
            assert!(!text.contains(r.as_str()), "{name} names a receipt");
        }
        for id in &cand {
            assert!(
                !text.contains(id.as_str()),
                "{name} names a candidate: {text}"
            );
        }
        assert!(!text.contains("\"candidates\""), "{name}");
    }
}
