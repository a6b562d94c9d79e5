/**
 * Scans. A scan walks stored keys of one or more partitions in batches: each batch is one `scan`
 * request, and the next starts after the batch's `resumeKey` (start exclusive). The servers keep
 * no scan state, so a scan survives the servers' batch limits and a change of primary — a batch
 * that meets SERVER_CHANGED or a lost connection is simply sent again, from the same key, to
 * whoever is primary then (PartitionCaller). Each batch has the call's timeout.
 *
 * - `table.scan(hashKey)`: the records of one hash key between two sort keys, ascending; each
 *   `for await` starts a fresh scan.
 * - `table.unorderedScanners(n)`: min(n, partitionCount) scanners; scanner i takes the partitions
 *   p with p mod n = i, one after another, so together they cover every partition exactly once.
 *
 * While the caller handles a batch, the next one is already on its way (one batch ahead).
 */
import { PetrelError } from '@petrel/base';
import { type ScanRecord, type ScanRequest, type ScanResponse, fullScanBounds, hashKeyScanBounds, partitionIndex } from '@petrel/protocol';
import { EMPTY, boolOf, filterOf, limitOf, optionsOf, timeoutOf, toBuffer, toHashKey } from './arguments.js';
import type { PartitionCaller } from './partition_caller.js';
import type { Bytes, Record_, ScanOptions, Scanner } from './types.js';

function noop(): void {}

function recordOf(record: ScanRecord, withExpireTs: boolean): Record_ {
  const out: Record_ = { hashKey: record.hashKey, sortKey: record.sortKey, value: record.value };
  if (withExpireTs && record.expireTs !== undefined) out.expireTs = record.expireTs;
  return out;
}

function scanTemplate(bounds: Pick<ScanRequest, 'startKey' | 'stopKey' | 'startInclusive' | 'stopInclusive'>, options: Partial<ScanOptions>): ScanRequest {
  return {
    ...bounds,
    hashKeyFilter: filterOf(options.hashKeyFilter, 'hashKeyFilter'),
    sortKeyFilter: filterOf(options.sortKeyFilter, 'sortKeyFilter'),
    batchSize: limitOf(options.batchSize, 'batchSize', 100),
    noValue: boolOf(options.noValue, 'noValue', false),
    returnExpireTs: boolOf(options.returnExpireTs, 'returnExpireTs', false),
    onlyCount: false,
  };
}

/** A scan over a list of partitions, one after another; an AsyncIterator of its records. */
export class PartitionScanner implements Scanner, AsyncIterator<Record_> {
  private cursor = 0;
  /** The next batch to ask for in partitions[cursor]. */
  private request: ScanRequest;
  private prefetched: Promise<ScanResponse> | undefined;
  private buffer: ScanRecord[] = [];
  private bufferAt = 0;
  private closed = false;
  /** Steps run one at a time, whatever the caller does. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly caller: PartitionCaller,
    private readonly partitions: readonly number[],
    private readonly template: ScanRequest,
    private readonly timeoutMs: number,
  ) {
    this.request = template;
  }

  [Symbol.asyncIterator](): AsyncIterator<Record_> {
    return this;
  }

  next(): Promise<IteratorResult<Record_>> {
    const step = this.chain.then(() => this.step());
    this.chain = step.catch(noop);
    return step;
  }

  async return(): Promise<IteratorResult<Record_>> {
    await this.close();
    return { done: true, value: undefined };
  }

  count(): Promise<number> {
    const step = this.chain.then(() => this.countRest());
    this.chain = step.catch(noop);
    return step;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.buffer = [];
    this.bufferAt = 0;
    this.prefetched = undefined;
  }

  private fetch(partition: number, request: ScanRequest): Promise<ScanResponse> {
    return this.caller.invoke('scan', partition, request, this.timeoutMs, true);
  }

  private async step(): Promise<IteratorResult<Record_>> {
    while (this.bufferAt >= this.buffer.length) {
      if (this.closed || this.cursor >= this.partitions.length) return { done: true, value: undefined };
      const partition = this.partitions[this.cursor] as number;
      const pending = this.prefetched ?? this.fetch(partition, this.request);
      this.prefetched = undefined;
      // On an error the position stays: the next call asks for the same batch again.
      const response = await pending;
      if (this.closed) return { done: true, value: undefined };
      this.buffer = response.records;
      this.bufferAt = 0;
      if (response.resumeKey === null) {
        this.cursor++;
        this.request = this.template;
      } else {
        this.request = { ...this.request, startKey: response.resumeKey, startInclusive: false };
        this.prefetched = this.fetch(partition, this.request);
        this.prefetched.catch(noop);
      }
    }
    const record = this.buffer[this.bufferAt++] as ScanRecord;
    return { done: false, value: recordOf(record, this.template.returnExpireTs) };
  }

  /** The records still to come: those fetched and not yet yielded, then the rest counted by the servers. */
  private async countRest(): Promise<number> {
    let total = this.buffer.length - this.bufferAt;
    this.buffer = [];
    this.bufferAt = 0;
    this.prefetched = undefined;
    while (!this.closed && this.cursor < this.partitions.length) {
      const partition = this.partitions[this.cursor] as number;
      const response = await this.fetch(partition, { ...this.request, onlyCount: true, noValue: true });
      total += response.count;
      if (response.resumeKey === null) {
        this.cursor++;
        this.request = this.template;
      } else this.request = { ...this.request, startKey: response.resumeKey, startInclusive: false };
    }
    this.closed = true;
    return total;
  }
}

/** table.scan: the records of one hash key; every iteration is a new scan. */
export function scanHashKey(caller: PartitionCaller, hashKey: Bytes, o?: ScanOptions & { startSortKey?: Bytes; stopSortKey?: Bytes }): AsyncIterable<Record_> {
  const options = optionsOf(o);
  const key = toHashKey(hashKey, false);
  const start = options.startSortKey === undefined ? EMPTY : toBuffer(options.startSortKey, 'startSortKey');
  const stop = options.stopSortKey === undefined ? EMPTY : toBuffer(options.stopSortKey, 'stopSortKey');
  const bounds = hashKeyScanBounds(key, start, stop, boolOf(options.startInclusive, 'startInclusive', true), boolOf(options.stopInclusive, 'stopInclusive', false));
  const template = scanTemplate(bounds, options);
  const timeoutMs = timeoutOf(options.timeoutMs, caller.defaultTimeoutMs);
  const partition = partitionIndex(key, EMPTY, caller.routing.partitionCount);
  return { [Symbol.asyncIterator]: () => new PartitionScanner(caller, [partition], template, timeoutMs) };
}

/** table.unorderedScanners: a full-table scan split over min(maxSplitCount, partitionCount) scanners. */
export function unorderedScanners(caller: PartitionCaller, maxSplitCount: number, o?: ScanOptions): Scanner[] {
  if (typeof maxSplitCount !== 'number' || !Number.isInteger(maxSplitCount) || maxSplitCount <= 0) {
    throw new PetrelError('INVALID_SPLIT_COUNT', `maxSplitCount must be a positive integer (got ${String(maxSplitCount)})`);
  }
  const options = optionsOf(o);
  const template = scanTemplate(fullScanBounds(), options);
  const timeoutMs = timeoutOf(options.timeoutMs, caller.defaultTimeoutMs);
  const partitionCount = caller.routing.partitionCount;
  const count = Math.min(maxSplitCount, partitionCount);
  const scanners: Scanner[] = [];
  for (let i = 0; i < count; i++) {
    const partitions: number[] = [];
    for (let partition = i; partition < partitionCount; partition += count) partitions.push(partition);
    scanners.push(new PartitionScanner(caller, partitions, template, timeoutMs));
  }
  return scanners;
}
