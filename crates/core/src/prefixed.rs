//! A policy whose every prompt starts with the same text: worked examples for a model
//! that was not trained on the task's format (see `arithmetic::few_shot`). Everything
//! else is the wrapped policy's own; the prefix's tokens are prompt tokens, so the
//! compute accounting (generated tokens only) does not change.

use crate::policy::{Policy, Sampling, SeqId, StepOutput, StepRequest, StopSpec};

pub struct Prefixed<P> {
    inner: P,
    prefix: String,
}

impl<P: Policy> Prefixed<P> {
    pub fn new(inner: P, prefix: String) -> Prefixed<P> {
        Prefixed { inner, prefix }
    }

    pub fn inner(&self) -> &P {
        &self.inner
    }

    pub fn into_inner(self) -> P {
        self.inner
    }
}

impl<P: Policy> Policy for Prefixed<P> {
    type Error = P::Error;

    fn start(&mut self, prompt: &str) -> Result<SeqId, Self::Error> {
        self.inner.start(&format!("{}{prompt}", self.prefix))
    }

    fn fork(&mut self, seq: SeqId) -> Result<SeqId, Self::Error> {
        self.inner.fork(seq)
    }

    fn append(&mut self, seq: SeqId, text: &str) -> Result<(), Self::Error> {
        self.inner.append(seq, text)
    }

    fn step(
        &mut self,
        requests: &[StepRequest],
        sampling: &Sampling,
        stop: &StopSpec,
        on_token: &mut dyn FnMut(SeqId, &str),
    ) -> Result<Vec<StepOutput>, Self::Error> {
        self.inner.step(requests, sampling, stop, on_token)
    }

    async fn step_async(
        &mut self,
        requests: &[StepRequest],
        sampling: &Sampling,
        stop: &StopSpec,
        on_token: &mut dyn FnMut(SeqId, &str),
    ) -> Result<Vec<StepOutput>, Self::Error> {
        self.inner
            .step_async(requests, sampling, stop, on_token)
            .await
    }

    fn release(&mut self, seq: SeqId) {
        self.inner.release(seq);
    }

    fn parameters(&self) -> u64 {
        self.inner.parameters()
    }

    fn room_after(&self, prompt: &str) -> Option<usize> {
        self.inner.room_after(&format!("{}{prompt}", self.prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ScriptInput, ScriptedPolicy};

    #[test]
    fn every_prompt_starts_with_the_prefix() {
        let script = ScriptedPolicy::new(7, |_: &ScriptInput<'_>| "Answer: 3\n".to_string());
        let mut p = Prefixed::new(script, "Example\n\n".to_string());
        p.start("Problem: 1+2\n").expect("starts");
        assert_eq!(p.inner().started, ["Example\n\nProblem: 1+2\n"]);
        assert_eq!(p.parameters(), 7);
    }
}
