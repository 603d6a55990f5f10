//! Models: which backend runs inference here, and (with the model runtime) the built-in
//! models and the visitor's own GGUF files.

use leptos::prelude::*;

use crate::components::backend_panel::BackendPanel;

#[component]
pub fn ModelsView() -> impl IntoView {
    view! {
        <section class="view" data-testid="view-models" aria-labelledby="view-title">
            <h1 id="view-title">"Models"</h1>
            <p class="lede">
                "Ponder runs a small policy model and a process reward model in this tab, "
                "on WebGPU where the browser offers it and on the CPU otherwise."
            </p>
            <BackendPanel/>
        </section>
    }
}
