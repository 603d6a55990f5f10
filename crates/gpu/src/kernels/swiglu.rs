//! Driver of swiglu.wgsl.

use super::{groups_for, uniform, Kernel, MAX_GROUPS};
use crate::device::Gpu;
use crate::error::Result;

const SOURCE: &str = include_str!("swiglu.wgsl");

pub struct SwiGlu {
    kernel: Kernel,
    width: u32,
}

impl SwiGlu {
    pub async fn new(gpu: &Gpu, width: u32) -> Result<SwiGlu> {
        Ok(SwiGlu {
            kernel: Kernel::new(gpu, "swiglu", SOURCE, None).await?,
            width,
        })
    }

    /// Binds the gate (overwritten with the result), the up projection and the counts.
    pub fn bind(&self, gpu: &Gpu, buffers: [&wgpu::Buffer; 3]) -> wgpu::BindGroup {
        let shape = uniform(gpu, "swiglu shape", &[self.width, 0, 0, 0]);
        let [gate, up, counts] = buffers;
        self.kernel.bind(gpu, &[gate, up, &shape, counts])
    }

    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>, bind: &wgpu::BindGroup, tokens: u32) {
        let groups = groups_for(tokens * self.width);
        // swiglu.wgsl numbers rows of MAX_GROUPS workgroups.
        let (x, y) = if groups <= MAX_GROUPS {
            (groups, 1)
        } else {
            (MAX_GROUPS, groups.div_ceil(MAX_GROUPS))
        };
        self.kernel.dispatch(pass, bind, [x, y]);
    }
}
