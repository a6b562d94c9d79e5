/**
 * The simulator's nodes: a replica server (its core, disks, state machines, clock, and whether it
 * is up, paused or has a slow disk) and the meta (its core, its durable records and the persists
 * in flight), plus the trace hash every event feeds.
 */
import { FailedReplicas, type MetaCore, type MetaRecord, type NodeId, type Gpid, type ReplicaServerCore } from '@petrel/pacifica';
import { KvStateMachine } from './kv_machine.js';
import { ReplicaDisk } from './storage.js';

export interface Clock {
  offset: number;
  rate: number;
}

export class ServerNode {
  core: ReplicaServerCore | null = null;
  up = true;
  epoch = 0;
  pausedUntil = 0;
  tickPending = false;
  failNextSync = false;
  /** Replica incarnations whose storage failed: their later state effects change nothing. */
  readonly failed = new FailedReplicas();
  /** Until then (simulated time), this server's log syncs take 100–600 ms. */
  slowDiskUntil = 0;
  readonly disks = new Map<Gpid, ReplicaDisk>();
  readonly apps = new Map<Gpid, KvStateMachine>();
  /** Applied decrees between two local checkpoints (after which the log below is dropped). */
  readonly checkpointEvery: number;

  constructor(
    readonly id: NodeId,
    readonly clock: Clock,
    checkpointEvery: number,
  ) {
    this.checkpointEvery = checkpointEvery;
  }

  disk(gpid: Gpid): ReplicaDisk {
    let disk = this.disks.get(gpid);
    if (disk === undefined) this.disks.set(gpid, (disk = new ReplicaDisk(gpid)));
    return disk;
  }

  app(gpid: Gpid): KvStateMachine {
    let app = this.apps.get(gpid);
    if (app === undefined) this.apps.set(gpid, (app = new KvStateMachine()));
    return app;
  }
}

export class MetaNode {
  core: MetaCore | null = null;
  up = true;
  epoch = 0;
  pausedUntil = 0;
  tickPending = false;
  records: MetaRecord[] = [];
  /** Persists issued but not yet durable, in order. */
  pending: { token: number; record: MetaRecord; doneAt: number }[] = [];

  constructor(
    readonly id: NodeId,
    readonly clock: Clock,
  ) {}
}

/** FNV-1a, two lanes: a 64-bit trace hash with no dependencies. */
export class TraceHash {
  private a = 0x811c9dc5;
  private b = 0xcbf29ce4;

  add(text: string): void {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 13;
    }
    this.a = a;
    this.b = b;
  }

  digest(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}
