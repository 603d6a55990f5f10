//! Driver of rope.wgsl, and the table of rotary sines and cosines it reads.

use ponder_model::config::{ModelConfig, RopeLayout};

use super::{groups_for, uniform, Kernel};
use crate::device::{f32_bytes, Gpu};
use crate::error::Result;

const SOURCE: &str = include_str!("rope.wgsl");

pub struct Rope {
    kernel: Kernel,
    pairs: u32,
}

impl Rope {
    pub async fn new(gpu: &Gpu, cfg: &ModelConfig) -> Result<Rope> {
        Ok(Rope {
            kernel: Kernel::new(gpu, "rope", SOURCE, None).await?,
            pairs: ((cfg.n_heads + cfg.n_kv_heads) * cfg.head_dim / 2) as u32,
        })
    }

    /// `(sin, cos)` of every position × inverse frequency up to `positions`, as the CPU
    /// engine computes them (libm, the same inverse frequencies).
    pub fn table(gpu: &Gpu, cfg: &ModelConfig, positions: usize) -> Result<wgpu::Buffer> {
        let d = cfg.head_dim;
        let inv_freq: Vec<f32> = (0..d)
            .step_by(2)
            .map(|i| 1f32 / libm::powf(cfg.rope_base, i as f32 / d as f32))
            .collect();
        let mut values = Vec::with_capacity(positions * d);
        for p in 0..positions {
            for &f in &inv_freq {
                let angle = p as f32 * f;
                values.push(libm::sinf(angle));
                values.push(libm::cosf(angle));
            }
        }
        gpu.storage_with("rope table", &f32_bytes(&values))
    }

    /// Binds queries, keys, the token positions and the table.
    pub fn bind(
        &self,
        gpu: &Gpu,
        cfg: &ModelConfig,
        buffers: [&wgpu::Buffer; 5],
    ) -> wgpu::BindGroup {
        let layout = match cfg.rope_layout {
            RopeLayout::Interleaved => 0,
            RopeLayout::Halves => 1,
        };
        let shape = uniform(
            gpu,
            "rope shape",
            &[
                cfg.n_heads as u32,
                cfg.n_kv_heads as u32,
                cfg.head_dim as u32,
                layout,
            ],
        );
        let [q, k, positions, table, counts] = buffers;
        self.kernel
            .bind(gpu, &[q, k, positions, table, &shape, counts])
    }

    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>, bind: &wgpu::BindGroup, tokens: u32) {
        self.kernel
            .dispatch(pass, bind, [groups_for(self.pairs), tokens]);
    }
}
