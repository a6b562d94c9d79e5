/**
 * SortedMap against a sorted array: random sets and deletes, then random iterator moves within
 * random bounds — seek, seekForPrev, seekToFirst/Last, next, prev — with writes in between, which
 * an iterator must see when it moves on.
 */
import { propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SortedMap } from './sorted_map.js';

const keyArb = fc.uint8Array({ maxLength: 3, min: 0, max: 3 }).map((a) => Buffer.from(a));

type Op =
  | { kind: 'set'; key: Buffer; value: number }
  | { kind: 'del'; key: Buffer }
  | { kind: 'seek' | 'seekForPrev'; key: Buffer }
  | { kind: 'first' | 'last' | 'next' | 'prev' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), key: keyArb, value: fc.nat(99) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('seek' as const, 'seekForPrev' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('first' as const, 'last' as const) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('next' as const, 'prev' as const) }) },
);

test('the map and its iterators behave as a sorted array with bounds', () => {
  fc.assert(
    fc.property(fc.option(keyArb, { nil: undefined }), fc.option(keyArb, { nil: undefined }), fc.array(opArb, { maxLength: 80, size: 'max' }), (lower, upper, ops) => {
      const map = new SortedMap(7);
      const model = new Map<string, Buffer>();
      const bounds: { lower?: Buffer; upper?: Buffer } = {};
      if (lower !== undefined) bounds.lower = lower;
      if (upper !== undefined) bounds.upper = upper;
      const iterator = map.iterator(bounds);
      let position: string | undefined;
      const inBounds = (hex: string) => {
        const key = Buffer.from(hex, 'hex');
        return (lower === undefined || Buffer.compare(key, lower) >= 0) && (upper === undefined || Buffer.compare(key, upper) < 0);
      };
      const sorted = () => [...model.keys()].filter(inBounds).sort((x, y) => Buffer.compare(Buffer.from(x, 'hex'), Buffer.from(y, 'hex')));
      for (const op of ops) {
        switch (op.kind) {
          case 'set':
            map.set(op.key, Buffer.from([op.value]));
            model.set(op.key.toString('hex'), Buffer.from([op.value]));
            break;
          case 'del':
            assert.is(map.delete(op.key), model.delete(op.key.toString('hex')));
            break;
          case 'seek':
            iterator.seek(op.key);
            position = sorted().find((k) => Buffer.compare(Buffer.from(k, 'hex'), op.key) >= 0);
            break;
          case 'seekForPrev':
            iterator.seekForPrev(op.key);
            position = sorted()
              .filter((k) => Buffer.compare(Buffer.from(k, 'hex'), op.key) <= 0)
              .pop();
            break;
          case 'first':
            iterator.seekToFirst();
            position = sorted()[0];
            break;
          case 'last':
            iterator.seekToLast();
            position = sorted().pop();
            break;
          case 'next':
          case 'prev': {
            if (position === undefined) continue;
            const current = Buffer.from(position, 'hex');
            if (op.kind === 'next') {
              iterator.next();
              position = sorted().find((k) => Buffer.compare(Buffer.from(k, 'hex'), current) > 0);
            } else {
              iterator.prev();
              position = sorted()
                .filter((k) => Buffer.compare(Buffer.from(k, 'hex'), current) < 0)
                .pop();
            }
            break;
          }
        }
        if (op.kind !== 'set' && op.kind !== 'del') {
          assert.is(iterator.valid(), position !== undefined, `${op.kind} validity`);
          if (position !== undefined) {
            assert.is(iterator.key().toString('hex'), position, op.kind);
            assert.ok(iterator.value().equals(model.get(position) as Buffer));
          }
        }
        assert.is(map.size, model.size);
      }
      assert.equal(
        [...map.entries()].map(([k]) => k.toString('hex')),
        [...model.keys()].sort((x, y) => Buffer.compare(Buffer.from(x, 'hex'), Buffer.from(y, 'hex'))),
      );
      assert.equal(map.get(Buffer.from([9])), undefined);
    }),
    propertyParameters(500),
  );
});

test.run();
