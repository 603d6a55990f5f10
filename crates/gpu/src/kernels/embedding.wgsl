// x[t] = row `tokens[t]` of the token embedding, unpacked from its GGUF blocks. One
// thread per (token, block of 32 values). A table split by rows (past the binding limit)
// is one dispatch per run of rows, each writing the tokens whose rows it holds.

struct Shape {
    width: u32,
    first_row: u32,
    rows: u32,
    unused: u32,
}

@group(0) @binding(0) var<storage, read> weights: array<u32>;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<uniform> shape: Shape;
@group(0) @binding(4) var<uniform> counts: Counts;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.y;
    let b = gid.x;
    let blocks = shape.width / 32u;
    if (t >= counts.tokens || b >= blocks) {
        return;
    }
    let id = tokens[t];
    if (id < shape.first_row || id - shape.first_row >= shape.rows) {
        return;
    }
    let values = block_values((id - shape.first_row) * blocks + b);
    for (var i = 0u; i < 32u; i++) {
        x[t * shape.width + b * 32u + i] = values[i];
    }
}
