//! Beam search against a process reward model (Snell et al. 2024 §5.2, "similar to
//! BFS-V"; search-and-learn's `beam_search`):
//!
//! 1. sample N first steps;
//! 2. score each with the PRM;
//! 3. keep the top N/M;
//! 4. from each survivor sample M next steps (N again);
//! 5. repeat until the solutions end or the round limit (40), the last round running each
//!    beam to the end of its attempt; the N finished candidates go to best-of-N weighted.
//!
//! Beams that finish leave the pool and keep their slot: each round continues exactly as
//! many beams as are still unfinished, keeping ⌈unfinished / M⌉ of them, so the search
//! always ends with N candidates and costs N generations. With lookahead (k > 0, see
//! [`super::lookahead`]) beams are ranked by the PRM's value at the end of a greedy
//! k-step rollout instead of at their own last step.

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::path::Path;
use crate::policy::{Policy, SeqId};
use crate::task::Task;
use crate::verifier::Verifier;

use super::aggregate::StepAggregation;
use super::lookahead::rollout_values;
use super::run::{Run, StepItem};
use super::vote::{Ballot, Selection};
use super::{config_error, stream, Candidate, Context, Outcome, StrategyError, Trace};

/// The paper's round limit for search (and Ponder's step limit for whole attempts).
pub const DEFAULT_ROUNDS: usize = 40;

/// The beam width M: continuations per surviving beam.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BeamWidth {
    Fixed(usize),
    /// √N, rounded to the nearest whole number (the paper's other setting).
    Sqrt,
}

impl Default for BeamWidth {
    fn default() -> Self {
        BeamWidth::Fixed(4)
    }
}

impl BeamWidth {
    /// M for N beams, between 1 and N.
    pub fn resolve(self, n: usize) -> usize {
        let m = match self {
            BeamWidth::Fixed(m) => m,
            BeamWidth::Sqrt => (n as f64).sqrt().round() as usize,
        };
        m.clamp(1, n.max(1))
    }
}

/// `total` children spread over `parents` ranked best first: as even as possible, the
/// better parents taking the remainder.
pub(crate) fn spread(total: usize, parents: usize) -> Vec<usize> {
    (0..parents)
        .map(|r| total / parents + usize::from(r < total % parents))
        .collect()
}

/// What one round of search did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeamRound {
    pub round: usize,
    /// Beams continued by a step this round.
    pub stepped: usize,
    /// Beams that reached the end of their attempt this round.
    pub finished: Vec<Path>,
    /// Unfinished beams kept to be continued, best first.
    pub kept: Vec<Path>,
    /// Unfinished beams dropped.
    pub pruned: Vec<Path>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeamSearch {
    /// Beams, the budget in generations.
    pub n: usize,
    pub width: BeamWidth,
    /// How step scores rank beams and weigh the final vote.
    pub aggregation: StepAggregation,
    pub selection: Selection,
    pub max_rounds: usize,
    /// Lookahead steps k (0 is plain beam search).
    pub lookahead: usize,
}

struct Beam {
    seq: SeqId,
    candidate: Candidate,
}

impl BeamSearch {
    /// Beam search as in the paper: weighted selection, `last` aggregation, 40 rounds.
    pub fn new(n: usize, width: BeamWidth) -> BeamSearch {
        BeamSearch {
            n,
            width,
            aggregation: StepAggregation::Last,
            selection: Selection::Weighted,
            max_rounds: DEFAULT_ROUNDS,
            lookahead: 0,
        }
    }

    /// The cost in generations: N, or N·(k+1) with lookahead (§1.1).
    pub fn generations(&self) -> u64 {
        (self.n as u64) * (self.lookahead as u64 + 1)
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
        if self.n == 0 {
            return Err(config_error("beam search", "n must be at least 1 beam"));
        }
        let m = self.width.resolve(self.n);
        let max_rounds = self.max_rounds.max(1);
        let prompt = ctx.task.prompt(ctx.problem);
        let mut run = Run::new(ctx, stream::TREE, self.generations());
        let root = run.start(&Path::root(), &prompt)?;
        let mut live = Vec::with_capacity(self.n);
        for i in 0..self.n {
            live.push(Beam {
                seq: run.fork(root)?,
                candidate: Candidate::new(Path::root().child(i as u32)),
            });
        }
        run.release(root);
        let mut completed: Vec<Candidate> = Vec::with_capacity(self.n);
        let mut rounds = Vec::new();
        for round in 1..=max_rounds {
            let last_round = round == max_rounds;
            // Each beam's new step draws from the key of the node it creates.
            let items: Vec<StepItem<'_>> = live
                .iter()
                .map(|b| StepItem {
                    seq: b.seq,
                    path: &b.candidate.path,
                    step: b.candidate.steps.len(),
                    draw: run.key(&b.candidate.path),
                })
                .collect();
            let outputs = run.step(&items, run.sampling(), last_round, true).await?;
            for (b, out) in live.iter_mut().zip(outputs) {
                b.candidate.steps.push(out.text);
                b.candidate.step_tokens.push(out.tokens);
                b.candidate.finish = out.finish;
            }
            let values = self.score_and_rank(&mut run, &mut live).await?;

            let mut record = BeamRound {
                round,
                stepped: live.len(),
                finished: Vec::new(),
                kept: Vec::new(),
                pruned: Vec::new(),
            };
            let mut open: Vec<(Beam, f32)> = Vec::new();
            for (mut b, value) in live.drain(..).zip(values) {
                // At the round limit every beam ends here, whatever its last step did.
                if b.candidate.is_finished() || last_round {
                    record.finished.push(b.candidate.path.clone());
                    run.finish_attempt(&mut b.candidate, b.seq);
                    completed.push(b.candidate);
                } else {
                    open.push((b, value));
                }
            }
            if open.is_empty() {
                rounds.push(record);
                break;
            }
            // Best first; the sort is stable, so equal values keep their order.
            open.sort_by(|a, b| b.1.total_cmp(&a.1));
            let slots = open.len();
            let keep = slots.div_ceil(m);
            let children = spread(slots, keep);
            for (rank, (beam, _)) in open.into_iter().enumerate() {
                if rank >= keep {
                    record.pruned.push(beam.candidate.path.clone());
                    run.release(beam.seq);
                    continue;
                }
                record.kept.push(beam.candidate.path.clone());
                for j in 0..children[rank] {
                    let mut candidate = beam.candidate.clone();
                    candidate.path = beam.candidate.path.child(j as u32);
                    live.push(Beam {
                        seq: run.fork(beam.seq)?,
                        candidate,
                    });
                }
                run.release(beam.seq);
            }
            run.emit(Event::BeamPruned {
                round,
                kept: record.kept.clone(),
                pruned: record.pruned.clone(),
            });
            rounds.push(record);
        }
        let ballots: Vec<Ballot<'_>> = completed
            .iter()
            .map(|c| Ballot {
                answer: c.answer.as_deref(),
                score: f64::from(self.aggregation.apply(&c.scores)),
            })
            .collect();
        let selected = run.select(&ballots, self.selection);
        Ok(Outcome {
            answer: selected.answer,
            votes: selected.votes,
            compute: run.compute,
            candidates: completed,
            trace: Trace::Beam { rounds },
        })
    }

    /// Scores every beam's steps and returns the values beams are ranked by.
    async fn score_and_rank<P: Policy, V: Verifier, T: Task>(
        &self,
        run: &mut Run<'_, '_, P, V, T>,
        live: &mut [Beam],
    ) -> Result<Vec<f32>, StrategyError> {
        let nodes: Vec<(SeqId, &Candidate)> = live.iter().map(|b| (b.seq, &b.candidate)).collect();
        let scored = rollout_values(run, &nodes, self.lookahead, self.aggregation).await?;
        let mut values = Vec::with_capacity(live.len());
        for (b, (scores, value)) in live.iter_mut().zip(scored) {
            run.keep_scores(&mut b.candidate, scores, value);
            values.push(value);
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_resolve_within_the_budget() {
        assert_eq!(BeamWidth::Fixed(4).resolve(16), 4);
        assert_eq!(BeamWidth::Fixed(4).resolve(2), 2);
        assert_eq!(BeamWidth::Fixed(0).resolve(8), 1);
        assert_eq!(BeamWidth::Sqrt.resolve(16), 4);
        assert_eq!(BeamWidth::Sqrt.resolve(8), 3);
        assert_eq!(BeamWidth::Sqrt.resolve(2), 1);
        assert_eq!(BeamWidth::Sqrt.resolve(256), 16);
    }

    #[test]
    fn children_spread_evenly_best_first() {
        assert_eq!(spread(16, 4), [4, 4, 4, 4]);
        assert_eq!(spread(8, 3), [3, 3, 2]);
        assert_eq!(spread(6, 2), [3, 3]);
        assert_eq!(spread(5, 5), [1, 1, 1, 1, 1]);
    }
}
