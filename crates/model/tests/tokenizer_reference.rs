//! Ponder's tokenizer against Hugging Face `tokenizers` on SmolLM2's real vocabulary.
//!
//! `tests/fixtures/smollm2_tokenizer.json` holds what HF produces for 104 texts
//! (hand-picked edge cases and seeded random strings), written by
//! `scripts/tokenizer_reference.py` from the same GGUF file: the pre-tokenizer's pieces, the
//! ids with special tokens parsed and not, and the decoding. Tolerance: none; every piece
//! and id must match, for both the SmolLM2 pre-tokenizer (the file's own) and the Qwen2 one
//! (built here from the file's vocabulary with `pre = "qwen2"`).
//!
//! For a wider one-off comparison, write a large fixture elsewhere
//! (`scripts/tokenizer_reference.py --random 20000 --seed 7 --out /tmp/t.json`) and run
//! this test with `PONDER_TOKENIZER_FIXTURE=/tmp/t.json`.

mod common;

use ponder_model::gguf::{GgufFile, MetadataValue};
use ponder_model::tokenizer::{ChatMessage, Tokenizer, TokenizerParts};
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/smollm2_tokenizer.json");

struct Case {
    text: String,
    /// Every byte of the text has a symbol in the vocabulary, so decoding must give it back.
    lossless: bool,
    /// HF's pre-tokenizer split of the whole text, special tokens not parsed.
    pieces: Vec<String>,
    ids: Vec<u32>,
    ids_plain: Vec<u32>,
    decoded: String,
}

/// The committed fixture, or a larger one written by the script with `--random N --out ..`
/// and named by `PONDER_TOKENIZER_FIXTURE`, for a one-off fuzz comparison.
fn fixture() -> Value {
    let text = match std::env::var_os("PONDER_TOKENIZER_FIXTURE") {
        Some(path) => std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read PONDER_TOKENIZER_FIXTURE {path:?}: {e}")),
        None => FIXTURE.to_string(),
    };
    serde_json::from_str(&text).expect("the fixture is valid JSON")
}

fn cases(fixture: &Value, key: &str) -> Vec<Case> {
    let ids = |case: &Value, key: &str| -> Vec<u32> {
        case[key]
            .as_array()
            .unwrap_or_else(|| panic!("case without `{key}`: {case}"))
            .iter()
            .map(|id| {
                id.as_u64()
                    .and_then(|id| u32::try_from(id).ok())
                    .expect("a token id")
            })
            .collect()
    };
    fixture[key]
        .as_array()
        .unwrap_or_else(|| panic!("the fixture has no `{key}` list"))
        .iter()
        .map(|case| Case {
            text: case["text"].as_str().expect("case text").to_string(),
            lossless: case["lossless"].as_bool().expect("case losslessness"),
            pieces: case["pieces"]
                .as_array()
                .expect("case pieces")
                .iter()
                .map(|piece| piece.as_str().expect("a piece").to_string())
                .collect(),
            ids: ids(case, "ids"),
            ids_plain: ids(case, "ids_plain"),
            decoded: case["decoded"].as_str().expect("case decoding").to_string(),
        })
        .collect()
}

/// Checks every case and reports all mismatches at once, so one run shows whether a
/// failure is a single edge case or a systematic difference.
fn check(tokenizer: &Tokenizer, cases: &[Case], label: &str) {
    assert!(
        cases.len() >= 40,
        "{label}: only {} cases in the fixture",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in cases {
        let pieces = tokenizer.pre_tokenizer().split(&case.text);
        if pieces != case.pieces {
            failures.push(format!(
                "{:?} (pre-tokens):\n  ours {pieces:?}\n  HF   {:?}",
                case.text, case.pieces
            ));
        }
        let ids = tokenizer.encode(&case.text, true);
        if ids != case.ids {
            failures.push(format!(
                "{:?} (special parsed):\n  ours {ids:?}\n  HF   {:?}",
                case.text, case.ids
            ));
        }
        let plain = tokenizer.encode(&case.text, false);
        if plain != case.ids_plain {
            failures.push(format!(
                "{:?} (plain):\n  ours {plain:?}\n  HF   {:?}",
                case.text, case.ids_plain
            ));
        }
        // SmolLM2's vocabulary has no symbol for 21 bytes (0x04, 0x1d, 0xf1, ...); both
        // implementations drop them, so only "lossless" texts must come back unchanged.
        for (which, ids) in [("ids", &case.ids), ("ids_plain", &case.ids_plain)] {
            let text = tokenizer.decode(ids);
            if text != case.decoded || (case.lossless && text != case.text) {
                failures.push(format!(
                    "decode of {which} for {:?} gave {text:?}, HF gave {:?}",
                    case.text, case.decoded
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{label}: {} of {} cases differ from Hugging Face tokenizers:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn smollm2() -> (GgufFile, Tokenizer) {
    let file = GgufFile::read(&common::smollm2_bytes()).expect("SmolLM2 parses");
    let tokenizer = Tokenizer::from_gguf(&file).expect("SmolLM2's tokenizer loads");
    (file, tokenizer)
}

#[test]
fn smollm2_matches_hugging_face_tokenizers() {
    let fixture = fixture();
    let (_, tokenizer) = smollm2();
    assert_eq!(
        Some(tokenizer.vocab_size() as u64),
        fixture["vocab_size"].as_u64()
    );
    check(&tokenizer, &cases(&fixture, "cases"), "smollm");
}

#[test]
fn qwen2_pre_tokenizer_matches_hugging_face_tokenizers() {
    let fixture = fixture();
    let (file, _) = smollm2();
    let strings = |key: &str| -> Vec<String> {
        let items = file
            .metadata(key)
            .and_then(MetadataValue::as_array)
            .expect(key);
        items
            .iter()
            .map(|s| s.as_str().expect(key).to_string())
            .collect()
    };
    let types = file
        .metadata("tokenizer.ggml.token_type")
        .and_then(MetadataValue::as_array);
    let parts = TokenizerParts {
        model: "gpt2".into(),
        pre: "qwen2".into(),
        tokens: strings("tokenizer.ggml.tokens"),
        token_types: types
            .expect("token types")
            .iter()
            .map(|t| {
                t.as_i64()
                    .and_then(|t| i32::try_from(t).ok())
                    .expect("a token type")
            })
            .collect(),
        merges: strings("tokenizer.ggml.merges"),
        ..TokenizerParts::default()
    };
    let tokenizer = Tokenizer::from_parts(parts).expect("the qwen2 variant builds");
    check(&tokenizer, &cases(&fixture, "qwen2_cases"), "qwen2");
}

#[test]
fn smollm2_metadata_and_chat_template() {
    let (_, tokenizer) = smollm2();
    assert_eq!(tokenizer.bos_id(), tokenizer.token_id("<|im_start|>"));
    assert_eq!(tokenizer.eos_id(), tokenizer.token_id("<|im_end|>"));
    assert!(!tokenizer.add_bos());
    assert!(tokenizer.is_instruct());
    let end = tokenizer.token_id("<|im_end|>").expect("ChatML end token");
    assert!(tokenizer.is_special(end));
    assert_eq!(tokenizer.piece(end), Some("<|im_end|>"));

    let chat = [ChatMessage {
        role: "user".into(),
        content: "What is 12*7?".into(),
    }];
    let prompt = tokenizer
        .apply_chat_template(&chat, true)
        .expect("ChatML renders");
    // What `transformers`' apply_chat_template gives for this chat with SmolLM2.
    assert_eq!(
        prompt,
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging \
         Face<|im_end|>\n<|im_start|>user\nWhat is 12*7?<|im_end|>\n<|im_start|>assistant\n"
    );
    let ids = tokenizer.encode(&prompt, true);
    assert_eq!(
        ids.iter().filter(|&&id| tokenizer.is_special(id)).count(),
        5
    );
    assert_eq!(tokenizer.decode(&ids), prompt);
}
