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

/// How long the page waits for the worker's report before it calls the worker broken.
/// The worker's own probe gives up after at most four 10 s waits (adapter, device, the
/// kernel's validation, its readback), so a longer silence means the worker never ran,
/// for example because its wasm file failed to load, which the worker cannot report.
pub const REPORT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Clone, Copy)]
pub struct WorkerHandle {
    pub status: RwSignal<BackendStatus>,
    /// The last error the worker reported about a request (not about the backend).
    pub last_error: RwSignal<Option<String>>,
    /// Counts probes, so that a deadline only fails the probe it was set for.
    probes: RwSignal<u64>,
}

impl WorkerHandle {
    /// Provides the handle as context and starts the worker right after.
    pub fn provide() -> WorkerHandle {
        let handle = WorkerHandle {
            status: RwSignal::new(BackendStatus::Probing),
            last_error: RwSignal::new(None),
            probes: RwSignal::new(0),
        };
        provide_context(handle);
        // In a task of its own, so the first view paints without waiting for the worker.
        set_timeout(move || handle.start(), std::time::Duration::ZERO);
        handle
    }

    pub fn use_context() -> WorkerHandle {
        expect_context::<WorkerHandle>()
    }

    fn start(self) {
        let started = WorkerBridge::start(move |message| match message {
            // The worker listens now; a request sent earlier could have been lost.
            FromWorker::Ready => {
                let sent = BRIDGE.with(|b| match b.borrow().as_ref() {
                    Some(bridge) => bridge.send(&ToWorker::Probe),
                    None => Ok(()),
                });
                if let Err(message) = sent {
                    self.status.set(BackendStatus::Failed(message));
                }
            }
            FromWorker::Backend { report } => self.status.set(BackendStatus::Ready(report)),
            FromWorker::Error { message } => {
                // Before the first report, an error means the worker itself is broken.
                if self.status.get_untracked() == BackendStatus::Probing {
                    self.status.set(BackendStatus::Failed(message));
                } else {
                    self.last_error.set(Some(message));
                }
            }
            // This worker only probes; runs go to the Compare view's column workers.
            _ => {}
        });
        match started {
            Ok(bridge) => {
                BRIDGE.with(|b| *b.borrow_mut() = Some(bridge));
                self.await_report();
            }
            Err(message) => self.status.set(BackendStatus::Failed(message)),
        }
    }

    /// Fails the current probe if no report has come by [`REPORT_DEADLINE`], so the page
    /// never waits without end and "Probe again" (which restarts a failed worker) works.
    fn await_report(self) {
        let probe = self.probes.get_untracked() + 1;
        self.probes.set(probe);
        set_timeout(
            move || {
                let current = self.probes.get_untracked() == probe;
                if current && self.status.get_untracked() == BackendStatus::Probing {
                    self.status.set(BackendStatus::Failed(format!(
                        "the inference worker sent no report within {} s: its files may be \
                         missing from this site or blocked by the browser (the console says \
                         which). Probe again to restart it.",
                        REPORT_DEADLINE.as_secs()
                    )));
                }
            },
            REPORT_DEADLINE,
        );
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
        match sent {
            Ok(()) => self.await_report(),
            Err(message) => self.status.set(BackendStatus::Failed(message)),
        }
    }
}
