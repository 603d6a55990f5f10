// Appends the new tokens' keys and values to their sequences' caches. A layer's cache is
// one preallocated buffer of `slots × capacity` positions; a sequence owns a slot, and
// its token at position p goes to row `slot × capacity + p`. Nothing is allocated per step.

struct Shape {
    kv_width: u32,
    capacity: u32,
    unused0: u32,
    unused1: u32,
}

@group(0) @binding(0) var<storage, read> k: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(3) var<storage, read_write> v_cache: array<f32>;
@group(0) @binding(4) var<storage, read> positions: array<u32>;
@group(0) @binding(5) var<storage, read> slots: array<u32>;
@group(0) @binding(6) var<uniform> shape: Shape;
@group(0) @binding(7) var<uniform> counts: Counts;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.y;
    let j = gid.x;
    if (t >= counts.tokens || j >= shape.kv_width) {
        return;
    }
    let row = slots[t] * shape.capacity + positions[t];
    k_cache[row * shape.kv_width + j] = k[t * shape.kv_width + j];
    v_cache[row * shape.kv_width + j] = v[t * shape.kv_width + j];
}
