/**
 * TableClient: the `Table` of CLIENT_API.md. Each method checks its arguments (arguments.ts),
 * finds the partition of its key (`xxh64(hashKey) mod partitionCount`, the sort key for an empty
 * hash key), and sends one request to that partition's primary through the PartitionCaller,
 * which retries what is safe within the call's timeout. Reads may be re-sent after a lost
 * connection; writes never are once they may have reached the server.
 *
 * Multi-request operations: `delRange` (multiGet without values, then multiDel, batch after
 * batch under one deadline), scans (scanner.ts) and the batch operations (batch.ts).
 */
import { PetrelError } from '@petrel/base';
import {
  type CheckAndSetResponse,
  type ErrorInfo,
  type Filter as WireFilter,
  type MultiGetRequest,
  type MutateOperation,
  type ResponseBodies,
  hashKeyScanBounds,
  partitionIndex,
  sortKeyOf,
} from '@petrel/protocol';
import {
  EMPTY,
  boolOf,
  checkTypeOf,
  checkWriteSize,
  filterOf,
  incrTtlOf,
  incrementOf,
  invalid,
  limitOf,
  optionsOf,
  timeoutOf,
  toBuffer,
  toHashKey,
  ttlOf,
} from './arguments.js';
import { batchDel, batchGet, batchSet } from './batch.js';
import type { CallContext } from './call_context.js';
import { type PartitionCaller, type RoutedRequest, throwIfError } from './partition_caller.js';
import { scanHashKey, unorderedScanners } from './scanner.js';
import type {
  Bytes,
  CheckResult,
  CheckType,
  FetchLimits,
  MultiGetResult,
  Mutation,
  RangeOptions,
  Record_,
  ScanOptions,
  Scanner,
  Table,
  Timeout,
  TtlOptions,
} from './types.js';

/** Sort keys one delRange step reads and deletes. */
const DEL_RANGE_BATCH_COUNT = 1000;
/** Sort-key bytes one delRange step reads, keeping each multiDel well under the write limit. */
const DEL_RANGE_BATCH_BYTES = 256 * 1024;

/** A check-and-set's outcome; an error (an int check that did not parse) carries it as `checkResult`. */
function checkResultOf(response: CheckAndSetResponse): CheckResult {
  const result: CheckResult = {
    succeeded: response.succeeded,
    checkValueReturned: response.checkValueReturned,
    checkValueExists: response.checkValueExists,
    checkValue: response.checkValue,
  };
  if (response.error !== null) {
    const error = new PetrelError(response.error.code, response.error.message);
    (error as PetrelError & { checkResult?: CheckResult }).checkResult = result;
    throw error;
  }
  return result;
}

/** Pairs of a multiSet's `entries`: an iterable of [sortKey, value] or a record. */
function entriesOf(entries: unknown): { sortKey: Buffer; value: Buffer }[] {
  if (typeof entries !== 'object' || entries === null || entries instanceof Uint8Array) invalid('entries must be an iterable of [sortKey, value] pairs or an object');
  const pairs: unknown[] = Symbol.iterator in entries ? [...(entries as Iterable<unknown>)] : Object.entries(entries);
  return pairs.map((pair, index) => {
    if (!Array.isArray(pair) || pair.length !== 2) invalid(`entries[${index}] must be a [sortKey, value] pair`);
    return { sortKey: toBuffer(pair[0], `entries[${index}] sort key`), value: toBuffer(pair[1], `entries[${index}] value`) };
  });
}

function sortKeysOf(sortKeys: unknown, field: string): Buffer[] {
  if (!Array.isArray(sortKeys)) invalid(`${field} must be an array`);
  return sortKeys.map((key, index) => toBuffer(key, `${field}[${index}]`));
}

// What the single-key calls return of their responses (module functions: no closure per call).
function valueOf(response: { value: Buffer | null }): Buffer | null {
  return response.value;
}

function existsOf(response: { exists: boolean }): boolean {
  return response.exists;
}

function ttlSecondsOf(response: { ttlSeconds: number | null }): number | null {
  return response.ttlSeconds;
}

function writeResult(response: { error: ErrorInfo | null }): void {
  throwIfError(response.error);
}

function sumLengths(buffers: readonly Buffer[]): number {
  let total = 0;
  for (const buffer of buffers) total += buffer.length;
  return total;
}

export class TableClient implements Table {
  readonly name: string;
  readonly id: number;

  constructor(private readonly caller: PartitionCaller) {
    this.name = caller.routing.name;
    this.id = caller.routing.id;
  }

  get partitionCount(): number {
    return this.caller.routing.partitionCount;
  }

  private partitionOf(hashKey: Buffer, sortKey: Buffer): number {
    return partitionIndex(hashKey, sortKey, this.caller.routing.partitionCount);
  }

  private timeoutOf(options: { timeoutMs?: number | undefined }): number {
    return timeoutOf(options.timeoutMs, this.caller.defaultTimeoutMs);
  }

  // ---- Single-key operations ----

  set(hashKey: Bytes, sortKey: Bytes, value: Bytes, o?: TtlOptions): Promise<void> {
    try {
      const options = optionsOf(o);
      const request = { hashKey: toHashKey(hashKey, true), sortKey: toBuffer(sortKey, 'sortKey'), value: toBuffer(value, 'value'), ttlSeconds: ttlOf(options.ttlSeconds) };
      checkWriteSize(request.hashKey.length + request.sortKey.length + request.value.length, 'set');
      return this.caller.invoke('set', this.partitionOf(request.hashKey, request.sortKey), request, this.timeoutOf(options), false, writeResult);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  get(hashKey: Bytes, sortKey: Bytes, o?: Timeout): Promise<Buffer | null> {
    return this.readKey('get', hashKey, sortKey, o, valueOf);
  }

  exist(hashKey: Bytes, sortKey: Bytes, o?: Timeout): Promise<boolean> {
    return this.readKey('exist', hashKey, sortKey, o, existsOf);
  }

  del(hashKey: Bytes, sortKey: Bytes, o?: Timeout): Promise<void> {
    try {
      const options = optionsOf(o);
      const request = { hashKey: toHashKey(hashKey, true), sortKey: toBuffer(sortKey, 'sortKey') };
      checkWriteSize(request.hashKey.length + request.sortKey.length, 'del');
      return this.caller.invoke('del', this.partitionOf(request.hashKey, request.sortKey), request, this.timeoutOf(options), false, writeResult);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  ttl(hashKey: Bytes, sortKey: Bytes, o?: Timeout): Promise<number | null> {
    return this.readKey('ttl', hashKey, sortKey, o, ttlSecondsOf);
  }

  /** get, exist and ttl: one key's read, its result `pick` of the response; argument errors reject. */
  private readKey<N extends 'get' | 'exist' | 'ttl', T>(name: N, hashKey: Bytes, sortKey: Bytes, o: Timeout | undefined, pick: (response: ResponseBodies[N]) => T): Promise<T> {
    try {
      const options = optionsOf(o);
      const request = { hashKey: toHashKey(hashKey, true), sortKey: toBuffer(sortKey, 'sortKey') };
      return this.caller.invoke(name, this.partitionOf(request.hashKey, request.sortKey), request as RoutedRequest<N>, this.timeoutOf(options), true, pick);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async sortKeyCount(hashKey: Bytes, o?: Timeout): Promise<number> {
    const options = optionsOf(o);
    const request = { hashKey: toHashKey(hashKey, false) };
    const response = await this.caller.invoke('sortKeyCount', this.partitionOf(request.hashKey, EMPTY), request, this.timeoutOf(options), true);
    return response.count;
  }

  // ---- One hash key, many sort keys ----

  async multiSet(hashKey: Bytes, entries: Iterable<[Bytes, Bytes]> | Record<string, Bytes>, o?: TtlOptions): Promise<void> {
    const options = optionsOf(o);
    const key = toHashKey(hashKey, false);
    const list = entriesOf(entries);
    if (list.length === 0) throw new PetrelError('INVALID_VALUE', 'multiSet needs at least one entry');
    const ttlSeconds = ttlOf(options.ttlSeconds);
    let bytes = key.length;
    for (const entry of list) bytes += entry.sortKey.length + entry.value.length;
    checkWriteSize(bytes, 'multiSet');
    const response = await this.caller.invoke('multiSet', this.partitionOf(key, EMPTY), { hashKey: key, entries: list, ttlSeconds }, this.timeoutOf(options), false);
    throwIfError(response.error);
  }

  async multiGet(hashKey: Bytes, sortKeys?: Bytes[], o?: FetchLimits & { noValue?: boolean }): Promise<MultiGetResult> {
    const options = optionsOf(o);
    const key = toHashKey(hashKey, false);
    const request: MultiGetRequest = {
      hashKey: key,
      sortKeys: sortKeys === undefined ? [] : sortKeysOf(sortKeys, 'sortKeys'),
      startSortKey: EMPTY,
      stopSortKey: EMPTY,
      startInclusive: true,
      stopInclusive: false,
      sortKeyFilter: filterOf(undefined, 'sortKeyFilter'),
      maxCount: limitOf(options.maxCount, 'maxCount', 100),
      maxBytes: limitOf(options.maxBytes, 'maxBytes', 1_000_000),
      noValue: boolOf(options.noValue, 'noValue', false),
      reverse: false,
    };
    const response = await this.caller.invoke('multiGet', this.partitionOf(key, EMPTY), request, this.timeoutOf(options), true);
    return { complete: response.complete, entries: response.entries };
  }

  async multiGetRange(hashKey: Bytes, startSortKey: Bytes, stopSortKey: Bytes, o?: RangeOptions & FetchLimits): Promise<MultiGetResult> {
    const options = optionsOf(o);
    const key = toHashKey(hashKey, false);
    const request: MultiGetRequest = {
      hashKey: key,
      sortKeys: [],
      startSortKey: toBuffer(startSortKey, 'startSortKey'),
      stopSortKey: toBuffer(stopSortKey, 'stopSortKey'),
      startInclusive: boolOf(options.startInclusive, 'startInclusive', true),
      stopInclusive: boolOf(options.stopInclusive, 'stopInclusive', false),
      sortKeyFilter: filterOf(options.sortKeyFilter, 'sortKeyFilter'),
      maxCount: limitOf(options.maxCount, 'maxCount', 100),
      maxBytes: limitOf(options.maxBytes, 'maxBytes', 1_000_000),
      noValue: boolOf(options.noValue, 'noValue', false),
      reverse: boolOf(options.reverse, 'reverse', false),
    };
    const response = await this.caller.invoke('multiGet', this.partitionOf(key, EMPTY), request, this.timeoutOf(options), true);
    return { complete: response.complete, entries: response.entries };
  }

  async multiGetSortKeys(hashKey: Bytes, o?: FetchLimits): Promise<{ complete: boolean; sortKeys: Buffer[] }> {
    const { timeoutMs, maxCount, maxBytes } = optionsOf(o);
    const limits: FetchLimits & { noValue: boolean } = { noValue: true };
    if (timeoutMs !== undefined) limits.timeoutMs = timeoutMs;
    if (maxCount !== undefined) limits.maxCount = maxCount;
    if (maxBytes !== undefined) limits.maxBytes = maxBytes;
    const result = await this.multiGet(hashKey, [], limits);
    return { complete: result.complete, sortKeys: result.entries.map((entry) => entry.sortKey) };
  }

  async multiDel(hashKey: Bytes, sortKeys: Bytes[], o?: Timeout): Promise<number> {
    const options = optionsOf(o);
    const key = toHashKey(hashKey, false);
    const keys = sortKeysOf(sortKeys, 'sortKeys');
    if (keys.length === 0) throw new PetrelError('INVALID_VALUE', 'multiDel needs at least one sort key');
    checkWriteSize(key.length + sumLengths(keys), 'multiDel');
    const response = await this.caller.invoke('multiDel', this.partitionOf(key, EMPTY), { hashKey: key, sortKeys: keys }, this.timeoutOf(options), false);
    throwIfError(response.error);
    return response.count;
  }

  async delRange(hashKey: Bytes, startSortKey: Bytes, stopSortKey: Bytes, o?: RangeOptions): Promise<number> {
    const options = optionsOf(o);
    const key = toHashKey(hashKey, false);
    const start = toBuffer(startSortKey, 'startSortKey');
    const stop = toBuffer(stopSortKey, 'stopSortKey');
    const startInclusive = boolOf(options.startInclusive, 'startInclusive', true);
    const stopInclusive = boolOf(options.stopInclusive, 'stopInclusive', false);
    const filter = filterOf(options.sortKeyFilter, 'sortKeyFilter');
    const partition = this.partitionOf(key, EMPTY);
    return this.caller.run('delRange', this.timeoutOf(options), (context) => this.deleteRange(context, partition, key, start, stop, startInclusive, stopInclusive, filter));
  }

  /**
   * delRange's steps, as Pegasus's client does it: read a batch of sort keys of the range
   * (multiGet, no values), delete them (multiDel), go on after the last one. When the server's
   * iteration cap ran out on expired or filtered rows before finding any key, one scan batch
   * (which reports where it stopped) moves past them.
   */
  private async deleteRange(
    context: CallContext,
    partition: number,
    hashKey: Buffer,
    start: Buffer,
    stop: Buffer,
    startInclusive: boolean,
    stopInclusive: boolean,
    filter: WireFilter,
  ): Promise<number> {
    let deleted = 0;
    let from = start;
    let fromInclusive = startInclusive;
    for (;;) {
      const read = await this.caller.call(
        'multiGet',
        partition,
        {
          hashKey,
          sortKeys: [],
          startSortKey: from,
          stopSortKey: stop,
          startInclusive: fromInclusive,
          stopInclusive,
          sortKeyFilter: filter,
          maxCount: DEL_RANGE_BATCH_COUNT,
          maxBytes: DEL_RANGE_BATCH_BYTES,
          noValue: true,
          reverse: false,
        },
        context,
        true,
      );
      let found = read.entries.map((entry) => entry.sortKey);
      let done = read.complete;
      if (found.length === 0 && !done) {
        const bounds = hashKeyScanBounds(hashKey, from, stop, fromInclusive, stopInclusive);
        const batch = await this.caller.call(
          'scan',
          partition,
          {
            ...bounds,
            hashKeyFilter: filterOf(undefined, 'hashKeyFilter'),
            sortKeyFilter: filter,
            batchSize: DEL_RANGE_BATCH_COUNT,
            noValue: true,
            returnExpireTs: false,
            onlyCount: false,
          },
          context,
          true,
        );
        found = batch.records.map((record) => record.sortKey);
        done = batch.resumeKey === null;
        if (!done) {
          from = sortKeyOf(batch.resumeKey as Buffer);
          fromInclusive = false;
        }
      } else if (found.length > 0) {
        from = found[found.length - 1] as Buffer;
        fromInclusive = false;
      }
      for (const chunk of chunksUnder(found, hashKey.length)) {
        const response = await this.caller.call('multiDel', partition, { hashKey, sortKeys: chunk }, context, false);
        throwIfError(response.error);
        deleted += chunk.length;
      }
      if (done) return deleted;
    }
  }

  // ---- Read-modify-write ----

  async incr(hashKey: Bytes, sortKey: Bytes, increment: bigint | number, o?: TtlOptions): Promise<bigint> {
    const options = optionsOf(o);
    const request = { hashKey: toHashKey(hashKey, true), sortKey: toBuffer(sortKey, 'sortKey'), increment: incrementOf(increment), ttlSeconds: incrTtlOf(options.ttlSeconds) };
    checkWriteSize(request.hashKey.length + request.sortKey.length + 8, 'incr');
    const response = await this.caller.invoke('incr', this.partitionOf(request.hashKey, request.sortKey), request, this.timeoutOf(options), false);
    throwIfError(response.error);
    return response.newValue;
  }

  async checkAndSet(
    hashKey: Bytes,
    checkSortKey: Bytes,
    checkType: CheckType,
    checkOperand: Bytes,
    setSortKey: Bytes,
    setValue: Bytes,
    o?: { ttlSeconds?: number; returnCheckValue?: boolean; timeoutMs?: number },
  ): Promise<CheckResult> {
    const options = optionsOf(o);
    const request = {
      hashKey: toHashKey(hashKey, false),
      checkSortKey: toBuffer(checkSortKey, 'checkSortKey'),
      checkType: checkTypeOf(checkType),
      checkOperand: toBuffer(checkOperand, 'checkOperand'),
      setSortKey: toBuffer(setSortKey, 'setSortKey'),
      setValue: toBuffer(setValue, 'setValue'),
      ttlSeconds: ttlOf(options.ttlSeconds),
      returnCheckValue: boolOf(options.returnCheckValue, 'returnCheckValue', false),
    };
    checkWriteSize(request.hashKey.length + request.checkSortKey.length + request.checkOperand.length + request.setSortKey.length + request.setValue.length, 'checkAndSet');
    const response = await this.caller.invoke('checkAndSet', this.partitionOf(request.hashKey, EMPTY), request, this.timeoutOf(options), false);
    return checkResultOf(response);
  }

  async checkAndMutate(
    hashKey: Bytes,
    checkSortKey: Bytes,
    checkType: CheckType,
    checkOperand: Bytes,
    mutations: Mutation[],
    o?: { returnCheckValue?: boolean; timeoutMs?: number },
  ): Promise<CheckResult> {
    const options = optionsOf(o);
    const key = toHashKey(hashKey, false);
    const check = toBuffer(checkSortKey, 'checkSortKey');
    const type = checkTypeOf(checkType);
    const operand = toBuffer(checkOperand, 'checkOperand');
    if (!Array.isArray(mutations) || mutations.length === 0) invalid('checkAndMutate needs at least one mutation');
    let bytes = key.length + check.length + operand.length;
    const operations: MutateOperation[] = mutations.map((mutation: unknown, index) => {
      if (typeof mutation !== 'object' || mutation === null) invalid(`mutations[${index}] must be { op, sortKey, … }`);
      const { op, sortKey, value, ttlSeconds } = mutation as Partial<Record<'op' | 'sortKey' | 'value' | 'ttlSeconds', unknown>>;
      const sort = toBuffer(sortKey, `mutations[${index}].sortKey`);
      if (op === 'set') {
        const data = toBuffer(value, `mutations[${index}].value`);
        bytes += sort.length + data.length;
        return { op: 'set', sortKey: sort, value: data, ttlSeconds: ttlOf(ttlSeconds) };
      }
      if (op === 'del') {
        bytes += sort.length;
        return { op: 'del', sortKey: sort };
      }
      return invalid(`mutations[${index}]: unknown operation ${String(op)}`);
    });
    checkWriteSize(bytes, 'checkAndMutate');
    const request = { hashKey: key, checkSortKey: check, checkType: type, checkOperand: operand, mutations: operations, returnCheckValue: boolOf(options.returnCheckValue, 'returnCheckValue', false) };
    const response = await this.caller.invoke('checkAndMutate', this.partitionOf(key, EMPTY), request, this.timeoutOf(options), false);
    return checkResultOf(response);
  }

  async compareExchange(hashKey: Bytes, sortKey: Bytes, expected: Bytes, desired: Bytes, o?: TtlOptions): Promise<{ succeeded: boolean; actualValue: Buffer | null }> {
    const options = optionsOf(o);
    const forwarded: { ttlSeconds?: number; returnCheckValue: boolean; timeoutMs?: number } = { returnCheckValue: true };
    if (options.ttlSeconds !== undefined) forwarded.ttlSeconds = options.ttlSeconds;
    if (options.timeoutMs !== undefined) forwarded.timeoutMs = options.timeoutMs;
    const result = await this.checkAndSet(hashKey, sortKey, 'bytesEqual', expected, sortKey, desired, forwarded);
    if (result.succeeded) return { succeeded: true, actualValue: null };
    return { succeeded: false, actualValue: result.checkValueExists ? result.checkValue : null };
  }

  // ---- Scans and batches ----

  scan(hashKey: Bytes, o?: ScanOptions & { startSortKey?: Bytes; stopSortKey?: Bytes }): AsyncIterable<Record_> {
    return scanHashKey(this.caller, hashKey, o);
  }

  unorderedScanners(maxSplitCount: number, o?: ScanOptions): Scanner[] {
    return unorderedScanners(this.caller, maxSplitCount, o);
  }

  batchGet(keys: [Bytes, Bytes][], o?: Timeout): Promise<(Buffer | null)[]> {
    return batchGet(this.caller, keys, o);
  }

  batchSet(items: { hashKey: Bytes; sortKey: Bytes; value: Bytes; ttlSeconds?: number }[], o?: Timeout): Promise<void> {
    return batchSet(this.caller, items, o);
  }

  batchDel(keys: [Bytes, Bytes][], o?: Timeout): Promise<void> {
    return batchDel(this.caller, keys, o);
  }
}

/** Splits sort keys into multiDel requests that stay under the write limit. */
function* chunksUnder(sortKeys: Buffer[], hashKeyBytes: number): Generator<Buffer[]> {
  const limit = (1 << 20) - hashKeyBytes;
  let chunk: Buffer[] = [];
  let bytes = 0;
  for (const key of sortKeys) {
    if (chunk.length > 0 && bytes + key.length > limit) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(key);
    bytes += key.length;
  }
  if (chunk.length > 0) yield chunk;
}
