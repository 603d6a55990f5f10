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
                "Ponder will run a small policy model and a process reward model in this tab, "
                "on WebGPU where the browser offers it and on the CPU otherwise. Below is what "
                "this browser offers; the models themselves do not run in this build yet."
            </p>
            <BackendPanel/>
        </section>
    }
}
