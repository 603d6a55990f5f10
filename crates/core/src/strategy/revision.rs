//! Sequential revisions (Snell et al. 2024 §6, App. I): chains of attempts, each attempt
//! conditioned on the chain's earlier ones, with the context truncated to the most recent
//! 4 attempts (so chains can run longer than the 4 the revision model was trained on).
//!
//! About 38% of correct answers are revised into incorrect ones later in a chain, so the
//! final answer is *selected*, three ways:
//! - `last`: each chain's last attempt (a majority over chains when there are several);
//! - `majority`: a flat majority over all attempts of all chains (the paper's choice;
//!   hierarchical majority was unstable at small sizes);
//! - `verifier`: hierarchical weighted best-of-N: within each chain, then across the
//!   chains' winners, each winner weighted by its summed score within its chain.
//!
//! The paper's verifier here is an ORM trained on revision outputs with the history in
//! its context. Ponder's [`Verifier`] scores each attempt on its own (which the paper
//! found slightly worse, Fig. 15b), and the built-in one is the PRM trained on S's
//! samples, not on R's: the paper found such a base-policy PRM to transfer poorly to
//! revision outputs (Fig. 15a), so `verifier` selection here is weaker than the paper's.

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::path::Path;
use crate::policy::Policy;
use crate::task::Task;
use crate::verifier::Verifier;

use super::aggregate::StepAggregation;
use super::beam::DEFAULT_ROUNDS;
use super::run::Run;
use super::sample::{finish_attempts, Attempt};
use super::vote::{self, Ballot, Selection};
use super::{config_error, stream, Candidate, Context, Outcome, StrategyError, Trace};

/// How many earlier attempts a revision sees (§6: "the 4 most recent").
pub const DEFAULT_CONTEXT_ATTEMPTS: usize = 4;

/// How the final answer is chosen from the chains.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisionSelection {
    Last,
    Majority,
    #[default]
    Verifier,
}

impl RevisionSelection {
    pub const ALL: [RevisionSelection; 3] = [
        RevisionSelection::Last,
        RevisionSelection::Majority,
        RevisionSelection::Verifier,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RevisionSelection::Last => "last",
            RevisionSelection::Majority => "majority",
            RevisionSelection::Verifier => "verifier",
        }
    }

    pub fn from_name(name: &str) -> Option<RevisionSelection> {
        RevisionSelection::ALL
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// One chain: its attempts, oldest first, and (with verifier selection) its own pick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevisionChain {
    /// Indices of the chain's attempts in the outcome's candidates.
    pub attempts: Vec<usize>,
    /// The chain's winner under within-chain weighted best-of-N (verifier selection only).
    pub pick: Option<String>,
    /// The winner's summed score within the chain.
    pub pick_weight: f64,
}

/// The prompt of a chain's next attempt: the problem with the `most` most recent
/// attempts. Where the policy has a context limit and the prompt would leave less room
/// than the chain's first attempt took, the oldest attempts are dropped until it fits;
/// if even the latest alone does not, the attempt starts afresh from the problem. Also
/// returns where in the chain the attempts it shows begin (the chain's length when it
/// shows none).
fn revision_prompt<P: Policy, V: Verifier, T: Task>(
    run: &Run<'_, '_, P, V, T>,
    task: &T,
    problem: &T::Problem,
    chain: &[Candidate],
    most: usize,
) -> (String, usize) {
    let need = chain.first().map_or(1, |c| c.tokens().max(1));
    for from in chain.len().saturating_sub(most)..chain.len() {
        let texts: Vec<String> = chain[from..].iter().map(Candidate::text).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let prompt = task.revision_prompt(problem, &refs);
        if run
            .ctx
            .policy
            .room_after(&prompt)
            .is_none_or(|room| room >= need)
        {
            return (prompt, from);
        }
    }
    (task.prompt(problem), chain.len())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequentialRevisions {
    /// Parallel chains.
    pub chains: usize,
    /// Attempts per chain (the first attempt plus length − 1 revisions).
    pub length: usize,
    /// Earlier attempts shown to each revision, most recent kept.
    pub context_attempts: usize,
    pub selection: RevisionSelection,
    /// How an attempt's step scores become its score (verifier selection).
    pub aggregation: StepAggregation,
    /// The most steps per attempt; the last runs to the end.
    pub max_steps: usize,
}

impl SequentialRevisions {
    pub fn new(chains: usize, length: usize, selection: RevisionSelection) -> SequentialRevisions {
        SequentialRevisions {
            chains,
            length,
            context_attempts: DEFAULT_CONTEXT_ATTEMPTS,
            selection,
            aggregation: StepAggregation::Last,
            max_steps: DEFAULT_ROUNDS,
        }
    }

    /// chains × length generations.
    pub fn generations(&self) -> u64 {
        self.chains as u64 * self.length as u64
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
        if self.chains == 0 || self.length == 0 {
            return Err(config_error(
                "sequential revisions",
                format!(
                    "chains ({}) and chain length ({}) must both be at least 1",
                    self.chains, self.length
                ),
            ));
        }
        if self.context_attempts == 0 {
            return Err(config_error(
                "sequential revisions",
                "a revision must see at least 1 earlier attempt",
            ));
        }
        let (task, problem) = (ctx.task, ctx.problem);
        let mut run = Run::new(ctx, stream::REVISIONS, self.generations());
        // by_chain[c][t]: attempt t of chain c.
        let mut by_chain: Vec<Vec<Candidate>> = vec![Vec::new(); self.chains];
        for t in 0..self.length {
            // Every chain's attempt t is sampled together; each starts a fresh sequence
            // because truncation changes the context, not just its end.
            let mut attempts = Vec::with_capacity(self.chains);
            for (c, chain) in by_chain.iter().enumerate() {
                let (prompt, from) = if t == 0 {
                    (task.prompt(problem), 0)
                } else {
                    revision_prompt(&run, task, problem, chain, self.context_attempts)
                };
                let path = Path(vec![c as u32, t as u32]);
                let seq = run.start(&path, &prompt)?;
                if t > 0 {
                    // What this revision really saw: the context may have dropped some.
                    let saw = chain[from..].iter().map(|a| a.path.clone()).collect();
                    run.emit(Event::RevisionContext {
                        path: path.clone(),
                        saw,
                    });
                }
                attempts.push(Attempt {
                    seq,
                    candidate: Candidate::new(path),
                });
            }
            let done = finish_attempts(&mut run, attempts, self.max_steps).await?;
            for (chain, attempt) in by_chain.iter_mut().zip(done) {
                chain.push(attempt);
            }
        }
        let mut candidates = Vec::with_capacity(self.chains * self.length);
        let mut chains = Vec::with_capacity(self.chains);
        for chain in by_chain {
            let start = candidates.len();
            candidates.extend(chain);
            chains.push(RevisionChain {
                attempts: (start..candidates.len()).collect(),
                pick: None,
                pick_weight: 0.0,
            });
        }
        let answer_of = |i: usize| candidates[i].answer.as_deref();
        let selected = match self.selection {
            RevisionSelection::Last => {
                let ballots: Vec<Ballot<'_>> = chains
                    .iter()
                    .filter_map(|ch| ch.attempts.last())
                    .map(|&i| Ballot {
                        answer: answer_of(i),
                        score: 0.0,
                    })
                    .collect();
                run.select(&ballots, Selection::Majority)
            }
            RevisionSelection::Majority => {
                let ballots: Vec<Ballot<'_>> = (0..candidates.len())
                    .map(|i| Ballot {
                        answer: answer_of(i),
                        score: 0.0,
                    })
                    .collect();
                run.select(&ballots, Selection::Majority)
            }
            RevisionSelection::Verifier => {
                let values: Vec<f64> = run
                    .score_candidates(candidates.iter_mut().collect(), self.aggregation)
                    .await?
                    .into_iter()
                    .map(f64::from)
                    .collect();
                for chain in &mut chains {
                    let ballots: Vec<Ballot<'_>> = chain
                        .attempts
                        .iter()
                        .map(|&i| Ballot {
                            answer: candidates[i].answer.as_deref(),
                            score: values[i],
                        })
                        .collect();
                    let within = vote::select(&ballots, Selection::Weighted);
                    chain.pick_weight = within
                        .votes
                        .iter()
                        .find(|v| Some(&v.answer) == within.answer.as_ref())
                        .map_or(0.0, |v| v.weight);
                    chain.pick = within.answer;
                }
                let ballots: Vec<Ballot<'_>> = chains
                    .iter()
                    .map(|ch| Ballot {
                        answer: ch.pick.as_deref(),
                        score: ch.pick_weight,
                    })
                    .collect();
                run.select(&ballots, Selection::Weighted)
            }
        };
        Ok(Outcome {
            answer: selected.answer,
            votes: selected.votes,
            compute: run.compute,
            candidates,
            trace: Trace::Revisions { chains },
        })
    }
}
