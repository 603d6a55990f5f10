//! The self-test the page runs before it trusts a WebGPU adapter: a quantized product on
//! the GPU against the CPU engine's, which must agree bit for bit.
//!
//! Software adapters and broken drivers can accept a pipeline and still return wrong
//! numbers without any error. This runs the kernels inference uses (activation
//! quantization and the Q8_0 product, with the exact division they rely on) on a fixed
//! matrix, so an adapter that passes computes what the CPU engine computes.

use ponder_model::qmatmul::{BlockType, QMatrix};

use crate::device::{f32s, Gpu};
use crate::error::{GpuError, Result};
use crate::kernels::matmul::Weights;
use crate::kernels::qmatmul::Standalone;
use crate::kernels::WeightType;

const ROWS: usize = 48;
const COLS: usize = 160;
const TOKENS: usize = 5;

/// The test's Q8_0 matrix: scales and values that vary by row and block.
fn matrix() -> Vec<u8> {
    let mut bytes = Vec::with_capacity(ROWS * COLS / 32 * 34);
    for block in 0..ROWS * COLS / 32 {
        // f16 scales between 2^-7 and 2^-4, as a block of a trained model has.
        let scale: u16 = 0x2000 + ((block * 97) % 0x0c00) as u16;
        bytes.extend(scale.to_le_bytes());
        bytes.extend((0..32).map(|i| ((block * 31 + i * 17) % 255) as u8));
    }
    bytes
}

/// The test's activations: irregular values, some large, some tiny, one exactly zero.
fn input() -> Vec<f32> {
    (0..TOKENS * COLS)
        .map(|i| {
            let v = ((i * 7919) % 2003) as f32 / 2003.0 - 0.5;
            if i % 41 == 0 {
                0.0
            } else {
                v * (1 + i % 5) as f32
            }
        })
        .collect()
}

/// Runs the product on the GPU and compares it with the CPU engine's.
pub async fn check(gpu: &Gpu) -> Result<()> {
    let bytes = matrix();
    let x = input();
    let cpu = QMatrix::new(BlockType::Q8_0, ROWS, COLS, &bytes)
        .ok_or_else(|| GpuError::Validation("the self-test matrix has the wrong size".into()))?
        .matmul(&x);
    let weights = Weights::upload(gpu, "self-test", WeightType::Q8_0, ROWS, COLS, &bytes)?;
    let product = Standalone::new(gpu, &weights, &x, TOKENS, gpu.product_layout).await?;
    let mut encoder = gpu
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        product.encode(&mut pass);
    }
    gpu.queue.submit([encoder.finish()]);
    let got = f32s(&gpu.read(&product.y, (TOKENS * ROWS * 4) as u64).await?);
    match got
        .iter()
        .zip(&cpu)
        .position(|(g, c)| g.to_bits() != c.to_bits())
    {
        None if got.len() == cpu.len() => Ok(()),
        None => Err(GpuError::Validation(format!(
            "the product came back with {} of {} values",
            got.len(),
            cpu.len()
        ))),
        Some(i) => Err(GpuError::Validation(format!(
            "value {i} of a known product is {} on the GPU and {} on the CPU",
            got[i], cpu[i]
        ))),
    }
}
