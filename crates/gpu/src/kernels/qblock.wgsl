// What the two layouts of the quantized product (qmatmul.wgsl, qmatmul_rows.wgsl) share:
// their shape and bindings, and a weight block's exact integer products (its 32 integers
// w from blocks.wgsl's q_block) with a block of quantized activations, summed into four
// lanes as the CPU engine's qmatmul.rs sums them (lane l takes positions 8g + 2l and
// 8g + 2l + 1).

const ACCUMULATE: u32 = 1u;
const BIAS: u32 = 2u;
const LOGIT_ROWS: u32 = 4u;

// A matrix split by rows (an output projection past the binding limit) computes its
// rows `row_offset ..` of outputs `out_stride` wide; a whole matrix has 0 and `rows`.
struct Shape {
    rows: u32,
    cols: u32,
    flags: u32,
    out_stride: u32,
    row_offset: u32,
    unused0: u32,
    unused1: u32,
    unused2: u32,
}

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
