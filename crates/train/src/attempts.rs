//! Whole attempts sampled from a policy, many at once: what evaluation, the revision
//! model's data and the PRM's Monte-Carlo labels are all made of.
//!
//! Driven step by step through `ponder_core`'s `Policy`, exactly as the strategies drive
//! a model, so the attempts are the ones the demo would see.

use ponder_core::arithmetic::ArithmeticTask;
use ponder_core::{DrawKey, Finish, Policy, Sampling, StepRequest, Task};

/// One attempt to sample: continue `prompt` (which may already hold some steps) until
/// the answer line, drawing from `draw`.
#[derive(Clone, Debug)]
pub struct Job {
    pub prompt: String,
    pub draw: DrawKey,
}

/// The continuation of each job (steps and answer line, without the prompt), in order.
/// `batch` sequences are decoded together; an attempt stops after `max_steps` lines.
/// `progress(done)` is called after each batch.
pub fn sample<P: Policy>(
    policy: &mut P,
    jobs: &[Job],
    sampling: &Sampling,
    batch: usize,
    max_steps: usize,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<String>, P::Error> {
    let stop = ArithmeticTask.stop();
    let mut texts = Vec::with_capacity(jobs.len());
    for chunk in jobs.chunks(batch.max(1)) {
        let mut seqs = Vec::with_capacity(chunk.len());
        for job in chunk {
            seqs.push(policy.start(&job.prompt)?);
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
                    draw: chunk[i].draw,
                })
                .collect();
            let outputs = policy.step(&requests, sampling, &stop, &mut |_, _| {})?;
            let mut still = Vec::new();
            for (&i, out) in open.iter().zip(outputs) {
                attempts[i].push_str(&out.text);
                if out.finish == Finish::StepEnd {
                    still.push(i);
                }
            }
            open = still;
        }
        for seq in seqs {
            policy.release(seq);
        }
        texts.extend(attempts);
        progress(texts.len());
    }
    Ok(texts)
}

/// Sampling as the training data uses it: the full distribution at temperature `t`.
pub fn at_temperature(t: f32) -> Sampling {
    Sampling {
        temperature: t,
        top_k: 0,
        top_p: 1.0,
    }
}
