//! The difficulty knobs and the five levels built from them.
//!
//! | level | operations | digits per number | operators | parentheses nest | every value below |
//! |---|---|---|---|---|---|
//! | 1 | 1–2 | 1–2 | `+ -`   | none     | 1,000 |
//! | 2 | 2–3 | 1–2 | `+ - *` | none     | 10,000 |
//! | 3 | 3–4 | 1–2 | `+ - *` | 1 deep   | 10,000 |
//! | 4 | 4–5 | 2   | `+ - *` | 2 deep   | 100,000 |
//! | 5 | 6–7 | 2–3 | `+ - *` | 2 deep   | 1,000,000 |
//!
//! Why these: the number of operations is what a small model finds hard (DESIGN.md: a
//! 0.8M model's greedy accuracy fell from 35% at one operation to 0% at five), so each
//! level adds operations, and the later ones add carrying (more digits), multiplication
//! and parentheses, which break the left-to-right habit. The value bound keeps every
//! intermediate result short enough to write and to learn (it rejects, for example,
//! `934*571*88`); "every value" means the numbers of the problem, every step's result and
//! the answer, in magnitude, and negative intermediate results are allowed (`12-45*2` has
//! `-78`). Levels with parentheses allow them but do not force them; most of their
//! problems have some (measured on 1000 problems: 81% at level 3, 95% at 4, 99% at 5).

use serde::{Deserialize, Serialize};

use super::expr::Operator;
use super::problem::Problem;

/// The most operations a knob setting may ask for.
pub const MAX_KNOB_OPERATIONS: u32 = 16;
/// The most digits a knob setting may ask for per number.
pub const MAX_KNOB_DIGITS: u32 = 6;

/// What problems a generator draws: the difficulty knobs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Knobs {
    /// Operations per problem, drawn uniformly in `min..=max`.
    pub min_operations: u32,
    pub max_operations: u32,
    /// Digits of each number, drawn uniformly in `min..=max`, then the number uniformly
    /// among those with that many digits. One-digit numbers are 1 to 9: a 0 would make a
    /// step trivial (`x*0`, `x+0`) and let a whole sub-expression be skipped.
    pub min_digits: u32,
    pub max_digits: u32,
    /// The operators to draw from, uniformly.
    pub operators: Vec<Operator>,
    /// 0: no parentheses (numbers and operators in a row, read with the usual
    /// precedence). Otherwise the expression's shape is a random binary tree, kept when
    /// its parentheses nest at most this deep.
    pub max_paren_depth: u32,
    /// Every number in the problem and its solution is at most this in magnitude.
    pub max_magnitude: u64,
}

/// Knobs that no problem can satisfy, or that the generator does not support.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KnobsError {
    #[error(
        "operations must satisfy 1 <= min_operations <= max_operations <= {max}; got {min_operations}..={max_operations}",
        max = MAX_KNOB_OPERATIONS
    )]
    Operations {
        min_operations: u32,
        max_operations: u32,
    },
    #[error(
        "digits must satisfy 1 <= min_digits <= max_digits <= {max}; got {min_digits}..={max_digits}",
        max = MAX_KNOB_DIGITS
    )]
    Digits { min_digits: u32, max_digits: u32 },
    #[error("the operator list is empty or repeats an operator: {0:?}")]
    Operators(Vec<Operator>),
    #[error(
        "max_magnitude {max_magnitude} is below the smallest {min_digits}-digit number; no \
         problem fits"
    )]
    Magnitude { max_magnitude: u64, min_digits: u32 },
}

impl Knobs {
    pub fn validate(&self) -> Result<(), KnobsError> {
        let (lo, hi) = (self.min_operations, self.max_operations);
        if lo == 0 || lo > hi || hi > MAX_KNOB_OPERATIONS {
            return Err(KnobsError::Operations {
                min_operations: lo,
                max_operations: hi,
            });
        }
        let (lo, hi) = (self.min_digits, self.max_digits);
        if lo == 0 || lo > hi || hi > MAX_KNOB_DIGITS {
            return Err(KnobsError::Digits {
                min_digits: lo,
                max_digits: hi,
            });
        }
        let mut ops = self.operators.clone();
        ops.sort();
        ops.dedup();
        if ops.is_empty() || ops.len() != self.operators.len() {
            return Err(KnobsError::Operators(self.operators.clone()));
        }
        if self.max_magnitude < smallest_with_digits(self.min_digits) {
            return Err(KnobsError::Magnitude {
                max_magnitude: self.max_magnitude,
                min_digits: self.min_digits,
            });
        }
        Ok(())
    }

    /// Whether a problem is one these knobs could draw: operation count, digits of every
    /// number, operators, parenthesis depth and magnitude all within bounds.
    pub fn admits(&self, problem: &Problem) -> bool {
        let ops = problem.operations() as u64;
        let digits_ok = problem.numbers().iter().all(|&n| {
            let d = digits(n);
            n > 0 && (self.min_digits..=self.max_digits).contains(&d)
        });
        (u64::from(self.min_operations)..=u64::from(self.max_operations)).contains(&ops)
            && digits_ok
            && problem
                .operators()
                .iter()
                .all(|op| self.operators.contains(op))
            && problem.paren_depth() <= self.max_paren_depth as usize
            && problem.magnitude() <= self.max_magnitude
    }
}

/// The number of decimal digits of `|n|` (1 for 0).
pub fn digits(n: i64) -> u32 {
    n.unsigned_abs().checked_ilog10().unwrap_or(0) + 1
}

/// The smallest number with `d` digits as the generator draws them (1 for one digit).
pub(crate) fn smallest_with_digits(d: u32) -> u64 {
    if d <= 1 {
        1
    } else {
        10u64.pow(d - 1)
    }
}

/// A difficulty level, 1 (easiest) to 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Level(u8);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("there is no difficulty level {0}; levels are 1 to 5")]
pub struct NoSuchLevel(pub u8);

impl Level {
    pub const ALL: [Level; 5] = [Level(1), Level(2), Level(3), Level(4), Level(5)];

    pub fn new(number: u8) -> Result<Level, NoSuchLevel> {
        if (1..=5).contains(&number) {
            Ok(Level(number))
        } else {
            Err(NoSuchLevel(number))
        }
    }

    pub fn number(self) -> u8 {
        self.0
    }

    pub fn knobs(self) -> Knobs {
        use Operator::{Add, Multiply, Subtract};
        let (ops, digits, operators, parens, magnitude) = match self.0 {
            1 => ((1, 2), (1, 2), vec![Add, Subtract], 0, 999),
            2 => ((2, 3), (1, 2), vec![Add, Subtract, Multiply], 0, 9_999),
            3 => ((3, 4), (1, 2), vec![Add, Subtract, Multiply], 1, 9_999),
            4 => ((4, 5), (2, 2), vec![Add, Subtract, Multiply], 2, 99_999),
            _ => ((6, 7), (2, 3), vec![Add, Subtract, Multiply], 2, 999_999),
        };
        Knobs {
            min_operations: ops.0,
            max_operations: ops.1,
            min_digits: digits.0,
            max_digits: digits.1,
            operators,
            max_paren_depth: parens,
            max_magnitude: magnitude,
        }
    }
}

impl TryFrom<u8> for Level {
    type Error = NoSuchLevel;
    fn try_from(number: u8) -> Result<Level, NoSuchLevel> {
        Level::new(number)
    }
}

impl From<Level> for u8 {
    fn from(level: Level) -> u8 {
        level.0
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_has_valid_knobs_and_levels_are_1_to_5() {
        for level in Level::ALL {
            assert_eq!(level.knobs().validate(), Ok(()), "level {level}");
        }
        assert_eq!(Level::new(0), Err(NoSuchLevel(0)));
        assert_eq!(Level::new(6), Err(NoSuchLevel(6)));
        assert_eq!(Level::new(5).map(Level::number), Ok(5));
    }

    #[test]
    fn impossible_knobs_are_refused() {
        let ok = Level::new(3).expect("level").knobs();
        let with = |f: &dyn Fn(&mut Knobs)| {
            let mut k = ok.clone();
            f(&mut k);
            k.validate()
        };
        assert!(with(&|k| k.min_operations = 0).is_err());
        assert!(with(&|k| k.max_operations = 2).is_err());
        assert!(with(&|k| k.max_digits = 7).is_err());
        assert!(with(&|k| k.operators.clear()).is_err());
        assert!(with(&|k| k.operators.push(Operator::Add)).is_err());
        assert!(with(&|k| {
            k.min_digits = 2;
            k.max_magnitude = 9
        })
        .is_err());
    }

    #[test]
    fn digits_counts_decimal_digits() {
        for (n, d) in [(0, 1), (7, 1), (10, 2), (-99, 2), (100, 3), (999_999, 6)] {
            assert_eq!(digits(n), d, "{n}");
        }
        assert_eq!(digits(i64::MIN), 19);
    }
}
