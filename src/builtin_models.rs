//! What the Models view says about each built-in model: its shape, size and quantization
//! read from the GGUF file itself, and how it was trained from `training.json` (written by
//! `ponder-train`, checked against the files by its tests). Pure, so it is tested
//! natively on the shipped files.

use ponder_model::config::ModelConfig;
use ponder_model::gguf::GgufFile;
use ponder_model::prm::PrmHead;
use serde::Deserialize;

/// The built-in files, in the order the view lists them, with the role each plays.
pub const BUILT_IN: [(&str, &str); 4] = [
    (
        "ponder-s.gguf",
        "the policy S: writes attempts step by step",
    ),
    (
        "ponder-r.gguf",
        "the reviser R: S fine-tuned to revise its earlier attempts",
    ),
    (
        "ponder-prm.gguf",
        "the verifier: a process reward model that scores every step",
    ),
    (
        "ponder-l.gguf",
        "the larger sibling L: the paper's bigger model at equal FLOPs",
    ),
];

/// One `training.json` entry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Training {
    pub file: String,
    pub command: String,
    pub steps: u64,
    pub tokens: u64,
    pub seconds: u64,
    #[serde(default)]
    pub note: String,
}

/// A built-in model as the view shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelFacts {
    pub file: String,
    pub name: String,
    pub role: String,
    pub parameters: u64,
    pub bytes: u64,
    /// Tensor types with their tensor counts and bytes, largest first.
    pub types: Vec<(String, usize, u64)>,
    pub layers: usize,
    pub hidden: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub context: usize,
    /// The PRM's head ("value head on …"), for the verifier.
    pub head: Option<String>,
    pub training: Option<Training>,
}

/// Reads `training.json`'s entries.
pub fn training_entries(json: &str) -> Result<Vec<Training>, String> {
    serde_json::from_str(json).map_err(|e| format!("training.json is unreadable: {e}"))
}

/// The facts of the built-in file `file` from its bytes and the training entries.
pub fn facts(
    file: &str,
    role: &str,
    bytes: &[u8],
    training: &[Training],
) -> Result<ModelFacts, String> {
    let gguf = GgufFile::read(bytes).map_err(|e| format!("{file}: {e}"))?;
    let config = ModelConfig::from_gguf(&gguf).map_err(|e| format!("{file}: {e}"))?;
    let head =
        PrmHead::from_gguf(&gguf, bytes, config.hidden).map_err(|e| format!("{file}: {e}"))?;
    let mut types: Vec<(String, usize, u64)> = Vec::new();
    for t in gguf.tensors() {
        let name = t.ty.to_string();
        match types.iter_mut().find(|(n, _, _)| *n == name) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 += t.len;
            }
            None => types.push((name, 1, t.len)),
        }
    }
    types.sort_by_key(|t| std::cmp::Reverse(t.2));
    let tensor_parameters: u64 = gguf.tensors().iter().map(|t| t.elements()).sum();
    let name = gguf
        .metadata("general.name")
        .and_then(|v| v.as_str())
        .unwrap_or(file)
        .to_string();
    Ok(ModelFacts {
        file: file.to_string(),
        name,
        role: role.to_string(),
        parameters: tensor_parameters + head.as_ref().map_or(0, PrmHead::parameters),
        bytes: bytes.len() as u64,
        types,
        layers: config.n_layers,
        hidden: config.hidden,
        heads: config.n_heads,
        kv_heads: config.n_kv_heads,
        context: config.context_length,
        head: head.map(|h| {
            let kind = if h.reads_likelihood() {
                "a value head that also weighs the step's likelihood"
            } else {
                "a value head"
            };
            format!("{kind} on the final hidden state at each step's end")
        }),
        training: training.iter().find(|t| t.file == file).cloned(),
    })
}

/// "55 min", "6 min 50 s", "42 s": a training time as people say it.
pub fn duration(seconds: u64) -> String {
    match seconds {
        s if s >= 3600 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s if s >= 600 => format!("{} min", (s + 30) / 60),
        s if s >= 60 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{s} s"),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn shipped(file: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("public/models")
            .join(file);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn the_facts_agree_with_the_runtime_and_the_training_record() {
        let json = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("public/models/training.json"),
        )
        .expect("training.json");
        let training = training_entries(&json).expect("readable");
        for (file, role) in BUILT_IN {
            let bytes = shipped(file);
            let f = facts(file, role, &bytes, &training).expect("facts");
            let model = ponder_model::LanguageModel::from_gguf_bytes(&bytes).expect("loads");
            // The count the engine uses for FLOPs, and `ponder inspect` prints.
            assert_eq!(f.parameters, model.parameters(), "{file}");
            assert_eq!(f.bytes, bytes.len() as u64);
            assert_eq!(f.layers, model.transformer.config.n_layers);
            assert_eq!(
                f.types.iter().map(|t| t.1).sum::<usize>(),
                bytes_tensors(&bytes)
            );
            assert_eq!(f.head.is_some(), file == "ponder-prm.gguf", "{file}");
            let t = f
                .training
                .expect("every built-in file has its training record");
            assert!(t.command.starts_with("ponder-train"), "{}", t.command);
        }
    }

    fn bytes_tensors(bytes: &[u8]) -> usize {
        GgufFile::read(bytes).expect("gguf").tensors().len()
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(410), "6 min 50 s");
        assert_eq!(duration(3300), "55 min");
        assert_eq!(duration(7265), "2 h 1 min");
    }

    #[test]
    fn a_broken_file_is_an_error_not_a_panic() {
        assert!(facts("x.gguf", "r", b"not a model", &[]).is_err());
        assert!(training_entries("{").is_err());
    }
}
