//! The policy: a language model that continues sequences one reasoning step at a time.

use serde::{Deserialize, Serialize};

use crate::draw::DrawKey;

/// A sequence held by a policy engine (its prompt and everything generated or appended).
pub type SeqId = u64;

/// How to sample tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// 0 means greedy.
    pub temperature: f32,
    /// 0 means no top-k limit.
    pub top_k: usize,
    /// 1.0 means no nucleus limit.
    pub top_p: f32,
}

impl Sampling {
    pub const GREEDY: Sampling = Sampling {
        temperature: 0.0,
        top_k: 0,
        top_p: 1.0,
    };
}

/// When a step ends.
#[derive(Clone, Debug, PartialEq)]
pub struct StopSpec {
    /// End the step at the first newline (a reasoning step is one line).
    pub at_newline: bool,
    /// A line starting with this text is the answer line: finishing it ends the attempt.
    pub answer_prefix: Option<String>,
    /// The most tokens one step may take.
    pub max_tokens: usize,
}

impl Default for StopSpec {
    fn default() -> Self {
        StopSpec {
            at_newline: true,
            answer_prefix: None,
            max_tokens: 256,
        }
    }
}

/// Continue `seq` by one step, drawing randomness from `draw`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepRequest {
    pub seq: SeqId,
    pub draw: DrawKey,
}

/// Why a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// A newline ended a reasoning step; the attempt goes on.
    StepEnd,
    /// The answer line was completed, or the model ended its output.
    AnswerEnd,
    /// The step reached `max_tokens`.
    Length,
    /// The sequence reached the model's context length.
    ContextFull,
}

/// One generated step.
#[derive(Clone, Debug, PartialEq)]
pub struct StepOutput {
    pub seq: SeqId,
    /// The step's text, including its ending newline when it has one.
    pub text: String,
    /// Tokens generated for this step.
    pub tokens: usize,
    pub finish: Finish,
}

/// A language model that strategies drive step by step.
///
/// Engines batch the sequences of one [`Policy::step`] call into shared forward passes;
/// results must not depend on that batching (see [`DrawKey`]).
pub trait Policy {
    type Error: std::error::Error + 'static;

    /// Starts a sequence from a prompt (the engine applies a chat template if the model
    /// needs one).
    fn start(&mut self, prompt: &str) -> Result<SeqId, Self::Error>;
    /// A new sequence with the same contents as `seq`, which stays valid.
    fn fork(&mut self, seq: SeqId) -> Result<SeqId, Self::Error>;
    /// Appends text (for example an earlier attempt, or a forced step).
    fn append(&mut self, seq: SeqId, text: &str) -> Result<(), Self::Error>;
    /// Continues every requested sequence by one step. `on_token` receives each piece of
    /// text as it is generated.
    fn step(
        &mut self,
        requests: &[StepRequest],
        sampling: &Sampling,
        stop: &StopSpec,
        on_token: &mut dyn FnMut(SeqId, &str),
    ) -> Result<Vec<StepOutput>, Self::Error>;
    /// [`Policy::step`] for engines that wait for a device between passes (a GPU in a
    /// browser tab, whose thread cannot block): the strategies call this one. By default
    /// it is `step`, whose future is ready at once.
    #[allow(async_fn_in_trait)] // Run on one thread: callers never need the future `Send`.
    async fn step_async(
        &mut self,
        requests: &[StepRequest],
        sampling: &Sampling,
        stop: &StopSpec,
        on_token: &mut dyn FnMut(SeqId, &str),
    ) -> Result<Vec<StepOutput>, Self::Error> {
        self.step(requests, sampling, stop, on_token)
    }
    /// Frees a sequence.
    fn release(&mut self, seq: SeqId);
    /// Parameter count, for FLOP accounting (2 × parameters × tokens).
    fn parameters(&self) -> u64;
    /// Tokens left in the model's context after `prompt`, for models with a context
    /// limit (None: no limit, or unknown). Revisions use it to drop their oldest earlier
    /// attempts from a prompt that would leave no room for a new one.
    fn room_after(&self, prompt: &str) -> Option<usize> {
        let _ = prompt;
        None
    }
}

/// A borrowed policy is a policy: an adapter such as [`crate::prefixed::Prefixed`] can
/// wrap an engine it does not own for one run.
impl<P: Policy + ?Sized> Policy for &mut P {
    type Error = P::Error;

    fn start(&mut self, prompt: &str) -> Result<SeqId, Self::Error> {
        (**self).start(prompt)
    }

    fn fork(&mut self, seq: SeqId) -> Result<SeqId, Self::Error> {
        (**self).fork(seq)
    }

    fn append(&mut self, seq: SeqId, text: &str) -> Result<(), Self::Error> {
        (**self).append(seq, text)
    }

    fn step(
        &mut self,
        requests: &[StepRequest],
        sampling: &Sampling,
        stop: &StopSpec,
        on_token: &mut dyn FnMut(SeqId, &str),
    ) -> Result<Vec<StepOutput>, Self::Error> {
        (**self).step(requests, sampling, stop, on_token)
    }

    async fn step_async(
        &mut self,
        requests: &[StepRequest],
        sampling: &Sampling,
        stop: &StopSpec,
        on_token: &mut dyn FnMut(SeqId, &str),
    ) -> Result<Vec<StepOutput>, Self::Error> {
        (**self)
            .step_async(requests, sampling, stop, on_token)
            .await
    }

    fn release(&mut self, seq: SeqId) {
        (**self).release(seq);
    }

    fn parameters(&self) -> u64 {
        (**self).parameters()
    }

    fn room_after(&self, prompt: &str) -> Option<usize> {
        (**self).room_after(prompt)
    }
}
