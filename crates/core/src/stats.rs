//! How sure a measured accuracy is, and whether one strategy beats another: percentile
//! bootstrap intervals over problems, paired comparisons on the same problems, and a
//! three-way verdict decided by the interval rather than by two point estimates.
//!
//! The unit of resampling is the problem. Each problem carries its results for every seed
//! (the seeds of one problem travel together), so an interval reflects both which problems
//! were drawn and how each seed's sampling went, and a comparison of two strategies
//! resamples the same problems for both: what they share cancels out.
//!
//! The resampling draws come from the counter-based generator of the samplers
//! ([`crate::draw`]'s convention: a pure function of seed, stream and position), so an
//! interval is the same on every run and every machine, in the page and the CLI.

use serde::{Deserialize, Serialize};

/// Resamples per interval: enough that the 2.5% and 97.5% percentiles move by well under a
/// point between runs with different draws.
pub const RESAMPLES: usize = 2000;

/// A 95% interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// SplitMix64's finalizer (the samplers' mix).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Draw `i` of resample `r`: an index below `n`.
fn draw(r: usize, i: usize, n: usize) -> usize {
    let h = mix(mix(mix(0x5eed_b007_57a7_5eed_u64 ^ r as u64) ^ i as u64));
    (h % n as u64) as usize
}

/// The mean over problems of each problem's mean over its seeds.
fn mean_of(values: &[Vec<f64>], pick: impl Fn(usize) -> usize) -> f64 {
    let n = values.len();
    (0..n)
        .map(|i| {
            let seeds = &values[pick(i)];
            seeds.iter().sum::<f64>() / seeds.len().max(1) as f64
        })
        .sum::<f64>()
        / n as f64
}

/// The 2.5% and 97.5% percentiles of `stats` (sorted in place), by the nearest rank.
fn percentiles(stats: &mut [f64]) -> Interval {
    stats.sort_by(f64::total_cmp);
    let at = |q: f64| stats[((q * stats.len() as f64).ceil() as usize).clamp(1, stats.len()) - 1];
    Interval {
        low: at(0.025),
        high: at(0.975),
    }
}

/// The mean of `values` (per problem, one value per seed: 1.0 right, 0.0 wrong, or any
/// score) and its 95% bootstrap interval over problems. `None` without problems.
pub fn mean_interval(values: &[Vec<f64>]) -> Option<(f64, Interval)> {
    let values: Vec<Vec<f64>> = values.iter().filter(|v| !v.is_empty()).cloned().collect();
    if values.is_empty() {
        return None;
    }
    let n = values.len();
    let mut stats: Vec<f64> = (0..RESAMPLES)
        .map(|r| mean_of(&values, |i| draw(r, i, n)))
        .collect();
    Some((mean_of(&values, |i| i), percentiles(&mut stats)))
}

/// The paired difference `a − b` of two strategies' means over the same problems (`a[i]`
/// and `b[i]` are problem i's values per seed for each), with its 95% bootstrap interval:
/// each resample draws problems once and takes both strategies' values on them. `None`
/// without problems, or when the two are not on the same problems.
pub fn paired_difference(a: &[Vec<f64>], b: &[Vec<f64>]) -> Option<(f64, Interval)> {
    if a.len() != b.len() {
        return None;
    }
    let differences: Vec<Vec<f64>> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| !x.is_empty() && x.len() == y.len())
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p - q).collect())
        .collect();
    mean_interval(&differences)
}

/// What a measurement says about a claim (say, the paper's "a beats b").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// The whole interval is on the claim's side.
    Agrees,
    /// The whole interval is on the other side.
    Disagrees,
    /// The interval holds both: the measurement cannot decide.
    Inconclusive,
    /// Both strategies solved every problem on every seed, or neither solved any: the
    /// problems cannot tell them apart, so they are no evidence either way.
    AtBound,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Agrees => "agrees",
            Verdict::Disagrees => "disagrees",
            Verdict::Inconclusive => "inconclusive",
            Verdict::AtBound => "no evidence (both at 0% or 100%)",
        }
    }
}

/// Whether `a` beats `b` (`a − b > 0`) on the same problems, as a [`Verdict`] with the
/// paired difference and its interval. Right/wrong values are 1.0/0.0; a problem where
/// both are right on every seed, or both wrong, counts (it is a tie), but if every problem
/// is such a tie at the same bound the verdict is [`Verdict::AtBound`].
pub fn beats(a: &[Vec<f64>], b: &[Vec<f64>]) -> Option<(Verdict, f64, Interval)> {
    let (difference, interval) = paired_difference(a, b)?;
    let all = |v: &[Vec<f64>], x: f64| v.iter().flatten().all(|&y| y == x);
    let verdict = if (all(a, 1.0) && all(b, 1.0)) || (all(a, 0.0) && all(b, 0.0)) {
        Verdict::AtBound
    } else if interval.low > 0.0 {
        Verdict::Agrees
    } else if interval.high < 0.0 {
        Verdict::Disagrees
    } else {
        Verdict::Inconclusive
    };
    Some((verdict, difference, interval))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn right(pattern: &[&[u8]]) -> Vec<Vec<f64>> {
        pattern
            .iter()
            .map(|seeds| seeds.iter().map(|&x| f64::from(x)).collect())
            .collect()
    }

    #[test]
    fn the_interval_of_a_proportion_matches_the_normal_approximation() {
        // 100 problems, one seed, 60 right: the bootstrap interval of a proportion is close
        // to p ± 1.96·sqrt(p(1 − p)/n) = 0.6 ± 0.096 for large n.
        let values: Vec<Vec<f64>> = (0..100)
            .map(|i| vec![f64::from(u8::from(i < 60))])
            .collect();
        let (mean, ci) = mean_interval(&values).expect("problems");
        assert!((mean - 0.6).abs() < 1e-12);
        assert!((ci.low - 0.504).abs() < 0.02, "{ci:?}");
        assert!((ci.high - 0.696).abs() < 0.02, "{ci:?}");
    }

    #[test]
    fn seeds_of_a_problem_travel_together() {
        // Every problem is right on one seed of two: every resample's mean is exactly 0.5,
        // so the interval has no width. Resampling seeds apart would give it one.
        let values = right(&[&[1, 0], &[0, 1], &[1, 0], &[0, 1]]);
        let (mean, ci) = mean_interval(&values).expect("problems");
        assert_eq!((mean, ci.low, ci.high), (0.5, 0.5, 0.5));
    }

    #[test]
    fn intervals_are_the_same_on_every_run() {
        let values: Vec<Vec<f64>> = (0..30)
            .map(|i| vec![f64::from(u8::from(i % 3 == 0))])
            .collect();
        assert_eq!(mean_interval(&values), mean_interval(&values));
        assert_eq!(mean_interval(&[]), None);
    }

    #[test]
    fn pairing_cancels_what_the_strategies_share() {
        // b solves exactly the problems a solves, and a two more of 40: unpaired intervals
        // of 0.5 and 0.55 would overlap widely, the paired difference is surely positive.
        let a: Vec<Vec<f64>> = (0..40).map(|i| vec![f64::from(u8::from(i < 22))]).collect();
        let b: Vec<Vec<f64>> = (0..40).map(|i| vec![f64::from(u8::from(i < 20))]).collect();
        let (verdict, difference, ci) = beats(&a, &b).expect("paired");
        assert!((difference - 0.05).abs() < 1e-12);
        assert!(ci.low >= 0.0 && ci.high > 0.0, "{ci:?}");
        // Two wins in 40 can also be no win at all in a resample (both drawn out), so the
        // interval reaches 0 and the verdict is not yet "agrees".
        assert_eq!(
            verdict,
            if ci.low > 0.0 {
                Verdict::Agrees
            } else {
                Verdict::Inconclusive
            }
        );
        let (flipped, _, _) = beats(&b, &a).expect("paired");
        assert_ne!(flipped, Verdict::Agrees);
        // Ten wins in 40 with no losses: decided.
        let c: Vec<Vec<f64>> = (0..40).map(|i| vec![f64::from(u8::from(i < 30))]).collect();
        assert_eq!(beats(&c, &b).map(|v| v.0), Some(Verdict::Agrees));
        assert_eq!(beats(&b, &c).map(|v| v.0), Some(Verdict::Disagrees));
    }

    #[test]
    fn ties_at_a_bound_are_no_evidence() {
        let all = right(&[&[1, 1], &[1, 1]]);
        let none = right(&[&[0, 0], &[0, 0]]);
        assert_eq!(beats(&all, &all).map(|v| v.0), Some(Verdict::AtBound));
        assert_eq!(beats(&none, &none).map(|v| v.0), Some(Verdict::AtBound));
        assert_eq!(beats(&all, &none).map(|v| v.0), Some(Verdict::Agrees));
        // Different problems are not a pairing.
        assert_eq!(beats(&all, &right(&[&[1, 1]])), None);
    }
}
