//! Compute-optimal scaling from a sweep: the paper's Figure 4. At each budget and in each
//! difficulty bin, the strategy that did best on half of the bin's problems is scored on
//! the other half (and the other way round), so the choice is never graded on the
//! problems it was made on; the result is compared with best-of-N at the same budget.
//! Difficulty is each problem's oracle pass@1 from the sweep's own samples, binned per
//! seed, as `ponder figures` does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::strategy::compute_optimal::{
    ComputeOptimal, ComputeOptimalReport, ProblemResults, ResultsTable,
};
use crate::Budget;

use super::bins::BINS;
use super::{Spread, UnitResult};

/// The compute-optimal accuracy at one budget, over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimalPoint {
    pub budget: u32,
    pub accuracy: Spread,
    /// The most bins every seed's ties allowed (5 unless problems tie).
    pub bins: usize,
}

/// One seed's compute-optimal analysis of a sweep: its units that have a difficulty
/// signal, in table order, the table's report, and how many bins it has (five where the
/// seed's problems fill them, fewer for a small sweep).
pub(crate) struct SeedReport<'a> {
    pub units: Vec<&'a UnitResult>,
    pub report: ComputeOptimalReport,
    pub bins: usize,
}

/// The analysis of every seed of `units` over `strategies` × `budgets`: each problem
/// scored right at a (strategy, budget) where its row ran and was right. Seeds whose
/// problems cannot fill even one bin's two folds are left out.
pub(crate) fn seed_reports<'a>(
    strategies: &[String],
    budgets: &[u32],
    units: &[&'a UnitResult],
) -> Vec<SeedReport<'a>> {
    let mut per_seed: BTreeMap<u64, Vec<&'a UnitResult>> = BTreeMap::new();
    for u in units.iter().filter(|u| u.pass_at_1.is_some()) {
        per_seed.entry(u.unit.seed).or_default().push(u);
    }
    per_seed
        .into_iter()
        .filter_map(|(seed, units)| {
            let problems = units
                .iter()
                .map(|u| ProblemResults {
                    problem_id: u.unit.problem,
                    pass_at_1: u.pass_at_1.unwrap_or(0.0),
                    mean_score: 0.0,
                    accuracy: strategies
                        .iter()
                        .map(|s| {
                            budgets
                                .iter()
                                .map(|&b| {
                                    let right = u.rows.iter().any(|r| {
                                        &r.strategy == s
                                            && r.budget == b
                                            && r.result.skipped.is_none()
                                            && r.result.correct
                                    });
                                    f64::from(u8::from(right))
                                })
                                .collect()
                        })
                        .collect(),
                })
                .collect();
            let table = ResultsTable {
                configs: strategies.to_vec(),
                budgets: budgets.iter().map(|&b| Budget(b)).collect(),
                problems,
            };
            (1..=BINS).rev().find_map(|bins| {
                let report = ComputeOptimal {
                    bins,
                    seed,
                    ..ComputeOptimal::default()
                }
                .analyse(&table)
                .ok()?;
                Some(SeedReport {
                    units: units.clone(),
                    report,
                    bins,
                })
            })
        })
        .collect()
}

/// The compute-optimal accuracy at each budget over `strategies`, per seed with five
/// oracle bins of its own (fewer where the seed's problems cannot fill five bins' two
/// folds), summarised over seeds. Units without a difficulty signal are left out.
pub fn compute_optimal(
    strategies: &[String],
    budgets: &[u32],
    units: &[&UnitResult],
) -> Vec<OptimalPoint> {
    let mut at: Vec<Vec<f64>> = vec![Vec::new(); budgets.len()];
    let mut fewest = BINS;
    for seed in seed_reports(strategies, budgets, units) {
        fewest = fewest.min(seed.bins);
        for (i, acc) in seed.report.accuracy.iter().enumerate() {
            at[i].push(*acc);
        }
    }
    budgets
        .iter()
        .zip(at)
        .filter_map(|(&budget, accs)| {
            Some(OptimalPoint {
                budget,
                accuracy: Spread::of(&accs)?,
                bins: fewest,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::StrategyKind;
    use crate::sweep::{result_for_test, Unit};

    #[test]
    fn each_bin_takes_the_strategy_that_wins_on_its_other_half() {
        // Ten problems in five bins of two; beam solves the six hardest (bins 3 to 5),
        // best-of-N the four easiest (bins 1 and 2): choosing per bin solves all ten.
        let units: Vec<UnitResult> = (0..10u64)
            .map(|p| {
                let easy = p >= 6;
                result_for_test(
                    Unit {
                        seed: 1,
                        problem: p,
                    },
                    &[
                        (StrategyKind::Beam, 4, !easy),
                        (StrategyKind::BestOfN, 4, easy),
                    ],
                    Some(p as f64 / 10.0),
                    None,
                )
            })
            .collect();
        let names = vec!["beam".to_string(), "best-of-n".to_string()];
        let curve = compute_optimal(&names, &[4], &units.iter().collect::<Vec<_>>());
        assert_eq!(curve.len(), 1);
        let c = &curve[0];
        assert_eq!((c.accuracy.mean, c.bins, c.accuracy.seeds), (1.0, 5, 1));
    }
}
