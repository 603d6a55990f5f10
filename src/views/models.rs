//! Models: which backend runs inference here; the built-in models and the visitor's own
//! GGUF files join it with the Models view's issue.

use leptos::prelude::*;

use crate::components::backend_panel::BackendPanel;

#[component]
pub fn ModelsView() -> impl IntoView {
    view! {
        <section class="view" data-testid="view-models" aria-labelledby="view-title">
            <h1 id="view-title">"Models"</h1>
            <p class="lede">
                "Ponder runs a small policy model S, its revision model R and a process reward "
                "model in this tab. The Compare view runs them on the CPU (wasm SIMD, one worker "
                "per column); the WebGPU engine comes next. Below is what this browser offers."
            </p>
            <BackendPanel/>
        </section>
    }
}
