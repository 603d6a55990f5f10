//! The worker's side of inference: the models it has loaded, and experiment runs on them
//! that stream the strategy's events to the page as they happen.
//!
//! A run is one synchronous call into `ponder-core`'s strategies on `ponder-model`'s CPU
//! engine, exactly as `ponder run` makes it, so a link gives the same answers here and
//! there. While it runs the worker hears nothing; the page cancels a run by ending the
//! worker, which is immediate, and starts a fresh one.

use std::collections::HashMap;

use ponder_core::arithmetic::{ArithmeticTask, Problem};
use ponder_core::event::Event;
use ponder_core::spec::ExperimentSpec;
use ponder_core::strategy::Context;
use ponder_core::Verifier;
use ponder_model::{Engine, LanguageModel};

use crate::model_fetch::{check_gguf, fetch_bytes};
use crate::worker_protocol::{FromWorker, ModelFile, ModelRole};

/// The most sequences one policy call steps together, as in `ponder run` (results do not
/// depend on it; it bounds the engine's memory).
pub const MAX_BATCH: usize = 64;

struct Loaded {
    url: String,
    engine: Engine,
}

/// The models a worker holds, by role.
#[derive(Default)]
pub struct Models {
    loaded: HashMap<ModelRole, Loaded>,
}

impl Models {
    /// Whether `role` is loaded from `url`.
    pub fn has(&self, role: ModelRole, url: &str) -> bool {
        self.loaded.get(&role).is_some_and(|l| l.url == url)
    }

    pub fn insert(&mut self, role: ModelRole, url: String, engine: Engine) {
        self.loaded.insert(role, Loaded { url, engine });
    }

    /// Runs `spec` on `problem_text`, sending every event to `post` in batches that end
    /// where the run's compute was counted, then the outcome.
    pub fn run(
        &mut self,
        run: u64,
        spec_query: &str,
        problem_text: &str,
        post: &mut dyn FnMut(FromWorker),
    ) -> Result<(), String> {
        let decoded = ExperimentSpec::from_query(spec_query);
        let spec = decoded.spec;
        let problem = Problem::parse(problem_text)
            .map_err(|e| format!("cannot run the problem {problem_text:?}: {e}"))?;
        let role = ModelRole::policy_of(&spec);
        let missing = |r: ModelRole| format!("the {} is not loaded yet", r.label());
        if !spec.uses_verifier() {
            // The page loaded no PRM for this run (see `ModelRole::needed_by`).
            let policy = self.loaded.get_mut(&role).ok_or_else(|| missing(role))?;
            return run_spec(
                run,
                &spec,
                &problem,
                &mut policy.engine,
                &mut NoVerifier,
                post,
            );
        }
        // The policy and the verifier are two entries of one map: the verifier is taken
        // out for the run so both can be borrowed mutably, and always put back.
        let mut verifier = self
            .loaded
            .remove(&ModelRole::Verifier)
            .ok_or_else(|| missing(ModelRole::Verifier))?;
        let result = match self.loaded.get_mut(&role) {
            None => Err(missing(role)),
            Some(policy) => run_spec(
                run,
                &spec,
                &problem,
                &mut policy.engine,
                &mut verifier.engine,
                post,
            ),
        };
        self.loaded.insert(ModelRole::Verifier, verifier);
        result
    }
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

fn run_spec<V: Verifier>(
    run: u64,
    spec: &ExperimentSpec,
    problem: &Problem,
    policy: &mut Engine,
    verifier: &mut V,
    post: &mut dyn FnMut(FromWorker),
) -> Result<(), String> {
    let started = js_sys::Date::now();
    let task = ArithmeticTask;
    let mut pending: Vec<Event> = Vec::new();
    let outcome = {
        let mut sink = |event: &Event| {
            if let Event::ComputeSpent { compute } = event {
                // Every event before this one was paid for by this much compute: the page's
                // fair race shows them once the other column has spent as much.
                post(FromWorker::Events {
                    run,
                    compute: *compute,
                    events: std::mem::take(&mut pending),
                });
            } else {
                pending.push(event.clone());
            }
        };
        let mut ctx = Context::new(policy, verifier, &task, problem).with_max_batch(MAX_BATCH);
        ctx.sink = Some(&mut sink);
        spec.run(&mut ctx)
    };
    let outcome = outcome.map_err(|e| format!("the {} run stopped: {e}", spec.strategy))?;
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

/// Fetches and loads one model file for run `run`, reporting progress through `post`.
pub async fn load(
    run: u64,
    file: &ModelFile,
    post: &mut dyn FnMut(FromWorker),
) -> Result<Engine, String> {
    let role = file.role;
    let mut last_shown = 0u64;
    let bytes = fetch_bytes(&file.url, |loaded, total| {
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
    .await?;
    check_gguf(&file.url, &bytes)?;
    let model = LanguageModel::from_gguf_bytes(&bytes)
        .map_err(|e| format!("{} is not a model Ponder can run: {e}", file.url))?;
    post(FromWorker::Loaded {
        run,
        role,
        bytes: bytes.len() as u64,
        parameters: model.parameters(),
    });
    Ok(Engine::new(model))
}
