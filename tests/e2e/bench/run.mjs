// Drives the benchmark page in the system Chromium: one fresh page per runtime, so each
// starts with clean memory. Prints {"ponder": {...}, "wllama": {...}} on stdout.
//
// Usage (from `cargo xtask bench`): node run.mjs BASE_URL MODEL_PATH

import { chromium } from 'playwright-core';

const [base, model] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.PONDER_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const results = {};
try {
  for (const run of ['ponder', 'wllama']) {
    const page = await browser.newPage();
    page.on('pageerror', (e) => process.stderr.write(`${run}: ${e.message}\n`));
    await page.goto(`${base}index.html?run=${run}&model=${encodeURIComponent(model)}`);
    await page.waitForFunction(() => window.benchResult !== null, null, { timeout: 900_000 });
    results[run] = await page.evaluate(() => window.benchResult);
    process.stderr.write(`${run}: ${JSON.stringify(results[run])}\n`);
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(results));
