//! One column of the Compare race: the strategy's attempts as their steps arrive (each
//! step with the PRM's score as a colour and a number), beam rounds, which attempts each
//! revision saw, the live vote, the selected answer with the checker's verdict, and the
//! compute spent. Large budgets collapse into a grid; details come on hover, focus or tap.

use leptos::prelude::*;
use ponder_core::arithmetic::{check_solution, Problem};
use ponder_core::Path;

use crate::column_state::{attempt_label, ColumnState, Node};
use crate::race_controller::{Download, Phase, RaceController};
use crate::race_summary::{dark_text_on, flops, grouped, score_colour, short_score};
use crate::strategy_names::describe;
use crate::worker_protocol::EngineKind;

/// Above this many attempts a column shows a grid of cells instead of one row each.
pub const GRID_ABOVE: usize = 32;

#[component]
pub fn RaceColumn(
    /// 0 for the left column, 1 for the right.
    col: usize,
    /// Called by the Retry button after a failed download, run or worker.
    on_retry: Callback<()>,
) -> impl IntoView {
    let race = RaceController::use_context();
    let signals = race.columns[col];
    let side = if col == 0 { "left" } else { "right" };
    let selected_path: RwSignal<Option<Path>> = RwSignal::new(None);
    let show_check = RwSignal::new(false);
    let revisions = move || {
        signals
            .spec
            .with(|s| s.is_some_and(|s| s.strategy.revises()))
    };
    // A new run clears the detail view.
    Effect::new(move |_| {
        signals.spec.track();
        selected_path.set(None);
        show_check.set(false);
    });

    let truth = move || {
        race.problem
            .with(|p| p.as_ref().map(|p| p.truth.to_string()))
    };
    let answer = move || {
        signals
            .outcome
            .with(|o| o.as_ref().and_then(|(o, _)| o.answer.clone()))
    };
    let correct = move || match (answer(), truth()) {
        (Some(a), Some(t)) => Some(a == t),
        (None, Some(_)) => Some(false),
        _ => None,
    };
    let phase_attr = move || match signals.phase.get() {
        Phase::Idle => "idle",
        Phase::Loading => "loading",
        Phase::Running => "running",
        Phase::Waiting => "waiting",
        Phase::Finished => "finished",
        Phase::LoadFailed { .. } => "load-failed",
        Phase::Failed(_) => "failed",
        Phase::Cancelled => "cancelled",
    };

    view! {
        <article class="column race-column" data-testid=format!("column-{side}")
            data-phase=phase_attr
            data-answer=move || answer().unwrap_or_default()
            data-correct=move || correct().map(|c| c.to_string()).unwrap_or_default()
            // The final tallies in the strategy's order, and the worker's seconds, for the
            // tests and the benchmark to compare with `ponder run`.
            data-votes=move || signals.outcome.with(|o| o.as_ref().map(|(o, _)| {
                o.votes.iter().map(|v| format!("{}:{}", v.answer, v.count)).collect::<Vec<_>>().join(",")
            }).unwrap_or_default())
            data-seconds=move || signals.outcome.with(|o| o.as_ref().map(|(_, s)| format!("{s:.3}")).unwrap_or_default())
            aria-labelledby=format!("column-{side}-title")>
            <h2 id=format!("column-{side}-title")>
                {if col == 0 { "Left: " } else { "Right: " }}
                {move || signals.spec.with(|s| s.as_ref().map(describe).unwrap_or_default())}
            </h2>
            <PhaseLine col on_retry/>
            <ComputeMeters col/>
            <Tally col/>
            <SelectedAnswer col show_check/>
            <Rounds col/>
            <Attempts col selected_path revisions=Signal::derive(revisions)/>
            <AttemptDetails col selected_path show_check revisions=Signal::derive(revisions)/>
        </article>
    }
}

/// Where column `col` is: loading (with the downloads), thinking, waiting, finished, or
/// what went wrong with a Retry. Classroom mode shows it too while its run is prepared.
#[component]
pub fn PhaseLine(col: usize, on_retry: Callback<()>) -> impl IntoView {
    let race = RaceController::use_context();
    let signals = race.columns[col];
    let download_line = move |downloads: Vec<Download>| {
        let loaded: u64 = downloads.iter().map(|d| d.loaded).sum();
        let total: Option<u64> = downloads.iter().map(|d| d.total).sum();
        let done = downloads.iter().filter(|d| d.done).count();
        let value = total.map(|t| (loaded as f64 / t.max(1) as f64 * 100.0).round());
        view! {
            <p class="phase">
                "Loading models (" {done} " of " {downloads.len()} " ready"
                {total.map(|t| format!(", {} of {} KB", grouped((loaded / 1024) as i128), grouped((t / 1024) as i128)))}
                ")"
            </p>
            <progress max="100" value=value.unwrap_or(0.0) aria-label="Model download"
                data-testid="download-progress"></progress>
        }
    };
    let engine_line = move || {
        signals.engine.get().map(|(engine, reason)| {
            let name = match engine {
                EngineKind::Gpu => "WebGPU",
                EngineKind::Cpu => "the CPU",
            };
            view! {
                <p class="engine" data-testid="engine" data-engine=move || match engine {
                    EngineKind::Gpu => "gpu",
                    EngineKind::Cpu => "cpu",
                }>"Runs on " {name} ": " {reason} "."</p>
            }
        })
    };
    view! {
        <div class="phase-line" aria-live="polite">
            {engine_line}
            {move || match signals.phase.get() {
                Phase::Idle => view! { <p class="phase">"Waiting for a problem."</p> }.into_any(),
                Phase::Loading => download_line(signals.downloads.get()).into_any(),
                Phase::Running => view! {
                    <p class="phase"><span class="spinner" aria-hidden="true"></span>"Thinking…"</p>
                }.into_any(),
                Phase::Waiting => view! {
                    <p class="phase waiting" data-testid="waiting">
                        "Done at " {move || grouped(signals.state.with(|s| s.compute.policy_tokens) as i128)}
                        " tokens: waiting while the other column spends its budget."
                    </p>
                }.into_any(),
                Phase::Finished => view! {
                    <p class="phase">
                        "Finished"
                        {move || signals.outcome.with(|o| o.as_ref().map(|(_, s)| format!(" in {s:.1} s of computing")))}
                        "."
                    </p>
                }.into_any(),
                Phase::LoadFailed { role, url, message } => view! {
                    <div class="load-error" role="alert" data-testid="load-error">
                        <p><strong>"Could not load the " {role.label()} "."</strong></p>
                        <p class="reason error">{message}</p>
                        <p class="reason"><code>{url}</code></p>
                        <button type="button" data-testid="retry" on:click=move |_| on_retry.run(())>
                            "Retry"
                        </button>
                    </div>
                }.into_any(),
                Phase::Failed(message) => view! {
                    <div class="load-error" role="alert" data-testid="run-error">
                        <p class="reason error">{message}</p>
                        <button type="button" data-testid="retry" on:click=move |_| on_retry.run(())>
                            "Retry"
                        </button>
                    </div>
                }.into_any(),
                Phase::Cancelled => view! {
                    <p class="phase" data-testid="cancelled">"Cancelled: what was computed stays below."</p>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn ComputeMeters(col: usize) -> impl IntoView {
    let race = RaceController::use_context();
    let signals = race.columns[col];
    let other = race.columns[1 - col];
    let budget = move || signals.spec.with(|s| s.map_or(0, |s| s.n));
    let finished = move || signals.state.with(ColumnState::finished_attempts);
    let tokens = move || {
        signals
            .state
            .with(|s| (s.compute.policy_tokens, s.compute.verifier_tokens))
    };
    let my_flops = move || signals.state.with(|s| s.compute.flops());
    // Both columns' FLOPs bars share one scale, so their lengths compare.
    let scale = move || {
        my_flops()
            .max(other.state.with(|s| s.compute.flops()))
            .max(1.0)
    };
    view! {
        <dl class="meters" data-testid="meters">
            <dt>"Generations"</dt>
            <dd data-testid="generations">
                {move || finished()} " attempts finished · budget " {budget}
            </dd>
            <dt>"Tokens"</dt>
            <dd data-testid="tokens">
                {move || grouped(tokens().0 as i128)} " sampled · "
                {move || grouped(tokens().1 as i128)} " read by the PRM"
            </dd>
            <dt>"FLOPs"</dt>
            <dd>
                <span data-testid="flops">{move || flops(my_flops())}</span>
                <meter min="0" max="1" value=move || my_flops() / scale()
                    aria-label="FLOPs spent, against the larger column"></meter>
            </dd>
        </dl>
    }
}

#[component]
fn Tally(col: usize) -> impl IntoView {
    let race = RaceController::use_context();
    let signals = race.columns[col];
    let truth = move || {
        race.problem
            .with(|p| p.as_ref().map(|p| p.truth.to_string()))
    };
    // The live tally while attempts finish; the strategy's own votes once it has chosen.
    let rows = move || {
        signals.state.with(|s| match &s.selected {
            Some((_, votes)) => (
                true,
                votes
                    .iter()
                    .map(|v| (v.answer.clone(), v.count, v.weight))
                    .collect::<Vec<_>>(),
            ),
            None => (
                false,
                s.tally()
                    .into_iter()
                    .map(|t| (t.answer, t.count, t.weight))
                    .collect(),
            ),
        })
    };
    view! {
        <div class="tally">
            <h3>{move || if rows().0 { "Votes" } else { "Votes so far" }}</h3>
            {move || {
                let (final_votes, mut rows) = rows();
                if rows.is_empty() {
                    return view! { <p class="muted">"No finished attempt yet."</p> }.into_any();
                }
                rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.total_cmp(&a.2)));
                let most = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
                let truth = truth();
                let shown = rows.len().min(8);
                let hidden = rows.len() - shown;
                view! {
                    <ul class="votes" data-testid="votes" data-final=final_votes.to_string()>
                        {rows.into_iter().take(shown).map(|(answer, count, weight)| {
                            let right = truth.as_deref() == Some(answer.as_str());
                            let width = format!("width: {}%", count as f64 / most as f64 * 100.0);
                            view! {
                                <li data-answer=answer.clone() data-count=count.to_string()
                                    data-weight=format!("{weight:.4}") class:right=right>
                                    <span class="vote-answer">{answer.clone()}{right.then_some(" ✓")}</span>
                                    <span class="vote-bar"><span style=width></span></span>
                                    <span class="vote-count">
                                        {format!("{count}×")}
                                        {(weight > 0.0).then(|| format!(" · weight {weight:.2}"))}
                                    </span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    {(hidden > 0).then(|| view! { <p class="muted">"and " {hidden} " other answers"</p> })}
                }.into_any()
            }}
        </div>
    }
}

#[component]
fn SelectedAnswer(col: usize, show_check: RwSignal<bool>) -> impl IntoView {
    let race = RaceController::use_context();
    let signals = race.columns[col];
    view! {
        {move || {
            let (answer, _) = signals.state.with(|s| s.selected.clone())?;
            let truth = race.problem.with(|p| p.as_ref().map(|p| p.truth))?;
            let right = answer.as_deref() == Some(truth.to_string().as_str());
            let said = answer.clone().unwrap_or_else(|| "no answer".into());
            Some(view! {
                <div class="selected" class:right=right class:wrong=!right data-testid="selected">
                    <p>
                        <strong>"Answer: " {said}</strong>
                        {if right {
                            " ✓ right".to_string()
                        } else {
                            format!(" ✗ wrong (the answer is {})", grouped(truth as i128))
                        }}
                    </p>
                    <button type="button" class="secondary" aria-pressed=move || show_check.get().to_string()
                        on:click=move |_| show_check.update(|v| *v = !*v)>
                        {move || if show_check.get() { "Hide the checker's verdicts" } else { "Check the steps" }}
                    </button>
                </div>
            })
        }}
    }
}

#[component]
fn Rounds(col: usize) -> impl IntoView {
    let race = RaceController::use_context();
    let signals = race.columns[col];
    view! {
        {move || signals.state.with(|s| {
            if s.rounds.is_empty() {
                return None;
            }
            Some(view! {
                <div class="rounds">
                    <h3>"Rounds"</h3>
                    <ol>
                        {s.rounds.iter().map(|r| {
                            let kept: Vec<f32> = r.kept.iter()
                                .filter_map(|p| s.get(p).and_then(|n| n.value))
                                .collect();
                            let best = kept.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                            let worst = kept.iter().copied().fold(f32::INFINITY, f32::min);
                            let kept_scores = match kept.len() {
                                0 => String::new(),
                                1 => format!(" (score {})", short_score(best)),
                                _ => format!(" (scores {} to {})", short_score(worst), short_score(best)),
                            };
                            view! {
                                <li data-testid="round">
                                    "Round " {r.round} ": kept " {r.kept.len()}
                                    {kept_scores}
                                    ", pruned " {r.pruned.len()}
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                </div>
            })
        })}
    }
}

/// The colour and number of a score, or a blank for a step not scored yet.
fn score_chip(score: Option<f32>) -> impl IntoView {
    match score {
        Some(s) => {
            let style = format!(
                "background: {}; color: {}",
                score_colour(s),
                if dark_text_on(s) { "#111" } else { "#fff" }
            );
            view! { <span class="chip" style=style title=format!("PRM score {s:.3}")>{short_score(s)}</span> }
                .into_any()
        }
        None => view! { <span class="chip unscored" title="not scored yet">"·"</span> }.into_any(),
    }
}

/// What an attempt's row draws.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    /// The scores of the node's own steps (`None` for a step not scored yet).
    own: Vec<Option<f32>>,
    value: Option<f32>,
    answer: Option<Option<String>>,
    pruned_in: Option<usize>,
}

/// The scores of the steps a node's own attempt ends with (a beam node's scores cover its
/// ancestors' steps first).
fn own_scores(node: &Node, steps_before: usize, own: usize) -> Vec<Option<f32>> {
    (0..own)
        .map(|i| node.scores.get(steps_before + i).copied())
        .collect()
}

#[component]
fn Attempts(
    col: usize,
    selected_path: RwSignal<Option<Path>>,
    revisions: Signal<bool>,
) -> impl IntoView {
    let race = RaceController::use_context();
    let signals = race.columns[col];
    let grid = move || signals.state.with(|s| s.attempts().len() > GRID_ABOVE);
    // Rows for small budgets; a large one is drawn by `AttemptGrid` instead.
    let paths = move || {
        signals.state.with(|s| {
            let attempts = s.attempts();
            if attempts.len() > GRID_ABOVE {
                return Vec::new();
            }
            attempts.iter().map(|n| n.path.clone()).collect::<Vec<_>>()
        })
    };
    let selected_answer = move || {
        signals
            .state
            .with(|s| s.selected.as_ref().and_then(|(a, _)| a.clone()))
    };
    view! {
        <div class="attempts">
            <h3>"Attempts"</h3>
            <ul class="attempt-list" class:hidden=grid data-testid="attempts">
                <For each=paths key=|p| p.clone() let:path>
                    {
                        let path_for_node = path.clone();
                        // A memo of what the row draws: it redraws only when that changed,
                        // and copies no step text.
                        let node = Memo::new(move |_| signals.state.with(|s| {
                            let n = s.get(&path_for_node)?;
                            let before = s.steps_before(&path_for_node);
                            Some(Row {
                                own: own_scores(n, before, n.steps.len()),
                                value: n.value,
                                answer: n.answer.clone(),
                                pruned_in: n.pruned_in,
                            })
                        }));
                        let node = move || node.get();
                        let p = path.clone();
                        let is_selected = move || selected_path.with(|s| s.as_ref() == Some(&p));
                        let p = path.clone();
                        let label = attempt_label(&path, revisions.get_untracked());
                        // Read after the visible label and answer: what the colours say.
                        let aria = move || {
                            let Some(n) = node() else { return String::new() };
                            let value = n.value.map(|v| format!(", score {v:.2}")).unwrap_or_default();
                            let pruned = n.pruned_in.map(|r| format!(", pruned in round {r}")).unwrap_or_default();
                            format!("{value}{pruned}")
                        };
                        let select = move || selected_path.set(Some(p.clone()));
                        let select_hover = select.clone();
                        let select_focus = select.clone();
                        view! {
                            <li><button type="button" class="attempt"
                                class:selected=is_selected
                                class:pruned=move || node().is_some_and(|n| n.pruned_in.is_some())
                                class:chosen=move || node().is_some_and(|n| {
                                    selected_answer().is_some() && n.answer.clone().flatten() == selected_answer()
                                })
                                data-testid="attempt"
                                on:click=move |_| select()
                                on:mouseenter=move |_| select_hover()
                                on:focus=move |_| select_focus()>
                                <span class="sr-only">"Attempt "</span>
                                <span class="attempt-label">{label.clone()}</span>
                                <span class="steps" aria-hidden="true">
                                    {move || node().map(|n| {
                                        // A grid cell is one square: the attempt's value.
                                        if grid() {
                                            score_chip(n.value.or(n.own.last().copied().flatten())).into_any()
                                        } else {
                                            n.own.into_iter().map(score_chip).collect_view().into_any()
                                        }
                                    })}
                                </span>
                                <span class="attempt-answer">
                                    {move || node().map(|n| match n.answer {
                                        Some(Some(a)) => format!("→ {a}"),
                                        Some(None) => "→ none".into(),
                                        None => "…".into(),
                                    })}
                                </span>
                                <span class="sr-only">{aria}</span>
                            </button></li>
                        }
                    }
                </For>
            </ul>
            <Show when=grid>
                <AttemptGrid col selected_path revisions/>
            </Show>
        </div>
    }
}

/// A large budget's attempts as one square each, coloured by the attempt's value. The
/// cells are written as one piece of HTML per change and listened to from their list
/// (hundreds of cells, each replaced when a search round ends, would otherwise cost the
/// page a long task per round); focus survives the redraw.
#[component]
fn AttemptGrid(
    col: usize,
    selected_path: RwSignal<Option<Path>>,
    revisions: Signal<bool>,
) -> impl IntoView {
    use wasm_bindgen::JsCast;
    let race = RaceController::use_context();
    let signals = race.columns[col];
    let list = NodeRef::<leptos::html::Ul>::new();
    let html = Memo::new(move |_| {
        let selected = selected_path.get();
        let revisions = revisions.get();
        signals.state.with(|s| {
            let chosen = s.selected.as_ref().and_then(|(a, _)| a.clone());
            let mut out = String::new();
            for n in s.attempts() {
                let score = n.value.or_else(|| n.scores.last().copied());
                let (style, text) = match score {
                    Some(v) => (format!("background: {}", score_colour(v)), short_score(v)),
                    None => (String::new(), "·".to_string()),
                };
                let answer = match &n.answer {
                    Some(Some(a)) => format!("answer {a}"),
                    Some(None) => "no answer".into(),
                    None => "in progress".into(),
                };
                let value = n
                    .value
                    .map(|v| format!(", score {v:.2}"))
                    .unwrap_or_default();
                let pruned = n
                    .pruned_in
                    .map(|r| format!(", pruned in round {r}"))
                    .unwrap_or_default();
                let mut class = String::from("attempt");
                if n.pruned_in.is_some() {
                    class.push_str(" pruned");
                }
                if chosen.is_some() && n.answer.clone().flatten() == chosen {
                    class.push_str(" chosen");
                }
                if selected.as_ref() == Some(&n.path) {
                    class.push_str(" selected");
                }
                let chip = if score.is_some() {
                    "chip"
                } else {
                    "chip unscored"
                };
                // A cell names its attempt as the rows do (`1·6` for chain 1's sixth
                // revision); `data-path` is the path itself, for picking it out on a click.
                let label = attempt_label(&n.path, revisions);
                // Every interpolated value is digits, dots, signs or fixed words.
                out.push_str(&format!(
                    "<li><button type=\"button\" class=\"{class}\" data-testid=\"attempt\" \
                     data-path=\"{path}\" title=\"Attempt {label}: {text}\"><span class=\"{chip}\" \
                     style=\"{style}\"></span><span class=\"sr-only\">Attempt {label}: {answer}{value}\
                     {pruned}</span></button></li>",
                    path = n.path,
                ));
            }
            out
        })
    });
    Effect::new(move |_| {
        let html = html.get();
        let Some(ul) = list.get() else { return };
        let ul: &web_sys::HtmlElement = ul.as_ref();
        let focused = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .filter(|e| ul.contains(Some(e)))
            .and_then(|e| e.get_attribute("data-path"));
        ul.set_inner_html(&html);
        if let Some(path) = focused {
            if let Ok(Some(cell)) = ul.query_selector(&format!("[data-path=\"{path}\"]")) {
                if let Ok(cell) = cell.dyn_into::<web_sys::HtmlElement>() {
                    let _ = cell.focus();
                }
            }
        }
    });
    let pick = move |target: Option<web_sys::EventTarget>| {
        let path = target
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("[data-path]").ok().flatten())
            .and_then(|e| e.get_attribute("data-path"))
            .and_then(|p| parse_path(&p));
        if let Some(path) = path {
            if selected_path.get_untracked().as_ref() != Some(&path) {
                selected_path.set(Some(path));
            }
        }
    };
    view! {
        <ul class="attempt-list grid" data-testid="attempt-grid" node_ref=list
            on:click=move |ev| pick(ev.target())
            on:focusin=move |ev| pick(ev.target())
            on:mouseover=move |ev| pick(ev.target())></ul>
    }
}

/// Reads a path as `Path`'s Display writes it (`3.0.2`, `·` for the root).
fn parse_path(text: &str) -> Option<Path> {
    if text == "·" {
        return Some(Path::root());
    }
    text.split('.')
        .map(|i| i.parse::<u32>().ok())
        .collect::<Option<Vec<u32>>>()
        .map(Path)
}

#[component]
fn AttemptDetails(
    col: usize,
    selected_path: RwSignal<Option<Path>>,
    show_check: RwSignal<bool>,
    revisions: Signal<bool>,
) -> impl IntoView {
    let race = RaceController::use_context();
    let signals = race.columns[col];
    // Without a pick, the details show the attempt the strategy chose (its best), or the
    // latest attempt while it runs.
    let shown_path = move || {
        selected_path.get().or_else(|| {
            signals.state.with(|s| {
                let attempts = s.attempts();
                let chosen = s.selected.as_ref().and_then(|(a, _)| a.clone());
                let best = attempts
                    .iter()
                    .filter(|n| chosen.is_some() && n.answer.clone().flatten() == chosen)
                    .max_by(|a, b| a.value.unwrap_or(0.0).total_cmp(&b.value.unwrap_or(0.0)))
                    .map(|n| n.path.clone());
                best.or_else(|| attempts.last().map(|n| n.path.clone()))
            })
        })
    };
    view! {
        <section class="attempt-details" aria-live="off" data-testid="attempt-details">
            {move || {
                let path = shown_path()?;
                let problem = race.problem.with(|p| p.as_ref().map(|p| p.text.clone()))?;
                let (node, steps) = signals.state.with(|s| Some((s.get(&path)?.clone(), s.attempt_steps(&path))))?;
                let check = show_check.get().then(|| {
                    Problem::parse(&problem).ok().map(|p| check_solution(&p, &steps.concat()))
                }).flatten();
                let first_error = check.as_ref().and_then(|c| c.first_error());
                let label = attempt_label(&path, revisions.get());
                let saw = node.saw.clone().map(|saw| {
                    if saw.is_empty() {
                        "It saw no earlier attempt (they did not fit the model's context).".to_string()
                    } else {
                        let names: Vec<String> = saw.iter().map(|p| attempt_label(p, true)).collect();
                        format!("It saw attempt{} {}.", if saw.len() == 1 { "" } else { "s" }, names.join(", "))
                    }
                });
                Some(view! {
                    <h3>"Attempt " {label}</h3>
                    {saw.map(|s| view! { <p class="muted" data-testid="revision-saw">{s}</p> })}
                    <ol class="step-lines">
                        {steps.iter().enumerate().map(|(i, line)| {
                            let score = node.scores.get(i).copied();
                            let wrong = first_error == Some(i);
                            view! {
                                <li class:wrong=wrong>
                                    {score_chip(score)}
                                    <code>{line.trim_end().to_string()}</code>
                                    {wrong.then(|| view! { <strong class="first-wrong">" ← first wrong step"</strong> })}
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                    {check.map(|c| view! {
                        <p class="muted" data-testid="check-verdict">
                            {match c.first_error() {
                                Some(i) => format!("The checker finds step {} wrong.", i + 1),
                                None if c.is_flawless() => "The checker finds every step right.".to_string(),
                                None if c.is_correct() => "Every step the checker could read is right.".to_string(),
                                None => "Every step is right, but the attempt did not reach the answer.".to_string(),
                            }}
                        </p>
                    })}
                })
            }}
        </section>
    }
}
