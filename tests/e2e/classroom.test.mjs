// Classroom mode: the race presented one event at a time, with captions; stepping back
// shows exactly what was shown before; a QR code of the link; controls hidden by the link;
// predict, then reveal; `c` enters it from any view.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, open } from './browser.mjs';

const ARTIFACTS = process.env.PONDER_ARTIFACTS;
const RACE = 'v=1&seed=1&problem=106&n=4&left.strategy=majority&right.strategy=best-of-n';

let browser;
before(async () => {
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
});

const ready = (page) => page.getByTestId('step-count').waitFor({ timeout: 120_000 });
const snapshot = (page) => page.evaluate(() => ({
  caption: document.querySelector('[data-testid="caption"]').textContent,
  attempts: [...document.querySelectorAll('[data-testid="attempt"]')].map((a) => a.textContent),
  votes: [...document.querySelectorAll('[data-testid="votes"] li')].map((v) => v.textContent),
}));

test('stepping forward and back shows exactly what was shown', async () => {
  const { page, problems } = await open(browser.context, `?view=classroom&${RACE}`);
  await page.setViewportSize({ width: 1280, height: 720 });
  await ready(page);
  assert.match(await page.getByTestId('caption').textContent(), /Press space/);
  const seen = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press(i % 2 ? 'ArrowRight' : 'Space');
    seen.push(await snapshot(page));
  }
  assert.match(seen[0].caption, /reads the problem|starts/);
  assert.ok(seen.some((s) => /writes step 1/.test(s.caption)), JSON.stringify(seen.map((s) => s.caption)));
  for (let i = 6; i >= 0; i--) {
    await page.keyboard.press('ArrowLeft');
    assert.deepEqual(await snapshot(page), seen[i], `back to event ${i + 1}`);
  }
  await page.keyboard.press('End');
  assert.match(await page.getByTestId('verdict').textContent(), /right|found|Neither/);
  assert.match(await page.getByTestId('caption').textContent(), /chooses/);
  assert.equal(await page.getByTestId('qr').locator('svg').count(), 1);
  if (ARTIFACTS) {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'classroom-1280x720.png') });
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('the link can hide the controls and the QR code, and ask for a prediction first', async () => {
  const { page, problems } = await open(browser.context, `?view=classroom&hide=controls,qr&predict=1&${RACE}`);
  await page.getByTestId('predict').waitFor();
  assert.equal(await page.getByTestId('qr').count(), 0);
  await page.locator('[data-choice="both"]').click();
  await page.getByTestId('caption').waitFor({ timeout: 120_000 });
  assert.equal(await page.getByTestId('step-count').count(), 0);
  await page.keyboard.press('End');
  assert.match(await page.getByTestId('prediction-result').textContent(), /The class predicted both: it was/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('c enters classroom mode from another view, and tour stops are links', async () => {
  const { page, problems } = await open(browser.context, '?view=about');
  await page.getByTestId('view-about').waitFor();
  await page.keyboard.press('c');
  await page.getByTestId('view-classroom').waitFor();
  const stops = page.getByTestId('tour-stop');
  assert.equal(await stops.count(), 3);
  await stops.nth(1).click();
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('view'), 'classroom');
  assert.equal(url.searchParams.get('left.strategy'), 'revisions');
  await ready(page);
  assert.deepEqual(problems, []);
  await page.close();
});
