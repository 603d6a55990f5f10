//! Bad model files give errors that name the problem: truncated, not GGUF, an unknown
//! architecture, an unsupported tensor type, a missing tensor, a missing tokenizer.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::tiny::{self, Head};
use ponder_model::gguf::{GgufFile, GgufWriter, MetadataValue, TensorType};
use ponder_model::LanguageModel;

fn load_error(bytes: &[u8]) -> String {
    match LanguageModel::from_gguf_bytes(bytes) {
        Ok(_) => panic!("a bad file loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_truncated_download_is_called_truncated() {
    let bytes = common::smollm2_bytes();
    for cut in [bytes.len() / 2, bytes.len() - 1, 1000, 7] {
        let msg = load_error(&bytes[..cut]);
        assert!(msg.contains("truncated"), "cut at {cut}: {msg}");
    }
}

#[test]
fn other_files_are_not_gguf() {
    let msg = load_error(b"<!doctype html><title>404 Not Found</title>");
    assert!(msg.contains("not a GGUF file"), "{msg}");
}

#[test]
fn unknown_architectures_are_named() {
    let mut w = GgufWriter::new();
    w.metadata(
        "general.architecture",
        MetadataValue::String("mamba".into()),
    );
    let msg = load_error(&w.to_bytes().expect("writable"));
    assert!(msg.contains("`mamba` is not supported"), "{msg}");
}

#[test]
fn unsupported_tensor_types_are_named_with_the_tensor() {
    let mut bytes = tiny::model(Head::None);
    let file = GgufFile::read(&bytes).expect("valid");
    let target = &file.tensors()[3];
    // Find the tensor's directory entry: its name, then rank, dims, and the type id.
    let needle = target.name.as_bytes();
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("name in header");
    let type_at = at + needle.len() + 4 + 8 * target.dims.len();
    assert_eq!(
        u32::from_le_bytes(bytes[type_at..type_at + 4].try_into().unwrap()),
        TensorType::F32.ggml_id()
    );
    bytes[type_at..type_at + 4].copy_from_slice(&30u32.to_le_bytes()); // BF16
    let msg = load_error(&bytes);
    assert!(msg.contains(&target.name) && msg.contains("BF16"), "{msg}");
}

#[test]
fn missing_tensors_and_tokenizers_are_named() {
    let mut w = GgufWriter::new();
    w.metadata(
        "general.architecture",
        MetadataValue::String("llama".into()),
    );
    for (key, v) in [
        ("llama.block_count", 1u32),
        ("llama.context_length", 16),
        ("llama.embedding_length", 8),
        ("llama.feed_forward_length", 8),
        ("llama.attention.head_count", 2),
    ] {
        w.metadata(key, MetadataValue::U32(v));
    }
    let msg = load_error(&w.to_bytes().expect("writable"));
    assert!(msg.contains("token_embd.weight"), "{msg}");

    // A complete model whose tokenizer metadata is missing.
    let bytes = tiny::model(Head::None);
    let file = GgufFile::read(&bytes).expect("valid");
    let mut w = GgufWriter::new();
    for (k, v) in file.metadata_entries() {
        if !k.starts_with("tokenizer.") {
            w.metadata(k, v.clone());
        }
    }
    for t in file.tensors() {
        let data = file.tensor_bytes(&bytes, &t.name).expect("data").1.to_vec();
        w.tensor(&t.name, &t.dims, t.ty, data);
    }
    let msg = load_error(&w.to_bytes().expect("writable"));
    assert!(msg.contains("tokenizer.ggml"), "{msg}");
}
