// The feed-forward gate: gate ← silu(gate) ⊙ up = gate / (1 + exp(−gate)) ⊙ up, in place,
// with the CPU engine's exp and division.

struct Shape {
    width: u32,
    unused0: u32,
    unused1: u32,
    unused2: u32,
}

@group(0) @binding(0) var<storage, read_write> gate: array<f32>;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<uniform> shape: Shape;
@group(0) @binding(3) var<uniform> counts: Counts;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.y * 65535u * 64u + gid.x;
    if (i >= counts.tokens * shape.width) {
        return;
    }
    let g = gate[i];
    gate[i] = divide(g, 1.0 + libm_exp(-g)) * up[i];
}
