//! The whole transformer on the GPU: [`ponder_model::transformer::Transformer::forward`]'s
//! operation, batched over sequences, with the caches in preallocated GPU buffers.
//!
//! A sequence lives in a *slot*: a fixed range of positions in every layer's key and value
//! buffers. One forward pass runs the new tokens of any number of slots (prefill, batched
//! decode and PRM scoring alike) as one command buffer, and reads back only the requested
//! logits and final-norm hidden states. Forking a sequence copies its slot on the GPU.

use std::sync::{Arc, Mutex};

use ponder_model::config::ModelConfig;
use ponder_model::gguf::{GgufFile, TensorType};
use ponder_model::qmatmul::f16_to_f32;
use ponder_model::transformer::{ItemOutput, Wanted};
use ponder_model::ModelError;

use crate::device::{f32_bytes, f32s, u32_bytes, Gpu};
use crate::error::{GpuError, Result};
use crate::kernels::attention::{self, Attention};
use crate::kernels::embedding::Embedding;
use crate::kernels::kv_store::{self, KvStore};
use crate::kernels::matmul::{self, MatMul, Weights};
use crate::kernels::qmatmul::{self, QMatMul};
use crate::kernels::quantize::{self, Quantize, Quantized};
use crate::kernels::rms_norm::{self, RmsNorm};
use crate::kernels::rope::Rope;
use crate::kernels::swiglu::SwiGlu;
use crate::kernels::{Counts, WeightType};

/// How many sequences the caches hold at once, and how many positions each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    pub slots: u32,
    pub positions: u32,
}

/// One sequence's part of a forward pass.
pub struct Item<'a> {
    pub slot: u32,
    /// Positions the slot already holds; the new tokens go after them.
    pub start: usize,
    pub tokens: &'a [u32],
    pub wanted: Wanted,
}

struct Layer {
    attn_norm: wgpu::Buffer,
    wq: Weights,
    wk: Weights,
    wv: Weights,
    wo: Weights,
    bias: Option<[wgpu::Buffer; 3]>,
    ffn_norm: wgpu::Buffer,
    gate: Weights,
    up: Weights,
    down: Weights,
    k_cache: wgpu::Buffer,
    v_cache: wgpu::Buffer,
}

struct Kernels {
    matmul: MatMul,
    qmatmul: QMatMul,
    quantize: Quantize,
    rms_norm: RmsNorm,
    rope: Rope,
    kv_store: KvStore,
    attention: Attention,
    swiglu: SwiGlu,
    embedding: Embedding,
}

/// Per-pass buffers, sized for up to `tokens` new tokens and `rows` output rows, and the
/// bind groups that use them (made when the buffers are, never per pass).
struct Scratch {
    tokens: u32,
    rows: u32,
    token_ids: wgpu::Buffer,
    positions: wgpu::Buffer,
    slots: wgpu::Buffer,
    selected: wgpu::Buffer,
    normed_out: wgpu::Buffer,
    logits: wgpu::Buffer,
    readback: wgpu::Buffer,
    /// One per run of the embedding's rows.
    embed: Vec<wgpu::BindGroup>,
    layers: Vec<LayerBinds>,
    final_norm: rms_norm::Bound,
    /// One per run of the output projection's rows.
    output: Vec<Product>,
}

/// A bound projection: quantized weights take quantized activations, as on the CPU.
enum Product {
    Dense(matmul::Bound),
    Quantized(qmatmul::Bound),
}

impl Kernels {
    fn project(&self, pass: &mut wgpu::ComputePass<'_>, p: &Product, tokens: u32, logit_rows: u32) {
        match p {
            Product::Dense(b) => self.matmul.encode(pass, b, tokens, logit_rows),
            Product::Quantized(b) => self.qmatmul.encode(pass, b, tokens, logit_rows),
        }
    }
}

struct LayerBinds {
    attn_norm: rms_norm::Bound,
    wq: Product,
    wk: Product,
    wv: Product,
    rope: wgpu::BindGroup,
    kv_store: wgpu::BindGroup,
    attention: wgpu::BindGroup,
    quantize_attention: quantize::Bound,
    wo: Product,
    ffn_norm: rms_norm::Bound,
    gate: Product,
    up: Product,
    swiglu: wgpu::BindGroup,
    down: Product,
}

pub struct GpuTransformer {
    pub gpu: std::sync::Arc<Gpu>,
    pub config: ModelConfig,
    pub vocab_size: usize,
    pub capacity: Capacity,
    /// Parameters (tied embeddings counted once), for FLOP accounting.
    pub parameters: u64,
    kernels: Kernels,
    /// The token embedding, in runs of rows that each fit one binding (one run where the
    /// whole fits).
    embedding: Vec<Weights>,
    /// `None` when the output projection is the embedding (tied weights); in runs too.
    output: Option<Vec<Weights>>,
    output_norm: wgpu::Buffer,
    layers: Vec<Layer>,
    rope_table: wgpu::Buffer,
    counts: wgpu::Buffer,
    /// Slots not held by a sequence; a dropped [`crate::cache::GpuCache`] puts its own back.
    free_slots: Arc<Mutex<Vec<u32>>>,
    scratch: Option<Scratch>,
    /// One slot's rows of one layer, for forks (made at the first fork).
    fork_staging: Option<wgpu::Buffer>,
}

/// A norm or bias vector as f32, from an F32 or F16 tensor.
fn vector(file: &GgufFile, bytes: &[u8], name: &str, len: usize) -> Result<Vec<f32>> {
    let (info, raw) = file.tensor_bytes(bytes, name)?;
    if info.dims != [len as u64] {
        return Err(ModelError::BadShape {
            name: name.to_string(),
            expected: vec![len as u64],
            found: info.dims.clone(),
        }
        .into());
    }
    match info.ty {
        TensorType::F32 => Ok(f32s(raw)),
        TensorType::F16 => Ok(raw
            .chunks_exact(2)
            .map(|h| f16_to_f32(u16::from_le_bytes([h[0], h[1]])))
            .collect()),
        other => Err(GpuError::UnsupportedType {
            name: name.to_string(),
            ty: other.to_string(),
        }),
    }
}

/// A weight tensor's type and bytes, checked to be `outputs` rows of `inputs` values.
fn checked<'a>(
    file: &GgufFile,
    bytes: &'a [u8],
    name: &str,
    inputs: usize,
    outputs: usize,
) -> Result<(WeightType, &'a [u8])> {
    let (info, raw) = file.tensor_bytes(bytes, name)?;
    if info.dims != [inputs as u64, outputs as u64] {
        return Err(ModelError::BadShape {
            name: name.to_string(),
            expected: vec![inputs as u64, outputs as u64],
            found: info.dims.clone(),
        }
        .into());
    }
    Ok((WeightType::of(name, info.ty)?, raw))
}

/// A weight matrix of `outputs` rows of `inputs` values.
fn matrix(
    gpu: &Gpu,
    file: &GgufFile,
    bytes: &[u8],
    name: &str,
    inputs: usize,
    outputs: usize,
) -> Result<Weights> {
    let (ty, raw) = checked(file, bytes, name, inputs, outputs)?;
    Weights::upload(gpu, name, ty, outputs, inputs, raw)
}

/// A matrix of `outputs` rows in runs of rows that each fit one binding (the embedding and
/// the output projection, whose vocabulary rows can pass the limit).
fn matrix_rows(
    gpu: &Gpu,
    file: &GgufFile,
    bytes: &[u8],
    name: &str,
    inputs: usize,
    outputs: usize,
) -> Result<Vec<Weights>> {
    let (ty, raw) = checked(file, bytes, name, inputs, outputs)?;
    Weights::upload_rows(gpu, name, ty, outputs, inputs, raw)
}

impl GpuTransformer {
    /// Uploads a model's weights and makes caches of `capacity`.
    pub async fn from_gguf(
        gpu: std::sync::Arc<Gpu>,
        file: &GgufFile,
        bytes: &[u8],
        capacity: Capacity,
    ) -> Result<GpuTransformer> {
        let config = ModelConfig::from_gguf(file)?;
        let (h, kvw, ff) = (config.hidden, config.kv_width(), config.ffn_hidden);
        let capacity = Capacity {
            slots: capacity.slots.max(1),
            positions: capacity.positions.clamp(1, config.context_length as u32),
        };
        let embd = file.tensor("token_embd.weight").ok_or_else(|| {
            ponder_model::gguf::GgufError::MissingTensor("token_embd.weight".into())
        })?;
        let vocab_size = embd.dims.get(1).copied().unwrap_or(0) as usize;
        let embedding = matrix_rows(&gpu, file, bytes, "token_embd.weight", h, vocab_size)?;
        let output = match file.tensor("output.weight") {
            Some(_) => Some(matrix_rows(
                &gpu,
                file,
                bytes,
                "output.weight",
                h,
                vocab_size,
            )?),
            None => None,
        };
        let output_norm = gpu.storage_with(
            "output_norm",
            &f32_bytes(&vector(file, bytes, "output_norm.weight", h)?),
        )?;
        let cache_bytes =
            u64::from(capacity.slots) * u64::from(capacity.positions) * kvw as u64 * 4;
        let mut layers = Vec::new();
        for i in 0..config.n_layers {
            let p = format!("blk.{i}");
            let norm = |name: &str| -> Result<wgpu::Buffer> {
                let v = vector(file, bytes, &format!("{p}.{name}.weight"), h)?;
                gpu.storage_with(name, &f32_bytes(&v))
            };
            let bias = if config.qkv_bias {
                let b = |name: &str, len: usize| -> Result<wgpu::Buffer> {
                    let v = vector(file, bytes, &format!("{p}.{name}.bias"), len)?;
                    gpu.storage_with(name, &f32_bytes(&v))
                };
                Some([b("attn_q", h)?, b("attn_k", kvw)?, b("attn_v", kvw)?])
            } else {
                None
            };
            let m = |name: &str, inputs: usize, outputs: usize| {
                matrix(
                    &gpu,
                    file,
                    bytes,
                    &format!("{p}.{name}.weight"),
                    inputs,
                    outputs,
                )
            };
            layers.push(Layer {
                attn_norm: norm("attn_norm")?,
                wq: m("attn_q", h, h)?,
                wk: m("attn_k", h, kvw)?,
                wv: m("attn_v", h, kvw)?,
                wo: m("attn_output", h, h)?,
                bias,
                ffn_norm: norm("ffn_norm")?,
                gate: m("ffn_gate", h, ff)?,
                up: m("ffn_up", h, ff)?,
                down: m("ffn_down", ff, h)?,
                k_cache: gpu.storage("key cache", cache_bytes)?,
                v_cache: gpu.storage("value cache", cache_bytes)?,
            });
        }
        let mut types = vec![embedding[0].ty];
        types.extend(output.as_ref().map(|w| w[0].ty));
        for l in &layers {
            types.extend([
                l.wq.ty, l.wk.ty, l.wv.ty, l.wo.ty, l.gate.ty, l.up.ty, l.down.ty,
            ]);
        }
        let kernels = Kernels {
            matmul: MatMul::new(&gpu, &types).await?,
            qmatmul: QMatMul::new(&gpu, &types).await?,
            quantize: Quantize::new(&gpu).await?,
            rms_norm: RmsNorm::new(&gpu).await?,
            rope: Rope::new(&gpu, &config).await?,
            kv_store: KvStore::new(&gpu, kvw as u32).await?,
            attention: Attention::new(&gpu, &config).await?,
            swiglu: SwiGlu::new(&gpu, ff as u32).await?,
            embedding: Embedding::new(&gpu, &embedding[0]).await?,
        };
        let rope_table = Rope::table(&gpu, &config, capacity.positions as usize)?;
        let counts = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("counts"),
            size: 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        gpu.check_alive()?;
        let parameters = file.tensors().iter().map(|t| t.elements()).sum();
        Ok(GpuTransformer {
            parameters,
            config,
            vocab_size,
            capacity,
            kernels,
            embedding,
            output,
            output_norm,
            layers,
            rope_table,
            counts,
            free_slots: Arc::new(Mutex::new((0..capacity.slots).rev().collect())),
            scratch: None,
            fork_staging: None,
            gpu,
        })
    }

    /// Runs of rows the embedding was uploaded in (1 unless it passes the binding limit).
    pub fn embedding_runs(&self) -> usize {
        self.embedding.len()
    }

    /// A free slot for a new sequence; when every slot is held, the caches double first.
    pub fn take_slot(&mut self) -> Result<u32> {
        if let Some(slot) = self.lock_free()?.pop() {
            return Ok(slot);
        }
        self.grow()?;
        self.lock_free()?
            .pop()
            .ok_or_else(|| GpuError::Validation("no free GPU slot after growing the caches".into()))
    }

    /// Returns a slot to the free list.
    pub fn release_slot(&mut self, slot: u32) {
        if let Ok(mut free) = self.lock_free() {
            if slot < self.capacity.slots && !free.contains(&slot) {
                free.push(slot);
            }
        }
    }

    /// The free list, shared with the caches that return their slots to it.
    pub fn free_list(&self) -> Arc<Mutex<Vec<u32>>> {
        self.free_slots.clone()
    }

    fn lock_free(&self) -> Result<std::sync::MutexGuard<'_, Vec<u32>>> {
        self.free_slots
            .lock()
            .map_err(|_| GpuError::Validation("the GPU slot list was poisoned by a panic".into()))
    }

    /// Doubles the number of slots: new key and value buffers, the old contents copied
    /// over on the GPU (live sequences keep their slots), and the bind groups remade.
    fn grow(&mut self) -> Result<()> {
        let old = self.capacity.slots;
        let slots = old
            .checked_mul(2)
            .ok_or_else(|| GpuError::Validation("too many GPU sequence slots".into()))?;
        let row = self.config.kv_width() as u64 * 4;
        let old_bytes = u64::from(old) * u64::from(self.capacity.positions) * row;
        let new_bytes = u64::from(slots) * u64::from(self.capacity.positions) * row;
        let mut encoder = self
            .gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        for layer in &mut self.layers {
            for cache in [&mut layer.k_cache, &mut layer.v_cache] {
                let bigger = self.gpu.storage("cache", new_bytes)?;
                encoder.copy_buffer_to_buffer(cache, 0, &bigger, 0, old_bytes);
                *cache = bigger;
            }
        }
        self.gpu.queue.submit([encoder.finish()]);
        self.capacity.slots = slots;
        self.lock_free()?.extend((old..slots).rev());
        // The bind groups point at the old caches.
        self.scratch = None;
        Ok(())
    }

    /// Copies the first `positions` cached positions of slot `from` into slot `to`, on the
    /// GPU (a fork: both sequences then continue on their own). WebGPU forbids a copy
    /// within one buffer, so each layer's rows pass through a staging buffer.
    pub fn copy_slot(&mut self, from: u32, to: u32, positions: usize) -> Result<()> {
        let row = self.config.kv_width() as u64 * 4;
        let slot_bytes = u64::from(self.capacity.positions) * row;
        let len = positions as u64 * row;
        if len == 0 || from == to {
            return Ok(());
        }
        if self.fork_staging.is_none() {
            self.fork_staging = Some(self.gpu.storage("fork staging", slot_bytes)?);
        }
        let Some(staging) = &self.fork_staging else {
            return Ok(());
        };
        let mut encoder = self
            .gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        for layer in &self.layers {
            for cache in [&layer.k_cache, &layer.v_cache] {
                encoder.copy_buffer_to_buffer(cache, u64::from(from) * slot_bytes, staging, 0, len);
                encoder.copy_buffer_to_buffer(staging, 0, cache, u64::from(to) * slot_bytes, len);
            }
        }
        self.gpu.queue.submit([encoder.finish()]);
        Ok(())
    }

    /// Runs every item's new tokens and returns its requested logits and hidden states,
    /// as [`ponder_model::transformer::Transformer::forward`] does.
    pub async fn forward(&mut self, items: &[Item<'_>]) -> Result<Vec<ItemOutput>> {
        self.gpu.check_alive()?;
        let mut token_ids = Vec::new();
        let mut positions = Vec::new();
        let mut slots = Vec::new();
        let mut logit_rows = Vec::new();
        let mut hidden_rows = Vec::new();
        for item in items {
            let end = item.start + item.tokens.len();
            if end > self.capacity.positions as usize {
                return Err(ModelError::ContextFull {
                    len: end,
                    max: self.capacity.positions as usize,
                }
                .into());
            }
            if item.slot >= self.capacity.slots {
                return Err(GpuError::Validation(format!("no GPU slot {}", item.slot)));
            }
            let first = token_ids.len() as u32;
            for (i, &id) in item.tokens.iter().enumerate() {
                if id as usize >= self.vocab_size {
                    return Err(ModelError::TokenOutOfRange {
                        id,
                        vocab: self.vocab_size,
                    }
                    .into());
                }
                token_ids.push(id);
                positions.push((item.start + i) as u32);
                slots.push(item.slot);
            }
            for (wanted, rows) in [
                (&item.wanted.logits, &mut logit_rows),
                (&item.wanted.hidden, &mut hidden_rows),
            ] {
                for &i in wanted {
                    if i >= item.tokens.len() {
                        return Err(ModelError::BadRequest(format!(
                            "an output at token {i} of a {}-token input",
                            item.tokens.len()
                        ))
                        .into());
                    }
                    rows.push(first + i as u32);
                }
            }
        }
        let tokens = token_ids.len() as u32;
        if tokens == 0 {
            return Ok(items.iter().map(|_| ItemOutput::default()).collect());
        }
        let counts = Counts {
            tokens,
            logit_rows: logit_rows.len() as u32,
            norm_rows: (logit_rows.len() + hidden_rows.len()) as u32,
        };
        self.ensure_scratch(tokens, counts.norm_rows)?;
        let Some(s) = self.scratch.as_ref() else {
            return Err(GpuError::Validation("scratch buffers missing".into()));
        };
        let mut selected = logit_rows.clone();
        selected.extend(&hidden_rows);
        let queue = &self.gpu.queue;
        queue.write_buffer(&self.counts, 0, &counts.bytes());
        queue.write_buffer(&s.token_ids, 0, &u32_bytes(&token_ids));
        queue.write_buffer(&s.positions, 0, &u32_bytes(&positions));
        queue.write_buffer(&s.slots, 0, &u32_bytes(&slots));
        if !selected.is_empty() {
            queue.write_buffer(&s.selected, 0, &u32_bytes(&selected));
        }

        let k = &self.kernels;
        let mut encoder = self
            .gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            let (t, lr, nr) = (counts.tokens, counts.logit_rows, counts.norm_rows);
            for embed in &s.embed {
                k.embedding.encode(&mut pass, embed, t);
            }
            for b in &s.layers {
                k.rms_norm.encode(&mut pass, &b.attn_norm, t, nr);
                k.project(&mut pass, &b.wq, t, lr);
                k.project(&mut pass, &b.wk, t, lr);
                k.project(&mut pass, &b.wv, t, lr);
                k.rope.encode(&mut pass, &b.rope, t);
                k.kv_store.encode(&mut pass, &b.kv_store, t);
                k.attention.encode(&mut pass, &b.attention, t);
                k.quantize.encode(&mut pass, &b.quantize_attention, t, lr);
                k.project(&mut pass, &b.wo, t, lr);
                k.rms_norm.encode(&mut pass, &b.ffn_norm, t, nr);
                k.project(&mut pass, &b.gate, t, lr);
                k.project(&mut pass, &b.up, t, lr);
                k.swiglu.encode(&mut pass, &b.swiglu, t);
                k.project(&mut pass, &b.down, t, lr);
            }
            k.rms_norm.encode(&mut pass, &s.final_norm, t, nr);
            for output in &s.output {
                k.project(&mut pass, output, t, lr);
            }
        }
        let h = self.config.hidden as u64;
        let logit_bytes = u64::from(counts.logit_rows) * self.vocab_size as u64 * 4;
        let normed_bytes = u64::from(counts.norm_rows) * h * 4;
        if logit_bytes > 0 {
            encoder.copy_buffer_to_buffer(&s.logits, 0, &s.readback, 0, logit_bytes);
        }
        if normed_bytes > 0 {
            encoder.copy_buffer_to_buffer(&s.normed_out, 0, &s.readback, logit_bytes, normed_bytes);
        }
        queue.submit([encoder.finish()]);
        let bytes = self
            .gpu
            .map(&s.readback, logit_bytes + normed_bytes)
            .await?;
        let values = f32s(&bytes);
        let (logits, normed) = values.split_at(logit_bytes as usize / 4);

        let mut outputs: Vec<ItemOutput> = items.iter().map(|_| ItemOutput::default()).collect();
        let (v, hw) = (self.vocab_size, h as usize);
        let mut row = 0;
        for (item, out) in items.iter().zip(&mut outputs) {
            for _ in &item.wanted.logits {
                out.logits.push(logits[row * v..(row + 1) * v].to_vec());
                row += 1;
            }
        }
        let mut row = counts.logit_rows as usize;
        for (item, out) in items.iter().zip(&mut outputs) {
            for _ in &item.wanted.hidden {
                out.hidden.push(normed[row * hw..(row + 1) * hw].to_vec());
                row += 1;
            }
        }
        Ok(outputs)
    }

    /// Makes the per-pass buffers big enough for `tokens` tokens and `rows` output rows,
    /// growing by powers of two so that a run settles after a few passes.
    fn ensure_scratch(&mut self, tokens: u32, rows: u32) -> Result<()> {
        if let Some(s) = &self.scratch {
            if s.tokens >= tokens && s.rows >= rows {
                return Ok(());
            }
        }
        let old = self.scratch.as_ref().map_or((0, 0), |s| (s.tokens, s.rows));
        let tokens = tokens.next_power_of_two().max(old.0).max(8);
        let rows = rows.next_power_of_two().max(old.1).max(8);
        self.scratch = None;
        self.scratch = Some(self.make_scratch(tokens, rows)?);
        Ok(())
    }

    fn make_scratch(&self, tokens: u32, rows: u32) -> Result<Scratch> {
        let gpu = &*self.gpu;
        let cfg = &self.config;
        let (h, kvw, ff) = (
            cfg.hidden as u64,
            cfg.kv_width() as u64,
            cfg.ffn_hidden as u64,
        );
        let t = u64::from(tokens);
        let f = |label: &str, values: u64| gpu.storage(label, values * 4);
        let x = f("x", t * h)?;
        let normed = f("normed", t * h)?;
        let q = f("q", t * h)?;
        let kb = f("k", t * kvw)?;
        let vb = f("v", t * kvw)?;
        let att = f("attention out", t * h)?;
        let gate = f("gate", t * ff)?;
        let up = f("up", t * ff)?;
        let scores = f(
            "scores",
            t * cfg.n_heads as u64 * u64::from(self.capacity.positions),
        )?;
        let token_ids = f("token ids", t)?;
        let positions = f("positions", t)?;
        let slots = f("slots", t)?;
        let selected = f("selected", u64::from(rows))?;
        let normed_out = f("final norm", u64::from(rows) * h)?;
        let logits = f("logits", u64::from(rows) * self.vocab_size as u64)?;
        let readback_bytes = (u64::from(rows) * (self.vocab_size as u64 + h) * 4).div_ceil(4) * 4;
        let readback = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: readback_bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });

        let quantized = Quantized::new(gpu, t.max(u64::from(rows)), h.max(ff))?;
        // The norms quantize the rows they write for the quantized products after them
        // (one dispatch instead of two), as the swiglu does for the down projection.
        let whole_blocks = h % 32 == 0;
        let k = &self.kernels;
        let counts = &self.counts;
        let eps = cfg.rms_eps;
        // `x` as f32 for dense weights; quantized weights read `quantized`, which the
        // pass fills from `x` just before.
        let product = |w: &Weights,
                       x: &wgpu::Buffer,
                       y: &wgpu::Buffer,
                       bias: Option<&wgpu::Buffer>,
                       accumulate: bool,
                       logit_rows: bool|
         -> Result<Product> {
            Ok(if qmatmul::handles(w.ty) {
                Product::Quantized(k.qmatmul.bind(
                    gpu,
                    w,
                    qmatmul::Io {
                        x: &quantized,
                        y,
                        bias,
                        accumulate,
                        logit_rows,
                        counts,
                    },
                )?)
            } else {
                Product::Dense(k.matmul.bind(
                    gpu,
                    w,
                    matmul::Io {
                        x,
                        y,
                        bias,
                        accumulate,
                        logit_rows,
                        counts,
                    },
                )?)
            })
        };
        let project =
            |w: &Weights,
             x: &wgpu::Buffer,
             y: &wgpu::Buffer,
             bias: Option<&wgpu::Buffer>,
             accumulate: bool| { product(w, x, y, bias, accumulate, false) };
        let quantize = |x: &wgpu::Buffer, width: u64, logit_rows: bool| {
            k.quantize
                .bind(gpu, width as u32, logit_rows, x, &quantized, counts)
        };
        let mut layers = Vec::new();
        for l in &self.layers {
            let norm = |weight: &wgpu::Buffer| {
                k.rms_norm.bind(
                    gpu,
                    h as u32,
                    eps,
                    rms_norm::Io {
                        x: &x,
                        weight,
                        out: &normed,
                        selected: None,
                        counts,
                        quantized: whole_blocks.then_some(&quantized),
                    },
                )
            };
            let [bq, bk, bv] = match &l.bias {
                Some([a, b, c]) => [Some(a), Some(b), Some(c)],
                None => [None, None, None],
            };
            layers.push(LayerBinds {
                attn_norm: norm(&l.attn_norm),
                wq: project(&l.wq, &normed, &q, bq, false)?,
                wk: project(&l.wk, &normed, &kb, bk, false)?,
                wv: project(&l.wv, &normed, &vb, bv, false)?,
                rope: k
                    .rope
                    .bind(gpu, cfg, [&q, &kb, &positions, &self.rope_table, counts]),
                kv_store: k.kv_store.bind(
                    gpu,
                    self.capacity.positions,
                    kv_store::Io {
                        k: &kb,
                        v: &vb,
                        k_cache: &l.k_cache,
                        v_cache: &l.v_cache,
                        positions: &positions,
                        slots: &slots,
                        counts,
                    },
                ),
                attention: k.attention.bind(
                    gpu,
                    cfg,
                    self.capacity.positions,
                    attention::Io {
                        q: &q,
                        k_cache: &l.k_cache,
                        v_cache: &l.v_cache,
                        out: &att,
                        scores: &scores,
                        positions: &positions,
                        slots: &slots,
                        counts,
                    },
                ),
                quantize_attention: quantize(&att, h, false),
                wo: project(&l.wo, &att, &x, None, true)?,
                ffn_norm: norm(&l.ffn_norm),
                gate: project(&l.gate, &normed, &gate, None, false)?,
                up: project(&l.up, &normed, &up, None, false)?,
                swiglu: k.swiglu.bind(gpu, [&gate, &up, counts], Some(&quantized)),
                down: project(&l.down, &gate, &x, None, true)?,
            });
        }
        let final_norm = k.rms_norm.bind(
            gpu,
            h as u32,
            eps,
            rms_norm::Io {
                x: &x,
                weight: &self.output_norm,
                out: &normed_out,
                selected: Some(&selected),
                counts,
                quantized: whole_blocks.then_some(&quantized),
            },
        );
        let output = self
            .output
            .as_ref()
            .unwrap_or(&self.embedding)
            .iter()
            .map(|w| product(w, &normed_out, &logits, None, false, true))
            .collect::<Result<Vec<_>>>()?;
        let embed = self
            .embedding
            .iter()
            .map(|w| k.embedding.bind(gpu, w, [&token_ids, &x, counts]))
            .collect();
        Ok(Scratch {
            tokens,
            rows,
            token_ids,
            positions,
            slots,
            selected,
            normed_out,
            logits,
            readback,
            embed,
            layers,
            final_norm,
            output,
        })
    }
}

/// A whole model file on the GPU: weights uploaded, tokenizer and any PRM head read, ready
/// for [`ponder_model::Engine`].
pub async fn load(
    gpu: Arc<Gpu>,
    bytes: &[u8],
    capacity: Capacity,
) -> Result<ponder_model::LanguageModel<GpuTransformer>> {
    let file = GgufFile::read(bytes)?;
    let transformer = GpuTransformer::from_gguf(gpu, &file, bytes, capacity).await?;
    Ok(ponder_model::LanguageModel::from_parts(
        &file,
        bytes,
        transformer,
    )?)
}
