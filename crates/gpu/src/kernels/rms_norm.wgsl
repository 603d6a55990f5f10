// out[r] = x[src(r)] / sqrt(mean(x[src(r)]²) + eps) ⊙ weight, one workgroup per row.
// With SELECT, row r reads row `selected[r]` of x: the final norm runs only on the rows
// whose logits or hidden states are wanted.
//
// The sum of squares is taken in index order, as the CPU engine takes it: every thread
// sums the whole row itself (a row is at most a few thousand values), which costs less
// than agreeing with the CPU through a reordered tree would save.
//
// With QUANTIZE, each thread also quantizes the blocks it wrote (q8.wgsl), for the
// quantized products that read the norm next: one dispatch instead of two. With
// QUANTIZE_LOGIT_ROWS only the first `logit_rows` rows are quantized (the final norm's
// other rows are hidden states, which no product reads).

const SELECT: u32 = 1u;
const QUANTIZE: u32 = 2u;
const QUANTIZE_LOGIT_ROWS: u32 = 4u;

struct Shape {
    width: u32,
    flags: u32,
    eps: f32,
    unused: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> selected: array<u32>;
@group(0) @binding(4) var<uniform> shape: Shape;
@group(0) @binding(5) var<uniform> counts: Counts;
@group(0) @binding(6) var<storage, read_write> xq: array<u32>;
@group(0) @binding(7) var<storage, read_write> xd: array<f32>;
@group(0) @binding(8) var<storage, read_write> xs: array<f32>;

@compute @workgroup_size(64)
fn main(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    let select_rows = (shape.flags & SELECT) != 0u;
    var rows = counts.tokens;
    if (select_rows) {
        rows = counts.norm_rows;
    }
    let row = wg.x;
    if (row >= rows) {
        return;
    }
    var src = row;
    if (select_rows) {
        src = selected[row];
    }
    let width = shape.width;
    var s = 0.0;
    for (var i = 0u; i < width; i++) {
        let v = x[src * width + i];
        s = kept(s + kept(v * v));
    }
    let m = square_root(divide(s, f32(width)) + shape.eps);
    var quantize = (shape.flags & QUANTIZE) != 0u;
    if ((shape.flags & QUANTIZE_LOGIT_ROWS) != 0u) {
        quantize = row < counts.logit_rows;
    }
    if (!quantize) {
        for (var i = lid; i < width; i += 64u) {
            out[row * width + i] = divide(x[src * width + i], m) * weight[i];
        }
        return;
    }
    // Quantized rows are whole blocks of 32: a thread takes whole blocks.
    for (var b = lid; b < width / 32u; b += 64u) {
        var v: array<f32, 32>;
        for (var j = 0u; j < 32u; j++) {
            let i = b * 32u + j;
            v[j] = divide(x[src * width + i], m) * weight[i];
            out[row * width + i] = v[j];
        }
        quantize_block(&v, row, b, width);
    }
}
