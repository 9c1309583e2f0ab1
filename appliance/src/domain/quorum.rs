//! Quorum and thresholds: the arithmetic of "at least two thirds of members" and "more than
//! half of all members", done in whole numbers so that no rounding can ever decide a meeting.
//!
//! Under the Law on Organisation of Local Government (2015), a People's Committee (UBND)
//! meeting needs at least 2/3 of its members present and a decision needs more than half of all
//! members; a People's Council (HĐND) session likewise needs at least 2/3 of delegates. Each
//! body carries its own rules, so a body with different rules is a setting, not a code change.

use serde::{Deserialize, Serialize};

/// How a count is compared with its fraction of the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// count ≥ base × n / d ("ít nhất hai phần ba").
    AtLeast,
    /// count > base × n / d ("quá nửa").
    MoreThan,
}

/// A rule such as "at least 2/3" or "more than 1/2".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Threshold {
    pub numerator: u32,
    pub denominator: u32,
    pub comparison: Comparison,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("the fraction {0}/{1} is not between 0 and 1")]
    OutOfRange(u32, u32),
}

impl Threshold {
    pub const TWO_THIRDS: Threshold = Threshold {
        numerator: 2,
        denominator: 3,
        comparison: Comparison::AtLeast,
    };
    pub const MORE_THAN_HALF: Threshold = Threshold {
        numerator: 1,
        denominator: 2,
        comparison: Comparison::MoreThan,
    };

    pub fn new(
        numerator: u32,
        denominator: u32,
        comparison: Comparison,
    ) -> Result<Self, ThresholdError> {
        if denominator == 0 || numerator > denominator {
            return Err(ThresholdError::OutOfRange(numerator, denominator));
        }
        Ok(Self {
            numerator,
            denominator,
            comparison,
        })
    }

    /// The smallest count that meets the rule for this base.
    pub fn required(&self, base: u32) -> u32 {
        let product = u64::from(base) * u64::from(self.numerator);
        let d = u64::from(self.denominator.max(1));
        let n = match self.comparison {
            Comparison::AtLeast => product.div_ceil(d),
            Comparison::MoreThan => product / d + 1,
        };
        // A rule can never ask for more people than there are, except "more than all".
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    pub fn is_met(&self, count: u32, base: u32) -> bool {
        count >= self.required(base)
    }
}

/// The live quorum figure of a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Quorum {
    /// Members with a vote (guests never count).
    pub members: u32,
    /// Members present now.
    pub present: u32,
    /// Members needed for the meeting to proceed.
    pub required: u32,
    pub reached: bool,
}

impl Quorum {
    pub fn of(rule: &Threshold, members: u32, present: u32) -> Quorum {
        let required = rule.required(members);
        Quorum {
            members,
            present,
            required,
            reached: members > 0 && present >= required,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_thirds_rounds_up() {
        let r = Threshold::TWO_THIRDS;
        assert_eq!(r.required(9), 6);
        assert_eq!(r.required(10), 7); // 6.67 → 7
        assert_eq!(r.required(11), 8); // 7.33 → 8
        assert_eq!(r.required(3), 2);
        assert!(!r.is_met(6, 10));
        assert!(r.is_met(7, 10));
    }

    #[test]
    fn more_than_half_is_strict() {
        let r = Threshold::MORE_THAN_HALF;
        assert_eq!(r.required(10), 6);
        assert_eq!(r.required(9), 5);
        assert!(!r.is_met(5, 10));
    }

    #[test]
    fn quorum_of_an_empty_body_is_never_reached() {
        assert!(!Quorum::of(&Threshold::TWO_THIRDS, 0, 0).reached);
        let q = Quorum::of(&Threshold::TWO_THIRDS, 15, 10);
        assert_eq!((q.required, q.reached), (10, true));
    }

    #[test]
    fn bad_fractions_are_refused() {
        assert!(Threshold::new(3, 2, Comparison::AtLeast).is_err());
        assert!(Threshold::new(1, 0, Comparison::AtLeast).is_err());
    }
}
