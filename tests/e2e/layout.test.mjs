// Every view at a projector's 1280x720 and a phone's 390x844: nothing wider than the
// screen, the race's two columns side by side on the projector and stacked on the phone.
// Screenshots of each are kept as test artifacts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, open } from './browser.mjs';

const ARTIFACTS = process.env.PONDER_ARTIFACTS;
const SIZES = [['projector', 1280, 720], ['phone', 390, 844]];
const VIEWS = ['compare', 'experiment', 'classroom', 'models', 'about'];

let browser;
before(async () => {
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
});

for (const [name, width, height] of SIZES) {
  test(`every view fits a ${name} (${width}x${height})`, async () => {
    const { page, problems } = await open(browser.context, '?view=about');
    await page.setViewportSize({ width, height });
    for (const view of VIEWS) {
      await page.goto(new URL(`?view=${view}`, page.url()).href);
      await page.getByTestId(`view-${view}`).waitFor();
      if (view === 'compare' || view === 'classroom') {
        await page.waitForFunction(
          () => performance.getEntriesByName('ponder-race-finished').length > 0,
          null,
          { timeout: 240_000 },
        );
      }
      if (view === 'classroom') {
        await page.getByTestId('step-count').waitFor({ timeout: 120_000 });
        await page.keyboard.press('End');
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${view} is ${overflow} px wider than the ${name}`);
      if (view === 'compare') {
        const [left, right] = await Promise.all(['left', 'right'].map(
          (side) => page.getByTestId(`column-${side}`).boundingBox(),
        ));
        if (name === 'phone') assert.ok(right.y >= left.y + left.height, 'the columns stack on a phone');
        else assert.ok(Math.abs(right.y - left.y) < 1, 'the columns stand side by side');
      }
      if (ARTIFACTS) {
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, `${view}-${width}x${height}.png`), fullPage: view !== 'classroom' });
      }
    }
    assert.deepEqual(problems, []);
    await page.close();
  });
}
