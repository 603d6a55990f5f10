// The Models view lists the built-in models with what their files say (parameters equal
// to `ponder inspect`, computed in the test), how each was trained, L's size against S,
// and a working link to their evaluation report.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launch, open } from './browser.mjs';

const CLI = process.env.PONDER_CLI;
if (!CLI) {
  throw new Error('PONDER_CLI is not set: run these tests through `cargo xtask test`');
}
const MODELS = fileURLToPath(new URL('../../public/models/', import.meta.url));

let browser;
before(async () => {
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
});

test('the built-in models are listed with their parameters, training and report', async () => {
  const { page, problems } = await open(browser.context, '?view=models');
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="model-card"]')]
      .filter((c) => c.dataset.state === 'read').length === 4,
    null,
    { timeout: 60_000 },
  );
  const cards = await page.evaluate(() => [...document.querySelectorAll('[data-testid="model-card"]')]
    .map((c) => ({ file: c.dataset.file, parameters: Number(c.dataset.parameters), text: c.textContent })));
  assert.deepEqual(cards.map((c) => c.file), ['ponder-s.gguf', 'ponder-r.gguf', 'ponder-prm.gguf', 'ponder-l.gguf']);
  for (const card of cards) {
    const inspected = JSON.parse(execFileSync(CLI, ['inspect', '--json', `${MODELS}${card.file}`], { encoding: 'utf8' }));
    assert.equal(card.parameters, inspected.parameters, card.file);
    assert.match(card.text, /steps, [\d,]+ tokens/, `${card.file} says how it was trained`);
    assert.match(card.text, /ponder-train /, `${card.file} gives its command`);
  }
  const s = cards[0].parameters;
  const l = cards[3].parameters;
  assert.ok(cards[3].text.includes(`(${(l / s).toFixed(1)}× S)`), cards[3].text);
  assert.match(cards[2].text, /value head/);
  const report = await page.getByTestId('models-report').getAttribute('href');
  const status = await page.evaluate(async (href) => (await fetch(href)).status, report);
  assert.equal(status, 200);
  assert.equal(await page.getByTestId('models-progress').textContent(), '');
  assert.deepEqual(problems, []);
  await page.close();
});
