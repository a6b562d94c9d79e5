/**
 * Applying a mutation: every write of one decree, in order, into one engine batch that the
 * engine applies atomically with the decree. The result is a pure function of the engine's
 * state and the mutation — "now" for expiry checks is the mutation's `nowSeconds`, and every
 * expiry was resolved by the primary — so replicas applying the same mutations hold
 * byte-identical data.
 *
 * Later writes of a mutation see the earlier ones (an overlay of the batch's puts and deletes),
 * so two increments of one key in one decree add up. Each write gets its own response; a write
 * that fails (an incr of a non-integer, a malformed write) writes nothing and does not affect
 * the others.
 */
import { PetrelError, type ErrorCode, isPetrelError } from '@petrel/base';
import {
  type CheckAndSetResponse,
  type ErrorInfo,
  type Mutation,
  type MutationWrite,
  type WriteResponse,
  MAX_EXPIRE_TS,
  checkHashKey,
  encodeStoredKey,
  encodeStoredValue,
  isExpired,
  storedExpireTs,
  storedUserValue,
} from '@petrel/protocol';
import { evaluateCheck, isCheckType } from './check.js';
import type { EngineBatch, StorageEngine } from './engine.js';
import { INT64_MAX, INT64_MIN, isInt64, parseInt64 } from './int64.js';

function errorInfo(code: ErrorCode, message: string): ErrorInfo {
  return { code, message };
}

function checkExpireTs(expireTs: number, allowKeepAndRemove: boolean): void {
  const low = allowKeepAndRemove ? -1 : 0;
  if (!Number.isInteger(expireTs) || expireTs < low || expireTs > MAX_EXPIRE_TS) {
    throw new PetrelError('INVALID_ARGUMENT', `expireTs ${expireTs} is out of range`);
  }
}

/** The structural rules every write must meet (the primary checked them already). */
function validateWrite(write: MutationWrite): void {
  switch (write.type) {
    case 'set':
      checkHashKey(write.hashKey, true);
      return checkExpireTs(write.expireTs, false);
    case 'multiSet':
      checkHashKey(write.hashKey, false);
      if (write.entries.length === 0) throw new PetrelError('INVALID_VALUE', 'multiSet needs at least one entry');
      return checkExpireTs(write.expireTs, false);
    case 'del':
      return checkHashKey(write.hashKey, true);
    case 'multiDel':
      checkHashKey(write.hashKey, false);
      if (write.sortKeys.length === 0) throw new PetrelError('INVALID_VALUE', 'multiDel needs at least one sort key');
      return;
    case 'incr':
      checkHashKey(write.hashKey, true);
      if (!isInt64(write.increment)) throw new PetrelError('INVALID_ARGUMENT', 'increment is not an int64');
      return checkExpireTs(write.expireTs, true);
    case 'checkAndSet':
      checkHashKey(write.hashKey, false);
      if (!isCheckType(write.checkType)) throw new PetrelError('INVALID_ARGUMENT', `unknown check type ${String(write.checkType)}`);
      return checkExpireTs(write.expireTs, false);
    case 'checkAndMutate':
      checkHashKey(write.hashKey, false);
      if (!isCheckType(write.checkType)) throw new PetrelError('INVALID_ARGUMENT', `unknown check type ${String(write.checkType)}`);
      if (write.mutations.length === 0) throw new PetrelError('INVALID_ARGUMENT', 'checkAndMutate needs at least one mutation');
      for (const operation of write.mutations) {
        if (operation.op === 'set') checkExpireTs(operation.expireTs, false);
        else if (operation.op !== 'del') throw new PetrelError('INVALID_ARGUMENT', `unknown mutate operation ${String((operation as { op?: unknown }).op)}`);
      }
      return;
    default:
      throw new PetrelError('INVALID_ARGUMENT', `unknown write type ${String((write as { type?: unknown }).type)}`);
  }
}

function failedResponse(write: MutationWrite, error: ErrorInfo): WriteResponse {
  switch (write.type) {
    case 'set':
    case 'multiSet':
    case 'del':
      return { type: write.type, response: { error } };
    case 'multiDel':
      return { type: 'multiDel', response: { error, count: 0 } };
    case 'incr':
      return { type: 'incr', response: { error, newValue: 0n } };
    case 'checkAndSet':
    case 'checkAndMutate':
      return { type: write.type, response: { error, succeeded: false, checkValueReturned: false, checkValueExists: false, checkValue: null } };
    default:
      return { type: 'set', response: { error } };
  }
}

/** One mutation being applied: its batch, and what its earlier writes did. */
class Application {
  readonly batch: EngineBatch;
  /** Stored values written earlier in this mutation (undefined: deleted), by key. */
  private readonly overlay: Map<string, Buffer | undefined> | undefined;

  constructor(
    private readonly engine: StorageEngine,
    private readonly mutation: Mutation,
  ) {
    this.batch = engine.newBatch();
    this.overlay = mutation.writes.length > 1 ? new Map() : undefined;
  }

  /** The stored value of `key` as this mutation sees it. */
  private readStored(key: Buffer): Buffer | undefined {
    if (this.overlay !== undefined) {
      const id = key.toString('latin1');
      if (this.overlay.has(id)) return this.overlay.get(id);
    }
    return this.engine.get(key);
  }

  /** The live value of `key` and its expiry, or undefined when absent or expired. */
  readLive(key: Buffer): { value: Buffer; expireTs: number } | undefined {
    const stored = this.readStored(key);
    if (stored === undefined) return undefined;
    const expireTs = storedExpireTs(stored);
    if (isExpired(expireTs, this.mutation.nowSeconds)) return undefined;
    return { value: storedUserValue(stored), expireTs };
  }

  put(key: Buffer, value: Uint8Array, expireTs: number): void {
    let finalExpireTs = expireTs;
    if (finalExpireTs === 0 && this.mutation.defaultTtlSeconds > 0) {
      finalExpireTs = Math.min(this.mutation.nowSeconds + this.mutation.defaultTtlSeconds, MAX_EXPIRE_TS);
    }
    const stored = encodeStoredValue(value, finalExpireTs);
    this.batch.put(key, stored);
    this.overlay?.set(key.toString('latin1'), stored);
  }

  del(key: Buffer): void {
    this.batch.del(key);
    this.overlay?.set(key.toString('latin1'), undefined);
  }

  apply(write: MutationWrite): WriteResponse {
    try {
      validateWrite(write);
    } catch (error) {
      if (!isPetrelError(error)) throw error;
      return failedResponse(write, errorInfo(error.code, error.message));
    }
    switch (write.type) {
      case 'set':
        this.put(encodeStoredKey(write.hashKey, write.sortKey), write.value, write.expireTs);
        return { type: 'set', response: { error: null } };
      case 'multiSet':
        for (const entry of write.entries) this.put(encodeStoredKey(write.hashKey, entry.sortKey), entry.value, write.expireTs);
        return { type: 'multiSet', response: { error: null } };
      case 'del':
        this.del(encodeStoredKey(write.hashKey, write.sortKey));
        return { type: 'del', response: { error: null } };
      case 'multiDel':
        for (const sortKey of write.sortKeys) this.del(encodeStoredKey(write.hashKey, sortKey));
        return { type: 'multiDel', response: { error: null, count: write.sortKeys.length } };
      case 'incr':
        return { type: 'incr', response: this.incr(write) };
      case 'checkAndSet':
      case 'checkAndMutate':
        return { type: write.type, response: this.checkAndWrite(write) } as WriteResponse;
    }
  }

  private incr(write: Extract<MutationWrite, { type: 'incr' }>): { error: ErrorInfo | null; newValue: bigint } {
    const key = encodeStoredKey(write.hashKey, write.sortKey);
    const live = this.readLive(key);
    let newValue: bigint;
    let newExpireTs: number;
    if (live === undefined) {
      // Absent or expired counts as 0, and only a new TTL applies.
      newValue = write.increment;
      newExpireTs = write.expireTs > 0 ? write.expireTs : 0;
    } else {
      let oldValue = 0n;
      if (live.value.length > 0) {
        const parsed = parseInt64(live.value);
        if (parsed === undefined) {
          return { error: errorInfo('INVALID_ARGUMENT', 'incr: the stored value is not a decimal int64'), newValue: 0n };
        }
        oldValue = parsed;
      }
      newValue = oldValue + write.increment;
      if (newValue > INT64_MAX || newValue < INT64_MIN) {
        return { error: errorInfo('INVALID_ARGUMENT', `incr: ${oldValue} + ${write.increment} overflows int64`), newValue: oldValue };
      }
      newExpireTs = write.expireTs === 0 ? live.expireTs : write.expireTs < 0 ? 0 : write.expireTs;
    }
    this.put(key, Buffer.from(newValue.toString()), newExpireTs);
    return { error: null, newValue };
  }

  private checkAndWrite(write: Extract<MutationWrite, { type: 'checkAndSet' | 'checkAndMutate' }>): CheckAndSetResponse {
    const checkKey = encodeStoredKey(write.hashKey, write.checkSortKey);
    const live = this.readLive(checkKey);
    const response: CheckAndSetResponse = {
      error: null,
      succeeded: false,
      checkValueReturned: write.returnCheckValue,
      checkValueExists: write.returnCheckValue && live !== undefined,
      checkValue: write.returnCheckValue && live !== undefined ? Buffer.from(live.value) : null,
    };
    const outcome = evaluateCheck(write.checkType, write.checkOperand, live?.value);
    if (outcome.invalidArgument) {
      response.error = errorInfo('INVALID_ARGUMENT', `${write.checkType}: the check value or the operand is not a decimal int64`);
      return response;
    }
    if (!outcome.passed) return response;
    response.succeeded = true;
    if (write.type === 'checkAndSet') {
      const setKey = write.setSortKey.equals(write.checkSortKey) ? checkKey : encodeStoredKey(write.hashKey, write.setSortKey);
      this.put(setKey, write.setValue, write.expireTs);
    } else {
      for (const operation of write.mutations) {
        const key = encodeStoredKey(write.hashKey, operation.sortKey);
        if (operation.op === 'set') this.put(key, operation.value, operation.expireTs);
        else this.del(key);
      }
    }
    return response;
  }
}

/**
 * Applies `mutation` as `decree`: computes every write's effect and response, then hands the
 * batch to the engine, which applies it atomically. Throws if the engine refuses the batch (then
 * nothing was applied).
 */
export function applyMutation(engine: StorageEngine, decree: number, mutation: Mutation): WriteResponse[] {
  const application = new Application(engine, mutation);
  const responses: WriteResponse[] = [];
  for (const write of mutation.writes) responses.push(application.apply(write));
  engine.write(application.batch, decree);
  return responses;
}
