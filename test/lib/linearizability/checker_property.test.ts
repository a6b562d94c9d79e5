/**
 * Properties of the checker: histories made by an atomic store are always linearizable, a read of
 * a value never written always makes them illegal, and on small histories the checker agrees with
 * a brute-force enumeration of every order. A failure prints fast-check's seed; replay it with
 * PETREL_FC_SEED / PETREL_FC_PATH (see @petrel/base testing.ts).
 */
import { Prng, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkHistory } from './checker.js';
import type { Operation } from './history.js';
import type { KvInput, KvOutput, KvState } from './kv_model.js';
import { kvModel } from './kv_model.js';
import { randomKvHistory } from './random_history.js';

type KvOperation = Operation<KvInput, KvOutput>;

const shape = fc.record({
  seed: fc.integer(),
  operationCount: fc.integer({ min: 1, max: 300 }),
  keyCount: fc.integer({ min: 1, max: 8 }),
  clientCount: fc.integer({ min: 1, max: 8 }),
  maybeProbability: fc.constantFrom(0, 0.02, 0.1),
});

test('a history of random concurrent clients against an atomic register is always linearizable', () => {
  fc.assert(
    fc.property(shape, (options) => {
      const report = checkHistory(kvModel, randomKvHistory(options));
      if (report.result !== 'ok') throw new Error(report.report);
    }),
    propertyParameters(150),
  );
});

/**
 * Proving a history illegal means trying every subset of its maybe-operations, so the cost grows
 * exponentially with their number (300 operations at 10% maybe took over 2M steps and once ran the
 * heap out). Illegal histories here keep maybe-operations rare; the cluster tests must do the same by
 * keeping per-key histories short.
 */
const tractableShape = fc.record({
  seed: fc.integer(),
  operationCount: fc.integer({ min: 1, max: 200 }),
  keyCount: fc.integer({ min: 1, max: 8 }),
  clientCount: fc.integer({ min: 1, max: 8 }),
  maybeProbability: fc.constantFrom(0, 0.02),
});

test('changing one completed read to a value never written makes the history illegal', () => {
  let mutated = 0;
  fc.assert(
    fc.property(tractableShape, fc.nat(), (options, pick) => {
      const history = randomKvHistory(options);
      const reads = history.filter((operation) => operation.input.op === 'get' && operation.returnTime !== Infinity);
      if (reads.length === 0) return;
      const read = reads[pick % reads.length]!;
      read.output = { value: 'never-written' };
      mutated++;
      const report = checkHistory(kvModel, history);
      assert.is(report.result, 'illegal', report.report);
      const check = report.perKey.find((candidate) => candidate.key === read.input.key)!;
      assert.is(check.result, 'illegal');
      assert.ok(check.unplaced.length > 0, 'the report names the operations it could not place');
    }),
    propertyParameters(150),
  );
  assert.ok(mutated > 50, `only ${mutated} histories had a read to mutate`);
});

/** Tries every order that respects real time; independent of the checker's search. */
function bruteForceLinearizable(operations: readonly KvOperation[]): boolean {
  const placed = operations.map(() => false);
  const place = (state: KvState, completedLeft: number): boolean => {
    if (completedLeft === 0) return true;
    for (let i = 0; i < operations.length; i++) {
      if (placed[i]) continue;
      const candidate = operations[i]!;
      // It can go next unless some other unplaced operation returned before it was invoked.
      if (operations.some((other, j) => !placed[j] && j !== i && other.returnTime < candidate.callTime)) continue;
      const result = kvModel.step(state, candidate.input, candidate.output);
      if (!result.ok) continue;
      placed[i] = true;
      if (place(result.newState, completedLeft - (candidate.returnTime === Infinity ? 0 : 1))) return true;
      placed[i] = false;
    }
    return false;
  };
  return place(kvModel.init(), operations.filter((operation) => operation.returnTime !== Infinity).length);
}

const smallValues = [null, 'v0', 'v1', 'v2', '1', '2', 'c1'];

/** A plausible but possibly wrong output for the operation. */
function randomOutput(prng: Prng, input: KvInput): KvOutput {
  switch (input.op) {
    case 'get':
      return { value: prng.pick(smallValues) };
    case 'set':
    case 'del':
      return {};
    case 'incr':
      return prng.chance(0.2) ? { error: 'INVALID_ARGUMENT' } : { newValue: BigInt(prng.range(-2, 4)) };
    case 'checkAndSet':
      return prng.chance(0.5) ? { succeeded: prng.chance(0.5) } : { succeeded: prng.chance(0.5), oldValue: prng.pick(smallValues) };
  }
}

/** A small one-key history: from the atomic store, with some outputs and intervals disturbed. */
function smallHistory(seed: number): KvOperation[] {
  const prng = new Prng(seed);
  const history = randomKvHistory({ seed, operationCount: prng.range(1, 7), keyCount: 1, clientCount: prng.range(1, 4), maybeProbability: 0.15 });
  for (const operation of history) {
    if (operation.returnTime !== Infinity && prng.chance(0.2)) operation.output = randomOutput(prng, operation.input);
    if (operation.returnTime !== Infinity && prng.chance(0.1)) operation.returnTime = operation.callTime + prng.int(3);
  }
  return history;
}

test('on small histories the checker agrees with a brute-force search of every order', () => {
  const verdicts = { ok: 0, illegal: 0 };
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const history = smallHistory(seed);
      const expected = bruteForceLinearizable(history) ? 'ok' : 'illegal';
      const report = checkHistory(kvModel, history);
      assert.is(report.result, expected, report.report);
      verdicts[expected]++;
    }),
    propertyParameters(1000),
  );
  assert.ok(verdicts.ok > 100 && verdicts.illegal > 100, `verdicts too one-sided to mean much: ${JSON.stringify(verdicts)}`);
});

test.run();
