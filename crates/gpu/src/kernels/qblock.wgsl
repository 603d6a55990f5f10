// What the two layouts of the quantized product (qmatmul.wgsl, qmatmul_rows.wgsl) share
// beyond product.wgsl: their bindings, and a weight block's exact integer products (its 32 integers
// w from blocks.wgsl's q_block) with a block of quantized activations, summed into four
// lanes as the CPU engine's qmatmul.rs sums them (lane l takes positions 8g + 2l and
// 8g + 2l + 1).

@group(0) @binding(0) var<storage, read> weights: array<u32>;
@group(0) @binding(1) var<storage, read> xq: array<u32>;
@group(0) @binding(2) var<storage, read> xd: array<f32>;
@group(0) @binding(3) var<storage, read> xs: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<uniform> shape: Shape;
@group(0) @binding(7) var<uniform> counts: Counts;

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

// A block's two terms for one token: its four integer lanes times the two scales, and its
// minimum term m·d·Σq, each rounded once (`kept`), whoever adds them up after.
struct Terms {
    lanes: vec4<f32>,
    min: f32,
}

// Block `b` (of a row's `blocks`) with integers `w` and (d, m) `dm`, against `token`.
fn block_terms(w: ptr<function, array<i32, 32>>, dm: vec2<f32>, token: u32, b: u32, blocks: u32) -> Terms {
    let lanes = q_lanes(w, (token * shape.cols + b * 32u) >> 2u);
    let block = token * blocks + b;
    let scale = dm.x * xd[block];
    return Terms(kept4(vec4<f32>(lanes) * scale), kept(dm.y * xs[block]));
}
