#!/usr/bin/env python3
"""Trains Ponder's L on a GPU (PyTorch), for `ponder-train import` to export.

The model is `crates/train/src/model.rs` written again in PyTorch: the same llama
architecture (pre-norm blocks, RMS norm, rotary positions in llama.cpp's interleaved
layout, SiLU-gated feed-forward, embedding tied to the output), the same initialisation
and the same variable names, so the weights it writes load into that model unchanged.
`--check REF.safetensors` (written by `ponder-train reference MODEL.gguf REF`) compares
this forward with the crate's on the crate's weights before any training time is spent.

The training rows are the crate's own (`ponder-train corpus`, which holds out the shipped
test and validation problems); the loss and optimiser are the crate's trainer's:
next-token cross-entropy on every position, AdamW (betas 0.9/0.95, decoupled decay on
matrices only), linear warm-up then cosine decay to a tenth, gradient clipping at 1.
Training runs for a wall-clock budget counted from the script's start: after a few timed
steps the step count that fits what is left is fixed, and the schedule runs over exactly
that many steps.

Writes into --out: `weights-N.safetensors` (F32, split so no file exceeds --shard-mib),
rewritten at every --save-every-s and at the end, and `train-log.json` (settings, steps,
tokens, seconds, losses).

    python3 scripts/train_l_gpu.py --rows rows-*.bin --minutes 6.5 --out OUT
    ponder-train import large public/models/ponder-l.gguf OUT/weights-*.safetensors
"""

import argparse
import glob
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

SCRIPT_STARTED = time.time()

# Config::small() and Config::large() in crates/train/src/model.rs.
CONFIGS = {
    "small": dict(vocab=257, hidden=128, layers=4, heads=4, ffn=512, context=256),
    "large": dict(vocab=257, hidden=256, layers=8, heads=8, ffn=1280, context=256),
}
ROPE_BASE = 10_000.0
RMS_EPS = 1e-5
BLOCK_VARS = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
              "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]


def shapes(cfg):
    """Every variable's name and shape, matrices [out, in], as Model::new makes them."""
    h, f = cfg["hidden"], cfg["ffn"]
    out = {"token_embd": (cfg["vocab"], h), "output_norm": (h,)}
    for i in range(cfg["layers"]):
        p = f"blk.{i}."
        out.update({p + "attn_norm": (h,), p + "attn_q": (h, h), p + "attn_k": (h, h),
                    p + "attn_v": (h, h), p + "attn_output": (h, h), p + "ffn_norm": (h,),
                    p + "ffn_gate": (f, h), p + "ffn_up": (f, h), p + "ffn_down": (h, f)})
    return out


class Model(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.names = list(shapes(cfg))
        residual = 0.02 / math.sqrt(2.0 * cfg["layers"])
        for name, shape in shapes(cfg).items():
            if len(shape) == 1:
                t = torch.ones(shape)
            elif name.endswith(("attn_output", "ffn_down")):
                t = torch.randn(shape) * residual
            else:
                t = torch.randn(shape) * 0.02
            self.register_parameter(name.replace(".", "_"), torch.nn.Parameter(t))
        d = cfg["hidden"] // cfg["heads"]
        inv_freq = 1.0 / (ROPE_BASE ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
        angles = torch.arange(cfg["context"], dtype=torch.float32)[:, None] * inv_freq[None]
        self.register_buffer("cos", torch.cos(angles), persistent=False)
        self.register_buffer("sin", torch.sin(angles), persistent=False)

    def w(self, name):
        return getattr(self, name.replace(".", "_"))

    def named_weights(self):
        return {n: self.w(n) for n in self.names}

    @staticmethod
    def rms_norm(x, w):
        x32 = x.float()
        y = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + RMS_EPS)
        return (y * w.float()).to(x.dtype)

    def rope(self, x, t):
        # Interleaved pairs (x[2i], x[2i+1]) rotate by position * inv_freq[i], as
        # candle's rope_i and the runtime do.
        cos, sin = self.cos[:t].to(x.dtype), self.sin[:t].to(x.dtype)
        x0, x1 = x[..., 0::2], x[..., 1::2]
        return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), -1).flatten(-2)

    def forward(self, tokens):
        b, t = tokens.shape
        cfg = self.cfg
        heads, d = cfg["heads"], cfg["hidden"] // cfg["heads"]
        emb = self.w("token_embd")
        x = F.embedding(tokens, emb)
        for i in range(cfg["layers"]):
            p = f"blk.{i}."
            n = self.rms_norm(x, self.w(p + "attn_norm"))

            def split(name):
                return F.linear(n, self.w(p + name)).view(b, t, heads, d).transpose(1, 2)

            q = self.rope(split("attn_q"), t)
            k = self.rope(split("attn_k"), t)
            v = split("attn_v")
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            y = y.transpose(1, 2).reshape(b, t, heads * d)
            x = x + F.linear(y, self.w(p + "attn_output"))
            n = self.rms_norm(x, self.w(p + "ffn_norm"))
            g = F.linear(n, self.w(p + "ffn_gate"))
            u = F.linear(n, self.w(p + "ffn_up"))
            x = x + F.linear(F.silu(g) * u, self.w(p + "ffn_down"))
        x = self.rms_norm(x, self.w("output_norm"))
        return F.linear(x, emb)


def load_safetensors(path):
    from safetensors.torch import load_file
    return load_file(path)


def check(args, device):
    """Compares this forward with the crate's logits in a reference file; exits 1 if
    they differ by more than --tolerance."""
    ref = load_safetensors(args.check)
    width = ref["token_embd"].shape[1]
    size = next(s for s, c in CONFIGS.items() if c["hidden"] == width)
    cfg = dict(CONFIGS[size])
    cfg["layers"] = 1 + max(int(k.split(".")[1]) for k in ref if k.startswith("blk."))
    model = Model(cfg).to(device)
    with torch.no_grad():
        for name, p in model.named_weights().items():
            p.copy_(ref[name].to(device))
        logits = model(ref["check.tokens"].long().to(device)).float().cpu()
    want = ref["check.logits"]
    diff = (logits - want).abs().max().item()
    scale = want.abs().max().item()
    ok = diff <= args.tolerance
    print(f"check {args.check}: {size} ({cfg['layers']} layers) on {device}: largest logit "
          f"difference {diff:.3g} (largest logit {scale:.3g}, tolerance {args.tolerance}): "
          f"{'same' if ok else 'DIFFERENT'}", flush=True)
    return ok


def save_weights(model, out, shard_mib):
    """F32 safetensors of every weight, split so no file exceeds shard_mib."""
    from safetensors.torch import save_file
    limit = shard_mib * 1024 * 1024 - 64 * 1024
    shards, current, size = [], {}, 0
    for name, p in model.named_weights().items():
        t = p.detach().float().cpu().contiguous()
        nbytes = t.numel() * 4
        if current and size + nbytes > limit:
            shards.append(current)
            current, size = {}, 0
        current[name] = t
        size += nbytes
    shards.append(current)
    for old in glob.glob(os.path.join(out, "weights-*.safetensors")):
        os.remove(old)
    for i, shard in enumerate(shards):
        tmp = os.path.join(out, f"weights-{i}.tmp")
        save_file(shard, tmp)
        os.replace(tmp, os.path.join(out, f"weights-{i}.safetensors"))
    return len(shards)


def learning_rate(args, step, steps):
    """trainer::learning_rate: linear warm-up, then cosine decay to a tenth."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = min(1.0, (step - args.warmup) / max(1, steps - args.warmup))
    return args.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def load_rows(patterns, seq):
    files = sorted(f for p in patterns for f in glob.glob(p))
    if not files:
        sys.exit(f"no row files match {patterns}: run `ponder-train corpus` first")
    parts = []
    for f in files:
        a = np.fromfile(f, dtype="<u2")
        if a.size % (seq + 1):
            sys.exit(f"{f} is not whole rows of {seq + 1} tokens: written with another --seq?")
        parts.append(a.reshape(-1, seq + 1))
    return np.concatenate(parts), files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=CONFIGS, default="large")
    ap.add_argument("--rows", nargs="+", help="row files of `ponder-train corpus`")
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--batch", type=int, default=512, help="rows per step")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--minutes", type=float,
                    help="wall-clock budget from the script's start (loading and compiling "
                         "included), so a slow compile shortens training, not the budget")
    ap.add_argument("--steps", type=int, help="a fixed step count instead of --minutes")
    ap.add_argument("--timing-steps", type=int, default=30,
                    help="steps timed (after the first few) to fit --minutes")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--compile", action="store_true", help="torch.compile the step")
    ap.add_argument("--save-every-s", type=float, default=120.0)
    ap.add_argument("--shard-mib", type=float, default=15.0)
    ap.add_argument("--out", default="out")
    ap.add_argument("--check", help="reference file of `ponder-train reference`; only check")
    ap.add_argument("--tolerance", type=float, default=2e-3)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    if args.check:
        sys.exit(0 if check(args, device) else 1)
    if not args.rows or (args.minutes is None) == (args.steps is None):
        sys.exit("give --rows and exactly one of --minutes and --steps")
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    cfg = CONFIGS[args.size]
    assert args.seq <= cfg["context"], "rows longer than the model's context"

    started_load = time.time()
    rows_np, files = load_rows(args.rows, args.seq)
    rows = torch.from_numpy(rows_np.astype(np.int16)).to(device)  # ids < 32768
    print(f"{len(rows)} rows of {args.seq + 1} tokens ({rows.numel() / 1e6:.0f} M tokens) "
          f"from {len(files)} files in {time.time() - started_load:.1f} s", flush=True)

    model = Model(cfg).to(device)
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.size}: {params} parameters on {device}"
          f" ({torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'})", flush=True)
    matrices = [p for p in model.parameters() if p.dim() > 1]
    vectors = [p for p in model.parameters() if p.dim() == 1]
    opt = torch.optim.AdamW(
        [{"params": matrices, "weight_decay": args.weight_decay},
         {"params": vectors, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.95), eps=1e-8,
        **({"fused": True} if device.type == "cuda" else {}))
    use_bf16 = device.type == "cuda"

    def loss_of(batch):
        inputs, targets = batch[:, :-1].long(), batch[:, 1:].long()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
            logits = model(inputs)
        return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),
                               targets.reshape(-1))

    step_loss = loss_of
    if args.compile:
        try:
            compiled = torch.compile(loss_of)
            t0 = time.time()
            compiled(rows[: args.batch]).backward()  # compiles; these gradients are dropped
            opt.zero_grad(set_to_none=True)
            step_loss = compiled
            print(f"compiled in {time.time() - t0:.0f} s", flush=True)
        except Exception as e:  # a failed compile costs the run nothing but its time
            opt.zero_grad(set_to_none=True)
            print(f"torch.compile failed, training eagerly: {e!r}"[:2000], flush=True)

    order = torch.randperm(len(rows), device=device)
    steps = args.steps
    planned_steps = steps if steps is not None else 10**9
    log = {"size": args.size, "parameters": params, "config": cfg, "settings": vars(args),
           "row_files": [os.path.basename(f) for f in files], "unique_rows": len(rows),
           "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
           "torch": torch.__version__, "losses": []}
    tokens_per_step = args.batch * args.seq
    started = time.time()
    last_save = started
    timing_from = None
    step = 0
    cursor = 0
    epochs = 0
    while step < planned_steps:
        if cursor + args.batch > len(rows):
            order = torch.randperm(len(rows), device=device)
            cursor = 0
            epochs += 1
        batch = rows[order[cursor: cursor + args.batch]]
        cursor += args.batch
        lr = learning_rate(args, step, planned_steps)
        for g in opt.param_groups:
            g["lr"] = lr
        loss = step_loss(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        if steps is None and step == 5:
            if device.type == "cuda":
                torch.cuda.synchronize()
            timing_from = time.time()
        if steps is None and step == 5 + args.timing_steps:
            if device.type == "cuda":
                torch.cuda.synchronize()
            per_step = (time.time() - timing_from) / args.timing_steps
            left = args.minutes * 60 - (time.time() - SCRIPT_STARTED)
            planned_steps = step + max(0, int(left / per_step * 0.97))
            print(f"{per_step * 1000:.1f} ms per step ({tokens_per_step / per_step / 1e6:.2f} M "
                  f"tokens/s): {planned_steps} steps fit {args.minutes} minutes", flush=True)
            if planned_steps <= args.warmup:
                print("warning: the budget ends inside the warm-up", flush=True)
        if step % 50 == 0 or step == planned_steps:
            value = loss.item()
            log["losses"].append([step, round(value, 5), round(lr, 7)])
            print(f"step {step}/{planned_steps if planned_steps < 10**9 else '?'}  loss {value:.4f}"
                  f"  lr {lr:.2e}  {time.time() - started:.0f} s", flush=True)
            if not math.isfinite(value):
                sys.exit("the loss is not finite: stopping")
        if time.time() - last_save > args.save_every_s:
            save_weights(model, args.out, args.shard_mib)
            last_save = time.time()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.time() - started
    shards = save_weights(model, args.out, args.shard_mib)
    log.update(steps=step, tokens=step * tokens_per_step, seconds=round(seconds, 1),
               script_seconds=round(time.time() - SCRIPT_STARTED, 1),
               epochs_started=epochs + 1, unique_tokens=len(rows) * args.seq,
               tokens_per_second=round(step * tokens_per_step / seconds),
               weight_files=shards, final_loss=log["losses"][-1][1] if log["losses"] else None)
    with open(os.path.join(args.out, "train-log.json"), "w") as f:
        json.dump(log, f, indent=1)
    print(f"done: {step} steps, {step * tokens_per_step / 1e6:.1f} M tokens in {seconds:.0f} s; "
          f"{shards} weight files in {args.out}", flush=True)


if __name__ == "__main__":
    main()
