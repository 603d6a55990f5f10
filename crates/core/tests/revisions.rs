//! Sequential revisions and the parallel/sequential mix, on chains whose every attempt is
//! scripted: the context each revision sees, the three final-answer selections, the split
//! of a budget into chains, and the cost.

mod common;

use common::*;
use ponder_core::event::Event;
use ponder_core::path::Path;
use ponder_core::strategy::vote::{select, Ballot};
use ponder_core::strategy::{
    stream, Context, ParallelSequentialMix, RevisionSelection, Selection, SequentialRevisions,
    StepAggregation,
};
use ponder_core::testing::{tag_verifier, LineTask, ScriptedPolicy};
use ponder_core::{Outcome, Trace};

/// Three chains of six attempts. Each attempt is one line, `answer: X [score]`.
/// - last attempts: 4, 6, 6 → `last` picks 6;
/// - all attempts: 3 appears 6 times → `majority` picks 3;
/// - within chains (weighted): 4 (1.8), 6 (1.3), 9 (.95) → across chains 4, where a flat
///   weighted vote over all attempts would pick 3 (.9 + .3 + .9 = 2.1 against 4's 2.0).
const ANSWERS: [[&str; 6]; 3] = [
    ["3", "4", "3", "5", "5", "4"],
    ["4", "4", "6", "3", "6", "6"],
    ["7", "3", "3", "3", "9", "6"],
];
const SCORES: [[f32; 6]; 3] = [
    [0.45, 0.9, 0.45, 0.4, 0.4, 0.9],
    [0.1, 0.1, 0.9, 0.3, 0.2, 0.2],
    [0.3, 0.3, 0.3, 0.3, 0.95, 0.1],
];

fn attempt_text(c: usize, t: usize) -> String {
    format!("answer: {} [{}]\n", ANSWERS[c][t], SCORES[c][t])
}

fn run(revisions: &SequentialRevisions, events: &mut Vec<Event>) -> (Outcome, Vec<usize>) {
    let mut policy = ScriptedPolicy::new(
        POLICY_PARAMS,
        keyed_script(stream::REVISIONS, 6, 2, |path, _| {
            let path = path.expect("sampled");
            assert_eq!(path.depth(), 2, "attempts live at [chain, attempt]");
            attempt_text(path.0[0] as usize, path.0[1] as usize)
        }),
    );
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut sink = recorder(events);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
        .with_seed(SEED)
        .with_problem_id(PROBLEM_ID)
        .with_sink(&mut sink);
    let out = revisions.run(&mut ctx).expect("runs");
    assert_eq!(policy.live_sequences(), 0);
    (out, verifier.calls)
}

#[test]
fn each_selection_picks_its_known_answer() {
    let cases = [
        (RevisionSelection::Last, "6"),
        (RevisionSelection::Majority, "3"),
        (RevisionSelection::Verifier, "4"),
    ];
    for (selection, want) in cases {
        let (out, calls) = run(&SequentialRevisions::new(3, 6, selection), &mut Vec::new());
        assert_eq!(out.answer.as_deref(), Some(want), "{selection:?}");
        // Only verifier selection pays for the verifier.
        let expected_calls: &[usize] = if selection == RevisionSelection::Verifier {
            &[18]
        } else {
            &[]
        };
        assert_eq!(calls, expected_calls, "{selection:?}");
    }
}

#[test]
fn verifier_selection_is_hierarchical() {
    let (out, _) = run(
        &SequentialRevisions::new(3, 6, RevisionSelection::Verifier),
        &mut Vec::new(),
    );
    let Trace::Revisions { chains } = &out.trace else {
        panic!("revisions report chains, got {:?}", out.trace);
    };
    let picks: Vec<Option<&str>> = chains.iter().map(|c| c.pick.as_deref()).collect();
    assert_eq!(picks, [Some("4"), Some("6"), Some("9")]);
    assert!(close(chains[0].pick_weight, 1.8));
    assert!(close(chains[1].pick_weight, 1.3));
    assert!(close(chains[2].pick_weight, 0.95));
    // The final votes are over chain winners, not over attempts: one ballot per chain.
    let votes: Vec<(&str, u32)> = out
        .votes
        .iter()
        .map(|v| (v.answer.as_str(), v.count))
        .collect();
    assert_eq!(votes, [("4", 1), ("6", 1), ("9", 1)]);
    assert_eq!(chains[1].attempts, (6..12).collect::<Vec<_>>());
    // The hierarchy matters: a flat weighted vote over the same scored attempts picks 3.
    let ballots: Vec<Ballot<'_>> = out
        .candidates
        .iter()
        .map(|c| Ballot {
            answer: c.answer.as_deref(),
            score: f64::from(StepAggregation::Last.apply(&c.scores)),
        })
        .collect();
    assert_eq!(
        select(&ballots, Selection::Weighted).answer.as_deref(),
        Some("3")
    );
}

#[test]
fn majority_counts_every_attempt_of_every_chain() {
    let (out, _) = run(
        &SequentialRevisions::new(3, 6, RevisionSelection::Majority),
        &mut Vec::new(),
    );
    let total: u32 = out.votes.iter().map(|v| v.count).sum();
    assert_eq!(total, 18);
    assert_eq!(
        out.votes.iter().find(|v| v.answer == "3").map(|v| v.count),
        Some(6)
    );
}

#[test]
fn revisions_see_at_most_the_four_most_recent_attempts() {
    let mut events = Vec::new();
    run(
        &SequentialRevisions::new(3, 6, RevisionSelection::Last),
        &mut events,
    );
    let prompt_of = |path: Path| {
        events
            .iter()
            .find_map(|e| match e {
                Event::SequenceStarted { path: p, prompt } if *p == path => Some(prompt.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no sequence started at {path}"))
    };
    let with_attempts = |chain: usize, ts: &[usize]| {
        let mut s = String::from("Q: q\n");
        for &t in ts {
            s.push_str("attempt:\n");
            s.push_str(&attempt_text(chain, t));
        }
        s.push_str("revise:\n");
        s
    };
    assert_eq!(prompt_of(p(&[0, 0])), "Q: q\n");
    assert_eq!(prompt_of(p(&[1, 2])), with_attempts(1, &[0, 1]));
    assert_eq!(prompt_of(p(&[2, 4])), with_attempts(2, &[0, 1, 2, 3]));
    // From the sixth attempt on, the oldest fall out of the context.
    assert_eq!(prompt_of(p(&[0, 5])), with_attempts(0, &[1, 2, 3, 4]));
    let started = events
        .iter()
        .filter(|e| matches!(e, Event::SequenceStarted { .. }))
        .count();
    assert_eq!(started, 18);

    // A shorter context truncates sooner.
    let mut events = Vec::new();
    let short = SequentialRevisions {
        context_attempts: 2,
        ..SequentialRevisions::new(1, 4, RevisionSelection::Last)
    };
    run(&short, &mut events);
    let prompt = events.iter().find_map(|e| match e {
        Event::SequenceStarted { path, prompt } if *path == p(&[0, 3]) => Some(prompt.clone()),
        _ => None,
    });
    assert_eq!(prompt, Some(with_attempts(0, &[1, 2])));
}

#[test]
fn compute_is_chains_times_length() {
    let (out, _) = run(
        &SequentialRevisions::new(3, 6, RevisionSelection::Verifier),
        &mut Vec::new(),
    );
    assert_eq!(out.compute.generations, 18);
    assert_eq!(out.compute.policy_tokens, 18 * 3);
    assert_eq!(out.compute.verifier_tokens, 1 + 18 * 3);
    assert_eq!(out.candidates.len(), 18);
    assert_eq!(out.candidates[7].path, p(&[1, 1]));
}

#[test]
fn a_single_chain_with_last_selection_takes_its_last_attempt() {
    let (out, _) = run(
        &SequentialRevisions::new(1, 3, RevisionSelection::Last),
        &mut Vec::new(),
    );
    // Chain 0's attempts: 3, 4, 3 — the last, not the most frequent or best.
    assert_eq!(out.answer.as_deref(), Some("3"));
    let (out, _) = run(
        &SequentialRevisions::new(1, 2, RevisionSelection::Last),
        &mut Vec::new(),
    );
    assert_eq!(out.answer.as_deref(), Some("4"));
}

#[test]
fn the_mix_runs_the_chains_its_ratio_asks_for() {
    // 12 generations at sequential:parallel 4/3: L·C = 12 and L/C = 4/3 give L = 4, C = 3.
    let mix = ParallelSequentialMix::new(12, 4.0 / 3.0, RevisionSelection::Majority);
    let split = mix.split().expect("valid");
    assert_eq!((split.parallel, split.sequential), (3, 4));
    let (mixed, _) = {
        let mut policy = ScriptedPolicy::new(
            POLICY_PARAMS,
            keyed_script(stream::REVISIONS, 6, 2, |path, _| {
                let path = path.expect("sampled");
                attempt_text(path.0[0] as usize, path.0[1] as usize)
            }),
        );
        let mut verifier = tag_verifier(VERIFIER_PARAMS);
        let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
            .with_seed(SEED)
            .with_problem_id(PROBLEM_ID);
        (mix.run(&mut ctx).expect("runs"), ())
    };
    let (direct, _) = run(
        &SequentialRevisions::new(3, 4, RevisionSelection::Majority),
        &mut Vec::new(),
    );
    assert_eq!(mixed, direct);
    let Trace::Revisions { chains } = &mixed.trace else {
        panic!("chains expected");
    };
    assert_eq!(chains.len(), 3);
    assert!(chains.iter().all(|c| c.attempts.len() == 4));
    assert_eq!(mixed.compute.generations, 12);
    // Fully sequential and fully parallel ends of the same budget.
    let seq = ParallelSequentialMix::new(12, 1e9, RevisionSelection::Last)
        .split()
        .expect("valid");
    assert_eq!((seq.parallel, seq.sequential), (1, 12));
    let par = ParallelSequentialMix::new(12, 1e-9, RevisionSelection::Last)
        .split()
        .expect("valid");
    assert_eq!((par.parallel, par.sequential), (12, 1));
}

#[test]
fn empty_chains_are_configuration_errors() {
    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, hashing_script);
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
    assert!(SequentialRevisions::new(0, 4, RevisionSelection::Last)
        .run(&mut ctx)
        .is_err());
    assert!(SequentialRevisions::new(2, 0, RevisionSelection::Last)
        .run(&mut ctx)
        .is_err());
    let no_context = SequentialRevisions {
        context_attempts: 0,
        ..SequentialRevisions::new(2, 2, RevisionSelection::Last)
    };
    assert!(no_context.run(&mut ctx).is_err());
    assert!(ParallelSequentialMix::new(8, 0.0, RevisionSelection::Last)
        .run(&mut ctx)
        .is_err());
}

#[test]
fn attempts_that_overflow_the_context_are_dropped_oldest_first() {
    use ponder_core::Task;
    // One chain of four attempts; the second runs away (over 100 words) and the policy's
    // context holds 60 words.
    let mut n = 0;
    let mut policy = ScriptedPolicy::new(
        POLICY_PARAMS,
        |_: &ponder_core::testing::ScriptInput<'_>| {
            n += 1;
            match n {
                2 => format!("answer: 2 {}[0.5]\n", "w ".repeat(100)),
                k => format!("answer: {k} [0.5]\n"),
            }
        },
    );
    policy.context = Some(60);
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
    let out = SequentialRevisions::new(1, 4, RevisionSelection::Last)
        .run(&mut ctx)
        .expect("a runaway attempt does not stop the chain");
    assert_eq!(out.answer.as_deref(), Some("4"));
    let started = &policy.started;
    assert_eq!(started.len(), 4);
    // Attempt 1 sees attempt 0.
    assert!(started[1].contains("answer: 1"), "{}", started[1]);
    // Attempt 2: the runaway alone does not fit, so it starts afresh from the problem.
    assert_eq!(started[2], LineTask.prompt(PROBLEM));
    // Attempt 3: attempts 0 and 1 are dropped, attempt 2 is kept.
    assert!(started[3].contains("answer: 3"), "{}", started[3]);
    assert!(!started[3].contains("answer: 2") && !started[3].contains("answer: 1"));
    assert_eq!(policy.live_sequences(), 0);
}
