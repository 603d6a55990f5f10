//! GPT-2's byte-to-character mapping (`bytes_to_unicode` in OpenAI's `encoder.py`).
//!
//! Byte-level BPE vocabularies store every token as a string of *stand-in characters*, one
//! per byte: printable Latin-1 bytes stand for themselves and the other 68 bytes (controls,
//! space, DEL, NBSP, soft hyphen) are moved to U+0100.. so that no token contains
//! whitespace or a control character. That is why a leading space shows up as `Ġ` (U+0120)
//! in the vocabulary. Any byte string, valid UTF-8 or not, therefore has a spelling in
//! vocabulary characters, which is what makes the encoding lossless.

/// Bytes that map to themselves: `!`..`~`, `¡`..`¬`, `®`..`ÿ`.
const fn is_printable(b: u32) -> bool {
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae
}

/// The stand-in character for each byte.
const BYTE_TO_CHAR: [char; 256] = {
    let mut table = ['\0'; 256];
    let mut shifted = 0;
    let mut b = 0;
    while b < 256 {
        let code = if is_printable(b) {
            b
        } else {
            shifted += 1;
            0x100 + shifted - 1
        };
        table[b as usize] = match char::from_u32(code) {
            Some(c) => c,
            None => panic!("stand-in characters are below U+0200"),
        };
        b += 1;
    }
    table
};

/// The 68 non-printable bytes, in the order their stand-ins U+0100.. were handed out.
const SHIFTED_BYTES: [u8; 68] = {
    let mut table = [0u8; 68];
    let mut n = 0;
    let mut b = 0;
    while b < 256 {
        if !is_printable(b) {
            table[n] = b as u8;
            n += 1;
        }
        b += 1;
    }
    table
};

/// The stand-in character for `byte`.
pub fn byte_to_char(byte: u8) -> char {
    BYTE_TO_CHAR[byte as usize]
}

/// The byte a stand-in character stands for, or `None` for a character outside the
/// mapping (which a byte-level vocabulary should not contain).
pub fn char_to_byte(c: char) -> Option<u8> {
    let code = c as u32;
    if code < 0x100 {
        is_printable(code).then_some(code as u8)
    } else {
        SHIFTED_BYTES.get((code - 0x100) as usize).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_is_a_bijection_matching_gpt2() {
        for b in 0..=255u8 {
            assert_eq!(char_to_byte(byte_to_char(b)), Some(b));
        }
        assert_eq!(byte_to_char(b' '), 'Ġ');
        assert_eq!(byte_to_char(b'\n'), 'Ċ');
        assert_eq!(byte_to_char(b'\t'), 'ĉ');
        assert_eq!(byte_to_char(b'a'), 'a');
        assert_eq!(byte_to_char(0xad), 'Ń');
        assert_eq!(char_to_byte('a'), Some(b'a'));
        assert_eq!(char_to_byte(' '), None);
        assert_eq!(char_to_byte('\u{144}'), None);
    }
}
