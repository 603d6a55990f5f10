//! Classroom: a race paced for a room. The run is computed first (the same deterministic
//! run the Compare view shows for the same link), then presented one event at a time in
//! large type with a caption: space or → steps forward, ← steps back (exactly to what was
//! shown), `p` plays. A QR code carries the link to students' phones; `hide=controls,qr`
//! in the link hides those, and `predict=1` asks the class to predict before the reveal.

use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use ponder_core::spec::comparison::Comparison;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::classroom::{caption, fold, timeline, Moment};
use crate::components::race_column::{PhaseLine, RaceColumn};
use crate::keyboard::{self, Shortcuts};
use crate::race_controller::{ColumnSignals, Phase, RaceController, RaceProblem};
use crate::router::Router;
use crate::strategy_names::{describe, short_name};
use crate::url_state::View;
use crate::views::compare::{
    comparison_of, keep_race_written_out, resolve, share_link, verdict_of,
};

/// Playing speeds, in events per second.
pub const SPEEDS: [u32; 4] = [2, 5, 10, 25];

/// The tour of the paper's lessons: a title, what to look for, and the link's query.
pub const TOUR: [(&str, &str, &str); 5] = [
    (
        "1. A verifier beats majority voting on the same samples",
        "Both columns draw the same 16 samples (same seed, same draws); the left counts votes, \
         the right weighs each answer by the process reward model's scores.",
        "v=1&seed=1&problem=TOUR1&n=16&left.strategy=majority&right.strategy=best-of-n&right.select=weighted",
    ),
    (
        "2a. On an easy problem, revisions win",
        "A level-1 problem: the reviser corrects its own slips, while beam search spends its \
         budget exploring.",
        "v=1&seed=1&problem=TOUR2A&n=16&left.strategy=revisions&right.strategy=beam",
    ),
    (
        "2b. On a hard problem, search wins",
        "A level-4 problem: the reviser repeats its mistakes, while beam search, pruned by \
         the verifier step by step, finds the answer.",
        "v=1&seed=1&problem=TOUR2B&n=16&left.strategy=revisions&right.strategy=beam",
    ),
    (
        "3a. At the same FLOPs, the small model thinking longer can match a larger one",
        "A level-2 problem: S draws 16 samples and the verifier weighs them; its larger \
         sibling L draws 2, about the same policy FLOPs (the race is drawn in FLOPs). Both \
         find the answer.",
        "v=1&seed=1&problem=TOUR3A&n=16&left.strategy=best-of-n&right.strategy=best-of-n&right.model=l&right.n=2",
    ),
    (
        "3b. On a hard problem, the larger model wins",
        "A level-4 problem, the same race: S's 16 samples do not find the answer, L's 2 do. \
         Our L read 181 times S's training tokens, so test-time compute rarely makes up for \
         it here; the paper found the same on its hardest questions.",
        "v=1&seed=1&problem=TOUR3B&n=16&left.strategy=best-of-n&right.strategy=best-of-n&right.model=l&right.n=2",
    ),
];

#[component]
pub fn ClassroomView() -> impl IntoView {
    let router = Router::use_context();
    let race = RaceController::use_context();
    let comparison = Memo::new(move |_| router.state.with(comparison_of));
    let problem = Memo::new(move |_| resolve(&comparison.get()));
    keep_race_written_out(router);
    let hidden = move |what: &str| {
        router.state.with(|s| {
            s.get("hide")
                .is_some_and(|h| h.split(',').any(|x| x.trim() == what))
        })
    };
    let predicting = move || router.state.with(|s| s.get("predict") == Some("1"));

    // The run itself: the Compare view's race for the same link, computed in the workers.
    Effect::new(move |_| race.start_soon_if_new(comparison.get(), problem.get_untracked()));
    let moments: Memo<Option<Vec<Moment>>> = Memo::new(move |_| {
        let c = comparison.get();
        let done = race
            .columns
            .iter()
            .all(|col| col.phase.get() == Phase::Finished);
        (done && race.comparison.get().as_ref() == Some(&c))
            .then(|| timeline([&race.recorded(0), &race.recorded(1)]))
    });

    // What the room sees: columns of their own, fed from a prefix of the timeline.
    let shown = RaceController {
        columns: [ColumnSignals::new(), ColumnSignals::new()],
        problem: race.problem,
        comparison: race.comparison,
        running: RwSignal::new(false),
    };
    let k = RwSignal::new(0usize);
    let prediction = RwSignal::new(None::<&'static str>);
    Effect::new(move |_| {
        moments.track();
        k.set(0);
    });
    Effect::new(move |_| {
        let step = k.get();
        let columns = comparison.with(Comparison::columns);
        moments.with(|m| {
            let Some(m) = m else { return };
            let states = fold(m, step);
            for (col, state) in states.into_iter().enumerate() {
                let signals = shown.columns[col];
                let last = m.iter().rposition(|x| x.col == col);
                let done = last.is_none_or(|i| i < step);
                signals.spec.set(Some(columns[col]));
                signals.state.set(state);
                signals.outcome.set(
                    done.then(|| race.columns[col].outcome.get_untracked())
                        .flatten(),
                );
                signals.phase.set(if done {
                    Phase::Finished
                } else {
                    Phase::Running
                });
            }
        });
    });
    let total = move || moments.with(|m| m.as_ref().map_or(0, Vec::len));
    let shortcuts = Shortcuts::use_context();
    let step_by = move |delta: i64| {
        let n = total() as i64;
        k.update(|k| *k = (*k as i64 + delta).clamp(0, n) as usize);
    };
    let caption_text = move || {
        let step = k.get();
        let columns = comparison.with(Comparison::columns);
        moments.with(|m| {
            let m = m.as_ref()?;
            if step == 0 {
                return Some(if shortcuts.enabled.get() {
                    "Press space or → to show the first event.".to_string()
                } else {
                    "Press Next → to show the first event.".to_string()
                });
            }
            let moment = &m[step - 1];
            let spec = columns[moment.col];
            let before = fold(m, step - 1);
            let revisions = spec.strategy.revises();
            let who = capitalized(short_name(spec.strategy));
            Some(caption(&who, &moment.event, &before[moment.col], revisions))
        })
    };

    // Playing: one event per tick at the chosen speed, stopping at the end. The interval
    // is kept here, not only in the effect, so leaving the view while it plays clears it:
    // a tick after that would read this view's signals, which are gone.
    let playing = RwSignal::new(false);
    let speed = RwSignal::new(SPEEDS[1]);
    let ticking: Arc<Mutex<Option<IntervalHandle>>> = Arc::default();
    let stop_ticking = {
        let ticking = ticking.clone();
        move || {
            if let Some(handle) = ticking.lock().ok().and_then(|mut t| t.take()) {
                handle.clear();
            }
        }
    };
    Effect::new({
        let stop_ticking = stop_ticking.clone();
        move |_| {
            stop_ticking();
            if !playing.get() {
                return;
            }
            let period = std::time::Duration::from_millis(1000 / u64::from(speed.get().max(1)));
            let handle = set_interval_with_handle(
                move || {
                    if k.get_untracked() >= total() {
                        playing.set(false);
                    } else {
                        step_by(1);
                    }
                },
                period,
            )
            .ok();
            if let Ok(mut slot) = ticking.lock() {
                *slot = handle;
            }
        }
    });
    on_cleanup(stop_ticking);

    // The keyboard, while this view is shown (not while typing in a field, and not once
    // the shortcuts are turned off).
    let on_key =
        Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(move |ev: web_sys::KeyboardEvent| {
            if !shortcuts.allow(&ev) {
                return;
            }
            match ev.key().as_str() {
                // Space on a focused button or link is that control's own key.
                " " if keyboard::on_control(&ev) => {}
                " " | "ArrowRight" => {
                    ev.prevent_default();
                    playing.set(false);
                    step_by(1);
                }
                "ArrowLeft" => {
                    ev.prevent_default();
                    playing.set(false);
                    step_by(-1);
                }
                "p" => {
                    ev.prevent_default();
                    playing.update(|p| *p = !*p)
                }
                "Home" => {
                    ev.prevent_default();
                    k.set(0)
                }
                "End" => {
                    ev.prevent_default();
                    k.set(total())
                }
                _ => {}
            }
        });
    if let Some(window) = web_sys::window() {
        let _ = window.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
    }
    let on_key = send_wrapper::SendWrapper::new(on_key);
    on_cleanup(move || {
        if let Some(window) = web_sys::window() {
            let _ = window
                .remove_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
        }
    });

    let link = move || share_link("classroom", &comparison.get());
    let qr = move || qr_svg(&link());

    view! {
        <section class="view classroom" data-testid="view-classroom" aria-labelledby="view-title">
            <h1 id="view-title" class="sr-only">"Classroom"</h1>
            <Show when=move || !hidden("qr")>
                <figure class="qr" data-testid="qr">
                    <div inner_html=qr></div>
                    <figcaption>"Open this run on your phone"</figcaption>
                </figure>
            </Show>
            {move || match problem.get() {
                Ok(p) => view! {
                    <p class="race-problem" data-testid="race-problem">"Problem: " <code>{p.text}</code></p>
                }.into_any(),
                Err(message) => view! {
                    <p class="reason error" role="alert">"This link's problem cannot run: " {message}</p>
                }.into_any(),
            }}
            {move || {
                let [l, r] = comparison.with(Comparison::columns);
                (predicting() && prediction.get().is_none()).then(|| view! {
                    <div class="predict" data-testid="predict">
                        <p class="lede">
                            "Before the reveal: who will find the answer, "
                            <strong>{short_name(l.strategy)}</strong> " (left) or "
                            <strong>{short_name(r.strategy)}</strong> " (right)?"
                        </p>
                        {["left only", "right only", "both", "neither"].into_iter().map(|choice| view! {
                            <button type="button" class="secondary" data-choice=choice
                                on:click=move |_| prediction.set(Some(choice))>{choice}</button>
                        }).collect_view()}
                    </div>
                })
            }}
            <Show when=move || !(predicting() && prediction.get().is_none())>
                <Show when=move || moments.with(Option::is_some)
                    fallback=move || view! { <Preparing comparison problem/> }>
                    <p class="caption" aria-live="polite" data-testid="caption">{caption_text}</p>
                    <Show when=move || !hidden("controls")>
                        <div class="control-row stepper">
                            <button type="button" data-testid="back" on:click=move |_| step_by(-1)>"← Back"</button>
                            <button type="button" data-testid="next" on:click=move |_| step_by(1)>"Next →"</button>
                            <button type="button" class="secondary" data-testid="play"
                                aria-pressed=move || playing.get().to_string()
                                on:click=move |_| playing.update(|p| *p = !*p)>
                                {move || match (playing.get(), shortcuts.enabled.get()) {
                                    (true, true) => "Pause (p)",
                                    (true, false) => "Pause",
                                    (false, true) => "Play (p)",
                                    (false, false) => "Play",
                                }}
                            </button>
                            <label>
                                "Speed "
                                <select on:change=move |ev| {
                                    if let Ok(v) = event_target_value(&ev).parse() { speed.set(v) }
                                }>
                                    {SPEEDS.into_iter().map(|s| view! {
                                        <option value=s.to_string() selected=s == speed.get_untracked()>{format!("{s} events/s")}</option>
                                    }).collect_view()}
                                </select>
                            </label>
                            <span class="muted" data-testid="step-count">
                                "Event " {move || k.get()} " of " {total}
                            </span>
                        </div>
                    </Show>
                    <PresentedRace shown/>
                    {move || {
                        let guess = prediction.get()?;
                        // Only once the verdict is out.
                        verdict_of(shown)?;
                        let right = |col: usize| shown.columns[col].outcome.with(|o| {
                            let truth = race.problem.with(|p| p.as_ref().map(|p| p.truth.to_string()));
                            o.as_ref().is_some_and(|(o, _)| o.answer == truth)
                        });
                        let actual = match (right(0), right(1)) {
                            (true, true) => "both",
                            (true, false) => "left only",
                            (false, true) => "right only",
                            (false, false) => "neither",
                        };
                        Some(view! {
                            <p class="verdict" data-testid="prediction-result">
                                {format!("The class predicted {guess}: it was {actual}{}", if guess == actual { ". Well predicted!" } else { "." })}
                            </p>
                        })
                    }}
                </Show>
            </Show>
            <Tour/>
        </section>
    }
}

/// What the room sees until the run can be presented: that it is being computed; or,
/// when a column could not load its models or run, the Compare view's message for it
/// with its Retry; or, after a cancel, a Retry. Without these the room would wait for a
/// run that is never coming.
#[component]
fn Preparing(
    comparison: Memo<Comparison>,
    problem: Memo<Result<RaceProblem, String>>,
) -> impl IntoView {
    let race = RaceController::use_context();
    let retry = Callback::new(move |()| {
        if let Ok(p) = problem.get_untracked() {
            race.start(comparison.get_untracked(), p);
        }
    });
    let failed = move |col: usize| {
        matches!(
            race.columns[col].phase.get(),
            Phase::LoadFailed { .. } | Phase::Failed(_)
        )
    };
    let cancelled = move || {
        race.columns
            .iter()
            .any(|c| c.phase.get() == Phase::Cancelled)
    };
    move || {
        if problem.with(Result::is_err) {
            // The view's alert says why nothing runs.
            return ().into_any();
        }
        let failing: Vec<usize> = (0..2).filter(|&col| failed(col)).collect();
        if !failing.is_empty() {
            return view! {
                <div class="classroom-error" data-testid="classroom-error">
                    {failing.into_iter().map(|col| {
                        let spec = race.columns[col].spec.get();
                        view! {
                            <p><strong>
                                {if col == 0 { "Left: " } else { "Right: " }}
                                {spec.as_ref().map(describe).unwrap_or_default()}
                            </strong></p>
                            <PhaseLine col on_retry=retry/>
                        }
                    }).collect_view()}
                </div>
            }
            .into_any();
        }
        if cancelled() {
            return view! {
                <div class="load-error" role="alert" data-testid="classroom-cancelled">
                    <p class="reason">
                        "The run was cancelled before both columns finished, so there is nothing to present yet."
                    </p>
                    <button type="button" data-testid="retry" on:click=move |_| retry.run(())>
                        "Retry"
                    </button>
                </div>
            }
            .into_any();
        }
        view! {
            <p class="phase" role="status" data-testid="preparing">
                <span class="spinner" aria-hidden="true"></span>
                "Computing the run in the background; it is presented once both columns finish."
            </p>
        }
        .into_any()
    }
}

/// The columns and verdict as the room sees them, from `shown`'s signals.
#[component]
fn PresentedRace(shown: RaceController) -> impl IntoView {
    // The columns read their controller from context: here, the presentation's.
    provide_context(shown);
    let retry = Callback::new(|()| {});
    view! {
        <div class="columns race">
            <RaceColumn col=0 on_retry=retry/>
            <RaceColumn col=1 on_retry=retry/>
        </div>
        <p class="verdict" role="status" aria-live="polite" data-testid="verdict">
            {move || verdict_of(shown)}
        </p>
    }
}

#[component]
fn Tour() -> impl IntoView {
    let router = Router::use_context();
    view! {
        <nav class="tour" aria-labelledby="tour-title">
            <h2 id="tour-title">"A tour of the paper's lessons"</h2>
            <ol>
                {TOUR.into_iter().map(|(title, about, query)| {
                    let query = tour_query(query);
                    let href = format!("?view=classroom&{query}");
                    view! {
                        <li>
                            <a href=href.clone() data-testid="tour-stop" on:click=move |ev: leptos::ev::MouseEvent| {
                                if ev.button() == 0 && !ev.ctrl_key() && !ev.meta_key() && !ev.shift_key() {
                                    ev.prevent_default();
                                    let mut state = router.state.get_untracked().with_view(View::Classroom);
                                    state.set_experiment(&query);
                                    router.navigate(state);
                                }
                            }>{title}</a>
                            <p class="muted">{about}</p>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </nav>
    }
}

/// A tour stop's query with its problem filled in.
pub fn tour_query(query: &str) -> String {
    query
        .replace("TOUR1", &crate::problem_bank::TOUR_PROBLEMS[0].to_string())
        .replace("TOUR2A", &crate::problem_bank::TOUR_PROBLEMS[1].to_string())
        .replace("TOUR2B", &crate::problem_bank::TOUR_PROBLEMS[2].to_string())
        .replace("TOUR3A", &crate::problem_bank::TOUR_PROBLEMS[3].to_string())
        .replace("TOUR3B", &crate::problem_bank::TOUR_PROBLEMS[4].to_string())
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The link as a QR code, an SVG drawn here (no request leaves the page).
fn qr_svg(link: &str) -> String {
    match qrcode::QrCode::new(link.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .build(),
        Err(e) => format!("<p>This link is too long for a QR code ({e}).</p>"),
    }
}
