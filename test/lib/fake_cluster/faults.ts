/**
 * Faults the fake cluster can be told to inject, matched against each request a fake server
 * receives: by server address (any when absent) and by request name — a replica request
 * (`get`, `set`, `scan` …) or a meta request (`queryRouting`, `createTable` …; any when absent).
 *
 * - delay: the answer leaves `ms` later (a write is applied at once, only its answer waits).
 * - error: the request is answered with an error response of `code` instead, unapplied.
 * - drop: the connection is cut when the request arrives — after applying it when `apply`.
 *
 * A fault with `count` fires that many times, then retires; without, until cleared.
 */
import type { ErrorCode } from '@petrel/base';

export interface FaultMatch {
  /** The fake server's address (`127.0.0.1:port`); any server when absent. */
  server?: string;
  /** The request's name; any request when absent. */
  type?: string;
  /** Only requests for this table id / partition. */
  tableId?: number;
  partitionIndex?: number;
  /** Fires this many times (default: until cleared). */
  count?: number;
}

export type Fault =
  | (FaultMatch & { kind: 'delay'; ms: number })
  | (FaultMatch & { kind: 'error'; code: ErrorCode; message?: string })
  | (FaultMatch & { kind: 'drop'; apply: boolean });

export interface RequestFacts {
  server: string;
  type: string;
  tableId?: number;
  partitionIndex?: number;
  /** The timeout the request's header carried (replica requests). */
  timeoutMs?: number;
  /** performance.now() when it arrived. */
  atMs?: number;
}

export class FaultTable {
  private faults: Fault[] = [];

  add(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  clear(): void {
    this.faults = [];
  }

  /** The first fault of `kind` that matches, used up by one if it has a count. */
  take<K extends Fault['kind']>(kind: K, facts: RequestFacts): Extract<Fault, { kind: K }> | undefined {
    for (let i = 0; i < this.faults.length; i++) {
      const fault = this.faults[i] as Fault;
      if (fault.kind !== kind) continue;
      if (fault.server !== undefined && fault.server !== facts.server) continue;
      if (fault.type !== undefined && fault.type !== facts.type) continue;
      if (fault.tableId !== undefined && fault.tableId !== facts.tableId) continue;
      if (fault.partitionIndex !== undefined && fault.partitionIndex !== facts.partitionIndex) continue;
      if (fault.count !== undefined) {
        fault.count--;
        if (fault.count <= 0) this.faults.splice(i, 1);
      }
      return fault as Extract<Fault, { kind: K }>;
    }
    return undefined;
  }
}
