//! Majority voting: N independent attempts, the most frequent final answer wins. The
//! paper's baseline without a verifier (Snell et al. 2024 §5.1; search-and-learn's
//! `pred_maj`).

use serde::{Deserialize, Serialize};

use crate::policy::Policy;
use crate::task::Task;
use crate::verifier::Verifier;

use super::run::Run;
use super::sample::sample_parallel;
use super::vote::{Ballot, Selection};
use super::{config_error, stream, Context, Outcome, StrategyError, Trace};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MajorityVote {
    /// Attempts, the budget in generations.
    pub n: usize,
    /// The most steps per attempt; the last runs to the end.
    pub max_steps: usize,
}

impl MajorityVote {
    pub fn new(n: usize) -> MajorityVote {
        MajorityVote {
            n,
            max_steps: super::beam::DEFAULT_ROUNDS,
        }
    }

    /// [`Self::run_async`] to its end at once, for engines that never wait.
    pub fn run<P: Policy, V: Verifier, T: Task>(
        &self,
        ctx: &mut Context<'_, P, V, T>,
    ) -> Result<Outcome, StrategyError> {
        super::at_once(self.run_async(ctx))
    }

    /// Runs on one problem. The verifier is not called.
    pub async fn run_async<P: Policy, V: Verifier, T: Task>(
        &self,
        ctx: &mut Context<'_, P, V, T>,
    ) -> Result<Outcome, StrategyError> {
        if self.n == 0 {
            return Err(config_error(
                "majority vote",
                "n must be at least 1 attempt",
            ));
        }
        let prompt = ctx.task.prompt(ctx.problem);
        let mut run = Run::new(ctx, stream::PARALLEL, self.n as u64);
        let candidates = sample_parallel(&mut run, &prompt, self.n, self.max_steps).await?;
        let ballots: Vec<Ballot<'_>> = candidates
            .iter()
            .map(|c| Ballot {
                answer: c.answer.as_deref(),
                score: 0.0,
            })
            .collect();
        let selected = run.select(&ballots, Selection::Majority);
        Ok(Outcome {
            answer: selected.answer,
            votes: selected.votes,
            compute: run.compute,
            candidates,
            trace: Trace::Parallel,
        })
    }
}
