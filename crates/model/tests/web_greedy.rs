//! SmolLM2-135M-Instruct in headless Chromium (wasm, CPU): the same greedy and sampled tokens as the
//! native engine (through the fixture that `greedy_fixture.rs` checks natively).
//!
//! The model is fetched over HTTP from the URL in `PONDER_TEST_MODEL_URL`, set at build time
//! by `cargo xtask test`, which serves the model cache on 127.0.0.1. Without it the test
//! fails with instructions rather than skipping.

#![cfg(target_arch = "wasm32")]

mod common;

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
    let bytes = fetch_bytes(url).await;
    let mut engine = Engine::new(LanguageModel::from_gguf_bytes(&bytes).expect("loads"));
    drop(bytes);
    common::fixture::check_recorded_continuations(&mut engine);
}
