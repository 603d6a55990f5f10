//! A value measured once per seed, summarised: what every figure reports, by the page,
//! `ponder sweep` and `ponder figures` alike.

use serde::{Deserialize, Serialize};

/// A value over seeds: mean, lowest, highest, and how many seeds had it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub seeds: usize,
}

impl Spread {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        Some(Spread {
            mean: values.iter().sum::<f64>() / values.len() as f64,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            seeds: values.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_mean_min_and_max() {
        let s = Spread::of(&[0.2, 0.4, 0.9]).expect("values");
        assert!((s.mean - 0.5).abs() < 1e-12);
        assert_eq!((s.min, s.max, s.seeds), (0.2, 0.9, 3));
        assert_eq!(Spread::of(&[]), None);
    }
}
