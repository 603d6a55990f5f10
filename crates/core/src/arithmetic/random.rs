//! The generator's randomness: a counter-based SplitMix64 (Steele, Lea and Flood 2014,
//! the finaliser of `java.util.SplittableRandom`).
//!
//! Like every draw in Ponder (see [`crate::draw`]), a problem is a *function* of its
//! name, not of a stream's history: problem `index` of a level under a seed comes from
//! its own counter stream keyed by `(seed, level, index)`, so a trainer can ask for
//! problem 1,000,000 without drawing the 999,999 before it, in any order, on any
//! platform, and get the same problem. No `rand` crate: the core stays dependency-light
//! and the bits are fixed by this file alone.

/// The 64-bit golden ratio, SplitMix64's increment.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's output function: a bijection on `u64` whose outputs for consecutive
/// inputs pass BigCrush.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A stream of draws: output `n` is `mix64(key + n·GOLDEN)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draws {
    key: u64,
    counter: u64,
}

impl Draws {
    /// The stream named by a seed and a path of parts (for example level and index).
    /// Each part is folded through `mix64`, so the key depends on every part and on their
    /// order.
    pub fn new(seed: u64, parts: &[u64]) -> Draws {
        let mut key = mix64(seed);
        for &part in parts {
            key = mix64(key.wrapping_add(GOLDEN) ^ part);
        }
        Draws { key, counter: 0 }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        mix64(self.key.wrapping_add(self.counter.wrapping_mul(GOLDEN)))
    }

    /// A draw in `0..n` (0 when `n` is 0), by the multiply-high method: the bias is below
    /// `n / 2^64`, far under anything a problem set of thousands could show.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A draw in `lo..=hi` (`lo` when `hi < lo`).
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// One of `items`, uniformly (`None` when empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len() as u64) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix64_matches_the_reference_splitmix64_outputs() {
        // The first outputs of SplitMix64 seeded with 0 (the state advances by GOLDEN before
        // each output), as printed by the reference C implementation.
        let mut state: u64 = 0;
        let mut next = || {
            state = state.wrapping_add(GOLDEN);
            mix64(state)
        };
        assert_eq!(next(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(next(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(next(), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn streams_depend_on_seed_parts_and_order() {
        let first = |seed, parts: &[u64]| Draws::new(seed, parts).next_u64();
        let a = first(1, &[2, 3]);
        assert_eq!(a, first(1, &[2, 3]));
        assert_ne!(a, first(2, &[2, 3]));
        assert_ne!(a, first(1, &[3, 2]));
        assert_ne!(a, first(1, &[2]));
        assert_ne!(a, first(1, &[2, 3, 0]));
    }

    #[test]
    fn between_stays_in_range_and_reaches_both_ends() {
        let mut d = Draws::new(9, &[]);
        let mut seen = [0u32; 4];
        for _ in 0..4000 {
            let x = d.between(10, 13);
            assert!((10..=13).contains(&x));
            seen[(x - 10) as usize] += 1;
        }
        // Each of 4 values expects 1000 draws; 5 standard deviations is about 140.
        for count in seen {
            assert!((850..=1150).contains(&count), "{seen:?}");
        }
        assert_eq!(d.between(5, 5), 5);
        assert_eq!(d.between(6, 5), 6);
        assert_eq!(d.below(0), 0);
        assert_eq!(d.pick::<u8>(&[]), None);
    }
}
