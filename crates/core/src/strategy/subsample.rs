//! One parallel run reused for every smaller budget, as the paper evaluates best-of-N
//! (search-and-learn samples 256 and subsamples).
//!
//! Why this is exact, not an approximation: majority voting and best-of-N draw attempt
//! `i` from the same stream at the same path (`[i]`) whatever N is, so the first n
//! candidates of a run at budget N are the candidates of a run at budget n; and a PRM
//! scores each candidate on its own, so their scores are the same too. Selecting over
//! that prefix therefore gives the smaller run's answer and votes (a test checks this
//! against real runs).

use crate::accounting::Compute;

use super::aggregate::StepAggregation;
use super::vote::{select, Ballot, Selected, Selection};
use super::Outcome;

/// The selection a run at budget `n` makes, from a parallel run's `outcome` at a budget
/// of at least `n`. `aggregation` is ignored for majority voting.
pub fn select_prefix(
    outcome: &Outcome,
    n: usize,
    aggregation: StepAggregation,
    selection: Selection,
) -> Selected {
    let ballots: Vec<Ballot<'_>> = outcome
        .candidates
        .iter()
        .take(n)
        .map(|c| Ballot {
            answer: c.answer.as_deref(),
            score: if selection == Selection::Majority {
                0.0
            } else {
                f64::from(aggregation.apply(&c.scores))
            },
        })
        .collect();
    select(&ballots, selection)
}

/// The compute of a run at budget `n` selecting by `selection`, from the first `n`
/// candidates: generations and policy tokens exactly; the verifier's tokens by removing
/// the dropped candidates' step tokens from the run's count (flagged as estimated when
/// anything was dropped, since the verifier's tokenizer may split steps differently).
/// Majority voting never calls the verifier, so it is charged none of its work.
pub fn prefix_compute(outcome: &Outcome, n: usize, selection: Selection) -> Compute {
    let total = &outcome.compute;
    let n = n.min(outcome.candidates.len());
    let kept: u64 = outcome.candidates[..n]
        .iter()
        .map(|c| c.tokens() as u64)
        .sum();
    let base = Compute {
        generations: n as u64,
        policy_tokens: kept,
        ..*total
    };
    if selection == Selection::Majority {
        return Compute {
            verifier_tokens: 0,
            verifier_tokens_estimated: false,
            verifier_calls: 0,
            ..base
        };
    }
    let dropped: u64 = outcome.candidates[n..]
        .iter()
        .map(|c| c.tokens() as u64)
        .sum();
    let verifier_tokens = if total.verifier_tokens == 0 {
        0
    } else {
        total.verifier_tokens.saturating_sub(dropped)
    };
    Compute {
        verifier_tokens,
        verifier_tokens_estimated: total.verifier_tokens_estimated
            || (dropped > 0 && total.verifier_tokens > 0),
        ..base
    }
}
