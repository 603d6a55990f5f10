//! The page's entry point: only mounts the app (see `src/app.rs`).

fn main() {
    ponder::mount();
}
