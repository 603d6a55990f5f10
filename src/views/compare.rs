//! Compare: one problem, two ways of spending test-time compute, raced side by side at an
//! equal budget. Every setting lives in the link (the core's two-column codec), so a
//! copied link replays the same run here and in `ponder run`.

use leptos::prelude::*;
use ponder_core::arithmetic::Problem;
use ponder_core::spec::comparison::{own_budget, Comparison, ProblemChoice};
use ponder_core::spec::{ExperimentSpec, PolicyModel, StrategyKind, MAX_BUDGET};
use ponder_core::strategy::{BeamWidth, RevisionSelection, Selection, StepAggregation};

use crate::components::deferred::Deferred;
use crate::components::problem_picker::ProblemPicker;
use crate::components::race_column::RaceColumn;
use crate::problem_bank;
use crate::race_controller::{Phase, RaceController, RaceProblem};
use crate::race_summary::{verdict, ColumnResult};
use crate::router::Router;
use crate::strategy_names::short_name;
use crate::url_state::UrlState;

/// The budgets offered (the paper's powers of two up to 256).
pub const BUDGETS: [u32; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/// The race a page state names, both columns written out (a one-column link gets the
/// right column it is raced with); the default race where it names none.
pub fn comparison_of(state: &UrlState) -> Comparison {
    if state.has_experiment() {
        let given = Comparison::from_query(&state.to_query()).0;
        let [left, right] = given.columns();
        Comparison {
            left,
            right: Some(right),
            custom: given.custom,
            own_model: given.own_model,
        }
    } else {
        let mut c = Comparison::default_race();
        let index = problem_bank::default_index();
        c.left.problem = index;
        if let Some(right) = c.right.as_mut() {
            right.problem = index;
        }
        c
    }
}

/// The page state with its race written out in full (both columns, the seed, the
/// problem and the budget) when the link leaves some of it to the page; `None` when the
/// link already names what the page runs. `ponder run` reads a link without column keys
/// as one column, and a link without keys as seed 0 on problem 0, while the page races
/// [`comparison_of`] it: written out, a copied address replays the same run in both.
/// The notes about the link as it was given are kept.
pub fn written_out(state: &UrlState) -> Option<UrlState> {
    let shown = comparison_of(state);
    // What `ponder run` reads from the address as it is.
    let (read, _) = Comparison::from_query(&state.to_query());
    if read == shown {
        return None;
    }
    let mut full = state.clone();
    full.set_experiment(&shown.to_query());
    full.warnings = state.warnings.clone();
    Some(full)
}

/// Keeps the address naming the whole race shown ([`written_out`]) for as long as the
/// calling view (Compare or classroom) is shown: on opening it, and after Back or Forward.
/// The address is replaced, not pushed, since it names the same run.
pub fn keep_race_written_out(router: Router) {
    Effect::new(move |_| {
        if let Some(full) = router.state.with(written_out) {
            router.replace(full);
        }
    });
}

/// The problem a comparison runs, or why it cannot run.
pub fn resolve(c: &Comparison) -> Result<RaceProblem, String> {
    match c.problem() {
        ProblemChoice::Set(index) => problem_bank::problem(index)
            .map(|p| RaceProblem {
                text: p.text,
                truth: p.answer,
            })
            .ok_or_else(|| {
                format!(
                    "problem={index} is past the end of the test set ({} problems, numbered \
                     from 0)",
                    problem_bank::len()
                )
            }),
        ProblemChoice::Custom(text) => Problem::parse(&text)
            .map(|p| RaceProblem {
                text: p.text().to_string(),
                truth: p.answer(),
            })
            .map_err(|e| e.to_string()),
    }
}

#[component]
pub fn CompareView() -> impl IntoView {
    let router = Router::use_context();
    let race = RaceController::use_context();
    let comparison = Memo::new(move |_| router.state.with(comparison_of));
    let problem = Memo::new(move |_| resolve(&comparison.get()));
    keep_race_written_out(router);

    // A comparison not run yet starts as soon as it is shown: on opening a link, and on
    // every change of a setting (the new run supersedes the old).
    Effect::new(move |_| race.start_soon_if_new(comparison.get(), problem.get_untracked()));

    let set = move |next: Comparison| {
        let mut state = router.state.get_untracked();
        state.set_experiment(&next.to_query());
        router.navigate(state);
    };
    let rerun = Callback::new(move |()| {
        if let Ok(p) = problem.get_untracked() {
            race.start(comparison.get_untracked(), p);
        }
    });
    let copied = RwSignal::new(None::<String>);

    view! {
        <section class="view compare" data-testid="view-compare" aria-labelledby="view-title">
            <h1 id="view-title">"Compare"</h1>
            <p class="lede">
                "One problem, two ways of thinking longer, at the same budget: "
                <strong>"parallel sampling"</strong>
                " (many independent attempts, one chosen by vote or by a process reward model) against "
                <strong>"sequential revision"</strong>
                " (a model rewriting its own earlier attempts). Both run in your browser; the race is drawn at equal compute."
            </p>
            <Deferred>
            <form class="race-controls" on:submit=|ev| ev.prevent_default() aria-label="Race settings">
                <ProblemPicker comparison on_change=Callback::new(set)/>
                <div class="control-row">
                    <label>
                        "Budget "
                        <select data-testid="budget" on:change=move |ev| {
                            if let Ok(n) = event_target_value(&ev).parse::<u32>() {
                                let mut c = comparison.get_untracked();
                                // A column on L keeps its own budget (the link codec says why).
                                for spec in std::iter::once(&mut c.left).chain(c.right.as_mut()) {
                                    if !runs_large(spec) {
                                        spec.n = n;
                                        fit_chains(spec);
                                    }
                                }
                                set(c);
                            }
                        }>
                            {move || {
                                let n = comparison.with(race_budget);
                                let mut options: Vec<u32> = BUDGETS.to_vec();
                                if !options.contains(&n) && n <= MAX_BUDGET {
                                    options.push(n);
                                    options.sort_unstable();
                                }
                                options.into_iter().map(|b| view! {
                                    <option value=b.to_string() selected=b == n>{b}</option>
                                }).collect_view()
                            }}
                        </select>
                        {move || if comparison.with(|c| c.columns().iter().any(runs_large)) {
                            " generations for each column on S or R (a column on another model has a budget of its own)"
                        } else {
                            " generations for each column"
                        }}
                    </label>
                </div>
                <div class="columns strategy-panels">
                    <StrategyPanel col=0 comparison on_change=Callback::new(set)/>
                    <StrategyPanel col=1 comparison on_change=Callback::new(set)/>
                </div>
                <details class="more">
                    <summary>"More: seed, temperature, step aggregation"</summary>
                    <MoreSettings comparison on_change=Callback::new(set)/>
                </details>
                <div class="control-row actions">
                    <button type="button" data-testid="run" on:click=move |_| rerun.run(())>
                        "Run again"
                    </button>
                    <button type="button" class="secondary" data-testid="cancel"
                        aria-disabled=move || (!race.running.get()).to_string()
                        on:click=move |_| if race.running.get_untracked() { race.cancel() }>
                        "Cancel"
                    </button>
                    <button type="button" class="secondary" data-testid="present"
                        title="Classroom mode (c)"
                        on:click=move |_| router.go_to(crate::url_state::View::Classroom)>
                        "Present in class"
                    </button>
                    <button type="button" class="secondary" data-testid="copy-link"
                        on:click=move |_| {
                            let link = share_link("compare", &comparison.get_untracked());
                            copy_to_clipboard(&link);
                            copied.set(Some(link));
                        }>
                        "Copy link"
                    </button>
                    <span role="status" class="muted">
                        {move || copied.get().map(|l| view! {
                            "Copied: " <input class="copied-link" readonly value=l.clone()
                                aria-label="The link to this race" data-testid="copied-link"/>
                        })}
                    </span>
                </div>
            </form>
            </Deferred>
            <Deferred>
            {move || match problem.get() {
                Ok(p) => view! {
                    <p class="race-problem" data-testid="race-problem">
                        "Problem: " <code>{p.text}</code>
                    </p>
                }.into_any(),
                Err(message) => view! {
                    <p class="reason error" role="alert" data-testid="problem-error">
                        "This link's problem cannot run: " {message}
                    </p>
                }.into_any(),
            }}
            <div class="columns race">
                <RaceColumn col=0 on_retry=rerun/>
                <RaceColumn col=1 on_retry=rerun/>
            </div>
            <p class="verdict" role="status" aria-live="polite" data-testid="verdict">
                {move || verdict_of(race)}
            </p>
            </Deferred>
        </section>
    }
}

/// The one-line verdict once both columns of `race` have finished.
pub fn verdict_of(race: RaceController) -> Option<String> {
    let truth = race.problem.with(|p| p.as_ref().map(|p| p.truth))?;
    if !race
        .columns
        .iter()
        .all(|c| c.phase.get() == Phase::Finished)
    {
        return None;
    }
    let result = |col: usize| {
        let signals = race.columns[col];
        let spec = signals.spec.get()?;
        let (outcome, _) = signals.outcome.get()?;
        Some(ColumnResult {
            name: short_name(spec.strategy).to_string(),
            answer: outcome.answer,
            compute: outcome.compute,
        })
    };
    let (mut left, mut right) = (result(0)?, result(1)?);
    if left.name == right.name {
        left.name = format!("the left {}", left.name);
        right.name = format!("the right {}", right.name);
    }
    Some(verdict(&left, &right, truth))
}

/// Keeps a revisions spec's chains dividing its budget (the codec would refuse it).
/// Whether a column runs the larger sibling L (and so has a budget of its own).
fn runs_large(spec: &ExperimentSpec) -> bool {
    own_budget(spec)
}

/// What the model choice calls a visitor's model: the end of its address or file name.
fn own_model_name(key: &str) -> String {
    let last = key.rsplit('/').next().unwrap_or(key);
    String::from(js_sys::decode_uri_component(last).unwrap_or_else(|_| last.into()))
}

/// The race's shared budget: an S or R column's (an L column may have its own).
fn race_budget(c: &Comparison) -> u32 {
    let columns = c.columns();
    columns
        .iter()
        .find(|s| !runs_large(s))
        .unwrap_or(&columns[0])
        .n
}

fn fit_chains(spec: &mut ExperimentSpec) {
    if spec.chains == 0 || spec.chains > spec.n || spec.n % spec.chains != 0 {
        spec.chains = 1;
    }
}

/// The page's address for `view` (compare or classroom), with both columns written out (a
/// one-column link gets the right column it was shown with), so the link replays what was
/// shown.
pub fn share_link(view: &str, c: &Comparison) -> String {
    let [left, right] = c.columns();
    let c = Comparison {
        left,
        right: Some(right),
        custom: c.custom.clone(),
        own_model: c.own_model.clone(),
    };
    let location = web_sys::window().map(|w| w.location());
    let base = location
        .as_ref()
        .and_then(|l| Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?)))
        .unwrap_or_default();
    format!("{base}?view={view}&{}", c.to_query())
}

fn copy_to_clipboard(text: &str) {
    if let Some(window) = web_sys::window() {
        // The promise may be refused (no permission, not a secure context); the link is
        // shown beside the button either way, selectable, so a refusal is only awaited.
        let promise = window.navigator().clipboard().write_text(text);
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}

/// A `<select>` of `(value, label)` options for one setting.
fn choice(
    label: &'static str,
    testid: String,
    options: Vec<(String, String)>,
    current: impl Fn() -> String + Send + Sync + 'static,
    on_change: impl Fn(String) + 'static,
) -> impl IntoView {
    view! {
        <label>
            {label} " "
            <select data-testid=testid on:change=move |ev| on_change(event_target_value(&ev))>
                {move || {
                    let now = current();
                    options.iter().map(|(value, text)| view! {
                        <option value=value.clone() selected=*value == now>{text.clone()}</option>
                    }).collect_view()
                }}
            </select>
        </label>
    }
}

fn opts(values: &[&str]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|v| (v.to_string(), v.to_string()))
        .collect()
}

#[component]
fn StrategyPanel(
    col: usize,
    comparison: Memo<Comparison>,
    on_change: Callback<Comparison>,
) -> impl IntoView {
    let side = if col == 0 { "left" } else { "right" };
    let spec = move || comparison.with(|c| c.columns()[col]);
    let update = move |f: &dyn Fn(&mut ExperimentSpec)| {
        let mut c = comparison.get_untracked();
        let [mut left, mut right] = c.columns();
        let target = if col == 0 { &mut left } else { &mut right };
        f(target);
        fit_chains(target);
        c.left = left;
        c.right = Some(right);
        on_change.run(c);
    };
    let kinds: Vec<(String, String)> = StrategyKind::ALL
        .iter()
        .map(|k| (k.name().to_string(), short_name(*k).to_string()))
        .collect();
    let uses = move |f: fn(StrategyKind) -> bool| move || f(spec().strategy);
    view! {
        <fieldset class="column strategy-panel" data-testid=format!("strategy-{side}")>
            <legend>{if col == 0 { "Left column" } else { "Right column" }}</legend>
            {choice("Strategy", format!("{side}-strategy"), kinds,
                move || spec().strategy.name().to_string(),
                move |v| if let Some(k) = StrategyKind::from_name(&v) {
                    update(&|s| {
                        s.strategy = k;
                        // R revises; L is not a reviser, and a revising column runs R.
                        if k.revises() {
                            s.model = PolicyModel::Small;
                            s.n = race_budget(&comparison.get_untracked());
                        }
                    })
                })}
            <Show when=uses(|k| !k.revises())>
                {move || {
                    let mut models: Vec<(String, String)> = vec![
                        ("s".into(), "S, the small model".into()),
                        ("l".into(), "L, its larger sibling".into()),
                    ];
                    if let Some(key) = comparison.with(|c| c.own_model.clone()) {
                        models.push(("own".into(), format!("yours: {}", own_model_name(&key))));
                    }
                    choice("Model", format!("{side}-model"), models,
                    move || spec().model.name().to_string(),
                    move |v| if let Some(m) = PolicyModel::from_name(&v) {
                        update(&|x| {
                            x.model = m;
                            if m == PolicyModel::Small {
                                x.n = race_budget(&comparison.get_untracked());
                            }
                        })
                    })
                }}
            </Show>
            <Show when=move || runs_large(&spec())>
                {move || {
                    let n = spec().n;
                    let mut budgets: Vec<u32> = BUDGETS.to_vec();
                    if !budgets.contains(&n) {
                        budgets.push(n);
                        budgets.sort_unstable();
                    }
                    let options = budgets.iter().map(|b| (b.to_string(), b.to_string())).collect();
                    let label = if spec().model == PolicyModel::Large { "L's budget" } else { "Its budget" };
                    choice(label, format!("{side}-n"), options,
                        move || spec().n.to_string(),
                        move |v| if let Ok(n) = v.parse() { update(&|x| x.n = n) })
                }}
                <p class="muted">{move || if spec().model == PolicyModel::Large {
                    "L has more parameters than S, so each of its generations costs more FLOPs: the FLOPs rows compare them."
                } else {
                    "Your model is shown five worked examples before each problem, and the built-in verifier scores its steps. Its generations cost FLOPs by its own parameters: the FLOPs rows compare them."
                }}</p>
            </Show>
            <Show when=uses(|k| matches!(k, StrategyKind::BestOfN | StrategyKind::Beam | StrategyKind::Lookahead | StrategyKind::Dvts))>
                {choice("Vote", format!("{side}-select"),
                    vec![("weighted".into(), "weighted by the PRM".into()), ("naive".into(), "highest PRM score".into())],
                    move || spec().select.name().to_string(),
                    move |v| if let Some(s) = Selection::from_name(&v) { update(&|x| x.select = s) })}
            </Show>
            <Show when=uses(|k| matches!(k, StrategyKind::Beam | StrategyKind::Lookahead | StrategyKind::Dvts))>
                {choice("Beam width", format!("{side}-width"), opts(&["2", "4", "8", "16", "sqrt"]),
                    move || match spec().width { BeamWidth::Fixed(m) => m.to_string(), BeamWidth::Sqrt => "sqrt".into() },
                    move |v| {
                        let w = if v == "sqrt" { Some(BeamWidth::Sqrt) } else { v.parse().ok().map(BeamWidth::Fixed) };
                        if let Some(w) = w { update(&|x| x.width = w) }
                    })}
            </Show>
            <Show when=uses(|k| k == StrategyKind::Lookahead)>
                {choice("Lookahead steps k", format!("{side}-k"), opts(&["1", "2", "3", "4"]),
                    move || spec().k.to_string(),
                    move |v| if let Ok(k) = v.parse() { update(&|x| x.k = k) })}
            </Show>
            <Show when=uses(|k| k == StrategyKind::Revisions)>
                {move || {
                    let n = spec().n;
                    let divisors: Vec<(String, String)> = (1..=n).filter(|d| n % d == 0)
                        .map(|d| (d.to_string(), format!("{d} of {}", n / d))).collect();
                    choice("Chains", format!("{side}-chains"), divisors,
                        move || spec().chains.to_string(),
                        move |v| if let Ok(c) = v.parse() { update(&|x| x.chains = c) })
                }}
            </Show>
            <Show when=uses(|k| k == StrategyKind::Mix)>
                {choice("Sequential:parallel", format!("{side}-ratio"),
                    opts(&["0.0625", "0.25", "1", "4", "16"]),
                    move || spec().ratio.to_string(),
                    move |v| if let Ok(r) = v.parse() { update(&|x| x.ratio = r) })}
            </Show>
            <Show when=uses(StrategyKind::revises)>
                {choice("Final answer", format!("{side}-final"),
                    vec![("verifier".into(), "PRM-weighted vote".into()), ("majority".into(), "majority of all attempts".into()), ("last".into(), "each chain's last".into())],
                    move || spec().final_answer.name().to_string(),
                    move |v| if let Some(f) = RevisionSelection::from_name(&v) { update(&|x| x.final_answer = f) })}
                {choice("Earlier attempts seen", format!("{side}-context"), opts(&["1", "2", "3", "4", "8"]),
                    move || spec().context.to_string(),
                    move |v| if let Ok(c) = v.parse() { update(&|x| x.context = c) })}
            </Show>
        </fieldset>
    }
}

#[component]
fn MoreSettings(comparison: Memo<Comparison>, on_change: Callback<Comparison>) -> impl IntoView {
    let both = move |f: &dyn Fn(&mut ExperimentSpec)| {
        let mut c = comparison.get_untracked();
        let [mut left, mut right] = c.columns();
        f(&mut left);
        f(&mut right);
        c.left = left;
        c.right = Some(right);
        on_change.run(c);
    };
    let error = RwSignal::new(None::<String>);
    let on_seed = move |ev: leptos::ev::Event| match event_target_value(&ev).trim().parse::<u64>() {
        Ok(seed) => {
            error.set(None);
            both(&|s| s.seed = seed)
        }
        Err(_) => error.set(Some("The seed is a whole number from 0.".into())),
    };
    let on_temperature =
        move |ev: leptos::ev::Event| match event_target_value(&ev).trim().parse::<f32>() {
            Ok(t) if (0.0..=4.0).contains(&t) => {
                error.set(None);
                both(&|s| s.temperature = t)
            }
            _ => error.set(Some("The temperature runs from 0 (greedy) to 4.".into())),
        };
    view! {
        <div class="control-row">
            <label>
                "Seed "
                <input type="number" min="0" step="1" data-testid="seed"
                    prop:value=move || comparison.with(|c| c.left.seed.to_string())
                    on:change=on_seed/>
            </label>
            <label>
                "Temperature "
                <input type="number" min="0" max="4" step="0.1" data-testid="temperature"
                    prop:value=move || comparison.with(|c| c.left.temperature.to_string())
                    on:change=on_temperature/>
            </label>
            {choice("Step aggregation", "aggregation".into(),
                vec![("last".into(), "last step".into()), ("min".into(), "weakest step".into()), ("prod".into(), "product".into())],
                move || comparison.with(|c| c.left.agg.name().to_string()),
                move |v| if let Some(a) = StepAggregation::from_name(&v) { both(&|s| s.agg = a) })}
            {move || error.get().map(|e| view! { <p class="reason error" role="alert">{e}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `ponder run` runs for an address: its columns, as it reads them.
    fn ponder_run_reads(state: &UrlState) -> Vec<ExperimentSpec> {
        let (c, _) = Comparison::from_query(&state.to_query());
        std::iter::once(c.left).chain(c.right).collect()
    }

    #[test]
    fn an_address_that_leaves_the_race_to_the_page_is_written_out() {
        for query in [
            "view=compare",
            "view=classroom&hide=qr",
            "view=compare&seed=3",
            "view=compare&v=1&strategy=beam&seed=7&n=16&problem=3",
            "view=compare&v=1&strategy=majority&seed=1&n=2&q=(2%2B3)*4",
        ] {
            let given = UrlState::parse(query);
            let full = written_out(&given).unwrap_or_else(|| panic!("{query} is written out"));
            // The page runs the same race from either address, and `ponder run` now reads
            // both of its columns from the address.
            assert_eq!(comparison_of(&full), comparison_of(&given), "{query}");
            assert_eq!(
                ponder_run_reads(&full),
                comparison_of(&given).columns().to_vec(),
                "{query}"
            );
            assert_eq!(comparison_of(&full).custom, comparison_of(&given).custom);
            // Keys that are not the race's stay, and it is written once.
            assert_eq!(full.view, given.view);
            assert_eq!(full.get("hide"), given.get("hide"));
            assert_eq!(written_out(&full), None, "{query}");
        }
        // The default race is the one the page shows, on its problem and seed.
        let full = written_out(&UrlState::parse("view=compare")).expect("written out");
        assert_eq!(full.get("problem"), Some("224"));
        assert_eq!(full.get("seed"), Some("1"));
        assert_eq!(full.get("left.strategy"), Some("best-of-n"));
        assert_eq!(full.get("right.strategy"), Some("revisions"));
    }

    #[test]
    fn a_two_column_address_is_left_as_it_is() {
        let query = "view=compare&v=1&seed=2&problem=110&n=8&left.strategy=revisions\
                     &left.chains=2&right.strategy=majority";
        assert_eq!(written_out(&UrlState::parse(query)), None);
    }

    #[test]
    fn the_notes_on_the_given_link_are_kept() {
        let given = UrlState::parse("view=compare&v=1&strategy=beam&n=16");
        assert!(!given.warnings.is_empty(), "a link without a seed is noted");
        let full = written_out(&given).expect("written out");
        assert_eq!(full.warnings, given.warnings);
    }
}
