//! The inference worker: a dedicated Web Worker that owns the GPU probe and the models,
//! so that long computations never freeze the page.
//!
//! Requests are handled one at a time in the order they came (a run waits for the loads
//! sent before it). The worker says `Ready` once it listens; the page sends nothing before.

use std::cell::RefCell;
use std::collections::VecDeque;

use ponder::backend;
use ponder::inference::Models;
use ponder::own_models;
use ponder::problem_bank;
use ponder::worker_protocol::{decode, encode, FromWorker, ToWorker};
use ponder_core::arithmetic::Problem;
use ponder_core::sweep::{SweepSpec, Unit};
use ponder_core::{DrawKey, Policy};
use ponder_model::sampler::SamplingParams;
use ponder_model::{Engine, LanguageModel};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    static QUEUE: RefCell<VecDeque<ToWorker>> = const { RefCell::new(VecDeque::new()) };
    static BUSY: RefCell<bool> = const { RefCell::new(false) };
    static MODELS: RefCell<Models> = RefCell::new(Models::default());
    /// The visitor's model a chat runs on, by its cache key.
    static CHAT_MODEL: RefCell<Option<(String, Engine)>> = const { RefCell::new(None) };
}

fn main() {
    console_error_panic_hook::set_once();
    let Some(scope) = js_sys::global()
        .dyn_into::<web_sys::DedicatedWorkerGlobalScope>()
        .ok()
    else {
        // Built as a bin so Trunk can package it, but it only makes sense inside a worker.
        web_sys::console::error_1(&"the Ponder worker must run in a dedicated Web Worker".into());
        return;
    };

    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let text = event.data().as_string().unwrap_or_default();
            match decode::<ToWorker>(&text) {
                Ok(request) => {
                    QUEUE.with(|q| q.borrow_mut().push_back(request));
                    if !BUSY.with(|b| b.replace(true)) {
                        wasm_bindgen_futures::spawn_local(drain());
                    }
                }
                Err(message) => post(FromWorker::Error { message }),
            }
        });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker does.
    on_message.forget();
    post(FromWorker::Ready);
}

/// Handles queued requests until none is left.
async fn drain() {
    loop {
        while let Some(request) = QUEUE.with(|q| q.borrow_mut().pop_front()) {
            handle(request).await;
        }
        // Idle: the automatic engine choice times WebGPU now, so that no race waits for
        // it. Requests that come meanwhile wait for the trial (seconds on a software GPU).
        if !MODELS.with(|m| m.borrow().trial_pending()) {
            break;
        }
        let mut held = MODELS.with(|m| m.take());
        held.trial().await;
        MODELS.with(|m| *m.borrow_mut() = held);
    }
    BUSY.with(|b| *b.borrow_mut() = false);
}

async fn handle(request: ToWorker) {
    match request {
        ToWorker::Probe => {
            let report = backend::probe().await;
            post(FromWorker::Backend { report });
        }
        ToWorker::Load {
            run,
            models,
            engine,
        } => {
            // Requests are handled one at a time, so the models can leave their cell for
            // the awaits and come back after.
            let mut held = MODELS.with(|m| m.take());
            let mut all_loaded = true;
            for file in &models {
                if let Err(message) = held.load(run, file, engine, &mut post).await {
                    all_loaded = false;
                    post(FromWorker::LoadFailed {
                        run,
                        role: file.role,
                        url: file.url.clone(),
                        message,
                    });
                }
            }
            if all_loaded {
                let roles: Vec<_> = models.iter().map(|f| f.role).collect();
                held.choose(run, &roles, engine, &mut post).await;
            }
            MODELS.with(|m| *m.borrow_mut() = held);
        }
        ToWorker::Sweep { sweep, spec, skip } => {
            let mut held = MODELS.with(|m| m.take());
            if let Err(message) = run_sweep(&mut held, sweep, &spec, &skip).await {
                post(FromWorker::SweepFailed { sweep, message });
            }
            MODELS.with(|m| *m.borrow_mut() = held);
        }
        ToWorker::Chat {
            chat,
            key,
            prompt,
            max_tokens,
        } => {
            if let Err(message) = answer(chat, &key, &prompt, max_tokens as usize).await {
                post(FromWorker::ChatFailed { chat, message });
            }
        }
        ToWorker::Run { run, spec, problem } => {
            let mut held = MODELS.with(|m| m.take());
            let result = held.run(run, &spec, &problem, &mut post).await;
            MODELS.with(|m| *m.borrow_mut() = held);
            if let Err(message) = result {
                post(FromWorker::RunFailed { run, message });
            }
        }
    }
}

/// Runs every unit of the sweep `spec` that `skip` does not list, posting each unit's rows
/// as it finishes (the page stores them), then `SweepFinished`.
async fn run_sweep(
    models: &mut Models,
    sweep: u64,
    spec: &str,
    skip: &[Unit],
) -> Result<(), String> {
    let spec = SweepSpec::from_query(spec)?;
    if spec.set != "test" {
        return Err(format!(
            "the page has the test set only; run the {} set with `ponder sweep --set {}`",
            spec.set, spec.set
        ));
    }
    let units = problem_bank::with_test_set(|set| {
        let set = set.map_err(|e| format!("the test set could not be generated: {e}"))?;
        Ok::<_, String>(
            spec.units(set)
                .into_iter()
                .filter(|u| !skip.contains(u))
                .filter_map(|u| {
                    let p = set.problems.get(u.problem as usize)?;
                    Some((u, p.text.clone(), p.level.number()))
                })
                .collect::<Vec<_>>(),
        )
    })?;
    for (unit, text, level) in units {
        let problem = Problem::parse(&text).map_err(|e| {
            format!(
                "test problem {} ({text:?}) cannot be read: {e}",
                unit.problem
            )
        })?;
        let mut progress = |work: u64| post(FromWorker::SweepProgress { sweep, work });
        let result = models
            .sweep_unit(&spec, unit, &problem, level, &mut progress)
            .await?;
        post(FromWorker::SweepUnit { sweep, result });
    }
    post(FromWorker::SweepFinished { sweep });
    Ok(())
}

/// Answers `prompt` with the visitor's model kept under `key` (loaded once, then kept
/// while the chat goes on), greedily as `ponder generate --chat` does, posting each piece
/// of text as it is decoded.
async fn answer(chat: u64, key: &str, prompt: &str, max_tokens: usize) -> Result<(), String> {
    let loaded = CHAT_MODEL.with(|m| m.borrow().as_ref().is_some_and(|(k, _)| k == key));
    if !loaded {
        CHAT_MODEL.with(|m| *m.borrow_mut() = None);
        let bytes = own_models::read(key).await?;
        let model = LanguageModel::from_gguf_bytes(&bytes)
            .map_err(|e| format!("the model cannot run in Ponder: {e}"))?;
        CHAT_MODEL.with(|m| *m.borrow_mut() = Some((key.to_string(), Engine::new(model))));
    }
    CHAT_MODEL.with(|m| {
        let mut held = m.borrow_mut();
        let Some((_, engine)) = held.as_mut() else {
            return Err("the model went missing".to_string());
        };
        // A model with a chat template is prompted through it; a base model continues the
        // text as given.
        engine.chat = engine.model.tokenizer.is_instruct();
        let ids = engine.encode_prompt(prompt).map_err(|e| e.to_string())?;
        let seq = engine.start_tokens(&ids).map_err(|e| e.to_string())?;
        let params = SamplingParams {
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
        };
        let mut first_token_at = None;
        let generated = engine.generate(
            seq,
            &params,
            DrawKey::new(0, &[0]),
            max_tokens,
            &mut |piece| {
                first_token_at.get_or_insert_with(js_sys::Date::now);
                post(FromWorker::ChatPiece {
                    chat,
                    text: piece.to_string(),
                });
            },
        );
        Policy::release(engine, seq);
        let generated = generated.map_err(|e| e.to_string())?;
        let seconds = first_token_at.map_or(0.0, |t| (js_sys::Date::now() - t) / 1000.0);
        let tokens_per_second = if generated.len() > 1 && seconds > 0.0 {
            (generated.len() - 1) as f64 / seconds
        } else {
            0.0
        };
        post(FromWorker::ChatDone {
            chat,
            prompt_tokens: ids.len() as u32,
            tokens: generated.len() as u32,
            tokens_per_second,
        });
        Ok(())
    })
}

fn post(message: FromWorker) {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    if let Err(e) = scope.post_message(&JsValue::from_str(&encode(&message))) {
        web_sys::console::error_2(&"the Ponder worker could not post a message:".into(), &e);
    }
}
