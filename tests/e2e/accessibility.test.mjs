// axe-core on every view, on a finished sweep, and on a finished race at a small and a
// large budget (rows and the grid): no violations; the grid's cells are named as the rows
// are.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { launch, open } from './browser.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

let browser;
before(async () => {
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
});

async function violations(page) {
  await page.addScriptTag({ content: AXE });
  return page.evaluate(async () => (await window.axe.run(document)).violations.map((v) => ({
    id: v.id,
    help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.html.slice(0, 200)),
  })));
}

async function raceFinished(page) {
  await page.waitForFunction(
    () => performance.getEntriesByName('ponder-race-finished').length > 0,
    null,
    { timeout: 240_000 },
  );
}

for (const view of ['experiment', 'classroom', 'models', 'about']) {
  test(`the ${view} view has no axe violations`, async () => {
    const { page } = await open(browser.context, `?view=${view}`);
    await page.getByTestId(`view-${view}`).waitFor();
    assert.deepEqual(await violations(page), []);
    await page.close();
  });
}

test('a finished sweep (chart, table, exports) has no axe violations', async () => {
  const { page } = await open(browser.context,
    '?view=experiment&set=test&levels=1&per_level=1&budgets=1,4&strategies=majority,beam&seeds=1,2');
  await page.click('[data-testid="sweep-run"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="sweep-progress"]')?.dataset.status === 'finished',
    null,
    { timeout: 240_000 },
  );
  await page.getByTestId('sweep-chart').waitFor();
  assert.deepEqual(await violations(page), []);
  await page.close();
});

for (const [name, query] of [
  ['the default race', '?view=compare'],
  ['a race drawn as a grid', '?view=compare&v=1&seed=1&problem=224&n=64&left.strategy=beam&right.strategy=revisions&right.chains=4'],
]) {
  test(`${name} has no axe violations once finished`, async () => {
    const { page } = await open(browser.context, query);
    await raceFinished(page);
    assert.deepEqual(await violations(page), []);
    if (name === 'a race drawn as a grid') {
      // A grid cell names its attempt as a row does: chain 1's first attempt is 1·1.
      const cells = page.getByTestId('column-right').getByTestId('attempt-grid').locator('.sr-only');
      assert.equal(await cells.count(), 64);
      assert.match(await cells.first().textContent(), /^Attempt 1·1: /);
      assert.match(await cells.last().textContent(), /^Attempt 4·16: /);
    }
    await page.close();
  });
}
