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
  assert.equal(await stops.count(), 5);
  await stops.nth(1).click();
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('view'), 'classroom');
  assert.equal(url.searchParams.get('left.strategy'), 'revisions');
  await ready(page);
  assert.deepEqual(problems, []);
  await page.close();
});

test('space on a focused button is the button\'s, and the shortcuts can be turned off and stay off', async () => {
  const { page, problems } = await open(browser.context, `?view=classroom&${RACE}`);
  await ready(page);
  const count = async () => Number((await page.getByTestId('step-count').textContent()).match(/Event (\d+)/)[1]);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal(await count(), 2);
  // Space on a focused button is the button's: Back steps back, not forward.
  await page.getByTestId('back').focus();
  await page.keyboard.press('Space');
  assert.equal(await count(), 1, 'space on Back steps back');
  await page.getByTestId('next').focus();
  await page.keyboard.press('Space');
  assert.equal(await count(), 2, 'space on Next steps once');

  const toggle = page.getByTestId('shortcuts');
  assert.equal(await toggle.isChecked(), true);
  await toggle.uncheck();
  // Keys typed into the checkbox itself are never shortcuts; these go to the page.
  await page.evaluate(() => document.activeElement.blur());
  for (const key of ['ArrowRight', 'Space', 'End', 'p']) await page.keyboard.press(key);
  assert.equal(await count(), 2, 'no key steps while the shortcuts are off');
  assert.match(await page.getByTestId('play').textContent(), /^Play$/);
  // The choice is kept: after a reload, and from another view, `c` does nothing.
  await page.goto(new URL('?view=about', page.url()).href);
  await page.getByTestId('view-about').waitFor();
  assert.equal(await page.getByTestId('shortcuts').isChecked(), false);
  await page.keyboard.press('c');
  await page.waitForTimeout(300);
  assert.equal(await page.getByTestId('view-about').count(), 1, 'c is off too');
  await page.getByTestId('shortcuts').check();
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('c');
  await page.getByTestId('view-classroom').waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test('leaving classroom mode while it plays stops the player', async () => {
  const { page, problems } = await open(browser.context, `?view=classroom&${RACE}`);
  await ready(page);
  await page.keyboard.press('p');
  assert.match(await page.getByTestId('play').textContent(), /Pause/);
  await page.locator('.nav-bar a[data-view="about"]').click();
  await page.getByTestId('view-about').waitFor();
  // A tick after the view is gone would read its disposed signals and panic the app.
  await page.waitForTimeout(1500);
  await page.locator('.nav-bar a[data-view="models"]').click();
  await page.getByTestId('view-models').waitFor();
  assert.deepEqual(problems, []);
  await page.close();
});

test('a model that cannot load, or a cancelled run, shows why in classroom mode with a Retry', async () => {
  const blocked = await launch({ webgpu: false, serviceWorkers: 'block' });
  let refuse = true;
  await blocked.context.route('**/models/ponder-prm.gguf', (route) => (refuse
    ? route.fulfill({ status: 404, contentType: 'text/plain', body: 'not here' })
    : route.continue()));
  try {
    const { page } = await open(blocked.context, `?view=classroom&${RACE}`);
    const error = page.getByTestId('classroom-error');
    await error.waitFor({ timeout: 60_000 });
    assert.match(await error.textContent(), /verifier/);
    assert.match(await error.textContent(), /HTTP 404/);
    refuse = false;
    await error.getByTestId('retry').click();
    await ready(page);

    // A run cancelled in the Compare view, then presented: a Retry, not a wait.
    await page.goto(new URL('?view=compare&v=1&seed=5&problem=450&n=64&left.strategy=best-of-n'
      + '&right.strategy=beam', page.url()).href);
    await page.waitForFunction(() => document.querySelector('[data-testid="cancel"]')?.getAttribute('aria-disabled') === 'false');
    await page.getByTestId('cancel').click();
    await page.getByTestId('present').click();
    const cancelled = page.getByTestId('classroom-cancelled');
    await cancelled.waitFor();
    await cancelled.getByTestId('retry').click();
    await page.getByTestId('preparing').waitFor();
    await page.close();
  } finally {
    await blocked.close();
  }
});
