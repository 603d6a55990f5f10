//! Driver of qmatmul.wgsl: quantized weights times quantized activations, the CPU
//! engine's arithmetic.

use std::collections::HashMap;

use super::matmul::Weights;
use super::quantize::Quantized;
use super::{groups_for, uniform, Kernel, WeightType};
use crate::device::Gpu;
use crate::error::{GpuError, Result};

const SOURCE: &str = include_str!("qmatmul.wgsl");
/// Tokens one thread computes (TOKENS in qmatmul.wgsl).
const TOKENS: u32 = 4;

const ACCUMULATE: u32 = 1;
const BIAS: u32 = 2;
const LOGIT_ROWS: u32 = 4;

/// Whether qmatmul.wgsl reads this type (the others go through matmul.wgsl).
pub fn handles(ty: WeightType) -> bool {
    matches!(ty, WeightType::Q4_0 | WeightType::Q4_1 | WeightType::Q8_0)
}

/// Where a product reads and writes, and how.
pub struct Io<'a> {
    pub x: &'a Quantized,
    pub y: &'a wgpu::Buffer,
    pub bias: Option<&'a wgpu::Buffer>,
    /// Add to `y` (a residual connection) instead of overwriting it.
    pub accumulate: bool,
    /// Run over the pass's logit rows instead of its tokens.
    pub logit_rows: bool,
    pub counts: &'a wgpu::Buffer,
}

/// One product bound to its buffers.
pub struct Bound {
    ty: WeightType,
    rows: u32,
    logit_rows: bool,
    bind: wgpu::BindGroup,
}

pub struct QMatMul {
    kernels: HashMap<WeightType, Kernel>,
    no_bias: wgpu::Buffer,
}

impl QMatMul {
    pub async fn new(gpu: &Gpu, types: &[WeightType]) -> Result<QMatMul> {
        let mut kernels = HashMap::new();
        for &ty in types.iter().filter(|&&ty| handles(ty)) {
            if let std::collections::hash_map::Entry::Vacant(slot) = kernels.entry(ty) {
                let label = format!("qmatmul {ty:?}");
                slot.insert(Kernel::new(gpu, &label, SOURCE, Some(ty)).await?);
            }
        }
        Ok(QMatMul {
            kernels,
            no_bias: gpu.storage("no bias", 4)?,
        })
    }

    pub fn bind(&self, gpu: &Gpu, w: &Weights, io: Io<'_>) -> Result<Bound> {
        let kernel = self.kernel(w.ty)?;
        let flags = (u32::from(io.accumulate) * ACCUMULATE)
            | (u32::from(io.bias.is_some()) * BIAS)
            | (u32::from(io.logit_rows) * LOGIT_ROWS);
        let shape = uniform(gpu, "qmatmul shape", &[w.rows, w.cols, flags, 0]);
        let bias = io.bias.unwrap_or(&self.no_bias);
        Ok(Bound {
            ty: w.ty,
            rows: w.rows,
            logit_rows: io.logit_rows,
            bind: kernel.bind(
                gpu,
                &[
                    &w.buffer, &io.x.xq, &io.x.xd, &io.x.xs, io.y, bias, &shape, io.counts,
                ],
            ),
        })
    }

    pub fn encode(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        b: &Bound,
        tokens: u32,
        logit_rows: u32,
    ) {
        let n = if b.logit_rows { logit_rows } else { tokens };
        if let Ok(kernel) = self.kernel(b.ty) {
            kernel.dispatch(pass, &b.bind, [groups_for(b.rows), n.div_ceil(TOKENS)]);
        }
    }

    fn kernel(&self, ty: WeightType) -> Result<&Kernel> {
        self.kernels
            .get(&ty)
            .ok_or_else(|| GpuError::Validation(format!("no quantized product kernel for {ty:?}")))
    }
}
