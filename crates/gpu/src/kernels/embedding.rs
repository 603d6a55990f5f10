//! Driver of embedding.wgsl.

use super::matmul::Weights;
use super::{groups_for, uniform, Kernel};
use crate::device::Gpu;
use crate::error::Result;

const SOURCE: &str = include_str!("embedding.wgsl");

pub struct Embedding {
    kernel: Kernel,
    blocks: u32,
}

impl Embedding {
    /// For an embedding matrix `table` (one row per token).
    pub async fn new(gpu: &Gpu, table: &Weights) -> Result<Embedding> {
        Ok(Embedding {
            kernel: Kernel::new(gpu, "embedding", SOURCE, Some(table.ty)).await?,
            blocks: table.cols / 32,
        })
    }

    /// Binds the table (or one run of its rows), the pass's token ids, the output rows
    /// and the counts.
    pub fn bind(&self, gpu: &Gpu, table: &Weights, buffers: [&wgpu::Buffer; 3]) -> wgpu::BindGroup {
        let shape = uniform(
            gpu,
            "embedding shape",
            &[table.cols, table.first_row, table.rows, 0],
        );
        let [tokens, x, counts] = buffers;
        self.kernel
            .bind(gpu, &[&table.buffer, tokens, x, &shape, counts])
    }

    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>, bind: &wgpu::BindGroup, tokens: u32) {
        self.kernel
            .dispatch(pass, bind, [groups_for(self.blocks), tokens]);
    }
}
