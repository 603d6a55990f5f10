//! Ponder's developer commands, run as `cargo xtask <command>`:
//!
//! - `serve`: install what is missing, build the site in release mode, serve it on
//!   http://127.0.0.1:8080/ (options: `--port N`, `--public-url /path/`);
//! - `test`: install what is missing and run every test layer, ending with a summary line
//!   (`test e2e`, `test native browser`: those layers; `test e2e offline.test.mjs`: those
//!   end-to-end files);
//! - `release DIR`: write a built site's release manifest into its service worker (Trunk
//!   runs it after every build);
//! - `bench`: the model runtime's speed and memory, natively and in the browser beside wllama,
//!   and the Compare view's race in the browser (`bench compare`: that part alone).

mod bench;
mod lighthouse;
mod llama_cpp;
mod release;
mod setup;
mod shell;
mod site;
mod static_server;
mod summary;
mod test_layers;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  serve [--port N] [--public-url /path/]   build the site and serve it on 127.0.0.1
  test [LAYER]... [FILE.test.mjs]...       run every test layer (native, browser, e2e), or the
                                           layers named; files name end-to-end tests to run alone
  release [DIR]                            write a built site's release manifest into DIR/sw.js
                                           (Trunk's post-build hook; DIR defaults to its staging folder)
  bench                                    measure the model runtime natively and in Chromium, beside wllama,
                                           and the Compare view's race in Chromium
  bench compare                            only the Compare view's race (cold, warm, against ponder run)
  bench gpu                                only the GPU engine's decode speed beside the CPU engine's
  bench lighthouse                         only Lighthouse's scores for the Compare view (release build)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(args: &[String]) -> Result<bool> {
    let root = workspace_root();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&root, &args[1..]).map(|_| true),
        Some("test") => test_layers::run(&root, &args[1..]),
        Some("release") => release::command(&args[1..]).map(|_| true),
        Some("bench") => match args.get(1).map(String::as_str) {
            None => bench::run_all(&root).map(|_| true),
            Some("compare") => bench::compare_only(&root).map(|_| true),
            Some("gpu") => bench::gpu_only(&root).map(|_| true),
            Some("lighthouse") => {
                lighthouse::measure(&root, &bench::target_dir(&root).join("bench")).map(|_| true)
            }
            Some(other) => bail!("unknown bench part `{other}`\n\n{USAGE}"),
        },
        Some("help") | Some("--help") | Some("-h") | None => {
            println!("{USAGE}");
            Ok(true)
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

fn serve(root: &Path, args: &[String]) -> Result<()> {
    let mut port: u16 = 8080;
    let mut public_url: Option<String> = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--port" => {
                let value = rest.next().context("--port needs a number")?;
                port = value
                    .parse()
                    .with_context(|| format!("--port {value} is not a port number"))?;
            }
            "--public-url" => {
                public_url = Some(rest.next().context("--public-url needs a path")?.clone());
            }
            other => bail!("unknown option `{other}` for serve\n\n{USAGE}"),
        }
    }
    setup::site_tools(root)?;
    let dist = site::build(root, public_url.as_deref())?;
    serve_smollm2(&dist);
    let prefix = public_url.as_deref().unwrap_or("/");
    let server = static_server::start(&dist, port, prefix)?;
    println!("Ponder is served at {}  (Ctrl-C to stop)", server.url());
    loop {
        std::thread::park();
    }
}

/// Links SmolLM2 from set-up's cache into the served site, where the Models view's preset
/// looks for it (`models/extra/`); the release files and the offline cache leave it out.
/// Without it (no pip, no network on a first run) the site is served all the same.
fn serve_smollm2(dist: &Path) {
    let linked = setup::smollm2().and_then(|()| {
        let extra = dist.join("models/extra");
        std::fs::create_dir_all(&extra)?;
        let link = extra.join(setup::SMOLLM2_FILE);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(setup::model_cache().join(setup::SMOLLM2_FILE), &link)?;
        Ok(())
    });
    if let Err(e) = linked {
        eprintln!("note: the Models view's SmolLM2 preset is not served: {e:#}");
    }
}

fn workspace_root() -> PathBuf {
    // xtask lives one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
