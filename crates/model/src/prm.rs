//! Process-reward heads: a score for a reasoning step, read from the hidden state at the
//! step's last token.
//!
//! Two kinds, named by the GGUF metadata key `ponder.prm.head`:
//!
//! - `value`: `sigmoid(w·h + b)`, one output (as Skywork's PRMs, and Ponder's own, trained
//!   with BCE against Monte-Carlo soft labels, Snell et al. 2024 §5.1);
//! - `classification`: two logits, softmax, the probability of class
//!   `ponder.prm.correct_class` (default 1) (as Qwen2.5-Math-PRM and TRL-trained PRMs).
//!
//! The head's weights are the tensor `prm_head.weight` (GGML dims `[hidden, outputs]`) and
//! optionally `prm_head.bias` (`[outputs]`). `ponder.prm.separator` (default "\n") is the
//! text that ends each step; the score is read at the step's last token, which is that
//! separator.

use candle_core::Device;

use crate::error::{ModelError, Result};
use crate::gguf::{GgufFile, MetadataValue, TensorType};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadKind {
    Value,
    Classification { correct_class: usize },
}

#[derive(Clone, Debug)]
pub struct PrmHead {
    pub kind: HeadKind,
    pub separator: String,
    /// Row-major `[outputs][hidden]`.
    weight: Vec<f32>,
    bias: Vec<f32>,
    hidden: usize,
}

impl PrmHead {
    /// The head described by the file, `Ok(None)` for a file without one.
    pub fn from_gguf(file: &GgufFile, bytes: &[u8], hidden: usize) -> Result<Option<PrmHead>> {
        let Some(kind_value) = file.metadata("ponder.prm.head") else {
            return Ok(None);
        };
        let bad = |key: &str, expected: &str, found: &MetadataValue| ModelError::BadMetadata {
            key: key.to_string(),
            expected: expected.to_string(),
            found: format!("{found:?}"),
        };
        let (kind, outputs) = match kind_value.as_str() {
            Some("value") => (HeadKind::Value, 1),
            Some("classification") => {
                let correct_class = match file.metadata("ponder.prm.correct_class") {
                    None => 1,
                    Some(v) => match v.as_u64() {
                        Some(c) if c < 2 => c as usize,
                        _ => return Err(bad("ponder.prm.correct_class", "0 or 1", v)),
                    },
                };
                (HeadKind::Classification { correct_class }, 2)
            }
            _ => {
                return Err(bad(
                    "ponder.prm.head",
                    "\"value\" or \"classification\"",
                    kind_value,
                ))
            }
        };
        let separator = match file.metadata("ponder.prm.separator") {
            None => "\n".to_string(),
            Some(v) => match v.as_str() {
                Some(s) if !s.is_empty() => s.to_string(),
                _ => return Err(bad("ponder.prm.separator", "a non-empty string", v)),
            },
        };
        let weight = read_f32(
            file,
            bytes,
            "prm_head.weight",
            &[hidden as u64, outputs as u64],
        )?;
        let bias = if file.tensor("prm_head.bias").is_some() {
            read_f32(file, bytes, "prm_head.bias", &[outputs as u64])?
        } else {
            vec![0.0; outputs]
        };
        Ok(Some(PrmHead {
            kind,
            separator,
            weight,
            bias,
            hidden,
        }))
    }

    /// A head from explicit weights (`[outputs][hidden]` row-major).
    pub fn new(kind: HeadKind, separator: &str, weight: Vec<f32>, bias: Vec<f32>) -> PrmHead {
        let hidden = weight.len() / bias.len().max(1);
        PrmHead {
            kind,
            separator: separator.to_string(),
            weight,
            bias,
            hidden,
        }
    }

    /// The step score in `[0, 1]` for the final hidden state at the step's last token.
    pub fn score(&self, hidden: &[f32]) -> f32 {
        let logit = |o: usize| -> f32 {
            let w = &self.weight[o * self.hidden..(o + 1) * self.hidden];
            w.iter().zip(hidden).map(|(a, b)| a * b).sum::<f32>() + self.bias[o]
        };
        match self.kind {
            HeadKind::Value => 1.0 / (1.0 + libm::expf(-logit(0))),
            HeadKind::Classification { correct_class } => {
                let (a, b) = (logit(0), logit(1));
                let m = a.max(b);
                let (ea, eb) = (libm::expf(a - m), libm::expf(b - m));
                let p = [ea / (ea + eb), eb / (ea + eb)];
                p[correct_class]
            }
        }
    }

    pub fn parameters(&self) -> u64 {
        (self.weight.len() + self.bias.len()) as u64
    }
}

fn read_f32(file: &GgufFile, bytes: &[u8], name: &str, dims: &[u64]) -> Result<Vec<f32>> {
    let (info, raw) = file.tensor_bytes(bytes, name)?;
    if info.dims != dims {
        return Err(ModelError::BadShape {
            name: name.to_string(),
            expected: dims.to_vec(),
            found: info.dims.clone(),
        });
    }
    let shape: Vec<usize> = dims.iter().rev().map(|&d| d as usize).collect();
    let dtype = match info.ty {
        TensorType::F32 => candle_core::quantized::GgmlDType::F32,
        TensorType::F16 => candle_core::quantized::GgmlDType::F16,
        other => {
            return Err(ModelError::BadMetadata {
                key: name.to_string(),
                expected: "an F32 or F16 tensor".into(),
                found: other.to_string(),
            })
        }
    };
    let q = candle_core::quantized::ggml_file::qtensor_from_ggml(dtype, raw, shape, &Device::Cpu)?;
    Ok(q.dequantize(&Device::Cpu)?
        .flatten_all()?
        .to_vec1::<f32>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_head_is_a_sigmoid_of_a_dot_product() {
        let head = PrmHead::new(HeadKind::Value, "\n", vec![1.0, -2.0], vec![0.5]);
        // 1*3 - 2*1 + 0.5 = 1.5
        let expected = 1.0 / (1.0 + (-1.5f32).exp());
        assert!((head.score(&[3.0, 1.0]) - expected).abs() < 1e-6);
    }

    #[test]
    fn classification_head_reads_the_correct_class() {
        // logits: [0, 0] + bias [0, ln 3] -> p(correct=1) = 3/4
        let head = PrmHead::new(
            HeadKind::Classification { correct_class: 1 },
            "\n",
            vec![0.0, 0.0, 0.0, 0.0],
            vec![0.0, 3f32.ln()],
        );
        assert!((head.score(&[1.0, 2.0]) - 0.75).abs() < 1e-6);
        let flipped = PrmHead::new(
            HeadKind::Classification { correct_class: 0 },
            "\n",
            vec![0.0; 4],
            vec![0.0, 3f32.ln()],
        );
        assert!((flipped.score(&[1.0, 2.0]) - 0.25).abs() < 1e-6);
    }
}
