//! Sampling whole attempts step by step, shared by the strategies that need complete
//! answers (majority voting, best-of-N, revisions).

use crate::path::Path;
use crate::policy::{Policy, SeqId};
use crate::task::Task;
use crate::verifier::Verifier;

use super::run::{Run, StepItem};
use super::{Candidate, StrategyError};

/// An attempt in progress: its sequence and what it has generated so far.
pub(crate) struct Attempt {
    pub seq: SeqId,
    pub candidate: Candidate,
}

/// Runs every attempt to its end, one step per call for all live attempts together, at
/// most `max_steps` steps each; the last allowed step runs to the end of the attempt, so
/// every attempt gets the chance to answer (as search-and-learn's last iteration does).
/// Each attempt draws from its own path's key throughout: its tokens are told apart by
/// position, so sampling step by step gives the same text as sampling it in one go.
pub(crate) async fn finish_attempts<P: Policy, V: Verifier, T: Task>(
    run: &mut Run<'_, '_, P, V, T>,
    mut attempts: Vec<Attempt>,
    max_steps: usize,
) -> Result<Vec<Candidate>, StrategyError> {
    let max_steps = max_steps.max(1);
    let sampling = run.sampling();
    for step in 0..max_steps {
        let live: Vec<usize> = (0..attempts.len())
            .filter(|&i| !attempts[i].candidate.is_finished())
            .collect();
        if live.is_empty() {
            break;
        }
        let items: Vec<StepItem<'_>> = live
            .iter()
            .map(|&i| StepItem {
                seq: attempts[i].seq,
                path: &attempts[i].candidate.path,
                step,
                draw: run.key(&attempts[i].candidate.path),
            })
            .collect();
        let outputs = run
            .step(&items, sampling, step + 1 == max_steps, true)
            .await?;
        for (&i, out) in live.iter().zip(outputs) {
            let c = &mut attempts[i].candidate;
            c.steps.push(out.text);
            c.step_tokens.push(out.tokens);
            c.finish = out.finish;
        }
    }
    let mut done = Vec::with_capacity(attempts.len());
    for Attempt { seq, mut candidate } in attempts {
        run.finish_attempt(&mut candidate, seq);
        done.push(candidate);
    }
    Ok(done)
}

/// `n` independent attempts from `prompt` at paths `[0]..[n)`: the prompt is read once
/// and forked, so its prefill is shared.
pub(crate) async fn sample_parallel<P: Policy, V: Verifier, T: Task>(
    run: &mut Run<'_, '_, P, V, T>,
    prompt: &str,
    n: usize,
    max_steps: usize,
) -> Result<Vec<Candidate>, StrategyError> {
    let root = run.start(&Path::root(), prompt)?;
    let mut attempts = Vec::with_capacity(n);
    for i in 0..n {
        let seq = run.fork(root)?;
        attempts.push(Attempt {
            seq,
            candidate: Candidate::new(Path::root().child(i as u32)),
        });
    }
    run.release(root);
    finish_attempts(run, attempts, max_steps).await
}
