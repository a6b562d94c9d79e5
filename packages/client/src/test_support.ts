/**
 * Helpers for the client's tests: a fake cluster with a client and a table, always stopped, and
 * small conversions that keep expectations short. Used only by `*.test.ts`.
 */
import { isPetrelError } from '@petrel/base';
import { partitionIndex } from '@petrel/protocol';
import { FakeCluster, type FakeClusterOptions } from '../../../test/lib/fake_cluster/index.js';
import { PetrelClient } from './client.js';
import type { ClientOptions, MultiGetResult, Table } from './types.js';

export interface Rig {
  cluster: FakeCluster;
  client: PetrelClient;
  table: Table;
}

/** Runs `body` with a fresh fake cluster, a client of it and a table `t`; stops everything after. */
export async function withRig<T>(
  body: (rig: Rig) => Promise<T>,
  options: { cluster?: FakeClusterOptions; client?: Partial<ClientOptions>; partitionCount?: number } = {},
): Promise<T> {
  const cluster = await FakeCluster.start(options.cluster);
  const client = new PetrelClient({ metaServers: cluster.metaAddresses, ...options.client });
  try {
    cluster.createTable('t', { partitionCount: options.partitionCount ?? 8 });
    const table = await client.openTable('t');
    return await body({ cluster, client, table });
  } finally {
    await client.close();
    await cluster.stop();
  }
}

/** The PetrelError code a promise (or a function) fails with; 'no error' when it succeeds. */
export async function codeOf(work: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    if (isPetrelError(error)) return error.code;
    throw error;
  }
  return 'no error';
}

/** A buffer as text; null stays null. */
export function text(value: Buffer | null | undefined): string | null {
  return value === null || value === undefined ? null : value.toString();
}

/** multiGet entries as [sortKey, value] strings. */
export function pairs(result: MultiGetResult): [string, string][] {
  return result.entries.map((entry) => [entry.sortKey.toString(), entry.value.toString()]);
}

/** The sort keys of a multiGet result joined with commas. */
export function keysOf(result: MultiGetResult): string {
  return result.entries.map((entry) => entry.sortKey.toString()).join(',');
}

/** Every record of an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Milliseconds the call `start` begins took to settle, and how. */
export async function timed(start: () => Promise<unknown>): Promise<{ ms: number; code: string }> {
  const started = performance.now();
  const code = await codeOf(start());
  return { ms: performance.now() - started, code };
}

/**
 * Like `timed`, for a call expected to time out after `timeoutMs`, with `lateMs`: how much later
 * it settled than a plain timer of the same length set at the same moment. On a loaded machine
 * both are late by the event loop's own lag; what the call adds is the difference.
 */
export async function timedAgainstTimer(timeoutMs: number, start: () => Promise<unknown>): Promise<{ ms: number; code: string; lateMs: number }> {
  let referenceAt = 0;
  const started = performance.now();
  const reference = new Promise<void>((resolve) =>
    setTimeout(() => {
      referenceAt = performance.now();
      resolve();
    }, timeoutMs),
  );
  const code = await codeOf(start());
  const settledAt = performance.now();
  await reference;
  return { ms: settledAt - started, code, lateMs: settledAt - Math.max(referenceAt, started + timeoutMs) };
}

/** The first hash key `prefix0`, `prefix1`, … that lands in `partition` of `partitionCount`. */
export function hashKeyIn(partition: number, partitionCount: number, prefix = 'k'): string {
  for (let i = 0; i < 100_000; i++) {
    const candidate = `${prefix}${i}`;
    if (partitionIndex(Buffer.from(candidate), Buffer.alloc(0), partitionCount) === partition) return candidate;
  }
  throw new Error(`no hash key found for partition ${partition}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
