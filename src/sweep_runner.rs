//! The Experiment view's sweep on the page: a worker of its own runs the units the
//! browser has not stored yet, each finished unit is stored (`sweep_store`) and shown as
//! it arrives, and Stop ends the worker. Starting the same sweep again, or opening its
//! link after a reload or a crash, resumes from the stored units.

use std::cell::RefCell;
use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use ponder_core::sweep::{SweepRow, SweepSpec, Unit, UnitResult};

use crate::problem_bank;
use crate::race_controller::site_url;
use crate::sweep_store::SweepStore;
use crate::worker_bridge::WorkerBridge;
use crate::worker_protocol::{EngineChoice, FromWorker, ModelFile, ModelRole, ToWorker};

/// Where a sweep stands.
#[derive(Clone, Debug, PartialEq)]
pub enum SweepStatus {
    /// Nothing run yet for this spec.
    Idle,
    /// Reading the stored units.
    Opening,
    Running,
    /// Every unit is in.
    Finished,
    /// Stopped by the user; the units done are kept.
    Stopped,
    Failed(String),
}

/// The sweep's state, as signals the view reads.
#[derive(Clone, Copy)]
pub struct SweepRunner {
    /// The spec of the sweep shown.
    pub spec: RwSignal<Option<SweepSpec>>,
    /// Finished units (their rows, difficulty and revision signals), in (seed, problem)
    /// order.
    pub units: RwSignal<BTreeMap<Unit, UnitResult>>,
    /// Units in the whole sweep.
    pub total_units: RwSignal<usize>,
    pub status: RwSignal<SweepStatus>,
    /// Generations done and to do in this session's part of the sweep (stored units
    /// excluded), and when it started (ms), for the progress bar and the time left.
    pub work: RwSignal<(u64, u64)>,
    pub started_ms: RwSignal<f64>,
    /// Units found stored when the sweep was opened.
    pub resumed: RwSignal<usize>,
    /// Why results could not be stored, if they could not (the sweep still runs).
    pub store_error: RwSignal<Option<String>>,
}

struct Shared {
    worker: Option<WorkerBridge>,
    /// The current sweep's number: messages of an ended one are ignored.
    sweep: u64,
    store: Option<SweepStore>,
}

thread_local! {
    static SHARED: RefCell<Shared> = const {
        RefCell::new(Shared { worker: None, sweep: 0, store: None })
    };
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl SweepRunner {
    pub fn provide() -> SweepRunner {
        let runner = SweepRunner {
            spec: RwSignal::new(None),
            units: RwSignal::new(BTreeMap::new()),
            total_units: RwSignal::new(0),
            status: RwSignal::new(SweepStatus::Idle),
            work: RwSignal::new((0, 0)),
            started_ms: RwSignal::new(0.0),
            resumed: RwSignal::new(0),
            store_error: RwSignal::new(None),
        };
        provide_context(runner);
        runner
    }

    pub fn use_context() -> SweepRunner {
        expect_context::<SweepRunner>()
    }

    /// Every row so far, in (seed, problem) order, as `ponder sweep` writes them.
    pub fn rows(&self) -> Vec<SweepRow> {
        self.units
            .with(|u| u.values().flat_map(|r| r.rows.iter().cloned()).collect())
    }

    /// Shows `spec`'s stored units; with `run`, runs the rest. A sweep already shown is
    /// only resumed (when `run`), never read again.
    pub fn open(self, spec: SweepSpec, run: bool) {
        let same = self.spec.get_untracked().as_ref() == Some(&spec);
        if same
            && matches!(
                self.status.get_untracked(),
                SweepStatus::Running | SweepStatus::Opening
            )
        {
            return;
        }
        self.end_worker();
        let sweep = SHARED.with(|s| {
            let mut s = s.borrow_mut();
            s.sweep += 1;
            s.sweep
        });
        let all: Vec<Unit> = problem_bank::with_test_set(|set| match set {
            Ok(set) => spec.units(set),
            Err(_) => Vec::new(),
        });
        self.spec.set(Some(spec.clone()));
        self.total_units.set(all.len());
        self.status.set(SweepStatus::Opening);
        if !same {
            self.units.set(BTreeMap::new());
        }
        spawn_local(async move {
            let key = spec.to_query();
            let store = match SHARED.with(|s| s.borrow().store.clone()) {
                Some(store) => Ok(store),
                None => SweepStore::open().await,
            };
            let stored = match &store {
                Ok(store) => {
                    SHARED.with(|s| s.borrow_mut().store = Some(store.clone()));
                    store.load(&key).await
                }
                Err(e) => Err(e.clone()),
            };
            if SHARED.with(|s| s.borrow().sweep) != sweep {
                return;
            }
            match stored {
                Ok(stored) => {
                    let _ = self.resumed.try_set(stored.len());
                    let _ = self.units.try_update(|u| {
                        u.extend(
                            stored
                                .into_iter()
                                .filter(|s| all.contains(&s.unit))
                                .map(|s| (s.unit, s)),
                        )
                    });
                }
                Err(e) => {
                    let _ = self.store_error.try_set(Some(e));
                }
            }
            let done = self.units.with_untracked(|u| u.len());
            if done >= all.len() {
                self.status.set(SweepStatus::Finished);
            } else if run || done > 0 {
                // A sweep with stored units was under way: it goes on by itself.
                self.run(sweep, &spec);
            } else {
                self.status.set(SweepStatus::Idle);
            }
        });
    }

    fn run(self, sweep: u64, spec: &SweepSpec) {
        let skip: Vec<Unit> = self.units.with_untracked(|u| u.keys().copied().collect());
        let remaining = self.total_units.get_untracked().saturating_sub(skip.len());
        self.work.set((0, spec.work_per_unit() * remaining as u64));
        self.started_ms.set(now_ms());
        self.status.set(SweepStatus::Running);
        let mut roles = vec![ModelRole::Policy, ModelRole::Reviser, ModelRole::Verifier];
        if spec.large {
            roles.push(ModelRole::Large);
        }
        let models = roles
            .into_iter()
            .filter_map(|role| {
                Some(ModelFile {
                    role,
                    url: site_url(role.builtin_path()?),
                })
            })
            .collect();
        let key = spec.to_query();
        let requests = [
            ToWorker::Load {
                run: sweep,
                models,
                engine: EngineChoice::Cpu,
            },
            ToWorker::Sweep {
                sweep,
                spec: spec.to_query(),
                skip,
            },
        ];
        let started = WorkerBridge::start(move |message| self.receive(sweep, &key, message))
            .and_then(|bridge| {
                requests.iter().try_for_each(|r| bridge.send(r))?;
                Ok(bridge)
            });
        match started {
            Ok(bridge) => SHARED.with(|s| s.borrow_mut().worker = Some(bridge)),
            Err(e) => self.status.set(SweepStatus::Failed(e)),
        }
    }

    /// Stops the sweep; the units done stay stored.
    pub fn stop(self) {
        if self.status.get_untracked() == SweepStatus::Running {
            self.end_worker();
            self.status.set(SweepStatus::Stopped);
        }
    }

    /// Forgets the stored units of the sweep shown.
    pub fn forget(self) {
        let Some(spec) = self.spec.get_untracked() else {
            return;
        };
        self.end_worker();
        self.units.set(BTreeMap::new());
        self.resumed.set(0);
        self.status.set(SweepStatus::Idle);
        spawn_local(async move {
            if let Some(store) = SHARED.with(|s| s.borrow().store.clone()) {
                if let Err(e) = store.clear(&spec.to_query()).await {
                    let _ = self
                        .store_error
                        .try_set(Some(format!("could not forget the stored results: {e}")));
                }
            }
        });
    }

    fn end_worker(&self) {
        SHARED.with(|s| {
            let mut s = s.borrow_mut();
            s.worker = None;
            s.sweep += 1;
        });
    }

    fn receive(self, sweep: u64, key: &str, message: FromWorker) {
        if SHARED.with(|s| s.borrow().sweep) != sweep {
            return;
        }
        match message {
            FromWorker::SweepProgress { work, .. } => {
                self.work.update(|w| w.0 += work);
            }
            FromWorker::SweepUnit { result, .. } => {
                let store = SHARED.with(|s| s.borrow().store.clone());
                if let Some(store) = store {
                    let key = key.to_string();
                    let kept = result.clone();
                    spawn_local(async move {
                        if let Err(e) = store.save(&key, &kept).await {
                            let _ = self.store_error.try_set(Some(format!(
                                "results are not being stored ({e}); a reload would lose them"
                            )));
                        }
                    });
                }
                self.units.update(|u| {
                    u.insert(result.unit, result);
                });
            }
            FromWorker::SweepFinished { .. } => {
                self.end_worker();
                self.status.set(SweepStatus::Finished);
            }
            FromWorker::SweepFailed { message, .. } | FromWorker::Error { message } => {
                self.end_worker();
                self.status.set(SweepStatus::Failed(message));
            }
            FromWorker::LoadFailed { url, message, .. } => {
                self.end_worker();
                self.status.set(SweepStatus::Failed(format!(
                    "{url} could not be loaded: {message}"
                )));
            }
            _ => {}
        }
    }
}
