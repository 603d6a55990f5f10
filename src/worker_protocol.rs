//! Messages between the page and the inference workers.
//!
//! Both sides are Rust, so the messages are one serde enum per direction sent as JSON
//! text through `postMessage`. Experiment specs travel as their link text, never as
//! serde floats, so the worker runs exactly the spec the link names (a float parsed back
//! from JSON may be one ulp off, and a temperature one ulp off draws other samples).

use ponder_core::accounting::Compute;
use ponder_core::event::Event;
use ponder_core::strategy::Outcome;
use ponder_core::sweep::{Unit, UnitResult};
use serde::{Deserialize, Serialize};

use crate::backend::BackendReport;

/// The file Trunk writes for the worker binary (see `index.html`). It is resolved
/// against the document's base URL, so the site works under any sub-path.
pub const WORKER_SCRIPT: &str = "worker_loader.js";

/// Which built-in model a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelRole {
    /// The base policy S.
    Policy,
    /// The revision model R.
    Reviser,
    /// The process reward model.
    Verifier,
    /// The larger sibling L, a base policy for links that ask for it (`model=l`).
    Large,
    /// A model of the visitor's own (`model=own`; its file's key is the link's
    /// `own_model`), prompted with worked examples.
    Own,
}

impl ModelRole {
    pub const ALL: [ModelRole; 5] = [
        ModelRole::Policy,
        ModelRole::Reviser,
        ModelRole::Verifier,
        ModelRole::Large,
        ModelRole::Own,
    ];

    /// The model that runs `spec` as its policy (S, R for revision strategies, or L).
    pub fn policy_of(spec: &ponder_core::spec::ExperimentSpec) -> ModelRole {
        match spec.policy_role() {
            ponder_core::spec::PolicyRole::Base => ModelRole::Policy,
            ponder_core::spec::PolicyRole::Reviser => ModelRole::Reviser,
            ponder_core::spec::PolicyRole::Large => ModelRole::Large,
            ponder_core::spec::PolicyRole::Own => ModelRole::Own,
        }
    }

    /// The models a run of `spec` needs: its policy, and the PRM only if the strategy
    /// calls a verifier (majority voting, for one, never does).
    pub fn needed_by(spec: &ponder_core::spec::ExperimentSpec) -> Vec<ModelRole> {
        let mut roles = vec![ModelRole::policy_of(spec)];
        if spec.uses_verifier() {
            roles.push(ModelRole::Verifier);
        }
        roles
    }

    /// The built-in file, relative to the site's root (none for a visitor's model).
    pub fn builtin_path(self) -> Option<&'static str> {
        Some(match self {
            ModelRole::Policy => "models/ponder-s.gguf",
            ModelRole::Reviser => "models/ponder-r.gguf",
            ModelRole::Verifier => "models/ponder-prm.gguf",
            ModelRole::Large => "models/ponder-l.gguf",
            ModelRole::Own => return None,
        })
    }

    /// What the page calls it.
    pub fn label(self) -> &'static str {
        match self {
            ModelRole::Policy => "policy S",
            ModelRole::Reviser => "reviser R",
            ModelRole::Verifier => "verifier (PRM)",
            ModelRole::Large => "larger policy L",
            ModelRole::Own => "model of your own",
        }
    }
}

/// Where a worker should run its models: the link's `engine` key (`auto` when absent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineChoice {
    /// WebGPU when an adapter exists and is measured faster for this work, else the CPU.
    #[default]
    Auto,
    /// WebGPU whenever an adapter exists.
    Gpu,
    /// The CPU (wasm SIMD) always.
    Cpu,
}

impl EngineChoice {
    /// The choice a link's `engine` value names (`None` for an unknown value).
    pub fn from_key(value: &str) -> Option<EngineChoice> {
        match value {
            "auto" => Some(EngineChoice::Auto),
            "gpu" => Some(EngineChoice::Gpu),
            "cpu" => Some(EngineChoice::Cpu),
            _ => None,
        }
    }
}

/// Which engine a worker runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    Gpu,
    Cpu,
}

/// A model file to fetch and load.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelFile {
    pub role: ModelRole,
    /// An absolute URL (the page resolves the site's relative paths).
    pub url: String,
}

/// From the page to a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Probe WebGPU again (for example after the user enabled it or a device was lost).
    Probe,
    /// Fetch and load these models (a role already loaded from the same URL is kept).
    Load {
        /// The run the models are for; every reply about the load carries it, so a late
        /// reply to a load that a newer run superseded is never read as the newer one's.
        run: u64,
        models: Vec<ModelFile>,
        /// Where to run them.
        #[serde(default)]
        engine: EngineChoice,
    },
    /// Run one experiment on the loaded models and stream its events.
    Run {
        /// The page's number for this run; every reply about it carries it.
        run: u64,
        /// The spec as link text (`ExperimentSpec::to_query`).
        spec: String,
        /// The problem's text (the task's parser reads it).
        problem: String,
    },
    /// Run a sweep of the test set on the loaded policy, reviser and verifier (on the
    /// CPU), one (seed, problem) unit after another, skipping the units listed.
    Sweep {
        /// The page's number for this sweep; every reply about it carries it.
        sweep: u64,
        /// The sweep as link text (`SweepSpec::to_query`).
        spec: String,
        /// Units the page already has (stored from an earlier visit).
        skip: Vec<Unit>,
    },
    /// Answer `prompt` with a visitor's model (greedy, as `ponder generate --chat` does),
    /// streaming the text.
    Chat {
        chat: u64,
        /// The model's key in the page's model cache (its address, or a chosen file's key).
        key: String,
        prompt: String,
        max_tokens: u32,
    },
}

/// From a worker to the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker listens: requests sent before this could be lost.
    Ready,
    /// The result of a WebGPU probe done inside the worker.
    Backend { report: BackendReport },
    /// Bytes of a model file received so far (`total` when the server said it).
    Download {
        run: u64,
        role: ModelRole,
        loaded: u64,
        total: Option<u64>,
    },
    /// A model file is loaded and ready.
    Loaded {
        run: u64,
        role: ModelRole,
        bytes: u64,
        parameters: u64,
    },
    /// A model file could not be fetched or read; the message says what to do.
    LoadFailed {
        run: u64,
        role: ModelRole,
        url: String,
        message: String,
    },
    /// Events of a run, in order, and the run's compute once they had happened.
    Events {
        run: u64,
        compute: Compute,
        events: Vec<Event>,
    },
    /// A run ended; its outcome is what `ponder run` prints for the same spec.
    Finished {
        run: u64,
        outcome: Box<Outcome>,
        seconds: f64,
    },
    /// Where the run's models run, and why (measured times, a missing adapter, a lost
    /// device and the CPU taking over).
    EngineChosen {
        run: u64,
        engine: EngineKind,
        reason: String,
    },
    /// A run could not start or stopped on an error.
    RunFailed { run: u64, message: String },
    /// Generations a sweep's unit under way has spent since the last message.
    SweepProgress { sweep: u64, work: u64 },
    /// One finished unit of a sweep: its rows, and its difficulty and revision signals.
    SweepUnit { sweep: u64, result: UnitResult },
    /// A sweep's every unit has been sent.
    SweepFinished { sweep: u64 },
    /// A sweep could not go on; the message says why.
    SweepFailed { sweep: u64, message: String },
    /// The next piece of a chat answer's text.
    ChatPiece { chat: u64, text: String },
    /// A chat answer is complete: prompt and new tokens, and the decoding speed (from the
    /// first new token on).
    ChatDone {
        chat: u64,
        prompt_tokens: u32,
        tokens: u32,
        tokens_per_second: f64,
    },
    /// A chat answer could not be given; the message says why.
    ChatFailed { chat: u64, message: String },
    /// The worker could not understand or carry out a request.
    Error { message: String },
}

/// Encodes a message for `postMessage`.
pub fn encode<T: Serialize>(message: &T) -> String {
    // Non-finite floats are the one thing that cannot be JSON; the strategies refuse
    // non-finite scores, so this fallback reports a bug rather than hiding one.
    serde_json::to_string(message).unwrap_or_else(|e| {
        format!(r#"{{"type":"error","message":"could not encode a worker message: {e}"}}"#)
    })
}

/// Decodes a message received through `postMessage`, with a readable error.
pub fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| {
        let shown: String = text.chars().take(200).collect();
        format!("unreadable worker message ({e}): {shown}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let out = FromWorker::Backend {
            report: BackendReport::Cpu {
                reason: "none".into(),
            },
        };
        assert_eq!(decode::<FromWorker>(&encode(&out)), Ok(out));
        assert_eq!(
            decode::<ToWorker>(&encode(&ToWorker::Probe)),
            Ok(ToWorker::Probe)
        );
        let run = ToWorker::Run {
            run: 3,
            spec: "v=1&strategy=beam&seed=7&n=16".into(),
            problem: "23+28-33".into(),
        };
        assert_eq!(decode::<ToWorker>(&encode(&run)), Ok(run));
        let load = ToWorker::Load {
            run: 4,
            models: vec![ModelFile {
                role: ModelRole::Verifier,
                url: "http://127.0.0.1/models/ponder-prm.gguf".into(),
            }],
            engine: EngineChoice::Gpu,
        };
        assert_eq!(decode::<ToWorker>(&encode(&load)), Ok(load));
        // Every reply about a load names its run.
        for reply in [
            FromWorker::Download {
                run: 4,
                role: ModelRole::Policy,
                loaded: 10,
                total: Some(20),
            },
            FromWorker::Loaded {
                run: 4,
                role: ModelRole::Policy,
                bytes: 20,
                parameters: 5,
            },
            FromWorker::LoadFailed {
                run: 4,
                role: ModelRole::Verifier,
                url: "u".into(),
                message: "HTTP 404".into(),
            },
        ] {
            let text = encode(&reply);
            assert!(text.contains(r#""run":4"#), "{text}");
            assert_eq!(decode::<FromWorker>(&text), Ok(reply));
        }
    }

    #[test]
    fn events_travel_intact() {
        let events = FromWorker::Events {
            run: 1,
            compute: Compute {
                policy_tokens: 12,
                ..Compute::default()
            },
            events: vec![Event::StepScored {
                path: ponder_core::Path(vec![2]),
                scores: vec![0.25, 0.5],
                value: 0.5,
            }],
        };
        assert_eq!(decode::<FromWorker>(&encode(&events)), Ok(events));
    }

    #[test]
    fn a_run_loads_only_the_models_its_strategy_uses() {
        let spec = |query: &str| ponder_core::spec::ExperimentSpec::from_query(query).spec;
        assert_eq!(
            ModelRole::needed_by(&spec("v=1&seed=1&strategy=majority")),
            [ModelRole::Policy]
        );
        assert_eq!(
            ModelRole::needed_by(&spec("v=1&seed=1&strategy=beam")),
            [ModelRole::Policy, ModelRole::Verifier]
        );
        assert_eq!(
            ModelRole::needed_by(&spec("v=1&seed=1&strategy=revisions&final=verifier")),
            [ModelRole::Reviser, ModelRole::Verifier]
        );
        assert_eq!(
            ModelRole::needed_by(&spec("v=1&seed=1&strategy=mix&final=last")),
            [ModelRole::Reviser]
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let err = decode::<FromWorker>("{not json").unwrap_err();
        assert!(err.contains("unreadable worker message"), "{err}");
    }
}
