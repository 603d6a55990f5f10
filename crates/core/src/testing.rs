//! Test doubles with known behaviour, for strategy tests here and in other crates (and
//! for demos that must run without a model).
//!
//! - [`ScriptedPolicy`]: each step is a function of the draw key, the sequence's contents
//!   and the step's position in it, and of nothing else (not the sequence id, nor the
//!   batch it came in), which is the contract real engines keep through [`DrawKey`].
//! - [`RuleVerifier`]: scores each step by a rule on its text (by default a `[0.7]` tag).
//! - [`LineTask`]: one problem is a line of text; the answer is the line after `answer:`.
//! - [`paths_by_key`]: inverts the path → draw key map, so a script can act on the path
//!   a strategy is sampling.

use std::collections::HashMap;

use crate::draw::DrawKey;
use crate::path::Path;
use crate::policy::{Finish, Policy, Sampling, SeqId, StepOutput, StepRequest, StopSpec};
use crate::task::Task;
use crate::verifier::Verifier;

/// What a script sees when asked for a step.
#[derive(Clone, Copy, Debug)]
pub struct ScriptInput<'a> {
    pub draw: DrawKey,
    /// Temperature 0: a script should then ignore `draw` (greedy decoding has no draws).
    pub greedy: bool,
    /// The prompt the sequence started from, and any text appended to it.
    pub prompt: &'a str,
    /// The steps generated so far, concatenated.
    pub generated: &'a str,
    /// How many steps the sequence has generated so far (the step's position).
    pub step: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("sequence {0} is unknown to the scripted policy (released, or never started)")]
    UnknownSequence(SeqId),
}

#[derive(Clone, Debug, Default)]
struct ScriptedSeq {
    prompt: String,
    generated: String,
    steps: usize,
}

/// A policy whose steps come from a script. A step's tokens are its whitespace-separated
/// words (at least 1); a step ends the attempt when it starts with the stop spec's answer
/// prefix or is empty.
pub struct ScriptedPolicy<F> {
    script: F,
    seqs: HashMap<SeqId, ScriptedSeq>,
    next: SeqId,
    parameters: u64,
    /// The number of requests in each `step` call, in order.
    pub step_calls: Vec<usize>,
    /// Prompts of the sequences started, in order.
    pub started: Vec<String>,
    /// A context limit in words, reported by `room_after` (None: no limit).
    pub context: Option<usize>,
}

impl<F: FnMut(&ScriptInput<'_>) -> String> ScriptedPolicy<F> {
    pub fn new(parameters: u64, script: F) -> Self {
        ScriptedPolicy {
            script,
            seqs: HashMap::new(),
            next: 1,
            parameters,
            step_calls: Vec::new(),
            started: Vec::new(),
            context: None,
        }
    }

    /// Sequences started or forked and not yet released (a strategy should leave none).
    pub fn live_sequences(&self) -> usize {
        self.seqs.len()
    }

    fn one_step(
        &mut self,
        seq: SeqId,
        draw: DrawKey,
        greedy: bool,
        stop: &StopSpec,
    ) -> Result<(String, usize, Finish), ScriptError> {
        let state = self
            .seqs
            .get(&seq)
            .ok_or(ScriptError::UnknownSequence(seq))?;
        let mut text = (self.script)(&ScriptInput {
            draw,
            greedy,
            prompt: &state.prompt,
            generated: &state.generated,
            step: state.steps,
        });
        let count = words(&text);
        let (tokens, finish) = if count > stop.max_tokens {
            text = text
                .split_whitespace()
                .take(stop.max_tokens)
                .collect::<Vec<_>>()
                .join(" ");
            (stop.max_tokens, Finish::Length)
        } else {
            let answer = stop
                .answer_prefix
                .as_deref()
                .is_some_and(|p| text.trim_start().starts_with(p));
            if !text.ends_with('\n') && !text.is_empty() {
                text.push('\n');
            }
            let finish = if answer || text.is_empty() {
                Finish::AnswerEnd
            } else {
                Finish::StepEnd
            };
            (count.max(1), finish)
        };
        let state = self
            .seqs
            .get_mut(&seq)
            .ok_or(ScriptError::UnknownSequence(seq))?;
        state.generated.push_str(&text);
        state.steps += 1;
        Ok((text, tokens, finish))
    }
}

impl<F: FnMut(&ScriptInput<'_>) -> String> Policy for ScriptedPolicy<F> {
    type Error = ScriptError;

    fn start(&mut self, prompt: &str) -> Result<SeqId, ScriptError> {
        let id = self.next;
        self.next += 1;
        self.started.push(prompt.to_string());
        self.seqs.insert(
            id,
            ScriptedSeq {
                prompt: prompt.to_string(),
                ..ScriptedSeq::default()
            },
        );
        Ok(id)
    }

    fn fork(&mut self, seq: SeqId) -> Result<SeqId, ScriptError> {
        let copy = self
            .seqs
            .get(&seq)
            .ok_or(ScriptError::UnknownSequence(seq))?
            .clone();
        let id = self.next;
        self.next += 1;
        self.seqs.insert(id, copy);
        Ok(id)
    }

    fn append(&mut self, seq: SeqId, text: &str) -> Result<(), ScriptError> {
        let state = self
            .seqs
            .get_mut(&seq)
            .ok_or(ScriptError::UnknownSequence(seq))?;
        if state.generated.is_empty() {
            state.prompt.push_str(text);
        } else {
            state.generated.push_str(text);
        }
        Ok(())
    }

    fn step(
        &mut self,
        requests: &[StepRequest],
        sampling: &Sampling,
        stop: &StopSpec,
        on_token: &mut dyn FnMut(SeqId, &str),
    ) -> Result<Vec<StepOutput>, ScriptError> {
        self.step_calls.push(requests.len());
        let greedy = sampling.temperature == 0.0;
        let mut outputs = Vec::with_capacity(requests.len());
        for r in requests {
            let (mut text, mut tokens, mut finish) = self.one_step(r.seq, r.draw, greedy, stop)?;
            // Without a stop at newlines, keep going to the end of the attempt (a bound
            // keeps a script that never answers from looping forever).
            let mut guard = 0;
            while !stop.at_newline && finish == Finish::StepEnd {
                guard += 1;
                if guard > 10_000 {
                    finish = Finish::Length;
                    break;
                }
                let (t, n, f) = self.one_step(r.seq, r.draw, greedy, stop)?;
                text.push_str(&t);
                tokens += n;
                finish = f;
            }
            on_token(r.seq, &text);
            outputs.push(StepOutput {
                seq: r.seq,
                text,
                tokens,
                finish,
            });
        }
        Ok(outputs)
    }

    fn release(&mut self, seq: SeqId) {
        self.seqs.remove(&seq);
    }

    fn parameters(&self) -> u64 {
        self.parameters
    }

    fn room_after(&self, prompt: &str) -> Option<usize> {
        self.context.map(|c| c.saturating_sub(words(prompt)))
    }
}

/// The score in a step's `[0.7]` tag, or 0.5 when it has none.
pub fn tagged_score(step: &str) -> f32 {
    let Some(open) = step.find('[') else {
        return 0.5;
    };
    let Some(len) = step[open..].find(']') else {
        return 0.5;
    };
    step[open + 1..open + len].trim().parse().unwrap_or(0.5)
}

#[derive(Debug, thiserror::Error)]
#[error("the rule verifier cannot score: {0}")]
pub struct RuleError(pub String);

/// A verifier that scores each step by a rule on the step's text. It reads (and counts
/// as tokens) the problem's words once per call and every step's words, like an engine
/// that shares the problem's prefill across a call's candidates.
pub struct RuleVerifier<R> {
    rule: R,
    parameters: u64,
    last_tokens: Option<u64>,
    /// Whether to report token counts (false imitates an engine that does not count).
    pub reports_tokens: bool,
    /// The number of candidates in each `score` call, in order.
    pub calls: Vec<usize>,
}

impl<R: FnMut(&str) -> f32> RuleVerifier<R> {
    pub fn new(parameters: u64, rule: R) -> Self {
        RuleVerifier {
            rule,
            parameters,
            last_tokens: None,
            reports_tokens: true,
            calls: Vec::new(),
        }
    }
}

/// A verifier that reads `[0.7]` tags.
pub fn tag_verifier(parameters: u64) -> RuleVerifier<fn(&str) -> f32> {
    RuleVerifier::new(parameters, tagged_score as fn(&str) -> f32)
}

/// Tokens as the doubles count them: whitespace-separated words, at least 1 per step.
pub fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

impl<R: FnMut(&str) -> f32> Verifier for RuleVerifier<R> {
    type Error = RuleError;

    fn score(
        &mut self,
        problem: &str,
        candidates: &[Vec<String>],
    ) -> Result<Vec<Vec<f32>>, RuleError> {
        self.calls.push(candidates.len());
        let mut tokens = words(problem) as u64;
        let mut out = Vec::with_capacity(candidates.len());
        for steps in candidates {
            tokens += steps.iter().map(|s| words(s).max(1) as u64).sum::<u64>();
            out.push(steps.iter().map(|s| (self.rule)(s)).collect());
        }
        self.last_tokens = Some(tokens);
        Ok(out)
    }

    fn parameters(&self) -> u64 {
        self.parameters
    }

    fn last_score_tokens(&self) -> Option<u64> {
        if self.reports_tokens {
            self.last_tokens
        } else {
            None
        }
    }
}

/// A task whose problem is one line of text. Attempts end with a line `answer: X …`; the
/// canonical answer is X, the first word after the prefix (so a verifier's `[0.7]` tag
/// can follow it). A revision prompt lists the earlier attempts after the
/// question, each under an `attempt:` header.
#[derive(Clone, Copy, Debug, Default)]
pub struct LineTask;

pub const ANSWER_PREFIX: &str = "answer:";

impl Task for LineTask {
    type Problem = str;

    fn prompt(&self, problem: &str) -> String {
        format!("Q: {problem}\n")
    }

    fn question(&self, problem: &str) -> String {
        problem.to_string()
    }

    fn extract_answer(&self, attempt: &str) -> Option<String> {
        let line = attempt
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with(ANSWER_PREFIX))?;
        let answer = line.trim_start()[ANSWER_PREFIX.len()..]
            .split_whitespace()
            .next()?;
        Some(answer.to_string())
    }

    fn revision_prompt(&self, problem: &str, previous_attempts: &[&str]) -> String {
        let mut prompt = format!("Q: {problem}\n");
        for attempt in previous_attempts {
            prompt.push_str("attempt:\n");
            prompt.push_str(attempt);
        }
        prompt.push_str("revise:\n");
        prompt
    }

    fn stop(&self) -> StopSpec {
        StopSpec {
            answer_prefix: Some(ANSWER_PREFIX.to_string()),
            ..StopSpec::default()
        }
    }
}

/// Every path under `root` with up to `depth` indices, each below `branching`, by its
/// draw key: lets a script see which path it is sampling.
pub fn paths_by_key(root: DrawKey, branching: u32, depth: usize) -> HashMap<DrawKey, Path> {
    let mut out = HashMap::new();
    let mut frontier = vec![Path::root()];
    for _ in 0..depth {
        let mut next = Vec::new();
        for p in &frontier {
            for i in 0..branching {
                let child = p.child(i);
                out.insert(child.draw_key(root), child.clone());
                next.push(child);
            }
        }
        frontier = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_policy_follows_its_script_and_stop_rules() {
        let mut policy = ScriptedPolicy::new(10, |i: &ScriptInput<'_>| {
            if i.step < 2 {
                format!("step {} of {}", i.step, i.prompt.trim())
            } else {
                "answer: 5".to_string()
            }
        });
        let stop = LineTask.stop();
        let seq = policy.start("Q").expect("start");
        let req = [StepRequest {
            seq,
            draw: DrawKey::new(0, &[]),
        }];
        let out = policy
            .step(&req, &Sampling::GREEDY, &stop, &mut |_, _| {})
            .expect("step");
        assert_eq!(out[0].text, "step 0 of Q\n");
        assert_eq!((out[0].tokens, out[0].finish), (4, Finish::StepEnd));
        let fork = policy.fork(seq).expect("fork");
        let to_end = StopSpec {
            at_newline: false,
            ..stop.clone()
        };
        let out = policy
            .step(
                &[StepRequest {
                    seq: fork,
                    draw: req[0].draw,
                }],
                &Sampling::GREEDY,
                &to_end,
                &mut |_, _| {},
            )
            .expect("step");
        assert_eq!(out[0].text, "step 1 of Q\nanswer: 5\n");
        assert_eq!((out[0].tokens, out[0].finish), (6, Finish::AnswerEnd));
        let short = StopSpec {
            max_tokens: 2,
            ..stop
        };
        let out = policy
            .step(&req, &Sampling::GREEDY, &short, &mut |_, _| {})
            .expect("step");
        assert_eq!(
            (out[0].text.as_str(), out[0].tokens, out[0].finish),
            ("step 1", 2, Finish::Length)
        );
        assert_eq!(policy.step_calls, [1, 1, 1]);
        policy.release(seq);
        policy.release(fork);
        assert_eq!(policy.live_sequences(), 0);
        assert!(policy
            .step(
                &req,
                &Sampling::GREEDY,
                &StopSpec::default(),
                &mut |_, _| {}
            )
            .is_err());
    }

    #[test]
    fn tags_and_answers_parse() {
        assert_eq!(tagged_score("x [0.25] y"), 0.25);
        assert_eq!(tagged_score("no tag"), 0.5);
        assert_eq!(tagged_score("[oops]"), 0.5);
        assert_eq!(
            LineTask.extract_answer("a\nanswer: 12 [0.3]\n"),
            Some("12".into())
        );
        assert_eq!(LineTask.extract_answer("a\nanswer:\n"), None);
        assert_eq!(LineTask.extract_answer("no answer here"), None);
        let mut v = tag_verifier(3);
        let s = v
            .score(
                "two words",
                &[vec!["a [0.1]\n".into(), "b c [0.9]\n".into()]],
            )
            .expect("score");
        assert_eq!(s, vec![vec![0.1, 0.9]]);
        assert_eq!(v.last_score_tokens(), Some(2 + 2 + 3));
    }

    #[test]
    fn path_index_inverts_draw_keys() {
        let root = DrawKey::new(1, &[2, 3]);
        let index = paths_by_key(root, 3, 2);
        assert_eq!(index.len(), 3 + 9);
        let p = Path(vec![2, 1]);
        assert_eq!(index.get(&p.draw_key(root)), Some(&p));
    }
}
