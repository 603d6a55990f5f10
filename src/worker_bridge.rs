//! The page's side of the inference worker: starts it, sends it requests, and turns its
//! messages (and its failures) into calls the UI can react to.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::worker_protocol::{decode, encode, FromWorker, ToWorker, WORKER_SCRIPT};

/// A running inference worker. Dropping it terminates the worker.
pub struct WorkerBridge {
    worker: web_sys::Worker,
    /// Requests sent before the worker said `Ready` (it would lose them), posted when it
    /// does; `None` once it has.
    waiting: Rc<RefCell<Option<Vec<String>>>>,
    // Kept alive for as long as the worker may call them.
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl WorkerBridge {
    /// Starts the worker. `on_message` receives every message, including an
    /// [`FromWorker::Error`] made up here when the worker fails to load or crashes.
    /// Requests may be sent at once: they wait here until the worker listens.
    pub fn start(on_message: impl Fn(FromWorker) + 'static) -> Result<WorkerBridge, String> {
        let on_message = Rc::new(on_message);
        let waiting = Rc::new(RefCell::new(Some(Vec::<String>::new())));
        // Relative to the document's base URL, so the site works under any sub-path.
        let worker = web_sys::Worker::new(WORKER_SCRIPT).map_err(|e| {
            format!(
                "could not start the inference worker ({WORKER_SCRIPT}): {}",
                crate::backend::describe_js_error(&e)
            )
        })?;

        let handler = on_message.clone();
        let queued = waiting.clone();
        let listening = worker.clone();
        let on_msg = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let message = match event.data().as_string() {
                    Some(text) => decode::<FromWorker>(&text)
                        .unwrap_or_else(|message| FromWorker::Error { message }),
                    None => FromWorker::Error {
                        message: "the inference worker sent a message that is not text".into(),
                    },
                };
                if matches!(message, FromWorker::Ready) {
                    let requests = queued.borrow_mut().take().unwrap_or_default();
                    for text in requests {
                        if let Err(e) = listening.post_message(&JsValue::from_str(&text)) {
                            handler(FromWorker::Error {
                                message: unreachable(&e),
                            });
                        }
                    }
                }
                handler(message);
            },
        );
        worker.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));

        let handler = on_message.clone();
        let on_err =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
                let detail = event.message();
                let detail = if detail.is_empty() {
                    format!(
                        "could not load {WORKER_SCRIPT}; check that the site was deployed whole"
                    )
                } else {
                    detail
                };
                handler(FromWorker::Error {
                    message: format!("the inference worker failed: {detail}"),
                });
            });
        worker.set_onerror(Some(on_err.as_ref().unchecked_ref()));

        Ok(WorkerBridge {
            worker,
            waiting,
            _on_message: on_msg,
            _on_error: on_err,
        })
    }

    /// Sends a request to the worker (held until it listens, if it does not yet).
    pub fn send(&self, message: &ToWorker) -> Result<(), String> {
        let text = encode(message);
        if let Some(waiting) = self.waiting.borrow_mut().as_mut() {
            waiting.push(text);
            return Ok(());
        }
        self.worker
            .post_message(&JsValue::from_str(&text))
            .map_err(|e| unreachable(&e))
    }
}

fn unreachable(e: &JsValue) -> String {
    format!(
        "could not reach the inference worker: {}",
        crate::backend::describe_js_error(e)
    )
}

impl Drop for WorkerBridge {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}
