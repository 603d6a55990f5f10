//! `ponder sweep`: problem set × budgets × strategies × seeds, the raw rows as CSV, a
//! summary (mean and spread over seeds, per level and overall) as CSV and JSON, and an
//! accuracy-versus-budget chart as SVG.
//!
//! Majority voting, best-of-N and DVTS reuse one run at the largest budget for every
//! smaller one (`ponder_core::strategy::subsample`: exact, the paper's practice; DVTS
//! falls back to its own runs where the widths differ); the other strategies run once per
//! budget. Every run is the spec `strategy=…&n=budget&seed=…` with defaults otherwise
//! (lookahead's `n` is the budget over k+1, since each of its beams also spends k rollout
//! steps), so any row can be replayed with `ponder run`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use ponder_core::progress;
use ponder_core::spec::{ExperimentSpec, StrategyKind, MAX_BUDGET};
use ponder_core::strategy::subsample::{dvts_prefix, dvts_reuses, prefix_compute, select_prefix};
use ponder_core::strategy::Selection;
use ponder_core::Compute;
use ponder_model::Engine;
use serde_json::json;

use crate::chart::{line_chart, Point, Series};
use crate::run::{builtin_engines, chosen_problems, run_spec};
use crate::strategy_bench::spec_at_budget;

#[derive(clap::Args)]
pub struct Args {
    /// The problem set.
    #[arg(long, default_value = "test")]
    set: String,
    /// Only these levels (all when not given).
    #[arg(long, value_delimiter = ',')]
    levels: Vec<u8>,
    /// Problems per level (0: all).
    #[arg(long, default_value_t = 10)]
    per_level: usize,
    /// Budgets in generations.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16")]
    budgets: Vec<u32>,
    /// Strategies by their link names (majority, best-of-n, beam, lookahead, dvts,
    /// revisions, mix).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "majority,best-of-n,beam,revisions"
    )]
    strategies: Vec<String>,
    /// Seeds; the spread over them is reported.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    seeds: Vec<u64>,
    /// Where to write rows.csv, summary.csv, summary.json and accuracy.svg.
    #[arg(long, default_value = "target/sweep")]
    out: PathBuf,
}

/// Right answers and problems, per seed.
type Tally = BTreeMap<u64, (usize, usize)>;

/// A summary row's key (strategy, budget, level or "all") with its accuracy over seeds:
/// mean, lowest, highest, and how many seeds.
type Summarised<'k> = (&'k (String, u32, String), f64, f64, f64, usize);

/// One strategy at one budget on one problem with one seed.
struct Row {
    seed: u64,
    strategy: StrategyKind,
    budget: u32,
    problem: usize,
    level: u8,
    result: Measured,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let mut strategies = Vec::new();
    for name in &args.strategies {
        strategies.push(StrategyKind::from_name(name).with_context(|| {
            let names: Vec<&str> = StrategyKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown strategy {name:?}; the strategies are {names:?}")
        })?);
    }
    anyhow::ensure!(
        !args.budgets.is_empty(),
        "--budgets needs at least one budget"
    );
    anyhow::ensure!(!args.seeds.is_empty(), "--seeds needs at least one seed");
    if let Some(b) = args.budgets.iter().find(|&&b| b == 0 || b > MAX_BUDGET) {
        anyhow::bail!("--budgets: {b} is not a budget from 1 to {MAX_BUDGET} generations");
    }
    let (set, problems, chosen) = chosen_problems(&args.set, &args.levels, args.per_level)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let (mut policy, mut reviser, mut verifier) = builtin_engines()?;

    let max_budget = *args.budgets.iter().max().unwrap_or(&1);
    let parallel: Vec<StrategyKind> = strategies
        .iter()
        .copied()
        .filter(|k| matches!(k, StrategyKind::Majority | StrategyKind::BestOfN))
        .collect();
    let others: Vec<StrategyKind> = strategies
        .iter()
        .copied()
        .filter(|k| !parallel.contains(k))
        .collect();
    // Work in generations, for the progress bar: parallel sampling and DVTS run once at
    // the largest budget.
    let dvts_width = ExperimentSpec::default().width;
    let per_problem: u64 = if parallel.is_empty() {
        0
    } else {
        u64::from(max_budget)
    } + others
        .iter()
        .map(|&k| {
            args.budgets
                .iter()
                .filter(|&&b| {
                    k != StrategyKind::Dvts
                        || b == max_budget
                        || !dvts_reuses(b, max_budget, dvts_width)
                })
                .map(|&b| u64::from(b))
                .sum::<u64>()
        })
        .sum::<u64>();
    let total_work = per_problem * chosen.len() as u64 * args.seeds.len() as u64;
    let mut done_work = 0u64;
    let started = Instant::now();
    let mut rows = Vec::new();
    for &seed in &args.seeds {
        for &i in &chosen {
            let level = set.problems[i].level.number();
            let truth = problems[i].answer().to_string();
            let mut progress = |work: u64| {
                done_work += work;
                eprint!(
                    "\r[{:>3}%] seed {seed}, problem {i}: {}   ",
                    done_work * 100 / total_work.max(1),
                    progress::timing(started.elapsed().as_secs_f64(), done_work, total_work)
                );
                let _ = std::io::stderr().flush();
            };
            if !parallel.is_empty() {
                let spec = ExperimentSpec {
                    seed,
                    problem: i as u64,
                    strategy: StrategyKind::BestOfN,
                    n: max_budget,
                    ..ExperimentSpec::default()
                };
                let outcome = run_spec(
                    &spec,
                    &problems[i],
                    &mut policy,
                    &mut reviser,
                    &mut verifier,
                );
                for &kind in &parallel {
                    for &budget in &args.budgets {
                        let selection = if kind == StrategyKind::Majority {
                            Selection::Majority
                        } else {
                            spec.select
                        };
                        // A failed run counts as unsolved at every budget, as the other
                        // strategies' failures do, and the sweep goes on.
                        let result = match &outcome {
                            Ok(outcome) => {
                                let chosen_answer =
                                    select_prefix(outcome, budget as usize, spec.agg, selection)
                                        .answer;
                                Measured {
                                    correct: chosen_answer.as_deref() == Some(truth.as_str()),
                                    compute: prefix_compute(outcome, budget as usize, selection),
                                    skipped: None,
                                    error: None,
                                }
                            }
                            Err(e) => Measured::failed(e),
                        };
                        rows.push(Row {
                            seed,
                            strategy: kind,
                            budget,
                            problem: i,
                            level,
                            result,
                        });
                    }
                }
                progress(u64::from(max_budget));
            }
            for &kind in &others {
                // DVTS runs once at the largest budget; its first subtrees are the runs at
                // the smaller ones (`subsample::dvts_prefix`).
                let mut largest = ExperimentSpec {
                    seed,
                    problem: i as u64,
                    strategy: kind,
                    n: max_budget,
                    ..ExperimentSpec::default()
                };
                let reused =
                    (kind == StrategyKind::Dvts && largest.sanitize().is_empty()).then(|| {
                        run_spec(
                            &largest,
                            &problems[i],
                            &mut policy,
                            &mut reviser,
                            &mut verifier,
                        )
                    });
                for &budget in &args.budgets {
                    let reuse = match &reused {
                        // The largest run failed: its row says why, without running it
                        // again.
                        Some(Err(e)) if budget == max_budget => {
                            Some((Measured::failed(e), u64::from(budget)))
                        }
                        Some(Ok(outcome)) => dvts_prefix(
                            outcome,
                            budget as usize,
                            largest.width,
                            largest.agg,
                            largest.select,
                        )
                        .map(|(selected, compute)| {
                            let measured = Measured {
                                correct: selected.answer.as_deref() == Some(truth.as_str()),
                                compute,
                                skipped: None,
                                error: None,
                            };
                            let work = if budget == max_budget { budget } else { 0 };
                            (measured, u64::from(work))
                        }),
                        _ => None,
                    };
                    let (measured, work) = match reuse {
                        Some(done) => done,
                        None => {
                            let engines = (&mut policy, &mut reviser, &mut verifier);
                            let measured = match spec_for_budget(kind, budget, seed, i) {
                                Ok(spec) => Measured::run(spec, &problems[i], &truth, engines),
                                Err(why) => Measured::skipped(why),
                            };
                            (measured, u64::from(budget))
                        }
                    };
                    rows.push(Row {
                        seed,
                        strategy: kind,
                        budget,
                        problem: i,
                        level,
                        result: measured,
                    });
                    progress(work);
                }
            }
        }
    }
    eprintln!();
    write_outputs(args, &strategies, &rows, started.elapsed().as_secs_f64())
}

/// One strategy's result at one budget on one problem.
struct Measured {
    correct: bool,
    compute: Compute,
    /// Why the run was skipped: the spec does not fit this budget.
    skipped: Option<String>,
    /// Why the run failed (it then counts as unsolved).
    error: Option<String>,
}

/// The spec that spends `budget` generations: `bench --strategies`' spec at that nominal
/// budget (lookahead gets N = budget / (k+1) beams, since each also spends k rollout
/// steps), kept only when its own generation count is the budget, so that no point of the
/// chart stands at a budget its run did not spend.
fn spec_for_budget(
    kind: StrategyKind,
    budget: u32,
    seed: u64,
    problem: usize,
) -> Result<ExperimentSpec, String> {
    let spec = spec_at_budget(kind, budget, seed, problem);
    match spec.strategy().generations() {
        Ok(g) if g == u64::from(budget) => Ok(spec),
        Ok(g) => Err(format!(
            "{} spends {g} generations at n={}, not {budget}",
            kind.name(),
            spec.n
        )),
        // Specs the strategy refuses are reported by their run, as before.
        Err(_) => Ok(spec),
    }
}

impl Measured {
    fn skipped(why: String) -> Measured {
        Measured {
            correct: false,
            compute: Compute::default(),
            skipped: Some(why),
            error: None,
        }
    }

    /// A run that cannot finish (for example a revision prompt past the model's context)
    /// counts as unsolved, and says why.
    fn failed(e: &anyhow::Error) -> Measured {
        Measured {
            correct: false,
            compute: Compute::default(),
            skipped: None,
            error: Some(format!("{e:#}")),
        }
    }

    /// Runs `spec` on its own, or skips it when it does not fit its budget.
    fn run(
        mut spec: ExperimentSpec,
        problem: &ponder_core::arithmetic::Problem,
        truth: &str,
        (policy, reviser, verifier): (&mut Engine, &mut Engine, &mut Engine),
    ) -> Measured {
        let budget = spec.n;
        let warnings = spec.sanitize();
        if spec.n != budget {
            let why: Vec<String> = warnings.iter().map(ToString::to_string).collect();
            return Measured::skipped(why.join("; "));
        }
        match run_spec(&spec, problem, policy, reviser, verifier) {
            Ok(outcome) => Measured {
                correct: outcome.answer.as_deref() == Some(truth),
                compute: outcome.compute,
                skipped: None,
                error: None,
            },
            Err(e) => Measured::failed(&e),
        }
    }
}

fn write_outputs(
    args: &Args,
    strategies: &[StrategyKind],
    rows: &[Row],
    seconds: f64,
) -> anyhow::Result<()> {
    let mut csv = String::from(
        "seed,strategy,budget,problem,level,correct,generations,policy_tokens,verifier_tokens,flops,skipped,error\n",
    );
    for r in rows {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{:.6e},{},{}",
            r.seed,
            r.strategy.name(),
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
    let path = args.out.join("rows.csv");
    std::fs::write(&path, csv).with_context(|| format!("writing {}", path.display()))?;

    // Accuracy per (strategy, budget, level or all) for each seed, then mean, min, max.
    let mut per_seed: BTreeMap<(String, u32, String), Tally> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.result.skipped.is_none()) {
        for level in [r.level.to_string(), "all".to_string()] {
            let e = per_seed
                .entry((r.strategy.name().to_string(), r.budget, level))
                .or_default()
                .entry(r.seed)
                .or_insert((0, 0));
            e.0 += usize::from(r.result.correct);
            e.1 += 1;
        }
    }
    let mut summary = String::from(
        "strategy,budget,level,mean_accuracy,min_accuracy,max_accuracy,seeds,problems_per_seed\n",
    );
    let mut json_rows = Vec::new();
    let mut series: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    // Mean, lowest and highest accuracy over seeds, once for every output below.
    let spread: Vec<Summarised<'_>> = per_seed
        .iter()
        .map(|(key, seeds)| {
            let accs: Vec<f64> = seeds.values().map(|(c, t)| *c as f64 / *t as f64).collect();
            let mean = accs.iter().sum::<f64>() / accs.len() as f64;
            let min = accs.iter().copied().fold(f64::INFINITY, f64::min);
            let max = accs.iter().copied().fold(0.0, f64::max);
            (key, mean, min, max, accs.len())
        })
        .collect();
    for &(key, mean, min, max, seeds_counted) in &spread {
        let (strategy, budget, level) = key;
        let per_seed_problems = per_seed[key].values().next().map_or(0, |v| v.1);
        let _ = writeln!(
            summary,
            "{strategy},{budget},{level},{mean:.4},{min:.4},{max:.4},{seeds_counted},{per_seed_problems}"
        );
        json_rows.push(json!({
            "strategy": strategy, "budget": budget, "level": level,
            "mean_accuracy": mean, "min_accuracy": min, "max_accuracy": max,
            "seeds": seeds_counted, "problems_per_seed": per_seed_problems,
        }));
        if level == "all" {
            series.entry(strategy.clone()).or_default().push(Point {
                x: f64::from(*budget),
                mean: 100.0 * mean,
                low: 100.0 * min,
                high: 100.0 * max,
            });
        }
    }
    let path = args.out.join("summary.csv");
    std::fs::write(&path, &summary).with_context(|| format!("writing {}", path.display()))?;
    let path = args.out.join("summary.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json!({
            "set": args.set, "seeds": args.seeds, "budgets": args.budgets,
            "strategies": strategies.iter().map(|k| k.name()).collect::<Vec<_>>(),
            "seconds": seconds, "rows": json_rows,
        }))?,
    )
    .with_context(|| format!("writing {}", path.display()))?;
    let lines: Vec<Series> = strategies
        .iter()
        .filter_map(|k| {
            series.get(k.name()).map(|p| Series {
                name: k.name().to_string(),
                points: p.clone(),
            })
        })
        .collect();
    let svg = line_chart(
        &format!(
            "Accuracy against budget ({} set, {} seeds)",
            args.set,
            args.seeds.len()
        ),
        "budget (generations)",
        "problems solved (%)",
        &lines,
    );
    let path = args.out.join("accuracy.svg");
    std::fs::write(&path, svg).with_context(|| format!("writing {}", path.display()))?;
    println!("strategy      budget   accuracy (mean, min–max over seeds)");
    for &((strategy, budget, level), mean, min, max, _) in &spread {
        if level != "all" {
            continue;
        }
        println!(
            "{strategy:<12} {budget:>7}   {:>5.1}%  ({:.1}–{:.1})",
            100.0 * mean,
            100.0 * min,
            100.0 * max
        );
    }
    let failed = rows.iter().filter(|r| r.result.error.is_some()).count();
    if failed > 0 {
        println!("{failed} runs failed and count as unsolved (their errors are in rows.csv)");
    }
    let skipped = rows.iter().filter(|r| r.result.skipped.is_some()).count();
    if skipped > 0 {
        println!("{skipped} runs skipped: their spec does not fit the budget (see rows.csv)");
    }
    println!(
        "wrote rows.csv, summary.csv, summary.json and accuracy.svg to {} ({seconds:.0} s)",
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kept_spec_spends_exactly_its_budget() {
        // Lookahead with the default k = 1: N = budget / 2 beams.
        let s = spec_for_budget(StrategyKind::Lookahead, 16, 1, 0).expect("divides");
        assert_eq!((s.n, s.k), (8, 1));
        let why = spec_for_budget(StrategyKind::Lookahead, 3, 1, 0).unwrap_err();
        assert!(why.contains("not 3"), "{why}");
        for kind in [
            StrategyKind::Beam,
            StrategyKind::Dvts,
            StrategyKind::Revisions,
        ] {
            let s = spec_for_budget(kind, 16, 1, 0).expect("any budget");
            assert_eq!(s.strategy().generations().ok(), Some(16), "{kind:?}");
        }
    }
}
