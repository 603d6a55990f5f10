// What every product kernel shares (matmul.wgsl, qmatmul.wgsl, qmatmul_rows.wgsl): its
// flags and shape, how many input rows the pass gives it, and how it writes an output.
// The including kernel binds `y`, `bias`, `shape` and `counts`.

// Flags of `Shape::flags`.
const ACCUMULATE: u32 = 1u;
const BIAS: u32 = 2u;
const LOGIT_ROWS: u32 = 4u;

// A matrix split by rows (an output projection past the binding limit) computes its
// rows `row_offset ..` of outputs `out_stride` wide; a whole matrix has 0 and `rows`.
struct Shape {
    rows: u32,
    cols: u32,
    flags: u32,
    out_stride: u32,
    row_offset: u32,
    unused0: u32,
    unused1: u32,
    unused2: u32,
}

// The input rows of this pass: its tokens, or with LOGIT_ROWS its logit rows.
fn product_inputs() -> u32 {
    if ((shape.flags & LOGIT_ROWS) != 0u) {
        return counts.logit_rows;
    }
    return counts.tokens;
}

// Writes `sum` (plus the row's bias, with BIAS) as output `row` of input `token`, or adds
// it there with ACCUMULATE (a residual connection).
fn store(token: u32, row: u32, sum: f32) {
    var s = sum;
    if ((shape.flags & BIAS) != 0u) {
        s += bias[row];
    }
    let at = token * shape.out_stride + shape.row_offset + row;
    if ((shape.flags & ACCUMULATE) != 0u) {
        y[at] += s;
    } else {
        y[at] = s;
    }
}
