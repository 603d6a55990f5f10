//! Pre-tokenization: the regex split that runs before BPE, one scanner per
//! `tokenizer.ggml.pre` value.
//!
//! The reference implementations (Hugging Face `tokenizers`, llama.cpp) use backtracking
//! regexes with a negative lookahead (`\s+(?!\S)`), which the `regex` crate cannot express.
//! Rather than pull in a backtracking engine (large in a wasm bundle, and its Unicode tables
//! would be a second source of truth), each pattern is written out as a scanner that tries
//! the alternatives in the pattern's order, exactly as a leftmost-first regex does. The few
//! places where the regex backtracks are resolved in closed form and commented where they
//! happen.
//!
//! Character classes follow the regex definitions, not Rust's `char` helpers:
//! `\p{L}` is general category L (Lu, Ll, Lt, Lm, Lo), which differs from
//! `char::is_alphabetic` (that one includes marks and Nl); `\p{N}` is Nd, Nl, No; `\s` is the
//! Unicode White_Space property, which is `char::is_whitespace` (checked against Oniguruma,
//! the engine behind `tokenizers`: U+001C..U+001F and U+200B are *not* `\s`). The category
//! tables (`unicode-general-category`, Unicode 16) agree with the Oniguruma in `tokenizers`
//! 0.23 on every character the reference fuzzing tried; characters assigned in a later
//! Unicode version than both know are where the two could part.

use unicode_general_category::{get_general_category, GeneralCategory as Gc};

/// The pre-tokenizer families Ponder supports, named by `tokenizer.ggml.pre`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreTokenizer {
    /// GPT-2's pattern:
    /// ```text
    /// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    /// ```
    Gpt2,
    /// SmolLM (HF `Sequence[Digits(individual_digits), ByteLevel]`): every `\p{N}` character
    /// is its own piece, and the GPT-2 pattern runs on the text between them.
    SmolLm,
    /// Qwen2's pattern, where a letter run takes one leading symbol and digits go singly:
    /// ```text
    /// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    /// ```
    Qwen2,
}

impl PreTokenizer {
    /// The family for a `tokenizer.ggml.pre` value, or `None` when Ponder does not know it.
    pub fn from_name(name: &str) -> Option<PreTokenizer> {
        match name {
            "gpt2" | "default" => Some(PreTokenizer::Gpt2),
            "smollm" => Some(PreTokenizer::SmolLm),
            "qwen2" => Some(PreTokenizer::Qwen2),
            _ => None,
        }
    }

    /// Splits `text` into pieces that BPE encodes independently. The pieces cover `text`
    /// exactly, in order, so concatenating them gives `text` back.
    pub fn split<'a>(&self, text: &'a str) -> Vec<&'a str> {
        let mut pieces = Vec::new();
        match self {
            PreTokenizer::Gpt2 => scan(text, gpt2_piece_end, &mut pieces),
            PreTokenizer::Qwen2 => scan(text, qwen2_piece_end, &mut pieces),
            PreTokenizer::SmolLm => {
                // The digit split runs first, so the GPT-2 pattern (and its lookahead) never
                // sees across a digit: "a  1" gives "a", "  ", "1", not "a", " ", " 1".
                // HF's `Digits` tests `char::is_numeric` (category N per the Rust standard
                // library's Unicode tables), not the regex engine's `\p{N}`; the two differ
                // for characters new in the latest Unicode (U+11DE5, Tolong Siki digit five,
                // Unicode 17), so the same test is used here.
                let mut start = 0;
                for (at, c) in text.char_indices() {
                    if c.is_numeric() {
                        scan(&text[start..at], gpt2_piece_end, &mut pieces);
                        let end = at + c.len_utf8();
                        pieces.push(&text[at..end]);
                        start = end;
                    }
                }
                scan(&text[start..], gpt2_piece_end, &mut pieces);
            }
        }
        pieces
    }
}

/// Cuts `text` into consecutive pieces, `piece_end(text, at)` giving where the piece that
/// starts at `at` ends.
fn scan<'a>(text: &'a str, piece_end: fn(&str, usize) -> usize, pieces: &mut Vec<&'a str>) {
    let mut at = 0;
    while at < text.len() {
        let end = piece_end(text, at);
        // Every position matches some alternative, so `end > at`; the `max` keeps a
        // scanner bug from looping forever instead of producing a one-character piece.
        let end = end.max(at + char_at(text, at).map_or(1, char::len_utf8));
        pieces.push(&text[at..end]);
        at = end;
    }
}

/// The GPT-2 pattern at byte offset `at` (which must be a char boundary inside `s`).
fn gpt2_piece_end(s: &str, at: usize) -> usize {
    if let Some(len) = contraction_len(&s[at..], false) {
        return at + len;
    }
    let Some(c0) = char_at(s, at) else {
        return s.len();
    };
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`, in that order. A space is in none of
    // the three classes, so the branch without the optional space can only match when
    // `c0` is not a space: one look at the char after the optional space decides.
    let body = if c0 == ' ' { at + 1 } else { at };
    if let Some(c) = char_at(s, body) {
        for class in [is_letter as fn(char) -> bool, is_number, is_other] {
            if class(c) {
                return run_end(s, body, class);
            }
        }
    }
    whitespace_end(s, at)
}

/// The Qwen2 pattern at byte offset `at`.
fn qwen2_piece_end(s: &str, at: usize) -> usize {
    if let Some(len) = contraction_len(&s[at..], true) {
        return at + len;
    }
    let Some(c0) = char_at(s, at) else {
        return s.len();
    };
    let next = at + c0.len_utf8();
    // `[^\r\n\p{L}\p{N}]?\p{L}+`: one leading non-letter (a space, a tab, punctuation)
    // joins the word that follows it.
    if is_letter(c0) {
        return run_end(s, at, is_letter);
    }
    if !is_newline(c0) && !is_number(c0) && char_at(s, next).is_some_and(is_letter) {
        return run_end(s, next, is_letter);
    }
    // `\p{N}`: digits one at a time.
    if is_number(c0) {
        return next;
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    let body = if c0 == ' ' { next } else { at };
    if char_at(s, body).is_some_and(is_other) {
        return run_end(s, run_end(s, body, is_other), is_newline);
    }
    // `\s*[\r\n]+`: `\s*` takes the whole whitespace run, then backtracks to the last
    // line break in it, which `[\r\n]+` takes; so the piece ends just after that break.
    let run = run_end(s, at, char::is_whitespace);
    if let Some(last_break) = s[at..run].rfind(['\r', '\n']) {
        return at + last_break + 1;
    }
    whitespace_end(s, at)
}

/// `\s+(?!\S)|\s+` at `at`, where `s[at..]` starts with whitespace.
fn whitespace_end(s: &str, at: usize) -> usize {
    let run = run_end(s, at, char::is_whitespace);
    if run == s.len() {
        return run;
    }
    // Followed by a non-space, `\s+(?!\S)` backtracks one char so that the last space is
    // left to prefix the next word (" world"); a single space cannot give one back, and
    // `\s+` takes it alone.
    match s[at..run].char_indices().next_back() {
        Some((last, _)) if last > 0 => at + last,
        _ => run,
    }
}

/// The byte length of `'s|'t|'re|'ve|'m|'ll|'d` at the start of `s`, if it matches.
fn contraction_len(s: &str, case_insensitive: bool) -> Option<usize> {
    let rest = s.strip_prefix('\'')?;
    // Simple case folding is all that can turn another char into one of these letters, and
    // the only such chars are the ASCII capitals and U+017F LONG S (which folds to 's';
    // Oniguruma's `(?i)` matches it, checked against `tokenizers`).
    let fold = |c: char| match c {
        'ſ' if case_insensitive => 's',
        c if case_insensitive => c.to_ascii_lowercase(),
        c => c,
    };
    for suffix in ["s", "t", "re", "ve", "m", "ll", "d"] {
        let mut chars = rest.chars();
        let mut len = 1;
        let matched = suffix.chars().all(|want| match chars.next() {
            Some(c) if fold(c) == want => {
                len += c.len_utf8();
                true
            }
            _ => false,
        });
        if matched {
            return Some(len);
        }
    }
    None
}

fn char_at(s: &str, at: usize) -> Option<char> {
    s.get(at..).and_then(|rest| rest.chars().next())
}

/// The byte offset just past the run of chars satisfying `class` that starts at `at`.
fn run_end(s: &str, at: usize, class: fn(char) -> bool) -> usize {
    s[at..]
        .find(|c: char| !class(c))
        .map_or(s.len(), |len| at + len)
}

/// `\p{L}`
pub fn is_letter(c: char) -> bool {
    matches!(
        get_general_category(c),
        Gc::UppercaseLetter
            | Gc::LowercaseLetter
            | Gc::TitlecaseLetter
            | Gc::ModifierLetter
            | Gc::OtherLetter
    )
}

/// `\p{N}`
pub fn is_number(c: char) -> bool {
    matches!(
        get_general_category(c),
        Gc::DecimalNumber | Gc::LetterNumber | Gc::OtherNumber
    )
}

/// `[^\s\p{L}\p{N}]`
fn is_other(c: char) -> bool {
    !c.is_whitespace() && !is_letter(c) && !is_number(c)
}

fn is_newline(c: char) -> bool {
    c == '\r' || c == '\n'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(pre: PreTokenizer, text: &str) -> Vec<&str> {
        pre.split(text)
    }

    #[test]
    fn gpt2_splits_words_with_their_leading_space() {
        assert_eq!(
            split(PreTokenizer::Gpt2, "Hello world, it's 2024!"),
            ["Hello", " world", ",", " it", "'s", " 2024", "!"]
        );
    }

    #[test]
    fn gpt2_whitespace_runs_leave_one_space_for_the_next_word() {
        assert_eq!(split(PreTokenizer::Gpt2, "a   b"), ["a", "  ", " b"]);
        assert_eq!(split(PreTokenizer::Gpt2, "a\n\nb"), ["a", "\n", "\n", "b"]);
        assert_eq!(split(PreTokenizer::Gpt2, "a \n b"), ["a", " \n", " b"]);
        assert_eq!(split(PreTokenizer::Gpt2, "a\tb"), ["a", "\t", "b"]);
        assert_eq!(split(PreTokenizer::Gpt2, "end   "), ["end", "   "]);
        assert_eq!(split(PreTokenizer::Gpt2, " "), [" "]);
        assert_eq!(split(PreTokenizer::Gpt2, ""), Vec::<&str>::new());
    }

    #[test]
    fn gpt2_contractions_are_case_sensitive_and_split_greedily() {
        assert_eq!(split(PreTokenizer::Gpt2, "I'M"), ["I", "'", "M"]);
        assert_eq!(split(PreTokenizer::Gpt2, "'sa"), ["'s", "a"]);
        assert_eq!(split(PreTokenizer::Gpt2, "we'll"), ["we", "'ll"]);
    }

    #[test]
    fn letters_follow_the_general_category_not_is_alphabetic() {
        // U+0345 is alphabetic but a mark (Mn); U+2167 (Ⅷ) is alphabetic but Nl.
        assert!('\u{345}'.is_alphabetic() && !is_letter('\u{345}'));
        assert!('Ⅷ'.is_alphabetic() && !is_letter('Ⅷ') && is_number('Ⅷ'));
        assert!(is_letter('ǅ') && is_letter('ʰ') && is_letter('ª') && is_letter('中'));
        assert_eq!(split(PreTokenizer::Gpt2, "x²y"), ["x", "²", "y"]);
    }

    #[test]
    fn smollm_splits_every_digit_before_the_gpt2_pattern() {
        assert_eq!(
            split(PreTokenizer::SmolLm, "12*7=84\n"),
            ["1", "2", "*", "7", "=", "8", "4", "\n"]
        );
        assert_eq!(
            split(PreTokenizer::SmolLm, "pi 3.14"),
            ["pi", " ", "3", ".", "1", "4"]
        );
        assert_eq!(split(PreTokenizer::SmolLm, "a  1"), ["a", "  ", "1"]);
    }

    #[test]
    fn qwen2_joins_one_leading_symbol_to_a_word() {
        assert_eq!(
            split(PreTokenizer::Qwen2, "Hello, world.net\tx"),
            ["Hello", ",", " world", ".net", "\tx"]
        );
        assert_eq!(
            split(PreTokenizer::Qwen2, "abc  123"),
            ["abc", " ", " ", "1", "2", "3"]
        );
    }

    #[test]
    fn qwen2_keeps_line_breaks_with_punctuation_and_whitespace() {
        assert_eq!(split(PreTokenizer::Qwen2, "x;\n\ny"), ["x", ";\n\n", "y"]);
        assert_eq!(
            split(PreTokenizer::Qwen2, "x \n \n  y"),
            ["x", " \n \n", " ", " y"]
        );
        assert_eq!(split(PreTokenizer::Qwen2, "a\r\n"), ["a", "\r\n"]);
    }

    #[test]
    fn qwen2_contractions_ignore_case() {
        assert_eq!(
            split(PreTokenizer::Qwen2, "I'M x'ſ"),
            ["I", "'M", " x", "'ſ"]
        );
    }

    #[test]
    fn nonbreaking_and_odd_spaces_follow_white_space() {
        // U+00A0 is \s; U+001C and U+200B are not, so they are "other" symbols.
        assert_eq!(
            split(PreTokenizer::Qwen2, "a\u{a0}\u{a0}b"),
            ["a", "\u{a0}", "\u{a0}b"]
        );
        assert_eq!(
            split(PreTokenizer::Qwen2, "a\u{1c}\u{1c}b"),
            ["a", "\u{1c}\u{1c}", "b"]
        );
        assert_eq!(
            split(PreTokenizer::Gpt2, "a\u{200b}b"),
            ["a", "\u{200b}", "b"]
        );
    }

    #[test]
    fn unknown_names_are_rejected() {
        assert_eq!(PreTokenizer::from_name("llama-bpe"), None);
        assert_eq!(PreTokenizer::from_name("default"), Some(PreTokenizer::Gpt2));
    }
}
