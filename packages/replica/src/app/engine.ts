/**
 * StorageEngine: what the storage app needs from the ordered key-value store under it. Two
 * implementations: LsmEngine (the LSM in external-log mode, for real replicas) and MemoryEngine
 * (a sorted map, for the simulator and fast tests). One conformance suite runs against both.
 *
 * Contract:
 * - Keys and values are stored keys and stored values (data model); the engine never looks
 *   inside them (except the TTL compaction filter, which is the engine's business).
 * - `write(batch, decree)` applies the batch atomically and makes it visible before returning;
 *   decrees strictly increase. It throws if the engine refused the batch (closed, failed), in
 *   which case nothing of it was applied.
 * - `writable()` resolves when the engine accepts more writes without growing memory further
 *   (the LSM's write stall); callers that apply in a loop await it between mutations.
 * - Reads are synchronous. Returned buffers must not be modified; they stay valid after the
 *   iterator moves and after later writes.
 * - `lastDurableDecree` is the decree up to which writes survive a restart; a restarted replica
 *   replays its own log after it.
 */

/** Puts and deletes applied together. The batch keeps the buffers it is given: do not modify them. */
export interface EngineBatch {
  put(key: Buffer, value: Buffer): unknown;
  del(key: Buffer): unknown;
  readonly count: number;
}

export interface IteratorBounds {
  /** Inclusive lower bound. */
  lower?: Buffer;
  /** Exclusive upper bound. */
  upper?: Buffer;
}

/** The iterator contract of @petrel/lsm's DbIterator: seek ≥, seekForPrev ≤, within bounds. */
export interface EngineIterator {
  valid(): boolean;
  key(): Buffer;
  value(): Buffer;
  seekToFirst(): void;
  seekToLast(): void;
  /** The first key ≥ target (and ≥ lower). */
  seek(target: Buffer): void;
  /** The last key ≤ target (and < upper). */
  seekForPrev(target: Buffer): void;
  next(): void;
  prev(): void;
  close(): void;
}

export interface StorageEngine {
  /** 'lsm' or 'memory', for logs and test names. */
  readonly kind: string;
  get(key: Buffer): Buffer | undefined;
  iterator(bounds?: IteratorBounds): EngineIterator;
  newBatch(): EngineBatch;
  write(batch: EngineBatch, decree: number): void;
  writable(): Promise<void>;
  readonly lastAppliedDecree: number;
  readonly lastDurableDecree: number;
  /** Makes everything applied durable (an LSM flush). */
  flush(): Promise<void>;
  /** Compacts everything now, running the TTL filter over every record. */
  compactAll(): Promise<void>;
  /** The table's default_ttl, which compaction gives to records without an expiry (0: none). */
  setDefaultTtlSeconds(seconds: number): void;
  close(): Promise<void>;
}
