//! Ponder beside llama.cpp itself: each built-in file loads there (the PRM as the language
//! model it also is) and greedy-decodes the same steps as Ponder's engine on a few test
//! problems, and llama.cpp reads the `general.*` keys that apps show; SmolLM2 in llama.cpp's
//! Q4_K_M decodes alike in both; and both engines' logits are measured against a float64
//! forward (`scripts/float64_reference.py`).
//!
//! llama.cpp runs through llama-cpp-python, which `cargo xtask test` builds once from
//! PyPI's sources into `~/.cache/ponder/llama-venv` (CPU only, a fixed instruction set,
//! one thread, so its arithmetic is the same on every run); `PONDER_LLAMA_PYTHON` names
//! another Python that has `llama_cpp`. The two engines round differently, so on a
//! near-tie they may pick different tokens: the problems here are ones where Ponder's two
//! likeliest tokens are never close ([`MIN_MARGIN`]), and the test says so when a
//! retrained model brings one nearer a tie. `cargo test -p ponder-train --test llama_cpp
//! -- --ignored` measures the agreement over the whole test set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ponder_core::arithmetic::{shipped_sets, ArithmeticTask, Problem};
use ponder_core::{DrawKey, Policy, Task};
use ponder_model::sampler::SamplingParams;
use ponder_model::transformer::{BatchItem, Wanted};
use ponder_model::{Engine, LanguageModel};
use serde_json::{json, Value};

/// Enough for the longest attempt (eight steps and the answer) of the hardest level.
const MAX_TOKENS: usize = 160;

/// The version `cargo xtask test` installs (xtask/src/llama_cpp.rs).
const LLAMA_CPP_PYTHON: &str = "0.3.36";

/// The four built-in files: S, L and R are generators; the PRM is S fine-tuned to score
/// steps, and as a language model it writes steps too.
const FILES: [&str; 4] = [
    "ponder-s.gguf",
    "ponder-l.gguf",
    "ponder-r.gguf",
    "ponder-prm.gguf",
];

/// Test problems by (level, index in the level): on each, every file's greedy choices
/// lead the runner-up by at least [`MIN_MARGIN`] in Ponder, so rounding cannot flip them.
/// They are the two of each of levels 1 to 4 whose nearest tie was farthest when this
/// test was written (`agreement_over_the_test_set` measures them all). Level 5 has none:
/// every level-5 attempt of S, R or the PRM comes within 0.08 of a tie somewhere.
const PROBLEMS: [(u8, usize); 8] = [
    (1, 74),
    (1, 22),
    (2, 59),
    (2, 42),
    (3, 23),
    (3, 68),
    (4, 2),
    (4, 97),
];

/// Over the whole test set the engines' attempts differed only where Ponder's top two
/// logits were at most 0.17 apart; a problem nearer a tie than this is no fair check.
const MIN_MARGIN: f32 = 0.25;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn models() -> PathBuf {
    root().join("public/models")
}

/// The Python that has llama-cpp-python.
fn python() -> PathBuf {
    let path = std::env::var_os("PONDER_LLAMA_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
            home.join(".cache/ponder/llama-venv/bin/python")
        });
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask test` once (it builds llama-cpp-python \
         {LLAMA_CPP_PYTHON} into ~/.cache/ponder/llama-venv, a few minutes on two cores), or set \
         PONDER_LLAMA_PYTHON to a Python with llama_cpp",
        path.display()
    );
    path
}

/// The test set's problems by level, as the shipped file lists them.
fn test_problems() -> Vec<(u8, Problem)> {
    let set = shipped_sets()
        .expect("the shipped sets")
        .into_iter()
        .find(|s| s.name == "test")
        .expect("a test set");
    let levels: Vec<u8> = set.problems.iter().map(|p| p.level.number()).collect();
    levels
        .into_iter()
        .zip(set.problems().expect("problems"))
        .collect()
}

/// Runs `scripts/NAME` in the llama.cpp environment with `request` on its stdin, and
/// returns the JSON it prints.
fn python_json(name: &str, request: &Value) -> Value {
    let script = root().join("scripts").join(name);
    let mut child = Command::new(python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("request written");
    let out = child.wait_with_output().expect("python ran");
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the script")
}

/// llama.cpp's greedy completions of `prompts` for each file, and the metadata it read.
fn llama_cpp(jobs: &[(PathBuf, Vec<String>)], max_tokens: usize) -> Value {
    let request = json!({
        "max_tokens": max_tokens,
        "models": jobs.iter().map(|(path, prompts)| json!({
            "path": path.to_string_lossy(),
            "prompts": prompts,
        })).collect::<Vec<_>>(),
    });
    let answer = python_json("llama_cpp_greedy.py", &request);
    assert_eq!(
        answer["llama_cpp_python"], LLAMA_CPP_PYTHON,
        "the llama-cpp-python set-up installs; rerun `cargo xtask test` to rebuild it"
    );
    answer
}

/// One greedy attempt by Ponder, and how sure its choices were.
struct Attempt {
    text: String,
    /// The smallest gap between the two largest logits at any token of the attempt (its
    /// end-of-text included): how far the nearest tie was.
    margin: f32,
}

/// Ponder's greedy completions, as `ponder generate` decodes them.
fn ponder(path: &Path, prompts: &[String], max_tokens: usize) -> Vec<Attempt> {
    let bytes = std::fs::read(path).expect("model file");
    let mut engine = Engine::new(LanguageModel::from_gguf_bytes(&bytes).expect("loads"));
    // Prompts as they are, as llama_cpp_greedy.py gives them (no chat template).
    engine.chat = false;
    let greedy = SamplingParams {
        temperature: 0.0,
        top_k: 0,
        top_p: 1.0,
    };
    prompts
        .iter()
        .map(|prompt| {
            let ids = engine.encode_prompt(prompt).expect("prompt");
            let seq = engine.start_tokens(&ids).expect("a sequence");
            let mut text = String::new();
            let generated = engine
                .generate(
                    seq,
                    &greedy,
                    DrawKey::new(0, &[0]),
                    max_tokens,
                    &mut |piece| text.push_str(piece),
                )
                .expect("generates");
            engine.release(seq);
            // The logits at every choice, from one forward over prompt and attempt.
            let mut tokens = ids.clone();
            tokens.extend(&generated);
            let transformer = &engine.model.transformer;
            let mut cache = transformer.new_cache();
            let chosen = ids.len() - 1..tokens.len();
            let out = transformer
                .forward(&mut [BatchItem {
                    cache: &mut cache,
                    tokens: &tokens,
                    wanted: Wanted {
                        logits: chosen.collect(),
                        hidden: Vec::new(),
                    },
                }])
                .expect("forward");
            let margin = out[0]
                .logits
                .iter()
                .map(|logits| {
                    let mut sorted = logits.clone();
                    sorted.sort_by(|a, b| b.total_cmp(a));
                    sorted[0] - sorted[1]
                })
                .fold(f32::INFINITY, f32::min);
            Attempt { text, margin }
        })
        .collect()
}

fn completions(model: &Value) -> Vec<String> {
    assert!(
        model.get("error").is_none(),
        "llama.cpp could not load {}: {}",
        model["path"],
        model["error"]
    );
    model["completions"]
        .as_array()
        .expect("completions")
        .iter()
        .map(|c| c.as_str().expect("text").to_string())
        .collect()
}

#[test]
fn llama_cpp_loads_every_built_in_model_and_decodes_the_steps_ponder_does() {
    let all = test_problems();
    let mut prompts = vec!["Problem: 23+28-33\n".to_string()];
    for (level, index) in PROBLEMS {
        let problem = all
            .iter()
            .filter(|(l, _)| *l == level)
            .nth(index)
            .map(|(_, p)| p)
            .expect("a problem of the level");
        prompts.push(ArithmeticTask.prompt(problem));
    }
    let jobs: Vec<(PathBuf, Vec<String>)> = FILES
        .iter()
        .map(|f| (models().join(f), prompts.clone()))
        .collect();
    let answer = llama_cpp(&jobs, MAX_TOKENS);
    for ((path, prompts), model) in jobs
        .iter()
        .zip(answer["models"].as_array().expect("models"))
    {
        let name = path.file_name().unwrap().to_string_lossy();
        let theirs = completions(model);
        let ours = ponder(path, prompts, MAX_TOKENS);
        for ((prompt, a), b) in prompts.iter().zip(&theirs).zip(&ours) {
            assert!(
                b.margin >= MIN_MARGIN,
                "{name} on {prompt:?} comes within {} of a tie: pick problems further from one \
                 (`cargo test -p ponder-train --test llama_cpp -- --ignored` lists them all)",
                b.margin
            );
            assert_eq!(
                a, &b.text,
                "{name} on {prompt:?}: llama.cpp, then Ponder (whose nearest tie was {} apart)",
                b.margin
            );
            assert!(
                b.text
                    .lines()
                    .last()
                    .is_some_and(|l| l.starts_with("Answer: ")),
                "{name} on {prompt:?} wrote no answer: {:?}",
                b.text
            );
        }
        assert_eq!(ours[0].text, "23+28=51\n51-33=18\nAnswer: 18\n", "{name}");
        // What apps show of the file, as llama.cpp reads it.
        let meta = &model["metadata"];
        assert!(
            meta["general.name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Ponder ")),
            "{name}: {meta}"
        );
        for key in [
            "general.description",
            "general.license",
            "general.size_label",
        ] {
            assert!(
                meta[key].as_str().is_some_and(|v| !v.is_empty()),
                "{name} lacks {key}"
            );
        }
        // llama.cpp prints integers as text: Q8_0 is its file type 7.
        assert_eq!(meta["general.file_type"], "7", "{name}");
        assert_eq!(meta["general.quantization_version"], "2", "{name}");
    }
}

/// Tokens of SmolLM2 decoded per prompt.
const SMOLLM2_TOKENS: usize = 24;

/// SmolLM2-135M-Instruct, which `cargo xtask test` fetches (or `PONDER_SMOLLM2`).
fn smollm2() -> PathBuf {
    std::env::var_os("PONDER_SMOLLM2")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
            home.join(".cache/ponder/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        })
}

/// A third-party model in the quantization llama.cpp users download most, Q4_K_M, made
/// by llama.cpp itself from SmolLM2-135M-Instruct Q4_1: Q4_K and Q6_K where a row is whole
/// super-blocks of 256, Q5_0 and Q8_0 where it is not (SmolLM2's width is 576). Ponder
/// reads every one of these types with its own kernels (ponder_model's blocks.rs), and
/// its greedy completions equal llama.cpp's.
#[test]
fn smollm2_in_q4_k_m_decodes_as_llama_cpp_does() {
    let source = smollm2();
    assert!(
        source.is_file(),
        "{} is missing: run `cargo xtask test` once to fetch it, or set PONDER_SMOLLM2",
        source.display()
    );
    let dir = std::env::temp_dir().join(format!("ponder-q4km-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let path = dir.join("SmolLM2-135M-Instruct.Q4_K_M.gguf");
    // llama.cpp's own quantizer (LLAMA_FTYPE_MOSTLY_Q4_K_M is 15), allowed to start from
    // an already quantized file.
    let quantize = format!(
        "import ctypes, llama_cpp\n\
         p = llama_cpp.llama_model_quantize_default_params()\n\
         p.ftype = 15\n\
         p.allow_requantize = True\n\
         assert llama_cpp.llama_model_quantize({:?}.encode(), {:?}.encode(), ctypes.byref(p)) == 0\n",
        source.to_string_lossy(),
        path.to_string_lossy()
    );
    let out = Command::new(python())
        .args(["-c", &quantize])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "llama.cpp's quantizer failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&path).expect("the quantized file");
    let file = ponder_model::gguf::GgufFile::read(&bytes).expect("gguf");
    for ty in ["Q4_K", "Q6_K", "Q5_0", "Q8_0"] {
        assert!(
            file.tensors().iter().any(|t| t.ty.name() == ty),
            "llama.cpp's Q4_K_M of SmolLM2 has no {ty} tensor"
        );
    }
    // Prompts on which Ponder's choices never come near a tie (see the margin below):
    // llama.cpp quantizes the activations of a K-type product per 256 values where Ponder
    // does per 32, so on a near-tie the two may part ways without either being wrong (on
    // "Water boils at" Ponder, llama.cpp and an f32 forward chose three different
    // continuations after a few tokens).
    let prompts: Vec<String> = [
        "The capital of France is Paris. The capital of Germany is",
        "The opposite of hot is",
        "1, 2, 3, 4,",
    ]
    .map(String::from)
    .to_vec();
    let answer = llama_cpp(&[(path.clone(), prompts.clone())], SMOLLM2_TOKENS);
    let theirs = completions(&answer["models"][0]);
    let ours = ponder(&path, &prompts, SMOLLM2_TOKENS);
    let _ = std::fs::remove_dir_all(&dir);
    for ((prompt, a), b) in prompts.iter().zip(&theirs).zip(&ours) {
        assert!(
            b.margin >= 0.15,
            "SmolLM2 Q4_K_M on {prompt:?} comes within {} of a tie: choose another prompt",
            b.margin
        );
        assert_eq!(
            a, &b.text,
            "SmolLM2 Q4_K_M on {prompt:?}: llama.cpp, then Ponder (whose nearest tie was {} apart)",
            b.margin
        );
        println!(
            "{prompt:?}: equal over {} characters, nearest tie {:.3}",
            a.len(),
            b.margin
        );
    }
}

/// How far an engine's logits are from a float64 forward: the largest difference and the
/// root mean square over the positions' logits.
fn distance(engine: &[Vec<f64>], reference: &[Vec<f64>]) -> (f64, f64) {
    let (mut worst, mut squares, mut n) = (0f64, 0f64, 0usize);
    for (e, r) in engine.iter().zip(reference) {
        for (a, b) in e.iter().zip(r) {
            worst = worst.max((a - b).abs());
            squares += (a - b) * (a - b);
            n += 1;
        }
    }
    (worst, (squares / n.max(1) as f64).sqrt())
}

fn rows(value: &Value) -> Vec<Vec<f64>> {
    value
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            row.as_array()
                .expect("a row")
                .iter()
                .map(|v| v.as_f64().expect("a number"))
                .collect()
        })
        .collect()
}

/// Ponder's logits and llama.cpp's against a float64 forward of the same file
/// (`scripts/float64_reference.py`: weights dequantized by llama.cpp's Python reader,
/// activations never rounded), on SmolLM2 and on the built-in S. Both engines round the
/// activations to 8 bits per block of 32 before a quantized product, so both stay a
/// fraction of a logit away; the test prints how far each is, holds Ponder to within
/// 1.5 times llama.cpp's root mean square error (a Ponder that rounded worse would show
/// here), and checks every engine picks the reference's likeliest token. The GPU engine
/// gives the CPU engine's logits bit for bit (ponder-gpu's tests), so these are its errors too.
#[test]
fn logits_stay_near_a_float64_forward_as_llama_cpps_do() {
    let cases = [
        (
            smollm2(),
            vec![
                1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 28, 4405,
            ],
        ),
        (
            models().join("ponder-s.gguf"),
            "Problem: 23+28-33\n23+28=51\n"
                .bytes()
                .map(u32::from)
                .collect(),
        ),
    ];
    for (path, tokens) in cases {
        let positions: Vec<usize> = vec![0, tokens.len() / 2, tokens.len() - 1];
        let answer = python_json(
            "float64_reference.py",
            &json!({
                "model": path.to_string_lossy(),
                "tokens": tokens,
                "positions": positions,
                "llama_cpp": true,
            }),
        );
        let reference = rows(&answer["reference"]);
        let theirs = rows(&answer["llama_cpp"]);
        let bytes = std::fs::read(&path).expect("model file");
        let model = LanguageModel::from_gguf_bytes(&bytes).expect("loads");
        let mut cache = model.transformer.new_cache();
        let ours: Vec<Vec<f64>> = model
            .transformer
            .forward(&mut [BatchItem {
                cache: &mut cache,
                tokens: &tokens,
                wanted: Wanted {
                    logits: positions.clone(),
                    hidden: Vec::new(),
                },
            }])
            .expect("forward")
            .swap_remove(0)
            .logits
            .into_iter()
            .map(|row| row.into_iter().map(f64::from).collect())
            .collect();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let (our_worst, our_rms) = distance(&ours, &reference);
        let (their_worst, their_rms) = distance(&theirs, &reference);
        println!(
            "{name}, positions {positions:?}: Ponder max {our_worst:.4}, rms {our_rms:.4}; \
             llama.cpp max {their_worst:.4}, rms {their_rms:.4} (logits)"
        );
        let argmax = |row: &Vec<f64>| {
            (0..row.len())
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(0)
        };
        for (i, r) in reference.iter().enumerate() {
            assert_eq!(
                argmax(&ours[i]),
                argmax(r),
                "{name}: Ponder at position {}",
                positions[i]
            );
            assert_eq!(
                argmax(&theirs[i]),
                argmax(r),
                "{name}: llama.cpp at position {}",
                positions[i]
            );
        }
        assert!(
            our_rms <= 1.5 * their_rms,
            "{name}: Ponder's logits are {our_rms} (rms) from float64, llama.cpp's {their_rms}"
        );
    }
}

/// How often the engines' greedy attempts agree over the whole test set (ignored: about
/// a minute per file). Prints the counts per file and level, and writes every attempt of
/// both engines to `llama_cpp_agreement.json` in Cargo's temporary folder for tests.
#[test]
#[ignore]
fn agreement_over_the_test_set() {
    let all = test_problems();
    let prompts: Vec<String> = all.iter().map(|(_, p)| ArithmeticTask.prompt(p)).collect();
    let jobs: Vec<(PathBuf, Vec<String>)> = FILES
        .iter()
        .map(|f| (models().join(f), prompts.clone()))
        .collect();
    let answer = llama_cpp(&jobs, MAX_TOKENS);
    let mut written = Vec::new();
    for ((path, prompts), model) in jobs
        .iter()
        .zip(answer["models"].as_array().expect("models"))
    {
        let theirs = completions(model);
        let ours = ponder(path, prompts, MAX_TOKENS);
        written.push(json!({
            "file": path.file_name().unwrap().to_string_lossy(),
            "prompts": prompts,
            "llama_cpp": theirs,
            "ponder": ours.iter().map(|a| &a.text).collect::<Vec<_>>(),
            "ponder_margin": ours.iter().map(|a| a.margin).collect::<Vec<_>>(),
        }));
        let mut same = [0usize; 5];
        let mut total = [0usize; 5];
        let mut first_differences = Vec::new();
        for (i, ((level, _), (a, b))) in all.iter().zip(theirs.iter().zip(&ours)).enumerate() {
            let l = usize::from(*level) - 1;
            total[l] += 1;
            if *a == b.text {
                same[l] += 1;
            } else if first_differences.len() < 5 {
                first_differences.push(format!(
                    "#{i} {:?}: {a:?} vs {:?} (nearest tie {})",
                    prompts[i], b.text, b.margin
                ));
            }
        }
        println!(
            "{}: {} of {} the same; by level {:?} of {:?}",
            path.file_name().unwrap().to_string_lossy(),
            same.iter().sum::<usize>(),
            total.iter().sum::<usize>(),
            same,
            total
        );
        for d in first_differences {
            println!("  {d}");
        }
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("llama_cpp_agreement.json");
    std::fs::write(&out, Value::from(written).to_string()).expect("written");
    println!("every attempt: {}", out.display());
}
