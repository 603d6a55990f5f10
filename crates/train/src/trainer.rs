//! The training loop: next-token cross-entropy, AdamW with decoupled weight decay, linear
//! warm-up then cosine decay, gradient clipping, and checkpoints that resume exactly.
//!
//! AdamW is written here (not candle-nn's) because its moments must be saved with the
//! weights: a resumed run then takes exactly the steps an uninterrupted one would have.
//! A checkpoint is three files in one folder: `model.safetensors` (weights by name),
//! `adam.safetensors` (both moments per weight) and `step` (the next step number), with
//! `seconds` and `tokens` beside them (training time and tokens read so far, padding
//! included, for the report); they
//! are written to temporary names and renamed, so an interrupted save leaves the previous
//! checkpoint intact.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use candle_core::{Device, Tensor, Var};
use candle_nn::VarMap;
use ponder_core::progress;

use crate::data::Corpus;
use crate::model::Model;

#[derive(Clone, Debug)]
pub struct Settings {
    pub batch: usize,
    /// Tokens per row (at most the model's context).
    pub seq_len: usize,
    pub steps: u64,
    pub lr: f64,
    pub warmup: u64,
    pub weight_decay: f64,
    pub clip: f64,
    pub checkpoint_every: u64,
    pub seed: u64,
    /// Stop (with a checkpoint) after this step, though the schedule runs to `steps`: a
    /// pause that a later run with the same settings resumes.
    pub stop_at: Option<u64>,
}

/// What the loop reports after each step.
pub struct Progress {
    pub step: u64,
    pub steps: u64,
    pub loss: f32,
    pub tokens_per_second: f64,
    pub seconds_left: f64,
}

/// The learning rate at `step`: linear warm-up, then cosine decay to a tenth.
pub fn learning_rate(s: &Settings, step: u64) -> f64 {
    if step < s.warmup {
        return s.lr * (step + 1) as f64 / s.warmup as f64;
    }
    let progress = (step - s.warmup) as f64 / (s.steps.saturating_sub(s.warmup)).max(1) as f64;
    let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos());
    s.lr * (0.1 + 0.9 * cosine)
}

struct Adam {
    m: Vec<Tensor>,
    v: Vec<Tensor>,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.95;
const EPS: f64 = 1e-8;

/// Trains `model` (whose variables are in `vars`) on next-token prediction over `corpus`,
/// from the checkpoint in `dir` if there is one, saving checkpoints there. Returns the
/// losses of the steps it ran.
pub fn train(
    model: &Model,
    vars: &VarMap,
    corpus: &Corpus,
    settings: &Settings,
    dir: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> anyhow::Result<Vec<f32>> {
    anyhow::ensure!(
        settings.seq_len <= model.config.context,
        "rows of {} tokens exceed the model's context of {}",
        settings.seq_len,
        model.config.context
    );
    let tokens_per_step = settings.batch * settings.seq_len;
    train_with(
        &model.vars(),
        vars,
        settings,
        dir,
        &mut |step| {
            let (inputs, targets) = batch(corpus, settings, step, &Device::Cpu)?;
            let logits = model.forward(&inputs)?;
            let (b, t, v) = logits.dims3()?;
            Ok((
                candle_nn::loss::cross_entropy(
                    &logits.reshape((b * t, v))?,
                    &targets.flatten_all()?,
                )?,
                tokens_per_step,
            ))
        },
        progress,
    )
}

/// The loop itself, for any loss: `loss(step)` returns the step's scalar loss and how many
/// tokens it read (for the progress line). Optimises `params`, which must all be in `vars`
/// (checkpoints save and resume them by name).
pub fn train_with(
    params: &[&Var],
    vars: &VarMap,
    settings: &Settings,
    dir: &Path,
    loss: &mut dyn FnMut(u64) -> anyhow::Result<(Tensor, usize)>,
    progress: &mut dyn FnMut(&Progress),
) -> anyhow::Result<Vec<f32>> {
    let device = Device::Cpu;
    let names = names_of(vars, params)?;
    let (mut step, mut adam) = resume(vars, params, &names, dir, &device)?;
    let mut losses = Vec::new();
    let started = Instant::now();
    let first_step = step;
    let mut tokens_seen = 0usize;
    // Wall-clock training time over every run that built this checkpoint, for the report.
    let earlier_seconds: f64 = std::fs::read_to_string(dir.join("seconds"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0.0);
    let earlier_tokens: u64 = std::fs::read_to_string(dir.join("tokens"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let end = settings
        .stop_at
        .map_or(settings.steps, |s| s.min(settings.steps));
    while step < end {
        let (loss, tokens) = loss(step)?;
        tokens_seen += tokens;
        let grads = loss.backward()?;

        // Global gradient norm, for clipping.
        let mut norm2 = 0f64;
        let mut gs = Vec::with_capacity(params.len());
        for p in params {
            let g = grads
                .get(p.as_tensor())
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("a parameter received no gradient"))?;
            norm2 += f64::from(g.sqr()?.sum_all()?.to_scalar::<f32>()?);
            gs.push(g);
        }
        let clip = if norm2.sqrt() > settings.clip {
            settings.clip / norm2.sqrt()
        } else {
            1.0
        };
        let lr = learning_rate(settings, step);
        let t_adam = (step + 1) as i32;
        for (i, (p, g)) in params.iter().zip(gs).enumerate() {
            let g = (g * clip)?;
            // Detached, so no step's graph outlives it through the moments.
            let g = g.detach();
            adam.m[i] = ((&adam.m[i] * BETA1)? + (&g * (1.0 - BETA1))?)?.detach();
            adam.v[i] = ((&adam.v[i] * BETA2)? + (g.sqr()? * (1.0 - BETA2))?)?.detach();
            let m_hat = (&adam.m[i] / (1.0 - BETA1.powi(t_adam)))?;
            let v_hat = (&adam.v[i] / (1.0 - BETA2.powi(t_adam)))?;
            let update = (m_hat / (v_hat.sqrt()? + EPS)?)?;
            // Decoupled weight decay on matrices only; norms' gains are left alone.
            let decay = if p.as_tensor().rank() > 1 {
                settings.weight_decay
            } else {
                0.0
            };
            let w = p.as_tensor();
            let next = ((w * (1.0 - lr * decay))? - (update * lr)?)?;
            p.set(&next)?;
        }

        let loss_value = loss.to_scalar::<f32>()?;
        losses.push(loss_value);
        step += 1;
        if step % settings.checkpoint_every == 0 || step == end {
            save(vars, &names, &adam, step, dir)?;
            std::fs::write(
                dir.join("seconds"),
                format!("{:.0}", earlier_seconds + started.elapsed().as_secs_f64()),
            )?;
            std::fs::write(
                dir.join("tokens"),
                (earlier_tokens + tokens_seen as u64).to_string(),
            )?;
        }
        let elapsed = started.elapsed().as_secs_f64();
        progress(&Progress {
            step,
            steps: settings.steps,
            loss: loss_value,
            tokens_per_second: tokens_seen as f64 / elapsed,
            // At least this step is done, so there is a rate.
            seconds_left: progress::time_left(
                elapsed,
                step - first_step,
                settings.steps - first_step,
            )
            .unwrap_or_default(),
        });
    }
    Ok(losses)
}

/// Inputs and next-token targets `[batch, seq_len]` for `step`.
fn batch(
    corpus: &Corpus,
    s: &Settings,
    step: u64,
    device: &Device,
) -> candle_core::Result<(Tensor, Tensor)> {
    let mut inputs = Vec::with_capacity(s.batch * s.seq_len);
    let mut targets = Vec::with_capacity(s.batch * s.seq_len);
    for r in 0..s.batch as u64 {
        let row = corpus.row(step, r, s.seq_len);
        inputs.extend_from_slice(&row[..s.seq_len]);
        targets.extend_from_slice(&row[1..]);
    }
    Ok((
        Tensor::from_vec(inputs, (s.batch, s.seq_len), device)?,
        Tensor::from_vec(targets, (s.batch, s.seq_len), device)?,
    ))
}

fn names_of(vars: &VarMap, params: &[&Var]) -> anyhow::Result<Vec<String>> {
    let data = vars
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("the variable map's lock is poisoned"))?;
    params
        .iter()
        .map(|p| {
            data.iter()
                .find(|(_, v)| v.as_tensor().id() == p.as_tensor().id())
                .map(|(k, _)| k.clone())
                .ok_or_else(|| anyhow::anyhow!("a parameter is missing from the variable map"))
        })
        .collect()
}

fn resume(
    vars: &VarMap,
    params: &[&Var],
    names: &[String],
    dir: &Path,
    device: &Device,
) -> anyhow::Result<(u64, Adam)> {
    let zeros = || -> candle_core::Result<Adam> {
        Ok(Adam {
            m: params
                .iter()
                .map(|p| p.as_tensor().zeros_like())
                .collect::<candle_core::Result<_>>()?,
            v: params
                .iter()
                .map(|p| p.as_tensor().zeros_like())
                .collect::<candle_core::Result<_>>()?,
        })
    };
    let step_file = dir.join("step");
    if !step_file.is_file() {
        return Ok((0, zeros()?));
    }
    let step: u64 = std::fs::read_to_string(&step_file)?
        .trim()
        .parse()
        .map_err(|_| {
            anyhow::anyhow!(
                "{} is not a step number; delete the folder to start over",
                step_file.display()
            )
        })?;
    let mut vars = vars.clone();
    vars.load(dir.join("model.safetensors")).map_err(|e| {
        anyhow::anyhow!(
            "cannot resume from {}: {e} (delete the folder to start over)",
            dir.display()
        )
    })?;
    let moments: HashMap<String, Tensor> =
        candle_core::safetensors::load(dir.join("adam.safetensors"), device)?;
    let mut adam = zeros()?;
    for (i, name) in names.iter().enumerate() {
        let (Some(m), Some(v)) = (
            moments.get(&format!("m.{name}")),
            moments.get(&format!("v.{name}")),
        ) else {
            anyhow::bail!(
                "the checkpoint in {} lacks optimizer state for {name}",
                dir.display()
            );
        };
        adam.m[i] = m.clone();
        adam.v[i] = v.clone();
    }
    Ok((step, adam))
}

fn save(vars: &VarMap, names: &[String], adam: &Adam, step: u64, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = |name: &str| dir.join(format!("{name}.tmp"));
    vars.save(tmp("model.safetensors"))?;
    let mut moments = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        moments.insert(format!("m.{name}"), adam.m[i].clone());
        moments.insert(format!("v.{name}"), adam.v[i].clone());
    }
    candle_core::safetensors::save(&moments, tmp("adam.safetensors"))?;
    std::fs::write(tmp("step"), step.to_string())?;
    // The step file is renamed last: a checkpoint counts only once all of it is in place.
    std::fs::rename(tmp("model.safetensors"), dir.join("model.safetensors"))?;
    std::fs::rename(tmp("adam.safetensors"), dir.join("adam.safetensors"))?;
    std::fs::rename(tmp("step"), dir.join("step"))?;
    Ok(())
}
