//! `RESULTS.md` and its SVG charts, from the computed figures. Every number in the file
//! comes from the records; each section ends with what the paper found and whether the
//! built-in models agree, decided from the same numbers.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ponder_core::strategy::compute_optimal::DifficultySource;

use super::analysis::{budget_reaching, Figures, Optimal, Spread, BINS};
use super::record::{Record, RATIOS, STEPS_BUDGET};
use super::Args;
use ponder_core::chart::{line_chart, Point, Series};

fn pct(s: &Spread) -> String {
    if s.seeds > 1 {
        format!(
            "{:.1} ({:.1}–{:.1})",
            100.0 * s.mean,
            100.0 * s.min,
            100.0 * s.max
        )
    } else {
        format!("{:.1}", 100.0 * s.mean)
    }
}

fn opt(s: &Option<Spread>) -> String {
    s.as_ref().map_or("–".to_string(), pct)
}

fn point(x: f64, s: &Spread) -> Point {
    Point::percent(x, *s)
}

fn label(config: &str) -> String {
    match config {
        "best-of-n" => "best-of-N weighted".into(),
        "best-of-n naive" => "best-of-N naive".into(),
        "beam" => "beam search (M=4)".into(),
        "dvts" => "DVTS (M=4)".into(),
        "lookahead" => "lookahead (k=1)".into(),
        "mix 16" => "revisions (R, PRM pick)".into(),
        other => other.into(),
    }
}

fn verdict(agree: bool) -> &'static str {
    if agree {
        "**Agrees.**"
    } else {
        "**Disagrees.**"
    }
}

fn mean_at(curve: &[(u32, Spread, f64)], budget: u32) -> Option<f64> {
    curve.iter().find(|p| p.0 == budget).map(|p| p.1.mean)
}

/// `to` as seen from the folder `from`, for a link in a Markdown file there: relative
/// paths are taken from the working folder, and `..` climbs out of `from` where needed.
fn relative_to(from: &Path, to: &Path) -> PathBuf {
    use std::ffi::OsString;
    use std::path::Component;
    let here = std::env::current_dir().unwrap_or_default();
    // The folder names from the root down, with `.` and `..` resolved.
    let names = |p: &Path| -> Vec<OsString> {
        let mut out = Vec::new();
        for c in here.join(p).components() {
            match c {
                Component::Normal(n) => out.push(n.to_os_string()),
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            }
        }
        out
    };
    let (from, to) = (names(from), names(to));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for name in &to[common..] {
        out.push(name);
    }
    out
}

pub fn write(args: &Args, f: &Figures, records: &[Record], missing: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.charts)
        .with_context(|| format!("cannot create {}", args.charts.display()))?;
    let chart_link = |name: &str| -> String {
        let from = args.out.parent().unwrap_or(Path::new(""));
        relative_to(from, &args.charts.join(name))
            .display()
            .to_string()
    };
    let save = |name: &str, svg: String| -> anyhow::Result<()> {
        let path = args.charts.join(name);
        std::fs::write(&path, svg).with_context(|| format!("writing {}", path.display()))
    };
    let mut md = String::new();
    let seeds: Vec<String> = f.seeds.iter().map(u64::to_string).collect();
    let _ = writeln!(
        md,
        "# Results: the paper's figures on Ponder's built-in models\n"
    );
    let _ = writeln!(
        md,
        "Written by `ponder figures --set {} --per-level {} --seeds {}` from {} measured \
         (seed, problem) pairs ({:.0} min of measuring on the machine that ran it). Do not \
         edit by hand: rerun the command.\n",
        args.set,
        args.per_level,
        seeds.join(","),
        records.len(),
        f.seconds / 60.0
    );
    if missing > 0 {
        let _ = writeln!(
            md,
            "**Incomplete:** {missing} pairs of the plan were not measured yet.\n"
        );
    }
    let _ = writeln!(
        md,
        "- Models: S ({} parameters) is the policy of every parallel and search strategy; \
         R (S fine-tuned to revise) runs the revision chains; the PRM scores steps; L ({} \
         parameters, {:.1}× S) is the larger sibling. See `docs/models.md`.\n\
         - Problems: the first {} problems of each of the 5 levels of the `{}` set, {} in \
         all, each with every seed. Sampling at temperature 0.8.\n\
         - Numbers are % of problems solved: the mean over {} seeds, with the lowest and \
         highest seed in brackets. With {} problems one problem is {:.1} points, so \
         differences of a few points are noise.\n\
         - Difficulty bins are the paper's oracle bins: quintiles of S's pass@1 over the \
         256 parallel samples of each problem and seed (bin 1 easiest).\n\
         - Budgets are in generations, the paper's unit; lookahead costs N·(k+1).\n\
         - Revision chains and their baseline run R; R at budget 1 is one attempt of R.",
        f.sizes.0,
        f.sizes.1,
        f.sizes.1 as f64 / f.sizes.0.max(1) as f64,
        args.per_level,
        args.set,
        f.problems,
        f.seeds.len(),
        f.problems,
        100.0 / f.problems.max(1) as f64
    );
    if !f.empty_bins.is_empty() {
        let names: Vec<String> = f.empty_bins.iter().map(u8::to_string).collect();
        let _ = writeln!(
            md,
            "- Bin(s) {} hold no problem in some seed: more than a fifth of the problems \
             have the same pass@1 (0, no sample right), and equal values share a bin, so they \
             all sit in the bin above.",
            names.join(", ")
        );
    }
    if f.failed_runs > 0 {
        let _ = writeln!(
            md,
            "- {} runs failed and count as unsolved (their errors are in the records).",
            f.failed_runs
        );
    }

    // 1. Accuracy against budget.
    let _ = writeln!(md, "\n## 1. Accuracy against budget, every strategy\n");
    let _ = writeln!(
        md,
        "![accuracy against budget]({})\n",
        chart_link("accuracy.svg")
    );
    let _ = writeln!(
        md,
        "| strategy | budget | solved % | mean FLOPs per problem |"
    );
    let _ = writeln!(md, "|---|---:|---|---:|");
    for c in &f.curves {
        for (b, s, flops) in &c.points {
            let _ = writeln!(
                md,
                "| {} | {b} | {} | {flops:.2e} |",
                label(&c.config),
                pct(s)
            );
        }
    }
    if !f.revisions_majority.is_empty() {
        let _ = writeln!(
            md,
            "\nRevision chains with a flat majority over all attempts instead of the PRM's pick:"
        );
        let cells: Vec<String> = f
            .revisions_majority
            .iter()
            .map(|(b, s)| format!("{b}: {}", pct(s)))
            .collect();
        let _ = writeln!(md, "{}.", cells.join("; "));
    }
    let series: Vec<Series> = f
        .curves
        .iter()
        .map(|c| Series {
            name: label(&c.config),
            points: c
                .points
                .iter()
                .map(|(b, s, _)| point(f64::from(*b), s))
                .collect(),
        })
        .collect();
    save(
        "accuracy.svg",
        line_chart(
            "Accuracy against test-time budget",
            "budget (generations)",
            "solved (%)",
            &series,
        ),
    )?;
    let curve = |name: &str| {
        f.curves
            .iter()
            .find(|c| c.config == name)
            .map(|c| c.points.clone())
            .unwrap_or_default()
    };
    let bon = curve("best-of-n");
    let maj = curve("majority");
    let top = 256;
    if let (Some(b), Some(m), Some(b1)) = (mean_at(&bon, top), mean_at(&maj, top), mean_at(&bon, 1))
    {
        let _ = writeln!(
            md,
            "\n*Paper:* accuracy grows with the budget and PRM-weighted best-of-N is at least as \
             good as majority voting (Fig. 3). *Here:* weighted best-of-N goes from {:.1}% at 1 \
             to {:.1}% at {top}; majority reaches {:.1}% at {top}. {}",
            100.0 * b1,
            100.0 * b,
            100.0 * m,
            verdict(b > b1 && b >= m)
        );
    }

    // 2. Beam search against best-of-N per bin.
    let _ = writeln!(
        md,
        "\n## 2. Beam search against best-of-N, per difficulty bin\n"
    );
    let _ = writeln!(md, "| bin | budget | beam search | best-of-N weighted |");
    let _ = writeln!(md, "|---:|---:|---|---|");
    let mut beam_wins_hard_low = 0;
    let mut beam_loses_easy_high = 0;
    let mut compared = (0, 0);
    for (bin, rows) in &f.beam_vs_bon {
        for row in rows {
            let b = row.budget;
            let _ = writeln!(
                md,
                "| {bin} | {b} | {} | {} |",
                opt(&row.beam),
                opt(&row.bon)
            );
            if let (Some(x), Some(y)) = (row.beam, row.bon) {
                if *bin >= 3 && b <= 16 {
                    compared.0 += 1;
                    beam_wins_hard_low += usize::from(x.mean > y.mean);
                }
                if *bin <= 2 && b >= 64 {
                    compared.1 += 1;
                    beam_loses_easy_high += usize::from(x.mean < y.mean);
                }
            }
        }
    }
    let _ = writeln!(
        md,
        "\n*Paper:* beam search beats best-of-N at small budgets and on medium and hard \
         questions, and falls behind it on easy questions at large budgets, where it \
         over-optimises the PRM (Fig. 3 right). *Here:* on bins 3–5 at budgets 4 and 16 beam \
         search is ahead in {beam_wins_hard_low} of {} comparisons; on bins 1–2 at 64 and 256 \
         it is behind in {beam_loses_easy_high} of {}. {}",
        compared.0,
        compared.1,
        verdict(2 * beam_wins_hard_low > compared.0 && 2 * beam_loses_easy_high > compared.1)
    );

    // 3. Revisions per step.
    let _ = writeln!(md, "\n## 3. Revisions: pass@1 at each attempt of a chain\n");
    let _ = writeln!(
        md,
        "From the revision chains of the budget-{STEPS_BUDGET} run at ratio 16 (2 chains of \
         32 attempts; R sees the 4 most recent).\n"
    );
    let _ = writeln!(
        md,
        "![revision pass@1 per step]({})\n",
        chart_link("revision_steps.svg")
    );
    let _ = writeln!(md, "| attempt | pass@1 % |");
    let _ = writeln!(md, "|---:|---|");
    for (t, s) in &f.steps {
        let _ = writeln!(md, "| {t} | {} |", pct(s));
    }
    save(
        "revision_steps.svg",
        line_chart(
            "Revision pass@1 at each attempt (attempt 1 = first)",
            "attempt",
            "pass@1 (%)",
            &[Series {
                name: "R".into(),
                points: f
                    .steps
                    .iter()
                    .map(|(t, s)| point((t + 1) as f64, s))
                    .collect(),
            }],
        ),
    )?;
    let (to_wrong, to_right, right_then) = f.flips;
    let first = f.steps.first().map(|s| s.1.mean);
    let fourth = f.steps.get(4).map(|s| s.1.mean);
    if let (Some(a), Some(b)) = (first, fourth) {
        let _ = writeln!(
            md,
            "\nBetween consecutive attempts, {to_wrong} right answers turned wrong ({:.0}% of \
             the {right_then} right attempts that had a next one) and {to_right} wrong answers \
             turned right.\n\n*Paper:* pass@1 rises with each revision, also past the 4 \
             attempts in context (Fig. 6 left), while about 38% of right answers are later \
             turned wrong, so the final answer must be selected from the chain. *Here:* \
             pass@1 goes from {:.1}% at the first attempt to {:.1}% after 4 revisions. {}",
            100.0 * to_wrong as f64 / right_then.max(1) as f64,
            100.0 * a,
            100.0 * b,
            verdict(b > a)
        );
    }

    // 4. Ratio sweep.
    let _ = writeln!(md, "\n## 4. Sequential against parallel: the ratio sweep\n");
    let _ = writeln!(
        md,
        "At each budget N, C chains of L revisions (C·L = N) at sequential:parallel ratio \
         L/C; the final answer by the PRM (within each chain, then across) or by a flat \
         majority over all attempts.\n"
    );
    let _ = writeln!(md, "![ratio sweep]({})\n", chart_link("ratio.svg"));
    let _ = writeln!(
        md,
        "| budget | ratio L/C | chain length L | PRM pick | majority |"
    );
    let _ = writeln!(md, "|---:|---:|---:|---|---|");
    let mut ratio_series = Vec::new();
    let mut sequential_best_low = None;
    for (b, rows) in &f.ratios {
        let mut points: Vec<Point> = Vec::new();
        for r in rows {
            let _ = writeln!(
                md,
                "| {b} | {} | {} | {} | {} |",
                r.label,
                r.length,
                pct(&r.pick),
                pct(&r.majority)
            );
            if !points.iter().any(|p| p.x == r.length as f64) {
                points.push(point(r.length as f64, &r.pick));
            }
        }
        if *b == 16 {
            sequential_best_low = Some(longest_wins(
                &rows
                    .iter()
                    .map(|r| (r.length, r.pick.mean))
                    .collect::<Vec<_>>(),
            ));
        }
        ratio_series.push(Series {
            name: format!("budget {b}"),
            points,
        });
    }
    save(
        "ratio.svg",
        line_chart(
            "Revisions: accuracy against chain length at fixed budgets (PRM pick)",
            "attempts per chain L (chains = budget / L)",
            "solved (%)",
            &ratio_series,
        ),
    )?;
    let _ = writeln!(md, "\nPer oracle bin at budget 64 (PRM pick):\n");
    let mut header = String::from("| bin |");
    let mut rule = String::from("|---:|");
    for (_, l) in RATIOS {
        let _ = write!(header, " {l} |");
        rule.push_str("---|");
    }
    let _ = writeln!(md, "{header}\n{rule}");
    for (bin, rows) in &f.ratios_by_bin {
        let cells: Vec<String> = rows.iter().map(|(_, s)| opt(s)).collect();
        let _ = writeln!(md, "| {bin} | {} |", cells.join(" | "));
    }
    // Chain lengths at budget 64 follow the ratios' order: longer for larger ratios.
    let easy_sequential = f.ratios_by_bin.get(&1).map(|rows| {
        longest_wins(
            &rows
                .iter()
                .enumerate()
                .filter_map(|(i, (_, s))| s.map(|s| (i, s.mean)))
                .collect::<Vec<_>>(),
        )
    });
    let _ = writeln!(
        md,
        "\n*Paper:* at small budgets more sequential is better; at large budgets an interior \
         ratio wins; easy questions do best fully sequential and hard ones at an interior \
         ratio (Fig. 7). *Here:* at budget 16 the longest chains {} (at least as good as \
         every other split and better than all-parallel chains); in bin 1 at budget 64 the \
         most sequential ratio {}. {}",
        if sequential_best_low == Some(true) {
            "win"
        } else {
            "do not win"
        },
        if easy_sequential == Some(true) {
            "wins"
        } else {
            "does not win"
        },
        verdict(sequential_best_low == Some(true) && easy_sequential == Some(true))
    );

    // 5. Compute-optimal scaling, and 7. oracle against predicted bins.
    let _ = writeln!(md, "\n## 5. Compute-optimal scaling against best-of-N\n");
    let _ = writeln!(
        md,
        "Per difficulty bin and budget, the configuration with the best accuracy on one half \
         of the bin's problems, measured on the other half, and the other way round (the \
         paper's two-fold cross-validation). Search chooses among best-of-N weighted, beam search \
         and DVTS; revisions among the five ratios of section 4. Difficulty is not \
         charged to the budget, as in the paper. The baseline is the family's parallel \
         sampling: S's weighted best-of-N for search, R's parallel attempts with the PRM's \
         pick (ratio 1/16) for revisions. Where a baseline dips as the budget grows, its \
         best accuracy so far is used.\n"
    );
    let _ = writeln!(
        md,
        "![compute-optimal]({})\n",
        chart_link("compute_optimal.svg")
    );
    // Best-of-N's best accuracy at any budget up to each one: the budget it needs to
    // reach an accuracy is then well defined even where its curve dips.
    let mut best_so_far = 0f64;
    let bon_points: Vec<(u32, f64)> = bon
        .iter()
        .map(|(b, s, _)| {
            best_so_far = best_so_far.max(s.mean);
            (*b, best_so_far)
        })
        .collect();
    let _ = writeln!(
        md,
        "| family | bins | budget | compute-optimal | baseline at this budget | baseline budget that matches it | saving |"
    );
    let _ = writeln!(md, "|---|---|---:|---|---|---:|---:|");
    let mut best_so_far = 0f64;
    let r_points: Vec<(u32, f64)> = f
        .parallel_r
        .iter()
        .map(|(b, s)| {
            best_so_far = best_so_far.max(s.mean);
            (*b, best_so_far)
        })
        .collect();
    let mut co_series = Vec::new();
    let mut best_saving: Option<f64> = None;
    for o in f.optimal.iter() {
        let source = match o.source {
            DifficultySource::Oracle => "oracle",
            DifficultySource::Predicted => "predicted",
        };
        let mut points = Vec::new();
        for (i, b) in o.budgets.iter().enumerate() {
            let Some(Some(acc)) = o.accuracy.get(i) else {
                continue;
            };
            let baseline_points = if o.family == "revisions" {
                &r_points
            } else {
                &bon_points
            };
            let baseline_here = if o.family == "revisions" {
                f.parallel_r.iter().find(|p| p.0 == *b).map(|p| p.1)
            } else {
                bon.iter().find(|p| p.0 == *b).map(|p| p.1)
            };
            let matched = budget_reaching(baseline_points, acc.mean);
            let largest = baseline_points.last().map_or(1.0, |p| f64::from(p.0));
            // A best-of-N budget above this one is a saving; where best-of-N never gets
            // there, the saving is at least its largest budget over this one.
            let (saving, cell) = match matched {
                Some(m) if m > f64::from(*b) * (1.0 + 1e-9) => {
                    let s = m / f64::from(*b);
                    (Some(s), format!("{s:.1}×"))
                }
                Some(_) => (None, "none".to_string()),
                None => {
                    let s = largest / f64::from(*b);
                    (Some(s), format!("more than {s:.0}×"))
                }
            };
            if o.source == DifficultySource::Oracle {
                if let Some(s) = saving {
                    best_saving = Some(best_saving.map_or(s, |x: f64| x.max(s)));
                }
            }
            let _ = writeln!(
                md,
                "| {} | {source} | {b} | {} | {} | {} | {cell} |",
                o.family,
                pct(acc),
                baseline_here.as_ref().map_or("–".into(), pct),
                matched.map_or(format!("not reached by {largest:.0}"), |m| format!(
                    "{m:.0}"
                )),
            );
            points.push(point(f64::from(*b), acc));
        }
        co_series.push(Series {
            name: format!("{} ({source})", o.family),
            points,
        });
    }
    co_series.push(Series {
        name: "R in parallel".into(),
        points: f
            .parallel_r
            .iter()
            .map(|(b, s)| point(f64::from(*b), s))
            .collect(),
    });
    co_series.push(Series {
        name: "best-of-N weighted".into(),
        points: bon
            .iter()
            .map(|(b, s, _)| point(f64::from(*b), s))
            .collect(),
    });
    save(
        "compute_optimal.svg",
        line_chart(
            "Compute-optimal scaling against best-of-N",
            "budget (generations)",
            "solved (%)",
            &co_series,
        ),
    )?;
    for o in &f.optimal {
        for e in &o.errors {
            let _ = writeln!(md, "\nNote ({}): {e}.", o.family);
        }
    }
    let _ = writeln!(
        md,
        "\nPer oracle bin: compute-optimal accuracy, then the family's baseline at the same budget.\n"
    );
    let _ = writeln!(
        md,
        "| family | bin | budget | compute-optimal | best-of-N |"
    );
    let _ = writeln!(md, "|---|---:|---:|---|---|");
    for o in f
        .optimal
        .iter()
        .filter(|o| o.source == DifficultySource::Oracle)
    {
        for (bin, row) in &o.by_bin {
            for (b, acc) in o.budgets.iter().zip(row) {
                let bon_bin = if o.family == "revisions" {
                    f.parallel_r_by_bin
                        .get(bin)
                        .filter(|_| o.bins == BINS)
                        .and_then(|rows| rows.iter().find(|r| r.0 == *b))
                        .and_then(|r| r.1)
                } else {
                    f.beam_vs_bon
                        .get(bin)
                        .filter(|_| o.bins == BINS)
                        .and_then(|rows| rows.iter().find(|r| r.budget == *b))
                        .and_then(|r| r.bon)
                };
                let _ = writeln!(
                    md,
                    "| {} | {bin} | {b} | {} | {} |",
                    o.family,
                    opt(acc),
                    opt(&bon_bin)
                );
            }
        }
    }
    let _ = writeln!(
        md,
        "\nConfigurations chosen (oracle bins, over seeds and folds):\n"
    );
    for o in f
        .optimal
        .iter()
        .filter(|o| o.source == DifficultySource::Oracle)
    {
        for (bin, per_budget) in &o.chosen {
            let cells: Vec<String> = o
                .budgets
                .iter()
                .zip(per_budget)
                .map(|(b, names)| format!("{b}: {}", summarise(names)))
                .collect();
            let _ = writeln!(md, "- {} bin {bin}: {}", o.family, cells.join("; "));
        }
    }
    let _ = writeln!(
        md,
        "\n*Paper:* compute-optimal scaling matches best-of-N with up to 4× less compute \
         (Fig. 4, Fig. 8). *Here*, over the budgets measured with oracle bins: {}. {}",
        best_saving.map_or(
            "no saving; each family's baseline matches every compute-optimal point at the \
             same budget or less"
                .into(),
            |s| format!("the largest saving is {s:.1}× (at least)")
        ),
        verdict(best_saving.is_some_and(|s| s >= 2.0))
    );

    let _ = writeln!(
        md,
        "\n## 6. FLOPs-matched exchange against the larger sibling L\n"
    );
    let _ = writeln!(
        md,
        "L has {:.1}× S's parameters. Spending L's extra FLOPs on S's test-time compute \
         instead buys M + 3(M−1)/R times one generation (§7), R (the paper's symbol, not the \
         revision model) being inference tokens over \
         pretraining tokens: {}. Generations are the policy's, as in the paper (the \
         PRM's FLOPs are left out). Per oracle bin: L's greedy accuracy against the \
         compute-optimal accuracy at that budget of S (search) or R (revisions; S fine-tuned, \
         the same size), interpolated in log budget; – where the budget is past the largest \
         measured.\n",
        f.sizes.1 as f64 / f.sizes.0.max(1) as f64,
        f.multiplier
            .iter()
            .map(|(r, b)| format!("R = {r}: {b:.0} generations"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut header = String::from("| bin | L greedy |");
    let mut rule = String::from("|---:|---|");
    for (r, _) in &f.multiplier {
        let _ = write!(header, " search R={r} | revisions R={r} |");
        rule.push_str("---|---|");
    }
    let _ = writeln!(md, "{header}\n{rule}");
    let mut wins_easy = (0, 0);
    let mut wins_hard = (0, 0);
    for e in &f.exchange {
        let mut row = format!("| {} | {} |", e.bin, pct(&e.larger));
        for (_, _, search, revisions) in &e.at {
            let _ = write!(row, " {} | {} |", opt(search), opt(revisions));
            for s in [search, revisions].into_iter().flatten() {
                let win = usize::from(s.mean > e.larger.mean);
                if e.bin <= 3 {
                    wins_easy.0 += win;
                    wins_easy.1 += 1;
                } else {
                    wins_hard.0 += win;
                    wins_hard.1 += 1;
                }
            }
        }
        let _ = writeln!(md, "{row}");
    }
    let _ = writeln!(
        md,
        "\n*Paper:* on easy and medium questions, or when R is small, test-time compute beats \
         the 14× larger model; on the hardest questions with large R, pretraining wins \
         (Fig. 9). *Here:* S with test-time compute is ahead of L in {} of {} comparisons on \
         bins 1–3 and in {} of {} on bins 4–5. {}",
        wins_easy.0,
        wins_easy.1,
        wins_hard.0,
        wins_hard.1,
        verdict(
            2 * wins_easy.0 > wins_easy.1 && wins_easy.0 * wins_hard.1 >= wins_hard.0 * wins_easy.1
        )
    );

    let _ = writeln!(md, "\n## 7. Oracle against predicted difficulty\n");
    let _ = writeln!(md, "| family | budget | oracle bins | predicted bins |");
    let _ = writeln!(md, "|---|---:|---|---|");
    let mut gaps = Vec::new();
    for family in ["search", "revisions"] {
        let find = |s: DifficultySource| -> Option<&Optimal> {
            f.optimal
                .iter()
                .find(|o| o.family == family && o.source == s)
        };
        let (Some(o), Some(p)) = (
            find(DifficultySource::Oracle),
            find(DifficultySource::Predicted),
        ) else {
            continue;
        };
        for (i, b) in o.budgets.iter().enumerate() {
            let (x, y) = (
                o.accuracy.get(i).copied().flatten(),
                p.accuracy.get(i).copied().flatten(),
            );
            if let (Some(x), Some(y)) = (x, y) {
                gaps.push(x.mean - y.mean);
            }
            let _ = writeln!(md, "| {family} | {b} | {} | {} |", opt(&x), opt(&y));
        }
    }
    let mean_gap = gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
    let _ = writeln!(
        md,
        "\n*Paper:* predicted bins (from the verifier's mean score, no answers needed) \
         give nearly the same compute-optimal scaling as oracle bins (§5.3, §6.3). *Here:* \
         {} bins are ahead by {:.1} points on average. {}",
        if mean_gap >= 0.0 {
            "oracle"
        } else {
            "predicted"
        },
        100.0 * mean_gap.abs(),
        verdict(mean_gap.abs() <= 0.05)
    );
    let _ = writeln!(
        md,
        "\n## Caveats\n\n- {} problems per seed and {BINS} bins leave {:.0} problems per bin, \
         {:.0} per cross-validation fold: compute-optimal choices and per-bin figures are \
         noisy, and the range over seeds shows how much.\n\
         - The PRM is trained on S's samples and also scores R's attempts; the paper trained \
         a separate verifier on revision outputs because its base-model PRM transferred \
         poorly (Fig. 15a).\n\
         - The numbers are for our own tiny models on synthetic arithmetic, not PaLM 2 on MATH: \
         what transfers is the shape of each comparison, not its size.",
        f.problems,
        f.problems as f64 / BINS as f64,
        f.problems as f64 / BINS as f64 / 2.0
    );
    std::fs::write(&args.out, md).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote {} and its charts in {}",
        args.out.display(),
        args.charts.display()
    );
    Ok(())
}

/// Whether the last (longest-chain) point is at least as good as every other and
/// better than the first (all parallel).
fn longest_wins<K>(points: &[(K, f64)]) -> bool {
    match (points.first(), points.last()) {
        (Some(first), Some(last)) if points.len() > 1 => {
            points.iter().all(|p| last.1 >= p.1) && last.1 > first.1
        }
        _ => false,
    }
}

/// "beam ×3, best-of-n ×1", most chosen first.
fn summarise(names: &[String]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for n in names {
        match counts.iter_mut().find(|(m, _)| m == n) {
            Some(c) => c.1 += 1,
            None => counts.push((n.clone(), 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
        .iter()
        .map(|(n, c)| {
            format!(
                "{} ×{c}",
                n.strip_prefix("mix ")
                    .map_or(n.clone(), |r| format!("ratio {r}"))
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_links_are_relative_to_the_results_file() {
        let link = |from: &str, to: &str| relative_to(Path::new(from), Path::new(to));
        // The defaults: RESULTS.md at the top, charts in docs/results.
        assert_eq!(
            link("", "docs/results/a.svg"),
            Path::new("docs/results/a.svg")
        );
        assert_eq!(
            link("./", "./docs/results/a.svg"),
            Path::new("docs/results/a.svg")
        );
        // A results file elsewhere climbs out of its folder.
        assert_eq!(
            link("reports", "docs/results/a.svg"),
            Path::new("../docs/results/a.svg")
        );
        assert_eq!(
            link("docs", "docs/results/a.svg"),
            Path::new("results/a.svg")
        );
        assert_eq!(
            link("/tmp/out", "/tmp/charts/a.svg"),
            Path::new("../charts/a.svg")
        );
    }
}
