/**
 * The cluster simulator in CI: 400 safety seeds and 200 liveness seeds (seed ranges fixed, so a
 * run is reproducible), every event checked against the invariants and every history against the
 * linearizability checker; the same seed run twice gives the same trace hash. A failing seed is
 * printed with the command that replays it. More seeds: test/sim/sim.long.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeSummary, runSeeds } from './seeds.js';
import { profileForSeed } from './fault_profiles.js';
import { runSimulation } from './simulation.js';

const safetySeeds = 400;
const livenessSeeds = 200;

test(`safety: ${safetySeeds} seeds with faults throughout keep every invariant and stay linearizable`, () => {
  const summary = runSeeds('safety', 1, safetySeeds);
  console.log(describeSummary(summary));
  assert.equal(summary.failures.map((failure) => `${failure.seed}: ${failure.invariant} — ${failure.replay}`), []);
  assert.ok(summary.operations.ok > safetySeeds * 50, 'the clients got work done');
  assert.ok(summary.learned.log > 0 && summary.learned.checkpoint > 0, 'learners learned from the log and from checkpoints, not only the cache');
  assert.ok(summary.handOvers > 0, 'the balancer moved primaries (hand-overs) while faults went on');
});

test(`liveness: ${livenessSeeds} seeds — after the heal every partition is whole and takes a write within the bound`, () => {
  const summary = runSeeds('liveness', 1, livenessSeeds);
  console.log(describeSummary(summary));
  assert.equal(summary.failures.map((failure) => `${failure.seed}: ${failure.invariant} — ${failure.replay}`), []);
});

test('the same seed replays to the same trace hash; another seed does not', () => {
  for (const mode of ['safety', 'liveness'] as const) {
    for (const seed of [7, 8, 9]) {
      const first = runSimulation({ seed, mode });
      const second = runSimulation({ seed, mode });
      assert.is(second.traceHash, first.traceHash, `${mode} seed ${seed} (${profileForSeed(seed)})`);
      assert.equal(second.stats, first.stats);
    }
    assert.is.not(runSimulation({ seed: 7, mode }).traceHash, runSimulation({ seed: 8, mode }).traceHash);
  }
});

test.run();
