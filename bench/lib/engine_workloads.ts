/**
 * db_bench-style workloads, shared by every engine under test: 16-byte keys (zero-padded decimal
 * numbers, as db_bench makes them), 100-byte incompressible values, and one seeded key order, so
 * that every engine does exactly the same work.
 */
import { Prng } from '@petrel/base';

export const KEY_BYTES = 16;
export const VALUE_BYTES = 100;
/**
 * The block cache each engine gets: the same on both sides, and Petrel's own default for a process
 * (sharedBlockCache). LevelDB's default is 8 MiB; it also reads its tables through mmap, so the
 * OS page cache serves its misses without a system call, which Petrel's `pread`s cannot match.
 */
export const BLOCK_CACHE_BYTES = 256 * 2 ** 20;

const ZERO = 0x30;
const DOT = 0x2e;

/** Writes `n` as `digits` zero-padded decimal digits at `at`. */
function writeDigits(target: Buffer, at: number, digits: number, n: number): void {
  for (let i = at + digits - 1; i >= at; i--) {
    target[i] = ZERO + (n % 10);
    n = Math.floor(n / 10);
  }
}

/** The key of record `n`: 16 zero-padded decimal digits. */
export function keyOf(n: number): Buffer {
  const key = Buffer.allocUnsafe(KEY_BYTES);
  writeDigits(key, 0, KEY_BYTES, n);
  return key;
}

/** A key that sorts among the real ones but is never written. */
export function missingKeyOf(n: number): Buffer {
  const key = Buffer.allocUnsafe(KEY_BYTES);
  writeDigits(key, 0, KEY_BYTES - 1, n);
  key[KEY_BYTES - 1] = DOT;
  return key;
}

/**
 * A list of keys made when asked for (`at(i)` returns a new Buffer each call), as db_bench makes
 * them: a million keys held as a million Buffer objects would make the bench's own heap what the
 * garbage collector spends its pauses on, for every engine in the process alike.
 */
export class KeyList {
  constructor(
    private readonly numbers: Uint32Array,
    private readonly make: (n: number) => Buffer,
  ) {}

  get length(): number {
    return this.numbers.length;
  }

  at(i: number): Buffer {
    return this.make(this.numbers[i] as number);
  }

  slice(start: number, end: number): KeyList {
    return new KeyList(this.numbers.subarray(start, end), this.make);
  }
}

/**
 * Synchronous read loops give the event loop a turn once `SLICE_MS` has passed, as a server
 * would, checking the clock 1, 2, 4, 8 and 16 operations into each slice and then every 32: a
 * read that misses every cache may wait on the disk, and 256 of those between checks made slices
 * of 50 ms; 32 cold seeks (tables opening, blocks loading: ~2 ms each at the start of
 * seekrandom) made one of 54–61 ms. Both engines' read loops use it.
 */
export class TimeSlices {
  static readonly SLICE_MS = 5;
  private start = performance.now();
  private count = 0;

  /** Call after each operation: true when the slice is over (then `await next()`). */
  due(): boolean {
    const count = ++this.count;
    if ((count & 31) !== 0 && (count & (count - 1)) !== 0) return false;
    return performance.now() - this.start > TimeSlices.SLICE_MS;
  }

  async next(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.start = performance.now();
    this.count = 0;
  }
}

export interface Workload {
  count: number;
  sequential: KeyList;
  /** A random permutation of the keys: every key written exactly once. */
  shuffled: KeyList;
  /** Random existing keys, with repeats. */
  reads: KeyList;
  missing: KeyList;
  seeks: KeyList;
  values: Buffer[];
}

export function makeWorkload(count: number, seed = 301): Workload {
  const prng = new Prng(seed);
  const sequential = Uint32Array.from({ length: count }, (_, i) => i);
  const order = sequential.slice();
  for (let i = count - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    const swap = order[i] as number;
    order[i] = order[j] as number;
    order[j] = swap;
  }
  const reads = Uint32Array.from({ length: count }, () => prng.int(count));
  const missing = Uint32Array.from({ length: count }, () => prng.int(count));
  const seekCount = Math.max(1, Math.floor(count / 10));
  const seeks = Uint32Array.from({ length: seekCount }, () => prng.int(count));
  // A pool of random bytes; each value is a 100-byte window of it (incompressible, cheap to make).
  const pool = prng.bytes(1 << 20);
  const values = Array.from({ length: 4096 }, (_, i) => pool.subarray((i * 251) % (pool.length - VALUE_BYTES), ((i * 251) % (pool.length - VALUE_BYTES)) + VALUE_BYTES));
  return {
    count,
    sequential: new KeyList(sequential, keyOf),
    shuffled: new KeyList(order, keyOf),
    reads: new KeyList(reads, keyOf),
    missing: new KeyList(missing, missingKeyOf),
    seeks: new KeyList(seeks, keyOf),
    values,
  };
}

/** How an engine's `fill` writes: batches of 1,000, or one write per key with 64 in flight. */
export type FillMode = 'batch' | 'inflight';

/**
 * Sets `engine.fillMode` to its faster fill API, timed on small throwaway databases under `dir`:
 * each mode twice, in turn, the better time of each (the first run also pays for compiling).
 * Returns what it found, to print.
 */
export async function calibrateFill(engine: EngineUnderTest, dir: string, keys: KeyList, values: Buffer[]): Promise<string> {
  const timings: Record<string, number> = {};
  for (const [round, mode] of (['batch', 'inflight', 'batch', 'inflight'] as const).entries()) {
    await engine.open(`${dir}-${mode}-${round}`);
    engine.fillMode = mode;
    const started = performance.now();
    await fill(engine, keys, values);
    timings[mode] = Math.min(timings[mode] ?? Infinity, performance.now() - started);
    await engine.close();
  }
  engine.fillMode = (timings.batch ?? Infinity) <= (timings.inflight ?? Infinity) ? 'batch' : 'inflight';
  return `${engine.fillMode} (batch ${timings.batch?.toFixed(0)} ms, 64 in flight ${timings.inflight?.toFixed(0)} ms for ${keys.length} keys)`;
}

/** Writes every key once, in the order given, the way `engine.fillMode` says. */
export async function fill(engine: EngineUnderTest, keys: KeyList, values: Buffer[]): Promise<void> {
  if (engine.fillMode === 'batch') return engine.fillBatch(keys, values, 1000);
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < keys.length) {
        const i = next++;
        await engine.put(keys.at(i), values[i % values.length]!);
      }
    }),
  );
}

export interface EngineUnderTest {
  readonly name: string;
  open(dir: string): Promise<void>;
  close(): Promise<void>;
  /** How `fill` writes (calibrateFill picks it). */
  fillMode: FillMode;
  /** One write. */
  put(key: Buffer, value: Buffer): Promise<void>;
  /** Writes every key once in batches of `batchSize`. */
  fillBatch(keys: KeyList, values: Buffer[], batchSize: number): Promise<void>;
  /** Reads each key; returns how many were found. */
  read(keys: KeyList): Promise<number>;
  /** For each key: seek to it, then read `nexts` entries; returns the entries read. */
  seek(keys: KeyList, nexts: number): Promise<number>;
  /** Waits for background work (flushes, compactions) to settle. */
  settle(): Promise<void>;
  /** Bytes the engine wrote to disk over bytes the user wrote, when it knows. */
  writeAmplification(): number | undefined;
}
