//! `ponder bench --strategies`: how fast each test-time compute strategy runs on the
//! built-in models at one budget, on this machine: seconds per problem, generations,
//! policy and verifier tokens per second, and FLOPs per second (the paper's 2 × parameters
//! × tokens). The page's progress estimates and a teacher's "how long will this take" come
//! from these figures; the model-only benchmark (`ponder bench MODEL`) cannot give them,
//! because strategies differ in how many sequences they decode together and how often they
//! call the verifier.
//!
//! Every strategy runs the same problems (the first `--per-level` of each level of a
//! shipped set) with the same seed, so the rows compare like with like. Lookahead is given
//! N = budget / (k + 1) beams so that its nominal cost equals the budget.

use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use ponder_core::progress;
use ponder_core::spec::{ExperimentSpec, StrategyKind};
use ponder_core::Compute;
use serde::Serialize;

use crate::run::{builtin_engines, chosen_problems, run_spec};
use ponder_core::sweep::spec_at_budget;

/// What one strategy measured over the benchmark's problems.
#[derive(Clone, Debug, Serialize)]
pub struct StrategyRow {
    pub strategy: String,
    /// The nominal budget in generations.
    pub budget: u64,
    pub problems: usize,
    pub correct: usize,
    pub seconds: f64,
    pub compute: Compute,
}

impl StrategyRow {
    pub fn seconds_per_problem(&self) -> f64 {
        self.seconds / self.problems.max(1) as f64
    }

    fn per_second(&self, amount: f64) -> f64 {
        if self.seconds > 0.0 {
            amount / self.seconds
        } else {
            0.0
        }
    }

    pub fn policy_tokens_per_second(&self) -> f64 {
        self.per_second(self.compute.policy_tokens as f64)
    }

    pub fn verifier_tokens_per_second(&self) -> f64 {
        self.per_second(self.compute.verifier_tokens as f64)
    }

    pub fn flops_per_second(&self) -> f64 {
        self.per_second(self.compute.flops())
    }
}

/// What to measure, and where the results go.
pub struct Settings<'a> {
    /// The nominal budget in generations.
    pub budget: u32,
    /// The shipped problem set.
    pub set: &'a str,
    /// Problems per level.
    pub per_level: usize,
    pub seed: u64,
    /// Print the rows as JSON instead of the table.
    pub json: bool,
    /// Also write the rows as JSON to this file.
    pub out: Option<&'a Path>,
}

/// Runs every strategy at the budget over the chosen problems and prints the table (or the
/// rows as JSON).
pub fn run(settings: &Settings<'_>) -> anyhow::Result<()> {
    let Settings {
        budget,
        set,
        per_level,
        seed,
        json,
        out,
    } = *settings;
    anyhow::ensure!(budget > 0, "--budget must be at least 1");
    let (_, problems, chosen) = chosen_problems(set, &[], per_level)?;
    let (mut policy, mut reviser, mut verifier) = builtin_engines()?;
    // One untimed run first, so the first row does not pay for page faults and the
    // allocator's growth.
    let warm_up = spec_at_budget(
        &ExperimentSpec::default(),
        StrategyKind::BestOfN,
        budget,
        seed,
        chosen[0] as u64,
    );
    run_spec(
        &warm_up,
        &problems[chosen[0]],
        &mut policy,
        &mut reviser,
        &mut verifier,
    )?;
    let started = Instant::now();
    let mut rows = Vec::new();
    for (k, &kind) in StrategyKind::ALL.iter().enumerate() {
        let mut row = StrategyRow {
            strategy: kind.name().to_string(),
            budget: 0,
            problems: 0,
            correct: 0,
            seconds: 0.0,
            compute: Compute::default(),
        };
        for (j, &i) in chosen.iter().enumerate() {
            // Rough: the strategies differ in cost, and every (strategy, problem) counts one.
            eprint!(
                "\rbench: {} ({}/{}), problem {}/{}; {}   ",
                kind.name(),
                k + 1,
                StrategyKind::ALL.len(),
                j + 1,
                chosen.len(),
                progress::timing(
                    started.elapsed().as_secs_f64(),
                    (k * chosen.len() + j) as u64,
                    (StrategyKind::ALL.len() * chosen.len()) as u64
                )
            );
            let _ = std::io::stderr().flush();
            let spec = spec_at_budget(&ExperimentSpec::default(), kind, budget, seed, i as u64);
            row.budget = spec.strategy().generations().unwrap_or(u64::from(budget));
            let t0 = Instant::now();
            let outcome = run_spec(
                &spec,
                &problems[i],
                &mut policy,
                &mut reviser,
                &mut verifier,
            )
            .map_err(|e| e.context(format!("{} on problem {i}", kind.name())))?;
            row.seconds += t0.elapsed().as_secs_f64();
            row.problems += 1;
            let truth = problems[i].answer().to_string();
            row.correct += usize::from(outcome.answer.as_deref() == Some(truth.as_str()));
            row.compute = row.compute.plus(&outcome.compute);
        }
        rows.push(row);
    }
    eprintln!();
    let rows_json = serde_json::to_string(&rows)?;
    if let Some(path) = out {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(path, &rows_json)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if json {
        println!("{rows_json}");
        return Ok(());
    }
    println!(
        "{} problems of the {set} set ({per_level} per level), seed {seed}, budget {budget} generations",
        chosen.len()
    );
    println!(
        "{:<10} {:>6} {:>10} {:>8} {:>13} {:>14} {:>9} {:>6}",
        "strategy",
        "budget",
        "s/problem",
        "gens/s",
        "policy tok/s",
        "verifier tok/s",
        "GFLOP/s",
        "right"
    );
    for r in &rows {
        println!(
            "{:<10} {:>6} {:>10.2} {:>8.1} {:>13.0} {:>14.0} {:>9.2} {:>3}/{}",
            r.strategy,
            r.budget,
            r.seconds_per_problem(),
            r.per_second(r.compute.generations as f64),
            r.policy_tokens_per_second(),
            r.verifier_tokens_per_second(),
            r.flops_per_second() / 1e9,
            r.correct,
            r.problems
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookahead_is_given_the_beams_its_budget_buys() {
        let spec = spec_at_budget(
            &ExperimentSpec::default(),
            StrategyKind::Lookahead,
            16,
            1,
            0,
        );
        assert_eq!(spec.strategy().generations().ok(), Some(16));
        let spec = spec_at_budget(&ExperimentSpec::default(), StrategyKind::Beam, 16, 1, 0);
        assert_eq!(spec.n, 16);
    }

    #[test]
    fn rates_divide_by_the_time_measured() {
        let row = StrategyRow {
            strategy: "beam".into(),
            budget: 16,
            problems: 4,
            correct: 1,
            seconds: 2.0,
            compute: Compute {
                generations: 64,
                policy_tokens: 1000,
                verifier_tokens: 500,
                policy_parameters: 1_000_000,
                verifier_parameters: 100_000,
                ..Compute::default()
            },
        };
        assert_eq!(row.seconds_per_problem(), 0.5);
        assert_eq!(row.policy_tokens_per_second(), 500.0);
        assert_eq!(row.verifier_tokens_per_second(), 250.0);
        // 2 × (1e6 × 1000 + 1e5 × 500) FLOPs over 2 s.
        assert_eq!(row.flops_per_second(), 1.05e9);
    }
}
