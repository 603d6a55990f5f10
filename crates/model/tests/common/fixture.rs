//! The recorded SmolLM2 continuations (`fixtures/smollm2_greedy.json`) that the native
//! and the browser engine must both reproduce.

use ponder_core::DrawKey;
use ponder_model::sampler::SamplingParams;
use ponder_model::Engine;

/// Checks the engine's tokenization of the prompt, its greedy continuation and its sampled
/// one (temperature 0.8, top-k 40, top-p 0.95, `DrawKey::new(7, &[0])`) against the fixture.
pub fn check_recorded_continuations(engine: &mut Engine) {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/smollm2_greedy.json")).expect("fixture");
    let ids = |key: &str| -> Vec<u32> {
        fixture[key]
            .as_array()
            .expect("array")
            .iter()
            .map(|v| v.as_u64().expect("id") as u32)
            .collect()
    };
    let prompt = fixture["prompt"].as_str().expect("prompt");
    assert_eq!(
        engine.model.tokenizer.encode(prompt, false),
        ids("prompt_ids")
    );

    let seq = engine.start_tokens(&ids("prompt_ids")).expect("a sequence");
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
    let seq = engine.start_tokens(&ids("prompt_ids")).expect("a sequence");
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
