//! A model file's metadata rewritten as the exporter writes it today, its weights kept
//! byte for byte: how the shipped built-in models got the metadata that llama.cpp and
//! the apps built on it need (`ponder-train metadata FILE...`) without being trained
//! again, and with the figures measured on them still true.
//!
//! The rewrite is checked before it is returned: every metadata value of the old file
//! except its name and description comes back equal, and [`weights_digest`] of the new
//! file equals the old one's. A PRM's head moves from tensors into `ponder.prm.*`
//! metadata (see [`crate::export`]); the digest reads it from either place.

use anyhow::{anyhow, bail, ensure, Context, Result};
use candle_core::{Device, Tensor};
use ponder_model::gguf::{GgufFile, GgufWriter, MetadataValue, TensorType};
use ponder_model::prm::{HeadKind, PrmHead};

use crate::export::{write_model_metadata, About, Precision, PrmHeadExport};
use crate::model::Config;

/// The keys a rewrite may change: what a file says of itself comes from [`About`].
const RELABELLED: [&str; 2] = ["general.name", "general.description"];

/// Where a PRM's head parts may be, as tensors or as f32 metadata arrays, in the order
/// [`weights_digest`] reads them.
const HEAD_PARTS: [(&str, &str); 3] = [
    ("prm_head.weight", "ponder.prm.weight"),
    ("prm_head.bias", "ponder.prm.bias"),
    ("prm_head.likelihood", "ponder.prm.likelihood"),
];

/// The file in `bytes` with the exporter's metadata (`about`, or the built-in model its
/// shape and head say it is) and the same weights.
pub fn rewrite(bytes: &[u8], about: Option<&About>) -> Result<Vec<u8>> {
    let old = GgufFile::read_for_repair(bytes)?;
    let config = config_of(&old)?;
    let matrices = old
        .tensor("token_embd.weight")
        .ok_or_else(|| anyhow!("the file has no token_embd.weight: not a Ponder model"))?
        .ty;
    let precision = match matrices {
        TensorType::Q8_0 => Precision::Q8_0,
        TensorType::F32 => Precision::F32,
        other => bail!("its matrices are {other}; the exporter writes Q8_0 or F32"),
    };
    let head = head_of(&old, bytes, config.hidden)?;
    let about = match about {
        Some(about) => about.clone(),
        None => built_in_about(&config, head.is_some())?,
    };

    let backbone: Vec<_> = old
        .tensors()
        .iter()
        .filter(|t| !is_head_tensor(&t.name))
        .collect();
    let parameters: u64 = backbone.iter().map(|t| t.elements()).sum();
    ensure!(
        parameters == config.parameters(),
        "the tensors hold {parameters} weights, the llama.* shape {}: not the exporter's layout",
        config.parameters()
    );
    let mut w = GgufWriter::new();
    write_model_metadata(&mut w, &config, &about, precision, parameters);
    if let Some(head) = &head {
        head.write(&mut w)?;
    }
    for t in &backbone {
        let (_, data) = old.tensor_bytes(bytes, &t.name)?;
        w.tensor(&t.name, &t.dims, t.ty, data.to_vec());
    }
    let written = w.to_bytes()?;

    let new = GgufFile::read(&written).context("the rewritten file does not read back")?;
    for (key, value) in old.metadata_entries() {
        if RELABELLED.contains(&key) {
            continue;
        }
        match new.metadata(key) {
            Some(kept) if kept == value => {}
            Some(kept) => bail!("the rewrite would change `{key}` from {value:?} to {kept:?}"),
            None => bail!("the rewrite would drop `{key}`, which the exporter does not write"),
        }
    }
    ensure!(
        weights_digest(&written)? == weights_digest(bytes)?,
        "the rewrite changed the weights"
    );
    Ok(written)
}

/// A digest of the weights however they are stored: each backbone tensor's name and
/// bytes in file order, then each part of a PRM's head (its name as a tensor and its f32
/// values, from the tensor or from the metadata array). Equal digests mean equal weights,
/// byte for byte.
pub fn weights_digest(bytes: &[u8]) -> Result<String> {
    let file = GgufFile::read_for_repair(bytes)?;
    let mut stream: Vec<u8> = Vec::new();
    let mut add = |name: &str, data: &[u8]| {
        stream.extend_from_slice(name.as_bytes());
        stream.push(0);
        stream.extend_from_slice(data);
    };
    for t in file.tensors().iter().filter(|t| !is_head_tensor(&t.name)) {
        add(&t.name, file.tensor_bytes(bytes, &t.name)?.1);
    }
    for (tensor, key) in HEAD_PARTS {
        if let Some(info) = file.tensor(tensor) {
            ensure!(
                info.ty == TensorType::F32,
                "{tensor} is {}, not F32",
                info.ty
            );
            add(tensor, file.tensor_bytes(bytes, tensor)?.1);
        } else if let Some(value) = file.metadata(key) {
            let values = value
                .as_f32s()
                .ok_or_else(|| anyhow!("`{key}` is not an array of f32"))?;
            let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            add(tensor, &data);
        }
    }
    Ok(crate::trainer::digest(&stream))
}

fn is_head_tensor(name: &str) -> bool {
    HEAD_PARTS.iter().any(|(tensor, _)| *tensor == name)
}

/// The shape the file's `llama.*` keys give.
fn config_of(file: &GgufFile) -> Result<Config> {
    let whole = |key: &str| -> Result<usize> {
        file.metadata(key)
            .and_then(MetadataValue::as_u64)
            .map(|v| v as usize)
            .ok_or_else(|| anyhow!("the file has no whole number `{key}`: not a llama model"))
    };
    let float = |key: &str| -> Result<f32> {
        match file.metadata(key) {
            Some(MetadataValue::F32(v)) => Ok(*v),
            _ => bail!("the file has no f32 `{key}`: not a llama model"),
        }
    };
    let vocab = file
        .metadata("tokenizer.ggml.tokens")
        .and_then(MetadataValue::as_array)
        .map(<[MetadataValue]>::len)
        .ok_or_else(|| anyhow!("the file has no tokenizer.ggml.tokens"))?;
    Ok(Config {
        vocab,
        hidden: whole("llama.embedding_length")?,
        layers: whole("llama.block_count")?,
        heads: whole("llama.attention.head_count")?,
        ffn: whole("llama.feed_forward_length")?,
        context: whole("llama.context_length")?,
        rope_base: float("llama.rope.freq_base")?,
        rms_eps: float("llama.attention.layer_norm_rms_epsilon")?,
    })
}

/// The head as the exporter writes it, from either place the file keeps it.
fn head_of(file: &GgufFile, bytes: &[u8], hidden: usize) -> Result<Option<PrmHeadExport>> {
    let Some(head) = PrmHead::from_gguf(file, bytes, hidden)? else {
        return Ok(None);
    };
    ensure!(
        head.kind == HeadKind::Value && head.separator == "\n",
        "its PRM head is {:?} with separator {:?}; the exporter writes value heads that \
         read steps ending in a newline",
        head.kind,
        head.separator
    );
    let weight = Tensor::from_vec(head.weights().to_vec(), hidden, &Device::Cpu)?;
    Ok(Some(PrmHeadExport {
        weight,
        bias: head.bias()[0],
        likelihood: head
            .likelihood_weights()
            .map(|w| (w, head.question_template().to_string())),
    }))
}

/// Which built-in model a file of this shape is: a head makes it the PRM, R has S's
/// shape with a longer context.
fn built_in_about(config: &Config, has_head: bool) -> Result<About> {
    let same_backbone = |c: Config| c.hidden == config.hidden && c.layers == config.layers;
    if has_head {
        return Ok(About::prm());
    }
    if *config == crate::recipe::revision_config() {
        return Ok(About::revision());
    }
    if same_backbone(Config::small()) && config.context == Config::small().context {
        return Ok(About::policy("small"));
    }
    if same_backbone(Config::large()) && config.context == Config::large().context {
        return Ok(About::policy("large"));
    }
    bail!(
        "its shape ({} layers of width {}, context {}) is none of the built-in models'",
        config.layers,
        config.hidden,
        config.context
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::to_gguf;
    use crate::model::Model;
    use candle_nn::VarMap;

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

    fn head(hidden: usize) -> PrmHeadExport {
        let weight: Vec<f32> = (0..hidden).map(|i| i as f32 / 7.0 - 2.0).collect();
        PrmHeadExport {
            weight: Tensor::from_vec(weight, hidden, &Device::Cpu).expect("weights"),
            bias: -0.25,
            likelihood: Some(([1.5, -1.0, 0.125], "Problem: {question}".into())),
        }
    }

    /// `bytes` as the exporter wrote files before issue 26: no `general.*` but the name,
    /// an empty merges list stored as u8, and the PRM head in `prm_head.*` tensors.
    fn old_layout(bytes: &[u8]) -> Vec<u8> {
        let file = GgufFile::read(bytes).expect("readable");
        let mut w = GgufWriter::new();
        for (key, value) in file.metadata_entries() {
            let dropped = key.starts_with("general.") && key != "general.name";
            if !dropped && !HEAD_PARTS.iter().any(|(_, k)| *k == key) {
                w.metadata(key, value.clone());
            }
        }
        w.metadata(
            "general.architecture",
            MetadataValue::String("llama".into()),
        );
        for t in file.tensors() {
            w.tensor(
                &t.name,
                &t.dims,
                t.ty,
                file.tensor_bytes(bytes, &t.name).expect("data").1.to_vec(),
            );
        }
        for (tensor, key) in HEAD_PARTS {
            if let Some(values) = file.metadata(key).and_then(MetadataValue::as_f32s) {
                let dims = if tensor == "prm_head.weight" {
                    vec![values.len() as u64, 1]
                } else {
                    vec![values.len() as u64]
                };
                let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                w.tensor(tensor, &dims, TensorType::F32, data);
            }
        }
        let mut out = w.to_bytes().expect("writable");
        // The old writer stored the empty merges list as an array of u8.
        let key = b"tokenizer.ggml.merges";
        let at = out
            .windows(key.len())
            .position(|k| k == key)
            .expect("merges")
            + key.len();
        out[at + 4..at + 8].copy_from_slice(&0u32.to_le_bytes());
        out
    }

    #[test]
    fn an_exported_file_rewrites_to_itself_byte_for_byte() {
        for precision in [Precision::F32, Precision::Q8_0] {
            let model = Model::new(tiny(), &VarMap::new(), &Device::Cpu).expect("model");
            let about = About::named("tiny");
            for head in [None, Some(head(tiny().hidden))] {
                let bytes = to_gguf(&model, &about, precision, head.as_ref()).expect("export");
                let again = rewrite(&bytes, Some(&about)).expect("rewrite");
                assert!(again == bytes, "{precision:?}, head {}", head.is_some());
            }
        }
    }

    #[test]
    fn an_old_file_becomes_the_file_the_exporter_writes_today() {
        let model = Model::new(tiny(), &VarMap::new(), &Device::Cpu).expect("model");
        let about = About::named("tiny");
        for head in [None, Some(head(tiny().hidden))] {
            let today = to_gguf(&model, &about, Precision::Q8_0, head.as_ref()).expect("export");
            let old = old_layout(&today);
            assert!(GgufFile::read(&old).is_err(), "llama.cpp would refuse it");
            assert_eq!(
                weights_digest(&old).unwrap(),
                weights_digest(&today).unwrap()
            );
            let rewritten = rewrite(&old, Some(&about)).expect("rewrite");
            assert!(rewritten == today, "head {}", head.is_some());
            // Its tensors are the old file's, byte for byte.
            let (a, b) = (
                GgufFile::read_for_repair(&old).unwrap(),
                GgufFile::read(&rewritten).unwrap(),
            );
            for t in b.tensors() {
                assert_eq!(
                    a.tensor_bytes(&old, &t.name).unwrap().1,
                    b.tensor_bytes(&rewritten, &t.name).unwrap().1
                );
            }
        }
    }

    #[test]
    fn a_rewrite_that_would_lose_or_change_something_is_refused() {
        let model = Model::new(tiny(), &VarMap::new(), &Device::Cpu).expect("model");
        let bytes = to_gguf(&model, &About::named("tiny"), Precision::F32, None).expect("export");
        let file = GgufFile::read(&bytes).unwrap();
        let with = |key: &str, value: MetadataValue| {
            let mut w = GgufWriter::new();
            for (k, v) in file.metadata_entries() {
                if k != key {
                    w.metadata(k, v.clone());
                }
            }
            w.metadata(key, value);
            for t in file.tensors() {
                w.tensor(
                    &t.name,
                    &t.dims,
                    t.ty,
                    file.tensor_bytes(&bytes, &t.name).unwrap().1.to_vec(),
                );
            }
            let edited = w.to_bytes().unwrap();
            rewrite(&edited, Some(&About::named("tiny")))
                .expect_err("refused")
                .to_string()
        };
        let e = with("ponder.extra", MetadataValue::U32(1));
        assert!(e.contains("drop `ponder.extra`"), "{e}");
        let e = with(
            "general.license",
            MetadataValue::String("proprietary".into()),
        );
        assert!(e.contains("change `general.license`"), "{e}");
        let e = rewrite(&bytes, None)
            .expect_err("not a built-in shape")
            .to_string();
        assert!(e.contains("none of the built-in models'"), "{e}");
    }

    #[test]
    fn built_in_shapes_are_named() {
        let about = |c: Config, head: bool| built_in_about(&c, head).unwrap().name;
        assert_eq!(about(Config::small(), false), "Ponder S");
        assert_eq!(about(Config::large(), false), "Ponder L");
        assert_eq!(about(crate::recipe::revision_config(), false), "Ponder R");
        assert_eq!(about(Config::small(), true), "Ponder PRM");
    }
}
