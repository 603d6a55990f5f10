//! A WebGPU self-test: run one small matrix-vector product on the device and compare it
//! with the same product on the CPU.
//!
//! Software adapters and broken drivers can accept a pipeline and still return wrong
//! numbers without any error, so the probe only reports WebGPU as usable after this
//! passes. The inputs are small multiples of 1/8 and 1/4, so every product and every
//! partial sum is exact in f32 and the result must match *exactly*, whatever order the
//! GPU adds in.

use wasm_bindgen::JsCast;
use web_sys::{gpu_buffer_usage as usage, gpu_map_mode as map_mode, GpuDevice};

use crate::backend::{describe_js_error, with_timeout};

const SHADER: &str = include_str!("gpu_self_test.wgsl");
pub const ROWS: usize = 64;
pub const COLS: usize = 256;
/// A healthy device answers in milliseconds; a hung one must not hang the page.
const READBACK_TIMEOUT_MS: i32 = 10_000;

/// The test's weight matrix, row-major `[ROWS, COLS]`, values in [-1, 1] in steps of 1/8.
pub fn weights() -> Vec<f32> {
    (0..ROWS * COLS)
        .map(|i| {
            let (r, k) = (i / COLS, i % COLS);
            ((r * 7 + k * 3) % 17) as f32 / 8.0 - 1.0
        })
        .collect()
}

/// The test's input vector, values in [-1.5, 1.5] in steps of 1/4.
pub fn input() -> Vec<f32> {
    (0..COLS)
        .map(|k| ((k * 5) % 13) as f32 / 4.0 - 1.5)
        .collect()
}

/// The CPU reference for the product.
pub fn expected() -> Vec<f32> {
    let (w, x) = (weights(), input());
    (0..ROWS)
        .map(|r| (0..COLS).map(|k| w[r * COLS + k] * x[k]).sum())
        .collect()
}

/// Runs the product on `device` and returns the GPU's output.
pub async fn run_matvec(device: &GpuDevice) -> Result<Vec<f32>, String> {
    device.push_error_scope(web_sys::GpuErrorFilter::Validation);
    let queue = device.queue();

    let storage = |bytes: &[u8]| -> Result<web_sys::GpuBuffer, String> {
        let buffer = device
            .create_buffer(&web_sys::GpuBufferDescriptor::new(
                bytes.len() as u32,
                usage::STORAGE | usage::COPY_DST,
            ))
            .map_err(|e| format!("createBuffer failed: {}", describe_js_error(&e)))?;
        queue
            .write_buffer_with_u32_and_u8_slice(&buffer, 0, bytes)
            .map_err(|e| format!("writeBuffer failed: {}", describe_js_error(&e)))?;
        Ok(buffer)
    };
    let w = storage(&f32_bytes(&weights()))?;
    let x = storage(&f32_bytes(&input()))?;
    let out_size = (ROWS * 4) as u32;
    let out = device
        .create_buffer(&web_sys::GpuBufferDescriptor::new(
            out_size,
            usage::STORAGE | usage::COPY_SRC,
        ))
        .map_err(|e| format!("createBuffer failed: {}", describe_js_error(&e)))?;
    let readback = device
        .create_buffer(&web_sys::GpuBufferDescriptor::new(
            out_size,
            usage::MAP_READ | usage::COPY_DST,
        ))
        .map_err(|e| format!("createBuffer failed: {}", describe_js_error(&e)))?;
    let dims_bytes: Vec<u8> = [ROWS as u32, COLS as u32, 0, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let dims = device
        .create_buffer(&web_sys::GpuBufferDescriptor::new(
            dims_bytes.len() as u32,
            usage::UNIFORM | usage::COPY_DST,
        ))
        .map_err(|e| format!("createBuffer failed: {}", describe_js_error(&e)))?;
    queue
        .write_buffer_with_u32_and_u8_slice(&dims, 0, &dims_bytes)
        .map_err(|e| format!("writeBuffer failed: {}", describe_js_error(&e)))?;

    let module = device.create_shader_module(&web_sys::GpuShaderModuleDescriptor::new(SHADER));
    let stage = web_sys::GpuProgrammableStage::new(&module);
    stage.set_entry_point("main");
    let pipeline = device.create_compute_pipeline(
        &web_sys::GpuComputePipelineDescriptor::new_with_gpu_auto_layout_mode(
            web_sys::GpuAutoLayoutMode::Auto,
            &stage,
        ),
    );
    let entries: Vec<web_sys::GpuBindGroupEntry> = [&w, &x, &out, &dims]
        .iter()
        .enumerate()
        .map(|(i, b)| {
            web_sys::GpuBindGroupEntry::new_with_gpu_buffer_binding(
                i as u32,
                &web_sys::GpuBufferBinding::new(b),
            )
        })
        .collect();
    let bind_group = device.create_bind_group(&web_sys::GpuBindGroupDescriptor::new(
        &entries,
        &pipeline.get_bind_group_layout(0),
    ));

    let encoder = device.create_command_encoder();
    let pass = encoder.begin_compute_pass();
    pass.set_pipeline(&pipeline);
    pass.set_bind_group(0, Some(&bind_group));
    pass.dispatch_workgroups(ROWS as u32);
    pass.end();
    encoder
        .copy_buffer_to_buffer_with_u32_and_u32_and_u32(&out, 0, &readback, 0, out_size)
        .map_err(|e| format!("copyBufferToBuffer failed: {}", describe_js_error(&e)))?;
    queue.submit(&[encoder.finish()]);

    // Validation errors (a shader the browser rejects, a bad binding) surface here.
    let scope: js_sys::Promise = device.pop_error_scope().unchecked_into();
    let error = match with_timeout(scope, READBACK_TIMEOUT_MS).await {
        Ok(Some(error)) => error,
        Ok(None) => {
            return Err(format!(
                "the GPU did not report whether the self-test kernel was valid within {} s",
                READBACK_TIMEOUT_MS / 1000
            ))
        }
        Err(e) => return Err(format!("popErrorScope failed: {}", describe_js_error(&e))),
    };
    if !error.is_null() && !error.is_undefined() {
        let message = js_sys::Reflect::get(&error, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "unknown validation error".into());
        return Err(format!("the self-test kernel was rejected: {message}"));
    }

    let mapping: js_sys::Promise = readback.map_async(map_mode::READ).unchecked_into();
    match with_timeout(mapping, READBACK_TIMEOUT_MS).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(format!(
                "the GPU did not return the self-test result within {} s",
                READBACK_TIMEOUT_MS / 1000
            ))
        }
        Err(e) => return Err(format!("mapAsync failed: {}", describe_js_error(&e))),
    }
    let range = readback
        .get_mapped_range()
        .map_err(|e| format!("getMappedRange failed: {}", describe_js_error(&e)))?;
    let values = js_sys::Float32Array::new(&range).to_vec();
    readback.unmap();
    for b in [&w, &x, &out, &readback, &dims] {
        b.destroy();
    }
    Ok(values)
}

/// Runs the product and checks it against [`expected`]. `Err` explains what went wrong.
pub async fn check(device: &GpuDevice) -> Result<(), String> {
    let got = run_matvec(device).await?;
    let want = expected();
    if got.len() != want.len() {
        return Err(format!(
            "the self-test returned {} values instead of {}",
            got.len(),
            want.len()
        ));
    }
    if let Some((i, (g, w))) = got.iter().zip(&want).enumerate().find(|(_, (g, w))| g != w) {
        return Err(format!(
            "the GPU computed wrong numbers in the self-test (row {i}: {g}, expected {w}); \
             its driver is not trustworthy for inference"
        ));
    }
    Ok(())
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_is_exact_in_any_summation_order() {
        // Every term is a multiple of 1/32 and every partial sum stays far below 2^24/32,
        // so f32 addition is exact: forward and backward sums agree bit for bit.
        let (w, x) = (weights(), input());
        for r in 0..ROWS {
            let forward: f32 = (0..COLS).map(|k| w[r * COLS + k] * x[k]).sum();
            let backward: f32 = (0..COLS).rev().map(|k| w[r * COLS + k] * x[k]).sum();
            let exact: f64 = (0..COLS)
                .map(|k| f64::from(w[r * COLS + k]) * f64::from(x[k]))
                .sum();
            assert_eq!(forward, backward);
            assert_eq!(f64::from(forward), exact);
        }
        // And the test is not trivial: rows differ and are not all zero.
        let y = expected();
        assert!(y.iter().any(|v| *v != 0.0));
        assert!(y.windows(2).any(|p| p[0] != p[1]));
    }
}
