//! Navigation by query string: the current [`UrlState`] as a signal, kept in step with the
//! address bar through the History API (`pushState` on navigation, `popstate` on Back and
//! Forward). The path is never touched, so any static file server works.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::url_state::{UrlState, View};

/// The URL state shared by every component through Leptos context.
#[derive(Clone, Copy)]
pub struct Router {
    pub state: RwSignal<UrlState>,
}

impl Router {
    /// Reads the current address, writes back its canonical form (so the address bar always
    /// names the view shown), listens for Back/Forward, and provides the router as context.
    pub fn provide() -> Router {
        let initial = UrlState::parse(&current_query());
        replace_query(&initial.to_query());
        let router = Router {
            state: RwSignal::new(initial),
        };
        let state = router.state;
        let on_pop = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            state.set(UrlState::parse(&current_query()));
        });
        if let Some(window) = web_sys::window() {
            let _ = window
                .add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
        }
        // The listener lives as long as the page.
        on_pop.forget();
        provide_context(router);
        router
    }

    pub fn use_context() -> Router {
        expect_context::<Router>()
    }

    /// Shows `view`, keeping every other key of the query, and adds a history entry.
    pub fn go_to(&self, view: View) {
        let next = self.state.get_untracked().with_view(view);
        self.navigate(next);
    }

    /// Replaces the whole state and adds a history entry (unless nothing changed).
    pub fn navigate(&self, next: UrlState) {
        let query = next.to_query();
        if query != current_query() {
            push_query(&query);
        }
        self.state.set(next);
    }

    /// Replaces the whole state without a new history entry.
    pub fn replace(&self, next: UrlState) {
        replace_query(&next.to_query());
        self.state.set(next);
    }

    /// Updates one query key in place without a new history entry, for state that changes
    /// often (a slider, a selection).
    pub fn set_param(&self, key: &str, value: Option<&str>) {
        self.state.update(|s| s.set(key, value));
        replace_query(&self.state.get_untracked().to_query());
    }
}

fn current_query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// The address with `query` on the current path. A bare `?…` would resolve against the
/// page's `<base>` (the site's folder) and turn `…/index.html?…` into `…/?…`, which some
/// hosts do not serve on reload.
fn on_this_path(query: &str) -> String {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    format!("{path}{query}")
}

fn push_query(query: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.push_state_with_url(&JsValue::NULL, "", Some(&on_this_path(query)));
    }
}

fn replace_query(query: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&on_this_path(query)));
    }
}
