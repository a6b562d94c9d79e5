/**
 * The memtable's numeric key chunks must order keys exactly as compareInternalKeys does: random
 * keys of every length around the 18 chunked bytes, from a small alphabet with 0x00 and 0xff (so
 * prefixes, zero padding and long shared prefixes all occur), against a sorted array.
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

test.run();
