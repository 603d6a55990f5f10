//! Majority voting and best-of-N on a scripted policy and a tag-reading verifier.

mod common;

use common::*;
use ponder_core::event::Event;
use ponder_core::path::Path;
use ponder_core::strategy::{stream, BestOfN, Context, MajorityVote, Selection, StepAggregation};
use ponder_core::testing::{tag_verifier, LineTask, ScriptInput, ScriptedPolicy};
use ponder_core::Trace;

/// Sample i: a first step tagged FIRST[i], then `answer: ANSWERS[i]` tagged LAST[i].
const ANSWERS: [&str; 6] = ["7", "8", "7", "7", "9", "8"];
const FIRST: [f32; 6] = [0.9, 0.2, 0.9, 0.9, 0.1, 0.6];
const LAST: [f32; 6] = [0.3, 0.9, 0.4, 0.35, 0.95, 0.5];

fn six_samples() -> impl FnMut(&ScriptInput<'_>) -> String {
    keyed_script(stream::PARALLEL, 8, 1, |path, input| {
        let i = path.expect("sampled").0[0] as usize;
        match input.step {
            0 => format!("think [{}]", FIRST[i]),
            _ => format!("answer: {} [{}]", ANSWERS[i], LAST[i]),
        }
    })
}

#[test]
fn majority_counts_answers_and_ignores_the_verifier() {
    let mut policy = ScriptedPolicy::new(
        POLICY_PARAMS,
        keyed_script(stream::PARALLEL, 8, 1, |path, _| {
            // Sample 4 never gives a parsable answer: it must not count.
            match path.expect("sampled").0[0] {
                0 | 2 => "answer: 4".to_string(),
                1 => "answer: 5".to_string(),
                3 => "answer: 6".to_string(),
                _ => "answer:".to_string(),
            }
        }),
    );
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut events = Vec::new();
    let mut sink = recorder(&mut events);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
        .with_seed(SEED)
        .with_problem_id(PROBLEM_ID)
        .with_sink(&mut sink);
    let out = MajorityVote::new(5).run(&mut ctx).expect("runs");
    drop(sink);
    assert_eq!(out.answer.as_deref(), Some("4"));
    let votes: Vec<(&str, u32)> = out
        .votes
        .iter()
        .map(|v| (v.answer.as_str(), v.count))
        .collect();
    assert_eq!(votes, [("4", 2), ("5", 1), ("6", 1)]);
    assert_eq!(out.candidates[4].answer, None);
    assert_eq!(out.compute.generations, 5);
    // "answer: 4" is 2 words, "answer:" 1.
    assert_eq!(out.compute.policy_tokens, 4 * 2 + 1);
    assert_eq!(out.compute.verifier_tokens, 0);
    assert_eq!(out.compute.flops(), 2.0 * 1_000.0 * 9.0);
    assert!(verifier.calls.is_empty());
    assert_eq!(policy.live_sequences(), 0);
    assert_eq!(out.trace, Trace::Parallel);
    // The prompt is read once and forked.
    assert_eq!(policy.started, ["Q: q\n"]);
    let finished = events
        .iter()
        .filter(|e| matches!(e, Event::AttemptFinished { .. }))
        .count();
    assert_eq!(finished, 5);
    assert!(
        matches!(events.last(), Some(Event::AnswerSelected { answer: Some(a), .. }) if a == "4")
    );
}

fn best_of_n(
    n: usize,
    aggregation: StepAggregation,
    selection: Selection,
) -> (ponder_core::Outcome, Vec<usize>) {
    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, six_samples());
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
        .with_seed(SEED)
        .with_problem_id(PROBLEM_ID);
    let bon = BestOfN {
        aggregation,
        selection,
        ..BestOfN::weighted(n)
    };
    let out = bon.run(&mut ctx).expect("runs");
    assert_eq!(policy.live_sequences(), 0);
    (out, verifier.calls)
}

#[test]
fn each_aggregation_and_selection_picks_the_known_answer() {
    // Last: 7 → .3+.4+.35 = 1.05, 8 → .9+.5 = 1.4, 9 → .95.
    // Min:  7 → .3+.4+.35, 8 → .2+.5 = .7, 9 → .1; the best single sample is 8 (.5).
    // Prod: 7 → .27+.36+.315 = .945, 8 → .18+.3, 9 → .095; the best single is 7 (.36).
    let cases = [
        (StepAggregation::Last, Selection::Naive, "9"),
        (StepAggregation::Last, Selection::Weighted, "8"),
        (StepAggregation::Min, Selection::Naive, "8"),
        (StepAggregation::Min, Selection::Weighted, "7"),
        (StepAggregation::Prod, Selection::Naive, "7"),
        (StepAggregation::Prod, Selection::Weighted, "7"),
        (StepAggregation::Last, Selection::Majority, "7"),
    ];
    for (agg, sel, want) in cases {
        let (out, calls) = best_of_n(6, agg, sel);
        assert_eq!(out.answer.as_deref(), Some(want), "{agg:?} {sel:?}");
        assert_eq!(calls, [6], "one verifier call over all candidates");
    }
    let (out, _) = best_of_n(6, StepAggregation::Last, Selection::Weighted);
    let votes: Vec<(&str, u32, f64)> = out
        .votes
        .iter()
        .map(|v| (v.answer.as_str(), v.count, v.weight))
        .collect();
    assert_eq!(votes.len(), 3);
    assert_eq!((votes[0].0, votes[0].1), ("7", 3));
    assert!(close(votes[0].2, 1.05) && close(votes[1].2, 1.4) && close(votes[2].2, 0.95));
    assert_eq!(out.candidates[1].scores, [0.2, 0.9]);
}

#[test]
fn compute_counts_both_models_tokens() {
    let (out, _) = best_of_n(6, StepAggregation::Last, Selection::Weighted);
    let c = out.compute;
    assert_eq!(c.generations, 6);
    // "think [t]" is 2 words, "answer: x [t]" 3: 5 per sample.
    assert_eq!(c.policy_tokens, 30);
    // The verifier reads the problem ("q", 1 word) once and every step.
    assert_eq!(c.verifier_tokens, 31);
    assert!(!c.verifier_tokens_estimated);
    assert_eq!((c.policy_parameters, c.verifier_parameters), (1_000, 300));
    assert_eq!(c.flops(), 2.0 * (1_000.0 * 30.0 + 300.0 * 31.0));
}

#[test]
fn verifier_tokens_are_estimated_when_the_verifier_does_not_count() {
    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, six_samples());
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    verifier.reports_tokens = false;
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
        .with_seed(SEED)
        .with_problem_id(PROBLEM_ID);
    let out = BestOfN::weighted(6).run(&mut ctx).expect("runs");
    // The policy's count for the same steps; the problem is not counted.
    assert_eq!(out.compute.verifier_tokens, 30);
    assert!(out.compute.verifier_tokens_estimated);
}

#[test]
fn smaller_budgets_and_majority_share_the_same_samples() {
    let (six, _) = best_of_n(6, StepAggregation::Last, Selection::Weighted);
    let (three, _) = best_of_n(3, StepAggregation::Last, Selection::Weighted);
    assert_eq!(three.candidates[..], six.candidates[..3]);
    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, six_samples());
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
        .with_seed(SEED)
        .with_problem_id(PROBLEM_ID);
    let maj = MajorityVote::new(6).run(&mut ctx).expect("runs");
    let texts =
        |o: &ponder_core::Outcome| o.candidates.iter().map(|c| c.text()).collect::<Vec<_>>();
    assert_eq!(texts(&maj), texts(&six));
    assert_eq!(six.candidates[0].path, Path(vec![0]));
}

#[test]
fn zero_samples_is_a_configuration_error() {
    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, six_samples());
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
    let err = BestOfN::weighted(0).run(&mut ctx).expect_err("n = 0");
    assert!(err.to_string().contains("at least 1"), "{err}");
    assert!(MajorityVote::new(0).run(&mut ctx).is_err());
}

#[test]
fn a_prefix_of_a_larger_run_selects_what_a_smaller_run_would() {
    use ponder_core::strategy::subsample::{prefix_compute, select_prefix};
    let run = |strategy: &dyn Fn(&mut Context<'_, _, _, _>) -> ponder_core::Outcome| {
        let mut policy = ScriptedPolicy::new(POLICY_PARAMS, six_samples());
        let mut verifier = tag_verifier(VERIFIER_PARAMS);
        let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
            .with_seed(SEED)
            .with_problem_id(PROBLEM_ID);
        strategy(&mut ctx)
    };
    for aggregation in StepAggregation::ALL {
        let large = run(&|ctx| {
            BestOfN {
                aggregation,
                ..BestOfN::weighted(6)
            }
            .run(ctx)
            .expect("runs")
        });
        for n in 1..=6 {
            for selection in [Selection::Weighted, Selection::Naive] {
                let small = run(&|ctx| {
                    BestOfN {
                        aggregation,
                        selection,
                        ..BestOfN::weighted(n)
                    }
                    .run(ctx)
                    .expect("runs")
                });
                let reused = select_prefix(&large, n, aggregation, selection);
                assert_eq!(
                    reused.answer, small.answer,
                    "{aggregation:?} {selection:?} n={n}"
                );
                assert_eq!(
                    reused.votes, small.votes,
                    "{aggregation:?} {selection:?} n={n}"
                );
                let c = prefix_compute(&large, n, selection);
                assert_eq!(c.generations, small.compute.generations);
                assert_eq!(c.policy_tokens, small.compute.policy_tokens);
            }
            let majority = run(&|ctx| MajorityVote::new(n).run(ctx).expect("runs"));
            let reused = select_prefix(&large, n, aggregation, Selection::Majority);
            assert_eq!(reused.answer, majority.answer, "majority n={n}");
            assert_eq!(reused.votes, majority.votes, "majority n={n}");
            let c = prefix_compute(&large, n, Selection::Majority);
            assert_eq!(c.generations, majority.compute.generations);
            assert_eq!(c.policy_tokens, majority.compute.policy_tokens);
            assert_eq!(c.verifier_tokens, majority.compute.verifier_tokens);
            assert_eq!(c.verifier_calls, majority.compute.verifier_calls);
        }
    }
}
