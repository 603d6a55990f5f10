//! The element types that GGUF readers require of the standard array keys.
//!
//! A GGUF array stores its element type even when it is empty, and llama.cpp checks it:
//! an empty `tokenizer.ggml.merges` stored as an array of u8 stops it with "invalid gguf
//! type for tokenizer.ggml.merges", though there is no merge to misread. Ponder's reader
//! refuses the same files, so a file that Ponder loads also loads there, and its writer
//! writes these types, empty arrays included.

use crate::gguf::ValueType;

/// Each key with the element types llama.cpp's vocabulary loader accepts; the first is
/// the one Ponder writes.
const ARRAY_KEYS: &[(&str, &[ValueType])] = &[
    ("tokenizer.ggml.tokens", &[ValueType::String]),
    ("tokenizer.ggml.merges", &[ValueType::String]),
    ("tokenizer.ggml.token_type", &[ValueType::I32]),
    ("tokenizer.ggml.scores", &[ValueType::F32, ValueType::I32]),
    ("tokenizer.ggml.suppress_tokens", &[ValueType::I32]),
    (
        "tokenizer.ggml.precompiled_charsmap",
        &[ValueType::U8, ValueType::I8],
    ),
];

/// The element types readers accept in the array under `key`, the one to write first;
/// `None` for a key the format sets no rule for.
pub fn array_item_types(key: &str) -> Option<&'static [ValueType]> {
    ARRAY_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, types)| *types)
}

/// "an array of string", "an array of f32 or i32": what a key requires, for messages.
pub fn describe(types: &[ValueType]) -> String {
    let names: Vec<&str> = types.iter().map(|t| t.name()).collect();
    format!("an array of {}", names.join(" or "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tokenizer_arrays_have_the_types_llama_cpp_checks() {
        assert_eq!(
            array_item_types("tokenizer.ggml.merges"),
            Some(&[ValueType::String][..])
        );
        assert_eq!(
            array_item_types("tokenizer.ggml.token_type"),
            Some(&[ValueType::I32][..])
        );
        assert_eq!(array_item_types("general.tags"), None);
        assert_eq!(
            describe(array_item_types("tokenizer.ggml.scores").unwrap()),
            "an array of f32 or i32"
        );
    }
}
