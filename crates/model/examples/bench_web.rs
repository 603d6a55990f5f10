//! The runtime benchmark as a wasm module for the browser (see `tests/e2e/bench/`): built by
//! `cargo xtask bench` with wasm-bindgen `--target web`, it exposes `bench(bytes, …)`,
//! which returns the report as JSON.

#[cfg(target_arch = "wasm32")]
mod web {
    use wasm_bindgen::prelude::*;

    fn now() -> f64 {
        js_sys::Reflect::get(&js_sys::global(), &"performance".into())
            .ok()
            .and_then(|p| js_sys::Reflect::get(&p, &"now".into()).ok().map(|f| (p, f)))
            .and_then(|(p, f)| f.dyn_into::<js_sys::Function>().ok().map(|f| (p, f)))
            .and_then(|(p, f)| f.call0(&p).ok())
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0)
            / 1000.0
    }

    /// The text of the benchmark prompt (so other runtimes get the same tokens).
    #[wasm_bindgen]
    pub fn bench_prompt(bytes: &[u8], prompt_tokens: usize) -> Result<String, JsValue> {
        let file = ponder_model::gguf::GgufFile::read(bytes)
            .map_err(|e| JsValue::from_str(&e.to_string()))?;
        let tokenizer = ponder_model::tokenizer::Tokenizer::from_gguf(&file)
            .map_err(|e| JsValue::from_str(&e.to_string()))?;
        Ok(tokenizer.decode(&ponder_model::bench::prompt_ids(&tokenizer, prompt_tokens)))
    }

    /// Runs the benchmark on the model in `bytes`; returns JSON, or throws a message.
    #[wasm_bindgen]
    pub fn bench(
        bytes: &[u8],
        prompt_tokens: usize,
        decode_tokens: usize,
        batch: usize,
    ) -> Result<String, JsValue> {
        ponder_model::bench::run(bytes, prompt_tokens, decode_tokens, batch, &now)
            .map(|r| r.to_json())
            .map_err(|e| JsValue::from_str(&e.to_string()))
    }
}
