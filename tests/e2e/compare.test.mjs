// The Compare view runs the models in the browser: share links replay what `ponder run`
// prints for them (computed here, not pinned), a run cancels, a bad problem and a
// missing model file say what went wrong, and the page stays responsive while it streams.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, open } from './browser.mjs';
import { finished, ponderRun, votesOf } from './race.mjs';

const ARTIFACTS = process.env.PONDER_ARTIFACTS;

async function screenshot(page, name) {
  if (!ARTIFACTS) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

let browser;
before(async () => {
  // No WebGPU flags: these tests run the CPU engine, which `ponder run` matches bit for bit.
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
});

for (const [name, link] of [
  ['weighted best-of-N', 'v=1&strategy=best-of-n&seed=3&n=8&problem=205&select=weighted'],
  ['beam search', 'v=1&strategy=beam&seed=7&n=16&problem=3'],
]) {
  test(`a ${name} share link shows what ponder run prints for it`, async () => {
    const [expected] = ponderRun(link);
    const { page, problems } = await open(browser.context, `?${link}`);
    const [left, right] = await finished(page);
    assert.equal(left.phase, 'finished');
    assert.equal(right.phase, 'finished');
    assert.equal(left.answer, expected.answer ?? '');
    assert.equal(left.votes, votesOf(expected));
    // The page rewrote nothing of the run: its copied link replays both columns.
    await page.getByTestId('copy-link').click();
    const copied = await page.getByTestId('copied-link').inputValue();
    const both = ponderRun(copied);
    assert.equal(both.length, 2);
    assert.equal(both[0].answer, expected.answer);
    assert.equal(votesOf(both[0]), votesOf(expected));
    assert.equal(right.answer, both[1].answer ?? '');
    assert.equal(right.votes, votesOf(both[1]));
    await screenshot(page, `compare-${name.replace(/\W+/g, '-')}`);
    assert.deepEqual(problems, []);
    await page.close();
  });
}

test('a two-column revisions link replays in the page and in ponder run', async () => {
  const link = 'view=compare&v=1&seed=2&problem=110&n=8&left.strategy=revisions&left.chains=2'
    + '&right.strategy=majority';
  const rows = ponderRun(link);
  assert.deepEqual(rows.map((r) => r.column), ['left', 'right']);
  const { page, problems } = await open(browser.context, `?${link}`);
  const shown = await finished(page);
  for (const [i, row] of rows.entries()) {
    assert.equal(shown[i].phase, 'finished');
    assert.equal(shown[i].answer, row.answer ?? '');
    assert.equal(shown[i].votes, votesOf(row));
  }
  // Revisions say which earlier attempts each revision saw.
  const left = page.getByTestId('column-left');
  await left.getByRole('button', { name: /^Attempt 1·2 / }).focus();
  assert.match(await left.getByTestId('revision-saw').textContent(), /saw attempt/);
  // The verdict sums the race up in one line.
  assert.match(await page.getByTestId('verdict').textContent(), /right|found|Neither/);
  await screenshot(page, 'compare-revisions-vs-majority');
  assert.deepEqual(problems, []);
  await page.close();
});

test('S thinking longer against its larger sibling L at the same FLOPs replays as in ponder run', async () => {
  // The tour's stop 3b: weighted best-of-16 on S against best-of-2 on L.
  const link = 'view=compare&v=1&seed=1&problem=300&n=16&left.strategy=best-of-n'
    + '&right.strategy=best-of-n&right.model=l&right.n=2';
  const rows = ponderRun(link);
  assert.deepEqual(rows.map((r) => [r.column, r.correct]), [['left', false], ['right', true]]);
  // About the same policy FLOPs: L's 2 generations against S's 16.
  const policy = rows.map((r) => 2 * r.compute.policy_parameters * r.compute.policy_tokens);
  assert.ok(policy[1] / policy[0] > 0.8 && policy[1] / policy[0] < 1.5, JSON.stringify(policy));
  const { page, problems } = await open(browser.context, `?${link}`);
  const shown = await finished(page);
  for (const [i, row] of rows.entries()) {
    assert.equal(shown[i].phase, 'finished');
    assert.equal(shown[i].answer, row.answer ?? '');
    assert.equal(shown[i].votes, votesOf(row));
  }
  // The right column runs L on a budget of its own; the shared budget leaves it alone.
  assert.equal(await page.getByTestId('right-model').inputValue(), 'l');
  assert.equal(await page.getByTestId('right-n').inputValue(), '2');
  assert.match(await page.locator('.race-controls').innerText(), /generations for each column on S or R/);
  await page.getByTestId('budget').selectOption('32');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('n') === '32');
  const url = new URL(page.url()).searchParams;
  assert.equal(url.get('right.n'), '2');
  assert.equal(url.get('right.model'), 'l');
  // Back to S: the column takes the race's budget again.
  await page.getByTestId('right-model').selectOption('s');
  await page.waitForFunction(() => !new URL(location.href).searchParams.has('right.n'));
  await screenshot(page, 'compare-s-against-l');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the default race needs no main-thread task over 100 ms while it streams', async () => {
  const page = await browser.context.newPage();
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  const { SITE } = await import('./browser.mjs');
  await page.goto(SITE);
  const shown = await finished(page);
  assert.deepEqual(shown.map((c) => c.phase), ['finished', 'finished']);
  const report = await page.evaluate(() => {
    const mark = (name) => performance.getEntriesByName(name)[0]?.startTime;
    return { first: mark('ponder-first-step'), done: mark('ponder-race-finished'), tasks: window.__longTasks };
  });
  assert.ok(report.first !== undefined && report.done !== undefined, JSON.stringify(report));
  const during = report.tasks.filter((t) => t.start + t.duration > report.first && t.start < report.done);
  assert.deepEqual(during.filter((t) => t.duration > 100), [], JSON.stringify(during));
  await screenshot(page, 'compare-default');
  await page.close();
});

test('cancel stops both columns and keeps what they showed', async () => {
  const { page, problems } = await open(browser.context,
    '?view=compare&v=1&seed=5&problem=450&n=256&left.strategy=best-of-n&right.strategy=revisions&right.chains=16');
  // Wait until something is drawn, then cancel.
  await page.getByTestId('column-left').getByTestId('attempt').first().waitFor({ timeout: 120_000 });
  const latency = await page.evaluate(async () => {
    const t0 = performance.now();
    document.querySelector('[data-testid="cancel"]').click();
    const left = document.querySelector('[data-testid="column-left"]');
    while (left.dataset.phase !== 'cancelled') await new Promise((r) => setTimeout(r, 1));
    return performance.now() - t0;
  });
  console.log(`# cancel took effect ${latency.toFixed(1)} ms after the click`);
  assert.equal(await page.getByTestId('column-right').getAttribute('data-phase'), 'cancelled');
  const count = async () => page.getByTestId('attempt').count();
  const before = await count();
  assert.ok(before > 0);
  await page.waitForTimeout(1000);
  assert.equal(await count(), before, 'nothing more arrives after a cancel');
  assert.equal(await page.getByTestId('cancel').getAttribute('aria-disabled'), 'true');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a problem the parser rejects is explained beside the field, and a good one runs', async () => {
  const { page, problems } = await open(browser.context, '?view=compare');
  const field = page.getByTestId('custom-problem');
  await field.fill('12+*3');
  await page.getByTestId('use-custom').click();
  assert.match(await page.getByTestId('custom-problem-error').textContent(), /not an expression/);
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  await field.fill('(2+3)*4');
  await field.press('Enter');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === '(2+3)*4');
  assert.match(await page.getByTestId('race-problem').textContent(), /\(2\+3\)\*4/);
  const [left] = await finished(page);
  assert.equal(left.phase, 'finished');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a model file that answers 404 shows the error and Retry loads it', async () => {
  let refuse = true;
  const blocked = await launch({ webgpu: false, serviceWorkers: 'block' });
  const browser = blocked;
  await browser.context.route('**/models/ponder-prm.gguf', (route) => (refuse
    ? route.fulfill({ status: 404, contentType: 'text/plain', body: 'not here' })
    : route.continue()));
  const page = await browser.context.newPage();
  const { SITE } = await import('./browser.mjs');
  await page.goto(new URL('?view=compare&v=1&seed=1&n=2&problem=0&left.strategy=majority&right.strategy=best-of-n', SITE).href);
  const error = page.getByTestId('column-right').getByTestId('load-error');
  await error.waitFor({ timeout: 60_000 });
  assert.match(await error.textContent(), /HTTP 404/);
  assert.match(await error.textContent(), /verifier/);
  refuse = false;
  await page.getByTestId('column-right').getByTestId('retry').click();
  const [, right] = await finished(page);
  assert.equal(right.phase, 'finished');
  await browser.context.unroute('**/models/ponder-prm.gguf');
  await page.close();
  await blocked.close();
});

test('a link without strategy keys is written out, so its address replays the same run in ponder run', async () => {
  const { page, problems } = await open(browser.context, '?view=compare&v=1&seed=2&problem=5&n=4');
  const shown = await finished(page);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('left.strategy'), 'best-of-n');
  assert.equal(url.searchParams.get('right.strategy'), 'revisions');
  assert.equal(url.searchParams.get('view'), 'compare');
  const rows = ponderRun(page.url());
  assert.deepEqual(rows.map((r) => r.column), ['left', 'right']);
  for (const [i, row] of rows.entries()) {
    assert.equal(shown[i].phase, 'finished');
    assert.equal(shown[i].answer, row.answer ?? '');
    assert.equal(shown[i].votes, votesOf(row));
  }
  // No keys at all: the default race, written out, with its problem and seed.
  await page.goto(new URL('?view=compare', page.url()).href);
  await page.waitForFunction(() => new URL(location.href).searchParams.has('right.strategy'));
  const written = new URL(page.url()).searchParams;
  assert.equal(written.get('problem'), '224');
  assert.equal(written.get('seed'), '1');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a link whose problem cannot run empties the columns instead of showing the last race', async () => {
  const bad = '?view=compare&v=1&seed=1&n=2&problem=9999&left.strategy=majority&right.strategy=majority';
  const { page, problems } = await open(browser.context, bad);
  await page.getByTestId('problem-error').waitFor();
  // Another problem, chosen in the page, runs...
  await page.getByTestId('level').selectOption('1');
  const [left] = await finished(page);
  assert.equal(left.phase, 'finished');
  assert.ok(await page.getByTestId('attempt').count() > 0);
  // ...and Back to the link that cannot run shows why, and no race.
  await page.goBack();
  await page.getByTestId('problem-error').waitFor();
  assert.match(await page.getByTestId('problem-error').textContent(), /past the end of the test set/);
  const phases = await page.evaluate(() => ['left', 'right'].map(
    (side) => document.querySelector(`[data-testid="column-${side}"]`).dataset.phase,
  ));
  assert.deepEqual(phases, ['idle', 'idle']);
  assert.equal(await page.getByTestId('attempt').count(), 0);
  assert.equal((await page.getByTestId('verdict').textContent()).trim(), '');
  assert.deepEqual(problems, []);
  await page.close();
});

test('majority voting loads no verifier: a column of it runs while the PRM is missing', async () => {
  const blocked = await launch({ webgpu: false, serviceWorkers: 'block' });
  const asked = [];
  await blocked.context.route('**/models/ponder-prm.gguf', (route) => {
    asked.push(route.request().url());
    return route.fulfill({ status: 404, contentType: 'text/plain', body: 'not here' });
  });
  try {
    const page = await blocked.context.newPage();
    const { SITE } = await import('./browser.mjs');
    await page.goto(new URL('?view=compare&v=1&seed=1&n=2&problem=0&left.strategy=majority'
      + '&right.strategy=revisions&right.final=majority', SITE).href);
    const [left, right] = await finished(page);
    assert.equal(left.phase, 'finished');
    assert.equal(right.phase, 'finished');
    assert.deepEqual(asked, [], 'no column asked for the PRM');
    await page.close();
  } finally {
    await blocked.close();
  }
});

test('a column whose worker never starts says so by the deadline, and Retry starts it', async () => {
  const silent = await launch({ webgpu: false, serviceWorkers: 'block' });
  // A worker script that never says Ready (as when its wasm cannot load). The page's
  // clock is faked so the 60 s deadline can be passed at once.
  let broken = true;
  await silent.context.route('**/worker_loader.js', (route) => (broken
    ? route.fulfill({ status: 200, contentType: 'text/javascript', body: '// never says Ready\n' })
    : route.continue()));
  try {
    const page = await silent.context.newPage();
    await page.clock.install();
    const { SITE } = await import('./browser.mjs');
    await page.goto(new URL('?view=compare&v=1&seed=1&n=2&problem=0&left.strategy=majority'
      + '&right.strategy=majority', SITE).href);
    await page.getByTestId('column-left').getByTestId('download-progress').waitFor();
    await page.clock.fastForward(61_000);
    const error = page.getByTestId('column-left').getByTestId('run-error');
    await error.waitFor();
    assert.match(await error.textContent(), /did not start within 60 s/);
    broken = false;
    await page.getByTestId('column-left').getByTestId('retry').click();
    const [left, right] = await finished(page);
    assert.equal(left.phase, 'finished');
    assert.equal(right.phase, 'finished');
    await page.close();
  } finally {
    await silent.close();
  }
});
