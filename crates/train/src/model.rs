//! The built-in models' transformer, written to be trained: the same llama architecture
//! that `ponder-model` runs (pre-norm blocks, RMS norm, rotary positions in llama.cpp's
//! interleaved layout, SiLU-gated feed-forward, tied embeddings), built only from
//! operations that pass gradients.
//!
//! candle-nn's fused `softmax_last_dim`, `rms_norm` and rotary kernels have no backward
//! pass: using them trains only the output head, silently. So the norm, the softmax and
//! the rotation are written here from tensor operations, and a test checks that every
//! parameter receives a gradient.
//!
//! # Shapes
//! `forward(tokens: [batch, time]) -> logits: [batch, time, vocab]`.

use candle_core::{DType, Device, Result, Tensor, Var, D};
use candle_nn::{Init, VarMap};

/// The shape of a built-in model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    pub vocab: usize,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub ffn: usize,
    pub context: usize,
    pub rope_base: f32,
    pub rms_eps: f32,
}

impl Config {
    /// S, the base policy: about a million parameters.
    pub fn small() -> Config {
        Config {
            vocab: crate::vocab::VOCAB_SIZE,
            hidden: 128,
            layers: 4,
            heads: 4,
            ffn: 512,
            context: 256,
            rope_base: 10_000.0,
            rms_eps: 1e-5,
        }
    }

    /// L, the larger sibling: the same recipe, about nine times S's parameters (the issue
    /// asks for at least 8x; the paper compared with 14x, which would not train in two
    /// hours on two cores).
    pub fn large() -> Config {
        Config {
            hidden: 256,
            layers: 8,
            heads: 8,
            ffn: 1280,
            ..Config::small()
        }
    }

    /// The built-in size (S's or L's) a GGUF file written by the trainer has, read from
    /// its embedding width.
    pub fn of_gguf(bytes: &[u8]) -> anyhow::Result<Config> {
        let file = ponder_model::gguf::GgufFile::read(bytes)
            .map_err(|e| anyhow::anyhow!("not a GGUF file: {e}"))?;
        let hidden = file
            .metadata("llama.embedding_length")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| anyhow::anyhow!("no llama.embedding_length: not a Ponder model"))?;
        let size = [Config::small(), Config::large()]
            .into_iter()
            .find(|c| c.hidden as u64 == hidden)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "embedding width {hidden} is neither S's ({}) nor L's ({})",
                    Config::small().hidden,
                    Config::large().hidden
                )
            })?;
        // A PRM may have blocks on top of its backbone's (`Model::deepen_from_gguf`).
        let layers = file
            .metadata("llama.block_count")
            .and_then(|v| v.as_u64())
            .map_or(size.layers, |n| n as usize);
        Ok(Config { layers, ..size })
    }

    pub fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }

    /// Parameters (the tied embedding counted once).
    pub fn parameters(&self) -> u64 {
        let h = self.hidden as u64;
        let per_layer = 4 * h * h + 3 * h * self.ffn as u64 + 2 * h;
        self.vocab as u64 * h + self.layers as u64 * per_layer + h
    }
}

/// One block's weights; matrices are `[out, in]`.
pub struct Block {
    pub attn_norm: Var,
    pub wq: Var,
    pub wk: Var,
    pub wv: Var,
    pub wo: Var,
    pub ffn_norm: Var,
    pub w_gate: Var,
    pub w_up: Var,
    pub w_down: Var,
}

impl Block {
    /// The block's variables, in checkpoint order.
    pub fn vars(&self) -> [&Var; 9] {
        [
            &self.attn_norm,
            &self.wq,
            &self.wk,
            &self.wv,
            &self.wo,
            &self.ffn_norm,
            &self.w_gate,
            &self.w_up,
            &self.w_down,
        ]
    }

    /// Makes the block an identity: whatever it computes is multiplied by zero output
    /// projections at first, and its norms' gains are all `gain`.
    fn become_identity(&self, gain: f64) -> Result<()> {
        for norm in [&self.attn_norm, &self.ffn_norm] {
            norm.set(&Tensor::full(
                gain as f32,
                norm.as_tensor().dims1()?,
                &Device::Cpu,
            )?)?;
        }
        self.wo.set(&self.wo.as_tensor().zeros_like()?)?;
        self.w_down.set(&self.w_down.as_tensor().zeros_like()?)
    }
}

pub struct Model {
    pub config: Config,
    /// `[vocab, hidden]`, also the output projection.
    pub embedding: Var,
    pub blocks: Vec<Block>,
    pub output_norm: Var,
    /// `(cos, sin)` tables `[context, head_dim / 2]`, computed as the runtime does.
    rope: (Tensor, Tensor),
}

impl Model {
    /// A freshly initialised model whose variables live in `vars` (for saving and
    /// loading checkpoints by name).
    pub fn new(config: Config, vars: &VarMap, device: &Device) -> Result<Model> {
        let h = config.hidden;
        // GPT-2-style initialisation: N(0, 0.02), output projections scaled down by the
        // depth so the residual stream does not grow with it.
        let normal = Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        };
        let residual = Init::Randn {
            mean: 0.0,
            stdev: 0.02 / (2.0 * config.layers as f64).sqrt(),
        };
        let ones = Init::Const(1.0);
        let var = |name: &str, shape: (usize, usize), init: Init| -> Result<Var> {
            vars.get(shape, name, init, DType::F32, device)?;
            named(vars, name)
        };
        let vec = |name: &str, len: usize| -> Result<Var> {
            vars.get(len, name, ones, DType::F32, device)?;
            named(vars, name)
        };
        let mut blocks = Vec::with_capacity(config.layers);
        for i in 0..config.layers {
            let p = format!("blk.{i}");
            blocks.push(Block {
                attn_norm: vec(&format!("{p}.attn_norm"), h)?,
                wq: var(&format!("{p}.attn_q"), (h, h), normal)?,
                wk: var(&format!("{p}.attn_k"), (h, h), normal)?,
                wv: var(&format!("{p}.attn_v"), (h, h), normal)?,
                wo: var(&format!("{p}.attn_output"), (h, h), residual)?,
                ffn_norm: vec(&format!("{p}.ffn_norm"), h)?,
                w_gate: var(&format!("{p}.ffn_gate"), (config.ffn, h), normal)?,
                w_up: var(&format!("{p}.ffn_up"), (config.ffn, h), normal)?,
                w_down: var(&format!("{p}.ffn_down"), (h, config.ffn), residual)?,
            });
        }
        Ok(Model {
            embedding: var("token_embd", (config.vocab, h), normal)?,
            output_norm: vec("output_norm", h)?,
            blocks,
            rope: rope_tables(&config, device)?,
            config,
        })
    }

    /// Every trainable variable.
    pub fn vars(&self) -> Vec<&Var> {
        let mut v = vec![&self.embedding, &self.output_norm];
        for b in &self.blocks {
            v.extend(b.vars());
        }
        v
    }

    /// Logits `[batch, time, vocab]` for tokens `[batch, time]` (u32).
    pub fn forward(&self, tokens: &Tensor) -> Result<Tensor> {
        self.logits(&self.hidden(tokens)?)
    }

    /// Logits `[batch, time, vocab]` of final hidden states `[batch, time, hidden]`: the
    /// output projection, tied to the embedding.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        hidden.broadcast_matmul(&self.embedding.as_tensor().t()?)
    }

    /// The final hidden states `[batch, time, hidden]` after the output norm: what the
    /// runtime hands a PRM head (see `ponder_model::prm`).
    pub fn hidden(&self, tokens: &Tensor) -> Result<Tensor> {
        let (b, t) = tokens.dims2()?;
        let cfg = &self.config;
        let (h, heads, d) = (cfg.hidden, cfg.heads, cfg.head_dim());
        let mut x = self
            .embedding
            .as_tensor()
            .index_select(&tokens.flatten_all()?, 0)?
            .reshape((b, t, h))?;
        let mask = causal_mask(t, tokens.device())?;
        let cos = self.rope.0.narrow(0, 0, t)?;
        let sin = self.rope.1.narrow(0, 0, t)?;
        let scale = 1.0 / (d as f64).sqrt();
        for block in &self.blocks {
            let n = rms_norm(&x, block.attn_norm.as_tensor(), cfg.rms_eps)?;
            let split = |w: &Var| -> Result<Tensor> {
                n.broadcast_matmul(&w.as_tensor().t()?)?
                    .reshape((b, t, heads, d))?
                    .transpose(1, 2)?
                    .contiguous()
            };
            let q = candle_nn::rotary_emb::rope_i_slow(&split(&block.wq)?, &cos, &sin)?;
            let k = candle_nn::rotary_emb::rope_i_slow(&split(&block.wk)?, &cos, &sin)?;
            let v = split(&block.wv)?;
            let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?.broadcast_add(&mask)?;
            let weights = candle_nn::ops::softmax(&scores, D::Minus1)?;
            let y = weights.matmul(&v)?.transpose(1, 2)?.reshape((b, t, h))?;
            x = (x + y.broadcast_matmul(&block.wo.as_tensor().t()?)?)?;

            let n = rms_norm(&x, block.ffn_norm.as_tensor(), cfg.rms_eps)?;
            let gate = n.broadcast_matmul(&block.w_gate.as_tensor().t()?)?;
            let up = n.broadcast_matmul(&block.w_up.as_tensor().t()?)?;
            // silu(g) = g · sigmoid(g), from differentiable operations.
            let silu = (&gate * (gate.neg()?.exp()? + 1.0)?.recip()?)?;
            x = (x + (silu * up)?.broadcast_matmul(&block.w_down.as_tensor().t()?)?)?;
        }
        rms_norm(&x, self.output_norm.as_tensor(), cfg.rms_eps)
    }

    /// Grows a smaller model exported by this crate into this one without changing what it
    /// computes (function-preserving growth, as in Net2Net and bert2BERT): the small
    /// model's weights fill the first rows and columns, everything that would write into
    /// the new residual dimensions starts at zero, block `j` of the small model becomes
    /// block `j * layers / small.layers`, and the blocks in between start as identities
    /// (zero output projections). RMS norms see twice the dimensions, half of them zero,
    /// so the copied gains are scaled by sqrt(small.hidden / hidden) to keep every
    /// normalised value the same (but for the norm's epsilon, which now counts
    /// hidden / small.hidden times as much against the mean square: negligible for trained
    /// activations). Both models need the same head size.
    pub fn grow_from_gguf(&self, small: Config, bytes: &[u8]) -> anyhow::Result<()> {
        let cfg = self.config;
        anyhow::ensure!(
            small.head_dim() == cfg.head_dim()
                && small.hidden <= cfg.hidden
                && small.ffn <= cfg.ffn
                && small.heads <= cfg.heads
                && cfg.layers.is_multiple_of(small.layers)
                && small.vocab == cfg.vocab,
            "cannot grow a {small:?} model into a {cfg:?} one: sizes must not shrink, head sizes \
             must match and the layer count must be a multiple"
        );
        let vars = VarMap::new();
        let from = Model::new(small, &vars, &Device::Cpu)?;
        from.load_gguf(bytes)?;
        let gain = (small.hidden as f64 / cfg.hidden as f64).sqrt();
        // Copies `src` [r, c] into the top-left corner of `dst`'s shape, the rest from
        // `rest` (the fresh initialisation, or zeros).
        let embed = |dst: &Var, src: &Tensor, rest: Tensor| -> anyhow::Result<()> {
            let (r, c) = src.dims2()?;
            let (dr, dc) = dst.as_tensor().dims2()?;
            let top = Tensor::cat(&[src, &rest.narrow(0, 0, r)?.narrow(1, c, dc - c)?], 1)?;
            let full = Tensor::cat(&[&top, &rest.narrow(0, r, dr - r)?], 0)?;
            dst.set(&full)?;
            Ok(())
        };
        let norm = |dst: &Var, src: &Tensor| -> anyhow::Result<()> {
            let n = src.dims1()?;
            let d = dst.as_tensor().dims1()?;
            let scaled = (src * gain)?;
            let ones = Tensor::full(gain as f32, d - n, &Device::Cpu)?;
            dst.set(&Tensor::cat(&[&scaled, &ones], 0)?)?;
            Ok(())
        };
        let zeros = |v: &Var| v.as_tensor().zeros_like();
        // Fresh weights, except that the first `rows` rows read none of the new input
        // dimensions (so copied units see exactly what they saw in the small model).
        let old_in = |v: &Var, rows: usize| -> anyhow::Result<Tensor> {
            let t = v.as_tensor().clone();
            let (r, c) = t.dims2()?;
            let head = t.narrow(0, 0, rows)?;
            let top = Tensor::cat(
                &[
                    &head.narrow(1, 0, small.hidden)?,
                    &head
                        .narrow(1, small.hidden, c - small.hidden)?
                        .zeros_like()?,
                ],
                1,
            )?;
            Ok(Tensor::cat(&[&top, &t.narrow(0, rows, r - rows)?], 0)?)
        };
        embed(
            &self.embedding,
            from.embedding.as_tensor(),
            zeros(&self.embedding)?,
        )?;
        norm(&self.output_norm, from.output_norm.as_tensor())?;
        let every = cfg.layers / small.layers;
        for (i, b) in self.blocks.iter().enumerate() {
            if i.is_multiple_of(every) {
                let s = &from.blocks[i / every];
                norm(&b.attn_norm, s.attn_norm.as_tensor())?;
                norm(&b.ffn_norm, s.ffn_norm.as_tensor())?;
                // Old heads read only the old dimensions at first; new heads are fresh.
                let h = small.hidden;
                embed(&b.wq, s.wq.as_tensor(), old_in(&b.wq, h)?)?;
                embed(&b.wk, s.wk.as_tensor(), old_in(&b.wk, h)?)?;
                embed(&b.wv, s.wv.as_tensor(), old_in(&b.wv, h)?)?;
                embed(&b.wo, s.wo.as_tensor(), zeros(&b.wo)?)?;
                embed(
                    &b.w_gate,
                    s.w_gate.as_tensor(),
                    old_in(&b.w_gate, small.ffn)?,
                )?;
                embed(&b.w_up, s.w_up.as_tensor(), old_in(&b.w_up, small.ffn)?)?;
                embed(&b.w_down, s.w_down.as_tensor(), zeros(&b.w_down)?)?;
            } else {
                // Unit gains scaled as the copied norms' are.
                b.become_identity(gain)?;
            }
        }
        Ok(())
    }

    /// Sets the first blocks and every other weight from a GGUF file of the same width
    /// and fewer layers, and makes the blocks above them identities (zero output
    /// projections, unit norms), so the model computes what the file's did: how a PRM
    /// gets layers of its own on top of S's, where it can compare what S predicted with
    /// what the attempt wrote.
    pub fn deepen_from_gguf(&self, from_cfg: Config, bytes: &[u8]) -> anyhow::Result<()> {
        let cfg = self.config;
        anyhow::ensure!(
            Config {
                layers: cfg.layers,
                ..from_cfg
            } == cfg
                && from_cfg.layers <= cfg.layers,
            "cannot deepen a {from_cfg:?} model into a {cfg:?} one: only the layer count may grow"
        );
        let vars = VarMap::new();
        let from = Model::new(from_cfg, &vars, &Device::Cpu)?;
        from.load_gguf(bytes)?;
        self.embedding.set(from.embedding.as_tensor())?;
        self.output_norm.set(from.output_norm.as_tensor())?;
        for (i, b) in self.blocks.iter().enumerate() {
            match from.blocks.get(i) {
                Some(s) => {
                    for (dst, src) in b.vars().into_iter().zip(s.vars()) {
                        dst.set(src.as_tensor())?;
                    }
                }
                None => b.become_identity(1.0)?,
            }
        }
        Ok(())
    }

    /// Sets every weight from a GGUF file this crate exported (of the same shape),
    /// dequantizing Q8_0: how the revision model and the PRM start from S.
    pub fn load_gguf(&self, bytes: &[u8]) -> anyhow::Result<()> {
        use candle_core::quantized::gguf_file::Content;
        let mut reader = std::io::Cursor::new(bytes);
        let content = Content::read(&mut reader)
            .map_err(|e| anyhow::anyhow!("not a readable GGUF file: {e}"))?;
        let mut set = |name: &str, var: &Var| -> anyhow::Result<()> {
            let t = content
                .tensor(&mut reader, &format!("{name}.weight"), &Device::Cpu)
                .map_err(|e| anyhow::anyhow!("tensor {name}: {e}"))?
                .dequantize(&Device::Cpu)?;
            anyhow::ensure!(
                t.dims() == var.as_tensor().dims(),
                "tensor {name} has shape {:?}, the model expects {:?}: was the file exported \
                 from a model of another size?",
                t.dims(),
                var.as_tensor().dims()
            );
            var.set(&t)?;
            Ok(())
        };
        set("token_embd", &self.embedding)?;
        set("output_norm", &self.output_norm)?;
        for (i, b) in self.blocks.iter().enumerate() {
            for (name, var) in [
                ("attn_norm", &b.attn_norm),
                ("attn_q", &b.wq),
                ("attn_k", &b.wk),
                ("attn_v", &b.wv),
                ("attn_output", &b.wo),
                ("ffn_norm", &b.ffn_norm),
                ("ffn_gate", &b.w_gate),
                ("ffn_up", &b.w_up),
                ("ffn_down", &b.w_down),
            ] {
                set(&format!("blk.{i}.{name}"), var)?;
            }
        }
        Ok(())
    }
}

fn named(vars: &VarMap, name: &str) -> Result<Var> {
    let data = vars
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("the variable map's lock is poisoned".into()))?;
    data.get(name)
        .cloned()
        .ok_or_else(|| candle_core::Error::Msg(format!("variable {name} was not created")))
}

/// `x / sqrt(mean(x²) + eps) · w` over the last dimension, as the runtime computes it.
fn rms_norm(x: &Tensor, w: &Tensor, eps: f32) -> Result<Tensor> {
    let mean_square = x.sqr()?.mean_keepdim(D::Minus1)?;
    x.broadcast_div(&(mean_square + f64::from(eps))?.sqrt()?)?
        .broadcast_mul(w)
}

/// 0 on and below the diagonal, −∞ above: each position sees itself and the past.
fn causal_mask(t: usize, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..t)
        .flat_map(|i| (0..t).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (t, t), device)
}

/// The rotary tables, with the same f32 arithmetic and `libm` functions as the runtime's
/// forward, so trained and exported models agree to rounding.
fn rope_tables(config: &Config, device: &Device) -> Result<(Tensor, Tensor)> {
    let d = config.head_dim();
    let inv_freq: Vec<f32> = (0..d)
        .step_by(2)
        .map(|i| 1f32 / libm::powf(config.rope_base, i as f32 / d as f32))
        .collect();
    let mut cos = Vec::with_capacity(config.context * d / 2);
    let mut sin = Vec::with_capacity(config.context * d / 2);
    for p in 0..config.context {
        for &f in &inv_freq {
            let angle = p as f32 * f;
            cos.push(libm::cosf(angle));
            sin.push(libm::sinf(angle));
        }
    }
    Ok((
        Tensor::from_vec(cos, (config.context, d / 2), device)?,
        Tensor::from_vec(sin, (config.context, d / 2), device)?,
    ))
}
