// Ponder's WebGPU self-test: one matrix-vector product, y = W x, the shape of the
// decode step that dominates inference. One workgroup per output row; 64 threads stride
// over the row and reduce through workgroup memory (no optional features needed).

struct Dims {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> weights: array<f32>;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

const WG: u32 = 64u;
var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = wg.x;
    var acc = 0.0;
    for (var k = lid; k < dims.cols; k += WG) {
        acc += weights[row * dims.cols + k] * input[k];
    }
    partial[lid] = acc;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
        if (lid < stride) {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    if (lid == 0u && row < dims.rows) {
        output[row] = partial[0];
    }
}
