//! Ponder's CPU model runtime: GGUF files of the llama and qwen2 families, their
//! byte-level BPE tokenizer, a transformer forward with per-sequence caches and hidden
//! states, sampling, stopping rules and process-reward heads, and an [`engine::Engine`]
//! that implements `ponder_core`'s `Policy` and `Verifier`.
//!
//! This engine is also the reference the WebGPU engine is tested against.

mod attention;
pub mod bench;
pub mod blocks;
pub mod config;
pub mod engine;
pub mod error;
mod exp;
pub mod forward;
pub mod gguf;
pub mod gguf_keys;
pub mod kv_cache;
pub mod prm;
mod q8;
pub mod qmatmul;
pub mod sampler;
pub mod tokenizer;
pub mod transformer;

pub use engine::{Engine, LanguageModel};
pub use error::{ModelError, Result};
