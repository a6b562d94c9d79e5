/**
 * ReplicaServerCore: one replica server as a pure state machine — its lease from the meta, its
 * beacons and configuration syncs, and the ReplicaCores of the partitions it holds.
 *
 * The lease: every beacon carries its send time on the server's monotonic clock; the meta echoes
 * it with the server's lease session. An acknowledgement of the current session extends the lease
 * to `sentAt + leaseMs` — counted from the send, because the meta counts its grace from the
 * receive, which is later. An acknowledgement naming another session means the meta declared this
 * server dead meanwhile: every replica here stops acting (inactive) and the server re-syncs with
 * the meta. Configurations from the meta count only when sent in the current session. Client requests are refused the moment `now` passes the lease; the check is made on
 * every request, not on a timer.
 */
import type { ReplicaServerEffect, ReplicaServerInput, RecoveredReplica } from './effects.js';
import type { Message, ReplicaMessage } from './messages.js';
import { gpidOf } from './messages.js';
import type { PlantedBugs, ReplicationOptions } from './options.js';
import { validateReplicationOptions } from './options.js';
import { ReplicaCore, type ReplicaHost } from './replica_core.js';
import type { Gpid, NodeId, PartitionConfiguration } from './types.js';
import { isMember } from './types.js';

export interface ReplicaServerParameters {
  readonly node: NodeId;
  readonly meta: NodeId;
  readonly options: ReplicationOptions;
  readonly bugs?: PlantedBugs;
}

export class ReplicaServerCore {
  readonly node: NodeId;
  readonly meta: NodeId;
  private readonly options: ReplicationOptions;
  private readonly bugs: PlantedBugs;
  private readonly replicaMap = new Map<Gpid, ReplicaCore>();
  private readonly reopening = new Set<Gpid>();
  private out: ReplicaServerEffect[] = [];
  private readonly host: ReplicaHost;
  private nextIncarnation = 1;
  /** The lease session the meta last named; -1 before the first acknowledgement. */
  private session = -1;
  private leaseExpiresAt = -Infinity;
  private lastBeaconAt = -Infinity;
  private configSyncDueAt = -Infinity;

  constructor(parameters: ReplicaServerParameters) {
    this.node = parameters.node;
    this.meta = parameters.meta;
    this.options = parameters.options;
    this.bugs = parameters.bugs ?? {};
    validateReplicationOptions(this.options, this.bugs);
    const emit = (effect: ReplicaServerEffect): void => {
      this.out.push(effect);
    };
    this.host = {
      node: this.node,
      meta: this.meta,
      options: this.options,
      bugs: this.bugs,
      emit,
      requestConfigSync: () => {
        this.configSyncDueAt = -Infinity;
      },
    };
  }

  /** Opens the replicas found on disk (they replay their logs) and starts beaconing. */
  start(now: number, recovered: readonly RecoveredReplica[]): ReplicaServerEffect[] {
    for (const replica of recovered) this.openReplica(now, replica);
    this.tick(now);
    return this.drain();
  }

  step(input: ReplicaServerInput): ReplicaServerEffect[] {
    switch (input.type) {
      case 'tick':
        this.tick(input.now);
        break;
      case 'message':
        this.onMessage(input.now, input.from, input.message);
        break;
      case 'replicaOpened':
        this.reopening.delete(input.recovered.gpid);
        this.openReplica(input.now, input.recovered);
        break;
      default: {
        const replica = this.replicaMap.get(input.gpid);
        if (replica === undefined || replica.incarnation !== input.incarnation) break;
        switch (input.type) {
          case 'logSynced':
            replica.onLogSynced(input.now, input.throughIndex);
            break;
          case 'logFailed':
            replica.onLogFailed(input.now);
            break;
          case 'applied':
            replica.onApplied(input.now, input.decree, input.results);
            break;
          case 'logRead':
            replica.onLogRead(input.now, input.token, input.mutations);
            break;
          case 'checkpointTaken':
            replica.onCheckpointTaken(input.now, input.token, input.checkpoint);
            break;
          case 'restored':
            replica.onRestored(input.now, input.decree);
            break;
        }
      }
    }
    return this.drain();
  }

  // ---- introspection ---------------------------------------------------------------------------

  replicas(): ReadonlyMap<Gpid, ReplicaCore> {
    return this.replicaMap;
  }

  leaseValid(now: number): boolean {
    return now < this.leaseExpiresAt;
  }

  get leaseExpiry(): number {
    return this.leaseExpiresAt;
  }

  get leaseSession(): number {
    return this.session;
  }

  /**
   * The replica of `gpid` here would answer a read at `now`: the answer a clientRead step would
   * give (`read` rather than a refusal), for a host that runs reads at once (stepCheckingReads
   * checks that the two agree).
   */
  isServing(gpid: Gpid, now: number): boolean {
    return this.replicaMap.get(gpid)?.isServing(this.leaseValid(now)) ?? false;
  }

  // ---- internals -------------------------------------------------------------------------------

  private drain(): ReplicaServerEffect[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private openReplica(now: number, recovered: RecoveredReplica): ReplicaCore {
    const replica = ReplicaCore.open(this.host, this.nextIncarnation++, recovered, now);
    this.replicaMap.set(recovered.gpid, replica);
    return replica;
  }

  private freshReplica(now: number, gpid: Gpid): ReplicaCore {
    return this.openReplica(now, { gpid, persisted: null, checkpointDecree: 0, log: [] });
  }

  private tick(now: number): void {
    if (now - this.lastBeaconAt >= this.options.beaconIntervalMs) {
      this.lastBeaconAt = now;
      this.out.push({ type: 'send', to: this.meta, message: { type: 'beacon', sentAt: now, session: this.session } });
    }
    if (now >= this.configSyncDueAt) this.sendConfigSync(now);
    for (const [gpid, replica] of this.replicaMap) {
      replica.onTick(now);
      const errorSince = replica.errorSince;
      if (errorSince !== null && now - errorSince >= this.options.errorReopenMs && !this.reopening.has(gpid)) {
        this.reopening.add(gpid);
        this.out.push({ type: 'reopenReplica', gpid });
      }
    }
    this.out.push({ type: 'wakeAt', time: now + this.options.tickIntervalMs });
  }

  private sendConfigSync(now: number): void {
    this.configSyncDueAt = now + this.options.configSyncIntervalMs;
    const replicas = [...this.replicaMap.values()].map((replica) => replica.report());
    this.out.push({ type: 'send', to: this.meta, message: { type: 'configSync', replicas } });
  }

  private onMessage(now: number, from: NodeId, message: Message): void {
    switch (message.type) {
      case 'beaconAck':
        if (from !== this.meta) return;
        if (message.session === this.session) {
          const expiry = message.sentAt + this.options.leaseMs;
          if (expiry > this.leaseExpiresAt) this.leaseExpiresAt = expiry;
        } else {
          // The meta declared this server dead since (or this is the first answer): whatever the
          // replicas here were doing, the meta may have given it to others.
          this.session = message.session;
          this.leaseExpiresAt = -Infinity;
          for (const replica of this.replicaMap.values()) replica.demote();
          this.sendConfigSync(now);
        }
        return;
      case 'configSyncReply':
        if (from !== this.meta || message.session !== this.session) return;
        for (const config of message.configs) this.onConfiguration(now, config);
        return;
      case 'configUpdate':
        if (from !== this.meta || message.session !== this.session) return;
        this.onConfiguration(now, message.config);
        return;
      case 'configChangeReply':
        if (from !== this.meta || message.session !== this.session) return;
        this.replicaMap.get(message.gpid)?.onConfigChangeReply(now, message);
        return;
      case 'addLearner':
        if (from !== this.meta || message.session !== this.session) return;
        this.replicaMap.get(message.gpid)?.onAddLearner(now, message);
        return;
      case 'handOver':
        if (from !== this.meta || message.session !== this.session) return;
        this.replicaMap.get(message.gpid)?.onHandOver(now, message);
        return;
      case 'clientWrite': {
        const replica = this.replicaMap.get(message.gpid);
        if (replica === undefined) return this.refuse(from, message.gpid, message.requestId);
        replica.onClientWrite(now, from, message, this.leaseValid(now));
        return;
      }
      case 'clientRead': {
        const replica = this.replicaMap.get(message.gpid);
        if (replica === undefined) return this.refuse(from, message.gpid, message.requestId);
        replica.onClientRead(now, from, message, this.leaseValid(now));
        return;
      }
      case 'prepare':
      case 'prepareAck':
      case 'groupCheck':
      case 'groupCheckReply':
      case 'learnRequest':
      case 'learnResponse':
      case 'learnCompleted':
        this.onReplicaMessage(now, from, message);
        return;
      default:
        // Messages for the meta or for clients are not ours.
        return;
    }
  }

  private onConfiguration(now: number, config: PartitionConfiguration): void {
    let replica = this.replicaMap.get(config.gpid);
    if (replica === undefined) {
      // Made a member of a partition this server holds nothing of: a new partition (or one whose
      // replica never reached disk here, so no commit can have counted on it).
      if (!isMember(config, this.node) || this.reopening.has(config.gpid)) return;
      replica = this.freshReplica(now, config.gpid);
    }
    replica.onConfiguration(now, config);
  }

  private onReplicaMessage(now: number, from: NodeId, message: ReplicaMessage): void {
    const gpid = gpidOf(message);
    let replica = this.replicaMap.get(gpid);
    if (replica === undefined) {
      const startsLearning = (message.type === 'prepare' || message.type === 'groupCheck') && message.learner !== undefined;
      if (startsLearning && !this.reopening.has(gpid)) {
        replica = this.freshReplica(now, gpid);
      } else {
        if (message.type === 'prepare') {
          const m = message.mutation;
          this.out.push({ type: 'send', to: from, message: { type: 'prepareAck', gpid, ballot: m.ballot, decree: m.decree, error: 'invalid-state', senderBallot: 0 } });
        } else if (message.type === 'groupCheck') {
          this.out.push({ type: 'send', to: from, message: { type: 'groupCheckReply', gpid, ballot: message.config.ballot, error: 'invalid-state', senderBallot: 0 } });
        }
        return;
      }
    }
    replica.onMessage(now, from, message);
  }

  private refuse(client: NodeId, gpid: Gpid, requestId: number): void {
    this.out.push({ type: 'send', to: client, message: { type: 'clientReply', gpid, requestId, refusal: 'NOT_PRIMARY' } });
  }
}
