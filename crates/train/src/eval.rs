//! Greedy pass@1 per difficulty level: each problem gets one greedy attempt, driven step
//! by step through `ponder_core`'s `Policy` (so the numbers are what the strategies see),
//! and the stated answer is checked exactly.

use ponder_core::arithmetic::{ArithmeticTask, Level, Problem};
use ponder_core::{DrawKey, Finish, Policy, Sampling, StepRequest, Task};

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
    let stop = task.stop();
    let mut scores: Vec<LevelScore> = Level::ALL
        .iter()
        .map(|l| LevelScore {
            level: l.number(),
            solved: 0,
            total: 0,
        })
        .collect();
    for chunk in problems.chunks(batch.max(1)) {
        let mut seqs = Vec::with_capacity(chunk.len());
        for (_, p) in chunk {
            seqs.push(policy.start(&task.prompt(p))?);
        }
        let mut attempts = vec![String::new(); chunk.len()];
        let mut open: Vec<usize> = (0..chunk.len()).collect();
        for _ in 0..max_steps {
            if open.is_empty() {
                break;
            }
            let requests: Vec<StepRequest> = open
                .iter()
                .map(|&i| StepRequest {
                    seq: seqs[i],
                    draw: DrawKey::new(0, &[i as u64]),
                })
                .collect();
            let outputs = policy.step(&requests, &Sampling::GREEDY, &stop, &mut |_, _| {})?;
            let mut still = Vec::new();
            for (&i, out) in open.iter().zip(outputs) {
                attempts[i].push_str(&out.text);
                if out.finish == Finish::StepEnd {
                    still.push(i);
                }
            }
            open = still;
        }
        for ((level, problem), (seq, attempt)) in chunk.iter().zip(seqs.into_iter().zip(&attempts))
        {
            policy.release(seq);
            let score = &mut scores[usize::from(level.number()) - 1];
            score.total += 1;
            if task.extract_answer(attempt) == Some(problem.answer().to_string()) {
                score.solved += 1;
            }
        }
    }
    Ok(scores)
}
