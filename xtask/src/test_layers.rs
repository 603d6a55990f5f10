//! `cargo xtask test`: every test layer, one after another, then one summary line.
//!
//! 1. native `cargo test` for the whole workspace (llama.cpp itself on the built-in models
//!    among them);
//! 2. wasm-bindgen-test in headless Chromium with WebGPU (SwiftShader), via chromedriver;
//! 3. Playwright end-to-end tests against the release build served on 127.0.0.1 under a
//!    sub-path, as a static host would serve it.
//!
//! A layer that cannot even start (a build error, a missing tool) counts as one failure,
//! and the remaining layers still run, so one report shows everything that is wrong.
//!
//! `cargo xtask test e2e` runs one layer (any of `native`, `browser`, `e2e`, several
//! allowed), and file names (`offline.test.mjs`) run only those end-to-end tests.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::setup;
use crate::shell::describe;
use crate::site;
use crate::static_server;
use crate::summary::{libtest_line, tap_line, Tally};

/// The sub-path the end-to-end tests serve the site under.
pub const E2E_PREFIX: &str = "/ponder/e2e/";

/// The layers, in the order they run.
const LAYERS: [&str; 3] = ["native", "browser", "e2e"];

/// What `cargo xtask test` was asked to run.
#[derive(Debug, PartialEq, Eq)]
struct Selection {
    layers: Vec<&'static str>,
    /// End-to-end test files (relative to tests/e2e); empty for all of them.
    e2e_files: Vec<String>,
}

fn select(args: &[String]) -> Result<Selection> {
    let mut layers = Vec::new();
    let mut e2e_files = Vec::new();
    for arg in args {
        if let Some(layer) = LAYERS.iter().find(|l| **l == arg.as_str()) {
            layers.push(*layer);
        } else if arg.ends_with(".test.mjs") {
            e2e_files.push(arg.trim_start_matches("tests/e2e/").to_string());
        } else {
            anyhow::bail!(
                "`{arg}` is neither a test layer ({}) nor an end-to-end test file (*.test.mjs)",
                LAYERS.join(", ")
            );
        }
    }
    if layers.is_empty() {
        // Files alone mean the end-to-end layer; nothing at all means every layer.
        layers = if e2e_files.is_empty() {
            LAYERS.to_vec()
        } else {
            vec!["e2e"]
        };
    }
    if !e2e_files.is_empty() && !layers.contains(&"e2e") {
        anyhow::bail!("end-to-end test files were named without the e2e layer");
    }
    Ok(Selection { layers, e2e_files })
}

pub fn run(root: &Path, args: &[String]) -> Result<bool> {
    let started = Instant::now();
    let selection = select(args)?;
    setup::test_tools(root)?;

    let mut layers: Vec<(&str, Tally, f64)> = Vec::new();
    for name in selection.layers.iter().copied() {
        eprintln!("\n== test layer: {name} ==");
        let t = Instant::now();
        let result = match name {
            "native" => native(root),
            "browser" => browser(root),
            _ => end_to_end(root, &selection.e2e_files),
        };
        let tally = result.unwrap_or_else(|e| {
            eprintln!("test layer {name} could not run: {e:#}");
            Tally {
                passed: 0,
                failed: 1,
            }
        });
        layers.push((name, tally, t.elapsed().as_secs_f64()));
    }

    let mut total = Tally::default();
    let mut parts = Vec::new();
    for (name, tally, secs) in &layers {
        total.add(*tally);
        parts.push(format!(
            "{name} {}/{} in {secs:.0} s",
            tally.passed,
            tally.passed + tally.failed
        ));
    }
    println!(
        "\nponder tests: {total} ({}; {:.0} s in all)",
        parts.join(", "),
        started.elapsed().as_secs_f64()
    );
    // A layer that ran no test at all (its tests renamed away, say) fails too: a green run
    // must mean every layer was checked.
    let empty: Vec<&str> = layers
        .iter()
        .filter(|(_, tally, _)| tally.passed + tally.failed == 0)
        .map(|(name, _, _)| *name)
        .collect();
    if !empty.is_empty() {
        println!("no tests ran in: {}", empty.join(", "));
    }
    Ok(total.failed == 0 && empty.is_empty())
}

fn native(root: &Path) -> Result<Tally> {
    let mut cmd = Command::new("cargo");
    // --no-fail-fast: one failing test binary must not hide the ones after it.
    cmd.args(["test", "--workspace", "--all-targets", "--no-fail-fast"])
        .current_dir(root);
    // Vulkan means Mesa's lavapipe here unless the caller chose another driver: the GPU
    // engine's native tests (crates/gpu/tests) run on it.
    if std::env::var_os("VK_DRIVER_FILES").is_none() {
        cmd.env("VK_DRIVER_FILES", setup::LAVAPIPE_ICD);
    }
    // The built-in models in llama.cpp itself (crates/train/tests/llama_cpp.rs), through
    // the llama-cpp-python that set-up built.
    cmd.env("PONDER_LLAMA_PYTHON", crate::llama_cpp::python());
    counted(&mut cmd, libtest_line)
}

fn browser(root: &Path) -> Result<Tally> {
    // The model tests fetch SmolLM2 from the model cache, served on 127.0.0.1.
    let models = static_server::start(&setup::model_cache(), 0, "/")?;
    let model_url = format!("{}{}", models.url(), setup::SMOLLM2_FILE);
    let mut total = Tally::default();
    // The model crate's SIMD kernels are checked against their portable references in
    // wasm too (its unit tests marked for wasm-bindgen-test, run in Node).
    for (package, target) in [
        ("ponder", &["--test", "web"][..]),
        ("ponder-model", &["--test", "web_greedy"]),
        ("ponder-model", &["--lib"]),
        ("ponder-gpu", &["--test", "web"]),
    ] {
        let mut cmd = Command::new("cargo");
        cmd.args([
            "test",
            "--no-fail-fast",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .args(["--package", package])
        .args(target)
        .current_dir(root)
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", setup::chromedriver_path())
        .env("PONDER_TEST_MODEL_URL", &model_url)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300");
        // wasm-bindgen-test-runner reads webdriver.json (the flags that give headless
        // Chromium its WebGPU adapter) from the package root; crates/model links to ours.
        total.add(counted(&mut cmd, libtest_line)?);
    }
    Ok(total)
}

fn end_to_end(root: &Path, files: &[String]) -> Result<Tally> {
    // The Compare tests check the page against `ponder run` on the same links. The
    // test profile's build (the native layer made it) runs the same numbers.
    crate::shell::run(
        Command::new("cargo")
            .args(["build", "--quiet", "--package", "ponder-cli"])
            .current_dir(root),
    )?;
    let target = crate::bench::target_dir(root);
    let cli = target.join("debug/ponder");
    let artifacts = target.join("e2e-artifacts");
    let dist = site::build_release(root)?;
    let server = static_server::start(&dist, 0, E2E_PREFIX)?;
    eprintln!("serving the release build at {}", server.url());
    let mut cmd = Command::new("node");
    // With no file arguments, Node finds the `*.test.mjs` files itself (skipping node_modules).
    cmd.args(["--test", "--test-reporter=tap", "--test-concurrency=1"])
        .args(files)
        .current_dir(root.join("tests/e2e"))
        .env("PONDER_URL", server.url())
        // The offline tests serve copies of the built site themselves (a server they can
        // stop, and a second release made with `xtask release`).
        .env("PONDER_DIST", &dist)
        .env("PONDER_XTASK", std::env::current_exe()?)
        .env("PONDER_CLI", &cli)
        // SmolLM2, the real third-party model, for the chat with a visitor's model.
        .env(
            "PONDER_SMOLLM2",
            setup::model_cache().join(setup::SMOLLM2_FILE),
        )
        .env("PONDER_ARTIFACTS", &artifacts)
        .env("PONDER_CHROMIUM", setup::chromium_path());
    eprintln!("screenshots of the e2e tests go to {}", artifacts.display());
    counted(&mut cmd, tap_line)
}

/// Runs a test command, echoing its output, and adds up the counts its lines report.
/// A command that fails without reporting any failure counts as one failure.
fn counted(cmd: &mut Command, parse: fn(&str) -> Option<Tally>) -> Result<Tally> {
    let shown = describe(cmd);
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let mut tally = Tally::default();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line.unwrap_or_default();
            println!("{line}");
            if let Some(t) = parse(&line) {
                tally.add(t);
            }
        }
    }
    let status = child.wait()?;
    if !status.success() && tally.failed == 0 {
        eprintln!("`{shown}` failed ({status}) without a test failure; counting it as one");
        tally.failed = 1;
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn layers_and_files_select_what_runs() {
        let all = select(&[]).unwrap();
        assert_eq!(all.layers, LAYERS);
        assert!(all.e2e_files.is_empty());
        assert_eq!(select(&args(&["e2e"])).unwrap().layers, ["e2e"]);
        let files = select(&args(&["tests/e2e/offline.test.mjs", "compare.test.mjs"])).unwrap();
        assert_eq!(files.layers, ["e2e"]);
        assert_eq!(files.e2e_files, ["offline.test.mjs", "compare.test.mjs"]);
        assert!(select(&args(&["native", "offline.test.mjs"])).is_err());
        assert!(select(&args(&["nope"])).is_err());
    }
}
