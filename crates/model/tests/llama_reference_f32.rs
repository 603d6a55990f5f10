//! See `llama_reference.rs`: the same comparison with weights dequantized to f32 in both
//! models, where the forwards must agree to 1e-3 and greedy decoding for 64 tokens.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::reference::{compare, Mode};

#[test]
fn smollm2_in_f32_arithmetic_matches_candle() {
    // Read by candle when a quantized matrix is built (both models build theirs after this
    // line, in this process only: each test file is its own process).
    std::env::set_var("CANDLE_DEQUANTIZE_ALL", "1");
    compare(Mode::F32);
}
