//! `ponder generate`.

use std::io::Write;
use std::time::Instant;

use anyhow::{bail, Context};
use ponder_core::DrawKey;
use ponder_model::sampler::SamplingParams;
use ponder_model::{Engine, LanguageModel};
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: crate::ModelArg,
    /// The prompt.
    prompt: String,
    /// Wrap the prompt in the model's chat template (instruct models).
    #[arg(long)]
    chat: bool,
    /// Stop after this many new tokens.
    #[arg(long, default_value_t = 128)]
    max_tokens: usize,
    /// Sampling temperature; 0 is greedy.
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// Keep only the k most likely tokens (0: no limit).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// Nucleus sampling mass (1: no limit).
    #[arg(long, default_value_t = 1.0)]
    top_p: f32,
    /// Seed of the random draws (results are reproducible for a seed).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print {"text", "ids", "tokens_per_second"} instead of streaming.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    if !(args.temperature >= 0.0 && args.temperature.is_finite()) {
        bail!("--temperature must be a number >= 0");
    }
    if !(args.top_p > 0.0 && args.top_p <= 1.0) {
        bail!("--top-p must be in (0, 1]");
    }
    let bytes = crate::read_model(&args.model.model)?;
    let model = LanguageModel::from_gguf_bytes(&bytes)
        .with_context(|| format!("cannot load {}", args.model.model.display()))?;
    let mut engine = Engine::new(model);
    if args.chat && !engine.model.tokenizer.is_instruct() {
        bail!("--chat: this model has no chat template Ponder can apply (it may be a base model)");
    }
    engine.chat = args.chat;
    let prompt_ids = engine.encode_prompt(&args.prompt)?;
    let seq = engine.start_tokens(&prompt_ids)?;
    let params = SamplingParams {
        temperature: args.temperature,
        top_k: args.top_k,
        top_p: args.top_p,
    };
    let started = Instant::now();
    let mut first_token_at = None;
    let mut out = String::new();
    let stream = !args.json;
    let ids = engine.generate(
        seq,
        &params,
        DrawKey::new(args.seed, &[0]),
        args.max_tokens,
        &mut |piece| {
            first_token_at.get_or_insert_with(Instant::now);
            out.push_str(piece);
            if stream {
                print!("{piece}");
                let _ = std::io::stdout().flush();
            }
        },
    )?;
    // Decode speed excludes the prompt: time from the first generated token on.
    let decode_secs = first_token_at.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let tokens_per_second = if ids.len() > 1 && decode_secs > 0.0 {
        (ids.len() - 1) as f64 / decode_secs
    } else {
        0.0
    };
    if args.json {
        println!(
            "{}",
            json!({"text": out, "ids": ids, "tokens_per_second": tokens_per_second})
        );
    } else {
        println!();
        eprintln!(
            "{} prompt tokens, {} new tokens in {:.2} s, {tokens_per_second:.1} tokens/s",
            prompt_ids.len(),
            ids.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
