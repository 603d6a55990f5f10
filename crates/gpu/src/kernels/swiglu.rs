//! Driver of swiglu.wgsl.

use super::quantize::Quantized;
use super::{groups_for, uniform, Kernel, MAX_GROUPS, Q8};
use crate::device::Gpu;
use crate::error::Result;

const SOURCE: &str = include_str!("swiglu.wgsl");

pub struct SwiGlu {
    kernel: Kernel,
    width: u32,
    none: Quantized,
}

impl SwiGlu {
    pub async fn new(gpu: &Gpu, width: u32) -> Result<SwiGlu> {
        Ok(SwiGlu {
            kernel: Kernel::new(gpu, "swiglu", &format!("{Q8}{SOURCE}"), None).await?,
            width,
            none: Quantized::none(gpu)?,
        })
    }

    /// Binds the gate (overwritten with the result), the up projection and the counts, and
    /// where to quantize the result for a quantized down projection (used only when the
    /// rows are whole blocks of 32, as such a projection's inputs are).
    pub fn bind(
        &self,
        gpu: &Gpu,
        buffers: [&wgpu::Buffer; 3],
        quantized: Option<&Quantized>,
    ) -> wgpu::BindGroup {
        let quantized = quantized.filter(|_| self.width.is_multiple_of(32));
        let flags = u32::from(quantized.is_some());
        let shape = uniform(gpu, "swiglu shape", &[self.width, flags, 0, 0]);
        let [gate, up, counts] = buffers;
        let q = quantized.unwrap_or(&self.none);
        self.kernel
            .bind(gpu, &[gate, up, &shape, counts, &q.xq, &q.xd, &q.xs])
    }

    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>, bind: &wgpu::BindGroup, tokens: u32) {
        let groups = groups_for(tokens * self.width.div_ceil(32));
        // swiglu.wgsl numbers rows of MAX_GROUPS workgroups.
        let (x, y) = if groups <= MAX_GROUPS {
            (groups, 1)
        } else {
            (MAX_GROUPS, groups.div_ceil(MAX_GROUPS))
        };
        self.kernel.dispatch(pass, bind, [x, y]);
    }
}
