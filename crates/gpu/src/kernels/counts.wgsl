// The sizes of the current forward pass, written once per pass: every kernel of the pass
// reads them, so no per-pass value lives in a kernel's own parameters.
struct Counts {
    // New tokens of all sequences together.
    tokens: u32,
    // Rows whose logits are wanted (the first `logit_rows` of `selected`).
    logit_rows: u32,
    // Rows put through the final norm: logit rows, then hidden-state rows.
    norm_rows: u32,
    // Always 1.0, but unknown to the shader compiler: `a * b * counts.one` rounds the
    // product before any addition, since a compiler may fuse a multiply and an add into
    // one rounding (an fma) and the CPU engine never does. Fusing the extra multiply is
    // harmless: fma(round(a·b), 1, c) rounds as round(a·b) + c does.
    one: f32,
}
