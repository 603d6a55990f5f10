//! Ponder's GPU runtime: the llama/qwen2 forward pass of [`ponder_model`] on WGSL kernels
//! of its own, through wgpu (Vulkan, Metal or DX12 natively; WebGPU in the browser).
//!
//! It reads the same GGUF bytes as the CPU engine, and the CPU engine is its reference:
//! every kernel and the whole model are tested against it.

pub mod bench;
pub mod cache;
pub mod device;
pub mod error;
pub mod kernels;
pub mod model;
pub mod self_test;

pub use device::Gpu;
pub use error::{GpuError, Result};
