//! GGUF's quantized block formats, read into the one form the kernels compute with: per
//! 32 weights, integers `q` whose values are `d·q + m`, with f32 `d` and `m` per 32.
//!
//! The legacy formats are that already (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0). The K formats
//! group 256 weights under f16 scales with small integer sub-scales, and fold into it
//! without rounding:
//! - Q4_K: each 32 has 6-bit scale and minimum factors `s`, `n` of the block's `d` and
//!   `dmin`, so its `d·s` and `−dmin·n` are exact f32 products (11 by 6 bits), and its
//!   values are `(d·s)·q − dmin·n` as ggml computes them.
//! - Q6_K: each 16 weights has a signed 8-bit scale `s`, two per 32; the integer is
//!   `s·(q − 32)` (at most 4096 in size, so 16 bits), times `d`. The value `d·(s·(q − 32))`
//!   is exact in f32 (11 by 13 bits), where ggml's `(d·s)·(q − 32)` may round once.
//!
//! So the products, the CPU's and the GPU's alike, run every format through the same
//! integer dot products and the same float order.

use crate::qmatmul::{f16_to_f32, BlockType};

/// How a block's 32 integers are stored for the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ints {
    /// 16 bytes: element `j` in the low nibble of byte `j`, element `j + 16` in its high
    /// nibble (values 0..15).
    Nibbles,
    /// 32 signed bytes.
    Bytes,
    /// 32 signed 16-bit integers.
    Wide,
}

/// A tensor's blocks in the kernels' form.
pub struct Repacked {
    pub ints: Ints,
    /// [`Ints::Nibbles`] and [`Ints::Bytes`] storage.
    pub qs: Vec<u8>,
    /// [`Ints::Wide`] storage.
    pub wide: Vec<i16>,
    pub d: Vec<f32>,
    pub m: Vec<f32>,
}

impl BlockType {
    /// Every block type, as `from_tensor_type` knows them.
    pub const ALL: [BlockType; 7] = [
        BlockType::Q4_0,
        BlockType::Q4_1,
        BlockType::Q5_0,
        BlockType::Q5_1,
        BlockType::Q8_0,
        BlockType::Q4K,
        BlockType::Q6K,
    ];

    /// Weights per block in the file, and the block's bytes.
    pub fn file_block(self) -> (usize, usize) {
        match self {
            BlockType::Q4_0 => (32, 18),
            BlockType::Q4_1 => (32, 20),
            BlockType::Q5_0 => (32, 22),
            BlockType::Q5_1 => (32, 24),
            BlockType::Q8_0 => (32, 34),
            BlockType::Q4K => (256, 144),
            BlockType::Q6K => (256, 210),
        }
    }

    pub fn ints(self) -> Ints {
        match self {
            BlockType::Q4_0 | BlockType::Q4_1 | BlockType::Q4K => Ints::Nibbles,
            BlockType::Q5_0 | BlockType::Q5_1 | BlockType::Q8_0 => Ints::Bytes,
            BlockType::Q6K => Ints::Wide,
        }
    }
}

fn f16_at(bytes: &[u8], at: usize) -> f32 {
    f16_to_f32(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
}

/// Q4_K's 6-bit scale and minimum factors of sub-block `j` (0..8), packed in 12 bytes.
pub fn q4k_factors(scales: &[u8], j: usize) -> (u8, u8) {
    if j < 4 {
        (scales[j] & 63, scales[j + 4] & 63)
    } else {
        (
            (scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4),
            (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4),
        )
    }
}

/// Reads `data`, whole blocks of `ty` (the caller checked the length).
pub fn repack(ty: BlockType, data: &[u8]) -> Repacked {
    let (per, bytes) = ty.file_block();
    let blocks = data.len() / bytes * (per / 32);
    let ints = ty.ints();
    let mut r = Repacked {
        ints,
        qs: Vec::with_capacity(match ints {
            Ints::Nibbles => blocks * 16,
            Ints::Bytes => blocks * 32,
            Ints::Wide => 0,
        }),
        wide: Vec::with_capacity(if ints == Ints::Wide { blocks * 32 } else { 0 }),
        d: Vec::with_capacity(blocks),
        m: Vec::with_capacity(blocks),
    };
    for block in data.chunks_exact(bytes) {
        match ty {
            BlockType::Q4_0 => {
                let d = f16_at(block, 0);
                r.push_nibbles(d, -8.0 * d, &block[2..18]);
            }
            BlockType::Q4_1 => r.push_nibbles(f16_at(block, 0), f16_at(block, 2), &block[4..20]),
            BlockType::Q8_0 => {
                r.d.push(f16_at(block, 0));
                r.m.push(0.0);
                r.qs.extend_from_slice(&block[2..34]);
            }
            BlockType::Q5_0 | BlockType::Q5_1 => {
                // Q5_0: d, 32 fifth bits, 16 bytes of nibbles; values d·(q − 16).
                // Q5_1: d, m, the fifth bits, the nibbles; values d·q + m.
                let (m, at) = if ty == BlockType::Q5_0 {
                    (None, 2)
                } else {
                    (Some(f16_at(block, 2)), 4)
                };
                let high =
                    u32::from_le_bytes([block[at], block[at + 1], block[at + 2], block[at + 3]]);
                let nibbles = &block[at + 4..at + 20];
                let offset = if m.is_some() { 0 } else { 16 };
                let q = |j: usize| -> u8 {
                    let nibble = if j < 16 {
                        nibbles[j] & 0x0f
                    } else {
                        nibbles[j - 16] >> 4
                    };
                    let fifth = ((high >> j) & 1) as u8;
                    (nibble | (fifth << 4)).wrapping_sub(offset)
                };
                r.d.push(f16_at(block, 0));
                r.m.push(m.unwrap_or(0.0));
                r.qs.extend((0..32).map(q));
            }
            BlockType::Q4K => {
                // d, dmin, 12 bytes of factors, then 4 runs of 32 bytes: run i holds
                // sub-block 2i in its low nibbles and 2i + 1 in its high ones.
                let (d, dmin) = (f16_at(block, 0), f16_at(block, 2));
                let scales = &block[4..16];
                for j in 0..8 {
                    let (s, n) = q4k_factors(scales, j);
                    let run = &block[16 + 32 * (j / 2)..16 + 32 * (j / 2) + 32];
                    let shift = 4 * (j % 2);
                    let q: Vec<u8> = run.iter().map(|b| (b >> shift) & 0x0f).collect();
                    let packed: Vec<u8> = (0..16).map(|i| q[i] | (q[i + 16] << 4)).collect();
                    r.push_nibbles(d * f32::from(s), -(dmin * f32::from(n)), &packed);
                }
            }
            BlockType::Q6K => {
                // 128 bytes of low nibbles, 64 of high bit pairs, 16 signed scales, d.
                let (ql, qh, scales) = (&block[..128], &block[128..192], &block[192..208]);
                let d = f16_at(block, 208);
                for j in 0..8 {
                    let (half, g) = (j / 4, j % 4);
                    for l in 0..32 {
                        let low = ql[64 * half + l + 32 * (g % 2)] >> (4 * (g / 2)) & 0x0f;
                        let high = (qh[32 * half + l] >> (2 * g)) & 3;
                        let q = i16::from(low | (high << 4)) - 32;
                        let s = i16::from(scales[8 * half + l / 16 + 2 * g] as i8);
                        r.wide.push(s * q);
                    }
                    r.d.push(d);
                    r.m.push(0.0);
                }
            }
        }
    }
    r
}

impl Repacked {
    fn push_nibbles(&mut self, d: f32, m: f32, packed: &[u8]) {
        self.d.push(d);
        self.m.push(m);
        self.qs.extend_from_slice(packed);
    }
}

/// Random blocks of `ty` for tests: random bytes, with every f16 field a finite scale
/// (0.001 to 0.03, some negative: ggml writes negative minimums and Q6_K scales).
#[cfg(test)]
pub(crate) fn random_blocks(ty: BlockType, n: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let (_, bytes) = ty.file_block();
    let halves: &[usize] = match ty {
        BlockType::Q4_0 | BlockType::Q5_0 | BlockType::Q8_0 => &[0],
        BlockType::Q4_1 | BlockType::Q5_1 | BlockType::Q4K => &[0, 2],
        BlockType::Q6K => &[208],
    };
    let mut out = Vec::with_capacity(n * bytes);
    for _ in 0..n {
        let mut block: Vec<u8> = (0..bytes).map(|_| next() as u8).collect();
        for &at in halves {
            // f16 exponent 6..10 (2^-9 .. 2^-5), any mantissa, either sign.
            let r = next();
            let half = ((r & 1) as u16) << 15
                | ((6 + (r >> 1) % 5) as u16) << 10
                | (r >> 8) as u16 & 0x3ff;
            block[at..at + 2].copy_from_slice(&half.to_le_bytes());
        }
        out.extend(block);
    }
    out
}

#[cfg(test)]
mod tests {
    use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType};
    use candle_core::Device;

    use super::*;
    use crate::qmatmul::QMatrix;

    const ALL: [BlockType; 7] = BlockType::ALL;

    /// ggml's own reading of the blocks (candle's port of it): the independent reference.
    fn ggml_values(ty: BlockType, data: &[u8], cols: usize) -> Vec<f32> {
        let dtype = match ty {
            BlockType::Q4_0 => GgmlDType::Q4_0,
            BlockType::Q4_1 => GgmlDType::Q4_1,
            BlockType::Q5_0 => GgmlDType::Q5_0,
            BlockType::Q5_1 => GgmlDType::Q5_1,
            BlockType::Q8_0 => GgmlDType::Q8_0,
            BlockType::Q4K => GgmlDType::Q4K,
            BlockType::Q6K => GgmlDType::Q6K,
        };
        let rows = data.len() / ty.file_block().1 * ty.file_block().0 / cols;
        qtensor_from_ggml(dtype, data, vec![rows, cols], &Device::Cpu)
            .and_then(|q| q.dequantize(&Device::Cpu))
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .expect("candle reads the blocks")
    }

    #[test]
    fn every_type_reads_as_ggml_reads_it() {
        let (rows, cols) = (3, 512);
        for ty in ALL {
            let (per, _) = ty.file_block();
            let data = random_blocks(ty, rows * cols / per, 5);
            let m = QMatrix::new(ty, rows, cols, &data).expect("shape");
            let want = ggml_values(ty, &data, cols);
            for r in 0..rows {
                let got = m.row_values(r);
                for (c, (g, w)) in got.iter().zip(&want[r * cols..]).enumerate() {
                    if ty == BlockType::Q6K {
                        // Ours is d·(s·q), exact; ggml's (d·s)·q may round once.
                        assert!(
                            (g - w).abs() <= w.abs() * f32::EPSILON,
                            "{ty:?} [{r}][{c}]: {g} vs {w}"
                        );
                    } else {
                        assert_eq!(g, w, "{ty:?} [{r}][{c}]");
                    }
                }
            }
        }
    }

    #[test]
    fn q6k_values_are_exact_multiples_of_the_scale() {
        let data = random_blocks(BlockType::Q6K, 2, 9);
        let m = QMatrix::new(BlockType::Q6K, 1, 512, &data).expect("shape");
        for (i, g) in m.row_values(0).into_iter().enumerate() {
            let block = &data[i / 256 * 210..];
            let d = f16_to_f32(u16::from_le_bytes([block[208], block[209]]));
            // d times an integer of at most 4096 in size, with nothing rounded away.
            let k = f64::from(g) / f64::from(d);
            assert!(
                k.fract() == 0.0 && k.abs() <= 4096.0,
                "value {i}: {g} = {k}·{d}"
            );
        }
    }

    #[test]
    fn products_match_ggml_values_within_input_quantization() {
        let (rows, cols) = (6, 768);
        for ty in ALL {
            let (per, _) = ty.file_block();
            let data = random_blocks(ty, rows * cols / per, 17);
            let m = QMatrix::new(ty, rows, cols, &data).expect("shape");
            let w = ggml_values(ty, &data, cols);
            let x: Vec<f32> = (0..2 * cols)
                .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
                .collect();
            let y = m.matmul(&x);
            for t in 0..2 {
                for r in 0..rows {
                    let terms =
                        (0..cols).map(|c| f64::from(w[r * cols + c]) * f64::from(x[t * cols + c]));
                    let exact: f64 = terms.clone().sum();
                    let scale: f64 = terms.map(f64::abs).sum();
                    // The input is rounded to 1/254 of each block's range.
                    let got = f64::from(y[t * rows + r]);
                    assert!(
                        (got - exact).abs() <= 0.01 * scale,
                        "{ty:?} [{t}][{r}]: {got} vs {exact}"
                    );
                }
            }
        }
    }
}
