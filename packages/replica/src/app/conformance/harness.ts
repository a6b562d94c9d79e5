/**
 * A test harness over one StorageApp that reads like the client API of CLIENT_API.md: strings
 * in, strings out, writes turned into mutations by the primary-side builder and applied at the
 * next decree. The conformance suite uses it against every engine.
 */
import { type Clock, ManualClock, MemVfs, PetrelError, isPetrelError } from '@petrel/base';
import type {
  CheckAndSetResponse,
  CheckType,
  Filter,
  FilterType,
  IncrResponse,
  MultiDelResponse,
  MultiGetRequest,
  MutateOperation,
  ScanRecord,
  ScanRequest,
  WriteRequest,
  WriteResponse,
} from '@petrel/protocol';
import { fullScanBounds, hashKeyScanBounds } from '@petrel/protocol';
import type { StorageEngine } from '../engine.js';
import { LsmEngine } from '../lsm_engine.js';
import { MemoryEngine } from '../memory_engine.js';
import { StorageApp, type StorageAppOptions } from '../storage_app.js';

export type Bytes = string | Buffer;
export const b = (value: Bytes): Buffer => (typeof value === 'string' ? Buffer.from(value) : value);
const EMPTY = Buffer.alloc(0);

/** Makes a fresh engine; `clock` drives compaction expiry where the engine uses one. */
export type EngineFactory = (clock: Clock) => Promise<StorageEngine>;

export const ENGINES: Record<'memory' | 'lsm', EngineFactory> = {
  memory: (clock) => Promise.resolve(new MemoryEngine({ clock })),
  lsm: async () => {
    // Small memtables and blocks, so reads cross memtables, L0 tables and block boundaries.
    return LsmEngine.open('/partition', {
      vfs: new MemVfs(),
      memtableSizeBytes: 16 * 1024,
      table: { blockSizeBytes: 512 },
      compactionExecutor: 'inline',
    });
  },
};

export interface RangeOptions {
  startInclusive?: boolean;
  stopInclusive?: boolean;
  filter?: [FilterType, Bytes];
  maxCount?: number;
  maxBytes?: number;
  noValue?: boolean;
  reverse?: boolean;
}

export interface ScanOptions {
  startSortKey?: Bytes;
  stopSortKey?: Bytes;
  startInclusive?: boolean;
  stopInclusive?: boolean;
  hashKeyFilter?: [FilterType, Bytes];
  sortKeyFilter?: [FilterType, Bytes];
  batchSize?: number;
  noValue?: boolean;
  returnExpireTs?: boolean;
}

export class Harness {
  constructor(
    readonly app: StorageApp,
    readonly clock: ManualClock,
  ) {}

  static async open(factory: EngineFactory, options: Omit<StorageAppOptions, 'clock'> = {}, clock = new ManualClock()): Promise<Harness> {
    const engine = await factory(clock);
    return new Harness(new StorageApp(engine, { ...options, clock }), clock);
  }

  close(): Promise<void> {
    return this.app.close();
  }

  /** Builds one mutation of `writes` (throws for an invalid one) and applies it. */
  applyAll(writes: WriteRequest[]): WriteResponse[] {
    const builder = this.app.newMutationBuilder();
    for (const write of writes) builder.add(write);
    return this.app.apply(this.app.lastAppliedDecree + 1, builder.build());
  }

  private apply(write: WriteRequest): WriteResponse {
    return this.applyAll([write])[0] as WriteResponse;
  }

  /** Throws the response's error, as the client would. */
  private settle<T extends { error: { code: string; message: string } | null }>(response: T): T {
    if (response.error !== null) throw new PetrelError(response.error.code as never, response.error.message);
    return response;
  }

  set(hashKey: Bytes, sortKey: Bytes, value: Bytes, ttlSeconds = 0): void {
    this.settle(this.apply({ type: 'set', request: { hashKey: b(hashKey), sortKey: b(sortKey), value: b(value), ttlSeconds } }).response);
  }

  multiSet(hashKey: Bytes, entries: Record<string, string> | [Bytes, Bytes][], ttlSeconds = 0): void {
    const list = Array.isArray(entries) ? entries : Object.entries(entries);
    const request = { hashKey: b(hashKey), entries: list.map(([sortKey, value]) => ({ sortKey: b(sortKey), value: b(value) })), ttlSeconds };
    this.settle(this.apply({ type: 'multiSet', request }).response);
  }

  del(hashKey: Bytes, sortKey: Bytes): void {
    this.settle(this.apply({ type: 'del', request: { hashKey: b(hashKey), sortKey: b(sortKey) } }).response);
  }

  multiDel(hashKey: Bytes, sortKeys: Bytes[]): number {
    const response = this.apply({ type: 'multiDel', request: { hashKey: b(hashKey), sortKeys: sortKeys.map(b) } }).response as MultiDelResponse;
    return this.settle(response).count;
  }

  /** The incr response, error included (the value on overflow is part of it). */
  incrResponse(hashKey: Bytes, sortKey: Bytes, increment: bigint | number, ttlSeconds = 0): IncrResponse {
    return this.apply({ type: 'incr', request: { hashKey: b(hashKey), sortKey: b(sortKey), increment: BigInt(increment), ttlSeconds } }).response as IncrResponse;
  }

  incr(hashKey: Bytes, sortKey: Bytes, increment: bigint | number, ttlSeconds = 0): bigint {
    return this.settle(this.incrResponse(hashKey, sortKey, increment, ttlSeconds)).newValue;
  }

  checkAndSet(
    hashKey: Bytes,
    checkSortKey: Bytes,
    checkType: CheckType,
    checkOperand: Bytes,
    setSortKey: Bytes,
    setValue: Bytes,
    options: { ttlSeconds?: number; returnCheckValue?: boolean } = {},
  ): CheckAndSetResponse {
    return this.apply({
      type: 'checkAndSet',
      request: {
        hashKey: b(hashKey),
        checkSortKey: b(checkSortKey),
        checkType,
        checkOperand: b(checkOperand),
        setSortKey: b(setSortKey),
        setValue: b(setValue),
        ttlSeconds: options.ttlSeconds ?? 0,
        returnCheckValue: options.returnCheckValue ?? false,
      },
    }).response as CheckAndSetResponse;
  }

  checkAndMutate(
    hashKey: Bytes,
    checkSortKey: Bytes,
    checkType: CheckType,
    checkOperand: Bytes,
    mutations: ({ op: 'set'; sortKey: Bytes; value: Bytes; ttlSeconds?: number } | { op: 'del'; sortKey: Bytes })[],
    options: { returnCheckValue?: boolean } = {},
  ): CheckAndSetResponse {
    const operations = mutations.map((m) =>
      m.op === 'set' ? { op: 'set', sortKey: b(m.sortKey), value: b(m.value), ttlSeconds: m.ttlSeconds ?? 0 } : { ...m, sortKey: b(m.sortKey) },
    ) as MutateOperation[];
    return this.apply({
      type: 'checkAndMutate',
      request: { hashKey: b(hashKey), checkSortKey: b(checkSortKey), checkType, checkOperand: b(checkOperand), mutations: operations, returnCheckValue: options.returnCheckValue ?? false },
    }).response as CheckAndSetResponse;
  }

  get(hashKey: Bytes, sortKey: Bytes): string | null {
    return this.app.get({ hashKey: b(hashKey), sortKey: b(sortKey) }).value?.toString() ?? null;
  }

  exist(hashKey: Bytes, sortKey: Bytes): boolean {
    return this.app.exist({ hashKey: b(hashKey), sortKey: b(sortKey) }).exists;
  }

  ttl(hashKey: Bytes, sortKey: Bytes): number | null {
    return this.app.ttl({ hashKey: b(hashKey), sortKey: b(sortKey) }).ttlSeconds;
  }

  sortKeyCount(hashKey: Bytes): number {
    return this.app.sortKeyCount({ hashKey: b(hashKey) }).count;
  }

  batchGet(keys: [Bytes, Bytes][]): (string | null)[] {
    return this.app.batchGet({ keys: keys.map(([hashKey, sortKey]) => ({ hashKey: b(hashKey), sortKey: b(sortKey) })) }).values.map((v) => v?.toString() ?? null);
  }

  multiGetRequest(hashKey: Bytes, start: Bytes, stop: Bytes, options: RangeOptions = {}, sortKeys: Bytes[] = []): MultiGetRequest {
    const filter: Filter = options.filter === undefined ? { type: 'none', pattern: EMPTY } : { type: options.filter[0], pattern: b(options.filter[1]) };
    return {
      hashKey: b(hashKey),
      sortKeys: sortKeys.map(b),
      startSortKey: b(start),
      stopSortKey: b(stop),
      startInclusive: options.startInclusive ?? true,
      stopInclusive: options.stopInclusive ?? false,
      sortKeyFilter: filter,
      maxCount: options.maxCount ?? 100,
      maxBytes: options.maxBytes ?? 1_000_000,
      noValue: options.noValue ?? false,
      reverse: options.reverse ?? false,
    };
  }

  /** multiGetRange: `{ complete, entries: [sortKey, value][] }` as strings. */
  multiGetRange(hashKey: Bytes, start: Bytes, stop: Bytes, options: RangeOptions = {}): { complete: boolean; entries: [string, string][] } {
    const result = this.app.multiGet(this.multiGetRequest(hashKey, start, stop, options));
    return { complete: result.complete, entries: result.entries.map((e) => [e.sortKey.toString(), e.value.toString()]) };
  }

  /** multiGet of the listed sort keys (all of them when the list is empty). */
  multiGet(hashKey: Bytes, sortKeys: Bytes[], options: RangeOptions = {}): { complete: boolean; entries: [string, string][] } {
    const result = this.app.multiGet(this.multiGetRequest(hashKey, '', '', options, sortKeys));
    return { complete: result.complete, entries: result.entries.map((e) => [e.sortKey.toString(), e.value.toString()]) };
  }

  /** The sort keys of a multiGetRange, joined with commas (for compact expectations). */
  rangeKeys(hashKey: Bytes, start: Bytes, stop: Bytes, options: RangeOptions = {}): string {
    return this.multiGetRange(hashKey, start, stop, options)
      .entries.map(([sortKey]) => sortKey)
      .join(',');
  }

  scanRequest(hashKey: Bytes | undefined, options: ScanOptions): ScanRequest {
    const bounds =
      hashKey === undefined
        ? fullScanBounds()
        : hashKeyScanBounds(b(hashKey), b(options.startSortKey ?? ''), b(options.stopSortKey ?? ''), options.startInclusive ?? true, options.stopInclusive ?? false);
    const filter = (f: [FilterType, Bytes] | undefined): Filter => (f === undefined ? { type: 'none', pattern: EMPTY } : { type: f[0], pattern: b(f[1]) });
    return {
      ...bounds,
      hashKeyFilter: filter(options.hashKeyFilter),
      sortKeyFilter: filter(options.sortKeyFilter),
      batchSize: options.batchSize ?? 100,
      noValue: options.noValue ?? false,
      returnExpireTs: options.returnExpireTs ?? false,
      onlyCount: false,
    };
  }

  /**
   * A whole scan, batch after batch, resuming after each batch's resume key as the client does.
   * Returns the records and the size of every batch.
   */
  scanAll(hashKey: Bytes | undefined, options: ScanOptions = {}): { records: ScanRecord[]; batches: number[] } {
    let request = this.scanRequest(hashKey, options);
    const records: ScanRecord[] = [];
    const batches: number[] = [];
    for (let round = 0; round < 100_000; round++) {
      const response = this.app.scan(request);
      records.push(...response.records);
      batches.push(response.records.length);
      if (response.resumeKey === null) return { records, batches };
      request = { ...request, startKey: response.resumeKey, startInclusive: false };
    }
    throw new Error('scan did not finish');
  }

  /** `hashKey:sortKey` of every record of a scan, for compact expectations. */
  scanKeys(hashKey: Bytes | undefined, options: ScanOptions = {}): string[] {
    return this.scanAll(hashKey, options).records.map((r) => `${r.hashKey.toString()}:${r.sortKey.toString()}`);
  }
}

/** The PetrelError code `fn` throws (fails the test when it throws nothing or something else). */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isPetrelError(error)) return error.code;
    throw error;
  }
  return 'no error';
}
