/**
 * The primary's side of a write: it validates each client write request and turns it into a
 * mutation write with its times resolved — a TTL becomes an absolute expireTs counted from the
 * moment the builder was made (so each `set` of a checkAndMutate counts from the call, not from
 * when the client built it) — then packs the writes of one decree into a Mutation that carries
 * that moment as `nowSeconds` and the table's default_ttl. Applying the mutation reads no clock,
 * so every replica reaches the same state.
 *
 * A request that fails validation throws a PetrelError and is not added; the primary answers it
 * at once, without replicating anything.
 */
import { type Clock, PetrelError } from '@petrel/base';
import {
  type Mutation,
  type MutationOperation,
  type MutationWrite,
  type WriteRequest,
  MAX_EXPIRE_TS,
  checkHashKey,
  expireTsFromTtl,
  unixSeconds,
} from '@petrel/protocol';
import { isCheckType } from './check.js';
import { isInt64 } from './int64.js';

/** Writes larger than this (keys, values and operands together) are VALUE_TOO_LARGE. */
export const DEFAULT_MAX_WRITE_BYTES = 1 << 20;

function invalid(message: string): never {
  throw new PetrelError('INVALID_ARGUMENT', message);
}

function checkBytes(value: unknown, field: string): asserts value is Buffer {
  if (!(value instanceof Uint8Array)) invalid(`${field} must be bytes`);
}

function resolveTtl(nowSeconds: number, ttlSeconds: number, field = 'ttlSeconds'): number {
  if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds)) invalid(`${field} must be an integer (got ${String(ttlSeconds)})`);
  if (ttlSeconds < 0) invalid(`${field} must not be negative (got ${ttlSeconds})`);
  return expireTsFromTtl(nowSeconds, ttlSeconds);
}

/** The expireTs field of an incr: 0 keeps the TTL, -1 removes it, > 0 sets it. */
function resolveIncrTtl(nowSeconds: number, ttlSeconds: number): number {
  if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds)) invalid(`ttlSeconds must be an integer (got ${String(ttlSeconds)})`);
  if (ttlSeconds < -1) invalid(`incr ttlSeconds must be -1 or more (got ${ttlSeconds})`);
  if (ttlSeconds <= 0) return ttlSeconds;
  return expireTsFromTtl(nowSeconds, ttlSeconds);
}

/** Bytes a write carries: what the 1 MiB limit measures. */
function writeBytes(write: MutationWrite): number {
  switch (write.type) {
    case 'set':
      return write.hashKey.length + write.sortKey.length + write.value.length;
    case 'multiSet':
      return write.entries.reduce((sum, entry) => sum + entry.sortKey.length + entry.value.length, write.hashKey.length);
    case 'del':
      return write.hashKey.length + write.sortKey.length;
    case 'multiDel':
      return write.sortKeys.reduce((sum, key) => sum + key.length, write.hashKey.length);
    case 'incr':
      return write.hashKey.length + write.sortKey.length + 8;
    case 'checkAndSet':
      return write.hashKey.length + write.checkSortKey.length + write.checkOperand.length + write.setSortKey.length + write.setValue.length;
    case 'checkAndMutate':
      return write.mutations.reduce(
        (sum, operation) => sum + operation.sortKey.length + (operation.op === 'set' ? operation.value.length : 0),
        write.hashKey.length + write.checkSortKey.length + write.checkOperand.length,
      );
  }
}

/**
 * Validates one client write and resolves its times at `nowSeconds`. Throws INVALID_HASH_KEY,
 * INVALID_VALUE, INVALID_ARGUMENT or VALUE_TOO_LARGE as CLIENT_API.md prescribes.
 */
export function prepareWrite(write: WriteRequest, nowSeconds: number, maxWriteBytes = DEFAULT_MAX_WRITE_BYTES): MutationWrite {
  let prepared: MutationWrite;
  switch (write.type) {
    case 'set': {
      const { hashKey, sortKey, value, ttlSeconds } = write.request;
      checkBytes(hashKey, 'hashKey');
      checkBytes(sortKey, 'sortKey');
      checkBytes(value, 'value');
      checkHashKey(hashKey, true);
      prepared = { type: 'set', hashKey, sortKey, value, expireTs: resolveTtl(nowSeconds, ttlSeconds) };
      break;
    }
    case 'multiSet': {
      const { hashKey, entries, ttlSeconds } = write.request;
      checkBytes(hashKey, 'hashKey');
      checkHashKey(hashKey, false);
      if (!Array.isArray(entries) || entries.length === 0) throw new PetrelError('INVALID_VALUE', 'multiSet needs at least one entry');
      for (const entry of entries) {
        checkBytes(entry.sortKey, 'sortKey');
        checkBytes(entry.value, 'value');
      }
      prepared = { type: 'multiSet', hashKey, entries, expireTs: resolveTtl(nowSeconds, ttlSeconds) };
      break;
    }
    case 'del': {
      const { hashKey, sortKey } = write.request;
      checkBytes(hashKey, 'hashKey');
      checkBytes(sortKey, 'sortKey');
      checkHashKey(hashKey, true);
      prepared = { type: 'del', hashKey, sortKey };
      break;
    }
    case 'multiDel': {
      const { hashKey, sortKeys } = write.request;
      checkBytes(hashKey, 'hashKey');
      checkHashKey(hashKey, false);
      if (!Array.isArray(sortKeys) || sortKeys.length === 0) throw new PetrelError('INVALID_VALUE', 'multiDel needs at least one sort key');
      for (const key of sortKeys) checkBytes(key, 'sortKey');
      prepared = { type: 'multiDel', hashKey, sortKeys };
      break;
    }
    case 'incr': {
      const { hashKey, sortKey, increment, ttlSeconds } = write.request;
      checkBytes(hashKey, 'hashKey');
      checkBytes(sortKey, 'sortKey');
      checkHashKey(hashKey, true);
      if (typeof increment !== 'bigint' || !isInt64(increment)) invalid(`increment must be an int64 (got ${String(increment)})`);
      prepared = { type: 'incr', hashKey, sortKey, increment, expireTs: resolveIncrTtl(nowSeconds, ttlSeconds) };
      break;
    }
    case 'checkAndSet': {
      const request = write.request;
      checkBytes(request.hashKey, 'hashKey');
      checkBytes(request.checkSortKey, 'checkSortKey');
      checkBytes(request.checkOperand, 'checkOperand');
      checkBytes(request.setSortKey, 'setSortKey');
      checkBytes(request.setValue, 'setValue');
      checkHashKey(request.hashKey, false);
      if (!isCheckType(request.checkType)) invalid(`unknown check type ${String(request.checkType)}`);
      prepared = {
        type: 'checkAndSet',
        hashKey: request.hashKey,
        checkSortKey: request.checkSortKey,
        checkType: request.checkType,
        checkOperand: request.checkOperand,
        setSortKey: request.setSortKey,
        setValue: request.setValue,
        expireTs: resolveTtl(nowSeconds, request.ttlSeconds),
        returnCheckValue: request.returnCheckValue === true,
      };
      break;
    }
    case 'checkAndMutate': {
      const request = write.request;
      checkBytes(request.hashKey, 'hashKey');
      checkBytes(request.checkSortKey, 'checkSortKey');
      checkBytes(request.checkOperand, 'checkOperand');
      checkHashKey(request.hashKey, false);
      if (!isCheckType(request.checkType)) invalid(`unknown check type ${String(request.checkType)}`);
      if (!Array.isArray(request.mutations) || request.mutations.length === 0) invalid('checkAndMutate needs at least one mutation');
      const mutations: MutationOperation[] = request.mutations.map((operation, index) => {
        checkBytes(operation.sortKey, `mutations[${index}].sortKey`);
        if (operation.op === 'set') {
          checkBytes(operation.value, `mutations[${index}].value`);
          return { op: 'set', sortKey: operation.sortKey, value: operation.value, expireTs: resolveTtl(nowSeconds, operation.ttlSeconds, `mutations[${index}].ttlSeconds`) };
        }
        if (operation.op === 'del') return { op: 'del', sortKey: operation.sortKey };
        return invalid(`mutations[${index}]: unknown operation ${String((operation as { op?: unknown }).op)}`);
      });
      prepared = {
        type: 'checkAndMutate',
        hashKey: request.hashKey,
        checkSortKey: request.checkSortKey,
        checkType: request.checkType,
        checkOperand: request.checkOperand,
        mutations,
        returnCheckValue: request.returnCheckValue === true,
      };
      break;
    }
    default:
      return invalid(`unknown write type ${String((write as { type?: unknown }).type)}`);
  }
  const bytes = writeBytes(prepared);
  if (bytes > maxWriteBytes) throw new PetrelError('VALUE_TOO_LARGE', `a ${write.type} of ${bytes} bytes is over the limit of ${maxWriteBytes}`);
  return prepared;
}

export interface MutationBuilderOptions {
  /** The table's default_ttl in seconds (0: none). */
  defaultTtlSeconds?: number;
  maxWriteBytes?: number;
}

/** Collects the writes of one decree. */
export class MutationBuilder {
  readonly nowSeconds: number;
  private readonly defaultTtlSeconds: number;
  private readonly maxWriteBytes: number;
  private readonly writes: MutationWrite[] = [];

  constructor(clock: Clock, options: MutationBuilderOptions = {}) {
    this.nowSeconds = unixSeconds(clock.wallMs());
    if (this.nowSeconds < 0 || this.nowSeconds > MAX_EXPIRE_TS) throw new PetrelError('SERVER_INTERNAL_ERROR', `the wall clock (${this.nowSeconds} s) is outside u32 seconds`);
    this.defaultTtlSeconds = options.defaultTtlSeconds ?? 0;
    this.maxWriteBytes = options.maxWriteBytes ?? DEFAULT_MAX_WRITE_BYTES;
  }

  /** Validates and adds one write; throws (and adds nothing) when it is invalid. */
  add(write: WriteRequest): MutationWrite {
    const prepared = prepareWrite(write, this.nowSeconds, this.maxWriteBytes);
    this.writes.push(prepared);
    return prepared;
  }

  get writeCount(): number {
    return this.writes.length;
  }

  build(): Mutation {
    return { nowSeconds: this.nowSeconds, defaultTtlSeconds: this.defaultTtlSeconds, writes: this.writes.slice() };
  }
}

/** One mutation of the given writes, validated, at the clock's time. */
export function buildMutation(clock: Clock, writes: WriteRequest[], options: MutationBuilderOptions = {}): Mutation {
  const builder = new MutationBuilder(clock, options);
  for (const write of writes) builder.add(write);
  return builder.build();
}
