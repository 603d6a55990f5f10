// Arithmetic that rounds as the CPU engine's does, so the GPU reproduces its numbers.
// WGSL gives + − × correctly rounded but allows 2.5 ULP for division and square root and
// has its own exp; the CPU rounds division and square root correctly and takes exp from
// libm. These helpers close the gap.

// a·b − round(a·b), exactly (Dekker): a and b split into 12-bit halves whose products
// are exact. WGSL's `fma` need not be fused, so it cannot give this error; the `one`
// factors keep the compiler from simplifying the splits away.
fn product_error(a: f32, b: f32, p: f32) -> f32 {
    let ca = 4097.0 * a * counts.one;
    let ah = ca - (ca - a) * counts.one;
    let al = a - ah;
    let cb = 4097.0 * b * counts.one;
    let bh = cb - (cb - b) * counts.one;
    let bl = b - bh;
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

// a / b, correctly rounded: the quotient corrected by its exact residual a − q·b.
fn divide(a: f32, b: f32) -> f32 {
    let q = a / b;
    let p = q * b * counts.one;
    let r = (a - p) * counts.one - product_error(q, b, p);
    let corrected = q + r / b * counts.one;
    if (abs(q) < 1e30 && abs(q) > 1e-30 && abs(b) < 1e30 && abs(b) > 1e-30) {
        return corrected;
    }
    return q;
}

// √a, correctly rounded: the root corrected by its exact residual a − s² (no `fma`,
// which WGSL does not promise to fuse).
fn square_root(a: f32) -> f32 {
    let s = sqrt(a);
    if (!(s > 1e-18 && s < 1e18)) {
        return s;
    }
    let p = s * s * counts.one;
    let r = (a - p) * counts.one - product_error(s, s, p);
    return s + r / (2.0 * s) * counts.one;
}

// libm's expf (FreeBSD's e_expf.c): the same reduction, polynomial and operation order
// (products rounded before sums, see `Counts::one`), so each result has the CPU's bits. Results below 2⁻¹²⁶ (softmax weights far under any
// that matter) may be flushed to zero by the GPU.
fn libm_exp(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    let hx = bits & 0x7fffffffu;
    let negative = (bits >> 31u) != 0u;
    if (hx > 0x7f800000u) {
        return x;
    }
    if (hx >= 0x42b17218u && !negative) {
        // Overflow, as libm reaches it: x · 2^127 (an infinity written as a constant is
        // an error in WGSL).
        return x * bitcast<f32>(0x7f000000u);
    }
    if (negative && hx >= 0x42cff1b5u) {
        return 0.0;
    }
    if (hx <= 0x39000000u) {
        return 1.0 + x;
    }
    let ln2_hi = bitcast<f32>(0x3f317200u);
    let ln2_lo = bitcast<f32>(0x35bfbe8eu);
    let inv_ln2 = bitcast<f32>(0x3fb8aa3bu);
    let p1 = bitcast<f32>(0x3e2aaa8fu);
    let p2 = bitcast<f32>(0xbb355215u);
    var k = 0;
    if (hx > 0x3f851592u) {
        k = i32(inv_ln2 * x * counts.one + select(0.5, -0.5, negative));
    } else if (hx > 0x3eb17218u) {
        k = select(1, -1, negative);
    }
    let kf = f32(k);
    let hi = x - kf * ln2_hi * counts.one;
    let lo = kf * ln2_lo;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (p1 + rr * p2 * counts.one) * counts.one;
    let y = 1.0 + (divide(r * c, 2.0 - c) - lo + hi);
    if (k > 127) {
        // Just below overflow: 2^k in two exact steps.
        return y * bitcast<f32>(u32(k + 126) << 23u) * 2.0;
    }
    if (k >= -126) {
        return y * bitcast<f32>(u32(k + 127) << 23u);
    }
    // 2^k in two exact steps: 2^(k + 100), then 2^-100.
    return y * bitcast<f32>(u32(k + 227) << 23u) * bitcast<f32>(27u << 23u);
}
