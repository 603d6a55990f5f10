//! The built-in models' evaluation report (`ponder-train report`): every figure in
//! `docs/models.md`, measured from the files in `public/models/` on the shipped test set.
//!
//! Every draw is keyed by (seed, problem, sample), so the report is the same on every run
//! and machine; what changes it is a changed model file.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use ponder_core::arithmetic::task::split_attempt;
use ponder_core::arithmetic::{check_solution, shipped_sets, ArithmeticTask, Level, Problem};
use ponder_core::strategy::vote::{select, Ballot, Selection};
use ponder_core::strategy::StepAggregation;
use ponder_core::{DrawKey, Policy, Task, Verifier};
use ponder_model::{Engine, LanguageModel};
use serde::Deserialize;

use crate::attempts::{at_temperature, sample, Job};
use crate::eval::greedy_pass_at_1;
use crate::prm::auroc;
use crate::revision::MAX_EARLIER;

/// The four built-in files, by role.
pub const FILES: [(&str, &str); 4] = [
    ("S", "ponder-s.gguf"),
    ("L", "ponder-l.gguf"),
    ("R", "ponder-r.gguf"),
    ("PRM", "ponder-prm.gguf"),
];

/// How each file was trained, as `public/models/training.json` records it.
#[derive(Clone, Debug, Deserialize)]
pub struct TrainingRecord {
    pub file: String,
    pub command: String,
    /// The command that later rewrote the file's metadata, keeping its weights
    /// (`ponder-train metadata`).
    #[serde(default)]
    pub metadata_command: Option<String>,
    pub steps: u64,
    /// Tokens read in training (padding included).
    pub tokens: u64,
    /// Wall-clock time of the command, sampling S included for R and the PRM.
    pub seconds: f64,
    /// Anything a reader needs to read the figures right.
    #[serde(default)]
    pub note: Option<String>,
    /// `rewrite::weights_digest` of the file as its training wrote it: the weights the
    /// figures were measured on, however the metadata around them changes.
    #[serde(default)]
    pub weights_fnv1a: Option<String>,
}

impl TrainingRecord {
    /// The records of `dir/training.json`.
    pub fn read_all(dir: &Path) -> anyhow::Result<Vec<TrainingRecord>> {
        let path = dir.join("training.json");
        let bytes = std::fs::read(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("{} is not valid: {e}", path.display()))
    }
}

/// The report's sampling budgets.
#[derive(Clone, Debug)]
pub struct ReportSettings {
    /// Samples per problem for coverage (pass@N up to this N).
    pub coverage_samples: usize,
    /// N of best-of-N and majority.
    pub vote_n: usize,
    /// Revision steps after the first attempt.
    pub revisions: usize,
    /// Revision chains per problem. One sampled chain per problem leaves a level's pass@1
    /// at each step with a standard error of about 4 points on 100 problems, as large as
    /// the effect measured; four halve it.
    pub revision_chains: usize,
    /// Earlier attempts a revision sees, the most recent ones (the paper's 4).
    pub revision_context: usize,
    pub temperature: f32,
    pub seed: u64,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            coverage_samples: 64,
            vote_n: 16,
            revisions: 8,
            revision_chains: 4,
            revision_context: MAX_EARLIER,
            // What the strategies sample at (search-and-learn's T = 0.8).
            temperature: ponder_core::strategy::DEFAULT_SAMPLING.temperature,
            seed: 1,
        }
    }
}

/// The unbiased pass@k of Chen et al. 2021 from `n` samples of which `c` are right:
/// 1 − C(n−c, k) / C(n, k).
pub fn pass_at_k(n: usize, c: usize, k: usize) -> f64 {
    if n - c < k {
        return 1.0;
    }
    let mut miss = 1.0;
    for i in (n - c + 1)..=n {
        miss *= 1.0 - k as f64 / i as f64;
    }
    1.0 - miss
}

fn load(dir: &Path, file: &str) -> anyhow::Result<Engine> {
    let path = dir.join(file);
    let bytes = std::fs::read(&path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read {}: {e} (train it with the command in docs/models.md)",
            path.display()
        )
    })?;
    Ok(Engine::new(LanguageModel::from_gguf_bytes(&bytes)?))
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// The report as Markdown. `progress` receives a line per stage.
pub fn report(
    dir: &Path,
    settings: &ReportSettings,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<String> {
    let started = Instant::now();
    let task = ArithmeticTask;
    let sets = shipped_sets().map_err(|e| anyhow::anyhow!("{e}"))?;
    let test = sets
        .iter()
        .find(|s| s.name == "test")
        .ok_or_else(|| anyhow::anyhow!("the shipped test set is missing"))?;
    let problems: Vec<Problem> = test.problems().map_err(|e| anyhow::anyhow!("{e}"))?;
    let levels: Vec<Level> = test.problems.iter().map(|p| p.level).collect();
    let levelled: Vec<(Level, Problem)> = levels.iter().copied().zip(problems.clone()).collect();
    let records = TrainingRecord::read_all(dir)?;
    let mut md = String::new();
    writeln!(md, "# The built-in models\n")?;
    writeln!(
        md,
        "Generated by `cargo run --release -p ponder-train -- report` from the files in \
         `public/models/`, on the shipped test set ({} problems, {} per level, never seen in \
         training). Sampling is at temperature {} with seed {}; every draw is keyed by \
         (seed, problem, sample), so a rerun gives the same figures.\n",
        problems.len(),
        test.per_level,
        settings.temperature,
        settings.seed
    )?;

    // Files.
    writeln!(md, "## Files\n")?;
    writeln!(
        md,
        "| model | file | parameters | file size | training steps | training tokens | training time |"
    )?;
    writeln!(md, "| --- | --- | ---: | ---: | ---: | ---: | ---: |")?;
    let mut total_bytes = 0u64;
    let mut engines = Vec::new();
    for (role, file) in FILES {
        let engine = load(dir, file)?;
        let size = std::fs::metadata(dir.join(file))?.len();
        total_bytes += size;
        let record = records.iter().find(|r| r.file == file);
        writeln!(
            md,
            "| {role} | `{file}` | {:.2} M | {:.2} MB | {} | {} | {} |",
            Policy::parameters(&engine) as f64 / 1e6,
            size as f64 / 1e6,
            record.map_or("?".into(), |r| r.steps.to_string()),
            record.map_or("?".into(), |r| format!("{:.2} M", r.tokens as f64 / 1e6)),
            record.map_or("?".into(), |r| format!("{:.0} min", r.seconds / 60.0)),
        )?;
        engines.push(engine);
    }
    writeln!(
        md,
        "\nAll four files together: {:.2} MB. Weights are Q8_0 (norms and the PRM head F32). \
         L has {:.1}x S's parameters.\n",
        total_bytes as f64 / 1e6,
        Policy::parameters(&engines[1]) as f64 / Policy::parameters(&engines[0]) as f64
    )?;
    writeln!(md, "Training commands:\n")?;
    for r in &records {
        writeln!(md, "- `{}`: `{}`", r.file, r.command)?;
        if let Some(note) = &r.note {
            writeln!(md, "  {note}")?;
        }
    }
    writeln!(md)?;
    let [s, l, r, prm] = &mut engines[..] else {
        anyhow::bail!("four model files expected");
    };

    // Greedy pass@1, S and L.
    progress("greedy pass@1 of S and L");
    let greedy_s = greedy_pass_at_1(s, &levelled, 64, 16)?;
    let greedy_l = greedy_pass_at_1(l, &levelled, 64, 16)?;
    writeln!(md, "## Greedy pass@1 by level: S and L\n")?;
    writeln!(md, "| level | S | L |")?;
    writeln!(md, "| --- | ---: | ---: |")?;
    for (a, b) in greedy_s.iter().zip(&greedy_l) {
        writeln!(
            md,
            "| {} | {} | {} |",
            a.level,
            pct(a.accuracy()),
            pct(b.accuracy())
        )?;
    }
    writeln!(md)?;

    // Coverage of S.
    progress("coverage: sampling S");
    let n = settings.coverage_samples;
    let samples = sample_s(s, &problems, n, COVERAGE_STREAM, settings)?;
    let samples: Vec<&[String]> = samples.chunks(n).collect();
    let correct: Vec<Vec<bool>> = problems
        .iter()
        .zip(&samples)
        .map(|(p, ss)| {
            ss.iter()
                .map(|a| task.extract_answer(a) == Some(p.answer().to_string()))
                .collect()
        })
        .collect();
    let ks: Vec<usize> = (0..).map(|e| 1usize << e).take_while(|&k| k <= n).collect();
    writeln!(md, "## Coverage of S: pass@N\n")?;
    writeln!(
        md,
        "The unbiased estimate (Chen et al. 2021) from {n} samples per problem: the chance that \
         at least one of N samples is right.\n"
    )?;
    write!(md, "| level |")?;
    for k in &ks {
        write!(md, " N={k} |")?;
    }
    writeln!(md)?;
    writeln!(md, "| --- |{}", " ---: |".repeat(ks.len()))?;
    let by_level = |level: Option<u8>| -> Vec<usize> {
        (0..problems.len())
            .filter(|&i| level.is_none_or(|l| levels[i].number() == l))
            .collect()
    };
    for level in Level::ALL.iter().map(|l| Some(l.number())).chain([None]) {
        let idx = by_level(level);
        write!(
            md,
            "| {} |",
            level.map_or("all".to_string(), |l| l.to_string())
        )?;
        for &k in &ks {
            let mean = idx
                .iter()
                .map(|&i| pass_at_k(n, correct[i].iter().filter(|&&c| c).count(), k))
                .sum::<f64>()
                / idx.len().max(1) as f64;
            write!(md, " {} |", pct(mean))?;
        }
        writeln!(md)?;
    }
    writeln!(md)?;

    // The PRM.
    progress("PRM: scoring S's samples");
    let m = settings.vote_n.min(n);
    let mut all_scores = Vec::new();
    let mut step_labels = Vec::new();
    let mut step_levels = Vec::new();
    let mut per_attempt: Vec<Vec<Vec<f32>>> = Vec::with_capacity(problems.len());
    for (i, p) in problems.iter().enumerate() {
        let scored = step_scores(prm, p, &samples[i][..m])?;
        step_levels.extend(std::iter::repeat_n(levels[i].number(), scored.scores.len()));
        all_scores.extend(scored.scores);
        step_labels.extend(scored.labels);
        per_attempt.push(scored.per_attempt);
    }
    // How a sample's step scores become one score is chosen on the validation set, so the
    // test figures below do not pick their own best.
    progress("PRM: choosing the step aggregation on the validation set");
    let validation = sets
        .iter()
        .find(|s| s.name == "validation")
        .ok_or_else(|| anyhow::anyhow!("the shipped validation set is missing"))?
        .problems()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let choice = choose_aggregation(s, prm, &validation, m, settings)?;
    let chosen = choice.chosen;
    writeln!(md, "## The PRM\n")?;
    writeln!(
        md,
        "Step-level AUROC of the PRM's score against the exact step checker, over the step lines \
         of S's first {m} samples per problem: a step is positive when it and every step before \
         it are correct. Answer lines are not counted here.\n"
    )?;
    let mut overall_auroc = None;
    writeln!(md, "| level | steps | correct steps | AUROC |")?;
    writeln!(md, "| --- | ---: | ---: | ---: |")?;
    for level in Level::ALL.iter().map(|l| Some(l.number())).chain([None]) {
        let pick: Vec<usize> = (0..all_scores.len())
            .filter(|&j| level.is_none_or(|l| step_levels[j] == l))
            .collect();
        let sc: Vec<f32> = pick.iter().map(|&j| all_scores[j]).collect();
        let lb: Vec<bool> = pick.iter().map(|&j| step_labels[j]).collect();
        if level.is_none() {
            overall_auroc = auroc(&sc, &lb);
        }
        writeln!(
            md,
            "| {} | {} | {} | {} |",
            level.map_or("all".to_string(), |l| l.to_string()),
            pick.len(),
            lb.iter().filter(|&&b| b).count(),
            auroc(&sc, &lb).map_or("n/a (one class)".into(), |a| format!("{a:.3}"))
        )?;
    }
    writeln!(md)?;
    writeln!(
        md,
        "Selecting one answer from the same {m} samples: majority vote, and the PRM's \
         weighted best-of-{m} (scores summed per answer). A sample's score is its step \
         scores aggregated: the last step's (the paper's choice), the lowest, or their \
         product. On the validation set ({} problems, {m} samples each) majority voting \
         solved {}, and the PRM-weighted vote {}; the report judges the PRM by the best of \
         these there, **{}** (ties go to the earlier in that list). Naive best-of-{m} takes \
         the single best-scored sample by the chosen aggregation. pass@{m} is the ceiling: \
         the share of problems with at least one right sample.\n",
        validation.len(),
        choice.majority,
        choice
            .weighted
            .iter()
            .map(|(a, w)| format!("{w} by `{}`", a.name()))
            .collect::<Vec<_>>()
            .join(", "),
        chosen.name()
    )?;
    let mut overall_votes = (0, 0);
    write!(md, "| level | majority-of-{m} |")?;
    for a in StepAggregation::ALL {
        write!(md, " weighted best-of-{m}, `{}` |", a.name())?;
    }
    writeln!(md, " naive best-of-{m} | pass@{m} |")?;
    writeln!(md, "| --- | ---: |{} ---: | ---: |", " ---: |".repeat(3))?;
    for level in Level::ALL.iter().map(|l| Some(l.number())).chain([None]) {
        let idx = by_level(level);
        // Majority, weighted by each aggregation, naive by the chosen one, pass@m.
        let mut wins = [0usize; 6];
        for &i in &idx {
            let truth = Some(problems[i].answer().to_string());
            let answers: Vec<Option<String>> = samples[i][..m]
                .iter()
                .map(|a| task.extract_answer(a))
                .collect();
            let picks = [
                (Selection::Majority, StepAggregation::Last),
                (Selection::Weighted, StepAggregation::ALL[0]),
                (Selection::Weighted, StepAggregation::ALL[1]),
                (Selection::Weighted, StepAggregation::ALL[2]),
                (Selection::Naive, chosen),
            ];
            for (w, (how, aggregation)) in picks.into_iter().enumerate() {
                if vote(&answers, &per_attempt[i], how, aggregation) == truth {
                    wins[w] += 1;
                }
            }
            if correct[i][..m].iter().any(|&c| c) {
                wins[5] += 1;
            }
        }
        let t = idx.len().max(1) as f64;
        if level.is_none() {
            let chosen_column = 1 + StepAggregation::ALL
                .iter()
                .position(|&a| a == chosen)
                .unwrap_or(0);
            overall_votes = (wins[0], wins[chosen_column]);
        }
        writeln!(
            md,
            "| {} | {} |",
            level.map_or("all".to_string(), |l| l.to_string()),
            wins.iter()
                .map(|&w| pct(w as f64 / t))
                .collect::<Vec<_>>()
                .join(" | ")
        )?;
    }
    writeln!(md)?;

    // R.
    progress("R: revision chains");
    let steps = settings.revisions + 1;
    let per = settings.revision_chains;
    let right = revision_chains(r, &problems, steps, settings)?;
    writeln!(md, "## R: pass@1 at each revision step\n")?;
    writeln!(
        md,
        "{per} chains per problem, each sampled with its own draws: attempt 0 from the problem \
         alone, then each revision sees the {} most recent attempts of its chain. \
         pass@1 at a step is the share of chains whose attempt at that step is right. The last \
         columns count how often a revision turned a right answer wrong, and a wrong one \
         right, over all steps and chains.\n",
        settings.revision_context
    )?;
    write!(md, "| level |")?;
    for t in 0..steps {
        write!(md, " {t} |")?;
    }
    writeln!(md, " right→wrong | wrong→right |")?;
    writeln!(md, "| --- |{} ---: | ---: |", " ---: |".repeat(steps))?;
    for level in Level::ALL.iter().map(|l| Some(l.number())).chain([None]) {
        let idx = chain_rows(&by_level(level), per);
        write!(
            md,
            "| {} |",
            level.map_or("all".to_string(), |l| l.to_string())
        )?;
        for c in right_at(&right, &idx, steps) {
            write!(md, " {} |", pct(c as f64 / idx.len().max(1) as f64))?;
        }
        let rw: usize = turned(&right, &idx, steps, true).iter().sum();
        let wr: usize = turned(&right, &idx, steps, false).iter().sum();
        writeln!(md, " {rw} | {wr} |")?;
    }
    writeln!(md)?;
    // The targets the demo needs, each with its verdict.
    writeln!(md, "## Against the targets\n")?;
    let mark = |ok: bool| if ok { "met" } else { "**missed**" };
    let (s1, s5) = (greedy_s[0].accuracy(), greedy_s[4].accuracy());
    writeln!(
        md,
        "- S's greedy pass@1 spans the range (≥ 80% on level 1, ≤ 20% on level 5): {} and {}: {}.",
        pct(s1),
        pct(s5),
        mark(s1 >= 0.8 && s5 <= 0.2)
    )?;
    let margins: Vec<String> = greedy_s
        .iter()
        .zip(&greedy_l)
        .map(|(a, b)| format!("{:+.1}", 100.0 * (b.accuracy() - a.accuracy())))
        .collect();
    let l_wins = greedy_s
        .iter()
        .zip(&greedy_l)
        .all(|(a, b)| b.accuracy() > a.accuracy() || (a.solved == a.total && b.solved == b.total));
    writeln!(
        md,
        "- L beats S at greedy decoding on every level: L − S by level {} points: {}.",
        margins.join(", "),
        mark(l_wins)
    )?;
    writeln!(
        md,
        "- The PRM's step AUROC ≥ 0.85: {}: {}.",
        overall_auroc.map_or("n/a".into(), |a| format!("{a:.3}")),
        mark(overall_auroc.is_some_and(|a| a >= 0.85))
    )?;
    writeln!(
        md,
        "- PRM-weighted best-of-{m} (`{}`, chosen on the validation set) beats \
         majority-of-{m} overall: {} against {} problems solved: {}.",
        chosen.name(),
        overall_votes.1,
        overall_votes.0,
        mark(overall_votes.1 > overall_votes.0)
    )?;
    for level in [1u8, 2, 3] {
        let idx = chain_rows(&by_level(Some(level)), per);
        let curve = right_at(&right, &idx, steps.min(5));
        writeln!(
            md,
            "- R's pass@1 rises over the first 4 revisions on level {level}: right attempts at \
             steps 0..4 {curve:?} of {} chains: {}.",
            idx.len(),
            mark(curve.len() == 5 && curve[4] > curve[0])
        )?;
    }
    writeln!(
        md,
        "- All built-in files together ≤ 25 MB: {:.2} MB: {}.\n",
        total_bytes as f64 / 1e6,
        mark(total_bytes <= 25_000_000)
    )?;

    progress("pinned figures on the validation set");
    let pin = pinned(dir, settings)?;
    writeln!(md, "## Pinned figures (validation set)\n")?;
    writeln!(
        md,
        "Recomputed from the files by `crates/train/tests/builtin_models.rs`, which fails if a \
         file or the runtime changes them: greedy solves per level (of 20) for S and L, R's \
         right attempts at revision steps 0..{} (one chain per problem, of 100), and the PRM's \
         step AUROC on 4 samples of S per problem.\n",
        settings.revisions
    )?;
    writeln!(
        md,
        "{PINNED_BEGIN}\n{}\n{PINNED_END}\n",
        serde_json::to_string(&pin)?
    )?;
    writeln!(
        md,
        "Report generated in {:.0} s.",
        started.elapsed().as_secs_f64()
    )?;
    Ok(md)
}

/// `settings.revision_chains` revision chains for each problem, `steps` attempts long:
/// whether each attempt is right, one row per chain, problem by problem (problem `i`'s
/// chains are rows `i * revision_chains ..` of the result; [`chain_rows`] lists them).
/// Attempt 0 sees the problem alone; each revision sees the `settings.revision_context`
/// most recent. Chain 0 of a problem draws from the stream `(20, problem, step)`, chain
/// `c > 0` from `(20, problem, step, c)`, so a one-chain measurement is the first chain of
/// a longer one.
pub fn revision_chains(
    r: &mut Engine,
    problems: &[Problem],
    steps: usize,
    settings: &ReportSettings,
) -> anyhow::Result<Vec<Vec<bool>>> {
    let task = ArithmeticTask;
    let per_problem = settings.revision_chains;
    let rows: Vec<(usize, u64)> = (0..problems.len())
        .flat_map(|i| (0..per_problem as u64).map(move |c| (i, c)))
        .collect();
    let mut chains: Vec<Vec<String>> = vec![Vec::new(); rows.len()];
    // by_step[t][row]: whether that chain's attempt t is right.
    let mut by_step: Vec<Vec<bool>> = Vec::with_capacity(steps);
    for t in 0..steps {
        let jobs: Vec<Job> = rows
            .iter()
            .zip(&chains)
            .map(|(&(i, c), chain)| {
                let p = &problems[i];
                let from = chain.len().saturating_sub(settings.revision_context);
                let mut earlier: Vec<&str> = chain[from..].iter().map(String::as_str).collect();
                // Long wrong attempts may not all fit: drop the oldest until the prompt
                // leaves room for a step (as the training examples were cut).
                let mut prompt = task.revision_prompt(p, &earlier);
                while !earlier.is_empty()
                    && r.count_tokens(&prompt) + task.stop().max_tokens > r.context_length()
                {
                    earlier.remove(0);
                    prompt = task.revision_prompt(p, &earlier);
                }
                let draw = if c == 0 {
                    DrawKey::new(settings.seed, &[20, i as u64, t as u64])
                } else {
                    DrawKey::new(settings.seed, &[20, i as u64, t as u64, c])
                };
                Job { prompt, draw }
            })
            .collect();
        let attempts = sample(
            r,
            &jobs,
            &at_temperature(settings.temperature),
            64,
            16,
            &mut |_| {},
        )?;
        let mut right = Vec::with_capacity(rows.len());
        for ((a, chain), &(i, _)) in attempts.into_iter().zip(&mut chains).zip(&rows) {
            right.push(task.extract_answer(&a) == Some(problems[i].answer().to_string()));
            chain.push(a);
        }
        by_step.push(right);
    }
    Ok((0..rows.len())
        .map(|row| by_step.iter().map(|step| step[row]).collect())
        .collect())
}

/// The rows of [`revision_chains`]' result that belong to the problems `idx`, with
/// `per_problem` chains each.
pub fn chain_rows(idx: &[usize], per_problem: usize) -> Vec<usize> {
    idx.iter()
        .flat_map(|&i| i * per_problem..(i + 1) * per_problem)
        .collect()
}

/// For each revision step 0..`steps`, how many of the chains `idx` (rows of
/// [`revision_chains`]) hold a right attempt there.
pub fn right_at(right: &[Vec<bool>], idx: &[usize], steps: usize) -> Vec<usize> {
    (0..steps)
        .map(|t| idx.iter().filter(|&&i| right[i][t]).count())
        .collect()
}

/// For each revision 1..`steps` of the chains `idx` (rows of [`revision_chains`]), how many
/// turned an attempt that was right (`from` true) or wrong (`from` false) into the other.
pub fn turned(right: &[Vec<bool>], idx: &[usize], steps: usize, from: bool) -> Vec<usize> {
    (1..steps)
        .map(|t| {
            idx.iter()
                .filter(|&&i| right[i][t - 1] == from && right[i][t] != from)
                .count()
        })
        .collect()
}

/// Figures small enough to recompute in a test, on the validation set: greedy solves
/// per level of S and L, R's right attempts per revision step, and the PRM's step AUROC
/// on 4 samples of S per problem. The report records them; `tests/builtin_models.rs`
/// recomputes them from the files and compares.
#[derive(Clone, Debug, PartialEq, serde::Serialize, Deserialize)]
pub struct Pinned {
    pub s_greedy: Vec<usize>,
    pub l_greedy: Vec<usize>,
    pub r_right_by_step: Vec<usize>,
    pub prm_step_auroc: f64,
}

/// The marker lines around the pinned figures' JSON in the report.
pub const PINNED_BEGIN: &str = "```json pinned";
pub const PINNED_END: &str = "```";

pub fn pinned(dir: &Path, settings: &ReportSettings) -> anyhow::Result<Pinned> {
    let sets = shipped_sets().map_err(|e| anyhow::anyhow!("{e}"))?;
    let set = sets
        .iter()
        .find(|s| s.name == "validation")
        .ok_or_else(|| anyhow::anyhow!("the shipped validation set is missing"))?;
    let problems = set.problems().map_err(|e| anyhow::anyhow!("{e}"))?;
    let levelled: Vec<(Level, Problem)> = set
        .problems
        .iter()
        .map(|p| p.level)
        .zip(problems.clone())
        .collect();
    let solved = |e: &mut Engine| -> anyhow::Result<Vec<usize>> {
        Ok(greedy_pass_at_1(e, &levelled, 64, 16)?
            .iter()
            .map(|s| s.solved)
            .collect())
    };
    let s_greedy = solved(&mut load(dir, FILES[0].1)?)?;
    let l_greedy = solved(&mut load(dir, FILES[1].1)?)?;
    // The test recomputes these, so one chain per problem keeps it quick.
    let one_chain = ReportSettings {
        revision_chains: 1,
        ..settings.clone()
    };
    let right = revision_chains(
        &mut load(dir, FILES[2].1)?,
        &problems,
        settings.revisions + 1,
        &one_chain,
    )?;
    let r_right_by_step = (0..=settings.revisions)
        .map(|t| right.iter().filter(|r| r[t]).count())
        .collect();
    let mut s = load(dir, FILES[0].1)?;
    let mut prm = load(dir, FILES[3].1)?;
    let samples = sample_s(&mut s, &problems, 4, PINNED_STREAM, settings)?;
    let (mut scores, mut labels) = (Vec::new(), Vec::new());
    for (p, group) in problems.iter().zip(samples.chunks(4)) {
        let scored = step_scores(&mut prm, p, group)?;
        scores.extend(scored.scores);
        labels.extend(scored.labels);
    }
    Ok(Pinned {
        s_greedy,
        l_greedy,
        r_right_by_step,
        prm_step_auroc: auroc(&scores, &labels).unwrap_or(f64::NAN),
    })
}

/// What the PRM said about a problem's attempts.
pub struct StepScores {
    /// The score of every step line of every attempt, in order.
    pub scores: Vec<f32>,
    /// Whether that step and all before it are correct by the exact checker.
    pub labels: Vec<bool>,
    /// Every attempt's scores as the verifier returned them (its answer line's last).
    pub per_attempt: Vec<Vec<f32>>,
}

/// The draw streams of the report's samples of S: coverage and voting, the pinned PRM
/// figure.
const COVERAGE_STREAM: u64 = 10;
const PINNED_STREAM: u64 = 30;

/// `n` attempts of S at each problem, problem by problem, at the report's temperature:
/// sample `k` of problem `i` draws from (seed, stream, i, k), so a problem's first samples
/// are the same whatever `n` is.
fn sample_s(
    s: &mut Engine,
    problems: &[Problem],
    n: usize,
    stream: u64,
    settings: &ReportSettings,
) -> anyhow::Result<Vec<String>> {
    let task = ArithmeticTask;
    let jobs: Vec<Job> = problems
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            (0..n).map(move |k| Job {
                prompt: task.prompt(p),
                draw: DrawKey::new(settings.seed, &[stream, i as u64, k as u64]),
            })
        })
        .collect();
    Ok(sample(
        s,
        &jobs,
        &at_temperature(settings.temperature),
        64,
        16,
        &mut |_| {},
    )?)
}

/// The answer `how` selects from `answers`, each sample scored by `aggregation` of its
/// step scores.
fn vote(
    answers: &[Option<String>],
    step_scores: &[Vec<f32>],
    how: Selection,
    aggregation: StepAggregation,
) -> Option<String> {
    let ballots: Vec<Ballot<'_>> = answers
        .iter()
        .zip(step_scores)
        .map(|(a, steps)| Ballot {
            answer: a.as_deref(),
            score: match how {
                Selection::Majority => 0.0,
                _ => f64::from(aggregation.apply(steps)),
            },
        })
        .collect();
    select(&ballots, how).answer
}

/// Majority voting's and each aggregation's weighted-vote solves on a set, and the
/// aggregation chosen: the most solves, ties to the earlier in [`StepAggregation::ALL`].
pub struct AggregationChoice {
    pub majority: usize,
    pub weighted: Vec<(StepAggregation, usize)>,
    pub chosen: StepAggregation,
}

/// Samples `m` attempts of S per problem (the report's temperature and seed), scores them
/// with the PRM and counts what each selection solves.
pub fn choose_aggregation(
    s: &mut Engine,
    prm: &mut Engine,
    problems: &[Problem],
    m: usize,
    settings: &ReportSettings,
) -> anyhow::Result<AggregationChoice> {
    let task = ArithmeticTask;
    let samples = sample_s(s, problems, m, COVERAGE_STREAM, settings)?;
    let mut majority = 0;
    let mut weighted = vec![0usize; StepAggregation::ALL.len()];
    for (p, attempts) in problems.iter().zip(samples.chunks(m.max(1))) {
        let truth = Some(p.answer().to_string());
        let answers: Vec<Option<String>> =
            attempts.iter().map(|a| task.extract_answer(a)).collect();
        let scored = step_scores(prm, p, attempts)?;
        if vote(
            &answers,
            &scored.per_attempt,
            Selection::Majority,
            StepAggregation::Last,
        ) == truth
        {
            majority += 1;
        }
        for (w, &a) in weighted.iter_mut().zip(&StepAggregation::ALL) {
            if vote(&answers, &scored.per_attempt, Selection::Weighted, a) == truth {
                *w += 1;
            }
        }
    }
    let mut chosen = StepAggregation::ALL[0];
    let mut best = 0;
    for (&a, &w) in StepAggregation::ALL.iter().zip(&weighted) {
        if w > best {
            (chosen, best) = (a, w);
        }
    }
    Ok(AggregationChoice {
        majority,
        weighted: StepAggregation::ALL.iter().copied().zip(weighted).collect(),
        chosen,
    })
}

/// The PRM's scores of `attempts` at `problem`, with the exact checker's labels.
pub fn step_scores(
    prm: &mut Engine,
    problem: &Problem,
    attempts: &[String],
) -> anyhow::Result<StepScores> {
    let task = ArithmeticTask;
    let candidates: Vec<Vec<String>> = attempts
        .iter()
        .map(|a| {
            let (steps, answer) = split_attempt(a);
            steps
                .into_iter()
                .chain(answer)
                .map(|line| format!("{line}\n"))
                .collect()
        })
        .collect();
    let scored = prm.score(&task.question(problem), &candidates)?;
    let (mut scores, mut labels) = (Vec::new(), Vec::new());
    for (a, sc) in attempts.iter().zip(&scored) {
        let mut ok = true;
        for (k, step) in check_solution(problem, a).steps.iter().enumerate() {
            ok &= step.verdict.is_correct();
            if let Some(&score) = sc.get(k) {
                scores.push(score);
                labels.push(ok);
            }
        }
    }
    Ok(StepScores {
        scores,
        labels,
        per_attempt: scored,
    })
}

/// The pinned figures recorded in a report, if it has them.
pub fn read_pinned(report: &str) -> Option<Pinned> {
    let start = report.find(PINNED_BEGIN)? + PINNED_BEGIN.len();
    let rest = &report[start..];
    let end = rest.find(PINNED_END)?;
    serde_json::from_str(rest[..end].trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turned_counts_each_revision_that_changed_an_attempt() {
        // Chain 0: right, wrong, right. Chain 1: wrong, wrong, right. Chain 2 is left out.
        let right = vec![
            vec![true, false, true],
            vec![false, false, true],
            vec![true, false, false],
        ];
        assert_eq!(turned(&right, &[0, 1], 3, true), [1, 0]);
        assert_eq!(turned(&right, &[0, 1], 3, false), [0, 2]);
    }

    #[test]
    fn right_at_counts_the_chosen_chains_right_at_each_step() {
        let right = vec![
            vec![true, false, true],
            vec![false, false, true],
            vec![true, true, false],
        ];
        assert_eq!(right_at(&right, &[0, 1], 3), [1, 0, 2]);
        assert_eq!(right_at(&right, &[2], 2), [1, 1]);
        assert_eq!(right_at(&right, &[0, 1, 2], 0), [0usize; 0]);
    }

    #[test]
    fn chain_rows_are_each_chosen_problems_own_chains() {
        assert_eq!(chain_rows(&[0, 2], 3), [0, 1, 2, 6, 7, 8]);
        assert_eq!(chain_rows(&[1], 1), [1]);
        assert!(chain_rows(&[4], 0).is_empty());
    }

    #[test]
    fn pass_at_k_matches_counting_subsets() {
        // n = 5, c = 2, k = 2: 1 - C(3,2)/C(5,2) = 1 - 3/10.
        assert!((pass_at_k(5, 2, 2) - 0.7).abs() < 1e-12);
        assert_eq!(pass_at_k(5, 0, 3), 0.0);
        assert_eq!(pass_at_k(5, 4, 2), 1.0);
        assert!((pass_at_k(64, 16, 1) - 0.25).abs() < 1e-12);
    }
}
