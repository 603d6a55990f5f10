//! Choosing one answer from many candidates (Snell et al. 2024 §5.1; search-and-learn's
//! `pred_maj`, `pred_naive` and `pred_weighted`): majority voting, "naive" best-of-N (the
//! single highest-scoring candidate) and "weighted" best-of-N (Li et al.: sum the scores
//! of the candidates that share a final answer, pick the largest sum).
//!
//! Ties go to the answer that appeared first, so results are deterministic and a smaller
//! budget's candidates (a prefix of a larger one's) are judged the same way.

use serde::{Deserialize, Serialize};

/// The tally for one canonical answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vote {
    pub answer: String,
    /// Candidates that reached this answer.
    pub count: u32,
    /// The sum of their scores (0 when nothing was scored).
    pub weight: f64,
}

/// How the final answer is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// The most frequent answer; scores are ignored.
    Majority,
    /// The answer of the single highest-scoring candidate.
    Naive,
    /// The answer with the largest summed score. The paper's choice.
    #[default]
    Weighted,
}

impl Selection {
    pub fn name(self) -> &'static str {
        match self {
            Selection::Majority => "majority",
            Selection::Naive => "naive",
            Selection::Weighted => "weighted",
        }
    }

    pub fn from_name(name: &str) -> Option<Selection> {
        [Selection::Majority, Selection::Naive, Selection::Weighted]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// One candidate as the vote sees it: its canonical answer and its score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ballot<'a> {
    pub answer: Option<&'a str>,
    pub score: f64,
}

/// The result of a vote.
#[derive(Clone, Debug, PartialEq)]
pub struct Selected {
    pub answer: Option<String>,
    /// Every answer's tally, in order of first appearance.
    pub votes: Vec<Vote>,
    /// The ballot that carries the answer: the best one for naive selection, the first
    /// one with the winning answer otherwise.
    pub winner: Option<usize>,
}

/// Tallies of the ballots that have an answer, in order of first appearance.
pub fn tally(ballots: &[Ballot<'_>]) -> Vec<Vote> {
    let mut votes: Vec<Vote> = Vec::new();
    for ballot in ballots {
        let Some(answer) = ballot.answer else {
            continue;
        };
        match votes.iter_mut().find(|v| v.answer == answer) {
            Some(v) => {
                v.count += 1;
                v.weight += ballot.score;
            }
            None => votes.push(Vote {
                answer: answer.to_string(),
                count: 1,
                weight: ballot.score,
            }),
        }
    }
    votes
}

/// Chooses an answer. Ballots without an answer never win; if none has one, the answer
/// is `None`.
pub fn select(ballots: &[Ballot<'_>], how: Selection) -> Selected {
    let votes = tally(ballots);
    let (answer, winner) = match how {
        Selection::Naive => {
            // Strictly greater, so the earliest of equal scores wins.
            let mut best: Option<(usize, f64)> = None;
            for (i, b) in ballots.iter().enumerate() {
                if b.answer.is_some() && best.is_none_or(|(_, s)| b.score > s) {
                    best = Some((i, b.score));
                }
            }
            let winner = best.map(|(i, _)| i);
            (
                winner.and_then(|i| ballots[i].answer.map(str::to_string)),
                winner,
            )
        }
        Selection::Majority | Selection::Weighted => {
            let answer = if how == Selection::Majority {
                first_max(&votes, |v| f64::from(v.count))
            } else {
                first_max(&votes, |v| v.weight)
            };
            let winner = answer
                .as_deref()
                .and_then(|a| ballots.iter().position(|b| b.answer == Some(a)));
            (answer, winner)
        }
    };
    Selected {
        answer,
        votes,
        winner,
    }
}

fn first_max(votes: &[Vote], key: impl Fn(&Vote) -> f64) -> Option<String> {
    let mut best: Option<&Vote> = None;
    for v in votes {
        if best.is_none_or(|b| key(v) > key(b)) {
            best = Some(v);
        }
    }
    best.map(|v| v.answer.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(answer: Option<&str>, score: f64) -> Ballot<'_> {
        Ballot { answer, score }
    }

    #[test]
    fn the_three_rules_can_disagree() {
        // "7" is most frequent, "9" has the single best score, "8" the largest sum.
        let ballots = [
            b(Some("7"), 0.1),
            b(Some("8"), 0.6),
            b(Some("7"), 0.1),
            b(Some("9"), 0.95),
            b(None, 0.99),
            b(Some("8"), 0.6),
            b(Some("7"), 0.1),
        ];
        let maj = select(&ballots, Selection::Majority);
        assert_eq!(maj.answer.as_deref(), Some("7"));
        assert_eq!(maj.winner, Some(0));
        let naive = select(&ballots, Selection::Naive);
        assert_eq!(naive.answer.as_deref(), Some("9"));
        assert_eq!(naive.winner, Some(3));
        let weighted = select(&ballots, Selection::Weighted);
        assert_eq!(weighted.answer.as_deref(), Some("8"));
        assert_eq!(weighted.winner, Some(1));
        let counts: Vec<(&str, u32)> = weighted
            .votes
            .iter()
            .map(|v| (v.answer.as_str(), v.count))
            .collect();
        assert_eq!(counts, [("7", 3), ("8", 2), ("9", 1)]);
        assert!((weighted.votes[1].weight - 1.2).abs() < 1e-12);
    }

    #[test]
    fn ties_go_to_the_first_answer_and_no_answer_never_wins() {
        let ballots = [b(Some("b"), 0.5), b(Some("a"), 0.5)];
        for how in [Selection::Majority, Selection::Naive, Selection::Weighted] {
            assert_eq!(select(&ballots, how).answer.as_deref(), Some("b"));
        }
        let none = [b(None, 1.0), b(None, 0.2)];
        let s = select(&none, Selection::Weighted);
        assert_eq!((s.answer, s.winner, s.votes.len()), (None, None, 0));
        assert_eq!(select(&none, Selection::Naive).answer, None);
    }
}
