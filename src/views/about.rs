//! About: what Ponder demonstrates and where it comes from.

use leptos::prelude::*;

#[component]
pub fn AboutView() -> impl IntoView {
    view! {
        <section class="view" data-testid="view-about" aria-labelledby="view-title">
            <h1 id="view-title">"About Ponder"</h1>
            <p class="lede">
                "Ponder is a hands-on reproduction of Snell, Lee, Xu and Kumar (2024), "
                <cite>"Scaling LLM Test-Time Compute Optimally can be More Effective than Scaling Model Parameters"</cite>
                " (arXiv 2408.03314)."
            </p>
            <p>
                "The paper asks how a fixed budget of extra inference is best spent. It compares two levers: "
                "searching against a process reward model (best-of-N, beam search, lookahead) and refining "
                "the model's own proposal distribution by sequential revisions. Its finding: the best choice "
                "depends on how hard the question is for the model. Revisions help most on easy questions, "
                "search on harder ones, and spending the budget according to difficulty (\"compute-optimal\") "
                "can match best-of-N with about four times less compute."
            </p>
            <p>
                "Ponder is built to run everything in this browser tab: the models, the verifier and "
                "the search, with every experiment described by its link so that opening a link "
                "replays it exactly. The Compare view races two strategies on one problem on the "
                "CPU (wasm) in two workers; the `ponder` command-line tool replays the same links "
                "and runs the paper's figures over whole problem sets."
            </p>
        </section>
    }
}
