//! llama-cpp-python, for the native test that runs llama.cpp itself on the built-in
//! models and SmolLM2 (`crates/train/tests/llama_cpp.rs`), with the `gguf` package that
//! the test's float64 reference reads weights with. PyPI ships it as source only, so it is
//! compiled once into a virtual environment in `~/.cache/ponder/llama-venv` and reused
//! until the pinned version changes.
//!
//! The build is kept small: the library and the CPU backend only (no server, tools,
//! tests, examples or multimodal library), on two parallel jobs. The instruction set is
//! fixed (`GGML_NATIVE=OFF`: AVX2 and FMA on x86-64), not the build machine's, so a cached
//! environment computes the same numbers on any machine it is restored to.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::setup::{apt_install, step};
use crate::shell::{capture, run};

/// The version installed; the test checks it was this one that answered.
pub const VERSION: &str = "0.3.36";

/// llama.cpp's own Python GGUF reader, which the float64 reference forward
/// (`scripts/float64_reference.py`) dequantizes weights with.
const GGUF_VERSION: &str = "0.19.0";

/// llama.cpp's CMake options: everything the Python package does not load is off.
const CMAKE_ARGS: &str = "-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_OPENSSL=OFF \
    -DGGML_NATIVE=OFF -DGGML_OPENMP=OFF";

/// `~/.cache/ponder/llama-venv`.
pub fn venv() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache/ponder/llama-venv")
}

/// The environment's Python, the one the test runs (its default path).
pub fn python() -> PathBuf {
    venv().join("bin/python")
}

/// The installed llama-cpp-python's version, if the environment imports it.
fn installed() -> Option<String> {
    capture(Command::new(python()).args(["-c", "import llama_cpp; print(llama_cpp.__version__)"]))
        .ok()
        .map(|v| v.trim().to_string())
}

/// Builds llama-cpp-python into the environment unless it is there at [`VERSION`], and
/// adds the `gguf` package.
pub fn ensure() -> Result<()> {
    if installed().as_deref() != Some(VERSION) {
        build()?;
    }
    let gguf = capture(Command::new(python()).args([
        "-c",
        "import importlib.metadata as m; print(m.version('gguf'))",
    ]));
    if gguf.ok().map(|v| v.trim().to_string()).as_deref() != Some(GGUF_VERSION) {
        step(&format!(
            "installing gguf {GGUF_VERSION} into {}",
            venv().display()
        ));
        run(Command::new(python())
            .args(["-m", "pip", "install", "--quiet", "--no-cache-dir"])
            .arg(format!("gguf=={GGUF_VERSION}")))
        .context("pip could not install the gguf package; check that PyPI is reachable")?;
    }
    Ok(())
}

fn build() -> Result<()> {
    if capture(Command::new("c++").arg("--version")).is_err() {
        apt_install(
            &["g++"],
            "a C++ compiler (needed once to build llama.cpp for the llama.cpp test)",
            &format!(
                "or put a Python with llama-cpp-python {VERSION} at {}",
                python().display()
            ),
        )?;
    }
    // A half-built or older environment is rebuilt from nothing.
    let dir = venv();
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove the old {}", dir.display()))?;
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Debian's python3 makes virtual environments only with python3-venv.
    if capture(Command::new("python3").arg("-m").arg("venv").arg(&dir)).is_err() {
        apt_install(
            &["python3-venv"],
            "python3's venv module (for the llama.cpp test's environment)",
            &format!(
                "or put a Python with llama-cpp-python {VERSION} at {}",
                python().display()
            ),
        )?;
        let _ = std::fs::remove_dir_all(&dir);
        run(Command::new("python3").arg("-m").arg("venv").arg(&dir))
            .context("python3 could not create a virtual environment")?;
    }
    step(&format!(
        "building llama-cpp-python {VERSION} (llama.cpp for the CPU) into {}; this compiles \
         for four minutes on two idle cores, once",
        dir.display()
    ));
    run(Command::new(python())
        .args(["-m", "pip", "install", "--quiet", "--no-cache-dir"])
        .arg(format!("llama-cpp-python=={VERSION}"))
        .env("CMAKE_ARGS", CMAKE_ARGS)
        .env("CMAKE_BUILD_PARALLEL_LEVEL", "2"))
    .context(
        "pip could not build llama-cpp-python; check that PyPI is reachable and a C++ \
         compiler works",
    )?;
    match installed() {
        Some(v) if v == VERSION => Ok(()),
        other => bail!(
            "llama-cpp-python built, but the environment imports {:?}, not {VERSION}",
            other
        ),
    }
}
