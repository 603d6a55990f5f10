//! What the GPU tests share: the device, the model files, error measures.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use ponder_gpu::kernels::qmatmul::Layout;
use ponder_gpu::Gpu;

pub fn models_dir() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../public/models")
}

pub fn built_in(name: &str) -> Vec<u8> {
    let path = models_dir().join(format!("{name}.gguf"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// SmolLM2-135M-Instruct Q4_1, which `cargo xtask test` fetches (or `PONDER_SMOLLM2`).
pub fn smollm2() -> Vec<u8> {
    let path = std::env::var_os("PONDER_SMOLLM2")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/ponder/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        });
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); run `cargo xtask test` once to fetch it, or set PONDER_SMOLLM2",
            path.display()
        )
    })
}

/// The first GPU adapter. The tests fail without one rather than pass silently.
pub fn gpu() -> Arc<Gpu> {
    Arc::new(device())
}

/// The first GPU adapter, running the quantized products in `layout`.
pub fn gpu_with(layout: Layout) -> Arc<Gpu> {
    let mut gpu = device();
    gpu.product_layout = layout;
    Arc::new(gpu)
}

fn device() -> Gpu {
    Gpu::new_blocking().unwrap_or_else(|e| {
        panic!("{e}\nThe GPU tests need a Vulkan driver: install mesa-vulkan-drivers (lavapipe) or run `cargo xtask test`.")
    })
}

/// Largest |a − b| over the largest |b|.
pub fn relative_error(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs())) / scale
}

pub fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &x)| {
            if x > best.1 {
                (i, x)
            } else {
                best
            }
        })
        .0
}
