//! The exact checkers: for each step of an attempt, and for its final answer. They are the
//! ground truth the PRM is measured against (and what the page colours steps by when it
//! shows the truth).
//!
//! The step checker keeps the expression as the attempt has reduced it so far. A step is
//! - **correct** when it evaluates an operation that is valid next (both operands are
//!   numbers already, [`Expr::ready_operations`]; commutative operands may be swapped)
//!   and gets the right result. Any valid next operation counts, not only the canonical
//!   one: they all keep the value;
//! - an **arithmetic error** when the operation is valid next but the result is wrong;
//! - an **invalid step** when it parses but is no valid next operation (operands that are
//!   not there, an operation out of order such as `3+4` in `2*3+4`, a wrong operator);
//! - **unparseable** when it is not a step at all.
//!
//! After an arithmetic error the written (wrong) result replaces the operation, so later
//! steps are judged on whether they follow from what is written: a local verdict, as a
//! teacher marks "method right, numbers carried from an earlier slip". Invalid and
//! unparseable steps leave the expression unchanged. A PRM's label for step `i` is then
//! "every step up to `i` correct" ([`SolutionCheck::first_error`]).

use serde::{Deserialize, Serialize};

use super::expr::Expr;
use super::problem::Problem;
use super::step::Step;
use super::task::{read_answer, split_attempt};

/// The verdict on one step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum StepVerdict {
    Correct,
    /// The right operation with a wrong result; `expected` is the right one (`None` when
    /// it does not fit in 64 bits, which only carried-forward nonsense reaches).
    ArithmeticError {
        expected: Option<i64>,
    },
    /// A well-formed step that is not a valid next operation.
    InvalidStep,
    /// Not a step; `reason` says why, for a person.
    Unparseable {
        reason: String,
    },
}

impl StepVerdict {
    pub fn is_correct(&self) -> bool {
        *self == StepVerdict::Correct
    }
}

/// Checks an attempt's steps one at a time, as they are generated.
#[derive(Clone, Debug)]
pub struct StepChecker {
    state: Expr,
}

impl StepChecker {
    pub fn new(problem: &Problem) -> StepChecker {
        StepChecker {
            state: problem.expr().clone(),
        }
    }

    /// Judges one step line (with or without its newline) and advances the expression.
    pub fn check(&mut self, line: &str) -> StepVerdict {
        let step = match Step::parse(line) {
            Ok(step) => step,
            Err(e) => {
                return StepVerdict::Unparseable {
                    reason: e.to_string(),
                }
            }
        };
        let matches = |l: i64, r: i64| {
            (l, r) == (step.left, step.right)
                || (step.op.is_commutative() && (r, l) == (step.left, step.right))
        };
        // Identical operations in two places give the same result either way; prefer the
        // canonical one, so a solution in canonical order reduces exactly as the
        // reference does.
        let canonical = self.state.canonical_next();
        let ready = self.state.ready_operations();
        let chosen = canonical
            .into_iter()
            .chain(ready)
            .find(|r| r.op == step.op && matches(r.left, r.right));
        let Some(chosen) = chosen else {
            return StepVerdict::InvalidStep;
        };
        self.state.replace(&chosen.path, step.result);
        match step.true_result() {
            Some(v) if v == step.result => StepVerdict::Correct,
            expected => StepVerdict::ArithmeticError { expected },
        }
    }

    /// The expression as reduced so far.
    pub fn remaining(&self) -> &Expr {
        &self.state
    }

    /// Whether the steps so far have reduced the problem to a single number.
    pub fn is_finished(&self) -> bool {
        self.state.as_number().is_some()
    }
}

/// The verdict on an attempt's final answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum AnswerVerdict {
    Correct,
    Wrong {
        given: i64,
    },
    /// No answer line, or one without an integer.
    Missing,
}

/// Compares an attempt's stated answer with the problem's true value.
pub fn check_answer(problem: &Problem, attempt: &str) -> AnswerVerdict {
    match read_answer(attempt) {
        Some(given) if given == problem.answer() => AnswerVerdict::Correct,
        Some(given) => AnswerVerdict::Wrong { given },
        None => AnswerVerdict::Missing,
    }
}

/// One step line and its verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepCheck {
    pub line: String,
    pub verdict: StepVerdict,
}

/// Every step of an attempt and its answer, checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolutionCheck {
    pub steps: Vec<StepCheck>,
    pub answer: AnswerVerdict,
    /// The expression as the steps left it (a single number when they finished it).
    pub remaining: String,
    /// Whether the steps reduced the problem to a single number.
    pub finished: bool,
}

impl SolutionCheck {
    /// The index of the first step that is not correct.
    pub fn first_error(&self) -> Option<usize> {
        self.steps.iter().position(|s| !s.verdict.is_correct())
    }

    /// Whether the final answer is right (however it was reached).
    pub fn is_correct(&self) -> bool {
        self.answer == AnswerVerdict::Correct
    }

    /// Whether every step is correct, the steps finish the problem and the answer is
    /// right: a solution a teacher would mark full.
    pub fn is_flawless(&self) -> bool {
        self.first_error().is_none() && self.is_correct() && self.finished
    }
}

/// Checks a whole attempt (the text after the prompt): its step lines up to the answer
/// line, and the answer.
pub fn check_solution(problem: &Problem, attempt: &str) -> SolutionCheck {
    let (lines, _) = split_attempt(attempt);
    let mut checker = StepChecker::new(problem);
    let steps = lines
        .into_iter()
        .map(|line| StepCheck {
            line: line.to_string(),
            verdict: checker.check(line),
        })
        .collect();
    SolutionCheck {
        steps,
        answer: check_answer(problem, attempt),
        remaining: checker.remaining().to_string(),
        finished: checker.is_finished(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carried_errors_keep_later_steps_locally_checkable() {
        let p = Problem::parse("(37+48)*6-29").expect("parses");
        let check = check_solution(&p, "37+48=85\n85*6=500\n500-29=471\nAnswer: 471\n");
        let verdicts: Vec<_> = check.steps.iter().map(|s| s.verdict.clone()).collect();
        assert_eq!(
            verdicts,
            [
                StepVerdict::Correct,
                StepVerdict::ArithmeticError {
                    expected: Some(510)
                },
                StepVerdict::Correct,
            ]
        );
        assert_eq!(check.first_error(), Some(1));
        assert_eq!(check.answer, AnswerVerdict::Wrong { given: 471 });
        assert_eq!(check.remaining, "471");
        assert!(!check.is_flawless());
    }

    #[test]
    fn overflowing_operations_are_arithmetic_errors_without_an_expected_value() {
        let p = Problem::parse("2*3+1").expect("parses");
        let mut c = StepChecker::new(&p);
        assert_eq!(
            c.check("2*3=999999999999999999"),
            StepVerdict::ArithmeticError { expected: Some(6) }
        );
        assert_eq!(
            c.check("999999999999999999+1=1000000000000000000"),
            StepVerdict::Correct
        );
        let q = Problem::parse("2*3*40").expect("parses");
        let mut c = StepChecker::new(&q);
        c.check("2*3=999999999999999999");
        assert_eq!(
            c.check("999999999999999999*40=0"),
            StepVerdict::ArithmeticError { expected: None }
        );
    }
}
