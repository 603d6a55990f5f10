//! Accuracy by difficulty: the paper's Figure 3 (right), from a sweep's own samples.
//! A problem's difficulty is the fraction of its difficulty samples that were right (its
//! oracle pass@1), samples drawn apart from every evaluated strategy's
//! ([`super::difficulty_seed`]): bins made from the very samples best-of-N and majority
//! choose among would favour them in the hard bins. Each seed's problems are put in five
//! quantile bins of it as
//! `ponder figures` does (bin 1 the easiest), and every strategy's accuracy is taken per
//! bin, budget and seed, then summarised over seeds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::strategy::compute_optimal::{difficulty_bins, DifficultyBin};

use super::{Spread, SweepRow, UnitResult};

/// Difficulty bins, as in the paper.
pub const BINS: usize = 5;

/// One strategy's accuracy in one difficulty bin at one budget, over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinAccuracy {
    /// 1 (easiest) to [`BINS`] (hardest).
    pub bin: u8,
    pub strategy: String,
    pub budget: u32,
    /// Over the seeds with problems in this bin.
    pub accuracy: Spread,
}

/// Accuracy per (bin, strategy, budget) from each unit's rows and pass@1. Units without a
/// pass@1 (no parallel strategy in the sweep, or its run failed) are left out; a seed whose
/// ties leave a bin too small puts all its problems in bin 1, as `ponder figures` does.
pub fn by_difficulty(units: &[&UnitResult]) -> Vec<BinAccuracy> {
    let mut per_seed: BTreeMap<u64, Vec<(&[SweepRow], f64)>> = BTreeMap::new();
    for u in units {
        if let Some(p) = u.pass_at_1 {
            per_seed.entry(u.unit.seed).or_default().push((&u.rows, p));
        }
    }
    // (bin, strategy, budget) -> per seed accuracy
    let mut cells: BTreeMap<(u8, String, u32), Vec<f64>> = BTreeMap::new();
    for problems in per_seed.values() {
        let signal: Vec<f64> = problems.iter().map(|(_, p)| *p).collect();
        let bins: Vec<u8> = difficulty_bins(&signal, BINS)
            .map(|b| b.into_iter().map(|DifficultyBin(x)| x).collect())
            .unwrap_or_else(|_| vec![1; problems.len()]);
        let mut tally: BTreeMap<(u8, String, u32), (usize, usize)> = BTreeMap::new();
        for ((rows, _), &bin) in problems.iter().zip(&bins) {
            for r in rows.iter().filter(|r| r.result.skipped.is_none()) {
                let t = tally
                    .entry((bin, r.strategy.clone(), r.budget))
                    .or_insert((0, 0));
                t.0 += usize::from(r.result.correct);
                t.1 += 1;
            }
        }
        for (key, (right, all)) in tally {
            cells
                .entry(key)
                .or_default()
                .push(right as f64 / all as f64);
        }
    }
    cells
        .into_iter()
        .filter_map(|((bin, strategy, budget), accs)| {
            Some(BinAccuracy {
                bin,
                strategy,
                budget,
                accuracy: Spread::of(&accs)?,
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
    fn problems_are_binned_by_their_own_pass_rate_per_seed() {
        // Ten problems: pass@1 0.0, 0.1, …, 0.9; beam solves the easier half.
        let with_pass = |pass: bool| -> Vec<UnitResult> {
            (0..10u64)
                .map(|p| {
                    result_for_test(
                        Unit {
                            seed: 1,
                            problem: p,
                        },
                        &[(StrategyKind::Beam, 4, p >= 5)],
                        pass.then_some(p as f64 / 10.0),
                        None,
                    )
                })
                .collect()
        };
        let units = with_pass(true);
        let bins = by_difficulty(&units.iter().collect::<Vec<_>>());
        let at = |bin: u8| bins.iter().find(|b| b.bin == bin).map(|b| b.accuracy.mean);
        // Bin 1 holds the two easiest (0.8, 0.9), bin 5 the two hardest (0.0, 0.1).
        assert_eq!(at(1), Some(1.0));
        assert_eq!(at(5), Some(0.0));
        assert_eq!(bins.len(), 5);
        assert!(bins.iter().all(|b| b.accuracy.seeds == 1 && b.budget == 4));
        // Without a pass@1, a unit is not binned.
        let none = with_pass(false);
        assert!(by_difficulty(&none.iter().collect::<Vec<_>>()).is_empty());
    }
}
