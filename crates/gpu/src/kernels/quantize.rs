//! Driver of quantize.wgsl: a pass's activation rows as 8-bit blocks.

use super::{groups_for, uniform, Kernel, Q8};
use crate::device::Gpu;
use crate::error::Result;

const SOURCE: &str = include_str!("quantize.wgsl");

/// Buffers of quantized rows: packed bytes, scales and scaled sums.
pub struct Quantized {
    pub xq: wgpu::Buffer,
    pub xd: wgpu::Buffer,
    pub xs: wgpu::Buffer,
}

impl Quantized {
    /// Buffers of one word each, for a kernel that may quantize bound where it does not.
    pub fn none(gpu: &Gpu) -> Result<Quantized> {
        Quantized::new(gpu, 1, 4)
    }

    /// Room for `rows` rows of up to `width` values.
    pub fn new(gpu: &Gpu, rows: u64, width: u64) -> Result<Quantized> {
        Ok(Quantized {
            xq: gpu.storage("quantized rows", rows * width)?,
            xd: gpu.storage("row scales", rows * width / 32 * 4)?,
            xs: gpu.storage("row sums", rows * width / 32 * 4)?,
        })
    }
}

pub struct Quantize {
    kernel: Kernel,
}

/// One quantization bound to its buffers.
pub struct Bound {
    blocks: u32,
    logit_rows: bool,
    bind: wgpu::BindGroup,
}

impl Quantize {
    pub async fn new(gpu: &Gpu) -> Result<Quantize> {
        Ok(Quantize {
            kernel: Kernel::new(gpu, "quantize", &format!("{Q8}{SOURCE}"), None).await?,
        })
    }

    /// Quantizes rows of `width` values of `x` into `out`, over the pass's tokens or (with
    /// `logit_rows`) its logit rows.
    pub fn bind(
        &self,
        gpu: &Gpu,
        width: u32,
        logit_rows: bool,
        x: &wgpu::Buffer,
        out: &Quantized,
        counts: &wgpu::Buffer,
    ) -> Bound {
        let shape = uniform(gpu, "quantize shape", &[width, u32::from(logit_rows), 0, 0]);
        Bound {
            blocks: width / 32,
            logit_rows,
            bind: self
                .kernel
                .bind(gpu, &[x, &out.xq, &out.xd, &out.xs, &shape, counts]),
        }
    }

    pub fn encode(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        b: &Bound,
        tokens: u32,
        logit_rows: u32,
    ) {
        let rows = if b.logit_rows { logit_rows } else { tokens };
        self.kernel
            .dispatch(pass, &b.bind, [groups_for(b.blocks), rows]);
    }
}
