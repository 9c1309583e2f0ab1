//! Votes against races and crashes: ballots racing the close, and `kill -9` in the middle of
//! 200 ballots sent at once. Every acknowledged ballot is in the signed record, each counted
//! once, and a ballot resent after the restart (same id, same receipt) is counted once.

use crate::helpers::*;
use crate::tablets::{Tablet, CHAIR_PW, SECRETARY_PW};
use crate::vote_security::{client_from, try_post};
use crate::votes::{hex32, receipt};
use base64::Engine;
use futures_util::future::join_all;
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A member's ballot and what came back: a status and body, or no answer at all.
pub(crate) type Answer = (usize, Result<(u16, Value), String>);

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A data directory with the secretary and chair accounts, not yet served.
pub(crate) fn staffed_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    init_dir(&dir);
    for (user, name, role, pw) in [
        ("thuky", "Trần Thị Thu", "secretary", SECRETARY_PW),
        ("chutri", "Nguyễn Văn Minh", "chair", CHAIR_PW),
    ] {
        let out = phonghop(&[
            "admin",
            "create",
            "--data",
            dir.to_str().unwrap(),
            "--username",
            user,
            "--name",
            name,
            "--role",
            role,
            "--password",
            pw,
        ]);
        assert!(out.status.success());
    }
    (tmp, dir)
}

/// Starts `serve` on `dir` with `RUST_LOG=<filter>`, its log going to `log`.
pub(crate) async fn serve_logged(dir: PathBuf, filter: &str, log: &std::path::Path) -> TestBox {
    let _ = std::fs::remove_file(dir.join("serving.json"));
    let out = std::fs::File::create(log).unwrap();
    let child = Command::new(bin())
        .args([
            "serve",
            "--data",
            dir.to_str().unwrap(),
            "--mdns",
            "off",
            "--https-port",
            "0",
            "--http-port",
            "0",
        ])
        .env("RUST_LOG", filter)
        .stdout(Stdio::null())
        .stderr(out)
        .spawn()
        .unwrap();
    TestBox::from_child(dir, child).await
}

/// A published meeting of `n` members, each with a paired, checked-in tablet that talks from
/// its own loopback address; the chair's account has started it.
pub(crate) struct Crowd {
    pub b: TestBox,
    pub _tmp: tempfile::TempDir,
    pub sec: String,
    pub chair: String,
    pub meeting: String,
    pub item: String,
    pub node: String,
    pub people: Vec<String>,
    pub tablets: Vec<Tablet>,
    pub clients: Vec<Client>,
}

impl Crowd {
    pub(crate) async fn new(n: usize) -> Crowd {
        let (tmp, dir) = staffed_dir();
        let b = TestBox::attach(dir, &[]).await;
        Crowd::on(b, tmp, n).await
    }

    pub(crate) async fn on(b: TestBox, tmp: tempfile::TempDir, n: usize) -> Crowd {
        let sec = b.sign_in("thuky", SECRETARY_PW).await;
        let chair = b.sign_in("chutri", CHAIR_PW).await;
        let mut people = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(16) {
            let names: Vec<String> = chunk
                .iter()
                .map(|i| format!("Đại biểu Số {}", i + 1))
                .collect();
            let adds = names.iter().map(|n| b.add_person(&sec, n, ""));
            people.extend(join_all(adds).await);
        }
        let meeting = b.meeting_with_items(&sec, &people).await;
        let (meeting, item) = meeting;
        let node = b.get_json("/api/room").await["node_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let clients: Vec<Client> = (0..n).map(|i| client_from(&b, 300 + i)).collect();
        let mut tablets = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(4) {
            let pairs = chunk
                .iter()
                .map(|i| pair_from(&b, &clients[*i], &sec, &node, &people[*i], &meeting));
            tablets.extend(join_all(pairs).await);
        }
        let (s, v) = b
            .call(
                Method::POST,
                &format!("/api/meetings/{meeting}/live/start"),
                Some(&chair),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        Crowd {
            b,
            _tmp: tmp,
            sec,
            chair,
            meeting,
            item,
            node,
            people,
            tablets,
            clients,
        }
    }

    pub(crate) fn q(&self, tail: &str) -> String {
        format!("/api/meetings/{}/questions{tail}", self.meeting)
    }

    /// Prepares a question (`extra` overrides) and opens it; returns (id, nonce).
    pub(crate) async fn open(&self, extra: Value) -> (String, String) {
        let mut body = json!({"item_id": self.item, "title": "Thông qua nghị quyết"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, q) = self
            .b
            .call(Method::POST, &self.q(""), Some(&self.sec), Some(body))
            .await;
        assert_eq!(s, 201, "{q}");
        let qid = q["question"]["question"]["id"].as_str().unwrap().to_owned();
        let (s, o) = self
            .b
            .call(
                Method::POST,
                &self.q(&format!("/{qid}/open")),
                Some(&self.chair),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 200, "{o}");
        (qid, o["question"]["nonce"].as_str().unwrap().to_owned())
    }

    /// Member `i`'s signed named ballot.
    pub(crate) fn named(&self, i: usize, q: &str, nonce: &str, id: &str, choice: &str) -> Value {
        let text = format!(
            "phonghop-ballot/1|{}|{}|{q}|{nonce}|{id}|{choice}",
            self.node, self.meeting
        );
        json!({"ballot_id": id, "mark": {"choice": choice}, "signature": self.tablets[i].sign(&text)})
    }

    /// Member `i`'s secret ballot: the signed participation and the mark under `receipt`.
    pub(crate) fn secret(
        &self,
        i: usize,
        q: &str,
        nonce: &str,
        receipt: &str,
        mark: Value,
    ) -> Value {
        let text = format!(
            "phonghop-participation/1|{}|{}|{q}|{nonce}|{}",
            self.node, self.meeting, self.people[i]
        );
        json!({"receipt": receipt, "mark": mark, "signature": self.tablets[i].sign(&text)})
    }

    pub(crate) async fn close(&self, q: &str) -> Value {
        let (s, v) = self
            .b
            .call(
                Method::POST,
                &self.q(&format!("/{q}/close")),
                Some(&self.chair),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }

    pub(crate) async fn record(&self, q: &str) -> Value {
        let (s, v) = self
            .b
            .call(
                Method::GET,
                &self.q(&format!("/{q}/result")),
                Some(&self.chair),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["record"].clone()
    }

    /// Sends every `(member, body)` at once, each from the member's own address.
    pub(crate) fn fire(
        &self,
        q: &str,
        bodies: Vec<(usize, Value)>,
        acked: Arc<AtomicUsize>,
    ) -> Vec<tokio::task::JoinHandle<Answer>> {
        let url = self.b.url(&self.q(&format!("/{q}/ballots")));
        bodies
            .into_iter()
            .map(|(i, body)| {
                let (client, url, origin, cookie, acked) = (
                    self.clients[i].clone(),
                    url.clone(),
                    self.b.origin(),
                    self.tablets[i].cookie.clone(),
                    acked.clone(),
                );
                tokio::spawn(async move {
                    let a = try_post(&client, &url, &origin, &cookie, &body).await;
                    if matches!(a, Ok((200, _))) {
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    (i, a)
                })
            })
            .collect()
    }
}

impl TestBox {
    /// A UBND body of `members`, a meeting with one item, published; (meeting, item).
    async fn meeting_with_items(&self, sec: &str, members: &[String]) -> (String, String) {
        let (s, body) = self
            .call(
                Method::POST,
                "/api/bodies",
                Some(sec),
                Some(json!({"name": "HĐND xã Tân Phú", "kind": "hdnd"})),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        let bid = body["id"].as_str().unwrap();
        let (s, v) = self
            .call(
                Method::PUT,
                &format!("/api/bodies/{bid}/members"),
                Some(sec),
                Some(json!({"members": members})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let (s, m) = self
            .call(
                Method::POST,
                "/api/meetings",
                Some(sec),
                Some(json!({"body_id": bid, "title": "Kỳ họp HĐND xã", "starts_at": "2026-12-01T01:00:00Z"})),
            )
            .await;
        assert_eq!(s, 201, "{m}");
        let id = m["id"].as_str().unwrap().to_owned();
        let item = self.add_item(sec, &id, "Nghị quyết dự toán").await;
        self.publish(sec, &id).await;
        (id, item)
    }
}

/// Pairs a tablet for `person` from `client`'s address and checks it in.
async fn pair_from(
    b: &TestBox,
    client: &Client,
    sec: &str,
    node: &str,
    person: &str,
    meeting: &str,
) -> Tablet {
    let code = b.pairing_code(sec, person).await;
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let sig: Signature = key.sign(format!("phonghop-pair:{node}:{code}").as_bytes());
    let body = json!({
        "code": code, "pin": "2580", "label": "Máy tính bảng",
        "public_key": b64(key.verifying_key().to_encoded_point(false).as_bytes()),
        "signature": b64(&sig.to_bytes()),
    });
    for _ in 0..100 {
        let r = client
            .post(b.url("/api/devices/pair"))
            .header("origin", b.origin())
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let cookie = r
            .headers()
            .get("set-cookie")
            .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
        let v: Value = r.json().await.unwrap_or_default();
        if status == StatusCode::CREATED {
            let t = Tablet {
                cookie: cookie.unwrap(),
                device_id: v["device"]["id"].as_str().unwrap().to_owned(),
                key,
            };
            let (s, c) = b.check_in(&t, meeting).await;
            assert_eq!(s, 200, "{c}");
            return t;
        }
        // The PIN hashing gate is full: come back in a moment, as the web app does.
        assert!(
            status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE,
            "pairing: {status} {v}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("pairing never got through");
}

/// Sorts answers: member → ballot accepted, and the refusals by code.
fn sort_answers(answers: Vec<Answer>) -> (BTreeSet<usize>, BTreeMap<String, usize>) {
    let mut ok = BTreeSet::new();
    let mut other = BTreeMap::new();
    for (i, a) in answers {
        match a {
            Ok((200, _)) => {
                ok.insert(i);
            }
            Ok((s, v)) => {
                *other
                    .entry(format!("{s} {}", v["code"].as_str().unwrap_or("")))
                    .or_default() += 1
            }
            Err(_) => *other.entry("no answer".to_owned()).or_default() += 1,
        }
    }
    (ok, other)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ballots_racing_the_close_are_counted_or_refused_never_both_never_lost() {
    let c = Crowd::new(40).await;
    for round in 0..2 {
        let (q, nonce) = c
            .open(json!({"title": format!("Biểu quyết lần {}", round + 1)}))
            .await;
        let ids: Vec<String> = (0..40).map(|_| hex32()).collect();
        let bodies: Vec<(usize, Value)> = (0..40)
            .map(|i| (i, c.named(i, &q, &nonce, &ids[i], "approve")))
            .collect();
        let acked = Arc::new(AtomicUsize::new(0));
        // Half are sent, then the rest go out together with the close.
        let (first, second) = bodies.split_at(20);
        let early = c.fire(&q, first.to_vec(), acked.clone());
        let start = Instant::now();
        while acked.load(Ordering::SeqCst) < 5 && start.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let late = c.fire(&q, second.to_vec(), acked.clone());
        let closed = c.close(&q).await;
        let mut answers = Vec::new();
        for h in early.into_iter().chain(late) {
            answers.push(h.await.unwrap());
        }
        let (ok, other) = sort_answers(answers);
        for k in other.keys() {
            assert_eq!(k, "409 vote.closed", "only counted or closed: {other:?}");
        }
        assert_eq!(ok.len() + other.values().sum::<usize>(), 40);
        let record = c.record(&q).await;
        let recorded: BTreeSet<String> = record["ballots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["id"].as_str().unwrap().to_owned())
            .collect();
        let acknowledged: BTreeSet<String> = ok.iter().map(|i| ids[*i].clone()).collect();
        assert_eq!(
            recorded, acknowledged,
            "the record holds exactly the acknowledged ballots"
        );
        assert_eq!(closed["question"]["cast"], ok.len() as u64);
        eprintln!(
            "round {round}: {} counted, {:?} refused, close answered after {:?}",
            ok.len(),
            other,
            start.elapsed()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_200_ballots_loses_no_acknowledged_ballot_and_counts_retries_once() {
    const N: usize = 200;
    let t0 = Instant::now();
    let mut c = Crowd::new(N).await;
    eprintln!("{N} members paired and checked in in {:?}", t0.elapsed());

    // --- A named vote. ---
    let (q, nonce) = c.open(json!({})).await;
    let ids: Vec<String> = (0..N).map(|_| hex32()).collect();
    let bodies: Vec<(usize, Value)> = (0..N)
        .map(|i| {
            (
                i,
                c.named(
                    i,
                    &q,
                    &nonce,
                    &ids[i],
                    if i % 3 == 0 { "disapprove" } else { "approve" },
                ),
            )
        })
        .collect();
    let acked_before = crash_during(&mut c, &q, bodies.clone()).await;
    // Every tablet sends its ballot again (same id) after the restart, twice.
    for pass in 0..2 {
        let answers = join_all(c.fire(&q, bodies.clone(), Arc::new(AtomicUsize::new(0)))).await;
        let (ok, other) = sort_answers(answers.into_iter().map(|a| a.unwrap()).collect());
        assert_eq!(
            (ok.len(), &other),
            (N, &BTreeMap::new()),
            "resend pass {pass}"
        );
    }
    let closed = c.close(&q).await;
    assert_eq!(closed["question"]["cast"], N as u64);
    let record = c.record(&q).await;
    let recorded: BTreeMap<String, String> = record["ballots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["person_id"].as_str().unwrap().to_owned(),
                b["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(record["ballots"].as_array().unwrap().len(), N, "each once");
    for (person, id) in c.people.iter().zip(&ids) {
        assert_eq!(recorded.get(person), Some(id), "{person}");
    }
    for i in &acked_before {
        assert_eq!(recorded[&c.people[*i]], ids[*i]);
    }
    let disapprove = (0..N).filter(|i| i % 3 == 0).count() as u64;
    assert_eq!(
        closed["question"]["outcome"]["counts"],
        json!({"approve": N as u64 - disapprove, "disapprove": disapprove, "abstain": 0})
    );

    // --- A secret vote: every acknowledged receipt is in the closed record. ---
    let (q, nonce) = c
        .open(json!({"secrecy": "secret", "title": "Bỏ phiếu kín"}))
        .await;
    let receipts: Vec<String> = (0..N).map(|_| receipt()).collect();
    let bodies: Vec<(usize, Value)> = (0..N)
        .map(|i| {
            (
                i,
                c.secret(i, &q, &nonce, &receipts[i], json!({"choice": "approve"})),
            )
        })
        .collect();
    let acked_before = crash_during(&mut c, &q, bodies.clone()).await;
    let answers = join_all(c.fire(&q, bodies.clone(), Arc::new(AtomicUsize::new(0)))).await;
    let (ok, other) = sort_answers(answers.into_iter().map(|a| a.unwrap()).collect());
    assert_eq!((ok.len(), &other), (N, &BTreeMap::new()), "resent receipts");
    let closed = c.close(&q).await;
    assert_eq!(
        closed["question"]["outcome"]["counts"],
        json!({"approve": N, "disapprove": 0, "abstain": 0})
    );
    let record = c.record(&q).await;
    let published: BTreeSet<String> = record["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["receipt"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(published, receipts.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(record["participations"].as_array().unwrap().len(), N);
    for i in &acked_before {
        assert!(published.contains(&receipts[*i]));
    }
    // The log's hash chain is whole after two hard kills.
    c.b.terminate();
    let out = phonghop(&["verify", "--data", c.b.dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fires every ballot at once, kills the box hard once some are acknowledged, restarts it on the
/// same directory and returns the members whose ballot was acknowledged before the kill.
async fn crash_during(c: &mut Crowd, q: &str, bodies: Vec<(usize, Value)>) -> BTreeSet<usize> {
    let n = bodies.len();
    let acked = Arc::new(AtomicUsize::new(0));
    let sends = c.fire(q, bodies, acked.clone());
    let start = Instant::now();
    while acked.load(Ordering::SeqCst) < n / 4 && start.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    c.b.kill_hard();
    let answers: Vec<_> = join_all(sends)
        .await
        .into_iter()
        .map(|a| a.unwrap())
        .collect();
    let (ok, other) = sort_answers(answers);
    eprintln!(
        "killed after {:?}: {} acknowledged, {:?}",
        start.elapsed(),
        ok.len(),
        other
    );
    assert!(
        ok.len() >= n / 4 && ok.len() < n,
        "the kill fell mid-way: {}",
        ok.len()
    );
    for k in other.keys() {
        assert_eq!(k, "no answer", "{other:?}");
    }
    c.b.restart().await;
    // After the restart, the question is still open and counts at least what was acknowledged.
    let (s, v) =
        c.b.call(Method::GET, &c.q(&format!("/{q}")), Some(&c.sec), None)
            .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["question"]["status"], "open");
    let cast = v["question"]["cast"].as_u64().unwrap() as usize;
    assert!(
        cast >= ok.len(),
        "{cast} counted < {} acknowledged",
        ok.len()
    );
    eprintln!("after the restart: {cast} counted");
    ok
}
