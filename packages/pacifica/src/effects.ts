/**
 * What goes into the cores and what comes out. A core never does IO: it returns effects, and the
 * driver (a real server, the simulator, a test) performs them and reports completions back as
 * inputs.
 *
 * The driver's contract, for one replica server:
 * - Effects are performed in the order they are returned. `persistReplica` and `truncateLog` are
 *   durable before the next effect is performed (they are rare: a write plus a sync). `apply` and
 *   `restore` change the state machine in order, before the next effect that reads it (`read`,
 *   `takeCheckpoint`).
 * - `append` writes a record to the replica's log without waiting; `sync` makes every record
 *   appended so far durable and reports `logSynced` (many appends share one sync: group commit).
 *   A failed append or sync reports `logFailed`.
 * - Every IO effect and completion carries the replica's `incarnation`; a completion for an
 *   incarnation that has been closed is ignored.
 * - `wakeAt` asks for a `tick` at (or after) that time of the node's monotonic clock.
 */
import type { Message } from './messages.js';
import type { Checkpoint, Gpid, Mutation, NodeId, PersistedReplicaState } from './types.js';

/** What a driver found on disk for one replica when it opened it. */
export interface RecoveredReplica {
  readonly gpid: Gpid;
  /** The last persisted ballot and configuration; null when nothing was persisted. */
  readonly persisted: PersistedReplicaState | null;
  /** The decree of the durable checkpoint the state machine was restored to (0: empty). */
  readonly checkpointDecree: number;
  /** The durable log records after the checkpoint, in append order (a torn tail already cut). */
  readonly log: readonly Mutation[];
}

export type ReplicaServerInput =
  | { readonly type: 'tick'; readonly now: number }
  | { readonly type: 'message'; readonly now: number; readonly from: NodeId; readonly message: Message }
  | { readonly type: 'logSynced'; readonly now: number; readonly gpid: Gpid; readonly incarnation: number; readonly throughIndex: number }
  | { readonly type: 'logFailed'; readonly now: number; readonly gpid: Gpid; readonly incarnation: number }
  | { readonly type: 'applied'; readonly now: number; readonly gpid: Gpid; readonly incarnation: number; readonly decree: number; readonly results: readonly Uint8Array[] }
  | { readonly type: 'logRead'; readonly now: number; readonly gpid: Gpid; readonly incarnation: number; readonly token: number; readonly mutations: readonly Mutation[] | null }
  | { readonly type: 'checkpointTaken'; readonly now: number; readonly gpid: Gpid; readonly incarnation: number; readonly token: number; readonly checkpoint: Checkpoint }
  | { readonly type: 'restored'; readonly now: number; readonly gpid: Gpid; readonly incarnation: number; readonly decree: number }
  | { readonly type: 'replicaOpened'; readonly now: number; readonly recovered: RecoveredReplica };

export type ReplicaServerEffect =
  | { readonly type: 'send'; readonly to: NodeId; readonly message: Message }
  /** Durable before the next effect: the ballot and configuration this replica acts on. */
  | { readonly type: 'persistReplica'; readonly incarnation: number; readonly state: PersistedReplicaState }
  | { readonly type: 'append'; readonly gpid: Gpid; readonly incarnation: number; readonly index: number; readonly mutation: Mutation }
  | { readonly type: 'sync'; readonly gpid: Gpid; readonly incarnation: number; readonly throughIndex: number }
  /**
   * Durable before the next effect: forget every log record of a decree above `afterDecree`
   * prepared under a ballot below `belowBallot` (a stale uncommitted tail).
   */
  | { readonly type: 'truncateLog'; readonly gpid: Gpid; readonly incarnation: number; readonly afterDecree: number; readonly belowBallot: number }
  | { readonly type: 'apply'; readonly gpid: Gpid; readonly incarnation: number; readonly mutation: Mutation }
  /** Run the read on the state machine now and send the client its answer. */
  | { readonly type: 'read'; readonly gpid: Gpid; readonly incarnation: number; readonly client: NodeId; readonly requestId: number; readonly request: Uint8Array }
  /** Report the log's mutations of decrees [fromDecree, toDecree] (latest ballot per decree), or null when GC removed some. */
  | { readonly type: 'readLog'; readonly gpid: Gpid; readonly incarnation: number; readonly token: number; readonly fromDecree: number; readonly toDecree: number }
  | { readonly type: 'takeCheckpoint'; readonly gpid: Gpid; readonly incarnation: number; readonly token: number }
  /** Replace the state machine with the checkpoint, durably, then report `restored`. */
  | { readonly type: 'restore'; readonly gpid: Gpid; readonly incarnation: number; readonly checkpoint: Checkpoint }
  /** Close the replica and open it again from its durable state (report `replicaOpened`). */
  | { readonly type: 'reopenReplica'; readonly gpid: Gpid }
  | { readonly type: 'wakeAt'; readonly time: number };

/**
 * The replica incarnation whose durable or applied state an effect changes; undefined for sends,
 * reads, timers and reopens, and for the primary's side work for a learner (reading its log,
 * taking a checkpoint), whose failure only delays that learner.
 */
export function stateEffectTarget(effect: ReplicaServerEffect): { gpid: Gpid; incarnation: number } | undefined {
  switch (effect.type) {
    case 'persistReplica':
      return { gpid: effect.state.gpid, incarnation: effect.incarnation };
    case 'append':
    case 'sync':
    case 'truncateLog':
    case 'apply':
    case 'restore':
      return effect;
    default:
      return undefined;
  }
}

/**
 * The hosts' failure rule: once a state-changing effect of a replica incarnation fails (and the
 * host reports `logFailed`), the state-changing effects that incarnation emitted before it heard
 * of the failure are not performed — they assumed the failed one had happened (applies after a
 * checkpoint that was never restored would land on the old data). A reopen starts clean.
 */
export class FailedReplicas {
  /** gpid → its incarnation whose storage failed. */
  private readonly failed = new Map<Gpid, number>();

  fail(gpid: Gpid, incarnation: number): void {
    // A late failure of an older incarnation (a sync it had in flight) does not hide the current one's.
    if ((this.failed.get(gpid) ?? -1) < incarnation) this.failed.set(gpid, incarnation);
  }

  /** Whether `effect` is to be skipped under the rule. */
  skips(effect: ReplicaServerEffect): boolean {
    const target = stateEffectTarget(effect);
    return target !== undefined && this.failed.get(target.gpid) === target.incarnation;
  }

  /** The replica of `gpid` is reopened (or its server restarted): its next incarnation starts clean. */
  reopened(gpid: Gpid): void {
    this.failed.delete(gpid);
  }

  clear(): void {
    this.failed.clear();
  }
}

/** A record of the meta's durable state. */
export type MetaRecord =
  | { readonly kind: 'config'; readonly config: import('./types.js').PartitionConfiguration }
  | { readonly kind: 'session'; readonly node: NodeId; readonly session: number };

export type MetaInput =
  | { readonly type: 'tick'; readonly now: number }
  | { readonly type: 'message'; readonly now: number; readonly from: NodeId; readonly message: Message }
  | { readonly type: 'persisted'; readonly now: number; readonly token: number };

export type MetaEffect =
  | { readonly type: 'send'; readonly to: NodeId; readonly message: Message }
  /** Make `record` durable (records in the order asked), then report `persisted`. */
  | { readonly type: 'persist'; readonly token: number; readonly record: MetaRecord }
  | { readonly type: 'wakeAt'; readonly time: number };
