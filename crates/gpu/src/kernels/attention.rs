//! Driver of attention.wgsl.

use ponder_model::config::ModelConfig;

use super::{uniform, Kernel};
use crate::device::Gpu;
use crate::error::Result;

const SOURCE: &str = include_str!("attention.wgsl");

pub struct Attention {
    kernel: Kernel,
    n_heads: u32,
}

/// The buffers attention reads and writes.
pub struct Io<'a> {
    pub q: &'a wgpu::Buffer,
    pub k_cache: &'a wgpu::Buffer,
    pub v_cache: &'a wgpu::Buffer,
    pub out: &'a wgpu::Buffer,
    /// `[tokens][heads][capacity]` f32 scratch.
    pub scores: &'a wgpu::Buffer,
    pub positions: &'a wgpu::Buffer,
    pub slots: &'a wgpu::Buffer,
    pub counts: &'a wgpu::Buffer,
}

impl Attention {
    pub async fn new(gpu: &Gpu, cfg: &ModelConfig) -> Result<Attention> {
        Ok(Attention {
            kernel: Kernel::new(gpu, "attention", SOURCE, None).await?,
            n_heads: cfg.n_heads as u32,
        })
    }

    pub fn bind(&self, gpu: &Gpu, cfg: &ModelConfig, capacity: u32, io: Io<'_>) -> wgpu::BindGroup {
        let shape = uniform(
            gpu,
            "attention shape",
            &[
                cfg.n_heads as u32,
                cfg.n_kv_heads as u32,
                cfg.head_dim as u32,
                capacity,
                (1.0 / (cfg.head_dim as f32).sqrt()).to_bits(),
            ],
        );
        self.kernel.bind(
            gpu,
            &[
                io.q,
                io.k_cache,
                io.v_cache,
                io.out,
                io.scores,
                io.positions,
                io.slots,
                &shape,
                io.counts,
            ],
        )
    }

    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>, bind: &wgpu::BindGroup, tokens: u32) {
        self.kernel.dispatch(pass, bind, [self.n_heads, tokens]);
    }
}
