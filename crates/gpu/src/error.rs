//! The GPU runtime's one error type: each variant says what happened and what to do.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum GpuError {
    #[error("no GPU adapter: {0} (Ponder runs on the CPU instead)")]
    NoAdapter(String),
    #[error("the GPU refused a device: {0} (Ponder runs on the CPU instead)")]
    NoDevice(String),
    #[error("the model needs a {needed}-byte GPU buffer, past this GPU's limit of {limit} bytes ({what}); run it on the CPU")]
    TooLarge {
        what: String,
        needed: u64,
        limit: u64,
    },
    #[error("tensor `{name}` is of type {ty}, which the GPU engine does not read yet; run the model on the CPU")]
    UnsupportedType { name: String, ty: String },
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    #[error("the GPU reported an error: {0}")]
    Validation(String),
    #[error("reading results back from the GPU failed: {0}")]
    Readback(String),
    #[error(transparent)]
    Model(#[from] ponder_model::ModelError),
}

impl From<ponder_model::gguf::GgufError> for GpuError {
    fn from(e: ponder_model::gguf::GgufError) -> Self {
        GpuError::Model(e.into())
    }
}

pub type Result<T> = std::result::Result<T, GpuError>;
