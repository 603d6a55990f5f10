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
//! optionally `prm_head.bias` (`[outputs]`), or the same numbers as f32 metadata arrays
//! `ponder.prm.weight` (`outputs` rows of `hidden`) and `ponder.prm.bias`. Ponder's
//! exporter writes the metadata form: llama.cpp ignores metadata keys it does not know but
//! refuses tensors it does not know, so only then does it run the file as a plain language
//! model. Converted third-party PRMs keep the tensors. `ponder.prm.separator` (default "\n") is the
//! text that ends each step; the score is read at the step's last token, which is that
//! separator. `ponder.prm.question_template` (default `{question}`) lays the question out
//! before the steps, for a PRM whose backbone learned a prompt of its own.
//!
//! A value head may also weigh how surprising the attempt is to the PRM's own language
//! model: the optional tensor `prm_head.likelihood` or f32 array `ponder.prm.likelihood`
//! (`[3]`) holds weights for the lowest,
//! the mean and the summed log-probability of the attempt's tokens from its first token
//! to the step's end (see [`Surprise`]), added to the logit. Ponder's PRM uses it because
//! the slips that cost a sample its answer are tokens its policy found unlikely, which a
//! head reading one hidden state at the newline cannot see (docs/models.md).

use candle_core::Device;

use crate::error::{ModelError, Result};
use crate::gguf::{GgufFile, MetadataValue, TensorType};

/// What `ponder.prm.question_template` replaces with the task's question.
pub const QUESTION: &str = "{question}";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadKind {
    Value,
    Classification { correct_class: usize },
}

/// What the PRM's language model thought of an attempt up to a step's end: the lowest,
/// the mean and the sum of the natural-log probabilities of its tokens, the step's closing
/// separator included.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Surprise {
    pub min: f32,
    pub mean: f32,
    pub sum: f32,
}

impl Surprise {
    /// The running figures at each step end: `log_probs[t]` is the log-probability of the
    /// attempt's token `t`, `ends` the (ascending) index of each step's last token.
    pub fn at_step_ends(log_probs: &[f32], ends: &[usize]) -> Vec<Surprise> {
        let (mut min, mut sum, mut next) = (0.0f32, 0.0f32, 0usize);
        ends.iter()
            .map(|&end| {
                while next <= end && next < log_probs.len() {
                    min = min.min(log_probs[next]);
                    sum += log_probs[next];
                    next += 1;
                }
                Surprise {
                    min,
                    mean: sum / next.max(1) as f32,
                    sum,
                }
            })
            .collect()
    }
}

/// The natural-log probability of `token` under `logits`, by a stable log-softmax. A
/// token outside the logits has probability 0 (`-inf`).
pub fn log_prob(logits: &[f32], token: u32) -> f32 {
    let Some(&chosen) = logits.get(token as usize) else {
        return f32::NEG_INFINITY;
    };
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let total: f32 = logits.iter().map(|&l| libm::expf(l - max)).sum();
    chosen - max - libm::logf(total)
}

#[derive(Clone, Debug)]
pub struct PrmHead {
    pub kind: HeadKind,
    pub separator: String,
    /// The question as the PRM reads it, `{question}` standing for the task's question.
    question_template: String,
    /// Row-major `[outputs][hidden]`.
    weight: Vec<f32>,
    bias: Vec<f32>,
    hidden: usize,
    /// Weights of [`Surprise`]'s min, mean and sum in a value head's logit.
    likelihood: Option<[f32; 3]>,
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
        let question_template = match file.metadata("ponder.prm.question_template") {
            None => QUESTION.to_string(),
            Some(v) => match v.as_str() {
                Some(s) if s.matches(QUESTION).count() == 1 => s.to_string(),
                _ => {
                    return Err(bad(
                        "ponder.prm.question_template",
                        "a string that holds `{question}` once",
                        v,
                    ))
                }
            },
        };
        let weight = head_values(file, bytes, WEIGHT, &[hidden as u64, outputs as u64])?
            .ok_or_else(|| {
                ModelError::MissingMetadata(format!(
                    "{} (or the tensor {})",
                    WEIGHT.key, WEIGHT.tensor
                ))
            })?;
        let likelihood = match head_values(file, bytes, LIKELIHOOD, &[3])? {
            None => None,
            Some(_) if kind != HeadKind::Value => {
                let place = if file.tensor(LIKELIHOOD.tensor).is_some() {
                    LIKELIHOOD.tensor
                } else {
                    LIKELIHOOD.key
                };
                return Err(ModelError::BadMetadata {
                    key: place.into(),
                    expected: "likelihood weights only beside a value head".into(),
                    found: format!("a {kind:?} head"),
                });
            }
            Some(w) => Some([w[0], w[1], w[2]]),
        };
        let bias = head_values(file, bytes, BIAS, &[outputs as u64])?
            .unwrap_or_else(|| vec![0.0; outputs]);
        Ok(Some(PrmHead {
            kind,
            separator,
            question_template,
            weight,
            bias,
            hidden,
            likelihood,
        }))
    }

    /// A head from explicit weights (`[outputs][hidden]` row-major).
    pub fn new(kind: HeadKind, separator: &str, weight: Vec<f32>, bias: Vec<f32>) -> PrmHead {
        let hidden = weight.len() / bias.len().max(1);
        PrmHead {
            kind,
            separator: separator.to_string(),
            question_template: QUESTION.to_string(),
            weight,
            bias,
            hidden,
            likelihood: None,
        }
    }

    /// This head with a question template and likelihood weights (for tests and tools).
    pub fn with_likelihood(mut self, question_template: &str, weights: [f32; 3]) -> PrmHead {
        self.question_template = question_template.to_string();
        self.likelihood = Some(weights);
        self
    }

    /// The question laid out as the PRM's backbone reads it.
    pub fn question(&self, question: &str) -> String {
        self.question_template.replacen(QUESTION, question, 1)
    }

    /// The head's weights, `[outputs][hidden]` row-major.
    pub fn weights(&self) -> &[f32] {
        &self.weight
    }

    /// The head's bias, one per output.
    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// The template `ponder.prm.question_template` (`{question}` when the file has none).
    pub fn question_template(&self) -> &str {
        &self.question_template
    }

    /// The weights of the attempt's lowest, mean and summed token log-probability, for a
    /// head that reads them.
    pub fn likelihood_weights(&self) -> Option<[f32; 3]> {
        self.likelihood
    }

    /// Whether [`PrmHead::score`] needs the attempt's [`Surprise`].
    pub fn reads_likelihood(&self) -> bool {
        self.likelihood.is_some()
    }

    /// The step score in `[0, 1]` for the final hidden state at the step's last token and,
    /// for a head that reads it, the attempt's surprise up to there.
    pub fn score(&self, hidden: &[f32], surprise: Option<&Surprise>) -> f32 {
        let logit = |o: usize| -> f32 {
            let w = &self.weight[o * self.hidden..(o + 1) * self.hidden];
            w.iter().zip(hidden).map(|(a, b)| a * b).sum::<f32>() + self.bias[o]
        };
        let surprise_logit = match (self.likelihood, surprise) {
            (Some([a, b, c]), Some(s)) => a * s.min + b * s.mean + c * s.sum,
            _ => 0.0,
        };
        match self.kind {
            HeadKind::Value => 1.0 / (1.0 + libm::expf(-(logit(0) + surprise_logit))),
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
        (self.weight.len() + self.bias.len() + self.likelihood.map_or(0, |l| l.len())) as u64
    }
}

/// Where one part of the head may be stored: a tensor, or an f32 metadata array.
#[derive(Clone, Copy)]
struct HeadPart {
    tensor: &'static str,
    key: &'static str,
}

const WEIGHT: HeadPart = HeadPart {
    tensor: "prm_head.weight",
    key: "ponder.prm.weight",
};
const BIAS: HeadPart = HeadPart {
    tensor: "prm_head.bias",
    key: "ponder.prm.bias",
};
const LIKELIHOOD: HeadPart = HeadPart {
    tensor: "prm_head.likelihood",
    key: "ponder.prm.likelihood",
};

/// The values of `part` (GGML dims `dims`), from whichever place holds them; `None` when
/// neither does. A part stored in both places is refused: which one a reader would use is
/// anyone's guess.
fn head_values(
    file: &GgufFile,
    bytes: &[u8],
    part: HeadPart,
    dims: &[u64],
) -> Result<Option<Vec<f32>>> {
    match (file.metadata(part.key), file.tensor(part.tensor)) {
        (None, None) => Ok(None),
        (None, Some(_)) => read_f32(file, bytes, part.tensor, dims).map(Some),
        (Some(_), Some(_)) => Err(ModelError::BadMetadata {
            key: part.key.into(),
            expected: format!(
                "the head's values in one place, not also in the tensor {}",
                part.tensor
            ),
            found: "both".into(),
        }),
        (Some(value), None) => {
            let values = value.as_f32s().ok_or_else(|| ModelError::BadMetadata {
                key: part.key.into(),
                expected: "an array of f32".into(),
                found: format!("{value:?}"),
            })?;
            let wanted: u64 = dims.iter().product();
            if values.len() as u64 != wanted {
                return Err(ModelError::BadMetadata {
                    key: part.key.into(),
                    expected: format!("{wanted} values (GGML dims {dims:?})"),
                    found: format!("{} values", values.len()),
                });
            }
            Ok(Some(values))
        }
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
        assert!((head.score(&[3.0, 1.0], None) - expected).abs() < 1e-6);
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
        assert!((head.score(&[1.0, 2.0], None) - 0.75).abs() < 1e-6);
        let flipped = PrmHead::new(
            HeadKind::Classification { correct_class: 0 },
            "\n",
            vec![0.0; 4],
            vec![0.0, 3f32.ln()],
        );
        assert!((flipped.score(&[1.0, 2.0], None) - 0.25).abs() < 1e-6);
    }

    #[test]
    fn surprise_runs_over_the_attempt_up_to_each_step_end() {
        let lp = [-0.5, -2.0, -0.25, -1.0, -0.25];
        let s = Surprise::at_step_ends(&lp, &[1, 4]);
        assert_eq!(
            s[0],
            Surprise {
                min: -2.0,
                mean: -1.25,
                sum: -2.5
            }
        );
        assert_eq!(
            s[1],
            Surprise {
                min: -2.0,
                mean: -0.8,
                sum: -4.0
            }
        );
    }

    #[test]
    fn log_prob_is_a_log_softmax() {
        let logits = [1.0f32, 2.0, 3.0];
        let total: f64 = logits.iter().map(|&l| (l as f64).exp()).sum();
        for t in 0..3 {
            let expected = (logits[t] as f64) - total.ln();
            assert!((log_prob(&logits, t as u32) as f64 - expected).abs() < 1e-6);
        }
        // Large logits do not overflow.
        assert!((log_prob(&[1000.0, 1000.0], 0) - 0.5f32.ln()).abs() < 1e-6);
        assert_eq!(log_prob(&logits, 7), f32::NEG_INFINITY);
    }

    #[test]
    fn likelihood_weights_add_to_the_value_logit() {
        let head = PrmHead::new(HeadKind::Value, "\n", vec![1.0, -2.0], vec![0.5])
            .with_likelihood("Problem: {question}", [2.0, 1.0, 0.5]);
        let s = Surprise {
            min: -1.0,
            mean: -0.5,
            sum: -2.0,
        };
        // 1.5 from the hidden state, then 2*(-1) + 1*(-0.5) + 0.5*(-2) = -3.5: logit -2.
        let expected = 1.0 / (1.0 + 2f32.exp());
        assert!((head.score(&[3.0, 1.0], Some(&s)) - expected).abs() < 1e-6);
        assert_eq!(head.question("1+2"), "Problem: 1+2");
        assert!(head.reads_likelihood());
    }
}
