// Arithmetic that rounds as the CPU engine's does, so the GPU reproduces its numbers.
// WGSL gives + − × correctly rounded but allows 2.5 ULP for division and square root and
// has its own exp; the CPU rounds division and square root correctly and takes exp from
// libm. These helpers close the gap.

// a·b − round(a·b), exactly (Dekker): a and b split into 12-bit halves whose products
// are exact. WGSL's `fma` need not be fused, so it cannot give this error; `kept` stops
// the compiler from simplifying the splits away or reordering the sum.
fn product_error(a: f32, b: f32, p: f32) -> f32 {
    let ca = kept(4097.0 * a);
    let ah = kept(ca - kept(ca - a));
    let al = kept(a - ah);
    let cb = kept(4097.0 * b);
    let bh = kept(cb - kept(cb - b));
    let bl = kept(b - bh);
    return kept(kept(kept(kept(ah * bh) - p) + kept(ah * bl)) + kept(al * bh)) + kept(al * bl);
}

// a / b, correctly rounded: the quotient corrected by its exact residual a − q·b. The
// residual is exact only while the operands and the quotient stay well inside f32's
// range, so both are first brought within 2^±40 by powers of two (exact), and the
// quotient is scaled back at the end, where only a subnormal result rounds again.
// (A driver may give a / b to 2.5 ULP at any size: NVIDIA's does.)
fn divide(a: f32, b: f32) -> f32 {
    let largest = bitcast<f32>(0x7f7fffffu);
    if (a == 0.0 || b == 0.0 || !(abs(a) <= largest) || !(abs(b) <= largest)) {
        return a / b;
    }
    let up = bitcast<f32>(187u << 23u); // 2^60
    let down = bitcast<f32>(67u << 23u); // 2^-60
    let low = bitcast<f32>(87u << 23u); // 2^-40
    let high = bitcast<f32>(167u << 23u); // 2^40
    var x = a;
    var y = b;
    // The quotient is corrected(x, y) · 2^(60·shift).
    var shift = 0;
    for (var i = 0; i < 3; i++) {
        if (abs(x) < low) {
            x = x * up;
            shift -= 1;
        } else if (abs(x) > high) {
            x = x * down;
            shift += 1;
        }
        if (abs(y) < low) {
            y = y * up;
            shift += 1;
        } else if (abs(y) > high) {
            y = y * down;
            shift -= 1;
        }
    }
    let q = kept(x / y);
    let p = kept(q * y);
    let r = kept(kept(x - p) - product_error(q, y, p));
    var out = q + kept(r / y);
    for (; shift > 0; shift--) {
        out = kept(out * up);
    }
    for (; shift < 0; shift++) {
        out = kept(out * down);
    }
    return out;
}

// √a, correctly rounded: the root corrected by its exact residual a − s² (no `fma`,
// which WGSL does not promise to fuse).
fn square_root(a: f32) -> f32 {
    let s = kept(sqrt(a));
    if (!(s > 1e-18 && s < 1e18)) {
        return s;
    }
    let p = kept(s * s);
    let r = kept(kept(a - p) - product_error(s, s, p));
    return s + kept(r / (2.0 * s));
}

// libm's expf (FreeBSD's e_expf.c): the same reduction, polynomial and operation order
// (products rounded before sums, see `kept`), so each result has the CPU's bits. Results below 2⁻¹²⁶ (softmax weights far under any
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
        k = i32(kept(inv_ln2 * x) + select(0.5, -0.5, negative));
    } else if (hx > 0x3eb17218u) {
        k = select(1, -1, negative);
    }
    let kf = f32(k);
    let hi = kept(x - kept(kf * ln2_hi));
    let lo = kept(kf * ln2_lo);
    let r = kept(hi - lo);
    let rr = kept(r * r);
    let c = kept(r - kept(rr * kept(p1 + kept(rr * p2))));
    let y = 1.0 + kept(kept(divide(kept(r * c), kept(2.0 - c)) - lo) + hi);
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
