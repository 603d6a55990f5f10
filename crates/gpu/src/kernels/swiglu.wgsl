// The feed-forward gate: gate ← silu(gate) ⊙ up = gate / (1 + exp(−gate)) ⊙ up, in place,
// with the CPU engine's exp and division. One thread per (token, block of 32 values);
// with QUANTIZE it also quantizes its block (q8.wgsl) for the quantized down projection
// that reads it next: one dispatch instead of two.

const QUANTIZE: u32 = 1u;

struct Shape {
    width: u32,
    flags: u32,
    unused1: u32,
    unused2: u32,
}

@group(0) @binding(0) var<storage, read_write> gate: array<f32>;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<uniform> shape: Shape;
@group(0) @binding(3) var<uniform> counts: Counts;
@group(0) @binding(4) var<storage, read_write> xq: array<u32>;
@group(0) @binding(5) var<storage, read_write> xd: array<f32>;
@group(0) @binding(6) var<storage, read_write> xs: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let blocks = (shape.width + 31u) / 32u;
    let item = gid.y * 65535u * 64u + gid.x;
    let t = item / blocks;
    let b = item % blocks;
    if (t >= counts.tokens) {
        return;
    }
    let first = t * shape.width + b * 32u;
    let n = min(32u, shape.width - b * 32u);
    var v: array<f32, 32>;
    for (var j = 0u; j < n; j++) {
        let g = gate[first + j];
        v[j] = divide(g, 1.0 + libm_exp(-g)) * up[first + j];
        gate[first + j] = v[j];
    }
    if ((shape.flags & QUANTIZE) != 0u) {
        quantize_block(&v, t, b, shape.width);
    }
}
