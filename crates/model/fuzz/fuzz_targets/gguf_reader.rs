//! Any bytes given to the GGUF reader and the model loader: an error or a model, never a
//! panic, a hang or an allocation beyond what the input can justify.
//!
//! Run: `cd crates/model/fuzz && cargo +nightly fuzz run gguf_reader -- -rss_limit_mb=512`

#![no_main]

use libfuzzer_sys::fuzz_target;
use ponder_model::gguf::GgufFile;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = GgufFile::read(data) {
        for t in file.tensors() {
            let _ = file.tensor_bytes(data, &t.name);
        }
        // Loading goes on to read metadata, shapes and the tokenizer.
        let _ = ponder_model::LanguageModel::from_gguf_bytes(data);
    }
});
