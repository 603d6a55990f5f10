//! `ponder-train`: trains a built-in model on the CPU and exports it as GGUF.
//!
//! ```text
//! ponder-train base --size small --steps 20000 --out public/models/ponder-s.gguf
//! ```
//!
//! Checkpoints go to `target/train/<size>/` (or `--checkpoints`); running the same command
//! again resumes from the last one, so a long training survives interruptions. A folder
//! remembers the command that filled it (`made-by`), and a command with other settings or
//! input files is refused there rather than resuming work that is not its own.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use candle_core::Device;
use candle_nn::VarMap;
use ponder_core::progress;
use ponder_train::data::Corpus;
use ponder_train::export::{to_gguf, About, Precision};
use ponder_train::model::{Config, Model};
use ponder_train::trainer::{claim_folder, digest, train, Settings};

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: ponder-train eval MODEL.gguf [test|validation]\n       ponder-train corpus --rows N [--first N] [--seq N] [--seed N] --out ROWS.bin\n       ponder-train import small|large OUT.gguf WEIGHTS.safetensors... [--name NAME]\n       ponder-train reference MODEL.gguf OUT.safetensors\n       ponder-train chains MODEL.gguf [test|validation] [--chains N] [--context N]\n       ponder-train report [--models DIR] [--out FILE.md] [--samples N]\n       ponder-train metadata MODEL.gguf...\n       ponder-train revision|prm --from S.gguf --out FILE.gguf [--backbone S_OR_L.gguf (prm)] [--extra-layers N | --likelihood (prm)] [--problems N] [--samples N] [--rollouts N] [--temperature T] [--keep PERCENT | --earlier wrong|sampled (revision)] [--steps N] [--batch N] [--lr X] [--seed N] [--stop-at STEP] [--checkpoints DIR]\n       ponder-train export small|large|revision CHECKPOINT_DIR OUT.gguf\n       ponder-train base --size small|large [--grow-from S.gguf] [--steps N] [--batch N] [--seq N] [--lr X] [--seed N] [--stop-at STEP] [--checkpoints DIR] --out FILE.gguf";

fn run(args: Vec<String>) -> anyhow::Result<()> {
    if args.first().map(String::as_str) == Some("eval") {
        return eval(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("export") {
        return export(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("corpus") {
        return corpus(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("import") {
        return import(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("reference") {
        return reference(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("chains") {
        return chains(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("report") {
        return report(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("metadata") {
        return metadata(&args[1..]);
    }
    if matches!(args.first().map(String::as_str), Some("revision" | "prm")) {
        return fine_tune(&args[0], &args[1..]);
    }
    let mut it = args.iter();
    anyhow::ensure!(it.next().map(String::as_str) == Some("base"), "{USAGE}");
    let mut size = None;
    let mut out = None;
    let mut checkpoints = None;
    let mut grow_from: Option<PathBuf> = None;
    let mut s = Settings {
        batch: 32,
        seq_len: 128,
        steps: 20_000,
        lr: 3e-3,
        warmup: 200,
        weight_decay: 0.1,
        clip: 1.0,
        checkpoint_every: 200,
        seed: 1,
        stop_at: None,
    };
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .with_context(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--size" => size = Some(value()?),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--checkpoints" => checkpoints = Some(PathBuf::from(value()?)),
            "--grow-from" => grow_from = Some(PathBuf::from(value()?)),
            "--steps" => s.steps = value()?.parse().context("--steps takes a whole number")?,
            "--batch" => s.batch = value()?.parse().context("--batch takes a whole number")?,
            "--seq" => s.seq_len = value()?.parse().context("--seq takes a whole number")?,
            "--lr" => s.lr = value()?.parse().context("--lr takes a number")?,
            "--seed" => s.seed = value()?.parse().context("--seed takes a whole number")?,
            "--stop-at" => {
                s.stop_at = Some(value()?.parse().context("--stop-at takes a step number")?)
            }
            other => anyhow::bail!("unknown option {other}\n{USAGE}"),
        }
    }
    let size = size.with_context(|| format!("--size is required\n{USAGE}"))?;
    let config = match size.as_str() {
        "small" => Config::small(),
        "large" => Config::large(),
        other => anyhow::bail!("--size is small or large, not {other}"),
    };
    let out = out.with_context(|| format!("--out is required\n{USAGE}"))?;
    let dir = checkpoints.unwrap_or_else(|| PathBuf::from("target/train").join(&size));

    let grown_from = grow_from
        .as_ref()
        .map(|small| {
            std::fs::read(small).with_context(|| format!("cannot read {}", small.display()))
        })
        .transpose()?;
    let mut decisive = s.clone();
    decisive.stop_at = None;
    claim_folder(
        &dir,
        &format!(
            "ponder-train base --size {size} {decisive:?}; grown from {}",
            grown_from.as_deref().map_or("nothing".to_string(), digest)
        ),
    )?;

    let vars = VarMap::new();
    let model = Model::new(config, &vars, &Device::Cpu)?;
    if let (Some(small), Some(bytes)) = (&grow_from, &grown_from) {
        // Only a fresh run starts from the grown weights; a resumed one loads its checkpoint.
        if !dir.join("step").is_file() {
            model.grow_from_gguf(Config::small(), bytes)?;
            eprintln!("starting from {} grown to {size}", small.display());
        }
    }
    eprintln!(
        "training {size}: {:.2} M parameters, {} steps of {} x {} tokens, checkpoints in {}",
        config.parameters() as f64 / 1e6,
        s.steps,
        s.batch,
        s.seq_len,
        dir.display()
    );
    let corpus = Corpus::new(s.seed);
    train(&model, &vars, &corpus, &s, &dir, &mut |p| {
        eprint!(
            "\r[{:>3}%] step {}/{}  loss {:.3}  {:.0} tokens/s  about {} left   ",
            p.step * 100 / p.steps.max(1),
            p.step,
            p.steps,
            p.loss,
            p.tokens_per_second,
            progress::duration(p.seconds_left)
        );
        let _ = std::io::stderr().flush();
    })?;
    eprintln!();
    if s.stop_at.is_some_and(|stop| stop < s.steps) {
        eprintln!("paused; run the same command without --stop-at to continue");
        return Ok(());
    }
    let bytes = to_gguf(&model, &About::policy(&size), Precision::Q8_0, None)?;
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "wrote {} ({:.1} MB)",
        out.display(),
        bytes.len() as f64 / 1e6
    );
    Ok(())
}

/// `ponder-train eval MODEL [test|validation]`: greedy pass@1 per level on a shipped set.
fn eval(args: &[String]) -> anyhow::Result<()> {
    let (mut engine, set, which) = model_and_set(args)?;
    let problems = set.problems().map_err(|e| anyhow::anyhow!("{e}"))?;
    let levelled: Vec<_> = set.problems.iter().map(|p| p.level).zip(problems).collect();
    let started = std::time::Instant::now();
    let scores = ponder_train::eval::greedy_pass_at_1(&mut engine, &levelled, 32, 16)?;
    println!(
        "greedy pass@1 on the {which} set ({} problems, {:.0} s)",
        levelled.len(),
        started.elapsed().as_secs_f64()
    );
    for s in scores {
        println!(
            "  level {}  {:>3}/{:<3}  {:>5.1}%",
            s.level,
            s.solved,
            s.total,
            100.0 * s.accuracy()
        );
    }
    Ok(())
}

/// `ponder-train export SIZE DIR OUT`: the weights of a checkpoint (for example of a run
/// still in progress) as a Q8_0 GGUF. `revision` is S's size with R's longer context.
fn export(args: &[String]) -> anyhow::Result<()> {
    let [size, dir, out] = args else {
        anyhow::bail!("{USAGE}");
    };
    let config = match size.as_str() {
        "small" => Config::small(),
        "large" => Config::large(),
        "revision" => ponder_train::recipe::revision_config(),
        other => anyhow::bail!("the size is small, large or revision, not {other}"),
    };
    let mut vars = VarMap::new();
    let model = Model::new(config, &vars, &Device::Cpu)?;
    let weights = PathBuf::from(dir).join("model.safetensors");
    vars.load(&weights)
        .with_context(|| format!("cannot load the checkpoint {}", weights.display()))?;
    let step = std::fs::read_to_string(PathBuf::from(dir).join("step")).unwrap_or_default();
    let mut about = match size.as_str() {
        "revision" => About::revision(),
        _ => About::policy(size),
    };
    about.name = format!("{} (step {})", about.name, step.trim());
    let bytes = to_gguf(&model, &about, Precision::Q8_0, None)?;
    std::fs::write(out, &bytes).with_context(|| format!("writing {out}"))?;
    eprintln!(
        "wrote {out} ({:.1} MB) from step {}",
        bytes.len() as f64 / 1e6,
        step.trim()
    );
    Ok(())
}

/// `ponder-train revision|prm --from S.gguf --out FILE.gguf [options]`: the revision model
/// or the PRM, made from S by `ponder_train::recipe`.
fn fine_tune(which: &str, args: &[String]) -> anyhow::Result<()> {
    use ponder_train::recipe::{process_reward_model, revision_model, Recipe};
    use ponder_train::revision::Earlier;
    let mut from = None;
    let mut backbone = None;
    let mut out = None;
    let mut checkpoints = None;
    let mut r = Recipe {
        problems_per_level: if which == "prm" { 200 } else { 400 },
        samples: if which == "prm" { 4 } else { 8 },
        rollouts: 4,
        temperature: 1.0,
        keep_percent: 0,
        earlier: Earlier::Wrong,
        extra_layers: 0,
        likelihood: false,
        batch: 16,
        settings: Settings {
            batch: 16,
            seq_len: 0,
            steps: 600,
            lr: 5e-4,
            warmup: 50,
            weight_decay: 0.1,
            clip: 1.0,
            checkpoint_every: 100,
            seed: 1,
            stop_at: None,
        },
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .with_context(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--from" => from = Some(PathBuf::from(value()?)),
            "--backbone" if which == "prm" => backbone = Some(PathBuf::from(value()?)),
            "--likelihood" if which == "prm" => {
                r.likelihood = true;
                continue;
            }
            "--extra-layers" if which == "prm" => {
                r.extra_layers = value()?
                    .parse()
                    .context("--extra-layers takes a whole number")?
            }
            "--out" => out = Some(PathBuf::from(value()?)),
            "--checkpoints" => checkpoints = Some(PathBuf::from(value()?)),
            "--problems" => {
                r.problems_per_level = value()?
                    .parse()
                    .context("--problems takes a whole number (per level)")?
            }
            "--samples" => {
                r.samples = value()?.parse().context("--samples takes a whole number")?
            }
            "--rollouts" => {
                r.rollouts = value()?
                    .parse()
                    .context("--rollouts takes a whole number")?
            }
            "--temperature" => {
                r.temperature = value()?.parse().context("--temperature takes a number")?
            }
            "--steps" => {
                r.settings.steps = value()?.parse().context("--steps takes a whole number")?
            }
            "--keep" => {
                r.keep_percent = value()?
                    .parse()
                    .ok()
                    .filter(|p: &u64| *p <= 100)
                    .context("--keep takes a percentage, 0 to 100")?
            }
            "--earlier" if which == "revision" => {
                r.earlier = match value()?.as_str() {
                    "wrong" => Earlier::Wrong,
                    "sampled" => Earlier::AsSampled,
                    other => anyhow::bail!(
                        "--earlier takes wrong (the paper's recipe) or sampled (S's other samples, right or wrong), not {other:?}"
                    ),
                }
            }
            "--batch" => r.batch = value()?.parse().context("--batch takes a whole number")?,
            "--lr" => r.settings.lr = value()?.parse().context("--lr takes a number")?,
            "--seed" => {
                r.settings.seed = value()?.parse().context("--seed takes a whole number")?
            }
            "--stop-at" => {
                r.settings.stop_at =
                    Some(value()?.parse().context("--stop-at takes a step number")?)
            }
            other => anyhow::bail!("unknown option {other}\n{USAGE}"),
        }
    }
    let from = from.with_context(|| format!("--from S.gguf is required\n{USAGE}"))?;
    let out = out.with_context(|| format!("--out is required\n{USAGE}"))?;
    let dir = checkpoints.unwrap_or_else(|| PathBuf::from("target/train").join(which));
    let s_model =
        std::fs::read(&from).with_context(|| format!("cannot read S from {}", from.display()))?;
    r.settings.batch = r.batch;
    let backbone = backbone
        .as_ref()
        .map(|path| {
            std::fs::read(path)
                .with_context(|| format!("cannot read the backbone {}", path.display()))
        })
        .transpose()?;
    let mut decisive = r.clone();
    decisive.settings.stop_at = None;
    claim_folder(
        &dir,
        &format!(
            "ponder-train {which} {decisive:?}; S {}; backbone {}",
            digest(&s_model),
            backbone.as_deref().map_or("S".to_string(), digest)
        ),
    )?;
    let bytes = if which == "prm" {
        let backbone = backbone.unwrap_or_else(|| s_model.clone());
        process_reward_model(&s_model, &backbone, &r, &dir)?
    } else {
        revision_model(&s_model, &r, &dir)?
    };
    let Some(bytes) = bytes else {
        eprintln!("paused; run the same command without --stop-at to continue");
        return Ok(());
    };
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "wrote {} ({:.1} MB)",
        out.display(),
        bytes.len() as f64 / 1e6
    );
    Ok(())
}

/// `ponder-train report [--models DIR] [--out FILE]`: the evaluation report of the four
/// built-in models (default `public/models/` into `docs/models.md`).
fn report(args: &[String]) -> anyhow::Result<()> {
    let mut models = PathBuf::from("public/models");
    let mut out = PathBuf::from("docs/models.md");
    let mut settings = ponder_train::report::ReportSettings::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = it
            .next()
            .with_context(|| format!("{arg} needs a value\n{USAGE}"))?;
        match arg.as_str() {
            "--models" => models = PathBuf::from(value),
            "--out" => out = PathBuf::from(value),
            "--samples" => {
                settings.coverage_samples = value
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .context("--samples takes a whole number of at least 1")?
            }
            other => anyhow::bail!("unknown option {other}\n{USAGE}"),
        }
    }
    let started = std::time::Instant::now();
    let md = ponder_train::report::report(&models, &settings, &mut |stage| {
        eprintln!("[{:>4.0} s] {stage}", started.elapsed().as_secs_f64())
    })?;
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&out, md).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// `ponder-train chains MODEL [test|validation] [--chains N] [--context N]`: right attempts
/// per level at each step of the revision chains, measured as the report measures R (by
/// default as many chains per problem, each revision seeing as many earlier attempts).
fn chains(args: &[String]) -> anyhow::Result<()> {
    use ponder_train::report::{chain_rows, revision_chains, right_at, turned, ReportSettings};
    let mut settings = ReportSettings::default();
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| -> anyhow::Result<usize> {
            it.next()
                .with_context(|| format!("{name} needs a value\n{USAGE}"))?
                .parse()
                .with_context(|| format!("{name} takes a whole number"))
        };
        match arg.as_str() {
            "--chains" => settings.revision_chains = value("--chains")?,
            "--context" => settings.revision_context = value("--context")?,
            flag if flag.starts_with("--") => anyhow::bail!("unknown option {flag}\n{USAGE}"),
            _ => positional.push(arg.clone()),
        }
    }
    anyhow::ensure!(settings.revision_chains > 0, "--chains must be at least 1");
    let (mut engine, set, which) = model_and_set(&positional)?;
    let problems = set.problems().map_err(|e| anyhow::anyhow!("{e}"))?;
    let per = settings.revision_chains;
    let right = revision_chains(&mut engine, &problems, settings.revisions + 1, &settings)?;
    println!(
        "right attempts at revision steps 0..{} on the {which} set, {per} chains per problem, \
         each revision seeing up to {} earlier attempts",
        settings.revisions, settings.revision_context
    );
    for level in 1..=5u8 {
        let problems_at: Vec<usize> = (0..problems.len())
            .filter(|&i| set.problems[i].level.number() == level)
            .collect();
        let idx = chain_rows(&problems_at, per);
        let steps = settings.revisions + 1;
        let counts = right_at(&right, &idx, steps);
        // What each revision did to the attempt before it: the paper's chains both fix
        // wrong answers and turn right ones wrong, and the net is what pass@1 shows.
        println!(
            "  level {level} (of {} chains): {counts:?}; revisions 1..{} turned right to wrong {:?}, wrong to right {:?}",
            idx.len(),
            settings.revisions,
            turned(&right, &idx, steps, true),
            turned(&right, &idx, steps, false)
        );
    }
    Ok(())
}

/// `MODEL [test|validation]`: the model's engine, the shipped set, and its name.
fn model_and_set(
    args: &[String],
) -> anyhow::Result<(
    ponder_model::Engine,
    ponder_core::arithmetic::ProblemSet,
    &str,
)> {
    let model = args.first().with_context(|| USAGE.to_string())?;
    let which = args.get(1).map_or("validation", String::as_str);
    let bytes = std::fs::read(model).with_context(|| format!("cannot read {model}"))?;
    let engine = ponder_model::Engine::new(ponder_model::LanguageModel::from_gguf_bytes(&bytes)?);
    let set = ponder_core::arithmetic::shipped_sets()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .find(|s| s.name == which)
        .with_context(|| format!("no shipped set named {which} (test or validation)"))?;
    Ok((engine, set, which))
}

/// `ponder-train corpus --rows N [--first N] [--seq N] [--seed N] --out FILE`: training rows
/// for a trainer outside this crate, in `ponder_train::rows`'s format.
fn corpus(args: &[String]) -> anyhow::Result<()> {
    let (mut rows, mut first, mut seq, mut seed, mut out) = (None, 0u64, 256usize, 1u64, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = it
            .next()
            .with_context(|| format!("{arg} needs a value\n{USAGE}"))?;
        let whole = || format!("{arg} takes a whole number");
        match arg.as_str() {
            "--rows" => rows = Some(value.parse::<u64>().with_context(whole)?),
            "--first" => first = value.parse().with_context(whole)?,
            "--seq" => seq = value.parse().with_context(whole)?,
            "--seed" => seed = value.parse().with_context(whole)?,
            "--out" => out = Some(PathBuf::from(value)),
            other => anyhow::bail!("unknown option {other}\n{USAGE}"),
        }
    }
    let rows = rows.with_context(|| format!("--rows is required\n{USAGE}"))?;
    let out = out.with_context(|| format!("--out is required\n{USAGE}"))?;
    let file =
        std::fs::File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let started = std::time::Instant::now();
    let tokens = ponder_train::rows::write_rows(&Corpus::new(seed), first, rows, seq, &mut writer)?;
    writer.flush()?;
    eprintln!(
        "wrote rows {first}..{} ({tokens} tokens) to {} in {:.1} s",
        first + rows,
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `ponder-train metadata MODEL.gguf...`: each built-in model file's metadata rewritten
/// in place as the exporter writes it today, its weights kept byte for byte (see
/// `ponder_train::rewrite`).
fn metadata(files: &[String]) -> anyhow::Result<()> {
    anyhow::ensure!(!files.is_empty(), "no model files given\n{USAGE}");
    for file in files {
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {file}"))?;
        let rewritten = ponder_train::rewrite::rewrite(&bytes, None)
            .with_context(|| format!("cannot rewrite the metadata of {file}"))?;
        // Written beside the file first, so an interruption never leaves half a model.
        let part = format!("{file}.part");
        std::fs::write(&part, &rewritten).with_context(|| format!("writing {part}"))?;
        std::fs::rename(&part, file).with_context(|| format!("replacing {file}"))?;
        eprintln!(
            "rewrote {file}: {} -> {} bytes, weights unchanged (digest {})",
            bytes.len(),
            rewritten.len(),
            ponder_train::rewrite::weights_digest(&rewritten)?
        );
    }
    Ok(())
}

/// `ponder-train import small|large OUT.gguf WEIGHTS.safetensors... [--name NAME]`: F32
/// weights trained elsewhere, exported as this crate's Q8_0 GGUF.
fn import(args: &[String]) -> anyhow::Result<()> {
    let mut positional = Vec::new();
    let mut name = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--name" => name = Some(it.next().with_context(|| USAGE.to_string())?.clone()),
            flag if flag.starts_with("--") => anyhow::bail!("unknown option {flag}\n{USAGE}"),
            _ => positional.push(arg.clone()),
        }
    }
    let [size, out, files @ ..] = positional.as_slice() else {
        anyhow::bail!("{USAGE}");
    };
    anyhow::ensure!(!files.is_empty(), "no weight files given\n{USAGE}");
    let config = match size.as_str() {
        "small" => Config::small(),
        "large" => Config::large(),
        other => anyhow::bail!("the size is small or large, not {other}"),
    };
    let paths: Vec<&std::path::Path> = files.iter().map(std::path::Path::new).collect();
    let model = ponder_train::import::model_from_safetensors(config, &paths)?;
    let mut about = About::policy(size);
    if let Some(name) = name {
        about.name = name;
    }
    let bytes = to_gguf(&model, &about, Precision::Q8_0, None)?;
    std::fs::write(out, &bytes).with_context(|| format!("writing {out}"))?;
    eprintln!("wrote {out} ({:.1} MB)", bytes.len() as f64 / 1e6);
    Ok(())
}

/// `ponder-train reference MODEL.gguf OUT.safetensors`: the model's weights (dequantized,
/// by variable name), two training rows (`check.tokens`) and this crate's logits for them
/// (`check.logits`), so an outside trainer can check that its forward computes the same.
fn reference(args: &[String]) -> anyhow::Result<()> {
    let [model_path, out] = args else {
        anyhow::bail!("{USAGE}");
    };
    let bytes = std::fs::read(model_path).with_context(|| format!("cannot read {model_path}"))?;
    let config = Config::of_gguf(&bytes)?;
    let vars = VarMap::new();
    let model = Model::new(config, &vars, &Device::Cpu)?;
    model.load_gguf(&bytes)?;
    let corpus = Corpus::new(7);
    let seq = config.context;
    let mut ids = Vec::new();
    for r in 0..2 {
        ids.extend(
            ponder_train::rows::row(&corpus, r, seq)[..seq]
                .iter()
                .map(|&t| i64::from(t)),
        );
    }
    let tokens = candle_core::Tensor::from_vec(ids, (2, seq), &Device::Cpu)?;
    let logits = model.forward(&tokens.to_dtype(candle_core::DType::U32)?)?;
    let mut tensors: std::collections::HashMap<String, candle_core::Tensor> = vars
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("the variable map's lock is poisoned"))?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
        .collect();
    tensors.insert("check.tokens".into(), tokens);
    tensors.insert("check.logits".into(), logits);
    candle_core::safetensors::save(&tensors, out).with_context(|| format!("writing {out}"))?;
    eprintln!("wrote {out}: {config:?}, logits of 2 rows of {seq} tokens");
    Ok(())
}
