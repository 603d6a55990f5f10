// y[t][r] (+)= W[r] · x[t] (+ bias[r]) for quantized weights (Q4_0, Q4_1, Q8_0) and
// activations quantized by quantize.wgsl: the CPU engine's qmatmul.rs, operation for
// operation. Per block the products are exact integers summed into four lanes (lane l
// takes positions 8g + 2l and 8g + 2l + 1), each lane times the two scales is added to a
// running f32 lane in block order, the minimum terms m·d·Σq accumulate apart, and the
// end sum is ((l0 + l1) + l2) + l3 + min. So the GPU reproduces the CPU's numbers (up
// to WGSL's rounding of division, see exact.wgsl), which keeps a shared link's run the same on both.
//
// One thread owns one row for a tile of 4 tokens: it unpacks each weight block once for
// all of them, so batched decoding reads the weights once per 4 sequences.

const TOKENS: u32 = 4u;

const ACCUMULATE: u32 = 1u;
const BIAS: u32 = 2u;
const LOGIT_ROWS: u32 = 4u;

struct Shape {
    rows: u32,
    cols: u32,
    flags: u32,
    unused: u32,
}

@group(0) @binding(0) var<storage, read> weights: array<u32>;
@group(0) @binding(1) var<storage, read> xq: array<u32>;
@group(0) @binding(2) var<storage, read> xd: array<f32>;
@group(0) @binding(3) var<storage, read> xs: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<uniform> shape: Shape;
@group(0) @binding(7) var<uniform> counts: Counts;

// Signed byte k (0..3) of a packed word.
fn signed_byte(word: u32, k: u32) -> i32 {
    return i32(word << (24u - 8u * k)) >> 24u;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    let t0 = gid.y * TOKENS;
    var n_tokens = counts.tokens;
    if ((shape.flags & LOGIT_ROWS) != 0u) {
        n_tokens = counts.logit_rows;
    }
    if (row >= shape.rows || t0 >= n_tokens) {
        return;
    }
    let tiles = min(TOKENS, n_tokens - t0);
    let blocks = shape.cols / 32u;
    let bytes = block_bytes();

    var acc: array<vec4<f32>, 4>;
    var min_acc: array<f32, 4>;
    for (var b = 0u; b < blocks; b++) {
        let base = (row * blocks + b) * bytes;
        // The block as integers w with value d·w + m.
        var w: array<i32, 32>;
        let d = half_at(base);
        var m = 0.0;
        if (WEIGHT_TYPE == TYPE_Q8_0) {
            for (var j = 0u; j < 8u; j++) {
                let packed = word_at(base + 2u + 4u * j);
                for (var k = 0u; k < 4u; k++) {
                    w[4u * j + k] = signed_byte(packed, k);
                }
            }
        } else {
            var qs = base + 2u;
            m = -8.0 * d;
            if (WEIGHT_TYPE == TYPE_Q4_1) {
                qs = base + 4u;
                m = half_at(base + 2u);
            }
            for (var j = 0u; j < 4u; j++) {
                let packed = word_at(qs + 4u * j);
                for (var k = 0u; k < 4u; k++) {
                    let byte = (packed >> (8u * k)) & 0xffu;
                    w[4u * j + k] = i32(byte & 0xfu);
                    w[16u + 4u * j + k] = i32(byte >> 4u);
                }
            }
        }
        for (var t = 0u; t < tiles; t++) {
            let token = t0 + t;
            let xb = (token * shape.cols + b * 32u) >> 2u;
            var lanes = vec4<i32>(0);
            for (var g = 0u; g < 4u; g++) {
                // Positions 8g .. 8g + 7 are the two words xb + 2g and xb + 2g + 1.
                let lo = xq[xb + 2u * g];
                let hi = xq[xb + 2u * g + 1u];
                let i = 8u * g;
                lanes.x += w[i] * signed_byte(lo, 0u) + w[i + 1u] * signed_byte(lo, 1u);
                lanes.y += w[i + 2u] * signed_byte(lo, 2u) + w[i + 3u] * signed_byte(lo, 3u);
                lanes.z += w[i + 4u] * signed_byte(hi, 0u) + w[i + 5u] * signed_byte(hi, 1u);
                lanes.w += w[i + 6u] * signed_byte(hi, 2u) + w[i + 7u] * signed_byte(hi, 3u);
            }
            let block = token * blocks + b;
            let scale = d * xd[block];
            acc[t] = kept4(acc[t] + kept4(vec4<f32>(lanes) * scale));
            min_acc[t] = kept(min_acc[t] + kept(m * xs[block]));
        }
    }
    for (var t = 0u; t < tiles; t++) {
        let token = t0 + t;
        let a = acc[t];
        var s = (((a.x + a.y) + a.z) + a.w) + min_acc[t];
        if ((shape.flags & BIAS) != 0u) {
            s += bias[row];
        }
        let at = token * shape.rows + row;
        if ((shape.flags & ACCUMULATE) != 0u) {
            y[at] += s;
        } else {
            y[at] = s;
        }
    }
}
