// What the Compare view's tests share: `ponder run` on a link, and a finished race as
// the page shows it.

import { execFileSync } from 'node:child_process';

const CLI = process.env.PONDER_CLI;
if (!CLI) {
  throw new Error('PONDER_CLI is not set: run these tests through `cargo xtask test`');
}

/** `ponder run --json LINK`: one object per column. */
export function ponderRun(link) {
  const out = execFileSync(CLI, ['run', '--json', link], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.trim().split('\n').map((line) => JSON.parse(line));
}

/** A `ponder run` row's votes as the page writes them in `data-votes`. */
export const votesOf = (row) => row.votes.map((v) => `${v.answer}:${v.count}`).join(',');

/**
 * Waits until both columns have finished (or failed), then reads what each shows: its
 * phase, answer, votes, and the engine it ran on with the reason.
 */
export async function finished(page, timeout = 240_000) {
  await page.waitForFunction(
    () => ['left', 'right'].every((side) => {
      const phase = document.querySelector(`[data-testid="column-${side}"]`)?.dataset.phase;
      return phase === 'finished' || phase === 'failed' || phase === 'load-failed';
    }),
    null,
    { timeout },
  );
  return page.evaluate(() => ['left', 'right'].map((side) => {
    const el = document.querySelector(`[data-testid="column-${side}"]`);
    const engine = el.querySelector('[data-testid="engine"]');
    return {
      phase: el.dataset.phase,
      answer: el.dataset.answer,
      votes: el.dataset.votes,
      engine: engine?.dataset.engine,
      reason: engine?.textContent,
    };
  }));
}
