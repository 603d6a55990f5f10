//! Installs what the README's commands need, skipping whatever is already present, and
//! says plainly what to do when something cannot be installed from here.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::shell::{capture, run};

pub const TRUNK_VERSION: &str = "0.21.14";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Mesa's lavapipe, the software Vulkan driver the native GPU tests run on.
pub const LAVAPIPE_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";

/// Everything needed to build the site: the wasm target, Trunk and wasm-bindgen-cli.
pub fn site_tools(root: &Path) -> Result<()> {
    wasm_target()?;
    trunk()?;
    wasm_bindgen(root)?;
    Ok(())
}

/// Everything the test layers need on top of the site tools.
pub fn test_tools(root: &Path) -> Result<()> {
    site_tools(root)?;
    browser()?;
    lavapipe()?;
    npm_packages(root)?;
    Ok(())
}

fn step(what: &str) {
    eprintln!("setup: {what}");
}

pub fn wasm_target() -> Result<()> {
    let installed = capture(Command::new("rustup").args(["target", "list", "--installed"]))
        .context("rustup is needed to add the wasm target; install it from https://rustup.rs")?;
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    step("adding the wasm32-unknown-unknown target");
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

pub fn trunk() -> Result<()> {
    let version = capture(Command::new("trunk").arg("--version")).unwrap_or_default();
    if version.split_whitespace().nth(1) == Some(TRUNK_VERSION) {
        return Ok(());
    }
    step(&format!(
        "installing trunk {TRUNK_VERSION} (found: {}); this compiles for several minutes once",
        if version.is_empty() {
            "none"
        } else {
            version.trim()
        }
    ));
    run(Command::new("cargo").args(["install", "--locked", "trunk", "--version", TRUNK_VERSION]))
        .context("could not install trunk; check that crates.io is reachable")
}

/// The wasm-bindgen version in Cargo.lock; the CLI must equal it exactly.
pub fn locked_wasm_bindgen(root: &Path) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .context("Cargo.lock is missing; run `cargo generate-lockfile`")?;
    locked_version(&lock, "wasm-bindgen")
        .context("Cargo.lock has no wasm-bindgen package; is the web app still a member?")
}

/// Finds `version = "..."` of the package named `name` in a Cargo.lock text.
pub fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let next = lines.next()?.trim();
            return next
                .strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_string);
        }
    }
    None
}

pub fn wasm_bindgen(root: &Path) -> Result<()> {
    let locked = locked_wasm_bindgen(root)?;
    let found = capture(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if found.split_whitespace().nth(1) == Some(locked.as_str()) {
        return Ok(());
    }
    step(&format!(
        "installing wasm-bindgen-cli {locked} to match Cargo.lock (found: {})",
        if found.is_empty() {
            "none"
        } else {
            found.trim()
        }
    ));
    let exact = format!("={locked}");
    let locked_install = run(Command::new("cargo").args([
        "install",
        "--locked",
        "--force",
        "wasm-bindgen-cli",
        "--version",
        &exact,
    ]));
    if locked_install.is_ok() {
        return Ok(());
    }
    // Its own lock file sometimes names a dependency version the registry has yanked.
    step("retrying wasm-bindgen-cli without --locked");
    run(Command::new("cargo").args([
        "install",
        "--force",
        "wasm-bindgen-cli",
        "--version",
        &exact,
    ]))
    .context("could not install wasm-bindgen-cli; check that crates.io is reachable")
}

/// The Chromium binary the browser tests drive (override with PONDER_CHROMIUM).
pub fn chromium_path() -> PathBuf {
    std::env::var_os("PONDER_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(CHROMIUM))
}

/// The chromedriver binary (override with CHROMEDRIVER).
pub fn chromedriver_path() -> PathBuf {
    std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(CHROMEDRIVER))
}

pub fn browser() -> Result<()> {
    if chromium_path().is_file() && chromedriver_path().is_file() {
        return Ok(());
    }
    apt_install(
        &["chromium", "chromium-driver"],
        "Chromium and chromedriver (for the browser tests)",
        "or point PONDER_CHROMIUM and CHROMEDRIVER at a matching Chromium and chromedriver",
    )
}

pub fn lavapipe() -> Result<()> {
    if Path::new(LAVAPIPE_ICD).is_file() {
        return Ok(());
    }
    apt_install(
        &["mesa-vulkan-drivers"],
        "Mesa's lavapipe software Vulkan driver (for the native GPU tests)",
        "the native GPU tests cannot run without a Vulkan driver",
    )
}

fn apt_install(packages: &[&str], what: &str, alternative: &str) -> Result<()> {
    let has_apt = capture(Command::new("apt-get").arg("--version")).is_ok();
    let is_root = capture(Command::new("id").arg("-u"))
        .map(|id| id.trim() == "0")
        .unwrap_or(false);
    let list = packages.join(" ");
    if !has_apt {
        bail!(
            "{what} missing, and this system has no apt-get. Install the equivalent of the \
             Debian packages `{list}` with your package manager, {alternative}."
        );
    }
    if !is_root {
        bail!(
            "{what} missing, and installing needs root. Run `sudo apt-get install -y {list}` \
             once, {alternative}, then run this command again."
        );
    }
    step(&format!("installing {list} with apt-get"));
    run(Command::new("apt-get").args(["update", "-qq"]))
        .context("apt-get update failed; check the network and /etc/apt/sources.list")?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(&mut install).with_context(|| format!("apt-get could not install {list}"))
}

/// The npm packages of the end-to-end tests (playwright-core), from the lock file.
pub fn npm_packages(root: &Path) -> Result<()> {
    let e2e = root.join("tests/e2e");
    if e2e
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return Ok(());
    }
    if capture(Command::new("npm").arg("--version")).is_err() {
        bail!(
            "npm is missing; install Node.js 20 or newer (Debian: `apt-get install nodejs npm`) \
             for the end-to-end tests"
        );
    }
    step("installing the end-to-end tests' npm packages");
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&e2e))
    .context("npm ci failed in tests/e2e; check that the npm registry is reachable")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_locked_version_of_a_package() {
        let lock = "[[package]]\nname = \"wasm-bindgen-shared\"\nversion = \"9.9.9\"\n\n\
                    [[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\nsource = \"x\"\n";
        assert_eq!(
            locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            locked_version(lock, "wasm-bindgen-shared").as_deref(),
            Some("9.9.9")
        );
        assert_eq!(locked_version(lock, "leptos"), None);
    }

    #[test]
    fn the_workspace_lock_pins_wasm_bindgen() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let version = locked_wasm_bindgen(&root).expect("Cargo.lock names wasm-bindgen");
        assert!(version.starts_with("0.2."), "{version}");
    }
}
