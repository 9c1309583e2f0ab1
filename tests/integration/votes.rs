//! Voting through the API: questions, a named and a secret vote signed by the tablets' keys,
//! every refusal the issue names, retries counted once, and a result anyone can check.

use crate::live::Room;
use crate::tablets::Tablet;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub(crate) fn hex32() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

pub(crate) fn receipt() -> String {
    use rand::RngCore;
    use sha2::{Digest, Sha256};
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(Sha256::digest(b))
}

pub(crate) struct Vote<'a> {
    pub r: &'a Room,
    pub node: String,
    pub question: String,
}

impl Room {
    pub(crate) fn tab(&self, tag: &str) -> &Tablet {
        &self.tablets.iter().find(|(k, _)| *k == tag).unwrap().1
    }

    pub(crate) async fn q(
        &self,
        cookie: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.b
            .call(
                method,
                &format!("/api/meetings/{}/questions{path}", self.meeting),
                Some(cookie),
                body,
            )
            .await
    }

    /// Starts the meeting and prepares a question on the first item; returns it opened.
    pub(crate) async fn open_vote(&self, extra: Value) -> Vote<'_> {
        let (s, v) = self
            .b
            .call(
                Method::POST,
                &format!("/api/meetings/{}/live/start", self.meeting),
                Some(&self.chair),
                Some(json!({})),
            )
            .await;
        assert!(s == 200 || s == 409, "{v}");
        let mut body = json!({"item_id": self.items[0], "title": "Thông qua báo cáo kinh tế - xã hội năm 2026"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, q) = self.q(&self.sec, Method::POST, "", Some(body)).await;
        assert_eq!(s, 201, "{q}");
        let qid = q["question"]["question"]["id"].as_str().unwrap().to_owned();
        let (s, o) = self
            .q(
                &self.chair,
                Method::POST,
                &format!("/{qid}/open"),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 200, "{o}");
        assert_eq!(o["question"]["status"], "open");
        let (_, room) = self.b.call(Method::GET, "/api/room", None, None).await;
        Vote {
            r: self,
            node: room["node_id"].as_str().unwrap().to_owned(),
            question: qid,
        }
    }
}

impl Vote<'_> {
    pub(crate) async fn nonce(&self) -> String {
        let (s, v) = self
            .r
            .q(
                &self.r.chair,
                Method::GET,
                &format!("/{}", self.question),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["question"]["nonce"].as_str().unwrap().to_owned()
    }

    /// A named ballot as a tablet signs it.
    pub(crate) async fn named(&self, tag: &str, ballot: &str, mark: Value) -> (StatusCode, Value) {
        let nonce = self.nonce().await;
        let t = self.r.tab(tag);
        let text = format!(
            "phonghop-ballot/1|{}|{}|{}|{}|{}|{}",
            self.node,
            self.r.meeting,
            self.question,
            nonce,
            ballot,
            canonical(&mark)
        );
        let sig = t.sign(&text);
        self.send(
            t,
            json!({"ballot_id": ballot, "mark": mark, "signature": sig}),
        )
        .await
    }

    /// A secret ballot: the signed participation and the choice under a receipt.
    pub(crate) async fn secret(
        &self,
        tag: &str,
        receipt: &str,
        mark: Value,
    ) -> (StatusCode, Value) {
        let nonce = self.nonce().await;
        let t = self.r.tab(tag);
        let text = format!(
            "phonghop-participation/1|{}|{}|{}|{}|{}",
            self.node,
            self.r.meeting,
            self.question,
            nonce,
            self.r.person(tag)
        );
        let sig = t.sign(&text);
        self.send(
            t,
            json!({"receipt": receipt, "mark": mark, "signature": sig}),
        )
        .await
    }

    pub(crate) async fn send(&self, t: &Tablet, body: Value) -> (StatusCode, Value) {
        self.r
            .b
            .call(
                Method::POST,
                &format!(
                    "/api/meetings/{}/questions/{}/ballots",
                    self.r.meeting, self.question
                ),
                Some(&t.cookie),
                Some(body),
            )
            .await
    }

    pub(crate) async fn close(&self) -> Value {
        let (s, v) = self
            .r
            .q(
                &self.r.chair,
                Method::POST,
                &format!("/{}/close", self.question),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }

    pub(crate) async fn result(&self, cookie: &str) -> (StatusCode, Value) {
        self.r
            .q(
                cookie,
                Method::GET,
                &format!("/{}/result", self.question),
                None,
            )
            .await
    }
}

/// The mark's text inside a signed payload.
pub(crate) fn canonical(mark: &Value) -> String {
    if let Some(c) = mark.get("choice") {
        return c.as_str().unwrap().to_owned();
    }
    let mut ids: Vec<&str> = mark["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    ids.sort_unstable();
    format!("c:{}", ids.join(","))
}

fn approve() -> Value {
    json!({"choice": "approve"})
}
fn disapprove() -> Value {
    json!({"choice": "disapprove"})
}

#[tokio::test]
async fn a_named_vote_counts_each_signed_ballot_once_and_the_result_verifies() {
    let r = Room::new().await;
    let v = r.open_vote(json!({})).await;
    // Four members (A, B, C the chair, D), all checked in; more than half of all = 3.
    let (b1, b2, b3) = (hex32(), hex32(), hex32());
    let (s, a) = v.named("A", &b1, approve()).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["cast"], 1);
    // The Wi-Fi dropped and the tablet sends the same ballot again: counted once.
    let (s, a2) = v.named("A", &b1, approve()).await;
    assert_eq!(s, 200, "{a2}");
    assert_eq!(a2["cast"], 1);
    // A second ballot from the same person is refused.
    let (s, e) = v.named("A", &hex32(), disapprove()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("vote.already_voted"))
    );
    assert_eq!(v.named("B", &b2, approve()).await.0, 200);
    assert_eq!(v.named("C", &b3, disapprove()).await.0, 200);
    // A guest has no vote.
    let (s, e) = v.named("G", &hex32(), approve()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("vote.not_member"))
    );
    let closed = v.close().await;
    assert_eq!(closed["question"]["status"], "closed");
    let outcome = &closed["question"]["outcome"];
    assert_eq!(
        outcome["counts"],
        json!({"approve": 2, "disapprove": 1, "abstain": 0})
    );
    assert_eq!(outcome["required"], 3);
    assert_eq!(outcome["passed"], false);
    // After the close, nothing more is counted.
    let (s, e) = v.named("D", &hex32(), approve()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("vote.closed"))
    );
    // The signed record names every ballot with its signature, and a delegate may read it.
    let (s, res) = v.result(&r.tablet("D")).await;
    assert_eq!(s, 200, "{res}");
    assert_eq!(res["record"]["ballots"].as_array().unwrap().len(), 3);
    assert!(res["certificate"]
        .as_str()
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
}

#[tokio::test]
async fn a_secret_vote_publishes_choices_only_at_close_sorted_by_receipt() {
    let r = Room::new().await;
    let v = r.open_vote(json!({"secrecy": "secret"})).await;
    let receipts: Vec<String> = (0..3).map(|_| receipt()).collect();
    for (tag, rc, m) in [
        ("A", &receipts[0], approve()),
        ("B", &receipts[1], approve()),
        ("D", &receipts[2], disapprove()),
    ] {
        let (s, a) = v.secret(tag, rc, m).await;
        assert_eq!(s, 200, "{a}");
    }
    // A retry with the same receipt is the same ballot; another receipt is a second vote.
    assert_eq!(v.secret("A", &receipts[0], approve()).await.0, 200);
    let (s, e) = v.secret("A", &receipt(), disapprove()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("vote.already_voted"))
    );
    let closed = v.close().await;
    assert_eq!(
        closed["question"]["outcome"]["counts"],
        json!({"approve": 2, "disapprove": 1, "abstain": 0})
    );
    let (_, res) = v.result(&r.tablet("A")).await;
    let published: Vec<String> = res["record"]["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["receipt"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = receipts.clone();
    sorted.sort();
    assert_eq!(published, sorted);
    assert_eq!(res["record"]["participations"].as_array().unwrap().len(), 3);
    assert!(res["record"]["ballots"].as_array().unwrap().is_empty());
}

/// Ballots that arrive together share one commit; the checks still run one ballot at a time,
/// so a person who sends different ballots at once (two tablets, a double tap with a new id)
/// gets exactly one counted, and a ballot sent many times at once is counted once.
#[tokio::test]
async fn ballots_sent_at_once_are_each_counted_once() {
    let r = Room::new().await;
    let v = r.open_vote(json!({})).await;
    let nonce = v.nonce().await;
    let mut sends = Vec::new();
    let mut same = Vec::new();
    for tag in ["A", "B", "C", "D"] {
        let t = r.tab(tag);
        // Eight different ballots from the same person, all at once…
        for _ in 0..8 {
            let id = hex32();
            let text = format!(
                "phonghop-ballot/1|{}|{}|{}|{}|{}|approve",
                v.node, r.meeting, v.question, nonce, id
            );
            sends.push((
                tag,
                json!({"ballot_id": id, "mark": approve(), "signature": t.sign(&text)}),
            ));
        }
    }
    // …and one ballot of D's sent ten times at once on top (a tablet retrying hard).
    let fixed = hex32();
    let text = format!(
        "phonghop-ballot/1|{}|{}|{}|{}|{}|approve",
        v.node, r.meeting, v.question, nonce, fixed
    );
    for _ in 0..10 {
        same.push(
            json!({"ballot_id": fixed, "mark": approve(), "signature": r.tab("D").sign(&text)}),
        );
    }
    let all = futures_util::future::join_all(
        sends
            .iter()
            .map(|(tag, body)| v.send(r.tab(tag), body.clone()))
            .chain(same.iter().map(|body| v.send(r.tab("D"), body.clone()))),
    )
    .await;
    let ok = all.iter().filter(|(s, _)| *s == 200).count();
    let refused = all
        .iter()
        .filter(|(s, b)| *s == 409 && b["code"] == "vote.already_voted")
        .count();
    assert_eq!(ok + refused, all.len(), "{all:?}");
    let closed = v.close().await;
    assert_eq!(closed["question"]["cast"], 4);
    assert_eq!(
        closed["question"]["outcome"]["counts"],
        json!({"approve": 4, "disapprove": 0, "abstain": 0})
    );
    let (_, res) = v.result(&r.chair).await;
    let mut people: Vec<&str> = res["record"]["ballots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["person_id"].as_str().unwrap())
        .collect();
    people.sort();
    people.dedup();
    assert_eq!(people.len(), 4);
}

/// In a vote that allows changes, a new ballot replaces the old one; a late retry of the old
/// ballot (its answer was lost, the tablet kept sending) changes nothing.
#[tokio::test]
async fn a_late_retry_of_a_replaced_ballot_does_not_bring_it_back() {
    let r = Room::new().await;
    let v = r.open_vote(json!({"changeable": true})).await;
    let (first, second) = (hex32(), hex32());
    assert_eq!(v.named("A", &first, approve()).await.0, 200);
    let (s, a) = v.named("A", &second, disapprove()).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["cast"], 1);
    let (s, a) = v.named("A", &first, approve()).await;
    assert_eq!(s, 200, "{a}");
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
    let closed = v.close().await;
    assert_eq!(
        closed["question"]["outcome"]["counts"],
        json!({"approve": 0, "disapprove": 1, "abstain": 0})
    );
}
