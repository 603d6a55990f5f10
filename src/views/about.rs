//! About: what Ponder demonstrates and where it comes from.

use leptos::prelude::*;

/// RESULTS.md's charts (served from docs/results) and what each shows, in plain words.
const FIGURES: [(&str, &str); 4] = [
    (
        "accuracy.svg",
        "Accuracy against the test-time budget in generations (log scale), for each strategy \
         the paper compares.",
    ),
    (
        "revision_steps.svg",
        "Revisions: pass@1 at each attempt of a chain (attempt 1 is the first), as R revises \
         its most recent attempts.",
    ),
    (
        "ratio.svg",
        "Sequential against parallel: at fixed budgets, accuracy against the chains' length \
         (longer chains, fewer of them), the final answer picked by the PRM.",
    ),
    (
        "compute_optimal.svg",
        "Compute-optimal scaling: the best configuration per difficulty bin, chosen on half \
         the problems and measured on the other half, against best-of-N.",
    ),
];

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
                "replays it exactly. The Compare view races two strategies on one problem, one "
                "worker per column, on WebGPU or on the CPU (the two give the same numbers bit for "
                "bit); the "<code>"ponder"</code>" command-line tool replays the same links and "
                "runs the paper's figures over whole problem sets."
            </p>
            <h2>"What Ponder measured"</h2>
            <p>
                "The charts below come from "<a href="RESULTS.md">"RESULTS.md"</a>", written by "
                <code>"ponder figures"</code>" on the built-in models: 25 problems (5 per level) "
                "and 3 seeds, the band or bracket being the range over seeds. One problem is 4 "
                "points, so differences of a few points are noise; and these are tiny models on "
                "synthetic arithmetic, so what carries over from the paper is the shape of each "
                "comparison, not its size. RESULTS.md gives every number, the verdicts and the caveats."
            </p>
            <div class="figures">
                {FIGURES.iter().map(|(file, caption)| view! {
                    <figure>
                        <img src=format!("results/{file}") alt=*caption loading="lazy" width="640" />
                        <figcaption>{*caption}</figcaption>
                    </figure>
                }).collect_view()}
            </div>
        </section>
    }
}
