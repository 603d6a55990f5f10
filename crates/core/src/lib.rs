//! The model-free core of Ponder: the contracts between test-time-compute strategies and
//! the engines that run models, the strategies themselves, their compute accounting, and
//! the experiment specs that name a run in a link.
//!
//! Strategies speak text: a [`Policy`] continues sequences by one reasoning step at a time
//! and a [`Verifier`] scores the steps of candidate solutions. Policy and verifier may be
//! different models with different tokenizers; neither sees the other's tokens. Nothing
//! here knows about tensors, so the same strategies drive the CPU engine, the WebGPU engine
//! and test doubles with known behaviour ([`testing`]).

pub mod accounting;
pub mod arithmetic;
pub mod chart;
pub mod draw;
pub mod event;
pub mod path;
pub mod policy;
pub mod prefixed;
pub mod progress;
pub mod ready;
pub mod spec;
pub mod stats;
pub mod strategy;
pub mod sweep;
pub mod task;
pub mod testing;
pub mod verifier;

pub use accounting::{Budget, Compute, FlopsMatch};
pub use draw::DrawKey;
pub use event::Event;
pub use path::Path;
pub use policy::{Finish, Policy, Sampling, SeqId, StepOutput, StepRequest, StopSpec};
pub use spec::ExperimentSpec;
pub use strategy::{Candidate, Context, Outcome, StrategyError, Trace};
pub use task::Task;
pub use verifier::Verifier;
