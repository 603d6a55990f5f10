//! Weights trained outside this crate (the GPU script `scripts/train_l_gpu.py`), read
//! into a [`Model`] so the shipped file is written by this crate's own exporter.
//!
//! The weights come as F32 safetensors, possibly split over several files (the device
//! tool brings back files of at most 16 MiB), each tensor named as the model's variable
//! (`token_embd`, `output_norm`, `blk.{i}.attn_q`, ...; matrices `[out, in]`). Every
//! variable must appear exactly once with its shape; tensors the model does not have are
//! refused too, since they mean the files were written for another architecture.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;

use crate::model::Model;

/// What can be wrong with imported weights.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {file}: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("tensor {name} is in both {first} and {second}: give each shard once")]
    Duplicate {
        name: String,
        first: String,
        second: String,
    },
    #[error("tensor {name} is {dtype:?}; save F32 weights (the exporter quantizes them itself)")]
    NotF32 { name: String, dtype: DType },
    #[error(
        "tensor {name} has shape {found:?}, the model expects {expected:?}: were the weights \
         trained for another size?"
    )]
    Shape {
        name: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },
    #[error("the weights lack {missing:?}: is a shard missing?")]
    Missing { missing: Vec<String> },
    #[error(
        "the model has no variable {unknown:?}: were the weights written for another architecture?"
    )]
    Unknown { unknown: Vec<String> },
    #[error("{0}")]
    Candle(#[from] candle_core::Error),
}

/// Sets every variable of `model` (held in `vars`) from the safetensors `files`.
pub fn load_safetensors(vars: &VarMap, files: &[&Path]) -> Result<(), ImportError> {
    let mut tensors: HashMap<String, (Tensor, String)> = HashMap::new();
    for file in files {
        let shown = file.display().to_string();
        let loaded = candle_core::safetensors::load(file, &Device::Cpu).map_err(|e| {
            ImportError::Unreadable {
                file: shown.clone(),
                reason: e.to_string(),
            }
        })?;
        for (name, t) in loaded {
            if let Some((_, first)) = tensors.get(&name) {
                return Err(ImportError::Duplicate {
                    name,
                    first: first.clone(),
                    second: shown,
                });
            }
            tensors.insert(name, (t, shown.clone()));
        }
    }
    let data = vars
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("the variable map's lock is poisoned".into()))?;
    let mut missing: Vec<String> = data
        .keys()
        .filter(|k| !tensors.contains_key(*k))
        .cloned()
        .collect();
    missing.sort();
    if !missing.is_empty() {
        return Err(ImportError::Missing { missing });
    }
    let known: HashSet<&String> = data.keys().collect();
    let mut unknown: Vec<String> = tensors
        .keys()
        .filter(|k| !known.contains(k))
        .cloned()
        .collect();
    unknown.sort();
    if !unknown.is_empty() {
        return Err(ImportError::Unknown { unknown });
    }
    for (name, var) in data.iter() {
        let (t, _) = &tensors[name];
        if t.dtype() != DType::F32 {
            return Err(ImportError::NotF32 {
                name: name.clone(),
                dtype: t.dtype(),
            });
        }
        if t.dims() != var.as_tensor().dims() {
            return Err(ImportError::Shape {
                name: name.clone(),
                found: t.dims().to_vec(),
                expected: var.as_tensor().dims().to_vec(),
            });
        }
        var.set(t)?;
    }
    Ok(())
}

/// A fresh model of `config` with the weights of `files`.
pub fn model_from_safetensors(
    config: crate::model::Config,
    files: &[&Path],
) -> anyhow::Result<Model> {
    let vars = VarMap::new();
    let model = Model::new(config, &vars, &Device::Cpu)?;
    load_safetensors(&vars, files)?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Config;

    fn tiny() -> Config {
        Config {
            hidden: 32,
            layers: 2,
            heads: 4,
            ffn: 64,
            context: 64,
            ..Config::small()
        }
    }

    /// The model's variables split over two safetensors files in a fresh folder.
    fn dumped(tag: &str) -> (Model, VarMap, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("ponder-import-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let vars = VarMap::new();
        let model = Model::new(tiny(), &vars, &Device::Cpu).expect("model");
        let all: Vec<(String, Tensor)> = vars
            .data()
            .lock()
            .expect("lock")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
            .collect();
        let (a, b) = all.split_at(all.len() / 2);
        for (part, file) in [(a, "a.safetensors"), (b, "b.safetensors")] {
            let map: HashMap<String, Tensor> = part.iter().cloned().collect();
            candle_core::safetensors::save(&map, dir.join(file)).expect("save");
        }
        (model, vars, dir)
    }

    #[test]
    fn weights_split_over_files_come_back_bit_for_bit() {
        let (model, _, dir) = dumped("roundtrip");
        let files = [dir.join("a.safetensors"), dir.join("b.safetensors")];
        let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
        let back = model_from_safetensors(tiny(), &paths).expect("import");
        let vec =
            |t: &Tensor| -> Vec<f32> { t.flatten_all().and_then(|x| x.to_vec1()).expect("values") };
        for (a, b) in model.vars().iter().zip(back.vars()) {
            assert_eq!(vec(a.as_tensor()), vec(b.as_tensor()));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_shard_a_repeated_one_or_another_size_is_refused() {
        let (_, _, dir) = dumped("refused");
        let a = dir.join("a.safetensors");
        let b = dir.join("b.safetensors");
        let err = |files: &[&Path], config: Config| -> String {
            match model_from_safetensors(config, files) {
                Ok(_) => panic!("imported {files:?}"),
                Err(e) => e.to_string(),
            }
        };
        let e = err(&[&a], tiny());
        assert!(e.contains("lack") && e.contains("shard"), "{e}");
        let e = err(&[&a, &b, &a], tiny());
        assert!(e.contains("in both"), "{e}");
        let wider = Config {
            hidden: 64,
            ..tiny()
        };
        let e = err(&[&a, &b], wider);
        assert!(e.contains("another size"), "{e}");
        let deeper = Config {
            layers: 1,
            ..tiny()
        };
        let e = err(&[&a, &b], deeper);
        assert!(e.contains("no variable"), "{e}");
        let mut all = candle_core::safetensors::load(&a, &Device::Cpu).expect("a");
        all.extend(candle_core::safetensors::load(&b, &Device::Cpu).expect("b"));
        let embd = all["token_embd"].to_dtype(DType::F16).expect("f16");
        all.insert("token_embd".to_string(), embd);
        let c = dir.join("c.safetensors");
        candle_core::safetensors::save(&all, &c).expect("save");
        let e = err(&[&c], tiny());
        assert!(e.contains("F32"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
