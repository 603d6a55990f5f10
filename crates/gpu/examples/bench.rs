//! Decode throughput of the GPU engine beside the CPU engine, in one run: tokens per
//! second at 1, 16 and 64 sequences decoded together, after a shared prompt; and the
//! quantized product (the kernel decoding spends its time in) alone, in GB/s of weights
//! read and GFLOP/s, on the model's largest feed-forward matrix.
//!
//! `cargo xtask bench gpu` runs it (natively, on lavapipe unless `VK_DRIVER_FILES` names
//! another driver). On a software GPU the absolute numbers say nothing about a real GPU's
//! speed; the output says which adapter measured them.
//!
//! Usage: `bench MODEL.gguf [steps] [--product-only] [--json OUT]`; `--product-only`
//! measures the quantized product alone. `MODEL` may also be `shape:smollm2`:
//! random weights in SmolLM2-135M-Instruct's shape and tensor types (Q4_1 matrices, a
//! Q8_0 embedding tied to the output), written in memory. Speed depends on the shape and
//! the types, not on the weights' values, and the shape travels where the 98 MB file
//! cannot (a remote GPU machine with no network).

#[cfg(target_arch = "wasm32")]
fn main() {
    // The browser's numbers come from the page; this harness measures natively.
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    if let Err(e) = native::run() {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::sync::Arc;
    use std::time::Instant;

    use ponder_gpu::kernels::matmul::Weights;
    use ponder_gpu::kernels::qmatmul::{Layout, Standalone};
    use ponder_gpu::kernels::WeightType;
    use ponder_gpu::Gpu;
    use ponder_model::gguf::GgufFile;

    pub fn run() -> Result<(), Box<dyn std::error::Error>> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let path = args
            .first()
            .ok_or("usage: bench MODEL.gguf [steps] [--product-only] [--json OUT]")?;
        let steps: usize = args
            .get(1)
            .filter(|a| !a.starts_with("--"))
            .map_or(Ok(16), |s| s.parse())?;
        let json_out = args
            .iter()
            .position(|a| a == "--json")
            .and_then(|i| args.get(i + 1));
        let bytes = match path.strip_prefix("shape:") {
            Some("smollm2") => smollm2_shape()?,
            Some(other) => {
                return Err(format!("unknown shape {other:?}; the shape is smollm2").into())
            }
            None => std::fs::read(path)?,
        };
        let file = GgufFile::read(&bytes)?;
        let gpu = Arc::new(Gpu::new_blocking()?);
        let r = &gpu.report;
        let software = r.is_software();
        println!(
            "adapter: {} ({}, {}){}",
            r.name,
            r.backend,
            r.device_type,
            if software {
                " — a software GPU: its speed says nothing about a real one"
            } else {
                ""
            }
        );
        let sequences: &[usize] = if args.iter().any(|a| a == "--product-only") {
            &[]
        } else {
            &[1, 16, 64]
        };
        let started = Instant::now();
        let now = move || started.elapsed().as_secs_f64();
        let rates = pollster::block_on(ponder_gpu::bench::decode_rates(
            gpu.clone(),
            &file,
            &bytes,
            steps,
            sequences,
            &now,
        ))?;
        println!(
            "{:>10} {:>14} {:>14} {:>8}",
            "sequences", "CPU tokens/s", "GPU tokens/s", "GPU/CPU"
        );
        let mut rows = Vec::new();
        for rate in &rates {
            println!(
                "{:>10} {:>14.1} {:>14.1} {:>8.2}",
                rate.sequences,
                rate.cpu_tokens_per_s,
                rate.gpu_tokens_per_s,
                rate.gpu_tokens_per_s / rate.cpu_tokens_per_s
            );
            rows.push(rate.to_json());
        }
        let kernels = kernel_rates(&gpu, &file, &bytes)?;
        if let Some(out) = json_out {
            let json = format!(
                "{{\"model\": {:?}, \"adapter\": {:?}, \"device_type\": {:?}, \"software_gpu\": {software}, \"steps\": {steps}, \"rows\": [{}], \"quantized_product\": [{}]}}\n",
                path,
                r.name,
                r.device_type,
                rows.join(", "),
                kernels.join(", ")
            );
            std::fs::write(out, json)?;
            println!("written: {out}");
        }
        Ok(())
    }

    /// A GGUF in SmolLM2-135M's shape with random weights: 30 layers, width 576,
    /// feed-forward 1536, 9 heads (3 key/value), 49152 tokens; Q4_1 matrices and a Q8_0
    /// embedding that is also the output projection, as in the real Q4_1 file.
    fn smollm2_shape() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        use ponder_model::gguf::{GgufWriter, MetadataValue, TensorType};
        let (layers, h, ff, heads, kv_heads, vocab) =
            (30u64, 576u64, 1536u64, 9u64, 3u64, 49152u64);
        let kv = h / heads * kv_heads;
        // xorshift: any bytes will do for the quants; the scales are fixed and small so
        // that the activations stay finite.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut byte = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        };
        const SCALE: [u8; 2] = 0x211fu16.to_le_bytes(); // f16 0.01
        const MIN: [u8; 2] = 0xad1fu16.to_le_bytes(); // f16 -0.08
        let mut q4_1 = |elements: u64| -> Vec<u8> {
            let mut out = Vec::with_capacity(elements as usize / 32 * 20);
            for _ in 0..elements / 32 {
                out.extend(SCALE);
                out.extend(MIN);
                out.extend((0..16).map(|_| byte()));
            }
            out
        };
        let ones: Vec<u8> = (0..h).flat_map(|_| 1f32.to_le_bytes()).collect();
        let mut w = GgufWriter::new();
        w.metadata(
            "general.architecture",
            MetadataValue::String("llama".into()),
        )
        .metadata("llama.block_count", MetadataValue::U32(layers as u32))
        .metadata("llama.context_length", MetadataValue::U32(8192))
        .metadata("llama.embedding_length", MetadataValue::U32(h as u32))
        .metadata("llama.feed_forward_length", MetadataValue::U32(ff as u32))
        .metadata(
            "llama.attention.head_count",
            MetadataValue::U32(heads as u32),
        )
        .metadata(
            "llama.attention.head_count_kv",
            MetadataValue::U32(kv_heads as u32),
        )
        .metadata("llama.rope.freq_base", MetadataValue::F32(100_000.0));
        let embedding: Vec<u8> = {
            let mut b = 0x9e37u64;
            (0..h * vocab / 32)
                .flat_map(|_| {
                    let mut block = SCALE.to_vec();
                    block.extend((0..32).map(|_| {
                        b = b
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        (b >> 56) as u8
                    }));
                    block
                })
                .collect()
        };
        w.tensor(
            "token_embd.weight",
            &[h, vocab],
            TensorType::Q8_0,
            embedding,
        );
        w.tensor("output_norm.weight", &[h], TensorType::F32, ones.clone());
        for i in 0..layers {
            let p = format!("blk.{i}");
            w.tensor(
                &format!("{p}.attn_norm.weight"),
                &[h],
                TensorType::F32,
                ones.clone(),
            );
            w.tensor(
                &format!("{p}.ffn_norm.weight"),
                &[h],
                TensorType::F32,
                ones.clone(),
            );
            for (name, dims) in [
                ("attn_q", [h, h]),
                ("attn_k", [h, kv]),
                ("attn_v", [h, kv]),
                ("attn_output", [h, h]),
                ("ffn_gate", [h, ff]),
                ("ffn_up", [h, ff]),
                ("ffn_down", [ff, h]),
            ] {
                let data = q4_1(dims[0] * dims[1]);
                w.tensor(&format!("{p}.{name}.weight"), &dims, TensorType::Q4_1, data);
            }
        }
        Ok(w.to_bytes()?)
    }

    /// The quantized product (with its activation quantization) on `blk.0.ffn_down`, 20
    /// times per submission, at 1, 16 and 64 tokens: weight bytes read per second and
    /// arithmetic per second.
    fn kernel_rates(
        gpu: &Gpu,
        file: &GgufFile,
        bytes: &[u8],
    ) -> Result<Vec<String>, Box<dyn std::error::Error>> {
        const REPEATS: u32 = 20;
        let name = "blk.0.ffn_down.weight";
        let (info, raw) = file.tensor_bytes(bytes, name)?;
        let (cols, rows) = (info.dims[0] as usize, info.dims[1] as usize);
        let ty = WeightType::of(name, info.ty)?;
        let weights = Weights::upload(gpu, name, ty, rows, cols, raw)?;
        println!(
            "\nquantized product, {name} ({rows}x{cols} {ty:?}, {:.2} MB), {REPEATS} per submission",
            raw.len() as f64 / 1e6
        );
        println!(
            "{:>14} {:>7} {:>10} {:>10} {:>10}",
            "layout", "tokens", "ms", "GB/s", "GFLOP/s"
        );
        let mut out = Vec::new();
        for (layout, tokens) in [Layout::Cooperative, Layout::RowPerThread]
            .into_iter()
            .flat_map(|layout| [1usize, 16, 64].map(|tokens| (layout, tokens)))
        {
            let x: Vec<f32> = (0..tokens * cols)
                .map(|i| ((i * 37) % 101) as f32 / 101.0 - 0.5)
                .collect();
            // The pipelines are compiled once per device; later sizes take them from its
            // cache (and the warm-up below is not timed).
            let product = pollster::block_on(Standalone::new(gpu, &weights, &x, tokens, layout))?;
            let submit = || {
                let mut encoder = gpu.device.create_command_encoder(&Default::default());
                {
                    let mut pass = encoder.begin_compute_pass(&Default::default());
                    for _ in 0..REPEATS {
                        product.encode(&mut pass);
                    }
                }
                gpu.queue.submit([encoder.finish()]);
                gpu.device.poll(wgpu::PollType::wait_indefinitely())
            };
            submit()?; // warm-up: pipelines and caches
            let started = Instant::now();
            submit()?;
            let seconds = started.elapsed().as_secs_f64() / f64::from(REPEATS);
            let gb_s = raw.len() as f64 / seconds / 1e9;
            let gflop_s = 2.0 * (rows * cols * tokens) as f64 / seconds / 1e9;
            let chosen = if layout == gpu.product_layout {
                " (used here)"
            } else {
                ""
            };
            println!(
                "{:>14} {tokens:>7} {:>10.3} {gb_s:>10.2} {gflop_s:>10.2}{chosen}",
                format!("{layout:?}"),
                seconds * 1e3
            );
            out.push(format!(
                "{{\"layout\": \"{layout:?}\", \"tokens\": {tokens}, \"ms\": {:.4}, \"gb_per_s\": {gb_s:.3}, \"gflop_per_s\": {gflop_s:.3}}}",
                seconds * 1e3
            ));
        }
        Ok(out)
    }
}
