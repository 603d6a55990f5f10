//! The model-free core of Ponder: the contracts between test-time-compute strategies and
//! the engines that run models.
//!
//! Strategies speak text: a [`Policy`] continues sequences by one reasoning step at a time
//! and a [`Verifier`] scores the steps of candidate solutions. Policy and verifier may be
//! different models with different tokenizers; neither sees the other's tokens. Nothing
//! here knows about tensors, so the same strategies drive the CPU engine, the WebGPU engine
//! and test doubles with known behaviour.

pub mod draw;
pub mod policy;
pub mod verifier;

pub use draw::DrawKey;
pub use policy::{Finish, Policy, Sampling, SeqId, StepOutput, StepRequest, StopSpec};
pub use verifier::Verifier;
