//! Fetching a model file with byte progress, and the checks that turn a failed download
//! into a message a person can act on (which URL, what the server said, what to try).
//!
//! Works in the page and in a worker: it uses the global `fetch` of either scope.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::backend::describe_js_error;

/// GGUF files start with these four bytes.
pub const GGUF_MAGIC: &[u8; 4] = b"GGUF";

/// Whose file a download is, which decides what a failure's message advises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The site's own files (its models, its problem sets).
    Site,
    /// A file at an address a visitor typed.
    Visitor,
}

/// Fetches one of the site's files, calling `progress(loaded, total)` as bytes arrive
/// (`total` when the server sent a length), and returns the body.
pub async fn fetch_bytes(
    url: &str,
    progress: impl FnMut(u64, Option<u64>),
) -> Result<Vec<u8>, String> {
    download(url, Source::Site, |_| Ok(()), progress).await
}

/// Fetches `url` as [`fetch_bytes`] does; `check_size` sees the length the server
/// announced (if any) before the body is read, and may refuse it.
pub async fn download(
    url: &str,
    source: Source,
    check_size: impl FnOnce(Option<u64>) -> Result<(), String>,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<Vec<u8>, String> {
    let global = js_sys::global();
    let promise = if let Some(scope) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        scope.fetch_with_str(url)
    } else if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        window.fetch_with_str(url)
    } else {
        return Err("this browser offers no fetch in this context".into());
    };
    let response: web_sys::Response = JsFuture::from(promise)
        .await
        .map_err(|e| match source {
            Source::Site => format!(
                "could not reach {url} ({}): check the connection, or that the site is \
                 still being served",
                describe_js_error(&e)
            ),
            // A browser reports a CORS refusal exactly as an unreachable server.
            Source::Visitor => format!(
                "could not download {url} ({}): the address does not answer, or its server \
                 does not let other sites read the file (it must send \
                 Access-Control-Allow-Origin, and many hosts do not). Download the file \
                 and choose it with \"Choose a file\" instead",
                describe_js_error(&e)
            ),
        })?
        .dyn_into()
        .map_err(|_| format!("fetching {url} gave something that is not a response"))?;
    if !response.ok() {
        let status = response.status();
        let hint = match (status, source) {
            (404, Source::Site) => "the file is not on the server: the site may have been deployed without its models/ folder",
            (404, Source::Visitor) => "nothing is at that address; check it for typos",
            (403, _) => "the server refused it",
            (500..=599, _) => "the server failed; try again in a moment",
            _ => "the server did not send the file",
        };
        return Err(format!(
            "{url} answered HTTP {status} {}: {hint}",
            response.status_text()
        ));
    }
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    check_size(total)?;
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("cannot read the body of {url} in this browser"))?;
    let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(1 << 30) as usize);
    progress(0, total);
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|e| {
            format!(
                "the download of {url} broke off after {} bytes ({}); try again",
                bytes.len(),
                describe_js_error(&e)
            )
        })?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let value = js_sys::Reflect::get(&chunk, &JsValue::from_str("value"))
            .map_err(|_| format!("the download of {url} sent an unreadable chunk"))?;
        let array: js_sys::Uint8Array = value
            .dyn_into()
            .map_err(|_| format!("the download of {url} sent a chunk that is not bytes"))?;
        let start = bytes.len();
        bytes.resize(start + array.length() as usize, 0);
        array.copy_to(&mut bytes[start..]);
        progress(bytes.len() as u64, total);
    }
    Ok(bytes)
}

/// Says why `bytes` from `url` cannot be a GGUF model, when its first bytes show it.
pub fn check_gguf(url: &str, bytes: &[u8]) -> Result<(), String> {
    if bytes.starts_with(GGUF_MAGIC) {
        return Ok(());
    }
    let head: String = String::from_utf8_lossy(&bytes[..bytes.len().min(24)])
        .chars()
        .map(|c| if c.is_control() { '·' } else { c })
        .collect();
    let looks_like_html = head.trim_start().starts_with('<');
    Err(format!(
        "{url} is not a GGUF model file: it begins with {head:?} instead of \"GGUF\"{}",
        if looks_like_html {
            " (the server sent a web page, as some hosts do for missing files)"
        } else {
            ""
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_web_page_is_named_as_one() {
        let err = check_gguf("x/ponder-s.gguf", b"<!doctype html><html>").unwrap_err();
        assert!(err.contains("not a GGUF model file"), "{err}");
        assert!(err.contains("sent a web page"), "{err}");
        assert!(check_gguf("x", b"GGUF\x03\0\0\0").is_ok());
        let err = check_gguf("x", b"").unwrap_err();
        assert!(!err.contains("web page"), "{err}");
    }
}
