//! Browser tests: run with `cargo xtask test` (wasm-bindgen-test in headless Chromium
//! through chromedriver, with the flags that give Chromium its software WebGPU adapter;
//! see `webdriver.json`).
//!
//! These fail, not skip, when the browser offers no WebGPU adapter: the whole point of
//! this layer is that our kernels run on a real WebGPU implementation.

#![cfg(target_arch = "wasm32")]

use ponder::backend::{self, BackendReport};
use ponder::url_state::{UrlState, View};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn browser_offers_a_webgpu_device_with_readable_limits() {
    let gpu = backend::request_gpu()
        .await
        .unwrap_or_else(|e| panic!("no WebGPU device ({e}): the headless Chromium flags in webdriver.json stopped working?"));
    let summary = backend::summarize(&gpu.report);
    // Every WebGPU implementation must offer at least the spec's defaults.
    assert!(
        summary.max_storage_buffer_binding_size >= 128 << 20,
        "maxStorageBufferBindingSize {} is below the spec minimum",
        summary.max_storage_buffer_binding_size
    );
    assert!(summary.max_buffer_size >= 256 << 20);
    assert!(!summary.vendor.is_empty(), "the adapter names its vendor");
    assert_eq!(
        summary.subgroups,
        summary.features.iter().any(|f| f == "subgroups")
    );
    assert_eq!(
        summary.shader_f16,
        summary.features.iter().any(|f| f == "shader-f16")
    );
}

#[wasm_bindgen_test]
async fn the_self_test_passes_on_the_browsers_adapter() {
    let gpu = backend::request_gpu().await.expect("a WebGPU device");
    ponder_gpu::self_test::check(&gpu)
        .await
        .expect("a quantized product equal to the CPU engine's");
}

#[wasm_bindgen_test]
async fn probe_reports_webgpu_after_the_self_test() {
    match backend::probe().await {
        BackendReport::WebGpu(summary) => {
            assert!(!summary.display_name().is_empty());
        }
        BackendReport::Cpu { reason } => panic!("probe fell back to the CPU: {reason}"),
    }
}

#[wasm_bindgen_test]
async fn timeout_fires_for_a_promise_that_never_settles() {
    let never = js_sys::Promise::new(&mut |_, _| {});
    let outcome = backend::with_timeout(never, 20)
        .await
        .expect("no rejection");
    assert!(outcome.is_none());
    let now = js_sys::Promise::resolve(&wasm_bindgen::JsValue::UNDEFINED);
    let outcome = backend::with_timeout(now, 5_000)
        .await
        .expect("no rejection");
    assert!(
        outcome.is_some(),
        "a promise resolving to undefined is not a timeout"
    );
}

#[wasm_bindgen_test]
fn url_state_parses_in_the_browser_as_natively() {
    let s = UrlState::parse("?view=classroom&seed=42&note=caf%C3%A9");
    assert_eq!(s.view, View::Classroom);
    assert_eq!(s.get("note"), Some("café"));
    assert_eq!(UrlState::parse(&s.to_query()), s);
}
