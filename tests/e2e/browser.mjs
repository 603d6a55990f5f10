// Launching the system Chromium for Ponder's end-to-end tests.
//
// The flags give headless Chromium a real WebGPU adapter (SwiftShader, Vulkan on the CPU);
// the background-networking flags keep it from dialling out on a machine with no network.

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SITE = process.env.PONDER_URL;
if (!SITE) {
  throw new Error('PONDER_URL is not set: run these tests through `cargo xtask test`');
}

const FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-gpu-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts Chromium with a fresh profile; returns { context, close }. With
 * `{ webgpu: false }` it starts without the WebGPU flags, as a browser without WebGPU;
 * with `{ serviceWorkers: 'block' }` the site's service worker never runs (a test that
 * routes requests needs that: requests a service worker makes are not routed).
 */
export async function launch({ webgpu = true, serviceWorkers = 'allow' } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'ponder-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.PONDER_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    serviceWorkers,
    args: webgpu ? FLAGS : FLAGS.filter((f) => f !== '--enable-unsafe-webgpu' && f !== '--enable-features=Vulkan'),
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens `query` (for example "?view=models") on the site and records everything that
 * went wrong on the way: console errors, uncaught exceptions and failed requests.
 */
export async function open(context, query = '') {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  // An aborted request is the page's own doing (a reload, or a cancelled run's worker
  // ended mid-download), not a failure.
  page.on('requestfailed', (req) => {
    const error = req.failure()?.errorText;
    if (error !== 'net::ERR_ABORTED') problems.push(`request failed: ${req.url()} ${error}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  await page.goto(new URL(query, SITE).href);
  return { page, problems };
}
