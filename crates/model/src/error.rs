//! The model runtime's one error type.

use thiserror::Error;

use crate::gguf::GgufError;
use crate::tokenizer::TokenizerError;

#[derive(Debug, Error)]
pub enum ModelError {
    #[error(transparent)]
    Gguf(#[from] GgufError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error("architecture `{0}` is not supported (Ponder runs `llama` and `qwen2` GGUF files)")]
    UnsupportedArchitecture(String),
    #[error("the model file has no `general.architecture`; is it a language model exported by llama.cpp or Ponder?")]
    MissingArchitecture,
    #[error("the model file lacks the metadata key `{0}`")]
    MissingMetadata(String),
    #[error("metadata `{key}` should be {expected}, found {found}")]
    BadMetadata {
        key: String,
        expected: String,
        found: String,
    },
    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    BadShape {
        name: String,
        expected: Vec<u64>,
        found: Vec<u64>,
    },
    #[error("sequence is {len} tokens long, past the model's context of {max}")]
    ContextFull { len: usize, max: usize },
    #[error("token id {id} is outside the vocabulary of {vocab} tokens")]
    TokenOutOfRange { id: u32, vocab: usize },
    #[error("no sequence with id {0} (it may have been released)")]
    UnknownSequence(u64),
    #[error("sequence {0} appears twice in one step request; fork it to continue it two ways")]
    DuplicateSequence(u64),
    #[error("this model has no process-reward head (metadata `ponder.prm.head` is missing)")]
    NotAPrm,
    #[error("the caller asked for {0}")]
    BadRequest(String),
    #[error("the GPU device was lost ({0}); the run can continue on the CPU")]
    DeviceLost(String),
    #[error("this engine waits for its GPU between passes, so it must be driven by the asynchronous calls (`step_async`, `score_async`, `run_async`)")]
    MustAwait,
    #[error("numeric backend error: {0}")]
    Backend(String),
}

impl From<candle_core::Error> for ModelError {
    fn from(e: candle_core::Error) -> Self {
        ModelError::Backend(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, ModelError>;
