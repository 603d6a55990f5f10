//! One parallel run reused for every smaller budget, as the paper evaluates best-of-N
//! (search-and-learn samples 256 and subsamples); and one DVTS run reused the same way,
//! subtree by subtree.
//!
//! Why this is exact, not an approximation: majority voting and best-of-N draw attempt
//! `i` from the same stream at the same path (`[i]`) whatever N is, so the first n
//! candidates of a run at budget N are the candidates of a run at budget n; and a PRM
//! scores each candidate on its own, so their scores are the same too. Selecting over
//! that prefix therefore gives the smaller run's answer and votes (a test checks this
//! against real runs).

use crate::accounting::Compute;

use super::aggregate::StepAggregation;
use super::beam::BeamWidth;
use super::dvts::{Dvts, Subtree};
use super::vote::{select, Ballot, Selected, Selection};
use super::{Outcome, Trace};

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

/// The selection and compute of DVTS at budget `n` and width `width`, from a DVTS run at a
/// larger budget with the same width, round limit and aggregation (the caller's to
/// ensure: the aggregation steers each subtree's greedy choice); `None` when `n` is 0, the
/// run is not DVTS, or its first subtrees do not have the widths a run at `n` would give
/// them (a width that grows with N, or budgets that M does not divide alike).
///
/// Exact for the same reason as best-of-N: subtree `s` draws every step from the keys
/// under path `[s]` whatever N is, and the PRM scores each continuation on its own, so the
/// first subtrees of a larger run are the subtrees of the smaller one, and their final
/// candidates come first in the outcome. Policy tokens are exact (each subtree counts its
/// own, pruned continuations included); the verifier's tokens are the kept subtrees'
/// scored tokens plus the question once per round they were scored in (exact when the
/// policy and the verifier share a tokenizer and read the question once per call), flagged
/// as estimated when subtrees were dropped.
pub fn dvts_prefix(
    outcome: &Outcome,
    n: usize,
    width: BeamWidth,
    aggregation: StepAggregation,
    selection: Selection,
) -> Option<(Selected, Compute)> {
    let Trace::Dvts { subtrees } = &outcome.trace else {
        return None;
    };
    if n == 0 {
        return None;
    }
    let widths: Vec<usize> = subtrees.iter().map(|s| s.width).collect();
    let kept = &subtrees[..widths_start(n, width, &widths)?];
    if kept.iter().map(|s| s.candidates.len()).sum::<usize>() != n {
        return None;
    }
    let selected = select_prefix(outcome, n, aggregation, selection);
    let total = &outcome.compute;
    let dropped = kept.len() < subtrees.len();
    // Every scoring call reads the question once and each continuation's steps: the
    // question's share is what the calls read beyond the continuations. The smaller run
    // makes one call per round while any of its subtrees is open.
    let scored = |ss: &[Subtree]| ss.iter().map(|s| s.scored_tokens).sum::<u64>();
    let rounds = |ss: &[Subtree]| ss.iter().map(|s| s.greedy_path.len() as u64 + 1).max();
    let calls = rounds(kept).unwrap_or(0);
    // DVTS steps its open subtrees together once per round, as it scores them.
    let policy_calls = if dropped { calls } else { total.policy_calls };
    let (verifier_tokens, verifier_calls) = if !dropped || total.verifier_calls == 0 {
        (total.verifier_tokens, total.verifier_calls)
    } else {
        let question = total.verifier_tokens.saturating_sub(scored(subtrees)) as f64
            / total.verifier_calls as f64;
        (
            scored(kept) + (question * calls as f64).round() as u64,
            calls,
        )
    };
    let compute = Compute {
        generations: n as u64,
        policy_tokens: kept.iter().map(|s| s.policy_tokens).sum(),
        verifier_tokens,
        verifier_tokens_estimated: total.verifier_tokens_estimated
            || (dropped && total.verifier_tokens > 0),
        policy_calls,
        verifier_calls,
        ..*total
    };
    Some((selected, compute))
}

/// Whether DVTS at `budget` is the first subtrees of DVTS at `largest` with the same
/// `width`, so that one run at `largest` gives both through [`dvts_prefix`].
pub fn dvts_reuses(budget: u32, largest: u32, width: BeamWidth) -> bool {
    let large = Dvts::new(largest as usize, width).subtree_widths();
    budget > 0 && widths_start(budget as usize, width, &large).is_some()
}

/// How many of the subtrees `widths` a DVTS run at `n` consists of, when they begin with
/// exactly its subtree widths.
fn widths_start(n: usize, width: BeamWidth, widths: &[usize]) -> Option<usize> {
    let own = Dvts::new(n, width).subtree_widths();
    (widths.get(..own.len()) == Some(own.as_slice())).then_some(own.len())
}
