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
use clap::{Args, Parser, Subcommand, ValueEnum};
use ponder_core::progress;
use ponder_train::data::Corpus;
use ponder_train::export::{to_gguf, About, Precision};
use ponder_train::model::{Config, Model};
use ponder_train::trainer::{claim_folder, digest, train, Settings};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Trains Ponder's built-in models on the CPU, evaluates them, and exports them as GGUF.
#[derive(Parser)]
#[command(name = "ponder-train", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Trains S or L from scratch on the arithmetic corpus (resumes from its checkpoints).
    Base(BaseArgs),
    /// Greedy pass@1 per level of a model on a shipped problem set.
    Eval(SetArgs),
    /// A checkpoint's weights (a run still in progress, say) as a Q8_0 GGUF.
    Export(ExportArgs),
    /// The revision model R, fine-tuned from S on its own revision chains.
    Revision(RevisionArgs),
    /// The process reward model, fine-tuned from S on Monte-Carlo rollouts.
    Prm(PrmArgs),
    /// The evaluation report of the four built-in models (docs/models.md).
    Report(ReportArgs),
    /// Right attempts per level at each step of a revision model's chains.
    Chains(ChainsArgs),
    /// Training rows for a trainer outside this crate (ponder_train::rows's format).
    Corpus(CorpusArgs),
    /// Rewrites built-in files' metadata in place as the exporter writes it today, weights
    /// kept byte for byte.
    Metadata(MetadataArgs),
    /// F32 weights trained elsewhere (safetensors), exported as a Q8_0 GGUF.
    Import(ImportArgs),
    /// A model's weights, two training rows and this crate's logits for them, for an
    /// outside trainer to check its forward against.
    Reference(ReferenceArgs),
}

/// The two sizes of the base models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Size {
    Small,
    Large,
}

impl Size {
    fn name(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Large => "large",
        }
    }

    fn config(self) -> Config {
        match self {
            Size::Small => Config::small(),
            Size::Large => Config::large(),
        }
    }
}

#[derive(Args)]
struct BaseArgs {
    /// S or L.
    #[arg(long, value_enum)]
    size: Size,
    /// Where the GGUF file goes.
    #[arg(long)]
    out: PathBuf,
    /// Checkpoint folder [default: target/train/SIZE].
    #[arg(long)]
    checkpoints: Option<PathBuf>,
    /// Starts L from S's weights, grown to L's shape.
    #[arg(long)]
    grow_from: Option<PathBuf>,
    /// Training steps.
    #[arg(long, default_value_t = 20_000)]
    steps: u64,
    /// Rows per training step.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Tokens per training row.
    #[arg(long = "seq", default_value_t = 128)]
    seq_len: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 3e-3)]
    lr: f64,
    /// Seed of the corpus and the initialisation.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Pauses after this step (run again without it to continue).
    #[arg(long)]
    stop_at: Option<u64>,
}

/// The shipped problem sets a model is measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SetName {
    Test,
    Validation,
}

impl SetName {
    fn name(self) -> &'static str {
        match self {
            SetName::Test => "test",
            SetName::Validation => "validation",
        }
    }
}

#[derive(Args)]
struct SetArgs {
    /// The model file.
    model: PathBuf,
    /// The shipped problem set.
    #[arg(value_enum, default_value_t = SetName::Validation)]
    set: SetName,
}

/// What a checkpoint holds: S's or L's shape, or R's (S's with a longer context).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ExportSize {
    Small,
    Large,
    Revision,
}

#[derive(Args)]
struct ExportArgs {
    /// The checkpoint's model.
    #[arg(value_enum)]
    size: ExportSize,
    /// The checkpoint folder.
    checkpoint: PathBuf,
    /// Where the GGUF file goes.
    out: PathBuf,
}

/// What the revision model and the PRM are both made with.
#[derive(Args)]
struct FineTuneArgs {
    /// S, the model fine-tuned and whose samples make the data.
    #[arg(long)]
    from: PathBuf,
    /// Where the GGUF file goes.
    #[arg(long)]
    out: PathBuf,
    /// Checkpoint folder [default: target/train/revision or target/train/prm].
    #[arg(long)]
    checkpoints: Option<PathBuf>,
    /// Training problems per level [default: 400 for revision, 200 for prm].
    #[arg(long)]
    problems: Option<u64>,
    /// Attempts sampled from S per problem [default: 8 for revision, 4 for prm].
    #[arg(long)]
    samples: Option<usize>,
    /// Rollouts per step for the PRM's labels.
    #[arg(long, default_value_t = 4)]
    rollouts: usize,
    /// Sampling temperature of S's attempts.
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// The reviser's share of examples (percent) that end on a right attempt and keep it;
    /// 0 is the paper's recipe.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=100))]
    keep: u64,
    /// Training steps.
    #[arg(long, default_value_t = 600)]
    steps: u64,
    /// Examples per training step.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 5e-4)]
    lr: f64,
    /// Seed of the data and the initialisation.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Pauses after this step (run again without it to continue).
    #[arg(long)]
    stop_at: Option<u64>,
}

/// Which earlier attempts a revision chain's training examples show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EarlierArg {
    /// Wrong attempts only, the paper's recipe.
    Wrong,
    /// S's other samples, right or wrong.
    Sampled,
}

#[derive(Args)]
struct RevisionArgs {
    #[command(flatten)]
    common: FineTuneArgs,
    #[arg(long, value_enum, default_value_t = EarlierArg::Wrong)]
    earlier: EarlierArg,
}

#[derive(Args)]
struct PrmArgs {
    #[command(flatten)]
    common: FineTuneArgs,
    /// The model the PRM is built on [default: S].
    #[arg(long)]
    backbone: Option<PathBuf>,
    /// Layers added on top of the backbone.
    #[arg(long, default_value_t = 0)]
    extra_layers: usize,
    /// Adds the attempt's likelihood under the backbone to the value head.
    #[arg(long)]
    likelihood: bool,
}

#[derive(Args)]
struct ReportArgs {
    /// The folder of the four model files.
    #[arg(long, default_value = "public/models")]
    models: PathBuf,
    /// The report.
    #[arg(long, default_value = "docs/models.md")]
    out: PathBuf,
    /// Samples per problem for the coverage measures (at least 1) [default: the report's].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    samples: Option<u64>,
}

#[derive(Args)]
struct ChainsArgs {
    #[command(flatten)]
    set: SetArgs,
    /// Chains per problem (at least 1) [default: the report's].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    chains: Option<u64>,
    /// Earlier attempts each revision sees [default: the report's].
    #[arg(long)]
    context: Option<usize>,
}

#[derive(Args)]
struct CorpusArgs {
    /// Rows to write.
    #[arg(long)]
    rows: u64,
    /// The first row's number.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Tokens per row.
    #[arg(long, default_value_t = 256)]
    seq: usize,
    /// Seed of the corpus.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The rows file.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct MetadataArgs {
    /// The model files, rewritten in place.
    #[arg(required = true)]
    files: Vec<String>,
}

#[derive(Args)]
struct ImportArgs {
    /// The weights' model shape.
    #[arg(value_enum)]
    size: Size,
    /// Where the GGUF file goes.
    out: String,
    /// The weight files, in order.
    #[arg(required = true)]
    files: Vec<String>,
    /// The model's name in its metadata.
    #[arg(long)]
    name: Option<String>,
}

#[derive(Args)]
struct ReferenceArgs {
    /// The model file.
    model: String,
    /// The safetensors file written.
    out: String,
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Base(args) => base(args),
        Command::Eval(args) => eval(args),
        Command::Export(args) => export(args),
        Command::Revision(args) => fine_tune(
            "revision",
            args.common,
            Tuned::Revision {
                earlier: args.earlier,
            },
        ),
        Command::Prm(args) => fine_tune(
            "prm",
            args.common,
            Tuned::Prm {
                backbone: args.backbone,
                extra_layers: args.extra_layers,
                likelihood: args.likelihood,
            },
        ),
        Command::Report(args) => report(args),
        Command::Chains(args) => chains(args),
        Command::Corpus(args) => corpus(args),
        Command::Metadata(args) => metadata(&args.files),
        Command::Import(args) => import(args),
        Command::Reference(args) => reference(&args.model, &args.out),
    }
}

/// `ponder-train base`: S or L from scratch.
fn base(args: BaseArgs) -> anyhow::Result<()> {
    let size = args.size.name().to_string();
    let config = args.size.config();
    let s = Settings {
        batch: args.batch,
        seq_len: args.seq_len,
        steps: args.steps,
        lr: args.lr,
        warmup: 200,
        weight_decay: 0.1,
        clip: 1.0,
        checkpoint_every: 200,
        seed: args.seed,
        stop_at: args.stop_at,
    };
    let grow_from = args.grow_from;
    let out = args.out;
    let dir = args
        .checkpoints
        .unwrap_or_else(|| PathBuf::from("target/train").join(&size));

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
fn eval(args: SetArgs) -> anyhow::Result<()> {
    let (mut engine, set, which) = model_and_set(&args)?;
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
fn export(args: ExportArgs) -> anyhow::Result<()> {
    let (size, dir, out) = (args.size, args.checkpoint, args.out);
    let config = match size {
        ExportSize::Small => Config::small(),
        ExportSize::Large => Config::large(),
        ExportSize::Revision => ponder_train::recipe::revision_config(),
    };
    let mut vars = VarMap::new();
    let model = Model::new(config, &vars, &Device::Cpu)?;
    let weights = dir.join("model.safetensors");
    vars.load(&weights)
        .with_context(|| format!("cannot load the checkpoint {}", weights.display()))?;
    let step = std::fs::read_to_string(dir.join("step")).unwrap_or_default();
    let mut about = match size {
        ExportSize::Revision => About::revision(),
        ExportSize::Small => About::policy("small"),
        ExportSize::Large => About::policy("large"),
    };
    about.name = format!("{} (step {})", about.name, step.trim());
    let bytes = to_gguf(&model, &about, Precision::Q8_0, None)?;
    std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "wrote {} ({:.1} MB) from step {}",
        out.display(),
        bytes.len() as f64 / 1e6,
        step.trim()
    );
    Ok(())
}

/// What only one of the two fine-tunings takes.
enum Tuned {
    Revision {
        earlier: EarlierArg,
    },
    Prm {
        backbone: Option<PathBuf>,
        extra_layers: usize,
        likelihood: bool,
    },
}

/// `ponder-train revision|prm --from S.gguf --out FILE.gguf [options]`: the revision model
/// or the PRM, made from S by `ponder_train::recipe`.
fn fine_tune(which: &str, a: FineTuneArgs, tuned: Tuned) -> anyhow::Result<()> {
    use ponder_train::recipe::{process_reward_model, revision_model, Recipe};
    use ponder_train::revision::Earlier;
    let prm = matches!(tuned, Tuned::Prm { .. });
    let (earlier, backbone, extra_layers, likelihood) = match tuned {
        Tuned::Revision { earlier } => (earlier, None, 0, false),
        Tuned::Prm {
            backbone,
            extra_layers,
            likelihood,
        } => (EarlierArg::Wrong, backbone, extra_layers, likelihood),
    };
    let mut r = Recipe {
        problems_per_level: a.problems.unwrap_or(if prm { 200 } else { 400 }),
        samples: a.samples.unwrap_or(if prm { 4 } else { 8 }),
        rollouts: a.rollouts,
        temperature: a.temperature,
        keep_percent: a.keep,
        earlier: match earlier {
            EarlierArg::Wrong => Earlier::Wrong,
            EarlierArg::Sampled => Earlier::AsSampled,
        },
        extra_layers,
        likelihood,
        batch: a.batch,
        settings: Settings {
            batch: 16,
            seq_len: 0,
            steps: a.steps,
            lr: a.lr,
            warmup: 50,
            weight_decay: 0.1,
            clip: 1.0,
            checkpoint_every: 100,
            seed: a.seed,
            stop_at: a.stop_at,
        },
    };
    let (from, out) = (a.from, a.out);
    let dir = a
        .checkpoints
        .unwrap_or_else(|| PathBuf::from("target/train").join(which));
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
    let bytes = if prm {
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
fn report(args: ReportArgs) -> anyhow::Result<()> {
    let (models, out) = (args.models, args.out);
    let mut settings = ponder_train::report::ReportSettings::default();
    if let Some(n) = args.samples {
        settings.coverage_samples = usize::try_from(n).context("--samples is too large")?;
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
fn chains(args: ChainsArgs) -> anyhow::Result<()> {
    use ponder_train::report::{chain_rows, revision_chains, right_at, turned, ReportSettings};
    let mut settings = ReportSettings::default();
    if let Some(n) = args.chains {
        settings.revision_chains = usize::try_from(n).context("--chains is too large")?;
    }
    if let Some(n) = args.context {
        settings.revision_context = n;
    }
    let (mut engine, set, which) = model_and_set(&args.set)?;
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

/// The model's engine, the shipped set, and its name.
fn model_and_set(
    args: &SetArgs,
) -> anyhow::Result<(
    ponder_model::Engine,
    ponder_core::arithmetic::ProblemSet,
    &'static str,
)> {
    let which = args.set.name();
    let bytes = std::fs::read(&args.model)
        .with_context(|| format!("cannot read {}", args.model.display()))?;
    let engine = ponder_model::Engine::new(ponder_model::LanguageModel::from_gguf_bytes(&bytes)?);
    let set = ponder_core::arithmetic::shipped_sets()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .find(|s| s.name == which)
        .with_context(|| format!("no shipped set named {which}"))?;
    Ok((engine, set, which))
}

/// `ponder-train corpus --rows N [--first N] [--seq N] [--seed N] --out FILE`: training rows
/// for a trainer outside this crate, in `ponder_train::rows`'s format.
fn corpus(args: CorpusArgs) -> anyhow::Result<()> {
    let (rows, first, seq, seed, out) = (args.rows, args.first, args.seq, args.seed, args.out);
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
fn import(args: ImportArgs) -> anyhow::Result<()> {
    let (size, out, files, name) = (args.size, args.out, args.files, args.name);
    let config = size.config();
    let paths: Vec<&std::path::Path> = files.iter().map(std::path::Path::new).collect();
    let model = ponder_train::import::model_from_safetensors(config, &paths)?;
    let mut about = About::policy(size.name());
    if let Some(name) = name {
        about.name = name;
    }
    let bytes = to_gguf(&model, &about, Precision::Q8_0, None)?;
    std::fs::write(&out, &bytes).with_context(|| format!("writing {out}"))?;
    eprintln!("wrote {out} ({:.1} MB)", bytes.len() as f64 / 1e6);
    Ok(())
}

/// `ponder-train reference MODEL.gguf OUT.safetensors`: the model's weights (dequantized,
/// by variable name), two training rows (`check.tokens`) and this crate's logits for them
/// (`check.logits`), so an outside trainer can check that its forward computes the same.
fn reference(model_path: &str, out: &str) -> anyhow::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_subcommand_is_well_formed_and_has_help() {
        Cli::command().debug_assert();
        for sub in Cli::command().get_subcommands() {
            assert!(sub.get_about().is_some(), "{} has no help", sub.get_name());
        }
    }

    /// The commands that made the shipped files and rewrote their metadata, as
    /// `training.json` records them (and the README repeats), still parse.
    #[test]
    fn the_recorded_training_commands_parse() {
        let records: serde_json::Value =
            serde_json::from_str(include_str!("../../../public/models/training.json"))
                .expect("training.json");
        let commands: Vec<&str> = records
            .as_array()
            .expect("a list")
            .iter()
            .flat_map(|r| [&r["command"], &r["metadata_command"]])
            .filter_map(|c| c.as_str())
            .collect();
        assert!(commands.len() >= 4, "{commands:?}");
        for command in commands {
            Cli::try_parse_from(command.split_whitespace())
                .unwrap_or_else(|e| panic!("{command}: {e}"));
        }
        for bad in [
            "ponder-train base --size medium --out x.gguf",
            "ponder-train revision --from s.gguf --out r.gguf --keep 101",
            "ponder-train prm --from s.gguf --out p.gguf --earlier sampled",
        ] {
            assert!(
                Cli::try_parse_from(bad.split_whitespace()).is_err(),
                "{bad}"
            );
        }
    }
}
