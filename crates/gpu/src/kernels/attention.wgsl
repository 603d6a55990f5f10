// Causal attention of each new token over its sequence's cache (which already holds the
// token itself), one workgroup per (token, head). Scores go to a scratch row in global
// memory, so any context up to the slot capacity fits.
//
// Each number is computed in the CPU engine's order (attention.rs), so the GPU gives its
// bits: a score is four lanes (element i in lane i mod 4) summed ((l0 + l1) + l2) + l3,
// times the scale; weights are libm's exp(s − max) over their sum taken in position
// order; an output element is 0 + w₀v₀ + w₁v₁ + … in position order. Scores and weights
// are computed in parallel, the sum by one thread.

struct Shape {
    n_heads: u32,
    n_kv_heads: u32,
    head_dim: u32,
    capacity: u32,
    // 1/√head_dim as the CPU rounds it.
    scale: f32,
    unused0: u32,
    unused1: u32,
    unused2: u32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k_cache: array<f32>;
@group(0) @binding(2) var<storage, read> v_cache: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;
@group(0) @binding(5) var<storage, read> positions: array<u32>;
@group(0) @binding(6) var<storage, read> slots: array<u32>;
@group(0) @binding(7) var<uniform> shape: Shape;
@group(0) @binding(8) var<uniform> counts: Counts;

var<workgroup> reduce: array<f32, 64>;

@compute @workgroup_size(64)
fn main(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    let head = wg.x;
    let t = wg.y;
    if (t >= counts.tokens) {
        return;
    }
    let d = shape.head_dim;
    let kv_width = shape.n_kv_heads * d;
    let kv_head = head / (shape.n_heads / shape.n_kv_heads);
    let visible = positions[t] + 1u;
    let first_row = slots[t] * shape.capacity;
    let q_base = (t * shape.n_heads + head) * d;
    let s_base = (t * shape.n_heads + head) * shape.capacity;

    var local_max = -3.4e38;
    for (var p = lid; p < visible; p += 64u) {
        let k_base = (first_row + p) * kv_width + kv_head * d;
        var lanes = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
        for (var i = 0u; i < d; i++) {
            lanes[i & 3u] = kept(lanes[i & 3u] + kept(q[q_base + i] * k_cache[k_base + i]));
        }
        let s = kept(kept(kept(lanes[0] + lanes[1]) + lanes[2]) + lanes[3]) * shape.scale;
        scores[s_base + p] = s;
        local_max = max(local_max, s);
    }
    reduce[lid] = local_max;
    workgroupBarrier();
    for (var half = 32u; half > 0u; half >>= 1u) {
        if (lid < half) {
            reduce[lid] = max(reduce[lid], reduce[lid + half]);
        }
        workgroupBarrier();
    }
    let m = reduce[0];
    for (var p = lid; p < visible; p += 64u) {
        scores[s_base + p] = libm_exp(scores[s_base + p] - m);
    }
    storageBarrier();
    workgroupBarrier();
    if (lid == 0u) {
        var total = 0.0;
        for (var p = 0u; p < visible; p++) {
            total = kept(total + scores[s_base + p]);
        }
        reduce[0] = total;
    }
    workgroupBarrier();
    let total = reduce[0];
    for (var p = lid; p < visible; p += 64u) {
        scores[s_base + p] = divide(scores[s_base + p], total);
    }
    storageBarrier();

    for (var j = lid; j < d; j += 64u) {
        var acc = 0.0;
        for (var p = 0u; p < visible; p++) {
            acc = kept(acc + kept(scores[s_base + p] * v_cache[(first_row + p) * kv_width + kv_head * d + j]));
        }
        out[q_base + j] = acc;
    }
}
