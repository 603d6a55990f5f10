//! `ponder inspect`.

use std::collections::BTreeMap;

use anyhow::Context;
use ponder_model::gguf::{GgufFile, MetadataValue};
use ponder_model::{Engine, LanguageModel};
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: crate::ModelArg,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let bytes = crate::read_model(&args.model.model)?;
    let file = GgufFile::read(&bytes).with_context(|| format!("{}", args.model.model.display()))?;
    let model = LanguageModel::from_gguf_bytes(&bytes)
        .with_context(|| format!("cannot load {}", args.model.model.display()))?;
    let cfg = model.transformer.config.clone();
    let mut types: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
    for t in file.tensors() {
        let entry = types.entry(t.ty.name()).or_default();
        entry.0 += 1;
        entry.1 += t.len;
    }
    let text_meta = |key: &str| {
        file.metadata(key)
            .and_then(MetadataValue::as_str)
            .map(str::to_string)
    };
    let tok = &model.tokenizer;
    let template_family = if tok.is_instruct() {
        Some("chatml")
    } else {
        None
    };
    // Where the head is decides whether llama.cpp loads the file: it refuses tensors its
    // architecture lacks, and ignores metadata it does not know.
    let head_stored_in = if file.tensor("prm_head.weight").is_some() {
        "tensors"
    } else {
        "metadata"
    };
    let prm = model.prm.as_ref().map(|h| {
        json!({
            "head": format!("{:?}", h.kind),
            "separator": h.separator,
            "question_template": h.question_template(),
            "likelihood_weights": h.likelihood_weights(),
            "stored_in": head_stored_in,
        })
    });
    let engine = Engine::new(model);
    let cfg_json = json!({
        "architecture": cfg.architecture.name(),
        "name": text_meta("general.name"),
        "file_bytes": bytes.len(),
        "parameters": engine.model.parameters(),
        "layers": cfg.n_layers,
        "hidden": cfg.hidden,
        "ffn_hidden": cfg.ffn_hidden,
        "heads": cfg.n_heads,
        "kv_heads": cfg.n_kv_heads,
        "head_dim": cfg.head_dim,
        "context_length": cfg.context_length,
        "rope_base": cfg.rope_base,
        "rms_eps": cfg.rms_eps,
        "vocab_size": engine.model.transformer.vocab_size,
        "tensor_types": types.iter().map(|(k, (n, b))| (k.to_string(), json!({"tensors": n, "bytes": b}))).collect::<serde_json::Map<_, _>>(),
        "tokenizer": {
            "model": text_meta("tokenizer.ggml.model"),
            "pre": text_meta("tokenizer.ggml.pre"),
            "tokens": engine.model.tokenizer.vocab_size(),
            "bos_id": engine.model.tokenizer.bos_id(),
            "eos_id": engine.model.tokenizer.eos_id(),
        },
        "chat_template": template_family,
        "prm": prm,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&cfg_json)?);
        return Ok(());
    }
    let name = text_meta("general.name").unwrap_or_else(|| "(unnamed)".into());
    println!("{name}");
    println!("  architecture   {}", cfg.architecture.name());
    println!("  file           {:.1} MB", bytes.len() as f64 / 1e6);
    println!(
        "  parameters     {:.1} M",
        engine.model.parameters() as f64 / 1e6
    );
    println!(
        "  shape          {} layers, width {}, feed-forward {}, {} heads ({} key/value), head size {}",
        cfg.n_layers, cfg.hidden, cfg.ffn_hidden, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
    );
    println!(
        "  context        {} tokens (rope base {})",
        cfg.context_length, cfg.rope_base
    );
    println!("  tensor types");
    for (name, (n, b)) in &types {
        println!("    {name:<6} {n:>4} tensors  {:>8.1} MB", *b as f64 / 1e6);
    }
    println!(
        "  tokenizer      {} / {}, {} tokens, bos {:?}, eos {:?}",
        text_meta("tokenizer.ggml.model").unwrap_or_default(),
        text_meta("tokenizer.ggml.pre").unwrap_or_default(),
        engine.model.tokenizer.vocab_size(),
        engine.model.tokenizer.bos_id(),
        engine.model.tokenizer.eos_id()
    );
    println!(
        "  chat template  {}",
        template_family.unwrap_or("none (a base model: prompts are used as they are)")
    );
    if let Some(h) = &engine.model.prm {
        println!("  PRM head       {:?}, separator {:?}", h.kind, h.separator);
        if head_stored_in == "tensors" {
            println!(
                "  llama.cpp      refuses this file: the head's prm_head.* tensors are not in \
                 its {} architecture (Ponder's exporter keeps the head in ponder.prm.* \
                 metadata instead)",
                cfg.architecture.name()
            );
        } else {
            println!(
                "  llama.cpp      loads this file as a plain language model: it ignores the \
                 head, kept in ponder.prm.* metadata, and cannot score steps with it"
            );
        }
        println!("  PRM question   {:?}", h.question_template());
        if let Some([min, mean, sum]) = h.likelihood_weights() {
            println!(
                "  PRM likelihood weights {min} (lowest), {mean} (mean), {sum} (sum) of the attempt's token log-probabilities"
            );
        }
    }
    Ok(())
}
