//! The trainable model against the runtime that will run it, and the trainer's promises.

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use ponder_model::transformer::{BatchItem, Wanted};
use ponder_model::LanguageModel;
use ponder_train::data::Corpus;
use ponder_train::export::{to_gguf, About, Precision};
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

    let bytes = to_gguf(&model, &About::named("tiny"), Precision::F32, None).expect("export");
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
    // Both runs count every token they read: 12 steps of 4 rows of 48.
    for run in ["a", "b"] {
        let tokens = std::fs::read_to_string(base.join(run).join("tokens")).expect("tokens");
        assert_eq!(tokens.trim(), (12 * 4 * 48).to_string(), "run {run}");
    }
    let _ = std::fs::remove_dir_all(&base);
}

/// Cross-entropy of `logits` rows against `targets`, in f64 from the softmax definition.
fn reference_cross_entropy(logits: &[Vec<f32>], targets: &[u32]) -> f64 {
    let mut total = 0f64;
    for (row, &t) in logits.iter().zip(targets) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        let sum: f64 = row.iter().map(|&x| (x as f64 - max).exp()).sum();
        total += -(row[t as usize] as f64 - max - sum.ln());
    }
    total / targets.len() as f64
}

#[test]
fn the_revision_loss_covers_only_the_final_attempt_and_ignores_padding() {
    use ponder_train::revision::{masked_loss, MaskedExample};
    let vars = VarMap::new();
    let model = Model::new(tiny(), &vars, &Device::Cpu).expect("model");
    let long = tokens();
    let short: Vec<u32> = long[..20].to_vec();
    let a = MaskedExample {
        tokens: long.clone(),
        target_from: 30,
    };
    let b = MaskedExample {
        tokens: short.clone(),
        target_from: 10,
    };
    let (loss, _) = masked_loss(&model, &[&a, &b]).expect("loss");
    let got = f64::from(loss.to_scalar::<f32>().expect("scalar"));
    // Reference: each example run alone, unpadded; targets at positions ≥ target_from.
    let logits_of = |t: &[u32]| -> Vec<Vec<f32>> {
        let input = Tensor::new(&t[..t.len() - 1], &Device::Cpu)
            .and_then(|x| x.unsqueeze(0))
            .expect("input");
        model
            .forward(&input)
            .and_then(|l| l.squeeze(0))
            .and_then(|l| l.to_vec2::<f32>())
            .expect("logits")
    };
    let (la, lb) = (logits_of(&long), logits_of(&short));
    let rows: Vec<Vec<f32>> = la[29..].iter().chain(&lb[9..]).cloned().collect();
    let targets: Vec<u32> = long[30..].iter().chain(&short[10..]).copied().collect();
    let want = reference_cross_entropy(&rows, &targets);
    assert!(
        (got - want).abs() < 1e-5,
        "masked loss {got}, reference {want}"
    );
}

#[test]
fn the_prm_loss_is_binary_cross_entropy_of_the_head_at_each_step_end() {
    use ponder_train::prm::{bce_loss, PrmExample, ValueHead};
    let vars = VarMap::new();
    let model = Model::new(tiny(), &vars, &Device::Cpu).expect("model");
    let head = ValueHead::new(model.config.hidden, &vars).expect("head");
    let a = PrmExample::new(
        "(37+48)*6",
        &["37+48=85", "85*6=510", "Answer: 510"],
        vec![1.0, 0.5, 1.0],
    );
    let b = PrmExample::new("3+4", &["3+4=8", "Answer: 8"], vec![0.25, 0.0]);
    let (loss, _) = bce_loss(&model, &head, &[&a, &b]).expect("loss");
    let got = f64::from(loss.to_scalar::<f32>().expect("scalar"));
    let w: Vec<f32> = head
        .weight
        .as_tensor()
        .flatten_all()
        .and_then(|t| t.to_vec1())
        .expect("w");
    let bias = head.bias.as_tensor().to_vec1::<f32>().expect("b")[0] as f64;
    let mut total = 0f64;
    let mut count = 0;
    for e in [&a, &b] {
        let input = Tensor::new(e.tokens.as_slice(), &Device::Cpu)
            .and_then(|x| x.unsqueeze(0))
            .expect("input");
        let hidden = model
            .hidden(&input)
            .and_then(|h| h.squeeze(0))
            .and_then(|h| h.to_vec2::<f32>())
            .expect("hidden");
        for (&p, &y) in e.positions.iter().zip(&e.labels) {
            let z: f64 = hidden[p]
                .iter()
                .zip(&w)
                .map(|(&h, &w)| h as f64 * w as f64)
                .sum::<f64>()
                + bias;
            let prob = 1.0 / (1.0 + (-z).exp());
            total += -(y as f64 * prob.ln() + (1.0 - y as f64) * (1.0 - prob).ln());
            count += 1;
        }
    }
    let want = total / count as f64;
    assert!((got - want).abs() < 1e-5, "BCE {got}, reference {want}");
}

#[test]
fn growing_a_small_model_keeps_what_it_computes() {
    // A small model with random weights, exported as F32 so the comparison sees no
    // quantization. The norms' epsilon is made negligible: growing doubles its weight
    // relative to the mean square (see `grow_from_gguf`), which with random weights'
    // tiny activations would hide a real mistake.
    let small_cfg = Config {
        rms_eps: 1e-12,
        ..tiny()
    };
    let large_cfg = Config {
        hidden: 64,
        heads: 8,
        layers: 4,
        ffn: 160,
        ..small_cfg
    };
    let small_vars = VarMap::new();
    let small = Model::new(small_cfg, &small_vars, &Device::Cpu).expect("small");
    // Norm gains away from 1, so the gain rescaling is exercised.
    for b in &small.blocks {
        b.attn_norm
            .set(&(b.attn_norm.as_tensor() * 1.3).expect("scale"))
            .expect("set");
    }
    let bytes = to_gguf(&small, &About::named("small"), Precision::F32, None).expect("export");
    let large_vars = VarMap::new();
    let large = Model::new(large_cfg, &large_vars, &Device::Cpu).expect("large");
    large.grow_from_gguf(small_cfg, &bytes).expect("grows");
    let t = tokens();
    let input = Tensor::new(t.as_slice(), &Device::Cpu)
        .and_then(|x| x.unsqueeze(0))
        .expect("input");
    let a = small
        .forward(&input)
        .and_then(|l| l.flatten_all())
        .and_then(|l| l.to_vec1::<f32>())
        .expect("small logits");
    let b = large
        .forward(&input)
        .and_then(|l| l.flatten_all())
        .and_then(|l| l.to_vec1::<f32>())
        .expect("large logits");
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(
        worst <= 1e-4,
        "largest logit difference after growing: {worst}"
    );
    assert!(
        a.iter().map(|x| x.abs()).fold(0f32, f32::max) > 0.01,
        "logits are not trivial"
    );
}

#[test]
fn a_backbone_file_says_whether_it_is_s_or_l() {
    for (cfg, name) in [(Config::small(), "S"), (Config::large(), "L")] {
        let vars = VarMap::new();
        let model = Model::new(cfg, &vars, &Device::Cpu).expect("model");
        let bytes = to_gguf(&model, &About::named(name), Precision::Q8_0, None).expect("export");
        let found = Config::of_gguf(&bytes).expect("a built-in size");
        assert_eq!(
            (found.hidden, found.layers),
            (cfg.hidden, cfg.layers),
            "{name}"
        );
    }
    let other = Model::new(tiny(), &VarMap::new(), &Device::Cpu).expect("model");
    let bytes = to_gguf(&other, &About::named("tiny"), Precision::F32, None).expect("export");
    let err = Config::of_gguf(&bytes).expect_err("not a built-in size");
    assert!(err.to_string().contains("neither"), "{err}");
    assert!(Config::of_gguf(b"not a model").is_err());
}

#[test]
fn deepening_a_model_keeps_what_it_computes() {
    // Blocks added on top start as identities: the logits are the backbone's exactly.
    let cfg = tiny();
    let vars = VarMap::new();
    let small = Model::new(cfg, &vars, &Device::Cpu).expect("small");
    let bytes = to_gguf(&small, &About::named("small"), Precision::F32, None).expect("export");
    let deep_cfg = Config {
        layers: cfg.layers + 2,
        ..cfg
    };
    let deep_vars = VarMap::new();
    let deep = Model::new(deep_cfg, &deep_vars, &Device::Cpu).expect("deep");
    deep.deepen_from_gguf(cfg, &bytes).expect("deepens");
    let input = Tensor::new(tokens().as_slice(), &Device::Cpu)
        .and_then(|x| x.unsqueeze(0))
        .expect("input");
    let logits = |m: &Model| {
        m.forward(&input)
            .and_then(|l| l.flatten_all())
            .and_then(|l| l.to_vec1::<f32>())
            .expect("logits")
    };
    let (a, b) = (logits(&small), logits(&deep));
    assert_eq!(a, b);
    assert!(a.iter().any(|x| x.abs() > 0.01), "logits are not trivial");
    // The added blocks are trainable, not frozen copies: their fresh projections differ
    // from zero, only their output projections start at zero.
    let top = &deep.blocks[cfg.layers];
    let wq = top
        .wq
        .as_tensor()
        .abs()
        .and_then(|t| t.sum_all())
        .and_then(|t| t.to_scalar::<f32>())
        .expect("sum");
    assert!(wq > 0.0);
    // Widths must match: a different hidden size is refused with a message.
    let wide = Model::new(
        Config {
            hidden: cfg.hidden * 2,
            ..deep_cfg
        },
        &VarMap::new(),
        &Device::Cpu,
    )
    .expect("wide");
    let err = wide.deepen_from_gguf(cfg, &bytes).expect_err("refused");
    assert!(
        err.to_string().contains("only the layer count may grow"),
        "{err}"
    );
}

/// A likelihood-reading PRM's training examples and head, laid out and weighted as the
/// runtime will read the exported file.
fn likelihood_prm() -> (
    Model,
    ponder_train::prm::LikelihoodHead,
    ponder_train::prm::PrmExample,
) {
    use ponder_train::prm::{LikelihoodHead, PrmExample};
    let vars = VarMap::new();
    let model = Model::new(tiny(), &vars, &Device::Cpu).expect("model");
    let head = LikelihoodHead::new(model.config.hidden, &vars).expect("head");
    head.likelihood
        .set(&Tensor::new(&[[0.7f32], [1.5], [0.05]], &Device::Cpu).expect("weights"))
        .expect("set");
    let example = PrmExample::new(
        "(37+48)*6",
        &["37+48=85", "85*6=510", "Answer: 510"],
        vec![1.0, 0.5, 1.0],
    )
    .with_question_template("Problem: {question}");
    (model, head, example)
}

#[test]
fn a_likelihood_prm_scores_in_the_runtime_as_it_trained() {
    use ponder_core::Verifier;
    use ponder_train::export::PrmHeadExport;
    use ponder_train::prm::StepFeatures;
    let (model, head, example) = likelihood_prm();
    assert_eq!(
        vocab::decode(&example.tokens),
        "Problem: (37+48)*6\n37+48=85\n85*6=510\nAnswer: 510\n"
    );
    let f =
        StepFeatures::of(&model, std::slice::from_ref(&example), &mut |_, _| {}).expect("features");
    let z = f
        .hidden
        .matmul(head.value.weight.as_tensor())
        .and_then(|a| a + f.surprise.matmul(head.likelihood.as_tensor())?)
        .and_then(|z| z.flatten_all())
        .and_then(|z| z.to_vec1::<f32>())
        .expect("logits");
    let trained: Vec<f32> = z.iter().map(|z| 1.0 / (1.0 + (-z).exp())).collect();

    let weights: Vec<f32> = head
        .likelihood
        .as_tensor()
        .flatten_all()
        .and_then(|t| t.to_vec1())
        .expect("weights");
    let export = PrmHeadExport {
        weight: head.value.weight.as_tensor().flatten_all().expect("w"),
        bias: 0.0,
        likelihood: Some((
            [weights[0], weights[1], weights[2]],
            "Problem: {question}".into(),
        )),
    };
    let bytes = to_gguf(
        &model,
        &About::named("tiny PRM"),
        Precision::F32,
        Some(&export),
    )
    .expect("export");
    let mut engine =
        ponder_model::Engine::new(LanguageModel::from_gguf_bytes(&bytes).expect("loads"));
    let steps: Vec<String> = ["37+48=85", "85*6=510", "Answer: 510"]
        .iter()
        .map(|s| format!("{s}\n"))
        .collect();
    let scored = engine.score("(37+48)*6", &[steps]).expect("scores");
    assert_eq!(scored[0].len(), trained.len());
    for (a, b) in scored[0].iter().zip(&trained) {
        assert!((a - b).abs() < 1e-4, "runtime {a}, training {b}");
    }
    // The surprise is real: the steps' figures differ and are log-probabilities.
    let s = f.surprise.to_vec2::<f32>().expect("surprise");
    assert!(s
        .iter()
        .all(|r| r[0] <= r[1] && r[1] <= 0.0 && r[2] <= r[1]));
    assert!(s[2][2] < s[0][2], "the sum runs over the attempt so far");
}

#[test]
fn the_joint_loss_is_the_heads_bce_plus_the_next_token_loss_on_the_attempt() {
    use ponder_train::prm::{joint_loss, StepFeatures};
    let (model, head, example) = likelihood_prm();
    let f =
        StepFeatures::of(&model, std::slice::from_ref(&example), &mut |_, _| {}).expect("features");
    let bce = f64::from(
        head.bce_loss(&f)
            .and_then(|l| Ok(l.to_scalar::<f32>()?))
            .expect("bce"),
    );
    let scalar = |w: f64| -> f64 {
        let (loss, _) = joint_loss(&model, &head, &[&example], w).expect("loss");
        f64::from(loss.to_scalar::<f32>().expect("scalar"))
    };
    assert!((scalar(0.0) - bce).abs() < 1e-5, "{} vs {bce}", scalar(0.0));
    // The next-token part covers the attempt only: tokens after the question's newline.
    let t = &example.tokens;
    let start = example.attempt_start();
    let input = Tensor::new(t.as_slice(), &Device::Cpu)
        .and_then(|x| x.unsqueeze(0))
        .expect("input");
    let logits: Vec<Vec<f32>> = model
        .forward(&input)
        .and_then(|l| l.squeeze(0))
        .and_then(|l| l.to_vec2())
        .expect("forward");
    let lm = reference_cross_entropy(&logits[start - 1..t.len() - 1], &t[start..]);
    let got = scalar(2.0) - scalar(0.0);
    assert!((got - 2.0 * lm).abs() < 1e-4, "{got} vs {}", 2.0 * lm);
}
