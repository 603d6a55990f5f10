//! The app shell: header, navigation, the current view, and the compact backend status.

use leptos::prelude::*;

use crate::backend::BackendReport;
use crate::components::nav_bar::NavBar;
use crate::keyboard::{Shortcuts, ShortcutsToggle};
use crate::race_controller::RaceController;
use crate::router::Router;
use crate::url_state::View;
use crate::views::{
    about::AboutView, classroom::ClassroomView, compare::CompareView, experiment::ExperimentView,
    models::ModelsView,
};
use crate::worker_handle::{BackendStatus, WorkerHandle};

#[component]
pub fn App() -> impl IntoView {
    let router = Router::provide();
    let worker = WorkerHandle::provide();
    // The race outlives the Compare view, so leaving it and coming back loses nothing.
    RaceController::provide();
    crate::sweep_runner::SweepRunner::provide();

    // The tab title names the view, so history entries and bookmarks are told apart.
    Effect::new(move |_| {
        let title = format!("{} · Ponder", router.state.with(|s| s.view.title()));
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&title);
        }
    });

    // A new view takes the keyboard focus, as a new page would: a keyboard or screen-reader
    // user lands at its start instead of on the link that led there (not on first load).
    Effect::new(move |previous: Option<View>| {
        let view = router.state.with(|s| s.view);
        if previous.is_some_and(|p| p != view) {
            focus_main();
        }
        view
    });

    // `c` enters classroom mode from any view (not while typing in a field, and not once
    // the shortcuts are turned off).
    let shortcuts = Shortcuts::provide();
    let on_key = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(
        move |ev: web_sys::KeyboardEvent| {
            if ev.key() == "c"
                && shortcuts.allow(&ev)
                && router.state.with_untracked(|s| s.view) != View::Classroom
            {
                router.go_to(View::Classroom);
            }
        },
    );
    if let Some(window) = web_sys::window() {
        use wasm_bindgen::JsCast;
        let _ = window.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
    }
    // The app lives as long as the page.
    on_key.forget();

    let warnings = move || router.state.with(|s| s.warnings.clone());
    let backend_label = move || match worker.status.get() {
        BackendStatus::Probing => "probing…".to_string(),
        BackendStatus::Ready(report) => report.label(),
        BackendStatus::Failed(_) => "worker failed".to_string(),
    };
    let backend_kind = move || match worker.status.get() {
        BackendStatus::Ready(BackendReport::WebGpu(_)) => "webgpu",
        BackendStatus::Ready(BackendReport::Cpu { .. }) => "cpu",
        BackendStatus::Probing => "probing",
        BackendStatus::Failed(_) => "failed",
    };

    view! {
        // The page's <base> makes a bare `#main` resolve to the site's root, which would
        // load it afresh and drop the link's state, so the jump is done here.
        <a class="skip-link" href="#main" on:click=move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            focus_main();
        }>"Skip to content"</a>
        <header class="app-header">
            <a class="brand" href="?view=compare" on:click=move |ev: leptos::ev::MouseEvent| {
                if ev.button() == 0 && !ev.ctrl_key() && !ev.meta_key() && !ev.shift_key() {
                    ev.prevent_default();
                    router.go_to(View::Compare);
                }
            }>"Ponder"</a>
            <NavBar/>
            <a class="backend-badge" data-testid="backend-badge" data-state=backend_kind
                href="?view=models" title="Backend details"
                on:click=move |ev: leptos::ev::MouseEvent| {
                    if ev.button() == 0 && !ev.ctrl_key() && !ev.meta_key() && !ev.shift_key() {
                        ev.prevent_default();
                        router.go_to(View::Models);
                    }
                }>
                {backend_label}
            </a>
            <ShortcutsToggle/>
        </header>
        <Show when=move || !warnings().is_empty()>
            <div class="notice" role="status" data-testid="url-warnings">
                <ul>{move || warnings().into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            </div>
        </Show>
        <main id="main" tabindex="-1">
            {move || match router.state.with(|s| s.view) {
                View::Compare => view! { <CompareView/> }.into_any(),
                View::Experiment => view! { <ExperimentView/> }.into_any(),
                View::Classroom => view! { <ClassroomView/> }.into_any(),
                View::Models => view! { <ModelsView/> }.into_any(),
                View::About => view! { <AboutView/> }.into_any(),
            }}
        </main>
    }
}

/// Moves the keyboard focus to the view (`main` has `tabindex="-1"` for this).
fn focus_main() {
    use wasm_bindgen::JsCast;
    let main = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("main"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(main) = main {
        let _ = main.focus();
    }
}
