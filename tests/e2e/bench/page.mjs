// One benchmark run in the browser: Ponder's wasm runtime (`?run=ponder`) or wllama, which
// is llama.cpp compiled to wasm (`?run=wllama`), on the same GGUF file, one thread each, CPU
// only; or Ponder's GPU engine on the page's WebGPU adapter beside its CPU engine
// (`?run=gpu&steps=N`). The page stores its result (or an error) in window.benchResult.

import init, { bench, bench_prompt } from './pkg/bench_web.js';
import { Wllama } from './wllama/index.js';

const params = new URLSearchParams(location.search);
const run = params.get('run');
const modelUrl = new URL(params.get('model'), location.href).href;
const PROMPT_TOKENS = Number(params.get('prompt') || 128);
const DECODE_TOKENS = Number(params.get('decode') || 64);
const BATCH = Number(params.get('batch') || 16);
window.benchResult = null;

async function modelBytes() {
  const response = await fetch(modelUrl);
  if (!response.ok) throw new Error(`fetching ${modelUrl}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function ponder() {
  const wasm = await init();
  const bytes = await modelBytes();
  const report = JSON.parse(bench(bytes, PROMPT_TOKENS, DECODE_TOKENS, BATCH));
  // Wasm memory only grows, so its size now is the run's peak.
  report.peak_memory_bytes = wasm.memory.buffer.byteLength;
  report.threads = 1;
  return report;
}

async function wllama() {
  await init();
  const prompt = bench_prompt(await modelBytes(), PROMPT_TOKENS);
  const w = new Wllama({ default: new URL('./wllama/wasm/wllama.wasm', location.href).href }, { suppressNativeLog: true });
  const t0 = performance.now();
  await w.loadModelFromUrl(modelUrl, { n_threads: 1, n_gpu_layers: 0, n_ctx: 1024, n_batch: 512 });
  const loadSeconds = (performance.now() - t0) / 1000;
  const result = await w.createCompletion({ prompt, max_tokens: DECODE_TOKENS, temperature: 0, ignore_eos: true });
  const t = result.timings;
  if (!t) throw new Error('wllama returned no timings');
  return {
    load_seconds: loadSeconds,
    prompt_tokens: t.prompt_n,
    prefill_tokens_per_second: t.prompt_per_second,
    decode_tokens: t.predicted_n,
    decode_tokens_per_second: t.predicted_per_second,
    threads: 1,
  };
}

async function gpu() {
  const { default: initGpu, bench_gpu: benchGpu } = await import('./pkg-gpu/gpu_bench_web.js');
  await initGpu();
  return JSON.parse(await benchGpu(await modelBytes(), Number(params.get('steps') || 4)));
}

const runs = { ponder, wllama, gpu };
(runs[run] ? runs[run]() : Promise.reject(new Error(`unknown run ${run}`)))
  .then((r) => { window.benchResult = r; document.getElementById('out').textContent = JSON.stringify(r, null, 1); })
  .catch((e) => { window.benchResult = { error: String((e && e.stack) || e) }; document.getElementById('out').textContent = window.benchResult.error; });
