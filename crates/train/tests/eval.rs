//! The evaluation counts exactly what a policy gets right, level by level.

use std::collections::HashMap;

use ponder_core::arithmetic::task::reference_attempt;
use ponder_core::arithmetic::{shipped_sets, Level, Problem};
use ponder_core::{Finish, Policy, Sampling, SeqId, StepOutput, StepRequest, StopSpec};
use ponder_train::eval::greedy_pass_at_1;

/// Answers with the reference solution, one line per step, for problems of levels 1 and
/// 2, and with a wrong answer otherwise.
struct Oracle {
    by_prompt: HashMap<String, (Level, Problem)>,
    seqs: HashMap<SeqId, (Vec<String>, usize)>,
    next: SeqId,
}

#[derive(Debug)]
struct Never;
impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("never")
    }
}
impl std::error::Error for Never {}

impl Policy for Oracle {
    type Error = Never;
    fn start(&mut self, prompt: &str) -> Result<SeqId, Never> {
        let (level, problem) = &self.by_prompt[prompt];
        let text = if level.number() <= 2 {
            reference_attempt(problem)
        } else {
            format!("1+1=2\nAnswer: {}\n", problem.answer() + 1)
        };
        let lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
        self.next += 1;
        self.seqs.insert(self.next, (lines, 0));
        Ok(self.next)
    }
    fn fork(&mut self, _: SeqId) -> Result<SeqId, Never> {
        unreachable!("not used by the evaluation")
    }
    fn append(&mut self, _: SeqId, _: &str) -> Result<(), Never> {
        Ok(())
    }
    fn step(
        &mut self,
        requests: &[StepRequest],
        _: &Sampling,
        _: &StopSpec,
        _: &mut dyn FnMut(SeqId, &str),
    ) -> Result<Vec<StepOutput>, Never> {
        Ok(requests
            .iter()
            .map(|r| {
                let (lines, at) = self.seqs.get_mut(&r.seq).expect("live");
                let text = lines[*at].clone();
                *at += 1;
                StepOutput {
                    seq: r.seq,
                    finish: if text.starts_with("Answer:") {
                        Finish::AnswerEnd
                    } else {
                        Finish::StepEnd
                    },
                    tokens: text.len(),
                    text,
                }
            })
            .collect())
    }
    fn release(&mut self, seq: SeqId) {
        self.seqs.remove(&seq);
    }
    fn parameters(&self) -> u64 {
        0
    }
}

#[test]
fn scores_count_right_answers_per_level() {
    let sets = shipped_sets().expect("sets");
    let set = sets
        .iter()
        .find(|s| s.name == "validation")
        .expect("validation");
    let problems: Vec<(Level, Problem)> = set
        .problems
        .iter()
        .map(|p| p.level)
        .zip(set.problems().expect("problems"))
        .collect();
    let mut oracle = Oracle {
        by_prompt: problems
            .iter()
            .map(|(l, p)| (format!("Problem: {}\n", p.text()), (*l, p.clone())))
            .collect(),
        seqs: HashMap::new(),
        next: 0,
    };
    let scores = greedy_pass_at_1(&mut oracle, &problems, 7, 16).expect("eval");
    let solved: Vec<usize> = scores.iter().map(|s| s.solved).collect();
    let totals: Vec<usize> = scores.iter().map(|s| s.total).collect();
    assert_eq!(totals, vec![20; 5]);
    assert_eq!(solved, vec![20, 20, 0, 0, 0]);
    assert!(oracle.seqs.is_empty(), "every sequence is released");
}
