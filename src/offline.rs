//! Offline visits: the page registers `sw.js` (copied beside it from `public/`), which keeps
//! the site and the built-in models after the first visit. See that file for how a new
//! release replaces the kept one.

/// The service worker's file, relative to the page's base URL.
pub const SERVICE_WORKER: &str = "sw.js";

/// Registers the service worker where the browser offers them (secure contexts only);
/// a refusal only costs offline visits, so it is logged, not shown.
pub fn register() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if !window.is_secure_context() {
        return;
    }
    let container = window.navigator().service_worker();
    let url = crate::race_controller::site_url(SERVICE_WORKER);
    let promise = container.register(&url);
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = wasm_bindgen_futures::JsFuture::from(promise).await {
            web_sys::console::warn_2(
                &"Ponder: the service worker for offline visits was not registered:".into(),
                &e,
            );
        }
    });
}
