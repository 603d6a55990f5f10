//! Driver of matmul.wgsl: `y (+)= W·x (+ bias)` for every token of the pass, with `W` in
//! its GGUF blocks.

use super::{product_flags, uniform, ByType, WeightType, PRODUCT};
use crate::device::Gpu;
use crate::error::{GpuError, Result};

const SOURCE: &str = include_str!("matmul.wgsl");
/// Rows and tokens one workgroup computes (ROWS and TOKENS in matmul.wgsl).
const ROWS: u32 = 8;
const TOKENS: u32 = 8;

/// A weight matrix `[rows][cols]` on the GPU, as the file stores it; or a range of its
/// rows, when the whole would pass the device's largest binding.
pub struct Weights {
    pub buffer: wgpu::Buffer,
    pub ty: WeightType,
    pub rows: u32,
    pub cols: u32,
    /// The first of these rows in the whole matrix (0 when whole).
    pub first_row: u32,
    /// The whole matrix's rows: the width of a product's outputs.
    pub total_rows: u32,
}

/// The bytes of one row of `cols` values of `ty`, once `bytes` is checked to hold `rows`
/// whole rows of them.
fn row_bytes(name: &str, ty: WeightType, rows: usize, cols: usize, bytes: &[u8]) -> Result<usize> {
    let (per, block) = ty.file_block();
    let row = cols as u64 / per * block;
    if !(cols as u64).is_multiple_of(per) || bytes.len() as u64 != rows as u64 * row {
        return Err(GpuError::Validation(format!(
            "tensor `{name}`: {} bytes for {rows}×{cols} {ty:?} values (rows must be whole blocks of {per})",
            bytes.len()
        )));
    }
    Ok(row as usize)
}

impl Weights {
    /// Uploads a GGUF tensor's bytes (`rows` rows of `cols` values).
    pub fn upload(
        gpu: &Gpu,
        name: &str,
        ty: WeightType,
        rows: usize,
        cols: usize,
        bytes: &[u8],
    ) -> Result<Weights> {
        row_bytes(name, ty, rows, cols, bytes)?;
        Ok(Weights {
            buffer: gpu.storage_with(name, bytes)?,
            ty,
            rows: rows as u32,
            cols: cols as u32,
            first_row: 0,
            total_rows: rows as u32,
        })
    }

    /// Uploads a matrix as runs of whole rows, each within the device's largest binding
    /// (one run when the whole fits): large vocabularies' embeddings and output
    /// projections pass WebGPU's default 128 MiB, and some devices offer no more.
    pub fn upload_rows(
        gpu: &Gpu,
        name: &str,
        ty: WeightType,
        rows: usize,
        cols: usize,
        bytes: &[u8],
    ) -> Result<Vec<Weights>> {
        let row_bytes = row_bytes(name, ty, rows, cols, bytes)?;
        // Storage bindings are whole 32-bit words: a run's bytes are padded to four.
        let limit = gpu.binding_limit();
        let per_run = (limit.saturating_sub(3) / row_bytes.max(1) as u64) as usize;
        if per_run == 0 {
            return Err(GpuError::TooLarge {
                what: format!("one row of {name}"),
                needed: row_bytes as u64,
                limit,
            });
        }
        let mut runs = Vec::new();
        let mut first = 0;
        while first < rows {
            let n = per_run.min(rows - first);
            let mut w = Weights::upload(
                gpu,
                name,
                ty,
                n,
                cols,
                &bytes[first * row_bytes..(first + n) * row_bytes],
            )?;
            w.first_row = first as u32;
            w.total_rows = rows as u32;
            runs.push(w);
            first += n;
        }
        Ok(runs)
    }
}

/// Where a product reads and writes, and how.
pub struct Io<'a> {
    pub x: &'a wgpu::Buffer,
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

/// The product's pipelines, one per weight type in use.
pub struct MatMul {
    kernels: ByType,
    no_bias: wgpu::Buffer,
}

impl MatMul {
    pub async fn new(gpu: &Gpu, types: &[WeightType]) -> Result<MatMul> {
        let source = format!("{PRODUCT}{SOURCE}");
        let kernels = ByType::new(gpu, "matmul", &source, types.iter().copied()).await?;
        Ok(MatMul {
            kernels,
            no_bias: gpu.storage("no bias", 4)?,
        })
    }

    pub fn bind(&self, gpu: &Gpu, w: &Weights, io: Io<'_>) -> Result<Bound> {
        let kernel = self.kernels.get(w.ty)?;
        let flags = product_flags(io.accumulate, io.bias.is_some(), io.logit_rows);
        let shape = uniform(
            gpu,
            "matmul shape",
            &[w.rows, w.cols, flags, w.total_rows, w.first_row],
        );
        let bias = io.bias.unwrap_or(&self.no_bias);
        Ok(Bound {
            ty: w.ty,
            rows: w.rows,
            logit_rows: io.logit_rows,
            bind: kernel.bind(gpu, &[&w.buffer, io.x, io.y, bias, &shape, io.counts]),
        })
    }

    /// Records the product for a pass of `tokens` tokens and `logit_rows` logit rows.
    pub fn encode(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        b: &Bound,
        tokens: u32,
        logit_rows: u32,
    ) {
        let n = if b.logit_rows { logit_rows } else { tokens };
        if let Ok(kernel) = self.kernels.get(b.ty) {
            kernel.dispatch(pass, &b.bind, [b.rows.div_ceil(ROWS), n.div_ceil(TOKENS)]);
        }
    }
}
