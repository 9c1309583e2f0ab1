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
}
