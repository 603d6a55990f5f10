//! The tokenizer on arbitrary text and arbitrary token ids: encoding never panics,
//! decoding gives the text back, and decoding any ids never panics.
//!
//! Run: `cd crates/model/fuzz && cargo +nightly fuzz run tokenizer`

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ponder_model::tokenizer::{Tokenizer, TokenizerParts};

/// A small byte-level BPE vocabulary: all 256 byte tokens, a few merges, specials.
fn tokenizer() -> &'static Tokenizer {
    static T: OnceLock<Tokenizer> = OnceLock::new();
    T.get_or_init(|| {
        let mut tokens: Vec<String> = (0u8..=255).map(|b| byte_piece(b)).collect();
        let mut merges = Vec::new();
        for (a, b) in [("t", "h"), ("th", "e"), ("Ġ", "the"), ("1", "2"), ("Ċ", "Ċ")] {
            merges.push(format!("{a} {b}"));
            tokens.push(format!("{a}{b}"));
        }
        let mut token_types = vec![1; tokens.len()];
        for special in ["<|im_start|>", "<|im_end|>"] {
            tokens.push(special.to_string());
            token_types.push(3);
        }
        Tokenizer::from_parts(TokenizerParts {
            model: "gpt2".into(),
            pre: "smollm".into(),
            tokens,
            token_types,
            merges,
            bos_id: None,
            eos_id: None,
            add_bos: false,
            chat_template: None,
        })
        .expect("the fuzz vocabulary is valid")
    })
}

/// GPT-2's printable stand-in for a byte.
fn byte_piece(b: u8) -> String {
    let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    if printable {
        char::from(b).to_string()
    } else {
        // Non-printable bytes map to U+0100 onwards, in byte order.
        let rank = (0u8..b)
            .filter(|&x| !((b'!'..=b'~').contains(&x) || (0xA1..=0xAC).contains(&x) || (0xAE..=0xFF).contains(&x)))
            .count() as u32;
        char::from_u32(0x100 + rank).map(String::from).unwrap_or_default()
    }
}

fuzz_target!(|data: &[u8]| {
    let t = tokenizer();
    if let Ok(text) = std::str::from_utf8(data) {
        let ids = t.encode(text, false);
        assert_eq!(t.decode(&ids), text);
        let _ = t.encode(text, true);
    }
    let ids: Vec<u32> = data.chunks(2).map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0))).collect();
    let _ = t.decode(&ids);
});
