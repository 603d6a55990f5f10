//! The GPU as the kernels see it: a device and queue, what the adapter offers, and the
//! limits asked for.
//!
//! Ponder asks for the adapter's own limits rather than WebGPU's defaults: the defaults
//! cap a storage binding at 128 MiB, which a real model's embedding can pass while the
//! hardware allows far more. Features the kernels can use (`shader-f16`, `subgroups`) are
//! requested only where offered, and recorded so each kernel picks its variant.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{GpuError, Result};
use crate::kernels::qmatmul::Layout;

/// What the adapter is and offers, for the page's report and the tests' logs.
#[derive(Clone, Debug, PartialEq)]
pub struct AdapterReport {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    /// The browser's `GPUAdapterInfo` (empty natively, where `name` says it all).
    pub vendor: String,
    pub architecture: String,
    pub description: String,
    /// A software or fallback adapter.
    pub is_fallback: bool,
    /// Every feature the adapter offers, in WebGPU's names where it has one.
    pub features: Vec<String>,
    pub shader_f16: bool,
    pub subgroups: bool,
    pub max_storage_binding: u64,
    pub max_buffer: u64,
}

impl AdapterReport {
    /// A GPU emulated on the CPU: a fallback adapter, a CPU-type device, or one of the
    /// software rasterizers by name (a browser need not flag SwiftShader as a fallback,
    /// and WebGPU reports no device type).
    pub fn is_software(&self) -> bool {
        let named = [&self.name, &self.architecture, &self.description]
            .iter()
            .any(|text| {
                let text = text.to_ascii_lowercase();
                ["swiftshader", "llvmpipe", "lavapipe"]
                    .iter()
                    .any(|soft| text.contains(soft))
            });
        self.is_fallback || self.device_type == "Cpu" || named
    }
}

/// A wgpu feature's name as WebGPU spells it (`SHADER_F16` is `shader-f16`).
fn feature_name(name: &str) -> String {
    match name {
        "SUBGROUP" => "subgroups".into(),
        other => other.to_ascii_lowercase().replace('_', "-"),
    }
}

/// The browser's adapter info, read from the device wgpu made (one code path for WebGPU).
#[cfg(target_arch = "wasm32")]
fn browser_info(device: &wgpu::Device) -> Option<([String; 3], bool, Vec<String>)> {
    use wasm_bindgen::JsValue;
    let device: &JsValue = device.as_webgpu()?.as_ref();
    let get =
        |object: &JsValue, key: &str| js_sys::Reflect::get(object, &JsValue::from_str(key)).ok();
    let info = get(device, "adapterInfo")?;
    let text = |key: &str| {
        get(&info, key)
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let fallback = get(&info, "isFallbackAdapter")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let mut features: Vec<String> = get(device, "features")
        .map(|set| {
            js_sys::Array::from(&js_sys::Set::from(set).keys().into())
                .iter()
                .filter_map(|f| f.as_string())
                .collect()
        })
        .unwrap_or_default();
    features.sort();
    Some((
        [text("vendor"), text("architecture"), text("description")],
        fallback,
        features,
    ))
}

/// A device ready for Ponder's kernels.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub report: AdapterReport,
    /// Set when the device is lost (a driver reset, memory pressure, a closed tab's GPU
    /// process): every later call fails with this reason instead of returning garbage.
    lost: Arc<Mutex<Option<String>>>,
    /// Compiled pipelines by their WGSL source: the models on one device share their
    /// kernels, so a second model compiles none (seconds on a software GPU).
    pub(crate) pipelines: Mutex<HashMap<String, (wgpu::ComputePipeline, wgpu::BindGroupLayout)>>,
    /// How the quantized products spread their work (the same numbers either way): chosen
    /// for the adapter, and set by the tests to check both.
    pub product_layout: Layout,
}

impl Gpu {
    /// The first adapter of the platform's backends (Vulkan, Metal or DX12 natively,
    /// WebGPU in the browser), with its own limits.
    pub async fn new() -> Result<Gpu> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::PRIMARY,
            ..wgpu::InstanceDescriptor::new_without_display_handle_from_env()
        });
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let offered = adapter.features();
        let wanted = (wgpu::Features::SHADER_F16 | wgpu::Features::SUBGROUP) & offered;
        let limits = adapter.limits();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("ponder"),
                required_features: wanted,
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoDevice(e.to_string()))?;
        let lost = Arc::new(Mutex::new(None));
        let flag = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut lost) = flag.lock() {
                *lost = Some(format!("{reason:?}: {message}"));
            }
        });
        // An error no scope caught (out of memory mid-run, say) would otherwise panic;
        // it is kept instead, and every later call fails with it, so the engine's caller
        // can hand the work to the CPU.
        let flag = lost.clone();
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            if let Ok(mut lost) = flag.lock() {
                lost.get_or_insert_with(|| format!("GPU error: {error}"));
            }
        }));
        let mut features: Vec<String> =
            offered.iter_names().map(|(n, _)| feature_name(n)).collect();
        features.sort();
        #[cfg_attr(not(target_arch = "wasm32"), allow(unused_mut))]
        let mut identity = [String::new(), String::new(), String::new()];
        #[cfg_attr(not(target_arch = "wasm32"), allow(unused_mut))]
        let mut is_fallback = info.device_type == wgpu::DeviceType::Cpu;
        #[cfg(target_arch = "wasm32")]
        if let Some((browser, fallback, browser_features)) = browser_info(&device) {
            // The device reports the features it was given; the adapter's, asked for in
            // full above, are the browser's names for the same set.
            identity = browser;
            is_fallback = fallback;
            if !browser_features.is_empty() {
                features = browser_features;
            }
        }
        let [vendor, architecture, description] = identity;
        let report = AdapterReport {
            name: info.name,
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            vendor,
            architecture,
            description,
            is_fallback,
            features,
            shader_f16: wanted.contains(wgpu::Features::SHADER_F16),
            subgroups: wanted.contains(wgpu::Features::SUBGROUP),
            max_storage_binding: limits.max_storage_buffer_binding_size,
            max_buffer: limits.max_buffer_size,
        };
        Ok(Gpu {
            product_layout: Layout::for_adapter(&report),
            report,
            device,
            queue,
            lost,
            pipelines: Mutex::new(HashMap::new()),
        })
    }

    /// [`Gpu::new`], waiting for it (native only: the browser cannot block).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking() -> Result<Gpu> {
        pollster::block_on(Gpu::new())
    }

    /// Fails if the device has been lost.
    pub fn check_alive(&self) -> Result<()> {
        match self.lost.lock().ok().and_then(|l| l.clone()) {
            Some(reason) => Err(GpuError::DeviceLost(reason)),
            None => Ok(()),
        }
    }

    /// The largest storage binding, in bytes, that this device allows.
    pub fn binding_limit(&self) -> u64 {
        self.report.max_storage_binding.min(self.report.max_buffer)
    }

    /// Holds every later buffer to at most `bytes` (never raising the device's own limit):
    /// a device with little room, on any machine, for the tests of what does not fit.
    pub fn limit_bindings(&mut self, bytes: u64) {
        self.report.max_storage_binding = self.report.max_storage_binding.min(bytes);
    }

    /// Fails when one buffer of `bytes` would pass the device's limits.
    pub fn check_binding(&self, what: &str, bytes: u64) -> Result<()> {
        let limit = self.binding_limit();
        if bytes > limit {
            return Err(GpuError::TooLarge {
                what: what.to_string(),
                needed: bytes,
                limit,
            });
        }
        Ok(())
    }

    /// A storage buffer holding `bytes` (padded to whole 32-bit words, as WGSL reads them).
    pub fn storage_with(&self, label: &str, bytes: &[u8]) -> Result<wgpu::Buffer> {
        let padded = bytes.len().div_ceil(4).max(1) * 4;
        self.check_binding(label, padded as u64)?;
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: padded as u64,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: true,
        });
        {
            let mut view = buffer
                .slice(..)
                .get_mapped_range_mut()
                .map_err(|e| GpuError::Validation(e.to_string()))?;
            view.slice(..bytes.len()).copy_from_slice(bytes);
        }
        buffer.unmap();
        Ok(buffer)
    }

    /// An uninitialised storage buffer of `bytes` (at least one word), which kernels write
    /// and copies read.
    pub fn storage(&self, label: &str, bytes: u64) -> Result<wgpu::Buffer> {
        let size = bytes.div_ceil(4).max(1) * 4;
        self.check_binding(label, size)?;
        Ok(self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        }))
    }

    /// Reads `bytes` from the start of `buffer`, which must allow COPY_SRC.
    pub async fn read(&self, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        self.check_alive()?;
        let size = bytes.div_ceil(4).max(1) * 4;
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
        self.queue.submit([encoder.finish()]);
        self.map(&staging, bytes).await
    }

    /// Maps a MAP_READ buffer once the queue has finished with it and copies out `bytes`.
    pub async fn map(&self, staging: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        let (sender, receiver) = futures_channel::oneshot::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |result| {
            let _ = sender.send(result);
        });
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        let mapped = receiver
            .await
            .map_err(|_| GpuError::Readback("the GPU dropped the request".into()))?;
        mapped.map_err(|e| GpuError::Readback(e.to_string()))?;
        self.check_alive()?;
        let out = {
            let view = staging
                .get_mapped_range(..)
                .map_err(|e| GpuError::Readback(e.to_string()))?;
            view[..bytes as usize].to_vec()
        };
        staging.unmap();
        Ok(out)
    }
}

/// Little-endian bytes of f32 values, as storage buffers hold them.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// f32 values from little-endian bytes.
pub fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Little-endian bytes of u32 values.
pub fn u32_bytes(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::AdapterReport;

    fn report(name: &str, device_type: &str, architecture: &str, fallback: bool) -> AdapterReport {
        AdapterReport {
            name: name.into(),
            backend: "Vulkan".into(),
            device_type: device_type.into(),
            vendor: String::new(),
            architecture: architecture.into(),
            description: String::new(),
            is_fallback: fallback,
            features: Vec::new(),
            shader_f16: false,
            subgroups: false,
            max_storage_binding: 0,
            max_buffer: 0,
        }
    }

    #[test]
    fn software_gpus_are_told_from_real_ones() {
        // lavapipe natively; SwiftShader in Chromium (WebGPU reports no device type, and
        // the adapter need not be flagged as a fallback); a flagged fallback.
        assert!(report("llvmpipe (LLVM 15.0.6, 256 bits)", "Cpu", "", false).is_software());
        assert!(report("", "Other", "swiftshader", false).is_software());
        assert!(report("", "Other", "", true).is_software());
        // Real GPUs, natively and in a browser.
        assert!(!report("NVIDIA H200", "DiscreteGpu", "", false).is_software());
        assert!(!report("", "Other", "ampere", false).is_software());
    }
}
