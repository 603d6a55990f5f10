//! A tiny llama-architecture model written on the fly: random f32 weights, a byte-level
//! vocabulary (256 byte tokens, no merges, two specials), and optionally a PRM head.

use ponder_model::gguf::{GgufWriter, MetadataValue, TensorType};

pub const HIDDEN: usize = 32;
pub const FFN: usize = 64;
pub const LAYERS: usize = 2;
pub const VOCAB: usize = 258;

/// A small deterministic generator (xorshift64*), so written models are the same on
/// every run.
pub struct Rng(pub u64);

impl Rng {
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [-0.5, 0.5).
    pub fn next(&mut self) -> f32 {
        self.uniform() - 0.5
    }

    /// Sum of four uniforms, centred: close enough to normal for weights.
    pub fn normalish(&mut self) -> f32 {
        (0..4).map(|_| self.uniform()).sum::<f32>() - 2.0
    }
}

/// GPT-2's printable stand-in character for each byte.
fn byte_char(b: u8) -> char {
    let printable = |x: u8| (b'!'..=b'~').contains(&x) || (0xA1..=0xAC).contains(&x) || x >= 0xAE;
    if printable(b) {
        return char::from(b);
    }
    let rank = (0..b).filter(|&x| !printable(x)).count() as u32;
    char::from_u32(0x100 + rank).unwrap_or('?')
}

fn f32_tensor(
    w: &mut GgufWriter,
    rng: &mut Rng,
    name: &str,
    dims: &[u64],
    scale: f32,
    offset: f32,
) {
    let n: u64 = dims.iter().product();
    let data: Vec<u8> = (0..n)
        .flat_map(|_| (offset + scale * rng.next()).to_le_bytes())
        .collect();
    w.tensor(name, dims, TensorType::F32, data);
}

/// The PRM head to attach, if any.
pub enum Head {
    None,
    Value,
    Classification,
    /// A value head that also weighs the attempt's likelihood, behind a question template.
    Likelihood,
    /// As `Likelihood`, with this question template.
    LikelihoodTemplate(&'static str),
    /// A classification head with likelihood weights, which no head reads.
    ClassificationWithLikelihood,
}

/// The likelihood head's weights of the attempt's lowest, mean and summed token
/// log-probabilities: large enough to move a score visibly.
pub fn likelihood_weights() -> [f32; 3] {
    [0.8, 2.0, 0.05]
}

pub fn model(head: Head) -> Vec<u8> {
    let mut rng = Rng(0xfeed);
    let mut w = GgufWriter::new();
    let mut tokens: Vec<MetadataValue> = (0..=255u8)
        .map(|b| MetadataValue::String(byte_char(b).to_string()))
        .collect();
    tokens.push(MetadataValue::String("<|im_start|>".into()));
    tokens.push(MetadataValue::String("<|im_end|>".into()));
    let mut types = vec![MetadataValue::I32(1); 256];
    types.extend([MetadataValue::I32(3), MetadataValue::I32(3)]);
    w.metadata(
        "general.architecture",
        MetadataValue::String("llama".into()),
    )
    .metadata("llama.block_count", MetadataValue::U32(LAYERS as u32))
    .metadata("llama.context_length", MetadataValue::U32(512))
    .metadata("llama.embedding_length", MetadataValue::U32(HIDDEN as u32))
    .metadata("llama.feed_forward_length", MetadataValue::U32(FFN as u32))
    .metadata("llama.attention.head_count", MetadataValue::U32(4))
    .metadata("llama.attention.head_count_kv", MetadataValue::U32(2))
    .metadata("tokenizer.ggml.model", MetadataValue::String("gpt2".into()))
    .metadata("tokenizer.ggml.pre", MetadataValue::String("smollm".into()))
    .metadata("tokenizer.ggml.tokens", MetadataValue::Array(tokens))
    .metadata("tokenizer.ggml.token_type", MetadataValue::Array(types))
    .metadata("tokenizer.ggml.merges", MetadataValue::Array(vec![]))
    .metadata("tokenizer.ggml.eos_token_id", MetadataValue::U32(257));
    let (h, kv, ff, v) = (HIDDEN as u64, (HIDDEN / 2) as u64, FFN as u64, VOCAB as u64);
    f32_tensor(&mut w, &mut rng, "token_embd.weight", &[h, v], 2.0, 0.0);
    f32_tensor(&mut w, &mut rng, "output_norm.weight", &[h], 0.2, 1.0);
    for i in 0..LAYERS {
        let p = format!("blk.{i}");
        f32_tensor(
            &mut w,
            &mut rng,
            &format!("{p}.attn_norm.weight"),
            &[h],
            0.2,
            1.0,
        );
        f32_tensor(
            &mut w,
            &mut rng,
            &format!("{p}.ffn_norm.weight"),
            &[h],
            0.2,
            1.0,
        );
        for (name, dims) in [
            ("attn_q", [h, h]),
            ("attn_k", [h, kv]),
            ("attn_v", [h, kv]),
            ("attn_output", [h, h]),
            ("ffn_gate", [h, ff]),
            ("ffn_up", [h, ff]),
            ("ffn_down", [ff, h]),
        ] {
            f32_tensor(
                &mut w,
                &mut rng,
                &format!("{p}.{name}.weight"),
                &dims,
                0.4,
                0.0,
            );
        }
    }
    match head {
        Head::None => {}
        Head::Value => {
            w.metadata("ponder.prm.head", MetadataValue::String("value".into()));
            f32_tensor(&mut w, &mut rng, "prm_head.weight", &[h, 1], 1.0, 0.0);
            f32_tensor(&mut w, &mut rng, "prm_head.bias", &[1], 0.5, 0.0);
        }
        Head::Likelihood | Head::LikelihoodTemplate(_) | Head::ClassificationWithLikelihood => {
            let template = match head {
                Head::LikelihoodTemplate(t) => t,
                _ => "Problem: {question}",
            };
            w.metadata(
                "ponder.prm.question_template",
                MetadataValue::String(template.into()),
            );
            if matches!(head, Head::ClassificationWithLikelihood) {
                w.metadata(
                    "ponder.prm.head",
                    MetadataValue::String("classification".into()),
                );
                f32_tensor(&mut w, &mut rng, "prm_head.weight", &[h, 2], 1.0, 0.0);
            } else {
                w.metadata("ponder.prm.head", MetadataValue::String("value".into()));
                f32_tensor(&mut w, &mut rng, "prm_head.weight", &[h, 1], 1.0, 0.0);
                f32_tensor(&mut w, &mut rng, "prm_head.bias", &[1], 0.5, 0.0);
            }
            w.tensor(
                "prm_head.likelihood",
                &[3],
                TensorType::F32,
                likelihood_weights()
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
            );
        }
        Head::Classification => {
            w.metadata(
                "ponder.prm.head",
                MetadataValue::String("classification".into()),
            )
            .metadata("ponder.prm.correct_class", MetadataValue::U32(1));
            f32_tensor(&mut w, &mut rng, "prm_head.weight", &[h, 2], 1.0, 0.0);
        }
    }
    w.to_bytes().expect("a writable test model")
}
