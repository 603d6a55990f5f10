//! `cargo xtask bench lighthouse` (and part of `cargo xtask bench`): Lighthouse's
//! performance, accessibility, best-practices and SEO scores for the Compare view of the
//! release build, served as a static host serves it (precompressed files included), in
//! the system Chromium. Scores vary from run to run, so they are measured here and never
//! asserted by a test. Prints them and writes `target/bench/lighthouse.json`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::shell::run;
use crate::{setup, site, static_server};

/// The Lighthouse release measured, installed on first use beside the model cache (the
/// tests do not need it, so `npm ci` of the tests does not fetch it).
const LIGHTHOUSE: &str = "lighthouse@12.8.2";

const CATEGORIES: [&str; 4] = ["performance", "accessibility", "best-practices", "seo"];

fn install_dir() -> PathBuf {
    setup::model_cache()
        .parent()
        .map_or_else(|| PathBuf::from(".lighthouse"), |p| p.join("lighthouse"))
}

pub fn measure(root: &Path, out: &Path) -> Result<()> {
    setup::test_tools(root)?;
    let dir = install_dir();
    let cli = dir.join("node_modules/lighthouse/cli/index.js");
    if !cli.is_file() {
        eprintln!("bench: installing {LIGHTHOUSE} into {}", dir.display());
        std::fs::create_dir_all(&dir)?;
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&dir)
            .arg(LIGHTHOUSE))
        .context("npm could not install Lighthouse; check that the npm registry is reachable")?;
    }
    let dist = site::build_release(root)?;
    let server = static_server::start(&dist, 0, "/ponder/")?;
    let url = format!("{}?view=compare", server.url());
    std::fs::create_dir_all(out)?;
    let report = out.join("lighthouse-report.json");
    eprintln!("bench: Lighthouse on {url}");
    run(Command::new("node")
        .arg(&cli)
        .arg(&url)
        .args([
            "--output=json",
            "--quiet",
            "--only-categories=performance,accessibility,best-practices,seo",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ])
        .arg(format!("--output-path={}", report.display()))
        .env("CHROME_PATH", setup::chromium_path()))
    .context("Lighthouse did not finish; its messages above say why")?;
    let text = std::fs::read_to_string(&report)
        .with_context(|| format!("reading {}", report.display()))?;
    let lhr: serde_json::Value =
        serde_json::from_str(&text).context("reading Lighthouse's report")?;
    let mut scores = serde_json::Map::new();
    println!("Lighthouse, Compare view (mobile, simulated throttling):");
    for c in CATEGORIES {
        let score = lhr["categories"][c]["score"]
            .as_f64()
            .map(|s| (s * 100.0).round());
        println!(
            "  {c:<15} {}",
            score.map_or("not measured".to_string(), |s| format!("{s:.0}"))
        );
        scores.insert(c.to_string(), score.into());
    }
    let mut metrics = serde_json::Map::new();
    for audit in [
        "first-contentful-paint",
        "largest-contentful-paint",
        "total-blocking-time",
        "cumulative-layout-shift",
        "speed-index",
    ] {
        let value = lhr["audits"][audit]["numericValue"].as_f64();
        if let Some(v) = value {
            println!(
                "  {audit:<26} {v:.0}{}",
                if audit == "cumulative-layout-shift" {
                    ""
                } else {
                    " ms"
                }
            );
        }
        metrics.insert(audit.to_string(), value.into());
    }
    let summary = serde_json::json!({
        "url": url,
        "lighthouse": lhr["lighthouseVersion"],
        "scores": scores,
        "metrics": metrics,
    });
    let path = out.join("lighthouse.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)?)?;
    println!("written: {}", path.display());
    Ok(())
}
