//! The decoder-only transformer of the llama and qwen2 families, on the CPU.
//!
//! Pre-norm blocks: `x += Wo·attn(rope(Wq·n(x)), rope(Wk·n(x)), Wv·n(x))`, then
//! `x += Wdown·(silu(Wgate·n(x)) ⊙ Wup·n(x))`, RMS norms, grouped-query attention, rotary
//! positions (Touvron et al. 2023; Qwen2 adds q/k/v biases and pairs rotary dimensions by
//! halves).
//!
//! Written for test-time compute rather than chat: one call runs any number of sequences,
//! each with its own cache and any number of new tokens, so a prompt prefill, a batch of
//! sixteen one-token decodes and a PRM scoring pass are the same operation. The projections
//! see all tokens of all sequences as one matrix (weights are read once per call); attention
//! runs per sequence against its own cache. Hidden states after the final norm are returned
//! at any requested position, which process reward models need at every step end.
//!
//! Matrix products of Q4_0, Q4_1 and Q8_0 weights (SmolLM2's and Ponder's built-in models')
//! use Ponder's own kernels ([`crate::qmatmul`]); the K-quants and Q5 types use candle's.
//! Both quantize activations to 8 bits per block as llama.cpp does, so results track
//! llama.cpp-family runtimes closely.

use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType, QMatMul, QTensor};
use std::sync::Arc;

use candle_core::{Device, Module, Tensor};

use crate::attention::{self, dot};
use crate::config::{ModelConfig, RopeLayout};
use crate::error::{ModelError, Result};
use crate::exp::exp_in_place;
use crate::gguf::{GgufFile, TensorType};
use crate::kv_cache::KvCache;
use crate::qmatmul::{worker_count, BlockType, QMatrix};

/// Which outputs a caller wants from one sequence's new tokens (indices into those tokens).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    pub logits: Vec<usize>,
    pub hidden: Vec<usize>,
}

impl Wanted {
    /// The logits of the last new token: what generation needs.
    pub fn last_logits(n_tokens: usize) -> Wanted {
        Wanted {
            logits: n_tokens.checked_sub(1).into_iter().collect(),
            hidden: Vec::new(),
        }
    }
}

/// One sequence's part of a forward pass (its cache on the CPU here, or wherever the
/// backend keeps it).
pub struct BatchItem<'a, C = KvCache> {
    pub cache: &'a mut C,
    pub tokens: &'a [u32],
    pub wanted: Wanted,
}

/// What one sequence gets back, in the order of its `Wanted` indices.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemOutput {
    pub logits: Vec<Vec<f32>>,
    pub hidden: Vec<Vec<f32>>,
}

/// A weight matrix and how it multiplies.
///
/// Quantized matrices use Ponder's kernels (Q4_0, Q4_1, Q8_0) or candle's (other types);
/// both quantize each input row on its own. Dense
/// (F32/F16) matrices use plain per-row dot products rather than a blocked matrix product:
/// a blocked product's summation order depends on how many rows share the call, and Ponder
/// promises that a sequence's result does not depend on what else is in the batch.
enum Projection {
    /// Ponder's own kernels (Q4_0, Q4_1, Q8_0).
    Blocks(Arc<QMatrix>),
    /// candle's kernels, for the other quantized types.
    Quantized(QMatMul),
    /// Row-major `[outputs][inputs]`.
    Dense { weights: Vec<f32>, inputs: usize },
}

impl Projection {
    fn apply(&self, x: &Tensor) -> Result<Vec<f32>> {
        match self {
            Projection::Blocks(w) => Ok(w.matmul(&x.flatten_all()?.to_vec1::<f32>()?)),
            Projection::Quantized(w) => Ok(w.forward(x)?.flatten_all()?.to_vec1::<f32>()?),
            Projection::Dense { weights, inputs } => {
                let x = x.flatten_all()?.to_vec1::<f32>()?;
                let outputs = weights.len() / inputs;
                let mut out = Vec::with_capacity(x.len() / inputs * outputs);
                for row in x.chunks(*inputs) {
                    out.extend(weights.chunks(*inputs).map(|w| dot(w, row)));
                }
                Ok(out)
            }
        }
    }
}

struct Layer {
    attn_norm: Vec<f32>,
    wq: Projection,
    wk: Projection,
    wv: Projection,
    wo: Projection,
    bias: Option<[Vec<f32>; 3]>,
    ffn_norm: Vec<f32>,
    w_gate: Projection,
    w_up: Projection,
    w_down: Projection,
}

/// Token embeddings kept in their quantized form; rows are dequantized when looked up,
/// so a 49k-token vocabulary costs its file size, not four bytes per weight. With tied
/// embeddings the output projection shares the same matrix for Q4_0, Q4_1 and Q8_0; other
/// types get a second copy in the form their kernel needs (for F16, f32 values).
enum Embedding {
    Blocks(Arc<QMatrix>),
    Other {
        dtype: GgmlDType,
        row_bytes: usize,
        width: usize,
        data: Vec<u8>,
    },
}

impl Embedding {
    fn row(&self, id: u32) -> Result<Vec<f32>> {
        match self {
            Embedding::Blocks(m) => Ok(m.row_values(id as usize)),
            Embedding::Other {
                dtype,
                row_bytes,
                width,
                data,
            } => {
                let start = id as usize * row_bytes;
                let raw = &data[start..start + row_bytes];
                let q = qtensor_from_ggml(*dtype, raw, vec![*width], &Device::Cpu)?;
                Ok(q.dequantize(&Device::Cpu)?.to_vec1::<f32>()?)
            }
        }
    }
}

pub struct Transformer {
    pub config: ModelConfig,
    pub vocab_size: usize,
    embedding: Embedding,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    output: Projection,
    /// Rotary inverse frequencies, one per dimension pair.
    inv_freq: Vec<f32>,
    /// Parameter count (tied embeddings counted once), for FLOP accounting.
    pub parameters: u64,
}

fn ggml_dtype(ty: TensorType) -> GgmlDType {
    match ty {
        TensorType::F32 => GgmlDType::F32,
        TensorType::F16 => GgmlDType::F16,
        TensorType::Q4_0 => GgmlDType::Q4_0,
        TensorType::Q4_1 => GgmlDType::Q4_1,
        TensorType::Q5_0 => GgmlDType::Q5_0,
        TensorType::Q5_1 => GgmlDType::Q5_1,
        TensorType::Q8_0 => GgmlDType::Q8_0,
        TensorType::Q4K => GgmlDType::Q4K,
        TensorType::Q5K => GgmlDType::Q5K,
        TensorType::Q6K => GgmlDType::Q6K,
    }
}

/// Reads tensors from a GGUF file, checking each shape against the config.
struct Loader<'a> {
    file: &'a GgufFile,
    bytes: &'a [u8],
    parameters: u64,
}

impl Loader<'_> {
    fn qtensor(&mut self, name: &str, dims: &[usize]) -> Result<QTensor> {
        let (info, raw) = self.file.tensor_bytes(self.bytes, name)?;
        let expected: Vec<u64> = dims.iter().map(|&d| d as u64).collect();
        if info.dims != expected {
            return Err(ModelError::BadShape {
                name: name.to_string(),
                expected,
                found: info.dims.clone(),
            });
        }
        self.parameters += info.elements();
        // candle wants the slowest dimension first.
        let shape: Vec<usize> = dims.iter().rev().copied().collect();
        Ok(qtensor_from_ggml(
            ggml_dtype(info.ty),
            raw,
            shape,
            &Device::Cpu,
        )?)
    }

    fn matmul(&mut self, name: &str, inputs: usize, outputs: usize) -> Result<Projection> {
        let (info, raw) = self.file.tensor_bytes(self.bytes, name)?;
        match BlockType::from_tensor_type(info.ty) {
            Some(ty) if !dequantize_all() => {
                let bad_shape = || ModelError::BadShape {
                    name: name.to_string(),
                    expected: vec![inputs as u64, outputs as u64],
                    found: info.dims.clone(),
                };
                if info.dims != [inputs as u64, outputs as u64] {
                    return Err(bad_shape());
                }
                self.parameters += info.elements();
                QMatrix::new(ty, outputs, inputs, raw)
                    .map(|m| Projection::Blocks(Arc::new(m)))
                    .ok_or_else(bad_shape)
            }
            _ => projection(self.qtensor(name, &[inputs, outputs])?, inputs),
        }
    }

    fn vector(&mut self, name: &str, len: usize) -> Result<Vec<f32>> {
        let q = self.qtensor(name, &[len])?;
        Ok(q.dequantize(&Device::Cpu)?.to_vec1::<f32>()?)
    }
}

impl Transformer {
    /// Builds the model from a parsed GGUF header and the file's bytes.
    pub fn from_gguf(file: &GgufFile, bytes: &[u8]) -> Result<Transformer> {
        let config = ModelConfig::from_gguf(file)?;
        let embd = file
            .tensor("token_embd.weight")
            .ok_or_else(|| crate::gguf::GgufError::MissingTensor("token_embd.weight".into()))?;
        if embd.dims.len() != 2 || embd.dims[0] != config.hidden as u64 {
            return Err(ModelError::BadShape {
                name: "token_embd.weight".into(),
                expected: vec![config.hidden as u64, embd.dims.get(1).copied().unwrap_or(0)],
                found: embd.dims.clone(),
            });
        }
        let vocab_size = embd.dims[1] as usize;
        let mut l = Loader {
            file,
            bytes,
            parameters: 0,
        };
        let (h, kv, ff) = (config.hidden, config.kv_width(), config.ffn_hidden);

        let (_, embd_raw) = file.tensor_bytes(bytes, "token_embd.weight")?;
        l.parameters += embd.elements();
        let embedding = match BlockType::from_tensor_type(embd.ty) {
            Some(ty) if !dequantize_all() => Embedding::Blocks(Arc::new(
                QMatrix::new(ty, vocab_size, h, embd_raw).ok_or_else(|| ModelError::BadShape {
                    name: "token_embd.weight".into(),
                    expected: vec![h as u64, vocab_size as u64],
                    found: embd.dims.clone(),
                })?,
            )),
            _ => {
                let (block_elems, block_bytes) = embd.ty.block();
                Embedding::Other {
                    dtype: ggml_dtype(embd.ty),
                    row_bytes: (h as u64 / block_elems * block_bytes) as usize,
                    width: h,
                    data: embd_raw.to_vec(),
                }
            }
        };
        let output = if file.tensor("output.weight").is_some() {
            l.matmul("output.weight", h, vocab_size)?
        } else {
            // Tied embeddings: the output projection is the embedding matrix.
            match &embedding {
                Embedding::Blocks(m) => Projection::Blocks(m.clone()),
                Embedding::Other { .. } => {
                    let q = qtensor_from_ggml(
                        ggml_dtype(embd.ty),
                        embd_raw,
                        vec![vocab_size, h],
                        &Device::Cpu,
                    )?;
                    projection(q, h)?
                }
            }
        };
        let output_norm = l.vector("output_norm.weight", h)?;

        // Not reserved by the block count: a crafted count must fail at its first missing
        // tensor, not in an allocation.
        let mut layers = Vec::new();
        for i in 0..config.n_layers {
            let p = format!("blk.{i}");
            let bias = if config.qkv_bias {
                Some([
                    l.vector(&format!("{p}.attn_q.bias"), h)?,
                    l.vector(&format!("{p}.attn_k.bias"), kv)?,
                    l.vector(&format!("{p}.attn_v.bias"), kv)?,
                ])
            } else {
                None
            };
            layers.push(Layer {
                attn_norm: l.vector(&format!("{p}.attn_norm.weight"), h)?,
                wq: l.matmul(&format!("{p}.attn_q.weight"), h, h)?,
                wk: l.matmul(&format!("{p}.attn_k.weight"), h, kv)?,
                wv: l.matmul(&format!("{p}.attn_v.weight"), h, kv)?,
                wo: l.matmul(&format!("{p}.attn_output.weight"), h, h)?,
                bias,
                ffn_norm: l.vector(&format!("{p}.ffn_norm.weight"), h)?,
                w_gate: l.matmul(&format!("{p}.ffn_gate.weight"), h, ff)?,
                w_up: l.matmul(&format!("{p}.ffn_up.weight"), h, ff)?,
                w_down: l.matmul(&format!("{p}.ffn_down.weight"), ff, h)?,
            });
        }
        let inv_freq = config.rotary_frequencies();
        Ok(Transformer {
            parameters: l.parameters,
            config,
            vocab_size,
            embedding,
            layers,
            output_norm,
            output,
            inv_freq,
        })
    }

    pub fn new_cache(&self) -> KvCache {
        KvCache::new(self.config.n_layers)
    }

    /// Runs the new tokens of every item through the model, appending them to each item's
    /// cache, and returns the requested logits and hidden states per item.
    pub fn forward(&self, items: &mut [BatchItem<'_>]) -> Result<Vec<ItemOutput>> {
        let cfg = &self.config;
        for item in items.iter() {
            let end = item.cache.len() + item.tokens.len();
            if end > cfg.context_length {
                return Err(ModelError::ContextFull {
                    len: end,
                    max: cfg.context_length,
                });
            }
            for &id in item.tokens {
                if id as usize >= self.vocab_size {
                    return Err(ModelError::TokenOutOfRange {
                        id,
                        vocab: self.vocab_size,
                    });
                }
            }
            for &i in item.wanted.logits.iter().chain(&item.wanted.hidden) {
                if i >= item.tokens.len() {
                    return Err(ModelError::BadRequest(format!(
                        "an output at token {i} of a {}-token input",
                        item.tokens.len()
                    )));
                }
            }
        }
        let total: usize = items.iter().map(|it| it.tokens.len()).sum();
        if total == 0 {
            return Ok(items.iter().map(|_| ItemOutput::default()).collect());
        }
        let h = cfg.hidden;

        let mut x = Vec::with_capacity(total * h);
        for item in items.iter() {
            for &id in item.tokens {
                x.extend(self.embedding.row(id)?);
            }
        }

        let angles: Vec<Vec<(f32, f32)>> = items
            .iter()
            .map(|item| self.rotary_angles(item.cache.len(), item.tokens.len()))
            .collect();

        for (layer_index, layer) in self.layers.iter().enumerate() {
            let normed = rms_norm(&x, &layer.attn_norm, cfg.rms_eps);
            let normed = Tensor::from_vec(normed, (total, h), &Device::Cpu)?;
            let mut q = project(&layer.wq, &normed)?;
            let mut k = project(&layer.wk, &normed)?;
            let v_all = project(&layer.wv, &normed)?;
            let mut v = v_all;
            if let Some([bq, bk, bv]) = &layer.bias {
                add_rows(&mut q, bq);
                add_rows(&mut k, bk);
                add_rows(&mut v, bv);
            }
            let mut attn = vec![0f32; total * h];
            self.attend_items(
                layer_index,
                items,
                &angles,
                AttentionRows {
                    q: &mut q,
                    k: &mut k,
                    v: &v,
                    out: &mut attn,
                },
            );
            let attn = Tensor::from_vec(attn, (total, h), &Device::Cpu)?;
            let o = project(&layer.wo, &attn)?;
            add_in_place(&mut x, &o);

            let normed = rms_norm(&x, &layer.ffn_norm, cfg.rms_eps);
            let normed = Tensor::from_vec(normed, (total, h), &Device::Cpu)?;
            let gate = project(&layer.w_gate, &normed)?;
            let up = project(&layer.w_up, &normed)?;
            // SiLU(gate) · up, with exp(−gate) computed for the whole batch at once.
            let mut act: Vec<f32> = gate.iter().map(|&g| -g).collect();
            exp_in_place(&mut act);
            for ((a, &g), &u) in act.iter_mut().zip(&gate).zip(&up) {
                *a = g / (1.0 + *a) * u;
            }
            let act = Tensor::from_vec(act, (total, cfg.ffn_hidden), &Device::Cpu)?;
            let down = project(&layer.w_down, &act)?;
            add_in_place(&mut x, &down);
        }

        // Final norm and outputs, only where asked for.
        let mut outputs = Vec::with_capacity(items.len());
        let mut logit_rows: Vec<f32> = Vec::new();
        let mut logit_owner: Vec<usize> = Vec::new();
        let mut row = 0;
        for (item_index, item) in items.iter_mut().enumerate() {
            let n = item.tokens.len();
            let new_len = item.cache.len() + n;
            item.cache.set_len(new_len);
            let mut out = ItemOutput::default();
            for &i in &item.wanted.hidden {
                let r = row + i;
                out.hidden.push(rms_norm(
                    &x[r * h..(r + 1) * h],
                    &self.output_norm,
                    cfg.rms_eps,
                ));
            }
            for &i in &item.wanted.logits {
                let r = row + i;
                logit_rows.extend(rms_norm(
                    &x[r * h..(r + 1) * h],
                    &self.output_norm,
                    cfg.rms_eps,
                ));
                logit_owner.push(item_index);
            }
            outputs.push(out);
            row += n;
        }
        if !logit_owner.is_empty() {
            let rows = Tensor::from_vec(logit_rows, (logit_owner.len(), h), &Device::Cpu)?;
            let logits = project(&self.output, &rows)?;
            for (j, owner) in logit_owner.into_iter().enumerate() {
                outputs[owner]
                    .logits
                    .push(logits[j * self.vocab_size..(j + 1) * self.vocab_size].to_vec());
            }
        }
        Ok(outputs)
    }

    /// Rotates each item's new queries and keys, appends its keys and values to its cache
    /// and attends over the cache. Items are independent of one another, so natively a
    /// large batch is split between two threads at an item boundary; each item's arithmetic
    /// is the same wherever it runs, so results do not change.
    fn attend_items(
        &self,
        layer: usize,
        items: &mut [BatchItem<'_>],
        angles: &[Vec<(f32, f32)>],
        rows: AttentionRows<'_>,
    ) {
        // Multiply-adds of each item: every new token against every position it sees.
        // In u64, saturating: on wasm32 a long prompt's count passes usize.
        let work: Vec<u64> = items
            .iter()
            .map(|it| {
                let (n, seen) = (it.tokens.len() as u64, it.cache.len() as u64);
                (n.saturating_mul(2 * seen + n + 1) / 2)
                    .saturating_mul(self.config.hidden as u64 * 2)
            })
            .collect();
        let total = work.iter().fold(0u64, |a, &w| a.saturating_add(w));
        let total_usize = usize::try_from(total).unwrap_or(usize::MAX);
        if worker_count(total_usize) < 2 || items.len() < 2 {
            return self.attend_run(layer, items, angles, rows);
        }
        // The first items up to about half the work go to a second thread.
        let mut split = 0;
        let mut acc = 0;
        while split < items.len() - 1 && (acc + work[split]).saturating_mul(2) <= total {
            acc += work[split];
            split += 1;
        }
        let split = split.max(1);
        let tokens: usize = items[..split].iter().map(|it| it.tokens.len()).sum();
        let (first_items, rest_items) = items.split_at_mut(split);
        let (first_angles, rest_angles) = angles.split_at(split);
        let (first_rows, rest_rows) = rows.split_at(tokens, &self.config);
        std::thread::scope(|scope| {
            let first =
                scope.spawn(move || self.attend_run(layer, first_items, first_angles, first_rows));
            self.attend_run(layer, rest_items, rest_angles, rest_rows);
            if let Err(e) = first.join() {
                std::panic::resume_unwind(e);
            }
        });
    }

    /// [`Self::attend_items`] for consecutive items on the calling thread: `rows` hold
    /// exactly their tokens, in order.
    fn attend_run(
        &self,
        layer: usize,
        items: &mut [BatchItem<'_>],
        angles: &[Vec<(f32, f32)>],
        rows: AttentionRows<'_>,
    ) {
        let cfg = &self.config;
        let (h, kvw) = (cfg.hidden, cfg.kv_width());
        let mut row = 0;
        for (item, angles) in items.iter_mut().zip(angles) {
            let n = item.tokens.len();
            let start = item.cache.len();
            self.rotate(&mut rows.q[row * h..(row + n) * h], cfg.n_heads, angles);
            self.rotate(
                &mut rows.k[row * kvw..(row + n) * kvw],
                cfg.n_kv_heads,
                angles,
            );
            item.cache.keys[layer].extend_from_slice(&rows.k[row * kvw..(row + n) * kvw]);
            item.cache.values[layer].extend_from_slice(&rows.v[row * kvw..(row + n) * kvw]);
            attention::attend(
                cfg,
                &rows.q[row * h..(row + n) * h],
                &item.cache.keys[layer],
                &item.cache.values[layer],
                start,
                &mut rows.out[row * h..(row + n) * h],
            );
            row += n;
        }
    }

    /// Applies rotary position embeddings to `rows` (tokens × heads × head_dim) whose first
    /// token sits at position `start`.
    fn rotate(&self, rows: &mut [f32], n_heads: usize, angles: &[(f32, f32)]) {
        let d = self.config.head_dim;
        let half = d / 2;
        for (token, angles) in rows.chunks_mut(n_heads * d).zip(angles.chunks(half)) {
            for head in token.chunks_mut(d) {
                for (i, &(sin, cos)) in angles.iter().enumerate() {
                    let (a, b) = match self.config.rope_layout {
                        RopeLayout::Interleaved => (2 * i, 2 * i + 1),
                        RopeLayout::Halves => (i, i + half),
                    };
                    let (x0, x1) = (head[a], head[b]);
                    head[a] = x0 * cos - x1 * sin;
                    head[b] = x0 * sin + x1 * cos;
                }
            }
        }
    }

    /// `(sin, cos)` of every rotary angle for `n` positions from `start`, computed once per
    /// forward pass and shared by all layers.
    fn rotary_angles(&self, start: usize, n: usize) -> Vec<(f32, f32)> {
        rotary_angles(&self.inv_freq, start, n)
    }
}

/// One layer's new-token rows of a batch: queries and keys (rotated in place), values,
/// and the attention output to fill.
struct AttentionRows<'a> {
    q: &'a mut [f32],
    k: &'a mut [f32],
    v: &'a [f32],
    out: &'a mut [f32],
}

impl<'a> AttentionRows<'a> {
    /// The rows of the first `tokens` tokens, and the rest.
    fn split_at(self, tokens: usize, cfg: &ModelConfig) -> (AttentionRows<'a>, AttentionRows<'a>) {
        let (h, kvw) = (cfg.hidden, cfg.kv_width());
        let (q0, q1) = self.q.split_at_mut(tokens * h);
        let (k0, k1) = self.k.split_at_mut(tokens * kvw);
        let (v0, v1) = self.v.split_at(tokens * kvw);
        let (o0, o1) = self.out.split_at_mut(tokens * h);
        (
            AttentionRows {
                q: q0,
                k: k0,
                v: v0,
                out: o0,
            },
            AttentionRows {
                q: q1,
                k: k1,
                v: v1,
                out: o1,
            },
        )
    }
}

fn project(w: &Projection, x: &Tensor) -> Result<Vec<f32>> {
    w.apply(x)
}

/// candle's switch for dequantizing every weight to f32 (`CANDLE_DEQUANTIZE_ALL`), honoured
/// here too so that the whole model runs in plain f32 arithmetic when it is set (the exact
/// reference comparison in the tests uses it).
fn dequantize_all() -> bool {
    std::env::var("CANDLE_DEQUANTIZE_ALL").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn projection(q: QTensor, inputs: usize) -> Result<Projection> {
    match q.dtype() {
        GgmlDType::F32 | GgmlDType::F16 => Ok(Projection::Dense {
            weights: q
                .dequantize(&Device::Cpu)?
                .flatten_all()?
                .to_vec1::<f32>()?,
            inputs,
        }),
        _ => Ok(Projection::Quantized(QMatMul::from_qtensor(q)?)),
    }
}

fn add_in_place(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

fn add_rows(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_mut(bias.len()) {
        add_in_place(row, bias);
    }
}

/// `(sin, cos)` of every rotary angle (position × inverse frequency) for `n` positions
/// from `start`, position-major. `libm` gives the same bits natively and in wasm (the
/// platforms' own `sinf` may differ in the last bit); the GPU engine's table is these
/// values too.
pub fn rotary_angles(inv_freq: &[f32], start: usize, n: usize) -> Vec<(f32, f32)> {
    let mut out = Vec::with_capacity(n * inv_freq.len());
    for p in start..start + n {
        let pos = p as f32;
        out.extend(inv_freq.iter().map(|&f| {
            let angle = pos * f;
            (libm::sinf(angle), libm::cosf(angle))
        }));
    }
    out
}

/// RMS norm of each row of `x` (rows as long as `weight`).
pub fn rms_norm(x: &[f32], weight: &[f32], eps: f32) -> Vec<f32> {
    let d = weight.len();
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks(d) {
        let sum2: f32 = row.iter().map(|v| v * v).sum();
        let m = (sum2 / d as f32 + eps).sqrt();
        out.extend(row.iter().zip(weight).map(|(v, w)| v / m * w));
    }
    out
}
