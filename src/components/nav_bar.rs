//! The navigation bar: one real link per view, so that middle-click, "copy link" and the
//! keyboard all work; a plain left click is handled in the page without a reload.

use leptos::ev::MouseEvent;
use leptos::prelude::*;

use crate::router::Router;
use crate::url_state::View;

#[component]
pub fn NavBar() -> impl IntoView {
    let router = Router::use_context();
    view! {
        <nav class="nav-bar" aria-label="Views">
            <ul>
                {View::ALL
                    .into_iter()
                    .map(|view| {
                        let href = move || router.state.with(|s| s.with_view(view).to_query());
                        let current = move || router.state.with(|s| s.view == view);
                        let on_click = move |ev: MouseEvent| {
                            // Let the browser handle new-tab and new-window clicks itself.
                            if ev.button() != 0 || ev.ctrl_key() || ev.meta_key()
                                || ev.shift_key() || ev.alt_key()
                            {
                                return;
                            }
                            ev.prevent_default();
                            router.go_to(view);
                        };
                        view! {
                            <li>
                                <a
                                    href=href
                                    data-view=view.slug()
                                    class:current=current
                                    aria-current=move || current().then_some("page")
                                    on:click=on_click
                                >
                                    {view.title()}
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}
