//! The compute-optimal choice on hand-built results tables: difficulty quantiles, the
//! best configuration per bin and budget, and the two-fold cross-validation that keeps
//! the choice honest.

use ponder_core::strategy::compute_optimal::{
    difficulty_bins, pass_at_1, ComputeOptimal, ComputeOptimalError, DifficultyBin,
    DifficultySource, ProblemResults, ResultsTable,
};
use ponder_core::Budget;

const BEAM: usize = 0;
const BON: usize = 1;

fn bins(values: &[f64], n: usize) -> Vec<u8> {
    difficulty_bins(values, n)
        .expect("valid")
        .into_iter()
        .map(|b| b.0)
        .collect()
}

#[test]
fn quantile_bins_put_the_easiest_in_bin_one() {
    let values: Vec<f64> = (0..10).map(|i| i as f64 / 10.0).collect();
    // Thresholds at the 20/40/60/80% quantiles: .18, .36, .54, .72.
    assert_eq!(bins(&values, 5), [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    // Order in the table does not matter, only the values.
    assert_eq!(bins(&[0.9, 0.0, 0.5], 3), [1, 3, 2]);
    // Equal values share a bin.
    assert_eq!(bins(&[0.5, 0.5, 0.5, 0.5], 5), [1, 1, 1, 1]);
    assert_eq!(bins(&[0.2, 0.8], 1), [1, 1]);
    assert_eq!(
        difficulty_bins(&[0.1], 0),
        Err(ComputeOptimalError::BadBins(0))
    );
    assert_eq!(pass_at_1(512, 2048), 0.25);
    assert_eq!(pass_at_1(0, 0), 0.0);
}

/// Ten problems, two per oracle bin (pass@1 = .05, .15, …, .95 → bins 5,5,4,4,…,1,1), two
/// configurations and two budgets. `acc(problem)` gives [beam, bon] × [budget 4, 16].
fn table(acc: impl Fn(usize) -> [[f64; 2]; 2], mean_score: impl Fn(usize) -> f64) -> ResultsTable {
    ResultsTable {
        configs: vec![
            "strategy=beam&n=16&width=4".into(),
            "strategy=best-of-n&n=16".into(),
        ],
        budgets: vec![Budget(4), Budget(16)],
        problems: (0..10)
            .map(|i| ProblemResults {
                problem_id: 100 + i as u64,
                pass_at_1: 0.05 + 0.1 * i as f64,
                mean_score: mean_score(i),
                accuracy: acc(i).iter().map(|r| r.to_vec()).collect(),
            })
            .collect(),
    }
}

#[test]
fn each_bin_gets_the_configuration_that_wins_there() {
    // Hard problems (0..4): beam search wins at both budgets. Easy ones (6..10): best-of-N
    // wins at 16, beam at 4. Bin 3 (problems 4, 5): best-of-N everywhere.
    let t = table(
        |i| match i {
            0..=3 => [[1.0, 1.0], [0.0, 0.0]],
            4 | 5 => [[0.0, 0.0], [1.0, 1.0]],
            _ => [[1.0, 0.0], [0.0, 1.0]],
        },
        |_| 0.5,
    );
    let report = ComputeOptimal::default().analyse(&t).expect("valid");
    let b: Vec<u8> = report.bins.iter().map(|b| b.0).collect();
    assert_eq!(b, [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    let chosen = |bin: u8, budget: u32| {
        let c = report
            .choice(DifficultyBin(bin), Budget(budget))
            .expect("present");
        assert_eq!(
            c.folds[0].chosen, c.folds[1].chosen,
            "both folds agree here"
        );
        c.folds[0].chosen
    };
    for bin in [4, 5] {
        assert_eq!(chosen(bin, 4), BEAM);
        assert_eq!(chosen(bin, 16), BEAM);
    }
    assert_eq!(chosen(3, 4), BON);
    for bin in [1, 2] {
        assert_eq!(chosen(bin, 4), BEAM);
        assert_eq!(chosen(bin, 16), BON);
    }
    assert!(report.choices.iter().all(|c| c.accuracy == 1.0));
    assert_eq!(report.accuracy, [1.0, 1.0]);
    assert_eq!(report.choices.len(), 5 * 2);
}

#[test]
fn two_fold_cross_validation_does_not_peek_at_the_test_fold() {
    // In bin 1 (problems 8, 9) the two problems disagree: each fold picks what wins on
    // its own problem and loses on the other, so the bin scores 0 although an oracle
    // choice per problem would score 1. Every other bin is solved by beam search.
    let t = table(
        |i| match i {
            8 => [[1.0, 1.0], [0.0, 0.0]],
            9 => [[0.0, 0.0], [1.0, 1.0]],
            _ => [[1.0, 1.0], [0.0, 0.0]],
        },
        |_| 0.5,
    );
    let report = ComputeOptimal::default().analyse(&t).expect("valid");
    let c = report
        .choice(DifficultyBin(1), Budget(16))
        .expect("present");
    assert_ne!(c.folds[0].chosen, c.folds[1].chosen);
    for fold in &c.folds {
        assert_eq!(fold.validation_accuracy, 1.0);
        assert_eq!(fold.test_accuracy, 0.0);
    }
    assert_eq!(c.accuracy, 0.0);
    // Overall: 8 of 10 problems right at each budget.
    assert_eq!(report.accuracy, [0.8, 0.8]);
}

#[test]
fn folds_partition_each_bin_and_mirror_each_other() {
    let t = ResultsTable {
        configs: vec!["a".into(), "b".into()],
        budgets: vec![Budget(1)],
        problems: (0..9)
            .map(|i| ProblemResults {
                problem_id: i,
                pass_at_1: 0.5,
                mean_score: 0.5,
                accuracy: vec![vec![(i % 2) as f64], vec![0.5]],
            })
            .collect(),
    };
    for seed in [0, 1, 2] {
        let analysis = ComputeOptimal {
            bins: 5,
            source: DifficultySource::Oracle,
            seed,
        };
        let report = analysis.analyse(&t).expect("valid");
        // Nine equal pass@1 values share one bin.
        assert_eq!(report.choices.len(), 1);
        let [f0, f1] = &report.choices[0].folds;
        assert_eq!(f0.validation, f1.test);
        assert_eq!(f0.test, f1.validation);
        assert_eq!((f0.validation.len(), f0.test.len()), (5, 4));
        let mut all: Vec<u64> = f0.validation.iter().chain(&f0.test).copied().collect();
        all.sort();
        assert_eq!(all, (0..9).collect::<Vec<_>>());
        assert_eq!(
            analysis.analyse(&t).expect("valid"),
            report,
            "deterministic"
        );
        // Each fold's numbers are the means over exactly its problems.
        for f in [f0, f1] {
            let mean = |ids: &[u64], c: usize| {
                ids.iter()
                    .map(|&i| t.problems[i as usize].accuracy[c][0])
                    .sum::<f64>()
                    / ids.len() as f64
            };
            assert_eq!(f.validation_accuracy, mean(&f.validation, f.chosen));
            assert_eq!(f.test_accuracy, mean(&f.test, f.chosen));
            let other = 1 - f.chosen;
            assert!(mean(&f.validation, f.chosen) >= mean(&f.validation, other));
        }
    }
}

#[test]
fn predicted_bins_follow_the_verifiers_mean_score() {
    // The verifier ranks the problems in reverse of pass@1: predicted bins flip.
    let t = table(|_| [[1.0, 1.0], [0.0, 0.0]], |i| 0.95 - 0.1 * i as f64);
    let oracle = ComputeOptimal::default().analyse(&t).expect("valid");
    let predicted = ComputeOptimal {
        source: DifficultySource::Predicted,
        ..ComputeOptimal::default()
    }
    .analyse(&t)
    .expect("valid");
    let o: Vec<u8> = oracle.bins.iter().map(|b| b.0).collect();
    let p: Vec<u8> = predicted.bins.iter().map(|b| b.0).collect();
    assert_eq!(o, [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    assert_eq!(p, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
}

#[test]
fn ties_keep_the_first_configuration() {
    let t = table(|_| [[0.5, 0.5], [0.5, 0.5]], |_| 0.5);
    let report = ComputeOptimal {
        bins: 1,
        ..ComputeOptimal::default()
    }
    .analyse(&t)
    .expect("valid");
    assert!(report
        .choices
        .iter()
        .all(|c| c.folds.iter().all(|f| f.chosen == BEAM)));
}

#[test]
fn malformed_tables_are_explained() {
    let good = table(|_| [[1.0, 1.0], [0.0, 0.0]], |_| 0.5);
    let analysis = ComputeOptimal::default();

    let mut ragged = good.clone();
    ragged.problems[3].accuracy[1].pop();
    let err = analysis.analyse(&ragged).expect_err("ragged");
    assert!(
        matches!(
            err,
            ComputeOptimalError::Shape {
                problem_id: 103,
                ..
            }
        ),
        "{err}"
    );

    let mut out_of_range = good.clone();
    out_of_range.problems[2].accuracy[0][1] = 1.5;
    let err = analysis.analyse(&out_of_range).expect_err("range");
    assert_eq!(
        err.to_string(),
        "problem 102 has an accuracy = 1.5, outside [0, 1]"
    );

    let mut nan = good.clone();
    nan.problems[0].pass_at_1 = f64::NAN;
    assert!(analysis.analyse(&nan).is_err());

    let mut empty = good.clone();
    empty.configs.clear();
    assert_eq!(
        analysis.analyse(&empty),
        Err(ComputeOptimalError::Empty("configurations"))
    );

    // Ten problems in ten bins leaves one per bin: too few to split.
    let too_fine = ComputeOptimal {
        bins: 10,
        ..ComputeOptimal::default()
    };
    let err = too_fine.analyse(&good).expect_err("tiny bins");
    assert!(
        matches!(err, ComputeOptimalError::BinTooSmall { size: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("fewer bins"));
}

/// A bin of 5 problems splits into folds of 3 and 2: its accuracy counts each problem
/// once (the folds weighted by their problems), so it equals the share of the bin's
/// problems right under the choice made on their other fold.
#[test]
fn a_bins_accuracy_weighs_its_folds_by_their_problems() {
    // One bin (bins = 1) of five problems; best-of-N is right on problems 0, 1 and 2 only,
    // beam on none: every fold chooses best-of-N.
    let table = ResultsTable {
        configs: vec!["beam".into(), "best-of-n".into()],
        budgets: vec![Budget(4)],
        problems: (0..5)
            .map(|i| ProblemResults {
                problem_id: i as u64,
                pass_at_1: 0.1 * i as f64,
                mean_score: 0.0,
                accuracy: vec![vec![0.0], vec![f64::from(u8::from(i < 3))]],
            })
            .collect(),
    };
    let report = ComputeOptimal {
        bins: 1,
        source: DifficultySource::Oracle,
        seed: 3,
    }
    .analyse(&table)
    .expect("analysed");
    let choice = &report.choices[0];
    let sizes: Vec<usize> = choice.folds.iter().map(|f| f.test.len()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 5);
    assert!(choice.folds.iter().all(|f| f.chosen == BON));
    // 3 of the 5 problems are right, whichever fold each fell in.
    assert!((choice.accuracy - 0.6).abs() < 1e-12, "{choice:?}");
    assert!((report.accuracy[0] - 0.6).abs() < 1e-12);
}
