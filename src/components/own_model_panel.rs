//! The Models view's "your own model": a llama- or qwen2-family GGUF by address or from
//! disk, with download progress, checked by the engines' own reader (an unsupported
//! architecture or tensor type gets the reader's message), kept in the browser within its
//! storage and the device's memory, listed with the space used, and removable.

use leptos::prelude::*;
use leptos::task::spawn_local;
use ponder_model::LanguageModel;
use wasm_bindgen::JsCast;

use crate::backend::format_bytes;
use crate::builtin_models::{facts, ModelFacts};
use crate::components::chat_box::ChatBox;
use crate::model_fetch::{check_gguf, download, Source};
use crate::own_models::{self, KeptModel, Storage};
use crate::race_controller::site_url;
use crate::router::Router;
use crate::url_state::View;
use crate::views::models::model_card;

/// Resolves after the browser has had a moment to paint.
async fn paint() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 30);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Idle,
    Downloading {
        name: String,
        loaded: u64,
        total: Option<u64>,
    },
    Checking(String),
    Ready(Box<ModelFacts>),
    Failed(String),
}

/// Checks `bytes` as the engines would load them: the file's facts, then the whole model.
fn check(name: &str, bytes: &[u8]) -> Result<ModelFacts, String> {
    check_gguf(name, bytes)?;
    let f = facts(name, "your model", bytes, &[])?;
    LanguageModel::from_gguf_bytes(bytes)
        .map_err(|e| format!("{name} cannot run in Ponder: {e}"))?;
    Ok(f)
}

/// Where a site that serves SmolLM2 keeps it (`cargo xtask serve` links it there from
/// set-up's cache; the site's release files do not include it).
pub const PRESET_PATH: &str = "models/extra/SmolLM2-135M-Instruct.Q4_1.gguf";

/// How well SmolLM2 does the task when it races in Compare, as measured.
/// (`ponder eval --policy SmolLM2-135M-Instruct.Q4_1.gguf --few-shot 5` on the first
/// problems of each level of the test set; S's figures from the same command without
/// `--policy`.)
const PRESET_MEASURED: &str = "How well it does: shown five worked examples before each \
    problem, SmolLM2 writes steps like theirs, but wrong ones (\"54+65=129\" on \
    54+65-4), and often ends without the answer line. Greedy, it solved 0 of 20 test problems (4 per level; the built-in S: \
    5 of 20), and with weighted best-of-16, its steps scored by the built-in verifier, 0 of \
    10 (2 per level; S: 2 of 10). A general model of 135 M parameters is no match here for \
    S's 1 M trained on the task: racing it in Compare shows that size alone does not buy \
    the skill.";

#[component]
pub fn OwnModelPanel() -> impl IntoView {
    let router = Router::use_context();
    let url = RwSignal::new(String::new());
    let phase = RwSignal::new(Phase::Idle);
    let kept = RwSignal::new(Vec::<KeptModel>::new());
    let storage = RwSignal::new(None::<Storage>);
    let kept_error = RwSignal::new(None::<String>);
    // The model the chat box talks to: its cache key and name.
    let active = RwSignal::new(None::<(String, String)>);

    let refresh = move || {
        spawn_local(async move {
            match own_models::kept().await {
                Ok(list) => {
                    let _ = kept.try_set(list);
                }
                Err(e) => {
                    let _ = kept_error.try_set(Some(e));
                }
            }
            let _ = storage.try_set(own_models::storage().await);
        })
    };
    refresh();

    // Checks, keeps and shows a downloaded or chosen file.
    let finish = move |key: String, name: String, bytes: Vec<u8>| async move {
        let _ = phase.try_set(Phase::Checking(name.clone()));
        // Let the page paint "Checking…" before the check holds the thread.
        paint().await;
        let facts = match check(&name, &bytes) {
            Ok(f) => f,
            Err(e) => {
                let _ = phase.try_set(Phase::Failed(e));
                return;
            }
        };
        if let Some(why) = own_models::refusal(bytes.len() as u64, own_models::storage().await) {
            let _ = phase.try_set(Phase::Failed(why));
            return;
        }
        if let Err(e) = own_models::keep(&key, &name, &bytes).await {
            let _ = phase.try_set(Phase::Failed(e));
            return;
        }
        let _ = phase.try_set(Phase::Ready(Box::new(facts)));
        let _ = active.try_set(Some((key, name)));
        refresh();
    };

    let load_url = move || {
        let address = url.get_untracked().trim().to_string();
        if address.is_empty() {
            phase.set(Phase::Failed(
                "type the address of a .gguf file first".into(),
            ));
            return;
        }
        spawn_local(async move {
            let storage = own_models::storage().await;
            let name = address
                .rsplit('/')
                .find(|p| !p.is_empty())
                .unwrap_or(&address)
                .to_string();
            let _ = phase.try_set(Phase::Downloading {
                name: name.clone(),
                loaded: 0,
                total: None,
            });
            let shown = name.clone();
            let result = download(
                &address,
                Source::Visitor,
                |total| match total.and_then(|t| own_models::refusal(t, storage)) {
                    Some(why) => Err(why),
                    None => Ok(()),
                },
                |loaded, total| {
                    let _ = phase.try_set(Phase::Downloading {
                        name: shown.clone(),
                        loaded,
                        total,
                    });
                },
            )
            .await;
            match result {
                Ok(bytes) => finish(address, name, bytes).await,
                Err(e) => {
                    let _ = phase.try_set(Phase::Failed(e));
                }
            }
        });
    };

    let load_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        spawn_local(async move {
            let name = file.name();
            let size = file.size() as u64;
            if let Some(why) = own_models::refusal(size, own_models::storage().await) {
                let _ = phase.try_set(Phase::Failed(why));
                return;
            }
            let _ = phase.try_set(Phase::Checking(name.clone()));
            match own_models::file_bytes(&file).await {
                Ok(bytes) => finish(own_models::file_key(&name), name, bytes).await,
                Err(e) => {
                    let _ = phase.try_set(Phase::Failed(e));
                }
            }
        });
    };

    let remove = move |key: String| {
        if active.with_untracked(|a| a.as_ref().is_some_and(|(k, _)| *k == key)) {
            active.set(None);
            phase.set(Phase::Idle);
        }
        spawn_local(async move {
            if let Err(e) = own_models::remove(&key).await {
                let _ = kept_error.try_set(Some(e));
            }
            refresh();
        });
    };
    let show_kept = move |key: String, name: String| {
        spawn_local(async move {
            let _ = phase.try_set(Phase::Checking(name.clone()));
            match own_models::read(&key).await {
                Ok(bytes) => match check(&name, &bytes) {
                    Ok(f) => {
                        let _ = phase.try_set(Phase::Ready(Box::new(f)));
                        let _ = active.try_set(Some((key, name)));
                    }
                    Err(e) => {
                        let _ = phase.try_set(Phase::Failed(e));
                    }
                },
                Err(e) => {
                    let _ = phase.try_set(Phase::Failed(e));
                }
            }
        });
    };

    view! {
        <section class="own-model" data-testid="own-model" aria-labelledby="own-model-title">
            <h2 id="own-model-title">"Your own model"</h2>
            <p>
                "Any llama- or qwen2-family GGUF file (Q4_0, Q4_1, Q8_0, F16 or F32 weights), by its address "
                "or from your disk. It is checked by the same reader the engines use and kept in this "
                "browser until you remove it. An address must allow other sites to read it (CORS)."
            </p>
            <div class="own-model-preset" data-testid="own-preset">
                <p>
                    <strong>"SmolLM2-135M-Instruct"</strong>
                    " (Q4_1, 98 MB), a small general instruct model, where this site serves it ("
                    <code>"cargo xtask serve"</code>" does). "
                    <button type="button" data-testid="own-preset-load"
                        disabled=move || matches!(phase.get(), Phase::Downloading { .. } | Phase::Checking(_))
                        on:click=move |_| {
                            url.set(site_url(PRESET_PATH));
                            load_url();
                        }>"Load SmolLM2"</button>
                </p>
                <p class="muted" data-testid="own-preset-measured">{PRESET_MEASURED}</p>
            </div>
            <form class="own-model-form" on:submit=move |ev| { ev.prevent_default(); load_url(); }>
                <label>
                    "Address of a .gguf file "
                    <input type="url" data-testid="own-url" placeholder="https://…/model.gguf"
                        prop:value=move || url.get()
                        on:input=move |ev| url.set(event_target_value(&ev))/>
                </label>
                <button type="submit" data-testid="own-load"
                    disabled=move || matches!(phase.get(), Phase::Downloading { .. } | Phase::Checking(_))>
                    "Download"
                </button>
                <label class="file-choice">
                    "or choose a file "
                    <input type="file" accept=".gguf" data-testid="own-file" on:change=load_file/>
                </label>
            </form>
            <div data-testid="own-status" aria-live="polite"
                data-state=move || match phase.get() {
                    Phase::Idle => "idle",
                    Phase::Downloading { .. } => "downloading",
                    Phase::Checking(_) => "checking",
                    Phase::Ready(_) => "ready",
                    Phase::Failed(_) => "failed",
                }>
                {move || match phase.get() {
                    Phase::Idle => ().into_any(),
                    Phase::Downloading { name, loaded, total } => view! {
                        <p>
                            {format!("Downloading {name}: {}{}", format_bytes(loaded),
                                total.map(|t| format!(" of {}", format_bytes(t))).unwrap_or_default())}
                        </p>
                        <progress max=total.unwrap_or(0).max(1).to_string() value=loaded.to_string()
                            aria-label="download progress"></progress>
                    }.into_any(),
                    Phase::Checking(name) => view! { <p>{format!("Checking {name}…")}</p> }.into_any(),
                    Phase::Ready(f) => view! {
                        <p>{format!("{} is a model Ponder can run, and is kept in this browser.", f.file)}</p>
                        <div class="model-cards">{model_card(*f, None)}</div>
                    }.into_any(),
                    Phase::Failed(e) => view! {
                        <p class="error" role="alert" data-testid="own-error">{e}</p>
                    }.into_any(),
                }}
            </div>
            {move || active.get().map(|(key, name)| view! { <ChatBox key=key name=name/> })}
            <h3>"Kept in this browser"</h3>
            <p data-testid="own-storage">
                {move || match storage.get() {
                    Some(s) => format!("The site uses {} of the {} this browser gives it.",
                        format_bytes(s.usage as u64), format_bytes(s.quota as u64)),
                    None => "This browser does not say how much storage the site may use.".into(),
                }}
            </p>
            {move || kept_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <ul class="kept-models" data-testid="own-kept">
                {move || {
                    let list = kept.get();
                    if list.is_empty() {
                        return view! { <li>"None yet."</li> }.into_any();
                    }
                    list.into_iter().map(|m| {
                        let (key, name) = (m.key.clone(), m.name.clone());
                        let key_again = m.key.clone();
                        view! {
                            <li data-testid="own-kept-model" data-name=m.name.clone()>
                                {format!("{} ({})", m.name, format_bytes(m.bytes))}" "
                                <button type="button" on:click=move |_| show_kept(key.clone(), name.clone())>
                                    "Show and chat"
                                </button>" "
                                <button type="button" data-testid="own-compare"
                                    aria-label=format!("Race {} in Compare", m.name)
                                    on:click={
                                        let key = m.key.clone();
                                        move |_| race_in_compare(router, &key)
                                    }>"Race in Compare"</button>" "
                                <button type="button" data-testid="own-remove"
                                    aria-label=format!("Remove {}", m.name)
                                    on:click=move |_| remove(key_again.clone())>"Remove"</button>
                            </li>
                        }
                    }).collect_view().into_any()
                }}
            </ul>
        </section>
    }
}

/// Opens the Compare view racing the model under `key` (prompted with worked examples,
/// its steps scored by the built-in verifier) against S, both with weighted best-of-N:
/// S on 16 samples, the visitor's model on 4 (a larger model's generations cost more).
fn race_in_compare(router: Router, key: &str) {
    let link = ponder_core::spec::comparison::Comparison {
        own_model: Some(key.to_string()),
        ..ponder_core::spec::comparison::Comparison::from_query(&format!(
            "v=1&seed=1&problem={}&n=16&left.strategy=best-of-n&right.strategy=best-of-n\
             &right.model=own&right.n=4",
            crate::problem_bank::default_index()
        ))
        .0
    };
    let mut state = router.state.get_untracked().with_view(View::Compare);
    state.set_experiment(&link.to_query());
    router.navigate(state);
}
