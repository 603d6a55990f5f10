//! Compute-optimal scaling from a sweep: the paper's Figure 4. At each budget and in each
//! difficulty bin, the strategy that did best on half of the bin's problems is scored on
//! the other half (and the other way round), so the choice is never graded on the
//! problems it was made on; the result is compared with best-of-N at the same budget.
//! Difficulty is each problem's oracle pass@1 from the sweep's own samples, binned per
//! seed, as `ponder figures` does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::strategy::compute_optimal::{ComputeOptimal, ProblemResults, ResultsTable};
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

/// Compute-optimal accuracy per budget, choosing among `strategies` (link names). Units
/// without a pass@1 are left out; a seed whose bins cannot be split in two folds (a bin
/// with one problem) is analysed with fewer bins, down to one.
pub fn compute_optimal(
    strategies: &[String],
    budgets: &[u32],
    units: &[&UnitResult],
) -> Vec<OptimalPoint> {
    let mut per_seed: BTreeMap<u64, Vec<ProblemResults>> = BTreeMap::new();
    for u in units {
        let Some(pass) = u.pass_at_1 else { continue };
        let accuracy = strategies
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
            .collect();
        per_seed
            .entry(u.unit.seed)
            .or_default()
            .push(ProblemResults {
                problem_id: u.unit.problem,
                pass_at_1: pass,
                mean_score: 0.0,
                accuracy,
            });
    }
    // budget index -> per seed accuracy; and the bins each seed allowed
    let mut at: Vec<Vec<f64>> = vec![Vec::new(); budgets.len()];
    let mut fewest = BINS;
    for (seed, problems) in per_seed {
        let table = ResultsTable {
            configs: strategies.to_vec(),
            budgets: budgets.iter().map(|&b| Budget(b)).collect(),
            problems,
        };
        let report = (1..=BINS).rev().find_map(|bins| {
            ComputeOptimal {
                bins,
                seed,
                ..ComputeOptimal::default()
            }
            .analyse(&table)
            .ok()
            .map(|r| (bins, r))
        });
        if let Some((bins, report)) = report {
            fewest = fewest.min(bins);
            for (i, acc) in report.accuracy.iter().enumerate() {
                at[i].push(*acc);
            }
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
