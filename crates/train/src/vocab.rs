//! The built-in models' vocabulary: one token per byte, plus an end-of-text token.
//!
//! Byte-level tokens in GPT-2's printable spelling and no merges, so the exported GGUF is
//! an ordinary `gpt2` tokenizer that `ponder-model` (and llama.cpp) read unchanged, and
//! every digit, operator and newline of the arithmetic format is its own token: small
//! transformers learn arithmetic far more easily when each digit is one token.

/// Tokens: the 256 bytes, then end-of-text.
pub const VOCAB_SIZE: usize = 257;
/// Ends a training document and the model's output.
pub const END_OF_TEXT: u32 = 256;
pub const END_OF_TEXT_TEXT: &str = "<|endoftext|>";

/// GPT-2's printable stand-in character for a byte (the byte-level BPE convention).
pub fn byte_char(b: u8) -> char {
    let printable = |x: u8| (b'!'..=b'~').contains(&x) || (0xA1..=0xAC).contains(&x) || x >= 0xAE;
    if printable(b) {
        return char::from(b);
    }
    let rank = (0..b).filter(|&x| !printable(x)).count() as u32;
    // 0x100 + rank is always a valid scalar value (rank < 256).
    char::from_u32(0x100 + rank).unwrap_or('\u{100}')
}

/// The vocabulary's token strings, in id order.
pub fn tokens() -> Vec<String> {
    let mut t: Vec<String> = (0..=255u8).map(|b| byte_char(b).to_string()).collect();
    t.push(END_OF_TEXT_TEXT.to_string());
    t
}

/// Token ids of a text (its bytes).
pub fn encode(text: &str) -> Vec<u32> {
    text.bytes().map(u32::from).collect()
}

/// The text of token ids (invalid UTF-8 replaced); the end-of-text token adds nothing.
pub fn decode(ids: &[u32]) -> String {
    let bytes: Vec<u8> = ids.iter().filter_map(|&t| u8::try_from(t).ok()).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_chars_are_distinct_and_printable_bytes_are_themselves() {
        let all: std::collections::HashSet<char> = (0..=255u8).map(byte_char).collect();
        assert_eq!(all.len(), 256);
        assert_eq!(byte_char(b'7'), '7');
        assert_eq!(byte_char(b' '), 'Ġ');
        assert_eq!(byte_char(b'\n'), 'Ċ');
    }
}
