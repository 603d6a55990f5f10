//! `exp` of many values at once, bit for bit equal to `libm::expf`.
//!
//! Results must not depend on the platform, so the runtime uses libm's `expf` (the same
//! bits natively and in wasm) rather than the platform's. Called one value at a time it
//! was a seventh of a strategy's time on Ponder's small models (softmax weights and the
//! feed-forward's SiLU). This is the same algorithm (FreeBSD's `e_expf.c`, as libm
//! ports it) with its branches turned into per-lane selections, so that the compiler can
//! run a chunk of values through vector registers. Every operation is an IEEE single
//! operation in libm's order, so each lane rounds exactly as libm does.
//!
//! Only the main range takes this path: `2⁻¹⁴ < |x| < 87.34`, where the scaling by `2ᵏ`
//! is one exact multiplication. Zero, tiny, huge, infinite and NaN inputs go to
//! `libm::expf` itself.

/// Values handled per chunk.
const LANES: usize = 8;

// libm's constants, by their bits: ln 2 in a high part with trailing zero bits and a
// low part, 1/ln 2, and the two coefficients of the polynomial on the reduced range.
const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
const INV_LN2: f32 = f32::from_bits(0x3fb8_aa3b);
const P1: f32 = f32::from_bits(0x3e2a_aa8f);
const P2: f32 = f32::from_bits(0xbb35_5215);

/// `|x|`'s bits above which libm reduces by `k = trunc(x/ln2 ± 1/2)` (1.5·ln2).
const ABOVE_1_5_LN2: u32 = 0x3f85_1592;
/// Above this (0.5·ln2) and up to 1.5·ln2, `k = ±1`; below, `k = 0`.
const ABOVE_HALF_LN2: u32 = 0x3eb1_7218;
/// The main range, as bits of `|x|`: above 2⁻¹⁴ and below 87.34 (where libm starts
/// to handle overflow and underflow).
const MAIN_LOW: u32 = 0x3900_0000;
const MAIN_HIGH: u32 = 0x42ae_ac50;

/// Replaces each value by its exponential, exactly as `libm::expf` would.
pub fn exp_in_place(xs: &mut [f32]) {
    let mut chunks = xs.chunks_exact_mut(LANES);
    for chunk in chunks.by_ref() {
        let lanes: &mut [f32; LANES] = chunk.try_into().unwrap_or_else(|_| unreachable!());
        let x = *lanes;
        *lanes = main_range(x);
        for (out, &x) in lanes.iter_mut().zip(&x) {
            if !in_main_range(x) {
                *out = libm::expf(x);
            }
        }
    }
    for x in chunks.into_remainder() {
        *x = libm::expf(*x);
    }
}

#[inline(always)]
fn in_main_range(x: f32) -> bool {
    let hx = x.to_bits() & 0x7fff_ffff;
    hx > MAIN_LOW && hx < MAIN_HIGH
}

/// libm's computation for inputs in the main range; lanes outside it give garbage that
/// the caller replaces.
#[inline(always)]
fn main_range(x: [f32; LANES]) -> [f32; LANES] {
    let mut out = [0f32; LANES];
    for l in 0..LANES {
        let x = x[l];
        let hx = x.to_bits() & 0x7fff_ffff;
        let negative = x.to_bits() >> 31 != 0;
        // Argument reduction: x = k·ln2 + r, with ln2 split in two so that k·LN2_HI is
        // exact. For k = 0 these give hi = x, lo = 0 and r = x, as libm's own branch.
        let half = if negative { -0.5 } else { 0.5 };
        let big_k = (INV_LN2 * x + half) as i32;
        let one = if negative { -1 } else { 1 };
        let k = if hx > ABOVE_1_5_LN2 {
            big_k
        } else if hx > ABOVE_HALF_LN2 {
            one
        } else {
            0
        };
        let kf = k as f32;
        let hi = x - kf * LN2_HI;
        let lo = kf * LN2_LO;
        let r = hi - lo;
        let rr = r * r;
        let c = r - rr * (P1 + rr * P2);
        let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
        // 2^k, exact for |k| <= 126 (which the main range guarantees).
        let scale = f32::from_bits(((k.clamp(-126, 127) + 127) as u32) << 23);
        out[l] = y * scale;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(xs: &[f32]) {
        let mut got = xs.to_vec();
        exp_in_place(&mut got);
        for (&x, &y) in xs.iter().zip(&got) {
            let want = libm::expf(x);
            assert!(
                y.to_bits() == want.to_bits(),
                "exp({x:e}) = {y:e}, libm gives {want:e}"
            );
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn equals_libm_on_every_range_boundary_and_special_value() {
        let mut xs = vec![
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            88.72,
            -103.98,
            -1e-30,
        ];
        for bits in [
            MAIN_LOW,
            ABOVE_HALF_LN2,
            ABOVE_1_5_LN2,
            MAIN_HIGH,
            0x42b1_7218,
        ] {
            for b in bits - 2..=bits + 2 {
                xs.push(f32::from_bits(b));
                xs.push(-f32::from_bits(b));
            }
        }
        check(&xs);
    }

    /// Every 97th bit pattern of all 2³² (about 44 million values, both signs, every
    /// exponent). A full sweep of all 2³² values also passed when this was written.
    #[test]
    fn equals_libm_across_all_floats() {
        let mut xs = Vec::with_capacity(1 << 16);
        let mut bits: u64 = 0;
        while bits < 1 << 32 {
            xs.push(f32::from_bits(bits as u32));
            if xs.len() == 1 << 16 {
                check(&xs);
                xs.clear();
            }
            bits += 97;
        }
        check(&xs);
    }
}
