//! The app's handle on the inference worker: starts it once, and exposes what it reported
//! as a signal that any component can read.

use std::cell::RefCell;

use leptos::prelude::*;

use crate::backend::BackendReport;
use crate::worker_bridge::WorkerBridge;
use crate::worker_protocol::{FromWorker, ToWorker};

/// What the page knows about the inference backend.
#[derive(Clone, Debug, PartialEq)]
pub enum BackendStatus {
    /// The worker is starting or probing.
    Probing,
    /// The worker reported which backend inference will use.
    Ready(BackendReport),
    /// The worker could not start or failed; inference is unavailable until it restarts.
    Failed(String),
}

thread_local! {
    // The bridge owns JavaScript closures, which are neither Send nor Sync, so it lives
    // here rather than in a signal. The page has one worker for its whole life.
    static BRIDGE: RefCell<Option<WorkerBridge>> = const { RefCell::new(None) };
}

#[derive(Clone, Copy)]
pub struct WorkerHandle {
    pub status: RwSignal<BackendStatus>,
    /// The last error the worker reported about a request (not about the backend).
    pub last_error: RwSignal<Option<String>>,
}

impl WorkerHandle {
    /// Starts the worker and provides the handle as context.
    pub fn provide() -> WorkerHandle {
        let handle = WorkerHandle {
            status: RwSignal::new(BackendStatus::Probing),
            last_error: RwSignal::new(None),
        };
        provide_context(handle);
        handle.start();
        handle
    }

    pub fn use_context() -> WorkerHandle {
        expect_context::<WorkerHandle>()
    }

    fn start(self) {
        let started = WorkerBridge::start(move |message| match message {
            FromWorker::Backend { report } => self.status.set(BackendStatus::Ready(report)),
            FromWorker::Error { message } => {
                // Before the first report, an error means the worker itself is broken.
                if self.status.get_untracked() == BackendStatus::Probing {
                    self.status.set(BackendStatus::Failed(message));
                } else {
                    self.last_error.set(Some(message));
                }
            }
        });
        match started {
            Ok(bridge) => BRIDGE.with(|b| *b.borrow_mut() = Some(bridge)),
            Err(message) => self.status.set(BackendStatus::Failed(message)),
        }
    }

    /// Asks the worker to probe WebGPU again; restarts the worker if it had failed.
    pub fn reprobe(self) {
        if matches!(self.status.get_untracked(), BackendStatus::Failed(_)) {
            BRIDGE.with(|b| *b.borrow_mut() = None);
            self.status.set(BackendStatus::Probing);
            self.start();
            return;
        }
        self.status.set(BackendStatus::Probing);
        let sent = BRIDGE.with(|b| match b.borrow().as_ref() {
            Some(bridge) => bridge.send(&ToWorker::Probe),
            None => Err("the inference worker is not running".to_string()),
        });
        if let Err(message) = sent {
            self.status.set(BackendStatus::Failed(message));
        }
    }
}
