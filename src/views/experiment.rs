//! Experiment: a problem set, budgets from 1 to 256, several strategies, and the paper's
//! curves. The sweep runs in the inference worker once the engine is in place.

use leptos::prelude::*;

#[component]
pub fn ExperimentView() -> impl IntoView {
    view! {
        <section class="view" data-testid="view-experiment" aria-labelledby="view-title">
            <h1 id="view-title">"Experiment"</h1>
            <p class="lede">
                "Accuracy against budget for each strategy, per difficulty level: where revisions win, "
                "where search wins, and when extra thinking beats a model eight times larger."
            </p>
            <p class="status-note" role="status">
                "This build has no inference engine yet: sweeps run once the models and the strategies land."
            </p>
        </section>
    }
}
