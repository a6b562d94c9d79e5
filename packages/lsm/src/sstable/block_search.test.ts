/**
 * DecodedBlock's searches must agree with a plain binary search under compareInternalKeys, for
 * keys around the 18 chunked bytes (prefixes, zero bytes, long shared prefixes, equal user keys
 * with several sequences): the chunked binary search of a decoded block, and the search in place
 * (restart points, then a scan) that point lookups use on a block no iterator has decoded.
 */
import { propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareInternalKeys, KIND_DELETE, KIND_PUT, LookupKey, makeInternalKey } from '../format/internal_key.js';
import { BlockBuilder, type BlockHit, DecodedBlock } from './block.js';

const byte = fc.constantFrom(0x00, 0x01, 0x61, 0xff);
const userKey = fc.oneof(
  fc.array(byte, { maxLength: 24 }).map((bytes) => Uint8Array.from(bytes)),
  fc.tuple(fc.integer({ min: 15, max: 21 }), fc.array(byte, { maxLength: 3 })).map(([length, tail]) => Uint8Array.from([...Buffer.alloc(length, 0x61), ...tail])),
);
const internalKey = fc.tuple(userKey, fc.integer({ min: 1, max: 5 }), fc.constantFrom(KIND_PUT, KIND_DELETE)).map(([key, sequence, kind]) => makeInternalKey(key, sequence, kind));

test('the chunked lowerBound equals a plain binary search', () => {
  fc.assert(
    fc.property(fc.uniqueArray(internalKey, { minLength: 1, maxLength: 80, selector: (key) => key.toString('hex') }), fc.array(internalKey, { minLength: 1, maxLength: 20 }), (keys, targets) => {
      keys.sort(compareInternalKeys);
      const builder = new BlockBuilder(4);
      for (const key of keys) builder.add(key, Buffer.from('v'));
      const block = DecodedBlock.decode(builder.finish(), 'test', 0);
      const plain = (a: Buffer, b: Buffer) => compareInternalKeys(a, b);
      for (const target of [...targets, ...keys]) {
        assert.is(block.lowerBound(target, compareInternalKeys), block.lowerBound(target, plain), `target ${target.toString('hex')}`);
      }
    }),
    propertyParameters(300, 5000),
  );
});

test('lookups in place find what the decoded search finds, and decode nothing', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(internalKey, { minLength: 1, maxLength: 80, selector: (key) => key.toString('hex') }),
      fc.array(internalKey, { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: 16 }),
      (keys, targets, restartInterval) => {
        keys.sort(compareInternalKeys);
        const builder = new BlockBuilder(restartInterval);
        keys.forEach((key, i) => builder.add(key, Buffer.from(`v${i}`)));
        const contents = builder.finish();
        const decoded = DecodedBlock.decode(contents, 'test', 0);
        const lookup = new LookupKey();
        const hit: BlockHit = { keyBytes: Buffer.alloc(0), keyStart: 0, keyLength: 0, valueStart: 0, valueLength: 0 };
        const lazy = DecodedBlock.lazy(contents, 'test', 0);
        for (const target of [...targets, ...keys]) {
          const expected = decoded.lowerBound(target, compareInternalKeys);
          const found = lazy.find(lookup.setInternal(target), hit);
          assert.is(found, expected < keys.length, `target ${target.toString('hex')}`);
          if (found) {
            assert.ok(hit.keyBytes.subarray(hit.keyStart, hit.keyStart + hit.keyLength).equals(keys[expected]!), `key for ${target.toString('hex')}`);
            assert.is(lazy.valueAt(hit.valueStart, hit.valueLength).toString(), `v${expected}`);
          }
          // Searched in place: the block is still raw bytes.
          assert.not.ok(lazy.isDecoded);
        }
        // Once an iterator has decoded the block, lookups go through the decoded search, alike.
        lazy.decodeNow();
        for (const target of [...targets, ...keys]) {
          const expected = decoded.lowerBound(target, compareInternalKeys);
          const found = lazy.find(lookup.setInternal(target), hit);
          assert.is(found, expected < keys.length, `decoded, target ${target.toString('hex')}`);
          if (found) assert.ok(hit.keyBytes.subarray(hit.keyStart, hit.keyStart + hit.keyLength).equals(keys[expected]!), `decoded, key for ${target.toString('hex')}`);
        }
      },
    ),
    propertyParameters(300, 5000),
  );
});

test.run();
