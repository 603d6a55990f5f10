//! Training text for the base models: problems of every level with their reference
//! solutions, in exactly the format the strategies prompt with and parse, packed into
//! fixed-length rows.
//!
//! Row `r` of step `s` is a pure function of `(seed, s, r)`: resuming from a checkpoint
//! at step `s` sees exactly the data an uninterrupted run would have seen, with no data
//! loader state to save. The shipped test and validation problems are never drawn
//! (`TrainingGenerator` skips them).

use ponder_core::arithmetic::{task::reference_attempt, ArithmeticTask, Level, TrainingGenerator};
use ponder_core::Task;

use crate::vocab;

/// Draws packed rows of training tokens.
pub struct Corpus {
    generator: TrainingGenerator,
    seed: u64,
}

impl Corpus {
    pub fn new(seed: u64) -> Corpus {
        Corpus {
            generator: TrainingGenerator::new(seed),
            seed,
        }
    }

    /// One training document: prompt, reference attempt, end of text.
    pub fn document(&self, level: Level, index: u64) -> Option<Vec<u32>> {
        let problem = self.generator.problem(level, index).ok()?;
        let text = ArithmeticTask.prompt(&problem) + &reference_attempt(&problem);
        let mut tokens = vocab::encode(&text);
        tokens.push(vocab::END_OF_TEXT);
        Some(tokens)
    }

    /// Row `row` of step `step`: `len + 1` tokens (inputs are the first `len`, targets the
    /// last `len`), documents packed end to end, levels in rotation.
    pub fn row(&self, step: u64, row: u64, len: usize) -> Vec<u32> {
        let mut tokens = Vec::with_capacity(len + 64);
        let mut k = 0u64;
        // A distinct, deterministic index per (seed, step, row, k) for each level stream.
        while tokens.len() < len + 1 {
            let level = Level::ALL[((row + k) % 5) as usize];
            let index = mix(self.seed ^ mix(step) ^ mix(row.wrapping_mul(0x9e37) ^ k));
            if let Some(doc) = self.document(level, index % (1 << 40)) {
                tokens.extend(doc);
            }
            k += 1;
        }
        tokens.truncate(len + 1);
        tokens
    }
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_deterministic_full_and_in_the_task_format() {
        let c = Corpus::new(1);
        let a = c.row(3, 0, 128);
        assert_eq!(a.len(), 129);
        assert_eq!(a, c.row(3, 0, 128));
        assert_ne!(a, c.row(4, 0, 128));
        let text: String = a
            .iter()
            .filter(|&&t| t != vocab::END_OF_TEXT)
            .map(|&t| t as u8 as char)
            .collect();
        assert!(text.contains("Problem: "), "{text}");
        assert!(text.contains("Answer: "), "{text}");
    }
}
