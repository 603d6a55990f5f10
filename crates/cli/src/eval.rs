//! `ponder eval`: one experiment spec over a whole problem set: accuracy per difficulty
//! level and the compute it spent, with a progress bar. Problem `i` runs as the link's
//! spec with `problem=i`, so any row can be replayed alone with `ponder run`.

use std::io::Write;
use std::time::Instant;

use anyhow::Context as _;

use ponder_core::prefixed::Prefixed;
use ponder_core::progress;
use ponder_core::spec::ExperimentSpec;
use serde_json::json;

use crate::run::{builtin_engines, chosen_problems, query_of, run_spec};

#[derive(clap::Args)]
pub struct Args {
    /// A share link or its query string; its `problem` is ignored.
    link: String,
    /// The problem set.
    #[arg(long, default_value = "test")]
    set: String,
    /// Only these levels (for example `--levels 1,2`).
    #[arg(long, value_delimiter = ',')]
    levels: Vec<u8>,
    /// At most this many problems per level (0: all).
    #[arg(long, default_value_t = 0)]
    per_level: usize,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// The policy model for the parallel strategies (default: the built-in S), for
    /// example a general model such as SmolLM2 with `--few-shot`.
    #[arg(long)]
    policy: Option<std::path::PathBuf>,
    /// Put this many worked examples before every prompt of the policy
    /// (`arithmetic::few_shot`), for a model not trained on the task's format.
    #[arg(long, default_value_t = 0)]
    few_shot: usize,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let decoded = ExperimentSpec::from_query(query_of(&args.link));
    for w in &decoded.warnings {
        eprintln!("warning: {w}");
    }
    let spec = decoded.spec;
    let (set, problems, chosen) = chosen_problems(&args.set, &args.levels, args.per_level)?;
    let (builtin, reviser, mut verifier) = builtin_engines()?;
    let policy = match &args.policy {
        Some(path) => crate::run::engine(path)?,
        None => builtin,
    };
    anyhow::ensure!(
        args.few_shot == 0 || !spec.strategy.revises(),
        "--few-shot prompts the policy of the parallel strategies; {} runs the revision model R",
        spec.strategy.name()
    );
    let prefix = ponder_core::arithmetic::few_shot::examples(args.few_shot)
        .map_err(|e| anyhow::anyhow!("the few-shot examples: {e}"))?;
    let mut policy = Prefixed::new(policy, prefix);
    let mut reviser = Prefixed::new(reviser, String::new());
    let started = Instant::now();
    // Per level: (solved, total); and the summed compute.
    let mut by_level = std::collections::BTreeMap::<u8, (usize, usize)>::new();
    let (mut generations, mut tokens, mut flops) = (0u64, 0u64, 0f64);
    let mut rows = Vec::new();
    for (done, &i) in chosen.iter().enumerate() {
        let mut s = spec;
        s.problem = i as u64;
        let outcome = run_spec(&s, &problems[i], &mut policy, &mut reviser, &mut verifier)
            .with_context(|| format!("problem {i} of the {} set", args.set))?;
        let right = outcome.answer.as_deref() == Some(problems[i].answer().to_string().as_str());
        let entry = by_level
            .entry(set.problems[i].level.number())
            .or_insert((0, 0));
        entry.0 += usize::from(right);
        entry.1 += 1;
        generations += outcome.compute.generations;
        tokens += outcome.compute.policy_tokens + outcome.compute.verifier_tokens;
        flops += outcome.compute.flops();
        rows.push(json!({"problem": i, "answer": outcome.answer, "correct": right}));
        eprint!(
            "\r[{:>3}%] {}/{} problems  {}   ",
            (done + 1) * 100 / chosen.len(),
            done + 1,
            chosen.len(),
            progress::timing(
                started.elapsed().as_secs_f64(),
                done as u64 + 1,
                chosen.len() as u64
            )
        );
        let _ = std::io::stderr().flush();
    }
    eprintln!();
    let total: usize = by_level.values().map(|v| v.1).sum();
    let solved: usize = by_level.values().map(|v| v.0).sum();
    if args.json {
        println!(
            "{}",
            json!({
                "link": spec.to_query(),
                "set": args.set,
                "by_level": by_level.iter().map(|(l, (s, t))| json!({"level": l, "solved": s, "total": t})).collect::<Vec<_>>(),
                "accuracy": solved as f64 / total as f64,
                "mean_generations": generations as f64 / total as f64,
                "mean_tokens": tokens as f64 / total as f64,
                "mean_flops": flops / total as f64,
                "seconds": started.elapsed().as_secs_f64(),
                "problems": rows,
            })
        );
        return Ok(());
    }
    println!("{} on the {} set", spec.to_query(), args.set);
    println!("{:>6} {:>8} {:>9}", "level", "solved", "accuracy");
    for (level, (s, t)) in &by_level {
        println!(
            "{level:>6} {:>8} {:>8.1}%",
            format!("{s}/{t}"),
            100.0 * *s as f64 / *t as f64
        );
    }
    println!(
        "{:>6} {:>8} {:>8.1}%",
        "all",
        format!("{solved}/{total}"),
        100.0 * solved as f64 / total as f64
    );
    println!(
        "per problem: {:.1} generations, {:.0} tokens, {:.3e} FLOPs; {:.0} s in all",
        generations as f64 / total as f64,
        tokens as f64 / total as f64,
        flops / total as f64,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
