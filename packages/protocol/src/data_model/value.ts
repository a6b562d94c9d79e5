/**
 * The stored value: the user's bytes behind a small header that carries the record's expiry.
 *
 *   stored value = [u8 format version = 1][u32 BE expireTs][user bytes]
 *
 * expireTs is a unix time in seconds; 0 means no TTL. A record is expired — invisible to every
 * read, dropped by compaction — once `expireTs > 0 && expireTs <= now`. The largest expireTs is
 * 2^32 - 1 (year 2106): a TTL that would pass it is INVALID_ARGUMENT.
 */
import { PetrelError } from '@petrel/base';

export const VALUE_FORMAT_VERSION = 1;
export const VALUE_HEADER_BYTES = 5;
export const MAX_EXPIRE_TS = 0xffffffff;

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The stored value of `userValue` expiring at `expireTs` (0: never). */
export function encodeStoredValue(userValue: Uint8Array, expireTs: number): Buffer {
  if (!Number.isInteger(expireTs) || expireTs < 0 || expireTs > MAX_EXPIRE_TS) {
    throw new PetrelError('INVALID_ARGUMENT', `expireTs ${expireTs} is not a u32 of unix seconds`);
  }
  const stored = Buffer.allocUnsafe(VALUE_HEADER_BYTES + userValue.length);
  stored[0] = VALUE_FORMAT_VERSION;
  stored.writeUInt32BE(expireTs, 1);
  stored.set(userValue, VALUE_HEADER_BYTES);
  return stored;
}

function checkHeader(stored: Uint8Array): void {
  if (stored.length < VALUE_HEADER_BYTES) throw new PetrelError('CORRUPTION', `stored value of ${stored.length} bytes is shorter than its header`);
  if (stored[0] !== VALUE_FORMAT_VERSION) throw new PetrelError('CORRUPTION', `stored value has unknown format version ${stored[0]}`);
}

/** The expiry of a stored value (unix seconds, 0 = no TTL). CORRUPTION when malformed. */
export function storedExpireTs(stored: Uint8Array): number {
  checkHeader(stored);
  return (((stored[1] as number) << 24) >>> 0) + ((stored[2] as number) << 16) + ((stored[3] as number) << 8) + (stored[4] as number);
}

/** The user's bytes of a stored value, as a view. CORRUPTION when malformed. */
export function storedUserValue(stored: Uint8Array): Buffer {
  checkHeader(stored);
  return asBuffer(stored).subarray(VALUE_HEADER_BYTES);
}

/** A copy of a stored value with another expiry. */
export function withExpireTs(stored: Uint8Array, expireTs: number): Buffer {
  return encodeStoredValue(storedUserValue(stored), expireTs);
}

/** Whether a record expiring at `expireTs` is expired at `nowSeconds`. */
export function isExpired(expireTs: number, nowSeconds: number): boolean {
  return expireTs > 0 && expireTs <= nowSeconds;
}

/**
 * The expireTs of a write made at `nowSeconds` with `ttlSeconds` (0: no TTL). INVALID_ARGUMENT
 * for a negative, fractional or too large TTL.
 */
export function expireTsFromTtl(nowSeconds: number, ttlSeconds: number): number {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0) {
    throw new PetrelError('INVALID_ARGUMENT', `ttlSeconds must be a non-negative integer (got ${ttlSeconds})`);
  }
  if (ttlSeconds === 0) return 0;
  const expireTs = nowSeconds + ttlSeconds;
  if (expireTs > MAX_EXPIRE_TS) throw new PetrelError('INVALID_ARGUMENT', `ttlSeconds ${ttlSeconds} expires after the year 2106`);
  return expireTs;
}

/** Unix seconds of a wall-clock time in milliseconds. */
export function unixSeconds(wallMs: number): number {
  return Math.floor(wallMs / 1000);
}
