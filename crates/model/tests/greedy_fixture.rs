//! The native engine's greedy and sampled continuations equal the recorded ones that the browser test
//! (`web_greedy.rs`) must reproduce, so native and wasm agree through this fixture.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use ponder_core::DrawKey;
use ponder_model::sampler::SamplingParams;
use ponder_model::{Engine, LanguageModel};

#[test]
fn native_greedy_matches_the_fixture() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/smollm2_greedy.json")).expect("fixture");
    let ids = |key: &str| -> Vec<u32> {
        fixture[key]
            .as_array()
            .expect("array")
            .iter()
            .map(|v| v.as_u64().expect("id") as u32)
            .collect()
    };
    let bytes = common::smollm2_bytes();
    let mut engine = Engine::new(LanguageModel::from_gguf_bytes(&bytes).expect("loads"));
    assert_eq!(
        engine
            .model
            .tokenizer
            .encode(fixture["prompt"].as_str().expect("prompt"), false),
        ids("prompt_ids")
    );
    let seq = engine.start_tokens(&ids("prompt_ids"));
    let got = engine
        .generate(
            seq,
            &SamplingParams::GREEDY,
            DrawKey::new(0, &[0]),
            32,
            &mut |_| {},
        )
        .expect("generates");
    assert_eq!(got, ids("greedy_ids"));

    // Sampling: the same draws, so the same tokens.
    let seq = engine.start_tokens(&ids("prompt_ids"));
    let params = SamplingParams {
        temperature: 0.8,
        top_k: 40,
        top_p: 0.95,
    };
    let got = engine
        .generate(seq, &params, DrawKey::new(7, &[0]), 32, &mut |_| {})
        .expect("generates");
    assert_eq!(got, ids("sampled_ids"));
}
