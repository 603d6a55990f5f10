"""A float64 forward of a llama- or qwen2-family GGUF model, independent of Ponder's code,
for the test that measures how far Ponder's logits and llama.cpp's are from exact
arithmetic (crates/train/tests/float64_reference.rs).

The weights are dequantized by the `gguf` package (llama.cpp's own Python reader) and
every operation runs in float64 on numpy, with the activations never rounded to 8 bits
as both engines round them before a quantized product. So the difference between an
engine's logits and these is that engine's rounding, and nothing else.

Reads a JSON request on stdin:
    {"model": FILE, "tokens": [ID, ...], "positions": [I, ...], "llama_cpp": true|false}
and prints one JSON object:
    {"reference": [[LOGIT, ...] per position],
     "llama_cpp": [[LOGIT, ...] per position]}   (when asked; one thread, CPU)
"""

import json
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


class Model:
    def __init__(self, path):
        reader = GGUFReader(path)
        self.meta = {}
        for field in reader.fields.values():
            if len(field.types) == 1 and field.data:
                value = field.parts[field.data[0]]
                if field.types[0].name == "STRING":
                    value = bytes(value).decode("utf-8")
                else:
                    value = value.tolist()[0] if len(value) == 1 else value.tolist()
                self.meta[field.name] = value
        self.tensors = {t.name: t for t in reader.tensors}
        arch = self.meta["general.architecture"]
        self.arch = arch
        self.layers = self.meta[f"{arch}.block_count"]
        self.heads = self.meta[f"{arch}.attention.head_count"]
        self.kv_heads = self.meta.get(f"{arch}.attention.head_count_kv", self.heads)
        self.eps = self.meta.get(f"{arch}.attention.layer_norm_rms_epsilon", 1e-5)
        self.base = self.meta.get(f"{arch}.rope.freq_base", 10000.0)
        # llama pairs adjacent dimensions; qwen2 (NeoX) pairs i with i + d/2.
        self.neox = arch == "qwen2"

    def weight(self, name):
        t = self.tensors[name]
        values = dequantize(t.data, t.tensor_type).astype(np.float64)
        # GGUF lists dimensions fastest first: the last is the number of rows.
        rows = int(t.shape[-1]) if len(t.shape) > 1 else 1
        return values.reshape(rows, -1) if len(t.shape) > 1 else values.reshape(-1)

    def has(self, name):
        return name in self.tensors


def rms_norm(x, weight, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rope(x, positions, base, neox):
    # x: [tokens, heads, dim]
    dim = x.shape[-1]
    inv = base ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)
    angles = np.outer(positions, inv)  # [tokens, dim / 2]
    cos = np.cos(angles)[:, None, :]
    sin = np.sin(angles)[:, None, :]
    if neox:
        a, b = x[..., : dim // 2], x[..., dim // 2 :]
        return np.concatenate([a * cos - b * sin, a * sin + b * cos], axis=-1)
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * cos - b * sin
    out[..., 1::2] = a * sin + b * cos
    return out


def forward(m, tokens):
    embedding = m.weight("token_embd.weight")
    x = embedding[tokens]
    n = len(tokens)
    positions = np.arange(n, dtype=np.float64)
    head_dim = x.shape[1] // m.heads
    group = m.heads // m.kv_heads
    mask = np.triu(np.full((n, n), -np.inf), k=1)
    for layer in range(m.layers):
        p = f"blk.{layer}."
        h = rms_norm(x, m.weight(p + "attn_norm.weight"), m.eps)
        q = h @ m.weight(p + "attn_q.weight").T
        k = h @ m.weight(p + "attn_k.weight").T
        v = h @ m.weight(p + "attn_v.weight").T
        if m.has(p + "attn_q.bias"):
            q += m.weight(p + "attn_q.bias")
            k += m.weight(p + "attn_k.bias")
            v += m.weight(p + "attn_v.bias")
        q = rope(q.reshape(n, m.heads, head_dim), positions, m.base, m.neox)
        k = rope(k.reshape(n, m.kv_heads, head_dim), positions, m.base, m.neox)
        v = v.reshape(n, m.kv_heads, head_dim)
        out = np.empty((n, m.heads, head_dim))
        for head in range(m.heads):
            kv = head // group
            scores = q[:, head] @ k[:, kv].T / np.sqrt(head_dim) + mask
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            out[:, head] = scores @ v[:, kv]
        x = x + out.reshape(n, -1) @ m.weight(p + "attn_output.weight").T
        h = rms_norm(x, m.weight(p + "ffn_norm.weight"), m.eps)
        gate = h @ m.weight(p + "ffn_gate.weight").T
        up = h @ m.weight(p + "ffn_up.weight").T
        x = x + (gate / (1.0 + np.exp(-gate)) * up) @ m.weight(p + "ffn_down.weight").T
    x = rms_norm(x, m.weight("output_norm.weight"), m.eps)
    output = m.weight("output.weight") if m.has("output.weight") else embedding
    return x @ output.T


def llama_cpp_logits(path, tokens):
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=path, n_ctx=max(64, len(tokens)), n_threads=1, logits_all=True, verbose=False
    )
    llm.eval(tokens)
    return np.array(llm.scores[: len(tokens)], dtype=np.float64)


def main():
    request = json.load(sys.stdin)
    tokens = request["tokens"]
    positions = request["positions"]
    reference = forward(Model(request["model"]), tokens)
    answer = {"reference": [reference[i].tolist() for i in positions]}
    if request.get("llama_cpp"):
        theirs = llama_cpp_logits(request["model"], tokens)
        answer["llama_cpp"] = [theirs[i].tolist() for i in positions]
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
