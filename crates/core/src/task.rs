//! The task-specific parts of a test-time-compute run: how a problem becomes a prompt,
//! how an attempt's final answer is read and put in canonical form, and how a revision
//! prompt shows earlier attempts (Snell et al. 2024 §1.1 grading, §6 revisions).
//!
//! Strategies never look inside a problem or an answer: they compare canonical answers
//! for equality, so a task's canonical form decides what counts as "the same answer" in
//! a vote (the paper groups MATH answers by a normalised LaTeX form).

use crate::policy::StopSpec;

pub trait Task {
    /// A problem of this task (for example a question and its reference answer).
    type Problem: ?Sized;

    /// The policy's prompt for a first attempt.
    fn prompt(&self, problem: &Self::Problem) -> String;

    /// The problem as the verifier reads it (usually the bare question, without few-shot
    /// examples or instructions).
    fn question(&self, problem: &Self::Problem) -> String;

    /// The final answer of an attempt in canonical form, or `None` when the attempt has
    /// no parsable answer (such attempts never win a vote).
    fn extract_answer(&self, attempt: &str) -> Option<String>;

    /// The prompt for a revision: the problem with earlier attempts in context, oldest
    /// first. Strategies pass at most the most recent few (the paper truncates to 4).
    fn revision_prompt(&self, problem: &Self::Problem, previous_attempts: &[&str]) -> String;

    /// How steps and attempts end (the newline and the answer line).
    fn stop(&self) -> StopSpec {
        StopSpec::default()
    }
}
