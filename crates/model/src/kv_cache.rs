//! The key/value cache of one sequence.
//!
//! Each layer keeps keys and values as flat f32 rows, `[position][kv_head][head_dim]`, so
//! appending a token is one `extend` and forking a sequence is one copy per layer. The
//! capacity grows geometrically; nothing is reallocated per token.

#[derive(Clone, Debug, Default)]
pub struct KvCache {
    pub(crate) keys: Vec<Vec<f32>>,
    pub(crate) values: Vec<Vec<f32>>,
    len: usize,
}

impl KvCache {
    pub fn new(n_layers: usize) -> KvCache {
        KvCache {
            keys: vec![Vec::new(); n_layers],
            values: vec![Vec::new(); n_layers],
            len: 0,
        }
    }

    /// Positions held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held (for memory accounting).
    pub fn bytes(&self) -> usize {
        self.keys
            .iter()
            .chain(&self.values)
            .map(|v| v.len() * 4)
            .sum()
    }

    pub(crate) fn set_len(&mut self, len: usize) {
        self.len = len;
    }

    /// Forgets positions from `len` on (to roll back a speculative continuation). With
    /// `len` equal to [`Self::len`] it drops what a failed forward pass appended to some
    /// layers before it stopped.
    pub fn truncate(&mut self, len: usize, kv_width: usize) {
        if len <= self.len {
            for layer in self.keys.iter_mut().chain(self.values.iter_mut()) {
                layer.truncate(len * kv_width);
            }
            self.len = len;
        }
    }
}
