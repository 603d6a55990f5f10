//! Greedy pass@1 per difficulty level: each problem gets one greedy attempt, driven step
//! by step through `ponder_core`'s `Policy` (so the numbers are what the strategies see),
//! and the stated answer is checked exactly.

use ponder_core::arithmetic::{ArithmeticTask, Level, Problem};
use ponder_core::{DrawKey, Policy, Sampling, Task};

use crate::attempts::{sample, Job};

/// Solved and attempted problems of one level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelScore {
    pub level: u8,
    pub solved: usize,
    pub total: usize,
}

impl LevelScore {
    pub fn accuracy(&self) -> f64 {
        self.solved as f64 / self.total.max(1) as f64
    }
}

/// One greedy attempt per problem, `batch` problems decoded together, at most `max_steps`
/// lines per attempt.
pub fn greedy_pass_at_1<P: Policy>(
    policy: &mut P,
    problems: &[(Level, Problem)],
    batch: usize,
    max_steps: usize,
) -> Result<Vec<LevelScore>, P::Error> {
    let task = ArithmeticTask;
    let mut scores: Vec<LevelScore> = Level::ALL
        .iter()
        .map(|l| LevelScore {
            level: l.number(),
            solved: 0,
            total: 0,
        })
        .collect();
    let jobs: Vec<Job> = problems
        .iter()
        .enumerate()
        .map(|(i, (_, p))| Job {
            prompt: task.prompt(p),
            draw: DrawKey::new(0, &[i as u64]),
        })
        .collect();
    let attempts = sample(
        policy,
        &jobs,
        &Sampling::GREEDY,
        batch,
        max_steps,
        &mut |_| {},
    )?;
    for ((level, problem), attempt) in problems.iter().zip(&attempts) {
        let score = &mut scores[usize::from(level.number()) - 1];
        score.total += 1;
        if task.extract_answer(attempt) == Some(problem.answer().to_string()) {
            score.solved += 1;
        }
    }
    Ok(scores)
}
