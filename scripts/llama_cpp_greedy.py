"""Greedy completions by llama.cpp itself (through llama-cpp-python), for the test that
checks the built-in models load and decode there as they do in Ponder
(crates/train/tests/llama_cpp.rs).

Reads a JSON request on stdin:
    {"max_tokens": N, "models": [{"path": FILE, "prompts": [TEXT, ...]}, ...]}
and prints one JSON object:
    {"llama_cpp_python": VERSION,
     "models": [{"path": FILE, "metadata": {KEY: VALUE}, "completions": [TEXT, ...]}]}
A model llama.cpp cannot load is reported as {"path": FILE, "error": MESSAGE}, so one
broken file does not hide the others.

One thread and greedy sampling (temperature 0), so a completion depends only on the
file and llama.cpp's arithmetic. Prompts are used as they are: the built-in models have
no chat template and no BOS token (their metadata says so, and llama.cpp follows it).
"""

import json
import sys

import llama_cpp


def complete(path, prompts, max_tokens):
    try:
        model = llama_cpp.Llama(
            model_path=path, n_ctx=0, n_threads=1, n_batch=512, verbose=False
        )
    except Exception as e:
        # llama-cpp-python's exception says only that loading failed; loading again with
        # llama.cpp's log on stderr shows why (the test prints stderr when it fails).
        try:
            llama_cpp.Llama(model_path=path, n_ctx=0, n_threads=1, verbose=True)
        except Exception:
            pass
        return {
            "path": path,
            "error": f"{type(e).__name__}: {e} (llama.cpp's log is on stderr)",
        }
    completions = []
    for prompt in prompts:
        # Each prompt starts from an empty cache, as Ponder's each sequence does.
        model.reset()
        out = model.create_completion(
            prompt, max_tokens=max_tokens, temperature=0.0, top_k=1
        )
        completions.append(out["choices"][0]["text"])
    return {"path": path, "metadata": model.metadata, "completions": completions}


def main():
    request = json.load(sys.stdin)
    models = [
        complete(m["path"], m["prompts"], request["max_tokens"])
        for m in request["models"]
    ]
    json.dump(
        {"llama_cpp_python": llama_cpp.__version__, "models": models},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
