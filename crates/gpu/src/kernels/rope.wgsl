// Rotary position embeddings, in place, on the new tokens' queries and keys. The angles'
// sines and cosines come from a table the CPU fills once with libm's sinf and cosf (the
// CPU engine's values, bit for bit): a GPU's own sin loses precision at the large angles
// of late positions.

const HALVES: u32 = 1u;

struct Shape {
    n_heads: u32,
    n_kv_heads: u32,
    head_dim: u32,
    rope_layout: u32,
}

@group(0) @binding(0) var<storage, read_write> q: array<f32>;
@group(0) @binding(1) var<storage, read_write> k: array<f32>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<storage, read> table: array<vec2<f32>>;
@group(0) @binding(4) var<uniform> shape: Shape;
@group(0) @binding(5) var<uniform> counts: Counts;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.y;
    let half = shape.head_dim / 2u;
    let head = gid.x / half;
    let i = gid.x % half;
    if (t >= counts.tokens || head >= shape.n_heads + shape.n_kv_heads) {
        return;
    }
    // (sin, cos) of position × inverse frequency i.
    let angle = table[positions[t] * half + i];
    var a = 2u * i;
    var b = 2u * i + 1u;
    if (shape.rope_layout == HALVES) {
        a = i;
        b = i + half;
    }
    let d = shape.head_dim;
    if (head < shape.n_heads) {
        let base = (t * shape.n_heads + head) * d;
        let x0 = q[base + a];
        let x1 = q[base + b];
        q[base + a] = kept(x0 * angle.y) - kept(x1 * angle.x);
        q[base + b] = kept(x0 * angle.x) + kept(x1 * angle.y);
    } else {
        let base = (t * shape.n_kv_heads + head - shape.n_heads) * d;
        let x0 = k[base + a];
        let x1 = k[base + b];
        k[base + a] = kept(x0 * angle.y) - kept(x1 * angle.x);
        k[base + b] = kept(x0 * angle.x) + kept(x1 * angle.y);
    }
}
