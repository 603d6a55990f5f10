//! The built-in model files in `public/models/` load through `ponder-model` and solve the
//! shipped validation set at the accuracy reported for them (greedy decoding is
//! deterministic, and bit-identical across platforms, so the counts are exact).

use ponder_core::arithmetic::shipped_sets;
use ponder_model::{Engine, LanguageModel};
use ponder_train::eval::greedy_pass_at_1;

fn solved_per_level(file: &str) -> Vec<usize> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../public/models")
        .join(file);
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut engine = Engine::new(LanguageModel::from_gguf_bytes(&bytes).expect("loads"));
    let sets = shipped_sets().expect("sets");
    let set = sets
        .iter()
        .find(|s| s.name == "validation")
        .expect("validation");
    let problems: Vec<_> = set
        .problems
        .iter()
        .map(|p| p.level)
        .zip(set.problems().expect("problems"))
        .collect();
    greedy_pass_at_1(&mut engine, &problems, 32, 16)
        .expect("eval")
        .iter()
        .map(|s| s.solved)
        .collect()
}

#[test]
fn small_base_model_solves_the_validation_set_as_reported() {
    // Reported for ponder-s.gguf (2000 steps): 20, 7, 5, 0, 0 of 20 per level.
    assert_eq!(solved_per_level("ponder-s.gguf"), vec![20, 7, 5, 0, 0]);
}
