//! The seeded problem generator.
//!
//! Problem `index` of a stream under a seed is a pure function of `(seed, stream, index,
//! knobs)`: its own counter stream of draws ([`Draws`]) proposes candidates until one
//! fits the knobs (and the caller's filter), so problems can be asked for in any order and
//! in parallel. A candidate is: an operation count; a shape (numbers and operators in a
//! row without parentheses, or a random binary tree when parentheses are allowed); the
//! operators and numbers. Candidates whose parentheses nest too deep or whose values grow
//! too large are dropped, which also shapes the distribution: at the higher levels
//! products of large numbers are rarer than the operators' uniform draw suggests.

use super::expr::{Expr, Operator};
use super::level::{smallest_with_digits, Knobs, KnobsError, Level};
use super::problem::Problem;
use super::random::Draws;

/// How many candidates one index may propose before the generator gives up. The levels'
/// knobs accept a good fraction of candidates; the bound only catches knobs (or filters)
/// that almost nothing satisfies.
pub const MAX_CANDIDATES: u32 = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    #[error("invalid knobs: {0}")]
    Knobs(#[from] KnobsError),
    #[error(
        "no problem for index {index} of stream {stream} after {tries} candidates: the knobs \
         (or the filter) admit almost nothing; raise max_magnitude or max_paren_depth, or \
         lower the operation count"
    )]
    Exhausted { stream: u64, index: u64, tries: u32 },
}

/// Draws problems from a seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generator {
    seed: u64,
}

impl Generator {
    pub fn new(seed: u64) -> Generator {
        Generator { seed }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Problem `index` of a level (the level's number is its stream).
    pub fn problem(&self, level: Level, index: u64) -> Result<Problem, GenerateError> {
        self.problem_where(&level.knobs(), level_stream(level), index, |_| true)
    }

    /// Problem `index` of `stream` under `knobs`: the first candidate of its draws that fits
    /// the knobs and that `accept` takes (a held-out filter, a duplicate filter).
    pub fn problem_where(
        &self,
        knobs: &Knobs,
        stream: u64,
        index: u64,
        mut accept: impl FnMut(&Problem) -> bool,
    ) -> Result<Problem, GenerateError> {
        knobs.validate()?;
        let mut draws = Draws::new(self.seed, &[stream, index]);
        for _ in 0..MAX_CANDIDATES {
            let expr = candidate(knobs, &mut draws);
            if expr.paren_depth() > knobs.max_paren_depth as usize {
                continue;
            }
            let Ok(problem) = Problem::new(expr) else {
                continue;
            };
            if problem.magnitude() <= knobs.max_magnitude && accept(&problem) {
                return Ok(problem);
            }
        }
        Err(GenerateError::Exhausted {
            stream,
            index,
            tries: MAX_CANDIDATES,
        })
    }
}

/// The stream a level's problems are drawn from.
pub fn level_stream(level: Level) -> u64 {
    u64::from(level.number())
}

fn candidate(knobs: &Knobs, draws: &mut Draws) -> Expr {
    let operations = draws.between(
        u64::from(knobs.min_operations),
        u64::from(knobs.max_operations),
    );
    if knobs.max_paren_depth == 0 {
        row(knobs, operations, draws)
    } else {
        tree(knobs, operations, draws)
    }
}

fn number(knobs: &Knobs, draws: &mut Draws) -> Expr {
    let digits = draws.between(u64::from(knobs.min_digits), u64::from(knobs.max_digits)) as u32;
    let lo = smallest_with_digits(digits);
    let hi = 10u64.pow(digits) - 1;
    // At most 6 digits (validated), so the cast cannot wrap.
    Expr::Number(draws.between(lo, hi) as i64)
}

fn operator(knobs: &Knobs, draws: &mut Draws) -> Operator {
    // Validated non-empty; `Add` only guards the impossible.
    draws
        .pick(&knobs.operators)
        .copied()
        .unwrap_or(Operator::Add)
}

/// `n0 op1 n1 op2 n2 …` read with the usual precedence: products of neighbours first,
/// then the sums and differences left to right.
fn row(knobs: &Knobs, operations: u64, draws: &mut Draws) -> Expr {
    // `sum` holds the terms finished so far, `joiner` the operator before `product`.
    let join = |sum: Option<Expr>, joiner, product| match sum {
        None => product,
        Some(sum) => Expr::operation(joiner, sum, product),
    };
    let mut sum = None;
    let mut joiner = Operator::Add;
    let mut product = number(knobs, draws);
    for _ in 0..operations {
        let op = operator(knobs, draws);
        let next = number(knobs, draws);
        if op == Operator::Multiply {
            product = Expr::operation(Operator::Multiply, product, next);
        } else {
            sum = Some(join(sum, joiner, product));
            joiner = op;
            product = next;
        }
    }
    join(sum, joiner, product)
}

/// A random binary tree with `operations` inner nodes: the left subtree's size is uniform
/// in `0..operations`. Its text has whatever parentheses the shape needs.
fn tree(knobs: &Knobs, operations: u64, draws: &mut Draws) -> Expr {
    if operations == 0 {
        return number(knobs, draws);
    }
    let left_size = draws.below(operations);
    let op = operator(knobs, draws);
    let left = tree(knobs, left_size, draws);
    let right = tree(knobs, operations - 1 - left_size, draws);
    Expr::operation(op, left, right)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_and_index_give_the_same_problem_in_any_order() {
        let g = Generator::new(11);
        let level = Level::new(5).expect("level");
        let forward: Vec<Problem> = (0..20)
            .map(|i| g.problem(level, i).expect("generates"))
            .collect();
        let backward: Vec<Problem> = (0..20)
            .rev()
            .map(|i| g.problem(level, i).expect("generates"))
            .collect();
        assert!(forward.iter().eq(backward.iter().rev()));
        assert_ne!(forward[0], forward[1]);
        let other = Generator::new(12).problem(level, 0).expect("generates");
        assert_ne!(forward[0], other);
    }

    #[test]
    fn a_filter_that_refuses_everything_ends_in_an_error() {
        let g = Generator::new(1);
        let knobs = Level::new(1).expect("level").knobs();
        let err = g
            .problem_where(&knobs, 1, 0, |_| false)
            .expect_err("exhausted");
        assert!(matches!(err, GenerateError::Exhausted { tries, .. } if tries == MAX_CANDIDATES));
        let mut bad = knobs;
        bad.min_operations = 0;
        assert!(matches!(
            g.problem_where(&bad, 1, 0, |_| true),
            Err(GenerateError::Knobs(_))
        ));
    }

    #[test]
    fn rows_read_with_precedence() {
        // Whatever the draws, a row has no parentheses and the operation count asked for.
        let knobs = Level::new(2).expect("level").knobs();
        let mut draws = Draws::new(3, &[]);
        for ops in 1..8 {
            let e = row(&knobs, ops, &mut draws);
            assert_eq!(e.operations() as u64, ops);
            assert_eq!(e.paren_depth(), 0, "{e}");
        }
    }
}
