//! Driver of rms_norm.wgsl.

use super::{uniform, Kernel};
use crate::device::Gpu;
use crate::error::Result;

const SOURCE: &str = include_str!("rms_norm.wgsl");
const SELECT: u32 = 1;

pub struct RmsNorm {
    kernel: Kernel,
}

/// One norm bound to its buffers.
pub struct Bound {
    selected: bool,
    bind: wgpu::BindGroup,
}

/// Where a norm reads and writes.
pub struct Io<'a> {
    pub x: &'a wgpu::Buffer,
    pub weight: &'a wgpu::Buffer,
    pub out: &'a wgpu::Buffer,
    /// Row indices to read (the final norm's wanted rows); `None` for every token.
    pub selected: Option<&'a wgpu::Buffer>,
    pub counts: &'a wgpu::Buffer,
}

impl RmsNorm {
    pub async fn new(gpu: &Gpu) -> Result<RmsNorm> {
        Ok(RmsNorm {
            kernel: Kernel::new(gpu, "rms_norm", SOURCE, None).await?,
        })
    }

    pub fn bind(&self, gpu: &Gpu, width: u32, eps: f32, io: Io<'_>) -> Bound {
        let flags = if io.selected.is_some() { SELECT } else { 0 };
        let shape = uniform(gpu, "rms_norm shape", &[width, flags, eps.to_bits(), 0]);
        // Without a selection the binding still needs a buffer; the kernel never reads it.
        let selected = io.selected.unwrap_or(io.weight);
        Bound {
            selected: io.selected.is_some(),
            bind: self
                .kernel
                .bind(gpu, &[io.x, io.weight, io.out, selected, &shape, io.counts]),
        }
    }

    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>, b: &Bound, tokens: u32, norm_rows: u32) {
        let rows = if b.selected { norm_rows } else { tokens };
        self.kernel.dispatch(pass, &b.bind, [rows, 1]);
    }
}
