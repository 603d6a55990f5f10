//! The native engine's greedy and sampled continuations equal the recorded ones that the browser test
//! (`web_greedy.rs`) must reproduce, so native and wasm agree through this fixture.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use ponder_model::{Engine, LanguageModel};

#[test]
fn native_greedy_matches_the_fixture() {
    let bytes = common::smollm2_bytes();
    let mut engine = Engine::new(LanguageModel::from_gguf_bytes(&bytes).expect("loads"));
    common::fixture::check_recorded_continuations(&mut engine);
}
