//! Building the site with Trunk.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::shell::run;

/// `trunk build --release` into `dist/`; returns the folder.
pub fn build_release(root: &Path) -> Result<PathBuf> {
    build(root, None)
}

/// Builds the release site, optionally for an absolute public URL (default: relative,
/// which works under any path).
pub fn build(root: &Path, public_url: Option<&str>) -> Result<PathBuf> {
    let mut cmd = Command::new("trunk");
    cmd.args(["build", "--release"]).current_dir(root);
    if let Some(url) = public_url {
        cmd.args(["--public-url", url]);
    }
    run(&mut cmd).context("the site did not build; the messages above say why")?;
    let dist = root.join("dist");
    anyhow::ensure!(
        dist.join("index.html").is_file(),
        "trunk finished but {} has no index.html",
        dist.display()
    );
    Ok(dist)
}
