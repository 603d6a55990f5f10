//! Ponder's own quantized matrix products for the block types that carry our models:
//! Q4_0, Q4_1 and Q8_0 (SmolLM2's Q4_1 layers and Q8_0 embedding; Ponder's built-in models).
//!
//! Why our own: test-time compute decodes many sequences at once. These kernels read each
//! weight row once per call and unpack each weight block once per tile of four input rows,
//! whose scales and minimum terms then take one vector operation per block; they use wasm
//! SIMD in the browser, and natively AVX2 (where present) for groups of eight inputs, two
//! to a vector. Even one sequence is bound by arithmetic here, not by memory
//! (one sequence of SmolLM2 Q4_1 reads its 98 MB of weights at about 5 GB/s, where one
//! core of the development machine reads 27 GB/s), so a batch gains only what the tiling
//! saves per multiply-add.
//!
//! As in llama.cpp, each input row is first quantized to 8 bits per block of 32 (one f32
//! scale per block, and the block's scaled sum for the types with a minimum); a block's
//! product is then an exact integer dot product times the two scales. Integer sums are
//! exact whatever the instruction set, and the float accumulation over blocks runs in the
//! same order everywhere, so native and wasm builds give bit-identical results, and a row's
//! result never depends on the other rows in the call.

use crate::blocks::{repack, Ints};
use crate::gguf::TensorType;
use crate::q8::{quantize_row, Q8Row};

pub const BLOCK: usize = 32;

/// The block types these kernels handle (every quantized type GGUF files of llama-shaped
/// models commonly hold; see blocks.rs for how each is read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockType {
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q4K,
    Q6K,
}

impl BlockType {
    pub fn from_tensor_type(ty: TensorType) -> Option<BlockType> {
        match ty {
            TensorType::Q4_0 => Some(BlockType::Q4_0),
            TensorType::Q4_1 => Some(BlockType::Q4_1),
            TensorType::Q5_0 => Some(BlockType::Q5_0),
            TensorType::Q5_1 => Some(BlockType::Q5_1),
            TensorType::Q8_0 => Some(BlockType::Q8_0),
            TensorType::Q4K => Some(BlockType::Q4K),
            TensorType::Q6K => Some(BlockType::Q6K),
            _ => None,
        }
    }
}

/// A weight matrix `[rows][cols]`, repacked at load time for the kernels: per block of 32
/// weights its integer values, its scale and its minimum as f32 (blocks.rs).
///
/// Every type is written as `w = d·q + m` with an integer `q`: Q4_1 stores `m`; Q4_0's
/// nibbles are `q + 8`, so `m = −8·d`; Q8_0 has `m = 0`.
pub struct QMatrix {
    ty: BlockType,
    rows: usize,
    cols: usize,
    ints: Ints,
    /// Packed integers: 16 bytes per block as nibbles, 32 as bytes.
    qs: Vec<u8>,
    /// 32 integers per block, for [`Ints::Wide`].
    wide: Vec<i16>,
    d: Vec<f32>,
    m: Vec<f32>,
}

fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16_to_f32(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
}

/// IEEE half to single precision, exactly.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: renormalize.
            let shift = m.leading_zeros() - 21;
            let m = (m << shift) & 0x3ff;
            sign | ((113 - shift) << 23) | (m << 13)
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 112) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// The values of a row of blocks, or `None` for a type without blocks here. The legacy
/// types are read straight from the bytes; the others as the kernels read them.
pub fn dequantize_row(ty: Option<BlockType>, raw: &[u8]) -> Option<Vec<f32>> {
    let ty = ty?;
    let (per, bytes) = ty.file_block();
    if !matches!(ty, BlockType::Q4_0 | BlockType::Q4_1 | BlockType::Q8_0) {
        let cols = raw.len() / bytes * per;
        return QMatrix::new(ty, 1, cols, raw).map(|m| m.row_values(0));
    }
    let mut out = Vec::with_capacity(raw.len() / bytes * BLOCK);
    for block in raw.chunks_exact(bytes) {
        let d = f16_at(block, 0);
        match ty {
            BlockType::Q8_0 => out.extend(block[2..34].iter().map(|&q| d * f32::from(q as i8))),
            _ => {
                let (offset, packed) = if ty == BlockType::Q4_0 {
                    (-8.0 * d, &block[2..18])
                } else {
                    (f16_at(block, 2), &block[4..20])
                };
                out.extend(packed.iter().map(|&b| d * f32::from(b & 0x0f) + offset));
                out.extend(packed.iter().map(|&b| d * f32::from(b >> 4) + offset));
            }
        }
    }
    Some(out)
}

/// Inputs handled together per pass over a weight row: their accumulators stay in
/// registers while each weight block is unpacked once for all of them.
const TILE: usize = 4;

/// The inputs' per-block scales and minimum factors, regrouped by whole tile so that a
/// block's values for the tile's inputs lie side by side: `[tile][block][TILE]`. The SIMD
/// kernels then compute a whole tile's scales and minimum terms with one vector
/// multiplication per block instead of one per input (a last, partial tile goes input by
/// input).
#[cfg_attr(
    not(any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    )),
    allow(dead_code)
)]
struct TileScales {
    blocks: usize,
    d: Vec<f32>,
    s: Vec<f32>,
}

#[cfg_attr(
    not(any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    )),
    allow(dead_code)
)]
impl TileScales {
    fn of(inputs: &[Q8Row], blocks: usize) -> TileScales {
        let tiles = inputs.len() / TILE;
        let mut d = vec![0f32; tiles * blocks * TILE];
        let mut s = vec![0f32; tiles * blocks * TILE];
        for (i, x) in inputs.iter().take(tiles * TILE).enumerate() {
            let (tile, t) = (i / TILE, i % TILE);
            for b in 0..blocks {
                d[(tile * blocks + b) * TILE + t] = x.d[b];
                s[(tile * blocks + b) * TILE + t] = x.s[b];
            }
        }
        TileScales { blocks, d, s }
    }

    /// Pointers to a whole tile's scales and minimum factors (`blocks × TILE` f32 each).
    fn tile(&self, tile: usize) -> (*const f32, *const f32) {
        let at = tile * self.blocks * TILE;
        (self.d[at..].as_ptr(), self.s[at..].as_ptr())
    }
}

impl QMatrix {
    /// A matrix from GGML block bytes (`rows × cols / 32` blocks). `None` if the sizes
    /// disagree.
    pub fn new(ty: BlockType, rows: usize, cols: usize, data: &[u8]) -> Option<QMatrix> {
        let (per, bytes) = ty.file_block();
        if !cols.is_multiple_of(per) || Some(data.len()) != (rows * cols / per).checked_mul(bytes) {
            return None;
        }
        let r = repack(ty, data);
        Some(QMatrix {
            ty,
            rows,
            cols,
            ints: r.ints,
            qs: r.qs,
            wide: r.wide,
            d: r.d,
            m: r.m,
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The values of row `r` (an embedding lookup).
    pub fn row_values(&self, r: usize) -> Vec<f32> {
        let blocks = self.cols / BLOCK;
        let mut out = Vec::with_capacity(self.cols);
        for block in r * blocks..(r + 1) * blocks {
            let (d, m) = (self.d[block], self.m[block]);
            let w = self.unpack(block);
            if self.ty == BlockType::Q4_0 {
                // Q4_0's nibbles are q + 8: written as (q − 8)·d so the value is exact.
                out.extend(w.iter().map(|&q| f32::from(q - 8) * d));
            } else {
                out.extend(w.iter().map(|&q| d * f32::from(q) + m));
            }
        }
        out
    }

    /// `y[t][r] = Σ_c W[r][c] · x[t][c]` for `x` holding whole rows of `cols` values.
    pub fn matmul(&self, x: &[f32]) -> Vec<f32> {
        let n = x.len() / self.cols;
        let inputs: Vec<Q8Row> = x.chunks_exact(self.cols).map(quantize_row).collect();
        let mut y = vec![0f32; n * self.rows];
        // Saturating: on wasm32 the product can pass usize (one thread there anyway).
        let threads = worker_count(self.rows.saturating_mul(self.cols).saturating_mul(n));
        if threads <= 1 {
            self.rows_into(0, self.rows, &inputs, &mut y);
            return y;
        }
        // Each thread owns whole output rows, so a result never depends on the split.
        let per = self.rows.div_ceil(threads);
        let parts: Vec<(usize, Vec<f32>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let (start, end) = (i * per, ((i + 1) * per).min(self.rows));
                    let inputs = &inputs;
                    scope.spawn(move || {
                        let mut out = vec![0f32; end.saturating_sub(start) * n];
                        if start < end {
                            self.rows_into(start, end, inputs, &mut out);
                        }
                        (start, out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        for (start, out) in parts {
            let width = out.len() / n.max(1);
            if width == 0 {
                continue;
            }
            for (t, part) in out.chunks_exact(width).enumerate() {
                let at = t * self.rows + start;
                y[at..at + width].copy_from_slice(part);
            }
        }
        y
    }

    /// Rows `start..end` for every input, input-major: input `t`'s result for row `r` goes
    /// to `out[t * stride + r - start]`, where `out` holds `stride` values per input. The
    /// kernels write straight into the caller's `[input][row]` layout (a separate
    /// transposing pass cost a tenth of the built-in models' time).
    fn rows_into(&self, start: usize, end: usize, inputs: &[Q8Row], out: &mut [f32]) {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        return simd_wasm::rows_into(self, start, end, inputs, out);
        #[cfg(target_arch = "x86_64")]
        return simd_x86::rows_into(self, start, end, inputs, out);
        #[allow(unreachable_code)]
        self.rows_into_portable(start, end, inputs, out)
    }

    /// The reference kernel, in plain Rust. The SIMD kernels perform the very same integer
    /// and float operations in the same order, lane for lane, so all agree bit for bit.
    ///
    /// Per block, the 32 products are summed into four integer lanes the way wasm's
    /// `i32x4.dot_i16x8_s` (and x86's `pmaddwd`) leave them: lane `l` holds the products at
    /// positions `8g + 2l` and `8g + 2l + 1` of the four groups `g`. Each lane, converted
    /// to f32 and times the block's two scales, is added to a running f32 lane; the lanes
    /// are summed `((l0 + l1) + l2) + l3` at the end, and the minimum terms (`m × d·Σq`)
    /// accumulate separately and come last.
    fn rows_into_portable(&self, start: usize, end: usize, inputs: &[Q8Row], out: &mut [f32]) {
        let n = inputs.len();
        let stride = out.len() / n.max(1);
        let blocks = self.cols / BLOCK;
        for r in start..end {
            for (tile, xs) in inputs.chunks(TILE).enumerate() {
                let mut acc = [[0f32; 4]; TILE];
                let mut min_acc = [0f32; TILE];
                for b in 0..blocks {
                    let block = r * blocks + b;
                    let w = self.unpack(block);
                    let (d, m) = (self.d[block], self.m[block]);
                    for (t, x) in xs.iter().enumerate() {
                        let xq = &x.q[b * BLOCK..(b + 1) * BLOCK];
                        let mut lanes = [0i32; 4];
                        for g in 0..4 {
                            for (l, lane) in lanes.iter_mut().enumerate() {
                                let i = 8 * g + 2 * l;
                                *lane += i32::from(w[i]) * i32::from(xq[i])
                                    + i32::from(w[i + 1]) * i32::from(xq[i + 1]);
                            }
                        }
                        let scale = d * x.d[b];
                        for l in 0..4 {
                            acc[t][l] += lanes[l] as f32 * scale;
                        }
                        min_acc[t] += m * x.s[b];
                    }
                }
                for t in 0..xs.len() {
                    out[(tile * TILE + t) * stride + r - start] = finish(acc[t], min_acc[t]);
                }
            }
        }
    }

    /// The 32 integers of a block, widened to 16 bits.
    fn unpack(&self, block: usize) -> [i16; 32] {
        let mut w = [0i16; 32];
        match self.ints {
            Ints::Bytes => {
                for (o, &q) in w.iter_mut().zip(&self.qs[block * 32..block * 32 + 32]) {
                    *o = i16::from(q as i8);
                }
            }
            Ints::Wide => w.copy_from_slice(&self.wide[block * 32..block * 32 + 32]),
            Ints::Nibbles => {
                let packed = &self.qs[block * 16..block * 16 + 16];
                for i in 0..16 {
                    w[i] = i16::from(packed[i] & 0x0f);
                    w[i + 16] = i16::from(packed[i] >> 4);
                }
            }
        }
        w
    }
}

/// The final sum of one output: lanes in a fixed order, then the minimum terms.
#[inline(always)]
fn finish(a: [f32; 4], min_acc: f32) -> f32 {
    (((a[0] + a[1]) + a[2]) + a[3]) + min_acc
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd_wasm {
    //! The kernel with wasm SIMD (simd128), which every browser with WebGPU also has. It
    //! has the structure of the x86 kernel, operation for operation.
    use core::arch::wasm32::*;

    use super::{finish, Ints, Q8Row, QMatrix, TileScales, BLOCK, TILE};

    /// A block's 32 integers widened to 16 bits, in four vectors.
    ///
    /// # Safety
    /// `block` is a block of `m`.
    #[inline(always)]
    unsafe fn unpack(m: &QMatrix, block: usize) -> [v128; 4] {
        match m.ints {
            Ints::Wide => {
                let p = m.wide.as_ptr().add(block * 32) as *const v128;
                [
                    v128_load(p),
                    v128_load(p.add(1)),
                    v128_load(p.add(2)),
                    v128_load(p.add(3)),
                ]
            }
            Ints::Bytes => {
                let p = m.qs.as_ptr().add(block * 32) as *const v128;
                let (a, b) = (v128_load(p), v128_load(p.add(1)));
                [
                    i16x8_extend_low_i8x16(a),
                    i16x8_extend_high_i8x16(a),
                    i16x8_extend_low_i8x16(b),
                    i16x8_extend_high_i8x16(b),
                ]
            }
            Ints::Nibbles => {
                let bytes = v128_load(m.qs.as_ptr().add(block * 16) as *const v128);
                let lo = v128_and(bytes, u8x16_splat(0x0f));
                let hi = u8x16_shr(bytes, 4);
                [
                    u16x8_extend_low_u8x16(lo),
                    u16x8_extend_high_u8x16(lo),
                    u16x8_extend_low_u8x16(hi),
                    u16x8_extend_high_u8x16(hi),
                ]
            }
        }
    }

    /// The block's integer dot product with one input, in the four lanes of
    /// `i32x4.dot_i16x8_s`.
    ///
    /// # Safety
    /// `x` points at the input's 32 i16 of this block.
    #[inline(always)]
    unsafe fn lanes(w: &[v128; 4], x: *const v128) -> v128 {
        let mut s = i32x4_dot_i16x8(w[0], v128_load(x));
        s = i32x4_add(s, i32x4_dot_i16x8(w[1], v128_load(x.add(1))));
        s = i32x4_add(s, i32x4_dot_i16x8(w[2], v128_load(x.add(2))));
        i32x4_add(s, i32x4_dot_i16x8(w[3], v128_load(x.add(3))))
    }

    pub(super) fn rows_into(
        m: &QMatrix,
        start: usize,
        end: usize,
        inputs: &[Q8Row],
        out: &mut [f32],
    ) {
        let n = inputs.len();
        let stride = out.len() / n.max(1);
        let blocks = m.cols / BLOCK;
        let tiles = TileScales::of(inputs, blocks);
        // SAFETY: `qs` holds 16 (4-bit types) or 32 (Q8_0) bytes per block, each input row
        // 32 i16 per block and the tile scales TILE f32 per block; v128 loads need no
        // alignment.
        unsafe {
            for r in start..end {
                for (tile, xs) in inputs.chunks(TILE).enumerate() {
                    let mut acc = [f32x4_splat(0.0); TILE];
                    let mut min_acc = [0f32; TILE];
                    if xs.len() == TILE {
                        let x = [0, 1, 2, 3].map(|t| xs[t].q.as_ptr() as *const v128);
                        (acc, min_acc) = whole_tile(m, r * blocks, blocks, x, tiles.tile(tile));
                    } else {
                        for b in 0..blocks {
                            let block = r * blocks + b;
                            let w = unpack(m, block);
                            let (d, mn) = (m.d[block], m.m[block]);
                            for (t, x) in xs.iter().enumerate() {
                                let s = lanes(&w, x.q.as_ptr().add(b * BLOCK) as *const v128);
                                let scale = f32x4_splat(d * x.d[b]);
                                let scaled = f32x4_mul(f32x4_convert_i32x4(s), scale);
                                acc[t] = f32x4_add(acc[t], scaled);
                                min_acc[t] += mn * x.s[b];
                            }
                        }
                    }
                    for t in 0..xs.len() {
                        let a = [
                            f32x4_extract_lane::<0>(acc[t]),
                            f32x4_extract_lane::<1>(acc[t]),
                            f32x4_extract_lane::<2>(acc[t]),
                            f32x4_extract_lane::<3>(acc[t]),
                        ];
                        out[(tile * TILE + t) * stride + r - start] = finish(a, min_acc[t]);
                    }
                }
            }
        }
    }

    /// One weight row against a whole tile of inputs, as the x86 kernel's `whole_tile`.
    ///
    /// # Safety
    /// `first` is the row's first block; `x[t]` points at input t's `blocks × 32` i16;
    /// `scales` points at the tile's `blocks × TILE` scales and, apart, as many minimum
    /// factors.
    #[inline(always)]
    unsafe fn whole_tile(
        m: &QMatrix,
        first: usize,
        blocks: usize,
        x: [*const v128; TILE],
        scales: (*const f32, *const f32),
    ) -> ([v128; TILE], [f32; TILE]) {
        let zero = f32x4_splat(0.0);
        let (mut a0, mut a1, mut a2, mut a3) = (zero, zero, zero, zero);
        let mut mins = zero;
        let d = m.d.as_ptr().add(first);
        let mn = m.m.as_ptr().add(first);
        for b in 0..blocks {
            let w = unpack(m, first + b);
            let xd = v128_load(scales.0.add(b * TILE) as *const v128);
            let xsum = v128_load(scales.1.add(b * TILE) as *const v128);
            let sc = f32x4_mul(f32x4_splat(*d.add(b)), xd);
            mins = f32x4_add(mins, f32x4_mul(f32x4_splat(*mn.add(b)), xsum));
            let at = b * BLOCK / 8;
            let s0 = f32x4_convert_i32x4(lanes(&w, x[0].add(at)));
            a0 = f32x4_add(a0, f32x4_mul(s0, i32x4_shuffle::<0, 0, 0, 0>(sc, sc)));
            let s1 = f32x4_convert_i32x4(lanes(&w, x[1].add(at)));
            a1 = f32x4_add(a1, f32x4_mul(s1, i32x4_shuffle::<1, 1, 1, 1>(sc, sc)));
            let s2 = f32x4_convert_i32x4(lanes(&w, x[2].add(at)));
            a2 = f32x4_add(a2, f32x4_mul(s2, i32x4_shuffle::<2, 2, 2, 2>(sc, sc)));
            let s3 = f32x4_convert_i32x4(lanes(&w, x[3].add(at)));
            a3 = f32x4_add(a3, f32x4_mul(s3, i32x4_shuffle::<3, 3, 3, 3>(sc, sc)));
        }
        let min_acc = [
            f32x4_extract_lane::<0>(mins),
            f32x4_extract_lane::<1>(mins),
            f32x4_extract_lane::<2>(mins),
            f32x4_extract_lane::<3>(mins),
        ];
        ([a0, a1, a2, a3], min_acc)
    }
}

#[cfg(target_arch = "x86_64")]
mod simd_x86 {
    //! The kernel with SSE2, the x86-64 baseline: `pmaddwd` has the lane layout of wasm's
    //! `i32x4.dot_i16x8_s`.
    use core::arch::x86_64::*;

    use super::{finish, Ints, Q8Row, QMatrix, TileScales, BLOCK, TILE};

    /// Inputs per AVX2 group: two tiles, two inputs to a 256-bit vector.
    const GROUP: usize = 2 * TILE;

    /// The inputs of whole groups, interleaved by pair for AVX2: for pair p (inputs 2p and
    /// 2p + 1) and each run of 8 values, 8 i16 of input 2p then the same 8 of input 2p + 1,
    /// so one 256-bit load holds both halves the SSE2 kernel would load apart.
    struct Pairs {
        data: Vec<i16>,
        cols: usize,
    }

    impl Pairs {
        fn of(inputs: &[Q8Row], cols: usize) -> Pairs {
            let pairs = inputs.len() / GROUP * GROUP / 2;
            let mut data = vec![0i16; pairs * 2 * cols];
            for (p, out) in data.chunks_exact_mut(2 * cols).enumerate() {
                let (a, b) = (&inputs[2 * p].q, &inputs[2 * p + 1].q);
                for (i, run) in out.chunks_exact_mut(16).enumerate() {
                    run[..8].copy_from_slice(&a[i * 8..i * 8 + 8]);
                    run[8..].copy_from_slice(&b[i * 8..i * 8 + 8]);
                }
            }
            Pairs { data, cols }
        }

        /// Pair `p`'s interleaved values (`cols / 8` vectors of 256 bits).
        fn pair(&self, p: usize) -> *const __m256i {
            self.data[p * 2 * self.cols..].as_ptr() as *const __m256i
        }
    }

    /// One weight row against group `g` (inputs 8g .. 8g + 8) with AVX2: each input's four
    /// lanes and minimum terms exactly as [`whole_tile`] computes them (each input in its
    /// own 128-bit half, the same operations lane for lane).
    ///
    /// # Safety
    /// AVX2 is present; `first` is the row's first block; `pairs` and `tiles` hold the
    /// group's inputs.
    #[target_feature(enable = "avx2")]
    unsafe fn whole_group(
        m: &QMatrix,
        first: usize,
        blocks: usize,
        pairs: &Pairs,
        g: usize,
        tiles: &TileScales,
    ) -> ([[f32; 4]; GROUP], [f32; GROUP]) {
        let x = [0, 1, 2, 3].map(|p| pairs.pair(4 * g + p));
        let (lo, hi) = (tiles.tile(2 * g), tiles.tile(2 * g + 1));
        // Scale lanes 2p (four times), then 2p + 1 (four times): pair p's two inputs.
        let spread = [
            _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1),
            _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3),
            _mm256_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5),
            _mm256_setr_epi32(6, 6, 6, 6, 7, 7, 7, 7),
        ];
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut mins = _mm256_setzero_ps();
        let low_nibbles = _mm256_set1_epi8(0x0f);
        let zero = _mm256_setzero_si256();
        for b in 0..blocks {
            let block = first + b;
            // The block's integers in both halves.
            let w = match m.ints {
                Ints::Wide => {
                    let p = m.wide.as_ptr().add(block * 32) as *const __m128i;
                    [0, 1, 2, 3].map(|k| _mm256_broadcastsi128_si256(_mm_loadu_si128(p.add(k))))
                }
                Ints::Bytes => {
                    let p = m.qs.as_ptr().add(block * 32) as *const __m128i;
                    let a = _mm256_broadcastsi128_si256(_mm_loadu_si128(p));
                    let c = _mm256_broadcastsi128_si256(_mm_loadu_si128(p.add(1)));
                    [
                        _mm256_srai_epi16(_mm256_unpacklo_epi8(a, a), 8),
                        _mm256_srai_epi16(_mm256_unpackhi_epi8(a, a), 8),
                        _mm256_srai_epi16(_mm256_unpacklo_epi8(c, c), 8),
                        _mm256_srai_epi16(_mm256_unpackhi_epi8(c, c), 8),
                    ]
                }
                Ints::Nibbles => {
                    let bytes = _mm256_broadcastsi128_si256(_mm_loadu_si128(
                        m.qs.as_ptr().add(block * 16) as *const __m128i,
                    ));
                    let lo4 = _mm256_and_si256(bytes, low_nibbles);
                    let hi4 = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_nibbles);
                    [
                        _mm256_unpacklo_epi8(lo4, zero),
                        _mm256_unpackhi_epi8(lo4, zero),
                        _mm256_unpacklo_epi8(hi4, zero),
                        _mm256_unpackhi_epi8(hi4, zero),
                    ]
                }
            };
            let xd = _mm256_set_m128(
                _mm_loadu_ps(hi.0.add(b * TILE)),
                _mm_loadu_ps(lo.0.add(b * TILE)),
            );
            let xsum = _mm256_set_m128(
                _mm_loadu_ps(hi.1.add(b * TILE)),
                _mm_loadu_ps(lo.1.add(b * TILE)),
            );
            let sc = _mm256_mul_ps(_mm256_set1_ps(*m.d.as_ptr().add(block)), xd);
            let terms = _mm256_mul_ps(_mm256_set1_ps(*m.m.as_ptr().add(block)), xsum);
            mins = _mm256_add_ps(mins, terms);
            for p in 0..4 {
                let xp = x[p].add(4 * b);
                let mut s = _mm256_madd_epi16(w[0], _mm256_loadu_si256(xp));
                s = _mm256_add_epi32(s, _mm256_madd_epi16(w[1], _mm256_loadu_si256(xp.add(1))));
                s = _mm256_add_epi32(s, _mm256_madd_epi16(w[2], _mm256_loadu_si256(xp.add(2))));
                s = _mm256_add_epi32(s, _mm256_madd_epi16(w[3], _mm256_loadu_si256(xp.add(3))));
                let scale = _mm256_permutevar8x32_ps(sc, spread[p]);
                acc[p] = _mm256_add_ps(acc[p], _mm256_mul_ps(_mm256_cvtepi32_ps(s), scale));
            }
        }
        let mut lanes = [[0f32; 4]; GROUP];
        for p in 0..4 {
            let mut both = [0f32; 8];
            _mm256_storeu_ps(both.as_mut_ptr(), acc[p]);
            lanes[2 * p].copy_from_slice(&both[..4]);
            lanes[2 * p + 1].copy_from_slice(&both[4..]);
        }
        let mut min_acc = [0f32; GROUP];
        _mm256_storeu_ps(min_acc.as_mut_ptr(), mins);
        (lanes, min_acc)
    }

    /// A block's 32 integers widened to 16 bits, in four vectors.
    ///
    /// # Safety
    /// `block` is a block of `m`.
    #[inline(always)]
    unsafe fn unpack(m: &QMatrix, block: usize) -> [__m128i; 4] {
        match m.ints {
            Ints::Wide => {
                let p = m.wide.as_ptr().add(block * 32) as *const __m128i;
                [
                    _mm_loadu_si128(p),
                    _mm_loadu_si128(p.add(1)),
                    _mm_loadu_si128(p.add(2)),
                    _mm_loadu_si128(p.add(3)),
                ]
            }
            Ints::Bytes => {
                let p = m.qs.as_ptr().add(block * 32) as *const __m128i;
                let (a, c) = (_mm_loadu_si128(p), _mm_loadu_si128(p.add(1)));
                // Sign-extend bytes to 16 bits: duplicate, then shift right.
                [
                    _mm_srai_epi16(_mm_unpacklo_epi8(a, a), 8),
                    _mm_srai_epi16(_mm_unpackhi_epi8(a, a), 8),
                    _mm_srai_epi16(_mm_unpacklo_epi8(c, c), 8),
                    _mm_srai_epi16(_mm_unpackhi_epi8(c, c), 8),
                ]
            }
            Ints::Nibbles => {
                let low_nibbles = _mm_set1_epi8(0x0f);
                let zero = _mm_setzero_si128();
                let bytes = _mm_loadu_si128(m.qs.as_ptr().add(block * 16) as *const __m128i);
                let lo = _mm_and_si128(bytes, low_nibbles);
                let hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_nibbles);
                [
                    _mm_unpacklo_epi8(lo, zero),
                    _mm_unpackhi_epi8(lo, zero),
                    _mm_unpacklo_epi8(hi, zero),
                    _mm_unpackhi_epi8(hi, zero),
                ]
            }
        }
    }

    /// The block's integer dot product with one input, in the four lanes of `pmaddwd`.
    ///
    /// # Safety
    /// `x` points at the input's 32 i16 of this block.
    #[inline(always)]
    unsafe fn lanes(w: &[__m128i; 4], x: *const __m128i) -> __m128i {
        let mut s = _mm_madd_epi16(w[0], _mm_loadu_si128(x));
        s = _mm_add_epi32(s, _mm_madd_epi16(w[1], _mm_loadu_si128(x.add(1))));
        s = _mm_add_epi32(s, _mm_madd_epi16(w[2], _mm_loadu_si128(x.add(2))));
        _mm_add_epi32(s, _mm_madd_epi16(w[3], _mm_loadu_si128(x.add(3))))
    }

    pub(super) fn rows_into(
        m: &QMatrix,
        start: usize,
        end: usize,
        inputs: &[Q8Row],
        out: &mut [f32],
    ) {
        let n = inputs.len();
        let stride = out.len() / n.max(1);
        let blocks = m.cols / BLOCK;
        let tiles = TileScales::of(inputs, blocks);
        // Whole groups of eight inputs go two to a 256-bit vector where the CPU has AVX2.
        let groups = if n >= GROUP && is_x86_feature_detected!("avx2") {
            n / GROUP
        } else {
            0
        };
        let pairs = (groups > 0).then(|| Pairs::of(inputs, m.cols));
        // SAFETY: SSE2 is always present on x86-64, and AVX2 is used only where detected.
        // `qs` holds 16 (4-bit types) or 32 (Q8_0) bytes per block, each input row 32 i16
        // per block and the tile scales TILE f32 per block; all loads are unaligned loads
        // within those ranges.
        unsafe {
            for r in start..end {
                if let Some(pairs) = &pairs {
                    for g in 0..groups {
                        let (lanes, mins) = whole_group(m, r * blocks, blocks, pairs, g, &tiles);
                        for j in 0..GROUP {
                            out[(g * GROUP + j) * stride + r - start] = finish(lanes[j], mins[j]);
                        }
                    }
                }
                for (tile, xs) in inputs.chunks(TILE).enumerate().skip(groups * GROUP / TILE) {
                    let mut acc = [_mm_setzero_ps(); TILE];
                    let mut min_acc = [0f32; TILE];
                    if xs.len() == TILE {
                        let x = [0, 1, 2, 3].map(|t| xs[t].q.as_ptr() as *const __m128i);
                        (acc, min_acc) = whole_tile(m, r * blocks, blocks, x, tiles.tile(tile));
                    } else {
                        for b in 0..blocks {
                            let block = r * blocks + b;
                            let w = unpack(m, block);
                            let (d, mn) = (m.d[block], m.m[block]);
                            for (t, x) in xs.iter().enumerate() {
                                let s = lanes(&w, x.q.as_ptr().add(b * BLOCK) as *const __m128i);
                                let scale = _mm_set1_ps(d * x.d[b]);
                                acc[t] = _mm_add_ps(acc[t], _mm_mul_ps(_mm_cvtepi32_ps(s), scale));
                                min_acc[t] += mn * x.s[b];
                            }
                        }
                    }
                    for t in 0..xs.len() {
                        let mut a = [0f32; 4];
                        _mm_storeu_ps(a.as_mut_ptr(), acc[t]);
                        out[(tile * TILE + t) * stride + r - start] = finish(a, min_acc[t]);
                    }
                }
            }
        }
    }

    /// One weight row against a whole tile of inputs: each block is unpacked once, and
    /// the tile's scales and minimum terms take one vector multiplication per block, one
    /// input per lane (the same single multiplications and additions as input by input).
    ///
    /// # Safety
    /// `first` is the row's first block; `x[t]` points at input t's `blocks × 32` i16;
    /// `scales` points at the tile's `blocks × TILE` scales and, apart, as many minimum
    /// factors.
    #[inline(always)]
    unsafe fn whole_tile(
        m: &QMatrix,
        first: usize,
        blocks: usize,
        x: [*const __m128i; TILE],
        scales: (*const f32, *const f32),
    ) -> ([__m128; TILE], [f32; TILE]) {
        let (mut a0, mut a1, mut a2, mut a3) = (
            _mm_setzero_ps(),
            _mm_setzero_ps(),
            _mm_setzero_ps(),
            _mm_setzero_ps(),
        );
        let mut mins = _mm_setzero_ps();
        let d = m.d.as_ptr().add(first);
        let mn = m.m.as_ptr().add(first);
        for b in 0..blocks {
            let w = unpack(m, first + b);
            let sc = _mm_mul_ps(_mm_set1_ps(*d.add(b)), _mm_loadu_ps(scales.0.add(b * TILE)));
            let terms = _mm_mul_ps(
                _mm_set1_ps(*mn.add(b)),
                _mm_loadu_ps(scales.1.add(b * TILE)),
            );
            mins = _mm_add_ps(mins, terms);
            let at = b * BLOCK / 8;
            let s0 = _mm_cvtepi32_ps(lanes(&w, x[0].add(at)));
            a0 = _mm_add_ps(a0, _mm_mul_ps(s0, _mm_shuffle_ps::<0x00>(sc, sc)));
            let s1 = _mm_cvtepi32_ps(lanes(&w, x[1].add(at)));
            a1 = _mm_add_ps(a1, _mm_mul_ps(s1, _mm_shuffle_ps::<0x55>(sc, sc)));
            let s2 = _mm_cvtepi32_ps(lanes(&w, x[2].add(at)));
            a2 = _mm_add_ps(a2, _mm_mul_ps(s2, _mm_shuffle_ps::<0xaa>(sc, sc)));
            let s3 = _mm_cvtepi32_ps(lanes(&w, x[3].add(at)));
            a3 = _mm_add_ps(a3, _mm_mul_ps(s3, _mm_shuffle_ps::<0xff>(sc, sc)));
        }
        let mut min_acc = [0f32; TILE];
        _mm_storeu_ps(min_acc.as_mut_ptr(), mins);
        ([a0, a1, a2, a3], min_acc)
    }
}

/// Threads worth using for `work` multiply-adds: one below a few million, else all cores
/// (up to 8). The attention of a batch uses at most two.
pub(crate) fn worker_count(work: usize) -> usize {
    if cfg!(target_arch = "wasm32") || work < 1 << 21 {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic stream of values in [-1, 1).
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    fn f32_to_f16(x: f32) -> u16 {
        // Only for building test blocks from values that f16 represents well.
        let bits = x.to_bits();
        let sign = ((bits >> 16) & 0x8000) as u16;
        let exp = ((bits >> 23) & 0xff) as i32 - 127 + 15;
        if x == 0.0 {
            return sign;
        }
        let mant = ((bits >> 13) & 0x3ff) as u16;
        sign | ((exp as u16) << 10) | mant
    }

    /// Builds one block of each type from 32 values, and the values it stands for.
    fn block(ty: BlockType, xs: &[f32]) -> (Vec<u8>, Vec<f32>) {
        let amax = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
        match ty {
            BlockType::Q8_0 => {
                let d = f16_to_f32(f32_to_f16(amax / 127.0));
                let mut out = f32_to_f16(d).to_le_bytes().to_vec();
                let qs: Vec<i8> = xs.iter().map(|v| (v / d).round() as i8).collect();
                out.extend(qs.iter().map(|&q| q as u8));
                (out, qs.iter().map(|&q| d * f32::from(q)).collect())
            }
            BlockType::Q4_0 => {
                let d = f16_to_f32(f32_to_f16(amax / 8.0));
                let mut out = f32_to_f16(d).to_le_bytes().to_vec();
                let n: Vec<u8> = xs
                    .iter()
                    .map(|v| ((v / d).round() + 8.0).clamp(0.0, 15.0) as u8)
                    .collect();
                out.extend((0..16).map(|i| n[i] | (n[i + 16] << 4)));
                (out, n.iter().map(|&q| d * (f32::from(q) - 8.0)).collect())
            }
            BlockType::Q4_1 => {
                let min = xs.iter().fold(f32::MAX, |m, &v| m.min(v));
                let max = xs.iter().fold(f32::MIN, |m, &v| m.max(v));
                let d = f16_to_f32(f32_to_f16((max - min) / 15.0));
                let m = f16_to_f32(f32_to_f16(min));
                let mut out = f32_to_f16(d).to_le_bytes().to_vec();
                out.extend(f32_to_f16(m).to_le_bytes());
                let n: Vec<u8> = xs
                    .iter()
                    .map(|v| ((v - m) / d).round().clamp(0.0, 15.0) as u8)
                    .collect();
                out.extend((0..16).map(|i| n[i] | (n[i + 16] << 4)));
                (out, n.iter().map(|&q| d * f32::from(q) + m).collect())
            }
            // The other types are checked on random blocks against ggml's reading of
            // them (blocks.rs).
            other => panic!("no test block builder for {other:?}"),
        }
    }

    #[test]
    fn f16_conversion_is_exact_on_known_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn products_match_dequantized_weights_within_input_quantization() {
        let (rows, cols) = (8, 128);
        for ty in [BlockType::Q4_0, BlockType::Q4_1, BlockType::Q8_0] {
            let w = values(rows * cols, 11);
            let mut data = Vec::new();
            let mut dequant = Vec::new();
            for xs in w.chunks(BLOCK) {
                let (b, v) = block(ty, xs);
                data.extend(b);
                dequant.extend(v);
            }
            let m = QMatrix::new(ty, rows, cols, &data).expect("shape");
            let x = values(3 * cols, 5);
            let y = m.matmul(&x);
            for t in 0..3 {
                for r in 0..rows {
                    let exact: f32 = (0..cols)
                        .map(|c| dequant[r * cols + c] * x[t * cols + c])
                        .sum();
                    // The input is rounded to 1/254 of each block's range: error well under 1%
                    // of Σ|w·x|.
                    let scale: f32 = (0..cols)
                        .map(|c| (dequant[r * cols + c] * x[t * cols + c]).abs())
                        .sum();
                    let got = y[t * rows + r];
                    assert!(
                        (got - exact).abs() <= 0.01 * scale,
                        "{ty:?} row {r}: {got} vs {exact}"
                    );
                }
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn the_simd_kernel_equals_the_portable_one_bit_for_bit() {
        let (rows, cols) = (40, 256);
        for ty in BlockType::ALL {
            let (per, _) = ty.file_block();
            let data = crate::blocks::random_blocks(ty, rows * cols / per, 21);
            let m = QMatrix::new(ty, rows, cols, &data).expect("shape");
            // Two groups of eight (AVX2 where present), a whole tile of four and a
            // partial tile of three.
            let n = 23;
            let x = values(n * cols, 4);
            let inputs: Vec<Q8Row> = x.chunks_exact(cols).map(quantize_row).collect();
            let mut fast = vec![0f32; rows * n];
            let mut portable = vec![0f32; rows * n];
            m.rows_into(0, rows, &inputs, &mut fast);
            m.rows_into_portable(0, rows, &inputs, &mut portable);
            assert_eq!(fast, portable, "{ty:?}");
            // A range of rows, as a thread computes it, lands in its own input-major
            // buffer: input t's row r at t * width + r - start.
            let (start, end) = (13, 31);
            let width = end - start;
            let mut part = vec![0f32; width * n];
            m.rows_into(start, end, &inputs, &mut part);
            for t in 0..n {
                assert_eq!(
                    &part[t * width..(t + 1) * width],
                    &portable[t * rows + start..t * rows + end],
                    "{ty:?} input {t}"
                );
            }
        }
    }

    #[test]
    fn embedding_rows_are_the_dequantized_blocks() {
        for ty in [BlockType::Q4_0, BlockType::Q4_1, BlockType::Q8_0] {
            let w = values(3 * 64, 8);
            let (mut data, mut want) = (Vec::new(), Vec::new());
            for xs in w.chunks(BLOCK) {
                let (b, v) = block(ty, xs);
                data.extend(b);
                want.extend(v);
            }
            let m = QMatrix::new(ty, 3, 64, &data).expect("shape");
            for r in 0..3 {
                assert_eq!(
                    m.row_values(r),
                    want[r * 64..(r + 1) * 64].to_vec(),
                    "{ty:?}"
                );
                assert_eq!(
                    dequantize_row(
                        Some(ty),
                        &data[r * data.len() / 3..(r + 1) * data.len() / 3]
                    ),
                    Some(want[r * 64..(r + 1) * 64].to_vec())
                );
            }
        }
    }

    #[test]
    fn a_row_does_not_depend_on_its_companions() {
        let (rows, cols) = (600, 4096);
        let w = values(rows * cols, 3);
        let mut data = Vec::new();
        for xs in w.chunks(BLOCK) {
            data.extend(block(BlockType::Q4_1, xs).0);
        }
        let m = QMatrix::new(BlockType::Q4_1, rows, cols, &data).expect("shape");
        let x = values(4 * cols, 9);
        let together = m.matmul(&x);
        // Big enough for several threads where the machine has them: their row ranges,
        // put together, are the one-thread reference.
        let inputs: Vec<Q8Row> = x.chunks_exact(cols).map(quantize_row).collect();
        let mut reference = vec![0f32; rows * 4];
        m.rows_into_portable(0, rows, &inputs, &mut reference);
        assert_eq!(together, reference);
        for t in 0..4 {
            let alone = m.matmul(&x[t * cols..(t + 1) * cols]);
            assert_eq!(&together[t * rows..(t + 1) * rows], &alone[..]);
        }
    }
}
