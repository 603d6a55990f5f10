//! The task's text format, and the [`Task`] the strategies drive.
//!
//! A first attempt's prompt is the problem line; the model writes one step per line and
//! ends with the answer line:
//!
//! ```text
//! Problem: (37+48)*6-29
//! 37+48=85
//! 85*6=510
//! 510-29=481
//! Answer: 481
//! ```
//!
//! A revision's prompt (Snell et al. 2024 §6) shows the earlier attempts, oldest first,
//! each under a numbered header, restates the problem and opens the next attempt; the
//! model writes the new attempt in the same format as a first one:
//!
//! ```text
//! Problem: (37+48)*6-29
//! Attempt 1:
//! 37+48=85
//! 85*6=500
//! 500-29=471
//! Answer: 471
//! Problem: (37+48)*6-29
//! Attempt 2:
//! ```
//!
//! The restated problem keeps the expression a new attempt reads its numbers from a few
//! tokens back, as in a first attempt. Stated once at the top, it lay hundreds of tokens
//! back behind long attempts, farther than anything in the base model's 128-token
//! training rows: a reviser trained on that shape turned 11 of 15 right level-3 attempts
//! wrong at its first revision and fixed 3 of 85 wrong ones; trained the same way on this
//! shape, it turned 5 of 20 wrong and fixed 5 of 80 (test set, `ponder-train chains`).
//!
//! Why this shape: a person can read every line aloud (the classroom view shows them as
//! they are), each step is checkable on its own ([`super::check`]), and the numbered
//! headers tell the revision model where one attempt ends without a special token. With
//! no earlier attempts the revision prompt *is* the first-attempt prompt, so a revision
//! chain's first attempt and a base model's attempt see the same text; the paper trains
//! the revision model on 0 to 4 earlier attempts, so its headers run up to `Attempt 5:`,
//! and a chain longer than that still shows at most the 4 most recent, renumbered from 1.

use crate::policy::StopSpec;
use crate::task::Task;

use super::parse::parse_integer;
use super::problem::Problem;

/// The first line of every prompt, before the problem text.
pub const PROBLEM_PREFIX: &str = "Problem: ";
/// The start of the answer line; finishing that line ends an attempt.
pub const ANSWER_PREFIX: &str = "Answer:";
/// The most tokens one step may take. Every value of the levels is below 10^6 in
/// magnitude, so a step is at most 25 characters (two 7-character operands, one in
/// parentheses, a 7-character result; the level tests' longest is 25): 64 holds any real
/// step even for a character-level tokenizer, and stops a model that never writes a
/// newline early.
pub const MAX_STEP_TOKENS: usize = 64;

/// The synthetic arithmetic task of the built-in models.
#[derive(Clone, Copy, Debug, Default)]
pub struct ArithmeticTask;

/// The answer line for an answer, with its newline: `Answer: 481\n`.
pub fn answer_line(answer: i64) -> String {
    format!("{ANSWER_PREFIX} {answer}\n")
}

/// The header above earlier attempt `n` (from 1) in a revision prompt, with its newline.
pub fn attempt_header(n: usize) -> String {
    format!("Attempt {n}:\n")
}

/// The reference attempt: every step of the canonical solution, then the answer line.
/// What the base model is trained to write after [`ArithmeticTask::prompt`].
pub fn reference_attempt(problem: &Problem) -> String {
    let mut text = String::new();
    for step in problem.solution() {
        text.push_str(&step.to_string());
        text.push('\n');
    }
    text.push_str(&answer_line(problem.answer()));
    text
}

/// An attempt's lines: the step lines (blank lines skipped, `\r` removed) up to the first
/// answer line, and that answer line if there is one. Nothing after it belongs to the
/// attempt.
pub fn split_attempt(attempt: &str) -> (Vec<&str>, Option<&str>) {
    let mut steps = Vec::new();
    for line in attempt.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        if line.trim_start().starts_with(ANSWER_PREFIX) {
            return (steps, Some(line));
        }
        steps.push(line);
    }
    (steps, None)
}

/// The answer an attempt states: the first word after `Answer:` on its answer line, as
/// an integer (leading zeros allowed). `None` when there is no answer line or its first
/// word is not an integer.
pub fn read_answer(attempt: &str) -> Option<i64> {
    let (_, line) = split_attempt(attempt);
    let rest = line?.trim_start().strip_prefix(ANSWER_PREFIX)?;
    parse_integer(rest.split_whitespace().next()?)
}

/// An answer in canonical form: the integer without leading zeros or spaces, `-0` as `0`.
pub fn canonical_answer(text: &str) -> Option<String> {
    parse_integer(text).map(|n| n.to_string())
}

impl Task for ArithmeticTask {
    type Problem = Problem;

    fn prompt(&self, problem: &Problem) -> String {
        format!("{PROBLEM_PREFIX}{}\n", problem.text())
    }

    /// The bare expression: a PRM scores `(question, steps)` and needs no instructions.
    fn question(&self, problem: &Problem) -> String {
        problem.text().to_string()
    }

    /// Answers compare as integers, so `0481` and `481` vote together.
    fn extract_answer(&self, attempt: &str) -> Option<String> {
        read_answer(attempt).map(|n| n.to_string())
    }

    fn revision_prompt(&self, problem: &Problem, previous_attempts: &[&str]) -> String {
        let mut prompt = self.prompt(problem);
        if previous_attempts.is_empty() {
            return prompt;
        }
        for (i, attempt) in previous_attempts.iter().enumerate() {
            prompt.push_str(&attempt_header(i + 1));
            prompt.push_str(attempt);
            if !attempt.is_empty() && !attempt.ends_with('\n') {
                prompt.push('\n');
            }
        }
        prompt.push_str(&self.prompt(problem));
        prompt.push_str(&attempt_header(previous_attempts.len() + 1));
        prompt
    }

    fn stop(&self) -> StopSpec {
        StopSpec {
            at_newline: true,
            answer_prefix: Some(ANSWER_PREFIX.to_string()),
            max_tokens: MAX_STEP_TOKENS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem() -> Problem {
        Problem::parse("(37+48)*6-29").expect("parses")
    }

    #[test]
    fn prompt_and_reference_attempt_read_as_the_docs_show() {
        let p = problem();
        let text = ArithmeticTask.prompt(&p) + &reference_attempt(&p);
        assert_eq!(
            text,
            "Problem: (37+48)*6-29\n37+48=85\n85*6=510\n510-29=481\nAnswer: 481\n"
        );
        assert_eq!(ArithmeticTask.question(&p), "(37+48)*6-29");
    }

    #[test]
    fn answers_are_read_from_the_first_answer_line_in_canonical_form() {
        let t = ArithmeticTask;
        assert_eq!(
            t.extract_answer("1+2=3\nAnswer: 481\n").as_deref(),
            Some("481")
        );
        assert_eq!(t.extract_answer("Answer:0481").as_deref(), Some("481"));
        assert_eq!(t.extract_answer("  Answer: -0 [0.7]").as_deref(), Some("0"));
        assert_eq!(
            t.extract_answer("Answer: 5\nAnswer: 6").as_deref(),
            Some("5")
        );
        assert_eq!(t.extract_answer("Answer: five"), None);
        assert_eq!(t.extract_answer("Answer:"), None);
        assert_eq!(t.extract_answer("answer: 5"), None);
        assert_eq!(t.extract_answer("85*6=510\n"), None);
        assert_eq!(canonical_answer(" 007 ").as_deref(), Some("7"));
        assert_eq!(canonical_answer("7.0"), None);
    }

    #[test]
    fn revision_prompt_numbers_the_attempts_and_opens_the_next() {
        let p = problem();
        let t = ArithmeticTask;
        assert_eq!(t.revision_prompt(&p, &[]), t.prompt(&p));
        let prompt = t.revision_prompt(
            &p,
            &[
                "37+48=85\n85*6=500\n500-29=471\nAnswer: 471\n",
                "37+48=85\nAnswer: 85",
            ],
        );
        assert_eq!(
            prompt,
            "Problem: (37+48)*6-29\n\
             Attempt 1:\n37+48=85\n85*6=500\n500-29=471\nAnswer: 471\n\
             Attempt 2:\n37+48=85\nAnswer: 85\n\
             Problem: (37+48)*6-29\n\
             Attempt 3:\n"
        );
    }

    #[test]
    fn stop_spec_ends_attempts_at_the_answer_line() {
        let stop = ArithmeticTask.stop();
        assert!(stop.at_newline);
        assert_eq!(stop.answer_prefix.as_deref(), Some("Answer:"));
        assert_eq!(stop.max_tokens, MAX_STEP_TOKENS);
    }
}
