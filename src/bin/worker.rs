//! The inference worker: a dedicated Web Worker that owns the GPU device and (in later
//! versions) the models, so that long computations never freeze the page.
//!
//! Today it probes WebGPU when it starts and whenever the page asks, and reports back.

use ponder::backend;
use ponder::worker_protocol::{decode, encode, FromWorker, ToWorker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

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
                Ok(ToWorker::Probe) => wasm_bindgen_futures::spawn_local(report_backend()),
                Err(message) => post(&FromWorker::Error { message }),
            }
        });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker does.
    on_message.forget();

    wasm_bindgen_futures::spawn_local(report_backend());
}

async fn report_backend() {
    let report = backend::probe().await;
    post(&FromWorker::Backend { report });
}

fn post(message: &FromWorker) {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    if let Err(e) = scope.post_message(&JsValue::from_str(&encode(message))) {
        web_sys::console::error_2(&"the Ponder worker could not post a message:".into(), &e);
    }
}
