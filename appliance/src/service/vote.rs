//! Voting (biểu quyết): questions prepared on agenda items, opened by whoever runs the
//! meeting, ballots signed on the tablets, and a result the node signs. See
//! `docs/voting-design.md` for why each rule is what it is.
//!
//! Secret votes: the signed participation record goes into the log; the choice goes into the
//! node-local `secret_choices` table under the tablet's random receipt, in the same write
//! transaction, with no person, time or order. Nothing here logs a choice.

use super::meetings::{visible_header, MeetingRole};
use super::{Caller, Refusal, ServiceError};
use crate::domain::quorum::Threshold;
use crate::domain::records::{BodyKind, Id, MeetingHeader, MeetingStatus};
use crate::domain::visibility::{self, runs_meeting};
use crate::domain::vote::{
    self, Base, Candidate, Cast, Electorate, Marked, Method, Outcome, Participation, Question,
    QuestionEntry, QuestionKind, QuestionStatus, ResultRecord, Secrecy, SignedBallot, SignedResult,
    TieRule, VoteError, VoterKey,
};
use crate::domain::{Actor, EventBody};
use crate::signing::RecordSigner;
use crate::store::{records, Store, StoreError};
use serde::Deserialize;
use time::OffsetDateTime;

impl From<VoteError> for ServiceError {
    fn from(e: VoteError) -> Self {
        ServiceError::Refused(Refusal::Vote(e))
    }
}

/// What the caller has cast on a question.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum MyVote {
    /// A named ballot: its id and mark.
    Named { ballot_id: Id, mark: Marked },
    /// Took part in a secret vote (how is not kept with the person).
    Secret,
}

/// A question as one caller may see it.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct QuestionSeen {
    pub question: Question,
    /// The caller's own vote, for a member's tablet.
    pub mine: Option<MyVote>,
    /// Whether the caller may vote on it (a member's tablet, checked in).
    pub may_vote: bool,
}

/// A meeting's questions for one caller.
#[derive(Debug, Clone, serde::Serialize, ts_rs::TS)]
pub struct QuestionsSeen {
    pub questions: Vec<QuestionSeen>,
    /// Whether the caller may prepare questions (and record a hand count).
    pub can_manage: bool,
    /// Whether the caller may open and close votes.
    pub can_run: bool,
    /// The box's clock, for countdowns on tablets whose clock is off.
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
}

fn is_operator(caller: &Caller, store_live_operator: Option<&crate::domain::Username>) -> bool {
    match (caller, store_live_operator) {
        (Caller::Staff(a), Some(op)) => &a.username == op,
        _ => false,
    }
}

/// The caller's role, and whether they run the console and prepare questions.
struct Rights {
    header: MeetingHeader,
    role: MeetingRole,
    runs: bool,
    prepares: bool,
}

fn rights(store: &Store, caller: &Caller, meeting_id: &Id) -> Result<Rights, ServiceError> {
    let (header, role) = visible_header(store, caller, meeting_id)?;
    let live = store.read(|t| records::live(t, meeting_id))?;
    let op = is_operator(caller, live.operator.as_ref());
    Ok(Rights {
        runs: runs_meeting(role, op),
        prepares: visibility::prepares_questions(caller.viewer(), role, op),
        header,
        role,
    })
}

/// The meeting's questions: all of them for those who prepare or run the meeting; the
/// opened and closed ones for everyone else with a role in it.
pub fn list(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
) -> Result<QuestionsSeen, ServiceError> {
    let r = rights(store, caller, meeting_id)?;
    let person = caller.person_id().cloned();
    let voter = visibility::may_vote(caller.viewer(), r.role, &r.header);
    let (questions, present) = store.read(|t| {
        let qs = records::questions(t, meeting_id)?;
        let mut out = Vec::with_capacity(qs.len());
        for q in qs {
            if q.status == QuestionStatus::Draft && !(r.prepares || r.runs) {
                continue;
            }
            let mine = match &person {
                Some(p) => records::cast_of(t, &q.question.id, p)?.map(my_vote),
                None => None,
            };
            out.push((q, mine));
        }
        let present = match &person {
            Some(p) => records::attendance_of(t, meeting_id, p)?.status.in_room(),
            None => false,
        };
        Ok((out, present))
    })?;
    Ok(QuestionsSeen {
        questions: questions
            .into_iter()
            .map(|(question, mine)| QuestionSeen {
                may_vote: voter && present && question.status == QuestionStatus::Open,
                question,
                mine,
            })
            .collect(),
        can_manage: r.prepares,
        can_run: r.runs,
        now: OffsetDateTime::now_utc(),
    })
}

fn my_vote(c: Cast) -> MyVote {
    match c {
        Cast::Named { ballot, .. } => MyVote::Named {
            ballot_id: ballot.id,
            mark: ballot.mark,
        },
        Cast::Secret { .. } => MyVote::Secret,
    }
}

/// One question, as [`list`] shows it.
pub fn get(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    question_id: &Id,
) -> Result<QuestionSeen, ServiceError> {
    list(store, caller, meeting_id)?
        .questions
        .into_iter()
        .find(|q| &q.question.question.id == question_id)
        .ok_or_else(|| VoteError::UnknownQuestion.into())
}

/// A candidate as typed: a new one gets an id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateInput {
    #[serde(default)]
    pub id: Option<Id>,
    pub name: String,
}

/// A question as the secretary's form sends it. Unset rules take the body's defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    /// Chosen by the client, so a retried "add" adds once.
    #[serde(default)]
    pub id: Option<Id>,
    pub item_id: Id,
    pub title: String,
    #[serde(default = "motion")]
    pub kind: QuestionKind,
    #[serde(default)]
    pub candidates: Vec<CandidateInput>,
    #[serde(default)]
    pub max_choices: Option<u32>,
    #[serde(default = "named")]
    pub secrecy: Secrecy,
    #[serde(default)]
    pub base: Option<Base>,
    #[serde(default)]
    pub threshold: Option<Threshold>,
    #[serde(default)]
    pub tie: Option<TieRule>,
    #[serde(default)]
    pub changeable: bool,
    #[serde(default)]
    pub countdown_seconds: Option<u32>,
}

fn motion() -> QuestionKind {
    QuestionKind::Motion
}
fn named() -> Secrecy {
    Secrecy::Named
}

impl QuestionInput {
    fn entry(
        self,
        id: Id,
        pass: Threshold,
        body: BodyKind,
        keep: &[Candidate],
    ) -> Result<QuestionEntry, VoteError> {
        let candidates = self
            .candidates
            .into_iter()
            .map(|c| Candidate {
                id: c
                    .id
                    .or_else(|| {
                        keep.iter()
                            .find(|k| k.name.trim() == c.name.trim())
                            .map(|k| k.id.clone())
                    })
                    .unwrap_or_else(Id::random),
                name: c.name,
            })
            .collect();
        QuestionEntry {
            id,
            item_id: self.item_id,
            title: self.title,
            kind: self.kind,
            candidates,
            max_choices: self.max_choices.unwrap_or(1),
            secrecy: self.secrecy,
            base: self.base.unwrap_or(Base::AllMembers),
            threshold: self.threshold.unwrap_or(pass),
            // The UBND rule (Art. 117): a tie goes the chair's way; other bodies decide by the
            // threshold alone unless the question says otherwise.
            tie: self.tie.unwrap_or(match body {
                BodyKind::Ubnd => TieRule::ChairDecides,
                BodyKind::Hdnd | BodyKind::Party | BodyKind::Other => TieRule::ThresholdOnly,
            }),
            changeable: self.changeable,
            countdown_seconds: self.countdown_seconds,
        }
        .checked()
    }
}

/// Refuses changes to the questions of a meeting that is over.
fn not_over(store: &Store, meeting_id: &Id) -> Result<(), ServiceError> {
    if let Some(h) = store.read(|t| records::meeting_header(t, meeting_id))? {
        super::meetings::not_handed_over(&h)?;
    }
    let live = store.read(|t| records::live(t, meeting_id))?;
    if live.phase == crate::domain::live::Phase::Ended {
        return Err(crate::domain::live::LiveError::Ended.into());
    }
    Ok(())
}

/// Adds a question to an agenda item. A retry with the same id changes nothing.
pub fn add(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    input: QuestionInput,
) -> Result<QuestionSeen, ServiceError> {
    let r = rights(store, caller, meeting_id)?;
    if !r.prepares {
        return Err(ServiceError::Forbidden);
    }
    not_over(store, meeting_id)?;
    let qid = input.id.clone().unwrap_or_else(Id::random);
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let (known, item, body) = tx.read(|t| {
            Ok((
                records::question(t, meeting_id, &qid)?,
                records::agenda_item(t, meeting_id, &input.item_id)?,
                records::body(t, &r.header.body_id)?,
            ))
        })?;
        if known.is_some() {
            return Ok((vec![], ()));
        }
        if item.is_none() {
            return Err(crate::domain::live::LiveError::UnknownItem.into());
        }
        let body = body.ok_or(ServiceError::NotFound)?;
        let entry = input.entry(qid.clone(), body.pass, body.kind, &[])?;
        Ok((
            vec![EventBody::QuestionAdded {
                meeting_id: meeting_id.clone(),
                question: entry,
            }],
            (),
        ))
    })?;
    get(store, caller, meeting_id, &qid)
}

/// Replaces a question that has not been opened.
pub fn update(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    question_id: &Id,
    input: QuestionInput,
) -> Result<QuestionSeen, ServiceError> {
    let r = rights(store, caller, meeting_id)?;
    if !r.prepares {
        return Err(ServiceError::Forbidden);
    }
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let (q, item, body) = tx.read(|t| {
            Ok((
                records::question(t, meeting_id, question_id)?,
                records::agenda_item(t, meeting_id, &input.item_id)?,
                records::body(t, &r.header.body_id)?,
            ))
        })?;
        let q = q.ok_or(VoteError::UnknownQuestion)?;
        if q.status != QuestionStatus::Draft {
            return Err(VoteError::AlreadyOpened.into());
        }
        if item.is_none() {
            return Err(crate::domain::live::LiveError::UnknownItem.into());
        }
        let body = body.ok_or(ServiceError::NotFound)?;
        let entry = input.entry(
            question_id.clone(),
            body.pass,
            body.kind,
            &q.question.candidates,
        )?;
        if entry == q.question {
            return Ok((vec![], ()));
        }
        Ok((
            vec![EventBody::QuestionUpdated {
                meeting_id: meeting_id.clone(),
                question: entry,
            }],
            (),
        ))
    })?;
    get(store, caller, meeting_id, question_id)
}

/// Removes a question that has not been opened. Removing it again changes nothing.
pub fn remove(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    question_id: &Id,
) -> Result<(), ServiceError> {
    let r = rights(store, caller, meeting_id)?;
    if !r.prepares {
        return Err(ServiceError::Forbidden);
    }
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let q = tx.read(|t| records::question(t, meeting_id, question_id))?;
        match q {
            None => Ok((vec![], ())),
            Some(q) if q.status != QuestionStatus::Draft => Err(VoteError::AlreadyOpened.into()),
            Some(_) => Ok((
                vec![EventBody::QuestionRemoved {
                    meeting_id: meeting_id.clone(),
                    question_id: question_id.clone(),
                }],
                (),
            )),
        }
    })?;
    Ok(())
}

/// The members present now (checked in, or late).
fn electorate(t: &redb::ReadTransaction, header: &MeetingHeader) -> Result<Electorate, StoreError> {
    let marks = records::attendance(t, &header.id)?;
    let present = header
        .members
        .iter()
        .filter(|p| marks.get(*p).is_some_and(|m| m.status.in_room()))
        .count();
    Ok(Electorate {
        members: u32::try_from(header.members.len()).unwrap_or(u32::MAX),
        present: u32::try_from(present).unwrap_or(u32::MAX),
    })
}

/// Opens the vote: the meeting must be running with its quorum, and no other vote open.
pub fn open(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    question_id: &Id,
) -> Result<QuestionSeen, ServiceError> {
    let r = rights(store, caller, meeting_id)?;
    if !r.runs {
        return Err(ServiceError::Forbidden);
    }
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let (header, live, questions, body, electorate) = tx.read(|t| {
            let header = records::meeting_header(t, meeting_id)?;
            let electorate = match &header {
                Some(h) => Some(electorate(t, h)?),
                None => None,
            };
            Ok((
                header,
                records::live(t, meeting_id)?,
                records::questions(t, meeting_id)?,
                records::body(t, &r.header.body_id)?,
                electorate,
            ))
        })?;
        let header = header.ok_or(ServiceError::NotFound)?;
        let electorate = electorate.ok_or(ServiceError::NotFound)?;
        if header.status != MeetingStatus::Published {
            return Err(Refusal::WrongStatus(header.status).into());
        }
        let q = questions
            .iter()
            .find(|q| &q.question.id == question_id)
            .ok_or(VoteError::UnknownQuestion)?;
        match q.status {
            // A retried "open" changes nothing.
            QuestionStatus::Open => return Ok((vec![], ())),
            QuestionStatus::Closed => return Err(VoteError::Closed.into()),
            QuestionStatus::Draft => {}
        }
        if live.phase != crate::domain::live::Phase::Running {
            return Err(VoteError::MeetingNotRunning.into());
        }
        if questions.iter().any(|o| o.status == QuestionStatus::Open) {
            return Err(VoteError::AnotherOpen.into());
        }
        let body = body.ok_or(ServiceError::NotFound)?;
        let quorum =
            crate::domain::quorum::Quorum::of(&body.quorum, electorate.members, electorate.present);
        if !quorum.reached {
            return Err(VoteError::NoQuorum.into());
        }
        let closes_at = q
            .question
            .countdown_seconds
            .map(|s| OffsetDateTime::now_utc() + time::Duration::seconds(i64::from(s)));
        Ok((
            vec![EventBody::VoteOpened {
                meeting_id: meeting_id.clone(),
                question_id: question_id.clone(),
                question: q.question.clone(),
                nonce: crate::domain::records::random_hex32()
                    + &crate::domain::records::random_hex32(),
                electorate,
                closes_at,
            }],
            (),
        ))
    })?;
    get(store, caller, meeting_id, question_id)
}

/// A ballot as the tablet sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BallotInput {
    /// A named vote: the ballot's id, chosen by the tablet (a retry sends the same).
    #[serde(default)]
    pub ballot_id: Option<Id>,
    /// A secret vote: the SHA-256 (hex) of 32 random bytes the tablet keeps.
    #[serde(default)]
    pub receipt: Option<String>,
    pub mark: Marked,
    /// Over the ballot payload (named) or the participation payload (secret).
    pub signature: String,
}

/// What the box answers to a counted ballot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct BallotAccepted {
    pub question_id: Id,
    /// Ballots (or participations) counted so far.
    pub cast: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ballot_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

/// Checks a ballot from a member's tablet before it waits for the write: the caller, the
/// question, the mark and the signature against the device's key. The write checks again that
/// the vote is still the one signed for ([`BallotQueue`]).
pub fn check_ballot(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    question_id: &Id,
    input: BallotInput,
) -> Result<Checked, ServiceError> {
    let (header, role) = visible_header(store, caller, meeting_id)?;
    let Caller::Device { device, person } = caller else {
        return Err(VoteError::NotMember.into());
    };
    if !visibility::may_vote(caller.viewer(), role, &header) {
        return Err(VoteError::NotMember.into());
    }
    let q = store
        .read(|t| records::question(t, meeting_id, question_id))?
        .ok_or(VoteError::UnknownQuestion)?;
    match q.status {
        QuestionStatus::Draft => return Err(VoteError::NotOpen.into()),
        QuestionStatus::Closed => return Err(VoteError::Closed.into()),
        QuestionStatus::Open => {}
    }
    let nonce = q.nonce.clone().unwrap_or_default();
    if !q.question.accepts(&input.mark) {
        return Err(VoteError::BadMark.into());
    }
    let node = store.node_id().as_str().to_owned();
    let payload = match (q.question.secrecy, &input.ballot_id, &input.receipt) {
        (Secrecy::Named, Some(b), None) => {
            vote::ballot_payload(&node, meeting_id, question_id, &nonce, b, &input.mark)
        }
        (Secrecy::Secret, None, Some(r)) if vote::is_receipt(r) => {
            vote::participation_payload(&node, meeting_id, question_id, &nonce, &person.id)
        }
        _ => return Err(VoteError::BadReceipt.into()),
    };
    if device
        .key
        .verify(payload.as_bytes(), &input.signature)
        .is_err()
    {
        tracing::warn!(meeting = %meeting_id, question = %question_id, device = %device.id, "ballot refused: the signature does not verify");
        return Err(VoteError::BadSignature.into());
    }
    Ok(Checked {
        actor: caller.actor(),
        meeting_id: meeting_id.clone(),
        question_id: question_id.clone(),
        nonce,
        person_id: person.id.clone(),
        device_id: device.id.clone(),
        input,
    })
}

impl Checked {
    /// The answer to the tablet once the ballot is counted (`cast`: the count after it).
    pub fn accepted(&self, cast: u32) -> BallotAccepted {
        BallotAccepted {
            question_id: self.question_id.clone(),
            cast,
            ballot_id: self.input.ballot_id.clone(),
            receipt: self.input.receipt.clone(),
        }
    }

    pub fn meeting_id(&self) -> &Id {
        &self.meeting_id
    }
}

/// A ballot whose caller, mark and signature were checked, waiting for the write.
pub struct Checked {
    actor: Actor,
    meeting_id: Id,
    question_id: Id,
    /// The nonce the signature names: the write checks the vote is still that one.
    nonce: String,
    person_id: Id,
    device_id: Id,
    input: BallotInput,
}

type Reply = tokio::sync::oneshot::Sender<Result<u32, ServiceError>>;

/// Where a queued ballot's answer arrives.
pub type Answer = tokio::sync::oneshot::Receiver<Result<u32, ServiceError>>;

/// Ballots waiting for the next durable commit. Under load, the ballots that arrive while one
/// commit is on its way to the disk share the next one (group commit): a commit costs the
/// same for one ballot as for fifty, and each tablet still hears back only once its ballot is
/// on disk. The checks of each ballot run in order inside the one write transaction, against
/// the committed state plus the ballots accepted earlier in the same batch.
#[derive(Default)]
pub struct BallotQueue {
    state: std::sync::Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    waiting: Vec<(Checked, Reply)>,
    /// Whether a thread is writing batches now; it keeps going until the queue is empty.
    writing: bool,
}

/// If a batch panics: clears the "writing" flag and drops whatever waits (its tablets get an
/// error and retry), so nothing waits for a writer that is gone.
struct WriterGuard<'a>(&'a BallotQueue);

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Ok(mut st) = self.0.state.lock() {
                st.writing = false;
                st.waiting.clear();
            }
        }
    }
}

impl BallotQueue {
    /// Queues a checked ballot. Returns where its answer will arrive, and whether the caller
    /// must start [`Self::drain`] (no writer is running): the queue never blocks a thread per
    /// waiting ballot.
    pub fn enqueue(&self, ballot: Checked) -> Result<(Answer, bool), ServiceError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut st = self
            .state
            .lock()
            .map_err(|_| ServiceError::Internal("ballot queue poisoned".into()))?;
        st.waiting.push((ballot, tx));
        let start = !std::mem::replace(&mut st.writing, true);
        Ok((rx, start))
    }

    /// Writes batches until the queue is empty (a blocking call: run it on a blocking thread).
    /// The "writing" flag is cleared under the same lock that finds the queue empty, so a
    /// ballot queued at that moment either is in the last batch or starts a new writer.
    pub fn drain(&self, store: &Store) {
        let _guard = WriterGuard(self);
        loop {
            let batch = match self.state.lock() {
                Ok(mut st) => {
                    let batch = std::mem::take(&mut st.waiting);
                    if batch.is_empty() {
                        st.writing = false;
                    }
                    batch
                }
                Err(_) => return,
            };
            if batch.is_empty() {
                return;
            }
            write_batch(store, batch);
        }
    }
}

/// Writes one batch: every ballot's checks in order, one commit, then each answer.
fn write_batch(store: &Store, batch: Vec<(Checked, Reply)>) {
    let (ballots, replies): (Vec<Checked>, Vec<Reply>) = batch.into_iter().unzip();
    let written = store.write_each(|tx| -> Result<_, ServiceError> {
        let mut events = Vec::new();
        let mut answers = Vec::with_capacity(ballots.len());
        // What this batch has accepted so far: per question, who voted (ballot id and mark),
        // the receipts taken and the running count.
        let mut voted: std::collections::HashMap<(Id, Id), Mine> = Default::default();
        let mut receipts: std::collections::HashSet<(Id, String)> = Default::default();
        let mut counts: std::collections::HashMap<Id, u32> = Default::default();
        for b in &ballots {
            let answer = check_one(tx, b, &voted, &receipts, &mut counts);
            match answer {
                Ok((Some(body), cast, before)) => {
                    let key = (b.question_id.clone(), b.person_id.clone());
                    let mut replaced = before
                        .as_ref()
                        .map(|m| m.replaced.clone())
                        .unwrap_or_default();
                    if let Some(old) = before.and_then(|m| m.current) {
                        replaced.push(old);
                    }
                    voted.insert(
                        key,
                        Mine {
                            current: b.input.ballot_id.clone(),
                            mark: b.input.mark.clone(),
                            replaced,
                        },
                    );
                    if let Some(r) = &b.input.receipt {
                        receipts.insert((b.question_id.clone(), r.clone()));
                        // The choice, node-local, in this same transaction: it is durable
                        // exactly when the participation is.
                        records::put_secret_choice(tx, &b.question_id, r, &b.input.mark)?;
                    }
                    counts.insert(b.question_id.clone(), cast);
                    events.push((b.actor.clone(), body));
                    answers.push(Ok(cast));
                }
                Ok((None, cast, _)) => answers.push(Ok(cast)),
                Err(ServiceError::Store(e)) => return Err(ServiceError::Store(e)),
                Err(e) => answers.push(Err(e)),
            }
        }
        Ok((events, answers))
    });
    match written {
        Ok((_, answers)) => {
            for (reply, answer) in replies.into_iter().zip(answers) {
                let _ = reply.send(answer);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            tracing::error!("writing a batch of ballots failed: {msg}");
            for reply in replies {
                let _ = reply.send(Err(ServiceError::Internal(msg.clone())));
            }
        }
    }
}

/// The checks of one ballot inside the batch's write: the event to append (none for a retry)
/// and the count after it.
/// What one person has cast on a question, as a batch sees it.
#[derive(Debug, Clone)]
struct Mine {
    /// The current named ballot's id (none for a secret vote).
    current: Option<Id>,
    mark: Marked,
    /// Ballot ids this person's later ballots replaced (a changeable vote).
    replaced: Vec<Id>,
}

/// The checks of one ballot inside the batch's write: the event to append (none for a retry),
/// the count after it, and what the person had cast before it.
type Checked1 = (Option<EventBody>, u32, Option<Mine>);

fn check_one(
    tx: &crate::store::Tx<'_>,
    b: &Checked,
    voted: &std::collections::HashMap<(Id, Id), Mine>,
    receipts: &std::collections::HashSet<(Id, String)>,
    counts: &mut std::collections::HashMap<Id, u32>,
) -> Result<Checked1, ServiceError> {
    let (now, committed, present) = tx.read(|t| {
        Ok((
            records::question(t, &b.meeting_id, &b.question_id)?,
            records::cast_of(t, &b.question_id, &b.person_id)?,
            records::attendance_of(t, &b.meeting_id, &b.person_id)?
                .status
                .in_room(),
        ))
    })?;
    let now = now.ok_or(VoteError::UnknownQuestion)?;
    if now.status == QuestionStatus::Closed {
        return Err(VoteError::Closed.into());
    }
    if now.status != QuestionStatus::Open || now.nonce.as_deref() != Some(b.nonce.as_str()) {
        return Err(VoteError::NotOpen.into());
    }
    let cast = *counts.entry(b.question_id.clone()).or_insert(now.cast);
    // What this person has cast: earlier in this batch, else as committed.
    let mine: Option<Mine> = voted
        .get(&(b.question_id.clone(), b.person_id.clone()))
        .cloned()
        .or_else(|| {
            committed.map(|c| match c {
                Cast::Named { ballot, replaced } => Mine {
                    current: Some(ballot.id),
                    mark: ballot.mark,
                    replaced,
                },
                Cast::Secret { .. } => Mine {
                    current: None,
                    mark: Marked::Candidates(vec![]),
                    replaced: vec![],
                },
            })
        });
    let first = mine.is_none();
    let before = mine.clone();
    match (now.question.secrecy, mine) {
        (Secrecy::Named, Some(m)) if m.current.is_some() && m.current == b.input.ballot_id => {
            // A retry: the same ballot again is counted once; another mark under the same id
            // is not a retry.
            return if m.mark == b.input.mark {
                Ok((None, cast, before))
            } else {
                Err(VoteError::AlreadyVoted.into())
            };
        }
        (Secrecy::Named, Some(m))
            if b.input
                .ballot_id
                .as_ref()
                .is_some_and(|id| m.replaced.contains(id)) =>
        {
            // A late retry of a ballot the person has since replaced: it was counted once,
            // and it does not bring the old choice back.
            return Ok((None, cast, before));
        }
        (Secrecy::Named, Some(_)) if !now.question.changeable => {
            return Err(VoteError::AlreadyVoted.into());
        }
        (Secrecy::Secret, Some(_)) => {
            let receipt = b.input.receipt.as_deref().unwrap_or_default();
            let known = receipts.contains(&(b.question_id.clone(), receipt.to_owned()))
                || tx
                    .read(|t| records::secret_choice(t, &b.question_id, receipt))?
                    .is_some();
            // The box does not know whose receipt is whose: a known receipt from someone who
            // took part is taken as their retry.
            return if known {
                Ok((None, cast, before))
            } else {
                Err(VoteError::AlreadyVoted.into())
            };
        }
        _ => {}
    }
    if !present {
        return Err(VoteError::NotPresent.into());
    }
    let after = cast + u32::from(first);
    match now.question.secrecy {
        Secrecy::Named => {
            let ballot_id = b.input.ballot_id.clone().ok_or(VoteError::BadReceipt)?;
            Ok((
                Some(EventBody::BallotCast {
                    meeting_id: b.meeting_id.clone(),
                    question_id: b.question_id.clone(),
                    ballot: SignedBallot {
                        id: ballot_id,
                        person_id: b.person_id.clone(),
                        device_id: b.device_id.clone(),
                        mark: b.input.mark.clone(),
                        signature: b.input.signature.clone(),
                    },
                }),
                after,
                before,
            ))
        }
        Secrecy::Secret => {
            let receipt = b.input.receipt.clone().ok_or(VoteError::BadReceipt)?;
            let taken = receipts.contains(&(b.question_id.clone(), receipt.clone()))
                || tx
                    .read(|t| records::secret_choice(t, &b.question_id, &receipt))?
                    .is_some();
            if taken {
                return Err(VoteError::BadReceipt.into());
            }
            Ok((
                Some(EventBody::VoteParticipated {
                    meeting_id: b.meeting_id.clone(),
                    question_id: b.question_id.clone(),
                    participation: Participation {
                        person_id: b.person_id.clone(),
                        device_id: b.device_id.clone(),
                        signature: b.input.signature.clone(),
                    },
                }),
                after,
                before,
            ))
        }
    }
}

/// Who closes a vote: whoever runs the meeting, or the box when the countdown ends.
pub enum Closer<'a> {
    Caller(&'a Caller),
    Countdown,
}

/// Closes the vote, counts it and signs the result. Closing a closed vote changes nothing.
pub fn close(
    store: &Store,
    signer: &RecordSigner,
    closer: Closer<'_>,
    meeting_id: &Id,
    question_id: &Id,
) -> Result<(), ServiceError> {
    let actor = match &closer {
        Closer::Caller(caller) => {
            let r = rights(store, caller, meeting_id)?;
            if !r.runs {
                return Err(ServiceError::Forbidden);
            }
            caller.actor()
        }
        Closer::Countdown => Actor::Node,
    };
    store.write(actor, |tx| -> Result<_, ServiceError> {
        let q = tx
            .read(|t| records::question(t, meeting_id, question_id))?
            .ok_or(VoteError::UnknownQuestion)?;
        match q.status {
            QuestionStatus::Closed => return Ok((vec![], ())),
            QuestionStatus::Draft => return Err(VoteError::NotOpen.into()),
            QuestionStatus::Open => {}
        }
        if matches!(closer, Closer::Countdown)
            && q.closes_at.is_none_or(|t| t > OffsetDateTime::now_utc())
        {
            return Ok((vec![], ()));
        }
        let record = tx.read(|t| electronic_record(t, store, &q, meeting_id))?;
        if q.question.secrecy == Secrecy::Secret {
            records::drop_secret_choices(tx, question_id)?;
        }
        let result = sign(signer, record)?;
        Ok((
            vec![EventBody::VoteClosed {
                meeting_id: meeting_id.clone(),
                question_id: question_id.clone(),
                result: Box::new(result),
            }],
            (),
        ))
    })?;
    Ok(())
}

fn sign(signer: &RecordSigner, record: ResultRecord) -> Result<SignedResult, ServiceError> {
    let signature = signer
        .sign_json(&record)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(SignedResult {
        record,
        signature,
        certificate: signer.certificate_pem().to_owned(),
    })
}

/// The facts of the meeting every result record names.
struct RecordHead {
    meeting_title: String,
    body_name: String,
    chair_id: Option<Id>,
    item_title: String,
}

fn record_head(
    t: &redb::ReadTransaction,
    meeting_id: &Id,
    item_id: &Id,
) -> Result<RecordHead, StoreError> {
    let header = records::meeting_header(t, meeting_id)?
        .ok_or_else(|| StoreError::Db(format!("meeting {meeting_id} missing")))?;
    let body = records::body(t, &header.body_id)?;
    let item = records::agenda_item(t, meeting_id, item_id)?;
    Ok(RecordHead {
        meeting_title: header.title,
        body_name: body.map(|b| b.name).unwrap_or_default(),
        chair_id: header.chair_id,
        item_title: item.map(|i| i.title).unwrap_or_default(),
    })
}

/// Counts an open vote from what was cast.
fn electronic_record(
    t: &redb::ReadTransaction,
    store: &Store,
    q: &Question,
    meeting_id: &Id,
) -> Result<ResultRecord, StoreError> {
    let head = record_head(t, meeting_id, &q.question.item_id)?;
    let electorate = q.electorate.unwrap_or(Electorate {
        members: 0,
        present: 0,
    });
    let mut voters = Vec::new();
    let mut ballots = Vec::new();
    let mut participations = Vec::new();
    for c in records::casts(t, &q.question.id)? {
        let (person_id, device_id) = match &c {
            Cast::Named { ballot, .. } => (ballot.person_id.clone(), ballot.device_id.clone()),
            Cast::Secret { participation } => (
                participation.person_id.clone(),
                participation.device_id.clone(),
            ),
        };
        let name = records::person(t, &person_id)?
            .map(|p| p.name.to_string())
            .unwrap_or_default();
        let device = records::device(t, &device_id)?
            .ok_or_else(|| StoreError::Db(format!("device {device_id} missing")))?;
        voters.push(VoterKey {
            person_id,
            name,
            device_id,
            device_key: device.key,
        });
        match c {
            Cast::Named { ballot, .. } => ballots.push(ballot),
            Cast::Secret { participation } => participations.push(participation),
        }
    }
    let receipts: Vec<vote::ReceiptMark> = match q.question.secrecy {
        Secrecy::Named => vec![],
        Secrecy::Secret => records::secret_choices(t, &q.question.id)?
            .into_iter()
            .map(|(receipt, mark)| vote::ReceiptMark { receipt, mark })
            .collect(),
    };
    let marks: Vec<Marked> = match q.question.secrecy {
        Secrecy::Named => ballots.iter().map(|b| b.mark.clone()).collect(),
        Secrecy::Secret => receipts.iter().map(|r| r.mark.clone()).collect(),
    };
    let chair = head.chair_id.as_ref().and_then(|c| {
        ballots
            .iter()
            .find(|b| &b.person_id == c)
            .map(|b| b.mark.clone())
    });
    let outcome = Outcome::count(&q.question, &marks, electorate, chair.as_ref());
    let mut record = new_record(
        store,
        meeting_id,
        q,
        head,
        electorate,
        Method::Electronic,
        outcome,
    );
    record.voters = voters;
    record.ballots = ballots;
    record.participations = participations;
    record.receipts = receipts;
    Ok(record)
}

/// A result record of `q` closed now, with no ballots yet.
fn new_record(
    store: &Store,
    meeting_id: &Id,
    q: &Question,
    head: RecordHead,
    electorate: Electorate,
    method: Method,
    outcome: Outcome,
) -> ResultRecord {
    ResultRecord {
        format: vote::RESULT_FORMAT.into(),
        node: store.node_id().as_str().to_owned(),
        meeting_id: meeting_id.clone(),
        meeting_title: head.meeting_title,
        body_name: head.body_name,
        chair_id: head.chair_id,
        item_title: head.item_title,
        question: q.question.clone(),
        nonce: q.nonce.clone().unwrap_or_default(),
        opened_at: q.opened_at,
        closed_at: OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| OffsetDateTime::now_utc()),
        electorate,
        method,
        outcome,
        voters: vec![],
        ballots: vec![],
        participations: vec![],
        receipts: vec![],
    }
}

/// A hand count as the secretary enters it (paper fallback).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualInput {
    /// A motion: the three counts.
    #[serde(default)]
    pub counts: Option<vote::Counts>,
    /// An election: votes per candidate id, and the number of ballots (blank ones included).
    #[serde(default)]
    pub candidate_votes: Option<std::collections::BTreeMap<Id, u32>>,
    #[serde(default)]
    pub ballots: Option<u32>,
    /// Members present when the hands were counted (default: checked in now).
    #[serde(default)]
    pub present: Option<u32>,
    pub reason: String,
}

/// Records a hand count for a question not yet closed. Ballots already cast electronically are
/// set aside (their number is in the record); a secret vote's stored choices are dropped.
pub fn manual(
    store: &Store,
    signer: &RecordSigner,
    caller: &Caller,
    meeting_id: &Id,
    question_id: &Id,
    input: ManualInput,
) -> Result<(), ServiceError> {
    let r = rights(store, caller, meeting_id)?;
    if !(r.runs || (r.prepares && matches!(caller, Caller::Staff(_)))) {
        return Err(ServiceError::Forbidden);
    }
    let reason = input.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        return Err(VoteError::BadManualCount.into());
    }
    let entered_by = match caller {
        Caller::Staff(a) => a.username.to_string(),
        Caller::Device { person, .. } => person.name.to_string(),
        Caller::Anonymous | Caller::Display(_) => return Err(ServiceError::Forbidden),
    };
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let (q, electorate_now) = tx.read(|t| {
            let q = records::question(t, meeting_id, question_id)?;
            let h = records::meeting_header(t, meeting_id)?;
            let e = match h {
                Some(h) => Some(electorate(t, &h)?),
                None => None,
            };
            Ok((q, e))
        })?;
        let q = q.ok_or(VoteError::UnknownQuestion)?;
        if q.status == QuestionStatus::Closed {
            return Err(VoteError::Closed.into());
        }
        let now_e = electorate_now.ok_or(ServiceError::NotFound)?;
        let electorate = Electorate {
            members: now_e.members,
            present: input.present.unwrap_or(match q.electorate {
                Some(e) => e.present,
                None => now_e.present,
            }),
        };
        if electorate.present > electorate.members {
            return Err(VoteError::BadManualCount.into());
        }
        let outcome = match (q.question.kind, &input.counts, &input.candidate_votes) {
            (QuestionKind::Motion, Some(c), None) => {
                if c.cast() > electorate.members {
                    return Err(VoteError::BadManualCount.into());
                }
                Outcome::Motion(vote::decide(
                    *c,
                    electorate,
                    q.question.base,
                    q.question.threshold,
                    // The chair's own hand is not recorded in a hand count.
                    TieRule::ThresholdOnly,
                    None,
                ))
            }
            (QuestionKind::Election, None, Some(votes)) => {
                let ballots = input.ballots.ok_or(VoteError::BadManualCount)?;
                if ballots > electorate.members
                    || votes
                        .keys()
                        .any(|k| !q.question.candidates.iter().any(|c| &c.id == k))
                    || votes.values().any(|v| *v > ballots)
                {
                    return Err(VoteError::BadManualCount.into());
                }
                // The same arithmetic as for ballots: rebuild the outcome from the totals.
                let mut outcome = vote::decide_election(&q.question, &[], electorate);
                outcome.ballots = ballots;
                outcome.base_size = match q.question.base {
                    Base::AllMembers => electorate.members,
                    Base::Present => electorate.present,
                    Base::Cast => ballots,
                };
                outcome.required = q.question.threshold.required(outcome.base_size);
                let total: u32 = votes.values().sum();
                outcome.blank = ballots.saturating_sub(total.min(ballots));
                for t in outcome.candidates.iter_mut() {
                    t.votes = votes.get(&t.id).copied().unwrap_or(0);
                }
                vote::elect(&mut outcome);
                Outcome::Election(outcome)
            }
            _ => return Err(VoteError::BadManualCount.into()),
        };
        let set_aside = q.cast;
        if q.question.secrecy == Secrecy::Secret {
            records::drop_secret_choices(tx, question_id)?;
        }
        let head = tx.read(|t| record_head(t, meeting_id, &q.question.item_id))?;
        let record = new_record(
            store,
            meeting_id,
            &q,
            head,
            electorate,
            Method::Manual {
                reason: reason.clone(),
                entered_by: entered_by.clone(),
                set_aside,
            },
            outcome,
        );
        let result = sign(signer, record)?;
        Ok((
            vec![EventBody::VoteClosed {
                meeting_id: meeting_id.clone(),
                question_id: question_id.clone(),
                result: Box::new(result),
            }],
            (),
        ))
    })?;
    Ok(())
}

/// The signed result of a closed question, for anyone with a role in the meeting.
pub fn signed_result(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    question_id: &Id,
) -> Result<SignedResult, ServiceError> {
    visible_header(store, caller, meeting_id)?;
    let (q, result) = store.read(|t| {
        Ok((
            records::question(t, meeting_id, question_id)?,
            records::result(t, question_id)?,
        ))
    })?;
    let q = q.ok_or(VoteError::UnknownQuestion)?;
    if q.status != QuestionStatus::Closed {
        return Err(VoteError::NotOpen.into());
    }
    result.ok_or_else(|| VoteError::UnknownQuestion.into())
}

/// Open votes whose countdown is set, for the timer that closes them: (meeting, question,
/// when).
pub fn countdowns(store: &Store) -> Result<Vec<(Id, Id, OffsetDateTime)>, ServiceError> {
    Ok(store.read(|t| {
        let mut out = Vec::new();
        for m in records::meeting_headers(t)? {
            for q in records::questions(t, &m.id)? {
                if let (QuestionStatus::Open, Some(at)) = (q.status, q.closes_at) {
                    out.push((m.id.clone(), q.question.id.clone(), at));
                }
            }
        }
        Ok(out)
    })?)
}
