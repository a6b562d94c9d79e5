/**
 * The memtable's numeric key chunks must order keys exactly as compareInternalKeys does: random
 * keys of every length around the 18 chunked bytes, from a small alphabet with 0x00 and 0xff (so
 * prefixes, zero padding and long shared prefixes all occur), against a sorted array. Inserts in
 * key order take a shortcut (no search); runs in order, against order and at random must all land
 * right. A memtable read through its shared memory (a flush worker's view) reads the same.
 */
import { propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareInternalKeys, KIND_DELETE, KIND_PUT, makeInternalKey, sequenceOf, userKeyOf } from '../format/internal_key.js';
import { Memtable } from './memtable.js';

const byte = fc.constantFrom(0x00, 0x01, 0x61, 0x62, 0xff);
/** Keys sharing a prefix of 16–20 bytes: equal chunks, so the lengths or the bytes past 18 decide. */
const longShared = fc.tuple(fc.integer({ min: 16, max: 20 }), fc.array(byte, { maxLength: 4 })).map(([length, tail]) => Uint8Array.from([...Buffer.alloc(length, 0x61), ...tail]));
const userKey = fc.oneof(
  fc.uint8Array({ maxLength: 4 }),
  fc.uint8Array({ minLength: 15, maxLength: 22 }),
  fc.array(byte, { minLength: 0, maxLength: 24 }).map((bytes) => Uint8Array.from(bytes)),
  longShared,
);
const entry = fc.record({ key: userKey, kind: fc.constantFrom(KIND_PUT, KIND_DELETE) });

test('iteration order equals compareInternalKeys order; get finds the newest visible version', () => {
  fc.assert(
    fc.property(fc.array(entry, { minLength: 1, maxLength: 200 }), fc.array(fc.tuple(userKey, fc.nat(250)), { maxLength: 30 }), (entries, lookups) => {
      const memtable = new Memtable();
      const expected: Buffer[] = [];
      entries.forEach(({ key, kind }, i) => {
        memtable.add(i + 1, kind, key, Buffer.from([i & 0xff]));
        expected.push(makeInternalKey(key, i + 1, kind));
      });
      expected.sort(compareInternalKeys);
      const actual: Buffer[] = [];
      const iterator = memtable.iterator();
      for (iterator.seekToFirst(); iterator.valid(); iterator.next()) actual.push(iterator.key());
      assert.equal(actual.map((k) => k.toString('hex')), expected.map((k) => k.toString('hex')));
      // Backwards too.
      const backwards: Buffer[] = [];
      for (iterator.seekToLast(); iterator.valid(); iterator.prev()) backwards.push(iterator.key());
      assert.equal(backwards.reverse().map((k) => k.toString('hex')), expected.map((k) => k.toString('hex')));
      for (const [key, sequence] of lookups) {
        const visible = expected.find((k) => Buffer.compare(userKeyOf(k), Buffer.from(key)) === 0 && sequenceOf(k) <= sequence);
        const result = memtable.get(key, sequence);
        assert.is(result.found, visible !== undefined, `lookup ${Buffer.from(key).toString('hex')}@${sequence}`);
      }
      // seek lands on the first key ≥ the target.
      for (const target of expected.slice(0, 10)) {
        iterator.seek(target);
        assert.ok(iterator.valid() && compareInternalKeys(iterator.key(), target) === 0);
      }
    }),
    propertyParameters(300, 5000),
  );
});

test('get through the hash index equals a search of the sorted records: any insert order, any read sequence, long shared prefixes, an index built at any point and grown', () => {
  fc.assert(
    fc.property(
      fc.array(entry, { minLength: 1, maxLength: 300 }),
      fc.boolean(),
      fc.array(fc.nat(400), { maxLength: 40 }),
      fc.nat(300),
      (entries, shuffled, sequences, firstGetAt) => {
        const memtable = new Memtable();
        // Sequences in insert order, or in a scrambled order (the index must keep the newest);
        // distinct either way (7919 is prime to 1009, and i < 1009).
        const order = entries.map((_, i) => (shuffled ? ((i * 7919) % 1009) + 1 : i + 1));
        const records: { key: Buffer; sequence: number; kind: number; value: number }[] = [];
        entries.forEach(({ key, kind }, i) => {
          const sequence = order[i]!;
          // The first get builds the index from the records so far; inserts after it maintain it.
          if (i === firstGetAt) memtable.get(key, Number.MAX_SAFE_INTEGER);
          memtable.add(sequence, kind, key, Buffer.from([i & 0xff, i >> 8]));
          records.push({ key: Buffer.from(key), sequence, kind, value: i });
        });
        const reads = [Number.MAX_SAFE_INTEGER, ...sequences];
        for (const { key } of records.slice(0, 60)) {
          for (const sequence of reads) {
            const visible = records.filter((r) => r.key.equals(key) && r.sequence <= sequence).sort((a, b) => b.sequence - a.sequence)[0];
            const result = memtable.get(key, sequence);
            const where = `${key.toString('hex')}@${sequence}`;
            assert.is(result.found, visible !== undefined, where);
            if (result.found && visible !== undefined) {
              assert.is(result.deleted, visible.kind === KIND_DELETE, where);
              if (!result.deleted) assert.is(result.value.readUInt16LE(0), visible.value, where);
            }
          }
        }
        // Keys never written miss, whatever the index holds.
        assert.is(memtable.get(Buffer.from('never written, longer than eighteen bytes'), Number.MAX_SAFE_INTEGER).found, false);
      },
    ),
    propertyParameters(300, 3000),
  );
});

test('runs of inserts in key order (the no-search shortcut), mixed with others, keep the order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ keys: fc.array(userKey, { minLength: 1, maxLength: 30 }), order: fc.constantFrom('ascending', 'descending', 'random') }), { minLength: 1, maxLength: 8 }),
      (runs) => {
        const memtable = new Memtable(4096);
        const expected: Buffer[] = [];
        let sequence = 1;
        for (const run of runs) {
          const keys = [...run.keys].map((key) => Buffer.from(key));
          if (run.order !== 'random') keys.sort(Buffer.compare);
          if (run.order === 'descending') keys.reverse();
          for (const key of keys) {
            const kind = sequence % 3 === 0 ? KIND_DELETE : KIND_PUT;
            memtable.add(sequence, kind, key, Buffer.from([sequence & 0xff]));
            expected.push(makeInternalKey(key, sequence, kind));
            sequence++;
          }
        }
        expected.sort(compareInternalKeys);
        const actual: string[] = [];
        const iterator = memtable.iterator();
        for (iterator.seekToFirst(); iterator.valid(); iterator.next()) actual.push(iterator.key().toString('hex'));
        assert.equal(actual, expected.map((k) => k.toString('hex')));
      },
    ),
    propertyParameters(300, 5000),
  );
});

test('an immutable memtable read through its shared memory reads the same', () => {
  fc.assert(
    fc.property(fc.array(entry, { minLength: 1, maxLength: 200 }), (entries) => {
      const memtable = new Memtable(2048);
      entries.forEach(({ key, kind }, i) => memtable.add(i + 1, kind, key, Buffer.alloc(i % 50, i & 0xff)));
      memtable.markImmutable();
      const view = Memtable.fromShared(structuredClone(memtable.shared()));
      assert.is(view.count, memtable.count);
      assert.is(view.approximateBytes, memtable.approximateBytes);
      const left = memtable.iterator();
      const right = view.iterator();
      for (left.seekToFirst(), right.seekToFirst(); left.valid(); left.next(), right.next()) {
        assert.ok(right.valid());
        assert.ok(left.key().equals(right.key()));
        assert.ok(left.value().equals(right.value()));
      }
      assert.not.ok(right.valid());
      for (const { key } of entries.slice(0, 20)) {
        const a = memtable.get(key, entries.length);
        const b = view.get(key, entries.length);
        assert.is(a.found, b.found);
        if (a.found && b.found) assert.ok(a.value.equals(b.value) && a.deleted === b.deleted);
      }
    }),
    propertyParameters(200, 3000),
  );
});

/** Every record of `memtable` in order, as hex internal key + value. */
function contents(memtable: Memtable): string[] {
  const out: string[] = [];
  const iterator = memtable.iterator();
  for (iterator.seekToFirst(); iterator.valid(); iterator.next()) out.push(`${iterator.key().toString('hex')}=${iterator.value().toString('hex')}`);
  iterator.close();
  return out;
}

test('a memtable on a reused node pool (old records left in it) holds what a fresh one does', () => {
  fc.assert(
    fc.property(fc.array(entry, { minLength: 1, maxLength: 200 }), fc.array(entry, { maxLength: 200 }), (first, second) => {
      // The first memtable's records stay in the pool: tall nodes, high links, a raised height.
      const old = new Memtable(2048);
      first.forEach(({ key, kind }, i) => old.add(i + 1, kind, key, Buffer.from([i & 0xff])));
      old.markImmutable();
      const pool = old.releasePool();
      assert.ok(pool !== undefined);
      const reused = new Memtable(2048, pool);
      const fresh = new Memtable(2048);
      for (const memtable of [reused, fresh]) second.forEach(({ key, kind }, i) => memtable.add(i + 1, kind, key, Buffer.from([i & 0xff, 7])));
      assert.equal(contents(reused), contents(fresh));
      assert.is(reused.count, second.length);
      for (const { key } of [...first, ...second].slice(0, 30)) {
        const a = reused.get(key, second.length);
        const b = fresh.get(key, second.length);
        assert.is(a.found, b.found);
        if (a.found && b.found) assert.ok(a.value.equals(b.value) && a.deleted === b.deleted);
      }
    }),
    propertyParameters(200, 3000),
  );
});

test('the node pool is given up only with no iterator open, and only once', () => {
  const memtable = new Memtable(2048);
  memtable.add(1, KIND_PUT, Buffer.from('a'), Buffer.from('1'));
  const open = memtable.iterator();
  const closed = memtable.iterator();
  closed.close();
  closed.close(); // a second close must not unpin the open iterator's hold
  memtable.markImmutable();
  assert.is(memtable.releasePool(), undefined, 'an iterator is open');
  open.seekToFirst();
  assert.is(open.key().subarray(0, 1).toString(), 'a', 'the open iterator still reads the records');
  open.close();
  assert.ok(memtable.releasePool() instanceof Int32Array);
  assert.throws(() => memtable.releasePool(), /once/);
  assert.throws(() => memtable.iterator(), /gave up/);
  assert.throws(() => memtable.get(Buffer.from('a'), 1), /gave up/);
});

test('a mutable memtable keeps its node pool', () => {
  const memtable = new Memtable(2048);
  assert.throws(() => memtable.releasePool(), /immutable/);
});

test.run();
