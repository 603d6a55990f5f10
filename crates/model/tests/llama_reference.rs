//! Our llama forward against candle-transformers' quantized llama, an independent
//! implementation, on a real third-party model: SmolLM2-135M-Instruct, Q4_1.
//!
//! Two comparisons:
//!
//! - **Exact arithmetic** (`CANDLE_DEQUANTIZE_ALL=1` for both models, set in
//!   `llama_reference_f32.rs`, a separate process): weights are dequantized to f32 and every
//!   product is a plain f32 product, so the two forwards differ only in summation order.
//!   Tolerance 1e-3 absolute on logits, and the greedy continuation of 64 tokens must be
//!   identical.
//! - **Quantized kernels** (this file, what Ponder runs): each projection quantizes its
//!   input rows to 8 bits per block, as llama.cpp does. Up to five prompt tokens the two
//!   agree bit for bit; beyond that candle's attention uses a blocked matrix product whose
//!   last-bit differences occasionally flip one 8-bit quantization step, and such steps
//!   accumulate over 30 layers. Measured: max 1.3% to 3.5%, mean 0.3% to 1% of the logit
//!   scale. Tolerance: max 6% and mean 2% of the scale, and our top token among candle's
//!   five best.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::reference::{compare, Mode};

#[test]
fn smollm2_with_quantized_kernels_tracks_candle() {
    compare(Mode::Quantized);
}
