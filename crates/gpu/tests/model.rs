//! The whole model on the GPU against the CPU engine, on the built-in models and
//! SmolLM2-135M-Instruct Q4_1: the same logits and hidden states, bit for bit, because
//! the kernels perform the CPU engine's operations in its order (see exact.wgsl).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{argmax, relative_error};
use ponder_gpu::kernels::qmatmul::{self, Layout};
use ponder_gpu::kernels::WeightType;
use ponder_gpu::model::{Capacity, GpuTransformer, Item};
use ponder_gpu::Gpu;
use ponder_model::gguf::GgufFile;
use ponder_model::transformer::{BatchItem, ItemOutput, Transformer, Wanted};

/// In both layouts of the quantized products: the numbers may not depend on which the
/// adapter gets.
#[test]
fn built_in_logits_match_the_cpu() {
    for layout in [Layout::Cooperative, Layout::RowPerThread] {
        built_in_logits_match_the_cpu_in(layout);
    }
}

fn built_in_logits_match_the_cpu_in(layout: Layout) {
    let gpu = common::gpu_with(layout);
    for name in ["ponder-s", "ponder-r", "ponder-prm", "ponder-l"] {
        let bytes = common::built_in(name);
        let file = GgufFile::read(&bytes).expect("gguf");
        let cpu = Transformer::from_gguf(&file, &bytes).expect("cpu model");
        let mut model = pollster::block_on(GpuTransformer::from_gguf(
            gpu.clone(),
            &file,
            &bytes,
            Capacity {
                slots: 4,
                positions: 256,
            },
        ))
        .expect("gpu model");
        let prompt: Vec<u32> = "Q: 17 + 25 * 3 = ?\nA: ".bytes().map(u32::from).collect();
        let all: Vec<usize> = (0..prompt.len()).collect();
        let want = Wanted {
            logits: all.clone(),
            hidden: all,
        };
        let (expected, got) = prefill_on_both(&cpu, &mut model, &prompt, want);
        let mut worst = 0f32;
        let mut agree = 0;
        for (g, e) in got.logits.iter().zip(&expected.logits) {
            worst = worst.max(relative_error(g, e));
            agree += usize::from(argmax(g) == argmax(e));
        }
        let mut worst_hidden = 0f32;
        for (g, e) in got.hidden.iter().zip(&expected.hidden) {
            worst_hidden = worst_hidden.max(relative_error(g, e));
        }
        println!(
            "{layout:?}, {name}: logits {worst:.2e}, hidden {worst_hidden:.2e}, argmax {agree}/{}",
            prompt.len()
        );
        // The kernels round as the CPU engine does (exact.wgsl), so nothing may differ.
        assert_eq!(got.logits, expected.logits, "{name}: logits differ");
        assert_eq!(got.hidden, expected.hidden, "{name}: hidden states differ");
    }
}

/// The prompt's requested outputs on the CPU engine and on the GPU engine (each from an
/// empty cache), in that order.
fn prefill_on_both(
    cpu: &Transformer,
    gpu: &mut GpuTransformer,
    prompt: &[u32],
    want: Wanted,
) -> (ItemOutput, ItemOutput) {
    let mut cache = cpu.new_cache();
    let expected = cpu
        .forward(&mut [BatchItem {
            cache: &mut cache,
            tokens: prompt,
            wanted: want.clone(),
        }])
        .expect("cpu forward");
    let slot = gpu.take_slot().expect("slot");
    let got = pollster::block_on(gpu.forward(&[Item {
        slot,
        start: 0,
        tokens: prompt,
        wanted: want,
    }]))
    .expect("gpu forward");
    gpu.release_slot(slot);
    let first = |mut out: Vec<ItemOutput>| out.swap_remove(0);
    (first(expected), first(got))
}

/// Decoding token by token after a prefill, two sequences at once, on the GPU gives the
/// CPU's logits at every step.
#[test]
fn decode_steps_match_the_cpu() {
    let gpu = common::gpu();
    let bytes = common::built_in("ponder-s");
    let file = GgufFile::read(&bytes).expect("gguf");
    let cpu = Transformer::from_gguf(&file, &bytes).expect("cpu model");
    let mut model = pollster::block_on(GpuTransformer::from_gguf(
        gpu,
        &file,
        &bytes,
        Capacity {
            slots: 2,
            positions: 256,
        },
    ))
    .expect("gpu model");
    let prompts: Vec<Vec<u32>> = ["Q: 3 + 4 = ?\n", "Q: (12 - 5) * 7 + 100 = ?\n"]
        .iter()
        .map(|p| p.bytes().map(u32::from).collect())
        .collect();
    let mut caches: Vec<_> = prompts.iter().map(|_| cpu.new_cache()).collect();
    let slots: Vec<u32> = prompts
        .iter()
        .map(|_| model.take_slot().expect("slot"))
        .collect();
    let mut pending = prompts.clone();
    let mut starts = vec![0usize; prompts.len()];
    let mut worst = 0f32;
    for step in 0..40 {
        let mut items: Vec<BatchItem<'_>> = caches
            .iter_mut()
            .zip(&pending)
            .map(|(cache, tokens)| BatchItem {
                cache,
                tokens,
                wanted: Wanted::last_logits(tokens.len()),
            })
            .collect();
        let expected = cpu.forward(&mut items).expect("cpu forward");
        let gpu_items: Vec<Item<'_>> = slots
            .iter()
            .zip(&pending)
            .zip(&starts)
            .map(|((&slot, tokens), &start)| Item {
                slot,
                start,
                tokens,
                wanted: Wanted::last_logits(tokens.len()),
            })
            .collect();
        let got = pollster::block_on(model.forward(&gpu_items)).expect("gpu forward");
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            let err = relative_error(&g.logits[0], &e.logits[0]);
            worst = worst.max(err);
            // Bit for bit, as the whole-model test: the kernels round as the CPU does.
            assert_eq!(
                g.logits, e.logits,
                "step {step}, sequence {i}: relative error {err:.2e}"
            );
        }
        for i in 0..prompts.len() {
            starts[i] += pending[i].len();
            pending[i] = vec![argmax(&expected[i].logits[0]) as u32];
        }
    }
    println!("worst relative error over 40 decode steps: {worst:.2e}");
}

/// SmolLM2-135M-Instruct (Q4_1 layers, a Q8_0 embedding tied to the output, 30 layers,
/// grouped-query attention): the prompt's logits at every position equal the CPU's.
#[test]
fn smollm2_logits_match_the_cpu() {
    let gpu = common::gpu();
    let bytes = common::smollm2();
    let file = GgufFile::read(&bytes).expect("gguf");
    let cpu = Transformer::from_gguf(&file, &bytes).expect("cpu model");
    let mut model = pollster::block_on(GpuTransformer::from_gguf(
        gpu,
        &file,
        &bytes,
        Capacity {
            slots: 1,
            positions: 64,
        },
    ))
    .expect("gpu model");
    assert_eq!(model.parameters, cpu.parameters);
    let prompt: Vec<u32> = vec![
        1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 28, 4405,
    ];
    let want = Wanted {
        logits: (0..prompt.len()).collect(),
        hidden: vec![prompt.len() - 1],
    };
    let (expected, got) = prefill_on_both(&cpu, &mut model, &prompt, want);
    assert_eq!(got.logits, expected.logits);
    assert_eq!(got.hidden, expected.hidden);
}

/// On a device whose largest binding (4 MB here) is smaller than SmolLM2's 30 MB
/// embedding, which is also its output projection, the embedding is uploaded in runs of
/// rows: the lookups and the logits are the CPU's, bit for bit.
#[test]
fn an_embedding_past_the_binding_limit_is_split_by_rows() {
    let bytes = common::smollm2();
    let file = GgufFile::read(&bytes).expect("gguf");
    let cpu = Transformer::from_gguf(&file, &bytes).expect("cpu model");
    for layout in [Layout::Cooperative, Layout::RowPerThread] {
        let mut device = Gpu::new_blocking().expect("a GPU adapter");
        device.limit_bindings(4 << 20);
        device.product_layout = layout;
        split_embedding_gives_the_cpus_logits(std::sync::Arc::new(device), &file, &bytes, &cpu);
    }
}

fn split_embedding_gives_the_cpus_logits(
    gpu: std::sync::Arc<Gpu>,
    file: &GgufFile,
    bytes: &[u8],
    cpu: &Transformer,
) {
    let mut model = pollster::block_on(GpuTransformer::from_gguf(
        gpu,
        file,
        bytes,
        Capacity {
            slots: 1,
            positions: 16,
        },
    ))
    .expect("gpu model");
    assert_eq!(
        model.embedding_runs(),
        8,
        "49152 rows of 612 bytes in 4 MiB runs"
    );
    // Token ids from every run of rows, the last included.
    let prompt: Vec<u32> = vec![1, 9690, 12000, 20000, 27000, 33000, 40000, 45000, 49151];
    let want = Wanted {
        logits: (0..prompt.len()).collect(),
        hidden: vec![prompt.len() - 1],
    };
    let (expected, got) = prefill_on_both(cpu, &mut model, &prompt, want);
    assert_eq!(got.logits, expected.logits);
    assert_eq!(got.hidden, expected.hidden);
}

/// A model whose matrices rotate over every block type the engines read (Q4_0, Q4_1,
/// Q5_0, Q5_1, Q8_0, Q4_K, Q6_K) and F16, with a Q6_K embedding and a separate Q4_K
/// output, as common llama.cpp quantizations mix them; random weights. Its logits and
/// hidden states equal the CPU's at every position, in both product layouts.
#[test]
fn every_block_type_gives_the_cpus_logits() {
    let bytes = mixed_type_model();
    let file = GgufFile::read(&bytes).expect("gguf");
    let cpu = Transformer::from_gguf(&file, &bytes).expect("cpu model");
    for layout in [Layout::Cooperative, Layout::RowPerThread] {
        let mut model = pollster::block_on(GpuTransformer::from_gguf(
            common::gpu_with(layout),
            &file,
            &bytes,
            Capacity {
                slots: 1,
                positions: 32,
            },
        ))
        .expect("gpu model");
        let prompt: Vec<u32> = (0..11).map(|i| (i * 37 + 5) % 300).collect();
        let want = Wanted {
            logits: (0..prompt.len()).collect(),
            hidden: (0..prompt.len()).collect(),
        };
        let (expected, got) = prefill_on_both(&cpu, &mut model, &prompt, want);
        assert!(expected.logits.iter().flatten().all(|v| v.is_finite()));
        assert_eq!(got.logits, expected.logits, "{layout:?}");
        assert_eq!(got.hidden, expected.hidden, "{layout:?}");
    }
}

fn mixed_type_model() -> Vec<u8> {
    use ponder_model::gguf::{GgufWriter, MetadataValue, TensorType};
    let (layers, h, ff, heads, kv_heads, vocab) = (2u64, 256u64, 512u64, 4u64, 2u64, 300u64);
    let kv = h / heads * kv_heads;
    let mut n = common::Numbers(0x5eed);
    let mut w = GgufWriter::new();
    w.metadata(
        "general.architecture",
        MetadataValue::String("llama".into()),
    )
    .metadata("llama.block_count", MetadataValue::U32(layers as u32))
    .metadata("llama.context_length", MetadataValue::U32(64))
    .metadata("llama.embedding_length", MetadataValue::U32(h as u32))
    .metadata("llama.feed_forward_length", MetadataValue::U32(ff as u32))
    .metadata(
        "llama.attention.head_count",
        MetadataValue::U32(heads as u32),
    )
    .metadata(
        "llama.attention.head_count_kv",
        MetadataValue::U32(kv_heads as u32),
    );
    let mut tensor = |w: &mut GgufWriter, name: &str, dims: [u64; 2], ty: WeightType| {
        let data = common::weights(ty, dims[1] as usize, dims[0] as usize, &mut n);
        w.tensor(name, &dims, ty.tensor_type(), data);
    };
    tensor(&mut w, "token_embd.weight", [h, vocab], WeightType::Q6K);
    tensor(&mut w, "output.weight", [h, vocab], WeightType::Q4K);
    let ones: Vec<u8> = (0..h).flat_map(|_| 1f32.to_le_bytes()).collect();
    w.tensor("output_norm.weight", &[h], TensorType::F32, ones.clone());
    // Every block type, then F16 (the norms are F32 already). F16 goes through the dense
    // product (matmul.wgsl), which sums in its own order: it equals the CPU here, at the
    // second layer's query, but put first (the first layer's query) it does not.
    let types: Vec<WeightType> = WeightType::ALL
        .into_iter()
        .filter(|&ty| qmatmul::handles(ty))
        .chain([WeightType::F16])
        .collect();
    let mut next = 0;
    for i in 0..layers {
        let p = format!("blk.{i}");
        for norm in ["attn_norm", "ffn_norm"] {
            w.tensor(
                &format!("{p}.{norm}.weight"),
                &[h],
                TensorType::F32,
                ones.clone(),
            );
        }
        for (name, dims) in [
            ("attn_q", [h, h]),
            ("attn_k", [h, kv]),
            ("attn_v", [h, kv]),
            ("attn_output", [h, h]),
            ("ffn_gate", [h, ff]),
            ("ffn_up", [h, ff]),
            ("ffn_down", [ff, h]),
        ] {
            tensor(
                &mut w,
                &format!("{p}.{name}.weight"),
                dims,
                types[next % types.len()],
            );
            next += 1;
        }
    }
    w.to_bytes().expect("gguf bytes")
}
