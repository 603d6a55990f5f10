//! Problems for training: the generator with the held-out problems removed.

use super::generate::{level_stream, GenerateError, Generator};
use super::held_out::HeldOut;
use super::level::{Knobs, Level};
use super::problem::Problem;

/// Draws training problems: problem `index` of a level or of a knob setting under a seed,
/// never one of the held-out problems. A pure function of its arguments, like
/// [`Generator`], so a trainer can shard or resume without bookkeeping.
#[derive(Clone, Debug)]
pub struct TrainingGenerator {
    generator: Generator,
    held_out: HeldOut,
}

impl TrainingGenerator {
    /// Excludes the shipped test and validation sets.
    pub fn new(seed: u64) -> TrainingGenerator {
        TrainingGenerator::with_held_out(seed, HeldOut::shipped().clone())
    }

    /// Excludes the given keys instead (for example loaded files of another version).
    pub fn with_held_out(seed: u64, held_out: HeldOut) -> TrainingGenerator {
        TrainingGenerator {
            generator: Generator::new(seed),
            held_out,
        }
    }

    pub fn held_out(&self) -> &HeldOut {
        &self.held_out
    }

    /// Problem `index` of a level.
    pub fn problem(&self, level: Level, index: u64) -> Result<Problem, GenerateError> {
        self.problem_with(&level.knobs(), level_stream(level), index)
    }

    /// Problem `index` of `stream` under any knobs (a curriculum's own steps). Streams 1
    /// to 5 are the levels'; use others for other knobs, so their problems differ.
    pub fn problem_with(
        &self,
        knobs: &Knobs,
        stream: u64,
        index: u64,
    ) -> Result<Problem, GenerateError> {
        self.generator
            .problem_where(knobs, stream, index, |p| !self.held_out.contains(p))
    }
}
