//! Accuracy at each revision step: the paper's Figure 6 (left), from a sweep's revisions
//! runs at its largest budget. For each seed, the fraction right at step k is averaged over
//! the problems whose chains reached step k; then the mean and range over seeds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Unit;

/// Accuracy at one revision step, over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepAccuracy {
    /// 1 for the first attempt.
    pub step: usize,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub seeds: usize,
}

/// The curve from each unit's per-step accuracy (units without revisions are left out).
pub fn by_revision_step(units: &[(Unit, &[f64])]) -> Vec<StepAccuracy> {
    // step -> seed -> (sum, count)
    let mut cells: BTreeMap<usize, BTreeMap<u64, (f64, usize)>> = BTreeMap::new();
    for (unit, steps) in units {
        for (k, &right) in steps.iter().enumerate() {
            let cell = cells
                .entry(k + 1)
                .or_default()
                .entry(unit.seed)
                .or_insert((0.0, 0));
            cell.0 += right;
            cell.1 += 1;
        }
    }
    cells
        .into_iter()
        .map(|(step, seeds)| {
            let accs: Vec<f64> = seeds.values().map(|(sum, n)| sum / *n as f64).collect();
            StepAccuracy {
                step,
                mean: accs.iter().sum::<f64>() / accs.len() as f64,
                min: accs.iter().copied().fold(f64::INFINITY, f64::min),
                max: accs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                seeds: accs.len(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_averages_over_problems_then_spans_seeds() {
        let u = |seed, problem| Unit { seed, problem };
        let a = [0.0, 1.0, 1.0];
        let b = [0.0, 0.0];
        let c = [1.0, 1.0, 1.0];
        let curve = by_revision_step(&[(u(1, 0), &a), (u(1, 1), &b), (u(2, 0), &c)]);
        assert_eq!(curve.len(), 3);
        // Step 2: seed 1 averages 1.0 and 0.0; seed 2 has 1.0.
        assert_eq!(
            (curve[1].mean, curve[1].min, curve[1].max),
            (0.75, 0.5, 1.0)
        );
        // Step 3: seed 1 has only problem 0 there.
        assert_eq!((curve[2].mean, curve[2].seeds), (1.0, 2));
    }
}
