// The Compare view on WebGPU (SwiftShader in headless Chromium). The GPU engine's kernels
// round as the CPU engine does, so a link run on the GPU shows what `ponder run` prints for
// it; the page says where each column ran and why; and a GPU lost mid-run hands the run to
// the CPU, which finishes the very same run.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, SITE } from './browser.mjs';
import { finished, ponderRun, votesOf } from './race.mjs';

let browser;
before(async () => {
  browser = await launch({ webgpu: true });
});
after(async () => {
  await browser?.close();
});

const LINK = 'view=compare&v=1&seed=3&problem=205&n=8&left.strategy=best-of-n&left.select=weighted'
  + '&right.strategy=majority';

test('engine=gpu runs both columns on WebGPU and shows what ponder run prints', async () => {
  const rows = ponderRun(LINK);
  const { page, problems } = await open(browser.context, `?${LINK}&engine=gpu`);
  const shown = await finished(page, 400_000);
  for (const [i, row] of rows.entries()) {
    assert.equal(shown[i].phase, 'finished');
    assert.equal(shown[i].engine, 'gpu', shown[i].reason);
    assert.match(shown[i].reason, /WebGPU: the link asks for WebGPU/);
    assert.equal(shown[i].answer, row.answer ?? '');
    assert.equal(shown[i].votes, votesOf(row));
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('without an engine key the first race starts on the CPU at once, and later races use the engine measured faster', async () => {
  const { page, problems } = await open(browser.context, `?${LINK}`);
  let shown = await finished(page, 400_000);
  for (const column of shown) {
    assert.equal(column.phase, 'finished');
    assert.equal(column.engine, 'cpu');
    assert.match(column.reason, /WebGPU is timed after this run/);
  }
  // The next race in the same workers comes after their trial of WebGPU.
  await page.getByTestId('another-problem').click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="column-left"]')?.dataset.phase !== 'finished',
    null,
    { timeout: 60_000 },
  );
  shown = await finished(page, 400_000);
  for (const column of shown) {
    assert.equal(column.phase, 'finished');
    assert.match(column.reason, /measured faster here: [\d.]+ ms a step of 16 sequences on (WebGPU|the CPU), [\d.]+ ms on/);
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('a GPU lost mid-run hands the run to the CPU, which finishes the same run', async () => {
  const link = 'view=compare&v=1&seed=7&problem=3&n=16&left.strategy=beam&right.strategy=majority';
  const rows = ponderRun(link);
  const page = await browser.context.newPage();
  const uncaught = [];
  page.on('pageerror', (err) => uncaught.push(err.message));
  const workers = [];
  page.on('worker', (worker) => {
    workers.push(worker);
    // Keeps the worker's device where the test can reach it.
    worker.evaluate(() => {
      const encoder = GPUDevice.prototype.createCommandEncoder;
      GPUDevice.prototype.createCommandEncoder = function (...args) {
        self.__ponderDevice = this;
        return encoder.apply(this, args);
      };
    }).catch(() => {});
  });
  await page.goto(new URL(`?${link}&engine=gpu`, SITE).href);
  // Wait for the left column to run on the GPU and show its first events.
  await page.waitForSelector('[data-testid="column-left"] [data-engine="gpu"]', { timeout: 120_000 });
  await page.waitForTimeout(1500);
  let destroyed = 0;
  for (const worker of workers) {
    destroyed += await worker.evaluate(() => {
      if (!self.__ponderDevice) return 0;
      self.__ponderDevice.destroy();
      return 1;
    }).catch(() => 0);
  }
  assert.ok(destroyed > 0, 'no worker had a GPU device to lose');
  const shown = await finished(page, 400_000);
  assert.equal(shown[0].phase, 'finished');
  assert.equal(shown[0].engine, 'cpu');
  assert.match(shown[0].reason, /the GPU failed .*; the run went on on the CPU/);
  for (const [i, row] of rows.entries()) {
    assert.equal(shown[i].answer, row.answer ?? '');
    assert.equal(shown[i].votes, votesOf(row));
  }
  assert.deepEqual(uncaught, []);
  await page.close();
});
