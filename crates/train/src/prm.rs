//! The process reward model's data and loss (paper-notes §1.3): Monte-Carlo step labels
//! from S, and a value head trained with binary cross-entropy on them.
//!
//! The soft label of a step is the fraction of S's rollouts from the solution so far (that
//! step included) that reach the right answer; the answer line's label is whether the
//! stated answer is right. The PRM reads what the runtime's verifier feeds it (see
//! `ponder_model::Engine`'s `score`): the bare question and a newline, then each step
//! line with its newline, scored at that newline by `sigmoid(w · hidden + b)`.

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{Init, VarMap};

use ponder_model::prm::{Surprise, QUESTION};

use crate::export::PrmHeadExport;
use crate::model::Model;
use crate::vocab;

/// One labelled solution.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrmExample {
    pub tokens: Vec<u32>,
    /// The position of each step's closing newline.
    pub positions: Vec<usize>,
    /// Each step's target in [0, 1].
    pub labels: Vec<f32>,
}

impl PrmExample {
    /// The same example with its question laid out by `template` (`{question}` standing
    /// for the question), as a PRM with `ponder.prm.question_template` reads it.
    pub fn with_question_template(&self, template: &str) -> PrmExample {
        let question_len = self.question_len();
        let question = vocab::decode(&self.tokens[..question_len]);
        let mut tokens = vocab::encode(&template.replacen(QUESTION, &question, 1));
        let shift = tokens.len() as isize - question_len as isize;
        tokens.extend_from_slice(&self.tokens[question_len..]);
        PrmExample {
            tokens,
            positions: self
                .positions
                .iter()
                .map(|&p| (p as isize + shift) as usize)
                .collect(),
            labels: self.labels.clone(),
        }
    }

    /// The question's tokens: those before its newline (all of them if there is none).
    fn question_len(&self) -> usize {
        let newline = u32::from(b'\n');
        self.tokens
            .iter()
            .position(|&t| t == newline)
            .unwrap_or(self.tokens.len())
    }

    /// Where the attempt starts: after the question's newline.
    pub fn attempt_start(&self) -> usize {
        (self.question_len() + 1).min(self.tokens.len())
    }

    /// The attempt's [`Surprise`] at each labelled step's end, `log_prob(t)` being the
    /// log-probability of token `t` (an index into `tokens`) given the tokens before it.
    fn surprise(&self, mut log_prob: impl FnMut(usize) -> f32) -> anyhow::Result<Vec<Surprise>> {
        let start = self.attempt_start();
        anyhow::ensure!(
            start > 0 && self.positions.iter().all(|&p| p >= start),
            "a labelled example has no question before its steps"
        );
        let lp: Vec<f32> = (start..self.tokens.len()).map(&mut log_prob).collect();
        let ends: Vec<usize> = self.positions.iter().map(|&p| p - start).collect();
        Ok(Surprise::at_step_ends(&lp, &ends))
    }

    /// The tokens and step positions of `question` and `steps` (lines without their
    /// newlines), as the runtime lays them out.
    pub fn new(question: &str, steps: &[&str], labels: Vec<f32>) -> PrmExample {
        let mut tokens = vocab::encode(question);
        tokens.push(u32::from(b'\n'));
        let mut positions = Vec::with_capacity(steps.len());
        for step in steps {
            tokens.extend(vocab::encode(step));
            tokens.push(u32::from(b'\n'));
            positions.push(tokens.len() - 1);
        }
        PrmExample {
            tokens,
            positions,
            labels,
        }
    }
}

/// The value head: `[hidden, 1]` weights and a bias.
pub struct ValueHead {
    pub weight: Var,
    pub bias: Var,
}

impl ValueHead {
    pub fn new(hidden: usize, vars: &VarMap) -> anyhow::Result<ValueHead> {
        let weight = vars.get(
            (hidden, 1),
            "prm_head.weight",
            Init::Randn {
                mean: 0.0,
                stdev: 0.02,
            },
            DType::F32,
            &Device::Cpu,
        )?;
        let bias = vars.get(
            1,
            "prm_head.bias",
            Init::Const(0.0),
            DType::F32,
            &Device::Cpu,
        )?;
        let find = |name: &str| -> anyhow::Result<Var> {
            let data = vars
                .data()
                .lock()
                .map_err(|_| anyhow::anyhow!("the variable map's lock is poisoned"))?;
            data.get(name)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("variable {name} was not created"))
        };
        drop((weight, bias));
        Ok(ValueHead {
            weight: find("prm_head.weight")?,
            bias: find("prm_head.bias")?,
        })
    }

    /// The head as the exporter writes it, with likelihood weights and a question
    /// template for a head that reads them.
    pub fn export(&self, likelihood: Option<([f32; 3], String)>) -> anyhow::Result<PrmHeadExport> {
        let bias: Vec<f32> = self.bias.as_tensor().flatten_all()?.to_vec1()?;
        Ok(PrmHeadExport {
            weight: self.weight.as_tensor().flatten_all()?,
            bias: bias.first().copied().unwrap_or(0.0),
            likelihood,
        })
    }
}

/// Mean binary cross-entropy of the head's step scores against the soft labels, over
/// every step of the batch, and the tokens read. Examples are padded to the longest.
pub fn bce_loss(
    model: &Model,
    head: &ValueHead,
    examples: &[&PrmExample],
) -> anyhow::Result<(Tensor, usize)> {
    let len = examples.iter().map(|e| e.tokens.len()).max().unwrap_or(0);
    anyhow::ensure!(len > 0, "no examples in the batch");
    let n = examples.len();
    let tokens = padded(examples, len);
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        for (&p, &l) in e.positions.iter().zip(&e.labels) {
            rows.push((i * len + p) as u32);
            labels.push(l);
        }
    }
    anyhow::ensure!(!rows.is_empty(), "the batch has no labelled steps");
    let device = Device::Cpu;
    let count = rows.len();
    let inputs = Tensor::from_vec(tokens, (n, len), &device)?;
    let hidden = model.hidden(&inputs)?;
    let h = hidden.dim(2)?;
    let picked = hidden
        .reshape((n * len, h))?
        .index_select(&Tensor::from_vec(rows, count, &device)?, 0)?;
    let z = picked
        .matmul(head.weight.as_tensor())?
        .squeeze(1)?
        .broadcast_add(head.bias.as_tensor())?;
    let y = Tensor::from_vec(labels, count, &device)?;
    Ok((bce_with_logits(&z, &y)?, n * len))
}

/// What a likelihood-reading head sees of every labelled step, computed once from a
/// frozen backbone: its final hidden state at the step's newline (`[steps, hidden]`), the
/// attempt's [`Surprise`] up to there (`[steps, 3]`: min, mean, sum) and the labels.
pub struct StepFeatures {
    pub hidden: Tensor,
    pub surprise: Tensor,
    pub labels: Tensor,
}

impl StepFeatures {
    /// Runs `model` over `examples` (already laid out as the PRM reads them) in batches,
    /// calling `progress(done, total)` as it goes.
    pub fn of(
        model: &Model,
        examples: &[PrmExample],
        progress: &mut dyn FnMut(usize, usize),
    ) -> anyhow::Result<StepFeatures> {
        const BATCH: usize = 32;
        let device = Device::Cpu;
        let (mut hidden, mut surprise, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        for (b, chunk) in examples.chunks(BATCH).enumerate() {
            let len = chunk.iter().map(|e| e.tokens.len()).max().unwrap_or(0);
            if len == 0 {
                continue;
            }
            let chunk: Vec<&PrmExample> = chunk.iter().collect();
            let inputs = Tensor::from_vec(padded(&chunk, len), (chunk.len(), len), &device)?;
            // Detached: holding the forward's graph for every batch would hold its
            // activations too.
            let h = model.hidden(&inputs)?.detach();
            let log_probs = candle_nn::ops::log_softmax(&model.logits(&h)?, 2)?;
            for (i, e) in chunk.iter().enumerate() {
                let rows = log_probs.get(i)?.to_vec2::<f32>()?;
                // Row t − 1 gives token t its probability.
                let surprise_at = e.surprise(|t| rows[t - 1][e.tokens[t] as usize])?;
                for (s, (&p, &l)) in surprise_at.iter().zip(e.positions.iter().zip(&e.labels)) {
                    hidden.extend(h.get(i)?.get(p)?.to_vec1::<f32>()?);
                    surprise.extend([s.min, s.mean, s.sum]);
                    labels.push(l);
                }
            }
            progress(((b + 1) * BATCH).min(examples.len()), examples.len());
        }
        anyhow::ensure!(!labels.is_empty(), "no labelled steps to fit the head on");
        let steps = labels.len();
        let width = hidden.len() / steps;
        Ok(StepFeatures {
            hidden: Tensor::from_vec(hidden, (steps, width), &device)?,
            surprise: Tensor::from_vec(surprise, (steps, 3), &device)?,
            labels: Tensor::from_vec(labels, steps, &device)?,
        })
    }
}

/// A value head that also weighs the attempt's surprise: `[hidden, 1]` and `[3, 1]`
/// weights and a bias.
pub struct LikelihoodHead {
    pub value: ValueHead,
    pub likelihood: Var,
}

impl LikelihoodHead {
    pub fn new(hidden: usize, vars: &VarMap) -> anyhow::Result<LikelihoodHead> {
        let value = ValueHead::new(hidden, vars)?;
        let likelihood = Var::zeros((3, 1), DType::F32, &Device::Cpu)?;
        vars.data()
            .lock()
            .map_err(|_| anyhow::anyhow!("the variable map's lock is poisoned"))?
            .insert("prm_head.likelihood".to_string(), likelihood.clone());
        Ok(LikelihoodHead { value, likelihood })
    }

    /// The head's logits `[steps]` from hidden states `[steps, hidden]` and surprise
    /// `[steps, 3]`.
    pub fn logits(&self, hidden: &Tensor, surprise: &Tensor) -> anyhow::Result<Tensor> {
        Ok((hidden.matmul(self.value.weight.as_tensor())?
            + surprise.matmul(self.likelihood.as_tensor())?)?
        .squeeze(1)?
        .broadcast_add(self.value.bias.as_tensor())?)
    }

    /// Mean BCE of the head's scores against the soft labels, over every step.
    pub fn bce_loss(&self, f: &StepFeatures) -> anyhow::Result<Tensor> {
        bce_with_logits(&self.logits(&f.hidden, &f.surprise)?, &f.labels)
    }
}

/// The loss of fine-tuning a likelihood-reading PRM's backbone and head together: the
/// head's BCE against the soft labels, its surprise read from the backbone's own
/// predictions (detached, so the BCE does not reshape the language model to suit the
/// head), plus `lm_weight` times the backbone's next-token cross-entropy on the attempts.
/// The attempts are S's own samples, so that second term keeps the backbone predicting as
/// S does, and the surprise meaning what it meant when the head was fitted. Returns the
/// loss and the tokens read.
pub fn joint_loss(
    model: &Model,
    head: &LikelihoodHead,
    examples: &[&PrmExample],
    lm_weight: f64,
) -> anyhow::Result<(Tensor, usize)> {
    let len = examples.iter().map(|e| e.tokens.len()).max().unwrap_or(0);
    anyhow::ensure!(len > 0, "no examples in the batch");
    let n = examples.len();
    let device = Device::Cpu;
    let inputs = Tensor::from_vec(padded(examples, len), (n, len), &device)?;
    let hidden = model.hidden(&inputs)?;
    let h = hidden.dim(2)?;
    let log_probs = candle_nn::ops::log_softmax(&model.logits(&hidden)?, 2)?;
    let vocab_size = log_probs.dim(2)?;
    let log_probs = log_probs.reshape((n * len, vocab_size))?;
    // Row (i, t − 1) predicts token t of example i.
    let (mut predicting, mut targets) = (Vec::new(), Vec::new());
    let (mut rows, mut surprise, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    let detached = log_probs.detach().to_vec2::<f32>()?;
    for (i, e) in examples.iter().enumerate() {
        let surprise_at = e.surprise(|t| {
            predicting.push((i * len + t - 1) as u32);
            targets.push(e.tokens[t]);
            detached[i * len + t - 1][e.tokens[t] as usize]
        })?;
        for (s, (&p, &l)) in surprise_at.iter().zip(e.positions.iter().zip(&e.labels)) {
            rows.push((i * len + p) as u32);
            surprise.extend([s.min, s.mean, s.sum]);
            labels.push(l);
        }
    }
    anyhow::ensure!(!rows.is_empty(), "the batch has no labelled steps");
    let count = rows.len();
    let picked = hidden
        .reshape((n * len, h))?
        .index_select(&Tensor::from_vec(rows, count, &device)?, 0)?;
    let z = head.logits(&picked, &Tensor::from_vec(surprise, (count, 3), &device)?)?;
    let bce = bce_with_logits(&z, &Tensor::from_vec(labels, count, &device)?)?;
    let m = predicting.len();
    let next_token = log_probs
        .index_select(&Tensor::from_vec(predicting, m, &device)?, 0)?
        .gather(&Tensor::from_vec(targets, (m, 1), &device)?, 1)?
        .mean_all()?
        .neg()?;
    Ok(((bce + (next_token * lm_weight)?)?, n * len))
}

/// The examples' tokens, each padded to `len` with end-of-text, row after row.
fn padded(examples: &[&PrmExample], len: usize) -> Vec<u32> {
    let mut tokens = Vec::with_capacity(examples.len() * len);
    for e in examples {
        tokens.extend((0..len).map(|j| e.tokens.get(j).copied().unwrap_or(vocab::END_OF_TEXT)));
    }
    tokens
}

/// Mean binary cross-entropy of logits `z` against soft labels `y`, computed stably as
/// max(z, 0) − z·y + log(1 + e^−|z|).
fn bce_with_logits(z: &Tensor, y: &Tensor) -> anyhow::Result<Tensor> {
    let loss = ((z.relu()? - (z * y)?)? + (z.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
    Ok(loss.mean_all()?)
}

/// The area under the ROC curve of `scores` for binary `labels`: the probability that a
/// random positive outscores a random negative, ties counting half. `None` when either
/// class is empty.
pub fn auroc(scores: &[f32], labels: &[bool]) -> Option<f64> {
    let mut pairs: Vec<(f32, bool)> = scores.iter().copied().zip(labels.iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = pairs.iter().filter(|p| p.1).count();
    let negatives = pairs.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // Sum of the positives' ranks (1-based, ties given their mean rank).
    let mut rank_sum = 0f64;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            j += 1;
        }
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += mean_rank * pairs[i..j].iter().filter(|p| p.1).count() as f64;
        i = j;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_matches_pair_counting() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9];
        let labels = [false, true, false, true, false, true];
        // Pairs (positive, negative) with the positive higher, ties as a half.
        let mut wins = 0.0;
        let mut total = 0.0;
        for (sp, _) in scores.iter().zip(labels).filter(|x| x.1) {
            for (sn, _) in scores.iter().zip(labels).filter(|x| !x.1) {
                total += 1.0;
                wins += if sp > sn {
                    1.0
                } else if sp == sn {
                    0.5
                } else {
                    0.0
                };
            }
        }
        let got = auroc(&scores, &labels).expect("both classes");
        assert!(
            (got - wins / total).abs() < 1e-12,
            "{got} vs {}",
            wins / total
        );
        assert_eq!(auroc(&[0.3], &[true]), None);
    }

    #[test]
    fn examples_mark_each_steps_newline() {
        let e = PrmExample::new(
            "3+4*2",
            &["4*2=8", "3+8=11", "Answer: 11"],
            vec![1.0, 1.0, 1.0],
        );
        let text = vocab::decode(&e.tokens);
        assert_eq!(text, "3+4*2\n4*2=8\n3+8=11\nAnswer: 11\n");
        for &p in &e.positions {
            assert_eq!(e.tokens[p], u32::from(b'\n'));
        }
        assert_eq!(e.positions.last(), Some(&(e.tokens.len() - 1)));
    }
}
