//! The page's side of a Compare race: one inference worker per column (so the two
//! columns compute at once, one per core), the models they fetch, the runs they stream,
//! and the pump that moves events from the [`Race`] into what the columns show.
//!
//! Cancelling ends the workers, which stops a run at once whatever it is doing; what was
//! already shown stays on the page. A new run supersedes the old one the same way. Idle
//! workers are kept, with their models, for the next run. Every request and every reply
//! names its run, so a late reply to a superseded run is never shown as the current one's.

use std::cell::RefCell;
use std::time::Duration;

use leptos::prelude::*;
use ponder_core::accounting::Compute;
use ponder_core::spec::{Comparison, ExperimentSpec};
use ponder_core::strategy::Outcome;
use ponder_core::Event;

use crate::column_state::ColumnState;
use crate::race::Race;
use crate::worker_bridge::WorkerBridge;
use crate::worker_protocol::{
    EngineChoice, EngineKind, FromWorker, ModelFile, ModelRole, ToWorker,
};

/// How often the pump moves released events into the view: often enough to look live,
/// rarely enough that the page does a bounded amount of work per frame however fast the
/// workers stream.
pub const PUMP_PERIOD: Duration = Duration::from_millis(50);

/// How long a column waits for its new worker's first `Ready`. A worker whose script or
/// wasm never loads cannot say so (the browser may not even raise an error event), so
/// without a deadline its column would wait without end; the probing worker keeps the
/// same deadline for the same reason (`worker_handle::REPORT_DEADLINE`).
pub const READY_DEADLINE: Duration = crate::worker_handle::REPORT_DEADLINE;

/// Where a column is.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    Idle,
    /// Fetching or reading its models.
    Loading,
    Running,
    /// Done and fully shown; the other column is still going.
    Waiting,
    Finished,
    /// A model could not be fetched or read.
    LoadFailed {
        role: ModelRole,
        url: String,
        message: String,
    },
    Failed(String),
    Cancelled,
}

/// Bytes of one model file.
#[derive(Clone, Debug, PartialEq)]
pub struct Download {
    pub role: ModelRole,
    pub loaded: u64,
    pub total: Option<u64>,
    pub done: bool,
}

/// What one column shows, as signals.
#[derive(Clone, Copy)]
pub struct ColumnSignals {
    pub spec: RwSignal<Option<ExperimentSpec>>,
    pub state: RwSignal<ColumnState>,
    pub phase: RwSignal<Phase>,
    pub downloads: RwSignal<Vec<Download>>,
    /// The run's outcome and its seconds in the worker, once fully shown.
    pub outcome: RwSignal<Option<(Outcome, f64)>>,
    /// Where the column's models run (WebGPU or the CPU) and why, once the worker says.
    pub engine: RwSignal<Option<(EngineKind, String)>>,
}

impl Default for ColumnSignals {
    fn default() -> Self {
        ColumnSignals::new()
    }
}

impl ColumnSignals {
    pub fn new() -> ColumnSignals {
        ColumnSignals {
            spec: RwSignal::new(None),
            state: RwSignal::new(ColumnState::default()),
            phase: RwSignal::new(Phase::Idle),
            downloads: RwSignal::new(Vec::new()),
            outcome: RwSignal::new(None),
            engine: RwSignal::new(None),
        }
    }
}

/// The race's problem as the page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct RaceProblem {
    pub text: String,
    pub truth: i64,
}

#[derive(Clone, Copy)]
pub struct RaceController {
    pub columns: [ColumnSignals; 2],
    pub problem: RwSignal<Option<RaceProblem>>,
    /// The comparison of the current (or last) run.
    pub comparison: RwSignal<Option<Comparison>>,
    pub running: RwSignal<bool>,
}

struct ColumnWorker {
    bridge: WorkerBridge,
    /// Whether it said `Ready` (requests sent before wait in the bridge).
    ready: bool,
    /// The run whose requests (its load, then the run itself) the worker is still
    /// working through; `None` once it reported that run's end. Ending the worker is the
    /// only way to stop it, so a busy worker is ended before another run is sent. A failed
    /// load does not make it idle: the worker goes on to the rest of that load and its run.
    busy_with: Option<u64>,
    /// Which worker this is, so messages from an ended one are ignored.
    generation: u64,
}

impl ColumnWorker {
    fn busy(&self) -> bool {
        self.busy_with.is_some()
    }
}

#[derive(Default)]
struct Shared {
    race: Race,
    run: u64,
    generation: u64,
    workers: [Option<ColumnWorker>; 2],
    /// Outcomes received whose events are not all shown yet.
    outcomes: [Option<(Outcome, f64)>; 2],
    /// Every batch of the current run, kept for classroom mode's stepping.
    recorded: [Vec<(Compute, Vec<Event>)>; 2],
    first_step_marked: bool,
}

impl Shared {
    /// Ends every worker with a request in flight: a busy worker cannot be interrupted any
    /// other way, and its late replies must not reach the next run.
    fn end_busy_workers(&mut self) {
        for slot in self.workers.iter_mut() {
            if slot.as_ref().is_some_and(ColumnWorker::busy) {
                *slot = None;
            }
        }
    }
}

thread_local! {
    // Worker bridges hold JavaScript closures (not Send), so they live here, not in signals.
    static SHARED: RefCell<Shared> = RefCell::new(Shared::default());
}

impl RaceController {
    /// Creates the controller and its pump, and provides it as context.
    pub fn provide() -> RaceController {
        let controller = RaceController {
            columns: [ColumnSignals::new(), ColumnSignals::new()],
            problem: RwSignal::new(None),
            comparison: RwSignal::new(None),
            running: RwSignal::new(false),
        };
        provide_context(controller);
        // The page lives as long as this interval; a failed start leaves the race unpumped,
        // which the columns would show as a run that never progresses.
        let _ = set_interval_with_handle(move || controller.pump(), PUMP_PERIOD);
        controller
    }

    pub fn use_context() -> RaceController {
        expect_context::<RaceController>()
    }

    /// Starts racing `comparison` on `problem`, superseding any run in flight.
    pub fn start(self, comparison: Comparison, problem: RaceProblem) {
        let columns = comparison.columns();
        let own_model = comparison.own_model.clone().unwrap_or_default();
        let run = SHARED.with(|s| {
            let mut s = s.borrow_mut();
            s.run += 1;
            s.race = Race::default();
            s.outcomes = [None, None];
            s.recorded = [Vec::new(), Vec::new()];
            s.end_busy_workers();
            s.run
        });
        self.problem.set(Some(problem.clone()));
        self.comparison.set(Some(comparison));
        self.running.set(true);
        for (col, spec) in columns.into_iter().enumerate() {
            let signals = self.columns[col];
            signals.spec.set(Some(spec));
            signals.state.set(ColumnState::default());
            signals.phase.set(Phase::Loading);
            signals.outcome.set(None);
            signals.engine.set(None);
            let roles = ModelRole::needed_by(&spec);
            signals.downloads.set(
                roles
                    .iter()
                    .map(|&role| Download {
                        role,
                        loaded: 0,
                        total: None,
                        done: false,
                    })
                    .collect(),
            );
            let models = roles
                .iter()
                .map(|&role| ModelFile {
                    role,
                    url: role
                        .builtin_path()
                        .map_or_else(|| own_model.clone(), site_url),
                })
                .collect();
            let engine = engine_choice();
            self.send(
                col,
                run,
                ToWorker::Load {
                    run,
                    models,
                    engine,
                },
            );
            self.send(
                col,
                run,
                ToWorker::Run {
                    run,
                    spec: spec.to_query(),
                    problem: problem.text.clone(),
                },
            );
        }
    }

    /// [`start_if_new`](Self::start_if_new) in a task of its own, after the view that
    /// asks has been drawn: a view shown on opening the page then paints without waiting
    /// for the column workers to be created and sent their first requests, and the page
    /// stays responsive meanwhile (one long task split in two).
    pub fn start_soon_if_new(self, comparison: Comparison, problem: Result<RaceProblem, String>) {
        set_timeout(
            move || self.start_if_new(comparison, problem),
            std::time::Duration::ZERO,
        );
    }

    /// Starts `comparison` unless it is the race already run or running (a view shown
    /// again, a Back to the same link). A problem that cannot run starts nothing and
    /// clears the columns, so the last race is not taken for this link's.
    pub fn start_if_new(self, comparison: Comparison, problem: Result<RaceProblem, String>) {
        if self.comparison.get_untracked().as_ref() == Some(&comparison) {
            return;
        }
        match problem {
            Ok(p) => self.start(comparison, p),
            Err(_) => self.clear(comparison),
        }
    }

    /// Shows `comparison` with nothing run (its problem cannot run; the view says why):
    /// any run in flight stops and the columns are emptied.
    pub fn clear(self, comparison: Comparison) {
        SHARED.with(|s| {
            let mut s = s.borrow_mut();
            s.run += 1;
            s.end_busy_workers();
            s.race = Race::default();
            s.outcomes = [None, None];
            s.recorded = [Vec::new(), Vec::new()];
        });
        let columns = comparison.columns();
        self.problem.set(None);
        self.comparison.set(Some(comparison));
        self.running.set(false);
        for (signals, spec) in self.columns.into_iter().zip(columns) {
            signals.spec.set(Some(spec));
            signals.state.set(ColumnState::default());
            signals.phase.set(Phase::Idle);
            signals.outcome.set(None);
            signals.downloads.set(Vec::new());
        }
    }

    /// Stops the run: its workers end at once; what was shown stays.
    pub fn cancel(self) {
        SHARED.with(|s| {
            let mut s = s.borrow_mut();
            s.run += 1;
            s.end_busy_workers();
            s.race = Race::default();
            s.outcomes = [None, None];
        });
        for signals in self.columns {
            signals.phase.update(|p| {
                if matches!(p, Phase::Loading | Phase::Running | Phase::Waiting) {
                    *p = Phase::Cancelled;
                }
            });
        }
        self.running.set(false);
    }

    /// Sends a request of run `run` to column `col`'s worker, starting one if there is none.
    fn send(self, col: usize, run: u64, message: ToWorker) {
        let started = SHARED.with(|s| s.borrow().workers[col].is_some());
        if !started {
            if let Err(message) = self.start_worker(col) {
                self.columns[col].phase.set(Phase::Failed(message));
                SHARED.with(|s| s.borrow_mut().race.finish(col));
                return;
            }
        }
        SHARED.with(|s| {
            let mut s = s.borrow_mut();
            if let Some(worker) = s.workers[col].as_mut() {
                worker.busy_with = Some(run);
                if let Err(e) = worker.bridge.send(&message) {
                    web_sys::console::error_1(&e.into());
                }
            }
        });
    }

    fn start_worker(self, col: usize) -> Result<(), String> {
        let generation = SHARED.with(|s| {
            let mut s = s.borrow_mut();
            s.generation += 1;
            s.generation
        });
        let bridge = WorkerBridge::start(move |message| self.receive(col, generation, message))?;
        SHARED.with(|s| {
            s.borrow_mut().workers[col] = Some(ColumnWorker {
                bridge,
                ready: false,
                busy_with: None,
                generation,
            })
        });
        set_timeout(move || self.ready_overdue(col, generation), READY_DEADLINE);
        Ok(())
    }

    /// Ends column `col`'s worker `generation` if it never said `Ready`, and says so in the
    /// column, whose Retry starts a fresh worker.
    fn ready_overdue(self, col: usize, generation: u64) {
        let ended = SHARED.with(|s| {
            let mut s = s.borrow_mut();
            let silent = s.workers[col]
                .as_ref()
                .is_some_and(|w| w.generation == generation && !w.ready);
            if silent {
                s.workers[col] = None;
                s.race.finish(col);
            }
            silent
        });
        if ended {
            self.columns[col].phase.set(Phase::Failed(format!(
                "the inference worker did not start within {} s: its files may be missing \
                 from this site or blocked by the browser (the console says which). Retry \
                 to start it again.",
                READY_DEADLINE.as_secs()
            )));
        }
    }

    fn receive(self, col: usize, generation: u64, message: FromWorker) {
        let (current, run) = SHARED.with(|s| {
            let s = s.borrow();
            let current = s.workers[col]
                .as_ref()
                .is_some_and(|w| w.generation == generation);
            (current, s.run)
        });
        if !current {
            return;
        }
        // A run's end makes its worker idle, whether or not that run is still the one shown.
        if let FromWorker::Finished { run: r, .. } | FromWorker::RunFailed { run: r, .. } = &message
        {
            SHARED.with(|s| {
                if let Some(worker) = s.borrow_mut().workers[col].as_mut() {
                    if worker.busy_with == Some(*r) {
                        worker.busy_with = None;
                    }
                }
            });
        }
        let signals = self.columns[col];
        match message {
            FromWorker::Ready => SHARED.with(|s| {
                let mut s = s.borrow_mut();
                if let Some(worker) = s.workers[col].as_mut() {
                    worker.ready = true;
                }
            }),
            FromWorker::Backend { .. } => {}
            // Replies about an earlier run's load: its column shows another run now.
            FromWorker::Download { run: r, .. }
            | FromWorker::Loaded { run: r, .. }
            | FromWorker::LoadFailed { run: r, .. }
                if r != run => {}
            FromWorker::Download {
                role,
                loaded,
                total,
                ..
            } => signals.downloads.update(|d| {
                if let Some(row) = d.iter_mut().find(|r| r.role == role) {
                    row.loaded = loaded;
                    row.total = total;
                }
            }),
            FromWorker::Loaded { role, .. } => {
                signals.downloads.update(|d| {
                    if let Some(row) = d.iter_mut().find(|r| r.role == role) {
                        row.done = true;
                    }
                });
                if signals
                    .downloads
                    .with_untracked(|d| d.iter().all(|r| r.done))
                    && signals.phase.get_untracked() == Phase::Loading
                {
                    signals.phase.set(Phase::Running);
                }
            }
            FromWorker::LoadFailed {
                role, url, message, ..
            } => {
                signals.phase.set(Phase::LoadFailed { role, url, message });
                // The column is done; the worker is not (see `ColumnWorker::busy_with`).
                SHARED.with(|s| s.borrow_mut().race.finish(col));
            }
            FromWorker::EngineChosen {
                run: r,
                engine,
                reason,
            } if r == run => signals.engine.set(Some((engine, reason))),
            FromWorker::Events {
                run: r,
                compute,
                events,
            } if r == run => {
                SHARED.with(|s| {
                    let mut s = s.borrow_mut();
                    s.recorded[col].push((compute, events.clone()));
                    s.race.push(col, compute, events);
                });
            }
            FromWorker::Finished {
                run: r,
                outcome,
                seconds,
            } if r == run => {
                SHARED.with(|s| s.borrow_mut().outcomes[col] = Some((*outcome, seconds)));
                self.column_ended(col);
            }
            FromWorker::RunFailed { run: r, message } if r == run => {
                // After a failed load the run's "not loaded" adds nothing.
                if !matches!(signals.phase.get_untracked(), Phase::LoadFailed { .. }) {
                    signals.phase.set(Phase::Failed(message));
                }
                self.column_ended(col);
            }
            FromWorker::Events { .. }
            | FromWorker::EngineChosen { .. }
            | FromWorker::Finished { .. }
            | FromWorker::RunFailed { .. } => {}
            // A column's worker runs no sweeps and no chats.
            FromWorker::SweepProgress { .. }
            | FromWorker::SweepUnit { .. }
            | FromWorker::SweepFinished { .. }
            | FromWorker::SweepFailed { .. }
            | FromWorker::ChatPiece { .. }
            | FromWorker::ChatDone { .. }
            | FromWorker::ChatFailed { .. } => {}
            FromWorker::Error { message } => {
                signals.phase.set(Phase::Failed(format!(
                    "the column's worker stopped: {message}. Retry to restart it."
                )));
                SHARED.with(|s| {
                    let mut s = s.borrow_mut();
                    s.workers[col] = None;
                    s.race.finish(col);
                });
            }
        }
    }

    /// The column's run ended (finished or failed): it is done in the race.
    fn column_ended(self, col: usize) {
        SHARED.with(|s| s.borrow_mut().race.finish(col));
    }

    /// Moves what the race releases into the columns, and settles their phases.
    fn pump(self) {
        let (released, waiting, over, mark_first) = SHARED.with(|s| {
            let mut s = s.borrow_mut();
            let released = s.race.release();
            let any_step = released.iter().flatten().any(|(_, events)| {
                events
                    .iter()
                    .any(|e| matches!(e, Event::StepSampled { .. }))
            });
            let mark_first = any_step && !s.first_step_marked;
            if mark_first {
                s.first_step_marked = true;
            }
            let waiting = [s.race.waiting(0), s.race.waiting(1)];
            (released, waiting, s.race.over(), mark_first)
        });
        for (col, batches) in released.into_iter().enumerate() {
            if batches.is_empty() {
                continue;
            }
            self.columns[col].state.update(|state| {
                for (compute, events) in &batches {
                    for e in events {
                        state.apply(e);
                    }
                    state.compute = *compute;
                }
            });
        }
        if mark_first {
            performance_mark("ponder-first-step");
        }
        for (col, waiting) in waiting.into_iter().enumerate() {
            let signals = self.columns[col];
            let phase = signals.phase.get_untracked();
            let active = matches!(phase, Phase::Running | Phase::Waiting | Phase::Loading);
            if !active {
                continue;
            }
            let done = over || waiting;
            if done {
                if let Some(outcome) = SHARED.with(|s| s.borrow_mut().outcomes[col].take()) {
                    signals.outcome.set(Some(outcome));
                }
                let next = if over {
                    Phase::Finished
                } else {
                    Phase::Waiting
                };
                if phase != next && signals.outcome.with_untracked(Option::is_some) {
                    signals.phase.set(next);
                }
            }
        }
        if over && self.running.get_untracked() {
            let settled = self.columns.iter().all(|c| {
                !matches!(
                    c.phase.get_untracked(),
                    Phase::Running | Phase::Loading | Phase::Waiting
                )
            });
            if settled {
                self.running.set(false);
                performance_mark("ponder-race-finished");
            }
        }
    }
}

impl RaceController {
    /// Every batch column `col` sent in the current run, with the compute after it.
    pub fn recorded(self, col: usize) -> Vec<(Compute, Vec<Event>)> {
        SHARED.with(|s| s.borrow().recorded[col].clone())
    }
}

/// `path` resolved against the document's base URL (the site's folder).
/// The engine the page's link asks for (`engine=gpu|cpu|auto`; automatic when absent or
/// unknown).
fn engine_choice() -> EngineChoice {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    crate::url_state::UrlState::parse(&search)
        .get("engine")
        .and_then(EngineChoice::from_key)
        .unwrap_or_default()
}

pub fn site_url(path: &str) -> String {
    let base = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .unwrap_or_default();
    web_sys::Url::new_with_base(path, &base)
        .map(|u| u.href())
        .unwrap_or_else(|_| path.to_string())
}

/// A `performance.mark` for the benchmark to read (`cargo xtask bench`).
fn performance_mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}
