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
    let mut tokens = Vec::with_capacity(n * len);
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        tokens.extend((0..len).map(|j| e.tokens.get(j).copied().unwrap_or(vocab::END_OF_TEXT)));
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
    // BCE with logits, stably: max(z, 0) − z·y + log(1 + e^−|z|).
    let loss = ((z.relu()? - (&z * &y)?)? + (z.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
    Ok((loss.mean_all()?, n * len))
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
