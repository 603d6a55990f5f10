//! What strategies report as they run, for live views: the page draws the search tree,
//! the vote tallies and the compute meter from these events alone.
//!
//! Strategies deliver events through a `&mut dyn FnMut(&Event)` sink, synchronously and
//! in a fixed order that does not depend on batching (the same spec gives the same
//! stream), so a recorded stream replays exactly.

use serde::{Deserialize, Serialize};

use crate::accounting::Compute;
use crate::path::Path;
use crate::policy::Finish;
use crate::strategy::vote::Vote;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A new sequence: a first attempt, a revision (whose prompt holds earlier attempts),
    /// or the root of a search.
    SequenceStarted { path: Path, prompt: String },
    /// The earlier attempts of its chain that the revision at `path` sees in its prompt,
    /// oldest first (a policy's context may hold fewer than the strategy asked for;
    /// empty when not even the latest fits and the attempt starts afresh).
    RevisionContext { path: Path, saw: Vec<Path> },
    /// One reasoning step of the sequence at `path` (`step` counts from 0 within it).
    StepSampled {
        path: Path,
        step: usize,
        text: String,
        tokens: usize,
        finish: Finish,
    },
    /// A greedy rollout beyond the step at `path`, scored in its place (lookahead search).
    LookaheadRolledOut {
        path: Path,
        steps: Vec<String>,
        tokens: usize,
    },
    /// The verifier's scores for every step of the candidate at `path`; `value` is the
    /// number the strategy ranks it by (the aggregated score, or the lookahead's).
    StepScored {
        path: Path,
        scores: Vec<f32>,
        value: f32,
    },
    /// A search round kept some candidates and dropped the others (beam search keeps
    /// N/M; DVTS keeps one per subtree).
    BeamPruned {
        round: usize,
        kept: Vec<Path>,
        pruned: Vec<Path>,
    },
    /// An attempt reached its end; `answer` is the task's canonical answer, if any.
    AttemptFinished {
        path: Path,
        answer: Option<String>,
        finish: Finish,
    },
    /// The final choice and the tallies behind it.
    AnswerSelected {
        answer: Option<String>,
        votes: Vec<Vote>,
    },
    /// Running totals after a policy or verifier call.
    ComputeSpent { compute: Compute },
}
