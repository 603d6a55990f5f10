//! Beam search, lookahead search and DVTS on scripted trees whose every step and score is
//! known, so each round's pruning, the final candidates, the vote and the cost can be
//! checked exactly.

mod common;

use common::*;
use ponder_core::event::Event;
use ponder_core::path::Path;
use ponder_core::strategy::{
    stream, BeamRound, BeamSearch, BeamWidth, Context, Dvts, LookaheadSearch, Selection,
};
use ponder_core::testing::{tag_verifier, LineTask, ScriptInput, ScriptedPolicy};
use ponder_core::{Outcome, Trace};

/// N = 4, M = 2. Round 1: [1] and [3] survive. Round 2: [1,0] finishes; of the three
/// open beams [3,0] (.95) and [1,1] (.6) survive and share the 3 slots 2 + 1. Round 3:
/// everything answers.
fn beam_tree(path: &Path) -> &'static str {
    match path.0.as_slice() {
        [0] => "r1 [0.2]",
        [1] => "r1 [0.9]",
        [2] => "r1 [0.5]",
        [3] => "r1 [0.7]",
        [1, 0] => "answer: A [0.8]",
        [1, 1] => "r2 [0.6]",
        [3, 0] => "r2 [0.95]",
        [3, 1] => "r2 [0.1]",
        [3, 0, 0] => "answer: B [0.7]",
        [3, 0, 1] => "answer: B [0.5]",
        [1, 1, 0] => "answer: C [0.2]",
        other => panic!("the search sampled an unexpected path {other:?}"),
    }
}

fn run_beam(search: &BeamSearch, events: &mut Vec<Event>) -> (Outcome, Vec<usize>, usize) {
    let mut policy = ScriptedPolicy::new(
        POLICY_PARAMS,
        keyed_script(stream::TREE, 4, 3, |path, _| {
            beam_tree(path.expect("sampled")).to_string()
        }),
    );
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut sink = recorder(events);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
        .with_seed(SEED)
        .with_problem_id(PROBLEM_ID)
        .with_sink(&mut sink);
    let out = search.run(&mut ctx).expect("runs");
    (out, verifier.calls, policy.live_sequences())
}

#[test]
fn beam_search_keeps_the_top_n_over_m_and_refills_every_slot() {
    let mut events = Vec::new();
    let (out, verifier_calls, leaked) =
        run_beam(&BeamSearch::new(4, BeamWidth::Fixed(2)), &mut events);
    let Trace::Beam { rounds } = &out.trace else {
        panic!("beam search reports rounds, got {:?}", out.trace);
    };
    let expected = [
        BeamRound {
            round: 1,
            stepped: 4,
            finished: vec![],
            kept: vec![p(&[1]), p(&[3])],
            pruned: vec![p(&[2]), p(&[0])],
        },
        BeamRound {
            round: 2,
            stepped: 4,
            finished: vec![p(&[1, 0])],
            kept: vec![p(&[3, 0]), p(&[1, 1])],
            pruned: vec![p(&[3, 1])],
        },
        BeamRound {
            round: 3,
            stepped: 3,
            finished: vec![p(&[3, 0, 0]), p(&[3, 0, 1]), p(&[1, 1, 0])],
            kept: vec![],
            pruned: vec![],
        },
    ];
    assert_eq!(rounds.as_slice(), expected);
    let finals: Vec<&Path> = out.candidates.iter().map(|c| &c.path).collect();
    assert_eq!(
        finals,
        [&p(&[1, 0]), &p(&[3, 0, 0]), &p(&[3, 0, 1]), &p(&[1, 1, 0])]
    );
    // Weighted: B = .7 + .5 beats A = .8 and C = .2.
    assert_eq!(out.answer.as_deref(), Some("B"));
    let votes: Vec<(&str, u32)> = out
        .votes
        .iter()
        .map(|v| (v.answer.as_str(), v.count))
        .collect();
    assert_eq!(votes, [("A", 1), ("B", 2), ("C", 1)]);
    assert!(close(out.votes[1].weight, 1.2));
    assert_eq!(
        out.candidates[1].text(),
        "r1 [0.7]\nr2 [0.95]\nanswer: B [0.7]\n"
    );
    assert_eq!(out.candidates[1].scores, [0.7, 0.95, 0.7]);

    // Cost: N generations; tokens are the words of every sampled step, and the verifier
    // reads the problem once per round and every step of every live beam.
    assert_eq!(out.compute.generations, 4);
    assert_eq!(out.compute.policy_tokens, 4 * 2 + (3 + 3 * 2) + 3 * 3);
    assert_eq!(verifier_calls, [4, 4, 3]);
    assert_eq!(
        out.compute.verifier_tokens,
        (1 + 4 * 2) + (1 + 5 + 3 * 4) + (1 + 3 * 7)
    );
    assert_eq!(leaked, 0);

    // The events tell the same story.
    let pruned: Vec<(usize, usize, usize)> = events
        .iter()
        .filter_map(|e| match e {
            Event::BeamPruned {
                round,
                kept,
                pruned,
            } => Some((*round, kept.len(), pruned.len())),
            _ => None,
        })
        .collect();
    assert_eq!(pruned, [(1, 2, 2), (2, 2, 1)]);
    let sampled = events
        .iter()
        .filter(|e| matches!(e, Event::StepSampled { .. }))
        .count();
    assert_eq!(sampled, 4 + 4 + 3);
    let last_compute = events.iter().rev().find_map(|e| match e {
        Event::ComputeSpent { compute } => Some(*compute),
        _ => None,
    });
    assert_eq!(last_compute, Some(out.compute));
}

#[test]
fn naive_selection_takes_the_single_best_final_beam() {
    let search = BeamSearch {
        selection: Selection::Naive,
        ..BeamSearch::new(4, BeamWidth::Fixed(2))
    };
    let (out, _, _) = run_beam(&search, &mut Vec::new());
    assert_eq!(out.answer.as_deref(), Some("A"));
}

#[test]
fn the_round_limit_runs_every_beam_to_its_end() {
    // Beams never answer on their own before step 3; with a limit of 2 rounds the second
    // round must run each survivor to the end of its attempt.
    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, |i: &ScriptInput<'_>| {
        if i.step >= 3 {
            "answer: 1".to_string()
        } else {
            format!("s{} [0.5]", i.step)
        }
    });
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
    let search = BeamSearch {
        max_rounds: 2,
        ..BeamSearch::new(4, BeamWidth::Fixed(2))
    };
    let out = search.run(&mut ctx).expect("runs");
    assert_eq!(out.candidates.len(), 4);
    for c in &out.candidates {
        assert_eq!(c.text(), "s0 [0.5]\ns1 [0.5]\ns2 [0.5]\nanswer: 1\n");
        assert_eq!(c.answer.as_deref(), Some("1"));
        // The last round's step holds everything generated after round 1.
        assert_eq!(c.steps.len(), 2);
    }
    let Trace::Beam { rounds } = &out.trace else {
        panic!("rounds expected");
    };
    assert_eq!(rounds.len(), 2);
    assert_eq!(rounds[1].finished.len(), 4);
    assert_eq!(policy.live_sequences(), 0);
}

#[test]
fn sqrt_width_keeps_the_square_root_each_round() {
    // 16 beams, M = √16 = 4: 4 survive round 1, each continued 4 ways.
    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, |i: &ScriptInput<'_>| {
        if i.step >= 2 {
            "answer: 2".to_string()
        } else {
            format!("s [{}]", (i.draw.stream % 90) as f32 / 100.0)
        }
    });
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
    let out = BeamSearch::new(16, BeamWidth::Sqrt)
        .run(&mut ctx)
        .expect("runs");
    let Trace::Beam { rounds } = &out.trace else {
        panic!("rounds expected");
    };
    let counts: Vec<(usize, usize, usize, usize)> = rounds
        .iter()
        .map(|r| (r.stepped, r.finished.len(), r.kept.len(), r.pruned.len()))
        .collect();
    assert_eq!(counts, [(16, 0, 4, 12), (16, 0, 4, 12), (16, 16, 0, 0)]);
    // Survivors are the best by score, best first.
    let value = |path: &Path| {
        let key = path.draw_key(ponder_core::strategy::root_key(0, 0, stream::TREE));
        (key.stream % 90) as f32 / 100.0
    };
    let kept: Vec<f32> = rounds[0].kept.iter().map(value).collect();
    let best_pruned = rounds[0].pruned.iter().map(value).fold(0.0, f32::max);
    assert!(kept.windows(2).all(|w| w[0] >= w[1]), "{kept:?}");
    assert!(kept.iter().all(|&k| k >= best_pruned));
    assert_eq!(out.candidates.len(), 16);
}

/// Round-1 steps whose own scores favour [1] and [3], but whose greedy rollouts reveal
/// [0] and [2] as better: rollouts continue "good" steps well and "bad" ones badly.
fn lookahead_script(path: Option<&Path>, input: &ScriptInput<'_>) -> String {
    let Some(path) = path else {
        return if input.generated.contains("good") {
            "roll [0.9]".to_string()
        } else {
            "roll [0.1]".to_string()
        };
    };
    match path.0.as_slice() {
        [0] => "good [0.2]".to_string(),
        [1] => "bad [0.9]".to_string(),
        [2] => "good [0.5]".to_string(),
        [3] => "bad [0.7]".to_string(),
        [a, b] => format!("answer: {a}{b} [0.5]"),
        other => panic!("unexpected path {other:?}"),
    }
}

fn run_lookahead(k: usize, events: &mut Vec<Event>) -> Outcome {
    let mut policy = ScriptedPolicy::new(
        POLICY_PARAMS,
        keyed_script(stream::TREE, 4, 2, lookahead_script),
    );
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut sink = recorder(events);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
        .with_seed(SEED)
        .with_problem_id(PROBLEM_ID)
        .with_sink(&mut sink);
    let out = LookaheadSearch::new(4, BeamWidth::Fixed(2), k)
        .run(&mut ctx)
        .expect("runs");
    assert_eq!(policy.live_sequences(), 0);
    out
}

#[test]
fn lookahead_ranks_by_the_value_at_the_end_of_a_greedy_rollout() {
    let mut events = Vec::new();
    let out = run_lookahead(2, &mut events);
    let Trace::Beam { rounds } = &out.trace else {
        panic!("rounds expected");
    };
    assert_eq!(rounds[0].kept, [p(&[0]), p(&[2])]);
    // The rollouts rank but are not kept: candidates hold only their own steps and scores.
    let c = &out.candidates[0];
    assert_eq!(c.path, p(&[0, 0]));
    assert_eq!(c.text(), "good [0.2]\nanswer: 00 [0.5]\n");
    assert_eq!(c.scores, [0.2, 0.5]);
    // N·(k+1) generations; rollouts of 2 steps × 2 words for 4 beams are paid for.
    assert_eq!(out.compute.generations, 4 * 3);
    assert_eq!(out.compute.policy_tokens, 4 * 2 + 4 * 2 * 2 + 4 * 3);
    // Round 1 scores each beam with its rollout (3 steps × 2 words), round 2 the answers.
    assert_eq!(out.compute.verifier_tokens, (1 + 4 * 6) + (1 + 4 * 5));
    let rollouts: Vec<(Path, usize)> = events
        .iter()
        .filter_map(|e| match e {
            Event::LookaheadRolledOut { path, steps, .. } => Some((path.clone(), steps.len())),
            _ => None,
        })
        .collect();
    assert_eq!(
        rollouts,
        [(p(&[0]), 2), (p(&[1]), 2), (p(&[2]), 2), (p(&[3]), 2)]
    );
    let sampled = events
        .iter()
        .filter(|e| matches!(e, Event::StepSampled { .. }))
        .count();
    assert_eq!(
        sampled, 8,
        "rollout steps are reported as rollouts, not samples"
    );
}

#[test]
fn lookahead_zero_is_beam_search() {
    let out = run_lookahead(0, &mut Vec::new());
    let Trace::Beam { rounds } = &out.trace else {
        panic!("rounds expected");
    };
    assert_eq!(rounds[0].kept, [p(&[1]), p(&[3])]);
    assert_eq!(out.compute.generations, 4);
}

/// N = 6, M = 3: two subtrees. Subtree 1's best first step ([1,0]) already answers, so it
/// stops at once with all three of its candidates; subtree 0 goes on from [0,1].
fn dvts_tree(path: &Path) -> &'static str {
    match path.0.as_slice() {
        [0, 0] => "a [0.3]",
        [0, 1] => "a [0.8]",
        [0, 2] => "a [0.5]",
        [1, 0] => "answer: 5 [0.5]",
        [1, 1] => "b [0.4]",
        [1, 2] => "answer: 6 [0.2]",
        [0, 1, 0] => "answer: 5 [0.3]",
        [0, 1, 1] => "answer: 7 [0.7]",
        [0, 1, 2] => "c [0.1]",
        other => panic!("unexpected path {other:?}"),
    }
}

fn run_dvts(selection: Selection, events: &mut Vec<Event>) -> (Outcome, Vec<usize>) {
    let mut policy = ScriptedPolicy::new(
        POLICY_PARAMS,
        keyed_script(stream::DVTS, 3, 3, |path, _| {
            dvts_tree(path.expect("sampled")).to_string()
        }),
    );
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut sink = recorder(events);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
        .with_seed(SEED)
        .with_problem_id(PROBLEM_ID)
        .with_sink(&mut sink);
    let dvts = Dvts {
        selection,
        ..Dvts::new(6, BeamWidth::Fixed(3))
    };
    let out = dvts.run(&mut ctx).expect("runs");
    assert_eq!(policy.live_sequences(), 0);
    (out, verifier.calls)
}

#[test]
fn dvts_grows_independent_greedy_subtrees_and_returns_all_their_leaves() {
    let mut events = Vec::new();
    let (out, calls) = run_dvts(Selection::Weighted, &mut events);
    let Trace::Dvts { subtrees } = &out.trace else {
        panic!("DVTS reports subtrees, got {:?}", out.trace);
    };
    assert_eq!(subtrees.len(), 2);
    assert_eq!(subtrees[0].path, p(&[0]));
    assert_eq!(subtrees[0].greedy_path, [p(&[0, 1])]);
    assert_eq!(subtrees[0].candidates, [0, 1, 2]);
    assert_eq!(subtrees[1].greedy_path, Vec::<Path>::new());
    assert_eq!(subtrees[1].candidates, [3, 4, 5]);
    let finals: Vec<Path> = out.candidates.iter().map(|c| c.path.clone()).collect();
    assert_eq!(
        finals,
        [
            p(&[0, 1, 0]),
            p(&[0, 1, 1]),
            p(&[0, 1, 2]),
            p(&[1, 0]),
            p(&[1, 1]),
            p(&[1, 2])
        ]
    );
    let answers: Vec<Option<&str>> = out.candidates.iter().map(|c| c.answer.as_deref()).collect();
    assert_eq!(
        answers,
        [Some("5"), Some("7"), None, Some("5"), None, Some("6")]
    );
    // Weighted: 5 = .3 + .5 beats 7 = .7.
    assert_eq!(out.answer.as_deref(), Some("5"));
    assert!(close(out.votes[0].weight, 0.8));
    let pruned: Vec<(usize, Vec<Path>, Vec<Path>)> = events
        .iter()
        .filter_map(|e| match e {
            Event::BeamPruned {
                round,
                kept,
                pruned,
            } => Some((*round, kept.clone(), pruned.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        pruned,
        [(1, vec![p(&[0, 1])], vec![p(&[0, 0]), p(&[0, 2])])]
    );
    assert_eq!(out.compute.generations, 6);
    assert_eq!(
        out.compute.policy_tokens,
        (2 + 2 + 2 + 3 + 2 + 3) + (3 + 3 + 2)
    );
    assert_eq!(calls, [6, 3]);
    assert_eq!(
        (out.compute.policy_calls, out.compute.verifier_calls),
        (2, 2)
    );
    assert_eq!(out.compute.verifier_tokens, (1 + 14) + (1 + 5 + 5 + 4));
}

#[test]
fn dvts_naive_selection_takes_the_best_leaf() {
    let (out, _) = run_dvts(Selection::Naive, &mut Vec::new());
    assert_eq!(out.answer.as_deref(), Some("7"));
}

#[test]
fn dvts_spreads_uneven_budgets_over_subtrees() {
    assert_eq!(
        Dvts::new(8, BeamWidth::Fixed(3)).subtree_widths(),
        [3, 3, 2]
    );
    assert_eq!(
        Dvts::new(16, BeamWidth::Fixed(4)).subtree_widths(),
        [4, 4, 4, 4]
    );
    assert_eq!(
        Dvts::new(16, BeamWidth::Sqrt).subtree_widths(),
        [4, 4, 4, 4]
    );
    assert_eq!(Dvts::new(3, BeamWidth::Fixed(8)).subtree_widths(), [3]);
    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, common::hashing_script);
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
    let out = Dvts::new(8, BeamWidth::Fixed(3))
        .run(&mut ctx)
        .expect("runs");
    assert_eq!(out.candidates.len(), 8);
    let Trace::Dvts { subtrees } = &out.trace else {
        panic!("subtrees expected");
    };
    let sizes: Vec<usize> = subtrees.iter().map(|s| s.candidates.len()).collect();
    assert_eq!(sizes, [3, 3, 2]);
}

#[test]
fn the_first_subtrees_of_a_larger_dvts_run_are_the_smaller_run() {
    use ponder_core::strategy::subsample::dvts_prefix;
    use ponder_core::strategy::StepAggregation;
    let run = |dvts: Dvts| {
        let mut policy = ScriptedPolicy::new(POLICY_PARAMS, common::hashing_script);
        let mut verifier = tag_verifier(VERIFIER_PARAMS);
        let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
            .with_seed(SEED)
            .with_problem_id(PROBLEM_ID);
        dvts.run(&mut ctx).expect("runs")
    };
    for selection in [Selection::Weighted, Selection::Naive] {
        let large = run(Dvts {
            selection,
            ..Dvts::new(12, BeamWidth::Fixed(3))
        });
        for n in [3, 6, 9, 12] {
            let small = run(Dvts {
                selection,
                ..Dvts::new(n, BeamWidth::Fixed(3))
            });
            let (selected, compute) = dvts_prefix(
                &large,
                n,
                BeamWidth::Fixed(3),
                StepAggregation::Last,
                selection,
            )
            .expect("same widths");
            assert_eq!(selected.answer, small.answer, "{selection:?} n={n}");
            assert_eq!(selected.votes, small.votes, "{selection:?} n={n}");
            assert_eq!(compute.generations, small.compute.generations);
            assert_eq!(compute.policy_tokens, small.compute.policy_tokens, "n={n}");
            // The verifier's tokens: exact here, where the verifier reads the question once
            // per call and counts tokens as the policy does; flagged as estimated where
            // subtrees were dropped.
            assert_eq!(
                compute.verifier_tokens, small.compute.verifier_tokens,
                "n={n}"
            );
            assert_eq!(
                compute.verifier_calls, small.compute.verifier_calls,
                "n={n}"
            );
            assert_eq!(compute.policy_calls, small.compute.policy_calls, "n={n}");
            assert_eq!(compute.verifier_tokens_estimated, n < 12);
        }
    }
    let large = run(Dvts::new(12, BeamWidth::Fixed(3)));
    let zero = dvts_prefix(
        &large,
        0,
        BeamWidth::Fixed(3),
        StepAggregation::Last,
        Selection::Weighted,
    );
    assert!(zero.is_none());
    // A width that grows with N gives the smaller run other subtrees: no reuse.
    let sqrt = run(Dvts::new(16, BeamWidth::Sqrt));
    assert!(dvts_prefix(
        &sqrt,
        4,
        BeamWidth::Sqrt,
        StepAggregation::Last,
        Selection::Weighted
    )
    .is_none());
    // Nor from another strategy's outcome.
    let beam = {
        let mut policy = ScriptedPolicy::new(POLICY_PARAMS, common::hashing_script);
        let mut verifier = tag_verifier(VERIFIER_PARAMS);
        let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
        BeamSearch::new(4, BeamWidth::Fixed(2))
            .run(&mut ctx)
            .expect("runs")
    };
    assert!(dvts_prefix(
        &beam,
        2,
        BeamWidth::Fixed(2),
        StepAggregation::Last,
        Selection::Weighted
    )
    .is_none());
}

#[test]
fn dvts_reuses_a_larger_run_only_where_the_subtrees_match() {
    use ponder_core::strategy::subsample::dvts_reuses;
    let four = BeamWidth::Fixed(4);
    assert!(dvts_reuses(4, 256, four));
    assert!(dvts_reuses(64, 256, four));
    assert!(dvts_reuses(256, 256, four));
    // Fewer candidates than M, or a budget M does not divide: other subtree widths.
    assert!(!dvts_reuses(2, 256, four));
    assert!(!dvts_reuses(6, 256, four));
    assert!(!dvts_reuses(0, 256, four));
    // A width that grows with N.
    assert!(!dvts_reuses(16, 256, BeamWidth::Sqrt));
}
