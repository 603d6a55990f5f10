// A quantized weight block as the CPU engine's qmatmul.rs computes with it, for the two
// product layouts (qmatmul.wgsl, qmatmul_rows.wgsl): its 32 integers w with value d·w + m,
// and their exact integer products with a block of quantized activations, summed into
// four lanes (lane l takes positions 8g + 2l and 8g + 2l + 1). The including kernel binds
// `weights` (blocks.wgsl) and `xq` (the activations, four signed bytes a word).

// Signed byte k (0..3) of a packed word.
fn signed_byte(word: u32, k: u32) -> i32 {
    return i32(word << (24u - 8u * k)) >> 24u;
}

// The block whose first byte is at `base`: its integers into `w`, and (d, m) returned.
// Q4_0 stores w + 8 (so m = −8·d), Q4_1 stores m, Q8_0 has none.
fn q_block(base: u32, w: ptr<function, array<i32, 32>>) -> vec2<f32> {
    let d = half_at(base);
    var m = 0.0;
    if (WEIGHT_TYPE == TYPE_Q8_0) {
        for (var j = 0u; j < 8u; j++) {
            let packed = word_at(base + 2u + 4u * j);
            for (var k = 0u; k < 4u; k++) {
                (*w)[4u * j + k] = signed_byte(packed, k);
            }
        }
    } else {
        var qs = base + 2u;
        m = -8.0 * d;
        if (WEIGHT_TYPE == TYPE_Q4_1) {
            qs = base + 4u;
            m = half_at(base + 2u);
        }
        // Element j sits in the low nibble of byte j, element j + 16 in its high one.
        for (var j = 0u; j < 4u; j++) {
            let packed = word_at(qs + 4u * j);
            for (var k = 0u; k < 4u; k++) {
                let byte = (packed >> (8u * k)) & 0xffu;
                (*w)[4u * j + k] = i32(byte & 0xfu);
                (*w)[16u + 4u * j + k] = i32(byte >> 4u);
            }
        }
    }
    return vec2<f32>(d, m);
}

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
