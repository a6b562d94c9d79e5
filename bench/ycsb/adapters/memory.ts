/**
 * An in-process adapter: a Map per hash key plus a sorted list of its sort keys. It answers at
 * once, so a run against it measures the load generator alone — how many operations a worker
 * can issue per second when the system costs nothing (see the README). Also used by tests.
 */
import type { AdapterFactory, KvAdapter } from '../adapter.js';
import { readThenUpdate } from '../adapter.js';
import type { KvKey } from '../key_space.js';

interface HashKeyRecords {
  values: Map<string, Buffer>;
  sortedKeys: string[];
}

function lowerBound(sorted: string[], target: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Its promises resolve at once, so a worker's loops would never leave the microtask queue; every
 * YIELD_EVERY calls it yields to the event loop so the worker's timers (progress) still run.
 */
const YIELD_EVERY = 1024;

export class MemoryAdapter implements KvAdapter {
  private readonly hashKeys = new Map<string, HashKeyRecords>();
  private calls = 0;

  private yieldSometimes(): Promise<void> | undefined {
    if (++this.calls % YIELD_EVERY !== 0) return undefined;
    return new Promise((resolve) => setImmediate(resolve));
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async read(key: KvKey): Promise<Buffer | null> {
    await this.yieldSometimes();
    return this.hashKeys.get(key.hashKey)?.values.get(key.sortKey) ?? null;
  }

  async update(key: KvKey, value: Buffer): Promise<void> {
    await this.yieldSometimes();
    this.put(key, value);
  }

  async insert(key: KvKey, value: Buffer): Promise<void> {
    await this.yieldSometimes();
    this.put(key, value);
  }

  async scan(start: KvKey, count: number): Promise<number> {
    await this.yieldSometimes();
    const records = this.hashKeys.get(start.hashKey);
    if (records === undefined) return 0;
    const first = lowerBound(records.sortedKeys, start.sortKey);
    return Math.min(count, records.sortedKeys.length - first);
  }

  readModifyWrite(key: KvKey, value: Buffer): Promise<Buffer | null> {
    return readThenUpdate(this, key, value);
  }

  private put(key: KvKey, value: Buffer): void {
    let records = this.hashKeys.get(key.hashKey);
    if (records === undefined) this.hashKeys.set(key.hashKey, (records = { values: new Map(), sortedKeys: [] }));
    if (!records.values.has(key.sortKey)) records.sortedKeys.splice(lowerBound(records.sortedKeys, key.sortKey), 0, key.sortKey);
    records.values.set(key.sortKey, value);
  }
}

export const createAdapter: AdapterFactory = () => new MemoryAdapter();
