//! The shape of a model, read from GGUF metadata.

use crate::error::{ModelError, Result};
use crate::gguf::{GgufFile, MetadataValue};

/// The transformer families Ponder runs. They differ only in a few switches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// Llama and its descendants (SmolLM2, Ponder's own models).
    Llama,
    /// Qwen2 / Qwen2.5: biases on the query, key and value projections, NeoX rotary layout.
    Qwen2,
}

impl Architecture {
    pub fn name(self) -> &'static str {
        match self {
            Architecture::Llama => "llama",
            Architecture::Qwen2 => "qwen2",
        }
    }
}

/// How rotary embeddings pair up the dimensions of a head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RopeLayout {
    /// Adjacent pairs (0,1), (2,3), …: llama.cpp's "normal" mode, which GGUF llama weights
    /// are permuted for at conversion.
    Interleaved,
    /// Halves (i, i + d/2): the NeoX layout Qwen2 uses.
    Halves,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    pub architecture: Architecture,
    pub n_layers: usize,
    pub hidden: usize,
    pub ffn_hidden: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub context_length: usize,
    pub rope_base: f32,
    pub rope_layout: RopeLayout,
    pub rms_eps: f32,
    pub qkv_bias: bool,
}

impl ModelConfig {
    pub fn from_gguf(file: &GgufFile) -> Result<ModelConfig> {
        let arch_name = file.architecture().ok_or(ModelError::MissingArchitecture)?;
        let architecture = match arch_name {
            "llama" => Architecture::Llama,
            "qwen2" => Architecture::Qwen2,
            other => return Err(ModelError::UnsupportedArchitecture(other.to_string())),
        };
        let int = |name: &str| -> Result<usize> {
            let key = format!("{arch_name}.{name}");
            let value = file
                .metadata(&key)
                .ok_or_else(|| ModelError::MissingMetadata(key.clone()))?;
            value
                .as_u64()
                .filter(|&v| v > 0 && v <= 1 << 24)
                .map(|v| v as usize)
                .ok_or_else(|| ModelError::BadMetadata {
                    key,
                    expected: "a positive integer up to 16777216".into(),
                    found: shown(value),
                })
        };
        let float = |name: &str, default: f64| -> Result<f32> {
            let key = format!("{arch_name}.{name}");
            match file.metadata(&key) {
                None => Ok(default as f32),
                // Checked after the cast: a finite f64 such as 1e300 is infinite as f32.
                Some(v) => v
                    .as_f64()
                    .map(|x| x as f32)
                    .filter(|x| x.is_finite() && *x > 0.0)
                    .ok_or_else(|| ModelError::BadMetadata {
                        key,
                        expected: "a positive number within f32's range".into(),
                        found: shown(v),
                    }),
            }
        };
        let hidden = int("embedding_length")?;
        let n_heads = int("attention.head_count")?;
        let n_kv_heads = match file.metadata(&format!("{arch_name}.attention.head_count_kv")) {
            None => n_heads,
            Some(_) => int("attention.head_count_kv")?,
        };
        if hidden % n_heads != 0 || n_heads % n_kv_heads != 0 {
            return Err(ModelError::BadMetadata {
                key: format!("{arch_name}.attention.head_count"),
                expected: format!("a divisor of the width {hidden} and a multiple of the key/value heads {n_kv_heads}"),
                found: n_heads.to_string(),
            });
        }
        let head_dim = hidden / n_heads;
        if head_dim % 2 != 0 {
            return Err(ModelError::BadMetadata {
                key: format!("{arch_name}.embedding_length"),
                expected: "an even head size for rotary embeddings".into(),
                found: head_dim.to_string(),
            });
        }
        Ok(ModelConfig {
            architecture,
            n_layers: int("block_count")?,
            hidden,
            ffn_hidden: int("feed_forward_length")?,
            n_heads,
            n_kv_heads,
            head_dim,
            context_length: int("context_length")?,
            rope_base: float("rope.freq_base", 10_000.0)?,
            rope_layout: match architecture {
                Architecture::Llama => RopeLayout::Interleaved,
                Architecture::Qwen2 => RopeLayout::Halves,
            },
            rms_eps: float("attention.layer_norm_rms_epsilon", 1e-5)?,
            qkv_bias: architecture == Architecture::Qwen2,
        })
    }

    /// The rotary inverse frequencies, one per dimension pair: `1 / base^(2i/d)`.
    pub fn rotary_frequencies(&self) -> Vec<f32> {
        (0..self.head_dim)
            .step_by(2)
            .map(|i| 1f32 / libm::powf(self.rope_base, i as f32 / self.head_dim as f32))
            .collect()
    }

    /// The width of one position's keys (or values): key/value heads × head size.
    pub fn kv_width(&self) -> usize {
        self.n_kv_heads * self.head_dim
    }
}

/// A metadata value for an error message: scalars as they are, an array by its type and
/// length (an array in a scalar's place may hold a whole vocabulary).
fn shown(value: &MetadataValue) -> String {
    match value {
        MetadataValue::Array(items) => format!("an array of {} items", items.len()),
        MetadataValue::String(s) if s.len() > 40 => format!("a string of {} bytes", s.len()),
        other => format!("{other:?}"),
    }
}
