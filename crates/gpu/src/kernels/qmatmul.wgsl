// y[t][r] (+)= W[r] · x[t] (+ bias[r]) for quantized weights (Q4_0, Q4_1, Q8_0) and
// activations quantized by quantize.wgsl: the CPU engine's qmatmul.rs, operation for
// operation. Per block the products are exact integers summed into four lanes (qblock.wgsl),
// each lane times the two scales is added to a running f32 lane in block order, the
// minimum terms m·d·Σq accumulate apart, and the end sum is ((l0 + l1) + l2) + l3 + min. So the GPU reproduces the CPU's numbers, which
// keeps a shared link's run the same on both.
//
// Only the running sums must go in block order; a block's own terms (its integer lanes
// times the scales, and its minimum term) are rounded once each whatever computes them.
// So a workgroup owns ROWS rows and walks their blocks CHUNK at a time in two phases:
//   1. every thread takes one (row, block) of the chunk, unpacks the block once and
//      writes its terms for each of the tile's TOKENS tokens to workgroup memory
//      (neighbouring threads read neighbouring blocks of a row: coalesced reads, and as
//      many threads as a row has blocks, where one thread per row leaves a real GPU idle);
//   2. one thread per (row, token) adds the chunk's terms to its running sums in order.
// Batched decoding reads the weights once per tile of TOKENS sequences. This is the layout
// for real GPUs; software GPUs run qmatmul_rows.wgsl.

const TOKENS: u32 = 4u;
const ROWS: u32 = 4u;
// Blocks of one row per chunk: ROWS * CHUNK is the workgroup's size.
const CHUNK: u32 = 16u;

// A chunk's terms, [thread (row, block)][token]: the four lanes times the scales, and the
// minimum term.
var<workgroup> lane_terms: array<vec4<f32>, 256>;
var<workgroup> min_terms: array<f32, 256>;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let row0 = group.x * ROWS;
    let t0 = group.y * TOKENS;
    let n_tokens = product_inputs();
    // Uniform across the workgroup, so the barriers below stay in uniform control flow.
    if (t0 >= n_tokens) {
        return;
    }
    let tiles = min(TOKENS, n_tokens - t0);
    let blocks = shape.cols / 32u;

    // Phase 1's (row, block within the chunk).
    let my_row = row0 + local / CHUNK;
    let my_block = local % CHUNK;
    // Phase 2's (row, token).
    let sum_row = row0 + local / TOKENS;
    let sum_token = local % TOKENS;
    let sums = local < ROWS * TOKENS && sum_row < shape.rows && sum_token < tiles;

    var acc = vec4<f32>(0.0);
    var min_acc = 0.0;
    for (var c = 0u; c < blocks; c += CHUNK) {
        let b = c + my_block;
        if (my_row < shape.rows && b < blocks) {
            var w: array<i32, 32>;
            let dm = q_block(my_row * blocks + b, &w);
            for (var t = 0u; t < tiles; t++) {
                let terms = block_terms(&w, dm, t0 + t, b, blocks);
                lane_terms[local * TOKENS + t] = terms.lanes;
                min_terms[local * TOKENS + t] = terms.min;
            }
        }
        workgroupBarrier();
        if (sums) {
            let n = min(CHUNK, blocks - c);
            let first = (sum_row - row0) * CHUNK;
            for (var k = 0u; k < n; k++) {
                let i = (first + k) * TOKENS + sum_token;
                acc = kept4(acc + lane_terms[i]);
                min_acc = kept(min_acc + min_terms[i]);
            }
        }
        workgroupBarrier();
    }
    if (sums) {
        store(t0 + sum_token, sum_row, (((acc.x + acc.y) + acc.z) + acc.w) + min_acc);
    }
}
