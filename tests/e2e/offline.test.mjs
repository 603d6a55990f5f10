// Offline visits through the service worker (public/sw.js), on a server of the test's own
// that it can stop: Playwright's `setOffline` does not reach a service worker's own
// requests, so a page "offline" that way could still be fed by the network. Here the
// server is gone and the browser's HTTP cache holds nothing (site_server.mjs), so the page
// and the models can only come from the service worker's cache.
//
// 1. After one visit the site opens and runs a race with its server stopped.
// 2. A new release replaces the kept one whole: only its cache remains, holding its own
//    files, and it runs offline.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from './browser.mjs';
import { serveSite } from './site_server.mjs';

const DIST = process.env.PONDER_DIST;
const XTASK = process.env.PONDER_XTASK;
if (!DIST || !XTASK) {
  throw new Error('PONDER_DIST and PONDER_XTASK are not set: run these tests through `cargo xtask test`');
}

// A short race that needs all three models the page runs: S (majority), R and the PRM
// (revisions choosing by the PRM).
const RACE = 'view=compare&v=1&seed=1&problem=0&n=2&left.strategy=majority&right.strategy=revisions';

const finished = (page) => page.waitForFunction(
  () => ['left', 'right'].every(
    (side) => document.querySelector(`[data-testid="column-${side}"]`)?.dataset.phase === 'finished',
  ),
  null,
  { timeout: 240_000 },
);

/** The release a built sw.js names (its manifest line, written by `xtask release`). */
function releaseOf(dir) {
  const line = readFileSync(join(dir, 'sw.js'), 'utf8').split('\n').find((l) => l.startsWith('const RELEASE = '));
  return JSON.parse(line.slice('const RELEASE = '.length).replace(/;$/, ''));
}

/**
 * Waits until the page is controlled and its origin holds exactly the caches named. (Polled
 * from here: `waitForFunction` takes the promise an async predicate returns for a truthy
 * answer.)
 */
async function cachesAre(page, names, timeout = 120_000) {
  const want = JSON.stringify([...names].sort());
  const deadline = Date.now() + timeout;
  let seen;
  for (;;) {
    seen = await page.evaluate(async () => ({
      controlled: navigator.serviceWorker.controller !== null,
      caches: JSON.stringify((await caches.keys()).sort()),
    }));
    if (seen.controlled && seen.caches === want) return;
    assert.ok(Date.now() < deadline, `caches ${seen.caches}, expected ${want}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const cacheName = (url, release) => `ponder ${new URL(url).pathname} ${release.id}`;

test('a second visit with the server stopped opens the kept site and runs a race', async () => {
  const server = await serveSite(DIST);
  const browser = await launch({ webgpu: false });
  try {
    const page = await browser.context.newPage();
    await page.goto(new URL(`?${RACE}`, server.url).href);
    await finished(page);
    await cachesAre(page, [cacheName(server.url, releaseOf(DIST))]);
    const votes = await page.getByTestId('column-left').getAttribute('data-votes');

    await server.stop();
    const response = await page.reload();
    assert.ok(response.fromServiceWorker(), 'the page came from the service worker');
    await finished(page);
    // The same link, the same run, from the kept models.
    assert.equal(await page.getByTestId('column-left').getAttribute('data-votes'), votes);

    // The Models view reads the kept files too: S's card with its training record. L is
    // not kept (10.7 MB no race runs yet), and its card says it cannot be read.
    await page.goto(new URL('?view=models', server.url).href);
    const s = page.locator('[data-testid="model-card"][data-file="ponder-s.gguf"]');
    await s.locator('dd', { hasText: 'steps' }).first().waitFor({ timeout: 60_000 });
    assert.equal(await s.getAttribute('data-state'), 'read');
    const l = page.locator('[data-testid="model-card"][data-file="ponder-l.gguf"]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="model-card"][data-file="ponder-l.gguf"]')?.dataset.state === 'failed',
      null,
      { timeout: 60_000 },
    );
    assert.equal(await l.getAttribute('data-state'), 'failed');
  } finally {
    await browser.close();
    await server.stop().catch(() => {});
  }
});

test('a new release replaces the kept one whole, and runs offline', async () => {
  const work = mkdtempSync(join(tmpdir(), 'ponder-releases-'));
  const a = join(work, 'a');
  const b = join(work, 'b');
  cpSync(DIST, a, { recursive: true });
  cpSync(DIST, b, { recursive: true });
  // Release B changes two files whose names do not change between releases: the page
  // and the worker's loader. Its manifest is written as the build writes it.
  const html = readFileSync(join(b, 'index.html'), 'utf8');
  writeFileSync(join(b, 'index.html'), html.replace('</head>', '<meta name="ponder-release-test" content="B"></head>'));
  appendFileSync(join(b, 'worker_loader.js'), '\n// release B\n');
  execFileSync(XTASK, ['release', b], { stdio: 'inherit' });
  const [releaseA, releaseB] = [releaseOf(a), releaseOf(b)];
  assert.notEqual(releaseA.id, releaseB.id);

  const server = await serveSite(a);
  const browser = await launch({ webgpu: false });
  try {
    const page = await browser.context.newPage();
    await page.goto(new URL(`?${RACE}`, server.url).href);
    await cachesAre(page, [cacheName(server.url, releaseA)]);

    server.serve(b);
    await page.reload();
    await cachesAre(page, [cacheName(server.url, releaseB)]);
    const kept = await page.evaluate(async (name) => {
      const cache = await caches.open(name);
      const text = async (path) => (await cache.match(new URL(path, document.baseURI).href))?.text();
      return {
        urls: (await cache.keys()).map((r) => r.url).sort(),
        page: await text('./'),
        loader: await text('worker_loader.js'),
      };
    }, cacheName(server.url, releaseB));
    // Exactly B's files, and B's versions of the two that kept their names.
    const expected = releaseB.files.map((f) => new URL(f.path === 'index.html' ? './' : f.path, server.url).href).sort();
    assert.deepEqual(kept.urls, expected);
    assert.match(kept.page, /ponder-release-test/);
    assert.match(kept.loader, /\/\/ release B/);

    // Opening another of the site's files in the tab does not replace the kept page.
    await page.goto(new URL('problems/validation.json', server.url).href);

    await server.stop();
    await page.goto(new URL(`?${RACE}`, server.url).href);
    assert.equal(
      await page.locator('meta[name="ponder-release-test"]').getAttribute('content'),
      'B',
      'the page offline is release B',
    );
    await finished(page);
  } finally {
    await browser.close();
    await server.stop().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});
