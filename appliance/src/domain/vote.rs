//! Voting rules (biểu quyết): what a question asks, who counts, and whether it passed. Pure
//! arithmetic in whole numbers, so no rounding ever decides a vote.
//!
//! The law (Law on Organisation of Local Government 2015, Art. 114 and 117; Art. 88 for the
//! People's Council) gives the defaults: a UBND decision needs more than half of *all* members
//! approving, and when approvals and disapprovals are equal, the side the chair voted for wins;
//! an HĐND resolution needs more than half of all delegates, some need two thirds. Each
//! question records the base and the threshold it was decided by.

use super::quorum::Threshold;
use serde::{Deserialize, Serialize};

/// The three legal choices on a motion.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    /// Tán thành.
    Approve,
    /// Không tán thành.
    Disapprove,
    /// Không biểu quyết: took part without deciding.
    Abstain,
}

/// Who counts as the base the threshold is taken of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// Every member of the body invited to the meeting (tổng số thành viên): the law's default.
    AllMembers,
    /// Members present when the vote opened.
    Present,
    /// Ballots cast, "không biểu quyết" included.
    Cast,
}

/// What happens when approvals and disapprovals are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TieRule {
    /// The side the chair voted for wins (UBND, Art. 117). In a secret vote the chair's side is
    /// not known, so the threshold alone decides.
    ChairDecides,
    /// The threshold alone decides.
    ThresholdOnly,
}

/// How many approved, disapproved and abstained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Counts {
    pub approve: u32,
    pub disapprove: u32,
    pub abstain: u32,
}

impl Counts {
    pub fn cast(&self) -> u32 {
        self.approve
            .saturating_add(self.disapprove)
            .saturating_add(self.abstain)
    }

    pub fn add(&mut self, c: Choice) {
        match c {
            Choice::Approve => self.approve += 1,
            Choice::Disapprove => self.disapprove += 1,
            Choice::Abstain => self.abstain += 1,
        }
    }
}

/// The size of the body and of the room when the vote was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Electorate {
    /// Members invited (with a vote).
    pub members: u32,
    /// Members present when the vote opened.
    pub present: u32,
}

/// The decision on a motion, with every figure it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Decision {
    pub counts: Counts,
    pub base: Base,
    /// The size of the base.
    pub base_size: u32,
    pub threshold: Threshold,
    /// Approvals needed.
    pub required: u32,
    /// Members who did not vote (of all members).
    pub not_voted: u32,
    pub passed: bool,
    /// Approvals and disapprovals were equal and the chair's side decided.
    pub tie_decided_by_chair: bool,
}

/// The size of the base for these counts.
pub fn base_size(base: Base, electorate: Electorate, counts: Counts) -> u32 {
    match base {
        Base::AllMembers => electorate.members,
        Base::Present => electorate.present,
        Base::Cast => counts.cast(),
    }
}

/// Decides a motion. `chair` is the chair's own choice when it is known (a named vote in which
/// the chair voted); it matters only for a tie under [`TieRule::ChairDecides`].
pub fn decide(
    counts: Counts,
    electorate: Electorate,
    base: Base,
    threshold: Threshold,
    tie: TieRule,
    chair: Option<Choice>,
) -> Decision {
    let size = base_size(base, electorate, counts);
    let required = threshold.required(size);
    let by_threshold = size > 0 && counts.approve >= required;
    let tied = counts.approve == counts.disapprove && counts.approve > 0;
    let chair_side = match (tie, chair) {
        (TieRule::ChairDecides, Some(Choice::Approve)) if tied => Some(true),
        (TieRule::ChairDecides, Some(Choice::Disapprove)) if tied => Some(false),
        _ => None,
    };
    Decision {
        counts,
        base,
        base_size: size,
        threshold,
        required,
        not_voted: electorate.members.saturating_sub(counts.cast()),
        passed: chair_side.unwrap_or(by_threshold),
        tie_decided_by_chair: chair_side.is_some(),
    }
}

/// Named (công khai: who voted how is part of the result) or secret (kín).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Secrecy {
    Named,
    Secret,
}

/// A motion (the three legal choices) or an election among candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Motion,
    Election,
}

/// Someone who may be elected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Candidate {
    pub id: super::records::Id,
    pub name: String,
}

/// What one ballot says: one of the three choices on a motion, or the candidates chosen in an
/// election (none: took part without choosing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Marked {
    Choice(Choice),
    Candidates(Vec<super::records::Id>),
}

impl Marked {
    /// The canonical text of the mark inside a signed payload: `approve`, `disapprove`,
    /// `abstain`, or `c:` and the candidates' ids, sorted, joined by commas.
    pub fn canonical(&self) -> String {
        match self {
            Marked::Choice(Choice::Approve) => "approve".into(),
            Marked::Choice(Choice::Disapprove) => "disapprove".into(),
            Marked::Choice(Choice::Abstain) => "abstain".into(),
            Marked::Candidates(ids) => {
                let mut ids: Vec<&str> = ids.iter().map(|i| i.as_str()).collect();
                ids.sort_unstable();
                format!("c:{}", ids.join(","))
            }
        }
    }
}

/// The version of the signed ballot format.
pub const BALLOT_FORMAT: &str = "phonghop-ballot/1";
/// The version of the signed "I took part" record of a secret vote.
pub const PARTICIPATION_FORMAT: &str = "phonghop-participation/1";

/// The exact bytes a tablet signs for a named ballot: every field is an id, a hex nonce or a
/// fixed word, so the text is canonical without escaping.
pub fn ballot_payload(
    node: &str,
    meeting: &super::records::Id,
    question: &super::records::Id,
    nonce: &str,
    ballot: &super::records::Id,
    mark: &Marked,
) -> String {
    format!(
        "{BALLOT_FORMAT}|{node}|{meeting}|{question}|{nonce}|{ballot}|{}",
        mark.canonical()
    )
}

/// The exact bytes a tablet signs to take part in a secret vote: who, not how.
pub fn participation_payload(
    node: &str,
    meeting: &super::records::Id,
    question: &super::records::Id,
    nonce: &str,
    person: &super::records::Id,
) -> String {
    format!("{PARTICIPATION_FORMAT}|{node}|{meeting}|{question}|{nonce}|{person}")
}

/// Why a vote command was refused. Each has its own API code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VoteError {
    #[error("the question's text must be 1 to 500 characters")]
    BadTitle,
    #[error("an election needs 1 to 50 candidates with distinct ids and names")]
    BadCandidates,
    #[error("the number of choices must be between 1 and the number of candidates")]
    BadMaxChoices,
    #[error("a motion has no candidates")]
    MotionWithCandidates,
    #[error("a secret ballot cannot be changed")]
    SecretChangeable,
    #[error("the countdown must be 10 to 3600 seconds")]
    BadCountdown,
    #[error("the threshold is not a fraction between 0 and 1")]
    BadThreshold,
    #[error("no such question")]
    UnknownQuestion,
    #[error("the question has been opened and can no longer be changed")]
    AlreadyOpened,
    #[error("the vote is not open")]
    NotOpen,
    #[error("the vote is closed")]
    Closed,
    #[error("another vote is open in this meeting")]
    AnotherOpen,
    #[error("the quorum is not reached")]
    NoQuorum,
    #[error("the meeting is not running")]
    MeetingNotRunning,
    #[error("only a voting member's tablet can vote")]
    NotMember,
    #[error("the member is not checked in")]
    NotPresent,
    #[error("this person has already voted")]
    AlreadyVoted,
    #[error("the mark does not fit the question")]
    BadMark,
    #[error("the ballot's signature does not verify")]
    BadSignature,
    #[error("a secret ballot needs a receipt (64 hex digits), a named one a ballot id")]
    BadReceipt,
    #[error("the hand count does not add up or has no reason")]
    BadManualCount,
    #[error("the record has no signature that verifies")]
    Unsigned,
}

/// The largest number of candidates in an election.
pub const MAX_CANDIDATES: usize = 50;
/// Characters in a question's text.
pub const MAX_TITLE_CHARS: usize = 500;

/// A question as prepared: what is asked and how it is decided. Permanent (it is in
/// `question.added`, `question.updated` and the signed result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct QuestionEntry {
    pub id: super::records::Id,
    /// The agenda item it belongs to.
    pub item_id: super::records::Id,
    pub title: String,
    pub kind: QuestionKind,
    /// For an election: who may be chosen.
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    /// For an election: how many may be chosen (the seats). 1 for a motion.
    pub max_choices: u32,
    pub secrecy: Secrecy,
    pub base: Base,
    pub threshold: Threshold,
    pub tie: TieRule,
    /// Whether a ballot may be replaced before close (never for a secret vote).
    pub changeable: bool,
    /// Closes by itself this many seconds after opening.
    #[serde(default)]
    pub countdown_seconds: Option<u32>,
}

impl QuestionEntry {
    /// Checks a question as the secretary typed it; trims the texts.
    pub fn checked(mut self) -> Result<Self, VoteError> {
        let title = self.title.trim();
        if title.is_empty()
            || title.chars().count() > MAX_TITLE_CHARS
            || title.chars().any(|c| c.is_control() && c != '\n')
        {
            return Err(VoteError::BadTitle);
        }
        self.title = title.to_owned();
        if Threshold::new(
            self.threshold.numerator,
            self.threshold.denominator,
            self.threshold.comparison,
        )
        .is_err()
            || self.threshold.numerator == 0
        {
            return Err(VoteError::BadThreshold);
        }
        match self.kind {
            QuestionKind::Motion => {
                if !self.candidates.is_empty() {
                    return Err(VoteError::MotionWithCandidates);
                }
                self.max_choices = 1;
            }
            QuestionKind::Election => {
                if self.candidates.is_empty() || self.candidates.len() > MAX_CANDIDATES {
                    return Err(VoteError::BadCandidates);
                }
                let mut ids = std::collections::BTreeSet::new();
                let mut names = std::collections::BTreeSet::new();
                for c in self.candidates.iter_mut() {
                    let n = c.name.trim();
                    if n.is_empty() || n.chars().count() > 200 || n.chars().any(char::is_control) {
                        return Err(VoteError::BadCandidates);
                    }
                    c.name = n.to_owned();
                    if !ids.insert(c.id.clone()) || !names.insert(c.name.to_lowercase()) {
                        return Err(VoteError::BadCandidates);
                    }
                }
                let n = u32::try_from(self.candidates.len()).unwrap_or(u32::MAX);
                if self.max_choices == 0 || self.max_choices > n {
                    return Err(VoteError::BadMaxChoices);
                }
            }
        }
        if self.secrecy == Secrecy::Secret && self.changeable {
            return Err(VoteError::SecretChangeable);
        }
        if let Some(s) = self.countdown_seconds {
            if !(10..=3600).contains(&s) {
                return Err(VoteError::BadCountdown);
            }
        }
        Ok(self)
    }

    /// Whether `mark` is a valid answer to this question.
    pub fn accepts(&self, mark: &Marked) -> bool {
        match (self.kind, mark) {
            (QuestionKind::Motion, Marked::Choice(_)) => true,
            (QuestionKind::Election, Marked::Candidates(ids)) => {
                let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
                distinct.len() == ids.len()
                    && ids.len() <= self.max_choices as usize
                    && ids
                        .iter()
                        .all(|i| self.candidates.iter().any(|c| &c.id == i))
            }
            _ => false,
        }
    }
}

/// One candidate's votes in an election.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CandidateTally {
    pub id: super::records::Id,
    pub name: String,
    pub votes: u32,
    pub elected: bool,
}

/// The outcome of an election: each candidate's votes, in the question's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ElectionOutcome {
    /// Ballots cast, blank ones included.
    pub ballots: u32,
    /// Ballots that chose nobody.
    pub blank: u32,
    pub base: Base,
    pub base_size: u32,
    pub threshold: Threshold,
    /// Votes a candidate needs.
    pub required: u32,
    pub seats: u32,
    pub candidates: Vec<CandidateTally>,
    /// Candidates who reached the threshold tied for the last seat: none of the tied is
    /// elected and another round is needed.
    pub tie_at_last_seat: bool,
}

/// Decides an election: candidates reaching the threshold are elected in order of votes, up
/// to the seats; a tie for the last seat elects none of the tied.
pub fn decide_election(
    question: &QuestionEntry,
    marks: &[Marked],
    electorate: Electorate,
) -> ElectionOutcome {
    let mut tallies: Vec<CandidateTally> = question
        .candidates
        .iter()
        .map(|c| CandidateTally {
            id: c.id.clone(),
            name: c.name.clone(),
            votes: 0,
            elected: false,
        })
        .collect();
    let mut blank = 0u32;
    for m in marks {
        match m {
            Marked::Candidates(ids) if !ids.is_empty() => {
                for t in tallies.iter_mut().filter(|t| ids.contains(&t.id)) {
                    t.votes += 1;
                }
            }
            _ => blank += 1,
        }
    }
    let ballots = u32::try_from(marks.len()).unwrap_or(u32::MAX);
    let size = match question.base {
        Base::AllMembers => electorate.members,
        Base::Present => electorate.present,
        Base::Cast => ballots,
    };
    let required = question.threshold.required(size);
    let mut outcome = ElectionOutcome {
        ballots,
        blank,
        base: question.base,
        base_size: size,
        threshold: question.threshold,
        required,
        seats: question.max_choices,
        candidates: tallies,
        tie_at_last_seat: false,
    };
    elect(&mut outcome);
    outcome
}

/// Marks who is elected from the votes: candidates reaching `required` in order of votes, up
/// to the seats; a tie for the last seat elects none of the tied.
pub fn elect(o: &mut ElectionOutcome) {
    let size = o.base_size;
    let required = o.required;
    let mut reaching: Vec<u32> = o
        .candidates
        .iter()
        .filter(|t| size > 0 && t.votes >= required)
        .map(|t| t.votes)
        .collect();
    reaching.sort_unstable_by(|a, b| b.cmp(a));
    let seats = o.seats as usize;
    o.tie_at_last_seat = false;
    // The lowest count still elected.
    let cutoff = if reaching.len() <= seats {
        reaching.last().copied()
    } else if seats == 0 {
        None
    } else {
        let last_in = reaching[seats - 1];
        let first_out = reaching[seats];
        if last_in == first_out {
            o.tie_at_last_seat = true;
            Some(last_in.saturating_add(1))
        } else {
            Some(last_in)
        }
    };
    for t in o.candidates.iter_mut() {
        t.elected = cutoff.is_some_and(|cut| size > 0 && t.votes >= required && t.votes >= cut);
    }
}

/// What a question decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Outcome {
    Motion(Decision),
    Election(ElectionOutcome),
}

impl Outcome {
    /// Counts the marks of a question under its rules. `chair` is the chair's own mark when it
    /// is known (a named vote in which the chair voted).
    pub fn count(
        question: &QuestionEntry,
        marks: &[Marked],
        electorate: Electorate,
        chair: Option<&Marked>,
    ) -> Outcome {
        match question.kind {
            QuestionKind::Motion => {
                let mut counts = Counts::default();
                for m in marks {
                    if let Marked::Choice(c) = m {
                        counts.add(*c);
                    }
                }
                let chair = match chair {
                    Some(Marked::Choice(c)) => Some(*c),
                    _ => None,
                };
                Outcome::Motion(decide(
                    counts,
                    electorate,
                    question.base,
                    question.threshold,
                    question.tie,
                    chair,
                ))
            }
            QuestionKind::Election => {
                Outcome::Election(decide_election(question, marks, electorate))
            }
        }
    }

    /// Ballots counted.
    pub fn cast(&self) -> u32 {
        match self {
            Outcome::Motion(d) => d.counts.cast(),
            Outcome::Election(e) => e.ballots,
        }
    }
}

/// A named ballot as the tablet sent it and the box accepted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SignedBallot {
    /// Chosen by the tablet; a retry carries the same.
    pub id: super::records::Id,
    pub person_id: super::records::Id,
    pub device_id: super::records::Id,
    pub mark: Marked,
    /// ECDSA P-256 / SHA-256, IEEE P1363, base64url, over [`ballot_payload`].
    pub signature: String,
}

/// A signed "this person took part" record of a secret vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Participation {
    pub person_id: super::records::Id,
    pub device_id: super::records::Id,
    /// Over [`participation_payload`].
    pub signature: String,
}

/// A secret choice as published at close: the voter's receipt and the mark, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ReceiptMark {
    pub receipt: String,
    pub mark: Marked,
}

/// Whether `s` is a receipt: 64 lower-case hex digits (a SHA-256).
pub fn is_receipt(s: &str) -> bool {
    super::records::is_lower_hex(s, 64)
}

/// A voter named in the result, with the key their tablet signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct VoterKey {
    pub person_id: super::records::Id,
    pub name: String,
    pub device_id: super::records::Id,
    /// The device's P-256 public key as registered at pairing.
    pub device_key: super::device::DeviceKey,
}

/// How the result was obtained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Method {
    /// Ballots from the tablets.
    Electronic,
    /// A hand count entered by staff (paper fallback); electronic ballots received before it
    /// were set aside.
    Manual {
        reason: String,
        entered_by: String,
        set_aside: u32,
    },
}

/// The version of the result record format.
pub const RESULT_FORMAT: &str = "phonghop-vote-result/1";

/// The result of one question: everything needed to check it offline. The node signs its
/// RFC 8785 canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ResultRecord {
    pub format: String,
    pub node: String,
    pub meeting_id: super::records::Id,
    pub meeting_title: String,
    pub body_name: String,
    /// The meeting's chair, whose own ballot decides a tie under the UBND rule.
    pub chair_id: Option<super::records::Id>,
    pub item_title: String,
    pub question: QuestionEntry,
    /// The server nonce of the opening ("" for a hand count of a question never opened).
    pub nonce: String,
    #[ts(type = "string | null")]
    #[serde(with = "time::serde::rfc3339::option")]
    pub opened_at: Option<time::OffsetDateTime>,
    #[ts(type = "string")]
    #[serde(with = "time::serde::rfc3339")]
    pub closed_at: time::OffsetDateTime,
    pub electorate: Electorate,
    pub method: Method,
    pub outcome: Outcome,
    /// Everyone who voted (named) or took part (secret), with their device's key.
    pub voters: Vec<VoterKey>,
    /// A named vote: every ballot, in the order of `voters`.
    pub ballots: Vec<SignedBallot>,
    /// A secret vote: every participation record, in the order of `voters`.
    pub participations: Vec<Participation>,
    /// A secret vote: every choice with its receipt, sorted by receipt.
    pub receipts: Vec<ReceiptMark>,
}

/// A result record with the node's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SignedResult {
    pub record: ResultRecord,
    /// ECDSA P-256 / SHA-256, IEEE P1363, base64url, by the node's record-signing key over
    /// the RFC 8785 canonical JSON of `record`.
    pub signature: String,
    /// The node's record-signing certificate (PEM), issued by the box's root.
    pub certificate: String,
}

/// What checking a result record found wrong, one line each.
pub fn check_record(r: &ResultRecord) -> Vec<String> {
    let mut problems = Vec::new();
    let q = &r.question;
    let electronic = matches!(r.method, Method::Electronic);
    if r.format != RESULT_FORMAT {
        problems.push(format!("unknown format {:?}", r.format));
    }
    let find_key = |person: &super::records::Id, device: &super::records::Id| {
        r.voters
            .iter()
            .find(|v| &v.person_id == person && &v.device_id == device)
    };
    let mut persons = std::collections::BTreeSet::new();
    for v in &r.voters {
        if !persons.insert(v.person_id.clone()) {
            problems.push(format!("{} is listed twice among the voters", v.name));
        }
    }
    // One ballot (or participation) per person: with as many as there are voters, a second
    // from one person means another voter's is missing.
    let mut once = std::collections::BTreeSet::new();
    for p in r
        .ballots
        .iter()
        .map(|b| &b.person_id)
        .chain(r.participations.iter().map(|p| &p.person_id))
    {
        if !once.insert(p) {
            problems.push(format!("{p} has more than one ballot"));
        }
    }
    match (q.secrecy, electronic) {
        (Secrecy::Named, true) => {
            if !r.participations.is_empty() || !r.receipts.is_empty() {
                problems.push("a named vote carries secret-ballot records".into());
            }
            if r.ballots.len() != r.voters.len() {
                problems.push("the ballots and the voters differ in number".into());
            }
            for b in &r.ballots {
                let Some(v) = find_key(&b.person_id, &b.device_id) else {
                    problems.push(format!("ballot {} has no voter with that device", b.id));
                    continue;
                };
                if !q.accepts(&b.mark) {
                    problems.push(format!("ballot {} does not fit the question", b.id));
                }
                let payload =
                    ballot_payload(&r.node, &r.meeting_id, &q.id, &r.nonce, &b.id, &b.mark);
                if v.device_key
                    .verify(payload.as_bytes(), &b.signature)
                    .is_err()
                {
                    problems.push(format!("ballot {} of {}: bad signature", b.id, v.name));
                }
            }
        }
        (Secrecy::Secret, true) => {
            if !r.ballots.is_empty() {
                problems.push("a secret vote carries named ballots".into());
            }
            if r.participations.len() != r.voters.len() {
                problems.push("the participation records and the voters differ in number".into());
            }
            if r.receipts.len() != r.participations.len() {
                problems.push(format!(
                    "{} choices but {} people took part",
                    r.receipts.len(),
                    r.participations.len()
                ));
            }
            for p in &r.participations {
                let Some(v) = find_key(&p.person_id, &p.device_id) else {
                    problems.push(format!("participation of {} has no voter", p.person_id));
                    continue;
                };
                let payload =
                    participation_payload(&r.node, &r.meeting_id, &q.id, &r.nonce, &p.person_id);
                if v.device_key
                    .verify(payload.as_bytes(), &p.signature)
                    .is_err()
                {
                    problems.push(format!("participation of {}: bad signature", v.name));
                }
            }
            let sorted = r.receipts.windows(2).all(|w| w[0].receipt < w[1].receipt);
            if !sorted {
                problems.push("the receipts are not sorted and distinct".into());
            }
            for c in &r.receipts {
                if !is_receipt(&c.receipt) || !q.accepts(&c.mark) {
                    problems.push(format!("receipt {} is malformed", c.receipt));
                }
            }
        }
        (_, false) => {
            if !r.ballots.is_empty() || !r.receipts.is_empty() || !r.participations.is_empty() {
                problems.push("a hand count carries electronic ballots".into());
            }
            if recount_hand(r).as_ref() != Some(&r.outcome) {
                problems.push("the hand count's figures do not give the recorded outcome".into());
            }
        }
    }
    if electronic {
        let marks: Vec<Marked> = match q.secrecy {
            Secrecy::Named => r.ballots.iter().map(|b| b.mark.clone()).collect(),
            Secrecy::Secret => r.receipts.iter().map(|c| c.mark.clone()).collect(),
        };
        let chair = match q.secrecy {
            Secrecy::Named => chair_mark(r),
            Secrecy::Secret => None,
        };
        let recount = Outcome::count(q, &marks, r.electorate, chair);
        if recount != r.outcome {
            problems.push("the recount differs from the recorded outcome".into());
        }
    }
    problems
}

/// The outcome a hand count's own totals give under the question's rules (the chair's hand is
/// not recorded, so the threshold alone decides a tie), or `None` if the totals do not fit
/// the question.
pub fn recount_hand(r: &ResultRecord) -> Option<Outcome> {
    let q = &r.question;
    match (&r.outcome, q.kind) {
        (Outcome::Motion(d), QuestionKind::Motion) => Some(Outcome::Motion(decide(
            d.counts,
            r.electorate,
            q.base,
            q.threshold,
            TieRule::ThresholdOnly,
            None,
        ))),
        (Outcome::Election(e), QuestionKind::Election) => {
            let mut again = decide_election(q, &[], r.electorate);
            again.ballots = e.ballots;
            again.base_size = match q.base {
                Base::AllMembers => r.electorate.members,
                Base::Present => r.electorate.present,
                Base::Cast => e.ballots,
            };
            again.required = q.threshold.required(again.base_size);
            let mut total = 0u32;
            for t in again.candidates.iter_mut() {
                let recorded = e.candidates.iter().find(|c| c.id == t.id)?;
                t.votes = recorded.votes;
                total = total.saturating_add(recorded.votes);
            }
            if e.candidates.len() != again.candidates.len() {
                return None;
            }
            again.blank = e.ballots.saturating_sub(total.min(e.ballots));
            elect(&mut again);
            Some(Outcome::Election(again))
        }
        _ => None,
    }
}

/// The chair's own ballot in a named vote: it decides a tie under the UBND rule.
pub fn chair_mark(r: &ResultRecord) -> Option<&Marked> {
    let chair = r.chair_id.as_ref()?;
    r.ballots
        .iter()
        .find(|b| &b.person_id == chair)
        .map(|b| &b.mark)
}

/// Where a question is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum QuestionStatus {
    #[default]
    Draft,
    Open,
    Closed,
}

/// A question as the read model keeps it: what was prepared, and how far the vote went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Question {
    pub question: QuestionEntry,
    /// Its place in the log when it was added: questions list in that order.
    pub ord: u64,
    pub status: QuestionStatus,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub electorate: Option<Electorate>,
    #[ts(type = "string | null")]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub opened_at: Option<time::OffsetDateTime>,
    #[ts(type = "string | null")]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub closes_at: Option<time::OffsetDateTime>,
    /// Ballots (named) or participations (secret) so far.
    pub cast: u32,
    #[ts(type = "string | null")]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub closed_at: Option<time::OffsetDateTime>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// Whether the result is a hand count.
    #[serde(default)]
    pub manual: bool,
}

impl Question {
    pub fn new(question: QuestionEntry, ord: u64) -> Self {
        Question {
            question,
            ord,
            status: QuestionStatus::Draft,
            nonce: None,
            electorate: None,
            opened_at: None,
            closes_at: None,
            cast: 0,
            closed_at: None,
            outcome: None,
            manual: false,
        }
    }
}

/// What one voter has cast on a question, as the read model keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Cast {
    Named {
        ballot: SignedBallot,
        /// The ids of this person's earlier ballots that this one replaced (a changeable
        /// vote): a late retry of one of them changes nothing.
        #[serde(default)]
        replaced: Vec<super::records::Id>,
    },
    Secret {
        participation: Participation,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::quorum::Comparison;

    const HALF: Threshold = Threshold::MORE_THAN_HALF;
    const TWO_THIRDS: Threshold = Threshold::TWO_THIRDS;

    fn c(approve: u32, disapprove: u32, abstain: u32) -> Counts {
        Counts {
            approve,
            disapprove,
            abstain,
        }
    }

    /// The Vietnamese rules as a table: (case, counts, members, present, base, threshold, tie
    /// rule, the chair's choice) → (base size, approvals required, passed, tie decided by chair).
    #[test]
    fn payloads_are_canonical() {
        let id = |n: u8| crate::domain::records::Id::parse(&format!("{n:032x}")).unwrap();
        let m = Marked::Candidates(vec![id(9), id(2)]);
        assert_eq!(m.canonical(), format!("c:{},{}", id(2), id(9)));
        assert_eq!(
            ballot_payload(
                "n0de",
                &id(1),
                &id(3),
                "ab",
                &id(4),
                &Marked::Choice(Choice::Approve)
            ),
            format!(
                "phonghop-ballot/1|n0de|{}|{}|ab|{}|approve",
                id(1),
                id(3),
                id(4)
            )
        );
    }

    #[test]
    fn the_rules_as_a_table_of_cases() {
        use Base::*;
        use Choice::*;
        use TieRule::*;
        #[allow(clippy::type_complexity)]
        let cases: &[(
            &str,
            Counts,
            u32,
            u32,
            Base,
            Threshold,
            TieRule,
            Option<Choice>,
            (u32, u32, bool, bool),
        )] = &[
            (
                "UBND 9 members, 5 approve: more than half of all",
                c(5, 3, 1),
                9,
                9,
                AllMembers,
                HALF,
                ChairDecides,
                None,
                (9, 5, true, false),
            ),
            (
                "UBND 9 members, 4 approve: not more than half of all",
                c(4, 2, 0),
                9,
                7,
                AllMembers,
                HALF,
                ChairDecides,
                None,
                (9, 5, false, false),
            ),
            (
                "10 members, exactly half approve is not more than half",
                c(5, 1, 0),
                10,
                10,
                AllMembers,
                HALF,
                ThresholdOnly,
                None,
                (10, 6, false, false),
            ),
            (
                "UBND tie 4–4, the chair approved: passes",
                c(4, 4, 1),
                9,
                9,
                AllMembers,
                HALF,
                ChairDecides,
                Some(Approve),
                (9, 5, true, true),
            ),
            (
                "UBND tie 4–4, the chair disapproved: fails",
                c(4, 4, 1),
                9,
                9,
                AllMembers,
                HALF,
                ChairDecides,
                Some(Disapprove),
                (9, 5, false, true),
            ),
            (
                "tie 5–5 of 10, the chair disapproved though 5 < 6 anyway",
                c(5, 5, 0),
                10,
                10,
                AllMembers,
                HALF,
                ChairDecides,
                Some(Disapprove),
                (10, 6, false, true),
            ),
            (
                "tie, the chair abstained: the threshold decides",
                c(4, 4, 1),
                9,
                9,
                AllMembers,
                HALF,
                ChairDecides,
                Some(Abstain),
                (9, 5, false, false),
            ),
            (
                "tie in a secret vote (chair unknown): the threshold decides",
                c(4, 4, 1),
                9,
                9,
                AllMembers,
                HALF,
                ChairDecides,
                None,
                (9, 5, false, false),
            ),
            (
                "tie under threshold-only rules",
                c(4, 4, 1),
                9,
                9,
                AllMembers,
                HALF,
                ThresholdOnly,
                Some(Approve),
                (9, 5, false, false),
            ),
            (
                "no votes at all is no tie",
                c(0, 0, 0),
                9,
                9,
                AllMembers,
                HALF,
                ChairDecides,
                Some(Approve),
                (9, 5, false, false),
            ),
            (
                "HĐND 2/3 of all 30: 20 approve passes",
                c(20, 5, 2),
                30,
                27,
                AllMembers,
                TWO_THIRDS,
                ThresholdOnly,
                None,
                (30, 20, true, false),
            ),
            (
                "HĐND 2/3 of all 31: 20 approve fails (needs 21)",
                c(20, 5, 2),
                31,
                27,
                AllMembers,
                TWO_THIRDS,
                ThresholdOnly,
                None,
                (31, 21, false, false),
            ),
            (
                "base present: 7 present, 4 approve passes",
                c(4, 2, 1),
                12,
                7,
                Present,
                HALF,
                ThresholdOnly,
                None,
                (7, 4, true, false),
            ),
            (
                "base present: absent members do not count",
                c(3, 3, 1),
                12,
                7,
                Present,
                HALF,
                ThresholdOnly,
                None,
                (7, 4, false, false),
            ),
            (
                "base cast: abstentions count in the base",
                c(4, 2, 2),
                12,
                10,
                Cast,
                HALF,
                ThresholdOnly,
                None,
                (8, 5, false, false),
            ),
            (
                "base cast: 5 of 8 cast passes",
                c(5, 2, 1),
                12,
                10,
                Cast,
                HALF,
                ThresholdOnly,
                None,
                (8, 5, true, false),
            ),
            (
                "base cast with nobody voting never passes",
                c(0, 0, 0),
                12,
                10,
                Cast,
                HALF,
                ThresholdOnly,
                None,
                (0, 1, false, false),
            ),
            (
                "custom 3/4 at least of 8 present: 6 passes",
                c(6, 2, 0),
                9,
                8,
                Present,
                Threshold {
                    numerator: 3,
                    denominator: 4,
                    comparison: Comparison::AtLeast,
                },
                ThresholdOnly,
                None,
                (8, 6, true, false),
            ),
            (
                "an empty body never passes",
                c(0, 0, 0),
                0,
                0,
                AllMembers,
                HALF,
                ThresholdOnly,
                None,
                (0, 1, false, false),
            ),
        ];
        for (name, counts, members, present, base, threshold, tie, chair, want) in cases {
            let d = decide(
                *counts,
                Electorate {
                    members: *members,
                    present: *present,
                },
                *base,
                *threshold,
                *tie,
                *chair,
            );
            assert_eq!(
                (d.base_size, d.required, d.passed, d.tie_decided_by_chair),
                *want,
                "{name}"
            );
            assert_eq!(d.not_voted, members.saturating_sub(counts.cast()), "{name}");
        }
    }

    fn cand(n: u8, name: &str) -> Candidate {
        Candidate {
            id: crate::domain::records::Id::parse(&format!("{n:032x}")).unwrap(),
            name: name.into(),
        }
    }

    fn election(seats: u32, base: Base) -> QuestionEntry {
        QuestionEntry {
            id: crate::domain::records::Id::parse(&format!("{:032x}", 99)).unwrap(),
            item_id: crate::domain::records::Id::parse(&format!("{:032x}", 98)).unwrap(),
            title: "Bầu Phó Chủ tịch UBND xã".into(),
            kind: QuestionKind::Election,
            candidates: vec![cand(1, "An"), cand(2, "Bình"), cand(3, "Chi")],
            max_choices: seats,
            secrecy: Secrecy::Secret,
            base,
            threshold: HALF,
            tie: TieRule::ThresholdOnly,
            changeable: false,
            countdown_seconds: None,
        }
    }

    fn pick(ns: &[u8]) -> Marked {
        Marked::Candidates(
            ns.iter()
                .map(|n| crate::domain::records::Id::parse(&format!("{n:032x}")).unwrap())
                .collect(),
        )
    }

    /// Elections as a table: (case, seats, base, members, present, ballots) → who is elected,
    /// and whether a tie for the last seat needs another round.
    #[test]
    fn elections_as_a_table_of_cases() {
        #[allow(clippy::type_complexity)]
        let cases: &[(&str, u32, Base, u32, u32, Vec<Marked>, (&[&str], bool))] = &[
            (
                "1 seat of 9: 5 votes is more than half of all",
                1,
                Base::AllMembers,
                9,
                9,
                [vec![pick(&[1]); 5], vec![pick(&[2]); 4]].concat(),
                (&["An"], false),
            ),
            (
                "1 seat of 9: 4 votes is not enough, nobody is elected",
                1,
                Base::AllMembers,
                9,
                8,
                [vec![pick(&[1]); 4], vec![pick(&[2]); 4]].concat(),
                (&[], false),
            ),
            (
                "2 seats: the two most voted above the threshold",
                2,
                Base::AllMembers,
                9,
                9,
                [
                    vec![pick(&[1, 2]); 5],
                    vec![pick(&[1, 3]); 2],
                    vec![pick(&[3]); 2],
                ]
                .concat(),
                (&["An", "Bình"], false),
            ),
            (
                "2 seats, three reach the threshold, tie for the last seat: only the first",
                2,
                Base::AllMembers,
                9,
                9,
                [
                    vec![pick(&[1, 2]); 3],
                    vec![pick(&[1, 3]); 3],
                    vec![pick(&[2, 3]); 3],
                ]
                .concat(),
                (&[], true),
            ),
            (
                "2 seats, first clear, the next two tied for the second seat (at least 1/2)",
                2,
                Base::AllMembers,
                10,
                10,
                [vec![pick(&[1, 2]); 5], vec![pick(&[1, 3]); 5]].concat(),
                (&["An"], true),
            ),
            (
                "2 seats, first clear, second below the threshold: one elected, no tie",
                2,
                Base::AllMembers,
                9,
                9,
                [
                    vec![pick(&[1, 2]); 3],
                    vec![pick(&[1, 3]); 3],
                    vec![pick(&[1]); 3],
                ]
                .concat(),
                (&["An"], false),
            ),
            (
                "base present: 4 of 7 present elects",
                1,
                Base::Present,
                12,
                7,
                [vec![pick(&[3]); 4], vec![pick(&[]); 3]].concat(),
                (&["Chi"], false),
            ),
            (
                "base cast: blank ballots count in the base",
                1,
                Base::Cast,
                12,
                10,
                [vec![pick(&[3]); 4], vec![pick(&[]); 4]].concat(),
                (&[], false),
            ),
        ];
        for (name, seats, base, members, present, marks, (want, tie)) in cases {
            let mut q = election(*seats, *base);
            if name.contains("at least 1/2") {
                q.threshold = Threshold {
                    numerator: 1,
                    denominator: 2,
                    comparison: Comparison::AtLeast,
                };
            }
            let q = q.checked().unwrap();
            let o = decide_election(
                &q,
                marks,
                Electorate {
                    members: *members,
                    present: *present,
                },
            );
            let elected: Vec<&str> = o
                .candidates
                .iter()
                .filter(|c| c.elected)
                .map(|c| c.name.as_str())
                .collect();
            assert_eq!(&elected[..], *want, "{name}");
            assert_eq!(o.tie_at_last_seat, *tie, "{name}");
            assert_eq!(o.ballots as usize, marks.len(), "{name}");
        }
    }

    #[test]
    fn questions_are_checked_and_marks_must_fit() {
        let q = election(2, Base::AllMembers).checked().unwrap();
        assert!(q.accepts(&pick(&[1, 2])));
        assert!(q.accepts(&pick(&[])));
        assert!(!q.accepts(&pick(&[1, 2, 3])), "more than the seats");
        assert!(!q.accepts(&pick(&[1, 1])), "the same candidate twice");
        assert!(!q.accepts(&pick(&[7])), "not a candidate");
        assert!(!q.accepts(&Marked::Choice(Choice::Approve)));
        let mut bad = election(4, Base::AllMembers);
        assert_eq!(bad.clone().checked().unwrap_err(), VoteError::BadMaxChoices);
        bad.max_choices = 1;
        bad.candidates.push(cand(4, " an "));
        assert_eq!(bad.checked().unwrap_err(), VoteError::BadCandidates);
        let mut secret_changeable = election(1, Base::AllMembers);
        secret_changeable.changeable = true;
        assert_eq!(
            secret_changeable.checked().unwrap_err(),
            VoteError::SecretChangeable
        );
        let mut blank = election(1, Base::AllMembers);
        blank.title = "  ".into();
        assert_eq!(blank.checked().unwrap_err(), VoteError::BadTitle);
        let mut zero = election(1, Base::AllMembers);
        zero.threshold.numerator = 0;
        assert_eq!(zero.checked().unwrap_err(), VoteError::BadThreshold);
        let mut motion = election(1, Base::AllMembers);
        motion.kind = QuestionKind::Motion;
        assert_eq!(
            motion.checked().unwrap_err(),
            VoteError::MotionWithCandidates
        );
    }

    /// A record signed by real device keys checks clean; any change to a mark, a signature, the
    /// outcome or the list of receipts is found.
    #[test]
    fn check_record_finds_every_kind_of_change() {
        use base64::Engine;
        use p256::ecdsa::{signature::Signer, Signature, SigningKey};
        let id = |n: u8| crate::domain::records::Id::parse(&format!("{n:032x}")).unwrap();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let mut q = election(1, Base::AllMembers);
        q.kind = QuestionKind::Motion;
        q.candidates.clear();
        q.secrecy = Secrecy::Named;
        let q = q.checked().unwrap();
        let node = "0".repeat(32);
        let nonce = "ab".repeat(32);
        let mut voters = Vec::new();
        let mut ballots = Vec::new();
        for (n, choice) in [
            (1u8, Choice::Approve),
            (2, Choice::Approve),
            (3, Choice::Disapprove),
        ] {
            let key = SigningKey::random(&mut rand::rngs::OsRng);
            let public = key.verifying_key().to_encoded_point(false);
            let mark = Marked::Choice(choice);
            let text = ballot_payload(&node, &id(50), &q.id, &nonce, &id(60 + n), &mark);
            let sig: Signature = key.sign(text.as_bytes());
            voters.push(VoterKey {
                person_id: id(n),
                name: format!("Người {n}"),
                device_id: id(10 + n),
                device_key: crate::domain::device::DeviceKey::parse(&b64(public.as_bytes()))
                    .unwrap(),
            });
            ballots.push(SignedBallot {
                id: id(60 + n),
                person_id: id(n),
                device_id: id(10 + n),
                mark,
                signature: b64(&sig.to_bytes()),
            });
        }
        let electorate = Electorate {
            members: 3,
            present: 3,
        };
        let marks: Vec<Marked> = ballots.iter().map(|b| b.mark.clone()).collect();
        let record = ResultRecord {
            format: RESULT_FORMAT.into(),
            node: node.clone(),
            meeting_id: id(50),
            meeting_title: "Họp".into(),
            body_name: "UBND".into(),
            chair_id: Some(id(1)),
            item_title: "Mục 1".into(),
            question: q.clone(),
            nonce: nonce.clone(),
            opened_at: None,
            closed_at: time::OffsetDateTime::UNIX_EPOCH,
            electorate,
            method: Method::Electronic,
            outcome: Outcome::count(&q, &marks, electorate, Some(&marks[0])),
            voters,
            ballots,
            participations: vec![],
            receipts: vec![],
        };
        assert_eq!(check_record(&record), Vec::<String>::new());
        let mut changed_mark = record.clone();
        changed_mark.ballots[2].mark = Marked::Choice(Choice::Approve);
        assert!(!check_record(&changed_mark).is_empty());
        let mut changed_sig = record.clone();
        changed_sig.ballots[0].signature = changed_sig.ballots[1].signature.clone();
        assert!(!check_record(&changed_sig).is_empty());
        let mut changed_outcome = record.clone();
        if let Outcome::Motion(d) = &mut changed_outcome.outcome {
            d.passed = !d.passed;
        }
        assert!(!check_record(&changed_outcome).is_empty());
        let mut dropped = record.clone();
        dropped.ballots.pop();
        assert!(!check_record(&dropped).is_empty());
        let mut replayed = record.clone();
        replayed.nonce = "cd".repeat(32);
        assert_eq!(
            check_record(&replayed).len(),
            3,
            "every ballot names the nonce"
        );
    }
}
