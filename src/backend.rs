//! What the browser offers for inference: a WebGPU adapter, or the CPU and the reason why.
//!
//! The inference worker runs [`probe`] when it starts and sends the resulting
//! [`BackendReport`] to the page, which shows it in the backend panel. The report names
//! only what later decides how Ponder runs a model: the adapter's identity, the two
//! optional features our kernels have variants for (`shader-f16`, `subgroups`), and the
//! two limits that decide whether a weight matrix fits one binding.

use std::cell::RefCell;
use std::rc::Rc;

use ponder_gpu::device::AdapterReport;
use ponder_gpu::Gpu;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

/// How long to wait for `requestAdapter` before giving up. Some flag combinations make
/// Chromium's adapter request hang forever instead of failing; the page must not wait
/// forever with it.
pub const ADAPTER_TIMEOUT_MS: i32 = 10_000;

/// The outcome of probing the browser for WebGPU.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum BackendReport {
    /// WebGPU is usable: an adapter and a device were obtained.
    #[serde(rename = "webgpu")]
    WebGpu(AdapterSummary),
    /// No WebGPU; inference runs on the CPU (wasm SIMD) for the stated reason.
    Cpu { reason: String },
}

impl BackendReport {
    /// A one-line label for headers and captions.
    pub fn label(&self) -> String {
        match self {
            BackendReport::WebGpu(a) => {
                format!("WebGPU: {}", a.display_name())
            }
            BackendReport::Cpu { .. } => "no WebGPU: CPU".to_string(),
        }
    }
}

/// The parts of a WebGPU adapter that Ponder's engine cares about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdapterSummary {
    pub vendor: String,
    pub architecture: String,
    pub device: String,
    pub description: String,
    /// Whether the browser marked this as a fallback (software) adapter.
    pub is_fallback: bool,
    /// `shader-f16`: half-precision arithmetic in WGSL; without it we use the f32 kernels.
    pub shader_f16: bool,
    /// `subgroups`: subgroup reductions in WGSL; without it we reduce through workgroup memory.
    pub subgroups: bool,
    /// Every feature the adapter reports, sorted, for the details view.
    pub features: Vec<String>,
    /// The largest storage buffer one binding may cover, in bytes.
    pub max_storage_buffer_binding_size: u64,
    /// The largest buffer that may be created, in bytes.
    pub max_buffer_size: u64,
}

impl AdapterSummary {
    /// "vendor / architecture", falling back to whatever the browser chose to reveal.
    pub fn display_name(&self) -> String {
        let parts: Vec<&str> = [self.vendor.as_str(), self.architecture.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            if self.description.is_empty() {
                "adapter (the browser hides its name)".to_string()
            } else {
                self.description.clone()
            }
        } else {
            parts.join(" / ")
        }
    }
}

/// Formats a byte count the way the panel shows limits: "1 GiB", "128 MiB", "4096 B".
pub fn format_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    const GIB: u64 = 1024 * MIB;
    let (unit, name) = if bytes >= GIB {
        (GIB, "GiB")
    } else if bytes >= MIB {
        (MIB, "MiB")
    } else if bytes >= KIB {
        (KIB, "KiB")
    } else {
        return format!("{bytes} B");
    };
    if bytes % unit == 0 {
        format!("{} {name}", bytes / unit)
    } else {
        format!("{:.1} {name}", bytes as f64 / unit as f64)
    }
}

/// Whether the browser has WebGPU at all (`navigator.gpu`), to say so plainly.
fn has_webgpu() -> bool {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &JsValue::from_str("navigator"))
        .ok()
        .filter(|n| !n.is_undefined() && !n.is_null())
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("gpu")).ok())
        .is_some_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

/// The browser's GPU through Ponder's GPU runtime, giving up after twice
/// [`ADAPTER_TIMEOUT_MS`] (an adapter and a device request), since some browsers never
/// answer.
pub async fn request_gpu() -> Result<Gpu, String> {
    let answer: Rc<RefCell<Option<ponder_gpu::Result<Gpu>>>> = Rc::default();
    let slot = answer.clone();
    let request = wasm_bindgen_futures::future_to_promise(async move {
        *slot.borrow_mut() = Some(Gpu::new().await);
        Ok(JsValue::TRUE)
    });
    let deadline = 2 * ADAPTER_TIMEOUT_MS;
    let waited = with_timeout(request, deadline).await;
    let outcome = answer.borrow_mut().take();
    match (waited, outcome) {
        (Ok(Some(_)), Some(Ok(gpu))) => Ok(gpu),
        (Ok(Some(_)), Some(Err(e))) => Err(e.to_string()),
        (Err(e), _) => Err(describe_js_error(&e)),
        _ => Err(format!(
            "WebGPU gave no device within {} s",
            deadline / 1000
        )),
    }
}

/// Probes WebGPU the way inference will use it: a device from Ponder's GPU runtime, and
/// its self-test (a quantized product the CPU engine computes too, compared bit for bit).
pub async fn probe() -> BackendReport {
    if !has_webgpu() {
        return BackendReport::Cpu {
            reason: "this browser has no WebGPU (navigator.gpu is missing); \
                     use a recent Chrome, Edge, Firefox or Safari over https or localhost"
                .to_string(),
        };
    }
    let gpu = match request_gpu().await {
        Ok(gpu) => gpu,
        Err(reason) => return BackendReport::Cpu { reason },
    };
    if let Err(reason) = ponder_gpu::self_test::check(&gpu).await {
        return BackendReport::Cpu {
            reason: format!("WebGPU is present but failed Ponder's self-test: {reason}"),
        };
    }
    let mut summary = summarize(&gpu.report);
    // wgpu asks for (and reports) only the features it knows; the panel shows what the
    // adapter offers, in the browser's own names.
    if let Some(features) = adapter_features().await {
        summary.shader_f16 = features.iter().any(|f| f == "shader-f16");
        summary.subgroups = features.iter().any(|f| f == "subgroups");
        summary.features = features;
    }
    BackendReport::WebGpu(summary)
}

/// The features `navigator.gpu`'s adapter offers, sorted (`None` if it will not say).
async fn adapter_features() -> Option<Vec<String>> {
    let get =
        |object: &JsValue, key: &str| js_sys::Reflect::get(object, &JsValue::from_str(key)).ok();
    let navigator = get(&js_sys::global(), "navigator")?;
    let gpu = get(&navigator, "gpu")?;
    let request: js_sys::Function = get(&gpu, "requestAdapter")?.dyn_into().ok()?;
    let promise: js_sys::Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
    let adapter = with_timeout(promise, ADAPTER_TIMEOUT_MS).await.ok()??;
    if adapter.is_null() || adapter.is_undefined() {
        return None;
    }
    let set = js_sys::Set::from(get(&adapter, "features")?);
    let mut features: Vec<String> = js_sys::Array::from(&set.keys().into())
        .iter()
        .filter_map(|f| f.as_string())
        .collect();
    features.sort();
    Some(features)
}

/// The panel's summary of what the GPU runtime found.
pub fn summarize(report: &AdapterReport) -> AdapterSummary {
    AdapterSummary {
        vendor: report.vendor.clone(),
        architecture: report.architecture.clone(),
        device: String::new(),
        description: if report.description.is_empty() {
            report.name.clone()
        } else {
            report.description.clone()
        },
        is_fallback: report.is_fallback,
        shader_f16: report.shader_f16,
        subgroups: report.subgroups,
        features: report.features.clone(),
        max_storage_buffer_binding_size: report.max_storage_binding,
        max_buffer_size: report.max_buffer,
    }
}

pub async fn with_timeout(promise: js_sys::Promise, ms: i32) -> Result<Option<JsValue>, JsValue> {
    // The timer resolves to a unique marker object so a promise that itself resolves to
    // `undefined` is not mistaken for a timeout.
    let marker = js_sys::Object::new();
    let marker_for_timer = marker.clone();
    let timer = js_sys::Promise::new(&mut |resolve, _reject| {
        let set_timeout = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("setTimeout"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        if let Some(set_timeout) = set_timeout {
            let fire = resolve.bind1(&JsValue::NULL, &marker_for_timer);
            let _ = set_timeout.call2(&JsValue::NULL, &fire, &JsValue::from(ms));
        }
    });
    let race = js_sys::Promise::race(&js_sys::Array::of2(&promise, &timer));
    let value = wasm_bindgen_futures::JsFuture::from(race).await?;
    if value == JsValue::from(marker) {
        Ok(None)
    } else {
        Ok(Some(value))
    }
}

/// A readable message for a thrown JavaScript value (an `Error`, a string, or anything else).
pub fn describe_js_error(error: &JsValue) -> String {
    if let Some(e) = error.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    if let Some(s) = error.as_string() {
        return s;
    }
    format!("{error:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_shown_in_the_largest_whole_unit() {
        assert_eq!(format_bytes(1 << 30), "1 GiB");
        assert_eq!(format_bytes(128 << 20), "128 MiB");
        assert_eq!(format_bytes(4096), "4 KiB");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(100), "100 B");
    }

    #[test]
    fn reports_round_trip_through_json() {
        let reports = [
            BackendReport::Cpu {
                reason: "no adapter".into(),
            },
            BackendReport::WebGpu(AdapterSummary {
                vendor: "google".into(),
                architecture: "swiftshader".into(),
                device: String::new(),
                description: String::new(),
                is_fallback: false,
                shader_f16: false,
                subgroups: true,
                features: vec!["subgroups".into()],
                max_storage_buffer_binding_size: 1 << 30,
                max_buffer_size: 1 << 30,
            }),
        ];
        for report in reports {
            let json = serde_json::to_string(&report).expect("serializes");
            let back: BackendReport = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, report);
        }
    }

    #[test]
    fn display_name_prefers_vendor_and_architecture() {
        let mut a = AdapterSummary {
            vendor: "google".into(),
            architecture: "swiftshader".into(),
            device: String::new(),
            description: "SwiftShader Device".into(),
            is_fallback: false,
            shader_f16: false,
            subgroups: false,
            features: vec![],
            max_storage_buffer_binding_size: 0,
            max_buffer_size: 0,
        };
        assert_eq!(a.display_name(), "google / swiftshader");
        a.vendor.clear();
        a.architecture.clear();
        assert_eq!(a.display_name(), "SwiftShader Device");
    }
}
