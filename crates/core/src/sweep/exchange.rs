//! The FLOPs-matched exchange against the larger sibling L (the paper's Fig. 9): per
//! difficulty bin, L's greedy accuracy beside the small model's compute-optimal accuracy
//! at the budget that spends the same FLOPs, for a chosen R (inference tokens over
//! pretraining tokens, §7).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::strategy::compute_optimal::DifficultyBin;
use crate::{Budget, FlopsMatch};

use super::optimal::seed_reports;
use super::{Spread, UnitResult};

/// The strategy name of L's greedy rows.
pub const LARGE_GREEDY: &str = "l-greedy";

/// One difficulty bin of the exchange.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExchangeBin {
    pub bin: u8,
    /// L's greedy accuracy in the bin (over seeds).
    pub larger: Spread,
    /// The small model's compute-optimal accuracy at [`Exchange::budget`], interpolated
    /// in log budget between the sweep's budgets; `None` past its largest budget.
    pub small: Option<Spread>,
}

/// The exchange at one R.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// L's parameters over the small model's, from the rows' own counts.
    pub scale: f64,
    /// R = inference tokens / pretraining tokens.
    pub ratio: f64,
    /// The small model's generations that cost what one of L's costs, pretraining
    /// included: M + 3(M−1)/R.
    pub budget: f64,
    /// The bins the sweep's problems filled (fewer than five for a small sweep).
    pub bins: Vec<ExchangeBin>,
}

/// The small model's parameters and L's, from the rows that ran each.
fn parameters(units: &[&UnitResult]) -> Option<(u64, u64)> {
    let rows = || units.iter().flat_map(|u| u.rows.iter());
    let of = |large: bool| {
        rows()
            .filter(|r| (r.strategy == LARGE_GREEDY) == large)
            .map(|r| r.result.compute.policy_parameters)
            .find(|&p| p > 0)
    };
    Some((of(false)?, of(true)?))
}

/// `points` (budget ascending) read at `x`, linear in log2(budget); the first value below
/// the smallest budget, `None` past the largest.
fn at_budget(points: &[(u32, f64)], x: f64) -> Option<f64> {
    let first = points.first()?;
    if x <= f64::from(first.0) {
        return Some(first.1);
    }
    points.windows(2).find_map(|pair| {
        let ((b0, a0), (b1, a1)) = (pair[0], pair[1]);
        (x <= f64::from(b1)).then(|| {
            let t =
                (x.log2() - f64::from(b0).log2()) / (f64::from(b1).log2() - f64::from(b0).log2());
            a0 + t * (a1 - a0)
        })
    })
}

/// The exchange at R = `ratio` over the sweep's `strategies` (compute-optimal chooses
/// among them per bin, on the other half of each bin's problems) and `budgets`. `None`
/// without L's rows, without a difficulty signal (majority or best-of-N in the sweep),
/// or for an R that is not a positive number.
pub fn exchange(
    strategies: &[String],
    budgets: &[u32],
    units: &[&UnitResult],
    ratio: f64,
) -> Option<Exchange> {
    let (small, large) = parameters(units)?;
    let scale = large as f64 / small as f64;
    let budget = FlopsMatch::new(scale, ratio).ok()?.equivalent_budget(1.0);
    let mut budgets: Vec<u32> = budgets.to_vec();
    budgets.sort_unstable();
    // Per bin: each seed's L accuracy and the small model's at the matched budget.
    let mut cells: BTreeMap<u8, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for seed in seed_reports(strategies, &budgets, units) {
        let mut in_bin: BTreeMap<u8, Vec<bool>> = BTreeMap::new();
        for (bin, unit) in seed.report.bins.iter().zip(&seed.units) {
            if let Some(larger) = unit.rows.iter().find(|r| r.strategy == LARGE_GREEDY) {
                in_bin.entry(bin.0).or_default().push(larger.result.correct);
            }
        }
        for (bin, rights) in in_bin {
            let cell = cells.entry(bin).or_default();
            cell.0
                .push(rights.iter().filter(|&&r| r).count() as f64 / rights.len() as f64);
            // Each fold's test accuracy, weighted by its problems.
            let curve: Vec<(u32, f64)> = budgets
                .iter()
                .filter_map(|&b| {
                    let c = seed.report.choice(DifficultyBin(bin), Budget(b))?;
                    let n: usize = c.folds.iter().map(|f| f.test.len()).sum();
                    let right: f64 = c
                        .folds
                        .iter()
                        .map(|f| f.test_accuracy * f.test.len() as f64)
                        .sum();
                    (n > 0).then(|| (b, right / n as f64))
                })
                .collect();
            if let Some(a) = at_budget(&curve, budget) {
                cell.1.push(a);
            }
        }
    }
    let bins = cells
        .into_iter()
        .filter_map(|(bin, (larger, small))| {
            Some(ExchangeBin {
                bin,
                larger: Spread::of(&larger)?,
                // Only where every seed reached the budget.
                small: (small.len() == larger.len())
                    .then(|| Spread::of(&small))
                    .flatten(),
            })
        })
        .collect();
    Some(Exchange {
        scale,
        ratio,
        budget,
        bins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::StrategyKind;
    use crate::sweep::{result_for_test, Unit};

    /// Ten problems, the four easiest solved by best-of-N at 4 and 16, every one by L; S's
    /// rows count 100 parameters and L's 900.
    fn units() -> Vec<UnitResult> {
        (0..10u64)
            .map(|p| {
                let easy = p >= 6;
                let mut u = result_for_test(
                    Unit {
                        seed: 1,
                        problem: p,
                    },
                    &[
                        (StrategyKind::BestOfN, 4, easy),
                        (StrategyKind::BestOfN, 16, easy),
                        (StrategyKind::Majority, 1, true),
                    ],
                    Some(p as f64 / 10.0),
                    None,
                );
                for r in &mut u.rows {
                    r.result.compute.policy_parameters = 100;
                }
                let l = u.rows.last_mut().expect("a row");
                l.strategy = LARGE_GREEDY.into();
                l.result.compute.policy_parameters = 900;
                u
            })
            .collect()
    }

    #[test]
    fn the_matched_budget_and_each_bins_two_sides() {
        let units = units();
        let refs: Vec<&UnitResult> = units.iter().collect();
        let names = vec!["best-of-n".to_string()];
        // M = 9; at R = 24 one L generation is 9 + 3·8/24 = 10 of S's.
        let x = exchange(&names, &[4, 16], &refs, 24.0).expect("L's rows are there");
        assert_eq!(x.scale, 9.0);
        assert!((x.budget - 10.0).abs() < 1e-12, "{}", x.budget);
        assert!(!x.bins.is_empty());
        for b in &x.bins {
            assert_eq!(b.larger.mean, 1.0, "L solves every problem");
            // Best-of-N's accuracy is flat in budget here, so the interpolation is exact.
            let small = b.small.expect("10 is within the sweep's budgets");
            assert!(small.mean == 0.0 || small.mean == 1.0, "{small:?}");
        }
        // The hardest bin holds the unsolved half.
        assert_eq!(
            x.bins.last().and_then(|b| b.small).map(|s| s.mean),
            Some(0.0)
        );
        // At R = 3 the budget is 17, past the largest measured (16): no S side.
        let x = exchange(&names, &[4, 16], &refs, 3.0).expect("L's rows are there");
        assert!((x.budget - 17.0).abs() < 1e-12);
        assert!(x.bins.iter().all(|b| b.small.is_none()));
        // Without L's rows there is nothing to compare.
        let without: Vec<UnitResult> = units
            .into_iter()
            .map(|mut u| {
                u.rows.retain(|r| r.strategy != LARGE_GREEDY);
                u
            })
            .collect();
        let refs: Vec<&UnitResult> = without.iter().collect();
        assert_eq!(exchange(&names, &[4, 16], &refs, 24.0), None);
    }

    #[test]
    fn reading_between_budgets_is_linear_in_log_budget() {
        let curve = [(4, 0.2), (16, 0.6)];
        assert_eq!(at_budget(&curve, 2.0), Some(0.2));
        assert!((at_budget(&curve, 8.0).unwrap_or(f64::NAN) - 0.4).abs() < 1e-12);
        assert_eq!(at_budget(&curve, 16.0), Some(0.6));
        assert_eq!(at_budget(&curve, 17.0), None);
    }
}
