//! Our forward on the qwen2 architecture against candle-transformers' quantized qwen2.
//!
//! No qwen2-family file is at hand offline, so the test writes one: a small model with
//! random weights, its matrices spread over every tensor type Ponder supports (so loading
//! each type is exercised), with q/k/v biases and a separate output matrix. Weights are
//! dequantized to f32 in both models (`CANDLE_DEQUANTIZE_ALL`, this process only), so the
//! two forwards differ only in summation order: logits agree within 1e-4 of their scale and
//! greedy decoding agrees for 64 tokens.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_qwen2::ModelWeights;
use common::tiny::Rng;
use ponder_model::gguf::{GgufFile, GgufWriter, MetadataValue, TensorType};
use ponder_model::transformer::{BatchItem, Transformer, Wanted};

const HIDDEN: usize = 256;
const FFN: usize = 512;
const HEADS: usize = 4;
const KV_HEADS: usize = 2;
const LAYERS: usize = 2;
const VOCAB: usize = 512;

fn tensor_type(dtype: GgmlDType) -> TensorType {
    match dtype {
        GgmlDType::F32 => TensorType::F32,
        GgmlDType::F16 => TensorType::F16,
        GgmlDType::Q4_0 => TensorType::Q4_0,
        GgmlDType::Q4_1 => TensorType::Q4_1,
        GgmlDType::Q5_0 => TensorType::Q5_0,
        GgmlDType::Q5_1 => TensorType::Q5_1,
        GgmlDType::Q8_0 => TensorType::Q8_0,
        GgmlDType::Q4K => TensorType::Q4K,
        GgmlDType::Q5K => TensorType::Q5K,
        GgmlDType::Q6K => TensorType::Q6K,
        other => panic!("not used here: {other:?}"),
    }
}

/// Adds a tensor of shape `dims` (GGML order) with random values of scale `scale`.
fn add(
    w: &mut GgufWriter,
    rng: &mut Rng,
    name: &str,
    dims: &[usize],
    dtype: GgmlDType,
    scale: f32,
    offset: f32,
) {
    let n: usize = dims.iter().product();
    let values: Vec<f32> = (0..n).map(|_| offset + scale * rng.normalish()).collect();
    let shape: Vec<usize> = dims.iter().rev().copied().collect();
    let t = Tensor::from_vec(values, shape, &Device::Cpu).expect("tensor");
    let q = QTensor::quantize(&t, dtype).expect("quantize");
    let data = q.data().expect("bytes").to_vec();
    let dims64: Vec<u64> = dims.iter().map(|&d| d as u64).collect();
    w.tensor(name, &dims64, tensor_type(dtype), data);
}

fn write_model() -> Vec<u8> {
    let mut rng = Rng(0x5eed);
    let mut w = GgufWriter::new();
    w.metadata(
        "general.architecture",
        MetadataValue::String("qwen2".into()),
    )
    .metadata("qwen2.block_count", MetadataValue::U32(LAYERS as u32))
    .metadata("qwen2.context_length", MetadataValue::U32(256))
    .metadata("qwen2.embedding_length", MetadataValue::U32(HIDDEN as u32))
    .metadata("qwen2.feed_forward_length", MetadataValue::U32(FFN as u32))
    .metadata(
        "qwen2.attention.head_count",
        MetadataValue::U32(HEADS as u32),
    )
    .metadata(
        "qwen2.attention.head_count_kv",
        MetadataValue::U32(KV_HEADS as u32),
    )
    .metadata("qwen2.rope.freq_base", MetadataValue::F32(1_000_000.0))
    .metadata(
        "qwen2.attention.layer_norm_rms_epsilon",
        MetadataValue::F32(1e-6),
    );
    // Every supported matrix type, in rotation over the projections.
    let types = [
        GgmlDType::Q4_0,
        GgmlDType::Q4_1,
        GgmlDType::Q5_0,
        GgmlDType::Q5_1,
        GgmlDType::Q8_0,
        GgmlDType::Q4K,
        GgmlDType::Q5K,
        GgmlDType::Q6K,
        GgmlDType::F16,
        GgmlDType::F32,
    ];
    let mut next = 0;
    let mut pick = || {
        let t = types[next % types.len()];
        next += 1;
        t
    };
    let kv = KV_HEADS * HIDDEN / HEADS;
    add(
        &mut w,
        &mut rng,
        "token_embd.weight",
        &[HIDDEN, VOCAB],
        GgmlDType::Q8_0,
        0.5,
        0.0,
    );
    add(
        &mut w,
        &mut rng,
        "output.weight",
        &[HIDDEN, VOCAB],
        GgmlDType::Q6K,
        0.1,
        0.0,
    );
    add(
        &mut w,
        &mut rng,
        "output_norm.weight",
        &[HIDDEN],
        GgmlDType::F32,
        0.1,
        1.0,
    );
    for i in 0..LAYERS {
        let p = format!("blk.{i}");
        add(
            &mut w,
            &mut rng,
            &format!("{p}.attn_norm.weight"),
            &[HIDDEN],
            GgmlDType::F32,
            0.1,
            1.0,
        );
        add(
            &mut w,
            &mut rng,
            &format!("{p}.ffn_norm.weight"),
            &[HIDDEN],
            GgmlDType::F32,
            0.1,
            1.0,
        );
        for (name, inp, out) in [
            ("attn_q", HIDDEN, HIDDEN),
            ("attn_k", HIDDEN, kv),
            ("attn_v", HIDDEN, kv),
            ("attn_output", HIDDEN, HIDDEN),
            ("ffn_gate", HIDDEN, FFN),
            ("ffn_up", HIDDEN, FFN),
            ("ffn_down", FFN, HIDDEN),
        ] {
            let dtype = pick();
            add(
                &mut w,
                &mut rng,
                &format!("{p}.{name}.weight"),
                &[inp, out],
                dtype,
                0.08,
                0.0,
            );
        }
        add(
            &mut w,
            &mut rng,
            &format!("{p}.attn_q.bias"),
            &[HIDDEN],
            GgmlDType::F32,
            0.1,
            0.0,
        );
        add(
            &mut w,
            &mut rng,
            &format!("{p}.attn_k.bias"),
            &[kv],
            GgmlDType::F32,
            0.1,
            0.0,
        );
        add(
            &mut w,
            &mut rng,
            &format!("{p}.attn_v.bias"),
            &[kv],
            GgmlDType::F32,
            0.1,
            0.0,
        );
    }
    w.to_bytes().expect("a writable test model")
}

fn candle_logits(model: &mut ModelWeights, tokens: &[u32], pos: usize) -> Vec<f32> {
    let input = Tensor::new(tokens, &Device::Cpu)
        .and_then(|t| t.unsqueeze(0))
        .expect("input");
    model
        .forward(&input, pos)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f32>())
        .expect("candle forward")
}

fn argmax(v: &[f32]) -> u32 {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b }) as u32
}

#[test]
fn qwen2_with_every_tensor_type_matches_candle() {
    std::env::set_var("CANDLE_DEQUANTIZE_ALL", "1");
    let bytes = write_model();
    let file = GgufFile::read(&bytes).expect("our reader reads our writer");
    let used: std::collections::HashSet<TensorType> = file.tensors().iter().map(|t| t.ty).collect();
    assert_eq!(used.len(), TensorType::ALL.len(), "every type is exercised");
    let ours = Transformer::from_gguf(&file, &bytes).expect("loads");

    for prompt in [&[5u32, 17, 300, 42, 9, 9, 100, 511, 0, 64][..], &[1, 2, 3]] {
        let mut cursor = std::io::Cursor::new(&bytes);
        let content = gguf_file::Content::read(&mut cursor).expect("candle reads our file");
        let mut theirs =
            ModelWeights::from_gguf(content, &mut cursor, &Device::Cpu).expect("candle loads");
        let mut cache = ours.new_cache();
        let mut tokens_ours = Vec::new();
        let mut tokens_theirs = Vec::new();
        let mut input_ours = prompt.to_vec();
        let mut input_theirs = prompt.to_vec();
        let mut pos = 0;
        for step in 0..64 {
            let mine = ours
                .forward(&mut [BatchItem {
                    cache: &mut cache,
                    tokens: &input_ours,
                    wanted: Wanted::last_logits(input_ours.len()),
                }])
                .expect("forward")
                .remove(0)
                .logits
                .remove(0);
            let reference = candle_logits(&mut theirs, &input_theirs, pos);
            pos += input_theirs.len();
            let scale = reference.iter().fold(0f32, |m, v| m.max(v.abs()));
            let worst = mine
                .iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(
                worst <= 1e-4 * scale.max(1.0),
                "step {step}: max difference {worst}, scale {scale}"
            );
            let (a, b) = (argmax(&mine), argmax(&reference));
            tokens_ours.push(a);
            tokens_theirs.push(b);
            input_ours = vec![a];
            input_theirs = vec![b];
        }
        assert_eq!(tokens_ours, tokens_theirs);
        // Not a degenerate model: it does not just repeat one token.
        let distinct: std::collections::HashSet<u32> = tokens_ours.iter().copied().collect();
        assert!(distinct.len() > 3, "{tokens_ours:?}");
    }
}
