//! Engines that wait for their device between steps (a GPU in a browser tab) run the same
//! strategies through `run_async`, with the same results; `run` refuses them with a
//! message that says what to call instead.

mod common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context as TaskContext, Poll, Waker};

use common::*;
use ponder_core::spec::ExperimentSpec;
use ponder_core::strategy::{Context, StrategyError};
use ponder_core::testing::{tag_verifier, LineTask, ScriptedPolicy};
use ponder_core::{Policy, Sampling, SeqId, StepOutput, StepRequest, StopSpec};

/// A future that is pending once, then ready: a device answering on a later turn.
#[derive(Default)]
struct Later(bool);

impl Future for Later {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A policy whose steps wait once before answering.
struct Waiting<P>(P);

impl<P: Policy> Policy for Waiting<P> {
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
        self.0.step(requests, sampling, stop, on_token)
    }
    async fn step_async(
        &mut self,
        requests: &[StepRequest],
        sampling: &Sampling,
        stop: &StopSpec,
        on_token: &mut dyn FnMut(SeqId, &str),
    ) -> Result<Vec<StepOutput>, P::Error> {
        Later::default().await;
        self.0.step(requests, sampling, stop, on_token)
    }
    fn release(&mut self, seq: SeqId) {
        self.0.release(seq)
    }
    fn parameters(&self) -> u64 {
        self.0.parameters()
    }
}

/// Polls a future until it is ready, counting the polls.
fn drive<F: Future>(future: F) -> (F::Output, usize) {
    let mut cx = TaskContext::from_waker(Waker::noop());
    let mut future = pin!(future);
    let mut polls = 0;
    loop {
        polls += 1;
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return (out, polls);
        }
    }
}

#[test]
fn a_waiting_policy_gives_the_same_runs_through_run_async() {
    for link in [
        "v=1&strategy=best-of-n&n=6&seed=3",
        "v=1&strategy=beam&n=8&width=2&seed=3",
        "v=1&strategy=revisions&n=6&chains=2&seed=3",
    ] {
        let spec = ExperimentSpec::from_query(link).spec;
        let mut policy = ScriptedPolicy::new(POLICY_PARAMS, hashing_script);
        let mut verifier = tag_verifier(VERIFIER_PARAMS);
        let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
        let direct = spec.run(&mut ctx).expect("runs");

        let mut waiting = Waiting(ScriptedPolicy::new(POLICY_PARAMS, hashing_script));
        let mut verifier = tag_verifier(VERIFIER_PARAMS);
        let mut ctx = Context::new(&mut waiting, &mut verifier, &LineTask, PROBLEM);
        let (awaited, polls) = drive(spec.run_async(&mut ctx));
        let awaited = awaited.expect("runs");
        assert!(polls > 1, "{link}: the run never waited");
        assert_eq!(awaited.answer, direct.answer, "{link}");
        assert_eq!(awaited.candidates, direct.candidates, "{link}");
        assert_eq!(awaited.compute, direct.compute, "{link}");

        let mut waiting = Waiting(ScriptedPolicy::new(POLICY_PARAMS, hashing_script));
        let mut verifier = tag_verifier(VERIFIER_PARAMS);
        let mut ctx = Context::new(&mut waiting, &mut verifier, &LineTask, PROBLEM);
        let refused = spec.run(&mut ctx).expect_err("run cannot wait");
        assert!(
            matches!(refused, StrategyError::MustAwait),
            "{link}: {refused}"
        );
        assert!(refused.to_string().contains("run_async"));
    }
}
