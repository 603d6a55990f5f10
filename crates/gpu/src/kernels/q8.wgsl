// Activations quantized to 8 bits per block of 32, exactly as the CPU engine's q8.rs does
// (and llama.cpp): d = max|x| / 127, q = round(x / d) with halves away from zero, and the
// block's d·Σq for the weight types with a minimum. Shared by quantize.wgsl and the
// kernels that quantize what they have just computed (rms_norm.wgsl, swiglu.wgsl), so
// the quantized products see the CPU engine's bytes. The including kernel binds `xq`,
// `xd` and `xs`. The scale's divisions round correctly (exact.wgsl's `divide`).

// round(v) for |v| ≤ 127 after clamping, halves away from zero; NaN gives 0.
fn round_small(v: f32) -> i32 {
    if (v != v) {
        return 0;
    }
    let c = clamp(v, -127.0, 127.0);
    let t = i32(c);
    let fraction = c - f32(t);
    return t + select(0, 1, fraction >= 0.5) - select(0, 1, fraction <= -0.5);
}

// Quantizes block `b` of row `row` (rows of `width` values), whose values are `v`.
fn quantize_block(v: ptr<function, array<f32, 32>>, row: u32, b: u32, width: u32) {
    var amax = 0.0;
    for (var i = 0u; i < 32u; i++) {
        // A NaN compares false and is skipped, as f32::max skips it.
        let a = abs((*v)[i]);
        if (a > amax) {
            amax = a;
        }
    }
    let d = divide(amax, 127.0);
    var inv = 0.0;
    if (d != 0.0) {
        inv = divide(1.0, d);
    }
    var sum = 0;
    let base = row * width + b * 32u;
    for (var w = 0u; w < 8u; w++) {
        var packed = 0u;
        for (var k = 0u; k < 4u; k++) {
            let q = round_small((*v)[4u * w + k] * inv);
            sum += q;
            packed |= (u32(q) & 0xffu) << (8u * k);
        }
        xq[(base >> 2u) + w] = packed;
    }
    let block = row * (width / 32u) + b;
    xd[block] = d;
    xs[block] = d * f32(sum);
}
