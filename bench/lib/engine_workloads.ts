/**
 * db_bench-style workloads, shared by every engine under test: 16-byte keys (zero-padded decimal
 * numbers, as db_bench makes them), 100-byte incompressible values, and one seeded key order, so
 * that every engine does exactly the same work.
 */
import { Prng } from '@petrel/base';

export const KEY_BYTES = 16;
export const VALUE_BYTES = 100;

export function keyOf(n: number): Buffer {
  return Buffer.from(String(n).padStart(KEY_BYTES, '0'), 'latin1');
}

/** A key that sorts among the real ones but is never written. */
export function missingKeyOf(n: number): Buffer {
  const key = Buffer.from(String(n).padStart(KEY_BYTES - 1, '0') + '.', 'latin1');
  return key;
}

export interface Workload {
  count: number;
  sequential: Buffer[];
  /** A random permutation of the keys: every key written exactly once. */
  shuffled: Buffer[];
  /** Random existing keys, with repeats. */
  reads: Buffer[];
  missing: Buffer[];
  seeks: Buffer[];
  values: Buffer[];
}

export function makeWorkload(count: number, seed = 301): Workload {
  const prng = new Prng(seed);
  const sequential = Array.from({ length: count }, (_, i) => keyOf(i));
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const shuffled = order.map((i) => sequential[i]!);
  const reads = Array.from({ length: count }, () => sequential[prng.int(count)]!);
  const missing = Array.from({ length: count }, () => missingKeyOf(prng.int(count)));
  const seekCount = Math.max(1, Math.floor(count / 10));
  const seeks = Array.from({ length: seekCount }, () => sequential[prng.int(count)]!);
  // A pool of random bytes; each value is a 100-byte window of it (incompressible, cheap to make).
  const pool = prng.bytes(1 << 20);
  const values = Array.from({ length: 4096 }, (_, i) => pool.subarray((i * 251) % (pool.length - VALUE_BYTES), ((i * 251) % (pool.length - VALUE_BYTES)) + VALUE_BYTES));
  return { count, sequential, shuffled, reads, missing, seeks, values };
}

export interface EngineUnderTest {
  readonly name: string;
  open(dir: string): Promise<void>;
  close(): Promise<void>;
  /** Writes every key once, in the order given, one write per key (the engine may pipeline). */
  fill(keys: Buffer[], values: Buffer[]): Promise<void>;
  /** Writes every key once in batches of `batchSize`. */
  fillBatch(keys: Buffer[], values: Buffer[], batchSize: number): Promise<void>;
  /** Reads each key; returns how many were found. */
  read(keys: Buffer[]): Promise<number>;
  /** For each key: seek to it, then read `nexts` entries; returns the entries read. */
  seek(keys: Buffer[], nexts: number): Promise<number>;
  /** Waits for background work (flushes, compactions) to settle. */
  settle(): Promise<void>;
  /** Bytes the engine wrote to disk over bytes the user wrote, when it knows. */
  writeAmplification(): number | undefined;
}
