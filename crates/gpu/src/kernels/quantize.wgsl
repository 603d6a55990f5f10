// Activations quantized to 8 bits per block of 32, exactly as the CPU engine's q8.rs does
// (and llama.cpp): d = max|x| / 127, q = round(x / d) with halves away from zero, and the
// block's d·Σq for the weight types with a minimum. The quantized products (qmatmul.wgsl)
// then give the CPU engine's results, so a run replays the same on either engine.
//
// The scale's divisions round correctly (exact.wgsl's `divide`), as the CPU's do.

struct Shape {
    // Values per row (whole blocks of 32).
    width: u32,
    // 1: the rows are the pass's logit rows, not its tokens.
    logit_rows: u32,
    unused0: u32,
    unused1: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> xq: array<u32>;
@group(0) @binding(2) var<storage, read_write> xd: array<f32>;
@group(0) @binding(3) var<storage, read_write> xs: array<f32>;
@group(0) @binding(4) var<uniform> shape: Shape;
@group(0) @binding(5) var<uniform> counts: Counts;

// round(v) for |v| ≤ 127 after clamping, halves away from zero; NaN gives 0.
fn round_small(v: f32) -> i32 {
    if (v != v) {
        return 0;
    }
    let c = clamp(v, -127.0, 127.0);
    let t = i32(c);
    let fraction = c - f32(t);
    return t + select(0, 1, fraction >= 0.5) - select(0, 1, fraction <= -0.5);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.y;
    let b = gid.x;
    var rows = counts.tokens;
    if (shape.logit_rows == 1u) {
        rows = counts.logit_rows;
    }
    let blocks = shape.width / 32u;
    if (t >= rows || b >= blocks) {
        return;
    }
    let base = t * shape.width + b * 32u;
    var amax = 0.0;
    for (var i = 0u; i < 32u; i++) {
        // A NaN compares false and is skipped, as f32::max skips it.
        let a = abs(x[base + i]);
        if (a > amax) {
            amax = a;
        }
    }
    let d = divide(amax, 127.0);
    var inv = 0.0;
    if (d != 0.0) {
        inv = divide(1.0, d);
    }
    var sum = 0;
    for (var w = 0u; w < 8u; w++) {
        var packed = 0u;
        for (var k = 0u; k < 4u; k++) {
            let q = round_small(x[base + 4u * w + k] * inv);
            sum += q;
            packed |= (u32(q) & 0xffu) << (8u * k);
        }
        xq[(base >> 2u) + w] = packed;
    }
    let block = t * blocks + b;
    xd[block] = d;
    xs[block] = d * f32(sum);
}
