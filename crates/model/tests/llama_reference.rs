//! Our llama forward against candle-transformers' quantized llama, an independent
//! implementation, on a real third-party model: SmolLM2-135M-Instruct, Q4_1.
//!
//! Two comparisons:
//!
//! - **Exact arithmetic** (`CANDLE_DEQUANTIZE_ALL=1` for both models, set in
//!   `llama_reference_f32.rs`, a separate process): weights are dequantized to f32 and every
//!   product is a plain f32 product, so the two forwards differ only in summation order.
//!   Tolerance 1e-3 absolute on logits (measured: at most 4e-5), and the greedy
//!   continuation of 64 tokens must be identical.
//! - **Quantized kernels** (this file, what Ponder runs): each projection quantizes its
//!   input rows to 8 bits per block, as llama.cpp and candle do, but Ponder's kernels
//!   (`qmatmul.rs`) and attention add in another order than candle's; a last-bit
//!   difference occasionally flips one 8-bit quantization step of a later projection's
//!   input, and such steps accumulate over 30 layers. Measured over 3 prompts × 4 steps:
//!   max difference 1.3% to 4.3%, mean 0.27% to 1.1% of the largest logit. Tolerance: max
//!   6% and mean 2% of it, and the same top token at every checked step.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::reference::{compare, Mode};

#[test]
fn smollm2_with_quantized_kernels_tracks_candle() {
    compare(Mode::Quantized);
}
