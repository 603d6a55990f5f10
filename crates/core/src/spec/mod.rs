//! Experiment specs: everything that decides a run's result besides the models and the
//! problem set, small enough to live in a link (`?v=1&strategy=beam&seed=7&n=16&width=4`)
//! and replay the same run in the browser or the CLI.
//!
//! A spec is versioned. Version 1 is this file; version 0 (links made before specs had a
//! `v` key) named the budget `samples`, the aggregation `aggregation`, the beam width
//! `beam_width`, and best-of-N and beam search `bon` and `beam-search`; such links are
//! migrated when read (see [`query`]).
//!
//! Specs also travel as JSON (serde, field `v` for the version); deserialized specs go
//! through [`ExperimentSpec::sanitize`], which applies the same rules as the link decoder.
//! (serde_json parses floats exactly only with its `float_roundtrip` feature; without it
//! a `ratio` can come back one ulp off. Links are always exact.)

pub mod comparison;
pub mod query;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::policy::{Policy, Sampling};
use crate::strategy::{
    BeamSearch, BeamWidth, BestOfN, Context, Dvts, LookaheadSearch, MajorityVote, Outcome,
    ParallelSequentialMix, RevisionSelection, Selection, SequentialRevisions, StepAggregation,
    Strategy, StrategyError,
};
use crate::task::Task;
use crate::verifier::Verifier;

pub use comparison::{Comparison, ProblemChoice};
pub use query::{Decoded, SpecWarning};

/// The spec version this code writes.
pub const SPEC_VERSION: u32 = 1;

/// The most generations a spec may ask for (the paper's largest budget is 256).
pub const MAX_BUDGET: u32 = 4096;

/// Which strategy a spec runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    Majority,
    #[default]
    BestOfN,
    Beam,
    Lookahead,
    Dvts,
    Revisions,
    Mix,
}

impl StrategyKind {
    pub const ALL: [StrategyKind; 7] = [
        StrategyKind::Majority,
        StrategyKind::BestOfN,
        StrategyKind::Beam,
        StrategyKind::Lookahead,
        StrategyKind::Dvts,
        StrategyKind::Revisions,
        StrategyKind::Mix,
    ];

    /// The name used in links.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Majority => "majority",
            StrategyKind::BestOfN => "best-of-n",
            StrategyKind::Beam => "beam",
            StrategyKind::Lookahead => "lookahead",
            StrategyKind::Dvts => "dvts",
            StrategyKind::Revisions => "revisions",
            StrategyKind::Mix => "mix",
        }
    }

    pub fn from_name(name: &str) -> Option<StrategyKind> {
        StrategyKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether its attempts are revisions of earlier ones (`revisions`, `mix`).
    pub fn revises(self) -> bool {
        matches!(self, StrategyKind::Revisions | StrategyKind::Mix)
    }
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The model a spec samples from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyRole {
    /// The base policy (the built-in S).
    Base,
    /// The revision model (the built-in R).
    Reviser,
    /// The larger sibling (the built-in L), for the FLOPs-matched comparison of §7.
    Large,
    /// A model the visitor brought (a Compare link's `own_model`), prompted with worked
    /// examples of the task's format (`arithmetic::few_shot`).
    Own,
}

/// Which base model a parallel strategy samples from (the link's `model` key): S, its
/// larger sibling L, or a model of the visitor's own. Revision strategies always run R,
/// S fine-tuned to revise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PolicyModel {
    #[default]
    #[serde(rename = "s")]
    Small,
    #[serde(rename = "l")]
    Large,
    #[serde(rename = "own")]
    Own,
}

impl PolicyModel {
    pub fn name(self) -> &'static str {
        match self {
            PolicyModel::Small => "s",
            PolicyModel::Large => "l",
            PolicyModel::Own => "own",
        }
    }

    pub fn from_name(name: &str) -> Option<PolicyModel> {
        match name {
            "s" | "small" => Some(PolicyModel::Small),
            "l" | "large" => Some(PolicyModel::Large),
            "own" => Some(PolicyModel::Own),
            _ => None,
        }
    }
}

/// One experiment: a strategy, its settings, the sampling, the seed and the problem.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExperimentSpec {
    /// The spec's version ([`SPEC_VERSION`] once decoded).
    #[serde(rename = "v")]
    pub version: u32,
    pub seed: u64,
    /// The problem's index in its set.
    pub problem: u64,
    pub strategy: StrategyKind,
    /// The budget in generations: samples, beams, or attempts over all chains.
    pub n: u32,
    /// Beam width M (beam, lookahead, DVTS).
    pub width: BeamWidth,
    /// Lookahead steps k.
    pub k: u32,
    /// Step aggregation for the verifier's scores.
    pub agg: StepAggregation,
    /// Naive or weighted best-of-N (best-of-N, beam, lookahead, DVTS).
    pub select: Selection,
    /// Round limit for search, and the step limit of an attempt.
    pub rounds: u32,
    /// Parallel chains of revisions (`revisions`: the length is n / chains).
    pub chains: u32,
    /// Sequential:parallel ratio (`mix`).
    pub ratio: f64,
    /// How revisions choose the final answer.
    #[serde(rename = "final")]
    pub final_answer: RevisionSelection,
    /// Earlier attempts a revision sees.
    pub context: u32,
    pub temperature: f32,
    pub top_p: f32,
    pub top_k: u32,
    /// The base model parallel strategies sample from.
    pub model: PolicyModel,
}

impl Default for ExperimentSpec {
    fn default() -> Self {
        ExperimentSpec {
            version: SPEC_VERSION,
            seed: 0,
            problem: 0,
            strategy: StrategyKind::BestOfN,
            n: 16,
            width: BeamWidth::Fixed(4),
            k: 1,
            agg: StepAggregation::Last,
            select: Selection::Weighted,
            rounds: crate::strategy::beam::DEFAULT_ROUNDS as u32,
            chains: 1,
            ratio: 1.0,
            final_answer: RevisionSelection::Verifier,
            context: crate::strategy::revision::DEFAULT_CONTEXT_ATTEMPTS as u32,
            temperature: crate::strategy::DEFAULT_SAMPLING.temperature,
            top_p: crate::strategy::DEFAULT_SAMPLING.top_p,
            top_k: 0,
            model: PolicyModel::Small,
        }
    }
}

impl ExperimentSpec {
    /// Decodes a link's query string (with or without the leading `?`): never fails;
    /// what it cannot use it reports and replaces by the default.
    pub fn from_query(query: &str) -> Decoded {
        query::decode(query)
    }

    /// The query string for this spec (without `?`).
    pub fn to_query(&self) -> String {
        query::encode(self)
    }

    /// Replaces every out-of-range or inconsistent value by its default and says so: the
    /// link decoder's rules, for specs that came from JSON or were built in code.
    pub fn sanitize(&mut self) -> Vec<SpecWarning> {
        query::sanitize(self)
    }

    pub fn sampling(&self) -> Sampling {
        Sampling {
            temperature: self.temperature,
            top_k: self.top_k as usize,
            top_p: self.top_p,
        }
    }

    /// Which policy runs this spec: revision strategies (`revisions`, `mix`) run the
    /// revision model R, as the paper does; the others the base policy S, or L or the
    /// visitor's own model where the link asks for it (`model=l`, `model=own`). The page and `ponder run` both ask here, so they load
    /// and run the same model for a link.
    pub fn policy_role(&self) -> PolicyRole {
        if self.strategy.revises() {
            PolicyRole::Reviser
        } else {
            match self.model {
                PolicyModel::Small => PolicyRole::Base,
                PolicyModel::Large => PolicyRole::Large,
                PolicyModel::Own => PolicyRole::Own,
            }
        }
    }

    /// Whether this spec's run calls the verifier: every search and best-of-N does, to
    /// score steps; majority voting never does (§5.1's baseline without a verifier), and
    /// revisions (and the mix) only to choose the final answer by PRM-weighted vote. The
    /// page loads the PRM only for specs that use it.
    pub fn uses_verifier(&self) -> bool {
        match self.strategy {
            StrategyKind::Majority => false,
            StrategyKind::BestOfN
            | StrategyKind::Beam
            | StrategyKind::Lookahead
            | StrategyKind::Dvts => true,
            StrategyKind::Revisions | StrategyKind::Mix => {
                self.final_answer == RevisionSelection::Verifier
            }
        }
    }

    /// The configured strategy.
    pub fn strategy(&self) -> Strategy {
        let n = self.n as usize;
        let rounds = self.rounds as usize;
        match self.strategy {
            StrategyKind::Majority => Strategy::Majority(MajorityVote {
                n,
                max_steps: rounds,
            }),
            StrategyKind::BestOfN => Strategy::BestOfN(BestOfN {
                n,
                aggregation: self.agg,
                selection: self.select,
                max_steps: rounds,
            }),
            StrategyKind::Beam => Strategy::Beam(BeamSearch {
                n,
                width: self.width,
                aggregation: self.agg,
                selection: self.select,
                max_rounds: rounds,
                lookahead: 0,
            }),
            StrategyKind::Lookahead => Strategy::Lookahead(LookaheadSearch {
                n,
                width: self.width,
                k: self.k as usize,
                aggregation: self.agg,
                selection: self.select,
                max_rounds: rounds,
            }),
            StrategyKind::Dvts => Strategy::Dvts(Dvts {
                n,
                width: self.width,
                aggregation: self.agg,
                selection: self.select,
                max_rounds: rounds,
            }),
            StrategyKind::Revisions => {
                let chains = (self.chains as usize).max(1);
                Strategy::Revisions(SequentialRevisions {
                    chains,
                    length: n / chains,
                    context_attempts: self.context as usize,
                    selection: self.final_answer,
                    aggregation: self.agg,
                    max_steps: rounds,
                })
            }
            StrategyKind::Mix => Strategy::Mix(ParallelSequentialMix {
                budget: n,
                ratio: self.ratio,
                context_attempts: self.context as usize,
                selection: self.final_answer,
                aggregation: self.agg,
                max_steps: rounds,
            }),
        }
    }

    /// Runs this spec in `ctx`, whose seed, problem id and sampling it sets.
    pub fn run<P: Policy, V: Verifier, T: Task>(
        &self,
        ctx: &mut Context<'_, P, V, T>,
    ) -> Result<Outcome, StrategyError> {
        crate::ready::now(self.run_async(ctx)).unwrap_or(Err(StrategyError::MustAwait))
    }

    /// [`Self::run`] for engines that wait for their device between steps (a GPU in a
    /// browser tab): the same run, awaited.
    pub async fn run_async<P: Policy, V: Verifier, T: Task>(
        &self,
        ctx: &mut Context<'_, P, V, T>,
    ) -> Result<Outcome, StrategyError> {
        ctx.seed = self.seed;
        ctx.problem_id = self.problem;
        ctx.sampling = self.sampling();
        self.strategy().run_async(ctx).await
    }
}
