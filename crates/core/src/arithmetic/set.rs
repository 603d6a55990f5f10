//! Problem sets: the held-out test set and the validation set shipped in
//! `public/problems/`, as files, and how they are generated.
//!
//! Each file is a [`ProblemSet`] as JSON: a format version, the name, the generator's
//! seed, the problems per level, the names of the sets whose problems it excludes, the
//! knobs of every level, and the problems (id, level, canonical text, answer, reference
//! steps). `ponder problems --out public/problems` writes them from
//! [`shipped_sets`]; the files are a cache of that function, and a test checks that the
//! committed files are byte for byte what it produces now, so editing the levels or the
//! generator without regenerating (and bumping [`PROBLEM_SET_VERSION`] if the files'
//! meaning changes) fails the tests.
//!
//! Within a set no problem repeats; the validation set excludes the test set; training
//! excludes both ([`super::held_out`]).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::generate::{level_stream, GenerateError, Generator};
use super::held_out::HeldOut;
use super::level::{Knobs, Level};
use super::problem::{Problem, ProblemError};
use super::step::Step;

/// The version of the problem set file format and of the meaning of its fields.
pub const PROBLEM_SET_VERSION: u32 = 1;

/// How a shipped set is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProblemSetSpec {
    pub name: &'static str,
    pub about: &'static str,
    pub seed: u64,
    pub per_level: usize,
    /// Sets (by name, generated earlier in [`SHIPPED_SETS`]) whose problems this one
    /// leaves out.
    pub excludes: &'static [&'static str],
}

/// The held-out test set: the Experiment page's problems, 100 per level as the paper's
/// 500 MATH test questions. Seeds are below 2^53 so JavaScript reads them exactly.
pub const TEST_SET: ProblemSetSpec = ProblemSetSpec {
    name: "test",
    about: "Held-out test problems: 100 per difficulty level, never seen in training.",
    seed: 5_000_001,
    per_level: 100,
    excludes: &[],
};

/// The validation set: for choosing checkpoints and hyperparameters without touching the
/// test set.
pub const VALIDATION_SET: ProblemSetSpec = ProblemSetSpec {
    name: "validation",
    about: "Validation problems: 20 per difficulty level, never seen in training, none in \
            the test set.",
    seed: 5_000_002,
    per_level: 20,
    excludes: &["test"],
};

/// The sets shipped in `public/problems/`, in the order they are generated.
pub const SHIPPED_SETS: [ProblemSetSpec; 2] = [TEST_SET, VALIDATION_SET];

/// A problem set as its file holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemSet {
    pub version: u32,
    pub name: String,
    pub about: String,
    pub seed: u64,
    pub per_level: usize,
    pub excludes: Vec<String>,
    pub levels: Vec<LevelKnobs>,
    pub problems: Vec<SetProblem>,
}

/// A level's number and its knobs, as the file records them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelKnobs {
    pub level: Level,
    #[serde(flatten)]
    pub knobs: Knobs,
}

/// One problem of a set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetProblem {
    /// `{set}-{level}-{nnn}`, for example `test-3-017`.
    pub id: String,
    pub level: Level,
    /// The canonical text.
    pub text: String,
    pub answer: i64,
    /// The reference solution, one step per line, without newlines.
    pub steps: Vec<String>,
}

/// Why a problem set file cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    #[error(
        "problem set version {found} is not supported (this build reads version {supported}); \
         regenerate the files with `ponder problems`"
    )]
    Version { found: u32, supported: u32 },
    #[error("problem {id}: {source}")]
    Problem { id: String, source: ProblemError },
    #[error("problem {id}: the text {text:?} is not canonical; it should read {canonical:?}")]
    NotCanonical {
        id: String,
        text: String,
        canonical: String,
    },
    #[error("problem {id}: the stated answer {stated} is wrong; the expression is {computed}")]
    Answer {
        id: String,
        stated: i64,
        computed: i64,
    },
    #[error(
        "problem {id}: the steps are not the reference solution (expected {expected:?}); \
         regenerate the file with `ponder problems`"
    )]
    Steps { id: String, expected: Vec<String> },
    #[error("problem id {id} appears twice")]
    DuplicateId { id: String },
    #[error("problem {id} is at level {level}, which the set's knobs do not list or do not admit")]
    Level { id: String, level: Level },
}

impl ProblemSet {
    /// Generates a set: for each level, problems `0, 1, …` of the level's stream under the
    /// spec's seed, each the first candidate that is neither in `excluded` nor already in
    /// the set.
    pub fn generate(
        spec: &ProblemSetSpec,
        excluded: &HeldOut,
    ) -> Result<ProblemSet, GenerateError> {
        let generator = Generator::new(spec.seed);
        let mut seen = HashSet::new();
        let mut problems = Vec::with_capacity(spec.per_level * Level::ALL.len());
        for level in Level::ALL {
            let knobs = level.knobs();
            for index in 0..spec.per_level as u64 {
                let problem = generator.problem_where(&knobs, level_stream(level), index, |p| {
                    !excluded.contains(p) && !seen.contains(&p.key())
                })?;
                seen.insert(problem.key());
                problems.push(SetProblem {
                    id: format!("{}-{level}-{:03}", spec.name, index + 1),
                    level,
                    text: problem.text().to_string(),
                    answer: problem.answer(),
                    steps: problem.solution().iter().map(Step::to_string).collect(),
                });
            }
        }
        Ok(ProblemSet {
            version: PROBLEM_SET_VERSION,
            name: spec.name.to_string(),
            about: spec.about.to_string(),
            seed: spec.seed,
            per_level: spec.per_level,
            excludes: spec.excludes.iter().map(|s| s.to_string()).collect(),
            levels: Level::ALL
                .into_iter()
                .map(|level| LevelKnobs {
                    level,
                    knobs: level.knobs(),
                })
                .collect(),
            problems,
        })
    }

    /// The set's problems, each checked against its record: a text that parses and is
    /// canonical, the right answer, the reference steps, a unique id, and a level whose
    /// knobs admit it. What a page or a trainer should call on a file it loaded.
    pub fn problems(&self) -> Result<Vec<Problem>, SetError> {
        if self.version != PROBLEM_SET_VERSION {
            return Err(SetError::Version {
                found: self.version,
                supported: PROBLEM_SET_VERSION,
            });
        }
        let mut ids = HashSet::new();
        let mut out = Vec::with_capacity(self.problems.len());
        for record in &self.problems {
            let id = record.id.clone();
            if !ids.insert(record.id.as_str()) {
                return Err(SetError::DuplicateId { id });
            }
            let problem = Problem::parse(&record.text).map_err(|source| SetError::Problem {
                id: id.clone(),
                source,
            })?;
            if problem.text() != record.text {
                return Err(SetError::NotCanonical {
                    id,
                    text: record.text.clone(),
                    canonical: problem.text().to_string(),
                });
            }
            if problem.answer() != record.answer {
                return Err(SetError::Answer {
                    id,
                    stated: record.answer,
                    computed: problem.answer(),
                });
            }
            let expected: Vec<String> = problem.solution().iter().map(Step::to_string).collect();
            if expected != record.steps {
                return Err(SetError::Steps { id, expected });
            }
            let admitted = self
                .levels
                .iter()
                .find(|l| l.level == record.level)
                .is_some_and(|l| l.knobs.admits(&problem));
            if !admitted {
                return Err(SetError::Level {
                    id,
                    level: record.level,
                });
            }
            out.push(problem);
        }
        Ok(out)
    }
}

/// The shipped sets, generated now: the test set, then the validation set without the
/// test set's problems. The files in `public/problems/` are exactly these.
pub fn shipped_sets() -> Result<Vec<ProblemSet>, GenerateError> {
    let mut sets: Vec<ProblemSet> = Vec::with_capacity(SHIPPED_SETS.len());
    for spec in &SHIPPED_SETS {
        let mut excluded = HeldOut::new();
        for set in sets
            .iter()
            .filter(|s| spec.excludes.contains(&s.name.as_str()))
        {
            excluded.extend_from_generated(set);
        }
        sets.push(ProblemSet::generate(spec, &excluded)?);
    }
    Ok(sets)
}
