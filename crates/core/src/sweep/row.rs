//! A sweep's rows and their summary: accuracy per (strategy, budget, level) for each seed,
//! then the mean and the range over seeds. The CSV columns are `ponder sweep`'s files'.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::Spread;
use crate::spec::StrategyKind;
use crate::Compute;

/// One strategy's result at one budget on one problem.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    pub correct: bool,
    pub compute: Compute,
    /// Why the run was skipped: the spec does not fit this budget.
    pub skipped: Option<String>,
    /// Why the run failed (it then counts as unsolved).
    pub error: Option<String>,
}

impl Measured {
    /// A run that finished: right when its chosen `answer` is `truth`.
    pub fn ran(answer: Option<&str>, truth: &str, compute: Compute) -> Measured {
        Measured {
            correct: answer == Some(truth),
            compute,
            skipped: None,
            error: None,
        }
    }

    pub fn skipped(why: String) -> Measured {
        Measured {
            skipped: Some(why),
            ..Measured::default()
        }
    }

    /// A run that cannot finish (for example a revision prompt past the model's context)
    /// counts as unsolved, and says why.
    pub fn failed(why: String) -> Measured {
        Measured {
            error: Some(why),
            ..Measured::default()
        }
    }
}

/// One strategy at one budget on one problem with one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    pub seed: u64,
    /// The strategy's link name.
    pub strategy: String,
    pub budget: u32,
    /// The problem's index in its set.
    pub problem: u64,
    pub level: u8,
    pub result: Measured,
}

impl SweepRow {
    pub fn new(
        seed: u64,
        strategy: StrategyKind,
        budget: u32,
        problem: u64,
        level: u8,
        result: Measured,
    ) -> SweepRow {
        SweepRow {
            seed,
            strategy: strategy.name().to_string(),
            budget,
            problem,
            level,
            result,
        }
    }
}

/// The header of [`rows_csv`].
pub const ROWS_HEADER: &str = "seed,strategy,budget,problem,level,correct,generations,policy_tokens,verifier_tokens,flops,skipped,error";

/// The rows as CSV, one line per row under [`ROWS_HEADER`] (`rows.csv`).
pub fn rows_csv(rows: &[SweepRow]) -> String {
    let mut csv = format!("{ROWS_HEADER}\n");
    for r in rows {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{:.6e},{},{}",
            r.seed,
            r.strategy,
            r.budget,
            r.problem,
            r.level,
            u8::from(r.result.correct),
            r.result.compute.generations,
            r.result.compute.policy_tokens,
            r.result.compute.verifier_tokens,
            r.result.compute.flops(),
            r.result.skipped.as_deref().unwrap_or("").replace(',', ";"),
            r.result
                .error
                .as_deref()
                .unwrap_or("")
                .replace([',', '\n'], ";")
        );
    }
    csv
}

/// Accuracy of one strategy at one budget on one level (or `all`), over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub strategy: String,
    pub budget: u32,
    /// A level's number, or `all`.
    pub level: String,
    pub mean_accuracy: f64,
    pub min_accuracy: f64,
    pub max_accuracy: f64,
    /// Seeds with at least one counted problem.
    pub seeds: usize,
    /// Problems counted per seed (the first seed's count: a finished sweep has the same
    /// count for every seed, a sweep under way may not yet).
    pub problems_per_seed: usize,
}

impl SummaryRow {
    /// The accuracy over seeds (its number of seeds, not of problems).
    pub fn accuracy(&self) -> Spread {
        Spread {
            mean: self.mean_accuracy,
            min: self.min_accuracy,
            max: self.max_accuracy,
            seeds: self.seeds,
        }
    }
}

/// Accuracy per (strategy, budget, level or `all`) for each seed, then its mean, lowest
/// and highest over seeds, sorted by strategy name, budget and level. Skipped runs are
/// left out; failed runs count as unsolved.
pub fn summarise(rows: &[SweepRow]) -> Vec<SummaryRow> {
    // (strategy, budget, level) -> seed -> (right, counted)
    type Tally = BTreeMap<u64, (usize, usize)>;
    let mut per_seed: BTreeMap<(String, u32, String), Tally> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.result.skipped.is_none()) {
        for level in [r.level.to_string(), "all".to_string()] {
            let e = per_seed
                .entry((r.strategy.clone(), r.budget, level))
                .or_default()
                .entry(r.seed)
                .or_insert((0, 0));
            e.0 += usize::from(r.result.correct);
            e.1 += 1;
        }
    }
    per_seed
        .into_iter()
        .filter_map(|((strategy, budget, level), seeds)| {
            let accs: Vec<f64> = seeds.values().map(|(c, t)| *c as f64 / *t as f64).collect();
            let s = Spread::of(&accs)?;
            Some(SummaryRow {
                strategy,
                budget,
                level,
                mean_accuracy: s.mean,
                min_accuracy: s.min,
                max_accuracy: s.max,
                seeds: s.seeds,
                problems_per_seed: seeds.values().next().map_or(0, |v| v.1),
            })
        })
        .collect()
}

/// The summary as CSV (`summary.csv`).
pub fn summary_csv(summary: &[SummaryRow]) -> String {
    let mut csv = String::from(
        "strategy,budget,level,mean_accuracy,min_accuracy,max_accuracy,seeds,problems_per_seed\n",
    );
    for s in summary {
        let _ = writeln!(
            csv,
            "{},{},{},{:.4},{:.4},{:.4},{},{}",
            s.strategy,
            s.budget,
            s.level,
            s.mean_accuracy,
            s.min_accuracy,
            s.max_accuracy,
            s.seeds,
            s.problems_per_seed
        );
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seed: u64, budget: u32, problem: u64, level: u8, correct: bool) -> SweepRow {
        SweepRow::new(
            seed,
            StrategyKind::BestOfN,
            budget,
            problem,
            level,
            Measured {
                correct,
                ..Measured::default()
            },
        )
    }

    #[test]
    fn accuracy_is_taken_per_seed_then_summarised() {
        let rows = vec![
            row(1, 4, 0, 1, true),
            row(1, 4, 1, 2, false),
            row(2, 4, 0, 1, true),
            row(2, 4, 1, 2, true),
            SweepRow {
                result: Measured::skipped("does not fit".into()),
                ..row(2, 4, 2, 2, true)
            },
        ];
        let summary = summarise(&rows);
        let all = summary.iter().find(|s| s.level == "all").expect("all");
        // Seed 1: 1 of 2; seed 2: 2 of 2 (the skipped row is not counted).
        assert_eq!(
            (all.mean_accuracy, all.min_accuracy, all.max_accuracy),
            (0.75, 0.5, 1.0)
        );
        assert_eq!((all.seeds, all.problems_per_seed), (2, 2));
        let level2 = summary.iter().find(|s| s.level == "2").expect("level 2");
        assert_eq!(level2.mean_accuracy, 0.5);
        let csv = summary_csv(&summary);
        assert!(
            csv.contains("best-of-n,4,all,0.7500,0.5000,1.0000,2,2"),
            "{csv}"
        );
    }

    #[test]
    fn csv_cells_never_split_on_a_message() {
        let mut r = row(1, 1, 0, 1, false);
        r.result.error = Some("context full, 512 tokens\nat step 3".into());
        let csv = rows_csv(&[r]);
        let line = csv.lines().nth(1).expect("a row");
        assert_eq!(
            line.split(',').count(),
            ROWS_HEADER.split(',').count(),
            "{line}"
        );
    }
}
