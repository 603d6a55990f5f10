//! Diverse verifier tree search (search-and-learn's `dvts`, Beeching et al. 2024; a
//! variant of the paper's beam search, Snell et al. 2024 §5.2): the budget is split into
//! N/M independent subtrees, each greedy on the PRM: at each round a subtree samples M
//! continuations of its current node and keeps only the best. A subtree stops when its
//! best continuation finishes (or at the round limit, whose round runs to the end), and
//! returns all M candidates of its last round, so the final vote sees N candidates
//! grouped by subtree (the order search-and-learn relies on when it scores the first n').
//!
//! Independent subtrees keep the diversity that beam search loses when a few strong
//! beams take every slot. When M does not divide N, the N candidates are spread over
//! ⌈N/M⌉ subtrees as evenly as possible.

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::path::Path;
use crate::policy::{Policy, SeqId};
use crate::task::Task;
use crate::verifier::Verifier;

use super::aggregate::StepAggregation;
use super::beam::{spread, BeamWidth, DEFAULT_ROUNDS};
use super::run::{Run, StepItem};
use super::vote::{Ballot, Selection};
use super::{config_error, stream, Candidate, Context, Outcome, StrategyError, Trace};

/// One subtree: where it started, the node it kept at each round, and its final
/// candidates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subtree {
    pub path: Path,
    /// Continuations per round (M, or one less where M does not divide N).
    pub width: usize,
    /// The best continuation kept at each round but the last.
    pub greedy_path: Vec<Path>,
    /// Indices of this subtree's final candidates in the outcome.
    pub candidates: Vec<usize>,
    /// Tokens the policy sampled in this subtree, pruned continuations included.
    #[serde(default)]
    pub policy_tokens: u64,
    /// The policy-token length of every continuation of this subtree each time the
    /// verifier scored it: what the verifier read of this subtree beyond the question
    /// (see [`super::subsample::dvts_prefix`]).
    #[serde(default)]
    pub scored_tokens: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dvts {
    /// Final candidates, the budget in generations.
    pub n: usize,
    /// M, continuations per subtree per round.
    pub width: BeamWidth,
    pub aggregation: StepAggregation,
    pub selection: Selection,
    pub max_rounds: usize,
}

struct Node {
    seq: SeqId,
    candidate: Candidate,
}

impl Dvts {
    pub fn new(n: usize, width: BeamWidth) -> Dvts {
        Dvts {
            n,
            width,
            aggregation: StepAggregation::Last,
            selection: Selection::Weighted,
            max_rounds: DEFAULT_ROUNDS,
        }
    }

    /// The widths of the subtrees: ⌈N/M⌉ of them, summing to N.
    pub fn subtree_widths(&self) -> Vec<usize> {
        let m = self.width.resolve(self.n);
        spread(self.n, self.n.div_ceil(m))
    }

    /// [`Self::run_async`] to its end at once, for engines that never wait.
    pub fn run<P: Policy, V: Verifier, T: Task>(
        &self,
        ctx: &mut Context<'_, P, V, T>,
    ) -> Result<Outcome, StrategyError> {
        super::at_once(self.run_async(ctx))
    }

    pub async fn run_async<P: Policy, V: Verifier, T: Task>(
        &self,
        ctx: &mut Context<'_, P, V, T>,
    ) -> Result<Outcome, StrategyError> {
        if self.n == 0 {
            return Err(config_error("DVTS", "n must be at least 1 candidate"));
        }
        let widths = self.subtree_widths();
        let max_rounds = self.max_rounds.max(1);
        let prompt = ctx.task.prompt(ctx.problem);
        let mut run = Run::new(ctx, stream::DVTS, self.n as u64);
        let root = run.start(&Path::root(), &prompt)?;
        let mut subtrees: Vec<Subtree> = Vec::with_capacity(widths.len());
        // The current node of each unfinished subtree, by subtree index.
        let mut nodes: Vec<Option<Node>> = Vec::with_capacity(widths.len());
        for (s, &width) in widths.iter().enumerate() {
            let path = Path::root().child(s as u32);
            nodes.push(Some(Node {
                seq: run.fork(root)?,
                candidate: Candidate::new(path.clone()),
            }));
            subtrees.push(Subtree {
                path,
                width,
                greedy_path: Vec::new(),
                candidates: Vec::new(),
                policy_tokens: 0,
                scored_tokens: 0,
            });
        }
        run.release(root);
        // Final candidates of each subtree, gathered in subtree order at the end.
        let mut finals: Vec<Vec<Candidate>> = vec![Vec::new(); widths.len()];
        for round in 1..=max_rounds {
            let last_round = round == max_rounds;
            let open: Vec<usize> = (0..nodes.len()).filter(|&s| nodes[s].is_some()).collect();
            if open.is_empty() {
                break;
            }
            let mut children: Vec<(usize, Node)> = Vec::new();
            for &s in &open {
                let Some(node) = nodes[s].as_ref() else {
                    continue;
                };
                let (seq, parent) = (node.seq, node.candidate.clone());
                for j in 0..widths[s] {
                    let mut candidate = parent.clone();
                    candidate.path = parent.path.child(j as u32);
                    children.push((
                        s,
                        Node {
                            seq: run.fork(seq)?,
                            candidate,
                        },
                    ));
                }
            }
            let items: Vec<StepItem<'_>> = children
                .iter()
                .map(|(_, c)| StepItem {
                    seq: c.seq,
                    path: &c.candidate.path,
                    step: c.candidate.steps.len(),
                    draw: run.key(&c.candidate.path),
                })
                .collect();
            let outputs = run.step(&items, run.sampling(), last_round, true).await?;
            for ((s, c), out) in children.iter_mut().zip(outputs) {
                subtrees[*s].policy_tokens += out.tokens as u64;
                c.candidate.steps.push(out.text);
                c.candidate.step_tokens.push(out.tokens);
                c.candidate.finish = out.finish;
            }
            for (s, c) in &children {
                subtrees[*s].scored_tokens += c.candidate.tokens() as u64;
            }
            let values = run
                .score_candidates(
                    children.iter_mut().map(|(_, c)| &mut c.candidate).collect(),
                    self.aggregation,
                )
                .await?;
            let (mut kept, mut pruned) = (Vec::new(), Vec::new());
            let mut by_subtree: Vec<Vec<(Node, f32)>> =
                (0..widths.len()).map(|_| Vec::new()).collect();
            for ((s, c), v) in children.into_iter().zip(values) {
                by_subtree[s].push((c, v));
            }
            for &s in &open {
                let group = std::mem::take(&mut by_subtree[s]);
                // The first of equal values wins, as everywhere else.
                let mut best = 0;
                for (i, (_, v)) in group.iter().enumerate() {
                    if *v > group[best].1 {
                        best = i;
                    }
                }
                let Some(parent) = nodes[s].take() else {
                    continue;
                };
                run.release(parent.seq);
                let done = last_round || group[best].0.candidate.is_finished();
                if done {
                    for (mut c, _) in group {
                        run.finish_attempt(&mut c.candidate, c.seq);
                        finals[s].push(c.candidate);
                    }
                    continue;
                }
                for (i, (c, _)) in group.into_iter().enumerate() {
                    if i == best {
                        kept.push(c.candidate.path.clone());
                        subtrees[s].greedy_path.push(c.candidate.path.clone());
                        nodes[s] = Some(c);
                    } else {
                        pruned.push(c.candidate.path.clone());
                        run.release(c.seq);
                    }
                }
            }
            if !kept.is_empty() || !pruned.is_empty() {
                run.emit(Event::BeamPruned {
                    round,
                    kept,
                    pruned,
                });
            }
        }
        let mut candidates = Vec::with_capacity(self.n);
        for (s, group) in finals.into_iter().enumerate() {
            for c in group {
                subtrees[s].candidates.push(candidates.len());
                candidates.push(c);
            }
        }
        let ballots: Vec<Ballot<'_>> = candidates
            .iter()
            .map(|c| Ballot {
                answer: c.answer.as_deref(),
                score: f64::from(self.aggregation.apply(&c.scores)),
            })
            .collect();
        let selected = run.select(&ballots, self.selection);
        Ok(Outcome {
            answer: selected.answer,
            votes: selected.votes,
            compute: run.compute,
            candidates,
            trace: Trace::Dvts { subtrees },
        })
    }
}
