/**
 * The interface a system under test implements to be driven by the YCSB runner, and how a worker
 * process finds one.
 *
 * Each client process (worker) builds its own adapter from an `AdapterSpec` — a module path and
 * JSON options, since live connections cannot cross processes — with the module's exported
 * `createAdapter(options)`. One adapter serves all of its worker's in-flight requests
 * concurrently: it must allow many calls to be outstanding at once (pipelining, a pool, or
 * multiplexing), because that concurrency is a benchmark parameter.
 *
 * Keys are `KvKey`s (see key_space.ts): a Petrel adapter uses `hashKey`/`sortKey`, systems with
 * flat keys use `key`. Values are opaque bytes of the configured size.
 */
import type { KvKey } from './key_space.js';

export interface KvAdapter {
  /** Connects (and creates the table or schema if the system needs one). */
  open(): Promise<void>;
  close(): Promise<void>;
  /** The value of `key`, or null when it is absent. */
  read(key: KvKey): Promise<Buffer | null>;
  /** Overwrites the value of an existing record. */
  update(key: KvKey, value: Buffer): Promise<void>;
  /** Adds a new record (the load phase and workloads D and E). */
  insert(key: KvKey, value: Buffer): Promise<void>;
  /**
   * Reads up to `count` records in key order, starting at `start` (inclusive) and never past the
   * end of `start.hashKey`; returns how many it read.
   */
  scan(start: KvKey, count: number): Promise<number>;
  /** Reads `key`, then writes `value` to it; returns what was read (null when absent). */
  readModifyWrite(key: KvKey, value: Buffer): Promise<Buffer | null>;
}

/** Where a worker process finds its adapter: a module exporting `createAdapter`. */
export interface AdapterSpec {
  /** A file URL (or package specifier) of a module exporting `createAdapter(options)`. */
  module: string;
  options: Record<string, unknown>;
}

export type AdapterFactory = (options: Record<string, unknown>) => KvAdapter;

export async function loadAdapter(spec: AdapterSpec): Promise<KvAdapter> {
  const module = (await import(spec.module)) as { createAdapter?: AdapterFactory };
  if (typeof module.createAdapter !== 'function') throw new Error(`${spec.module} does not export createAdapter(options)`);
  return module.createAdapter(spec.options);
}

/** The read-then-write that every adapter without something better uses for readModifyWrite. */
export async function readThenUpdate(adapter: KvAdapter, key: KvKey, value: Buffer): Promise<Buffer | null> {
  const previous = await adapter.read(key);
  await adapter.update(key, value);
  return previous;
}
