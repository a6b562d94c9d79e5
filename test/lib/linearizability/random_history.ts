/**
 * Random histories that are linearizable by construction: concurrent clients run against an
 * atomic in-memory KV store, one event at a time. Each operation is invoked, later takes effect
 * atomically at one instant (its linearization point), and later still returns — or its outcome
 * is lost, as a timeout would lose it, after it took effect or without it ever taking effect.
 * A testing aid for the checker (and for whoever wants to see it at work): the store here is
 * written apart from `kvModel`, so it also cross-checks the model's semantics.
 */

import { Prng } from '@petrel/base';
import type { Operation } from './history.js';
import type { KvInput, KvOutput } from './kv_model.js';
import { parseInt64 } from './kv_model.js';

export interface RandomHistoryOptions {
  seed: number;
  operationCount: number;
  keyCount: number;
  clientCount: number;
  /** Chance that an operation's outcome is lost (it becomes a maybe-operation). Default 0. */
  maybeProbability?: number;
}

interface Client {
  operation: Operation<KvInput, KvOutput> | undefined;
  applied: boolean;
}

const int64Max = 2n ** 63n - 1n;
const int64Min = -(2n ** 63n);

/** Runs `input` on the atomic store and returns what a client would see. */
function apply(store: Map<string, string>, input: KvInput): KvOutput {
  const current = store.get(input.key) ?? null;
  switch (input.op) {
    case 'get':
      return { value: current };
    case 'set':
      store.set(input.key, input.value);
      return {};
    case 'del':
      store.delete(input.key);
      return {};
    case 'incr': {
      const parsed = parseInt64(current);
      if (parsed === undefined) return { error: 'INVALID_ARGUMENT' };
      const sum = parsed + BigInt(input.delta);
      if (sum > int64Max || sum < int64Min) return { error: 'INVALID_ARGUMENT' };
      store.set(input.key, sum.toString());
      return { newValue: sum };
    }
    case 'checkAndSet': {
      const succeeded = current === input.expected;
      if (succeeded) store.set(input.key, input.value);
      return { succeeded, oldValue: current };
    }
  }
}

function randomInput(prng: Prng, store: Map<string, string>, keyCount: number, serial: number): KvInput {
  const key = `k${prng.int(keyCount)}`;
  const roll = prng.int(100);
  if (roll < 35) return { op: 'get', key };
  if (roll < 55) return { op: 'set', key, value: `v${serial}` };
  if (roll < 60) return { op: 'set', key, value: prng.chance(0.8) ? String(prng.range(-5, 5)) : 'x' };
  if (roll < 67) return { op: 'del', key };
  if (roll < 80) return { op: 'incr', key, delta: BigInt(prng.range(-3, 5)) };
  // Compare-and-set against the value now (it may be stale when the operation takes effect), absent, or a guess.
  const choice = prng.int(3);
  const expected = choice === 0 ? (store.get(key) ?? null) : choice === 1 ? null : `v${prng.int(serial + 1)}`;
  return { op: 'checkAndSet', key, expected, value: `c${serial}` };
}

export function randomKvHistory(options: RandomHistoryOptions): Operation<KvInput, KvOutput>[] {
  const prng = new Prng(options.seed);
  const maybeProbability = options.maybeProbability ?? 0;
  const store = new Map<string, string>();
  const clients: Client[] = [];
  for (let i = 0; i < options.clientCount; i++) clients.push({ operation: undefined, applied: false });
  const history: Operation<KvInput, KvOutput>[] = [];
  let busy = 0;
  let time = 0;
  while (history.length < options.operationCount || busy > 0) {
    time++;
    const clientId = prng.int(clients.length);
    const client = clients[clientId]!;
    const operation = client.operation;
    if (operation === undefined) {
      if (history.length >= options.operationCount) continue;
      client.operation = { id: history.length, clientId, input: randomInput(prng, store, options.keyCount, history.length), callTime: time, returnTime: Infinity };
      client.applied = false;
      history.push(client.operation);
      busy++;
      continue;
    }
    if (prng.chance(maybeProbability)) {
      // The answer is lost: the operation took effect now or never, and the client moves on.
      if (!client.applied && prng.chance(0.5)) apply(store, operation.input);
      delete operation.output;
      client.operation = undefined;
      busy--;
      continue;
    }
    if (!client.applied) {
      operation.output = apply(store, operation.input);
      client.applied = true;
      continue;
    }
    operation.returnTime = time;
    client.operation = undefined;
    busy--;
  }
  return history;
}
