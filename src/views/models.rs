//! Models: which backend runs inference here, and the built-in models: their size,
//! quantization and shape read from the files themselves, and how each was trained.
//! Below them, a visitor's own GGUF model (components/own_model_panel.rs).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::backend::format_bytes;
use crate::builtin_models::{duration, facts, training_entries, ModelFacts, BUILT_IN};
use crate::components::backend_panel::BackendPanel;
use crate::components::own_model_panel::OwnModelPanel;
use crate::model_fetch::fetch_bytes;
use crate::race_controller::site_url;
use crate::race_summary::grouped;

/// One built-in model's card: read, failed (with the reason), or still loading.
#[derive(Clone, Debug, PartialEq)]
enum Card {
    Loading,
    Read(Box<ModelFacts>),
    Failed(String),
}

#[component]
pub fn ModelsView() -> impl IntoView {
    let cards = RwSignal::new(vec![Card::Loading; BUILT_IN.len()]);
    let bytes_read = RwSignal::new(0u64);
    spawn_local(async move {
        let training = match fetch_bytes(&site_url("models/training.json"), |_, _| {}).await {
            Ok(bytes) => training_entries(&String::from_utf8_lossy(&bytes)).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let mut done = 0u64;
        for (i, (file, role)) in BUILT_IN.iter().enumerate() {
            let url = site_url(&format!("models/{file}"));
            let result = fetch_bytes(&url, |loaded, _| {
                // The view may be gone (another view opened): then nobody listens.
                let _ = bytes_read.try_set(done + loaded);
            })
            .await;
            let card = match result {
                Ok(bytes) => {
                    done += bytes.len() as u64;
                    match facts(file, role, &bytes, &training) {
                        Ok(f) => Card::Read(Box::new(f)),
                        Err(e) => Card::Failed(e),
                    }
                }
                Err(e) => Card::Failed(e),
            };
            if cards.try_update(|c| c[i] = card).is_none() {
                return;
            }
        }
    });
    let s_parameters = move || {
        cards.with(|c| match c.first() {
            Some(Card::Read(f)) => Some(f.parameters),
            _ => None,
        })
    };
    view! {
        <section class="view" data-testid="view-models" aria-labelledby="view-title">
            <h1 id="view-title">"Models"</h1>
            <p class="lede">
                "Ponder runs a small policy model S, its revision model R and a process reward "
                "model in this tab, one worker per column of the Compare view: on WebGPU, with "
                "Ponder's own kernels, where this browser has it and a trial step is faster "
                "there, else on the CPU (wasm SIMD). Both give the same numbers bit for bit. "
                "Below is what this browser offers, and the built-in models."
            </p>
            <BackendPanel/>
            <h2>"Built-in models"</h2>
            <p>
                "Each was trained from scratch for the arithmetic task by "<code>"ponder-train"</code>
                "; the numbers below are read from the files this page serves. How well each does, "
                "level by level, is in "<a href="models.md" data-testid="models-report">"their evaluation report"</a>"."
            </p>
            <p class="phase" aria-live="polite" data-testid="models-progress">
                {move || {
                    let left = cards.with(|c| c.iter().filter(|c| **c == Card::Loading).count());
                    if left == 0 {
                        String::new()
                    } else {
                        format!(
                            "Reading the model files: {} KB so far, {left} of {} to go.",
                            grouped((bytes_read.get() / 1024) as i128),
                            BUILT_IN.len()
                        )
                    }
                }}
            </p>
            <div class="model-cards">
                {move || cards.get().into_iter().enumerate().map(|(i, card)| {
                    let file = BUILT_IN[i].0;
                    match card {
                        Card::Loading => view! {
                            <article class="model-card" data-testid="model-card" data-file=file data-state="loading">
                                <h3>{file}</h3><p class="phase">"Reading…"</p>
                            </article>
                        }.into_any(),
                        Card::Failed(reason) => view! {
                            <article class="model-card" data-testid="model-card" data-file=file data-state="failed">
                                <h3>{file}</h3>
                                <p class="reason error" role="alert">{reason}</p>
                            </article>
                        }.into_any(),
                        Card::Read(f) => model_card(*f, s_parameters()).into_any(),
                    }
                }).collect_view()}
            </div>
            <OwnModelPanel/>
        </section>
    }
}

pub fn model_card(f: ModelFacts, s_parameters: Option<u64>) -> impl IntoView {
    let ratio = s_parameters
        .filter(|&s| s > 0 && f.file == "ponder-l.gguf")
        .map(|s| format!(" ({:.1}× S)", f.parameters as f64 / s as f64));
    let types = f
        .types
        .iter()
        .map(|(name, count, bytes)| format!("{name}: {count} tensors, {}", format_bytes(*bytes)))
        .collect::<Vec<_>>()
        .join("; ");
    let shape = format!(
        "{} layers, width {}, {} heads ({} key/value), context {} tokens",
        f.layers, f.hidden, f.heads, f.kv_heads, f.context
    );
    view! {
        <article class="model-card" data-testid="model-card" data-file=f.file.clone() data-state="read"
            data-parameters=f.parameters.to_string()>
            <h3>{f.name.clone()}</h3>
            <p>{f.role.clone()}</p>
            <dl class="backend-facts">
                <dt>"Parameters"</dt>
                <dd data-testid="model-parameters">{grouped(f.parameters as i128)}{ratio}</dd>
                <dt>"File"</dt>
                <dd><code>{f.file.clone()}</code>", "{format_bytes(f.bytes)}</dd>
                <dt>"Weights"</dt><dd>{types}</dd>
                <dt>"Shape"</dt><dd>{shape}</dd>
                {f.head.clone().map(|h| view! { <dt>"Head"</dt><dd>{h}</dd> })}
                {f.training.clone().map(|t| view! {
                    <dt>"Trained"</dt>
                    <dd>
                        {grouped(t.steps as i128)}" steps, "{grouped(t.tokens as i128)}" tokens, "
                        {duration(t.seconds)}
                    </dd>
                    <dt>"Command"</dt>
                    <dd><code class="command">{t.command.clone()}</code></dd>
                })}
            </dl>
            {f.training.and_then(|t| (!t.note.is_empty()).then(|| view! {
                <details><summary>"How it was made"</summary><p>{t.note}</p></details>
            }))}
        </article>
    }
}
