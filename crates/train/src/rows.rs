//! Training rows written to a file, for a trainer outside this crate (the GPU script
//! `scripts/train_l_gpu.py`): the same rows `base` trains on, so an L trained elsewhere
//! sees this crate's data, with the shipped test and validation problems held out
//! exactly as `Corpus` holds them out.
//!
//! # Format
//! Rows one after another, each `seq_len + 1` token ids as little-endian `u16` (inputs
//! are a row's first `seq_len` tokens, targets its last `seq_len`), no header. Row `r` of
//! the stream is `Corpus::row(r / ROWS_PER_STEP, r % ROWS_PER_STEP, seq_len)`: what
//! `base --batch 64` reads at that step, so disjoint row ranges (`first`, `rows`) make
//! disjoint shards that can be written in parallel and concatenated.

use std::io::Write;

use crate::data::Corpus;

/// Rows per step of the stream: row `r` is row `r % 64` of step `r / 64`.
pub const ROWS_PER_STEP: u64 = 64;

/// Row `r` of the stream (`seq_len + 1` tokens).
pub fn row(corpus: &Corpus, r: u64, seq_len: usize) -> Vec<u32> {
    corpus.row(r / ROWS_PER_STEP, r % ROWS_PER_STEP, seq_len)
}

/// Writes rows `first..first + rows` of the stream to `out`; returns the tokens written.
pub fn write_rows(
    corpus: &Corpus,
    first: u64,
    rows: u64,
    seq_len: usize,
    out: &mut dyn Write,
) -> anyhow::Result<u64> {
    let mut buf = Vec::with_capacity((seq_len + 1) * 2);
    for r in first..first + rows {
        buf.clear();
        for t in row(corpus, r, seq_len) {
            let id = u16::try_from(t)
                .map_err(|_| anyhow::anyhow!("token {t} does not fit in 16 bits"))?;
            buf.extend_from_slice(&id.to_le_bytes());
        }
        out.write_all(&buf)?;
    }
    Ok(rows * (seq_len as u64 + 1))
}

/// Reads a file of rows back into token ids per row.
pub fn read_rows(bytes: &[u8], seq_len: usize) -> anyhow::Result<Vec<Vec<u32>>> {
    let width = (seq_len + 1) * 2;
    anyhow::ensure!(
        bytes.len().is_multiple_of(width),
        "{} bytes are not whole rows of {} tokens: was the file written with another --seq?",
        bytes.len(),
        seq_len + 1
    );
    Ok(bytes
        .chunks(width)
        .map(|row| {
            row.chunks(2)
                .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])))
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_concatenate_to_the_stream_the_trainer_reads() {
        let corpus = Corpus::new(3);
        let mut whole = Vec::new();
        write_rows(&corpus, 0, 70, 32, &mut whole).expect("whole");
        let mut parts = Vec::new();
        write_rows(&corpus, 0, 65, 32, &mut parts).expect("first shard");
        write_rows(&corpus, 65, 5, 32, &mut parts).expect("second shard");
        assert_eq!(whole, parts);
        let rows = read_rows(&whole, 32).expect("read back");
        assert_eq!(rows.len(), 70);
        assert_eq!(rows[66], corpus.row(1, 2, 32));
        assert!(rows
            .iter()
            .flatten()
            .any(|&t| t == crate::vocab::END_OF_TEXT));
        let err = read_rows(&whole[..100], 32).unwrap_err().to_string();
        assert!(err.contains("--seq"), "{err}");
    }
}
