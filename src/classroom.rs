//! Classroom mode's timeline: both columns' events of one finished race, interleaved at
//! equal compute (as the race drew them), and a caption in plain words for each. Stepping
//! back and forth folds a prefix of this timeline, so "back" shows exactly what was shown.
//! Pure Rust, tested natively.

use ponder_core::accounting::Compute;
use ponder_core::event::Event;
use ponder_core::Path;

use crate::column_state::{attempt_label, ColumnState};
use crate::race::clock;
use crate::race_summary::short_score;

/// One event of the timeline and the column it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct Moment {
    pub col: usize,
    pub event: Event,
    /// The column's compute once this event happened, on the last event of each batch.
    pub compute: Option<Compute>,
}

/// Both columns' batches merged by the race clock: the batch computed with less compute
/// comes first, the left column first on a tie; events keep their order within a batch.
pub fn timeline(columns: [&[(Compute, Vec<Event>)]; 2]) -> Vec<Moment> {
    let mut next = [0usize, 0usize];
    let mut out = Vec::new();
    loop {
        let at = |col: usize| columns[col].get(next[col]).map(|(c, _)| clock(c));
        let col = match (at(0), at(1)) {
            (None, None) => break,
            (Some(_), None) => 0,
            (None, Some(_)) => 1,
            (Some(l), Some(r)) => usize::from(r < l),
        };
        let (compute, events) = &columns[col][next[col]];
        let last = events.len().saturating_sub(1);
        out.extend(events.iter().enumerate().map(|(i, e)| Moment {
            col,
            event: e.clone(),
            compute: (i == last).then_some(*compute),
        }));
        next[col] += 1;
    }
    out
}

/// The columns' states after the first `k` moments.
pub fn fold(moments: &[Moment], k: usize) -> [ColumnState; 2] {
    let mut states = [ColumnState::default(), ColumnState::default()];
    for m in &moments[..k.min(moments.len())] {
        states[m.col].apply(&m.event);
        if let Some(compute) = m.compute {
            states[m.col].compute = compute;
        }
    }
    states
}

fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// What the moment shows, in a sentence: `who` names the column ("Best-of-N"), `before`
/// is its state before the event.
pub fn caption(who: &str, event: &Event, before: &ColumnState, revisions: bool) -> String {
    let name = |p: &Path| attempt_label(p, revisions);
    match event {
        Event::SequenceStarted { path, .. } if path.0.is_empty() => {
            format!("{who} reads the problem.")
        }
        Event::SequenceStarted { path, .. } if revisions && path.0.get(1) == Some(&0) => {
            format!("{who} starts chain {} with a first attempt.", path.0[0] + 1)
        }
        Event::SequenceStarted { path, .. } => format!("{who} starts attempt {}.", name(path)),
        Event::RevisionContext { path, saw } => {
            let seen: Vec<String> = saw.iter().map(name).collect();
            if seen.is_empty() {
                format!(
                    "Revision {} sees no earlier attempt: none fits the model's context.",
                    name(path)
                )
            } else {
                format!(
                    "Revision {} sees attempt{} {} before it writes.",
                    name(path),
                    if seen.len() == 1 { "" } else { "s" },
                    list(&seen)
                )
            }
        }
        Event::StepSampled {
            path, step, text, ..
        } => {
            let line = text.trim_end();
            format!(
                "{who}: attempt {} writes {} {line}",
                name(path),
                if line.starts_with("Answer") {
                    "its answer line:".to_string()
                } else {
                    format!("step {}:", step + 1)
                }
            )
        }
        Event::LookaheadRolledOut { path, steps, .. } => format!(
            "{who} rolls attempt {} {} steps ahead to judge it.",
            name(path),
            steps.len()
        ),
        Event::StepScored {
            path,
            scores,
            value,
        } => {
            let last = scores.last().copied().unwrap_or(*value);
            format!(
                "The verifier rates attempt {}'s step {} at {} (the attempt counts {}).",
                name(path),
                scores.len(),
                short_score(last),
                short_score(*value)
            )
        }
        Event::BeamPruned {
            round,
            kept,
            pruned,
        } => {
            let values: Vec<f32> = kept
                .iter()
                .filter_map(|p| before.get(p).and_then(|n| n.value))
                .collect();
            let lowest = values.iter().copied().fold(f32::INFINITY, f32::min);
            let kept_words = if values.is_empty() {
                String::new()
            } else {
                format!(", scored {} or more,", short_score(lowest))
            };
            format!(
                "Round {round}: the verifier keeps {} candidate{}{kept_words} and drops {}.",
                kept.len(),
                if kept.len() == 1 { "" } else { "s" },
                pruned.len()
            )
        }
        Event::AttemptFinished { path, answer, .. } => {
            let said = answer.clone().unwrap_or_else(|| "nothing".into());
            let earlier = revisions
                .then(|| {
                    let (chain, t) = (*path.0.first()?, *path.0.get(1)?);
                    let previous = before.get(&Path(vec![chain, t.checked_sub(1)?]))?;
                    previous.answer.clone()
                })
                .flatten();
            match earlier {
                Some(Some(old)) if Some(&old) == answer.as_ref() => {
                    format!("Revision {} keeps the answer {said}.", name(path))
                }
                Some(Some(old)) => format!(
                    "Revision {} changes the answer from {old} to {said}.",
                    name(path)
                ),
                _ => format!("Attempt {} answers {said}.", name(path)),
            }
        }
        Event::AnswerSelected { answer, votes } => {
            let said = answer.clone().unwrap_or_else(|| "no answer".into());
            let count = votes
                .iter()
                .find(|v| Some(&v.answer) == answer.as_ref())
                .map_or(0, |v| v.count);
            format!(
                "{who} chooses {said}, given by {count} attempt{} of {}.",
                if count == 1 { "" } else { "s" },
                votes.iter().map(|v| v.count).sum::<u32>()
            )
        }
        Event::ComputeSpent { .. } => format!("{who} counts its compute."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ponder_core::strategy::vote::Vote;
    use ponder_core::Finish;

    fn at(tokens: u64) -> Compute {
        Compute {
            policy_tokens: tokens,
            policy_parameters: 1,
            ..Compute::default()
        }
    }

    fn started(i: u32) -> Event {
        Event::SequenceStarted {
            path: Path(vec![i]),
            prompt: String::new(),
        }
    }

    #[test]
    fn the_timeline_interleaves_at_equal_compute() {
        let left = vec![(at(5), vec![started(0)]), (at(20), vec![started(1)])];
        let right = vec![(at(5), vec![started(7)]), (at(10), vec![started(8)])];
        let t = timeline([&left, &right]);
        assert_eq!(t[3].compute.map(|c| c.policy_tokens), Some(20));
        let order: Vec<(usize, Event)> = t.into_iter().map(|m| (m.col, m.event)).collect();
        assert_eq!(
            order,
            vec![
                (0, started(0)),
                (1, started(7)),
                (1, started(8)),
                (0, started(1))
            ]
        );
    }

    #[test]
    fn stepping_back_shows_exactly_what_was_shown() {
        let left = vec![(
            at(3),
            vec![
                started(0),
                Event::StepSampled {
                    path: Path(vec![0]),
                    step: 0,
                    text: "1+2=3\n".into(),
                    tokens: 3,
                    finish: Finish::StepEnd,
                },
            ],
        )];
        let t = timeline([&left, &[]]);
        let forward = fold(&t, 2);
        let _ = fold(&t, 1);
        assert_eq!(fold(&t, 2), forward);
        assert_eq!(fold(&t, 1)[0].nodes[0].steps.len(), 0);
        assert_eq!(forward[0].nodes[0].steps, vec!["1+2=3\n"]);
    }

    #[test]
    fn captions_say_what_happened() {
        let mut s = ColumnState::default();
        let first = Path(vec![0, 0]);
        s.apply(&Event::AttemptFinished {
            path: first.clone(),
            answer: Some("56".into()),
            finish: Finish::AnswerEnd,
        });
        let revised = Event::AttemptFinished {
            path: Path(vec![0, 1]),
            answer: Some("64".into()),
            finish: Finish::AnswerEnd,
        };
        assert_eq!(
            caption("Revisions", &revised, &s, true),
            "Revision 1·2 changes the answer from 56 to 64."
        );
        let saw = Event::RevisionContext {
            path: Path(vec![0, 2]),
            saw: vec![Path(vec![0, 0]), Path(vec![0, 1])],
        };
        assert_eq!(
            caption("Revisions", &saw, &s, true),
            "Revision 1·3 sees attempts 1·1 and 1·2 before it writes."
        );
        let chosen = Event::AnswerSelected {
            answer: Some("64".into()),
            votes: vec![
                Vote {
                    answer: "56".into(),
                    count: 1,
                    weight: 0.2,
                },
                Vote {
                    answer: "64".into(),
                    count: 3,
                    weight: 0.9,
                },
            ],
        };
        assert_eq!(
            caption("Best-of-N", &chosen, &s, false),
            "Best-of-N chooses 64, given by 3 attempts of 4."
        );
        let scored = Event::StepScored {
            path: Path(vec![3]),
            scores: vec![0.5, 0.12],
            value: 0.12,
        };
        assert_eq!(
            caption("Beam search", &scored, &s, false),
            "The verifier rates attempt #3's step 2 at .12 (the attempt counts .12)."
        );
    }
}
