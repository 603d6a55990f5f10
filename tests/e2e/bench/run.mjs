// Drives the benchmark page in the system Chromium: one fresh page per run, so each starts
// with clean memory. Each runtime runs ROUNDS times, interleaved (Ponder, wllama, Ponder,
// …), so that a busy moment on the machine slows both rather than one: a single run once
// read wllama at 8.4 tokens/s where it reads 10.7 to 10.8 on a quiet machine. Prints
// {"ponder": {...}, "wllama": {...}} on stdout: each number the median over the rounds,
// and the decode speeds of every round as `<key>_runs`.
//
// Usage (from `cargo xtask bench`): node run.mjs BASE_URL MODEL_PATH [ROUNDS]

import { chromium } from 'playwright-core';

const [base, model, roundsArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg || 3);
const browser = await chromium.launch({
  executablePath: process.env.PONDER_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const rounds = { ponder: [], wllama: [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const run of ['ponder', 'wllama']) {
      const page = await browser.newPage();
      page.on('pageerror', (e) => process.stderr.write(`${run}: ${e.message}\n`));
      await page.goto(`${base}index.html?run=${run}&model=${encodeURIComponent(model)}`);
      await page.waitForFunction(() => window.benchResult !== null, null, { timeout: 900_000 });
      const result = await page.evaluate(() => window.benchResult);
      process.stderr.write(`${run}, round ${round + 1} of ${ROUNDS}: ${JSON.stringify(result)}\n`);
      rounds[run].push(result);
      await page.close();
    }
  }
} finally {
  await browser.close();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

// One flat object per runtime: an error if any round failed, else the medians.
const summary = (results) => {
  const failed = results.find((r) => r.error);
  if (failed) return failed;
  const out = { rounds: results.length };
  for (const [key, value] of Object.entries(results[0])) {
    if (typeof value === 'number') out[key] = median(results.map((r) => r[key]));
  }
  for (const key of ['decode_tokens_per_second', 'batch_decode_tokens_per_second']) {
    if (key in out) out[`${key}_runs`] = results.map((r) => r[key]);
  }
  return out;
};
console.log(JSON.stringify({ ponder: summary(rounds.ponder), wllama: summary(rounds.wllama) }));
