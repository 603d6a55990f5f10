//! The same spec gives the same result whatever the batching: every strategy, run with
//! all sequences in one `Policy::step` call, one per call, or three per call, returns the
//! same outcome and emits the same events. The scripted policy's output depends only on
//! the draw key and the sequence's contents and position, as a real engine's does; so any
//! difference would come from the strategy (a key that depended on call order, say).
//!
//! Also here: what strategies do when a model breaks its contract.

mod common;

use common::*;
use ponder_core::event::Event;
use ponder_core::policy::{Policy, Sampling, SeqId, StepOutput, StepRequest, StopSpec};
use ponder_core::strategy::{
    BeamSearch, BeamWidth, BestOfN, Context, Dvts, LookaheadSearch, MajorityVote,
    ParallelSequentialMix, RevisionSelection, SequentialRevisions,
};
use ponder_core::testing::{tag_verifier, LineTask, RuleVerifier, ScriptError, ScriptedPolicy};
use ponder_core::{Outcome, StrategyError, Verifier};

#[derive(Clone, Copy, Debug)]
enum Which {
    Majority,
    BestOfN,
    Beam,
    BeamSqrt,
    Lookahead,
    Dvts,
    Revisions,
    Mix,
}

const ALL: [Which; 8] = [
    Which::Majority,
    Which::BestOfN,
    Which::Beam,
    Which::BeamSqrt,
    Which::Lookahead,
    Which::Dvts,
    Which::Revisions,
    Which::Mix,
];

fn run_with<P: Policy, V: Verifier>(
    which: Which,
    ctx: &mut Context<'_, P, V, LineTask>,
) -> Result<Outcome, StrategyError> {
    match which {
        Which::Majority => MajorityVote::new(8).run(ctx),
        Which::BestOfN => BestOfN::weighted(8).run(ctx),
        Which::Beam => BeamSearch::new(8, BeamWidth::Fixed(2)).run(ctx),
        Which::BeamSqrt => BeamSearch::new(8, BeamWidth::Sqrt).run(ctx),
        Which::Lookahead => LookaheadSearch::new(8, BeamWidth::Fixed(4), 2).run(ctx),
        Which::Dvts => Dvts::new(8, BeamWidth::Fixed(3)).run(ctx),
        Which::Revisions => SequentialRevisions::new(5, 3, RevisionSelection::Verifier).run(ctx),
        Which::Mix => ParallelSequentialMix::new(8, 0.5, RevisionSelection::Majority).run(ctx),
    }
}

fn run(which: Which, seed: u64, max_batch: usize) -> (Outcome, Vec<Event>, Vec<usize>) {
    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, hashing_script);
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut events = Vec::new();
    let mut sink = recorder(&mut events);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
        .with_seed(seed)
        .with_problem_id(PROBLEM_ID)
        .with_max_batch(max_batch)
        .with_sink(&mut sink);
    let out = run_with(which, &mut ctx).expect("runs");
    drop(sink);
    assert_eq!(policy.live_sequences(), 0, "{which:?} leaked sequences");
    (out, events, policy.step_calls)
}

#[test]
fn batching_never_changes_outcomes_or_events() {
    for which in ALL {
        let (whole, whole_events, whole_calls) = run(which, SEED, usize::MAX);
        assert!(
            whole_calls.iter().any(|&n| n > 3),
            "{which:?}: the unbatched run should put more than 3 sequences in some call"
        );
        for max_batch in [1, 3] {
            let (split, split_events, calls) = run(which, SEED, max_batch);
            assert!(
                calls.iter().all(|&n| n <= max_batch),
                "{which:?}: {calls:?}"
            );
            assert_eq!(split, whole, "{which:?} with max_batch {max_batch}");
            assert_eq!(
                split_events, whole_events,
                "{which:?} with max_batch {max_batch}"
            );
        }
    }
}

#[test]
fn the_seed_changes_the_samples() {
    for which in ALL {
        let (a, _, _) = run(which, SEED, usize::MAX);
        let (b, _, _) = run(which, SEED + 1, usize::MAX);
        let texts = |o: &Outcome| o.candidates.iter().map(|c| c.text()).collect::<Vec<_>>();
        assert_ne!(texts(&a), texts(&b), "{which:?}");
        let (again, _, _) = run(which, SEED, usize::MAX);
        assert_eq!(again, a, "{which:?} is not reproducible");
    }
}

/// A policy that answers one request too few in every call.
struct DroppingPolicy<P>(P);

impl<P: Policy> Policy for DroppingPolicy<P> {
    type Error = P::Error;
    fn start(&mut self, prompt: &str) -> Result<SeqId, P::Error> {
        self.0.start(prompt)
    }
    fn fork(&mut self, seq: SeqId) -> Result<SeqId, P::Error> {
        self.0.fork(seq)
    }
    fn append(&mut self, seq: SeqId, text: &str) -> Result<(), P::Error> {
        self.0.append(seq, text)
    }
    fn step(
        &mut self,
        requests: &[StepRequest],
        sampling: &Sampling,
        stop: &StopSpec,
        on_token: &mut dyn FnMut(SeqId, &str),
    ) -> Result<Vec<StepOutput>, P::Error> {
        let mut out = self.0.step(requests, sampling, stop, on_token)?;
        out.pop();
        Ok(out)
    }
    fn release(&mut self, seq: SeqId) {
        self.0.release(seq)
    }
    fn parameters(&self) -> u64 {
        self.0.parameters()
    }
}

#[test]
fn a_policy_that_drops_outputs_is_reported() {
    let mut policy = DroppingPolicy(ScriptedPolicy::new(POLICY_PARAMS, hashing_script));
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
    let err = BestOfN::weighted(4)
        .run(&mut ctx)
        .expect_err("contract broken");
    assert!(
        matches!(
            err,
            StrategyError::PolicyContract {
                expected: 4,
                found: 3
            }
        ),
        "{err}"
    );
}

#[test]
fn policy_errors_carry_the_engines_message() {
    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, hashing_script);
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
    // A fork of a sequence that does not exist.
    let err = ctx.policy.fork(999).expect_err("unknown");
    assert!(matches!(err, ScriptError::UnknownSequence(999)));
    let wrapped = StrategyError::Policy(Box::new(err));
    assert_eq!(
        wrapped.to_string(),
        "the policy failed: sequence 999 is unknown to the scripted policy (released, or never started)"
    );
}

#[test]
fn a_verifier_with_the_wrong_shape_or_nan_scores_is_reported() {
    struct Short;
    impl Verifier for Short {
        type Error = ScriptError;
        fn score(
            &mut self,
            _: &str,
            candidates: &[Vec<String>],
        ) -> Result<Vec<Vec<f32>>, ScriptError> {
            Ok(candidates.iter().map(|_| vec![0.5]).collect())
        }
        fn parameters(&self) -> u64 {
            1
        }
    }
    // Every attempt has two steps here, so one score per candidate is too few.
    let two_steps = |i: &ponder_core::testing::ScriptInput<'_>| {
        if i.step == 0 {
            "x".to_string()
        } else {
            "answer: 1".to_string()
        }
    };
    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, two_steps);
    let mut verifier = Short;
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
    let err = BestOfN::weighted(2).run(&mut ctx).expect_err("shape");
    assert!(
        matches!(
            &err,
            StrategyError::VerifierShape {
                expected: 2,
                found: 1,
                ..
            }
        ),
        "{err}"
    );

    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, two_steps);
    let mut nan = RuleVerifier::new(1, |_: &str| f32::NAN);
    let mut ctx = Context::new(&mut policy, &mut nan, &LineTask, PROBLEM);
    let err = BeamSearch::new(2, BeamWidth::Fixed(2))
        .run(&mut ctx)
        .expect_err("nan");
    assert!(
        matches!(&err, StrategyError::NonFiniteScore { step: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("must be finite"));
}

#[test]
fn a_strategy_that_fails_releases_every_sequence_it_started() {
    // A verifier that fails on its first call: search strategies make it while their
    // beams (started and forked) are still open.
    struct Fails(usize);
    impl Verifier for Fails {
        type Error = ScriptError;
        fn score(
            &mut self,
            _: &str,
            candidates: &[Vec<String>],
        ) -> Result<Vec<Vec<f32>>, ScriptError> {
            self.0 += 1;
            let _ = candidates;
            Err(ScriptError::UnknownSequence(0))
        }
        fn parameters(&self) -> u64 {
            1
        }
    }
    for which in ALL {
        let mut policy = ScriptedPolicy::new(POLICY_PARAMS, hashing_script);
        let mut verifier = Fails(0);
        let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
        let result = run_with(which, &mut ctx);
        if verifier.0 == 0 {
            // Majority voting (and the mix here, selecting by majority) never call it.
            assert!(result.is_ok(), "{which:?}");
        } else {
            let err = result.expect_err("the verifier fails");
            assert!(
                matches!(err, StrategyError::Verifier(_)),
                "{which:?}: {err}"
            );
        }
        assert_eq!(
            policy.live_sequences(),
            0,
            "{which:?} left sequences behind"
        );
    }
}
