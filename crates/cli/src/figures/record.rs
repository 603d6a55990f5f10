//! What `ponder figures` measures on one problem with one seed: every configuration the
//! figures need, run once, kept as one JSON line so an interrupted run resumes where it
//! stopped and the analysis never reruns a model.

use std::collections::HashMap;
use std::time::Instant;

use ponder_core::arithmetic::{ArithmeticTask, Problem};
use ponder_core::spec::{ExperimentSpec, StrategyKind};
use ponder_core::strategy::subsample::{prefix_compute, select_prefix};
use ponder_core::strategy::{
    BeamWidth, MixSplit, Outcome, RevisionSelection, Selection, StepAggregation, Trace,
};
use ponder_core::Compute;
use ponder_model::Engine;
use serde::{Deserialize, Serialize};

use crate::run::run_spec;

/// Budgets of the parallel run, all read off one run at the largest (exact subsampling).
pub const PARALLEL_BUDGETS: [u32; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];
/// Budgets of beam search (beam width 4), and of the search family's compute-optimal
/// choice.
pub const SEARCH_BUDGETS: [u32; 4] = [4, 16, 64, 256];
/// Budgets of DVTS (width 4) measured with the search part.
pub const DVTS_BUDGETS: [u32; 3] = [4, 16, 64];
/// Beams of lookahead search (k = 1, width 4) measured with the search part; each costs
/// N·(k+1) generations.
pub const LOOKAHEAD_BEAMS: [u32; 2] = [4, 16];
/// DVTS budgets of the deep part: at 256 DVTS costs as much as beam search at 256, the
/// dearest run of the search part.
pub const DEEP_DVTS_BUDGETS: [u32; 1] = [256];
/// Lookahead beams of the deep part: nominal budgets 64, 128 and 256.
pub const DEEP_LOOKAHEAD_BEAMS: [u32; 3] = [32, 64, 128];
/// Budgets of the sequential:parallel ratio sweep.
pub const RATIO_BUDGETS: [u32; 3] = [4, 16, 64];
/// Sequential:parallel ratios (attempts per chain over chains) of the sweep.
pub const RATIOS: [(f64, &str); 5] = [
    (1.0 / 16.0, "1/16"),
    (0.25, "1/4"),
    (1.0, "1"),
    (4.0, "4"),
    (16.0, "16"),
];
/// The ratio of the revisions curve: as sequential as the budget allows, up to chains
/// of 64 (the paper's revision curves are mostly sequential).
pub const REVISIONS_RATIO: f64 = 16.0;
/// Extra budgets the revisions curve is measured at, beyond the ratio sweep's.
pub const REVISIONS_EXTRA_BUDGETS: [u32; 2] = [1, 256];
/// The budget whose revision chains give the pass@1-per-step figure.
pub const STEPS_BUDGET: u32 = 64;

/// One configuration at one budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// `majority`, `best-of-n`, `best-of-n naive`, `beam`, `dvts`, `lookahead` or
    /// `mix 1/16` … `mix 16`.
    pub config: String,
    /// The nominal cost in generations.
    pub budget: u32,
    /// The answer the strategy selected was right.
    pub correct: bool,
    /// Revision chains only: a flat majority over all attempts of all chains was right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct_majority: Option<bool>,
    pub compute: Compute,
    /// Why the run failed (it then counts as wrong).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The parts of a record, measured apart so that they can run in separate processes (and
/// S's part while R was still being trained): S, L and the PRM (`search`), R with the PRM
/// (`revisions`), and the dearest search runs, DVTS and lookahead at large budgets
/// (`deep`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Search,
    Revisions,
    Deep,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Search, Part::Revisions, Part::Deep];

    pub fn name(self) -> &'static str {
        match self {
            Part::Search => "search",
            Part::Revisions => "revisions",
            Part::Deep => "deep",
        }
    }
}

/// Everything measured on one problem with one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The parts measured (all of them, once merged).
    pub parts: Vec<Part>,
    pub seed: u64,
    /// The problem's index in its set.
    pub problem: usize,
    pub level: u8,
    /// S's pass@1 over the 256 parallel samples (the oracle difficulty signal).
    pub pass_at_1: f64,
    /// The PRM's mean final-step score over the same samples (the predicted signal).
    pub mean_score: f64,
    /// The larger sibling L's greedy answer was right.
    pub larger_greedy: bool,
    pub runs: Vec<RunResult>,
    /// Right (true) or wrong, for each attempt of each chain of the `mix 16` run at
    /// [`STEPS_BUDGET`], oldest attempt first.
    pub chains: Vec<Vec<bool>>,
    /// Wall-clock seconds the measurement took.
    pub seconds: f64,
}

impl Record {
    /// Joins another part of the same (seed, problem) into this one.
    pub fn merge(&mut self, other: Record) {
        if other.parts.contains(&Part::Search) {
            self.pass_at_1 = other.pass_at_1;
            self.mean_score = other.mean_score;
            self.larger_greedy = other.larger_greedy;
        }
        if other.parts.contains(&Part::Revisions) {
            self.chains = other.chains;
        }
        for part in other.parts {
            if !self.parts.contains(&part) {
                self.parts.push(part);
            }
        }
        self.parts.sort();
        self.runs.extend(other.runs);
        self.seconds += other.seconds;
    }

    pub fn run(&self, config: &str, budget: u32) -> Option<&RunResult> {
        self.runs
            .iter()
            .find(|r| r.config == config && r.budget == budget)
    }
}

/// The models a record needs.
pub struct Models {
    pub policy: Engine,
    pub reviser: Engine,
    pub verifier: Engine,
    pub larger: Engine,
}

/// The name of a ratio sweep configuration.
pub fn mix_name(ratio_label: &str) -> String {
    format!("mix {ratio_label}")
}

/// Measures one part of a record on one problem. `tick(generations)` reports progress.
pub fn measure(
    part: Part,
    models: &mut Models,
    problem: &Problem,
    problem_index: usize,
    level: u8,
    seed: u64,
    tick: &mut dyn FnMut(u64),
) -> anyhow::Result<Record> {
    let started = Instant::now();
    let truth = problem.answer().to_string();
    let right = |answer: Option<&str>| answer == Some(truth.as_str());
    let base = ExperimentSpec {
        seed,
        problem: problem_index as u64,
        ..ExperimentSpec::default()
    };
    let mut runs = Vec::new();
    let mut record = Record {
        parts: vec![part],
        seed,
        problem: problem_index,
        level,
        pass_at_1: 0.0,
        mean_score: 0.0,
        larger_greedy: false,
        runs: Vec::new(),
        chains: Vec::new(),
        seconds: 0.0,
    };
    match part {
        Part::Revisions => {
            (record.runs, record.chains) = revisions(models, problem, &base, &right, tick)?;
            record.seconds = started.elapsed().as_secs_f64();
            return Ok(record);
        }
        Part::Deep => {
            let plan = [
                (StrategyKind::Dvts, "dvts", &DEEP_DVTS_BUDGETS[..]),
                (
                    StrategyKind::Lookahead,
                    "lookahead",
                    &DEEP_LOOKAHEAD_BEAMS[..],
                ),
            ];
            record.runs = search(models, problem, &base, &right, tick, &plan);
            record.seconds = started.elapsed().as_secs_f64();
            return Ok(record);
        }
        Part::Search => {}
    }

    // The parallel run: majority, weighted and naive best-of-N at every budget, and the
    // difficulty signals.
    let max = *PARALLEL_BUDGETS.last().unwrap_or(&1);
    let spec = ExperimentSpec {
        strategy: StrategyKind::BestOfN,
        n: max,
        ..base
    };
    let parallel = run(models, &spec, problem)?;
    tick(u64::from(max));
    let samples = parallel.candidates.len().max(1) as f64;
    let pass_at_1 = parallel
        .candidates
        .iter()
        .filter(|c| right(c.answer.as_deref()))
        .count() as f64
        / samples;
    let mean_score = parallel
        .candidates
        .iter()
        .map(|c| f64::from(StepAggregation::Last.apply(&c.scores)))
        .sum::<f64>()
        / samples;
    for &n in &PARALLEL_BUDGETS {
        for (config, selection) in [
            ("majority", Selection::Majority),
            ("best-of-n", Selection::Weighted),
            ("best-of-n naive", Selection::Naive),
        ] {
            let picked = select_prefix(&parallel, n as usize, spec.agg, selection);
            let compute = prefix_compute(&parallel, n as usize, selection);
            runs.push(RunResult {
                config: config.to_string(),
                budget: n,
                correct: right(picked.answer.as_deref()),
                correct_majority: None,
                compute,
                error: None,
            });
        }
    }

    let plan = [
        (StrategyKind::Beam, "beam", &SEARCH_BUDGETS[..]),
        (StrategyKind::Dvts, "dvts", &DVTS_BUDGETS[..]),
        (StrategyKind::Lookahead, "lookahead", &LOOKAHEAD_BEAMS[..]),
    ];
    runs.extend(search(models, problem, &base, &right, tick, &plan));

    // The larger sibling, greedy: the other side of the FLOPs-matched exchange.
    let greedy = ExperimentSpec {
        strategy: StrategyKind::Majority,
        n: 1,
        temperature: 0.0,
        ..base
    };
    let task = ArithmeticTask;
    let larger = {
        let mut ctx = ponder_core::strategy::Context::new(
            &mut models.larger,
            &mut models.verifier,
            &task,
            problem,
        );
        greedy.run(&mut ctx).map_err(|e| anyhow::anyhow!("{e}"))?
    };
    record.larger_greedy = right(larger.answer.as_deref());
    record.pass_at_1 = pass_at_1;
    record.mean_score = mean_score;
    record.runs = runs;
    record.seconds = started.elapsed().as_secs_f64();
    Ok(record)
}

/// Search runs, each `(strategy, config name, sizes)` of `plan` at each of its sizes
/// (beams for lookahead, budgets otherwise): width 4, and k = 1 for lookahead.
fn search(
    models: &mut Models,
    problem: &Problem,
    base: &ExperimentSpec,
    right: &dyn Fn(Option<&str>) -> bool,
    tick: &mut dyn FnMut(u64),
    plan: &[(StrategyKind, &str, &[u32])],
) -> Vec<RunResult> {
    let mut runs = Vec::new();
    for &(kind, config, sizes) in plan {
        for &n in sizes {
            let spec = ExperimentSpec {
                strategy: kind,
                n,
                width: BeamWidth::Fixed(4),
                k: 1,
                ..*base
            };
            let nominal = spec.strategy().generations().unwrap_or(u64::from(n));
            runs.push(result(models, &spec, problem, config, nominal, right));
            tick(nominal);
        }
    }
    runs
}

/// The revisions part: the ratio sweep, and the revisions curve at its extra budgets.
/// Ratios that give the same split of a budget share one run.
#[allow(clippy::type_complexity)]
fn revisions(
    models: &mut Models,
    problem: &Problem,
    base: &ExperimentSpec,
    right: &dyn Fn(Option<&str>) -> bool,
    tick: &mut dyn FnMut(u64),
) -> anyhow::Result<(Vec<RunResult>, Vec<Vec<bool>>)> {
    let mut runs = Vec::new();
    let mut by_split: HashMap<(u32, usize, usize), RunResult> = HashMap::new();
    let mut chains = Vec::new();
    let mut planned: Vec<(String, u32, f64)> = Vec::new();
    for &budget in &RATIO_BUDGETS {
        for (ratio, label) in RATIOS {
            planned.push((mix_name(label), budget, ratio));
        }
    }
    for &budget in &REVISIONS_EXTRA_BUDGETS {
        planned.push((mix_name("16"), budget, REVISIONS_RATIO));
    }
    for (config, budget, ratio) in planned {
        let split = MixSplit::new(budget as usize, ratio).map_err(|e| anyhow::anyhow!("{e}"))?;
        let key = (budget, split.parallel, split.sequential);
        if let Some(done) = by_split.get(&key) {
            runs.push(RunResult {
                config,
                ..done.clone()
            });
            continue;
        }
        let spec = ExperimentSpec {
            strategy: StrategyKind::Mix,
            n: budget,
            ratio,
            final_answer: RevisionSelection::Verifier,
            ..*base
        };
        let outcome = run(models, &spec, problem);
        tick(u64::from(budget));
        let result = match outcome {
            Ok(outcome) => {
                if budget == STEPS_BUDGET && ratio == REVISIONS_RATIO {
                    chains = chain_correctness(&outcome, right);
                }
                let majority = select_prefix(
                    &outcome,
                    outcome.candidates.len(),
                    spec.agg,
                    Selection::Majority,
                );
                RunResult {
                    config,
                    budget,
                    correct: right(outcome.answer.as_deref()),
                    correct_majority: Some(right(majority.answer.as_deref())),
                    compute: outcome.compute,
                    error: None,
                }
            }
            Err(e) => failed(config, budget, &e),
        };
        by_split.insert(key, result.clone());
        runs.push(result);
    }
    Ok((runs, chains))
}

fn run(models: &mut Models, spec: &ExperimentSpec, problem: &Problem) -> anyhow::Result<Outcome> {
    run_spec(
        spec,
        problem,
        &mut models.policy,
        &mut models.reviser,
        &mut models.verifier,
    )
}

fn result(
    models: &mut Models,
    spec: &ExperimentSpec,
    problem: &Problem,
    config: &str,
    nominal: u64,
    right: &dyn Fn(Option<&str>) -> bool,
) -> RunResult {
    match run(models, spec, problem) {
        Ok(outcome) => RunResult {
            config: config.to_string(),
            budget: nominal as u32,
            correct: right(outcome.answer.as_deref()),
            correct_majority: None,
            compute: outcome.compute,
            error: None,
        },
        Err(e) => failed(config.to_string(), nominal as u32, &e),
    }
}

/// A run that could not finish counts as wrong, and keeps its reason.
fn failed(config: String, budget: u32, e: &anyhow::Error) -> RunResult {
    RunResult {
        config,
        budget,
        correct: false,
        correct_majority: None,
        compute: Compute::default(),
        error: Some(format!("{e:#}")),
    }
}

/// Each chain's attempts, right or wrong, oldest first.
fn chain_correctness(outcome: &Outcome, right: &dyn Fn(Option<&str>) -> bool) -> Vec<Vec<bool>> {
    let Trace::Revisions { chains } = &outcome.trace else {
        return Vec::new();
    };
    chains
        .iter()
        .map(|chain| {
            chain
                .attempts
                .iter()
                .map(|&i| {
                    outcome
                        .candidates
                        .get(i)
                        .is_some_and(|c| right(c.answer.as_deref()))
                })
                .collect()
        })
        .collect()
}
