//! The worker's side of inference: the models it has loaded, on the CPU and (where the
//! browser has WebGPU) on the GPU, the choice between the two, and experiment runs that
//! stream the strategy's events to the page as they happen.
//!
//! A run is the same call into `ponder-core`'s strategies that `ponder run` makes, so a
//! link gives the same answers here and there. On the GPU the run is awaited (the device
//! answers on a later turn of the event loop); its kernels round as the CPU engine does,
//! so both engines give the same run. That is also what makes a lost GPU harmless: the
//! CPU runs the spec again and the page receives only the batches after those it has.
//! While it runs the worker hears nothing; the page cancels a run by ending the worker.

use std::collections::HashMap;
use std::sync::Arc;

use ponder_core::arithmetic::{ArithmeticTask, Problem};
use ponder_core::event::Event;
use ponder_core::spec::ExperimentSpec;
use ponder_core::strategy::{Context, StrategyError};
use ponder_core::sweep::{run_unit, SweepSpec, Unit, UnitResult};
use ponder_core::{Policy, Verifier};
use ponder_gpu::model::{load as load_on_gpu, Capacity, GpuTransformer};
use ponder_gpu::Gpu;
use ponder_model::forward::Forward;
use ponder_model::transformer::{BatchItem, Wanted};
use ponder_model::{Engine, LanguageModel, ModelError};

use crate::model_fetch::{check_gguf, fetch_bytes};
use crate::worker_protocol::{EngineChoice, EngineKind, FromWorker, ModelFile, ModelRole};
use ponder_core::arithmetic::few_shot;
use ponder_core::prefixed::Prefixed;

/// The most sequences one policy call steps together, as in `ponder run` (results do not
/// depend on it; it bounds the engine's memory).
pub const MAX_BATCH: usize = 64;

/// Cache slots a GPU model starts with; they double when a run needs more.
const FIRST_SLOTS: u32 = 8;

struct Loaded {
    url: String,
    /// The file, kept to load it on the GPU when the choice turns to WebGPU later.
    bytes: Vec<u8>,
    cpu: Engine,
    /// The same model on the GPU, once the worker runs on WebGPU.
    gpu: Option<Engine<GpuTransformer>>,
}

/// The worker's GPU, asked for once.
#[derive(Default)]
enum GpuState {
    #[default]
    Untried,
    Ready(Arc<Gpu>),
    /// Why there is none (no WebGPU, no adapter, a lost device).
    Unavailable(String),
}

/// The models a worker holds, by role, and where its runs go.
#[derive(Default)]
pub struct Models {
    loaded: HashMap<ModelRole, Loaded>,
    gpu: GpuState,
    /// The engine runs use, with the reason.
    engine: Option<(EngineKind, String)>,
    /// What the automatic choice measured (engine and reason), once it has.
    measured: Option<(EngineKind, String)>,
    /// The choice the latest load asked for.
    choice: EngineChoice,
}

impl Models {
    /// Whether `role` is loaded from `url`.
    pub fn has(&self, role: ModelRole, url: &str) -> bool {
        self.loaded.get(&role).is_some_and(|l| l.url == url)
    }

    /// The worker's GPU, if it has one (asked for at the first call).
    async fn gpu(&mut self) -> Option<Arc<Gpu>> {
        if matches!(self.gpu, GpuState::Untried) {
            // The wgpu handles are single-threaded in a browser; the Arc only shares them
            // between the models of this one worker.
            #[allow(clippy::arc_with_non_send_sync)]
            let state = match crate::backend::request_gpu().await {
                Ok(gpu) => GpuState::Ready(Arc::new(gpu)),
                Err(reason) => GpuState::Unavailable(reason),
            };
            self.gpu = state;
        }
        match &self.gpu {
            GpuState::Ready(gpu) => Some(gpu.clone()),
            _ => None,
        }
    }

    /// Fetches and loads one model file for run `run` (on the CPU, and on the GPU unless
    /// `choice` is the CPU), reporting progress through `post`.
    pub async fn load(
        &mut self,
        run: u64,
        file: &ModelFile,
        choice: EngineChoice,
        post: &mut dyn FnMut(FromWorker),
    ) -> Result<(), String> {
        let role = file.role;
        if self.has(role, &file.url) {
            post(FromWorker::Loaded {
                run,
                role,
                bytes: 0,
                parameters: 0,
            });
            return Ok(());
        }
        if file.url.is_empty() {
            return Err(format!(
                "this link's column runs a {} but names none: the link needs own_model= \
                 (Models view, \"Use in Compare\", writes it)",
                role.label()
            ));
        }
        let mut last_shown = 0u64;
        // A visitor's model is read from where the page keeps it, if it is kept there.
        let kept = if role == ModelRole::Own {
            crate::own_models::read(&file.url).await.ok()
        } else {
            None
        };
        if role == ModelRole::Own && kept.is_none() {
            if let Some(name) = crate::own_models::disk_file_name(&file.url) {
                return Err(format!(
                    "this link's model, {name}, was chosen from a disk on the computer that \
                     made the link, and this browser does not keep it: choose the same file in \
                     the Models view (\"Choose a file\"), then open the link again"
                ));
            }
        }
        let fetched = match kept {
            Some(bytes) => Ok(bytes),
            None => {
                fetch_bytes(&file.url, |loaded, total| {
                    // A message per 64 KiB at most: enough for a smooth bar, few enough to be free.
                    if loaded == 0 || loaded - last_shown >= 1 << 16 || Some(loaded) == total {
                        last_shown = loaded;
                        post(FromWorker::Download {
                            run,
                            role,
                            loaded,
                            total,
                        });
                    }
                })
                .await
            }
        };
        let bytes = fetched?;
        check_gguf(&file.url, &bytes)?;
        let model = LanguageModel::from_gguf_bytes(&bytes)
            .map_err(|e| format!("{} is not a model Ponder can run: {e}", file.url))?;
        let parameters = model.parameters();
        let size = bytes.len() as u64;
        self.loaded.insert(
            role,
            Loaded {
                url: file.url.clone(),
                bytes,
                cpu: Engine::new(model),
                gpu: None,
            },
        );
        // A link that asks for WebGPU waits for it; the automatic choice never makes a
        // race wait (see `trial`).
        if choice == EngineChoice::Gpu {
            self.load_on_gpu_too(role).await;
        }
        post(FromWorker::Loaded {
            run,
            role,
            bytes: size,
            parameters,
        });
        Ok(())
    }

    /// Loads `role`'s model on the GPU (if the worker has one and it is not there yet);
    /// whether it is there now. A model that does not fit leaves the reason for the page.
    async fn load_on_gpu_too(&mut self, role: ModelRole) -> bool {
        if self.loaded.get(&role).is_some_and(|l| l.gpu.is_some()) {
            return true;
        }
        let Some(gpu) = self.gpu().await else {
            return false;
        };
        let Some(loaded) = self.loaded.get_mut(&role) else {
            return false;
        };
        let capacity = Capacity {
            slots: FIRST_SLOTS,
            positions: loaded.cpu.model.transformer.config.context_length as u32,
        };
        match load_on_gpu(gpu, &loaded.bytes, capacity).await {
            Ok(model) => {
                loaded.gpu = Some(Engine::new(model));
                true
            }
            Err(e) => {
                self.gpu =
                    GpuState::Unavailable(format!("{} does not fit this GPU: {e}", role.label()));
                false
            }
        }
    }

    /// Decides where the runs of `roles` go under `choice` and tells the page. The
    /// automatic choice uses what [`Models::trial`] measured, and the CPU until it has.
    pub async fn choose(
        &mut self,
        run: u64,
        roles: &[ModelRole],
        choice: EngineChoice,
        post: &mut dyn FnMut(FromWorker),
    ) {
        self.choice = choice;
        let unavailable = |gpu: &GpuState| match gpu {
            GpuState::Unavailable(why) => Some(why.clone()),
            _ => None,
        };
        let decided = match choice {
            EngineChoice::Cpu => (EngineKind::Cpu, "the link asks for the CPU".to_string()),
            EngineChoice::Gpu => {
                let mut all = true;
                for &role in roles {
                    all &= self.load_on_gpu_too(role).await;
                }
                match (all, unavailable(&self.gpu)) {
                    (true, _) => (EngineKind::Gpu, "the link asks for WebGPU".to_string()),
                    (false, why) => (EngineKind::Cpu, why.unwrap_or_else(|| "no WebGPU".into())),
                }
            }
            EngineChoice::Auto => match (self.measured.clone(), unavailable(&self.gpu)) {
                (_, Some(why)) => (EngineKind::Cpu, why),
                (Some((EngineKind::Gpu, reason)), None) => {
                    let mut all = true;
                    for &role in roles {
                        all &= self.load_on_gpu_too(role).await;
                    }
                    match unavailable(&self.gpu) {
                        Some(why) if !all => (EngineKind::Cpu, why),
                        _ => (EngineKind::Gpu, reason),
                    }
                }
                (Some(measured), None) => measured,
                (None, None) => (
                    EngineKind::Cpu,
                    "WebGPU is timed after this run, so the race starts at once; later races \
                     use whichever engine is faster"
                        .to_string(),
                ),
            },
        };
        self.engine = Some(decided.clone());
        post(FromWorker::EngineChosen {
            run,
            engine: decided.0,
            reason: decided.1,
        });
    }

    /// Whether the automatic choice still has WebGPU to time (the worker does it when idle).
    pub fn trial_pending(&self) -> bool {
        self.choice == EngineChoice::Auto
            && self.measured.is_none()
            && !matches!(self.gpu, GpuState::Unavailable(_))
            && !self.loaded.is_empty()
    }

    /// Times a decoding step of 16 sequences, the shape of a typical race, on both
    /// engines with a loaded policy (S if there), and keeps the faster for later races.
    pub async fn trial(&mut self) {
        let role = [ModelRole::Policy, ModelRole::Reviser, ModelRole::Verifier]
            .into_iter()
            .find(|r| self.loaded.contains_key(r));
        let Some(role) = role else {
            return;
        };
        if !self.load_on_gpu_too(role).await {
            let why = match &self.gpu {
                GpuState::Unavailable(why) => why.clone(),
                _ => "no WebGPU in this browser".into(),
            };
            self.measured = Some((EngineKind::Cpu, why));
            return;
        }
        let Some(loaded) = self.loaded.get_mut(&role) else {
            return;
        };
        let cpu = step_time(&mut loaded.cpu.model.transformer).await;
        let gpu = match loaded.gpu.as_mut() {
            Some(engine) => step_time(&mut engine.model.transformer).await,
            None => Err("not loaded on the GPU".into()),
        };
        self.measured = Some(match (cpu, gpu) {
            (Ok(c), Ok(g)) if g < c => (
                EngineKind::Gpu,
                format!("measured faster here: {g:.1} ms a step of 16 sequences on WebGPU, {c:.1} ms on the CPU"),
            ),
            (Ok(c), Ok(g)) => (
                EngineKind::Cpu,
                format!("measured faster here: {c:.1} ms a step of 16 sequences on the CPU, {g:.1} ms on WebGPU"),
            ),
            (_, Err(e)) | (Err(e), _) => (EngineKind::Cpu, format!("WebGPU failed a trial step: {e}")),
        });
        if matches!(self.measured, Some((EngineKind::Cpu, _))) {
            // The GPU copies would only hold memory.
            for loaded in self.loaded.values_mut() {
                loaded.gpu = None;
            }
        }
    }

    /// Runs `spec` on `problem_text`, sending every event to `post` in batches that end
    /// where the run's compute was counted, then the outcome.
    pub async fn run(
        &mut self,
        run: u64,
        spec_query: &str,
        problem_text: &str,
        post: &mut dyn FnMut(FromWorker),
    ) -> Result<(), String> {
        let spec = ExperimentSpec::from_query(spec_query).spec;
        let problem = Problem::parse(problem_text)
            .map_err(|e| format!("cannot run the problem {problem_text:?}: {e}"))?;
        let on_gpu = matches!(self.engine, Some((EngineKind::Gpu, _)));
        let mut shown = Shown::default();
        if on_gpu {
            match self
                .run_with(run, &spec, &problem, EngineKind::Gpu, &mut shown, post)
                .await
            {
                Err(RunError::Gpu(reason)) => {
                    // The CPU gives the very same run: it starts over, and the page gets
                    // the batches after those it already has.
                    let reason = format!("the GPU failed ({reason}); the run went on on the CPU");
                    self.gpu = GpuState::Unavailable(reason.clone());
                    for loaded in self.loaded.values_mut() {
                        loaded.gpu = None;
                    }
                    self.engine = Some((EngineKind::Cpu, reason.clone()));
                    self.measured = Some((EngineKind::Cpu, reason.clone()));
                    post(FromWorker::EngineChosen {
                        run,
                        engine: EngineKind::Cpu,
                        reason,
                    });
                }
                other => return other.map_err(RunError::message),
            }
        }
        self.run_with(run, &spec, &problem, EngineKind::Cpu, &mut shown, post)
            .await
            .map_err(RunError::message)
    }

    async fn run_with(
        &mut self,
        run: u64,
        spec: &ExperimentSpec,
        problem: &Problem,
        engine: EngineKind,
        shown: &mut Shown,
        post: &mut dyn FnMut(FromWorker),
    ) -> Result<(), RunError> {
        let role = ModelRole::policy_of(spec);
        let missing =
            |r: ModelRole| RunError::Other(format!("the {} is not loaded yet", r.label()));
        // The policy and the verifier are two entries of one map: the verifier is taken
        // out for the run so both can be borrowed mutably, and always put back.
        let verifier = if spec.uses_verifier() {
            Some(
                self.loaded
                    .remove(&ModelRole::Verifier)
                    .ok_or_else(|| missing(ModelRole::Verifier))?,
            )
        } else {
            None
        };
        let mut verifier = verifier;
        // A visitor's model is shown worked examples of the task's format first.
        let prefix = if role == ModelRole::Own {
            few_shot::examples(few_shot::EXAMPLES).map_err(|e| RunError::Other(e.to_string()))?
        } else {
            String::new()
        };
        let outcome = match self.loaded.get_mut(&role) {
            None => Err(missing(role)),
            Some(policy) => match (engine, verifier.as_mut()) {
                (EngineKind::Cpu, None) => {
                    let mut p = Prefixed::new(&mut policy.cpu, prefix);
                    run_spec(run, spec, problem, &mut p, &mut NoVerifier, shown, post).await
                }
                (EngineKind::Cpu, Some(v)) => {
                    let mut p = Prefixed::new(&mut policy.cpu, prefix);
                    run_spec(run, spec, problem, &mut p, &mut v.cpu, shown, post).await
                }
                (EngineKind::Gpu, None) => match policy.gpu.as_mut() {
                    Some(p) => {
                        let mut p = Prefixed::new(p, prefix);
                        run_spec(run, spec, problem, &mut p, &mut NoVerifier, shown, post).await
                    }
                    None => Err(RunError::Gpu("the policy is not on the GPU".into())),
                },
                (EngineKind::Gpu, Some(v)) => match (policy.gpu.as_mut(), v.gpu.as_mut()) {
                    (Some(p), Some(v)) => {
                        let mut p = Prefixed::new(p, prefix);
                        run_spec(run, spec, problem, &mut p, v, shown, post).await
                    }
                    _ => Err(RunError::Gpu("a model is not on the GPU".into())),
                },
            },
        };
        if let Some(v) = verifier {
            self.loaded.insert(ModelRole::Verifier, v);
        }
        outcome
    }
}

impl Models {
    /// Every row of one sweep unit, on the CPU engines of the loaded policy, reviser and
    /// verifier. `progress` hears the generations each run spends.
    pub async fn sweep_unit(
        &mut self,
        spec: &SweepSpec,
        unit: Unit,
        problem: &Problem,
        level: u8,
        progress: &mut dyn FnMut(u64),
    ) -> Result<UnitResult, String> {
        let mut roles = vec![ModelRole::Policy, ModelRole::Reviser, ModelRole::Verifier];
        if spec.large {
            roles.push(ModelRole::Large);
        }
        if let Some(missing) = roles.iter().find(|r| !self.loaded.contains_key(r)) {
            return Err(format!("the {} is not loaded yet", missing.label()));
        }
        // Entries of one map, borrowed mutably together: taken out for the unit and
        // always put back.
        let mut taken: Vec<Loaded> = roles.iter().filter_map(|r| self.loaded.remove(r)).collect();
        let rows = match taken.as_mut_slice() {
            [policy, reviser, verifier, rest @ ..] => Ok(run_unit(
                spec,
                unit,
                problem,
                level,
                (&mut policy.cpu, &mut reviser.cpu, &mut verifier.cpu),
                rest.first_mut().map(|large| &mut large.cpu),
                progress,
            )
            .await),
            _ => Err("the sweep's models went missing".to_string()),
        };
        for (role, loaded) in roles.into_iter().zip(taken) {
            self.loaded.insert(role, loaded);
        }
        rows
    }
}

/// Milliseconds a decoding step of 16 sequences takes on `transformer` (after a prefill
/// that is not counted), the mean of four.
async fn step_time<F: Forward>(transformer: &mut F) -> Result<f64, String> {
    const SEQUENCES: usize = 16;
    const STEPS: usize = 4;
    let vocab = transformer.vocab_size().max(2) as u32;
    let prompt: Vec<u32> = (0..24u32).map(|i| (i * 5 + 1) % vocab).collect();
    let mut caches = Vec::with_capacity(SEQUENCES);
    for _ in 0..SEQUENCES {
        caches.push(transformer.new_cache().map_err(|e| e.to_string())?);
    }
    let mut items: Vec<BatchItem<'_, F::Cache>> = caches
        .iter_mut()
        .map(|cache| BatchItem {
            cache,
            tokens: &prompt,
            wanted: Wanted::last_logits(prompt.len()),
        })
        .collect();
    transformer
        .forward(&mut items)
        .await
        .map_err(|e| e.to_string())?;
    drop(items);
    let next = [1u32];
    let started = js_sys::Date::now();
    for _ in 0..STEPS {
        let mut items: Vec<BatchItem<'_, F::Cache>> = caches
            .iter_mut()
            .map(|cache| BatchItem {
                cache,
                tokens: &next,
                wanted: Wanted::last_logits(1),
            })
            .collect();
        transformer
            .forward(&mut items)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok((js_sys::Date::now() - started) / STEPS as f64)
}

/// Why a run stopped: the GPU (which the CPU can take over from) or anything else.
enum RunError {
    Gpu(String),
    Other(String),
}

impl RunError {
    fn message(self) -> String {
        match self {
            RunError::Gpu(m) | RunError::Other(m) => m,
        }
    }
}

/// Whether a strategy stopped because its engine's device failed (an error of the GPU
/// engine: a lost device, a failed read-back), which the CPU engine can take over from.
fn device_failed(e: &StrategyError) -> Option<String> {
    let source = match e {
        StrategyError::Policy(e) | StrategyError::Verifier(e) => e,
        _ => return None,
    };
    match source.downcast_ref::<ModelError>() {
        Some(ModelError::DeviceLost(m) | ModelError::Backend(m)) => Some(m.clone()),
        _ => None,
    }
}

/// Batches of events the page has already received for the current run, so that a run
/// the CPU takes over sends only the ones after them.
#[derive(Default)]
struct Shown {
    batches: usize,
}

/// The verifier of a run whose strategy calls none (`ExperimentSpec::uses_verifier`), so
/// that such a run needs no PRM in the worker. It counts no parameters; the run's FLOPs
/// are those it would have with the PRM, which would read no token in it.
struct NoVerifier;

/// What [`NoVerifier`] answers if a strategy called it after all (a bug in
/// `uses_verifier`, which a native test of every strategy guards against).
#[derive(Debug)]
struct NoVerifierCalled;

impl std::fmt::Display for NoVerifierCalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("this strategy called a verifier, but none was loaded for it")
    }
}

impl std::error::Error for NoVerifierCalled {}

impl Verifier for NoVerifier {
    type Error = NoVerifierCalled;

    fn score(&mut self, _: &str, _: &[Vec<String>]) -> Result<Vec<Vec<f32>>, NoVerifierCalled> {
        Err(NoVerifierCalled)
    }

    fn parameters(&self) -> u64 {
        0
    }
}

async fn run_spec<P: Policy, V: Verifier>(
    run: u64,
    spec: &ExperimentSpec,
    problem: &Problem,
    policy: &mut P,
    verifier: &mut V,
    shown: &mut Shown,
    post: &mut dyn FnMut(FromWorker),
) -> Result<(), RunError> {
    let started = js_sys::Date::now();
    let task = ArithmeticTask;
    let mut pending: Vec<Event> = Vec::new();
    let mut batch = 0usize;
    let already = shown.batches;
    let outcome = {
        let mut sink = |event: &Event| {
            if let Event::ComputeSpent { compute } = event {
                // Every event before this one was paid for by this much compute: the page's
                // fair race shows them once the other column has spent as much.
                let events = std::mem::take(&mut pending);
                batch += 1;
                if batch > already {
                    post(FromWorker::Events {
                        run,
                        compute: *compute,
                        events,
                    });
                }
            } else {
                pending.push(event.clone());
            }
        };
        let mut ctx = Context::new(policy, verifier, &task, problem).with_max_batch(MAX_BATCH);
        ctx.sink = Some(&mut sink);
        spec.run_async(&mut ctx).await
    };
    shown.batches = shown.batches.max(batch);
    let outcome = outcome.map_err(|e| match device_failed(&e) {
        Some(reason) => RunError::Gpu(reason),
        None => RunError::Other(format!("the {} run stopped: {e}", spec.strategy)),
    })?;
    post(FromWorker::Events {
        run,
        compute: outcome.compute,
        events: pending,
    });
    post(FromWorker::Finished {
        run,
        outcome: Box::new(outcome),
        seconds: (js_sys::Date::now() - started) / 1000.0,
    });
    Ok(())
}
