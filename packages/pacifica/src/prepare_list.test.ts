import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { propertyParameters } from '@petrel/base';
import { PrepareList, newEntry } from './prepare_list.js';
import type { Mutation } from './types.js';

function mutation(decree: number, ballot = 1, writes: string[] = []): Mutation {
  return { gpid: '1.0', ballot, decree, lastCommitted: 0, writes: writes.map((write) => Buffer.from(write)) };
}

test('commits strictly in decree order and stops at the first gap', () => {
  const list = new PrepareList(10, 0);
  list.put(newEntry(mutation(1), 0, 0));
  list.put(newEntry(mutation(3), 0, 0));
  assert.equal(list.commitTo(3).map((entry) => entry.mutation.decree), [1]);
  assert.is(list.committed, 1);
  list.put(newEntry(mutation(2), 0, 0));
  assert.equal(list.commitTo(3).map((entry) => entry.mutation.decree), [2, 3]);
  assert.is(list.committed, 3);
});

test('a higher ballot replaces a decree; a lower one is refused', () => {
  const list = new PrepareList(10, 0);
  list.put(newEntry(mutation(1, 2, ['a']), 0, 0));
  list.put(newEntry(mutation(1, 3, ['b']), 0, 0));
  assert.is(list.get(1)!.mutation.ballot, 3);
  assert.throws(() => list.put(newEntry(mutation(1, 2, ['c']), 0, 0)), /lower ballot/);
});

test('refuses committed decrees and more uncommitted entries than the limit', () => {
  const list = new PrepareList(3, 5);
  assert.throws(() => list.put(newEntry(mutation(5), 0, 0)), /committed decree/);
  for (const decree of [6, 7, 8]) list.put(newEntry(mutation(decree), 0, 0));
  assert.is(list.canPrepare(9), false);
  assert.is(list.canPrepare(7), true);
  assert.throws(() => list.put(newEntry(mutation(9), 0, 0)), /full/);
});

test('keeps committed entries as a cache until the limit, oldest evicted first', () => {
  const list = new PrepareList(4, 0);
  for (let decree = 1; decree <= 4; decree++) list.put(newEntry(mutation(decree), 0, 0));
  list.commitTo(4);
  assert.is(list.minDecree, 1);
  list.put(newEntry(mutation(5), 0, 0));
  assert.is(list.minDecree, 2);
  assert.is(list.get(1), undefined);
  assert.ok(list.get(2) !== undefined);
});

test('dropUncommittedBelowBallot keeps committed entries and those of the ballot; resetCommitted jumps to a checkpoint', () => {
  const list = new PrepareList(10, 0);
  for (let decree = 1; decree <= 5; decree++) list.put(newEntry(mutation(decree), 0, 0));
  list.put(newEntry(mutation(6, 2), 0, 0));
  list.commitTo(2);
  list.dropUncommittedBelowBallot(2);
  assert.equal([3, 4, 5].map((decree) => list.get(decree)), [undefined, undefined, undefined]);
  assert.is(list.get(1)!.mutation.decree, 1);
  assert.is(list.get(6)!.mutation.ballot, 2);
  assert.is(list.maxDecree, 6);
  list.dropUncommittedBelowBallot(3);
  assert.is(list.maxDecree, 2);
  assert.is(list.uncommittedCount(), 0);
  list.put(newEntry(mutation(9), 0, 0));
  list.resetCommitted(7);
  assert.is(list.committed, 7);
  assert.is(list.get(2), undefined);
  assert.ok(list.get(9) !== undefined);
  assert.is(list.contiguousEnd(), 7);
});

test('property: committed decrees form a gap-free prefix of what was prepared, whatever the arrival order', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 60 }), fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 20 }), (arrivals, commitPoints) => {
      const list = new PrepareList(40, 0);
      const seen = new Set<number>();
      const points = [...commitPoints];
      for (const decree of arrivals) {
        if (decree > list.committed && list.canPrepare(decree)) list.put(newEntry(mutation(decree), 0, 0));
        seen.add(decree);
        const point = points.shift();
        if (point !== undefined) list.commitTo(point);
      }
      for (let decree = 1; decree <= list.committed; decree++) assert.ok(seen.has(decree), `committed ${decree} never prepared`);
      assert.ok(list.committed <= Math.max(0, ...commitPoints));
    }),
    propertyParameters(300),
  );
});

test.run();
