//! `ponder run`: replays experiments from share links (or their query strings) on the
//! built-in models, one row per link, exactly as the page would run them.
//!
//! The policy is S, except for revision strategies (`revisions`, `mix`), which run the
//! revision model R as the paper does; the verifier is the PRM. Any of the three can be
//! replaced by another GGUF file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use ponder_core::arithmetic::{shipped_sets, ArithmeticTask, Problem, ProblemSet};
use ponder_core::prefixed::Prefixed;
use ponder_core::spec::{Comparison, ExperimentSpec, PolicyRole, ProblemChoice};
use ponder_core::strategy::{Context, Outcome};
use ponder_model::{Engine, LanguageModel};
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// Share links, or their query strings (`v=1&strategy=beam&seed=7&n=16`); a Compare
    /// view link (`left.strategy=…&right.strategy=…`) runs both columns.
    #[arg(required = true)]
    links: Vec<String>,
    /// The problem set the links' `problem` index points into.
    #[arg(long, default_value = "test")]
    set: String,
    /// The policy model (default: the built-in S).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The revision model for `revisions` and `mix` (default: the built-in R).
    #[arg(long)]
    reviser: Option<PathBuf>,
    /// The larger sibling, for links with `model=l` (default: the built-in L; loaded only
    /// when a link asks for it).
    #[arg(long)]
    large: Option<PathBuf>,
    /// The file of a link's own model (`model=own`, named by its `own_model`), prompted
    /// with worked examples as the page prompts it.
    #[arg(long)]
    own: Option<PathBuf>,
    /// The process reward model (default: the built-in PRM).
    #[arg(long)]
    verifier: Option<PathBuf>,
    /// Print one JSON object per link instead of the table.
    #[arg(long)]
    json: bool,
}

/// The folder of the built-in models (`public/models`, found from the working folder or
/// the source tree).
pub fn builtin_dir() -> PathBuf {
    let here = PathBuf::from("public/models");
    if here.is_dir() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../public/models")
}

/// Loads a GGUF model file into an engine, with the path in any error.
pub fn engine(path: &Path) -> anyhow::Result<Engine> {
    let bytes = crate::read_model(path)?;
    let model = LanguageModel::from_gguf_bytes(&bytes)
        .with_context(|| format!("cannot load {}", path.display()))?;
    Ok(Engine::new(model))
}

/// The query string of a link: everything after `?` (and before `#`), or the text itself.
pub fn query_of(link: &str) -> &str {
    let after = link.split_once('?').map_or(link, |(_, q)| q);
    after.split_once('#').map_or(after, |(q, _)| q)
}

/// A shipped problem set by name, and its parsed problems.
pub fn shipped_set(name: &str) -> anyhow::Result<(ProblemSet, Vec<Problem>)> {
    let sets = shipped_sets().map_err(|e| anyhow::anyhow!("{e}"))?;
    let names: Vec<String> = sets.iter().map(|s| s.name.clone()).collect();
    let found = sets.into_iter().find(|s| s.name == name).with_context(|| {
        format!("no problem set named {name:?}; the shipped sets are {names:?}")
    })?;
    let problems = found.problems().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((found, problems))
}

/// S, R and the PRM from the built-in folder.
pub fn builtin_engines() -> anyhow::Result<(Engine, Engine, Engine)> {
    let dir = builtin_dir();
    Ok((
        engine(&dir.join("ponder-s.gguf"))?,
        engine(&dir.join("ponder-r.gguf"))?,
        engine(&dir.join("ponder-prm.gguf"))?,
    ))
}

/// A shipped set by name, its problems, and the indices [`choose`] picks from it; an
/// error when none match.
pub fn chosen_problems(
    set: &str,
    levels: &[u8],
    per_level: usize,
) -> anyhow::Result<(ProblemSet, Vec<Problem>, Vec<usize>)> {
    let (set, problems) = shipped_set(set)?;
    let chosen = ponder_core::sweep::choose(&set, levels, per_level);
    anyhow::ensure!(
        !chosen.is_empty(),
        "no problems match --levels and --per-level"
    );
    Ok((set, problems, chosen))
}

/// Runs one spec on its problem. Revision strategies use `reviser`, the rest `policy`:
/// the base model the caller loaded for the spec (S, or L or a model of the visitor's own
/// where the spec asks for it).
pub fn run_spec<P: ponder_core::Policy>(
    spec: &ExperimentSpec,
    problem: &Problem,
    policy: &mut P,
    reviser: &mut P,
    verifier: &mut Engine,
) -> anyhow::Result<Outcome> {
    let task = ArithmeticTask;
    let policy = match spec.policy_role() {
        PolicyRole::Reviser => reviser,
        PolicyRole::Base | PolicyRole::Large | PolicyRole::Own => policy,
    };
    let mut ctx = Context::new(policy, verifier, &task, problem).with_max_batch(64);
    spec.run(&mut ctx).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The problem a link names: the set's problem at its index, or the link's own (`q=`).
pub fn linked_problem(
    choice: &ProblemChoice,
    problems: &[Problem],
    set: &str,
) -> anyhow::Result<Problem> {
    match choice {
        ProblemChoice::Set(index) => problems.get(*index as usize).cloned().with_context(|| {
            format!(
                "problem={index} is past the end of the {set} set ({} problems, numbered from 0)",
                problems.len()
            )
        }),
        ProblemChoice::Custom(text) => {
            Problem::parse(text).with_context(|| format!("the link's problem q={text:?}"))
        }
    }
}

/// The link of one row: its column's spec as a one-column link, with the link's typed
/// problem (`q=`) and own model (`own_model=`) when it had them, so that running the row's
/// link replays the row.
pub fn row_link(spec: &ExperimentSpec, link: &Comparison) -> String {
    Comparison {
        left: *spec,
        right: None,
        custom: link.custom.clone(),
        own_model: link.own_model.clone(),
    }
    .to_query()
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let dir = builtin_dir();
    let path = |given: &Option<PathBuf>, file: &str| given.clone().unwrap_or(dir.join(file));
    let mut policy = engine(&path(&args.policy, "ponder-s.gguf"))?;
    let mut reviser = engine(&path(&args.reviser, "ponder-r.gguf"))?;
    let mut verifier = engine(&path(&args.verifier, "ponder-prm.gguf"))?;
    let mut large: Option<Engine> = None;
    let mut own: Option<Engine> = None;
    let few_shot =
        ponder_core::arithmetic::few_shot::examples(ponder_core::arithmetic::few_shot::EXAMPLES)
            .map_err(|e| anyhow::anyhow!("the few-shot examples: {e}"))?;
    let (_, problems) = shipped_set(&args.set)?;
    let mut rows = Vec::new();
    for link in &args.links {
        // A Compare view link holds two columns; any other link is one spec.
        let (comparison, warnings) = Comparison::from_query(query_of(link));
        for w in &warnings {
            eprintln!("warning: {link}: {w}");
        }
        let problem = linked_problem(&comparison.problem(), &problems, &args.set)
            .with_context(|| link.clone())?;
        let columns: Vec<(Option<&str>, ExperimentSpec)> = match comparison.right {
            None => vec![(None, comparison.left)],
            Some(right) => vec![(Some("left"), comparison.left), (Some("right"), right)],
        };
        for (column, spec) in columns {
            let (base, prefix) = match spec.policy_role() {
                PolicyRole::Large => {
                    if large.is_none() {
                        large = Some(engine(&path(&args.large, "ponder-l.gguf"))?);
                    }
                    (large.as_mut().context("L was just loaded")?, String::new())
                }
                PolicyRole::Own => {
                    if own.is_none() {
                        let file =
                            args.own.as_ref().with_context(|| {
                                format!(
                                "{link}: a column runs a model of your own ({}); pass its file \
                                 with --own PATH",
                                comparison.own_model.as_deref().unwrap_or("own_model is not set")
                            )
                            })?;
                        own = Some(engine(file)?);
                    }
                    (
                        own.as_mut().context("the model was just loaded")?,
                        few_shot.clone(),
                    )
                }
                PolicyRole::Base | PolicyRole::Reviser => (&mut policy, String::new()),
            };
            let mut base = Prefixed::new(base, prefix);
            let mut revising = Prefixed::new(&mut reviser, String::new());
            let started = Instant::now();
            let outcome = run_spec(&spec, &problem, &mut base, &mut revising, &mut verifier)
                .with_context(|| format!("running {link}"))?;
            let seconds = started.elapsed().as_secs_f64();
            let truth = problem.answer().to_string();
            let correct = outcome.answer.as_deref() == Some(truth.as_str());
            if args.json {
                let mut row = json!({
                    "link": row_link(&spec, &comparison),
                    "problem": spec.problem,
                    "problem_text": problem.text(),
                    "truth": truth,
                    "answer": outcome.answer,
                    "correct": correct,
                    "votes": outcome.votes,
                    "compute": outcome.compute,
                    "flops": outcome.compute.flops(),
                    "seconds": seconds,
                    "outcome": outcome,
                });
                if let Some(column) = column {
                    row["column"] = json!(column);
                }
                println!("{row}");
            }
            rows.push((
                spec,
                row_link(&spec, &comparison),
                problem.text().to_string(),
                truth,
                outcome,
                correct,
                seconds,
            ));
        }
    }
    if !args.json {
        println!(
            "{:<12} {:>5} {:>5} {:<24} {:>8} {:>8} {:>7} {:>7} {:>8} {:>10} {:>6}",
            "strategy",
            "n",
            "prob",
            "problem",
            "truth",
            "answer",
            "right",
            "gens",
            "tokens",
            "FLOPs",
            "s"
        );
        for (spec, _, text, truth, outcome, correct, seconds) in &rows {
            let c = &outcome.compute;
            println!(
                "{:<12} {:>5} {:>5} {:<24} {:>8} {:>8} {:>7} {:>7} {:>8} {:>10.3e} {:>6.1}",
                spec.strategy.name(),
                spec.n,
                spec.problem,
                text,
                truth,
                outcome.answer.as_deref().unwrap_or("-"),
                if *correct { "yes" } else { "no" },
                c.generations,
                c.policy_tokens + c.verifier_tokens,
                c.flops(),
                seconds
            );
        }
        for (_, link, _, _, outcome, _, _) in &rows {
            let votes: Vec<String> = outcome
                .votes
                .iter()
                .take(5)
                .map(|v| format!("{}×{} ({:.2})", v.answer, v.count, v.weight))
                .collect();
            println!("{link}: votes {}", votes.join(", "));
        }
    }
    Ok(())
}
