//! Test-time-compute strategies (Snell et al. 2024): parallel sampling with majority
//! voting or a verifier (§5.1), search against a process reward model (§5.2: beam
//! search, lookahead, DVTS from search-and-learn), sequential revisions and their mix with
//! parallel sampling (§6), and the compute-optimal choice among them (§3.2).
//!
//! Every strategy is generic over any [`Policy`], [`Verifier`] and [`Task`], runs one
//! problem through a [`Context`], and returns an [`Outcome`]: the answer, the votes, the
//! final candidates and the [`Compute`] spent. Randomness comes only from draw keys named
//! by paths (see [`crate::path`]), so an outcome is a function of the spec, the models
//! and the problem, whatever [`Context::max_batch`] is.

pub mod aggregate;
pub mod beam;
pub mod best_of_n;
pub mod compute_optimal;
pub mod dvts;
pub mod lookahead;
pub mod majority;
pub mod mix;
pub mod revision;
mod run;
mod sample;
pub mod subsample;
pub mod vote;

use serde::{Deserialize, Serialize};

use crate::accounting::Compute;
use crate::draw::DrawKey;
use crate::event::Event;
use crate::path::Path;
use crate::policy::{Finish, Policy, Sampling};
use crate::task::Task;
use crate::verifier::Verifier;

pub use aggregate::StepAggregation;
pub use beam::{BeamRound, BeamSearch, BeamWidth};
pub use best_of_n::BestOfN;
pub use dvts::{Dvts, Subtree};
pub use lookahead::LookaheadSearch;
pub use majority::MajorityVote;
pub use mix::{MixSplit, ParallelSequentialMix};
pub use revision::{RevisionChain, RevisionSelection, SequentialRevisions};
pub use vote::{Selection, Vote};

/// The first part of every draw key after the problem: which family of samples a
/// strategy draws. Strategies that share a family share samples on purpose: majority
/// voting and best-of-N see the same N attempts, and best-of-N at budget n uses the first
/// n attempts of budget 2n (as search-and-learn scores subsets); lookahead with k = 0 is
/// exactly beam search; a mix is revision chains.
pub mod stream {
    /// Independent attempts: majority voting and best-of-N.
    pub const PARALLEL: u64 = 1;
    /// Beam search and lookahead search.
    pub const TREE: u64 = 2;
    /// Diverse verifier tree search.
    pub const DVTS: u64 = 3;
    /// Revision chains, alone or mixed with parallel chains.
    pub const REVISIONS: u64 = 4;
    /// Lookahead rollouts branch off a node's own key with this child index, so they never
    /// share draws with the node's real children (they are greedy today, but a sampled
    /// rollout must not collide either).
    pub const LOOKAHEAD_ROLLOUT: u64 = u64::MAX;
}

/// The key of the root of a strategy family's tree for one problem.
pub fn root_key(seed: u64, problem_id: u64, family: u64) -> DrawKey {
    DrawKey::new(seed, &[problem_id, family])
}

/// One problem's run: the models, the task, the problem and the knobs that do not change
/// what a strategy computes, only how (batching) or from which draws (seed).
pub struct Context<'a, P: Policy, V: Verifier, T: Task> {
    pub policy: &'a mut P,
    pub verifier: &'a mut V,
    pub task: &'a T,
    pub problem: &'a T::Problem,
    /// The problem's index in its set; part of every draw key.
    pub problem_id: u64,
    pub seed: u64,
    pub sampling: Sampling,
    /// The most sequences per `Policy::step` call. Results do not depend on it; it bounds
    /// an engine's memory. Verifier calls are never split: the engine runs the problem
    /// once and shares it across the candidates of one call, so one call per scoring round
    /// is both cheapest and what [`Compute::verifier_tokens`] counts.
    pub max_batch: usize,
    pub sink: Option<&'a mut dyn FnMut(&Event)>,
}

/// The sampling the paper's parallel samples use (search-and-learn: T = 0.8, top-p 1).
pub const DEFAULT_SAMPLING: Sampling = Sampling {
    temperature: 0.8,
    top_k: 0,
    top_p: 1.0,
};

impl<'a, P: Policy, V: Verifier, T: Task> Context<'a, P, V, T> {
    pub fn new(
        policy: &'a mut P,
        verifier: &'a mut V,
        task: &'a T,
        problem: &'a T::Problem,
    ) -> Self {
        Context {
            policy,
            verifier,
            task,
            problem,
            problem_id: 0,
            seed: 0,
            sampling: DEFAULT_SAMPLING,
            max_batch: usize::MAX,
            sink: None,
        }
    }

    pub fn with_problem_id(mut self, problem_id: u64) -> Self {
        self.problem_id = problem_id;
        self
    }

    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub fn with_sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    pub fn with_max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch.max(1);
        self
    }

    pub fn with_sink(mut self, sink: &'a mut dyn FnMut(&Event)) -> Self {
        self.sink = Some(sink);
        self
    }
}

/// One attempt (or partial attempt) as a list of steps, with what the verifier said.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub path: Path,
    /// The steps as generated, each with its ending newline when it had one.
    pub steps: Vec<String>,
    /// Tokens the policy generated for each step.
    pub step_tokens: Vec<usize>,
    /// The verifier's score for each step, from the latest scoring (empty if never scored).
    pub scores: Vec<f32>,
    /// The task's canonical answer, read once the attempt finished.
    pub answer: Option<String>,
    /// How the last step ended.
    pub finish: Finish,
}

impl Candidate {
    pub(crate) fn new(path: Path) -> Candidate {
        Candidate {
            path,
            steps: Vec::new(),
            step_tokens: Vec::new(),
            scores: Vec::new(),
            answer: None,
            finish: Finish::StepEnd,
        }
    }

    /// The attempt's whole text.
    pub fn text(&self) -> String {
        self.steps.concat()
    }

    /// Tokens generated for the whole attempt.
    pub fn tokens(&self) -> usize {
        self.step_tokens.iter().sum()
    }

    /// Whether the attempt has ended (any step end but a plain newline).
    pub fn is_finished(&self) -> bool {
        self.finish != Finish::StepEnd
    }
}

/// What a strategy did on one problem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub answer: Option<String>,
    /// Every final answer's tally, in order of first appearance.
    pub votes: Vec<Vote>,
    /// The candidates the final selection ran over.
    pub candidates: Vec<Candidate>,
    pub compute: Compute,
    pub trace: Trace,
}

/// The strategy-specific structure of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trace {
    /// Independent attempts (majority voting, best-of-N).
    Parallel,
    /// Beam or lookahead search: what each round kept and dropped.
    Beam { rounds: Vec<BeamRound> },
    /// DVTS: the greedy path of each subtree; candidates are grouped by subtree.
    Dvts { subtrees: Vec<Subtree> },
    /// Revisions: the attempts of each chain (indices into the candidates) and the chain's
    /// own pick.
    Revisions { chains: Vec<RevisionChain> },
}

/// Why a strategy could not run.
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    #[error("the policy failed: {0}")]
    Policy(#[source] Box<dyn std::error::Error>),
    #[error("the verifier failed: {0}")]
    Verifier(#[source] Box<dyn std::error::Error>),
    #[error(
        "the policy broke its contract: {expected} step requests got {found} outputs (or \
         outputs out of request order); `Policy::step` must answer each request once, in order"
    )]
    PolicyContract { expected: usize, found: usize },
    #[error(
        "the verifier broke its contract: candidate {path} has {expected} steps but got \
         {found} scores; `Verifier::score` must return one score per step"
    )]
    VerifierShape {
        path: Path,
        expected: usize,
        found: usize,
    },
    #[error(
        "the verifier returned {found} score lists for {expected} candidates; \
         `Verifier::score` must return one list per candidate"
    )]
    VerifierCount { expected: usize, found: usize },
    #[error(
        "the verifier gave step {step} of candidate {path} a score of {score}; scores must \
         be finite (check the PRM head's weights)"
    )]
    NonFiniteScore { path: Path, step: usize, score: f32 },
    #[error("invalid {strategy} configuration: {reason}")]
    Config {
        strategy: &'static str,
        reason: String,
    },
    #[error(
        "the engine waits for its device between steps (a GPU in a browser tab), so the \
         strategy must be awaited: call `run_async`, not `run`"
    )]
    MustAwait,
}

/// A strategy's future run to its end at once, for engines that never wait (see
/// [`crate::ready`]).
pub(crate) fn at_once(
    future: impl std::future::Future<Output = Result<Outcome, StrategyError>>,
) -> Result<Outcome, StrategyError> {
    crate::ready::now(future).unwrap_or(Err(StrategyError::MustAwait))
}

pub(crate) fn config_error(strategy: &'static str, reason: impl Into<String>) -> StrategyError {
    StrategyError::Config {
        strategy,
        reason: reason.into(),
    }
}

/// Any one strategy, configured: what an [`ExperimentSpec`](crate::spec::ExperimentSpec)
/// describes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    Majority(MajorityVote),
    BestOfN(BestOfN),
    Beam(BeamSearch),
    Lookahead(LookaheadSearch),
    Dvts(Dvts),
    Revisions(SequentialRevisions),
    Mix(ParallelSequentialMix),
}

impl Strategy {
    /// [`Self::run_async`] to its end at once, for engines that never wait.
    pub fn run<P: Policy, V: Verifier, T: Task>(
        &self,
        ctx: &mut Context<'_, P, V, T>,
    ) -> Result<Outcome, StrategyError> {
        at_once(self.run_async(ctx))
    }

    pub async fn run_async<P: Policy, V: Verifier, T: Task>(
        &self,
        ctx: &mut Context<'_, P, V, T>,
    ) -> Result<Outcome, StrategyError> {
        match self {
            Strategy::Majority(s) => s.run_async(ctx).await,
            Strategy::BestOfN(s) => s.run_async(ctx).await,
            Strategy::Beam(s) => s.run_async(ctx).await,
            Strategy::Lookahead(s) => s.run_async(ctx).await,
            Strategy::Dvts(s) => s.run_async(ctx).await,
            Strategy::Revisions(s) => s.run_async(ctx).await,
            Strategy::Mix(s) => s.run_async(ctx).await,
        }
    }

    /// The cost in generations, the paper's unit.
    pub fn generations(&self) -> Result<u64, StrategyError> {
        Ok(match self {
            Strategy::Majority(s) => s.n as u64,
            Strategy::BestOfN(s) => s.n as u64,
            Strategy::Beam(s) => s.generations(),
            Strategy::Lookahead(s) => s.generations(),
            Strategy::Dvts(s) => s.n as u64,
            Strategy::Revisions(s) => s.generations(),
            Strategy::Mix(s) => s.revisions()?.generations(),
        })
    }
}
