//! The revision model's training examples (Snell et al. 2024 §6, paper-notes §1.5): for a
//! correct attempt sampled from S, `k` (0 to 4) incorrect attempts at the same problem,
//! also S's, shown in context before it, the last of them the one nearest the correct
//! attempt by character edit distance. Only the correct attempt is learned; the wrong
//! ones are context.
//!
//! Optionally (`keep_percent`, 0 in the paper's recipe) some examples end their context
//! with a right attempt instead, after up to three wrong ones, and learn to keep it. With
//! wrong attempts only in context, a reviser learns that the answer always differs from
//! the last attempt, and at inference it turns right answers wrong.
//!
//! [`Earlier::AsSampled`] departs further: the earlier attempts are S's other samples at
//! the problem as they came, right or wrong, in the order drawn, as a reviser's own
//! attempts are at inference, where it cannot know which of them are right. What it can
//! learn from them is how far attempts that agree, or disagree, can be trusted. The
//! shipped R is trained so; `docs/models.md` gives its revision curve.

use candle_core::{Device, Tensor, D};
use ponder_core::arithmetic::{ArithmeticTask, Problem};
use ponder_core::Task;

use crate::model::Model;
use crate::vocab;

/// At most this many earlier attempts in context, as at inference.
pub const MAX_EARLIER: usize = 4;

/// A token sequence of which only the tail is learned.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MaskedExample {
    pub tokens: Vec<u32>,
    /// The first token that is a target: the loss covers `tokens[target_from..]`.
    pub target_from: usize,
}

/// One of a problem's samples and its index among them.
type Sample<'a> = (usize, &'a String);

/// Which of S's samples a revision example shows as its earlier attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Earlier {
    /// Wrong attempts only, the nearest to the target by edit distance last (the paper's
    /// recipe; with `keep_percent`, some end on a right attempt).
    Wrong,
    /// Any of the problem's other samples, right or wrong, in the order drawn.
    AsSampled,
}

/// Character-level Levenshtein distance.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// The examples one problem's samples give: one per correct sample (at most
/// `per_problem`), each with `k` drawn uniformly from 0..=min(4, wrong samples) by
/// `draw(example) -> u64`. Examples longer than `context` tokens drop their oldest
/// earlier attempts until they fit (the nearest one, last, is kept longest).
///
/// With `keep_percent` above 0, that share of examples (by a first draw) instead show a
/// right attempt last (one of the problem's right samples, drawn), after up to three
/// wrong ones.
///
/// With [`Earlier::AsSampled`], `k` is drawn from 0..=min(4, other samples) and the `k`
/// attempts from the problem's samples other than the target itself, right or wrong;
/// `keep_percent` does not apply.
pub fn examples_for(
    problem: &Problem,
    samples: &[String],
    per_problem: usize,
    context: usize,
    earlier: Earlier,
    keep_percent: u64,
    draw: &mut dyn FnMut() -> u64,
) -> Vec<MaskedExample> {
    let task = ArithmeticTask;
    let truth = Some(problem.answer().to_string());
    let attempts: Vec<Sample> = samples
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .collect();
    let (right, wrong): (Vec<Sample>, Vec<Sample>) = attempts
        .iter()
        .partition(|(_, s)| task.extract_answer(s) == truth);
    let mut out = Vec::new();
    for &(index, correct) in right.iter().take(per_problem) {
        let chosen = match earlier {
            Earlier::Wrong => wrong_context(&right, &wrong, correct, keep_percent, draw),
            Earlier::AsSampled => {
                let others: Vec<&String> = attempts
                    .iter()
                    .filter(|(i, _)| *i != index)
                    .map(|&(_, s)| s)
                    .collect();
                let k = (draw() % (others.len().min(MAX_EARLIER) as u64 + 1)) as usize;
                drawn(others, k, draw)
            }
        };
        if let Some(example) = fitted(problem, chosen, correct, context) {
            out.push(example);
        }
    }
    out
}

/// `k` distinct attempts of `pool` in the order drawn (a partial Fisher-Yates shuffle).
fn drawn<'a>(
    mut pool: Vec<&'a String>,
    k: usize,
    draw: &mut dyn FnMut() -> u64,
) -> Vec<&'a String> {
    for i in 0..k {
        let j = i + (draw() % (pool.len() - i) as u64) as usize;
        pool.swap(i, j);
    }
    pool.truncate(k);
    pool
}

/// The paper's context for one target: wrong attempts, the nearest last; with
/// `keep_percent`, sometimes a right attempt after them.
fn wrong_context<'a>(
    right: &[Sample<'a>],
    wrong: &[Sample<'a>],
    correct: &str,
    keep_percent: u64,
    draw: &mut dyn FnMut() -> u64,
) -> Vec<&'a String> {
    let keep = keep_percent > 0 && draw() % 100 < keep_percent;
    let most = if keep { MAX_EARLIER - 1 } else { MAX_EARLIER };
    let k = (draw() % (wrong.len().min(most) as u64 + 1)) as usize;
    let mut chosen = drawn(wrong.iter().map(|&(_, s)| s).collect(), k, draw);
    if let Some(nearest) = (0..chosen.len()).min_by_key(|&i| edit_distance(chosen[i], correct)) {
        let last = chosen.remove(nearest);
        chosen.push(last);
    }
    if keep {
        chosen.push(right[(draw() % right.len() as u64) as usize].1);
    }
    chosen
}

/// The example of `correct` after `chosen`, its oldest attempts dropped until it fits in
/// `context` tokens; `None` if even the problem alone does not.
fn fitted(
    problem: &Problem,
    mut chosen: Vec<&String>,
    correct: &str,
    context: usize,
) -> Option<MaskedExample> {
    let task = ArithmeticTask;
    loop {
        let earlier: Vec<&str> = chosen.iter().map(|s| s.as_str()).collect();
        let prompt = vocab::encode(&task.revision_prompt(problem, &earlier));
        let mut tokens = prompt.clone();
        tokens.extend(vocab::encode(correct));
        tokens.push(vocab::END_OF_TEXT);
        if tokens.len() <= context {
            return Some(MaskedExample {
                target_from: prompt.len(),
                tokens,
            });
        }
        if chosen.is_empty() {
            return None;
        }
        chosen.remove(0);
    }
}

/// Mean next-token cross-entropy over the examples' targets, and the tokens read.
/// Examples are padded to the longest with the end-of-text token, which is never a target.
pub fn masked_loss(model: &Model, examples: &[&MaskedExample]) -> anyhow::Result<(Tensor, usize)> {
    let len = examples
        .iter()
        .map(|e| e.tokens.len() - 1)
        .max()
        .unwrap_or(0);
    anyhow::ensure!(len > 0, "no training examples in the batch");
    let mut inputs = Vec::with_capacity(examples.len() * len);
    let mut targets = Vec::with_capacity(examples.len() * len);
    let mut mask = Vec::with_capacity(examples.len() * len);
    for e in examples {
        for j in 0..len {
            inputs.push(e.tokens.get(j).copied().unwrap_or(vocab::END_OF_TEXT));
            let target = e.tokens.get(j + 1).copied();
            targets.push(target.unwrap_or(vocab::END_OF_TEXT));
            mask.push(if target.is_some() && j + 1 >= e.target_from {
                1f32
            } else {
                0.0
            });
        }
    }
    let n = examples.len();
    let count: f32 = mask.iter().sum();
    anyhow::ensure!(count > 0.0, "the batch has no target tokens");
    let device = Device::Cpu;
    let inputs = Tensor::from_vec(inputs, (n, len), &device)?;
    let targets = Tensor::from_vec(targets, (n * len, 1), &device)?;
    let mask = Tensor::from_vec(mask, n * len, &device)?;
    let logits = model.forward(&inputs)?;
    let v = logits.dim(D::Minus1)?;
    let log_probs = candle_nn::ops::log_softmax(&logits.reshape((n * len, v))?, D::Minus1)?;
    let picked = log_probs.gather(&targets, 1)?.squeeze(1)?;
    let loss = ((picked * mask)?.sum_all()? * (-1.0 / f64::from(count)))?;
    Ok((loss, n * len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An example's tokens as text, token by token.
    fn text(e: &MaskedExample) -> String {
        e.tokens.iter().map(|&t| vocab::decode(&[t])).collect()
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("85*6=510", "85*6=500"), 1);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn the_nearest_wrong_attempt_comes_last_and_only_the_answer_is_learned() {
        let p = Problem::parse("(37+48)*6-29").expect("parses");
        let right = "37+48=85\n85*6=510\n510-29=481\nAnswer: 481\n".to_string();
        let far = "37+48=95\n95*6=570\n570-29=541\nAnswer: 541\n".to_string();
        let near = "37+48=85\n85*6=510\n510-29=471\nAnswer: 471\n".to_string();
        let samples = vec![near.clone(), right.clone(), far.clone()];
        // Draws: k = 2 (of 0..=2), then a shuffle that puts `near` first.
        let mut draws = [2u64, 0, 0].into_iter();
        let examples = examples_for(&p, &samples, 4, 1024, Earlier::Wrong, 0, &mut || {
            draws.next().unwrap_or(0)
        });
        assert_eq!(examples.len(), 1);
        let e = &examples[0];
        let text = text(e);
        let prompt = ArithmeticTask.revision_prompt(&p, &[far.as_str(), near.as_str()]);
        assert!(text.starts_with(&prompt), "{text}");
        assert_eq!(e.target_from, prompt.len());
        assert_eq!(e.tokens.len(), prompt.len() + right.len() + 1);
    }

    #[test]
    fn long_examples_drop_their_oldest_attempts_to_fit() {
        let p = Problem::parse("1+2").expect("parses");
        let right = "1+2=3\nAnswer: 3\n".to_string();
        let wrong: Vec<String> = (4..8).map(|i| format!("1+2={i}\nAnswer: {i}\n")).collect();
        let mut samples = wrong.clone();
        samples.push(right);
        let mut draws = [4u64, 0, 0, 0, 0].into_iter();
        let examples = examples_for(&p, &samples, 4, 90, Earlier::Wrong, 0, &mut || {
            draws.next().unwrap_or(0)
        });
        assert_eq!(examples.len(), 1);
        assert!(examples[0].tokens.len() <= 90);
        let text = text(&examples[0]);
        assert!(text.contains("Attempt 1:"), "{text}");
        assert!(!text.contains("Attempt 4:"), "{text}");
    }

    #[test]
    fn kept_examples_show_a_right_attempt_last_and_learn_to_keep_it() {
        let p = Problem::parse("1+2").expect("parses");
        let right = "1+2=3\nAnswer: 3\n".to_string();
        let wrong = "1+2=4\nAnswer: 4\n".to_string();
        let samples = vec![wrong.clone(), right.clone()];
        // Draws: keep (0 < 50), k = 1 of 0..=1, the shuffle, then the right attempt.
        let mut draws = [0u64, 1, 0, 0].into_iter();
        let examples = examples_for(&p, &samples, 4, 1024, Earlier::Wrong, 50, &mut || {
            draws.next().unwrap_or(0)
        });
        assert_eq!(examples.len(), 1);
        let prompt = ArithmeticTask.revision_prompt(&p, &[wrong.as_str(), right.as_str()]);
        let e = &examples[0];
        assert_eq!(e.target_from, prompt.len());
        let target: String = e.tokens[e.target_from..e.tokens.len() - 1]
            .iter()
            .map(|&t| vocab::decode(&[t]))
            .collect();
        assert_eq!(target, right);
        // 50 or more is not kept: the paper's example, wrong attempts only.
        let mut draws = [50u64, 1, 0].into_iter();
        let examples = examples_for(&p, &samples, 4, 1024, Earlier::Wrong, 50, &mut || {
            draws.next().unwrap_or(0)
        });
        let text = text(&examples[0]);
        assert_eq!(text.matches("Answer: 3").count(), 1, "{text}");
    }

    #[test]
    fn sampled_contexts_show_other_samples_right_or_wrong_but_never_the_target() {
        let p = Problem::parse("1+2").expect("parses");
        let right = "1+2=3\nAnswer: 3\n".to_string();
        let wrong = "1+2=4\nAnswer: 4\n".to_string();
        let also_right = "1+2=3\nAnswer: 3\n".to_string();
        let samples = vec![right.clone(), wrong.clone(), also_right.clone()];
        // Two targets (samples 0 and 2). The first: k = 2 of 0..=2 from {1, 2}, drawn
        // in the order 2, 1. The second: k = 1 from {0, 1}, drawn as sample 1.
        let mut draws = [2u64, 1, 0, 1, 1].into_iter();
        let examples = examples_for(&p, &samples, 4, 1024, Earlier::AsSampled, 0, &mut || {
            draws.next().unwrap_or(0)
        });
        assert_eq!(examples.len(), 2);
        let prompt = |earlier: &[&str]| ArithmeticTask.revision_prompt(&p, earlier);
        let first = prompt(&[also_right.as_str(), wrong.as_str()]);
        assert!(
            text(&examples[0]).starts_with(&first),
            "{}",
            text(&examples[0])
        );
        assert_eq!(examples[0].target_from, first.len());
        let second = prompt(&[wrong.as_str()]);
        assert!(
            text(&examples[1]).starts_with(&second),
            "{}",
            text(&examples[1])
        );
        assert_eq!(examples[1].target_from, second.len());
        // A right attempt last is learned as written, whatever came before it.
        let tail = &examples[0].tokens[examples[0].target_from..];
        assert_eq!(vocab::decode(&tail[..tail.len() - 1]), right);
    }
}
