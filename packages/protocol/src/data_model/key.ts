/**
 * The stored key: how a user's (hashKey, sortKey) pair is laid out in a partition's LSM.
 *
 *   stored key = [u16 BE hashKey length][hashKey bytes][sortKey bytes]
 *
 * Keys compare bytewise, so one partition's data is ordered by hash-key length, then hash key,
 * then sort key — every record of one hash key is contiguous and sorted by sort key, which is
 * what multiGet, sortKeyCount and scans iterate. The length prefix means records of different
 * hash keys are not in the hash keys' own byte order ("aa" sorts after "b"); only the records of
 * one hash key form a range.
 *
 * Hash keys are at most 65534 bytes (65535 and more is INVALID_HASH_KEY everywhere).
 */
import { PetrelError } from '@petrel/base';

/** The longest hash key, in bytes. */
export const MAX_HASH_KEY_BYTES = 65534;

const EMPTY = Buffer.alloc(0);

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Fails with INVALID_HASH_KEY unless `hashKey` may be used: at most MAX_HASH_KEY_BYTES, and not
 * empty unless `allowEmpty` (single-key operations allow it; multi-key ones do not).
 */
export function checkHashKey(hashKey: Uint8Array, allowEmpty: boolean): void {
  if (hashKey.length > MAX_HASH_KEY_BYTES) {
    throw new PetrelError('INVALID_HASH_KEY', `hash key of ${hashKey.length} bytes: the limit is ${MAX_HASH_KEY_BYTES}`);
  }
  if (!allowEmpty && hashKey.length === 0) throw new PetrelError('INVALID_HASH_KEY', 'the hash key must not be empty');
}

/** The stored key of (hashKey, sortKey). Fails with INVALID_HASH_KEY for a hash key that is too long. */
export function encodeStoredKey(hashKey: Uint8Array, sortKey: Uint8Array): Buffer {
  checkHashKey(hashKey, true);
  const key = Buffer.allocUnsafe(2 + hashKey.length + sortKey.length);
  key[0] = hashKey.length >>> 8;
  key[1] = hashKey.length & 0xff;
  key.set(hashKey, 2);
  key.set(sortKey, 2 + hashKey.length);
  return key;
}

/** The stored-key prefix shared by every record of `hashKey`: [u16 BE length][hashKey]. */
export function hashKeyPrefix(hashKey: Uint8Array): Buffer {
  return encodeStoredKey(hashKey, EMPTY);
}

function hashKeyLengthOf(storedKey: Uint8Array): number {
  if (storedKey.length < 2) throw new PetrelError('CORRUPTION', `stored key of ${storedKey.length} bytes is shorter than its length prefix`);
  const length = ((storedKey[0] as number) << 8) | (storedKey[1] as number);
  if (2 + length > storedKey.length) {
    throw new PetrelError('CORRUPTION', `stored key of ${storedKey.length} bytes claims a hash key of ${length} bytes`);
  }
  return length;
}

/** The hash key and sort key of a stored key, as views into it. CORRUPTION when malformed. */
export function decodeStoredKey(storedKey: Uint8Array): { hashKey: Buffer; sortKey: Buffer } {
  const key = asBuffer(storedKey);
  const length = hashKeyLengthOf(key);
  return { hashKey: key.subarray(2, 2 + length), sortKey: key.subarray(2 + length) };
}

/** The hash key of a stored key, as a view. */
export function hashKeyOf(storedKey: Uint8Array): Buffer {
  const key = asBuffer(storedKey);
  return key.subarray(2, 2 + hashKeyLengthOf(key));
}

/** The sort key of a stored key, as a view. */
export function sortKeyOf(storedKey: Uint8Array): Buffer {
  const key = asBuffer(storedKey);
  return key.subarray(2 + hashKeyLengthOf(key));
}

/**
 * The smallest byte string greater than every string that starts with `prefix`: drop trailing
 * 0xff bytes, then add one to the last byte. Undefined when `prefix` is empty or all 0xff (no
 * such string: the range is unbounded above).
 */
export function prefixSuccessor(prefix: Uint8Array): Buffer | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const successor = Buffer.from(prefix.subarray(0, end));
  successor[end - 1] = (successor[end - 1] as number) + 1;
  return successor;
}

/** A range of stored keys: `lower` inclusive, `upper` exclusive. */
export interface KeyRange {
  lower: Buffer;
  upper: Buffer;
}

/**
 * Every stored key of one hash key: [prefix, successor(prefix)). The successor always exists,
 * because the length prefix of a valid hash key is at most 0xfffe.
 */
export function hashKeyRange(hashKey: Uint8Array): KeyRange {
  const lower = hashKeyPrefix(hashKey);
  const upper = prefixSuccessor(lower);
  if (upper === undefined) throw new PetrelError('INVALID_HASH_KEY', 'hash key range has no upper bound');
  return { lower, upper };
}

/**
 * The stored keys of one hash key whose sort key starts with `sortKeyPrefix`. An empty prefix
 * gives the whole hash key.
 */
export function sortKeyPrefixRange(hashKey: Uint8Array, sortKeyPrefix: Uint8Array): KeyRange {
  const lower = encodeStoredKey(hashKey, sortKeyPrefix);
  const upper = prefixSuccessor(lower);
  if (upper === undefined) throw new PetrelError('INVALID_HASH_KEY', 'sort key prefix range has no upper bound');
  return { lower, upper };
}

/**
 * The first stored key whose hash key may start with `hashKeyPrefix`. Hash keys that start with
 * the pattern are at least as long, so their stored keys are all ≥ [u16 len(pattern)][pattern]:
 * a full-partition scan with a hash-key prefix filter may start here. (There is no matching
 * upper bound: longer hash keys sort after every key of this length.)
 */
export function hashKeyPrefixScanStart(pattern: Uint8Array): Buffer {
  return encodeStoredKey(pattern, EMPTY);
}

/** Bounds of a scan over stored keys, as the scan request carries them. */
export interface ScanBounds {
  startKey: Buffer;
  /** Empty: no upper bound. */
  stopKey: Buffer;
  startInclusive: boolean;
  stopInclusive: boolean;
}

/**
 * The stored-key bounds of a scan over one hash key between two sort keys. An empty stop sort
 * key means "to the end of the hash key" (and makes the stop exclusive).
 */
export function hashKeyScanBounds(
  hashKey: Uint8Array,
  startSortKey: Uint8Array,
  stopSortKey: Uint8Array,
  startInclusive: boolean,
  stopInclusive: boolean,
): ScanBounds {
  const startKey = encodeStoredKey(hashKey, startSortKey);
  if (stopSortKey.length === 0) {
    return { startKey, stopKey: hashKeyRange(hashKey).upper, startInclusive, stopInclusive: false };
  }
  return { startKey, stopKey: encodeStoredKey(hashKey, stopSortKey), startInclusive, stopInclusive };
}

/** Bounds of a scan over a whole partition: every stored key. */
export function fullScanBounds(): ScanBounds {
  return { startKey: Buffer.alloc(0), stopKey: Buffer.alloc(0), startInclusive: true, stopInclusive: false };
}
