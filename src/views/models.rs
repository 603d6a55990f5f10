//! Models: which backend runs inference here; the built-in models and the visitor's own
//! GGUF files are still to come (the Experiment and Models views' issue).

use leptos::prelude::*;

use crate::components::backend_panel::BackendPanel;

#[component]
pub fn ModelsView() -> impl IntoView {
    view! {
        <section class="view" data-testid="view-models" aria-labelledby="view-title">
            <h1 id="view-title">"Models"</h1>
            <p class="lede">
                "Ponder runs a small policy model S, its revision model R and a process reward "
                "model in this tab, one worker per column of the Compare view: on WebGPU, with "
                "Ponder's own kernels, where this browser has it and a trial step is faster "
                "there, else on the CPU (wasm SIMD). Both give the same numbers bit for bit. "
                "Below is what this browser offers."
            </p>
            <BackendPanel/>
        </section>
    }
}
