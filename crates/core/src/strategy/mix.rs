//! Parallel and sequential compute mixed at a fixed budget (Snell et al. 2024 §6, Fig. 7):
//! N generations spent as C parallel revision chains of L attempts each, C·L = N, at a
//! sequential:parallel ratio L/C. The paper finds an ideal ratio per budget and
//! difficulty: easy questions do best fully sequential, harder ones at an interior ratio
//! (it suggests √N chains of √N revisions, ratio 1, as a start).

use serde::{Deserialize, Serialize};

use crate::policy::Policy;
use crate::task::Task;
use crate::verifier::Verifier;

use super::aggregate::StepAggregation;
use super::beam::DEFAULT_ROUNDS;
use super::revision::{RevisionSelection, SequentialRevisions, DEFAULT_CONTEXT_ATTEMPTS};
use super::{config_error, Context, Outcome, StrategyError};

/// A budget split into parallel chains and attempts per chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MixSplit {
    /// Chains, C.
    pub parallel: usize,
    /// Attempts per chain, L.
    pub sequential: usize,
}

impl MixSplit {
    /// The split of `budget` whose ratio L/C is nearest `ratio` on a log scale. L must
    /// divide the budget, so the ratio is met exactly only where it can be (for N = 16:
    /// ratios 1/16, 1/4, 1, 4, 16); ties go to the longer chains, as the paper found
    /// sequential compute slightly better at equal budget.
    pub fn new(budget: usize, ratio: f64) -> Result<MixSplit, StrategyError> {
        if budget == 0 {
            return Err(config_error(
                "parallel/sequential mix",
                "the budget must be at least 1 generation",
            ));
        }
        if !ratio.is_finite() || ratio <= 0.0 {
            return Err(config_error(
                "parallel/sequential mix",
                format!("the sequential:parallel ratio must be a positive number, got {ratio}"),
            ));
        }
        // L/C = L²/N, so the ideal L is √(N·ratio); compare in log space.
        let target = 0.5 * ((budget as f64).ln() + ratio.ln());
        let mut best: Option<(usize, f64)> = None;
        for length in (1..=budget).filter(|&l| budget.is_multiple_of(l)) {
            let distance = ((length as f64).ln() - target).abs();
            // `<=` with increasing L: ties go to the longer chain.
            if best.is_none_or(|(_, d)| distance <= d + 1e-12) {
                best = Some((length, distance));
            }
        }
        let sequential = best.map_or(1, |(l, _)| l);
        Ok(MixSplit {
            parallel: budget / sequential,
            sequential,
        })
    }

    /// The ratio this split achieves, L/C.
    pub fn ratio(&self) -> f64 {
        self.sequential as f64 / self.parallel as f64
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParallelSequentialMix {
    /// N, generations.
    pub budget: usize,
    /// The wanted sequential:parallel ratio L/C.
    pub ratio: f64,
    pub context_attempts: usize,
    pub selection: RevisionSelection,
    pub aggregation: StepAggregation,
    pub max_steps: usize,
}

impl ParallelSequentialMix {
    pub fn new(budget: usize, ratio: f64, selection: RevisionSelection) -> ParallelSequentialMix {
        ParallelSequentialMix {
            budget,
            ratio,
            context_attempts: DEFAULT_CONTEXT_ATTEMPTS,
            selection,
            aggregation: StepAggregation::Last,
            max_steps: DEFAULT_ROUNDS,
        }
    }

    pub fn split(&self) -> Result<MixSplit, StrategyError> {
        MixSplit::new(self.budget, self.ratio)
    }

    /// The revision chains this mix runs.
    pub fn revisions(&self) -> Result<SequentialRevisions, StrategyError> {
        let split = self.split()?;
        Ok(SequentialRevisions {
            chains: split.parallel,
            length: split.sequential,
            context_attempts: self.context_attempts,
            selection: self.selection,
            aggregation: self.aggregation,
            max_steps: self.max_steps,
        })
    }

    /// [`Self::run_async`] to its end at once, for engines that never wait.
    pub fn run<P: Policy, V: Verifier, T: Task>(
        &self,
        ctx: &mut Context<'_, P, V, T>,
    ) -> Result<Outcome, StrategyError> {
        super::at_once(self.run_async(ctx))
    }

    pub async fn run_async<P: Policy, V: Verifier, T: Task>(
        &self,
        ctx: &mut Context<'_, P, V, T>,
    ) -> Result<Outcome, StrategyError> {
        self.revisions()?.run_async(ctx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(n: usize, r: f64) -> (usize, usize) {
        let s = MixSplit::new(n, r).expect("valid");
        (s.parallel, s.sequential)
    }

    #[test]
    fn exact_ratios_split_exactly() {
        assert_eq!(split(16, 1.0), (4, 4));
        assert_eq!(split(16, 4.0), (2, 8));
        assert_eq!(split(16, 0.25), (8, 2));
        assert_eq!(split(16, 16.0), (1, 16));
        assert_eq!(split(16, 1.0 / 16.0), (16, 1));
        assert_eq!(split(128, 2.0), (8, 16));
        assert_eq!(split(128, 0.5), (16, 8));
        // Beyond the extremes the split saturates.
        assert_eq!(split(16, 1000.0), (1, 16));
        assert_eq!(split(16, 1e-6), (16, 1));
    }

    #[test]
    fn unreachable_ratios_take_the_nearest_and_ties_go_sequential() {
        // √128 lies between 8 and 16, equally far in log space: the longer chain wins.
        assert_eq!(split(128, 1.0), (8, 16));
        // Budget 12: ideal L = √12 ≈ 3.46 is as far from 3 as from 4 in log space.
        assert_eq!(split(12, 1.0), (3, 4));
        // A prime budget is all-parallel or all-sequential.
        assert_eq!(split(7, 0.5), (7, 1));
        assert_eq!(split(7, 2.0), (1, 7));
        let s = MixSplit::new(16, 4.0).expect("valid");
        assert_eq!(s.ratio(), 4.0);
    }

    #[test]
    fn bad_ratios_and_budgets_are_errors() {
        assert!(MixSplit::new(16, 0.0).is_err());
        assert!(MixSplit::new(16, f64::NAN).is_err());
        assert!(MixSplit::new(0, 1.0).is_err());
    }
}
