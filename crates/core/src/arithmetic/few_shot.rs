//! Worked examples for a model that was never trained on the task's format (a general
//! instruct model such as SmolLM2): a prompt prefix of problems with their reference
//! attempts, levels 1 to 5 in turn, none of them from the held-out test or validation
//! sets. Put before the task's prompt, it shows the model the step format the verifier
//! scores and the answer line the strategies read.

use super::generate::level_stream;
use super::task::reference_attempt;
use super::{is_held_out, ArithmeticTask, GenerateError, Generator, Level};
use crate::Task;

/// How many worked examples a model of the visitor's own is shown (the page and
/// `ponder run` both use this many, so a link replays the same prompts).
pub const EXAMPLES: usize = 5;

/// The generator seed of the examples (its own, so they are the same on every run).
pub const FEW_SHOT_SEED: u64 = 0xF3_5407;

/// `k` worked examples, each a prompt, its reference attempt and a blank line.
pub fn examples(k: usize) -> Result<String, GenerateError> {
    let generator = Generator::new(FEW_SHOT_SEED);
    let mut text = String::new();
    for i in 0..k {
        let level = Level::ALL[i % Level::ALL.len()];
        let problem =
            generator.problem_where(&level.knobs(), level_stream(level), i as u64, |p| {
                !is_held_out(p)
            })?;
        text.push_str(&ArithmeticTask.prompt(&problem));
        text.push_str(&reference_attempt(&problem));
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_are_worked_in_the_task_format_and_never_held_out() {
        let text = examples(5).expect("generates");
        let blocks: Vec<&str> = text.split("\n\n").filter(|b| !b.is_empty()).collect();
        assert_eq!(blocks.len(), 5);
        for block in blocks {
            let (prompt, attempt) = block.split_once('\n').expect("a prompt line");
            let expr = prompt.strip_prefix("Problem: ").expect("the task's prompt");
            let problem = super::super::Problem::parse(expr).expect("a problem");
            assert!(!is_held_out(&problem), "{expr}");
            assert_eq!(
                ArithmeticTask.extract_answer(attempt),
                Some(problem.answer().to_string())
            );
        }
        assert_eq!(examples(5), examples(5));
    }
}
