//! Ponder's built-in models, trained here on the CPU: the transformer in a form that
//! learns (every operation passes gradients), its byte-level vocabulary, training data
//! from the arithmetic task, a resumable trainer, and export to GGUF with llama metadata
//! so `ponder-model` loads the result like any third-party file.

pub mod attempts;
pub mod data;
pub mod eval;
pub mod export;
pub mod import;
pub mod model;
pub mod prm;
pub mod recipe;
pub mod report;
pub mod revision;
pub mod rewrite;
pub mod rows;
pub mod trainer;
pub mod vocab;
