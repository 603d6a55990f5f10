//! The recipes that turn S into the revision model and the PRM: sample S on training
//! problems, build the examples, fine-tune a copy of S on them, export.
//!
//! The examples are the slow part (every one is S's own sampling), so they are written to
//! the checkpoint folder once and reused when a training run resumes.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use candle_core::Device;
use candle_nn::VarMap;
use ponder_core::arithmetic::task::split_attempt;
use ponder_core::arithmetic::{ArithmeticTask, Level, Problem, TrainingGenerator};
use ponder_core::{DrawKey, Task};
use ponder_model::{Engine, LanguageModel};

use crate::attempts::{at_temperature, sample, Job};
use crate::export::{to_gguf, Precision, PrmHeadExport};
use crate::model::{Config, Model};
use crate::prm::{bce_loss, PrmExample, ValueHead};
use crate::revision::{examples_for, masked_loss, MaskedExample};
use crate::trainer::{train_with, Settings};

/// How much data to make and how to train on it.
#[derive(Clone, Debug)]
pub struct Recipe {
    /// Training problems per level.
    pub problems_per_level: u64,
    /// Attempts sampled from S per problem.
    pub samples: usize,
    /// Rollouts per step for the PRM's labels.
    pub rollouts: usize,
    pub temperature: f32,
    /// The reviser's share of examples (percent) that end on a right attempt and keep it
    /// (see [`crate::revision`]); 0 is the paper's recipe.
    pub keep_percent: u64,
    /// Identity blocks the PRM adds on top of its backbone's before training (0: the
    /// backbone as it is).
    pub extra_layers: usize,
    /// Examples per training step.
    pub batch: usize,
    pub settings: Settings,
}

/// The revision model's context: five attempts of the hardest level fit.
pub const REVISION_CONTEXT: usize = 1024;
/// Attempts stop after this many lines (the hardest level needs 8).
const MAX_LINES: usize = 16;
/// Sequences decoded together while sampling.
const SAMPLE_BATCH: usize = 64;

/// The training problems of one recipe (`stream` keeps the two recipes' problems apart
/// from each other and from S's own training stream).
fn problems(per_level: u64, stream: u64) -> anyhow::Result<Vec<Problem>> {
    let generator = TrainingGenerator::new(stream);
    let mut out = Vec::new();
    for level in Level::ALL {
        for i in 0..per_level {
            out.push(
                generator
                    .problem(level, i)
                    .map_err(|e| anyhow::anyhow!("generating a training problem: {e}"))?,
            );
        }
    }
    Ok(out)
}

fn bar(what: &str, started: Instant) -> impl FnMut(usize, usize) + '_ {
    move |done, total| {
        let elapsed = started.elapsed().as_secs_f64();
        let left = if done > 0 {
            elapsed / done as f64 * (total - done) as f64
        } else {
            0.0
        };
        eprint!(
            "\r{what}: {done}/{total} ({:>3}%)  {:.0} s elapsed, {:.0} s left   ",
            done * 100 / total.max(1),
            elapsed,
            left
        );
        let _ = std::io::stderr().flush();
    }
}

fn s_engine(s_model: &[u8]) -> anyhow::Result<Engine> {
    Ok(Engine::new(LanguageModel::from_gguf_bytes(s_model)?))
}

/// `seed`-keyed attempts at each problem, `samples` each, by S.
fn sample_problems(
    engine: &mut Engine,
    problems: &[Problem],
    recipe: &Recipe,
    what: &str,
) -> anyhow::Result<Vec<Vec<String>>> {
    let task = ArithmeticTask;
    let jobs: Vec<Job> = problems
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            (0..recipe.samples).map(move |s| Job {
                prompt: task.prompt(p),
                draw: DrawKey::new(recipe.settings.seed, &[1, i as u64, s as u64]),
            })
        })
        .collect();
    let started = Instant::now();
    let mut progress = bar(what, started);
    let total = jobs.len();
    let texts = sample(
        engine,
        &jobs,
        &at_temperature(recipe.temperature),
        SAMPLE_BATCH,
        MAX_LINES,
        &mut |done| progress(done, total),
    )?;
    eprintln!();
    Ok(texts
        .chunks(recipe.samples.max(1))
        .map(<[String]>::to_vec)
        .collect())
}

fn cached<T: serde::Serialize + serde::de::DeserializeOwned>(
    path: &Path,
    make: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    if let Ok(bytes) = std::fs::read(path) {
        if let Ok(value) = serde_json::from_slice(&bytes) {
            eprintln!("reusing the examples in {}", path.display());
            return Ok(value);
        }
    }
    let value = make()?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, serde_json::to_vec(&value)?)?;
    Ok(value)
}

/// Rows of step `step`: `batch` examples drawn by a hash of (seed, step, row).
fn pick<T>(examples: &[T], seed: u64, step: u64, batch: usize) -> Vec<&T> {
    (0..batch as u64)
        .map(|r| {
            let i = DrawKey::new(seed, &[step, r]).stream % examples.len() as u64;
            &examples[i as usize]
        })
        .collect()
}

fn train_progress(p: &crate::trainer::Progress) {
    eprint!(
        "\r[{:>3}%] step {}/{}  loss {:.4}  {:.0} tokens/s  {:.0} min left   ",
        p.step * 100 / p.steps.max(1),
        p.step,
        p.steps,
        p.loss,
        p.tokens_per_second,
        p.seconds_left / 60.0
    );
    let _ = std::io::stderr().flush();
}

/// Builds R: S fine-tuned on revision examples. Returns the GGUF bytes, or `None` when
/// `stop_at` paused the run.
pub fn revision_model(
    s_model: &[u8],
    recipe: &Recipe,
    dir: &Path,
) -> anyhow::Result<Option<Vec<u8>>> {
    let examples: Vec<MaskedExample> = cached(&dir.join("examples.json"), || {
        let problems = problems(recipe.problems_per_level, 2)?;
        let mut engine = s_engine(s_model)?;
        let samples = sample_problems(&mut engine, &problems, recipe, "sampling S")?;
        let mut out = Vec::new();
        for (i, (p, s)) in problems.iter().zip(&samples).enumerate() {
            let mut n = 0u64;
            let mut draw = || {
                n += 1;
                DrawKey::new(recipe.settings.seed, &[2, i as u64, n]).stream
            };
            out.extend(examples_for(
                p,
                s,
                4,
                REVISION_CONTEXT,
                recipe.keep_percent,
                &mut draw,
            ));
        }
        Ok(out)
    })?;
    anyhow::ensure!(
        !examples.is_empty(),
        "S solved none of the training problems, so there is nothing to revise towards"
    );
    let earlier = |e: &MaskedExample| {
        vocab_text(&e.tokens[..e.target_from])
            .matches("Attempt ")
            .count()
    };
    let mut by_k = [0usize; 5];
    for e in &examples {
        by_k[earlier(e).saturating_sub(1).min(4)] += 1;
    }
    eprintln!(
        "{} revision examples; by earlier attempts in context 0..4: {by_k:?}",
        examples.len()
    );
    let config = Config {
        context: REVISION_CONTEXT,
        ..Config::small()
    };
    let vars = VarMap::new();
    let model = Model::new(config, &vars, &Device::Cpu)?;
    model.load_gguf(s_model)?;
    let seed = recipe.settings.seed;
    train_with(
        &model.vars(),
        &vars,
        &recipe.settings,
        dir,
        &mut |step| masked_loss(&model, &pick(&examples, seed, step, recipe.batch)),
        &mut train_progress,
    )?;
    eprintln!();
    if recipe
        .settings
        .stop_at
        .is_some_and(|s| s < recipe.settings.steps)
    {
        return Ok(None);
    }
    Ok(Some(to_gguf(&model, "Ponder R", Precision::Q8_0, None)?))
}

fn vocab_text(ids: &[u32]) -> String {
    crate::vocab::decode(ids)
}

/// Monte-Carlo labels for S's attempts at `problems`: each step's fraction of `rollouts`
/// continuations that reach the right answer; the answer line's label is its correctness.
pub fn monte_carlo_examples(
    engine: &mut Engine,
    problems: &[Problem],
    recipe: &Recipe,
) -> anyhow::Result<Vec<PrmExample>> {
    let task = ArithmeticTask;
    let samples = sample_problems(engine, problems, recipe, "sampling S")?;
    // (problem, steps, answer line) of every attempt, and a rollout job per step prefix.
    struct Pending {
        problem: usize,
        steps: Vec<String>,
        answer_line: Option<String>,
    }
    let mut pending = Vec::new();
    let mut jobs = Vec::new();
    let context = engine.context_length();
    for (i, (p, attempts)) in problems.iter().zip(&samples).enumerate() {
        for attempt in attempts {
            let (steps, answer) = split_attempt(attempt);
            let mut steps: Vec<String> = steps.iter().map(|s| s.to_string()).collect();
            let mut answer = answer;
            let mut prefix = task.prompt(p);
            let mut fits = steps.len();
            for (k, step) in steps.iter().enumerate() {
                prefix.push_str(step);
                prefix.push('\n');
                // A prefix that leaves no room for another step cannot be rolled out: the
                // attempt is labelled up to the step before (an attempt that long ran
                // into the context without an answer anyway).
                if engine.count_tokens(&prefix) + task.stop().max_tokens > context {
                    fits = k;
                    break;
                }
                for r in 0..recipe.rollouts {
                    jobs.push(Job {
                        prompt: prefix.clone(),
                        draw: DrawKey::new(
                            recipe.settings.seed,
                            &[3, pending.len() as u64, k as u64, r as u64],
                        ),
                    });
                }
            }
            if fits < steps.len() {
                steps.truncate(fits);
                answer = None;
            }
            pending.push(Pending {
                problem: i,
                steps,
                answer_line: answer.map(str::to_string),
            });
        }
    }
    let started = Instant::now();
    let mut progress = bar("rolling out", started);
    let total = jobs.len();
    let rollouts = sample(
        engine,
        &jobs,
        &at_temperature(recipe.temperature),
        SAMPLE_BATCH,
        MAX_LINES,
        &mut |done| progress(done, total),
    )?;
    eprintln!();
    let mut next = rollouts.chunks(recipe.rollouts.max(1));
    let mut out = Vec::with_capacity(pending.len());
    for a in pending {
        let p = &problems[a.problem];
        let truth = Some(p.answer().to_string());
        let mut labels = Vec::new();
        for _ in &a.steps {
            let group = next.next().unwrap_or(&[]);
            let right = group
                .iter()
                .filter(|r| task.extract_answer(r) == truth)
                .count();
            labels.push(right as f32 / group.len().max(1) as f32);
        }
        let mut lines: Vec<&str> = a.steps.iter().map(String::as_str).collect();
        if let Some(line) = &a.answer_line {
            lines.push(line);
            let right = task.extract_answer(line) == truth;
            labels.push(if right { 1.0 } else { 0.0 });
        }
        if !lines.is_empty() {
            out.push(PrmExample::new(&task.question(p), &lines, labels));
        }
    }
    Ok(out)
}

/// Builds the PRM: a copy of a backbone (S's, or L's where S cannot check its own
/// arithmetic) with a value head, trained on Monte-Carlo labels of S's attempts. Returns
/// the GGUF bytes, or `None` when `stop_at` paused the run.
pub fn process_reward_model(
    s_model: &[u8],
    backbone: &[u8],
    recipe: &Recipe,
    dir: &Path,
) -> anyhow::Result<Option<Vec<u8>>> {
    let examples: Vec<PrmExample> = cached(&dir.join("examples.json"), || {
        let problems = problems(recipe.problems_per_level, 3)?;
        let mut engine = s_engine(s_model)?;
        monte_carlo_examples(&mut engine, &problems, recipe)
    })?;
    anyhow::ensure!(!examples.is_empty(), "no labelled attempts to train on");
    let steps: Vec<f32> = examples.iter().flat_map(|e| e.labels.clone()).collect();
    eprintln!(
        "{} labelled attempts, {} steps, mean label {:.3}",
        examples.len(),
        steps.len(),
        steps.iter().sum::<f32>() / steps.len().max(1) as f32
    );
    let vars = VarMap::new();
    let base = Config::of_gguf(backbone)?;
    let config = Config {
        layers: base.layers + recipe.extra_layers,
        ..base
    };
    let model = Model::new(config, &vars, &Device::Cpu)?;
    model.deepen_from_gguf(base, backbone)?;
    let head = ValueHead::new(model.config.hidden, &vars)?;
    let mut params = model.vars();
    params.push(&head.weight);
    params.push(&head.bias);
    let seed = recipe.settings.seed;
    train_with(
        &params,
        &vars,
        &recipe.settings,
        dir,
        &mut |step| bce_loss(&model, &head, &pick(&examples, seed, step, recipe.batch)),
        &mut train_progress,
    )?;
    eprintln!();
    if recipe
        .settings
        .stop_at
        .is_some_and(|s| s < recipe.settings.steps)
    {
        return Ok(None);
    }
    let export = PrmHeadExport {
        weight: head.weight.as_tensor().flatten_all()?,
        bias: head
            .bias
            .as_tensor()
            .flatten_all()?
            .to_vec1::<f32>()?
            .first()
            .copied()
            .unwrap_or(0.0),
    };
    Ok(Some(to_gguf(
        &model,
        "Ponder PRM",
        Precision::Q8_0,
        Some(&export),
    )?))
}
