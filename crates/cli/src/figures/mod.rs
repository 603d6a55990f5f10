//! `ponder figures`: the paper's figures, reproduced on the built-in models, written to
//! `RESULTS.md` with its charts.
//!
//! Two phases. *Measure*: for every (seed, problem) of the plan, every configuration the
//! figures need runs once ([`record::measure`]) and its results are appended as one JSON
//! line to `DATA/records-PART-SHARD.jsonl`; records already in the folder are skipped, so
//! an interrupted run resumes, `--shard i/n` splits the plan over processes, and `--part`
//! measures one part: S's strategies (`search`), R's chains (`revisions`) or the dearest
//! search runs (`deep`). *Report*:
//! once every record is there, [`analysis`] turns them into the figures' numbers and
//! [`results`] writes the markdown and SVG charts. `--report-only` skips measuring.

mod analysis;
mod record;
mod results;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use ponder_core::progress;

use crate::run::{builtin_dir, chosen_problems, engine};
use record::{Models, Part, Record};

#[derive(clap::Args)]
pub struct Args {
    /// The problem set.
    #[arg(long, default_value = "test")]
    set: String,
    /// Problems per level (the first ones of each level, in set order).
    #[arg(long, default_value_t = 5)]
    per_level: usize,
    /// Seeds; figures give the mean and the spread over them.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    seeds: Vec<u64>,
    /// Where the measured records are kept (and resumed from).
    #[arg(long, default_value = "target/figures")]
    data: PathBuf,
    /// The results file; it links to the charts in `--charts`.
    #[arg(long, default_value = "RESULTS.md")]
    out: PathBuf,
    /// The folder of the charts.
    #[arg(long, default_value = "docs/results")]
    charts: PathBuf,
    /// Measure only this part of the plan, `i/n` (0-based), to use several processes.
    #[arg(long)]
    shard: Option<String>,
    /// Measure only one part of each record: `search` (S, L and the PRM), `revisions` (R
    /// and the PRM) or `deep` (DVTS at 256 and lookahead at 64 to 256, S and the PRM).
    #[arg(long)]
    part: Option<String>,
    /// Write the results from the records already measured, without measuring more.
    #[arg(long)]
    report_only: bool,
}

/// The (seed, problem, part) triples measured.
type Parts = BTreeSet<(u64, usize, Part)>;

/// Every (seed, problem) part measured in `dir`, merged into whole records where all
/// parts are there (in any order: `Record::merge` takes each part's own fields).
fn merged_records(dir: &Path) -> anyhow::Result<(Parts, Vec<Record>)> {
    let mut parts = BTreeSet::new();
    let mut merged: std::collections::BTreeMap<(u64, usize), Record> = Default::default();
    for r in read_records(dir)? {
        let key = (r.seed, r.problem);
        // A part measured twice (a resumed shard) counts once.
        if r.parts.iter().any(|&p| parts.contains(&(key.0, key.1, p))) {
            continue;
        }
        for &p in &r.parts {
            parts.insert((key.0, key.1, p));
        }
        match merged.get_mut(&key) {
            Some(existing) => existing.merge(r),
            None => {
                merged.insert(key, r);
            }
        }
    }
    Ok((parts, merged.into_values().collect()))
}

/// Reads every `records-*.jsonl` in `dir`. A line that does not parse (a run killed
/// mid-write) is reported and skipped, so that (seed, problem) is measured again.
fn read_records(dir: &Path) -> anyhow::Result<Vec<Record>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("records-") && n.ends_with(".jsonl"))
        })
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Record>(line) {
                Ok(r) => out.push(r),
                Err(e) => eprintln!(
                    "warning: {} line {}: not a record ({e}); it will be measured again",
                    file.display(),
                    i + 1
                ),
            }
        }
    }
    Ok(out)
}

fn parse_shard(text: &str) -> anyhow::Result<(usize, usize)> {
    let parsed = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((i, n)) if n > 0 && i < n => Ok((i, n)),
        _ => anyhow::bail!("--shard is i/n with 0 <= i < n, for example 0/2; got {text:?}"),
    }
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(!args.seeds.is_empty(), "--seeds needs at least one seed");
    anyhow::ensure!(args.per_level > 0, "--per-level must be at least 1");
    let (set, problems, chosen) = chosen_problems(&args.set, &[], args.per_level)?;
    let plan: Vec<(u64, usize)> = args
        .seeds
        .iter()
        .flat_map(|&s| chosen.iter().map(move |&p| (s, p)))
        .collect();

    if !args.report_only {
        let (shard, shards) = match &args.shard {
            Some(s) => parse_shard(s)?,
            None => (0, 1),
        };
        let parts: Vec<Part> = match args.part.as_deref() {
            None | Some("all") => Part::ALL.to_vec(),
            Some(name) => vec![Part::ALL
                .into_iter()
                .find(|p| p.name() == name)
                .with_context(|| {
                    format!("--part is search, revisions, deep or all, not {name:?}")
                })?],
        };
        for part in parts {
            let (done, _) = merged_records(&args.data)?;
            let todo: Vec<(u64, usize)> = plan
                .iter()
                .enumerate()
                .filter(|(i, &(s, p))| i % shards == shard && !done.contains(&(s, p, part)))
                .map(|(_, key)| *key)
                .collect();
            if !todo.is_empty() {
                measure_all(args, part, &problems, &set, &todo, shard)?;
            }
        }
    }

    let plan_keys: BTreeSet<(u64, usize)> = plan.iter().copied().collect();
    let records: Vec<Record> = merged_records(&args.data)?
        .1
        .into_iter()
        .filter(|r| plan_keys.contains(&(r.seed, r.problem)) && r.parts.len() == Part::ALL.len())
        .collect();
    let missing = plan_keys.len() - records.len();
    if missing > 0 && !args.report_only {
        eprintln!(
            "{missing} of {} (seed, problem) pairs are not complete yet (another shard, or \
             another --part, still has to measure them); run again without --shard and \
             --part (or with --report-only) once they are",
            plan_keys.len()
        );
        return Ok(());
    }
    anyhow::ensure!(
        !records.is_empty(),
        "no records in {} for this plan; run without --report-only first",
        args.data.display()
    );
    let models = analysis::ModelSizes::read(&builtin_dir())?;
    let figures = analysis::Figures::compute(&records, &args.seeds, &models)?;
    results::write(args, &figures, &records, missing)
}

fn measure_all(
    args: &Args,
    part: Part,
    problems: &[ponder_core::arithmetic::Problem],
    set: &ponder_core::arithmetic::ProblemSet,
    todo: &[(u64, usize)],
    shard: usize,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("cannot create {}", args.data.display()))?;
    let path = args
        .data
        .join(format!("records-{}-{shard}.jsonl", part.name()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let dir = builtin_dir();
    let load = |name: &str| engine(&dir.join(name));
    let mut models = Models {
        policy: load("ponder-s.gguf")?,
        reviser: load("ponder-r.gguf")?,
        verifier: load("ponder-prm.gguf")?,
        larger: load("ponder-l.gguf")?,
    };
    let started = Instant::now();
    // Level 5 takes longer than level 1; weigh the work by level for the time left.
    let weight = |i: usize| u64::from(set.problems[i].level.number()) + 1;
    let total: u64 = todo.iter().map(|&(_, i)| weight(i)).sum();
    let mut done = 0u64;
    for (n, &(seed, i)) in todo.iter().enumerate() {
        let level = set.problems[i].level.number();
        let mut generations = 0u64;
        let mut tick = |g: u64| {
            generations += g;
            eprint!(
                "\r{} [{}/{}] seed {seed}, problem {i} (level {level}): {generations} generations; {}   ",
                part.name(),
                n + 1,
                todo.len(),
                progress::timing(started.elapsed().as_secs_f64(), done, total)
            );
            let _ = std::io::stderr().flush();
        };
        let record = record::measure(part, &mut models, &problems[i], i, level, seed, &mut tick)?;
        let line = serde_json::to_string(&record)?;
        writeln!(file, "{line}").with_context(|| format!("writing {}", path.display()))?;
        file.flush()?;
        done += weight(i);
    }
    eprintln!();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_checked() {
        assert_eq!(parse_shard("1/3").ok(), Some((1, 3)));
        assert!(parse_shard("3/3").is_err());
        assert!(parse_shard("x").is_err());
    }

    #[test]
    fn parts_merge_and_results_are_written_from_records() {
        let dir = std::env::temp_dir().join(format!("ponder-figures-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let records = analysis::tests::synthetic(&[1, 2, 3]);
        // Split every record into its three parts, in three files, with a torn last line.
        let deep = |x: &record::RunResult| {
            (x.config == "dvts" && x.budget > 64) || (x.config == "lookahead" && x.budget > 32)
        };
        let mut files = [String::new(), String::new(), String::new()];
        for r in &records {
            let mut s = r.clone();
            s.parts = vec![Part::Search];
            s.runs.retain(|x| !x.config.starts_with("mix") && !deep(x));
            s.chains.clear();
            let mut v = r.clone();
            v.parts = vec![Part::Revisions];
            v.runs.retain(|x| x.config.starts_with("mix"));
            let mut d = r.clone();
            d.parts = vec![Part::Deep];
            d.runs.retain(deep);
            d.chains.clear();
            for (file, part) in files.iter_mut().zip([s, v, d]) {
                file.push_str(&serde_json::to_string(&part).expect("json"));
                file.push('\n');
            }
        }
        files[1].push_str("{\"parts\": [\"revi");
        for (file, part) in files.iter().zip(Part::ALL) {
            std::fs::write(dir.join(format!("records-{}-0.jsonl", part.name())), file)
                .expect("write");
        }
        let (parts, merged) = merged_records(&dir).expect("records");
        assert_eq!(parts.len(), 3 * records.len());
        assert_eq!(merged.len(), records.len());
        for (m, r) in merged.iter().zip(&records) {
            assert_eq!(m.parts, Part::ALL.to_vec());
            assert_eq!(m.chains, r.chains);
            assert_eq!(m.runs.len(), r.runs.len());
            assert_eq!(m.pass_at_1, r.pass_at_1);
        }
        let args = Args {
            set: "test".into(),
            per_level: 2,
            seeds: vec![1, 2, 3],
            data: dir.clone(),
            out: dir.join("RESULTS.md"),
            charts: dir.join("charts"),
            shard: None,
            part: None,
            report_only: true,
        };
        let f = analysis::Figures::compute(&merged, &args.seeds, &analysis::tests::sizes())
            .expect("figures");
        results::write(&args, &f, &merged, 0).expect("written");
        let md = std::fs::read_to_string(&args.out).expect("results");
        for section in 1..=7 {
            assert!(md.contains(&format!("## {section}.")), "section {section}");
        }
        // Weighted best-of-N solves 4 of 10 with every seed; beam search 6 of 10.
        assert!(
            md.contains("| best-of-N weighted | 256 | 40.0 (40.0–40.0) |"),
            "{md}"
        );
        assert!(
            md.contains("| beam search (M=4) | 16 | 60.0 (60.0–60.0) |"),
            "{md}"
        );
        // The deep part's runs are in the curves.
        assert!(
            md.contains("| DVTS (M=4) | 256 | 40.0 (40.0–40.0) |"),
            "{md}"
        );
        assert!(md.contains("| lookahead (k=1) | 256 |"), "{md}");
        for chart in [
            "accuracy.svg",
            "revision_steps.svg",
            "ratio.svg",
            "compute_optimal.svg",
        ] {
            let svg = std::fs::read_to_string(args.charts.join(chart)).expect("chart");
            assert!(svg.starts_with("<svg"), "{chart}");
            assert!(md.contains(&format!("charts/{chart}")), "{chart} linked");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
