import { initChecksum, isPetrelError, propertyParameters, xxh64 } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  MAX_HASH_KEY_BYTES,
  decodeStoredKey,
  encodeStoredKey,
  hashKeyOf,
  hashKeyPrefixScanStart,
  hashKeyRange,
  hashKeyScanBounds,
  prefixSuccessor,
  sortKeyOf,
  sortKeyPrefixRange,
} from './key.js';
import { partitionHash, partitionIndex } from './partition.js';
import { encodeStoredValue, expireTsFromTtl, isExpired, storedExpireTs, storedUserValue, withExpireTs } from './value.js';

await initChecksum();
const b = (text: string) => Buffer.from(text);
// Small alphabets so that shared prefixes and equal keys are common.
const bytes = (maxLength: number) => fc.uint8Array({ maxLength, min: 0, max: 3 }).map((a) => Buffer.from(a));
const edgeBytes = (maxLength: number) => fc.oneof(bytes(maxLength), fc.uint8Array({ maxLength, min: 0xfd, max: 0xff }).map((a) => Buffer.from(a)));

function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    assert.ok(isPetrelError(error), `not a PetrelError: ${String(error)}`);
    assert.is(error.code, code);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('a stored key is [u16 BE hash key length][hash key][sort key]', () => {
  assert.equal([...encodeStoredKey(b('ab'), b('xyz'))], [0, 2, 0x61, 0x62, 0x78, 0x79, 0x7a]);
  assert.equal([...encodeStoredKey(b(''), b('s'))], [0, 0, 0x73]);
  const long = Buffer.alloc(300, 1);
  assert.equal([...encodeStoredKey(long, b('')).subarray(0, 2)], [1, 44]);
});

test('stored keys decode back to their hash and sort keys', () => {
  fc.assert(
    fc.property(edgeBytes(20), edgeBytes(20), (hashKey, sortKey) => {
      const key = encodeStoredKey(hashKey, sortKey);
      const decoded = decodeStoredKey(key);
      assert.ok(decoded.hashKey.equals(hashKey));
      assert.ok(decoded.sortKey.equals(sortKey));
      assert.ok(hashKeyOf(key).equals(hashKey));
      assert.ok(sortKeyOf(key).equals(sortKey));
    }),
    propertyParameters(300),
  );
});

test('within one hash key, stored keys sort as their sort keys do', () => {
  fc.assert(
    fc.property(edgeBytes(8), edgeBytes(8), edgeBytes(8), (hashKey, left, right) => {
      const order = Math.sign(Buffer.compare(encodeStoredKey(hashKey, left), encodeStoredKey(hashKey, right)));
      assert.is(order, Math.sign(Buffer.compare(left, right)));
    }),
    propertyParameters(300),
  );
});

test('a stored key lies in the range of a hash key exactly when it has that hash key', () => {
  fc.assert(
    fc.property(edgeBytes(6), edgeBytes(6), edgeBytes(6), (rangeHashKey, hashKey, sortKey) => {
      const { lower, upper } = hashKeyRange(rangeHashKey);
      const key = encodeStoredKey(hashKey, sortKey);
      const inside = Buffer.compare(key, lower) >= 0 && Buffer.compare(key, upper) < 0;
      assert.is(inside, hashKey.equals(rangeHashKey));
    }),
    propertyParameters(500),
  );
});

test('a sort key prefix range holds exactly the sort keys with that prefix', () => {
  fc.assert(
    fc.property(edgeBytes(4), edgeBytes(4), edgeBytes(4), edgeBytes(6), (rangeHashKey, prefix, hashKey, sortKey) => {
      const { lower, upper } = sortKeyPrefixRange(rangeHashKey, prefix);
      const key = encodeStoredKey(hashKey, sortKey);
      const inside = Buffer.compare(key, lower) >= 0 && Buffer.compare(key, upper) < 0;
      const matches = hashKey.equals(rangeHashKey) && sortKey.subarray(0, prefix.length).equals(prefix);
      assert.is(inside, matches);
    }),
    propertyParameters(500),
  );
});

test('prefixSuccessor bounds exactly the strings with the prefix', () => {
  assert.equal([...(prefixSuccessor(b('ab')) as Buffer)], [0x61, 0x63]);
  assert.equal([...(prefixSuccessor(Buffer.from([1, 0xff, 0xff])) as Buffer)], [2]);
  assert.is(prefixSuccessor(Buffer.from([0xff, 0xff])), undefined);
  assert.is(prefixSuccessor(Buffer.alloc(0)), undefined);
  fc.assert(
    fc.property(edgeBytes(5), edgeBytes(7), (prefix, text) => {
      const successor = prefixSuccessor(prefix);
      const starts = text.subarray(0, prefix.length).equals(prefix);
      const inRange = Buffer.compare(text, prefix) >= 0 && (successor === undefined || Buffer.compare(text, successor) < 0);
      assert.is(inRange, starts);
    }),
    propertyParameters(500),
  );
});

test('every hash key starting with a pattern sorts at or after the prefix scan start', () => {
  fc.assert(
    fc.property(edgeBytes(4), edgeBytes(4), edgeBytes(4), (pattern, rest, sortKey) => {
      const hashKey = Buffer.concat([pattern, rest]);
      assert.ok(Buffer.compare(encodeStoredKey(hashKey, sortKey), hashKeyPrefixScanStart(pattern)) >= 0);
    }),
    propertyParameters(300),
  );
});

test('hash keys longer than 65534 bytes are INVALID_HASH_KEY; 65534 is fine', () => {
  throwsCode(() => encodeStoredKey(Buffer.alloc(MAX_HASH_KEY_BYTES + 1), b('')), 'INVALID_HASH_KEY');
  const longest = encodeStoredKey(Buffer.alloc(MAX_HASH_KEY_BYTES, 0xff), b('s'));
  assert.is(hashKeyOf(longest).length, MAX_HASH_KEY_BYTES);
  assert.ok(hashKeyRange(Buffer.alloc(MAX_HASH_KEY_BYTES, 0xff)).upper.equals(Buffer.from([0xff, 0xff])));
});

test('malformed stored keys are CORRUPTION', () => {
  throwsCode(() => decodeStoredKey(Buffer.from([0])), 'CORRUPTION');
  throwsCode(() => decodeStoredKey(Buffer.from([0, 3, 1, 2])), 'CORRUPTION');
});

test('a scan over one hash key with an empty stop sort key runs to the end of the hash key, stop exclusive', () => {
  const bounds = hashKeyScanBounds(b('h'), b('a'), b(''), false, true);
  assert.ok(bounds.startKey.equals(encodeStoredKey(b('h'), b('a'))));
  assert.ok(bounds.stopKey.equals(hashKeyRange(b('h')).upper));
  assert.is(bounds.startInclusive, false);
  assert.is(bounds.stopInclusive, false);
  const closed = hashKeyScanBounds(b('h'), b('a'), b('z'), true, true);
  assert.ok(closed.stopKey.equals(encodeStoredKey(b('h'), b('z'))));
  assert.is(closed.stopInclusive, true);
});

test('a stored value is [u8 version 1][u32 BE expireTs][user bytes] and reads back', () => {
  const stored = encodeStoredValue(b('hi'), 0x01020304);
  assert.equal([...stored], [1, 1, 2, 3, 4, 0x68, 0x69]);
  assert.is(storedExpireTs(stored), 0x01020304);
  assert.ok(storedUserValue(stored).equals(b('hi')));
  assert.is(storedExpireTs(encodeStoredValue(b(''), 0xffffffff)), 0xffffffff);
  assert.is(storedUserValue(encodeStoredValue(b(''), 0)).length, 0);
  const moved = withExpireTs(stored, 7);
  assert.is(storedExpireTs(moved), 7);
  assert.ok(storedUserValue(moved).equals(b('hi')));
  throwsCode(() => storedExpireTs(Buffer.from([1, 0, 0])), 'CORRUPTION');
  throwsCode(() => storedUserValue(Buffer.from([9, 0, 0, 0, 0])), 'CORRUPTION');
  throwsCode(() => encodeStoredValue(b(''), -1), 'INVALID_ARGUMENT');
});

test('expiry: 0 never expires; a record expires at its expireTs second; TTLs are checked', () => {
  assert.is(isExpired(0, 2 ** 32), false);
  assert.is(isExpired(100, 99), false);
  assert.is(isExpired(100, 100), true);
  assert.is(expireTsFromTtl(1000, 0), 0);
  assert.is(expireTsFromTtl(1000, 5), 1005);
  throwsCode(() => expireTsFromTtl(1000, -1), 'INVALID_ARGUMENT');
  throwsCode(() => expireTsFromTtl(1000, 1.5), 'INVALID_ARGUMENT');
  throwsCode(() => expireTsFromTtl(2 ** 32 - 10, 20), 'INVALID_ARGUMENT');
});

test('the partition of a key is xxh64(hashKey) mod count, or of the sort key when the hash key is empty', () => {
  assert.is(partitionHash(b(''), b('')), 0xef46db3751d8e999n);
  assert.is(partitionHash(b('user1'), b('anything')), xxh64(b('user1')));
  assert.is(partitionHash(b(''), b('sk')), xxh64(b('sk')));
  assert.is(partitionIndex(b('user1'), b('x'), 8), Number(xxh64(b('user1')) % 8n));
  assert.is(partitionIndex(b(''), b('sk'), 7), Number(xxh64(b('sk')) % 7n));
  fc.assert(
    fc.property(edgeBytes(8), edgeBytes(8), edgeBytes(8), fc.integer({ min: 1, max: 64 }), (hashKey, one, two, count) => {
      const index = partitionIndex(hashKey, one, count);
      assert.ok(index >= 0 && index < count);
      if (hashKey.length > 0) assert.is(partitionIndex(hashKey, two, count), index, 'one hash key, one partition');
    }),
    propertyParameters(300),
  );
  throwsCode(() => partitionIndex(b('a'), b(''), 0), 'INVALID_PAR_COUNT');
});

test.run();
