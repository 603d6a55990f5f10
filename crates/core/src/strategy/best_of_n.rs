//! Best-of-N against a verifier (Snell et al. 2024 §5.1, §1.3): N independent attempts,
//! every step scored by the PRM, each attempt's steps aggregated (`last`, `min` or
//! `prod`), then the answer chosen naively (the best attempt) or weighted (the answer
//! with the largest summed score, Li et al.).

use serde::{Deserialize, Serialize};

use crate::policy::Policy;
use crate::task::Task;
use crate::verifier::Verifier;

use super::aggregate::StepAggregation;
use super::run::Run;
use super::sample::sample_parallel;
use super::vote::{Ballot, Selection};
use super::{config_error, stream, Context, Outcome, StrategyError, Trace};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BestOfN {
    /// Attempts, the budget in generations.
    pub n: usize,
    pub aggregation: StepAggregation,
    /// Naive or weighted (majority here would ignore the verifier it pays for).
    pub selection: Selection,
    /// The most steps per attempt; the last runs to the end.
    pub max_steps: usize,
}

impl BestOfN {
    /// Weighted best-of-N with `last` aggregation, the paper's best combination.
    pub fn weighted(n: usize) -> BestOfN {
        BestOfN {
            n,
            aggregation: StepAggregation::Last,
            selection: Selection::Weighted,
            max_steps: super::beam::DEFAULT_ROUNDS,
        }
    }

    /// Naive best-of-N ("vanilla" in the paper's figures).
    pub fn naive(n: usize) -> BestOfN {
        BestOfN {
            selection: Selection::Naive,
            ..BestOfN::weighted(n)
        }
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
            return Err(config_error("best-of-N", "n must be at least 1 attempt"));
        }
        let prompt = ctx.task.prompt(ctx.problem);
        let mut run = Run::new(ctx, stream::PARALLEL, self.n as u64);
        let mut candidates = sample_parallel(&mut run, &prompt, self.n, self.max_steps).await?;
        let values = run
            .score_candidates(candidates.iter_mut().collect(), self.aggregation)
            .await?;
        let ballots: Vec<Ballot<'_>> = candidates
            .iter()
            .zip(&values)
            .map(|(c, &v)| Ballot {
                answer: c.answer.as_deref(),
                score: f64::from(v),
            })
            .collect();
        let selected = run.select(&ballots, self.selection);
        Ok(Outcome {
            answer: selected.answer,
            votes: selected.votes,
            compute: run.compute,
            candidates,
            trace: Trace::Parallel,
        })
    }
}
