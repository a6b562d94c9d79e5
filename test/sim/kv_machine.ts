/**
 * The simulator's state machine: a small deterministic key-value table implementing the replica
 * app interface of @petrel/pacifica, with get / set / del / incr / checkAndSet as the client API
 * defines them (the same semantics as the linearizability checker's kv model).
 *
 * Requests and responses are JSON in bytes — this is test code, not a hot path.
 */
import { assert } from '@petrel/base';
import type { Checkpoint, ReplicaApp } from '@petrel/pacifica';
import { parseInt64 } from '../lib/linearizability/index.js';

export type KvWrite =
  | { op: 'set'; key: string; value: string }
  | { op: 'del'; key: string }
  | { op: 'incr'; key: string; delta: number }
  | { op: 'checkAndSet'; key: string; expected: string | null; value: string };

export interface KvRead {
  op: 'get';
  key: string;
}

export interface KvResult {
  value?: string | null;
  newValue?: string;
  error?: 'INVALID_ARGUMENT';
  succeeded?: boolean;
  oldValue?: string | null;
}

const int64Max = 2n ** 63n - 1n;
const int64Min = -(2n ** 63n);

export function encodeRequest(request: KvWrite | KvRead): Uint8Array {
  return Buffer.from(JSON.stringify(request));
}

export function decodeRequest<T extends KvWrite | KvRead>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

export function decodeResult(bytes: Uint8Array): KvResult {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as KvResult;
}

function encodeResult(result: KvResult): Uint8Array {
  return Buffer.from(JSON.stringify(result));
}

export class KvStateMachine implements ReplicaApp {
  private readonly table = new Map<string, string>();
  private applied = 0;

  lastAppliedDecree(): number {
    return this.applied;
  }

  apply(decree: number, writes: readonly Uint8Array[]): Uint8Array[] {
    assert(decree === this.applied + 1, `kv machine: apply ${decree} after ${this.applied}`);
    this.applied = decree;
    return writes.map((bytes) => encodeResult(this.applyOne(decodeRequest<KvWrite>(bytes))));
  }

  private applyOne(write: KvWrite): KvResult {
    switch (write.op) {
      case 'set':
        this.table.set(write.key, write.value);
        return {};
      case 'del':
        this.table.delete(write.key);
        return {};
      case 'incr': {
        const current = parseInt64(this.table.get(write.key) ?? null);
        const sum = current === undefined ? undefined : current + BigInt(write.delta);
        if (sum === undefined || sum > int64Max || sum < int64Min) return { error: 'INVALID_ARGUMENT' };
        this.table.set(write.key, sum.toString());
        return { newValue: sum.toString() };
      }
      case 'checkAndSet': {
        const current = this.table.get(write.key) ?? null;
        const succeeded = current === write.expected;
        if (succeeded) this.table.set(write.key, write.value);
        return { succeeded, oldValue: current };
      }
    }
  }

  read(request: Uint8Array): Uint8Array {
    const read = decodeRequest<KvRead>(request);
    return encodeResult({ value: this.table.get(read.key) ?? null });
  }

  checkpoint(): Checkpoint {
    const entries = [...this.table.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return { decree: this.applied, data: Buffer.from(JSON.stringify(entries)) };
  }

  restore(checkpoint: Checkpoint): void {
    this.table.clear();
    for (const [key, value] of JSON.parse(Buffer.from(checkpoint.data).toString('utf8')) as [string, string][]) this.table.set(key, value);
    this.applied = checkpoint.decree;
  }

  /** A hash of the table (order-independent of insertion): equal tables hash equally. */
  stateHash(): string {
    const keys = [...this.table.keys()].sort();
    let a = 0x811c9dc5;
    let b = 0x01000193;
    for (const key of keys) {
      const text = `${key}=${this.table.get(key)!};`;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        a = Math.imul(a ^ c, 0x01000193);
        b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
      }
    }
    return `${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}:${keys.length}`;
  }
}
