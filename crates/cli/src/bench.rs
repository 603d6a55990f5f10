//! `ponder bench`: the runtime's speed and memory on this machine (see
//! `ponder_model::bench`). `cargo xtask bench` runs it beside the browser measurements.

use std::time::Instant;

use ponder_model::bench;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: crate::ModelArg,
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
    anyhow::ensure!(
        args.prompt_tokens > 0 && args.decode_tokens > 0 && args.batch > 0,
        "sizes must be positive"
    );
    let bytes = crate::read_model(&args.model.model)?;
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
