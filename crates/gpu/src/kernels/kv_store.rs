//! Driver of kv_store.wgsl.

use super::{groups_for, uniform, Kernel};
use crate::device::Gpu;
use crate::error::Result;

const SOURCE: &str = include_str!("kv_store.wgsl");

pub struct KvStore {
    kernel: Kernel,
    kv_width: u32,
}

/// The buffers a store reads and writes.
pub struct Io<'a> {
    pub k: &'a wgpu::Buffer,
    pub v: &'a wgpu::Buffer,
    pub k_cache: &'a wgpu::Buffer,
    pub v_cache: &'a wgpu::Buffer,
    pub positions: &'a wgpu::Buffer,
    pub slots: &'a wgpu::Buffer,
    pub counts: &'a wgpu::Buffer,
}

impl KvStore {
    pub async fn new(gpu: &Gpu, kv_width: u32) -> Result<KvStore> {
        Ok(KvStore {
            kernel: Kernel::new(gpu, "kv_store", SOURCE, None).await?,
            kv_width,
        })
    }

    pub fn bind(&self, gpu: &Gpu, capacity: u32, io: Io<'_>) -> wgpu::BindGroup {
        let shape = uniform(gpu, "kv_store shape", &[self.kv_width, capacity, 0, 0]);
        self.kernel.bind(
            gpu,
            &[
                io.k,
                io.v,
                io.k_cache,
                io.v_cache,
                io.positions,
                io.slots,
                &shape,
                io.counts,
            ],
        )
    }

    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>, bind: &wgpu::BindGroup, tokens: u32) {
        self.kernel
            .dispatch(pass, bind, [groups_for(self.kv_width), tokens]);
    }
}
