//! Driver of rms_norm.wgsl.

use super::quantize::Quantized;
use super::{uniform, Kernel, Q8};
use crate::device::Gpu;
use crate::error::Result;

const SOURCE: &str = include_str!("rms_norm.wgsl");
const SELECT: u32 = 1;
const QUANTIZE: u32 = 2;
const QUANTIZE_LOGIT_ROWS: u32 = 4;

pub struct RmsNorm {
    kernel: Kernel,
    none: Quantized,
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
    /// Also quantize the rows written (rows of whole blocks of 32), for the quantized
    /// products that read them; with `selected`, only the pass's logit rows.
    pub quantized: Option<&'a Quantized>,
}

impl RmsNorm {
    pub async fn new(gpu: &Gpu) -> Result<RmsNorm> {
        Ok(RmsNorm {
            kernel: Kernel::new(gpu, "rms_norm", &format!("{Q8}{SOURCE}"), None).await?,
            none: Quantized::none(gpu)?,
        })
    }

    pub fn bind(&self, gpu: &Gpu, width: u32, eps: f32, io: Io<'_>) -> Bound {
        let mut flags = if io.selected.is_some() { SELECT } else { 0 };
        if io.quantized.is_some() {
            flags |= if io.selected.is_some() {
                QUANTIZE_LOGIT_ROWS
            } else {
                QUANTIZE
            };
        }
        let shape = uniform(gpu, "rms_norm shape", &[width, flags, eps.to_bits(), 0]);
        // Without a selection or quantization the bindings still need buffers; the kernel
        // never reads them.
        let selected = io.selected.unwrap_or(io.weight);
        let q = io.quantized.unwrap_or(&self.none);
        Bound {
            selected: io.selected.is_some(),
            bind: self.kernel.bind(
                gpu,
                &[
                    io.x, io.weight, io.out, selected, &shape, io.counts, &q.xq, &q.xd, &q.xs,
                ],
            ),
        }
    }

    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>, b: &Bound, tokens: u32, norm_rows: u32) {
        let rows = if b.selected { norm_rows } else { tokens };
        self.kernel.dispatch(pass, &b.bind, [rows, 1]);
    }
}
