//! `ponder tokenize`.

use anyhow::Context;
use ponder_model::gguf::GgufFile;
use ponder_model::tokenizer::Tokenizer;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: crate::ModelArg,
    /// The text to tokenize.
    text: String,
    /// Match special tokens such as <|im_start|> in the text.
    #[arg(long)]
    special: bool,
    /// Print {"ids": [...], "pieces": [...]}.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let bytes = crate::read_model(&args.model.model)?;
    let file = GgufFile::read(&bytes).with_context(|| format!("{}", args.model.model.display()))?;
    let tokenizer = Tokenizer::from_gguf(&file)?;
    let ids = tokenizer.encode(&args.text, args.special);
    let pieces: Vec<String> = ids
        .iter()
        .map(|&id| tokenizer.piece(id).unwrap_or("").to_string())
        .collect();
    if args.json {
        println!("{}", json!({"ids": ids, "pieces": pieces}));
        return Ok(());
    }
    println!("{} tokens", ids.len());
    for (id, piece) in ids.iter().zip(&pieces) {
        let text =
            String::from_utf8_lossy(&tokenizer.token_bytes(*id).unwrap_or_default()).into_owned();
        println!("{id:>8}  {piece:<20} {text:?}");
    }
    Ok(())
}
