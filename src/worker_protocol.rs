//! Messages between the page and the inference worker.
//!
//! Both sides are Rust, so the messages are one serde enum per direction sent as JSON
//! text through `postMessage`. Inference requests and streamed events join these enums
//! when the engine moves into the worker.

use serde::{Deserialize, Serialize};

use crate::backend::BackendReport;

/// The file Trunk writes for the worker binary (see `index.html`). It is resolved
/// against the document's base URL, so the site works under any sub-path.
pub const WORKER_SCRIPT: &str = "worker_loader.js";

/// From the page to the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Probe WebGPU again (for example after the user enabled it or a device was lost).
    Probe,
}

/// From the worker to the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// The result of a WebGPU probe done inside the worker.
    Backend { report: BackendReport },
    /// The worker could not understand or carry out a request.
    Error { message: String },
}

/// Encodes a message for `postMessage`.
pub fn encode<T: Serialize>(message: &T) -> String {
    // These enums hold only strings, numbers and booleans, which always serialize.
    serde_json::to_string(message).unwrap_or_else(|e| {
        format!(r#"{{"type":"error","message":"could not encode a worker message: {e}"}}"#)
    })
}

/// Decodes a message received through `postMessage`, with a readable error.
pub fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("unreadable worker message ({e}): {text}"))
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
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let err = decode::<FromWorker>("{not json").unwrap_err();
        assert!(err.contains("unreadable worker message"), "{err}");
    }
}
