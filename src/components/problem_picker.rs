//! Choosing the race's problem: a level and a problem of the shipped test set, another
//! one at the same level, or a problem typed by hand, checked by the task's own parser
//! with its message shown beside the field.

use leptos::prelude::*;
use ponder_core::arithmetic::Problem;
use ponder_core::spec::comparison::{Comparison, ProblemChoice};

use crate::problem_bank;

#[component]
pub fn ProblemPicker(
    comparison: Memo<Comparison>,
    on_change: Callback<Comparison>,
) -> impl IntoView {
    let choose = move |index: u64, custom: Option<String>| {
        let mut c = comparison.get_untracked();
        c.left.problem = index;
        if let Some(r) = c.right.as_mut() {
            r.problem = index;
        }
        c.custom = custom;
        on_change.run(c);
    };
    // The level and place in it of a set problem; `None` for a custom one.
    let place = move || match comparison.with(Comparison::problem) {
        ProblemChoice::Set(index) => {
            let level = problem_bank::problem(index)?.level.number();
            let at = problem_bank::indices_at(level)
                .iter()
                .position(|&i| i == index)?;
            Some((level, at))
        }
        ProblemChoice::Custom(_) => None,
    };
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move || {
        let text = typed.get_untracked();
        match Problem::parse(text.trim()) {
            Ok(p) => {
                error.set(None);
                let index = comparison.with_untracked(|c| c.left.problem);
                choose(index, Some(p.text().to_string()));
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    view! {
        <fieldset class="problem-picker">
            <legend>"Problem"</legend>
            <div class="control-row">
                <label>
                    "Level "
                    <select data-testid="level" on:change=move |ev| {
                        if let Ok(level) = event_target_value(&ev).parse::<u8>() {
                            if let Some(&first) = problem_bank::indices_at(level).first() {
                                choose(first, None);
                            }
                        }
                    }>
                        {move || {
                            let current = place().map(|(l, _)| l);
                            let custom = current.is_none().then(|| view! {
                                <option value="" selected=true>"your own"</option>
                            });
                            view! {
                                {custom}
                                {(1..=5u8).map(|l| view! {
                                    <option value=l.to_string() selected=current == Some(l)>{l}</option>
                                }).collect_view()}
                            }
                        }}
                    </select>
                </label>
                <label>
                    "Number "
                    <input type="number" min="1" max="100" data-testid="problem-number"
                        disabled=move || place().is_none()
                        prop:value=move || place().map(|(_, at)| (at + 1).to_string()).unwrap_or_default()
                        on:change=move |ev| {
                            let Some((level, _)) = place() else { return };
                            let indices = problem_bank::indices_at(level);
                            match event_target_value(&ev).trim().parse::<usize>() {
                                Ok(n) if n >= 1 && n <= indices.len() => choose(indices[n - 1], None),
                                _ => error.set(Some(format!(
                                    "Level {level} has problems 1 to {}.", indices.len()))),
                            }
                        }/>
                </label>
                <button type="button" class="secondary" data-testid="another-problem"
                    on:click=move |_| {
                        let level = place().map_or(3, |(l, _)| l);
                        let indices = problem_bank::indices_at(level);
                        if indices.len() < 2 {
                            return;
                        }
                        let current = comparison.with_untracked(|c| c.left.problem);
                        // A different problem of the level, uniformly.
                        let others: Vec<u64> = indices.into_iter().filter(|&i| i != current).collect();
                        let pick = (js_sys::Math::random() * others.len() as f64) as usize;
                        choose(others[pick.min(others.len() - 1)], None);
                    }>
                    "Another one at this level"
                </button>
            </div>
            <div class="control-row">
                <label>
                    "Or type your own "
                    <input type="text" data-testid="custom-problem" placeholder="(37+48)*6-29"
                        spellcheck="false" autocomplete="off"
                        aria-invalid=move || error.get().is_some().to_string()
                        aria-describedby="custom-problem-error"
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            if ev.key() == "Enter" {
                                ev.prevent_default();
                                submit();
                            }
                        }/>
                </label>
                <button type="button" class="secondary" data-testid="use-custom" on:click=move |_| submit()>
                    "Use this problem"
                </button>
            </div>
            <p id="custom-problem-error" class="reason error" data-testid="custom-problem-error"
                role="alert">
                {move || error.get()}
            </p>
        </fieldset>
    }
}
