//! The backend panel: which engine will run the models, as the inference worker saw it.

use leptos::prelude::*;

use crate::backend::{format_bytes, AdapterSummary, BackendReport};
use crate::worker_handle::{BackendStatus, WorkerHandle};

#[component]
pub fn BackendPanel() -> impl IntoView {
    let worker = WorkerHandle::use_context();
    let status = worker.status;
    let state_attr = move || match status.get() {
        BackendStatus::Probing => "probing",
        BackendStatus::Ready(BackendReport::WebGpu(_)) => "webgpu",
        BackendStatus::Ready(BackendReport::Cpu { .. }) => "cpu",
        BackendStatus::Failed(_) => "failed",
    };
    view! {
        <section class="backend-panel" data-testid="backend-panel" data-state=state_attr
            aria-labelledby="backend-panel-title">
            <h2 id="backend-panel-title">"Backend"</h2>
            // Only the status is announced when it changes, not the heading and button.
            <div aria-live="polite">
            {move || match status.get() {
                BackendStatus::Probing => view! {
                    <p class="probing" data-testid="backend-summary">
                        <span class="spinner" aria-hidden="true"></span>
                        "Probing WebGPU in the inference worker…"
                    </p>
                }.into_any(),
                BackendStatus::Ready(BackendReport::WebGpu(adapter)) => adapter_details(adapter).into_any(),
                BackendStatus::Ready(BackendReport::Cpu { reason }) => view! {
                    <p data-testid="backend-summary"><strong>"no WebGPU: CPU"</strong></p>
                    <p class="reason" data-testid="backend-reason">{reason}</p>
                }.into_any(),
                BackendStatus::Failed(message) => view! {
                    <p data-testid="backend-summary"><strong>"Inference worker failed"</strong></p>
                    <p class="reason error" data-testid="backend-reason">{message}</p>
                }.into_any(),
            }}
            {move || worker.last_error.get().map(|message| view! {
                <p class="reason error" data-testid="worker-error">
                    "The inference worker reported an error: " {message}
                </p>
            })}
            </div>
            // aria-disabled rather than disabled: a disabled button drops the keyboard
            // focus of whoever just pressed it.
            <button type="button" class="secondary" data-testid="backend-reprobe"
                aria-disabled=move || (status.get() == BackendStatus::Probing).to_string()
                on:click=move |_| {
                    if status.get_untracked() != BackendStatus::Probing {
                        worker.last_error.set(None);
                        worker.reprobe();
                    }
                }>
                "Probe again"
            </button>
        </section>
    }
}

fn adapter_details(a: AdapterSummary) -> impl IntoView {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let fallback = a.is_fallback.then_some(" (fallback adapter)");
    view! {
        <p data-testid="backend-summary">
            <strong>"WebGPU"</strong>
            " · " <span data-testid="adapter-name">{a.display_name()}</span>
            {fallback}
        </p>
        <dl class="backend-facts">
            <dt>"Vendor"</dt><dd data-testid="adapter-vendor">{a.vendor.clone()}</dd>
            <dt>"Architecture"</dt><dd data-testid="adapter-architecture">{a.architecture.clone()}</dd>
            <dt><code>"shader-f16"</code></dt><dd data-testid="feature-shader-f16">{yes_no(a.shader_f16)}</dd>
            <dt><code>"subgroups"</code></dt><dd data-testid="feature-subgroups">{yes_no(a.subgroups)}</dd>
            <dt><code>"maxStorageBufferBindingSize"</code></dt>
            <dd data-testid="limit-max-storage-buffer-binding-size"
                data-bytes=a.max_storage_buffer_binding_size.to_string()>
                {format_bytes(a.max_storage_buffer_binding_size)}
            </dd>
            <dt><code>"maxBufferSize"</code></dt>
            <dd data-testid="limit-max-buffer-size" data-bytes=a.max_buffer_size.to_string()>
                {format_bytes(a.max_buffer_size)}
            </dd>
        </dl>
        <details>
            <summary>"All adapter features (" {a.features.len()} ")"</summary>
            <ul class="feature-list">
                {a.features.iter().map(|f| view! { <li><code>{f.clone()}</code></li> }).collect_view()}
            </ul>
        </details>
    }
}
