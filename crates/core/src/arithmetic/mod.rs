//! The built-in task: synthetic multi-step arithmetic whose every step can be checked
//! exactly (DESIGN.md, "The built-in task and models").
//!
//! A problem is an expression over whole numbers with `+`, `-` and `*` and parentheses,
//! `(37+48)*6-29`. A solution evaluates it one operation per line, in a fixed canonical
//! order (parenthesised groups first, then `*`, then `+` and `-`, left to right), and ends
//! with the answer line:
//!
//! ```text
//! Problem: (37+48)*6-29
//! 37+48=85
//! 85*6=510
//! 510-29=481
//! Answer: 481
//! ```
//!
//! Five difficulty levels turn the knobs (operations, digits, operators, parentheses,
//! value bound; [`level`]); a seeded counter-based generator draws problems as a pure
//! function of `(seed, level, index)` ([`generate`]); the exact checkers judge each step
//! and the answer ([`check`]); the held-out test and validation sets ship in
//! `public/problems/` ([`set`]) and are kept out of training by key ([`held_out`],
//! [`TrainingGenerator`]); [`ArithmeticTask`] is the [`Task`](crate::Task) the strategies
//! drive, with the revision prompt's format ([`task`]).
//!
//! Where the pieces are:
//! - [`expr`]: the tree, its canonical text and the canonical order;
//! - [`parse`]: text to tree, safe on any input;
//! - [`step`]: one step line, `a op b = c`;
//! - [`problem`]: a problem with its answer, reference solution and key;
//! - [`random`]: the SplitMix64 draws.

pub mod check;
pub mod expr;
pub mod few_shot;
pub mod generate;
pub mod held_out;
pub mod level;
pub mod parse;
pub mod problem;
pub mod random;
pub mod set;
pub mod step;
pub mod task;
pub mod training;

pub use check::{
    check_answer, check_solution, AnswerVerdict, SolutionCheck, StepCheck, StepChecker, StepVerdict,
};
pub use expr::{Expr, Operator};
pub use generate::{GenerateError, Generator};
pub use held_out::{is_held_out, HeldOut};
pub use level::{Knobs, Level};
pub use parse::ParseError;
pub use problem::{Problem, ProblemError, ProblemKey};
pub use set::{shipped_sets, ProblemSet, SetError, SetProblem};
pub use step::Step;
pub use task::ArithmeticTask;
pub use training::TrainingGenerator;
