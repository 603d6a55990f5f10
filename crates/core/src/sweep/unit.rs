//! One (seed, problem) of a sweep: every strategy at every budget, with the parallel
//! strategies' and DVTS's smaller budgets read off their largest run.

use serde::{Deserialize, Serialize};

use crate::arithmetic::{ArithmeticTask, Problem};
use crate::spec::{ExperimentSpec, PolicyModel, PolicyRole, StrategyKind};
use crate::strategy::subsample::{dvts_prefix, prefix_compute, select_prefix};
use crate::strategy::{Context, Outcome, Selection, StrategyError, Trace};
use crate::{Policy, Verifier};

use super::row::{Measured, SweepRow};
use super::{SweepSpec, Unit};

/// The spec that spends `budget` generations of `kind` (lookahead gets N = budget / (k+1)
/// beams, since each also spends k rollout steps), `base`'s settings otherwise.
pub fn spec_at_budget(
    base: &ExperimentSpec,
    kind: StrategyKind,
    budget: u32,
    seed: u64,
    problem: u64,
) -> ExperimentSpec {
    let mut spec = ExperimentSpec {
        strategy: kind,
        n: budget,
        seed,
        problem,
        ..*base
    };
    if kind == StrategyKind::Lookahead {
        spec.n = (budget / (spec.k + 1)).max(1);
    }
    spec
}

/// [`spec_at_budget`] (at sequential:parallel `ratio` for the mix, where given), kept only
/// when its own generation count is the budget, so that no point of a chart stands at a
/// budget its run did not spend.
pub fn spec_for_budget(
    base: &ExperimentSpec,
    kind: StrategyKind,
    budget: u32,
    seed: u64,
    problem: u64,
    ratio: Option<f64>,
) -> Result<ExperimentSpec, String> {
    let mut spec = spec_at_budget(base, kind, budget, seed, problem);
    if let Some(r) = ratio {
        spec.ratio = r;
    }
    match spec.strategy().generations() {
        Ok(g) if g == u64::from(budget) => Ok(spec),
        Ok(g) => Err(format!(
            "{} spends {g} generations at n={}, not {budget}",
            kind.name(),
            spec.n
        )),
        // Specs the strategy refuses are reported by their run.
        Err(_) => Ok(spec),
    }
}

/// L's greedy answer as a spec: one sample at temperature 0, the link `ponder run`
/// replays a [`super::LARGE_GREEDY`] row with.
pub fn large_greedy_spec(seed: u64, problem: u64) -> ExperimentSpec {
    ExperimentSpec {
        strategy: StrategyKind::Majority,
        n: 1,
        temperature: 0.0,
        model: PolicyModel::Large,
        seed,
        problem,
        ..ExperimentSpec::default()
    }
}

/// Runs one spec on its problem: revision strategies on `reviser`, the rest on `policy`.
async fn run_spec<P: Policy, R: Policy, V: Verifier>(
    spec: &ExperimentSpec,
    problem: &Problem,
    policy: &mut P,
    reviser: &mut R,
    verifier: &mut V,
) -> Result<Outcome, StrategyError> {
    let task = ArithmeticTask;
    match spec.policy_role() {
        PolicyRole::Reviser => {
            let mut ctx = Context::new(reviser, verifier, &task, problem).with_max_batch(64);
            spec.run_async(&mut ctx).await
        }
        PolicyRole::Base => {
            let mut ctx = Context::new(policy, verifier, &task, problem).with_max_batch(64);
            spec.run_async(&mut ctx).await
        }
        // A sweep's specs come from its strategy list, which never names L (its greedy
        // rows run apart) or a visitor's model.
        PolicyRole::Large | PolicyRole::Own => Err(StrategyError::Policy(
            "a sweep runs S and R; L and models of your own are not among its policies".into(),
        )),
    }
}

/// The seed of a unit's difficulty samples: a stream of draws no evaluated strategy uses
/// (the strategies draw under the unit's own seed), so that binning problems by these
/// samples does not favour the strategies that choose among the same samples. Fixed, as
/// links replay on it.
pub fn difficulty_seed(seed: u64) -> u64 {
    seed ^ 0xd1ff_1c01_7ea5_0000
}

/// What one unit measured: its rows, and the fraction of right answers among samples of
/// its own (the problem's oracle difficulty: `max_budget` samples drawn under
/// [`difficulty_seed`], apart from every strategy's), when the sweep has a parallel
/// strategy and that run finished.
/// It is also what the page's worker sends for a unit and what the browser stores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitResult {
    pub unit: Unit,
    pub rows: Vec<SweepRow>,
    #[serde(default)]
    pub pass_at_1: Option<f64>,
    /// For a sweep with revisions: at each step of the chains of its largest-budget run,
    /// the fraction of chains whose attempt there was right (the paper's Fig. 6 left).
    #[serde(default)]
    pub revision_steps: Option<Vec<f64>>,
}

/// At each step of a revisions run's chains, the fraction of chains whose attempt at that
/// step is right (chains shorter than a step do not count at it).
fn revision_steps(outcome: &Outcome, truth: &str) -> Option<Vec<f64>> {
    let Trace::Revisions { chains } = &outcome.trace else {
        return None;
    };
    let longest = chains.iter().map(|c| c.attempts.len()).max()?;
    Some(
        (0..longest)
            .map(|k| {
                let at: Vec<bool> = chains
                    .iter()
                    .filter_map(|c| c.attempts.get(k))
                    .map(|&i| {
                        outcome.candidates.get(i).and_then(|c| c.answer.as_deref()) == Some(truth)
                    })
                    .collect();
                at.iter().filter(|&&right| right).count() as f64 / at.len().max(1) as f64
            })
            .collect(),
    )
}

/// Every row of one unit: `problem` is the set's problem at `unit.problem`, of `level`.
/// `large` is L, for a sweep that asks for its greedy answers. `progress` hears the
/// generations each run spent (for a progress bar). A run that fails counts as unsolved
/// and its row says why; the unit goes on.
pub async fn run_unit<P: Policy, R: Policy, V: Verifier, L: Policy>(
    sweep: &SweepSpec,
    unit: Unit,
    problem: &Problem,
    level: u8,
    (policy, reviser, verifier): (&mut P, &mut R, &mut V),
    large: Option<&mut L>,
    progress: &mut dyn FnMut(u64),
) -> UnitResult {
    let Unit { seed, problem: i } = unit;
    // A sweep is checked before it runs; a bad setting here runs on the defaults.
    let base = sweep.base().unwrap_or_default();
    let mut pass_at_1 = None;
    let mut steps = None;
    let truth = problem.answer().to_string();
    let max_budget = sweep.max_budget();
    let mut rows = Vec::new();
    let parallel = sweep.parallel();
    if !parallel.is_empty() {
        let spec = ExperimentSpec {
            seed,
            problem: i,
            strategy: StrategyKind::BestOfN,
            n: max_budget,
            ..base
        };
        let outcome = run_spec(&spec, problem, policy, reviser, verifier).await;
        // The difficulty samples: majority voting scores nothing, so this is the policy's
        // samples alone.
        let difficulty = ExperimentSpec {
            seed: difficulty_seed(seed),
            strategy: StrategyKind::Majority,
            ..spec
        };
        if let Ok(samples) = run_spec(&difficulty, problem, policy, reviser, verifier).await {
            let right = samples
                .candidates
                .iter()
                .filter(|c| c.answer.as_deref() == Some(truth.as_str()))
                .count();
            pass_at_1 = Some(right as f64 / samples.candidates.len().max(1) as f64);
        }
        progress(u64::from(max_budget));
        for &kind in &parallel {
            for &budget in &sweep.budgets {
                let selection = if kind == StrategyKind::Majority {
                    Selection::Majority
                } else {
                    spec.select
                };
                let result = match &outcome {
                    Ok(outcome) => {
                        let chosen = select_prefix(outcome, budget as usize, spec.agg, selection);
                        Measured::ran(
                            chosen.answer.as_deref(),
                            &truth,
                            prefix_compute(outcome, budget as usize, selection),
                        )
                    }
                    Err(e) => Measured::failed(e.to_string()),
                };
                rows.push(SweepRow::new(seed, kind, budget, i, level, result));
            }
        }
        progress(u64::from(max_budget));
    }
    for (kind, ratio) in sweep.others().into_iter().flat_map(|kind| {
        sweep
            .ratios_of(kind)
            .into_iter()
            .map(move |ratio| (kind, ratio))
    }) {
        // DVTS runs once at the largest budget; its first subtrees are the runs at the
        // smaller ones (`subsample::dvts_prefix`).
        let mut largest = ExperimentSpec {
            seed,
            problem: i,
            strategy: kind,
            n: max_budget,
            ..base
        };
        let reused = if kind == StrategyKind::Dvts && largest.sanitize().is_empty() {
            Some(run_spec(&largest, problem, policy, reviser, verifier).await)
        } else {
            None
        };
        for &budget in &sweep.budgets {
            let reuse = match &reused {
                // The largest run failed: its row says why, without running it again.
                Some(Err(e)) if budget == max_budget => {
                    Some((Measured::failed(e.to_string()), u64::from(budget)))
                }
                Some(Ok(outcome)) => dvts_prefix(
                    outcome,
                    budget as usize,
                    largest.width,
                    largest.agg,
                    largest.select,
                )
                .map(|(selected, compute)| {
                    let measured = Measured::ran(selected.answer.as_deref(), &truth, compute);
                    let work = if budget == max_budget { budget } else { 0 };
                    (measured, u64::from(work))
                }),
                _ => None,
            };
            let (measured, work) = match reuse {
                Some(done) => done,
                None => {
                    let measured = match spec_for_budget(&base, kind, budget, seed, i, ratio) {
                        Ok(mut spec) => {
                            let asked = spec.n;
                            let warnings = spec.sanitize();
                            if spec.n != asked {
                                let why: Vec<String> =
                                    warnings.iter().map(ToString::to_string).collect();
                                Measured::skipped(why.join("; "))
                            } else {
                                match run_spec(&spec, problem, policy, reviser, verifier).await {
                                    Ok(outcome) => {
                                        if kind == StrategyKind::Revisions && budget == max_budget {
                                            steps = revision_steps(&outcome, &truth);
                                        }
                                        Measured::ran(
                                            outcome.answer.as_deref(),
                                            &truth,
                                            outcome.compute,
                                        )
                                    }
                                    Err(e) => Measured::failed(e.to_string()),
                                }
                            }
                        }
                        Err(why) => Measured::skipped(why),
                    };
                    (measured, u64::from(budget))
                }
            };
            let mut row = SweepRow::new(seed, kind, budget, i, level, measured);
            if let Some(r) = ratio {
                row.strategy = super::mix_label(r);
            }
            rows.push(row);
            progress(work);
        }
    }
    if sweep.large {
        let spec = large_greedy_spec(seed, i);
        let measured = match large {
            Some(l) => {
                let task = ArithmeticTask;
                let mut ctx = Context::new(l, verifier, &task, problem);
                match spec.run_async(&mut ctx).await {
                    Ok(outcome) => {
                        Measured::ran(outcome.answer.as_deref(), &truth, outcome.compute)
                    }
                    Err(e) => Measured::failed(e.to_string()),
                }
            }
            None => Measured::failed("the larger sibling L is not loaded".into()),
        };
        let mut row = SweepRow::new(seed, spec.strategy, 1, i, level, measured);
        row.strategy = super::LARGE_GREEDY.to_string();
        rows.push(row);
        progress(1);
    }
    UnitResult {
        unit,
        rows,
        pass_at_1,
        revision_steps: steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arithmetic::shipped_sets;
    use crate::arithmetic::task::answer_line;
    use crate::testing::{tag_verifier, ScriptInput, ScriptedPolicy};

    #[test]
    fn difficulty_comes_from_samples_no_strategy_chooses_among() {
        // A policy right only on draws under the difficulty seed: the unit's pass@1 is 1,
        // while best-of-N, choosing among its own samples, is never right.
        let set = shipped_sets()
            .expect("sets")
            .into_iter()
            .find(|s| s.name == "test")
            .expect("the test set");
        let problem = set.problems().expect("problems").swap_remove(0);
        let truth = problem.answer();
        let script = move |input: &ScriptInput<'_>| {
            answer_line(if input.draw.seed == difficulty_seed(1) {
                truth
            } else {
                truth + 1
            })
        };
        let mut policy = ScriptedPolicy::new(1, script);
        let mut reviser = ScriptedPolicy::new(1, script);
        let mut verifier = tag_verifier(1);
        let sweep = SweepSpec {
            budgets: vec![4],
            strategies: vec![StrategyKind::BestOfN],
            ..SweepSpec::default()
        };
        let result = crate::ready::now(run_unit(
            &sweep,
            Unit {
                seed: 1,
                problem: 0,
            },
            &problem,
            1,
            (&mut policy, &mut reviser, &mut verifier),
            None::<&mut ScriptedPolicy<fn(&ScriptInput<'_>) -> String>>,
            &mut |_| {},
        ))
        .expect("never waits");
        assert_eq!(result.pass_at_1, Some(1.0));
        assert_eq!(result.rows.len(), 1);
        assert!(!result.rows[0].result.correct, "{:?}", result.rows[0]);
    }

    #[test]
    fn every_kept_spec_spends_exactly_its_budget() {
        // Lookahead with the default k = 1: N = budget / 2 beams.
        let s = spec_for_budget(
            &ExperimentSpec::default(),
            StrategyKind::Lookahead,
            16,
            1,
            0,
            None,
        )
        .expect("divides");
        assert_eq!((s.n, s.k), (8, 1));
        let why = spec_for_budget(
            &ExperimentSpec::default(),
            StrategyKind::Lookahead,
            3,
            1,
            0,
            None,
        )
        .unwrap_err();
        assert!(why.contains("not 3"), "{why}");
        for kind in [
            StrategyKind::Beam,
            StrategyKind::Dvts,
            StrategyKind::Revisions,
        ] {
            let s = spec_for_budget(&ExperimentSpec::default(), kind, 16, 1, 0, None)
                .expect("any budget");
            assert_eq!(s.strategy().generations().ok(), Some(16), "{kind:?}");
        }
    }
}
