// After one visit the site opens and runs a race with the network off (the service worker
// keeps the page, the inference worker and the built-in models).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, SITE } from './browser.mjs';

const finished = (page) => page.waitForFunction(
  () => performance.getEntriesByName('ponder-race-finished').length > 0,
  null,
  { timeout: 240_000 },
);

test('a second visit with the network off opens and runs a comparison', async () => {
  const browser = await launch({ webgpu: false });
  try {
    const page = await browser.context.newPage();
    await page.goto(new URL('?view=compare', SITE).href);
    await finished(page);
    // The service worker has installed (kept the site) and controls the page.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
    const first = await page.getByTestId('column-left').getAttribute('data-votes');

    await browser.context.setOffline(true);
    await page.reload();
    await finished(page);
    const phases = await page.evaluate(() => ['left', 'right'].map(
      (side) => document.querySelector(`[data-testid="column-${side}"]`).dataset.phase,
    ));
    assert.deepEqual(phases, ['finished', 'finished']);
    // The same link, the same run, offline as online.
    assert.equal(await page.getByTestId('column-left').getAttribute('data-votes'), first);
  } finally {
    await browser.context.setOffline(false);
    await browser.close();
  }
});
