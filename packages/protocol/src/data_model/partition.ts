/**
 * Which partition holds a key: `xxh64(hashKey) mod partitionCount`, the hash taken as an unsigned
 * 64-bit integer, seed 0. An empty hash key hashes the sort key instead, so single-key records
 * with an empty hash key still spread over the partitions. Every record of one non-empty hash key
 * lives in one partition, which is what makes multi-key operations on it atomic.
 *
 * Needs `initChecksum()` from @petrel/base to have finished.
 */
import { PetrelError, xxh64 } from '@petrel/base';

/** The 64-bit partition hash of a key. */
export function partitionHash(hashKey: Uint8Array, sortKey: Uint8Array): bigint {
  return xxh64(hashKey.length > 0 ? hashKey : sortKey);
}

/** The partition index of a key among `partitionCount` partitions. */
export function partitionIndex(hashKey: Uint8Array, sortKey: Uint8Array, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new PetrelError('INVALID_PAR_COUNT', `partition count must be a positive integer (got ${partitionCount})`);
  }
  return Number(partitionHash(hashKey, sortKey) % BigInt(partitionCount));
}
