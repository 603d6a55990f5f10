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
use ponder_core::arithmetic::task::{split_attempt, PROBLEM_PREFIX};
use ponder_core::arithmetic::{ArithmeticTask, Level, Problem, TrainingGenerator};
use ponder_core::{progress, DrawKey, Task};
use ponder_model::prm::QUESTION;
use ponder_model::sampler::draw_bits;
use ponder_model::{Engine, LanguageModel};

use crate::attempts::{at_temperature, sample, Job};
use crate::export::{to_gguf, About, Precision};
use crate::model::{Config, Model};
use crate::prm::{bce_loss, joint_loss, LikelihoodHead, PrmExample, StepFeatures, ValueHead};
use crate::revision::{examples_for, masked_loss, Earlier, MaskedExample};
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
    /// Which of S's samples the reviser's examples show as earlier attempts.
    pub earlier: Earlier,
    /// Identity blocks the PRM adds on top of its backbone's before training (0: the
    /// backbone as it is).
    pub extra_layers: usize,
    /// The PRM keeps its backbone frozen, reads the policy's own prompt and weighs how
    /// surprising each attempt is to that backbone (see [`likelihood_prm`]).
    pub likelihood: bool,
    /// Examples per training step.
    pub batch: usize,
    pub settings: Settings,
}

impl Recipe {
    /// Whether `stop_at` paused the run before the end of its schedule.
    fn paused(&self) -> bool {
        self.settings
            .stop_at
            .is_some_and(|s| s < self.settings.steps)
    }
}

/// The revision model's context: five attempts of the hardest level fit.
pub const REVISION_CONTEXT: usize = 1024;

/// R's shape: S's, with [`REVISION_CONTEXT`] for its earlier attempts.
pub fn revision_config() -> Config {
    Config {
        context: REVISION_CONTEXT,
        ..Config::small()
    }
}
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
        eprint!(
            "\r{what}: {done}/{total} ({:>3}%)  {}   ",
            done * 100 / total.max(1),
            progress::timing(started.elapsed().as_secs_f64(), done as u64, total as u64)
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

/// Rows of step `step`: `batch` examples drawn with replacement by the sampler's mixed
/// bits of (seed, step, row), so `--seed` changes them and rows of one step are
/// independent. (A bare FNV-1a stream here once reached 3,878 of 5,516 examples in
/// 12,800 picks where independent draws reach about 4,974.)
fn pick<T>(examples: &[T], seed: u64, step: u64, batch: usize) -> Vec<&T> {
    (0..batch as u64)
        .map(|r| {
            let i = draw_bits(seed, step, r) % examples.len() as u64;
            &examples[i as usize]
        })
        .collect()
}

/// The draws that lay out problem `problem`'s revision examples: draw `n` is the mixed
/// bits of (seed, the problem's stream, n). Callers take them modulo small counts, so
/// every low bit must depend on the seed and on `n`.
fn revision_draws(seed: u64, problem: u64) -> impl FnMut() -> u64 {
    let stream = DrawKey::new(seed, &[2, problem]).stream;
    let mut n = 0u64;
    move || {
        n += 1;
        draw_bits(seed, stream, n)
    }
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
            let mut draw = revision_draws(recipe.settings.seed, i as u64);
            out.extend(examples_for(
                p,
                s,
                4,
                REVISION_CONTEXT,
                recipe.earlier,
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
    let vars = VarMap::new();
    let model = Model::new(revision_config(), &vars, &Device::Cpu)?;
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
    if recipe.paused() {
        return Ok(None);
    }
    Ok(Some(to_gguf(
        &model,
        &About::revision(),
        Precision::Q8_0,
        None,
    )?))
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
    if recipe.likelihood {
        return likelihood_prm(backbone, &examples, recipe, dir);
    }
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
    if recipe.paused() {
        return Ok(None);
    }
    Ok(Some(to_gguf(
        &model,
        &About::prm(),
        Precision::Q8_0,
        Some(&head.export(None)?),
    )?))
}

/// How long the likelihood head is fitted on the frozen backbone before anything else
/// trains: a convex problem on features computed once, so a fixed schedule does.
const HEAD_FIT: Settings = Settings {
    batch: 0,
    seq_len: 0,
    steps: 1000,
    lr: 1e-2,
    warmup: 50,
    weight_decay: 0.0,
    clip: 1.0,
    checkpoint_every: 500,
    seed: 1,
    stop_at: None,
};

/// The next-token loss's weight beside the BCE while the backbone fine-tunes.
const LM_WEIGHT: f64 = 1.0;

/// The PRM for `--likelihood`: a copy of its backbone (S's: the policy whose rollouts made
/// the labels) that reads S's own prompt, with a head that weighs two things at each
/// step's newline: the backbone's hidden state, and how surprising the attempt so far is
/// to the backbone's language model (its lowest, mean and summed token log-probabilities).
/// A slip that sinks an attempt is, more often than not, a token S itself found unlikely;
/// a head on the newline's hidden state alone cannot see it, and fine-tuning the backbone
/// for BCE alone unlearns the language model that could.
///
/// Two stages. First the head alone is fitted on the frozen backbone (features computed
/// once, every step sees every label; checkpoints in `dir/head`). Then, for
/// `settings.steps` steps, backbone and head train together on the BCE plus the
/// next-token loss on S's attempts ([`crate::prm::joint_loss`]); with 0 steps the
/// backbone stays S's exactly.
fn likelihood_prm(
    backbone: &[u8],
    examples: &[PrmExample],
    recipe: &Recipe,
    dir: &Path,
) -> anyhow::Result<Option<Vec<u8>>> {
    anyhow::ensure!(
        recipe.extra_layers == 0,
        "--likelihood fits its head on the backbone as it is, so it takes no --extra-layers"
    );
    let template = format!("{PROBLEM_PREFIX}{QUESTION}");
    let laid_out: Vec<PrmExample> = examples
        .iter()
        .map(|e| e.with_question_template(&template))
        .collect();
    let vars = VarMap::new();
    let model = Model::new(Config::of_gguf(backbone)?, &vars, &Device::Cpu)?;
    model.load_gguf(backbone)?;
    let head = LikelihoodHead::new(model.config.hidden, &vars)?;
    let head_params = [&head.value.weight, &head.value.bias, &head.likelihood];

    let head_dir = dir.join("head");
    std::fs::create_dir_all(&head_dir)?;
    let head_vars = VarMap::new();
    let fitted = LikelihoodHead::new(model.config.hidden, &head_vars)?;
    let started = Instant::now();
    let features = StepFeatures::of(&model, &laid_out, &mut bar("reading steps", started))?;
    eprintln!();
    // No tokens pass through the frozen backbone while the head is fitted.
    train_with(
        &[&fitted.value.weight, &fitted.value.bias, &fitted.likelihood],
        &head_vars,
        &HEAD_FIT,
        &head_dir,
        &mut |_| Ok((fitted.bce_loss(&features)?, 0)),
        &mut |p| {
            eprint!(
                "\rfitting the head: step {}/{}  loss {:.4}   ",
                p.step, p.steps, p.loss
            );
            let _ = std::io::stderr().flush();
        },
    )?;
    eprintln!();
    for (to, from) in
        head_params
            .iter()
            .zip([&fitted.value.weight, &fitted.value.bias, &fitted.likelihood])
    {
        to.set(from.as_tensor())?;
    }

    if recipe.settings.steps > 0 {
        let mut params = model.vars();
        params.extend(head_params);
        let seed = recipe.settings.seed;
        train_with(
            &params,
            &vars,
            &recipe.settings,
            dir,
            &mut |step| {
                joint_loss(
                    &model,
                    &head,
                    &pick(&laid_out, seed, step, recipe.batch),
                    LM_WEIGHT,
                )
            },
            &mut train_progress,
        )?;
        eprintln!();
        if recipe.paused() {
            return Ok(None);
        }
    }
    let likelihood: Vec<f32> = head.likelihood.as_tensor().flatten_all()?.to_vec1()?;
    let weights = [likelihood[0], likelihood[1], likelihood[2]];
    Ok(Some(to_gguf(
        &model,
        &About::prm(),
        Precision::Q8_0,
        Some(&head.value.export(Some((weights, template)))?),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_picks_cover_the_examples_as_independent_draws_do() {
        // R's shipped shape: 1000 steps of 16 rows over 6,263 examples. Independent
        // uniform draws reach 6263·(1 − (1 − 1/6263)^16000) ≈ 5,776 distinct examples,
        // with a standard deviation near 19; 100 is five of them.
        let examples: Vec<usize> = (0..6263).collect();
        let mut seen = vec![false; examples.len()];
        for step in 0..1000 {
            for &&i in &pick(&examples, 1, step, 16) {
                seen[i] = true;
            }
        }
        let reached = seen.iter().filter(|&&s| s).count();
        assert!((5676..=5876).contains(&reached), "reached {reached}");
    }

    #[test]
    fn the_seed_changes_batch_picks_and_revision_draws() {
        let examples: Vec<usize> = (0..1000).collect();
        let a: Vec<usize> = pick(&examples, 1, 7, 16).into_iter().copied().collect();
        let b: Vec<usize> = pick(&examples, 2, 7, 16).into_iter().copied().collect();
        assert_eq!(
            a,
            pick(&examples, 1, 7, 16)
                .into_iter()
                .copied()
                .collect::<Vec<_>>()
        );
        assert_ne!(a, b);
        let (mut x, mut y) = (revision_draws(1, 3), revision_draws(2, 3));
        let x: Vec<u64> = (0..4).map(|_| x()).collect();
        let y: Vec<u64> = (0..4).map(|_| y()).collect();
        assert_ne!(x, y);
    }

    #[test]
    fn revision_draws_are_uniform_in_their_low_digits() {
        // The count of earlier attempts is `draw() % 5`; over 5,000 problems each of
        // the five values is expected 1,000 times (standard deviation about 28), and
        // so is each pair of the first two draws' values 200 times (about 14).
        let mut first = [0usize; 5];
        let mut pairs = [[0usize; 5]; 5];
        for problem in 0..5000 {
            let mut draw = revision_draws(1, problem);
            let (a, b) = ((draw() % 5) as usize, (draw() % 5) as usize);
            first[a] += 1;
            pairs[a][b] += 1;
        }
        assert!(
            first.iter().all(|&c| (860..=1140).contains(&c)),
            "{first:?}"
        );
        assert!(
            pairs.iter().flatten().all(|&c| (130..=270).contains(&c)),
            "{pairs:?}"
        );
    }
}
