// A quantized weight block's exact integer products (its 32 integers w from blocks.wgsl's
// q_block) with a block of quantized activations, summed into four lanes as the CPU
// engine's qmatmul.rs sums them (lane l takes positions 8g + 2l and 8g + 2l + 1), for the
// two product layouts (qmatmul.wgsl, qmatmul_rows.wgsl). The including kernel binds `xq`
// (the activations, four signed bytes a word).

// The four lanes of w · x for the activation block starting at word `xb` of `xq`.
fn q_lanes(w: ptr<function, array<i32, 32>>, xb: u32) -> vec4<i32> {
    var lanes = vec4<i32>(0);
    for (var g = 0u; g < 4u; g++) {
        // Positions 8g .. 8g + 7 are the two words xb + 2g and xb + 2g + 1.
        let lo = xq[xb + 2u * g];
        let hi = xq[xb + 2u * g + 1u];
        let i = 8u * g;
        lanes.x += (*w)[i] * signed_byte(lo, 0u) + (*w)[i + 1u] * signed_byte(lo, 1u);
        lanes.y += (*w)[i + 2u] * signed_byte(lo, 2u) + (*w)[i + 3u] * signed_byte(lo, 3u);
        lanes.z += (*w)[i + 4u] * signed_byte(hi, 0u) + (*w)[i + 5u] * signed_byte(hi, 1u);
        lanes.w += (*w)[i + 6u] * signed_byte(hi, 2u) + (*w)[i + 7u] * signed_byte(hi, 3u);
    }
    return lanes;
}
