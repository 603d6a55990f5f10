//! `cargo xtask release [DIR]`: writes the built site's release manifest into its service
//! worker (`DIR/sw.js`, from `public/sw.js`). Trunk runs it after every build (the hook in
//! `Trunk.toml`, on its staging folder), so `trunk build` alone makes a complete site.
//!
//! The manifest names every file the service worker keeps for offline visits, with its
//! SHA-256, and an id made from them. A new release therefore has a new `sw.js`, which the
//! browser installs beside the old one; installing fetches the whole release into a cache
//! named by the id and checks every file against its digest, so the cache switches only to
//! a complete release, never to a mix of two (see `public/sw.js`).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// The service worker's file, at the site's root.
pub const SERVICE_WORKER: &str = "sw.js";

/// The line of `sw.js` that holds the manifest; the build replaces the whole line.
const MANIFEST_LINE: &str = "const RELEASE = ";

/// Files of the site the service worker does not keep for offline visits: the larger
/// model L (10.7 MB, which only the Models view's card of L reads, and no race runs yet),
/// so that a first visit does not download it for nothing; offline, that one card says
/// it cannot be read. Keep it once a race runs L.
const NOT_KEPT: [&str; 1] = ["models/ponder-l.gguf"];

/// One kept file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the site's root, with `/` between folders.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// A release: its id and its files, sorted by path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub id: String,
    pub files: Vec<Entry>,
}

/// `cargo xtask release [DIR]`: DIR, or Trunk's staging folder when run as its hook.
pub fn command(args: &[String]) -> Result<()> {
    let dir = match args {
        [dir] => PathBuf::from(dir),
        [] => std::env::var_os("TRUNK_STAGING_DIR")
            .map(PathBuf::from)
            .context("name the built site's folder (cargo xtask release DIR), or run this as Trunk's post_build hook")?,
        _ => bail!("release takes one folder, the built site"),
    };
    let manifest = write(&dir)?;
    let compressed = compress(&dir)?;
    eprintln!("{compressed} files also written gzip-compressed (.gz), for hosts that serve them");
    eprintln!(
        "release {}: {} files kept for offline visits, written into {}",
        manifest.id,
        manifest.files.len(),
        dir.join(SERVICE_WORKER).display()
    );
    Ok(())
}

/// Reads the site in `dir` and writes its manifest into `dir/sw.js`.
pub fn write(dir: &Path) -> Result<Manifest> {
    let manifest = read(dir)?;
    let sw = dir.join(SERVICE_WORKER);
    let text = fs::read_to_string(&sw)
        .with_context(|| format!("the built site has no readable {}", sw.display()))?;
    let written = with_manifest(&text, &manifest)
        .with_context(|| format!("cannot write the release manifest into {}", sw.display()))?;
    fs::write(&sw, written).with_context(|| format!("writing {}", sw.display()))?;
    Ok(manifest)
}

/// The manifest of the site in `dir`: every file but the service worker itself and
/// [`NOT_KEPT`].
pub fn read(dir: &Path) -> Result<Manifest> {
    let mut paths = Vec::new();
    walk(dir, dir, &mut paths)?;
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        // A `.gz` is the same file for the server to send compressed, not one of its own.
        if path == SERVICE_WORKER || NOT_KEPT.contains(&path.as_str()) || path.ends_with(".gz") {
            continue;
        }
        let bytes = fs::read(dir.join(&path)).with_context(|| format!("reading {path}"))?;
        files.push(Entry {
            sha256: hex(&Sha256::digest(&bytes)),
            bytes: bytes.len() as u64,
            path,
        });
    }
    if !files.iter().any(|f| f.path == "index.html") {
        bail!("{} holds no index.html: is it a built site?", dir.display());
    }
    // The id covers every path and digest, so any change to any kept file is a new
    // release (and a new sw.js for the browser to install).
    let mut all = Sha256::new();
    for f in &files {
        all.update(format!("{} {}\n", f.path, f.sha256).as_bytes());
    }
    let id = hex(&all.finalize())[..16].to_string();
    Ok(Manifest { id, files })
}

/// Kinds of file worth compressing: text and wasm (the models' quantized weights and the
/// images gain little).
const COMPRESSED: [&str; 8] = ["wasm", "js", "css", "html", "json", "svg", "md", "txt"];

/// Writes `FILE.gz` beside each file of those kinds over 1 KiB (the service worker's
/// `sw.js` too), so that a host that serves precompressed files (ours, nginx's
/// `gzip_static`, most static hosts) sends the 3.9 MB app as about a third of that.
/// Returns how many were written.
pub fn compress(dir: &Path) -> Result<usize> {
    use std::io::Write as _;
    let mut paths = Vec::new();
    walk(dir, dir, &mut paths)?;
    let mut written = 0;
    for path in paths {
        let kind = Path::new(&path)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        if !COMPRESSED.contains(&kind) {
            continue;
        }
        let file = dir.join(&path);
        let bytes = fs::read(&file).with_context(|| format!("reading {path}"))?;
        if bytes.len() < 1024 {
            continue;
        }
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&bytes)?;
        let gz = encoder.finish()?;
        let target = dir.join(format!("{path}.gz"));
        fs::write(&target, gz).with_context(|| format!("writing {}", target.display()))?;
        written += 1;
    }
    Ok(written)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else {
            let relative = path.strip_prefix(root)?;
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `sw.js`'s text with its manifest line replaced by `manifest`.
pub fn with_manifest(sw: &str, manifest: &Manifest) -> Result<String> {
    let lines = sw.lines().filter(|l| l.starts_with(MANIFEST_LINE)).count();
    if lines != 1 {
        bail!("expected one line starting `{MANIFEST_LINE}`, found {lines}");
    }
    let files: Vec<serde_json::Value> = manifest
        .files
        .iter()
        .map(|f| serde_json::json!({ "path": f.path, "sha256": f.sha256, "bytes": f.bytes }))
        .collect();
    let json = serde_json::json!({ "id": manifest.id, "files": files });
    let mut out = String::with_capacity(sw.len() + json.to_string().len());
    for line in sw.lines() {
        if line.starts_with(MANIFEST_LINE) {
            out.push_str(&format!("{MANIFEST_LINE}{json};"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("ponder-release-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("models")).unwrap();
        fs::write(dir.join("index.html"), "<p>home</p>").unwrap();
        fs::write(dir.join("worker.js"), "// worker").unwrap();
        fs::write(dir.join("models/ponder-s.gguf"), [1u8, 2, 3]).unwrap();
        fs::write(dir.join("models/ponder-l.gguf"), [9u8; 4]).unwrap();
        let public_sw = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/sw.js");
        fs::copy(public_sw, dir.join(SERVICE_WORKER)).unwrap();
        dir
    }

    #[test]
    fn the_manifest_lists_every_kept_file_with_its_digest() {
        let dir = site("list");
        let m = write(&dir).unwrap();
        let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["index.html", "models/ponder-s.gguf", "worker.js"]);
        // SHA-256 of the bytes 1, 2, 3 (as `printf '\x01\x02\x03' | sha256sum` says).
        assert_eq!(
            m.files[1].sha256,
            "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81"
        );
        assert_eq!(m.files[1].bytes, 3);
        let sw = fs::read_to_string(dir.join(SERVICE_WORKER)).unwrap();
        assert!(sw.contains(&format!("\"id\":\"{}\"", m.id)), "{sw}");
        assert!(sw.contains("\"path\":\"models/ponder-s.gguf\""));
        assert!(!sw.contains("ponder-l.gguf"));
    }

    #[test]
    fn writing_again_is_the_same_release_and_any_change_is_a_new_one() {
        let dir = site("again");
        let first = write(&dir).unwrap();
        let sw = fs::read_to_string(dir.join(SERVICE_WORKER)).unwrap();
        // The manifest does not count itself: writing it twice changes nothing.
        assert_eq!(write(&dir).unwrap(), first);
        assert_eq!(fs::read_to_string(dir.join(SERVICE_WORKER)).unwrap(), sw);
        fs::write(dir.join("worker.js"), "// worker, changed").unwrap();
        assert_ne!(write(&dir).unwrap().id, first.id);
        // A file the service worker does not keep is not part of the release.
        let before = read(&dir).unwrap();
        fs::write(dir.join("models/ponder-l.gguf"), [7u8; 4]).unwrap();
        assert_eq!(read(&dir).unwrap(), before);
    }

    #[test]
    fn a_service_worker_without_its_manifest_line_is_refused() {
        let m = Manifest {
            id: "x".into(),
            files: Vec::new(),
        };
        assert!(with_manifest("self.addEventListener('fetch', f);\n", &m).is_err());
        let twice = format!("{MANIFEST_LINE}1;\n{MANIFEST_LINE}2;\n");
        assert!(with_manifest(&twice, &m).is_err());
    }

    #[test]
    fn compressed_copies_inflate_to_the_files_and_stay_out_of_the_manifest() {
        use std::io::Read as _;
        let dir = std::env::temp_dir().join(format!("ponder-gz-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let big = "let x = 1;\n".repeat(500);
        fs::write(dir.join("index.html"), "<p>small</p>").unwrap();
        fs::write(dir.join("app.js"), &big).unwrap();
        fs::write(dir.join("model.gguf"), vec![7u8; 4096]).unwrap();
        assert_eq!(compress(&dir).unwrap(), 1, "only app.js is text over 1 KiB");
        let mut inflated = String::new();
        flate2::read::GzDecoder::new(fs::File::open(dir.join("app.js.gz")).unwrap())
            .read_to_string(&mut inflated)
            .unwrap();
        assert_eq!(inflated, big);
        let manifest = read(&dir).unwrap();
        assert!(manifest.files.iter().all(|f| !f.path.ends_with(".gz")));
        let _ = fs::remove_dir_all(&dir);
    }
}
