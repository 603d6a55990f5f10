//! The runtime's speed and memory, measured the same way natively and in the browser:
//! load time, prompt prefill tokens/s, decode tokens/s with one sequence and with sixteen
//! decoded together.
//!
//! Timing comes from the caller (`Instant` natively, `performance.now()` in the browser),
//! so this module has no platform code. Decoding is greedy and ignores end-of-output, so
//! every run decodes exactly the requested number of tokens.

use crate::error::Result;
use crate::kv_cache::KvCache;
use crate::sampler::argmax;
use crate::tokenizer::Tokenizer;
use crate::transformer::{BatchItem, Wanted};
use crate::LanguageModel;

/// What one benchmark run measured. Times in seconds, speeds in tokens per second.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    pub load_seconds: f64,
    pub prompt_tokens: usize,
    pub prefill_tokens_per_second: f64,
    pub decode_tokens: usize,
    pub decode_tokens_per_second: f64,
    pub batch: usize,
    pub batch_decode_tokens_per_second: f64,
    /// The greedy tokens of the single-sequence decode (to check runs agree).
    pub decoded: Vec<u32>,
}

impl BenchReport {
    pub fn to_json(&self) -> String {
        format!(
            concat!(
                "{{\"load_seconds\":{:.4},\"prompt_tokens\":{},\"prefill_tokens_per_second\":{:.2},",
                "\"decode_tokens\":{},\"decode_tokens_per_second\":{:.2},\"batch\":{},",
                "\"batch_decode_tokens_per_second\":{:.2},\"decoded\":{:?}}}"
            ),
            self.load_seconds,
            self.prompt_tokens,
            self.prefill_tokens_per_second,
            self.decode_tokens,
            self.decode_tokens_per_second,
            self.batch,
            self.batch_decode_tokens_per_second,
            self.decoded
        )
    }
}

/// The benchmark's prompt: ordinary prose, so the tokenizer gives realistic tokens.
pub const PROMPT: &str = "Test-time compute lets a language model think longer about a hard \
problem instead of answering at once. It can sample many solutions in parallel and let a \
verifier pick the best one, or it can revise its own answer step by step, learning from the \
mistakes of its earlier attempts. Which of the two works better depends on how difficult the \
question is for the model: revisions help most on easy questions, while search pays off on \
harder ones. A compute-optimal strategy chooses between them per question, and on problems \
where the small model already has some success it can beat a model many times larger.";

/// The benchmark prompt as exactly `n` tokens: [`PROMPT`] repeated and cut.
pub fn prompt_ids(tokenizer: &Tokenizer, n: usize) -> Vec<u32> {
    let once = tokenizer.encode(PROMPT, false);
    if once.is_empty() {
        return Vec::new();
    }
    once.iter().copied().cycle().take(n).collect()
}

/// Loads the model from `bytes` and measures it. `now` returns seconds from any origin.
pub fn run(
    bytes: &[u8],
    prompt_tokens: usize,
    decode_tokens: usize,
    batch: usize,
    now: &dyn Fn() -> f64,
) -> Result<BenchReport> {
    let t0 = now();
    let model = LanguageModel::from_gguf_bytes(bytes)?;
    let load_seconds = now() - t0;
    let t = &model.transformer;

    let prompt = prompt_ids(&model.tokenizer, prompt_tokens);

    let forward_last = |cache: &mut KvCache, tokens: &[u32]| -> Result<Vec<f32>> {
        let mut out = t.forward(&mut [BatchItem {
            cache,
            tokens,
            wanted: Wanted::last_logits(tokens.len()),
        }])?;
        Ok(out.remove(0).logits.remove(0))
    };

    let mut cache = t.new_cache();
    let t0 = now();
    let logits = forward_last(&mut cache, &prompt)?;
    let prefill_seconds = now() - t0;
    let prefilled = cache.clone();

    let mut token = argmax(&logits);
    let mut decoded = Vec::with_capacity(decode_tokens);
    let t0 = now();
    for _ in 0..decode_tokens {
        decoded.push(token);
        token = argmax(&forward_last(&mut cache, &[token])?);
    }
    let decode_seconds = now() - t0;

    // `batch` sequences from the same prompt, each fed its own first token, decoded together.
    let mut caches: Vec<KvCache> = (0..batch).map(|_| prefilled.clone()).collect();
    let mut tokens: Vec<u32> = (0..batch as u32)
        .map(|i| (decoded[0] + i) % t.vocab_size as u32)
        .collect();
    let t0 = now();
    for _ in 0..decode_tokens {
        let mut items: Vec<BatchItem<'_>> = caches
            .iter_mut()
            .zip(&tokens)
            .map(|(cache, tok)| BatchItem {
                cache,
                tokens: std::slice::from_ref(tok),
                wanted: Wanted::last_logits(1),
            })
            .collect();
        let out = t.forward(&mut items)?;
        tokens = out.iter().map(|o| argmax(&o.logits[0])).collect();
    }
    let batch_seconds = now() - t0;

    Ok(BenchReport {
        load_seconds,
        prompt_tokens: prompt.len(),
        prefill_tokens_per_second: prompt.len() as f64 / prefill_seconds,
        decode_tokens,
        decode_tokens_per_second: decode_tokens as f64 / decode_seconds,
        batch,
        batch_decode_tokens_per_second: (batch * decode_tokens) as f64 / batch_seconds,
        decoded,
    })
}
