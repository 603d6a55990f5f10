//! Shared helpers for the strategy tests: scripts keyed by path, and event recording.
#![allow(dead_code)]

use ponder_core::draw::DrawKey;
use ponder_core::event::Event;
use ponder_core::path::Path;
use ponder_core::strategy::root_key;
use ponder_core::testing::{paths_by_key, ScriptInput};

pub const SEED: u64 = 7;
pub const PROBLEM_ID: u64 = 3;
pub const PROBLEM: &str = "q";
pub const POLICY_PARAMS: u64 = 1_000;
pub const VERIFIER_PARAMS: u64 = 300;

/// A script that looks up the path being sampled from its draw key and asks `f` for the
/// step. Greedy steps (lookahead rollouts) have no path: `f` gets `None` and decides
/// from the contents. A key on no known path fails the test: the strategy drew from a
/// stream it should not have.
pub fn keyed_script(
    family: u64,
    branching: u32,
    depth: usize,
    f: impl Fn(Option<&Path>, &ScriptInput<'_>) -> String,
) -> impl FnMut(&ScriptInput<'_>) -> String {
    let index = paths_by_key(root_key(SEED, PROBLEM_ID, family), branching, depth);
    move |input| {
        if input.greedy {
            return f(None, input);
        }
        match index.get(&input.draw) {
            Some(path) => f(Some(path), input),
            None => panic!(
                "draw key {:?} is not on any path the test knows",
                input.draw
            ),
        }
    }
}

/// A pseudo-random script: steps, answers and tags are a hash of the draw key and the
/// step's position; greedy steps a hash of the contents. Used where only determinism
/// matters.
pub fn hashing_script(input: &ScriptInput<'_>) -> String {
    let h = if input.greedy {
        DrawKey::new(0, &[input.generated.len() as u64, input.step as u64]).stream
    } else {
        DrawKey::new(0, &[input.draw.seed, input.draw.stream, input.step as u64]).stream
    };
    let score = (h % 97) as f32 / 100.0;
    if input.step > (h % 4) as usize {
        format!("answer: {} [{score}]", (h >> 8) % 4)
    } else {
        format!("step {} [{score}]", (h >> 16) % 10)
    }
}

/// A sink that keeps every event.
pub fn recorder(events: &mut Vec<Event>) -> impl FnMut(&Event) + '_ {
    move |e| events.push(e.clone())
}

pub fn p(indices: &[u32]) -> Path {
    Path(indices.to_vec())
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}
