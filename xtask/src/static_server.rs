//! A small static file server for the built site: what any static host does, and nothing
//! more (no rewrites, no fallbacks), so that serving `dist/` here proves the site works on
//! plain static hosting. It can mount the site under a sub-path, as a project page would be.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::thread;

use anyhow::{Context, Result};

/// A server running on a background thread.
pub struct StaticServer {
    pub addr: SocketAddr,
    pub prefix: String,
}

impl StaticServer {
    /// The full URL of the site's root.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.prefix)
    }
}

/// Serves `root` at `http://127.0.0.1:port{prefix}` (port 0 picks a free one). `prefix`
/// starts and ends with `/`.
pub fn start(root: &Path, port: u16, prefix: &str) -> Result<StaticServer> {
    let listener = TcpListener::bind(("127.0.0.1", port)).with_context(|| {
        format!(
            "could not listen on 127.0.0.1:{port}; is the port in use? Pick another with --port"
        )
    })?;
    let addr = listener.local_addr()?;
    let root = root
        .canonicalize()
        .with_context(|| format!("the site folder {} does not exist", root.display()))?;
    let prefix = normalize_prefix(prefix);
    let served_prefix = prefix.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            let prefix = served_prefix.clone();
            thread::spawn(move || {
                let _ = handle(stream, &root, &prefix);
            });
        }
    });
    Ok(StaticServer { addr, prefix })
}

fn normalize_prefix(prefix: &str) -> String {
    let trimmed = prefix.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        format!("/{trimmed}/")
    }
}

fn handle(stream: TcpStream, root: &Path, prefix: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Of the headers, only whether the browser takes gzip matters here.
    let mut gzip = false;
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("accept-encoding:") {
            gzip |= value.split(',').any(|e| e.trim().starts_with("gzip"));
        }
        line.clear();
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("/");
    let mut stream = stream;
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            405,
            "text/plain",
            b"method not allowed\n",
            method == "HEAD",
        );
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let Some(file) = resolve(root, prefix, path) else {
        return respond(
            &mut stream,
            404,
            "text/plain",
            b"not found\n",
            method == "HEAD",
        );
    };
    // A precompressed copy beside the file (`xtask release` writes them) is sent when the
    // browser takes gzip, as static hosts do.
    let compressed = PathBuf::from(format!("{}.gz", file.display()));
    if gzip && compressed.is_file() {
        if let Ok(body) = fs::read(&compressed) {
            return respond_with(
                &mut stream,
                200,
                content_type(&file),
                &body,
                method == "HEAD",
                "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n",
            );
        }
    }
    match fs::read(&file) {
        Ok(body) => respond(
            &mut stream,
            200,
            content_type(&file),
            &body,
            method == "HEAD",
        ),
        Err(_) => respond(
            &mut stream,
            404,
            "text/plain",
            b"not found\n",
            method == "HEAD",
        ),
    }
}

/// Maps a request path to a file under `root`, refusing anything outside it.
pub fn resolve(root: &Path, prefix: &str, request_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(request_path)?;
    let rest = if decoded == prefix.trim_end_matches('/') {
        ""
    } else {
        decoded.strip_prefix(prefix)?
    };
    let mut file = root.to_path_buf();
    for component in Path::new(rest).components() {
        match component {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            // `..`, absolute parts and drive prefixes would escape the root.
            _ => return None,
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        // Browsers compile wasm while it streams only when it has this type.
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    respond_with(stream, status, content_type, body, head_only, "")
}

/// [`respond`] with `extra` header lines (each ending in CRLF).
fn respond_with(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    head_only: bool,
    extra: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         {extra}Cache-Control: no-cache\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn site() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ponder-static-{}", std::process::id()));
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(dir.join("index.html"), "<p>home</p>").unwrap();
        fs::write(dir.join("app.wasm"), [0u8, 97, 115, 109]).unwrap();
        fs::write(dir.join("sub/a b.txt"), "spaced").unwrap();
        dir
    }

    fn get(server: &StaticServer, path: &str) -> String {
        let mut s = TcpStream::connect(server.addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn serves_files_under_the_prefix_with_their_types() {
        let root = site();
        let server = start(&root, 0, "/deep/path").unwrap();
        assert_eq!(server.prefix, "/deep/path/");
        let home = get(&server, "/deep/path/?view=about");
        assert!(home.starts_with("HTTP/1.1 200"), "{home}");
        assert!(home.contains("<p>home</p>"));
        assert!(get(&server, "/deep/path").starts_with("HTTP/1.1 200"));
        assert!(get(&server, "/deep/path/app.wasm").contains("application/wasm"));
        assert!(get(&server, "/deep/path/sub/a%20b.txt").ends_with("spaced"));
        assert!(get(&server, "/app.wasm").starts_with("HTTP/1.1 404"));
    }

    #[test]
    fn sends_the_precompressed_copy_only_to_a_browser_that_takes_gzip() {
        let root = std::env::temp_dir().join(format!("ponder-static-gz-{}", std::process::id()));
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("index.html"), "<p>home</p>").unwrap();
        fs::write(root.join("app.js"), "plain").unwrap();
        fs::write(root.join("app.js.gz"), "GZ").unwrap();
        let server = start(&root, 0, "/").unwrap();
        let mut s = TcpStream::connect(server.addr).unwrap();
        write!(
            s,
            "GET /app.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, gzip;q=0.9\r\n\r\n"
        )
        .unwrap();
        let mut zipped = String::new();
        s.read_to_string(&mut zipped).unwrap();
        assert!(zipped.contains("Content-Encoding: gzip"), "{zipped}");
        assert!(
            zipped.contains("text/javascript") && zipped.ends_with("GZ"),
            "{zipped}"
        );
        let plain = get(&server, "/app.js");
        assert!(
            !plain.contains("Content-Encoding") && plain.ends_with("plain"),
            "{plain}"
        );
    }

    #[test]
    fn refuses_to_leave_the_root() {
        let root = site();
        assert!(resolve(&root, "/", "/../etc/passwd").is_none());
        assert!(resolve(&root, "/", "/%2e%2e/etc/passwd").is_none());
        assert!(resolve(&root, "/", "/sub/../index.html").is_none());
        assert!(resolve(&root, "/", "/%zz").is_none());
        assert_eq!(resolve(&root, "/", "/"), Some(root.join("index.html")));
    }
}
