/**
 * StorageApp: a partition's state machine. `apply(decree, mutation)` applies committed writes;
 * the read methods answer client reads with Pegasus's semantics (CLIENT_API.md). It runs over
 * any StorageEngine — the LSM for real replicas, the in-memory map for the simulator.
 *
 * Reads take "now" from the app's clock (expiry) and its monotonic time (the iteration time
 * limit). Applying never reads a clock: the primary resolved every time into the mutation
 * (mutation_builder.ts). Read results hold views into engine memory: do not modify them.
 *
 * Table envs: `default_ttl` (seconds) gives records written without a TTL an expiry, through
 * the mutations the primary builds and through compaction for older records.
 */
import { type Clock, PetrelError, systemClock } from '@petrel/base';
import {
  type BatchGetRequest,
  type BatchGetResponse,
  type ExistRequest,
  type ExistResponse,
  type GetRequest,
  type GetResponse,
  type Mutation,
  type MultiGetRequest,
  type MultiGetResponse,
  type ScanRequest,
  type ScanResponse,
  type SortKeyCountRequest,
  type SortKeyCountResponse,
  type TtlRequest,
  type TtlResponse,
  type WriteResponse,
  checkHashKey,
  encodeStoredKey,
  isExpired,
  storedExpireTs,
  storedUserValue,
} from '@petrel/protocol';
import { applyMutation } from './apply.js';
import type { StorageEngine } from './engine.js';
import { MutationBuilder, type MutationBuilderOptions } from './mutation_builder.js';
import { type RangeReadLimits, multiGet, scan, sortKeyCount } from './range_reads.js';

export interface StorageAppOptions {
  /** Wall time for expiry on reads, monotonic time for the iteration time limit. */
  clock?: Clock;
  /** Rows one range read may visit, expired and filtered ones included (default 3000). */
  maxIterationCount?: number;
  /** Bytes one multiGet may return (default 30 MiB). */
  maxIterationBytes?: number;
  /**
   * How long one range read may iterate (default 1000 ms; 0: no limit). A read that hits it
   * returns what it has (`complete: false`, a scan's resume key, or -1 from sortKeyCount):
   * the event loop is never held longer.
   */
  iterationTimeLimitMs?: number;
  /** Table envs at start (see setEnvs). */
  envs?: Record<string, string>;
}

export const DEFAULT_MAX_ITERATION_COUNT = 3000;
export const DEFAULT_MAX_ITERATION_BYTES = 30 * 2 ** 20;
export const DEFAULT_ITERATION_TIME_LIMIT_MS = 1000;

const EMPTY = Buffer.alloc(0);

/** Parses the envs the app understands; a malformed value counts as unset. */
export function parseDefaultTtl(envs: Record<string, string>): number {
  const text = envs.default_ttl;
  if (text === undefined || !/^[0-9]{1,10}$/.test(text)) return 0;
  const seconds = Number(text);
  return seconds <= 0xffffffff ? seconds : 0;
}

export class StorageApp {
  private readonly clock: Clock;
  private readonly limits: RangeReadLimits;
  private defaultTtlSeconds = 0;

  constructor(
    readonly engine: StorageEngine,
    options: StorageAppOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.limits = {
      maxIterationCount: options.maxIterationCount ?? DEFAULT_MAX_ITERATION_COUNT,
      maxIterationBytes: options.maxIterationBytes ?? DEFAULT_MAX_ITERATION_BYTES,
      iterationTimeLimitMs: options.iterationTimeLimitMs ?? DEFAULT_ITERATION_TIME_LIMIT_MS,
      clock: this.clock,
    };
    if (options.envs !== undefined) this.setEnvs(options.envs);
  }

  // ---- Decrees ----

  get lastAppliedDecree(): number {
    return this.engine.lastAppliedDecree;
  }

  /** Writes up to this decree survive a restart; replay the log after it. */
  get lastDurableDecree(): number {
    return this.engine.lastDurableDecree;
  }

  // ---- Envs ----

  /** Replaces the table envs the app uses (today: default_ttl). */
  setEnvs(envs: Record<string, string>): void {
    this.defaultTtlSeconds = parseDefaultTtl(envs);
    this.engine.setDefaultTtlSeconds(this.defaultTtlSeconds);
  }

  get defaultTtl(): number {
    return this.defaultTtlSeconds;
  }

  // ---- Writes ----

  /** A builder for the next mutation, on the primary: now, and the table's default_ttl. */
  newMutationBuilder(options: Omit<MutationBuilderOptions, 'defaultTtlSeconds'> = {}): MutationBuilder {
    return new MutationBuilder(this.clock, { ...options, defaultTtlSeconds: this.defaultTtlSeconds });
  }

  /**
   * Applies one committed mutation as `decree`, which must be the one right after the last applied
   * one: a decree that skips ahead would leave a hole in the data (a replica applying over a state
   * it never restored), so it is refused as loudly as one that goes back. The responses are in the
   * order of the mutation's writes. Throws if the engine refuses the write; then nothing was applied.
   */
  apply(decree: number, mutation: Mutation): WriteResponse[] {
    if (!Number.isSafeInteger(decree) || decree !== this.engine.lastAppliedDecree + 1) {
      throw new PetrelError('INVALID_ARGUMENT', `decree ${decree} does not follow the last applied decree ${this.engine.lastAppliedDecree}`);
    }
    return applyMutation(this.engine, decree, mutation);
  }

  /** Resolves when the engine takes more writes (the LSM's write stall); await between applies. */
  writable(): Promise<void> {
    return this.engine.writable();
  }

  // ---- Point reads ----

  private nowSeconds(): number {
    return Math.floor(this.clock.wallMs() / 1000);
  }

  /** The live stored value of a key, or undefined when absent or expired. */
  private live(hashKey: Buffer, sortKey: Buffer, now: number): Buffer | undefined {
    const stored = this.engine.get(encodeStoredKey(hashKey, sortKey));
    if (stored === undefined || isExpired(storedExpireTs(stored), now)) return undefined;
    return stored;
  }

  get(request: GetRequest): GetResponse {
    checkHashKey(request.hashKey, true);
    const stored = this.live(request.hashKey, request.sortKey, this.nowSeconds());
    return { value: stored === undefined ? null : storedUserValue(stored) };
  }

  exist(request: ExistRequest): ExistResponse {
    checkHashKey(request.hashKey, true);
    return { exists: this.live(request.hashKey, request.sortKey, this.nowSeconds()) !== undefined };
  }

  ttl(request: TtlRequest): TtlResponse {
    checkHashKey(request.hashKey, true);
    const now = this.nowSeconds();
    const stored = this.live(request.hashKey, request.sortKey, now);
    if (stored === undefined) return { ttlSeconds: null };
    const expireTs = storedExpireTs(stored);
    return { ttlSeconds: expireTs === 0 ? -1 : expireTs - now };
  }

  /** Values in the order of the keys; not atomic across keys. */
  batchGet(request: BatchGetRequest): BatchGetResponse {
    for (const key of request.keys) checkHashKey(key.hashKey, true);
    const now = this.nowSeconds();
    return {
      values: request.keys.map((key) => {
        const stored = this.live(key.hashKey, key.sortKey, now);
        return stored === undefined ? null : storedUserValue(stored);
      }),
    };
  }

  // ---- Range reads ----

  multiGet(request: MultiGetRequest): MultiGetResponse {
    return multiGet(this.engine, request, this.limits);
  }

  /** The sort keys of one hash key (multiGet without values). */
  multiGetSortKeys(hashKey: Buffer, limits: { maxCount?: number; maxBytes?: number } = {}): { complete: boolean; sortKeys: Buffer[] } {
    const result = this.multiGet({
      hashKey,
      sortKeys: [],
      startSortKey: EMPTY,
      stopSortKey: EMPTY,
      startInclusive: true,
      stopInclusive: false,
      sortKeyFilter: { type: 'none', pattern: EMPTY },
      maxCount: limits.maxCount ?? 100,
      maxBytes: limits.maxBytes ?? 1_000_000,
      noValue: true,
      reverse: false,
    });
    return { complete: result.complete, sortKeys: result.entries.map((entry) => entry.sortKey) };
  }

  sortKeyCount(request: SortKeyCountRequest): SortKeyCountResponse {
    return { count: sortKeyCount(this.engine, request.hashKey, this.limits) };
  }

  scan(request: ScanRequest): ScanResponse {
    return scan(this.engine, request, this.limits);
  }

  // ---- Maintenance ----

  flush(): Promise<void> {
    return this.engine.flush();
  }

  /** A full compaction: expired records go, default_ttl reaches records without a TTL. */
  compact(): Promise<void> {
    return this.engine.compactAll();
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
