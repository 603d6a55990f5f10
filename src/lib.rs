//! Ponder: test-time compute, hands-on, in the browser.
//!
//! This crate is the web app (Leptos, client-side rendered) and the inference worker that
//! the app starts. See `ARCHITECTURE.md` for the layout and the data flow.

pub mod app;
pub mod backend;
pub mod classroom;
pub mod column_state;
pub mod components;
pub mod gpu_self_test;
pub mod inference;
pub mod model_fetch;
pub mod offline;
pub mod problem_bank;
pub mod race;
pub mod race_controller;
pub mod race_summary;
pub mod router;
pub mod strategy_names;
pub mod url_state;
pub mod views;
pub mod worker_bridge;
pub mod worker_handle;
pub mod worker_protocol;

/// Mounts the app on the page's `<body>`.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
