//! Accuracy at each revision step: the paper's Figure 6 (left), from a sweep's revisions
//! runs at its largest budget. For each seed, the fraction right at step k is averaged over
//! the problems whose chains reached step k; then the mean and range over seeds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Spread, UnitResult};

/// Accuracy at one revision step, over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepAccuracy {
    /// 1 for the first attempt.
    pub step: usize,
    pub accuracy: Spread,
}

/// The curve from each unit's per-step accuracy (units without revisions are left out).
pub fn by_revision_step(units: &[&UnitResult]) -> Vec<StepAccuracy> {
    // step -> seed -> (sum, count)
    let mut cells: BTreeMap<usize, BTreeMap<u64, (f64, usize)>> = BTreeMap::new();
    for u in units {
        for (k, &right) in u.revision_steps.iter().flatten().enumerate() {
            let cell = cells
                .entry(k + 1)
                .or_default()
                .entry(u.unit.seed)
                .or_insert((0.0, 0));
            cell.0 += right;
            cell.1 += 1;
        }
    }
    cells
        .into_iter()
        .filter_map(|(step, seeds)| {
            let accs: Vec<f64> = seeds.values().map(|(sum, n)| sum / *n as f64).collect();
            Some(StepAccuracy {
                step,
                accuracy: Spread::of(&accs)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{result_for_test, Unit};

    #[test]
    fn each_step_averages_over_problems_then_spans_seeds() {
        let u = |seed, problem, steps: &[f64]| {
            result_for_test(Unit { seed, problem }, &[], None, Some(steps.to_vec()))
        };
        let units = [
            u(1, 0, &[0.0, 1.0, 1.0]),
            u(1, 1, &[0.0, 0.0]),
            u(2, 0, &[1.0, 1.0, 1.0]),
        ];
        let curve = by_revision_step(&units.iter().collect::<Vec<_>>());
        assert_eq!(curve.len(), 3);
        // Step 2: seed 1 averages 1.0 and 0.0; seed 2 has 1.0.
        let s = curve[1].accuracy;
        assert_eq!((s.mean, s.min, s.max), (0.75, 0.5, 1.0));
        // Step 3: seed 1 has only problem 0 there.
        assert_eq!((curve[2].accuracy.mean, curve[2].accuracy.seeds), (1.0, 2));
    }
}
