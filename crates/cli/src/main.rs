//! `ponder`: Ponder's command line, for people who bring their own model and for checking
//! what the browser shows.
//!
//! - `ponder inspect MODEL`: architecture, sizes, tensor types, tokenizer, chat template;
//! - `ponder tokenize MODEL TEXT`: token ids and pieces;
//! - `ponder generate MODEL PROMPT`: greedy or sampled text, streamed, with tokens/s;
//! - `ponder bench MODEL`: load time, prefill and decode speed, peak memory;
//!   `ponder bench --strategies`: each strategy's speed on the built-in models;
//! - `ponder problems`: (re)writes the shipped arithmetic problem sets in `public/problems`;
//! - `ponder run LINK...`: replays experiments from share links on the built-in models;
//! - `ponder eval LINK`: one experiment over a whole problem set, accuracy per level;
//! - `ponder sweep`: problem set × budgets × strategies × seeds, CSV, JSON and SVG out.
//!
//! Every command but `sweep` and `figures` (which write their own files) takes `--json`
//! for machine-readable output.

mod bench;
mod eval;
mod figures;
mod generate;
mod inspect;
mod problems;
mod run;
mod strategy_bench;
mod sweep;
mod tokenize;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ponder",
    version,
    about = "Inspect, tokenize, run and benchmark GGUF language models; write Ponder's problem sets"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show a model's architecture, sizes, tensor types, tokenizer and chat template.
    Inspect(inspect::Args),
    /// Show the token ids and pieces of a text.
    Tokenize(tokenize::Args),
    /// Generate text from a prompt.
    Generate(generate::Args),
    /// Measure load time, prefill and decode speed, and peak memory; or, with
    /// `--strategies`, each strategy's speed on the built-in models.
    Bench(bench::Args),
    /// Write the built-in task's held-out test and validation problem sets.
    Problems(problems::Args),
    /// Replay experiments from share links on the built-in models.
    Run(run::Args),
    /// Run one experiment over a problem set: accuracy per level and compute spent.
    Eval(eval::Args),
    /// Sweep strategies and budgets over a problem set and several seeds.
    Sweep(sweep::Args),
    /// Reproduce the paper's figures on the built-in models and write RESULTS.md.
    Figures(figures::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::Tokenize(args) => tokenize::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Problems(args) => problems::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Figures(args) => figures::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Reads a model file, with the path in any error.
pub fn read_model(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read the model file {}", path.display()))
}

/// The model argument every command takes.
#[derive(clap::Args)]
pub struct ModelArg {
    /// A GGUF file (llama or qwen2 family).
    pub model: PathBuf,
}
