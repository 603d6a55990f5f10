//! `ponder problems`: writes the built-in task's shipped problem sets (the held-out test
//! set and the validation set, `ponder_core::arithmetic::set`) as JSON files, or checks
//! that the files on disk are current.
//!
//! The files are a cache of a pure function of constants, so re-running the command
//! reproduces them byte for byte; `--check` is what CI or a reviewer runs after touching
//! the generator or the levels.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ponder_core::arithmetic::{shipped_sets, ProblemSet};
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// The folder to write `test.json` and `validation.json` into.
    #[arg(long, default_value = "public/problems")]
    out: PathBuf,
    /// Write nothing; fail if a file is missing or differs from what the generator
    /// produces now.
    #[arg(long)]
    check: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// A set's file contents: pretty-printed JSON with a final newline. The core's tests
/// compare the committed files against this same rendering.
pub fn render(set: &ProblemSet) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(set)
        .with_context(|| format!("cannot serialise the {} set", set.name))?;
    text.push('\n');
    Ok(text)
}

/// The file a set is written to under `out`.
pub fn file_for(out: &Path, set: &ProblemSet) -> PathBuf {
    out.join(format!("{}.json", set.name))
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let sets = shipped_sets().context("cannot generate the problem sets")?;
    if !args.check {
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("cannot create the folder {}", args.out.display()))?;
    }
    let mut report = Vec::new();
    let mut stale = Vec::new();
    for set in &sets {
        let path = file_for(&args.out, set);
        let text = render(set)?;
        let status = if args.check {
            match std::fs::read_to_string(&path) {
                Ok(found) if found == text => "current",
                Ok(_) => "stale",
                Err(_) => "missing",
            }
        } else {
            std::fs::write(&path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            "written"
        };
        if status == "stale" || status == "missing" {
            stale.push(path.display().to_string());
        }
        report.push((set, path, status));
    }
    if args.json {
        let rows: Vec<_> = report
            .iter()
            .map(|(set, path, status)| {
                json!({
                    "name": set.name,
                    "path": path.display().to_string(),
                    "problems": set.problems.len(),
                    "per_level": set.per_level,
                    "seed": set.seed,
                    "status": status,
                })
            })
            .collect();
        println!("{}", json!(rows));
    } else {
        for (set, path, status) in &report {
            println!(
                "{status:>8}  {}  ({} problems, {} per level, seed {})",
                path.display(),
                set.problems.len(),
                set.per_level,
                set.seed
            );
        }
    }
    anyhow::ensure!(
        stale.is_empty(),
        "{} not current; run `ponder problems --out {}` and commit the result",
        stale.join(", "),
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed files are exactly what the command writes now.
    #[test]
    fn committed_files_are_current() {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../public/problems");
        for set in shipped_sets().expect("the sets generate") {
            let path = file_for(&out, &set);
            let found = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            assert!(
                found == render(&set).expect("renders"),
                "{} is stale: run `cargo run -p ponder-cli -- problems --out public/problems`",
                path.display()
            );
        }
    }
}
