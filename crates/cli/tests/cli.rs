//! The `ponder` binary as a user runs it, on SmolLM2-135M-Instruct (fetched by
//! `cargo xtask test` into ~/.cache/ponder/models, or PONDER_SMOLLM2).

use std::path::PathBuf;
use std::process::Command;

fn smollm2() -> PathBuf {
    if let Some(p) = std::env::var_os("PONDER_SMOLLM2") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/ponder/models/SmolLM2-135M-Instruct.Q4_1.gguf")
}

fn ponder(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ponder"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn tokenize_json_gives_ids_and_pieces() {
    let model = smollm2();
    let (ok, out, err) = ponder(&[
        "tokenize",
        model.to_str().expect("path"),
        "Hello world, 12*7=84",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v = json(&out);
    let ids: Vec<u64> = v["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .filter_map(|x| x.as_u64())
        .collect();
    // Reference ids from Hugging Face tokenizers (scripts/tokenizer_reference.py): digits
    // are split one by one.
    assert_eq!(ids, vec![19556, 905, 28, 216, 33, 34, 26, 39, 45, 40, 36]);
    assert_eq!(v["pieces"][1], "Ġworld");
}

#[test]
fn generate_json_matches_the_engine_fixture() {
    let fixture = json(include_str!(
        "../../model/tests/fixtures/smollm2_greedy.json"
    ));
    let model = smollm2();
    let prompt = fixture["prompt"].as_str().expect("prompt");
    let (ok, out, err) = ponder(&[
        "generate",
        model.to_str().expect("path"),
        prompt,
        "--max-tokens",
        "32",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v = json(&out);
    assert_eq!(v["ids"], fixture["greedy_ids"]);
    assert_eq!(v["text"], fixture["greedy_text"]);
    assert!(v["tokens_per_second"].as_f64().expect("speed") > 0.0);
}

#[test]
fn inspect_json_describes_the_model() {
    let model = smollm2();
    let (ok, out, err) = ponder(&["inspect", model.to_str().expect("path"), "--json"]);
    assert!(ok, "{err}");
    let v = json(&out);
    assert_eq!(v["architecture"], "llama");
    assert_eq!(v["layers"], 30);
    assert_eq!(v["kv_heads"], 3);
    assert_eq!(v["vocab_size"], 49152);
    assert_eq!(v["chat_template"], "chatml");
    assert_eq!(v["tensor_types"]["Q4_1"]["tensors"], 210);
}

#[test]
fn bad_input_gives_a_clear_error_and_exit_status() {
    let (ok, _, err) = ponder(&["inspect", "/no/such/model.gguf"]);
    assert!(!ok);
    assert!(
        err.contains("cannot read the model file /no/such/model.gguf"),
        "{err}"
    );

    let dir = std::env::temp_dir().join(format!("ponder-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let html = dir.join("page.gguf");
    std::fs::write(&html, "<!doctype html><title>Not Found</title>").expect("write");
    let (ok, _, err) = ponder(&["generate", html.to_str().expect("path"), "hi"]);
    assert!(!ok);
    assert!(err.contains("not a GGUF file"), "{err}");

    let model = smollm2();
    let (ok, _, err) = ponder(&[
        "generate",
        model.to_str().expect("path"),
        "hi",
        "--top-p",
        "0",
    ]);
    assert!(!ok);
    assert!(err.contains("--top-p"), "{err}");
}
