// The app shell, opened as a visitor would: it loads cleanly, its backend panel shows the
// adapter the inference worker found, and navigation keeps the address bar in step.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, SITE } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const VIEWS = ['compare', 'experiment', 'classroom', 'models', 'about'];

test('the page loads under a sub-path without console errors or failed requests', async () => {
  const { page, problems } = await open(browser.context);
  await page.getByTestId('view-compare').waitFor();
  // The worker's report arrives asynchronously; wait for it so its errors would be seen.
  await page.waitForSelector('[data-testid="backend-badge"]:not([data-state="probing"])', { timeout: 60_000 });
  assert.ok(new URL(page.url()).pathname.startsWith(new URL(SITE).pathname), page.url());
  assert.deepEqual(problems, []);
  await page.close();
});

test('the loading shell paints, and counts as the largest paint, before the app loads', async () => {
  const { page, problems } = await open(browser.context);
  await page.getByTestId('view-compare').waitFor();
  const seen = await page.evaluate(() => new Promise((resolve) => {
    new PerformanceObserver((list) => {
      const lcp = list.getEntries();
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      const app = performance.getEntriesByType('resource').find((r) => /ponder-web-[0-9a-f]+_bg\.wasm$/.test(r.name));
      resolve({
        fcp: fcp?.startTime,
        lcp: lcp.map((e) => ({ at: e.startTime, inShell: !!e.element?.closest('#loading-shell') || e.element === null })),
        wasm: app?.startTime,
      });
    }).observe({ type: 'largest-contentful-paint', buffered: true });
  }));
  // The page's largest paint is the shell's, from its first frame: nothing the app draws
  // later is larger.
  assert.equal(seen.lcp.length, 1, JSON.stringify(seen));
  assert.equal(seen.lcp[0].at, seen.fcp, JSON.stringify(seen));
  // The app's wasm was requested only after that paint (Trunk.toml's loader says why).
  assert.ok(seen.wasm >= seen.fcp, JSON.stringify(seen));
  // No preload link asks for it earlier.
  assert.equal(await page.locator('link[rel="preload"], link[rel="modulepreload"]').count(), 0);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the backend panel reports the adapter the worker saw', async () => {
  const { page, problems } = await open(browser.context, '?view=models');
  const panel = page.getByTestId('backend-panel');
  await page.waitForSelector('[data-testid="backend-panel"]:not([data-state="probing"])', { timeout: 60_000 });
  const reasonEl = page.getByTestId('backend-reason');
  const reason = (await reasonEl.count()) > 0 ? await reasonEl.textContent() : null;
  assert.equal(await panel.getAttribute('data-state'), 'webgpu', `fell back: ${reason}`);

  // The probe ran in a dedicated worker started by the page.
  const workers = page.workers().map((w) => w.url());
  assert.ok(workers.some((u) => u.endsWith('/worker_loader.js')), `workers: ${workers}`);

  // An independent look at the same adapter, from the page's main thread.
  const direct = await page.evaluate(async () => {
    const adapter = await navigator.gpu.requestAdapter();
    return {
      vendor: adapter.info.vendor,
      architecture: adapter.info.architecture,
      f16: adapter.features.has('shader-f16'),
      subgroups: adapter.features.has('subgroups'),
      maxStorage: adapter.limits.maxStorageBufferBindingSize,
      maxBuffer: adapter.limits.maxBufferSize,
    };
  });
  assert.ok(direct.vendor.length > 0, 'the adapter names its vendor');
  assert.equal(await page.getByTestId('adapter-vendor').textContent(), direct.vendor);
  assert.equal(await page.getByTestId('adapter-architecture').textContent(), direct.architecture);
  assert.equal(await page.getByTestId('feature-shader-f16').textContent(), direct.f16 ? 'yes' : 'no');
  assert.equal(await page.getByTestId('feature-subgroups').textContent(), direct.subgroups ? 'yes' : 'no');
  assert.equal(
    Number(await page.getByTestId('limit-max-storage-buffer-binding-size').getAttribute('data-bytes')),
    direct.maxStorage,
  );
  assert.equal(Number(await page.getByTestId('limit-max-buffer-size').getAttribute('data-bytes')), direct.maxBuffer);
  assert.match(await page.getByTestId('backend-badge').textContent(), /^WebGPU: /);

  // Probing again goes back to the worker and comes back with the same answer.
  await page.getByTestId('backend-reprobe').click();
  await page.waitForSelector('[data-testid="backend-panel"][data-state="webgpu"]', { timeout: 60_000 });
  assert.equal(await page.getByTestId('adapter-vendor').textContent(), direct.vendor);
  assert.deepEqual(problems, []);
  await page.close();
});

test('navigation keeps the URL in sync, and Back, reload and links restore the view', async () => {
  const { page, problems } = await open(browser.context, '?seed=7');
  // The bare link is rewritten to name its view and, on the Compare view, the whole race it
  // runs (so the address replays in `ponder run`); other keys stay.
  await page.getByTestId('view-compare').waitFor();
  await page.waitForFunction(() => new URL(location.href).searchParams.has('right.strategy'));
  const written = new URL(page.url()).searchParams;
  assert.equal(written.get('view'), 'compare');
  assert.equal(written.get('seed'), '7');
  assert.equal(written.get('left.strategy'), 'best-of-n');

  for (const view of VIEWS) {
    await page.locator(`nav a[data-view="${view}"]`).click();
    await page.getByTestId(`view-${view}`).waitFor();
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('view'), view);
    assert.equal(url.searchParams.get('seed'), '7', 'other state survives navigation');
    assert.equal(await page.locator(`nav a[data-view="${view}"]`).getAttribute('aria-current'), 'page');
    assert.equal(await page.title(), `${view[0].toUpperCase()}${view.slice(1)} · Ponder`);
  }

  await page.goBack();
  await page.getByTestId('view-models').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('view'), 'models');
  await page.goForward();
  await page.getByTestId('view-about').waitFor();

  // A reload on a view needs no server rewrite: the path never changed.
  await page.reload();
  await page.getByTestId('view-about').waitFor();

  // The keyboard reaches the navigation and follows links, and the new view takes the focus.
  await page.locator('nav a[data-view="experiment"]').focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('view-experiment').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('view'), 'experiment');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a link through index.html keeps its path, and a bad experiment value is reported', async () => {
  const { page, problems } = await open(browser.context, 'index.html?view=about&strategy=beam&seed=7&n=0');
  await page.getByTestId('view-about').waitFor();
  assert.ok(new URL(page.url()).pathname.endsWith('/index.html'), page.url());
  assert.match(await page.getByTestId('url-warnings').textContent(), /n="0" is not valid.*budget/);
  await page.locator('nav a[data-view="models"]').click();
  await page.getByTestId('view-models').waitFor();
  const url = new URL(page.url());
  assert.ok(url.pathname.endsWith('/index.html'), page.url());
  assert.equal(url.searchParams.get('strategy'), 'beam');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the skip link moves the focus to the view and keeps the link', async () => {
  const { page, problems } = await open(browser.context, '?view=about&seed=5');
  await page.getByTestId('view-about').waitFor();
  const before = page.url();
  // The skip link is the first thing the keyboard reaches.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip-link');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
  assert.equal(page.url(), before, 'no navigation: the link and its state stay');
  await page.getByTestId('view-about').waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test('probing again from the keyboard keeps the focus on the button', async () => {
  const { page, problems } = await open(browser.context, '?view=models');
  await page.waitForSelector('[data-testid="backend-panel"]:not([data-state="probing"])', { timeout: 60_000 });
  const button = page.getByTestId('backend-reprobe');
  await button.focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid="backend-panel"]:not([data-state="probing"])', { timeout: 60_000 });
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'backend-reprobe');
  assert.equal(await button.getAttribute('aria-disabled'), 'false');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a link to an unknown view opens the default view and says why', async () => {
  const { page, problems } = await open(browser.context, '?view=nonsense&seed=3');
  await page.getByTestId('view-compare').waitFor();
  assert.match(await page.getByTestId('url-warnings').textContent(), /unknown view "nonsense"/);
  await page.waitForFunction(() => new URL(location.href).searchParams.has('right.strategy'));
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('view'), 'compare');
  assert.equal(url.searchParams.get('seed'), '3');
  assert.deepEqual(problems, []);
  await page.close();
});

test('without WebGPU the panel says "no WebGPU: CPU" and why', async () => {
  const plain = await launch({ webgpu: false });
  try {
    const { page, problems } = await open(plain.context, '?view=models');
    await page.waitForSelector('[data-testid="backend-panel"]:not([data-state="probing"])', { timeout: 60_000 });
    assert.equal(await page.getByTestId('backend-panel').getAttribute('data-state'), 'cpu');
    assert.equal(await page.getByTestId('backend-summary').textContent(), 'no WebGPU: CPU');
    assert.ok((await page.getByTestId('backend-reason').textContent()).length > 20);
    assert.equal(await page.getByTestId('backend-badge').textContent(), 'no WebGPU: CPU');
    assert.deepEqual(problems, []);
  } finally {
    await plain.close();
  }
});

test('the shipped problem sets are served beside the page', async () => {
  const { page, problems } = await open(browser.context, '?view=about');
  const sets = await page.evaluate(async () => {
    const load = async (name) => (await fetch(`problems/${name}.json`)).json();
    const [test, validation] = await Promise.all([load('test'), load('validation')]);
    return { test: test.problems.length, validation: validation.problems.length };
  });
  assert.deepEqual(sets, { test: 500, validation: 100 });
  assert.deepEqual(problems, []);
  await page.close();
});
