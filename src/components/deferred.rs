//! A part of a view drawn one task after the rest.
//!
//! Building a whole view in one go (the Compare view's controls and race columns are a
//! few hundred elements) is one long task, during which the page cannot answer input;
//! on a slow phone it is a visible stall. A view that puts its heavier parts in
//! `Deferred` paints its heading and description first and builds the rest in the next
//! tasks, in order. What is deferred only ever appears below what was already drawn, so
//! nothing on screen moves.

use std::time::Duration;

use leptos::prelude::*;

#[component]
pub fn Deferred(children: ChildrenFn) -> impl IntoView {
    let shown = RwSignal::new(false);
    // `try_set`: the view may be gone (the visitor moved on) before the task runs.
    set_timeout(
        move || {
            shown.try_set(true);
        },
        Duration::ZERO,
    );
    view! { <Show when=move || shown.get()>{children()}</Show> }
}
