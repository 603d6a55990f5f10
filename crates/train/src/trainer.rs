//! The training loop: next-token cross-entropy, AdamW with decoupled weight decay, linear
//! warm-up then cosine decay, gradient clipping, and checkpoints that resume exactly.
//!
//! AdamW is written here (not candle-nn's) because its moments must be saved with the
//! weights: a resumed run then takes exactly the steps an uninterrupted one would have.
//! A checkpoint is three files in one folder: `model.safetensors` (weights by name),
//! `adam.safetensors` (both moments per weight) and `step` (the next step number), with
//! `seconds` and `tokens` beside them (training time and tokens read so far, padding
//! included, for the report). A save is a two-phase commit: every file is written and
//! synced under a temporary name, then a `ready` marker says the set is complete, then the
//! files are renamed into place and the marker removed. A save interrupted before the
//! marker leaves the previous checkpoint as it was (its temporary files are discarded on
//! resume); one interrupted after it is finished on resume. Either way weights, moments and
//! step always come from the same step.

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
            let totals = Totals {
                seconds: earlier_seconds + started.elapsed().as_secs_f64(),
                tokens: earlier_tokens + tokens_seen as u64,
            };
            save(vars, &names, &adam, step, totals, dir)?;
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
    recover(dir)?;
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

/// Ties a checkpoint folder to the command that fills it. The first run writes
/// `made-by` (the settings and the digests of the input files that decide what the folder
/// holds, `--stop-at` aside); a later run that would differ is refused, where it would
/// otherwise resume another command's weights or reuse its examples without a word.
pub fn claim_folder(dir: &Path, made_by: &str) -> anyhow::Result<()> {
    let path = dir.join("made-by");
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing == made_by => Ok(()),
        Ok(existing) => anyhow::bail!(
            "{} holds the work of another command:\n  that one: {existing}\n  this one: \
             {made_by}\nDelete the folder to start over, or give this command its own \
             --checkpoints DIR",
            dir.display()
        ),
        Err(_) => {
            std::fs::create_dir_all(dir)?;
            std::fs::write(&path, made_by)?;
            Ok(())
        }
    }
}

/// A digest of an input file for [`claim_folder`]: it tells files apart.
pub fn digest(bytes: &[u8]) -> String {
    format!("{:016x}", ponder_core::draw::fnv1a(bytes.iter().copied()))
}

/// Training time and tokens read so far, saved with each checkpoint.
struct Totals {
    seconds: f64,
    tokens: u64,
}

/// The files of a checkpoint, each written as `NAME.tmp` first.
const CHECKPOINT_FILES: [&str; 5] = [
    "model.safetensors",
    "adam.safetensors",
    "step",
    "seconds",
    "tokens",
];
/// Present while a complete set of `.tmp` files waits to be renamed into place.
const READY: &str = "ready";

fn save(
    vars: &VarMap,
    names: &[String],
    adam: &Adam,
    step: u64,
    totals: Totals,
    dir: &Path,
) -> anyhow::Result<()> {
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
    std::fs::write(tmp("seconds"), format!("{:.0}", totals.seconds))?;
    std::fs::write(tmp("tokens"), totals.tokens.to_string())?;
    for name in CHECKPOINT_FILES {
        std::fs::File::open(tmp(name))?.sync_all()?;
    }
    // The commit point: from here on the new set is complete and wins.
    std::fs::write(tmp(READY), "")?;
    std::fs::File::open(tmp(READY))?.sync_all()?;
    std::fs::rename(tmp(READY), dir.join(READY))?;
    finish_commit(dir)
}

/// Renames a committed set of `.tmp` files into place and removes the marker.
fn finish_commit(dir: &Path) -> anyhow::Result<()> {
    for name in CHECKPOINT_FILES {
        let from = dir.join(format!("{name}.tmp"));
        if from.is_file() {
            std::fs::rename(&from, dir.join(name))?;
        }
    }
    std::fs::remove_file(dir.join(READY))?;
    Ok(())
}

/// Brings a checkpoint folder whose last save was interrupted to a consistent state: a
/// committed save is finished, an uncommitted one discarded.
fn recover(dir: &Path) -> anyhow::Result<()> {
    if dir.join(READY).is_file() {
        return finish_commit(dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot finish the interrupted save in {}: {e} (delete the folder to start over)",
                dir.display()
            )
        });
    }
    for name in CHECKPOINT_FILES.iter().chain(&[READY]) {
        let partial = dir.join(format!("{name}.tmp"));
        if partial.is_file() {
            std::fs::remove_file(&partial)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder holding a checkpoint of step 5 and a save of step 7 cut short after its
    /// `.tmp` files (and, with `committed`, its marker) were written.
    fn interrupted(committed: bool) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("ponder-ckpt-{}-{committed}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        for name in CHECKPOINT_FILES {
            std::fs::write(dir.join(name), "5").expect("old file");
        }
        // Cut after the first rename: the new weights are in place, the rest is not.
        for name in &CHECKPOINT_FILES[1..] {
            std::fs::write(dir.join(format!("{name}.tmp")), "7").expect("new file");
        }
        std::fs::write(dir.join("model.safetensors"), "7").expect("renamed");
        if committed {
            std::fs::write(dir.join(READY), "").expect("marker");
        }
        dir
    }

    fn read(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name)).expect("file")
    }

    #[test]
    fn a_folder_serves_only_the_command_that_made_it() {
        let dir = std::env::temp_dir().join(format!("ponder-claim-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        claim_folder(&dir, "prm steps 300; S 01").expect("first claim");
        claim_folder(&dir, "prm steps 300; S 01").expect("the same command resumes");
        let err = claim_folder(&dir, "prm steps 600; S 01")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("another command") && err.contains("steps 600"),
            "{err}"
        );
        assert_ne!(digest(b"a"), digest(b"b"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_committed_save_is_finished_on_resume() {
        let dir = interrupted(true);
        recover(&dir).expect("recovers");
        for name in CHECKPOINT_FILES {
            assert_eq!(read(&dir, name), "7", "{name}");
        }
        assert!(!dir.join(READY).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_uncommitted_save_is_discarded_on_resume() {
        // Before the marker no file is renamed, so the old set is whole.
        let dir = interrupted(false);
        std::fs::write(dir.join("model.safetensors"), "5").expect("old weights");
        recover(&dir).expect("recovers");
        for name in CHECKPOINT_FILES {
            assert_eq!(read(&dir, name), "5", "{name}");
            assert!(!dir.join(format!("{name}.tmp")).exists(), "{name}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
