//! Where a sequence sits in a strategy's tree of samples, and the random stream it draws
//! from.
//!
//! A path is the list of child indices from the root (the prompt): sample `i` of
//! best-of-N is `[i]`, continuation `j` of beam `[i]` is `[i, j]`, attempt `t` of revision
//! chain `c` is `[c, t]`. The path names the draws: the stream of a path is the root's
//! `DrawKey::new(seed, &[problem, strategy])` extended by `child(index)` for each index,
//! so a path's samples are the same however the strategy batches or orders its calls.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::draw::DrawKey;

#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Path(pub Vec<u32>);

impl Path {
    /// The root: the prompt itself.
    pub fn root() -> Path {
        Path(Vec::new())
    }

    /// The `index`-th child of this path.
    pub fn child(&self, index: u32) -> Path {
        let mut indices = self.0.clone();
        indices.push(index);
        Path(indices)
    }

    /// The path above this one; `None` for the root.
    pub fn parent(&self) -> Option<Path> {
        let (_, rest) = self.0.split_last()?;
        Some(Path(rest.to_vec()))
    }

    pub fn depth(&self) -> usize {
        self.0.len()
    }

    /// The draws of this path under `root`, the key of the (problem, strategy) pair.
    pub fn draw_key(&self, root: DrawKey) -> DrawKey {
        self.0
            .iter()
            .fold(root, |key, &index| key.child(u64::from(index)))
    }
}

impl From<&[u32]> for Path {
    fn from(indices: &[u32]) -> Path {
        Path(indices.to_vec())
    }
}

impl fmt::Display for Path {
    /// Dotted indices, `·` for the root: `3.0.2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "·");
        }
        for (i, index) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ".")?;
            }
            write!(f, "{index}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_path_and_only_the_path() {
        let root = DrawKey::new(7, &[3, 1]);
        let p = Path(vec![2, 0, 5]);
        assert_eq!(p.draw_key(root), root.child(2).child(0).child(5));
        assert_ne!(p.draw_key(root), Path(vec![2, 5, 0]).draw_key(root));
        assert_eq!(Path::root().draw_key(root), root);
        assert_eq!(p.parent(), Some(Path(vec![2, 0])));
        assert_eq!(Path::root().parent(), None);
        assert_eq!(p.to_string(), "2.0.5");
        assert_eq!(Path::root().child(4).to_string(), "4");
    }
}
