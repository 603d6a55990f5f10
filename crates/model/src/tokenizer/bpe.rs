//! The BPE merge loop over one pre-token (Sennrich et al. 2016, as GPT-2 applies it).
//!
//! Starting from one symbol per byte, the adjacent pair with the lowest merge rank is
//! merged until no adjacent pair has a rank. Ties (the same pair at several places) go to
//! the leftmost one, as in Hugging Face `tokenizers`, so "aaa" becomes "aa" + "a". A
//! binary heap of candidate pairs plus a doubly linked list of symbols keeps this
//! O(n log n) in the pre-token's length: whitespace runs and long non-Latin words can be
//! thousands of bytes, where the textbook rescan-every-round loop is quadratic.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// What merging a pair produces: its rank (lower merges first) and the merged token.
#[derive(Clone, Copy, Debug)]
pub struct Merge {
    pub rank: u32,
    pub merged: u32,
}

/// Merge ranks keyed by the pair of token ids.
pub type MergeTable = HashMap<(u32, u32), Merge>;

const NONE: usize = usize::MAX;

struct Symbol {
    id: u32,
    prev: usize,
    next: usize,
    /// Cleared when the symbol is merged into its left neighbour.
    alive: bool,
}

/// Merges `ids` (the initial one-byte symbols of a pre-token) and appends the result to
/// `out`.
pub fn merge_into(ids: &[u32], merges: &MergeTable, out: &mut Vec<u32>) {
    if ids.len() < 2 {
        out.extend_from_slice(ids);
        return;
    }
    let mut symbols: Vec<Symbol> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| Symbol {
            id,
            prev: if i == 0 { NONE } else { i - 1 },
            next: if i + 1 == ids.len() { NONE } else { i + 1 },
            alive: true,
        })
        .collect();

    // Entries are (rank, left position, right id): the position breaks ties leftmost-first,
    // and the recorded right id lets a popped entry be recognised as stale after either
    // neighbour has changed.
    let mut heap = BinaryHeap::new();
    let push = |heap: &mut BinaryHeap<_>, symbols: &[Symbol], left: usize| {
        let right = symbols[left].next;
        if right == NONE {
            return;
        }
        if let Some(m) = merges.get(&(symbols[left].id, symbols[right].id)) {
            heap.push(Reverse((m.rank, left, symbols[right].id, symbols[left].id)));
        }
    };
    for left in 0..symbols.len() - 1 {
        push(&mut heap, &symbols, left);
    }

    while let Some(Reverse((_, left, right_id, left_id))) = heap.pop() {
        let right = symbols[left].next;
        let stale = !symbols[left].alive
            || symbols[left].id != left_id
            || right == NONE
            || symbols[right].id != right_id;
        if stale {
            continue;
        }
        let Some(m) = merges.get(&(left_id, right_id)) else {
            continue;
        };
        symbols[left].id = m.merged;
        symbols[right].alive = false;
        let after = symbols[right].next;
        symbols[left].next = after;
        if after != NONE {
            symbols[after].prev = left;
        }
        let before = symbols[left].prev;
        if before != NONE {
            push(&mut heap, &symbols, before);
        }
        push(&mut heap, &symbols, left);
    }

    let mut at = 0;
    while at != NONE {
        out.push(symbols[at].id);
        at = symbols[at].next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(merges: &[((u32, u32), u32)]) -> MergeTable {
        merges
            .iter()
            .enumerate()
            .map(|(rank, &(pair, merged))| {
                (
                    pair,
                    Merge {
                        rank: rank as u32,
                        merged,
                    },
                )
            })
            .collect()
    }

    fn merge(ids: &[u32], merges: &MergeTable) -> Vec<u32> {
        let mut out = Vec::new();
        merge_into(ids, merges, &mut out);
        out
    }

    #[test]
    fn lowest_rank_merges_first() {
        // a=0 b=1 c=2; "b c"=3 ranks before "a b"=4, so "abc" -> a + bc.
        let merges = table(&[((1, 2), 3), ((0, 1), 4)]);
        assert_eq!(merge(&[0, 1, 2], &merges), [0, 3]);
        assert_eq!(merge(&[0, 1], &merges), [4]);
    }

    #[test]
    fn equal_pairs_merge_leftmost_first() {
        // a=0, "a a"=1, "aa aa"=2: "aaa" -> aa + a, "aaaa" -> aaaa, "aaaaa" -> aaaa + a.
        let merges = table(&[((0, 0), 1), ((1, 1), 2)]);
        assert_eq!(merge(&[0, 0, 0], &merges), [1, 0]);
        assert_eq!(merge(&[0, 0, 0, 0], &merges), [2]);
        assert_eq!(merge(&[0, 0, 0, 0, 0], &merges), [2, 0]);
    }

    #[test]
    fn no_merges_leaves_bytes() {
        assert_eq!(merge(&[5, 6, 7], &MergeTable::new()), [5, 6, 7]);
        assert_eq!(merge(&[5], &MergeTable::new()), [5]);
        assert_eq!(merge(&[], &MergeTable::new()), Vec::<u32>::new());
    }
}
