//! Input rows quantized to 8 bits per block of 32, as llama.cpp's Q8 activations: what
//! the quantized matrix products (`qmatmul`) multiply the weights with.
//!
//! Every matrix product quantizes each of its input rows first, so for Ponder's built-in
//! models (rows of 128 values against a few hundred weight rows) this is a noticeable
//! share of a forward. The SIMD versions (SSE2, the x86-64 baseline, and wasm SIMD)
//! perform the scalar reference's operations lane by lane, so all three agree bit for bit
//! and native and browser results stay identical.

use crate::qmatmul::BLOCK;

/// One input row quantized to 8 bits per block of 32, kept widened to 16 bits because
/// the SIMD dot product consumes 16-bit lanes.
pub(crate) struct Q8Row {
    pub(crate) q: Vec<i16>,
    /// Scale per block.
    pub(crate) d: Vec<f32>,
    /// `d × Σq` per block: the factor of a block's minimum.
    pub(crate) s: Vec<f32>,
}

/// `x` (whole blocks of 32) quantized: per block, the scale `d = max|x| / 127` and
/// `q = round(x / d)`, halves away from zero. NaN values count as 0 and are ignored by
/// the maximum.
pub(crate) fn quantize_row(x: &[f32]) -> Q8Row {
    let blocks = x.len() / BLOCK;
    let mut row = Q8Row {
        q: vec![0; blocks * BLOCK],
        d: Vec::with_capacity(blocks),
        s: Vec::with_capacity(blocks),
    };
    for (b, xs) in x.chunks_exact(BLOCK).enumerate() {
        let q = &mut row.q[b * BLOCK..(b + 1) * BLOCK];
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        let (d, sum) = simd_wasm::block(xs, q);
        #[cfg(target_arch = "x86_64")]
        let (d, sum) = simd_x86::block(xs, q);
        #[cfg(not(any(
            target_arch = "x86_64",
            all(target_arch = "wasm32", target_feature = "simd128")
        )))]
        let (d, sum) = block_portable(xs, q);
        row.d.push(d);
        row.s.push(d * sum as f32);
    }
    row
}

/// The scale of a block: its largest magnitude over 127 (NaNs skipped, as `f32::max`
/// skips them), and the inverse the values are multiplied by (0 for an all-zero block).
#[inline(always)]
fn scale(amax: f32) -> (f32, f32) {
    let d = amax / 127.0;
    (d, if d != 0.0 { 1.0 / d } else { 0.0 })
}

/// The reference: one block in plain Rust, returning its scale and the sum of its `q`.
#[cfg_attr(
    any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    ),
    allow(dead_code)
)]
fn block_portable(xs: &[f32], q: &mut [i16]) -> (f32, i32) {
    let (d, inv) = scale(xs.iter().fold(0f32, |m, v| m.max(v.abs())));
    let mut sum = 0i32;
    for (q, &v) in q.iter_mut().zip(xs) {
        let r = round_small(v * inv);
        *q = r as i16;
        sum += r;
    }
    (d, sum)
}

/// `x.round() as i32` (halves away from zero) for an input scaled to ±127, without the
/// library call `f32::round` becomes on x86-64's baseline and on wasm. Exact: the
/// truncation and the fraction `x − trunc(x)` are exact in that range. Values past ±127
/// (an infinite scale from a block of subnormal values) are clamped to it; NaN gives 0, as
/// the cast does.
#[inline(always)]
fn round_small(x: f32) -> i32 {
    let x = x.clamp(-127.0, 127.0);
    let t = x as i32;
    let fraction = x - t as f32;
    t + i32::from(fraction >= 0.5) - i32::from(fraction <= -0.5)
}

#[cfg(target_arch = "x86_64")]
mod simd_x86 {
    //! SSE2: `maxps` keeps its second operand when the first is NaN, which skips NaNs as
    //! `f32::max` does; NaN lanes are zeroed before rounding (the scalar cast gives 0).
    use std::arch::x86_64::*;

    use super::{scale, BLOCK};

    pub(super) fn block(xs: &[f32], q: &mut [i16]) -> (f32, i32) {
        assert!(xs.len() == BLOCK && q.len() == BLOCK);
        // SAFETY: SSE2 is part of x86-64; every load reads 4 of the block's 32 values and
        // every store writes 8 of its 32 outputs (both checked above).
        unsafe {
            let x = xs.as_ptr();
            let magnitude = _mm_castsi128_ps(_mm_set1_epi32(0x7fff_ffff));
            let mut mx = _mm_setzero_ps();
            for k in 0..BLOCK / 4 {
                mx = _mm_max_ps(_mm_and_ps(_mm_loadu_ps(x.add(4 * k)), magnitude), mx);
            }
            let mut lanes = [0f32; 4];
            _mm_storeu_ps(lanes.as_mut_ptr(), mx);
            let (d, inv) = scale(lanes[0].max(lanes[1]).max(lanes[2]).max(lanes[3]));
            let inv = _mm_set1_ps(inv);
            let (lo, hi) = (_mm_set1_ps(-127.0), _mm_set1_ps(127.0));
            let (half, minus_half) = (_mm_set1_ps(0.5), _mm_set1_ps(-0.5));
            let mut sum = _mm_setzero_si128();
            let out = q.as_mut_ptr() as *mut __m128i;
            for k in 0..BLOCK / 8 {
                let mut r = [_mm_setzero_si128(); 2];
                for (h, r) in r.iter_mut().enumerate() {
                    let y = _mm_mul_ps(_mm_loadu_ps(x.add(8 * k + 4 * h)), inv);
                    let y = _mm_and_ps(y, _mm_cmpord_ps(y, y));
                    let y = _mm_min_ps(_mm_max_ps(y, lo), hi);
                    let t = _mm_cvttps_epi32(y);
                    let fraction = _mm_sub_ps(y, _mm_cvtepi32_ps(t));
                    // Comparison masks are −1 where true.
                    let up = _mm_castps_si128(_mm_cmpge_ps(fraction, half));
                    let down = _mm_castps_si128(_mm_cmple_ps(fraction, minus_half));
                    *r = _mm_add_epi32(_mm_sub_epi32(t, up), down);
                    sum = _mm_add_epi32(sum, *r);
                }
                _mm_storeu_si128(out.add(k), _mm_packs_epi32(r[0], r[1]));
            }
            let mut s = [0i32; 4];
            _mm_storeu_si128(s.as_mut_ptr() as *mut __m128i, sum);
            (d, s[0] + s[1] + s[2] + s[3])
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd_wasm {
    //! wasm SIMD: `f32x4.pmax(m, v)` is `m < v ? v : m`, which keeps `m` when `v` is NaN,
    //! as `f32::max` skips NaNs; NaN lanes are zeroed before rounding (the scalar cast
    //! gives 0).
    use std::arch::wasm32::*;

    use super::{scale, BLOCK};

    pub(super) fn block(xs: &[f32], q: &mut [i16]) -> (f32, i32) {
        assert!(xs.len() == BLOCK && q.len() == BLOCK);
        // SAFETY: every load reads 4 of the block's 32 values and every store writes 8 of
        // its 32 outputs (both checked above); v128 accesses need no alignment.
        unsafe {
            let x = xs.as_ptr() as *const v128;
            let mut mx = f32x4_splat(0.0);
            for k in 0..BLOCK / 4 {
                mx = f32x4_pmax(mx, f32x4_abs(v128_load(x.add(k))));
            }
            let (d, inv) = scale(
                f32x4_extract_lane::<0>(mx)
                    .max(f32x4_extract_lane::<1>(mx))
                    .max(f32x4_extract_lane::<2>(mx))
                    .max(f32x4_extract_lane::<3>(mx)),
            );
            let inv = f32x4_splat(inv);
            let (lo, hi) = (f32x4_splat(-127.0), f32x4_splat(127.0));
            let (half, minus_half) = (f32x4_splat(0.5), f32x4_splat(-0.5));
            let mut sum = i32x4_splat(0);
            let out = q.as_mut_ptr() as *mut v128;
            for k in 0..BLOCK / 8 {
                let mut r = [i32x4_splat(0); 2];
                for (h, r) in r.iter_mut().enumerate() {
                    let y = f32x4_mul(v128_load(x.add(2 * k + h)), inv);
                    let y = v128_and(y, f32x4_eq(y, y));
                    let y = f32x4_pmin(f32x4_pmax(y, lo), hi);
                    let t = i32x4_trunc_sat_f32x4(y);
                    let fraction = f32x4_sub(y, f32x4_convert_i32x4(t));
                    // Comparison masks are −1 where true.
                    let up = f32x4_ge(fraction, half);
                    let down = f32x4_le(fraction, minus_half);
                    *r = i32x4_add(i32x4_sub(t, up), down);
                    sum = i32x4_add(sum, *r);
                }
                v128_store(out.add(k), i16x8_narrow_i32x4(r[0], r[1]));
            }
            let total = i32x4_extract_lane::<0>(sum)
                + i32x4_extract_lane::<1>(sum)
                + i32x4_extract_lane::<2>(sum)
                + i32x4_extract_lane::<3>(sum);
            (d, total)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn small_rounding_equals_the_library_round() {
        let mut xs: Vec<f32> = (-1270..=1270).map(|i| i as f32 / 10.0).collect();
        xs.extend((-254..=254).map(|i| i as f32 * 0.5));
        for x in [
            0.49999997f32,
            -0.49999997,
            1.4999999,
            126.50001,
            -0.0,
            f32::NAN,
        ] {
            xs.push(x);
        }
        for x in xs {
            assert_eq!(round_small(x), x.round() as i32, "{x}");
        }
        // A block of tiny values has a subnormal scale and an infinite inverse: its inputs
        // are clamped to ±127, not wrapped past i32.
        assert_eq!(round_small(f32::INFINITY), 127);
        assert_eq!(round_small(f32::NEG_INFINITY), -127);
        let tiny = [1e-38f32; BLOCK];
        let row = quantize_row(&tiny);
        assert!((1.0 / row.d[0]).is_infinite());
        assert!(row.q.iter().all(|&q| q == 127), "{:?}", row.q);
    }

    /// Blocks that exercise every branch: random values, exact halves after scaling,
    /// zeros (both signs), NaNs (skipped by the maximum, quantized to 0), infinities,
    /// subnormal blocks (an infinite inverse scale) and a block of NaNs only.
    fn awkward_blocks() -> Vec<f32> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut x = Vec::new();
        for _ in 0..64 {
            x.extend((0..BLOCK).map(|_| (next() % 2_000_001) as f32 / 1e6 - 1.0));
        }
        // Values that land on k + 0.5 after scaling by 127 / 127.
        x.extend((0..BLOCK).map(|i| if i == 0 { 127.0 } else { i as f32 - 15.5 }));
        x.extend([0.0f32; BLOCK]);
        x.extend((0..BLOCK).map(|i| if i % 2 == 0 { -0.0 } else { 0.0 }));
        x.extend((0..BLOCK).map(|i| if i % 5 == 0 { f32::NAN } else { i as f32 }));
        x.extend((0..BLOCK).map(|i| match i {
            3 => f32::INFINITY,
            9 => f32::NEG_INFINITY,
            _ => i as f32,
        }));
        x.extend((0..BLOCK).map(|i| (i as f32 - 16.0) * 1e-40));
        x.extend([f32::NAN; BLOCK]);
        for _ in 0..16 {
            // Arbitrary bit patterns: huge, tiny, negative, NaN payloads.
            x.extend((0..BLOCK).map(|_| f32::from_bits(next() as u32)));
        }
        x
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_simd_blocks_equal_the_portable_reference_bit_for_bit() {
        let x = awkward_blocks();
        let row = quantize_row(&x);
        for (b, xs) in x.chunks_exact(BLOCK).enumerate() {
            let mut q = [0i16; BLOCK];
            let (d, sum) = block_portable(xs, &mut q);
            assert_eq!(&row.q[b * BLOCK..(b + 1) * BLOCK], &q, "block {b}");
            assert_eq!(row.d[b].to_bits(), d.to_bits(), "block {b}");
            assert_eq!(row.s[b].to_bits(), (d * sum as f32).to_bits(), "block {b}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn a_block_is_its_values_over_the_scale_within_half_a_step() {
        let x: Vec<f32> = (0..BLOCK).map(|i| (i as f32 - 10.0) * 0.37).collect();
        let row = quantize_row(&x);
        let d = row.d[0];
        assert_eq!(d, 21.0 * 0.37 / 127.0);
        for (q, v) in row.q.iter().zip(&x) {
            assert!((f32::from(*q) * d - v).abs() <= 0.5 * d + 1e-6, "{q} {v}");
        }
        let sum: i32 = row.q.iter().map(|&q| i32::from(q)).sum();
        assert_eq!(row.s[0], d * sum as f32);
    }
}
