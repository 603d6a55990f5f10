// A pass's activation rows quantized to 8 bits per block of 32 (q8.wgsl), for the
// products whose input no kernel quantized as it wrote it (the attention's output).

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
    var v: array<f32, 32>;
    for (var i = 0u; i < 32u; i++) {
        v[i] = x[t * shape.width + b * 32u + i];
    }
    quantize_block(&v, t, b, shape.width);
}
