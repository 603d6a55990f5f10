//! `ponder sweep`: problem set × budgets × strategies × seeds, the raw rows as CSV, a
//! summary (mean, spread over seeds and 95% interval over problems, per level and overall)
//! as CSV and JSON, every strategy against best-of-N paired on the same problems with a
//! verdict (`comparisons.csv`), an accuracy-versus-budget chart as SVG with the intervals,
//! and the Experiment view's other figures as CSV (accuracy by difficulty bin, at each
//! revision step, compute-optimal).
//!
//! The sweep itself is `ponder_core::sweep`, which the page's Experiment view runs too:
//! both give the same rows for the same spec.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use ponder_core::progress;
use ponder_core::spec::StrategyKind;
use ponder_core::sweep::{self, rows_csv, summarise, summary_csv, SweepRow, SweepSpec};
use serde_json::json;

use crate::run::{builtin_engines, chosen_problems};
use ponder_core::chart::{line_chart, Point, Series};
use ponder_core::stats::Interval;

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
    /// Sequential:parallel ratios for the mix, each its own rows (`mix@0.25`; the
    /// paper's Fig. 7); none: the mix at its default ratio.
    #[arg(long, value_delimiter = ',')]
    ratios: Vec<f64>,
    /// Also the larger sibling L's greedy answer to each problem (rows `l-greedy`), for
    /// the FLOPs-matched exchange (the paper's Fig. 9; `exchange.csv`).
    #[arg(long)]
    large: bool,
    /// The strategies' settings, share-link keys and values for every run (for example
    /// `width=8,agg=min`; keys: width, k, agg, select, rounds, chains, final, context,
    /// temperature, top_p, top_k); a share link's defaults otherwise.
    #[arg(long, default_value = "")]
    settings: String,
    /// Where to write rows.csv, summary.csv, summary.json and accuracy.svg.
    #[arg(long, default_value = "target/sweep")]
    out: PathBuf,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let mut strategies = Vec::new();
    for name in &args.strategies {
        strategies.push(StrategyKind::from_name(name).with_context(|| {
            let names: Vec<&str> = StrategyKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown strategy {name:?}; the strategies are {names:?}")
        })?);
    }
    let spec = SweepSpec {
        set: args.set.clone(),
        levels: args.levels.clone(),
        per_level: args.per_level,
        budgets: args.budgets.clone(),
        strategies,
        seeds: args.seeds.clone(),
        ratios: args.ratios.clone(),
        large: args.large,
        settings: sweep::parse_settings(&args.settings).map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    spec.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    let (set, problems, chosen) = chosen_problems(&args.set, &args.levels, args.per_level)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let (mut policy, mut reviser, mut verifier) = builtin_engines()?;
    let mut large = if spec.large {
        Some(crate::run::engine(
            &crate::run::builtin_dir().join("ponder-l.gguf"),
        )?)
    } else {
        None
    };

    let units = spec.units(&set);
    debug_assert_eq!(units.len(), chosen.len() * spec.seeds.len());
    let total_work = spec.work_per_unit() * units.len() as u64;
    let mut done_work = 0u64;
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut results = Vec::new();
    for unit in units {
        let i = unit.problem as usize;
        let level = set.problems[i].level.number();
        let mut progress = |work: u64| {
            done_work += work;
            eprint!(
                "\r[{:>3}%] seed {}, problem {i}: {}   ",
                done_work * 100 / total_work.max(1),
                unit.seed,
                progress::timing(started.elapsed().as_secs_f64(), done_work, total_work)
            );
            let _ = std::io::stderr().flush();
        };
        let unit_result = ponder_core::ready::now(sweep::run_unit(
            &spec,
            unit,
            &problems[i],
            level,
            (&mut policy, &mut reviser, &mut verifier),
            large.as_mut(),
            &mut progress,
        ))
        .context("the CPU engine never waits, so a sweep unit finishes at its first poll")?;
        rows.extend(unit_result.rows.iter().cloned());
        results.push(unit_result);
    }
    eprintln!();
    write_analyses(args, &spec, &results)?;
    write_outputs(
        args,
        &spec.strategies,
        &rows,
        started.elapsed().as_secs_f64(),
    )
}

/// The figures the page's Experiment view draws, from the same functions: accuracy by
/// difficulty bin, at each revision step, and compute-optimal against the budget.
fn write_analyses(
    args: &Args,
    spec: &SweepSpec,
    results: &[sweep::UnitResult],
) -> anyhow::Result<()> {
    let units: Vec<&sweep::UnitResult> = results.iter().collect();
    let mut csv =
        String::from("bin,strategy,budget,mean_accuracy,min_accuracy,max_accuracy,seeds\n");
    for b in sweep::by_difficulty(&units) {
        csv.push_str(&format!(
            "{},{},{},{:.4},{:.4},{:.4},{}\n",
            b.bin,
            b.strategy,
            b.budget,
            b.accuracy.mean,
            b.accuracy.min,
            b.accuracy.max,
            b.accuracy.seeds
        ));
    }
    let path = args.out.join("difficulty.csv");
    std::fs::write(&path, csv).with_context(|| format!("writing {}", path.display()))?;

    let mut csv = String::from("step,mean_accuracy,min_accuracy,max_accuracy,seeds\n");
    for s in sweep::by_revision_step(&units) {
        csv.push_str(&format!(
            "{},{:.4},{:.4},{:.4},{}\n",
            s.step, s.accuracy.mean, s.accuracy.min, s.accuracy.max, s.accuracy.seeds
        ));
    }
    let path = args.out.join("revision_steps.csv");
    std::fs::write(&path, csv).with_context(|| format!("writing {}", path.display()))?;

    let names = spec.labels();
    let mut csv = String::from("budget,mean_accuracy,min_accuracy,max_accuracy,seeds,bins\n");
    if names.len() > 1 {
        for p in sweep::compute_optimal(&names, &spec.budgets, &units) {
            csv.push_str(&format!(
                "{},{:.4},{:.4},{:.4},{},{}\n",
                p.budget, p.accuracy.mean, p.accuracy.min, p.accuracy.max, p.accuracy.seeds, p.bins
            ));
        }
    }
    let path = args.out.join("compute_optimal.csv");
    std::fs::write(&path, csv).with_context(|| format!("writing {}", path.display()))?;

    if spec.large {
        // The paper's three values of R (§7).
        let mut csv = String::from(
            "r,scale,budget,bin,larger_mean,larger_min,larger_max,small_mean,small_min,small_max\n",
        );
        for r in [0.16, 0.79, 22.0] {
            let Some(x) = sweep::exchange(&names, &spec.budgets, &units, r) else {
                continue;
            };
            for b in &x.bins {
                let small = b.small.as_ref().map_or(",,".to_string(), |s| {
                    format!("{:.4},{:.4},{:.4}", s.mean, s.min, s.max)
                });
                csv.push_str(&format!(
                    "{r},{:.3},{:.1},{},{:.4},{:.4},{:.4},{small}\n",
                    x.scale, x.budget, b.bin, b.larger.mean, b.larger.min, b.larger.max
                ));
            }
        }
        let path = args.out.join("exchange.csv");
        std::fs::write(&path, csv).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn write_outputs(
    args: &Args,
    strategies: &[StrategyKind],
    rows: &[SweepRow],
    seconds: f64,
) -> anyhow::Result<()> {
    let path = args.out.join("rows.csv");
    std::fs::write(&path, rows_csv(rows)).with_context(|| format!("writing {}", path.display()))?;

    let summary = summarise(rows);
    let mut series: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    for s in summary.iter().filter(|s| s.level == "all") {
        series
            .entry(s.strategy.clone())
            .or_default()
            .push(Point::interval(
                f64::from(s.budget),
                s.mean_accuracy,
                Interval {
                    low: s.ci_low,
                    high: s.ci_high,
                },
            ));
    }
    let path = args.out.join("summary.csv");
    std::fs::write(&path, summary_csv(&summary))
        .with_context(|| format!("writing {}", path.display()))?;
    let path = args.out.join("summary.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json!({
            "set": args.set, "seeds": args.seeds, "budgets": args.budgets,
            "strategies": strategies.iter().map(|k| k.name()).collect::<Vec<_>>(),
            "seconds": seconds, "rows": summary,
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
    println!(
        "strategy      budget   accuracy (mean; 95% interval over problems; min–max over seeds)"
    );
    for s in summary.iter().filter(|s| s.level == "all") {
        println!(
            "{:<12} {:>7}   {:>5.1}%  [{:.1}, {:.1}]  ({:.1}–{:.1})",
            s.strategy,
            s.budget,
            100.0 * s.mean_accuracy,
            100.0 * s.ci_low,
            100.0 * s.ci_high,
            100.0 * s.min_accuracy,
            100.0 * s.max_accuracy
        );
    }
    // Every strategy against best-of-N (majority without it) at the same budget, paired.
    let baseline = sweep::baseline(rows);
    let comparisons = baseline.map_or_else(Vec::new, |b| sweep::versus(rows, b));
    let path = args.out.join("comparisons.csv");
    std::fs::write(&path, sweep::comparisons_csv(&comparisons))
        .with_context(|| format!("writing {}", path.display()))?;
    if let Some(b) = baseline {
        println!("\nagainst {b} at the same budget, paired on the same problems (difference, 95% interval: verdict on \"beats {b}\")");
        for c in &comparisons {
            println!(
                "{:<12} {:>7}   {:>+6.1} points [{:+.1}, {:+.1}]: {}",
                c.strategy,
                c.budget,
                100.0 * c.difference,
                100.0 * c.ci_low,
                100.0 * c.ci_high,
                c.verdict.label()
            );
        }
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
        "wrote rows.csv, summary.csv, comparisons.csv, summary.json, accuracy.svg, difficulty.csv, \
         revision_steps.csv and compute_optimal.csv (and exchange.csv with --large) to {} \
         ({seconds:.0} s)",
        args.out.display()
    );
    Ok(())
}
