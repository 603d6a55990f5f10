//! Driver of rope.wgsl, and the table of rotary sines and cosines it reads.

use ponder_model::config::{ModelConfig, RopeLayout};
use ponder_model::transformer::rotary_angles;

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

    /// `(sin, cos)` of every position × inverse frequency up to `positions`: the CPU
    /// engine's own values.
    pub fn table(gpu: &Gpu, cfg: &ModelConfig, positions: usize) -> Result<wgpu::Buffer> {
        let values: Vec<f32> = rotary_angles(&cfg.rotary_frequencies(), 0, positions)
            .into_iter()
            .flat_map(|(sin, cos)| [sin, cos])
            .collect();
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
