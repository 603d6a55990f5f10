//! SmolLM2-135M-Instruct in headless Chromium (wasm, CPU): the same greedy and sampled tokens as the
//! native engine (through the fixture that `greedy_fixture.rs` checks natively).
//!
//! The model is fetched over HTTP from the URL in `PONDER_TEST_MODEL_URL`, set at build time
//! by `cargo xtask test`, which serves the model cache on 127.0.0.1. Without it the test
//! fails with instructions rather than skipping.

#![cfg(target_arch = "wasm32")]

use ponder_core::DrawKey;
use ponder_model::sampler::SamplingParams;
use ponder_model::{Engine, LanguageModel};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn fetch_bytes(url: &str) -> Vec<u8> {
    let window = web_sys::window().expect("a window");
    let response: web_sys::Response =
        wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url))
            .await
            .unwrap_or_else(|e| panic!("fetching {url} failed: {e:?}"))
            .unchecked_into();
    assert!(response.ok(), "fetching {url}: HTTP {}", response.status());
    let buffer = wasm_bindgen_futures::JsFuture::from(response.array_buffer().expect("body"))
        .await
        .expect("body read");
    js_sys::Uint8Array::new(&buffer).to_vec()
}

#[wasm_bindgen_test]
async fn browser_greedy_matches_native() {
    let Some(url) = option_env!("PONDER_TEST_MODEL_URL") else {
        panic!("PONDER_TEST_MODEL_URL was not set at build time; run the browser tests through `cargo xtask test`");
    };
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
    let bytes = fetch_bytes(url).await;
    let mut engine = Engine::new(LanguageModel::from_gguf_bytes(&bytes).expect("loads"));
    drop(bytes);
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
