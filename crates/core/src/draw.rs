//! Naming random draws. Every token a policy samples takes its randomness from a
//! `(seed, stream, position)` triple; strategies choose the stream so that each path of a
//! search has its own, whatever the batching and scheduling.

/// The seed and stream for the draws of one sequence; the position is the token's
/// position in that sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DrawKey {
    pub seed: u64,
    pub stream: u64,
}

impl DrawKey {
    /// The stream for `parts` (for example problem index, strategy id, path indices),
    /// combined with FNV-1a over their little-endian bytes: stable, order-sensitive, and
    /// the same on every platform.
    pub fn new(seed: u64, parts: &[u64]) -> DrawKey {
        DrawKey {
            seed,
            stream: fnv1a(parts.iter().flat_map(|part| part.to_le_bytes())),
        }
    }

    /// The key of a child path: this stream extended by `index`.
    pub fn child(&self, index: u64) -> DrawKey {
        DrawKey::new(self.seed, &[self.stream, index])
    }
}

/// FNV-1a (64 bits) of `bytes`: a stable, platform-independent hash, not a defence
/// against anyone.
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_depend_on_every_part_and_its_order() {
        let a = DrawKey::new(1, &[1, 2, 3]);
        assert_eq!(a, DrawKey::new(1, &[1, 2, 3]));
        assert_ne!(a.stream, DrawKey::new(1, &[3, 2, 1]).stream);
        assert_ne!(a.stream, DrawKey::new(1, &[1, 2]).stream);
        assert_ne!(a.child(0).stream, a.child(1).stream);
        assert_eq!(a.child(5).seed, 1);
    }
}
