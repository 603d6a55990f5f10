//! What the GPU tests share: the device, the model files, error measures.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use ponder_gpu::kernels::qmatmul::Layout;
use ponder_gpu::kernels::WeightType;
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

/// A small xorshift generator: the same numbers on every run.
pub struct Numbers(pub u64);

impl Numbers {
    pub fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as u32
    }
    /// Uniform in [-1, 1).
    pub fn value(&mut self) -> f32 {
        (self.next() % 2_000_000) as f32 / 1_000_000.0 - 1.0
    }
    pub fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// An f16 of magnitude about 2^-6 .. 2^-3 (a typical block scale), as its bits.
pub fn scale_bits(n: &mut Numbers) -> [u8; 2] {
    let exp = 9 + n.next() % 4;
    let bits = ((n.next() % 2) << 15) as u16 | (exp << 10) as u16 | (n.next() % 1024) as u16;
    bits.to_le_bytes()
}

/// Random GGUF bytes of `rows` rows of `cols` values of type `ty`: random bytes, with
/// every f16 field a typical block scale.
pub fn weights(ty: WeightType, rows: usize, cols: usize, n: &mut Numbers) -> Vec<u8> {
    let (per, bytes) = ty.file_block();
    let scales: &[usize] = match ty {
        WeightType::F32 => {
            return (0..rows * cols)
                .flat_map(|_| n.value().to_le_bytes())
                .collect()
        }
        WeightType::F16 => {
            return (0..rows * cols).flat_map(|_| scale_bits(n)).collect();
        }
        WeightType::Q4_0 | WeightType::Q5_0 | WeightType::Q8_0 => &[0],
        WeightType::Q4_1 | WeightType::Q5_1 | WeightType::Q4K => &[0, 2],
        WeightType::Q6K => &[208],
    };
    let mut out = Vec::new();
    for _ in 0..rows * cols / per as usize {
        let mut block: Vec<u8> = (0..bytes).map(|_| n.byte()).collect();
        for &at in scales {
            block[at..at + 2].copy_from_slice(&scale_bits(n));
        }
        out.extend(block);
    }
    out
}
