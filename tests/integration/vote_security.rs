//! Voting under attack (issue 10): every refusal the design names, each answered with its
//! status and code and leaving nothing counted (the question's `cast` and the log's head are
//! unchanged); and the same ballot fired many times at once, from many addresses, is counted
//! once.

use crate::live::Room;
use crate::tablets::Tablet;
use crate::votes::{canonical, Vote};
pub(crate) use crate::votes::{hex32, receipt};
use futures_util::future::join_all;
use p256::ecdsa::SigningKey;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

fn approve() -> Value {
    json!({"choice": "approve"})
}
fn disapprove() -> Value {
    json!({"choice": "disapprove"})
}

/// The text a tablet signs for a named ballot.
pub(crate) fn ballot_text(v: &Vote<'_>, nonce: &str, ballot: &str, mark: &Value) -> String {
    format!(
        "phonghop-ballot/1|{}|{}|{}|{}|{}|{}",
        v.node,
        v.r.meeting,
        v.question,
        nonce,
        ballot,
        canonical(mark)
    )
}

/// A signed named ballot's body, signed by `t`.
async fn named_body(v: &Vote<'_>, t: &Tablet, ballot: &str, mark: Value) -> Value {
    let text = ballot_text(v, &v.nonce().await, ballot, &mark);
    json!({"ballot_id": ballot, "mark": mark, "signature": t.sign(&text)})
}

/// (the log's head, the question's `cast`), as the secretary sees them.
async fn counted(v: &Vote<'_>) -> (u64, u64) {
    let head = v.r.b.get_json("/api/room").await["head_seq"]
        .as_u64()
        .unwrap();
    let (s, q) =
        v.r.q(&v.r.sec, Method::GET, &format!("/{}", v.question), None)
            .await;
    assert_eq!(s, 200, "{q}");
    (head, q["question"]["cast"].as_u64().unwrap())
}

/// Sends `body` to the question's ballots with `cookie`.
async fn post_ballot(v: &Vote<'_>, cookie: &str, body: Value) -> (StatusCode, Value) {
    v.r.b
        .call(
            Method::POST,
            &format!(
                "/api/meetings/{}/questions/{}/ballots",
                v.r.meeting, v.question
            ),
            Some(cookie),
            Some(body),
        )
        .await
}

/// Asserts the answer's status and code, and that nothing was written or counted.
async fn refused(
    v: &Vote<'_>,
    what: &str,
    want: (u16, &str),
    send: impl std::future::Future<Output = (StatusCode, Value)>,
) {
    let before = counted(v).await;
    let (s, e) = send.await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str().unwrap_or("")),
        want,
        "{what}: {e}"
    );
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: a Vietnamese message: {e}"
    );
    assert_eq!(counted(v).await, before, "{what}: nothing may be counted");
}

/// A question prepared by the secretary on the first item; returns its id.
async fn prepare(r: &Room, extra: Value) -> String {
    let mut body = json!({"item_id": r.items[0], "title": "Thông qua dự toán ngân sách"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, q) = r.q(&r.sec, Method::POST, "", Some(body)).await;
    assert_eq!(s, 201, "{q}");
    q["question"]["question"]["id"].as_str().unwrap().to_owned()
}

async fn attendance(r: &Room, tag: &str, status: &str) {
    let (s, v) =
        r.b.call(
            Method::PUT,
            &format!("/api/meetings/{}/attendance/{}", r.meeting, r.person(tag)),
            Some(&r.sec),
            Some(json!({"status": status})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
}

async fn live(r: &Room, cookie: &str, path: &str, body: Value) -> (StatusCode, Value) {
    r.b.call(
        Method::POST,
        &format!("/api/meetings/{}/live{path}", r.meeting),
        Some(cookie),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn every_refused_ballot_and_command_has_its_code_and_counts_nothing() {
    let mut r = Room::new().await;
    // A's second tablet, revoked by the secretary; B's second tablet, still paired.
    let a2 = r.b.pair_tablet(&r.sec, &r.person("A"), "2580").await;
    let b2 = r.b.pair_tablet(&r.sec, &r.person("B"), "3691").await;
    let (s, _) =
        r.b.call(
            Method::DELETE,
            &format!("/api/devices/{}", a2.device_id),
            Some(&r.sec),
            None,
        )
        .await;
    assert_eq!(s, 204);
    r.tablets.push(("A2", a2));
    r.tablets.push(("B2", b2));
    let display = crate::displays::pair_display(&r.b, &r.sec, "Máy chiếu hội trường").await;
    let admin = r.b.admin().await;
    let r = r;

    let v = r.open_vote(json!({})).await;
    let q2 = prepare(&r, json!({})).await;
    let q3 = prepare(&r, json!({"title": "Chưa mở"})).await;

    // --- Forged signatures. ---
    let ballot = hex32();
    let nonce = v.nonce().await;
    let text = ballot_text(&v, &nonce, &ballot, &approve());
    let stranger = Tablet {
        cookie: String::new(),
        device_id: String::new(),
        key: SigningKey::random(&mut rand::rngs::OsRng),
    };
    let a = r.tab("A");
    refused(
        &v,
        "signed by another key",
        (403, "vote.bad_signature"),
        post_ballot(
            &v,
            &a.cookie,
            json!({"ballot_id": ballot, "mark": approve(), "signature": stranger.sign(&text)}),
        ),
    )
    .await;
    let other_mark = ballot_text(&v, &nonce, &ballot, &disapprove());
    refused(
        &v,
        "a valid signature over another mark",
        (403, "vote.bad_signature"),
        post_ballot(
            &v,
            &a.cookie,
            json!({"ballot_id": ballot, "mark": approve(), "signature": a.sign(&other_mark)}),
        ),
    )
    .await;
    let other_ballot = ballot_text(&v, &nonce, &hex32(), &approve());
    refused(
        &v,
        "a valid signature over another ballot id",
        (403, "vote.bad_signature"),
        post_ballot(
            &v,
            &a.cookie,
            json!({"ballot_id": ballot, "mark": approve(), "signature": a.sign(&other_ballot)}),
        ),
    )
    .await;
    for garbage in ["%%%not base64%%%", "", "AAAA", &"A".repeat(4000)] {
        refused(
            &v,
            &format!("garbage signature {:?}", &garbage[..garbage.len().min(20)]),
            (403, "vote.bad_signature"),
            post_ballot(
                &v,
                &a.cookie,
                json!({"ballot_id": ballot, "mark": approve(), "signature": garbage}),
            ),
        )
        .await;
    }
    // A named ballot must carry a ballot id, and no receipt.
    refused(
        &v,
        "a receipt on a named vote",
        (422, "vote.bad_receipt"),
        post_ballot(
            &v,
            &a.cookie,
            json!({"receipt": crate::vote_security::receipt(), "mark": approve(), "signature": a.sign(&text)}),
        ),
    )
    .await;

    // --- A revoked tablet: its own key and a correct signature, and still refused. ---
    let a2 = r.tab("A2");
    let body = named_body(&v, a2, &hex32(), approve()).await;
    refused(
        &v,
        "a revoked tablet",
        (401, "device.revoked"),
        post_ballot(&v, &a2.cookie, body),
    )
    .await;

    // --- One person, one ballot. ---
    let (s, ok) = v.named("A", &ballot, approve()).await;
    assert_eq!((s, &ok["cast"]), (StatusCode::OK, &json!(1)), "{ok}");
    let a_q1_body = named_body(&v, r.tab("A"), &ballot, approve()).await;
    let body = named_body(&v, r.tab("A"), &hex32(), disapprove()).await;
    refused(
        &v,
        "A's second ballot",
        (409, "vote.already_voted"),
        post_ballot(&v, &r.tablet("A"), body),
    )
    .await;
    // The same ballot id with another mark is not a retry.
    let body = named_body(&v, r.tab("A"), &ballot, disapprove()).await;
    refused(
        &v,
        "A's ballot id with another mark",
        (409, "vote.already_voted"),
        post_ballot(&v, &r.tablet("A"), body),
    )
    .await;
    assert_eq!(v.named("B", &hex32(), approve()).await.0, 200);
    let b2 = r.tab("B2");
    let body = named_body(&v, b2, &hex32(), disapprove()).await;
    refused(
        &v,
        "B's second ballot from B's second tablet",
        (409, "vote.already_voted"),
        post_ballot(&v, &b2.cookie, body),
    )
    .await;
    // B's first tablet's ballot, sent from the second: the signature is not this device's.
    let body = named_body(&v, r.tab("B"), &hex32(), approve()).await;
    refused(
        &v,
        "B's ballot signed by B's first tablet, sent with the second's cookie",
        (403, "vote.bad_signature"),
        post_ballot(&v, &b2.cookie, body),
    )
    .await;

    // --- Who may not vote at all. ---
    let body = named_body(&v, r.tab("G"), &hex32(), approve()).await;
    refused(
        &v,
        "a guest",
        (403, "vote.not_member"),
        post_ballot(&v, &r.tablet("G"), body),
    )
    .await;
    let body = named_body(&v, r.tab("O"), &hex32(), approve()).await;
    refused(
        &v,
        "an outsider",
        (404, "not_found"),
        post_ballot(&v, &r.tablet("O"), body),
    )
    .await;
    attendance(&r, "D", "absent").await;
    let body = named_body(&v, r.tab("D"), &hex32(), approve()).await;
    refused(
        &v,
        "a member not in the room",
        (409, "vote.not_present"),
        post_ballot(&v, &r.tablet("D"), body),
    )
    .await;
    let body = named_body(&v, r.tab("D"), &hex32(), approve()).await;
    for (who, cookie, want) in [
        ("the secretary", r.sec.as_str(), (403, "vote.not_member")),
        (
            "the chair's account",
            r.chair.as_str(),
            (403, "vote.not_member"),
        ),
        ("the IT admin", admin.as_str(), (403, "auth.forbidden")),
        ("the projector", display.as_str(), (403, "auth.forbidden")),
    ] {
        refused(&v, who, want, post_ballot(&v, cookie, body.clone())).await;
    }
    refused(
        &v,
        "an election mark on a motion",
        (422, "vote.bad_mark"),
        post_ballot(
            &v,
            &r.tablet("C"),
            json!({"ballot_id": hex32(), "mark": {"candidates": []}, "signature": "AAAA"}),
        ),
    )
    .await;

    // --- Commands a delegate (and a guest) may not give; the chair's tablet may. ---
    let qpath = |q: &str, tail: &str| format!("/{q}{tail}");
    for cookie in [r.tablet("A"), r.tablet("G")] {
        for (m, path, body) in [
            (
                Method::POST,
                String::new(),
                Some(json!({"item_id": r.items[0], "title": "Câu hỏi của đại biểu"})),
            ),
            (
                Method::PUT,
                qpath(&q3, ""),
                Some(json!({"item_id": r.items[0], "title": "Sửa"})),
            ),
            (Method::DELETE, qpath(&q3, ""), None),
            (Method::POST, qpath(&q2, "/open"), Some(json!({}))),
            (Method::POST, qpath(&v.question, "/close"), Some(json!({}))),
            (
                Method::POST,
                qpath(&v.question, "/manual"),
                Some(
                    json!({"counts": {"approve": 4, "disapprove": 0, "abstain": 0}, "reason": "Máy hỏng"}),
                ),
            ),
        ] {
            refused(
                &v,
                &format!("a delegate's {m} {path}"),
                (403, "auth.forbidden"),
                r.q(&cookie, m.clone(), &path, body),
            )
            .await;
        }
    }
    // The secretary prepares but does not run the console unless it is handed over.
    refused(
        &v,
        "the secretary closing",
        (403, "auth.forbidden"),
        r.q(
            &r.sec,
            Method::POST,
            &qpath(&v.question, "/close"),
            Some(json!({})),
        ),
    )
    .await;
    refused(
        &v,
        "a second vote while one is open",
        (409, "vote.another_open"),
        r.q(
            &r.chair,
            Method::POST,
            &qpath(&q2, "/open"),
            Some(json!({})),
        ),
    )
    .await;
    // A draft takes no ballot.
    let draft = Vote {
        r: &r,
        node: v.node.clone(),
        question: q3.clone(),
    };
    refused(
        &draft,
        "a ballot before opening",
        (409, "vote.not_open"),
        post_ballot(
            &draft,
            &r.tablet("C"),
            json!({"ballot_id": hex32(), "mark": approve(), "signature": "AAAA"}),
        ),
    )
    .await;

    v.close().await;
    refused(
        &v,
        "A's counted ballot again after the close",
        (409, "vote.closed"),
        post_ballot(&v, &r.tablet("A"), a_q1_body.clone()),
    )
    .await;
    let body = named_body(&v, r.tab("C"), &hex32(), approve()).await;
    refused(
        &v,
        "a ballot after the close",
        (409, "vote.closed"),
        post_ballot(&v, &r.tablet("C"), body),
    )
    .await;

    // --- Opening needs the quorum and a running meeting; the console can be handed over. ---
    let v2 = Vote {
        r: &r,
        node: v.node.clone(),
        question: q2.clone(),
    };
    attendance(&r, "A", "absent").await;
    attendance(&r, "B", "absent").await;
    refused(
        &v2,
        "opening without the quorum",
        (409, "vote.no_quorum"),
        r.q(
            &r.chair,
            Method::POST,
            &qpath(&q2, "/open"),
            Some(json!({})),
        ),
    )
    .await;
    for t in ["A", "B", "D"] {
        attendance(&r, t, "present").await;
    }
    let (s, p) = live(&r, &r.chair, "/pause", json!({"reason": "Nghỉ giải lao"})).await;
    assert_eq!(s, 200, "{p}");
    refused(
        &v2,
        "opening during a recess",
        (409, "vote.meeting_not_running"),
        r.q(
            &r.chair,
            Method::POST,
            &qpath(&q2, "/open"),
            Some(json!({})),
        ),
    )
    .await;
    let (s, p) = live(&r, &r.chair, "/resume", json!({})).await;
    assert_eq!(s, 200, "{p}");
    refused(
        &v2,
        "the secretary opening without the console",
        (403, "auth.forbidden"),
        r.q(&r.sec, Method::POST, &qpath(&q2, "/open"), Some(json!({}))),
    )
    .await;
    let (s, p) =
        r.b.call(
            Method::PUT,
            &format!("/api/meetings/{}/live/operator", r.meeting),
            Some(&r.chair),
            Some(json!({"username": "thuky"})),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let (s, o) = r
        .q(&r.sec, Method::POST, &qpath(&q2, "/open"), Some(json!({})))
        .await;
    assert_eq!(s, 200, "the secretary with the console opens: {o}");

    // --- A valid ballot for question 1 replayed into question 2. ---
    refused(
        &v2,
        "A's question-1 ballot replayed into question 2",
        (403, "vote.bad_signature"),
        post_ballot(&v2, &r.tablet("A"), a_q1_body),
    )
    .await;
    let (s, c) = r
        .q(&r.sec, Method::POST, &qpath(&q2, "/close"), Some(json!({})))
        .await;
    assert_eq!(s, 200, "the secretary with the console closes: {c}");
    assert_eq!(c["question"]["cast"], 0);
}

#[tokio::test]
async fn a_changeable_vote_keeps_the_last_ballot_and_counts_the_person_once() {
    let r = Room::new().await;
    let v = r.open_vote(json!({"changeable": true})).await;
    let (first, second) = (hex32(), hex32());
    let (s, a) = v.named("A", &first, approve()).await;
    assert_eq!((s.as_u16(), &a["cast"]), (200, &json!(1)), "{a}");
    let (s, a) = v.named("A", &second, disapprove()).await;
    assert_eq!((s.as_u16(), &a["cast"]), (200, &json!(1)), "{a}");
    assert_eq!(a["ballot_id"], second.as_str());
    let (_, mine) = r
        .q(
            &r.tablet("A"),
            Method::GET,
            &format!("/{}", v.question),
            None,
        )
        .await;
    assert_eq!(mine["mine"]["ballot_id"], second.as_str(), "{mine}");
    assert_eq!(mine["mine"]["mark"], disapprove());
    assert_eq!(v.named("B", &hex32(), approve()).await.0, 200);
    let closed = v.close().await;
    assert_eq!(
        closed["question"]["outcome"]["counts"],
        json!({"approve": 1, "disapprove": 1, "abstain": 0})
    );
    let (_, res) = v.result(&r.chair).await;
    let a_ballots: Vec<&Value> = res["record"]["ballots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["person_id"] == r.person("A").as_str())
        .collect();
    assert_eq!(a_ballots.len(), 1, "A once in the record: {res}");
    assert_eq!(a_ballots[0]["id"], second.as_str());
    assert_eq!(a_ballots[0]["mark"], disapprove());
}

#[tokio::test]
async fn bad_election_marks_are_refused_before_anything_is_counted() {
    let r = Room::new().await;
    let v = r
        .open_vote(json!({
            "kind": "election", "title": "Bầu Phó Chủ tịch UBND xã", "max_choices": 2,
            "candidates": [{"name": "Lê Văn An"}, {"name": "Phạm Thị Bình"}, {"name": "Hoàng Văn Dũng"}],
        }))
        .await;
    let (_, q) = r
        .q(&r.sec, Method::GET, &format!("/{}", v.question), None)
        .await;
    let c: Vec<String> = q["question"]["question"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    for (what, mark) in [
        (
            "too many candidates",
            json!({"candidates": [c[0], c[1], c[2]]}),
        ),
        ("a candidate twice", json!({"candidates": [c[0], c[0]]})),
        ("an unknown candidate", json!({"candidates": [hex32()]})),
        ("a motion's mark", approve()),
    ] {
        // Signed correctly, so only the mark is wrong.
        let body = named_body(&v, r.tab("A"), &hex32(), mark).await;
        refused(
            &v,
            what,
            (422, "vote.bad_mark"),
            post_ballot(&v, &r.tablet("A"), body),
        )
        .await;
    }
    let (s, a) = v
        .named("A", &hex32(), json!({"candidates": [c[2], c[0]]}))
        .await;
    assert_eq!(s, 200, "{a}");
    let (s, a) = v.named("B", &hex32(), json!({"candidates": []})).await;
    assert_eq!(s, 200, "a blank ballot: {a}");
    let closed = v.close().await;
    let out = &closed["question"]["outcome"];
    assert_eq!(out["ballots"], 2, "{out}");
    assert_eq!(out["blank"], 1, "{out}");
}

// ---------------------------------------------------------------------------------------------
// Many at once.

/// 127.0.9.n: another loopback source address for each tablet (as hostile.rs does).
pub(crate) fn client_from(b: &crate::helpers::TestBox, n: usize) -> Client {
    let from = IpAddr::V4(Ipv4Addr::new(
        127,
        0,
        9 + (n / 250) as u8,
        (2 + n % 250) as u8,
    ));
    crate::displays::client_from(b, from)
}

/// One POST with a cookie from `client`; a transport error is an answer too.
pub(crate) async fn try_post(
    client: &Client,
    url: &str,
    origin: &str,
    cookie: &str,
    body: &Value,
) -> Result<(u16, Value), String> {
    let r = client
        .post(url)
        .header("origin", origin)
        .header("cookie", cookie)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let s = r.status().as_u16();
    let text = r.text().await.map_err(|e| e.to_string())?;
    Ok((
        s,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_ballot_fired_twenty_times_at_once_from_four_tablets_counts_four() {
    let r = Room::new().await;
    let v = r.open_vote(json!({})).await;
    let url = r.b.url(&format!(
        "/api/meetings/{}/questions/{}/ballots",
        r.meeting, v.question
    ));
    let mut sends = Vec::new();
    let mut ballots = BTreeMap::new();
    for (n, tag) in ["A", "B", "C", "D"].into_iter().enumerate() {
        let id = hex32();
        let body = named_body(&v, r.tab(tag), &id, approve()).await;
        ballots.insert(r.person(tag), id);
        for k in 0..20 {
            // Each copy from its own connection and address.
            let client = client_from(&r.b, n * 20 + k);
            let (url, origin, cookie, body) =
                (url.clone(), r.b.origin(), r.tablet(tag), body.clone());
            sends.push(tokio::spawn(async move {
                try_post(&client, &url, &origin, &cookie, &body).await
            }));
        }
    }
    for s in join_all(sends).await {
        let (status, a) = s.unwrap().unwrap();
        assert_eq!(
            status, 200,
            "every copy is answered as the same ballot: {a}"
        );
    }
    let (_, q) = r
        .q(&r.sec, Method::GET, &format!("/{}", v.question), None)
        .await;
    assert_eq!(q["question"]["cast"], 4, "{q}");
    // And twenty different ballots from one person at once: exactly one is counted.
    let mut sends = Vec::new();
    for k in 0..20 {
        let client = client_from(&r.b, 100 + k);
        let body = named_body(&v, r.tab("A"), &hex32(), disapprove()).await;
        let (url, origin, cookie) = (url.clone(), r.b.origin(), r.tablet("A"));
        sends.push(tokio::spawn(async move {
            try_post(&client, &url, &origin, &cookie, &body).await
        }));
    }
    for s in join_all(sends).await {
        let (status, e) = s.unwrap().unwrap();
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("vote.already_voted")),
            "A has voted already"
        );
    }
    v.close().await;
    let (_, res) = v.result(&r.chair).await;
    let recorded: BTreeMap<String, String> = res["record"]["ballots"]
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
    assert_eq!(recorded, ballots);
    assert_eq!(res["record"]["ballots"].as_array().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_secret_ballot_raced_from_one_person_is_counted_once() {
    let r = Room::new().await;
    let v = r.open_vote(json!({"secrecy": "secret"})).await;
    let url = r.b.url(&format!(
        "/api/meetings/{}/questions/{}/ballots",
        r.meeting, v.question
    ));
    let nonce = v.nonce().await;
    let mut sends = Vec::new();
    // A: the same receipt 20 times; B: 20 different receipts at once.
    for (tag, same) in [("A", true), ("B", false)] {
        let text = format!(
            "phonghop-participation/1|{}|{}|{}|{}|{}",
            v.node,
            r.meeting,
            v.question,
            nonce,
            r.person(tag)
        );
        let fixed = receipt();
        for k in 0..20 {
            let rc = if same { fixed.clone() } else { receipt() };
            let body =
                json!({"receipt": rc, "mark": approve(), "signature": r.tab(tag).sign(&text)});
            let client = client_from(&r.b, k + if same { 0 } else { 40 });
            let (url, origin, cookie) = (url.clone(), r.b.origin(), r.tablet(tag));
            sends.push(tokio::spawn(async move {
                (
                    tag,
                    rc,
                    try_post(&client, &url, &origin, &cookie, &body).await,
                )
            }));
        }
    }
    let mut accepted: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for s in join_all(sends).await {
        let (tag, rc, answer) = s.unwrap();
        let (status, a) = answer.unwrap();
        match status {
            200 => {
                accepted.entry(tag).or_default().insert(rc);
            }
            409 => assert_eq!(a["code"], "vote.already_voted", "{a}"),
            _ => panic!("{tag}: {status} {a}"),
        }
    }
    assert_eq!(accepted["A"].len(), 1);
    assert_eq!(accepted["B"].len(), 1, "one of B's receipts, and only one");
    let closed = v.close().await;
    assert_eq!(
        closed["question"]["outcome"]["counts"],
        json!({"approve": 2, "disapprove": 0, "abstain": 0})
    );
    let (_, res) = v.result(&r.chair).await;
    let published: BTreeSet<String> = res["record"]["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["receipt"].as_str().unwrap().to_owned())
        .collect();
    let want: BTreeSet<String> = accepted.values().flatten().cloned().collect();
    assert_eq!(published, want);
}

/// A secret ballot's body, signed by `t` for `person`.
async fn secret_body(v: &Vote<'_>, t: &Tablet, person: &str, receipt: &str, mark: Value) -> Value {
    let text = format!(
        "phonghop-participation/1|{}|{}|{}|{}|{person}",
        v.node,
        v.r.meeting,
        v.question,
        v.nonce().await
    );
    json!({"receipt": receipt, "mark": mark, "signature": t.sign(&text)})
}

#[tokio::test]
async fn a_secret_vote_refuses_bad_receipts_second_tablets_and_replays() {
    let mut r = Room::new().await;
    let b2 = r.b.pair_tablet(&r.sec, &r.person("B"), "3691").await;
    r.tablets.push(("B2", b2));
    let r = r;
    let v = r.open_vote(json!({"secrecy": "secret"})).await;
    let (a, pa) = (r.tab("A"), r.person("A"));
    for (what, rc) in [
        ("not hex", "z".repeat(64)),
        ("too short", "ab".repeat(16)),
        ("upper case", receipt().to_uppercase()),
        ("empty", String::new()),
    ] {
        let body = secret_body(&v, a, &pa, &rc, approve()).await;
        refused(
            &v,
            &format!("a receipt {what}"),
            (422, "vote.bad_receipt"),
            post_ballot(&v, &a.cookie, body),
        )
        .await;
    }
    // A named ballot's shape on a secret vote.
    let body = named_body(&v, a, &hex32(), approve()).await;
    refused(
        &v,
        "a ballot id on a secret vote",
        (422, "vote.bad_receipt"),
        post_ballot(&v, &a.cookie, body),
    )
    .await;
    // The participation names the person: A's signature sent as if for B.
    let body = secret_body(&v, a, &r.person("B"), &receipt(), approve()).await;
    refused(
        &v,
        "A's tablet signing B's participation",
        (403, "vote.bad_signature"),
        post_ballot(&v, &a.cookie, body),
    )
    .await;
    let ra = receipt();
    let a_body = secret_body(&v, a, &pa, &ra, approve()).await;
    let (s, ok) = post_ballot(&v, &a.cookie, a_body.clone()).await;
    assert_eq!(s, 200, "{ok}");
    // B tries to take over A's receipt (learned over A's shoulder): refused, nothing counted.
    let (b, pb) = (r.tab("B"), r.person("B"));
    let body = secret_body(&v, b, &pb, &ra, disapprove()).await;
    refused(
        &v,
        "another person's receipt",
        (422, "vote.bad_receipt"),
        post_ballot(&v, &b.cookie, body),
    )
    .await;
    let body = secret_body(&v, b, &pb, &receipt(), disapprove()).await;
    assert_eq!(post_ballot(&v, &b.cookie, body).await.0, 200);
    let b2 = r.tab("B2");
    let body = secret_body(&v, b2, &pb, &receipt(), approve()).await;
    refused(
        &v,
        "B again from B's second tablet",
        (409, "vote.already_voted"),
        post_ballot(&v, &b2.cookie, body),
    )
    .await;
    v.close().await;
    // A's participation replayed into the next secret question.
    let q2 = prepare(
        &r,
        json!({"secrecy": "secret", "title": "Bỏ phiếu kín lần hai"}),
    )
    .await;
    let (s, o) = r
        .q(
            &r.chair,
            Method::POST,
            &format!("/{q2}/open"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 200, "{o}");
    let v2 = Vote {
        r: &r,
        node: v.node.clone(),
        question: q2,
    };
    let mut replay = a_body;
    replay["receipt"] = json!(receipt());
    refused(
        &v2,
        "A's participation replayed into another question",
        (403, "vote.bad_signature"),
        post_ballot(&v2, &a.cookie, replay),
    )
    .await;
}
