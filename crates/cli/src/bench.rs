//! `ponder bench MODEL`: the runtime's speed and memory on this machine (see
//! `ponder_model::bench`). `cargo xtask bench` runs it beside the browser measurements.
//! `ponder bench --strategies` measures the strategies instead ([`crate::strategy_bench`]).

use std::time::Instant;

use ponder_model::bench;

#[derive(clap::Args)]
pub struct Args {
    /// A GGUF file (llama or qwen2 family); not needed with `--strategies`.
    #[arg(required_unless_present = "strategies")]
    model: Option<std::path::PathBuf>,
    /// Measure every test-time compute strategy on the built-in models instead of one
    /// model's runtime.
    #[arg(long, conflicts_with_all = ["model", "prompt_tokens", "decode_tokens", "batch"])]
    strategies: bool,
    /// `--strategies`: the budget in generations each strategy runs at [default: 16].
    #[arg(long)]
    budget: Option<u32>,
    /// `--strategies`: the problem set [default: validation].
    #[arg(long)]
    set: Option<String>,
    /// `--strategies`: problems per level, the first ones of each level [default: 2].
    #[arg(long)]
    per_level: Option<usize>,
    /// `--strategies`: the seed of every run [default: 1].
    #[arg(long)]
    seed: Option<u64>,
    /// `--strategies`: also write the rows as JSON to this file.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Prompt length for the prefill measurement.
    #[arg(long, default_value_t = 128)]
    prompt_tokens: usize,
    /// Tokens decoded per sequence.
    #[arg(long, default_value_t = 64)]
    decode_tokens: usize,
    /// Sequences decoded together in the batched measurement.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.strategies {
        return crate::strategy_bench::run(&crate::strategy_bench::Settings {
            budget: args.budget.unwrap_or(16),
            set: args.set.as_deref().unwrap_or("validation"),
            per_level: args.per_level.unwrap_or(2),
            seed: args.seed.unwrap_or(1),
            json: args.json,
            out: args.out.as_deref(),
        });
    }
    let strategy_options = [
        args.budget.is_some(),
        args.set.is_some(),
        args.per_level.is_some(),
        args.seed.is_some(),
        args.out.is_some(),
    ];
    anyhow::ensure!(
        !strategy_options.contains(&true),
        "--budget, --set, --per-level, --seed and --out measure strategies: add --strategies"
    );
    let Some(model) = &args.model else {
        anyhow::bail!("give a model file, or --strategies");
    };
    anyhow::ensure!(
        args.prompt_tokens > 0 && args.decode_tokens > 0 && args.batch > 0,
        "sizes must be positive"
    );
    let bytes = crate::read_model(model)?;
    let origin = Instant::now();
    let now = || origin.elapsed().as_secs_f64();
    let report = bench::run(
        &bytes,
        args.prompt_tokens,
        args.decode_tokens,
        args.batch,
        &now,
    )?;
    let peak = peak_memory_bytes();
    if args.json {
        let mut json = report.to_json();
        json.pop();
        println!(
            "{json},\"peak_memory_bytes\":{},\"threads\":{}}}",
            peak.map_or("null".to_string(), |b| b.to_string()),
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        return Ok(());
    }
    println!("load                 {:.2} s", report.load_seconds);
    println!(
        "prefill              {:.1} tokens/s ({} tokens)",
        report.prefill_tokens_per_second, report.prompt_tokens
    );
    println!(
        "decode, 1 sequence   {:.1} tokens/s",
        report.decode_tokens_per_second
    );
    println!(
        "decode, {} sequences {:.1} tokens/s ({:.2}x one sequence)",
        report.batch,
        report.batch_decode_tokens_per_second,
        report.batch_decode_tokens_per_second / report.decode_tokens_per_second
    );
    if let Some(b) = peak {
        println!("peak memory          {:.0} MB", b as f64 / 1e6);
    }
    Ok(())
}

/// The process's peak resident memory (Linux: VmHWM), if the system reports it.
fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
