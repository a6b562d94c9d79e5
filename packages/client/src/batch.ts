/**
 * The batch operations: many keys, any hash keys, not atomic, under one deadline.
 *
 * - batchGet groups the keys by partition and sends one `batchGet` request per partition (of at
 *   most 1000 keys), all at once; the values come back in the order of the keys.
 * - batchSet / batchDel send one `set` / `del` per item, pipelined; the call resolves when every
 *   one has, and fails with the first error after the others have settled.
 *
 * At most 256 requests of one batch call are out at a time, so that a large batch waits its
 * turn instead of overflowing the connections' queues (which would answer APP_BUSY).
 */
import { PetrelError } from '@petrel/base';
import { partitionIndex } from '@petrel/protocol';
import { checkWriteSize, invalid, optionsOf, timeoutOf, toBuffer, toHashKey, ttlOf } from './arguments.js';
import type { CallContext } from './call_context.js';
import { type PartitionCaller, throwIfError } from './partition_caller.js';
import type { Bytes, Timeout } from './types.js';

const MAX_KEYS_PER_REQUEST = 1000;
const MAX_REQUESTS_IN_FLIGHT = 256;

/**
 * Runs `task` for every item, at most `limit` at a time. After a failure no new task starts;
 * the first error is thrown once the running ones have settled.
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

function keyPairsOf(keys: unknown): { hashKey: Buffer; sortKey: Buffer }[] {
  if (!Array.isArray(keys)) invalid('keys must be an array of [hashKey, sortKey] pairs');
  return keys.map((pair: unknown, index) => {
    if (!Array.isArray(pair) || pair.length !== 2) invalid(`keys[${index}] must be a [hashKey, sortKey] pair`);
    return { hashKey: toHashKey(pair[0], true), sortKey: toBuffer(pair[1], `keys[${index}] sort key`) };
  });
}

export async function batchGet(caller: PartitionCaller, keys: [Bytes, Bytes][], o?: Timeout): Promise<(Buffer | null)[]> {
  const options = optionsOf(o);
  const pairs = keyPairsOf(keys);
  const timeoutMs = timeoutOf(options.timeoutMs, caller.defaultTimeoutMs);
  if (pairs.length === 0) return [];
  const partitionCount = caller.routing.partitionCount;
  const byPartition = new Map<number, number[]>();
  pairs.forEach((pair, index) => {
    const partition = partitionIndex(pair.hashKey, pair.sortKey, partitionCount);
    let indexes = byPartition.get(partition);
    if (indexes === undefined) byPartition.set(partition, (indexes = []));
    indexes.push(index);
  });
  const requests: { partition: number; indexes: number[] }[] = [];
  for (const [partition, indexes] of byPartition) {
    for (let at = 0; at < indexes.length; at += MAX_KEYS_PER_REQUEST) requests.push({ partition, indexes: indexes.slice(at, at + MAX_KEYS_PER_REQUEST) });
  }
  return caller.run('batchGet', timeoutMs, async (context: CallContext) => {
    const values: (Buffer | null)[] = new Array<Buffer | null>(pairs.length).fill(null);
    await forEachLimited(requests, MAX_REQUESTS_IN_FLIGHT, async ({ partition, indexes }) => {
      const response = await caller.call('batchGet', partition, { keys: indexes.map((index) => pairs[index] as { hashKey: Buffer; sortKey: Buffer }) }, context, true);
      if (response.values.length !== indexes.length) throw new PetrelError('SERVER_INTERNAL_ERROR', `batchGet: ${response.values.length} values for ${indexes.length} keys`);
      indexes.forEach((index, at) => {
        values[index] = response.values[at] ?? null;
      });
    });
    return values;
  });
}

export async function batchSet(caller: PartitionCaller, items: { hashKey: Bytes; sortKey: Bytes; value: Bytes; ttlSeconds?: number }[], o?: Timeout): Promise<void> {
  const options = optionsOf(o);
  if (!Array.isArray(items)) invalid('items must be an array of { hashKey, sortKey, value, ttlSeconds? }');
  const requests = items.map((item: unknown, index) => {
    if (typeof item !== 'object' || item === null) invalid(`items[${index}] must be { hashKey, sortKey, value, ttlSeconds? }`);
    const fields = item as Record<string, unknown>;
    const request = { hashKey: toHashKey(fields.hashKey, true), sortKey: toBuffer(fields.sortKey, `items[${index}].sortKey`), value: toBuffer(fields.value, `items[${index}].value`), ttlSeconds: ttlOf(fields.ttlSeconds) };
    checkWriteSize(request.hashKey.length + request.sortKey.length + request.value.length, 'set');
    return request;
  });
  const timeoutMs = timeoutOf(options.timeoutMs, caller.defaultTimeoutMs);
  if (requests.length === 0) return;
  const partitionCount = caller.routing.partitionCount;
  await caller.run('batchSet', timeoutMs, (context) =>
    forEachLimited(requests, MAX_REQUESTS_IN_FLIGHT, async (request) => {
      const response = await caller.call('set', partitionIndex(request.hashKey, request.sortKey, partitionCount), request, context, false);
      throwIfError(response.error);
    }),
  );
}

export async function batchDel(caller: PartitionCaller, keys: [Bytes, Bytes][], o?: Timeout): Promise<void> {
  const options = optionsOf(o);
  const pairs = keyPairsOf(keys);
  for (const pair of pairs) checkWriteSize(pair.hashKey.length + pair.sortKey.length, 'del');
  const timeoutMs = timeoutOf(options.timeoutMs, caller.defaultTimeoutMs);
  if (pairs.length === 0) return;
  const partitionCount = caller.routing.partitionCount;
  await caller.run('batchDel', timeoutMs, (context) =>
    forEachLimited(pairs, MAX_REQUESTS_IN_FLIGHT, async (pair) => {
      const response = await caller.call('del', partitionIndex(pair.hashKey, pair.sortKey, partitionCount), pair, context, false);
      throwIfError(response.error);
    }),
  );
}
