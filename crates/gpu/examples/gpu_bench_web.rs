//! The GPU engine's decode benchmark as a wasm module for the browser (see
//! `tests/e2e/bench/`): built by `cargo xtask bench` with wasm-bindgen `--target web`, it
//! exposes `bench_gpu(bytes, steps)`, which measures decode tokens/s at 1, 16 and 64
//! sequences on the page's WebGPU adapter beside the CPU engine in the same tab
//! (`ponder_gpu::bench`, as natively) and resolves to the report as JSON.

#[cfg(target_arch = "wasm32")]
mod web {
    use std::sync::Arc;

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

    fn error(e: impl std::fmt::Display) -> JsValue {
        JsValue::from_str(&e.to_string())
    }

    /// Runs the benchmark on the model in `bytes`; resolves to JSON, or rejects with a
    /// message.
    #[wasm_bindgen]
    // The device is shared through an Arc as natively; a tab runs on one thread.
    #[allow(clippy::arc_with_non_send_sync)]
    pub async fn bench_gpu(bytes: Vec<u8>, steps: usize) -> Result<String, JsValue> {
        let file = ponder_model::gguf::GgufFile::read(&bytes).map_err(error)?;
        let gpu = Arc::new(ponder_gpu::Gpu::new().await.map_err(error)?);
        let r = gpu.report.clone();
        let rates = ponder_gpu::bench::decode_rates(gpu, &file, &bytes, steps, &[1, 16, 64], &now)
            .await
            .map_err(error)?;
        let rows: Vec<String> = rates.iter().map(|r| r.to_json()).collect();
        Ok(format!(
            "{{\"adapter\": {:?}, \"software_gpu\": {}, \"steps\": {steps}, \"rows\": [{}]}}",
            format!("{} {} {}", r.vendor, r.architecture, r.description).trim(),
            r.is_software(),
            rows.join(", ")
        ))
    }
}
