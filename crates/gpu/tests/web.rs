//! The GPU engine in headless Chromium, on its WebGPU adapter (SwiftShader here: no
//! `shader-f16`, unlike lavapipe natively): the built-in S gives the CPU engine's logits
//! bit for bit, and a weighted best-of-8 with the PRM, run through `run_async` because the
//! GPU answers on a later turn, selects what the CPU selects.

#![cfg(target_arch = "wasm32")]

use std::sync::Arc;

use ponder_core::arithmetic::{shipped_sets, ArithmeticTask};
use ponder_core::spec::ExperimentSpec;
use ponder_core::strategy::Context;
use ponder_gpu::kernels::qmatmul::Layout;
use ponder_gpu::model::{load, Capacity, GpuTransformer, Item};
use ponder_gpu::Gpu;
use ponder_model::gguf::GgufFile;
use ponder_model::transformer::{BatchItem, Transformer, Wanted};
use ponder_model::{Engine, LanguageModel};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const S: &[u8] = include_bytes!("../../../public/models/ponder-s.gguf");
const PRM: &[u8] = include_bytes!("../../../public/models/ponder-prm.gguf");

// The models share the device through an Arc, as natively; in a browser tab everything
// runs on one thread, where wgpu's handles are neither Send nor Sync.
#[allow(clippy::arc_with_non_send_sync)]
async fn gpu() -> Arc<Gpu> {
    Arc::new(Gpu::new().await.unwrap_or_else(|e| {
        panic!("{e}: the browser tests need Chromium's WebGPU adapter (run them through `cargo xtask test`)")
    }))
}

/// Both layouts of the quantized products (the cooperative one is what a real GPU runs;
/// SwiftShader itself gets the row-per-thread one), compiled by the browser's WGSL compiler.
#[wasm_bindgen_test]
async fn logits_equal_the_cpu_engine_in_the_browser() {
    for layout in [Layout::Cooperative, Layout::RowPerThread] {
        logits_equal_the_cpu_engine_in(layout).await;
    }
}

#[allow(clippy::arc_with_non_send_sync)]
async fn logits_equal_the_cpu_engine_in(layout: Layout) {
    let mut device = Gpu::new().await.expect("Chromium's WebGPU adapter");
    device.product_layout = layout;
    let gpu = Arc::new(device);
    let file = GgufFile::read(S).expect("gguf");
    let cpu = Transformer::from_gguf(&file, S).expect("cpu model");
    let mut model = GpuTransformer::from_gguf(
        gpu,
        &file,
        S,
        Capacity {
            slots: 2,
            positions: 256,
        },
    )
    .await
    .expect("gpu model");
    let prompt: Vec<u32> = "Q: (12 - 5) * 7 + 100 = ?\n"
        .bytes()
        .map(u32::from)
        .collect();
    let want = Wanted {
        logits: (0..prompt.len()).collect(),
        hidden: vec![prompt.len() - 1],
    };
    let mut cache = cpu.new_cache();
    let expected = cpu
        .forward(&mut [BatchItem {
            cache: &mut cache,
            tokens: &prompt,
            wanted: want.clone(),
        }])
        .expect("cpu forward");
    let slot = model.take_slot().expect("slot");
    let got = model
        .forward(&[Item {
            slot,
            start: 0,
            tokens: &prompt,
            wanted: want,
        }])
        .await
        .expect("gpu forward");
    assert_eq!(got[0].logits, expected[0].logits, "{layout:?}");
    assert_eq!(got[0].hidden, expected[0].hidden, "{layout:?}");
}

#[wasm_bindgen_test]
async fn a_strategy_selects_the_cpus_answer_in_the_browser() {
    let gpu = gpu().await;
    let capacity = Capacity {
        slots: 8,
        positions: 256,
    };
    let mut policy = Engine::new(load(gpu.clone(), S, capacity).await.expect("S on the GPU"));
    let mut prm = Engine::new(load(gpu, PRM, capacity).await.expect("PRM on the GPU"));
    let mut cpu_policy = Engine::new(LanguageModel::from_gguf_bytes(S).expect("S"));
    let mut cpu_prm = Engine::new(LanguageModel::from_gguf_bytes(PRM).expect("PRM"));
    let sets = shipped_sets().expect("sets");
    let test = sets.iter().find(|s| s.name == "test").expect("a test set");
    let problems = test.problems().expect("problems");
    let spec = ExperimentSpec::from_query("strategy=best-of-n&n=8&seed=2&problem=224").spec;
    let problem = &problems[224];
    let task = ArithmeticTask;
    let on_gpu = {
        let mut ctx = Context::new(&mut policy, &mut prm, &task, problem).with_max_batch(16);
        spec.run_async(&mut ctx).await.expect("runs on the GPU")
    };
    let on_cpu = {
        let mut ctx =
            Context::new(&mut cpu_policy, &mut cpu_prm, &task, problem).with_max_batch(16);
        spec.run(&mut ctx).expect("runs on the CPU")
    };
    assert_eq!(on_gpu.answer, on_cpu.answer);
    assert_eq!(on_gpu.candidates, on_cpu.candidates);
}
