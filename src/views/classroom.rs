//! Classroom: the same experiments, paced for a room: large type and one event at a time.

use leptos::prelude::*;

#[component]
pub fn ClassroomView() -> impl IntoView {
    view! {
        <section class="view classroom" data-testid="view-classroom" aria-labelledby="view-title">
            <h1 id="view-title">"Classroom"</h1>
            <p class="lede">
                "A presentation view: large type, step-by-step pacing and a caption for every event, "
                "so a class can follow each sampled step, each verifier score and each vote."
            </p>
            <p class="status-note" role="status">
                "This build has no inference engine yet: there are no events to present."
            </p>
        </section>
    }
}
