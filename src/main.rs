//! The page's entry point: mounts the app (see `src/app.rs`) and registers the service
//! worker that keeps the site for offline visits (`public/sw.js`).

fn main() {
    ponder::offline::register();
    // The app mounts in a task of its own, not in the one that instantiated the wasm: two
    // shorter tasks instead of one long one, so the page answers input in between.
    leptos::prelude::set_timeout(ponder::mount, std::time::Duration::ZERO);
}
