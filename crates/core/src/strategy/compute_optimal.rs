//! The compute-optimal strategy (Snell et al. 2024 §3.2, §5.3, §6.3): for each difficulty
//! bin and each budget, the configuration with the best accuracy on a validation fold.
//!
//! Difficulty is a property of a question for the base policy: *oracle* bins are quantiles
//! of pass@1 estimated from many samples (2048 in the paper); *predicted* bins are the
//! same quantiles over the verifier's mean final score on those samples, which needs no
//! ground truth. Bin 1 is the easiest, bin 5 the hardest. The choice is made with two-fold
//! cross-validation inside each bin: choose on one fold, measure on the other, and average
//! the two test folds weighted by their problems. As in the paper, estimating difficulty is not charged to any budget.
//!
//! Everything here is a pure function of a [`ResultsTable`]: per-problem accuracies of
//! each configuration at each budget, computed beforehand by running the strategies.

use serde::{Deserialize, Serialize};

use crate::accounting::Budget;
use crate::draw::DrawKey;

/// A difficulty bin, 1 (easiest) to the number of bins (hardest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DifficultyBin(pub u8);

/// Where difficulty comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifficultySource {
    /// Quantiles of the base policy's pass@1 (needs the reference answers).
    #[default]
    Oracle,
    /// Quantiles of the verifier's mean final score over the same samples.
    Predicted,
}

/// One problem's row: its difficulty signals and each configuration's accuracy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProblemResults {
    pub problem_id: u64,
    /// Fraction of the base policy's samples that were correct.
    pub pass_at_1: f64,
    /// The verifier's final-answer score averaged over the same samples.
    pub mean_score: f64,
    /// `accuracy[config][budget]` in [0, 1]: 1 or 0 for one run, a fraction when
    /// averaged over seeds.
    pub accuracy: Vec<Vec<f64>>,
}

/// Per-problem results of a set of configurations at a set of budgets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultsTable {
    /// The configurations, named (for example by their spec's query string).
    pub configs: Vec<String>,
    pub budgets: Vec<Budget>,
    pub problems: Vec<ProblemResults>,
}

/// Why a table cannot be analysed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ComputeOptimalError {
    #[error("the results table has no {0}; add at least one")]
    Empty(&'static str),
    #[error(
        "problem {problem_id} has accuracies for {found_configs} configurations × {found_budgets} \
         budgets, but the table names {configs} × {budgets}"
    )]
    Shape {
        problem_id: u64,
        configs: usize,
        budgets: usize,
        found_configs: usize,
        found_budgets: usize,
    },
    #[error("problem {problem_id} has {what} = {value}, outside [0, 1]")]
    OutOfRange {
        problem_id: u64,
        what: &'static str,
        value: f64,
    },
    #[error("the number of difficulty bins must be between 1 and 255, got {0}")]
    BadBins(usize),
    #[error(
        "difficulty bin {bin} has {size} problem(s); two-fold cross-validation needs at least \
         2 per bin (use more problems or fewer bins)"
    )]
    BinTooSmall { bin: u8, size: usize },
}

/// pass@1 estimated from `correct` of `samples` (the oracle difficulty signal).
pub fn pass_at_1(correct: usize, samples: usize) -> f64 {
    if samples == 0 {
        0.0
    } else {
        correct as f64 / samples as f64
    }
}

/// The `q`-quantile of sorted values, interpolating linearly between neighbours (NumPy's
/// default, which search-and-learn's `compute_level` uses).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Bins for `values` where larger means easier (pass@1, mean score): the thresholds are
/// the 1/b, …, (b−1)/b quantiles; a value below the first is in the hardest bin b, one at
/// or above the last in bin 1. Equal values always share a bin.
pub fn difficulty_bins(
    values: &[f64],
    bins: usize,
) -> Result<Vec<DifficultyBin>, ComputeOptimalError> {
    if bins == 0 || bins > 255 {
        return Err(ComputeOptimalError::BadBins(bins));
    }
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let thresholds: Vec<f64> = (1..bins)
        .map(|i| quantile(&sorted, i as f64 / bins as f64))
        .collect();
    Ok(values
        .iter()
        .map(|&v| {
            let above = thresholds.iter().filter(|&&t| v >= t).count();
            DifficultyBin((bins - above) as u8)
        })
        .collect())
}

/// What one fold chose and how it did on the other.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    /// Problem ids the choice was made on.
    pub validation: Vec<u64>,
    /// Problem ids it was measured on.
    pub test: Vec<u64>,
    /// Index into the table's configurations.
    pub chosen: usize,
    pub validation_accuracy: f64,
    pub test_accuracy: f64,
}

/// The compute-optimal choice for one bin at one budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinChoice {
    pub bin: DifficultyBin,
    pub budget: Budget,
    /// Fold 0 chooses on one half and tests on the other; fold 1 the reverse.
    pub folds: [FoldResult; 2],
    /// The two test accuracies weighted by their folds' problems: the bin's accuracy with
    /// each problem scored by the choice made on the other fold.
    pub accuracy: f64,
}

/// The whole analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComputeOptimalReport {
    /// Each problem's bin, in table order.
    pub bins: Vec<DifficultyBin>,
    /// Bin-major, then budget in table order.
    pub choices: Vec<BinChoice>,
    /// Per budget (table order): the compute-optimal accuracy over all problems, each
    /// problem scored by the configuration chosen on the other fold of its bin.
    pub accuracy: Vec<f64>,
}

impl ComputeOptimalReport {
    pub fn choice(&self, bin: DifficultyBin, budget: Budget) -> Option<&BinChoice> {
        self.choices
            .iter()
            .find(|c| c.bin == bin && c.budget == budget)
    }
}

/// How to run the analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeOptimal {
    /// Quantile bins (5 in the paper).
    pub bins: usize,
    pub source: DifficultySource,
    /// Seeds the split of each bin into two folds.
    pub seed: u64,
}

impl Default for ComputeOptimal {
    fn default() -> Self {
        ComputeOptimal {
            bins: 5,
            source: DifficultySource::Oracle,
            seed: 0,
        }
    }
}

impl ComputeOptimal {
    pub fn analyse(
        &self,
        table: &ResultsTable,
    ) -> Result<ComputeOptimalReport, ComputeOptimalError> {
        validate(table)?;
        let signal: Vec<f64> = table
            .problems
            .iter()
            .map(|p| match self.source {
                DifficultySource::Oracle => p.pass_at_1,
                DifficultySource::Predicted => p.mean_score,
            })
            .collect();
        let bins = difficulty_bins(&signal, self.bins)?;
        let mut choices = Vec::new();
        let mut correct = vec![0.0; table.budgets.len()];
        for b in 1..=self.bins as u8 {
            let bin = DifficultyBin(b);
            let members: Vec<usize> = (0..bins.len()).filter(|&i| bins[i] == bin).collect();
            if members.is_empty() {
                // Only possible when many problems tie: the bin is simply absent.
                continue;
            }
            if members.len() < 2 {
                return Err(ComputeOptimalError::BinTooSmall {
                    bin: b,
                    size: members.len(),
                });
            }
            let halves = self.folds(table, &members);
            for (budget_index, &budget) in table.budgets.iter().enumerate() {
                let fold = |validation: &[usize], test: &[usize]| -> FoldResult {
                    let mean = |set: &[usize], config: usize| -> f64 {
                        set.iter()
                            .map(|&i| table.problems[i].accuracy[config][budget_index])
                            .sum::<f64>()
                            / set.len() as f64
                    };
                    let mut chosen = 0;
                    for config in 1..table.configs.len() {
                        // Strictly better only: ties keep the earlier configuration.
                        if mean(validation, config) > mean(validation, chosen) {
                            chosen = config;
                        }
                    }
                    let ids =
                        |set: &[usize]| set.iter().map(|&i| table.problems[i].problem_id).collect();
                    FoldResult {
                        validation: ids(validation),
                        test: ids(test),
                        chosen,
                        validation_accuracy: mean(validation, chosen),
                        test_accuracy: mean(test, chosen),
                    }
                };
                let folds = [fold(&halves[0], &halves[1]), fold(&halves[1], &halves[0])];
                for f in &folds {
                    correct[budget_index] += f.test_accuracy * f.test.len() as f64;
                }
                // Each problem of the bin counts once: a fold of 3 weighs more than one of 2.
                let tested = (folds[0].test.len() + folds[1].test.len()) as f64;
                let accuracy = folds
                    .iter()
                    .map(|f| f.test_accuracy * f.test.len() as f64)
                    .sum::<f64>()
                    / tested;
                choices.push(BinChoice {
                    bin,
                    budget,
                    folds,
                    accuracy,
                });
            }
        }
        let total = table.problems.len() as f64;
        Ok(ComputeOptimalReport {
            bins,
            choices,
            accuracy: correct.into_iter().map(|c| c / total).collect(),
        })
    }

    /// Splits a bin's members into two folds of equal size (the first takes the odd one):
    /// ordered by a hash of (seed, problem id), then alternated, so the split is random
    /// but the same on every machine and for every budget.
    fn folds(&self, table: &ResultsTable, members: &[usize]) -> [Vec<usize>; 2] {
        let mut keyed: Vec<(u64, usize)> = members
            .iter()
            .map(|&i| {
                (
                    DrawKey::new(self.seed, &[table.problems[i].problem_id]).stream,
                    i,
                )
            })
            .collect();
        keyed.sort();
        let mut halves = [Vec::new(), Vec::new()];
        for (rank, (_, i)) in keyed.into_iter().enumerate() {
            halves[rank % 2].push(i);
        }
        halves
    }
}

fn validate(table: &ResultsTable) -> Result<(), ComputeOptimalError> {
    if table.configs.is_empty() {
        return Err(ComputeOptimalError::Empty("configurations"));
    }
    if table.budgets.is_empty() {
        return Err(ComputeOptimalError::Empty("budgets"));
    }
    if table.problems.is_empty() {
        return Err(ComputeOptimalError::Empty("problems"));
    }
    let in_unit = |x: f64| (0.0..=1.0).contains(&x);
    for p in &table.problems {
        let shape_ok = p.accuracy.len() == table.configs.len()
            && p.accuracy
                .iter()
                .all(|row| row.len() == table.budgets.len());
        if !shape_ok {
            return Err(ComputeOptimalError::Shape {
                problem_id: p.problem_id,
                configs: table.configs.len(),
                budgets: table.budgets.len(),
                found_configs: p.accuracy.len(),
                found_budgets: p.accuracy.first().map_or(0, Vec::len),
            });
        }
        let checks = [("pass@1", p.pass_at_1), ("mean score", p.mean_score)];
        for (what, value) in checks {
            if !in_unit(value) {
                return Err(ComputeOptimalError::OutOfRange {
                    problem_id: p.problem_id,
                    what,
                    value,
                });
            }
        }
        if let Some(&value) = p.accuracy.iter().flatten().find(|&&a| !in_unit(a)) {
            return Err(ComputeOptimalError::OutOfRange {
                problem_id: p.problem_id,
                what: "an accuracy",
                value,
            });
        }
    }
    Ok(())
}
