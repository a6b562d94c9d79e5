/**
 * The reads that iterate: multiGet (by keys and by range), sortKeyCount and scan batches, with
 * Pegasus's semantics (CLIENT_API.md):
 *
 * - A range read visits rows in order, counting every visited row — expired and filtered ones
 *   too — against the server's iteration cap (3000), the rows it returns against `maxCount`
 *   (capped by the same 3000), and the bytes it returns (sort key + value) against `maxBytes`.
 *   A limit is checked before each row, so the row that crosses `maxBytes` is still returned.
 * - `complete` is false when a limit (or the iteration time limit) stopped the read while rows
 *   of the range remained unvisited.
 * - An empty stop sort key means the end of the hash key (stop exclusive); an inverted or empty
 *   range returns nothing, complete. A non-empty prefix filter narrows the range to the prefix.
 * - With `reverse`, the read walks from the stop end, so limits keep the last rows of the range;
 *   entries are still returned in ascending order.
 */
import { type Clock, PetrelError } from '@petrel/base';
import {
  type Filter,
  type KeyValue,
  type MultiGetRequest,
  type MultiGetResponse,
  type ScanRecord,
  type ScanRequest,
  type ScanResponse,
  checkHashKey,
  decodeStoredKey,
  encodeStoredKey,
  hashKeyPrefixScanStart,
  hashKeyRange,
  isExpired,
  prefixSuccessor,
  storedExpireTs,
  storedUserValue,
} from '@petrel/protocol';
import type { StorageEngine } from './engine.js';
import { checkFilter, matchesFilter } from './filter.js';
import { IterationLimiter } from './limiter.js';

export interface RangeReadLimits {
  /** Rows one read may visit, expired and filtered rows included (Pegasus: 3000). */
  maxIterationCount: number;
  /** Bytes one multiGet may return. */
  maxIterationBytes: number;
  /** How long one read may iterate (0: no limit). */
  iterationTimeLimitMs: number;
  /** Monotonic time for the limit; wall time for expiry. */
  clock: Clock;
}

const EMPTY = Buffer.alloc(0);
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

function nowSeconds(clock: Clock): number {
  return Math.floor(clock.wallMs() / 1000);
}

/** Whether the read's row limit leaves room (≤ 0 in the request means only the server's cap). */
function effectiveCount(requested: number, cap: number): number {
  return requested > 0 ? Math.min(requested, cap) : cap;
}

function checkMultiGet(request: MultiGetRequest): void {
  checkHashKey(request.hashKey, false);
  checkFilter(request.sortKeyFilter, 'sortKeyFilter');
  if (!Array.isArray(request.sortKeys)) throw new PetrelError('INVALID_ARGUMENT', 'sortKeys must be a list');
}

/** multiGet of the listed sort keys: ascending, each once; absent and expired keys are skipped. */
function multiGetByKeys(engine: StorageEngine, request: MultiGetRequest, limits: RangeReadLimits): MultiGetResponse {
  const sortKeys = request.sortKeys.slice().sort(Buffer.compare);
  const maxCount = effectiveCount(request.maxCount, limits.maxIterationCount);
  const maxBytes = request.maxBytes > 0 ? request.maxBytes : NO_LIMIT;
  const now = nowSeconds(limits.clock);
  const entries: KeyValue[] = [];
  let bytes = 0;
  let previous: Buffer | undefined;
  for (const sortKey of sortKeys) {
    if (previous !== undefined && previous.equals(sortKey)) continue;
    previous = sortKey;
    const stored = engine.get(encodeStoredKey(request.hashKey, sortKey));
    if (stored === undefined || isExpired(storedExpireTs(stored), now)) continue;
    if (entries.length >= maxCount || bytes >= maxBytes) return { complete: false, entries };
    const value = request.noValue ? EMPTY : storedUserValue(stored);
    entries.push({ sortKey, value });
    bytes += sortKey.length + value.length;
  }
  return { complete: true, entries };
}

export function multiGet(engine: StorageEngine, request: MultiGetRequest, limits: RangeReadLimits): MultiGetResponse {
  checkMultiGet(request);
  if (request.sortKeys.length > 0) return multiGetByKeys(engine, request, limits);

  const { hashKey } = request;
  const bounds = hashKeyRange(hashKey);
  let start = encodeStoredKey(hashKey, request.startSortKey);
  let startInclusive = request.startInclusive;
  let stop: Buffer;
  let stopInclusive: boolean;
  if (request.stopSortKey.length === 0) {
    stop = bounds.upper;
    stopInclusive = false;
  } else {
    stop = encodeStoredKey(hashKey, request.stopSortKey);
    stopInclusive = request.stopInclusive;
  }
  const filter = request.sortKeyFilter;
  if (filter.type === 'prefix' && filter.pattern.length > 0) {
    const prefixStart = encodeStoredKey(hashKey, filter.pattern);
    if (Buffer.compare(prefixStart, start) > 0) {
      start = prefixStart;
      startInclusive = true;
    }
    const prefixStop = prefixSuccessor(prefixStart);
    if (prefixStop !== undefined && Buffer.compare(prefixStop, stop) <= 0) {
      stop = prefixStop;
      stopInclusive = false;
    }
  }
  const order = Buffer.compare(start, stop);
  if (order > 0 || (order === 0 && !(startInclusive && stopInclusive))) return { complete: true, entries: [] };

  const maxCount = effectiveCount(request.maxCount, limits.maxIterationCount);
  const maxBytes = Math.min(request.maxBytes > 0 ? request.maxBytes : NO_LIMIT, limits.maxIterationBytes);
  const limiter = new IterationLimiter(limits.maxIterationCount, maxBytes, limits.iterationTimeLimitMs, limits.clock);
  const now = nowSeconds(limits.clock);
  const prefixBytes = bounds.lower.length;
  const entries: KeyValue[] = [];
  const iterator = engine.iterator(bounds);
  let complete = false;
  try {
    if (!request.reverse) {
      iterator.seek(start);
      let skipStart = !startInclusive;
      while (entries.length < maxCount && limiter.valid() && iterator.valid()) {
        const key = iterator.key();
        const toStop = Buffer.compare(key, stop);
        if (toStop > 0 || (toStop === 0 && !stopInclusive)) {
          complete = true;
          break;
        }
        if (skipStart) {
          skipStart = false;
          if (key.equals(start)) {
            iterator.next();
            continue;
          }
        }
        limiter.addRow();
        visit(key, iterator.value());
        if (toStop === 0) {
          complete = true;
          break;
        }
        iterator.next();
      }
      // Stopped by a limit: complete all the same when no row of the range is left.
      if (!complete && (!iterator.valid() || outOfRangeAbove(iterator.key()))) complete = true;
    } else {
      iterator.seekForPrev(stop);
      let skipStop = !stopInclusive;
      while (entries.length < maxCount && limiter.valid() && iterator.valid()) {
        const key = iterator.key();
        const toStart = Buffer.compare(key, start);
        if (toStart < 0 || (toStart === 0 && !startInclusive)) {
          complete = true;
          break;
        }
        if (skipStop) {
          skipStop = false;
          if (key.equals(stop)) {
            iterator.prev();
            continue;
          }
        }
        limiter.addRow();
        visit(key, iterator.value());
        if (toStart === 0) {
          complete = true;
          break;
        }
        iterator.prev();
      }
      if (!complete && (!iterator.valid() || outOfRangeBelow(iterator.key()))) complete = true;
      entries.reverse();
    }
  } finally {
    iterator.close();
  }
  return { complete, entries };

  function outOfRangeAbove(key: Buffer): boolean {
    const toStop = Buffer.compare(key, stop);
    return toStop > 0 || (toStop === 0 && !stopInclusive);
  }

  function outOfRangeBelow(key: Buffer): boolean {
    const toStart = Buffer.compare(key, start);
    return toStart < 0 || (toStart === 0 && !startInclusive);
  }

  function visit(key: Buffer, stored: Buffer): void {
    if (isExpired(storedExpireTs(stored), now)) return;
    const sortKey = key.subarray(prefixBytes);
    if (!matchesFilter(filter, sortKey)) return;
    const value = request.noValue ? EMPTY : storedUserValue(stored);
    entries.push({ sortKey, value });
    limiter.addBytes(sortKey.length + value.length);
  }
}

/** Live records of one hash key; -1 when the iteration time limit stopped the count. */
export function sortKeyCount(engine: StorageEngine, hashKey: Buffer, limits: RangeReadLimits): number {
  checkHashKey(hashKey, false);
  const now = nowSeconds(limits.clock);
  const limiter = new IterationLimiter(NO_LIMIT, NO_LIMIT, limits.iterationTimeLimitMs, limits.clock);
  const iterator = engine.iterator(hashKeyRange(hashKey));
  let count = 0;
  try {
    for (iterator.seekToFirst(); iterator.valid() && limiter.timeCheck(); iterator.next()) {
      limiter.addRow();
      if (!isExpired(storedExpireTs(iterator.value()), now)) count++;
    }
  } finally {
    iterator.close();
  }
  return limiter.timeExceeded ? -1 : count;
}

function filterActive(filter: Filter): boolean {
  return filter.type !== 'none' && filter.pattern.length > 0;
}

/**
 * One batch of a scan over stored keys. It returns up to `batchSize` records (the server caps
 * it at the iteration cap) and visits at most the iteration cap of rows; `resumeKey` is the last
 * row it visited when rows may remain, so the next batch starts after it — a scan survives the
 * caps, the time limit and a change of primary, and never returns a record twice.
 */
export function scan(engine: StorageEngine, request: ScanRequest, limits: RangeReadLimits): ScanResponse {
  checkFilter(request.hashKeyFilter, 'hashKeyFilter');
  checkFilter(request.sortKeyFilter, 'sortKeyFilter');
  let start = request.startKey;
  let startInclusive = request.startInclusive;
  const stop = request.stopKey;
  const bounded = stop.length > 0;
  const stopInclusive = request.stopInclusive;
  const hashKeyFilter = request.hashKeyFilter;
  const sortKeyFilter = request.sortKeyFilter;
  if (hashKeyFilter.type === 'prefix' && hashKeyFilter.pattern.length > 0) {
    const prefixStart = hashKeyPrefixScanStart(hashKeyFilter.pattern);
    if (Buffer.compare(prefixStart, start) > 0) {
      start = prefixStart;
      startInclusive = true;
    }
  }
  if (bounded) {
    const order = Buffer.compare(start, stop);
    if (order > 0 || (order === 0 && !(startInclusive && stopInclusive))) return { records: [], count: 0, resumeKey: null };
  }
  const batchCount = effectiveCount(request.batchSize, limits.maxIterationCount);
  const limiter = new IterationLimiter(limits.maxIterationCount, NO_LIMIT, limits.iterationTimeLimitMs, limits.clock);
  const now = nowSeconds(limits.clock);
  const filtering = filterActive(hashKeyFilter) || filterActive(sortKeyFilter);
  const records: ScanRecord[] = [];
  let count = 0;
  let complete = false;
  let lastVisited: Buffer | undefined;
  const iterator = engine.iterator();
  const beyondStop = (key: Buffer): boolean => {
    if (!bounded) return false;
    const toStop = Buffer.compare(key, stop);
    return toStop > 0 || (toStop === 0 && !stopInclusive);
  };
  try {
    iterator.seek(start);
    let skipStart = !startInclusive;
    while (count < batchCount && limiter.valid() && iterator.valid()) {
      const key = iterator.key();
      if (beyondStop(key)) {
        complete = true;
        break;
      }
      if (skipStart) {
        skipStart = false;
        if (key.equals(start)) {
          iterator.next();
          continue;
        }
      }
      limiter.addRow();
      lastVisited = key;
      const stored = iterator.value();
      const expireTs = storedExpireTs(stored);
      if (!isExpired(expireTs, now)) {
        const { hashKey, sortKey } = decodeStoredKey(key);
        if (!filtering || (matchesFilter(hashKeyFilter, hashKey) && matchesFilter(sortKeyFilter, sortKey))) {
          count++;
          if (!request.onlyCount) {
            const record: ScanRecord = { hashKey, sortKey, value: request.noValue ? EMPTY : storedUserValue(stored) };
            if (request.returnExpireTs) record.expireTs = expireTs;
            records.push(record);
          }
        }
      }
      if (bounded && stopInclusive && key.equals(stop)) {
        complete = true;
        break;
      }
      iterator.next();
    }
    if (!complete && (!iterator.valid() || beyondStop(iterator.key()))) complete = true;
  } finally {
    iterator.close();
  }
  if (complete) return { records, count, resumeKey: null };
  if (lastVisited === undefined) throw new PetrelError('SERVER_INTERNAL_ERROR', 'a scan batch stopped before visiting any row');
  return { records, count, resumeKey: Buffer.from(lastVisited) };
}
