//! Keeping the shipped problems out of training.
//!
//! A problem is held out when its [`ProblemKey`] (its canonical text) is the key of a
//! problem in the shipped test or validation set. The sets are a function of constants
//! ([`super::set::SHIPPED_SETS`]), so the held-out keys are computed, not read from a
//! file: [`HeldOut::shipped`] regenerates both sets once per process (600 problems,
//! milliseconds), and a test checks that the committed files hold exactly those problems.
//! A trainer draws from [`super::TrainingGenerator`], which skips every held-out problem;
//! an evaluation can assert `!is_held_out(p)` over its training data as well.
//!
//! What this does not catch: a training problem that is the same as a held-out one up to
//! commutation (`4+3` for `3+4`), or that contains one as a sub-expression. Both are
//! arithmetic the model must learn anyway; the held-out promise is about whole problems.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::problem::{Problem, ProblemKey};
use super::set::{shipped_sets, ProblemSet, SetError};

/// A set of problem keys to keep out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeldOut {
    keys: HashSet<ProblemKey>,
}

impl HeldOut {
    pub fn new() -> HeldOut {
        HeldOut::default()
    }

    /// The keys of every problem of loaded sets (each set is checked first).
    pub fn from_sets(sets: &[ProblemSet]) -> Result<HeldOut, SetError> {
        let mut held = HeldOut::new();
        for set in sets {
            for problem in set.problems()? {
                held.keys.insert(problem.key());
            }
        }
        Ok(held)
    }

    /// Adds a set generated in this process, whose texts are canonical by construction.
    pub(crate) fn extend_from_generated(&mut self, set: &ProblemSet) {
        self.keys
            .extend(set.problems.iter().map(|p| ProblemKey(p.text.clone())));
    }

    /// The shipped test and validation sets' keys.
    pub fn shipped() -> &'static HeldOut {
        static SHIPPED: OnceLock<HeldOut> = OnceLock::new();
        SHIPPED.get_or_init(|| {
            // The sets come from constants, not input; tests/arithmetic_sets.rs generates
            // them, so this cannot fail in a build whose tests pass.
            let sets = shipped_sets().expect("the shipped problem sets generate");
            let mut held = HeldOut::new();
            for set in &sets {
                held.extend_from_generated(set);
            }
            held
        })
    }

    pub fn insert(&mut self, key: ProblemKey) -> bool {
        self.keys.insert(key)
    }

    pub fn contains(&self, problem: &Problem) -> bool {
        self.keys.contains(&problem.key())
    }

    pub fn contains_key(&self, key: &ProblemKey) -> bool {
        self.keys.contains(key)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Whether a problem is in the shipped test or validation set.
pub fn is_held_out(problem: &Problem) -> bool {
    HeldOut::shipped().contains(problem)
}
