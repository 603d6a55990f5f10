//! Export to GGUF with llama-architecture metadata and the byte-level tokenizer inside,
//! so `ponder-model` (and llama.cpp) load a built-in model like any other file.
//!
//! Matrices are written as Q8_0 (8.5 bits per weight: a 13M-parameter model takes 14 MB)
//! or F32 (for the exactness test); norms are always F32.

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Result, Tensor};
use ponder_model::gguf::{GgufWriter, MetadataValue, TensorType};

use crate::model::Model;
use crate::vocab;

/// How matrices are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    F32,
    Q8_0,
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

/// The GGUF bytes of `model` named `name`.
pub fn to_gguf(
    model: &Model,
    name: &str,
    precision: Precision,
    head: Option<&PrmHeadExport>,
) -> Result<Vec<u8>> {
    let cfg = &model.config;
    let mut w = GgufWriter::new();
    let u32v = |v: usize| MetadataValue::U32(v as u32);
    w.metadata(
        "general.architecture",
        MetadataValue::String("llama".into()),
    )
    .metadata("general.name", MetadataValue::String(name.into()))
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
    .metadata("tokenizer.ggml.model", MetadataValue::String("gpt2".into()))
    .metadata("tokenizer.ggml.pre", MetadataValue::String("smollm".into()))
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
    .metadata("tokenizer.ggml.merges", MetadataValue::Array(Vec::new()))
    .metadata(
        "tokenizer.ggml.eos_token_id",
        u32v(vocab::END_OF_TEXT as usize),
    )
    .metadata("tokenizer.ggml.add_bos_token", MetadataValue::Bool(false));

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
    if let Some(head) = head {
        w.metadata("ponder.prm.head", MetadataValue::String("value".into()))
            .metadata("ponder.prm.separator", MetadataValue::String("\n".into()));
        w.tensor(
            "prm_head.weight",
            &[cfg.hidden as u64, 1],
            TensorType::F32,
            f32_bytes(&head.weight)?,
        );
        w.tensor(
            "prm_head.bias",
            &[1],
            TensorType::F32,
            head.bias.to_le_bytes().to_vec(),
        );
        if let Some((weights, template)) = &head.likelihood {
            w.metadata(
                "ponder.prm.question_template",
                MetadataValue::String(template.clone()),
            );
            w.tensor(
                "prm_head.likelihood",
                &[3],
                TensorType::F32,
                weights.iter().flat_map(|v| v.to_le_bytes()).collect(),
            );
        }
    }
    Ok(w.to_bytes())
}

fn f32_bytes(t: &Tensor) -> Result<Vec<u8>> {
    Ok(t.flatten_all()?
        .to_vec1::<f32>()?
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect())
}
