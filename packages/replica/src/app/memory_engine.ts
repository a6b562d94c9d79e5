/**
 * MemoryEngine: the storage engine as a sorted map in memory — for the cluster simulator and
 * for tests that must run fast. It keeps only live records (a delete removes the key), so its
 * contents are exactly what an LSM would hold after a full compaction without a filter.
 *
 * Everything applied is "durable" for as long as the object lives: `lastDurableDecree` equals
 * `lastAppliedDecree`. A simulator that models crashes keeps or drops the whole object.
 * `compactAll` runs the TTL filter (ttl_filter.ts) over every record at the clock's time.
 */
import { type Clock, PetrelError, assert, systemClock } from '@petrel/base';
import type { EngineBatch, EngineIterator, IteratorBounds, StorageEngine } from './engine.js';
import { SortedMap } from './sorted_map.js';
import { ttlDecision } from './ttl_filter.js';

export class MemoryBatch implements EngineBatch {
  readonly keys: Buffer[] = [];
  /** undefined: a delete. */
  readonly values: (Buffer | undefined)[] = [];

  put(key: Buffer, value: Buffer): void {
    this.keys.push(key);
    this.values.push(value);
  }

  del(key: Buffer): void {
    this.keys.push(key);
    this.values.push(undefined);
  }

  get count(): number {
    return this.keys.length;
  }
}

export interface MemoryEngineOptions {
  /** The time compaction uses to decide expiry (default: the system clock). */
  clock?: Clock;
  /** Seed of the skip list's level generator. */
  seed?: number;
}

export class MemoryEngine implements StorageEngine {
  readonly kind = 'memory';
  private readonly map: SortedMap;
  private readonly clock: Clock;
  private applied = 0;
  private defaultTtlSeconds = 0;
  private closed = false;

  constructor(options: MemoryEngineOptions = {}) {
    this.map = new SortedMap(options.seed);
    this.clock = options.clock ?? systemClock;
  }

  private checkOpen(): void {
    if (this.closed) throw new PetrelError('CLOSED', 'the memory engine is closed');
  }

  get(key: Buffer): Buffer | undefined {
    this.checkOpen();
    return this.map.get(key);
  }

  iterator(bounds?: IteratorBounds): EngineIterator {
    this.checkOpen();
    return this.map.iterator(bounds);
  }

  newBatch(): MemoryBatch {
    return new MemoryBatch();
  }

  write(batch: EngineBatch, decree: number): void {
    this.checkOpen();
    assert(batch instanceof MemoryBatch, 'a MemoryEngine writes MemoryBatches');
    if (!Number.isSafeInteger(decree) || decree <= this.applied) {
      throw new PetrelError('INVALID_ARGUMENT', `decree ${decree} does not follow the last applied decree ${this.applied}`);
    }
    for (let i = 0; i < batch.keys.length; i++) {
      const key = batch.keys[i] as Buffer;
      const value = batch.values[i];
      if (value === undefined) this.map.delete(key);
      else this.map.set(key, value);
    }
    this.applied = decree;
  }

  writable(): Promise<void> {
    return Promise.resolve();
  }

  get lastAppliedDecree(): number {
    return this.applied;
  }

  get lastDurableDecree(): number {
    return this.applied;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  compactAll(): Promise<void> {
    this.checkOpen();
    const nowSeconds = Math.floor(this.clock.wallMs() / 1000);
    const drops: Buffer[] = [];
    const rewrites: [Buffer, Buffer][] = [];
    for (const [key, value] of this.map.entries()) {
      const decision = ttlDecision(value, nowSeconds, this.defaultTtlSeconds);
      if (decision === 'drop') drops.push(key);
      else if (decision !== 'keep') rewrites.push([key, Buffer.from(decision)]);
    }
    for (const key of drops) this.map.delete(key);
    for (const [key, value] of rewrites) this.map.set(key, value);
    return Promise.resolve();
  }

  setDefaultTtlSeconds(seconds: number): void {
    this.defaultTtlSeconds = seconds;
  }

  /** Every record in key order (for comparisons in tests and the simulator). */
  entries(): Generator<[Buffer, Buffer]> {
    return this.map.entries();
  }

  get size(): number {
    return this.map.size;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
