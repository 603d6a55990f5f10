// The Models view's "your own model": a GGUF by address or from disk is checked, kept in
// the browser with the storage shown, and removable; and each way it can fail says why:
// an address that answers 404, a server that does not allow other sites (CORS), an
// architecture or a tensor type the reader refuses, a file larger than the storage the
// browser grants or the memory the device reports.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, SITE } from './browser.mjs';
import { finished, votesOf } from './race.mjs';

const DIST = process.env.PONDER_DIST;
const CLI = process.env.PONDER_CLI;
const SMOLLM2 = process.env.PONDER_SMOLLM2;
if (!DIST || !CLI || !SMOLLM2) {
  throw new Error('PONDER_DIST, PONDER_CLI and PONDER_SMOLLM2 are not set: run these tests through `cargo xtask test`');
}

/** A GGUF file (version 3) with string and u32 metadata and raw tensors. */
function gguf(metadata, tensors = []) {
  const parts = [];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  const str = (s) => { const b = Buffer.from(s, 'utf8'); u64(b.length); parts.push(b); };
  parts.push(Buffer.from('GGUF'));
  u32(3);
  u64(tensors.length);
  u64(metadata.length);
  for (const [key, type, value] of metadata) {
    str(key);
    if (type === 'string') { u32(8); str(value); } else { u32(4); u32(value); }
  }
  let offset = 0;
  for (const t of tensors) {
    str(t.name);
    u32(t.dims.length);
    t.dims.forEach(u64);
    u32(t.type);
    u64(offset);
    offset += Math.ceil(t.data.length / 32) * 32;
  }
  const head = Buffer.concat(parts);
  const pad = Buffer.alloc((32 - (head.length % 32)) % 32);
  const data = tensors.map((t) => Buffer.concat([t.data, Buffer.alloc((32 - (t.data.length % 32)) % 32)]));
  return Buffer.concat([head, pad, ...data]);
}

const LLAMA = [
  ['general.architecture', 'string', 'llama'],
  ['llama.block_count', 'u32', 1],
  ['llama.context_length', 'u32', 64],
  ['llama.embedding_length', 'u32', 32],
  ['llama.feed_forward_length', 'u32', 64],
  ['llama.attention.head_count', 'u32', 4],
];

const FILES = {
  '/cors/ponder-s.gguf': readFileSync(join(DIST, 'models/ponder-s.gguf')),
  '/nocors/ponder-s.gguf': readFileSync(join(DIST, 'models/ponder-s.gguf')),
  '/cors/SmolLM2-135M-Instruct.Q4_1.gguf': readFileSync(SMOLLM2),
  '/cors/falcon.gguf': gguf([['general.architecture', 'string', 'falcon']]),
  // BF16 (GGML type 30): a type the reader names and refuses.
  '/cors/bf16.gguf': gguf(LLAMA, [{ name: 'token_embd.weight', dims: [32, 1], type: 30, data: Buffer.alloc(64) }]),
};

/** Another origin than the site's, as a visitor's model host is. */
let server;
let origin;
before(async () => {
  server = createServer((req, res) => {
    const body = FILES[req.url];
    const headers = req.url.startsWith('/nocors/') ? {} : { 'access-control-allow-origin': '*' };
    if (!body) {
      res.writeHead(404, headers);
      res.end('not found');
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
});

let browser;
before(async () => {
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
  server?.close();
});

/** Opens the Models view with `setup` run first in the page (to stand in for a browser). */
async function modelsView(setup) {
  const page = await browser.context.newPage();
  if (setup) await page.addInitScript(setup);
  await page.goto(new URL('?view=models', SITE).href);
  await page.getByTestId('own-model').waitFor();
  return page;
}

async function loadUrl(page, url) {
  await page.fill('[data-testid="own-url"]', url);
  await page.click('[data-testid="own-load"]');
  await page.waitForFunction(
    () => ['ready', 'failed'].includes(document.querySelector('[data-testid="own-status"]')?.dataset.state),
    null,
    { timeout: 60_000 },
  );
  const state = await page.getByTestId('own-status').getAttribute('data-state');
  const error = state === 'failed' ? await page.getByTestId('own-error').innerText() : '';
  return { state, error };
}

test('a model by address is checked, kept with the storage shown, and removable', async () => {
  const page = await modelsView();
  const { state, error } = await loadUrl(page, `${origin}/cors/ponder-s.gguf`);
  assert.equal(state, 'ready', error);
  const card = page.getByTestId('own-status').getByTestId('model-card');
  assert.match(await card.getByTestId('model-parameters').innerText(), /\d/);
  const kept = page.locator('[data-testid="own-kept-model"][data-name="ponder-s.gguf"]');
  await kept.waitFor();
  assert.match(await page.getByTestId('own-storage').innerText(), /The site uses .+ of the .+ this browser gives it/);
  // Still kept after a reload.
  await page.reload();
  await kept.waitFor();
  await kept.getByTestId('own-remove').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="own-kept-model"][data-name="ponder-s.gguf"]'));
  await page.close();
});

test('a model from disk is checked and kept', async () => {
  const page = await modelsView();
  await page.setInputFiles('[data-testid="own-file"]', join(DIST, 'models/ponder-r.gguf'));
  await page.waitForFunction(
    () => document.querySelector('[data-testid="own-status"]')?.dataset.state === 'ready',
    null,
    { timeout: 60_000 },
  );
  const kept = page.locator('[data-testid="own-kept-model"][data-name="ponder-r.gguf"]');
  await kept.waitFor();
  await kept.getByTestId('own-remove').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="own-kept-model"][data-name="ponder-r.gguf"]'));
  await page.close();
});

for (const [name, path, expected] of [
  ['an address that answers 404', '/cors/missing.gguf', /HTTP 404.*nothing is at that address/],
  ['a server that does not allow other sites', '/nocors/ponder-s.gguf', /Access-Control-Allow-Origin.*Choose a file/],
  ['an unsupported architecture', '/cors/falcon.gguf', /architecture `falcon` is not supported/],
  ['an unsupported tensor type', '/cors/bf16.gguf', /type BF16, which Ponder does not support/],
]) {
  test(`${name} says why`, async () => {
    const page = await modelsView();
    const { state, error } = await loadUrl(page, `${origin}${path}`);
    assert.equal(state, 'failed');
    assert.match(error, expected);
    await page.close();
  });
}

test('a file larger than the storage the browser grants is refused before it downloads', async () => {
  const page = await modelsView(() => {
    navigator.storage.estimate = async () => ({ usage: 100_000, quota: 600_000 });
  });
  const { state, error } = await loadUrl(page, `${origin}/cors/ponder-s.gguf`);
  assert.equal(state, 'failed');
  assert.match(error, /larger than the space this browser gives the site/);
  await page.close();
});

test("a file larger than the device's memory is refused", async () => {
  const page = await modelsView(() => {
    Object.defineProperty(Navigator.prototype, 'deviceMemory', { get: () => 0.001 });
  });
  const { state, error } = await loadUrl(page, `${origin}/cors/ponder-s.gguf`);
  assert.equal(state, 'failed');
  assert.match(error, /this device reports 0.001 GB/);
  await page.close();
});

test('a chat with SmolLM2 by address streams the answer `ponder generate --chat` gives, with its speed', async () => {
  const prompt = 'What is 12 + 30?';
  const maxTokens = 24;
  const cli = JSON.parse(execFileSync(CLI, [
    'generate', SMOLLM2, prompt, '--chat', '--json', '--max-tokens', String(maxTokens),
  ], { encoding: 'utf8' }));
  const page = await modelsView();
  const { state, error } = await loadUrl(page, `${origin}/cors/SmolLM2-135M-Instruct.Q4_1.gguf`);
  assert.equal(state, 'ready', error);
  await page.fill('[data-testid="chat-prompt"]', prompt);
  await page.fill('[data-testid="chat-max-tokens"]', String(maxTokens));
  await page.locator('[data-testid="chat-max-tokens"]').dispatchEvent('change');
  await page.click('[data-testid="chat-send"]');
  await page.waitForFunction(
    () => ['done', 'failed'].includes(document.querySelector('[data-testid="chat-state"]')?.dataset.state),
    null,
    { timeout: 120_000 },
  );
  assert.equal(await page.getByTestId('chat-state').getAttribute('data-state'), 'done');
  assert.equal(await page.getByTestId('chat-reply').textContent(), cli.text);
  const speed = await page.getByTestId('chat-speed').innerText();
  const [, tokens, rate] = speed.match(/(\d+) new tokens at ([\d.]+) tokens\/s/) ?? [];
  assert.equal(Number(tokens), cli.ids.length, speed);
  assert.ok(Number(rate) > 0, speed);
  console.log(`SmolLM2 in the page: ${speed}; answer ${JSON.stringify(cli.text)}`);
  if (process.env.PONDER_ARTIFACTS) {
    await page.screenshot({ path: join(process.env.PONDER_ARTIFACTS, 'own-model-chat.png'), fullPage: true });
  }
  // The kept model chats again without a new download.
  await page.fill('[data-testid="chat-prompt"]', 'Name a colour.');
  await page.click('[data-testid="chat-send"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="chat-state"]')?.dataset.state === 'done',
    null,
    { timeout: 120_000 },
  );
  const kept = page.locator('[data-testid="own-kept-model"][data-name="SmolLM2-135M-Instruct.Q4_1.gguf"]');
  await kept.getByTestId('own-remove').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="own-kept-model"]'));
  await page.close();
});

test('SmolLM2 races in Compare, prompted with worked examples, as ponder run replays it', async () => {
  const page = await modelsView();
  const { state, error } = await loadUrl(page, `${origin}/cors/SmolLM2-135M-Instruct.Q4_1.gguf`);
  assert.equal(state, 'ready', error);
  const kept = page.locator('[data-testid="own-kept-model"][data-name="SmolLM2-135M-Instruct.Q4_1.gguf"]');
  await kept.getByTestId('own-compare').click();
  await page.getByTestId('view-compare').waitFor();
  const shown = await finished(page, 400_000);
  const link = new URL(page.url()).search;
  const params = new URL(page.url()).searchParams;
  assert.equal(params.get('right.model'), 'own');
  assert.equal(params.get('own_model'), `${origin}/cors/SmolLM2-135M-Instruct.Q4_1.gguf`);
  assert.equal(await page.getByTestId('right-model').inputValue(), 'own');
  // The same link on the command line, with the model's file.
  const rows = execFileSync(CLI, ['run', '--json', '--own', SMOLLM2, link], { encoding: 'utf8', maxBuffer: 64 << 20 })
    .trim().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(rows.map((r) => r.column), ['left', 'right']);
  for (const [i, row] of rows.entries()) {
    assert.equal(shown[i].phase, 'finished', `column ${i}`);
    assert.equal(shown[i].answer, row.answer ?? '', `column ${i}`);
    assert.equal(shown[i].votes, votesOf(row), `column ${i}`);
  }
  // SmolLM2's parameters set its FLOPs: far more per generation than S's.
  assert.ok(rows[1].compute.policy_parameters > 100 * rows[0].compute.policy_parameters);
  console.log(`SmolLM2 in Compare: answer ${rows[1].answer} (truth ${rows[1].truth}), votes ${votesOf(rows[1])}`);
  if (process.env.PONDER_ARTIFACTS) {
    await page.screenshot({ path: join(process.env.PONDER_ARTIFACTS, 'compare-own-model.png'), fullPage: true });
  }
  await page.goto(new URL('?view=models', SITE).href);
  await kept.getByTestId('own-remove').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="own-kept-model"]'));
  await page.close();
});

test("a link naming a model chosen from another computer's disk says to choose the file here", async () => {
  const page = await browser.context.newPage();
  const key = new URL('own-models/my%20model.gguf', SITE).href;
  await page.goto(new URL(`?view=compare&v=1&seed=1&n=4&problem=0&left.strategy=majority&right.strategy=majority&right.model=own&own_model=${encodeURIComponent(key)}`, SITE).href);
  const error = page.getByTestId('column-right').getByTestId('load-error');
  await error.waitFor({ timeout: 60_000 });
  const text = await error.textContent();
  assert.match(text, /my model\.gguf, was chosen from a disk on the computer that made the link/);
  assert.match(text, /Choose a file/);
  assert.doesNotMatch(text, /HTTP 404/);
  await page.close();
});

test('the SmolLM2 preset asks the site for its copy, and says why on a site that does not serve it', async () => {
  const page = await modelsView();
  assert.match(await page.getByTestId('own-preset-measured').innerText(), /Greedy, it solved \d+ of \d+ test problems/);
  // The test site's release files leave SmolLM2 out, as a static host's would; `cargo
  // xtask serve` links it in. Served, it loads as any address does (the tests above).
  await page.click('[data-testid="own-preset-load"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="own-status"]')?.dataset.state === 'failed');
  const error = await page.getByTestId('own-error').innerText();
  assert.match(error, /\/models\/extra\/SmolLM2-135M-Instruct\.Q4_1\.gguf answered HTTP 404/);
  assert.equal(await page.getByTestId('own-url').inputValue(), new URL('models/extra/SmolLM2-135M-Instruct.Q4_1.gguf', SITE).href);
  await page.close();
});
