//! The engine as a process reward model: scores come from the head at each step's last
//! token, equal an independent computation (one plain forward over the whole text, no
//! prefix sharing, no batching), and do not depend on which candidates share the batch.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::tiny::{self, Head};
use ponder_core::Verifier;
use ponder_model::transformer::{BatchItem, Wanted};
use ponder_model::{Engine, LanguageModel, ModelError};

fn candidates() -> Vec<Vec<String>> {
    vec![
        vec!["12*7=84".into(), "84+5=89".into(), "Answer: 89".into()],
        vec!["12*7=74\n".into(), "Answer: 79".into()],
        vec![],
        vec!["just one step".into()],
    ]
}

/// Scores computed the slow way: the whole text through a fresh cache, hidden states at
/// the token before each step boundary, the head applied by hand.
fn independent_scores(engine: &Engine, problem: &str, steps: &[String]) -> Vec<f32> {
    let model = &engine.model;
    let head = model.prm.as_ref().expect("a PRM");
    let mut tokens = model.tokenizer.encode(&format!("{problem}\n"), false);
    let mut ends = Vec::new();
    for step in steps {
        let text = if step.ends_with('\n') {
            step.clone()
        } else {
            format!("{step}\n")
        };
        tokens.extend(model.tokenizer.encode(&text, false));
        ends.push(tokens.len() - 1);
    }
    let mut cache = model.transformer.new_cache();
    let out = model
        .transformer
        .forward(&mut [BatchItem {
            cache: &mut cache,
            tokens: &tokens,
            wanted: Wanted {
                logits: vec![],
                hidden: ends,
            },
        }])
        .expect("forward");
    out[0].hidden.iter().map(|h| head.score(h, None)).collect()
}

#[test]
fn value_and_classification_heads_score_every_step() {
    for head in [Head::Value, Head::Classification] {
        let mut engine =
            Engine::new(LanguageModel::from_gguf_bytes(&tiny::model(head)).expect("loads"));
        let problem = "Problem: 12*7+5";
        let all = engine.score(problem, &candidates()).expect("scores");
        assert_eq!(
            all.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![3, 2, 0, 1]
        );
        // Byte-level vocabulary: one token per byte of the problem line and of every step
        // (each ends with its newline).
        let expected_tokens = (problem.len() + 1)
            + candidates()
                .iter()
                .flatten()
                .map(|s| s.trim_end_matches('\n').len() + 1)
                .sum::<usize>();
        assert_eq!(engine.last_score_tokens(), Some(expected_tokens as u64));
        for (steps, scores) in candidates().iter().zip(&all) {
            let expected = independent_scores(&engine, problem, steps);
            for (a, b) in scores.iter().zip(&expected) {
                assert!((0.0..=1.0).contains(a));
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
        }
        // Alone or in company: the same scores.
        for (i, steps) in candidates().iter().enumerate() {
            let alone = engine
                .score(problem, std::slice::from_ref(steps))
                .expect("scores");
            assert_eq!(alone[0], all[i]);
        }
        // The scores are not all alike (the head reads real hidden states).
        assert_ne!(all[0][0], all[0][1]);
    }
}

/// The likelihood head's scores the slow way: the templated question and every step in one
/// forward with logits at every position, log-softmax and running figures in f64, the
/// head's logit rebuilt from the file's own numbers.
fn independent_likelihood_scores(engine: &Engine, question: &str, steps: &[String]) -> Vec<f64> {
    let model = &engine.model;
    let head = model.prm.as_ref().expect("a PRM");
    let mut tokens = model
        .tokenizer
        .encode(&format!("Problem: {question}\n"), false);
    let start = tokens.len();
    let mut ends = Vec::new();
    for step in steps {
        tokens.extend(model.tokenizer.encode(&format!("{step}\n"), false));
        ends.push(tokens.len() - 1);
    }
    let mut cache = model.transformer.new_cache();
    let out = model
        .transformer
        .forward(&mut [BatchItem {
            cache: &mut cache,
            tokens: &tokens,
            wanted: Wanted {
                logits: (0..tokens.len() - 1).collect(),
                hidden: ends.clone(),
            },
        }])
        .expect("forward");
    let log_prob = |t: usize| -> f64 {
        let logits = &out[0].logits[t - 1];
        let max = logits.iter().fold(f64::MIN, |m, &l| m.max(l as f64));
        let total: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
        logits[tokens[t] as usize] as f64 - max - total.ln()
    };
    let weights = tiny::likelihood_weights();
    ends.iter()
        .zip(&out[0].hidden)
        .map(|(&end, h)| {
            let lp: Vec<f64> = (start..=end).map(log_prob).collect();
            let min = lp.iter().copied().fold(0.0, f64::min);
            let sum: f64 = lp.iter().sum();
            let mean = sum / lp.len() as f64;
            // The value head alone, inverted back to its logit.
            let p = head.score(h, None) as f64;
            let logit = (p / (1.0 - p)).ln()
                + weights[0] as f64 * min
                + weights[1] as f64 * mean
                + weights[2] as f64 * sum;
            1.0 / (1.0 + (-logit).exp())
        })
        .collect()
}

#[test]
fn a_likelihood_head_weighs_how_surprising_each_attempt_is() {
    let mut engine =
        Engine::new(LanguageModel::from_gguf_bytes(&tiny::model(Head::Likelihood)).expect("loads"));
    let head = engine.model.prm.clone().expect("a PRM");
    assert!(head.reads_likelihood());
    assert_eq!(head.question("12*7+5"), "Problem: 12*7+5");
    let question = "12*7+5";
    let all = engine.score(question, &candidates()).expect("scores");
    for (steps, scores) in candidates().iter().zip(&all) {
        let steps: Vec<String> = steps
            .iter()
            .map(|s| s.trim_end_matches('\n').to_string())
            .collect();
        let expected = independent_likelihood_scores(&engine, question, &steps);
        assert_eq!(scores.len(), expected.len());
        for (a, b) in scores.iter().zip(&expected) {
            assert!((*a as f64 - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
    // Alone or in company: the same scores.
    for (i, steps) in candidates().iter().enumerate() {
        let alone = engine
            .score(question, std::slice::from_ref(steps))
            .expect("scores");
        assert_eq!(alone[0], all[i]);
    }
    // The likelihood moves the score: without it the same steps score otherwise.
    let mut plain =
        Engine::new(LanguageModel::from_gguf_bytes(&tiny::model(Head::Value)).expect("loads"));
    let without = plain.score(question, &candidates()).expect("scores");
    assert_ne!(all[0], without[0]);
}

#[test]
fn a_malformed_likelihood_head_is_refused_with_the_key_at_fault() {
    for (head, key) in [
        (
            Head::LikelihoodTemplate("Problem: no placeholder"),
            "ponder.prm.question_template",
        ),
        (
            Head::LikelihoodTemplate("{question} and {question}"),
            "ponder.prm.question_template",
        ),
        (Head::ClassificationWithLikelihood, "prm_head.likelihood"),
    ] {
        let err = LanguageModel::from_gguf_bytes(&tiny::model(head))
            .err()
            .expect("refused");
        assert!(err.to_string().contains(key), "{err}");
    }
}

#[test]
fn a_model_without_a_head_says_so() {
    let mut engine =
        Engine::new(LanguageModel::from_gguf_bytes(&tiny::model(Head::None)).expect("loads"));
    let err = engine.score("p", &candidates()).unwrap_err();
    assert!(matches!(err, ModelError::NotAPrm));
    assert!(err.to_string().contains("ponder.prm.head"));
}

#[test]
fn steps_past_the_context_score_zero_and_the_rest_are_unchanged() {
    let mut engine =
        Engine::new(LanguageModel::from_gguf_bytes(&tiny::model(Head::Value)).expect("loads"));
    let context = engine.context_length();
    let problem = "Problem: 12*7+5";
    let short = vec!["12*7=84".to_string(), "84+5=89".to_string()];
    // A runaway step far longer than the context after two good ones.
    let mut long = short.clone();
    long.push("9".repeat(context));
    long.push("Answer: 89".into());
    let scores = engine
        .score(problem, &[short.clone(), long])
        .expect("a long candidate is scored, not an error");
    assert_eq!(scores[1].len(), 4);
    assert_eq!(&scores[1][..2], &scores[0][..]);
    assert_eq!(&scores[1][2..], &[0.0, 0.0]);
    // A problem that alone fills the context is an error that says so.
    let err = engine
        .score(&"1".repeat(context), &[short])
        .expect_err("no room for any step");
    assert!(
        err.to_string().contains("past the model's context"),
        "{err}"
    );
}

#[test]
fn room_after_a_prompt_is_the_context_left() {
    use ponder_core::Policy;
    let engine =
        Engine::new(LanguageModel::from_gguf_bytes(&tiny::model(Head::Value)).expect("loads"));
    let context = engine.context_length();
    // Byte-level vocabulary: one token per byte.
    assert_eq!(engine.room_after("12*7"), Some(context - 4));
    assert_eq!(engine.room_after(&"9".repeat(context + 5)), Some(0));
}

/// `bytes` with the head's tensors moved into the f32 metadata arrays `ponder.prm.*`, as
/// Ponder's exporter stores them (so llama.cpp, which refuses unknown tensors, loads it).
fn head_in_metadata(bytes: &[u8]) -> Vec<u8> {
    use ponder_model::gguf::{GgufFile, GgufWriter, MetadataValue};
    let file = GgufFile::read(bytes).expect("readable");
    let mut w = GgufWriter::new();
    for (key, value) in file.metadata_entries() {
        w.metadata(key, value.clone());
    }
    for t in file.tensors() {
        let (_, data) = file.tensor_bytes(bytes, &t.name).expect("present");
        let key = match t.name.as_str() {
            "prm_head.weight" => "ponder.prm.weight",
            "prm_head.bias" => "ponder.prm.bias",
            "prm_head.likelihood" => "ponder.prm.likelihood",
            _ => {
                w.tensor(&t.name, &t.dims, t.ty, data.to_vec());
                continue;
            }
        };
        let values = data
            .chunks_exact(4)
            .map(|b| MetadataValue::F32(f32::from_le_bytes(b.try_into().expect("4 bytes"))))
            .collect();
        w.metadata(key, MetadataValue::Array(values));
    }
    w.to_bytes().expect("writable")
}

#[test]
fn a_head_kept_in_metadata_scores_as_the_same_head_in_tensors() {
    let problem = "Problem: 12*7+5";
    for head in [Head::Value, Head::Classification, Head::Likelihood] {
        let bytes = tiny::model(head);
        let moved = head_in_metadata(&bytes);
        assert!(ponder_model::gguf::GgufFile::read(&moved)
            .expect("readable")
            .tensors()
            .iter()
            .all(|t| !t.name.starts_with("prm_head")));
        let score = |bytes: &[u8]| {
            Engine::new(LanguageModel::from_gguf_bytes(bytes).expect("loads"))
                .score(problem, &candidates())
                .expect("scores")
        };
        assert_eq!(score(&moved), score(&bytes));
    }
}

#[test]
fn a_head_in_both_places_or_of_the_wrong_length_is_refused() {
    use ponder_model::gguf::{GgufFile, GgufWriter, MetadataValue};
    let bytes = tiny::model(Head::Value);
    let file = GgufFile::read(&bytes).expect("readable");
    let rewritten = |extra: (&str, MetadataValue)| {
        let mut w = GgufWriter::new();
        for (key, value) in file.metadata_entries() {
            w.metadata(key, value.clone());
        }
        w.metadata(extra.0, extra.1);
        for t in file.tensors() {
            let (_, data) = file.tensor_bytes(&bytes, &t.name).expect("present");
            w.tensor(&t.name, &t.dims, t.ty, data.to_vec());
        }
        let err = LanguageModel::from_gguf_bytes(&w.to_bytes().expect("writable"))
            .err()
            .expect("refused");
        err.to_string()
    };
    let both = rewritten((
        "ponder.prm.bias",
        MetadataValue::Array(vec![MetadataValue::F32(0.5)]),
    ));
    assert!(
        both.contains("ponder.prm.bias") && both.contains("prm_head.bias"),
        "{both}"
    );

    let moved = head_in_metadata(&bytes);
    let file = GgufFile::read(&moved).expect("readable");
    let mut w = GgufWriter::new();
    for (key, value) in file.metadata_entries() {
        let value = if key == "ponder.prm.weight" {
            MetadataValue::Array(vec![MetadataValue::F32(1.0); 3])
        } else {
            value.clone()
        };
        w.metadata(key, value);
    }
    for t in file.tensors() {
        let (_, data) = file.tensor_bytes(&moved, &t.name).expect("present");
        w.tensor(&t.name, &t.dims, t.ty, data.to_vec());
    }
    let err = LanguageModel::from_gguf_bytes(&w.to_bytes().expect("writable"))
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("ponder.prm.weight") && err.contains("3 values"),
        "{err}"
    );
}
