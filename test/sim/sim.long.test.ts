/**
 * The simulator, as many seeds as asked (run by `npm run test:long`):
 *
 *   npm run test:long -- sim.long --seeds 5000             safety and liveness, 5000 seeds each
 *   PETREL_SIM_SEEDS=5000 PETREL_SIM_FIRST_SEED=1 node --import tsx test/sim/sim.long.test.ts
 *
 * `--seeds N` (forwarded by the test runner) or PETREL_SIM_SEEDS sets the count (default 2000);
 * `--first-seed S` or PETREL_SIM_FIRST_SEED the first seed (default 100000, beyond the CI range).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeSummary, runSeeds } from './seeds.js';

function setting(flag: string, variable: string, fallback: number): number {
  const index = process.argv.indexOf(flag);
  const text = index >= 0 ? process.argv[index + 1] : process.env[variable];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${flag} / ${variable} must be a non-negative integer, got ${text}`);
  return value;
}

const seeds = setting('--seeds', 'PETREL_SIM_SEEDS', 2000);
const firstSeed = setting('--first-seed', 'PETREL_SIM_FIRST_SEED', 100_000);

for (const mode of ['safety', 'liveness'] as const) {
  test(`${mode}: seeds ${firstSeed}..${firstSeed + seeds - 1}`, () => {
    const summary = runSeeds(mode, firstSeed, seeds);
    console.log(describeSummary(summary));
    assert.equal(summary.failures.map((failure) => `${failure.seed}: ${failure.invariant} — ${failure.replay}`), []);
  });
}

test.run();
