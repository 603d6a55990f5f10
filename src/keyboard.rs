//! The page's single-key shortcuts (`c` opens classroom mode; there space and → step, ←
//! steps back, `p` plays, Home and End jump) and the setting that turns them all off.
//!
//! WCAG 2.1.4 asks that single-key shortcuts can be turned off: a speech-input user's
//! spoken word, or a stray key press, must not act on the page. The setting is kept in
//! `localStorage`, so it holds on every visit; the shortcuts are on unless it says "off".

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The `localStorage` key of the setting.
pub const STORAGE_KEY: &str = "ponder-shortcuts";

/// Whether single-key shortcuts are on, shared through context.
#[derive(Clone, Copy)]
pub struct Shortcuts {
    pub enabled: RwSignal<bool>,
}

impl Shortcuts {
    /// Reads the saved setting and provides it as context.
    pub fn provide() -> Shortcuts {
        let saved = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
        let shortcuts = Shortcuts {
            enabled: RwSignal::new(saved.as_deref() != Some("off")),
        };
        provide_context(shortcuts);
        shortcuts
    }

    pub fn use_context() -> Shortcuts {
        expect_context::<Shortcuts>()
    }

    /// Turns the shortcuts on or off, and saves the choice. A browser that refuses storage
    /// (a private window, a policy) keeps the choice for this visit only.
    pub fn set(self, on: bool) {
        self.enabled.set(on);
        if let Some(storage) = storage() {
            let _ = storage.set_item(STORAGE_KEY, if on { "on" } else { "off" });
        }
    }

    /// Whether `ev` may act as a shortcut: shortcuts are on, no modifier is held (those
    /// keys belong to the browser), and the key is not typed into a field.
    pub fn allow(self, ev: &web_sys::KeyboardEvent) -> bool {
        self.enabled.get_untracked()
            && !(ev.ctrl_key() || ev.meta_key() || ev.alt_key())
            && !typing(ev)
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn target_element(ev: &web_sys::KeyboardEvent) -> Option<web_sys::Element> {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
}

/// Whether a key press belongs to a text field or a list being typed in (single-key
/// shortcuts leave those alone).
pub fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    target_element(ev).is_some_and(|e| {
        matches!(e.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA")
            || e.dyn_ref::<web_sys::HtmlElement>()
                .is_some_and(web_sys::HtmlElement::is_content_editable)
    })
}

/// Whether a key press lands on a control that space activates itself (a button, a link,
/// a checkbox, a disclosure): a shortcut on space must leave it to the control, or one
/// press would act twice.
pub fn on_control(ev: &web_sys::KeyboardEvent) -> bool {
    target_element(ev).is_some_and(|e| {
        matches!(
            e.tag_name().as_str(),
            "BUTTON" | "A" | "SUMMARY" | "INPUT" | "SELECT"
        ) || e
            .closest("button, a[href], summary, [role=button], [role=link], [role=checkbox]")
            .ok()
            .flatten()
            .is_some()
    })
}

/// The setting as a checkbox, for the page's header.
#[component]
pub fn ShortcutsToggle() -> impl IntoView {
    let shortcuts = Shortcuts::use_context();
    view! {
        <label class="shortcuts-toggle"
            title="Single-key shortcuts: c opens classroom mode; there space and → step, ← steps back, p plays">
            <input type="checkbox" data-testid="shortcuts"
                prop:checked=move || shortcuts.enabled.get()
                on:change=move |ev| shortcuts.set(event_target_checked(&ev))/>
            " Keyboard shortcuts"
        </label>
    }
}
