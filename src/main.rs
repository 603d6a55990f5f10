//! The page's entry point: mounts the app (see `src/app.rs`) and registers the service
//! worker that keeps the site for offline visits (`public/sw.js`).

fn main() {
    ponder::mount();
    ponder::offline::register();
}
