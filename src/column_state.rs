//! What one Compare column shows, folded from the strategy's events alone: the tree of
//! sampled steps with their scores, the beam rounds, which attempts each revision saw,
//! the live vote tally, the final choice and the compute spent.
//!
//! Pure Rust, so the folding is unit-tested natively; the view only reads it.

use std::collections::HashMap;

use ponder_core::accounting::Compute;
use ponder_core::event::Event;
use ponder_core::strategy::vote::Vote;
use ponder_core::{Finish, Path};

/// One node of the strategy's tree: a sequence and the steps sampled on it. A best-of-N
/// sample or a revision holds its whole attempt; a beam node holds one step, and its
/// attempt is the steps of its ancestors followed by its own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    pub path: Path,
    /// The steps sampled at this node, in order.
    pub steps: Vec<String>,
    /// Policy tokens of those steps.
    pub tokens: usize,
    /// The verifier's latest scores for every step of the attempt (ancestors' too).
    pub scores: Vec<f32>,
    /// The number the strategy ranks the attempt by.
    pub value: Option<f32>,
    /// `Some` once the attempt finished: its answer, if it gave one.
    pub answer: Option<Option<String>>,
    pub finish: Option<Finish>,
    /// The search round that dropped it.
    pub pruned_in: Option<usize>,
    /// Revisions: the earlier attempts of the chain it saw.
    pub saw: Option<Vec<Path>>,
    /// Whether a later node continues this one (so it is not an attempt of its own).
    pub has_children: bool,
}

impl Node {
    pub fn finished(&self) -> bool {
        self.answer.is_some()
    }
}

/// How the page names an attempt: `#3`, a beam node `#3.0.2`, a revision `1·2` (chain 1,
/// attempt 2, both counted from 1).
pub fn attempt_label(path: &Path, revisions: bool) -> String {
    match (revisions, path.0.as_slice()) {
        (true, [chain, t]) => format!("{}·{}", chain + 1, t + 1),
        _ => format!("#{path}"),
    }
}

/// A search round: what it kept and what it dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    pub round: usize,
    pub kept: Vec<Path>,
    pub pruned: Vec<Path>,
}

/// One answer in the live tally.
#[derive(Clone, Debug, PartialEq)]
pub struct Tally {
    pub answer: String,
    pub count: u32,
    /// Summed values of the attempts that gave it (the weighted vote).
    pub weight: f64,
}

/// Everything a column shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ColumnState {
    pub nodes: Vec<Node>,
    index: HashMap<Path, usize>,
    pub rounds: Vec<Round>,
    /// The final choice, once made, with the tallies behind it.
    pub selected: Option<(Option<String>, Vec<Vote>)>,
    /// Compute spent by the events applied so far.
    pub compute: Compute,
    /// Events applied.
    pub events: usize,
}

impl ColumnState {
    fn node(&mut self, path: &Path) -> &mut Node {
        let i = match self.index.get(path) {
            Some(&i) => i,
            None => {
                self.nodes.push(Node {
                    path: path.clone(),
                    ..Node::default()
                });
                self.index.insert(path.clone(), self.nodes.len() - 1);
                // Its parent is continued now (beam children, revisions' chains are
                // siblings and do not count: their parent is the chain, not a node).
                if let Some(parent) = path.parent() {
                    if let Some(&p) = self.index.get(&parent) {
                        if !self.nodes[p].steps.is_empty() {
                            self.nodes[p].has_children = true;
                        }
                    }
                }
                self.nodes.len() - 1
            }
        };
        &mut self.nodes[i]
    }

    pub fn get(&self, path: &Path) -> Option<&Node> {
        self.index.get(path).map(|&i| &self.nodes[i])
    }

    /// Folds one event in.
    pub fn apply(&mut self, event: &Event) {
        self.events += 1;
        match event {
            Event::SequenceStarted { path, .. } => {
                self.node(path);
            }
            Event::RevisionContext { path, saw } => self.node(path).saw = Some(saw.clone()),
            Event::StepSampled {
                path, text, tokens, ..
            } => {
                let node = self.node(path);
                node.steps.push(text.clone());
                node.tokens += tokens;
            }
            Event::LookaheadRolledOut { .. } => {}
            Event::StepScored {
                path,
                scores,
                value,
            } => {
                let node = self.node(path);
                node.scores = scores.clone();
                node.value = Some(*value);
            }
            Event::BeamPruned {
                round,
                kept,
                pruned,
            } => {
                for p in pruned {
                    self.node(p).pruned_in = Some(*round);
                }
                self.rounds.push(Round {
                    round: *round,
                    kept: kept.clone(),
                    pruned: pruned.clone(),
                });
            }
            Event::AttemptFinished {
                path,
                answer,
                finish,
            } => {
                let node = self.node(path);
                node.answer = Some(answer.clone());
                node.finish = Some(*finish);
            }
            Event::AnswerSelected { answer, votes } => {
                self.selected = Some((answer.clone(), votes.clone()));
            }
            Event::ComputeSpent { compute } => self.compute = *compute,
        }
    }

    /// The attempts to draw: every node with steps that no later node continues, in the
    /// order they appeared.
    pub fn attempts(&self) -> Vec<&Node> {
        self.nodes
            .iter()
            .filter(|n| !n.steps.is_empty() && !n.has_children)
            .collect()
    }

    /// Every step of the attempt ending at `path`: its ancestors' steps, then its own.
    pub fn attempt_steps(&self, path: &Path) -> Vec<String> {
        let mut chain = Vec::new();
        let mut at = Some(path.clone());
        while let Some(p) = at {
            if let Some(node) = self.get(&p) {
                chain.push(node.steps.clone());
            }
            at = p.parent();
        }
        chain.into_iter().rev().flatten().collect()
    }

    /// How many steps the ancestors of `path` hold (where its own steps start in its
    /// attempt), without copying them.
    pub fn steps_before(&self, path: &Path) -> usize {
        let mut count = 0;
        let mut at = path.parent();
        while let Some(p) = at {
            count += self.get(&p).map_or(0, |n| n.steps.len());
            at = p.parent();
        }
        count
    }

    /// The live vote: finished attempts that were not dropped, by answer, in order of
    /// first appearance, with their summed values.
    pub fn tally(&self) -> Vec<Tally> {
        let mut rows: Vec<Tally> = Vec::new();
        for node in &self.nodes {
            let Some(Some(answer)) = &node.answer else {
                continue;
            };
            if node.pruned_in.is_some() {
                continue;
            }
            let weight = f64::from(node.value.unwrap_or(0.0));
            match rows.iter_mut().find(|r| &r.answer == answer) {
                Some(row) => {
                    row.count += 1;
                    row.weight += weight;
                }
                None => rows.push(Tally {
                    answer: answer.clone(),
                    count: 1,
                    weight,
                }),
            }
        }
        rows
    }

    /// Attempts finished so far (the paper's generations, counted as they complete).
    pub fn finished_attempts(&self) -> usize {
        self.nodes.iter().filter(|n| n.finished()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(indices: &[u32]) -> Path {
        Path(indices.to_vec())
    }

    fn step(path: Path, text: &str) -> Event {
        Event::StepSampled {
            path,
            step: 0,
            text: text.into(),
            tokens: 3,
            finish: Finish::StepEnd,
        }
    }

    #[test]
    fn a_beam_attempt_is_its_ancestors_steps_and_pruned_nodes_leave_the_vote() {
        let mut s = ColumnState::default();
        s.apply(&Event::SequenceStarted {
            path: p(&[]),
            prompt: "Problem: 1+2*3".into(),
        });
        s.apply(&step(p(&[0]), "2*3=6\n"));
        s.apply(&step(p(&[1]), "1+2=3\n"));
        s.apply(&Event::BeamPruned {
            round: 1,
            kept: vec![p(&[0])],
            pruned: vec![p(&[1])],
        });
        s.apply(&step(p(&[0, 0]), "1+6=7\n"));
        s.apply(&Event::StepScored {
            path: p(&[0, 0]),
            scores: vec![0.9, 0.8],
            value: 0.8,
        });
        s.apply(&Event::AttemptFinished {
            path: p(&[0, 0]),
            answer: Some("7".into()),
            finish: Finish::AnswerEnd,
        });
        s.apply(&Event::AttemptFinished {
            path: p(&[1]),
            answer: Some("9".into()),
            finish: Finish::AnswerEnd,
        });
        let attempts: Vec<Path> = s.attempts().iter().map(|n| n.path.clone()).collect();
        assert_eq!(attempts, vec![p(&[1]), p(&[0, 0])]);
        assert_eq!(s.attempt_steps(&p(&[0, 0])), vec!["2*3=6\n", "1+6=7\n"]);
        assert_eq!(s.steps_before(&p(&[0, 0])), 1);
        assert_eq!(s.steps_before(&p(&[1])), 0);
        let tally = s.tally();
        assert_eq!(tally.len(), 1, "{tally:?}");
        assert_eq!((tally[0].answer.as_str(), tally[0].count), ("7", 1));
        assert!((tally[0].weight - 0.8).abs() < 1e-6);
        assert_eq!(s.rounds.len(), 1);
        assert_eq!(s.finished_attempts(), 2);
    }

    #[test]
    fn revisions_keep_what_they_saw_and_chains_are_not_trees() {
        let mut s = ColumnState::default();
        s.apply(&Event::SequenceStarted {
            path: p(&[0, 0]),
            prompt: String::new(),
        });
        s.apply(&step(p(&[0, 0]), "Answer: 5"));
        s.apply(&Event::SequenceStarted {
            path: p(&[0, 1]),
            prompt: String::new(),
        });
        s.apply(&Event::RevisionContext {
            path: p(&[0, 1]),
            saw: vec![p(&[0, 0])],
        });
        s.apply(&step(p(&[0, 1]), "Answer: 6"));
        assert_eq!(s.attempts().len(), 2);
        assert_eq!(s.get(&p(&[0, 1])).unwrap().saw, Some(vec![p(&[0, 0])]));
        assert_eq!(s.attempt_steps(&p(&[0, 1])), vec!["Answer: 6"]);
    }
}
