//! The comparison of our forward with candle-transformers' quantized llama.

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;
use ponder_model::gguf::GgufFile;
use ponder_model::transformer::{BatchItem, Transformer, Wanted};

/// Token prompts in SmolLM2's vocabulary: a ChatML header with a question, prose, digits.
const PROMPTS: &[&[u32]] = &[
    &[
        1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411,
        407, 19712, 8182, 2, 198, 1, 4093, 198,
    ],
    &[504, 3458, 282, 4649, 314, 253, 1345, 30, 378, 3458, 282],
    &[33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44],
];

pub enum Mode {
    Quantized,
    F32,
}

fn candle_model(bytes: &[u8]) -> ModelWeights {
    let mut cursor = std::io::Cursor::new(bytes);
    let content = gguf_file::Content::read(&mut cursor).expect("candle reads the file");
    ModelWeights::from_gguf(content, &mut cursor, &Device::Cpu).expect("candle loads the model")
}

fn candle_logits(model: &mut ModelWeights, tokens: &[u32], pos: usize) -> Vec<f32> {
    let input = Tensor::new(tokens, &Device::Cpu)
        .and_then(|t| t.unsqueeze(0))
        .expect("input tensor");
    model
        .forward(&input, pos)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f32>())
        .expect("candle forward")
}

fn our_logits(
    model: &Transformer,
    cache: &mut ponder_model::kv_cache::KvCache,
    tokens: &[u32],
) -> Vec<f32> {
    let mut out = model
        .forward(&mut [BatchItem {
            cache,
            tokens,
            wanted: Wanted::last_logits(tokens.len()),
        }])
        .expect("forward");
    out.remove(0).logits.remove(0)
}

pub fn argmax(v: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best as u32
}

pub fn compare(mode: Mode) {
    let bytes = super::smollm2_bytes();
    let file = GgufFile::read(&bytes).expect("reads");
    let ours = Transformer::from_gguf(&file, &bytes).expect("loads");
    assert_eq!(ours.vocab_size, 49152);
    let (steps, checked_steps) = match mode {
        Mode::F32 => (64, 64),
        Mode::Quantized => (4, 4),
    };

    for prompt in PROMPTS {
        let mut theirs = candle_model(&bytes);
        let mut cache = ours.new_cache();
        let mut ours_now = our_logits(&ours, &mut cache, prompt);
        let mut theirs_now = candle_logits(&mut theirs, prompt, 0);
        let mut our_tokens = Vec::new();
        let mut their_tokens = Vec::new();
        for step in 0..steps {
            if step < checked_steps {
                let scale = theirs_now.iter().fold(0f32, |m, v| m.max(v.abs()));
                let diffs: Vec<f32> = ours_now
                    .iter()
                    .zip(&theirs_now)
                    .map(|(a, b)| (a - b).abs())
                    .collect();
                let max = diffs.iter().fold(0f32, |m, &d| m.max(d));
                let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
                println!(
                    "prompt of {} tokens, step {step}: max {max:.5}, mean {mean:.5}, scale {scale:.3}",
                    prompt.len()
                );
                let ok = match mode {
                    Mode::F32 => max <= 1e-3,
                    Mode::Quantized => max <= 0.06 * scale && mean <= 0.02 * scale,
                };
                assert!(
                    ok,
                    "prompt of {} tokens, step {step}: logit difference max {max}, mean {mean}, scale {scale}",
                    prompt.len()
                );
                assert_eq!(
                    argmax(&ours_now),
                    argmax(&theirs_now),
                    "top token at step {step}"
                );
            }
            let (a, b) = (argmax(&ours_now), argmax(&theirs_now));
            our_tokens.push(a);
            their_tokens.push(b);
            let pos = prompt.len() + step;
            ours_now = our_logits(&ours, &mut cache, &[a]);
            theirs_now = candle_logits(&mut theirs, &[b], pos);
        }
        assert_eq!(
            our_tokens, their_tokens,
            "greedy continuation of {prompt:?}"
        );
    }
}
