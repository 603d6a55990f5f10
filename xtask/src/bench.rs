//! `cargo xtask bench`: the model runtime's speed and memory on SmolLM2-135M-Instruct Q4_1,
//! natively (`ponder bench`) and in headless Chromium (wasm SIMD, one thread), with wllama
//! (llama.cpp compiled to wasm) on the same file in the same browser, one thread, CPU only,
//! measured side by side in one run. Prints a table and writes `target/bench/runtime.json`.
//! Before the browser, each test-time compute strategy on the built-in models (`ponder
//! bench --strategies`), written to `target/bench/strategies.json`; and the GPU engine
//! beside the CPU engine (`gpu_only`), written to `target/bench/gpu-*.json`; and
//! Lighthouse's scores for the Compare view (`lighthouse.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::setup;
use crate::shell::{capture, run};
use crate::static_server;

pub fn run_all(root: &Path) -> Result<()> {
    setup::test_tools(root)?;
    let model = setup::model_cache().join(setup::SMOLLM2_FILE);
    let target = target_dir(root);

    eprintln!("bench: native");
    run(Command::new("cargo")
        .args(["build", "--quiet", "--release", "--package", "ponder-cli"])
        .current_dir(root))?;
    let native = capture(
        Command::new(target.join("release/ponder"))
            .args(["bench", "--json"])
            .arg(&model),
    )?;

    eprintln!("bench: strategies on the built-in models");
    let out = target.join("bench");
    run(Command::new(target.join("release/ponder"))
        .args(["bench", "--strategies", "--out"])
        .arg(out.join("strategies.json"))
        .current_dir(root))?;

    compare(root, &target, &out)?;
    gpu_only(root)?;
    crate::lighthouse::measure(root, &out)?;

    let site = bench_site(root, &target)?;
    let server = static_server::start(&site, 0, "/")?;
    eprintln!("bench: browser, at {}", server.url());
    let browser = capture(
        Command::new("node")
            .arg(root.join("tests/e2e/bench/run.mjs"))
            .arg(server.url())
            .arg(format!("models/{}", setup::SMOLLM2_FILE))
            .env("PONDER_CHROMIUM", setup::chromium_path()),
    )?;

    let report = format!(
        "{{\"model\":\"{}\",\"native\":{},\"browser\":{}}}",
        setup::SMOLLM2_FILE,
        native.trim(),
        browser.trim()
    );
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("runtime.json"), &report)?;
    print_table(&native, &browser)?;
    println!("\nwritten: {}", out.join("runtime.json").display());
    Ok(())
}

/// The browser benchmark's site under the target folder: both wasm harnesses (the CPU
/// runtime's, `ponder-model`'s `bench_web`, and the GPU engine's, `ponder-gpu`'s
/// `gpu_bench_web`), the page, wllama's files, and the models.
fn bench_site(root: &Path, target: &Path) -> Result<PathBuf> {
    eprintln!("bench: building the wasm harnesses");
    let site = target.join("bench-web");
    let _ = std::fs::remove_dir_all(&site);
    std::fs::create_dir_all(site.join("models"))?;
    for (package, example, pkg) in [
        ("ponder-model", "bench_web", "pkg"),
        ("ponder-gpu", "gpu_bench_web", "pkg-gpu"),
    ] {
        run(Command::new("cargo")
            .args([
                "build",
                "--quiet",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .args(["--package", package, "--example", example])
            .current_dir(root))?;
        run(Command::new("wasm-bindgen")
            .args(["--target", "web", "--out-dir"])
            .arg(site.join(pkg))
            .arg(target.join(format!(
                "wasm32-unknown-unknown/release/examples/{example}.wasm"
            ))))?;
    }
    for file in ["index.html", "page.mjs"] {
        std::fs::copy(root.join("tests/e2e/bench").join(file), site.join(file))?;
    }
    copy_dir(
        &root.join("tests/e2e/node_modules/@wllama/wllama/esm"),
        &site.join("wllama"),
    )
    .context("copying wllama's browser files (npm package @wllama/wllama)")?;
    let smollm2 = setup::model_cache().join(setup::SMOLLM2_FILE);
    std::os::unix::fs::symlink(&smollm2, site.join("models").join(setup::SMOLLM2_FILE))?;
    std::os::unix::fs::symlink(
        root.join("public/models/ponder-s.gguf"),
        site.join("models/ponder-s.gguf"),
    )?;
    Ok(site)
}

/// `cargo xtask bench gpu`: decode tokens/s of the GPU engine beside the CPU engine at 1,
/// 16 and 64 sequences, on the built-in S and on SmolLM2 natively (lavapipe unless
/// `VK_DRIVER_FILES` names another Vulkan driver), and on S in headless Chromium's WebGPU
/// (SwiftShader here: SmolLM2's 64 prefills alone take it past ten minutes). Writes
/// `target/bench/gpu-*.json`.
pub fn gpu_only(root: &Path) -> Result<()> {
    setup::test_tools(root)?;
    let target = target_dir(root);
    let out = target.join("bench");
    std::fs::create_dir_all(&out)?;
    run(Command::new("cargo")
        .args([
            "build",
            "--quiet",
            "--release",
            "--package",
            "ponder-gpu",
            "--example",
            "bench",
        ])
        .current_dir(root))?;
    let models = [
        ("s", root.join("public/models/ponder-s.gguf"), "16"),
        (
            "smollm2",
            setup::model_cache().join(setup::SMOLLM2_FILE),
            "4",
        ),
    ];
    for (name, model, steps) in models {
        eprintln!("bench: GPU engine on {}", model.display());
        let mut cmd = Command::new(target.join("release/examples/bench"));
        cmd.arg(&model)
            .arg(steps)
            .arg("--json")
            .arg(out.join(format!("gpu-{name}.json")));
        if std::env::var_os("VK_DRIVER_FILES").is_none() {
            cmd.env("VK_DRIVER_FILES", setup::LAVAPIPE_ICD);
        }
        run(&mut cmd)?;
    }

    let site = bench_site(root, &target)?;
    let server = static_server::start(&site, 0, "/")?;
    eprintln!("bench: GPU engine in the browser, at {}", server.url());
    let report = capture(
        Command::new("node")
            .arg(root.join("tests/e2e/bench/gpu.mjs"))
            .arg(server.url())
            .arg("models/ponder-s.gguf")
            .arg("16")
            .env("PONDER_CHROMIUM", setup::chromium_path()),
    )?;
    let parsed: serde_json::Value =
        serde_json::from_str(report.trim()).context("reading gpu.mjs's report")?;
    println!(
        "\nbrowser, {} ({}), built-in S, decode tokens/s",
        parsed["adapter"].as_str().unwrap_or("?"),
        if parsed["software_gpu"].as_bool() == Some(true) {
            "a software GPU: its speed says nothing about a real one"
        } else {
            "a hardware GPU"
        }
    );
    println!(
        "{:>10} {:>14} {:>14} {:>8}",
        "sequences", "CPU tokens/s", "GPU tokens/s", "GPU/CPU"
    );
    for row in parsed["rows"].as_array().into_iter().flatten() {
        let (n, cpu, gpu) = (
            row["sequences"].as_u64().unwrap_or(0),
            row["cpu_tokens_per_s"].as_f64().unwrap_or(f64::NAN),
            row["gpu_tokens_per_s"].as_f64().unwrap_or(f64::NAN),
        );
        println!("{n:>10} {cpu:>14.1} {gpu:>14.1} {:>8.2}", gpu / cpu);
    }
    std::fs::write(out.join("gpu-browser-s.json"), report.trim())?;
    Ok(())
}

/// `cargo xtask bench compare`: the Compare view's part alone.
pub fn compare_only(root: &Path) -> Result<()> {
    setup::test_tools(root)?;
    let target = target_dir(root);
    run(Command::new("cargo")
        .args(["build", "--quiet", "--release", "--package", "ponder-cli"])
        .current_dir(root))?;
    let out = target.join("bench");
    compare(root, &target, &out)?;
    println!("\nwritten: {}", out.join("compare.json").display());
    Ok(())
}

/// The Compare view's default race in headless Chromium (cold and warm: navigation to
/// the first step drawn and to both columns finished), and each column's computing time
/// in its worker against `ponder run` natively on the same link. Writes
/// `target/bench/compare.json` and prints a table.
fn compare(root: &Path, target: &Path, out: &Path) -> Result<()> {
    eprintln!("bench: the Compare view in the browser");
    let dist = crate::site::build_release(root)?;
    let server = static_server::start(&dist, 0, "/")?;
    let browser = capture(
        Command::new("node")
            .arg(root.join("tests/e2e/bench/compare.mjs"))
            .arg(server.url())
            .arg("3")
            .env("PONDER_CHROMIUM", setup::chromium_path()),
    )?;
    let browser: serde_json::Value =
        serde_json::from_str(browser.trim()).context("reading compare.mjs's report")?;
    // The same race where the browser has WebGPU: the workers then also load and time the
    // GPU engine (after their first race, which must not wait for it).
    let with_gpu = capture(
        Command::new("node")
            .arg(root.join("tests/e2e/bench/compare.mjs"))
            .arg(server.url())
            .arg("3")
            .arg("webgpu")
            .env("PONDER_CHROMIUM", setup::chromium_path()),
    )?;
    let with_gpu: serde_json::Value =
        serde_json::from_str(with_gpu.trim()).context("reading compare.mjs's WebGPU report")?;
    let link = browser["link"]
        .as_str()
        .context("compare.mjs gave no link")?;
    // Natively on one core (taskset), as each column has one worker's thread in the
    // browser; the native engine would otherwise split large batches' attention in two.
    let native = capture(
        Command::new("taskset")
            .args(["-c", "0"])
            .arg(target.join("release/ponder"))
            .args(["run", "--json", link])
            .current_dir(root),
    )?;
    let native: Vec<serde_json::Value> = native
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .context("reading ponder run's JSON")?;
    let ms = |v: &serde_json::Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.0}"));
    println!(
        "
Compare view, default race ({link})"
    );
    println!(
        "{:<30} {:>18} {:>22}",
        "", "first step (ms)", "both finished (ms)"
    );
    for (label, report) in [("no WebGPU", &browser), ("WebGPU (SwiftShader)", &with_gpu)] {
        println!(
            "{:<30} {:>18} {:>22}",
            format!("{label}, cold"),
            ms(&report["cold"]["first_step_ms"]),
            ms(&report["cold"]["finished_ms"])
        );
        for (i, warm) in report["warm"].as_array().into_iter().flatten().enumerate() {
            println!(
                "{:<30} {:>18} {:>22}",
                format!("{label}, warm {}", i + 1),
                ms(&warm["first_step_ms"]),
                ms(&warm["finished_ms"])
            );
        }
    }
    println!(
        "
{:<48} {:>12} {:>12} {:>8}",
        "column (last warm run)", "browser s", "native s", "ratio"
    );
    let last = browser["warm"]
        .as_array()
        .and_then(|w| w.last())
        .unwrap_or(&browser["cold"]);
    let mut ratios = Vec::new();
    for (i, column) in last["columns"].as_array().into_iter().flatten().enumerate() {
        let web = column["seconds"].as_f64().unwrap_or(f64::NAN);
        let here = native
            .get(i)
            .and_then(|r| r["seconds"].as_f64())
            .unwrap_or(f64::NAN);
        ratios.push(serde_json::json!({
            "column": column["side"], "strategy": column["strategy"],
            "browser_seconds": web, "native_seconds": here, "ratio": web / here,
        }));
        println!(
            "{:<48} {:>12.3} {:>12.3} {:>8.2}",
            column["strategy"].as_str().unwrap_or(""),
            web,
            here,
            web / here
        );
    }
    let report = serde_json::json!({
        "link": link, "browser": browser, "browser_with_webgpu": with_gpu, "per_problem": ratios,
    });
    std::fs::create_dir_all(out)?;
    std::fs::write(
        out.join("compare.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    Ok(())
}

/// Where cargo puts its builds: `CARGO_TARGET_DIR` (relative to the workspace, where the
/// commands run) when set, as on a CI machine with its cache outside the clone.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Reads `"key":number` from a flat JSON object text (the reports are ours; no nesting).
fn number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// Reads `"key":[n, n, …]` from a flat JSON object text.
fn list(json: &str, key: &str) -> Option<Vec<f64>> {
    let at = json.find(&format!("\"{key}\":["))? + key.len() + 4;
    let end = json[at..].find(']')?;
    json[at..at + end]
        .split(',')
        .map(|v| v.trim().parse().ok())
        .collect()
}

/// The object for `name` inside `{"ponder": {...}, "wllama": {...}}`.
fn section<'a>(json: &'a str, name: &str) -> Option<&'a str> {
    let at = json.find(&format!("\"{name}\":{{"))? + name.len() + 3;
    let end = json[at..].find('}')?;
    Some(&json[at..at + end + 1])
}

fn print_table(native: &str, browser: &str) -> Result<()> {
    let Some(ours) = section(browser, "ponder") else {
        bail!("the browser benchmark gave no result for Ponder: {browser}");
    };
    let theirs = section(browser, "wllama");
    let cell = |json: Option<&str>, key: &str, scale: f64, digits: usize| -> String {
        json.and_then(|j| number(j, key))
            .map_or("-".to_string(), |v| format!("{:.*}", digits, v * scale))
    };
    let rows = [
        ("load (s)", "load_seconds", 1.0, 2),
        ("prefill (tokens/s)", "prefill_tokens_per_second", 1.0, 1),
        (
            "decode, 1 sequence (tokens/s)",
            "decode_tokens_per_second",
            1.0,
            1,
        ),
        (
            "decode, 16 sequences (tokens/s)",
            "batch_decode_tokens_per_second",
            1.0,
            1,
        ),
        ("peak memory (MB)", "peak_memory_bytes", 1e-6, 0),
        ("threads", "threads", 1.0, 0),
    ];
    println!("\nSmolLM2-135M-Instruct Q4_1, CPU");
    println!(
        "{:<34}{:>14}{:>16}{:>16}",
        "", "native", "browser (ours)", "browser wllama"
    );
    for (label, key, scale, digits) in rows {
        println!(
            "{label:<34}{:>14}{:>16}{:>16}",
            cell(Some(native), key, scale, digits),
            cell(Some(ours), key, scale, digits),
            cell(theirs, key, scale, digits)
        );
    }
    if let (Some(a), Some(b)) = (
        number(ours, "decode_tokens_per_second"),
        theirs.and_then(|t| number(t, "decode_tokens_per_second")),
    ) {
        println!("\nbrowser decode, ours / wllama: {:.2}x", a / b);
    }
    // The browser's figures are medians over interleaved rounds (run.mjs); each round's.
    for (name, json) in [("ours", Some(ours)), ("wllama", theirs)] {
        if let Some(runs) = json.and_then(|j| list(j, "decode_tokens_per_second_runs")) {
            let shown: Vec<String> = runs.iter().map(|v| format!("{v:.1}")).collect();
            println!("browser decode per round, {name}: {}", shown.join(", "));
        }
    }
    if let (Some(a), Some(b)) = (
        number(ours, "batch_decode_tokens_per_second"),
        number(ours, "decode_tokens_per_second"),
    ) {
        println!("browser decode, 16 sequences / 1: {:.2}x", a / b);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_and_sections() {
        let browser = r#"{"ponder":{"decode_tokens_per_second":12.5,"decoded":[1,2]},"wllama":{"decode_tokens_per_second":11}}"#;
        let ours = section(browser, "ponder").expect("ponder");
        assert_eq!(number(ours, "decode_tokens_per_second"), Some(12.5));
        assert_eq!(
            number(
                section(browser, "wllama").expect("w"),
                "decode_tokens_per_second"
            ),
            Some(11.0)
        );
        assert_eq!(number(ours, "missing"), None);
        assert_eq!(list(ours, "decoded"), Some(vec![1.0, 2.0]));
        assert_eq!(list(ours, "missing"), None);
    }
}
