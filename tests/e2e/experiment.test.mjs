// The Experiment view runs a sweep in the browser: its rows are `ponder sweep`'s for the
// same spec (computed here, not pinned), a reload mid-sweep resumes from the units stored
// in IndexedDB and ends with the same rows, and the charts (accuracy against budget, by
// difficulty, at each revision step, compute-optimal) export as SVG and PNG.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, open } from './browser.mjs';

const CLI = process.env.PONDER_CLI;
if (!CLI) {
  throw new Error('PONDER_CLI is not set: run these tests through `cargo xtask test`');
}

/** `ponder sweep` on the same spec: its rows.csv (or the file `name` it writes). */
function ponderSweep({ levels, perLevel, budgets, strategies, seeds, ratios, large, settings }, name = 'rows.csv') {
  const out = mkdtempSync(join(tmpdir(), 'ponder-sweep-'));
  try {
    execFileSync(CLI, [
      'sweep', '--levels', levels, '--per-level', String(perLevel), '--budgets', budgets,
      '--strategies', strategies, '--seeds', seeds, '--out', out,
      ...(ratios ? ['--ratios', ratios] : []),
      ...(large ? ['--large'] : []),
      ...(settings ? ['--settings', settings] : []),
    ], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'ignore'] });
    return readFileSync(join(out, name), 'utf8');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const linkOf = ({ levels, perLevel, budgets, strategies, seeds, ratios, large }) =>
  `?view=experiment&set=test&levels=${levels}&per_level=${perLevel}&budgets=${budgets}&strategies=${strategies}&seeds=${seeds}`
  + (ratios ? `&ratios=${ratios}` : '') + (large ? '&large=1' : '');

async function sweepState(page) {
  return page.evaluate(() => {
    const el = document.querySelector('[data-testid="sweep-progress"]');
    return { status: el?.dataset.status, done: Number(el?.dataset.done ?? 0) };
  });
}

async function waitForStatus(page, status, timeout = 300_000) {
  await page.waitForFunction(
    (want) => document.querySelector('[data-testid="sweep-progress"]')?.dataset.status === want,
    status,
    { timeout },
  );
}

/** Clicks an export button and returns the downloaded file's bytes. */
async function exported(page, testid) {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click(`[data-testid="${testid}"]`),
  ]);
  return readFileSync(await download.path());
}

let browser;
before(async () => {
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
});

test("a sweep's rows in the page equal ponder sweep's for the same spec", async () => {
  const spec = { levels: '1,2', perLevel: 2, budgets: '1,4,16', strategies: 'majority,best-of-n,revisions', seeds: '1' };
  const { page, problems } = await open(browser.context, linkOf(spec));
  await page.click('[data-testid="sweep-run"]');
  await waitForStatus(page, 'finished');
  assert.equal((await sweepState(page)).done, 4);
  const csv = (await exported(page, 'export-csv')).toString('utf8');
  assert.equal(csv, ponderSweep(spec));
  // 3 strategies × 3 budgets, over all levels.
  assert.equal(await page.locator('[data-testid="sweep-table"] tbody tr').count(), 9);
  assert.equal(await page.locator('[data-testid="sweep-chart"] svg polyline').count(), 3);
  const svg = (await exported(page, 'export-svg')).toString('utf8');
  assert.match(svg, /^<svg[^>]*role="img"/);
  assert.match(svg, /<title>best-of-n: [\d.]+% at 16 \(95% interval [\d.]+–[\d.]+\)/);
  // Each strategy against best-of-N, paired: the page's table is ponder sweep's
  // comparisons.csv (difference, interval and verdict).
  const comparisons = ponderSweep(spec, 'comparisons.csv').trim().split('\n').slice(1)
    .map((line) => line.split(','))
    .map(([strategy, , budget, problems, difference, low, high, verdict]) => [
      strategy, budget, `${(100 * difference) >= 0 ? '+' : ''}${(100 * difference).toFixed(1)} points`,
      `${(100 * low) >= 0 ? '+' : ''}${(100 * low).toFixed(1)} to ${(100 * high) >= 0 ? '+' : ''}${(100 * high).toFixed(1)}`,
      problems, verdict,
    ]);
  assert.equal(comparisons.length, 6, '2 strategies × 3 budgets against best-of-n');
  const table = await page.locator('[data-testid="comparison-table"] tbody tr').evaluateAll(
    (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)),
  );
  assert.deepEqual(table, comparisons);
  // On a phone the tables scroll in boxes of their own; the page stays as wide as the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the finished sweep is ${overflow} px wider than a phone`);
  await page.setViewportSize({ width: 1280, height: 720 });
  if (process.env.PONDER_ARTIFACTS) {
    await page.screenshot({ path: join(process.env.PONDER_ARTIFACTS, 'experiment-finished.png'), fullPage: true });
  }
  const png = await exported(page, 'export-png');
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG file');
  // The chart by difficulty: bars per strategy in the sweep's own quintile bins.
  const binsSvg = (await exported(page, 'export-bins-svg')).toString('utf8');
  assert.match(binsSvg, /<title>best-of-n, bin \d: [\d.]+% \(range over seeds/);
  assert.match(binsSvg, /<title>majority, bin \d: /);
  // Compute-optimal, chosen per difficulty bin, at each of the 3 budgets, beside best-of-N.
  const optimalSvg = (await exported(page, 'export-optimal-svg')).toString('utf8');
  assert.equal((optimalSvg.match(/<title>compute-optimal: [\d.]+% at \d+ /g) ?? []).length, 3);
  assert.equal((optimalSvg.match(/<title>best-of-n: /g) ?? []).length, 3);
  // Accuracy at each of the 16 revision steps of the budget-16 chains.
  const stepsSvg = (await exported(page, 'export-steps-svg')).toString('utf8');
  assert.equal((stepsSvg.match(/<title>revisions: [\d.]+% at \d+ /g) ?? []).length, 16);
  const json = JSON.parse((await exported(page, 'export-json')).toString('utf8'));
  assert.equal(json.rows.length, 4 * 3 * 3);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a reload mid-sweep resumes from the stored units and ends with the same rows', async () => {
  const spec = { levels: '1,2', perLevel: 2, budgets: '1,4,16', strategies: 'beam,best-of-n', seeds: '1,2' };
  const { page } = await open(browser.context, linkOf(spec));
  await page.click('[data-testid="sweep-run"]');
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="sweep-progress"]')?.dataset.done) >= 2,
    null,
    { timeout: 300_000 },
  );
  const before = await sweepState(page);
  assert.equal(before.status, 'running', 'reloaded while the sweep still runs');
  await page.reload();
  // The link carries the spec: the page reads the stored units and goes on by itself.
  await waitForStatus(page, 'finished');
  const text = await page.locator('[data-testid="sweep-progress"]').innerText();
  assert.match(text, /were stored from an earlier visit/);
  assert.equal((await sweepState(page)).done, 8);
  const csv = (await exported(page, 'export-csv')).toString('utf8');
  assert.equal(csv, ponderSweep(spec));
  await page.close();
});

test('the mix at several sequential:parallel ratios draws the ratio chart, with ponder sweep\'s rows', async () => {
  const spec = { levels: '2', perLevel: 2, budgets: '4,16', strategies: 'mix', seeds: '1', ratios: '0.0625,1,16' };
  const { page, problems } = await open(browser.context, linkOf(spec));
  // The form shows the link's ratios.
  assert.equal(await page.getByTestId('ratio-1').isChecked(), true);
  assert.equal(await page.getByTestId('ratio-4').isChecked(), false);
  await page.click('[data-testid="sweep-run"]');
  await waitForStatus(page, 'finished');
  const csv = (await exported(page, 'export-csv')).toString('utf8');
  assert.equal(csv, ponderSweep(spec));
  assert.match(csv, /,mix@0\.0625,16,/);
  // One line per budget, a point per ratio.
  const chart = page.getByTestId('ratio-chart');
  assert.equal(await chart.locator('svg polyline').count(), 2);
  assert.equal(await chart.locator('svg circle').count(), 6);
  const svg = (await exported(page, 'export-ratios-svg')).toString('utf8');
  assert.match(svg, /sequential:parallel ratio/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a sweep with L draws the exchange at equal FLOPs, and the R slider moves the matched budget', async () => {
  const spec = { levels: '1,2,3,4,5', perLevel: 2, budgets: '1,4,16', strategies: 'majority,best-of-n', seeds: '1', large: true };
  const { page, problems } = await open(browser.context, linkOf(spec));
  assert.equal(await page.getByTestId('large').isChecked(), true);
  await page.click('[data-testid="sweep-run"]');
  await waitForStatus(page, 'finished');
  const csv = (await exported(page, 'export-csv')).toString('utf8');
  assert.equal(csv, ponderSweep(spec));
  assert.equal(csv.split('\n').filter((l) => l.includes(',l-greedy,')).length, 10);
  const caption = page.getByTestId('exchange-caption');
  // The slider starts at the paper's R = 0.79: 41 generations, past this sweep's 16.
  assert.equal(await page.getByTestId('exchange-r-value').textContent(), '0.79');
  assert.match(await caption.textContent(), /as much as 41 of S's/);
  assert.match(await caption.textContent(), /past this sweep's largest budget \(16\)/);
  // R = 22: about 10 generations, inside the sweep's budgets, so S has bars too.
  // A range input takes no typing: set it as a drag would, with its input event.
  await page.getByTestId('exchange-r').evaluate((el) => {
    el.value = '9';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await page.waitForFunction(() => document.querySelector('[data-testid="exchange-r-value"]')?.textContent === '22');
  assert.match(await caption.textContent(), /as much as 10 of S's/);
  assert.doesNotMatch(await caption.textContent(), /past this sweep/);
  const svg = (await exported(page, 'export-exchange-svg')).toString('utf8');
  assert.match(svg, /S compute-optimal at 10 generations/);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a sweep's strategy settings reach every run, as in ponder sweep", async () => {
  const spec = { levels: '1', perLevel: 2, budgets: '4,16', strategies: 'best-of-n,beam', seeds: '1', settings: 'width=2,rounds=2' };
  const { page, problems } = await open(browser.context, linkOf({ ...spec, settings: undefined }));
  await page.fill('[data-testid="settings"]', 'width=2, rounds=2');
  await page.click('[data-testid="sweep-run"]');
  await waitForStatus(page, 'finished');
  assert.equal(new URL(page.url()).searchParams.get('settings'), 'width:2,rounds:2');
  const csv = (await exported(page, 'export-csv')).toString('utf8');
  assert.equal(csv, ponderSweep(spec));
  assert.notEqual(csv, ponderSweep({ ...spec, settings: undefined }), 'the settings change the runs');
  // A key that is not a strategy setting is refused, and the form says which.
  await page.fill('[data-testid="settings"]', 'n=4');
  await page.click('[data-testid="sweep-run"]');
  assert.match(await page.locator('.sweep-form [role="alert"]').innerText(), /n is not a strategy setting/);
  assert.deepEqual(problems, []);
  await page.close();
});
