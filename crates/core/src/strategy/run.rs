//! The bookkeeping every strategy shares: calling the models, checking that they keep
//! their contracts, counting compute and emitting events, so each strategy file holds
//! only its algorithm.

use crate::accounting::Compute;
use crate::draw::DrawKey;
use crate::event::Event;
use crate::path::Path;
use crate::policy::{Policy, Sampling, SeqId, StepOutput, StepRequest, StopSpec};
use crate::task::Task;
use crate::verifier::Verifier;

use super::aggregate::StepAggregation;
use super::vote::{self, Ballot, Selected, Selection};
use super::{root_key, Candidate, Context, StrategyError};

/// Steps' worth of tokens a step run to the end of its attempt may take: twice the lines
/// of the longest attempt the arithmetic levels need (7 steps and the answer).
pub const TO_END_STEPS: usize = 16;

/// One sequence to continue by a step.
pub(crate) struct StepItem<'p> {
    pub seq: SeqId,
    pub path: &'p Path,
    /// The step's index within its sequence's attempt (for events).
    pub step: usize,
    pub draw: DrawKey,
}

pub(crate) struct Run<'r, 'a, P: Policy, V: Verifier, T: Task> {
    pub ctx: &'r mut Context<'a, P, V, T>,
    pub compute: Compute,
    root: DrawKey,
    stop: StopSpec,
    question: Option<String>,
    /// Sequences started or forked and not yet released. Whatever is left when the run
    /// ends (a strategy that stopped on an error) is released then, so a failed run does
    /// not keep its KV caches in the engine.
    live: Vec<SeqId>,
}

impl<P: Policy, V: Verifier, T: Task> Drop for Run<'_, '_, P, V, T> {
    fn drop(&mut self) {
        for seq in std::mem::take(&mut self.live) {
            self.ctx.policy.release(seq);
        }
    }
}

impl<'r, 'a, P: Policy, V: Verifier, T: Task> Run<'r, 'a, P, V, T> {
    /// A run drawing from `family`, costing `generations` in the paper's unit.
    pub fn new(ctx: &'r mut Context<'a, P, V, T>, family: u64, generations: u64) -> Self {
        let compute = Compute {
            generations,
            policy_parameters: ctx.policy.parameters(),
            verifier_parameters: ctx.verifier.parameters(),
            ..Compute::default()
        };
        let root = root_key(ctx.seed, ctx.problem_id, family);
        let stop = ctx.task.stop();
        Run {
            ctx,
            compute,
            root,
            stop,
            question: None,
            live: Vec::new(),
        }
    }

    pub fn emit(&mut self, event: Event) {
        if let Some(sink) = self.ctx.sink.as_mut() {
            sink(&event);
        }
    }

    fn emit_compute(&mut self) {
        let compute = self.compute;
        self.emit(Event::ComputeSpent { compute });
    }

    pub fn key(&self, path: &Path) -> DrawKey {
        path.draw_key(self.root)
    }

    pub fn sampling(&self) -> Sampling {
        self.ctx.sampling
    }

    pub fn start(&mut self, path: &Path, prompt: &str) -> Result<SeqId, StrategyError> {
        let seq = self.ctx.policy.start(prompt).map_err(policy_error)?;
        self.live.push(seq);
        self.emit(Event::SequenceStarted {
            path: path.clone(),
            prompt: prompt.to_string(),
        });
        Ok(seq)
    }

    pub fn fork(&mut self, seq: SeqId) -> Result<SeqId, StrategyError> {
        let forked = self.ctx.policy.fork(seq).map_err(policy_error)?;
        self.live.push(forked);
        Ok(forked)
    }

    pub fn release(&mut self, seq: SeqId) {
        if let Some(i) = self.live.iter().rposition(|&s| s == seq) {
            self.live.swap_remove(i);
        }
        self.ctx.policy.release(seq);
    }

    /// Continues each item by one step (or, with `to_end`, to the end of its attempt, up
    /// to [`TO_END_STEPS`] steps' worth of tokens),
    /// in chunks of at most `max_batch` sequences. Outputs come back in item order, and
    /// events are emitted after all chunks, so neither depends on the chunking. With
    /// `report` false no `StepSampled` events are sent (lookahead rollouts report
    /// themselves as one event).
    pub async fn step(
        &mut self,
        items: &[StepItem<'_>],
        sampling: Sampling,
        to_end: bool,
        report: bool,
    ) -> Result<Vec<StepOutput>, StrategyError> {
        let mut stop = self.stop.clone();
        if to_end {
            // The task's token limit is per step; the rest of an attempt may hold many
            // steps (the policy still stops at its context's end).
            stop.at_newline = false;
            stop.max_tokens = stop.max_tokens.saturating_mul(TO_END_STEPS);
        }
        let mut outputs = Vec::with_capacity(items.len());
        if !items.is_empty() {
            self.compute.policy_calls += 1;
        }
        for chunk in items.chunks(self.ctx.max_batch.max(1)) {
            let requests: Vec<StepRequest> = chunk
                .iter()
                .map(|i| StepRequest {
                    seq: i.seq,
                    draw: i.draw,
                })
                .collect();
            let got = self
                .ctx
                .policy
                .step_async(&requests, &sampling, &stop, &mut |_, _| {})
                .await
                .map_err(policy_error)?;
            let in_order = got.len() == requests.len()
                && got.iter().zip(&requests).all(|(o, r)| o.seq == r.seq);
            if !in_order {
                return Err(StrategyError::PolicyContract {
                    expected: requests.len(),
                    found: got.len(),
                });
            }
            outputs.extend(got);
        }
        for (item, out) in items.iter().zip(&outputs) {
            self.compute.policy_tokens += out.tokens as u64;
            if !report {
                continue;
            }
            self.emit(Event::StepSampled {
                path: item.path.clone(),
                step: item.step,
                text: out.text.clone(),
                tokens: out.tokens,
                finish: out.finish,
            });
        }
        self.emit_compute();
        Ok(outputs)
    }

    /// Scores the steps of `candidates` in one verifier call, stores each candidate's step
    /// scores, reports them as [`Event::StepScored`], and returns each candidate's value
    /// under `aggregation`.
    pub async fn score_candidates(
        &mut self,
        mut candidates: Vec<&mut Candidate>,
        aggregation: StepAggregation,
    ) -> Result<Vec<f32>, StrategyError> {
        let inputs: Vec<_> = candidates
            .iter()
            .map(|c| (&c.path, c.steps.as_slice(), c.tokens()))
            .collect();
        let scores = self.score(&inputs).await?;
        let mut values = Vec::with_capacity(candidates.len());
        for (c, s) in candidates.iter_mut().zip(scores) {
            let value = aggregation.apply(&s);
            self.keep_scores(c, s, value);
            values.push(value);
        }
        Ok(values)
    }

    /// Stores a candidate's step scores and reports them, with the value it is ranked by,
    /// as [`Event::StepScored`].
    pub fn keep_scores(&mut self, candidate: &mut Candidate, scores: Vec<f32>, value: f32) {
        candidate.scores = scores;
        self.emit(Event::StepScored {
            path: candidate.path.clone(),
            scores: candidate.scores.clone(),
            value,
        });
    }

    /// Scores every step of each candidate (given as its path, its steps and the policy's
    /// token count for them) in one verifier call.
    pub async fn score(
        &mut self,
        candidates: &[(&Path, &[String], usize)],
    ) -> Result<Vec<Vec<f32>>, StrategyError> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let question = match &self.question {
            Some(q) => q.clone(),
            None => {
                let q = self.ctx.task.question(self.ctx.problem);
                self.question = Some(q.clone());
                q
            }
        };
        let steps: Vec<Vec<String>> = candidates.iter().map(|c| c.1.to_vec()).collect();
        let scores = self
            .ctx
            .verifier
            .score_async(&question, &steps)
            .await
            .map_err(|e| StrategyError::Verifier(Box::new(e)))?;
        self.compute.verifier_calls += 1;
        if scores.len() != candidates.len() {
            return Err(StrategyError::VerifierCount {
                expected: candidates.len(),
                found: scores.len(),
            });
        }
        for ((path, steps, _), s) in candidates.iter().zip(&scores) {
            if s.len() != steps.len() {
                return Err(StrategyError::VerifierShape {
                    path: (*path).clone(),
                    expected: steps.len(),
                    found: s.len(),
                });
            }
            if let Some((step, &score)) = s.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                return Err(StrategyError::NonFiniteScore {
                    path: (*path).clone(),
                    step,
                    score,
                });
            }
        }
        match self.ctx.verifier.last_score_tokens() {
            Some(tokens) => self.compute.verifier_tokens += tokens,
            None => {
                // The same text through the policy's tokenizer: exact when the two models
                // share one, and the problem's own tokens are left out.
                let estimate: usize = candidates.iter().map(|c| c.2).sum();
                self.compute.verifier_tokens += estimate as u64;
                self.compute.verifier_tokens_estimated = true;
            }
        }
        self.emit_compute();
        Ok(scores)
    }

    /// Reads the attempt's answer, reports it, and frees its sequence.
    pub fn finish_attempt(&mut self, candidate: &mut Candidate, seq: SeqId) {
        candidate.answer = self.ctx.task.extract_answer(&candidate.text());
        self.emit(Event::AttemptFinished {
            path: candidate.path.clone(),
            answer: candidate.answer.clone(),
            finish: candidate.finish,
        });
        self.release(seq);
    }

    /// Votes over `ballots` and reports the choice.
    pub fn select(&mut self, ballots: &[Ballot<'_>], how: Selection) -> Selected {
        let selected = vote::select(ballots, how);
        self.emit(Event::AnswerSelected {
            answer: selected.answer.clone(),
            votes: selected.votes.clone(),
        });
        selected
    }
}

fn policy_error<E: std::error::Error + 'static>(e: E) -> StrategyError {
    StrategyError::Policy(Box::new(e))
}
