// Drives the benchmark page's GPU run (`?run=gpu`) in the system Chromium with WebGPU
// (SwiftShader here, as the browser tests use it): decode tokens/s of Ponder's GPU engine
// beside its CPU engine at 1, 16 and 64 sequences, in one tab. Prints the page's JSON.
//
// Usage (from `cargo xtask bench`): node gpu.mjs BASE_URL MODEL_PATH STEPS

import { chromium } from 'playwright-core';

const [base, model, steps] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.PONDER_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu',
    '--enable-features=Vulkan'],
});
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => process.stderr.write(`gpu: ${e.message}\n`));
  await page.goto(`${base}index.html?run=gpu&steps=${steps}&model=${encodeURIComponent(model)}`);
  await page.waitForFunction(() => window.benchResult !== null, null, { timeout: 900_000 });
  const result = await page.evaluate(() => window.benchResult);
  if (result.error) throw new Error(result.error);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
