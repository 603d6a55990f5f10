#!/usr/bin/env python3
"""Writes the reference token ids that crates/model/tests/tokenizer_reference.rs checks.

The ids come from Hugging Face `tokenizers` (the Rust library behind `transformers`' fast
tokenizers), an implementation independent of Ponder's: the vocabulary and merges are read
from the SmolLM2 GGUF with the `gguf` package and assembled into an HF BPE tokenizer with
the pre-tokenizer each `tokenizer.ggml.pre` value stands for:

- "smollm" (SmolLM2's own tokenizer.json): Digits(individual_digits) then
  ByteLevel(add_prefix_space=False), i.e. the GPT-2 regex;
- "qwen2" (Qwen2's tokenizer.json): Split(the Qwen2 regex, isolated) then a ByteLevel that
  only maps bytes. Built on SmolLM2's vocabulary, since the point is the split, not the
  vocabulary.

Control and user-defined tokens are added as special tokens. Each case records the
pre-tokenizer's pieces of the whole text ("pieces"), the ids with special tokens parsed
("ids"), with them encoded as plain text ("ids_plain", HF's
`encode_special_tokens`), HF's decoding of "ids" ("decoded"), and whether every byte of
the text has a symbol in the vocabulary ("lossless"; SmolLM2 lacks a few control bytes).

Usage (needs `pip install tokenizers gguf`):

    python scripts/tokenizer_reference.py [--gguf PATH] [--out PATH] [--random N --seed S]
"""

import argparse
import json
import os
import random
import sys

import gguf
import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

DEFAULT_GGUF = os.environ.get(
    "PONDER_SMOLLM2",
    os.path.expanduser("~/.cache/ponder/models/SmolLM2-135M-Instruct.Q4_1.gguf"),
)
DEFAULT_OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..", "crates", "model", "tests", "fixtures", "smollm2_tokenizer.json",
)

QWEN2_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Hand-picked cases: each line exercises a rule of the pre-tokenizers or the byte mapping.
TEXTS = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure they'll say it's fine, but we'd've known. YOU'RE RIGHT, I'LL GO.",
    "def add(a, b):\n    return a + b\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += x[i];\n}",
    '{"name": "Ponder", "version": [0, 1, 2], "ok": true}',
    "12345",
    "3.14159",
    "12*7=84\n",
    "What is 1234 + 5678? The answer is 6912.",
    "Phone: +1 (555) 010-9999, price $1,299.99, 50% off, 1e-9, 0x1F",
    "2024-06-01T12:34:56Z",
    "x  y   z    w",
    "trailing spaces   ",
    "   leading spaces",
    "tabs\tand\t\ttabs",
    "line one\nline two\n\nline four\n\n\n",
    "windows\r\nline\r\n\r\nends",
    " \n \n  mixed \t\n whitespace",
    "\n",
    " ",
    "",
    "naïve café résumé, Straße, ſ, ǅ, ʰ",
    "Привет, мир! Как дела?",
    "你好，世界！我们今天学习数学。",
    "日本語のテキスト、カタカナとひらがな。",
    "한국어 문장입니다.",
    "مرحبا بالعالم ٣٤٥",
    "नमस्ते दुनिया",
    "Emoji: 😀🎉👍🏽 👨‍👩‍👧 🇫🇷 ❤️",
    "Math: ∑ᵢ xᵢ² ≤ ∞, √2 ≈ 1.414, Ⅻ, ½, ¹²³, １２３",
    "controls: \x00\x01\x1b[31m\x7f \x1c\x1f end",
    "odd spaces:\u00a0\u00a0a\u2003b\u3000c\u200bd\ufeffe\u2028f\u0085g",
    "combining: e\u0301 a\u0308 \u0301alone",
    "x'S y'ſ z'LL 'd'D x'ſa I'Ma it'Sa 'ẞa",
    "https://example.com/path?q=1&r=two#frag",
    "**Bold** _it_ `code` # Heading\n- item\n> quote",
    "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "<|im_start|>user\nWhat is 12*7?<|im_end|>\n<|im_start|>assistant\n84<|im_end|>\n",
    "<|endoftext|>Once upon a time<|endoftext|>",
    "<|im_start|><|im_end|><|im_end|> <|im_sta <|im_end <repo_name>x<file_sep>",
    "Step 1: 6 * 7 = 42.\nStep 2: 42 - 2 = 40.\nThe answer is \\boxed{40}.",
]


def random_texts(count, seed):
    """Random strings over the character classes the pre-tokenizers treat differently.

    Stays in the Basic Multilingual Plane's long-assigned blocks plus emoji so that the
    Unicode versions of the two implementations' tables cannot disagree.
    """
    rng = random.Random(seed)
    pools = [
        [chr(c) for c in range(0x20, 0x7F)],
        list(" \t\n\r'0123456789sStTlLdD"),
        [chr(c) for c in range(0x00, 0x20)] + ["\x7f", "\u00a0", "\u3000", "\u2028", "\u0085"],
        [chr(c) for c in range(0xA1, 0x250)],
        [chr(c) for c in range(0x300, 0x370)],
        [chr(c) for c in range(0x400, 0x500)],
        [chr(c) for c in range(0x4E00, 0x4F00)],
        [chr(c) for c in range(0x1F300, 0x1F650)],
        ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|im_", " <", "|>"],
    ]
    weights = [30, 25, 8, 10, 4, 6, 6, 6, 5]
    texts = []
    for _ in range(count):
        length = rng.randrange(1, 40)
        parts = [rng.choice(rng.choices(pools, weights)[0]) for _ in range(length)]
        texts.append("".join(parts))
    return texts


def field(reader, key):
    value = reader.fields.get(key)
    if value is None:
        sys.exit(f"{key} is missing from the GGUF file")
    return value.contents()


def build(tokens, types, merges, pre):
    vocab = {}
    for i, token in enumerate(tokens):
        vocab.setdefault(token, i)
    pairs = [tuple(m.split(" ", 1)) for m in merges]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=pairs, fuse_unk=False, byte_fallback=False))
    if pre == "smollm":
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ])
    elif pre == "qwen2":
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
    else:
        raise ValueError(pre)
    tok.decoder = decoders.ByteLevel()
    specials = [t for t, ty in zip(tokens, types) if ty in (3, 4)]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    return tok


def bytes_to_unicode():
    """GPT-2's byte-to-character table (openai/gpt-2 encoder.py)."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1))
          + list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def cases(tok, texts, tokens):
    # SmolLM2's vocabulary lacks the symbols of 21 bytes (e.g. 0x04, 0x1d, 0xf1); HF drops
    # such bytes, so text containing them cannot decode back to itself. "lossless" marks
    # the cases that must.
    symbols = set(tokens)
    byte_chars = bytes_to_unicode()
    char_bytes = {c: b for b, c in byte_chars.items()}
    out = []
    for text in texts:
        lossless = all(byte_chars[b] in symbols for b in text.encode("utf-8"))
        tok.encode_special_tokens = False
        ids = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = True
        plain = tok.encode(text, add_special_tokens=False).ids
        decoded = tok.decode(ids, skip_special_tokens=False)
        # The pre-tokenizer's split of the whole text (special tokens not parsed), mapped
        # back from byte-level spelling to the text's own characters.
        pieces = [bytes(char_bytes[c] for c in piece).decode("utf-8")
                  for piece, _ in tok.pre_tokenizer.pre_tokenize_str(text)]
        out.append({"text": text, "lossless": lossless, "pieces": pieces, "ids": ids,
                    "ids_plain": plain, "decoded": decoded})
    return out


def to_json(fixture):
    """JSON with one case per line, so that a regenerated fixture diffs readably."""
    lines = []
    for key, value in fixture.items():
        if isinstance(value, list):
            items = ",\n".join("  " + json.dumps(item, ensure_ascii=True) for item in value)
            lines.append(f"{json.dumps(key)}: [\n{items}\n]")
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=True)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", default=DEFAULT_GGUF)
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--random", type=int, default=60, metavar="N",
                        help="random strings after the hand-picked ones (a larger set written "
                             "elsewhere can be checked with PONDER_TOKENIZER_FIXTURE)")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    reader = gguf.GGUFReader(args.gguf)
    pre = field(reader, "tokenizer.ggml.pre")
    if pre != "smollm":
        sys.exit(f"expected SmolLM2 (tokenizer.ggml.pre = smollm), found {pre!r}")
    tokens = list(field(reader, "tokenizer.ggml.tokens"))
    types = [int(t) for t in field(reader, "tokenizer.ggml.token_type")]
    merges = list(field(reader, "tokenizer.ggml.merges"))

    texts = TEXTS + random_texts(args.random, seed=args.seed)
    fixture = {
        "about": "Reference ids from Hugging Face tokenizers; regenerate with "
                 "scripts/tokenizer_reference.py",
        "source": os.path.basename(args.gguf),
        "tokenizers_version": tokenizers.__version__,
        "vocab_size": len(tokens),
        "merges": len(merges),
        "cases": cases(build(tokens, types, merges, "smollm"), texts, tokens),
        "qwen2_cases": cases(build(tokens, types, merges, "qwen2"), texts, tokens),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(to_json(fixture))
    print(f"wrote {len(fixture['cases'])} + {len(fixture['qwen2_cases'])} cases to {args.out}")


if __name__ == "__main__":
    main()
