// The sizes of the current forward pass, written once per pass: every kernel of the pass
// reads them, so no per-pass value lives in a kernel's own parameters.
struct Counts {
    // New tokens of all sequences together.
    tokens: u32,
    // Rows whose logits are wanted (the first `logit_rows` of `selected`).
    logit_rows: u32,
    // Rows put through the final norm: logit rows, then hidden-state rows.
    norm_rows: u32,
    // Always 0, but unknown to the shader compiler: see `kept`.
    zero: u32,
}

// x, rounded where it stands. SPIR-V lets a driver fuse a multiply and an add into one
// rounding (an fma) and reassociate sums unless told not to, and WGSL cannot tell it:
// NVIDIA's Vulkan driver does both. The CPU engine never does, so every product and
// every partial sum whose rounding matters passes through here: an integer operation
// with a value the compiler cannot know keeps it a rounded f32 in this order. (Multiplying
// by a runtime 1.0 is not enough: a driver may reassociate (a·b)·1 into a·(b·1), then fuse.)
fn kept(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) ^ counts.zero);
}

fn kept4(x: vec4<f32>) -> vec4<f32> {
    return bitcast<vec4<f32>>(bitcast<vec4<u32>>(x) ^ vec4<u32>(counts.zero));
}
