//! One reasoning step: one operation on two numbers and its result, written on its own
//! line as `37+48=85`. Operands are written as in the expression (`6*(-7)=-42`, `-5-3=-8`),
//! the result bare (`-42`).

use std::fmt;

use super::expr::{Expr, Operator};
use super::parse::{parse_expression, ParseError};

/// The longest line read as a step, in characters: a real step is under 30; longer lines
/// are refused before any parsing work.
pub const MAX_STEP_CHARS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    pub left: i64,
    pub op: Operator,
    pub right: i64,
    pub result: i64,
}

/// Why a line is not a step.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepParseError {
    #[error("the line is empty")]
    Empty,
    #[error("the line is longer than {max} characters; a step is one operation, like 37+48=85")]
    TooLong { max: usize },
    #[error("a step is one operation and its result, like 37+48=85; this line has no '='")]
    NoEquals,
    #[error("a step has one '=', this line has {found}")]
    SeveralEquals { found: usize },
    #[error("left of '=': {0}")]
    Left(ParseError),
    #[error(
        "left of '=' must be one operation on two numbers, like 37+48; this has {found} \
         operations"
    )]
    NotOneOperation { found: usize },
    #[error("right of '=' must be a number, like 85 or -12; found {found:?}")]
    Result { found: String },
}

impl Step {
    /// The true result of the step's operation (`None` when it overflows 64 bits).
    pub fn true_result(&self) -> Option<i64> {
        self.op.apply(self.left, self.right)
    }

    /// Whether the written result is right.
    pub fn is_true(&self) -> bool {
        self.true_result() == Some(self.result)
    }

    /// Reads a step; spaces anywhere are ignored, as in expressions.
    pub fn parse(line: &str) -> Result<Step, StepParseError> {
        if line.len() > MAX_STEP_CHARS && line.chars().nth(MAX_STEP_CHARS).is_some() {
            return Err(StepParseError::TooLong {
                max: MAX_STEP_CHARS,
            });
        }
        let line = line.trim();
        if line.is_empty() {
            return Err(StepParseError::Empty);
        }
        let (lhs, rhs) = line.split_once('=').ok_or(StepParseError::NoEquals)?;
        if rhs.contains('=') {
            return Err(StepParseError::SeveralEquals {
                found: line.matches('=').count(),
            });
        }
        let (op, left, right) = match parse_expression(lhs).map_err(StepParseError::Left)? {
            Expr::Operation { op, left, right } => match (left.as_number(), right.as_number()) {
                (Some(l), Some(r)) => (op, l, r),
                _ => {
                    let found = 1 + left.operations() + right.operations();
                    return Err(StepParseError::NotOneOperation { found });
                }
            },
            Expr::Number(_) => return Err(StepParseError::NotOneOperation { found: 0 }),
        };
        let result = parse_expression(rhs)
            .ok()
            .and_then(|e| e.as_number())
            .ok_or_else(|| StepParseError::Result {
                found: rhs.trim().to_string(),
            })?;
        Ok(Step {
            left,
            op,
            right,
            result,
        })
    }
}

/// The canonical line, without its newline.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lhs = Expr::operation(self.op, Expr::Number(self.left), Expr::Number(self.right));
        write!(f, "{lhs}={}", self.result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_round_trip_through_their_text() {
        for (text, step) in [
            ("37+48=85", (37, Operator::Add, 48, 85)),
            ("29-85=-56", (29, Operator::Subtract, 85, -56)),
            ("-56*6=-336", (-56, Operator::Multiply, 6, -336)),
            ("6*(-7)=-42", (6, Operator::Multiply, -7, -42)),
            ("5-(-7)=12", (5, Operator::Subtract, -7, 12)),
        ] {
            let (left, op, right, result) = step;
            let s = Step {
                left,
                op,
                right,
                result,
            };
            assert_eq!(s.to_string(), text);
            assert_eq!(Step::parse(text), Ok(s));
        }
        assert_eq!(
            Step::parse(" 6 * -7 = -42 ").map(|s| s.to_string()),
            Ok("6*(-7)=-42".to_string())
        );
    }

    #[test]
    fn non_steps_are_refused_with_a_reason() {
        use StepParseError::*;
        let err = |t: &str| Step::parse(t).expect_err(t);
        assert_eq!(err("  "), Empty);
        assert_eq!(err("37+48"), NoEquals);
        assert_eq!(err("1+1=2=2"), SeveralEquals { found: 2 });
        assert_eq!(err("85=85"), NotOneOperation { found: 0 });
        assert_eq!(err("1+2*3=7"), NotOneOperation { found: 2 });
        assert!(matches!(err("1+=2"), Left(_)));
        assert!(matches!(err("1+1=two"), Result { .. }));
        assert!(matches!(err("1+1=1+1"), Result { .. }));
        assert_eq!(
            err(&"1".repeat(300)),
            TooLong {
                max: MAX_STEP_CHARS
            }
        );
        assert_eq!(err("Answer: 5"), NoEquals);
    }
}
