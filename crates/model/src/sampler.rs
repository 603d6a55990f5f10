//! Choosing the next token: greedy, temperature, top-k, top-p, with randomness that is a
//! pure function of where the draw happens.
//!
//! Every draw takes its uniform number from [`uniform`]`(seed, stream, position)`, a
//! counter-based generator: no state is carried from one draw to the next, so the token a
//! sequence samples at a position does not depend on how many other sequences ran in the
//! same batch, in which order, or on which machine. The arithmetic is integer-only up to
//! one exact conversion to `f64`, so native and wasm builds draw identical numbers.

/// How to choose tokens. `temperature == 0` means greedy (ties go to the lower id).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamplingParams {
    pub temperature: f32,
    /// Keep only the `top_k` most likely tokens (0 = no limit).
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability reaches `top_p`
    /// (1.0 = no limit).
    pub top_p: f32,
}

impl SamplingParams {
    pub const GREEDY: SamplingParams = SamplingParams {
        temperature: 0.0,
        top_k: 0,
        top_p: 1.0,
    };

    pub fn is_greedy(&self) -> bool {
        self.temperature <= 0.0
    }
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            temperature: 0.7,
            top_k: 0,
            top_p: 1.0,
        }
    }
}

/// SplitMix64's finalizer: a bijective mix with full avalanche (Steele et al. 2014).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The uniform number in `[0, 1)` for draw number `position` of random stream `stream`
/// under `seed`.
///
/// Definition (stable across versions, since shared links depend on it):
/// `h = mix(mix(mix(seed ^ C1) ^ stream) ^ position)` with SplitMix64's finalizer `mix` and
/// `C1 = 0x9e3779b97f4a7c15`; the result is `(h >> 11) / 2^53`. Streams are chosen by the
/// caller (Ponder derives them from problem, strategy and path), positions are token
/// positions in the sequence.
pub fn uniform(seed: u64, stream: u64, position: u64) -> f64 {
    (draw_bits(seed, stream, position) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The 64 bits `h` behind [`uniform`]: for callers that draw an index (`h % n`) rather
/// than a fraction. Every bit depends on all of seed, stream and position.
pub fn draw_bits(seed: u64, stream: u64, position: u64) -> u64 {
    mix(mix(mix(seed ^ 0x9e37_79b9_7f4a_7c15) ^ stream) ^ position)
}

/// Chooses a token from `logits` with the uniform number `u` (ignored when greedy).
/// Non-finite logits are never chosen; if no logit is finite, token 0 is returned.
pub fn sample(logits: &[f32], params: &SamplingParams, u: f64) -> u32 {
    if params.is_greedy() {
        return argmax(logits);
    }
    // Candidates sorted by logit, high first; ties by id so the order is total.
    let mut order: Vec<u32> = (0..logits.len() as u32)
        .filter(|&i| logits[i as usize].is_finite())
        .collect();
    if order.is_empty() {
        return 0;
    }
    order.sort_by(|&a, &b| {
        logits[b as usize]
            .total_cmp(&logits[a as usize])
            .then(a.cmp(&b))
    });
    if params.top_k > 0 && params.top_k < order.len() {
        order.truncate(params.top_k);
    }
    let max = logits[order[0] as usize];
    let t = params.temperature as f64;
    let mut probs: Vec<f64> = order
        .iter()
        // libm: the same bits natively and in wasm, so a draw picks the same token.
        .map(|&i| libm::exp((logits[i as usize] - max) as f64 / t))
        .collect();
    let total: f64 = probs.iter().sum();
    for p in probs.iter_mut() {
        *p /= total;
    }
    if params.top_p < 1.0 {
        let mut kept = 0;
        let mut mass = 0.0;
        for p in &probs {
            kept += 1;
            mass += p;
            if mass >= params.top_p as f64 {
                break;
            }
        }
        order.truncate(kept);
        probs.truncate(kept);
        let total: f64 = probs.iter().sum();
        for p in probs.iter_mut() {
            *p /= total;
        }
    }
    // Inverse CDF: the first candidate whose cumulative probability exceeds u.
    let mut cumulative = 0.0;
    for (i, p) in probs.iter().enumerate() {
        cumulative += p;
        if u < cumulative {
            return order[i];
        }
    }
    order[order.len() - 1]
}

/// The index of the largest finite logit (the lowest such index on ties).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best: Option<usize> = None;
    for (i, &x) in logits.iter().enumerate() {
        if x.is_finite() && best.is_none_or(|b| x > logits[b]) {
            best = Some(i);
        }
    }
    best.unwrap_or(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_is_a_pure_function_in_range() {
        assert_eq!(uniform(1, 2, 3), uniform(1, 2, 3));
        assert_ne!(uniform(1, 2, 3), uniform(1, 2, 4));
        assert_ne!(uniform(1, 2, 3), uniform(1, 3, 3));
        assert_ne!(uniform(1, 2, 3), uniform(2, 2, 3));
        for i in 0..10_000 {
            let u = uniform(42, 7, i);
            assert!((0.0..1.0).contains(&u));
        }
    }

    #[test]
    fn uniform_values_are_pinned() {
        // Shared links replay only if these never change.
        assert_eq!(mix(0), 0);
        assert_eq!(mix(1), 0x5692_161d_100b_05e5);
        // Values computed independently (Python, arbitrary-precision integers).
        assert_eq!(uniform(0, 0, 0), 0.20310281705476096);
        assert_eq!(uniform(42, 7, 5), 0.659934413035955);
    }

    #[test]
    fn uniform_is_uniform_enough() {
        // Chi-squared over 10 bins, 100k draws: far below the 0.1% critical value 27.9.
        let n = 100_000;
        let mut bins = [0u32; 10];
        for i in 0..n {
            bins[(uniform(9, 1, i) * 10.0) as usize] += 1;
        }
        let expected = n as f64 / 10.0;
        let chi2: f64 = bins
            .iter()
            .map(|&b| (b as f64 - expected).powi(2) / expected)
            .sum();
        assert!(chi2 < 27.9, "chi2 {chi2}, bins {bins:?}");
    }

    #[test]
    fn greedy_takes_the_largest_and_breaks_ties_low() {
        assert_eq!(
            sample(&[0.1, 3.0, 3.0, -1.0], &SamplingParams::GREEDY, 0.99),
            1
        );
        assert_eq!(argmax(&[f32::NAN, 1.0, f32::INFINITY]), 1);
        assert_eq!(argmax(&[]), 0);
    }

    #[test]
    fn sampling_follows_the_softmax() {
        // logits ln(1), ln(3): probabilities 1/4 and 3/4 at temperature 1.
        let logits = [0.0f32, 3f32.ln()];
        let params = SamplingParams {
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
        };
        // Sorted order is [1, 0]: u < 0.75 picks token 1.
        assert_eq!(sample(&logits, &params, 0.0), 1);
        assert_eq!(sample(&logits, &params, 0.7499), 1);
        assert_eq!(sample(&logits, &params, 0.7501), 0);
        let n = 20_000;
        let ones = (0..n)
            .filter(|&i| sample(&logits, &params, uniform(3, 0, i)) == 1)
            .count();
        let frac = ones as f64 / n as f64;
        // Binomial standard deviation is 0.003; allow five.
        assert!((frac - 0.75).abs() < 0.015, "{frac}");
    }

    #[test]
    fn top_k_and_top_p_cut_the_tail() {
        let logits = [4.0f32, 3.0, 2.0, 1.0];
        let top1 = SamplingParams {
            temperature: 1.0,
            top_k: 1,
            top_p: 1.0,
        };
        assert!((0..100).all(|i| sample(&logits, &top1, uniform(0, 0, i)) == 0));
        // Probabilities ~0.644, 0.237, 0.087, 0.032: top_p 0.85 keeps the first two.
        let nucleus = SamplingParams {
            temperature: 1.0,
            top_k: 0,
            top_p: 0.85,
        };
        assert!((0..2000).all(|i| sample(&logits, &nucleus, uniform(0, 1, i)) < 2));
    }
}
