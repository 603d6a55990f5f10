//! The WGSL kernels, one file each, with the Rust that builds and binds them beside it.
//!
//! Every kernel reads the pass's sizes from one small uniform ([`Counts`], counts.wgsl),
//! written once per forward pass, and its fixed sizes from a uniform of its own made at
//! load time; bind groups are made once, so a decode step creates no GPU objects.

pub mod attention;
pub mod embedding;
pub mod kv_store;
pub mod matmul;
pub mod qmatmul;
pub mod quantize;
pub mod rms_norm;
pub mod rope;
pub mod swiglu;

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use ponder_model::gguf::TensorType;

use crate::device::{u32_bytes, Gpu};
use crate::error::{GpuError, Result};

const COUNTS: &str = include_str!("counts.wgsl");
const BLOCKS: &str = include_str!("blocks.wgsl");
const EXACT: &str = include_str!("exact.wgsl");
/// What the product kernels share (product.wgsl): flags, shape, inputs and output writes.
pub(crate) const PRODUCT: &str = include_str!("product.wgsl");
/// Activation quantization (q8.wgsl), for the kernels that quantize what they compute.
pub(crate) const Q8: &str = include_str!("q8.wgsl");

/// Threads per workgroup in every kernel (WebGPU guarantees 256; 64 suits every GPU).
pub const WORKGROUP: u32 = 64;

/// The most workgroups along one dimension of a dispatch (WebGPU's default limit).
pub const MAX_GROUPS: u32 = 65_535;

/// How a weight tensor's bytes are laid out, as blocks.wgsl names the types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WeightType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q4K,
    Q6K,
}

impl WeightType {
    /// Every type the kernels read.
    pub const ALL: [WeightType; 9] = [
        WeightType::F32,
        WeightType::F16,
        WeightType::Q4_0,
        WeightType::Q4_1,
        WeightType::Q5_0,
        WeightType::Q5_1,
        WeightType::Q8_0,
        WeightType::Q4K,
        WeightType::Q6K,
    ];

    pub fn of(name: &str, ty: TensorType) -> Result<WeightType> {
        Ok(match ty {
            TensorType::F32 => WeightType::F32,
            TensorType::F16 => WeightType::F16,
            TensorType::Q4_0 => WeightType::Q4_0,
            TensorType::Q4_1 => WeightType::Q4_1,
            TensorType::Q5_0 => WeightType::Q5_0,
            TensorType::Q5_1 => WeightType::Q5_1,
            TensorType::Q8_0 => WeightType::Q8_0,
            TensorType::Q4K => WeightType::Q4K,
            TensorType::Q6K => WeightType::Q6K,
            other => {
                return Err(GpuError::UnsupportedType {
                    name: name.to_string(),
                    ty: other.to_string(),
                })
            }
        })
    }

    /// The GGUF tensor type this is.
    pub fn tensor_type(self) -> TensorType {
        match self {
            WeightType::F32 => TensorType::F32,
            WeightType::F16 => TensorType::F16,
            WeightType::Q4_0 => TensorType::Q4_0,
            WeightType::Q4_1 => TensorType::Q4_1,
            WeightType::Q5_0 => TensorType::Q5_0,
            WeightType::Q5_1 => TensorType::Q5_1,
            WeightType::Q8_0 => TensorType::Q8_0,
            WeightType::Q4K => TensorType::Q4K,
            WeightType::Q6K => TensorType::Q6K,
        }
    }

    /// The value blocks.wgsl's `TYPE_*` constants give this type (ggml's type ids).
    fn id(self) -> u32 {
        match self {
            WeightType::F32 => 0,
            WeightType::F16 => 1,
            WeightType::Q4_0 => 2,
            WeightType::Q4_1 => 3,
            WeightType::Q5_0 => 6,
            WeightType::Q5_1 => 7,
            WeightType::Q8_0 => 8,
            WeightType::Q4K => 12,
            WeightType::Q6K => 14,
        }
    }

    /// Weights per block as the file stores them, and the block's bytes.
    pub fn file_block(self) -> (u64, u64) {
        match self {
            WeightType::F32 => (32, 128),
            WeightType::F16 => (32, 64),
            WeightType::Q4_0 => (32, 18),
            WeightType::Q4_1 => (32, 20),
            WeightType::Q5_0 => (32, 22),
            WeightType::Q5_1 => (32, 24),
            WeightType::Q8_0 => (32, 34),
            WeightType::Q4K => (256, 144),
            WeightType::Q6K => (256, 210),
        }
    }
}

/// The sizes of one forward pass (counts.wgsl).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub tokens: u32,
    pub logit_rows: u32,
    pub norm_rows: u32,
}

impl Counts {
    pub fn bytes(&self) -> Vec<u8> {
        u32_bytes(&[self.tokens, self.logit_rows, self.norm_rows, 0])
    }
}

/// A compiled compute pipeline and the layout of its one bind group.
pub struct Kernel {
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

impl Kernel {
    /// Compiles `body` after the shared declarations and arithmetic (and the block readers for a
    /// `weights` type). A shader the device rejects is an error, not a panic.
    pub async fn new(
        gpu: &Gpu,
        label: &str,
        body: &str,
        weights: Option<WeightType>,
    ) -> Result<Kernel> {
        let mut source = format!("{COUNTS}{EXACT}");
        if let Some(ty) = weights {
            source.push_str(&format!("const WEIGHT_TYPE: u32 = {}u;\n", ty.id()));
            source.push_str(BLOCKS);
        }
        source.push_str(body);
        if let Some((pipeline, layout)) = gpu
            .pipelines
            .lock()
            .ok()
            .and_then(|p| p.get(&source).cloned())
        {
            return Ok(Kernel { pipeline, layout });
        }
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = gpu
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(source.as_str().into()),
            });
        let pipeline = gpu
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
        if let Some(error) = scope.pop().await {
            return Err(GpuError::Validation(format!("kernel {label}: {error}")));
        }
        let layout = pipeline.get_bind_group_layout(0);
        if let Ok(mut cache) = gpu.pipelines.lock() {
            cache.insert(source, (pipeline.clone(), layout.clone()));
        }
        Ok(Kernel { pipeline, layout })
    }

    /// A bind group with `buffers[i]` at binding i, each bound whole.
    pub fn bind(&self, gpu: &Gpu, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry<'_>> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &self.layout,
            entries: &entries,
        })
    }

    /// Records one dispatch of `groups` workgroups.
    pub fn dispatch(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        bind: &wgpu::BindGroup,
        groups: [u32; 2],
    ) {
        if groups[0] == 0 || groups[1] == 0 {
            return;
        }
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, bind, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], 1);
    }
}

/// One kernel compiled for each weight type in use (the products read every type's blocks
/// through blocks.wgsl, specialised at compile time).
pub struct ByType {
    name: &'static str,
    kernels: HashMap<WeightType, Kernel>,
}

impl ByType {
    pub async fn new(
        gpu: &Gpu,
        name: &'static str,
        source: &str,
        types: impl IntoIterator<Item = WeightType>,
    ) -> Result<ByType> {
        let mut kernels = HashMap::new();
        for ty in types {
            if let Entry::Vacant(slot) = kernels.entry(ty) {
                let label = format!("{name} {ty:?}");
                slot.insert(Kernel::new(gpu, &label, source, Some(ty)).await?);
            }
        }
        Ok(ByType { name, kernels })
    }

    pub fn get(&self, ty: WeightType) -> Result<&Kernel> {
        self.kernels.get(&ty).ok_or_else(|| {
            GpuError::Validation(format!("no {} kernel was built for {ty:?}", self.name))
        })
    }
}

/// The flags word of a product's shape, as product.wgsl reads it:
/// ACCUMULATE (add to the output: a residual connection), BIAS, LOGIT_ROWS (run over the
/// pass's logit rows instead of its tokens).
pub fn product_flags(accumulate: bool, bias: bool, logit_rows: bool) -> u32 {
    u32::from(accumulate) | (u32::from(bias) << 1) | (u32::from(logit_rows) << 2)
}

/// A uniform buffer of 32-bit words (a kernel's fixed sizes), padded to 16 bytes.
pub fn uniform(gpu: &Gpu, label: &str, words: &[u32]) -> wgpu::Buffer {
    let mut words = words.to_vec();
    words.resize(words.len().div_ceil(4).max(1) * 4, 0);
    let buffer = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: words.len() as u64 * 4,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    gpu.queue.write_buffer(&buffer, 0, &u32_bytes(&words));
    buffer
}

/// Workgroups to cover `n` items at [`WORKGROUP`] per group.
pub fn groups_for(n: u32) -> u32 {
    n.div_ceil(WORKGROUP)
}
