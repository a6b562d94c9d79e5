/**
 * How a YCSB key number becomes a key, and how that key maps onto Petrel's two-part key.
 *
 * YCSB ("hashed" insert order) names record number n `user<fnv64(n)>`; here the hash is written
 * as 16 hexadecimal digits, so every key has the same length (20 bytes) and keys sort bytewise.
 * Petrel stores `(hashKey, sortKey)`; the mapping is
 *
 *     key      = "user" + 16 hex digits of fnv64(n)        e.g. user3fa94c0e1b27d855
 *     hashKey  = "user" + the first `hashKeyDigits` digits   user3f       (default 2 digits)
 *     sortKey  = the remaining digits                       a94c0e1b27d855
 *
 * Because the digits are a hash, the 16^hashKeyDigits hash keys (256 by default) hold equal
 * shares of the records (recordCount / 256 each), so the hash keys spread evenly over Petrel's
 * partitions, and workload E's "short scan" — up to 100 records from a start key onward — stays
 * within one hash key, which is the only kind of ordered scan Petrel offers (`multiGetRange`),
 * and usually finds its records there. Systems with flat keys (Redis, etcd) use `key` itself and
 * scan the key range [key, end of its hash key), so every system answers the same question.
 */
import { fnv64Hex } from './fnv64.js';

export interface KvKey {
  /** The whole YCSB key: `hashKey + sortKey`. */
  readonly key: string;
  readonly hashKey: string;
  readonly sortKey: string;
}

export const KEY_PREFIX = 'user';
export const DEFAULT_HASH_KEY_DIGITS = 2;

export class KeySpace {
  readonly hashKeyLength: number;

  constructor(readonly hashKeyDigits: number = DEFAULT_HASH_KEY_DIGITS) {
    if (!Number.isInteger(hashKeyDigits) || hashKeyDigits < 0 || hashKeyDigits > 15) {
      throw new RangeError(`hashKeyDigits must be an integer in [0, 15], got ${hashKeyDigits}`);
    }
    this.hashKeyLength = KEY_PREFIX.length + hashKeyDigits;
  }

  /** The key of record number `keyNumber`. */
  keyOf(keyNumber: number): KvKey {
    const key = KEY_PREFIX + fnv64Hex(keyNumber);
    return { key, hashKey: key.slice(0, this.hashKeyLength), sortKey: key.slice(this.hashKeyLength) };
  }

  /** How many distinct hash keys the space has. */
  get hashKeyCount(): number {
    return 16 ** this.hashKeyDigits;
  }
}

/**
 * The smallest key greater than every key that starts with `prefix` (for an exclusive range
 * end). Hash keys here are ASCII, so bumping the last character is enough.
 */
export function prefixEnd(prefix: string): string {
  if (prefix.length === 0) throw new RangeError('prefixEnd of an empty prefix');
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
