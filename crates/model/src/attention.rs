//! Causal attention of one sequence's new tokens over its key/value cache.
//!
//! The arithmetic is fixed, so that results are bit-identical natively and in wasm and do
//! not change when the code gets faster:
//!
//! - a score is `dot(q, k) · scale`, where `dot` sums products into four lanes (lane `l`
//!   takes elements `l, l + 4, …`) and adds the lanes `((l0 + l1) + l2) + l3`;
//! - weights are `exp(score − max)`, exactly as libm's `expf` gives it ([`crate::exp`]),
//!   each divided by their sum taken in position order;
//! - an output element is `0 + w₀·v₀ + w₁·v₁ + …` in position order.
//!
//! The kernels below keep that order per element but work on several positions (for
//! scores) or several output elements (for the weighted sum) at once, which gives the
//! compiler independent chains to put in vector registers: a plain loop over one position
//! at a time waits on each addition in turn. With Ponder's small models attention is a
//! third of a strategy's time, because their contexts are long compared with their width.

use crate::config::ModelConfig;
use crate::exp::exp_in_place;

/// Positions whose scores are computed together.
const POSITIONS: usize = 4;
/// Output elements accumulated together in the weighted sum.
const ELEMENTS: usize = 16;

/// Causal attention of `q` (the new tokens, from position `start`) over a cache of
/// `keys` and `values` that already holds them; `out` gets one row per new token.
pub(crate) fn attend(
    cfg: &ModelConfig,
    q: &[f32],
    keys: &[f32],
    values: &[f32],
    start: usize,
    out: &mut [f32],
) {
    let d = cfg.head_dim;
    let group = cfg.n_heads / cfg.n_kv_heads;
    let kvw = cfg.kv_width();
    let scale = 1.0 / (d as f32).sqrt();
    let mut weights = Vec::new();
    for (t, (q_tok, out_tok)) in q
        .chunks(cfg.hidden)
        .zip(out.chunks_mut(cfg.hidden))
        .enumerate()
    {
        let visible = start + t + 1;
        for head in 0..cfg.n_heads {
            let kv_head = head / group;
            let rows = Rows {
                data: keys,
                stride: kvw,
                offset: kv_head * d,
                width: d,
            };
            let qh = &q_tok[head * d..(head + 1) * d];
            scores(qh, rows, visible, scale, &mut weights);
            softmax(&mut weights);
            let rows = Rows {
                data: values,
                ..rows
            };
            weighted_sum(&weights, rows, &mut out_tok[head * d..(head + 1) * d]);
        }
    }
}

/// One head's slice of each cached position: `width` values at `offset` in rows of
/// `stride`.
#[derive(Clone, Copy)]
struct Rows<'a> {
    data: &'a [f32],
    stride: usize,
    offset: usize,
    width: usize,
}

impl<'a> Rows<'a> {
    fn row(&self, p: usize) -> &'a [f32] {
        let at = p * self.stride + self.offset;
        &self.data[at..at + self.width]
    }
}

/// `out[p] = dot(q, keys[p]) · scale` for the first `visible` positions.
fn scores(q: &[f32], keys: Rows<'_>, visible: usize, scale: f32, out: &mut Vec<f32>) {
    out.clear();
    let mut p = 0;
    if q.len().is_multiple_of(4) {
        while p + POSITIONS <= visible {
            let k: [&[f32]; POSITIONS] = std::array::from_fn(|i| keys.row(p + i));
            let mut acc = [[0f32; 4]; POSITIONS];
            for (c, qc) in q.chunks_exact(4).enumerate() {
                for (a, k) in acc.iter_mut().zip(&k) {
                    let kc = &k[4 * c..4 * c + 4];
                    for l in 0..4 {
                        a[l] += qc[l] * kc[l];
                    }
                }
            }
            out.extend(acc.iter().map(|a| lane_sum(*a) * scale));
            p += POSITIONS;
        }
    }
    out.extend((p..visible).map(|p| dot(q, keys.row(p)) * scale));
}

/// Scores to weights, in place: `exp(s − max) / Σ exp(s − max)`.
fn softmax(scores: &mut [f32]) {
    let max = scores.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
    for s in scores.iter_mut() {
        *s -= max;
    }
    exp_in_place(scores);
    let sum = scores.iter().fold(0f32, |sum, &e| sum + e);
    for s in scores.iter_mut() {
        *s /= sum;
    }
}

/// `out[j] = Σ_p weights[p] · values[p][j]`, summed in position order from zero.
fn weighted_sum(weights: &[f32], values: Rows<'_>, out: &mut [f32]) {
    let mut chunks = out.chunks_exact_mut(ELEMENTS);
    for (c, o) in chunks.by_ref().enumerate() {
        let mut acc = [0f32; ELEMENTS];
        for (p, &w) in weights.iter().enumerate() {
            let v = &values.row(p)[c * ELEMENTS..(c + 1) * ELEMENTS];
            for j in 0..ELEMENTS {
                acc[j] += w * v[j];
            }
        }
        o.copy_from_slice(&acc);
    }
    let o = chunks.into_remainder();
    let first = values.width - o.len();
    o.fill(0.0);
    for (p, &w) in weights.iter().enumerate() {
        for (o, &v) in o.iter_mut().zip(&values.row(p)[first..]) {
            *o += w * v;
        }
    }
}

/// The dot product that defines a score (and dense projections use): four interleaved
/// partial sums, added `((s0 + s1) + s2) + s3`, a fixed order that every platform rounds
/// alike and that compilers can map onto SIMD lanes.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut s = [0f32; 4];
    let (ac, bc) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for l in 0..4 {
            s[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ar.iter().zip(br).enumerate() {
        s[l] += x * y;
    }
    lane_sum(s)
}

#[inline(always)]
fn lane_sum(s: [f32; 4]) -> f32 {
    ((s[0] + s[1]) + s[2]) + s[3]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Architecture, RopeLayout};

    /// Attention exactly as first written: one position and one element at a time. The
    /// kernels must give the same bits.
    fn reference(
        cfg: &ModelConfig,
        q: &[f32],
        keys: &[f32],
        values: &[f32],
        start: usize,
        out: &mut [f32],
    ) {
        let d = cfg.head_dim;
        let group = cfg.n_heads / cfg.n_kv_heads;
        let kvw = cfg.kv_width();
        let scale = 1.0 / (d as f32).sqrt();
        for (t, (q_tok, out_tok)) in q
            .chunks(cfg.hidden)
            .zip(out.chunks_mut(cfg.hidden))
            .enumerate()
        {
            let visible = start + t + 1;
            for head in 0..cfg.n_heads {
                let kv_head = head / group;
                let qh = &q_tok[head * d..(head + 1) * d];
                let mut scores = Vec::new();
                let mut max = f32::NEG_INFINITY;
                for p in 0..visible {
                    let kh = &keys[p * kvw + kv_head * d..p * kvw + (kv_head + 1) * d];
                    let s = dot(qh, kh) * scale;
                    max = max.max(s);
                    scores.push(s);
                }
                let mut sum = 0f32;
                for s in scores.iter_mut() {
                    *s = libm::expf(*s - max);
                    sum += *s;
                }
                let oh = &mut out_tok[head * d..(head + 1) * d];
                oh.fill(0.0);
                for (p, &w) in scores.iter().enumerate() {
                    let w = w / sum;
                    let vh = &values[p * kvw + kv_head * d..p * kvw + (kv_head + 1) * d];
                    for (o, &vv) in oh.iter_mut().zip(vh) {
                        *o += w * vv;
                    }
                }
            }
        }
    }

    fn config(n_heads: usize, n_kv_heads: usize, head_dim: usize) -> ModelConfig {
        ModelConfig {
            architecture: Architecture::Llama,
            n_layers: 1,
            hidden: n_heads * head_dim,
            ffn_hidden: 0,
            n_heads,
            n_kv_heads,
            head_dim,
            context_length: 1024,
            rope_base: 10_000.0,
            rope_layout: RopeLayout::Halves,
            rms_eps: 1e-5,
            qkv_bias: false,
        }
    }

    /// Values spread over several orders of magnitude, so that a different order of
    /// additions would round differently.
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let unit = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                unit * [0.01f32, 1.0, 7.0][(state % 3) as usize]
            })
            .collect()
    }

    #[test]
    fn the_kernels_equal_one_position_at_a_time_bit_for_bit() {
        // Head sizes with whole chunks (32, 64) and without (20 leaves 4 elements after
        // the 16-element chunk; 6 is not a multiple of 4), grouped and plain heads, and
        // context lengths that leave every remainder of the 4-position groups.
        for (heads, kv_heads, d) in [(4, 4, 32), (9, 3, 64), (2, 1, 20), (2, 2, 6)] {
            let cfg = config(heads, kv_heads, d);
            for (start, new) in [(0, 1), (0, 7), (5, 1), (38, 3), (130, 2)] {
                let len = start + new;
                let keys = values(len * cfg.kv_width(), 1 + len as u64);
                let vals = values(len * cfg.kv_width(), 2 + len as u64);
                let q = values(new * cfg.hidden, 3 + d as u64);
                let mut fast = vec![f32::NAN; new * cfg.hidden];
                let mut slow = vec![f32::NAN; new * cfg.hidden];
                attend(&cfg, &q, &keys, &vals, start, &mut fast);
                reference(&cfg, &q, &keys, &vals, start, &mut slow);
                let (fast, slow): (Vec<u32>, Vec<u32>) = (
                    fast.iter().map(|x| x.to_bits()).collect(),
                    slow.iter().map(|x| x.to_bits()).collect(),
                );
                assert_eq!(
                    fast, slow,
                    "heads {heads}/{kv_heads}, size {d}, {start}+{new}"
                );
            }
        }
    }
}
