// Times the Compare view's default race in the system Chromium: from navigation to the
// first step drawn and to both columns finished, cold (a fresh profile: empty caches) and
// warm (the same page opened again), and each column's seconds of computing in its worker.
// Prints one JSON object on stdout.
//
// Usage (from `cargo xtask bench`): node compare.mjs SITE_URL [RUNS]

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [site, runsArg, engineArg] = process.argv.slice(2);
const warmRuns = Number(runsArg || 3);
// `webgpu`: Chromium with its WebGPU adapter (SwiftShader here), so the workers also
// set up and time the GPU engine; otherwise the browser has no WebGPU.
const webgpu = engineArg === 'webgpu';
const profile = mkdtempSync(join(tmpdir(), 'ponder-bench-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.PONDER_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
    ...(webgpu ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan'] : [])],
});

async function race(page) {
  await page.goto(site);
  await page.waitForFunction(
    () => performance.getEntriesByName('ponder-race-finished').length > 0,
    null,
    { timeout: 300_000 },
  );
  return page.evaluate(() => {
    const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
    const columns = ['left', 'right'].map((side) => {
      const el = document.querySelector(`[data-testid="column-${side}"]`);
      return {
        side,
        strategy: el.querySelector('h2')?.textContent ?? '',
        seconds: Number(el.dataset.seconds),
        answer: el.dataset.answer,
      };
    });
    return { first_step_ms: mark('ponder-first-step'), finished_ms: mark('ponder-race-finished'), columns };
  });
}

try {
  const page = await context.newPage();
  page.on('pageerror', (e) => process.stderr.write(`page: ${e.message}\n`));
  const cold = await race(page);
  process.stderr.write(`cold: ${JSON.stringify(cold)}\n`);
  const warm = [];
  for (let i = 0; i < warmRuns; i++) {
    warm.push(await race(page));
    process.stderr.write(`warm ${i + 1}: ${JSON.stringify(warm[i])}\n`);
  }
  await page.getByTestId('copy-link').click();
  const link = await page.getByTestId('copied-link').inputValue();
  console.log(JSON.stringify({ link, webgpu, cold, warm }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
