//! The shipped problem sets: the committed files are exactly what the generator produces
//! now, they load and validate, they have the promised shape, and nothing in them can be
//! drawn for training.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use ponder_core::arithmetic::set::{SHIPPED_SETS, TEST_SET, VALIDATION_SET};
use ponder_core::arithmetic::{
    is_held_out, shipped_sets, HeldOut, Level, Problem, ProblemSet, SetError, TrainingGenerator,
};

fn file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../public/problems/{name}.json"))
}

fn committed(name: &str) -> String {
    std::fs::read_to_string(file(name))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file(name).display()))
}

fn load(name: &str) -> ProblemSet {
    serde_json::from_str(&committed(name)).expect("the file is a problem set")
}

#[test]
fn committed_files_are_byte_for_byte_what_the_generator_produces() {
    let sets = shipped_sets().expect("the sets generate");
    assert_eq!(sets.len(), SHIPPED_SETS.len());
    for set in &sets {
        // The rendering `ponder problems` uses (crates/cli/src/problems.rs): pretty JSON
        // and a final newline.
        let want = serde_json::to_string_pretty(set).expect("serialises") + "\n";
        assert!(
            committed(&set.name) == want,
            "public/problems/{}.json is stale: run `cargo run -p ponder-cli -- problems --out \
             public/problems`",
            set.name
        );
    }
}

#[test]
fn files_load_validate_and_have_the_promised_shape() {
    for (spec, name) in [(TEST_SET, "test"), (VALIDATION_SET, "validation")] {
        let set = load(name);
        assert_eq!((set.name.as_str(), set.seed), (name, spec.seed));
        let problems = set.problems().expect("the file validates");
        assert_eq!(problems.len(), spec.per_level * 5);
        let mut per_level: BTreeMap<Level, usize> = BTreeMap::new();
        for record in &set.problems {
            *per_level.entry(record.level).or_default() += 1;
        }
        assert_eq!(
            per_level.into_iter().collect::<Vec<_>>(),
            Level::ALL.map(|l| (l, spec.per_level)).to_vec()
        );
        let keys: HashSet<_> = problems.iter().map(Problem::key).collect();
        assert_eq!(keys.len(), problems.len(), "{name} repeats a problem");
        assert!(problems.iter().all(is_held_out), "{name}");
    }
    assert_eq!(load("test").problems.len(), 500);
    assert_eq!(load("validation").problems.len(), 100);
}

#[test]
fn the_sets_are_disjoint_and_are_the_held_out_keys() {
    let test = load("test");
    let validation = load("validation");
    let test_keys: HashSet<_> = test.problems.iter().map(|p| p.text.clone()).collect();
    assert!(validation
        .problems
        .iter()
        .all(|p| !test_keys.contains(&p.text)));
    let from_files = HeldOut::from_sets(&[test, validation]).expect("the files validate");
    assert_eq!(&from_files, HeldOut::shipped());
    assert_eq!(from_files.len(), 600);
}

#[test]
fn training_never_draws_a_held_out_problem_even_from_the_test_seed() {
    // With the test set's own seed, the plain generator reproduces the test set's first
    // problems; the training generator must skip every one of them.
    let plain = ponder_core::arithmetic::Generator::new(TEST_SET.seed);
    let training = TrainingGenerator::new(TEST_SET.seed);
    for level in Level::ALL {
        let mut skipped = 0;
        for index in 0..150 {
            let p = training.problem(level, index).expect("generates");
            assert!(!is_held_out(&p), "{}", p.text());
            let q = plain.problem(level, index).expect("generates");
            skipped += usize::from(is_held_out(&q));
        }
        assert!(
            skipped >= 95,
            "level {level}: only {skipped} test problems reproduced"
        );
    }
    // Any other seed: a few thousand training problems, none held out.
    let training = TrainingGenerator::new(123);
    for level in Level::ALL {
        for index in 0..2000 {
            assert!(!is_held_out(
                &training.problem(level, index).expect("generates")
            ));
        }
    }
}

#[test]
fn tampered_files_are_refused_with_the_reason() {
    let good = load("validation");
    let mut bad = good.clone();
    bad.problems[3].answer += 1;
    assert!(matches!(bad.problems(), Err(SetError::Answer { .. })));
    let mut bad = good.clone();
    bad.problems[3].steps.pop();
    assert!(matches!(bad.problems(), Err(SetError::Steps { .. })));
    let mut bad = good.clone();
    bad.problems[3].text = format!("({})", bad.problems[3].text);
    assert!(matches!(bad.problems(), Err(SetError::NotCanonical { .. })));
    let mut bad = good.clone();
    bad.problems[4].id = bad.problems[3].id.clone();
    assert!(matches!(bad.problems(), Err(SetError::DuplicateId { .. })));
    let mut bad = good.clone();
    bad.problems[3].level = Level::new(5).expect("level");
    assert!(matches!(bad.problems(), Err(SetError::Level { .. })));
    let mut bad = good.clone();
    bad.version = 99;
    let err = bad.problems().expect_err("refused");
    assert!(err.to_string().contains("ponder problems"), "{err}");
    let mut bad = good;
    bad.problems[0].text = "3+".into();
    assert!(matches!(bad.problems(), Err(SetError::Problem { .. })));
    // A level number out of range does not even deserialise.
    let text = committed("validation").replacen("\"level\": 1", "\"level\": 9", 1);
    let err = serde_json::from_str::<ProblemSet>(&text).expect_err("no level 9");
    assert!(err.to_string().contains("levels are 1 to 5"), "{err}");
}
