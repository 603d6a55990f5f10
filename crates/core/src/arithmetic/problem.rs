//! A problem: an expression, its canonical text, its answer and its reference solution.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::expr::{Expr, Operator};
use super::parse::{parse_expression, ParseError};
use super::step::Step;

/// A problem's identity for held-out checks: its canonical text, so two texts of one
/// expression tree (`(2*3)+4`, `2*3 + 4`) are one problem. Problems that differ only by
/// commutation (`3+4`, `4+3`) are different problems, as they are different token
/// sequences to a model.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProblemKey(pub String);

impl fmt::Display for ProblemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a text or a tree is not a problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProblemError {
    #[error("the problem is not an expression: {0}")]
    Parse(#[from] ParseError),
    #[error("the problem {text:?} is a bare number; a problem has at least one operation")]
    NoOperation { text: String },
    #[error("the problem {text:?} overflows 64-bit integers at step {step} of its solution")]
    Overflow { text: String, step: usize },
}

/// An arithmetic problem with its reference solution in the canonical order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    expr: Expr,
    text: String,
    answer: i64,
    solution: Vec<Step>,
}

impl Problem {
    pub fn new(expr: Expr) -> Result<Problem, ProblemError> {
        let text = expr.to_string();
        if expr.operations() == 0 {
            return Err(ProblemError::NoOperation { text });
        }
        let mut state = expr.clone();
        let mut solution = Vec::with_capacity(expr.operations());
        while let Some(next) = state.canonical_next() {
            let result =
                next.op
                    .apply(next.left, next.right)
                    .ok_or_else(|| ProblemError::Overflow {
                        text: text.clone(),
                        step: solution.len() + 1,
                    })?;
            state.replace(&next.path, result);
            solution.push(Step {
                left: next.left,
                op: next.op,
                right: next.right,
                result,
            });
        }
        // The loop ends exactly when the state is a number: the answer.
        let answer = state.as_number().ok_or_else(|| ProblemError::Overflow {
            text: text.clone(),
            step: solution.len(),
        })?;
        Ok(Problem {
            expr,
            text,
            answer,
            solution,
        })
    }

    /// Reads a problem; the text need not be canonical (see [`Problem::text`]).
    pub fn parse(text: &str) -> Result<Problem, ProblemError> {
        Problem::new(parse_expression(text)?)
    }

    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The canonical text, `(37+48)*6-29`.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn answer(&self) -> i64 {
        self.answer
    }

    /// The reference solution: one step per operation, in the canonical order.
    pub fn solution(&self) -> &[Step] {
        &self.solution
    }

    pub fn key(&self) -> ProblemKey {
        ProblemKey(self.text.clone())
    }

    pub fn operations(&self) -> usize {
        self.solution.len()
    }

    /// The numbers of the problem text, left to right.
    pub fn numbers(&self) -> Vec<i64> {
        self.expr.numbers()
    }

    pub fn operators(&self) -> Vec<Operator> {
        self.expr.operators()
    }

    pub fn paren_depth(&self) -> usize {
        self.expr.paren_depth()
    }

    /// The largest absolute value anywhere in the problem or its solution.
    pub fn magnitude(&self) -> u64 {
        let numbers = self.numbers().into_iter();
        let results = self.solution.iter().map(|s| s.result);
        numbers
            .chain(results)
            .map(i64::unsigned_abs)
            .max()
            .unwrap_or(0)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_solution_follows_the_canonical_order() {
        let p = Problem::parse("(37+48)*6-29").expect("parses");
        let steps: Vec<String> = p.solution().iter().map(Step::to_string).collect();
        assert_eq!(steps, ["37+48=85", "85*6=510", "510-29=481"]);
        assert_eq!(p.answer(), 481);
        assert_eq!(p.key(), ProblemKey("(37+48)*6-29".into()));
        assert_eq!(p.magnitude(), 510);
        let q = Problem::parse("12-45*2").expect("parses");
        let steps: Vec<String> = q.solution().iter().map(Step::to_string).collect();
        assert_eq!(steps, ["45*2=90", "12-90=-78"]);
        assert_eq!(q.magnitude(), 90);
    }

    #[test]
    fn keys_ignore_spelling_not_shape() {
        let key = |t: &str| Problem::parse(t).expect(t).key();
        assert_eq!(key("(2*3)+4"), key("2 * 3 + 04"));
        assert_ne!(key("3+4"), key("4+3"));
        assert_ne!(key("1+2+3"), key("1+(2+3)"));
    }

    #[test]
    fn bad_problems_are_errors() {
        assert!(matches!(
            Problem::parse("42"),
            Err(ProblemError::NoOperation { .. })
        ));
        assert!(matches!(
            Problem::parse("3000000000*3000000000*3000000000"),
            Err(ProblemError::Overflow { step: 2, .. })
        ));
        assert!(matches!(Problem::parse("3+"), Err(ProblemError::Parse(_))));
    }
}
