//! Models a visitor brings: a GGUF file by address or from their disk, checked by the
//! same reader the engines use, kept in the browser's Cache Storage (removable), within
//! the storage the browser grants the site and the memory the device reports.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::backend::{describe_js_error, format_bytes};
use crate::race_controller::site_url;

/// The cache that keeps visitors' models, apart from the service worker's release caches.
const CACHE: &str = "ponder-own-models";
/// The header a kept file's display name travels in.
const NAME_HEADER: &str = "x-ponder-name";

/// A kept model: where it came from (its address, or the cache's key for a chosen file),
/// what the page calls it, and its size.
#[derive(Clone, Debug, PartialEq)]
pub struct KeptModel {
    pub key: String,
    pub name: String,
    pub bytes: u64,
}

/// The storage the browser gives the site: used and granted, in bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Storage {
    pub usage: f64,
    pub quota: f64,
}

/// The cache key of a file chosen from disk: an address under the site that nothing
/// serves, since Cache Storage keys are web addresses.
pub fn file_key(name: &str) -> String {
    site_url(&format!(
        "own-models/{}",
        String::from(js_sys::encode_uri_component(name))
    ))
}

/// The file name in a key of a file chosen from disk ([`file_key`]), on the site the page or
/// its worker runs from; `None` for any other address. Such a key names a file kept in one
/// browser's storage: a link carrying it opens elsewhere without the file.
pub fn disk_file_name(key: &str) -> Option<String> {
    let url = web_sys::Url::new(key).ok()?;
    let location = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("location")).ok()?;
    let origin = js_sys::Reflect::get(&location, &JsValue::from_str("origin"))
        .ok()?
        .as_string()?;
    if url.origin() != origin {
        return None;
    }
    let path = url.pathname();
    let (_, name) = path.rsplit_once("/own-models/")?;
    js_sys::decode_uri_component(name).ok().map(String::from)
}

/// Why a file of `bytes` cannot be taken, if it cannot: more than this device can hold
/// with the page, or more than the site's free storage (`storage`, when the browser says).
pub fn refusal(bytes: u64, storage: Option<Storage>) -> Option<String> {
    too_big_for_memory(bytes).or_else(|| storage.and_then(|s| s.refuses(bytes)))
}

/// A file of `bytes` that this device cannot hold with the page: the engines keep the
/// file and their own copy of its weights, so about twice its size must fit in the memory
/// the browser reports (`navigator.deviceMemory`, in GB; absent in some browsers).
fn too_big_for_memory(bytes: u64) -> Option<String> {
    let navigator = web_sys::window()?.navigator();
    let gigabytes = js_sys::Reflect::get(&navigator, &JsValue::from_str("deviceMemory"))
        .ok()?
        .as_f64()?;
    let memory = gigabytes * 1e9;
    (2.0 * bytes as f64 > memory).then(|| {
        format!(
            "this file is {}, and the page needs about twice that in memory, but this device \
             reports {} GB: choose a smaller model (fewer parameters or a smaller quantization)",
            format_bytes(bytes),
            gigabytes
        )
    })
}

/// The site's storage now, if the browser says.
pub async fn storage() -> Option<Storage> {
    let manager = web_sys::window()?.navigator().storage();
    let estimate = JsFuture::from(manager.estimate().ok()?).await.ok()?;
    let number = |key: &str| {
        js_sys::Reflect::get(&estimate, &JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_f64())
    };
    Some(Storage {
        usage: number("usage").unwrap_or(0.0),
        quota: number("quota")?,
    })
}

impl Storage {
    /// Why a file of `bytes` cannot be kept, if the free space is too small for it.
    fn refuses(&self, bytes: u64) -> Option<String> {
        let free = (self.quota - self.usage).max(0.0);
        (bytes as f64 > free).then(|| {
            format!(
                "this file is {}, larger than the space this browser gives the site ({} free of {}): \
                 free some space (remove kept models below, or clear the site's data) or choose a \
                 smaller model",
                format_bytes(bytes),
                format_bytes(free as u64),
                format_bytes(self.quota as u64)
            )
        })
    }
}

async fn cache() -> Result<web_sys::Cache, String> {
    // The page and the workers share the site's Cache Storage.
    let global = js_sys::global();
    let caches = match global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        Some(scope) => scope.caches(),
        None => global
            .dyn_ref::<web_sys::Window>()
            .ok_or_else(|| JsValue::from_str("no window"))
            .and_then(|w| w.caches()),
    }
    .map_err(|e| {
        format!(
            "this browser keeps no files for the site ({})",
            describe_js_error(&e)
        )
    })?;
    JsFuture::from(caches.open(CACHE))
        .await
        .map(|c| c.unchecked_into())
        .map_err(|e| {
            format!(
                "cannot open the site's model cache ({})",
                describe_js_error(&e)
            )
        })
}

/// Keeps `bytes` under `key` with the display name `name`.
pub async fn keep(key: &str, name: &str, bytes: &[u8]) -> Result<(), String> {
    let cache = cache().await?;
    let headers = web_sys::Headers::new().map_err(|e| describe_js_error(&e))?;
    let _ = headers.set("content-type", "application/octet-stream");
    let _ = headers.set(
        NAME_HEADER,
        &String::from(js_sys::encode_uri_component(name)),
    );
    let init = web_sys::ResponseInit::new();
    init.set_headers(&headers);
    let body = js_sys::Uint8Array::from(bytes);
    let response = web_sys::Response::new_with_opt_buffer_source_and_init(Some(&body), &init)
        .map_err(|e| describe_js_error(&e))?;
    JsFuture::from(cache.put_with_str(key, &response))
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "the model could not be kept in this browser ({})",
                describe_js_error(&e)
            )
        })
}

/// The kept models, in the cache's order.
pub async fn kept() -> Result<Vec<KeptModel>, String> {
    let cache = cache().await?;
    let requests: js_sys::Array = JsFuture::from(cache.keys())
        .await
        .map_err(|e| describe_js_error(&e))?
        .unchecked_into();
    let mut out = Vec::new();
    for request in requests.iter() {
        let request: web_sys::Request = request.unchecked_into();
        let key = request.url();
        let Ok(found) = JsFuture::from(cache.match_with_str(&key)).await else {
            continue;
        };
        let Ok(response) = found.dyn_into::<web_sys::Response>() else {
            continue;
        };
        let name = response
            .headers()
            .get(NAME_HEADER)
            .ok()
            .flatten()
            .and_then(|n| js_sys::decode_uri_component(&n).ok())
            .map(String::from)
            .unwrap_or_else(|| key.clone());
        let bytes = match response.blob() {
            Ok(promise) => JsFuture::from(promise)
                .await
                .ok()
                .map(|b| b.unchecked_into::<web_sys::Blob>().size() as u64)
                .unwrap_or(0),
            Err(_) => 0,
        };
        out.push(KeptModel { key, name, bytes });
    }
    Ok(out)
}

/// The kept file under `key`.
pub async fn read(key: &str) -> Result<Vec<u8>, String> {
    let cache = cache().await?;
    let found = JsFuture::from(cache.match_with_str(key))
        .await
        .map_err(|e| describe_js_error(&e))?;
    let response: web_sys::Response = found
        .dyn_into()
        .map_err(|_| "this model is no longer kept in the browser".to_string())?;
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| describe_js_error(&e))?)
        .await
        .map_err(|e| describe_js_error(&e))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Forgets the kept file under `key`.
pub async fn remove(key: &str) -> Result<(), String> {
    let cache = cache().await?;
    JsFuture::from(cache.delete_with_str(key))
        .await
        .map(|_| ())
        .map_err(|e| format!("could not remove it ({})", describe_js_error(&e)))
}

/// The bytes of a file chosen from disk.
pub async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer()).await.map_err(|e| {
        format!(
            "{} could not be read ({})",
            file.name(),
            describe_js_error(&e)
        )
    })?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}
