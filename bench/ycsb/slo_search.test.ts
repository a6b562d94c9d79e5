/**
 * The search for the highest rate under a p99 bound (slo_search.ts), against a model system whose
 * p99 jumps past the bound at a knee: it finds a rate within `closeEnough` under the knee when it
 * has probes enough, never reports a rate that failed, never probes above the peak, and stops.
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SLO_SEARCH, describeProbes, describeSloRate, nextSloRate, probeOf, type SloProbe, sloOutcome, type SloSearchOptions } from './slo_search.js';

const BOUND_MS = 20;

/** Runs the search against a system with p99 5 ms up to `knee` ops/s and 80 ms above it. */
function search(peak: number, knee: number, options: SloSearchOptions, first: number | null): SloProbe[] {
  const probes: SloProbe[] = [];
  const run = (rate: number) => probes.push(probeOf({ targetOpsPerSec: rate, opsPerSec: rate, p99Ms: rate <= knee ? 5 : 80, p99MsFromSend: null, errors: 0 }, options));
  if (first !== null) run(first);
  for (let guard = 0; guard < 100; guard++) {
    const next = nextSloRate(peak, probes, options);
    if (next === null) return probes;
    assert.ok(next > 0 && next <= peak, `probe ${next} outside (0, ${peak}]`);
    run(next);
  }
  throw new Error('the search did not stop');
}

test('with probes enough it lands within closeEnough under the knee', () => {
  fc.assert(
    fc.property(fc.integer({ min: 100, max: 100_000 }), fc.double({ min: 0.02, max: 0.99, noNaN: true }), fc.boolean(), (peak, kneeFraction, startAtHalf) => {
      const options = { ...DEFAULT_SLO_SEARCH, p99Ms: BOUND_MS, maxProbes: 40 };
      const knee = peak * kneeFraction;
      const probes = search(peak, knee, options, startAtHalf ? peak / 2 : null);
      const outcome = sloOutcome(peak, probes, BOUND_MS);
      assert.ok(outcome.targetOpsPerSec !== null, `nothing met with the knee at ${knee}`);
      assert.ok(outcome.targetOpsPerSec <= knee, 'reported a rate above the knee');
      assert.ok(outcome.targetOpsPerSec * options.closeEnough >= Math.min(knee, peak / options.closeEnough), `${outcome.targetOpsPerSec} too far under the knee ${knee}`);
    }),
  );
});

test('with the default probes it never reports a failed rate and stops; below the floor nothing is met', () => {
  fc.assert(
    fc.property(fc.integer({ min: 100, max: 100_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (peak, kneeFraction) => {
      const options = { ...DEFAULT_SLO_SEARCH, p99Ms: BOUND_MS };
      const knee = peak * kneeFraction;
      const probes = search(peak, knee, options, peak / 2);
      assert.ok(probes.length <= options.maxProbes);
      const outcome = sloOutcome(peak, probes, BOUND_MS);
      if (outcome.targetOpsPerSec === null) assert.ok(probes.every((probe) => !probe.met));
      else assert.ok(outcome.targetOpsPerSec <= knee && outcome.p99Ms === 5);
      if (knee < peak * options.floorFraction) assert.is(outcome.opsPerSec, null);
    }),
  );
});

test('a probe with errors, or one whose clients fell behind the target, has not met the bound', () => {
  const options = { ...DEFAULT_SLO_SEARCH, p99Ms: BOUND_MS };
  assert.ok(probeOf({ targetOpsPerSec: 1000, opsPerSec: 990, p99Ms: 12, p99MsFromSend: 9, errors: 0 }, options).met);
  assert.not.ok(probeOf({ targetOpsPerSec: 1000, opsPerSec: 990, p99Ms: 12, p99MsFromSend: 9, errors: 1 }, options).met);
  assert.not.ok(probeOf({ targetOpsPerSec: 1000, opsPerSec: 900, p99Ms: 12, p99MsFromSend: 9, errors: 0 }, options).met);
  assert.not.ok(probeOf({ targetOpsPerSec: 1000, opsPerSec: 1000, p99Ms: 20.5, p99MsFromSend: 9, errors: 0 }, options).met);
  // The first probe at the peak's half met: the next bisects towards the peak.
  const next = nextSloRate(1000, [probeOf({ targetOpsPerSec: 500, opsPerSec: 500, p99Ms: 3, p99MsFromSend: 3, errors: 0 }, options)], options);
  assert.ok(next !== null && Math.abs(next - Math.sqrt(500 * 1000)) < 1e-9);
  // A failure below a rate that met (noise) does not bound the bisection from above.
  const noisy = [500, 250, 400].map((rate) => probeOf({ targetOpsPerSec: rate, opsPerSec: rate, p99Ms: rate === 400 ? 30 : 10, p99MsFromSend: null, errors: 0 }, options));
  const after = nextSloRate(1000, noisy, options);
  assert.ok(after !== null && Math.abs(after - Math.sqrt(500 * 1000)) < 1e-9);
  assert.is(sloOutcome(1000, noisy, BOUND_MS).targetOpsPerSec, 500);
});

test('the rate and the probes described: the rate met, or none down to the lowest probe, or no probe', () => {
  const probe = (rate: number, p99Ms: number) => probeOf({ targetOpsPerSec: rate, opsPerSec: rate, p99Ms, p99MsFromSend: null, errors: 0 }, { ...DEFAULT_SLO_SEARCH, p99Ms: BOUND_MS });
  const round = (value: number) => String(Math.round(value));
  const met = sloOutcome(1000, [probe(500, 30), probe(250, 10), probe(354, 25)], BOUND_MS);
  assert.is(describeSloRate(met, round), '250');
  assert.is(describeProbes(met.probes, round), '500:30✗ 250:10✓ 354:25✗');
  assert.is(describeSloRate(sloOutcome(1000, [probe(500, 30), probe(125, 40), probe(250, 35)], BOUND_MS), round), 'none down to 125');
  assert.is(describeSloRate(sloOutcome(0, [], BOUND_MS), round), 'no probe (no peak)');
});

test.run();
