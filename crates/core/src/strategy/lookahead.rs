//! Lookahead search (Snell et al. 2024 §5.2): beam search that ranks each candidate step
//! by rolling out up to k further steps at temperature 0 and taking the PRM's value at the
//! end of the rollout. Beam search is the case k = 0; the paper calls this MCTS with the
//! stochastic exploration removed, and costs it N·(k+1) generations.
//!
//! The rollout only ranks: it is thrown away, and the beam keeps its own step and its own
//! step scores (which are the rollout's first scores, as a step's score depends only on
//! the steps before it).

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::policy::{Finish, Policy, Sampling, SeqId};
use crate::task::Task;
use crate::verifier::Verifier;

use super::aggregate::StepAggregation;
use super::beam::{BeamSearch, BeamWidth};
use super::run::{Run, StepItem};
use super::vote::Selection;
use super::{stream, Candidate, Context, Outcome, StrategyError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookaheadSearch {
    pub n: usize,
    pub width: BeamWidth,
    /// Rollout steps k.
    pub k: usize,
    pub aggregation: StepAggregation,
    pub selection: Selection,
    pub max_rounds: usize,
}

impl LookaheadSearch {
    pub fn new(n: usize, width: BeamWidth, k: usize) -> LookaheadSearch {
        let beam = BeamSearch::new(n, width);
        LookaheadSearch {
            n,
            width,
            k,
            aggregation: beam.aggregation,
            selection: beam.selection,
            max_rounds: beam.max_rounds,
        }
    }

    /// The beam search this is: the same tree and draws, ranked with rollouts.
    pub fn as_beam_search(&self) -> BeamSearch {
        BeamSearch {
            n: self.n,
            width: self.width,
            aggregation: self.aggregation,
            selection: self.selection,
            max_rounds: self.max_rounds,
            lookahead: self.k,
        }
    }

    /// N·(k+1) generations.
    pub fn generations(&self) -> u64 {
        self.as_beam_search().generations()
    }

    /// [`Self::run_async`] to its end at once, for engines that never wait.
    pub fn run<P: Policy, V: Verifier, T: Task>(
        &self,
        ctx: &mut Context<'_, P, V, T>,
    ) -> Result<Outcome, StrategyError> {
        super::at_once(self.run_async(ctx))
    }

    pub async fn run_async<P: Policy, V: Verifier, T: Task>(
        &self,
        ctx: &mut Context<'_, P, V, T>,
    ) -> Result<Outcome, StrategyError> {
        self.as_beam_search().run_async(ctx).await
    }
}

/// For each node (a sequence and its candidate so far): the scores of the candidate's own
/// steps, and the value it is ranked by. With `k` = 0, or for a finished candidate, the
/// value is the aggregate of its own scores; otherwise a greedy rollout of up to `k`
/// steps is appended on a fork and the value is the aggregate over steps and rollout
/// (with `last`, the PRM's value at the rollout's end). All rollouts advance together and
/// everything is scored in one verifier call.
pub(crate) async fn rollout_values<P: Policy, V: Verifier, T: Task>(
    run: &mut Run<'_, '_, P, V, T>,
    nodes: &[(SeqId, &Candidate)],
    k: usize,
    aggregation: StepAggregation,
) -> Result<Vec<(Vec<f32>, f32)>, StrategyError> {
    let mut rollouts: Vec<Option<Rollout>> = Vec::with_capacity(nodes.len());
    for &(seq, c) in nodes {
        rollouts.push(if k > 0 && !c.is_finished() {
            Some(Rollout {
                seq: run.fork(seq)?,
                steps: Vec::new(),
                tokens: 0,
                done: false,
            })
        } else {
            None
        });
    }
    for _ in 0..k {
        let live: Vec<usize> = (0..nodes.len())
            .filter(|&i| rollouts[i].as_ref().is_some_and(|r| !r.done))
            .collect();
        if live.is_empty() {
            break;
        }
        let items: Vec<StepItem<'_>> = live
            .iter()
            .filter_map(|&i| {
                let r = rollouts[i].as_ref()?;
                let path = &nodes[i].1.path;
                Some(StepItem {
                    seq: r.seq,
                    path,
                    step: nodes[i].1.steps.len() + r.steps.len(),
                    draw: run.key(path).child(stream::LOOKAHEAD_ROLLOUT),
                })
            })
            .collect();
        let outputs = run.step(&items, Sampling::GREEDY, false, false).await?;
        for (&i, out) in live.iter().zip(outputs) {
            if let Some(r) = rollouts[i].as_mut() {
                r.done = out.finish != Finish::StepEnd;
                r.steps.push(out.text);
                r.tokens += out.tokens;
            }
        }
    }
    let extended: Vec<Vec<String>> = nodes
        .iter()
        .zip(&rollouts)
        .map(|((_, c), r)| {
            let mut steps = c.steps.clone();
            if let Some(r) = r {
                steps.extend(r.steps.iter().cloned());
            }
            steps
        })
        .collect();
    let inputs: Vec<_> = nodes
        .iter()
        .zip(&rollouts)
        .zip(&extended)
        .map(|(((_, c), r), steps)| {
            let rollout_tokens = r.as_ref().map_or(0, |r| r.tokens);
            (&c.path, steps.as_slice(), c.tokens() + rollout_tokens)
        })
        .collect();
    let scores = run.score(&inputs).await?;
    let mut out = Vec::with_capacity(nodes.len());
    for ((&(_, c), rollout), all) in nodes.iter().zip(rollouts).zip(scores) {
        let value = aggregation.apply(&all);
        if let Some(r) = rollout {
            run.emit(Event::LookaheadRolledOut {
                path: c.path.clone(),
                steps: r.steps,
                tokens: r.tokens,
            });
            run.release(r.seq);
        }
        out.push((all[..c.steps.len()].to_vec(), value));
    }
    Ok(out)
}

/// A greedy continuation on a fork of a node, thrown away once scored.
struct Rollout {
    seq: SeqId,
    steps: Vec<String>,
    tokens: usize,
    /// The rollout reached the end of its attempt before k steps.
    done: bool,
}
