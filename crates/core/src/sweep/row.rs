//! A sweep's rows and their summary: accuracy per (strategy, budget, level) for each seed,
//! then the mean, the range over seeds and a 95% interval over problems (seeds paired,
//! `crate::stats`). The CSV columns are `ponder sweep`'s files'.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::Spread;
use crate::spec::StrategyKind;
use crate::stats::{self, Verdict};
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
    /// The 95% bootstrap interval of the accuracy over problems, each problem's seeds
    /// drawn together.
    pub ci_low: f64,
    pub ci_high: f64,
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
    let mut per_problem: BTreeMap<(String, u32, String), ProblemValues> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.result.skipped.is_none()) {
        for level in [r.level.to_string(), "all".to_string()] {
            let key = (r.strategy.clone(), r.budget, level);
            let e = per_seed
                .entry(key.clone())
                .or_default()
                .entry(r.seed)
                .or_insert((0, 0));
            e.0 += usize::from(r.result.correct);
            e.1 += 1;
            per_problem
                .entry(key)
                .or_default()
                .entry(r.problem)
                .or_default()
                .push(f64::from(u8::from(r.result.correct)));
        }
    }
    per_seed
        .into_iter()
        .filter_map(|(key, seeds)| {
            let accs: Vec<f64> = seeds.values().map(|(c, t)| *c as f64 / *t as f64).collect();
            let s = Spread::of(&accs)?;
            let problems: Vec<Vec<f64>> = per_problem.remove(&key)?.into_values().collect();
            let (_, ci) = stats::mean_interval(&problems)?;
            let (strategy, budget, level) = key;
            Some(SummaryRow {
                strategy,
                budget,
                level,
                mean_accuracy: s.mean,
                min_accuracy: s.min,
                max_accuracy: s.max,
                seeds: s.seeds,
                problems_per_seed: seeds.values().next().map_or(0, |v| v.1),
                ci_low: ci.low,
                ci_high: ci.high,
            })
        })
        .collect()
}

/// Per problem, one value per seed (1.0 right, 0.0 wrong).
type ProblemValues = BTreeMap<u64, Vec<f64>>;

/// One strategy against a baseline at the same budget, paired on the (seed, problem) pairs
/// both ran: the paper's claims are such comparisons ("beam search beats best-of-N at small
/// budgets").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub strategy: String,
    pub baseline: String,
    pub budget: u32,
    /// Problems both ran (on at least one seed).
    pub problems: usize,
    /// Mean accuracy of the strategy minus the baseline's.
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Whether the strategy beats the baseline, decided by the interval.
    pub verdict: Verdict,
}

/// The strategy the others are compared with: best-of-N where the rows have it, else
/// majority voting; `None` without either.
pub fn baseline(rows: &[SweepRow]) -> Option<&'static str> {
    ["best-of-n", "majority"]
        .into_iter()
        .find(|b| rows.iter().any(|r| r.strategy == *b))
}

/// Every other strategy against `baseline` at each budget, over all levels. Empty when the
/// sweep does not run the baseline.
pub fn versus(rows: &[SweepRow], baseline: &str) -> Vec<Comparison> {
    let mut right: BTreeMap<(String, u32), BTreeMap<(u64, u64), bool>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.result.skipped.is_none()) {
        right
            .entry((r.strategy.clone(), r.budget))
            .or_default()
            .insert((r.problem, r.seed), r.result.correct);
    }
    let mut out = Vec::new();
    for ((strategy, budget), runs) in &right {
        let Some(base) = right.get(&(baseline.to_string(), *budget)) else {
            continue;
        };
        if strategy == baseline {
            continue;
        }
        // Per problem, the seeds both ran, in the same order for both.
        let mut a: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
        let mut b: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
        for (&(problem, seed), &ok) in runs {
            if let Some(&base_ok) = base.get(&(problem, seed)) {
                a.entry(problem).or_default().push(f64::from(u8::from(ok)));
                b.entry(problem)
                    .or_default()
                    .push(f64::from(u8::from(base_ok)));
            }
        }
        let problems = a.len();
        let a: Vec<Vec<f64>> = a.into_values().collect();
        let b: Vec<Vec<f64>> = b.into_values().collect();
        if let Some((verdict, difference, ci)) = stats::beats(&a, &b) {
            out.push(Comparison {
                strategy: strategy.clone(),
                baseline: baseline.to_string(),
                budget: *budget,
                problems,
                difference,
                ci_low: ci.low,
                ci_high: ci.high,
                verdict,
            });
        }
    }
    out
}

/// The comparisons as CSV (`comparisons.csv`).
pub fn comparisons_csv(comparisons: &[Comparison]) -> String {
    let mut csv =
        String::from("strategy,baseline,budget,problems,difference,ci_low,ci_high,verdict\n");
    for c in comparisons {
        let _ = writeln!(
            csv,
            "{},{},{},{},{:.4},{:.4},{:.4},{}",
            c.strategy,
            c.baseline,
            c.budget,
            c.problems,
            c.difference,
            c.ci_low,
            c.ci_high,
            c.verdict.label()
        );
    }
    csv
}

/// The summary as CSV (`summary.csv`).
pub fn summary_csv(summary: &[SummaryRow]) -> String {
    let mut csv = String::from(
        "strategy,budget,level,mean_accuracy,min_accuracy,max_accuracy,seeds,problems_per_seed,ci_low,ci_high\n",
    );
    for s in summary {
        let _ = writeln!(
            csv,
            "{},{},{},{:.4},{:.4},{:.4},{},{},{:.4},{:.4}",
            s.strategy,
            s.budget,
            s.level,
            s.mean_accuracy,
            s.min_accuracy,
            s.max_accuracy,
            s.seeds,
            s.problems_per_seed,
            s.ci_low,
            s.ci_high
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
        // Per problem over seeds: problem 0 right twice, problem 1 once: 0.75, and every
        // resample of the two problems lies between 0.5 and 1.0.
        assert!(
            csv.contains("best-of-n,4,all,0.7500,0.5000,1.0000,2,2,0.5000,1.0000"),
            "{csv}"
        );
    }

    #[test]
    fn strategies_are_compared_on_the_problems_both_ran() {
        // 30 problems, 2 seeds: beam is right on all, best-of-N on the first 10, majority
        // on the first 29; a skipped beam run leaves its (seed, problem) out of the pairing.
        let mut rows = Vec::new();
        for seed in [1, 2] {
            for p in 0..30u64 {
                rows.push(SweepRow::new(
                    seed,
                    StrategyKind::Beam,
                    4,
                    p,
                    1,
                    Measured {
                        correct: true,
                        ..Measured::default()
                    },
                ));
                rows.push(row(seed, 4, p, 1, p < 10));
                rows.push(SweepRow::new(
                    seed,
                    StrategyKind::Majority,
                    4,
                    p,
                    1,
                    Measured {
                        correct: p < 29,
                        ..Measured::default()
                    },
                ));
            }
        }
        rows.push(SweepRow {
            result: Measured::skipped("does not fit".into()),
            ..row(3, 4, 0, 1, true)
        });
        let all = versus(&rows, "best-of-n");
        let beam = all.iter().find(|c| c.strategy == "beam").expect("beam");
        assert_eq!((beam.problems, beam.budget), (30, 4));
        assert!((beam.difference - 20.0 / 30.0).abs() < 1e-12);
        assert_eq!(beam.verdict, Verdict::Agrees);
        assert!(beam.ci_low > 0.4 && beam.ci_high < 0.9, "{beam:?}");
        let majority = versus(&rows, "beam")
            .into_iter()
            .find(|c| c.strategy == "majority")
            .expect("majority");
        // One loss in 30 against beam: the interval reaches 0.
        assert_eq!(majority.verdict, Verdict::Inconclusive);
        assert!(versus(&rows, "dvts").is_empty());
        let csv = comparisons_csv(&all);
        assert!(
            csv.lines()
                .any(|l| l.starts_with("beam,best-of-n,4,30,0.6667,") && l.ends_with(",agrees")),
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
