//! Ponder: test-time compute, hands-on, in the browser.
//!
//! This crate is the web app (Leptos, client-side rendered) and the inference worker that
//! the app starts. See `ARCHITECTURE.md` for the layout and the data flow.

pub mod app;
pub mod backend;
pub mod builtin_models;
pub mod classroom;
pub mod column_state;
pub mod components;
pub mod inference;
pub mod keyboard;
pub mod model_fetch;
pub mod offline;
pub mod own_models;
pub mod problem_bank;
pub mod race;
pub mod race_controller;
pub mod race_summary;
pub mod router;
pub mod strategy_names;
pub mod sweep_runner;
pub mod sweep_store;
pub mod url_state;
pub mod views;
pub mod worker_bridge;
pub mod worker_handle;
pub mod worker_protocol;

/// Mounts the app on the page's `<body>`.
pub fn mount() {
    console_error_panic_hook::set_once();
    // The static shell index.html shows while the wasm loads.
    if let Some(shell) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("loading-shell"))
    {
        shell.remove();
    }
    leptos::mount::mount_to_body(app::App);
}
