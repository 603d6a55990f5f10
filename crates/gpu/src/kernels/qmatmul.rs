//! Driver of the quantized products: quantized weights times quantized activations, the
//! CPU engine's arithmetic, in one of two layouts with the same numbers bit for bit
//! (qmatmul.wgsl for real GPUs, qmatmul_rows.wgsl for software ones).

use super::matmul::Weights;
use super::quantize::{self, Quantize, Quantized};
use super::{groups_for, product_flags, uniform, ByType, Counts, WeightType, PRODUCT};
use crate::device::{f32_bytes, AdapterReport, Gpu};
use crate::error::Result;

const BLOCK: &str = include_str!("qblock.wgsl");
const COOPERATIVE: &str = include_str!("qmatmul.wgsl");
const ROW_PER_THREAD: &str = include_str!("qmatmul_rows.wgsl");
/// Tokens one workgroup computes (TOKENS in both files).
const TOKENS: u32 = 4;
/// Rows one workgroup of the cooperative layout computes (ROWS in qmatmul.wgsl).
const ROWS: u32 = 4;

/// How a product's work is spread over threads. The arithmetic, and so every number, is
/// the same in both; only the speed differs, and which is faster depends on the GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A workgroup shares a few rows, one thread per weight block (qmatmul.wgsl): enough
    /// threads and coalesced reads for a real GPU.
    Cooperative,
    /// One thread per row (qmatmul_rows.wgsl): no barriers, which a software GPU runs
    /// faster (2.7x on lavapipe for SmolLM2's 576x1536 matrix).
    RowPerThread,
}

impl Layout {
    /// The layout for this adapter: row-per-thread on a software GPU, cooperative on any
    /// other. ([`Gpu::product_layout`] holds the device's choice.)
    pub fn for_adapter(report: &AdapterReport) -> Layout {
        if report.is_software() {
            Layout::RowPerThread
        } else {
            Layout::Cooperative
        }
    }

    fn source(self) -> String {
        let body = match self {
            Layout::Cooperative => COOPERATIVE,
            Layout::RowPerThread => ROW_PER_THREAD,
        };
        format!("{PRODUCT}{BLOCK}{body}")
    }

    fn groups(self, rows: u32, tokens: u32) -> [u32; 2] {
        let rows = match self {
            Layout::Cooperative => rows.div_ceil(ROWS),
            Layout::RowPerThread => groups_for(rows),
        };
        [rows, tokens.div_ceil(TOKENS)]
    }
}

/// Whether the quantized products read this type (F32 and F16 go through matmul.wgsl).
pub fn handles(ty: WeightType) -> bool {
    !matches!(ty, WeightType::F32 | WeightType::F16)
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
    layout: Layout,
    kernels: ByType,
    no_bias: wgpu::Buffer,
}

impl QMatMul {
    /// The products for `types`, in the device's layout.
    pub async fn new(gpu: &Gpu, types: &[WeightType]) -> Result<QMatMul> {
        QMatMul::with_layout(gpu, types, gpu.product_layout).await
    }

    /// The products in a chosen layout (the tests check both on one device).
    pub async fn with_layout(gpu: &Gpu, types: &[WeightType], layout: Layout) -> Result<QMatMul> {
        let kernels = ByType::new(
            gpu,
            "qmatmul",
            &layout.source(),
            types.iter().copied().filter(|&ty| handles(ty)),
        )
        .await?;
        Ok(QMatMul {
            layout,
            kernels,
            no_bias: gpu.storage("no bias", 4)?,
        })
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    pub fn bind(&self, gpu: &Gpu, w: &Weights, io: Io<'_>) -> Result<Bound> {
        let kernel = self.kernels.get(w.ty)?;
        let flags = product_flags(io.accumulate, io.bias.is_some(), io.logit_rows);
        let shape = uniform(
            gpu,
            "qmatmul shape",
            &[w.rows, w.cols, flags, w.total_rows, w.first_row],
        );
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
        if let Ok(kernel) = self.kernels.get(b.ty) {
            kernel.dispatch(pass, &b.bind, self.layout.groups(b.rows, n));
        }
    }
}

/// A quantized product on its own, outside a model (the self-test, the benchmark):
/// `tokens` rows of activations quantized, then multiplied by a weight matrix into `y`.
pub struct Standalone {
    quantize: Quantize,
    product: QMatMul,
    quantize_bind: quantize::Bound,
    product_bind: Bound,
    tokens: u32,
    /// The result, `[tokens][rows]`.
    pub y: wgpu::Buffer,
}

impl Standalone {
    pub async fn new(
        gpu: &Gpu,
        w: &Weights,
        x: &[f32],
        tokens: usize,
        layout: Layout,
    ) -> Result<Standalone> {
        let quantize = Quantize::new(gpu).await?;
        let product = QMatMul::with_layout(gpu, &[w.ty], layout).await?;
        let xb = gpu.storage_with("product input", &f32_bytes(x))?;
        let y = gpu.storage("product output", (tokens * w.rows as usize * 4) as u64)?;
        let q = Quantized::new(gpu, tokens as u64, u64::from(w.cols))?;
        let counts = uniform(gpu, "product counts", &[0]);
        let c = Counts {
            tokens: tokens as u32,
            logit_rows: 0,
            norm_rows: 0,
        };
        gpu.queue.write_buffer(&counts, 0, &c.bytes());
        let quantize_bind = quantize.bind(gpu, w.cols, false, &xb, &q, &counts);
        let product_bind = product.bind(
            gpu,
            w,
            Io {
                x: &q,
                y: &y,
                bias: None,
                accumulate: false,
                logit_rows: false,
                counts: &counts,
            },
        )?;
        Ok(Standalone {
            quantize,
            product,
            quantize_bind,
            product_bind,
            tokens: tokens as u32,
            y,
        })
    }

    /// Records the quantization and the product.
    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>) {
        self.quantize
            .encode(pass, &self.quantize_bind, self.tokens, 0);
        self.product
            .encode(pass, &self.product_bind, self.tokens, 0);
    }
}
