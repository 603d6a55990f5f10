//! The trainable model against the runtime that will run it, and the trainer's promises.

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use ponder_model::transformer::{BatchItem, Wanted};
use ponder_model::LanguageModel;
use ponder_train::data::Corpus;
use ponder_train::export::{to_gguf, Precision};
use ponder_train::model::{Config, Model};
use ponder_train::trainer::{train, Settings};
use ponder_train::vocab;

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

fn tokens() -> Vec<u32> {
    vocab::encode("Problem: (37+48)*6-29\n37+48=85\n85*6=510\n")
}

#[test]
fn every_parameter_receives_a_gradient() {
    let vars = VarMap::new();
    let model = Model::new(tiny(), &vars, &Device::Cpu).expect("model");
    let t = tokens();
    let input = Tensor::new(&t[..t.len() - 1], &Device::Cpu)
        .and_then(|x| x.unsqueeze(0))
        .expect("input");
    let target = Tensor::new(&t[1..], &Device::Cpu).expect("target");
    let logits = model.forward(&input).expect("forward");
    let (_, n, v) = logits.dims3().expect("dims");
    let loss = candle_nn::loss::cross_entropy(&logits.reshape((n, v)).expect("reshape"), &target)
        .expect("loss");
    let grads = loss.backward().expect("backward");
    for (i, p) in model.vars().iter().enumerate() {
        let g = grads
            .get(p.as_tensor())
            .unwrap_or_else(|| panic!("parameter {i} has no gradient"));
        let norm = g
            .sqr()
            .and_then(|x| x.sum_all())
            .and_then(|x| x.to_scalar::<f32>())
            .expect("norm");
        assert!(norm > 0.0, "parameter {i} has a zero gradient");
    }
}

#[test]
fn the_runtime_computes_the_same_logits_from_the_f32_export() {
    let vars = VarMap::new();
    let model = Model::new(tiny(), &vars, &Device::Cpu).expect("model");
    let t = tokens();
    let input = Tensor::new(t.as_slice(), &Device::Cpu)
        .and_then(|x| x.unsqueeze(0))
        .expect("input");
    let trained: Vec<Vec<f32>> = model
        .forward(&input)
        .and_then(|l| l.squeeze(0))
        .and_then(|l| l.to_vec2())
        .expect("forward");

    let bytes = to_gguf(&model, "tiny", Precision::F32, None).expect("export");
    let runtime = LanguageModel::from_gguf_bytes(&bytes).expect("the runtime loads the export");
    assert_eq!(
        runtime.tokenizer.encode("12*7=84\n", false),
        vocab::encode("12*7=84\n")
    );
    let mut cache = runtime.transformer.new_cache();
    let out = runtime
        .transformer
        .forward(&mut [BatchItem {
            cache: &mut cache,
            tokens: &t,
            wanted: Wanted {
                logits: (0..t.len()).collect(),
                hidden: vec![],
            },
        }])
        .expect("runtime forward");
    let mut worst = 0f32;
    for (a, b) in out[0].logits.iter().zip(&trained) {
        for (x, y) in a.iter().zip(b) {
            worst = worst.max((x - y).abs());
        }
    }
    assert!(worst <= 1e-4, "largest logit difference {worst}");
}

#[test]
fn training_lowers_the_loss_and_resumes_exactly() {
    let settings = Settings {
        batch: 4,
        seq_len: 48,
        steps: 12,
        lr: 3e-3,
        warmup: 2,
        weight_decay: 0.1,
        clip: 1.0,
        checkpoint_every: 6,
        seed: 3,
        stop_at: None,
    };
    let corpus = Corpus::new(settings.seed);
    let base = std::env::temp_dir().join(format!("ponder-train-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);

    // Twelve steps in one go, from weights saved first.
    let vars = VarMap::new();
    let model = Model::new(tiny(), &vars, &Device::Cpu).expect("model");
    std::fs::create_dir_all(&base).expect("dir");
    vars.save(base.join("init.safetensors")).expect("save init");
    let straight = train(
        &model,
        &vars,
        &corpus,
        &settings,
        &base.join("a"),
        &mut |_| {},
    )
    .expect("train");
    assert_eq!(straight.len(), 12);
    assert!(
        straight[11] < straight[0] - 0.5,
        "loss did not fall: {straight:?}"
    );

    // The same start, six steps, then a new model resumed from that checkpoint.
    let dir = base.join("b");
    let mut vars_b = VarMap::new();
    let model_b = Model::new(tiny(), &vars_b, &Device::Cpu).expect("model");
    vars_b
        .load(base.join("init.safetensors"))
        .expect("load init");
    let half = Settings {
        stop_at: Some(6),
        ..settings.clone()
    };
    let first = train(&model_b, &vars_b, &corpus, &half, &dir, &mut |_| {}).expect("first half");
    let vars_c = VarMap::new();
    let model_c = Model::new(tiny(), &vars_c, &Device::Cpu).expect("model");
    let second =
        train(&model_c, &vars_c, &corpus, &settings, &dir, &mut |_| {}).expect("second half");
    let resumed: Vec<f32> = first.into_iter().chain(second).collect();
    assert_eq!(
        resumed, straight,
        "an interrupted run must take the same steps"
    );
    for (a, c) in model.vars().iter().zip(model_c.vars()) {
        let a = a
            .as_tensor()
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .expect("a");
        let c = c
            .as_tensor()
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .expect("c");
        assert_eq!(a, c);
    }
    let _ = std::fs::remove_dir_all(&base);
}
