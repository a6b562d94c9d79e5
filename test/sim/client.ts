/**
 * A simulated client: one operation at a time — get, set, del, incr or checkAndSet on a small,
 * rotating set of keys — routed to the partition's primary from a cached configuration it asks
 * the meta for.
 *
 * Retries keep the history honest: a refusal (NOT_PRIMARY, NOT_ENOUGH_MEMBER, BUSY) guarantees
 * the request had no effect, so the client refreshes its route and tries again until the
 * operation's deadline; a write that times out may have happened, so it is never sent again — it
 * goes into the history as a maybe-operation. A read that times out is simply retried.
 *
 * Keys rotate every `keyEpochMs` so that each key's history stays short: the linearizability
 * search is exponential in the maybe-operations of an illegal history. Half the operations go to
 * one hot key per partition, so reads meet recent writes.
 */
import type { Prng } from '@petrel/base';
import type { Gpid, Message, NodeId, PartitionConfiguration } from '@petrel/pacifica';
import type { KvInput, KvOutput } from '../lib/linearizability/index.js';
import { decodeResult, encodeRequest, type KvWrite } from './kv_machine.js';

export interface ClientEnvironment {
  now(): number;
  send(from: NodeId, to: NodeId, message: Message): void;
  /** Calls the client's `onTimer(token)` after `delayMs`. */
  setTimer(client: SimClient, delayMs: number, token: number): void;
  readonly meta: NodeId;
  readonly partitionCount: number;
  /** Told of every write the system acknowledged, with the decree that held it. */
  onWriteAcknowledged(gpid: Gpid, decree: number, from: NodeId): void;
}

export interface ClientOptions {
  keysPerEpoch: number;
  keyEpochMs: number;
  /** A write attempt unanswered for this long maybe happened: the client gives up on it. */
  attemptTimeoutMs: number;
  /** A read attempt unanswered for this long is sent again (reads have no effect). */
  readAttemptTimeoutMs: number;
  operationDeadlineMs: number;
  thinkMinMs: number;
  thinkMaxMs: number;
}

export type OutcomeKind = 'ok' | 'maybe' | 'fail';

export interface ClientOperation {
  readonly id: number;
  readonly clientId: string;
  readonly input: KvInput;
  readonly gpid: Gpid;
  readonly callTime: number;
  returnTime: number;
  output?: KvOutput;
  outcome: OutcomeKind | 'pending';
}

interface Current {
  readonly operation: ClientOperation;
  readonly request: Uint8Array;
  readonly write: boolean;
  readonly deadline: number;
  requestId: number;
  /** The primary the current attempt went to. */
  sentTo: NodeId | null;
  waiting: 'config' | 'reply' | 'backoff';
}

/** The partition of a key: keys are `k<epoch>.<index>`, spread over partitions by index. */
export function partitionOfKey(key: string, partitionCount: number): Gpid {
  const index = Number(key.slice(key.indexOf('.') + 1));
  return `1.${index % partitionCount}`;
}

export class SimClient {
  readonly operations: ClientOperation[] = [];
  private readonly routing = new Map<Gpid, PartitionConfiguration>();
  private current: Current | null = null;
  private timerToken = 0;
  private nextRequestId = 1;
  private stopped = false;
  /** The last value this client saw per key, for plausible checkAndSet expectations. */
  private readonly seen = new Map<string, string | null>();

  constructor(
    readonly id: string,
    private readonly env: ClientEnvironment,
    private readonly random: Prng,
    private readonly options: ClientOptions,
    private readonly nextOperationId: () => number,
  ) {}

  start(): void {
    this.schedule(this.random.range(0, 200));
  }

  /** No new operations after this; the one in flight finishes (or times out). */
  stop(): void {
    this.stopped = true;
  }

  get idle(): boolean {
    return this.current === null;
  }

  onTimer(token: number): void {
    if (token !== this.timerToken) return;
    const current = this.current;
    if (current === null) {
      if (!this.stopped) this.beginOperation();
      return;
    }
    const now = this.env.now();
    switch (current.waiting) {
      case 'reply':
        if (current.write) return this.finish('maybe', undefined);
        if (now >= current.deadline) return this.finish('maybe', undefined);
        this.routing.delete(current.operation.gpid);
        return this.route();
      case 'config':
      case 'backoff':
        if (now >= current.deadline) return this.finish('fail', undefined);
        return this.route();
    }
  }

  onMessage(from: NodeId, message: Message): void {
    if (message.type === 'queryConfigReply') {
      const known = this.routing.get(message.config.gpid);
      if (known === undefined || known.ballot <= message.config.ballot) this.routing.set(message.config.gpid, message.config);
      const current = this.current;
      if (current !== null && current.waiting === 'config' && current.operation.gpid === message.config.gpid) this.route();
      return;
    }
    if (message.type !== 'clientReply') return;
    const current = this.current;
    if (current === null || current.waiting !== 'reply' || message.requestId !== current.requestId || from !== current.sentTo) return;
    if (message.refusal !== undefined) {
      // Certainly not applied: find the primary again and retry until the deadline.
      this.routing.delete(current.operation.gpid);
      if (this.env.now() >= current.deadline) return this.finish('fail', undefined);
      current.waiting = 'backoff';
      this.schedule(this.random.range(20, 80));
      return;
    }
    if (message.result === undefined) return;
    if (current.write && message.decree !== undefined) this.env.onWriteAcknowledged(current.operation.gpid, message.decree, from);
    this.finish('ok', this.toOutput(current.operation.input, message.result));
  }

  private schedule(delayMs: number): void {
    this.timerToken++;
    this.env.setTimer(this, delayMs, this.timerToken);
  }

  private beginOperation(): void {
    const now = this.env.now();
    const epoch = Math.floor(now / this.options.keyEpochMs);
    // Skewed: half the operations go to the epoch's hot key of some partition (keys 0..P-1 are
    // one per partition), the rest spread over every key of the epoch.
    const hot = this.random.chance(0.5);
    const key = `k${epoch}.${this.random.int(hot ? this.env.partitionCount : this.options.keysPerEpoch)}`;
    const id = this.nextOperationId();
    const roll = this.random.int(100);
    let input: KvInput;
    if (roll < 35) input = { op: 'get', key };
    else if (roll < 60) input = { op: 'set', key, value: this.random.chance(0.5) ? String(id * 10 + this.random.int(10)) : `v${id}` };
    else if (roll < 70) input = { op: 'del', key };
    else if (roll < 85) input = { op: 'incr', key, delta: this.random.range(-3, 9) };
    else input = { op: 'checkAndSet', key, expected: this.random.chance(0.8) ? (this.seen.get(key) ?? null) : `v${id - 1}`, value: `c${id}` };
    const gpid = partitionOfKey(key, this.env.partitionCount);
    const operation: ClientOperation = { id, clientId: this.id, input, gpid, callTime: now, returnTime: Infinity, outcome: 'pending' };
    this.operations.push(operation);
    const write = input.op !== 'get';
    const request = encodeRequest(write ? toWrite(input) : { op: 'get', key });
    this.current = { operation, request, write, deadline: now + this.options.operationDeadlineMs, requestId: 0, sentTo: null, waiting: 'config' };
    this.route();
  }

  private route(): void {
    const current = this.current!;
    const config = this.routing.get(current.operation.gpid);
    if (config === undefined || config.primary === null) {
      current.waiting = 'config';
      current.sentTo = null;
      this.env.send(this.id, this.env.meta, { type: 'queryConfig', gpid: current.operation.gpid });
      this.schedule(300);
      return;
    }
    current.requestId = this.nextRequestId++;
    current.sentTo = config.primary;
    current.waiting = 'reply';
    const gpid = current.operation.gpid;
    this.env.send(
      this.id,
      config.primary,
      current.write ? { type: 'clientWrite', gpid, requestId: current.requestId, write: current.request } : { type: 'clientRead', gpid, requestId: current.requestId, read: current.request },
    );
    this.schedule(current.write ? this.options.attemptTimeoutMs : this.options.readAttemptTimeoutMs);
  }

  private finish(outcome: OutcomeKind, output: KvOutput | undefined): void {
    const current = this.current!;
    const operation = current.operation;
    operation.outcome = outcome;
    if (outcome === 'ok') {
      operation.returnTime = this.env.now();
      if (output !== undefined) operation.output = output;
      this.remember(operation.input, output);
    } else if (outcome === 'fail') {
      operation.returnTime = this.env.now();
    }
    this.current = null;
    if (!this.stopped) this.schedule(this.random.range(this.options.thinkMinMs, this.options.thinkMaxMs));
  }

  private remember(input: KvInput, output: KvOutput | undefined): void {
    if (output === undefined) return;
    if (input.op === 'get' && output.value !== undefined) this.seen.set(input.key, output.value);
    else if (input.op === 'set') this.seen.set(input.key, input.value);
    else if (input.op === 'del') this.seen.set(input.key, null);
    else if (input.op === 'checkAndSet' && output.succeeded === true) this.seen.set(input.key, input.value);
  }

  private toOutput(input: KvInput, bytes: Uint8Array): KvOutput {
    const result = decodeResult(bytes);
    switch (input.op) {
      case 'get':
        return { value: result.value ?? null };
      case 'set':
      case 'del':
        return {};
      case 'incr':
        return result.error !== undefined ? { error: result.error } : { newValue: BigInt(result.newValue!) };
      case 'checkAndSet':
        return { succeeded: result.succeeded!, oldValue: result.oldValue ?? null };
    }
  }
}

function toWrite(input: KvInput): KvWrite {
  switch (input.op) {
    case 'set':
      return { op: 'set', key: input.key, value: input.value };
    case 'del':
      return { op: 'del', key: input.key };
    case 'incr':
      return { op: 'incr', key: input.key, delta: Number(input.delta) };
    case 'checkAndSet':
      return { op: 'checkAndSet', key: input.key, expected: input.expected, value: input.value };
    case 'get':
      throw new Error('a get is not a write');
  }
}
