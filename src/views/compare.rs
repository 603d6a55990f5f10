//! Compare: one problem, two ways of spending test-time compute, side by side at an equal
//! budget. The live columns arrive with the strategies engine; until then the view says so.

use leptos::prelude::*;

#[component]
pub fn CompareView() -> impl IntoView {
    view! {
        <section class="view" data-testid="view-compare" aria-labelledby="view-title">
            <h1 id="view-title">"Compare"</h1>
            <p class="lede">
                "One problem, two ways of thinking longer, at the same budget: "
                <strong>"parallel sampling"</strong>
                " (many independent attempts, one chosen by vote or by a process reward model) against "
                <strong>"sequential revision"</strong>
                " (one model rewriting its own earlier attempts)."
            </p>
            <div class="columns">
                <article class="column">
                    <h2>"Parallel"</h2>
                    <p>"Best-of-N, weighted voting and beam search against the PRM."</p>
                </article>
                <article class="column">
                    <h2>"Sequential"</h2>
                    <p>"A chain of revisions, each seeing the last four attempts."</p>
                </article>
            </div>
            <p class="status-note" role="status">
                "This build has no inference engine yet: the columns run once the models and the strategies land."
            </p>
        </section>
    }
}
