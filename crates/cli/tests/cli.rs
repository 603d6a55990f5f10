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
fn inspect_json_describes_a_prm_head() {
    let prm = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../public/models/ponder-prm.gguf");
    let (ok, out, err) = ponder(&["inspect", prm.to_str().expect("path"), "--json"]);
    assert!(ok, "{err}");
    let v = json(&out);
    assert_eq!(v["prm"]["head"], "Value");
    assert_eq!(v["prm"]["separator"], "\n");
    // Kept in metadata, so llama.cpp loads the file (crates/train/tests/llama_cpp.rs).
    assert_eq!(v["prm"]["stored_in"], "metadata");
    let template = v["prm"]["question_template"].as_str().expect("a template");
    assert_eq!(template.matches("{question}").count(), 1, "{template}");
    let weights = &v["prm"]["likelihood_weights"];
    assert!(
        weights.is_null()
            || weights
                .as_array()
                .is_some_and(|w| w.len() == 3 && w.iter().all(|x| x.is_number())),
        "{weights}"
    );
    // A model without a head says so.
    let (ok, out, err) = ponder(&["inspect", smollm2().to_str().expect("path"), "--json"]);
    assert!(ok, "{err}");
    assert!(json(&out)["prm"].is_null());
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

#[test]
fn run_replays_a_share_link_with_the_same_answers_every_time() {
    let links = [
        "http://127.0.0.1:8080/ponder/?view=compare&v=1&strategy=beam&seed=7&n=8&width=4&problem=212",
        "v=1&strategy=revisions&seed=3&n=4&chains=2&problem=105",
        "v=1&strategy=best-of-n&seed=11&n=8&problem=310",
    ];
    let mut args = vec!["run", "--json"];
    args.extend(links);
    let (ok, first, err) = ponder(&args);
    assert!(ok, "{err}");
    let (ok, second, err) = ponder(&args);
    assert!(ok, "{err}");
    // Everything but the wall-clock time must be identical.
    let strip = |text: &str| -> Vec<serde_json::Value> {
        text.lines()
            .map(|line| {
                let mut v = json(line);
                v["seconds"] = serde_json::Value::Null;
                v
            })
            .collect()
    };
    let rows = strip(&first);
    assert_eq!(rows.len(), 3, "{first}");
    assert_eq!(rows, strip(&second));
    for row in &rows {
        assert!(
            row["compute"]["generations"].as_u64().unwrap_or(0) > 0,
            "{row}"
        );
        // The answer is right exactly when it equals the problem's true answer.
        assert_eq!(
            row["correct"].as_bool(),
            Some(row["answer"].as_str() == row["truth"].as_str()),
            "{row}"
        );
    }
    assert_eq!(
        rows[1]["outcome"]["trace"]["revisions"]["chains"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn a_last_round_runs_to_the_end_of_the_attempt_not_one_steps_tokens() {
    // One round: the whole attempt is the last round's step, run to the end. A level-5
    // attempt (problem 450 of the test set) is over 100 tokens, past one step's limit.
    let (ok, out, err) = ponder(&[
        "run",
        "--json",
        "v=1&strategy=best-of-n&seed=1&n=4&rounds=1&problem=450",
    ]);
    assert!(ok, "{err}");
    let row = json(&out);
    let candidates = row["outcome"]["candidates"].as_array().expect("candidates");
    assert_eq!(candidates.len(), 4, "{row}");
    for c in candidates {
        assert_eq!(c["finish"], "answer_end", "{c}");
        assert!(c["answer"].is_string(), "{c}");
        assert!(c["step_tokens"][0].as_u64().unwrap_or(0) > 64, "{c}");
    }
}

#[test]
fn run_replays_both_columns_of_a_compare_link_as_their_own_links() {
    let compare = "http://127.0.0.1:8080/?view=compare&v=1&seed=4&problem=120&n=4\
                   &left.strategy=beam&left.width=2&right.strategy=revisions&right.chains=2";
    let (ok, out, err) = ponder(&["run", "--json", compare]);
    assert!(ok, "{err}");
    let rows: Vec<serde_json::Value> = out.lines().map(json).collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(
        (rows[0]["column"].as_str(), rows[1]["column"].as_str()),
        (Some("left"), Some("right"))
    );
    // Each column is exactly the one-spec run its own link names.
    for row in &rows {
        let link = row["link"].as_str().expect("link");
        let (ok, single, err) = ponder(&["run", "--json", link]);
        assert!(ok, "{err}");
        let single = json(&single);
        assert_eq!(single["problem"], 120);
        assert_eq!(single["answer"], row["answer"], "{link}");
        assert_eq!(single["votes"], row["votes"], "{link}");
        assert_eq!(single["compute"], row["compute"], "{link}");
    }
}

#[test]
fn run_takes_a_problem_typed_into_the_link_and_names_a_bad_one() {
    let (ok, out, err) = ponder(&[
        "run",
        "--json",
        "v=1&strategy=majority&seed=1&n=2&q=(2%2B3)*4",
    ]);
    assert!(ok, "{err}");
    let row = json(&out);
    assert_eq!(row["problem_text"], "(2+3)*4");
    assert_eq!(row["truth"], "20");
    // The row's link keeps the typed problem, so it replays the row.
    let link = row["link"].as_str().expect("link");
    assert!(link.contains("q=%282%2B3%29%2A4"), "{link}");
    let (ok, again, err) = ponder(&["run", "--json", link]);
    assert!(ok, "{err}");
    let again = json(&again);
    assert_eq!(again["problem_text"], row["problem_text"]);
    assert_eq!(again["votes"], row["votes"]);
    // So do both rows of a Compare link.
    let (ok, out, err) = ponder(&[
        "run",
        "--json",
        "v=1&seed=1&n=2&q=7*6&left.strategy=majority&right.strategy=best-of-n",
    ]);
    assert!(ok, "{err}");
    for row in out.lines().map(json) {
        assert!(
            row["link"].as_str().is_some_and(|l| l.contains("q=7%2A6")),
            "{row}"
        );
    }
    let (ok, _, err) = ponder(&["run", "v=1&strategy=majority&seed=1&n=2&q=12%2B*3"]);
    assert!(!ok);
    assert!(err.contains("q=\"12+*3\""), "{err}");
}

#[test]
fn run_rejects_a_problem_past_the_end_of_the_set() {
    let (ok, _, err) = ponder(&[
        "run",
        "v=1&strategy=majority&seed=1&n=2&problem=100",
        "--set",
        "validation",
    ]);
    assert!(!ok);
    assert!(err.contains("past the end of the validation set"), "{err}");
}

#[test]
fn eval_counts_each_levels_problems_and_agrees_with_its_rows() {
    let (ok, out, err) = ponder(&[
        "eval",
        "v=1&strategy=majority&seed=5&n=3",
        "--set",
        "validation",
        "--per-level",
        "2",
        "--json",
    ]);
    assert!(ok, "{err}");
    let v = json(&out);
    let rows = v["problems"].as_array().expect("rows");
    assert_eq!(rows.len(), 10, "2 problems of each of the 5 levels");
    let right = rows.iter().filter(|r| r["correct"] == true).count();
    let accuracy = v["accuracy"].as_f64().expect("accuracy");
    assert!((accuracy - right as f64 / 10.0).abs() < 1e-12, "{v}");
    for level in v["by_level"].as_array().expect("levels") {
        assert_eq!(level["total"], 2, "{level}");
    }
}

#[test]
fn sweep_writes_its_tables_and_chart_and_reuses_samples_exactly() {
    let out = std::env::temp_dir().join(format!("ponder-sweep-{}", std::process::id()));
    let (ok, _, err) = ponder(&[
        "sweep",
        "--set",
        "validation",
        "--per-level",
        "1",
        "--levels",
        "1,2",
        "--budgets",
        "1,2",
        "--strategies",
        "majority,best-of-n",
        "--seeds",
        "1,2",
        "--out",
        out.to_str().expect("path"),
    ]);
    assert!(ok, "{err}");
    let rows = std::fs::read_to_string(out.join("rows.csv")).expect("rows.csv");
    // Header, then 2 seeds x 2 problems x 2 strategies x 2 budgets.
    assert_eq!(rows.lines().count(), 1 + 16, "{rows}");
    // With one sample, majority and best-of-N must pick the same answer.
    let lines: Vec<Vec<&str>> = rows
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    for a in lines.iter().filter(|l| l[1] == "majority" && l[2] == "1") {
        let b = lines
            .iter()
            .find(|l| l[1] == "best-of-n" && l[2] == "1" && l[0] == a[0] && l[3] == a[3])
            .expect("matching best-of-n row");
        assert_eq!(a[5], b[5], "{a:?} {b:?}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("json"))
            .expect("summary parses");
    assert_eq!(summary["seeds"], serde_json::json!([1, 2]));
    let svg = std::fs::read_to_string(out.join("accuracy.svg")).expect("svg");
    assert!(
        svg.contains("<polyline") && svg.contains("best-of-n"),
        "{svg}"
    );
    // The page's other figures, from the same functions: a line per (bin, strategy,
    // budget) that has problems, and compute-optimal at each budget.
    let difficulty = std::fs::read_to_string(out.join("difficulty.csv")).expect("difficulty");
    assert!(
        difficulty.starts_with("bin,strategy,budget,"),
        "{difficulty}"
    );
    assert!(difficulty.lines().count() > 1, "{difficulty}");
    let optimal = std::fs::read_to_string(out.join("compute_optimal.csv")).expect("optimal");
    assert_eq!(optimal.lines().count(), 1 + 2, "{optimal}");
    // No revisions in this sweep: the steps file has its header only.
    let steps = std::fs::read_to_string(out.join("revision_steps.csv")).expect("steps");
    assert_eq!(steps.lines().count(), 1, "{steps}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bench_strategies_times_every_strategy_on_the_built_in_models() {
    // One problem, budget 2: small enough for a debug build.
    let dir = std::env::temp_dir().join(format!("ponder-bench-{}", std::process::id()));
    let out = dir.join("strategies.json");
    let (ok, stdout, err) = ponder(&[
        "bench",
        "--strategies",
        "--budget",
        "2",
        "--per-level",
        "1",
        "--set",
        "validation",
        "--out",
        out.to_str().expect("path"),
    ]);
    assert!(ok, "{err}");
    let written = json(&std::fs::read_to_string(&out).expect("written"));
    let rows = written.as_array().expect("rows");
    let names: Vec<&str> = rows.iter().filter_map(|r| r["strategy"].as_str()).collect();
    assert_eq!(
        names,
        [
            "majority",
            "best-of-n",
            "beam",
            "lookahead",
            "dvts",
            "revisions",
            "mix"
        ]
    );
    for row in rows {
        assert_eq!(row["budget"], 2, "{row}");
        assert_eq!(row["problems"], 5, "{row}");
        assert!(row["seconds"].as_f64().is_some_and(|s| s > 0.0), "{row}");
        assert!(
            row["compute"]["policy_tokens"]
                .as_u64()
                .is_some_and(|t| t > 0),
            "{row}"
        );
    }
    assert!(stdout.contains("s/problem"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_without_a_model_says_what_is_missing() {
    let (ok, _, err) = ponder(&["bench"]);
    assert!(!ok);
    assert!(
        err.contains("--strategies") || err.contains("MODEL"),
        "{err}"
    );
}
