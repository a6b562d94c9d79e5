/**
 * Argument checks at the edge of the API. Every public method runs its arguments through these
 * before anything is sent, so a bad call costs no round trip and reaches no server: the codes
 * are those of CLIENT_API.md (INVALID_ARGUMENT, INVALID_HASH_KEY, INVALID_VALUE,
 * VALUE_TOO_LARGE, INVALID_SPLIT_COUNT, INVALID_APP_NAME, INVALID_PAR_COUNT, INVALID_REP_COUNT).
 *
 * The limits mirror the replica's own checks (the storage app's mutation builder), so that the
 * client refuses exactly what a server would refuse.
 */
import { PetrelError } from '@petrel/base';
import { type Filter as WireFilter, MAX_HASH_KEY_BYTES, MAX_EXPIRE_TS, isCheckType, isFilterType } from '@petrel/protocol';
import type { Bytes, CheckType, Filter } from './types.js';

/** Keys, values and operands of one write together: more is VALUE_TOO_LARGE (the replica's limit). */
export const MAX_WRITE_BYTES = 1 << 20;
/** The largest timeout a request header carries (a u32 of milliseconds). */
export const MAX_TIMEOUT_MS = 0xffffffff;
/** `int` fields on the wire hold integers up to ±(2^52 − 1). */
const MAX_WIRE_INT = 2 ** 52 - 1;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

export const EMPTY = Buffer.alloc(0);

export function invalid(message: string): never {
  throw new PetrelError('INVALID_ARGUMENT', message);
}

/** A Bytes argument as a Buffer (a view of a Uint8Array, UTF-8 of a string). */
export function toBuffer(value: unknown, field: string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return invalid(`${field} must be a string or a Uint8Array (got ${describe(value)})`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/**
 * A hash key: at most 65534 bytes anywhere (INVALID_HASH_KEY), and not empty unless the
 * operation addresses a single record.
 */
export function toHashKey(value: unknown, allowEmpty: boolean): Buffer {
  const hashKey = toBuffer(value, 'hashKey');
  if (hashKey.length > MAX_HASH_KEY_BYTES) {
    throw new PetrelError('INVALID_HASH_KEY', `hash key of ${hashKey.length} bytes: the limit is ${MAX_HASH_KEY_BYTES}`);
  }
  if (!allowEmpty && hashKey.length === 0) throw new PetrelError('INVALID_HASH_KEY', 'the hash key must not be empty for this operation');
  return hashKey;
}

/** An options argument: undefined or a plain object. */
export function optionsOf<T extends object>(value: T | undefined, name = 'options'): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(`${name} must be an object`);
  return value;
}

/** The call's timeout: the option, else the client's default; a positive number of milliseconds. */
export function timeoutOf(value: unknown, defaultMs: number): number {
  if (value === undefined) return defaultMs;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_MS) {
    invalid(`timeoutMs must be a positive number of milliseconds up to ${MAX_TIMEOUT_MS} (got ${String(value)})`);
  }
  return value;
}

/** A write's TTL: 0 or absent = none; a non-negative integer that keeps expireTs within u32. */
export function ttlOf(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value)) invalid(`ttlSeconds must be an integer (got ${String(value)})`);
  if (value < 0) invalid(`ttlSeconds must not be negative (got ${value})`);
  if (value > MAX_EXPIRE_TS) invalid(`ttlSeconds ${value} is past the largest expiry time`);
  return value;
}

/** incr's TTL: 0 keeps the existing one, > 0 sets one, -1 removes it; below -1 is invalid. */
export function incrTtlOf(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value)) invalid(`ttlSeconds must be an integer (got ${String(value)})`);
  if (value < -1) invalid(`incr ttlSeconds must be -1 or more (got ${value})`);
  if (value > MAX_EXPIRE_TS) invalid(`ttlSeconds ${value} is past the largest expiry time`);
  return value;
}

/** An int64 increment, from a bigint or a safe integer. */
export function incrementOf(value: unknown): bigint {
  let increment: bigint;
  if (typeof value === 'bigint') increment = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) increment = BigInt(value);
  else return invalid(`increment must be a bigint or a safe integer (got ${String(value)})`);
  if (increment < INT64_MIN || increment > INT64_MAX) invalid(`increment ${increment} is outside int64`);
  return increment;
}

/** A signed count limit (maxCount, maxBytes, batchSize): an integer; ≤ 0 means no limit. */
export function limitOf(value: unknown, field: string, defaultValue: number): number {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > MAX_WIRE_INT) invalid(`${field} must be an integer (got ${String(value)})`);
  return value;
}

export function boolOf(value: unknown, field: string, defaultValue: boolean): boolean {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'boolean') invalid(`${field} must be a boolean (got ${describe(value)})`);
  return value;
}

const NO_FILTER: WireFilter = { type: 'none', pattern: EMPTY };

export function filterOf(value: Filter | undefined, field: string): WireFilter {
  if (value === undefined) return NO_FILTER;
  if (typeof value !== 'object' || value === null) invalid(`${field} must be { type, pattern }`);
  if (typeof value.type !== 'string' || !isFilterType(value.type)) invalid(`${field}.type must be one of none, anywhere, prefix, postfix (got ${String(value.type)})`);
  const pattern = value.pattern === undefined && value.type === 'none' ? EMPTY : toBuffer(value.pattern, `${field}.pattern`);
  return { type: value.type, pattern };
}


export function checkTypeOf(value: unknown): CheckType {
  if (typeof value !== 'string' || !isCheckType(value)) invalid(`unknown check type ${String(value)}`);
  return value as CheckType;
}

/** VALUE_TOO_LARGE when a write's keys, values and operands add up to more than 1 MiB. */
export function checkWriteSize(bytes: number, operation: string): void {
  if (bytes > MAX_WRITE_BYTES) throw new PetrelError('VALUE_TOO_LARGE', `a ${operation} of ${bytes} bytes is over the limit of ${MAX_WRITE_BYTES}`);
}

/** Table names: `[0-9a-zA-Z._:]`, 1 to 256 characters. */
export function tableNameOf(value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-zA-Z._:]{1,256}$/.test(value)) {
    throw new PetrelError('INVALID_APP_NAME', `table names are 1 to 256 characters of [0-9a-zA-Z._:] (got ${JSON.stringify(value)})`);
  }
  return value;
}

export function positiveIntegerOf(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) invalid(`${field} must be a positive integer (got ${String(value)})`);
  return value;
}

export function nonNegativeIntegerOf(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) invalid(`${field} must be a non-negative integer (got ${String(value)})`);
  return value;
}

export function envsOf(value: unknown, field = 'envs'): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(`${field} must be an object of strings`);
  const envs: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') invalid(`${field}.${key} must be a string`);
    envs[key] = entry;
  }
  return envs;
}
