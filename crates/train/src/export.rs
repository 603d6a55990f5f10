//! Export to GGUF with llama-architecture metadata and the byte-level tokenizer inside,
//! so `ponder-model` and llama.cpp (and the apps built on it) load a built-in model like
//! any other file.
//!
//! Matrices are written as Q8_0 (8.5 bits per weight: a 13M-parameter model takes 14 MB)
//! or F32 (for the exactness test); norms are always F32. A PRM's head goes into f32
//! metadata arrays (`ponder.prm.*`), not tensors: llama.cpp refuses a file with tensors
//! its architecture lacks but ignores metadata it does not know, so it runs the PRM as
//! the language model it also is.

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Result, Tensor};
use ponder_model::gguf::{GgufWriter, MetadataValue, TensorType};

use crate::model::{Config, Model};
use crate::vocab;

/// How matrices are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    F32,
    Q8_0,
}

impl Precision {
    /// llama.cpp's `general.file_type` for the file (its `llama_ftype`): what apps show
    /// as the file's quantization.
    pub fn file_type(self) -> u32 {
        match self {
            Precision::F32 => 0,
            // "mostly": the norms stay F32.
            Precision::Q8_0 => 7,
        }
    }
}

/// GGML's version of the quantized block layouts (Q8_0's has not changed since 2).
const QUANTIZATION_VERSION: u32 = 2;

/// What a file says of itself in `general.name` and `general.description`, which apps
/// show beside the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct About {
    pub name: String,
    pub description: String,
}

/// How every built-in model is prompted, for the descriptions.
const PROMPTING: &str = "Prompt it with `Problem: ` and an expression and a newline (for \
    example `Problem: 23+28-33\n`), no chat template, no BOS token; it writes one step per \
    line, then `Answer: ` and the number, then its end-of-text token. Its vocabulary is the \
    256 bytes and end-of-text.";

impl About {
    /// S or L: `size` is `small` or `large`.
    pub fn policy(size: &str) -> About {
        let (letter, which) = if size == "large" {
            ("L", "larger")
        } else {
            ("S", "small")
        };
        About {
            name: format!("Ponder {letter}"),
            description: format!(
                "Ponder's {which} policy model {letter}, trained from scratch on Ponder's \
                 arithmetic task to solve multi-step arithmetic step by step and exported by \
                 ponder-train. {PROMPTING}"
            ),
        }
    }

    pub fn revision() -> About {
        About {
            name: "Ponder R".into(),
            description: format!(
                "Ponder's revision model R: S fine-tuned by ponder-train to write a new \
                 attempt after its earlier attempts at a problem (sequential revision). \
                 Without earlier attempts it answers like S. {PROMPTING}"
            ),
        }
    }

    pub fn prm() -> About {
        About {
            name: "Ponder PRM".into(),
            description: format!(
                "Ponder's process reward model: S fine-tuned by ponder-train to score each \
                 step of an attempt, with a value head stored in the ponder.prm.* metadata \
                 that llama.cpp ignores; llama.cpp runs the file as a plain language model \
                 that writes steps as S does. {PROMPTING}"
            ),
        }
    }

    /// Any other model (tests, checkpoints of experiments).
    pub fn named(name: &str) -> About {
        About {
            name: name.into(),
            description: format!("A model made by Ponder's ponder-train. {PROMPTING}"),
        }
    }
}

/// The parameter count as apps label sizes: two significant digits and a suffix
/// (`1.1M`, `9.8M`, `135M`).
pub fn size_label(parameters: u64) -> String {
    let (scale, suffix) = match parameters {
        p if p >= 1_000_000_000_000 => (1e12, "T"),
        p if p >= 1_000_000_000 => (1e9, "B"),
        p if p >= 1_000_000 => (1e6, "M"),
        _ => (1e3, "K"),
    };
    let x = parameters as f64 / scale;
    // Rounding can carry to ten (9.96 -> "10.0"): decide the decimals on the rounded value.
    let decimals = usize::from(format!("{x:.1}").len() <= 3);
    format!("{x:.decimals$}{suffix}")
}

/// Extra metadata for a process reward model's head (see `ponder_model::prm`).
pub struct PrmHeadExport {
    /// `[hidden]` weights of the value head and its bias.
    pub weight: Tensor,
    pub bias: f32,
    /// Weights of the attempt's surprise (min, mean, sum of its tokens' log-probabilities)
    /// and the question layout the backbone reads, for a head that weighs likelihood
    /// (see `ponder_model::prm`).
    pub likelihood: Option<([f32; 3], String)>,
}

impl PrmHeadExport {
    /// The head's keys, after the model's.
    pub fn write(&self, w: &mut GgufWriter) -> Result<()> {
        let floats =
            |v: &[f32]| MetadataValue::Array(v.iter().map(|&x| MetadataValue::F32(x)).collect());
        w.metadata("ponder.prm.head", MetadataValue::String("value".into()))
            .metadata("ponder.prm.separator", MetadataValue::String("\n".into()));
        if let Some((_, template)) = &self.likelihood {
            w.metadata(
                "ponder.prm.question_template",
                MetadataValue::String(template.clone()),
            );
        }
        w.metadata(
            "ponder.prm.weight",
            floats(&self.weight.flatten_all()?.to_vec1::<f32>()?),
        )
        .metadata("ponder.prm.bias", floats(&[self.bias]));
        if let Some((weights, _)) = &self.likelihood {
            w.metadata("ponder.prm.likelihood", floats(weights));
        }
        Ok(())
    }
}

/// The metadata every built-in model starts with: `general.*`, the llama shape of
/// `cfg`, and the byte-level tokenizer. `parameters` counts the weights (the size label).
pub fn write_model_metadata(
    w: &mut GgufWriter,
    cfg: &Config,
    about: &About,
    precision: Precision,
    parameters: u64,
) {
    let u32v = |v: usize| MetadataValue::U32(v as u32);
    let text = |s: &str| MetadataValue::String(s.into());
    w.metadata("general.architecture", text("llama"))
        .metadata("general.name", text(&about.name))
        .metadata("general.description", text(&about.description))
        .metadata("general.license", text(env!("CARGO_PKG_LICENSE")))
        .metadata("general.size_label", text(&size_label(parameters)))
        .metadata(
            "general.file_type",
            MetadataValue::U32(precision.file_type()),
        )
        .metadata(
            "general.quantization_version",
            MetadataValue::U32(QUANTIZATION_VERSION),
        )
        .metadata("llama.block_count", u32v(cfg.layers))
        .metadata("llama.context_length", u32v(cfg.context))
        .metadata("llama.embedding_length", u32v(cfg.hidden))
        .metadata("llama.feed_forward_length", u32v(cfg.ffn))
        .metadata("llama.attention.head_count", u32v(cfg.heads))
        .metadata("llama.attention.head_count_kv", u32v(cfg.heads))
        .metadata("llama.rope.freq_base", MetadataValue::F32(cfg.rope_base))
        .metadata("llama.rope.dimension_count", u32v(cfg.head_dim()))
        .metadata(
            "llama.attention.layer_norm_rms_epsilon",
            MetadataValue::F32(cfg.rms_eps),
        )
        .metadata("tokenizer.ggml.model", text("gpt2"))
        .metadata("tokenizer.ggml.pre", text("smollm"))
        .metadata(
            "tokenizer.ggml.tokens",
            MetadataValue::Array(
                vocab::tokens()
                    .into_iter()
                    .map(MetadataValue::String)
                    .collect(),
            ),
        )
        .metadata(
            "tokenizer.ggml.token_type",
            MetadataValue::Array(
                (0..vocab::VOCAB_SIZE)
                    .map(|i| MetadataValue::I32(if i as u32 == vocab::END_OF_TEXT { 3 } else { 1 }))
                    .collect(),
            ),
        )
        // A byte-level vocabulary merges nothing; the writer stores the empty list as
        // strings, as readers require.
        .metadata("tokenizer.ggml.merges", MetadataValue::Array(Vec::new()))
        .metadata(
            "tokenizer.ggml.eos_token_id",
            u32v(vocab::END_OF_TEXT as usize),
        )
        .metadata("tokenizer.ggml.add_bos_token", MetadataValue::Bool(false));
}

/// The GGUF bytes of `model`.
pub fn to_gguf(
    model: &Model,
    about: &About,
    precision: Precision,
    head: Option<&PrmHeadExport>,
) -> Result<Vec<u8>> {
    let cfg = &model.config;
    let mut w = GgufWriter::new();
    write_model_metadata(&mut w, cfg, about, precision, cfg.parameters());
    if let Some(head) = head {
        head.write(&mut w)?;
    }

    let matrix = |w: &mut GgufWriter, name: &str, t: &Tensor| -> Result<()> {
        // candle's [out, in] row-major is GGML's dims [in, out] with the same bytes.
        let (out, inp) = t.dims2()?;
        let dims = [inp as u64, out as u64];
        match precision {
            Precision::F32 => w.tensor(name, &dims, TensorType::F32, f32_bytes(t)?),
            Precision::Q8_0 => {
                let q = QTensor::quantize(t, GgmlDType::Q8_0)?;
                w.tensor(name, &dims, TensorType::Q8_0, q.data()?.to_vec())
            }
        };
        Ok(())
    };
    let vector = |w: &mut GgufWriter, name: &str, t: &Tensor| -> Result<()> {
        w.tensor(name, &[t.dims1()? as u64], TensorType::F32, f32_bytes(t)?);
        Ok(())
    };

    matrix(&mut w, "token_embd.weight", model.embedding.as_tensor())?;
    vector(&mut w, "output_norm.weight", model.output_norm.as_tensor())?;
    for (i, b) in model.blocks.iter().enumerate() {
        let p = format!("blk.{i}");
        vector(
            &mut w,
            &format!("{p}.attn_norm.weight"),
            b.attn_norm.as_tensor(),
        )?;
        vector(
            &mut w,
            &format!("{p}.ffn_norm.weight"),
            b.ffn_norm.as_tensor(),
        )?;
        for (name, t) in [
            ("attn_q", &b.wq),
            ("attn_k", &b.wk),
            ("attn_v", &b.wv),
            ("attn_output", &b.wo),
            ("ffn_gate", &b.w_gate),
            ("ffn_up", &b.w_up),
            ("ffn_down", &b.w_down),
        ] {
            matrix(&mut w, &format!("{p}.{name}.weight"), t.as_tensor())?;
        }
    }
    w.to_bytes()
        .map_err(|e| candle_core::Error::Msg(e.to_string()))
}

fn f32_bytes(t: &Tensor) -> Result<Vec<u8>> {
    Ok(t.flatten_all()?
        .to_vec1::<f32>()?
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_labels_have_two_significant_digits() {
        assert_eq!(size_label(Config::small().parameters()), "1.1M");
        assert_eq!(size_label(Config::large().parameters()), "10M");
        assert_eq!(size_label(9_960_000), "10M");
        assert_eq!(size_label(134_515_008), "135M");
        assert_eq!(size_label(1_710_000_000), "1.7B");
        assert_eq!(size_label(500), "0.5K");
    }
}
