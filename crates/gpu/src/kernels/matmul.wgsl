// y[t][r] (+)= Σ_k W[r][k] · x[t][k] (+ bias[r]) for every token t of the pass: the
// projections of decode, prefill, batched decode and PRM scoring alike.
//
// A workgroup computes 8 rows for 8 tokens. Each row is read by 8 threads, which take
// its blocks of 32 weights in turn, unpack each block once and use it for all 8 tokens:
// weights are read once per 8 tokens, the cost that bounds decoding. Partial sums meet in
// workgroup memory. Activations stay f32 (the CPU engine rounds them to 8 bits per block,
// as llama.cpp does; the tests state the tolerance that difference needs).

const ROWS: u32 = 8u;
const LANES: u32 = 8u;
const TOKENS: u32 = 8u;

@group(0) @binding(0) var<storage, read> weights: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> shape: Shape;
@group(0) @binding(5) var<uniform> counts: Counts;

var<workgroup> partial: array<f32, 512>;

@compute @workgroup_size(64)
fn main(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    let n_tokens = product_inputs();
    let row_in = lid / LANES;
    let lane = lid % LANES;
    let row = wg.x * ROWS + row_in;
    let t0 = wg.y * TOKENS;
    let blocks = shape.cols / 32u;

    var acc: array<f32, 8>;
    if (row < shape.rows) {
        for (var b = lane; b < blocks; b += LANES) {
            let w = block_values(row * blocks + b);
            for (var t = 0u; t < TOKENS; t++) {
                let token = t0 + t;
                if (token < n_tokens) {
                    let xb = token * shape.cols + b * 32u;
                    var s = 0.0;
                    for (var i = 0u; i < 32u; i++) {
                        s += w[i] * x[xb + i];
                    }
                    acc[t] += s;
                }
            }
        }
    }
    for (var t = 0u; t < TOKENS; t++) {
        partial[(row_in * LANES + lane) * TOKENS + t] = acc[t];
    }
    workgroupBarrier();

    // Thread (r, t) adds the 8 lanes' sums of row r for token t.
    let r = lid / TOKENS;
    let t = lid % TOKENS;
    let out_row = wg.x * ROWS + r;
    let token = t0 + t;
    if (out_row < shape.rows && token < n_tokens) {
        var s = 0.0;
        for (var l = 0u; l < LANES; l++) {
            s += partial[(r * LANES + l) * TOKENS + t];
        }
        store(token, out_row, s);
    }
}
