/**
 * ReplicaCore: one replica of one partition, as a pure state machine. Its server (ReplicaServerCore)
 * routes inputs to it and collects the effects it emits; it never does IO, reads no clock but the
 * `now` it is given, and draws no random numbers.
 *
 * Roles and what each does:
 * - primary: batches client writes into mutations, prepares them on every secondary (and on each
 *   learner from its start decree) while appending to its own log, commits a decree when its own
 *   append is durable and every one of them acknowledged it, strictly in decree order; serves
 *   reads once reconciled, while its server holds a lease; asks the meta to remove a failed
 *   secondary and to upgrade a learner that caught up; runs group checks.
 * - secondary: logs what its primary prepares and acknowledges only once the append is durable;
 *   commits up to the primary's piggybacked commit point.
 * - learner: copies what it misses from the primary (cache, log or checkpoint), logs the prepares
 *   from its start decree, and reports completion under its session's signature.
 * - inactive: holds its data, serves nothing, waits for the meta (after a restart, a lost lease
 *   session, or a configuration it is not part of).
 * - error: its log failed; it answers nothing until its server reopens it from durable state.
 *
 * The rules on ballots: a message of a lower ballot is refused; a higher ballot is persisted
 * (`persistReplica`, durable before the next effect) before anything is done under it; a
 * replica never resumes primary (or secondary) at a ballot it already holds.
 */
import { assert } from '@petrel/base';
import type { RecoveredReplica, ReplicaServerEffect } from './effects.js';
import type {
  AddLearnerMessage,
  HandOverMessage,
  ClientReadMessage,
  ClientRefusal,
  ClientWriteMessage,
  ConfigChangeKind,
  ConfigChangeReplyMessage,
  GroupCheckMessage,
  GroupCheckReplyMessage,
  LearnCompletedMessage,
  LearnRequestMessage,
  LearnResponseMessage,
  PrepareAckMessage,
  PrepareError,
  PrepareMessage,
  ReplicaMessage,
  ReplicaReport,
} from './messages.js';
import type { PlantedBugs, ReplicationOptions } from './options.js';
import { PrepareList, newEntry, type PrepareEntry } from './prepare_list.js';
import type { Checkpoint, Gpid, LearnerSession, Mutation, NodeId, PartitionConfiguration, Role } from './types.js';
import { emptyConfiguration, isMember } from './types.js';

/** What a replica needs from its server. */
export interface ReplicaHost {
  readonly node: NodeId;
  readonly meta: NodeId;
  readonly options: ReplicationOptions;
  readonly bugs: PlantedBugs;
  emit(effect: ReplicaServerEffect): void;
  /** Ask the server to report its replicas to the meta soon. */
  requestConfigSync(): void;
}

interface PendingWrite {
  readonly client: NodeId;
  readonly requestId: number;
  readonly write: Uint8Array;
}

interface WaitingReply {
  readonly client: NodeId;
  readonly requestId: number;
  readonly index: number;
}

interface LearnerOnPrimary {
  readonly session: LearnerSession;
  readonly startedAt: number;
}

interface ConfigChange {
  readonly kind: ConfigChangeKind;
  readonly node: NodeId;
  readonly proposed: PartitionConfiguration;
  readonly startedAt: number;
  /** Sent to the meta at least once: from then on it is never abandoned at this ballot. */
  sent: boolean;
  sentAt: number;
}

interface PendingLearn {
  readonly learner: NodeId;
  readonly signature: string;
  readonly fromDecree: number;
  readonly toDecree: number;
}

/** What only a primary keeps. */
class PrimaryState {
  readonly learners = new Map<NodeId, LearnerOnPrimary>();
  pendingWrites: PendingWrite[] = [];
  /** Client writes waiting for their mutation to be applied, by decree. */
  readonly replies = new Map<number, WaitingReply[]>();
  /** Reads wait until the applied decree reaches this (what the primary had prepared when it took over). */
  reconcileTarget: number;
  change: ConfigChange | null = null;
  lastGroupCheckAt = -Infinity;
  lastPrepareAt = -Infinity;
  learnerCounter = 0;
  readonly pendingLearns = new Map<number, PendingLearn>();

  constructor(reconcileTarget: number) {
    this.reconcileTarget = reconcileTarget;
  }
}

/** What only a learner keeps. */
interface LearnerState {
  readonly session: LearnerSession;
  readonly primary: NodeId;
  lastRequestAt: number;
  /** Once caught up: the log index that must be durable before completion is reported. */
  completionIndex: number | null;
  /** The commit point when completionIndex was taken: every record up to it is then appended, so durable once that index is. */
  completionCommitted: number;
  restoring: boolean;
}

export class ReplicaCore {
  readonly gpid: Gpid;
  readonly incarnation: number;
  private readonly host: ReplicaHost;
  private readonly options: ReplicationOptions;
  private readonly bugs: PlantedBugs;

  private roleValue: Role = 'inactive';
  private ballotValue: number;
  private configValue: PartitionConfiguration;
  private readonly list: PrepareList;
  /** Highest decree whose `applied` completion arrived (or restored checkpoint). */
  private appliedValue: number;
  /** Highest decree an `apply` was emitted for. */
  private applyEmitted: number;
  private checkpointDecreeValue: number;
  private nextLogIndex = 1;
  private syncedIndex = 0;
  private syncInFlight = false;
  /** The highest commit point heard from the current primary at the current ballot. */
  private knownCommitPoint = 0;
  private primary: PrimaryState | null = null;
  private learner: LearnerState | null = null;
  private errorSinceValue: number | null = null;
  private nextToken = 1;
  private droppedAtOpenValue = 0;
  /** The commit point in this replica's persisted state (see PersistedReplicaState.committed). */
  private persistedCommitted: number;

  private constructor(host: ReplicaHost, incarnation: number, recovered: RecoveredReplica) {
    this.host = host;
    this.options = host.options;
    this.bugs = host.bugs;
    this.gpid = recovered.gpid;
    this.incarnation = incarnation;
    this.ballotValue = recovered.persisted?.ballot ?? 0;
    this.configValue = recovered.persisted?.config ?? emptyConfiguration(recovered.gpid, 0);
    this.checkpointDecreeValue = recovered.checkpointDecree;
    this.appliedValue = recovered.checkpointDecree;
    this.applyEmitted = recovered.checkpointDecree;
    this.list = new PrepareList(this.options.prepareListLimit, recovered.checkpointDecree);
    this.persistedCommitted = recovered.persisted?.committed ?? 0;
  }

  /**
   * Opens a replica from what its server found on disk: the prepare list is rebuilt from the log
   * (a later version of a decree replaces an earlier one), decrees are committed up to the highest
   * piggybacked commit point the contiguous log reaches, and those are applied again. The replica
   * starts inactive at its persisted ballot.
   *
   * A log that does not reach back to the checkpoint (a hole after it) is what a learner leaves
   * when the checkpoint it was restoring never arrived: it logged the primary's prepares after the
   * checkpoint's decree over its old data. Its records past the prepare list's window are dropped
   * (counted in `droppedAtOpen`). That is safe: a learner is no member of the configuration, so no
   * commit ever counted on what it logged; and a reopened replica starts inactive and learns again
   * from its committed decree, before the hole.
   */
  static open(host: ReplicaHost, incarnation: number, recovered: RecoveredReplica, now: number): ReplicaCore {
    const core = new ReplicaCore(host, incarnation, recovered);
    let commitPoint = Math.max(recovered.checkpointDecree, core.persistedCommitted);
    // The version of each decree that the log ends with (the highest ballot): an earlier one must
    // not be committed on the way there, as the persisted commit point would otherwise do.
    const finalBallot = new Map<number, number>();
    for (const mutation of recovered.log) finalBallot.set(mutation.decree, Math.max(finalBallot.get(mutation.decree) ?? 0, mutation.ballot));
    for (const mutation of recovered.log) {
      assert(mutation.gpid === recovered.gpid, `log record of ${mutation.gpid} in ${recovered.gpid}`);
      if (mutation.lastCommitted > commitPoint) commitPoint = mutation.lastCommitted;
      // Only the final version is held (a repeat of it, at the same ballot, is the same mutation).
      if (mutation.ballot === finalBallot.get(mutation.decree) && mutation.decree > core.list.committed) {
        if (core.list.canPrepare(mutation.decree)) core.list.put(newEntry(mutation, 0, now));
        else core.droppedAtOpenValue++;
      }
      core.commitTo(commitPoint);
    }
    return core;
  }

  /** Log records open() dropped because they lay past a hole in the log (see open). */
  get droppedAtOpen(): number {
    return this.droppedAtOpenValue;
  }

  // ---- introspection (for the server, the simulator's invariants and tests) --------------------

  get role(): Role {
    return this.roleValue;
  }

  get ballot(): number {
    return this.ballotValue;
  }

  get config(): PartitionConfiguration {
    return this.configValue;
  }

  get committed(): number {
    return this.list.committed;
  }

  get applied(): number {
    return this.appliedValue;
  }

  get maxPrepared(): number {
    return this.list.maxDecree;
  }

  get checkpointDecree(): number {
    return this.checkpointDecreeValue;
  }

  get errorSince(): number | null {
    return this.errorSinceValue;
  }

  get learnerSession(): LearnerSession | null {
    return this.learner?.session ?? null;
  }

  /** The learners this primary is teaching, with their sessions. */
  learners(): ReadonlyMap<NodeId, LearnerSession> {
    const out = new Map<NodeId, LearnerSession>();
    if (this.primary !== null) for (const [node, learner] of this.primary.learners) out.set(node, learner.session);
    return out;
  }

  /** The version of `decree` this replica holds in its prepare list, if it still holds it. */
  mutationAt(decree: number): Mutation | undefined {
    return this.list.get(decree)?.mutation;
  }

  /** Reads would be answered now (given whether the server's lease is valid). */
  isServing(leaseValid: boolean): boolean {
    if (this.roleValue !== 'primary' || this.primary === null || !leaseValid) return false;
    if (this.primary.change?.kind === 'handOver' && this.bugs.serveWhileHandingOver !== true) return false;
    return this.bugs.readsBeforeReconciliation === true || this.appliedValue >= this.primary.reconcileTarget;
  }

  /** Whether a new primary finished reconciliation (the committed decree reached what it had prepared). */
  get reconciled(): boolean {
    return this.primary !== null && this.appliedValue >= this.primary.reconcileTarget;
  }

  report(): ReplicaReport {
    return { gpid: this.gpid, ballot: this.ballotValue, role: this.roleValue, committed: this.list.committed };
  }

  describe(): string {
    const parts = [`${this.gpid}@${this.host.node}`, this.roleValue, `b${this.ballotValue}`, `committed=${this.list.committed}`, `applied=${this.appliedValue}`, `prepared=${this.list.maxDecree}`];
    if (this.primary !== null) {
      if (this.primary.learners.size > 0) parts.push(`learners=[${[...this.primary.learners.keys()].join(',')}]`);
      if (this.primary.change !== null) parts.push(`pending=${this.primary.change.kind}(${this.primary.change.node})`);
      if (!this.reconciled) parts.push(`reconciling(to ${this.primary.reconcileTarget})`);
    }
    if (this.learner !== null) parts.push(`session=${this.learner.session.signature}`);
    return parts.join(' ');
  }

  // ---- inputs ----------------------------------------------------------------------------------

  onMessage(now: number, from: NodeId, message: ReplicaMessage): void {
    if (this.roleValue === 'error') {
      if (message.type === 'prepare') this.sendPrepareError(from, message.mutation, 'log-failure');
      else if (message.type === 'groupCheck') this.replyGroupCheck(from, message.config.ballot, 'log-failure');
      return;
    }
    switch (message.type) {
      case 'prepare':
        return this.onPrepare(now, from, message);
      case 'prepareAck':
        return this.onPrepareAck(now, from, message);
      case 'groupCheck':
        return this.onGroupCheck(now, from, message);
      case 'groupCheckReply':
        return this.onGroupCheckReply(now, from, message);
      case 'learnRequest':
        return this.onLearnRequest(now, from, message);
      case 'learnResponse':
        return this.onLearnResponse(now, from, message);
      case 'learnCompleted':
        return this.onLearnCompleted(now, from, message);
    }
  }

  /** A configuration from the meta (an update, a sync reply, or the answer to our request). */
  onConfiguration(now: number, config: PartitionConfiguration): void {
    if (this.roleValue === 'error' || config.gpid !== this.gpid) return;
    this.adoptConfiguration(now, config);
  }

  onConfigChangeReply(now: number, reply: ConfigChangeReplyMessage): void {
    if (this.roleValue === 'error') return;
    if (reply.config.ballot > this.ballotValue) {
      this.adoptConfiguration(now, reply.config);
      return;
    }
    // Refused at our own ballot: the meta was busy with another change. The request stays
    // pending and is sent again — never abandoned at this ballot, because a copy of it still in
    // the network could be granted later. A change the meta cannot grant, it fences by moving
    // the ballot on, which is what ends a pending change here.
    const change = this.primary?.change ?? null;
    if (change !== null && !reply.accepted) change.sentAt = now;
  }

  onAddLearner(now: number, message: AddLearnerMessage): void {
    const primary = this.primary;
    if (this.roleValue !== 'primary' || primary === null || message.ballot !== this.ballotValue) return;
    if (isMember(this.configValue, message.node)) return;
    const existing = primary.learners.get(message.node);
    if (existing !== undefined) {
      this.sendGroupCheckTo(message.node, existing.session);
      return;
    }
    if (primary.change !== null) return;
    primary.learnerCounter++;
    const session: LearnerSession = { signature: `${this.ballotValue}.${primary.learnerCounter}`, startDecree: this.list.maxDecree + 1 };
    primary.learners.set(message.node, { session, startedAt: now });
    this.sendGroupCheckTo(message.node, session);
  }

  onClientWrite(now: number, from: NodeId, message: ClientWriteMessage, leaseValid: boolean): void {
    const primary = this.primary;
    if (this.roleValue !== 'primary' || primary === null || !leaseValid) return this.refuse(from, message.requestId, 'NOT_PRIMARY');
    if (1 + this.configValue.secondaries.length < this.options.minWriteMembers) return this.refuse(from, message.requestId, 'NOT_ENOUGH_MEMBER');
    if (primary.pendingWrites.length >= this.options.maxPendingWrites) return this.refuse(from, message.requestId, 'BUSY');
    primary.pendingWrites.push({ client: from, requestId: message.requestId, write: message.write });
    this.flushWrites(now);
  }

  onClientRead(_now: number, from: NodeId, message: ClientReadMessage, leaseValid: boolean): void {
    if (!this.isServing(leaseValid)) return this.refuse(from, message.requestId, 'NOT_PRIMARY');
    this.host.emit({ type: 'read', gpid: this.gpid, incarnation: this.incarnation, client: from, requestId: message.requestId, request: message.read });
  }

  onTick(now: number): void {
    if (this.roleValue === 'primary') this.tickPrimary(now);
    else if (this.roleValue === 'learner') this.tickLearner(now);
  }

  onLogSynced(now: number, throughIndex: number): void {
    this.syncInFlight = false;
    if (this.roleValue === 'error') return;
    if (throughIndex > this.syncedIndex) this.syncedIndex = throughIndex;
    if (this.roleValue === 'primary') {
      this.tryCommit(now);
    } else if (this.roleValue === 'secondary' || this.roleValue === 'learner') {
      for (const entry of this.list.uncommitted()) this.sendOwedAck(entry);
      if (this.learner !== null) this.checkLearning(now, false);
    }
    this.ensureSync();
  }

  onLogFailed(now: number): void {
    if (this.roleValue === 'error') return;
    this.dropPrimaryState();
    this.learner = null;
    this.roleValue = 'error';
    this.errorSinceValue = now;
    this.host.requestConfigSync();
  }

  onApplied(now: number, decree: number, results: readonly Uint8Array[]): void {
    if (decree <= this.appliedValue) return;
    if (decree !== this.appliedValue + 1) assert(false, `${this.gpid}: applied ${decree} after ${this.appliedValue}`);
    this.appliedValue = decree;
    const waiting = this.primary?.replies.get(decree);
    if (waiting !== undefined) {
      this.primary!.replies.delete(decree);
      for (const reply of waiting) {
        const result = results[reply.index];
        if (result === undefined) assert(false, `no result for write ${reply.index} of decree ${decree}`);
        this.host.emit({ type: 'send', to: reply.client, message: { type: 'clientReply', gpid: this.gpid, requestId: reply.requestId, result, decree } });
      }
    }
    this.sendHandOverIfDrained(now);
  }

  onLogRead(_now: number, token: number, mutations: readonly Mutation[] | null): void {
    const pending = this.primary?.pendingLearns.get(token);
    if (pending === undefined) return;
    this.primary!.pendingLearns.delete(token);
    if (!this.learnerSessionHolds(pending.learner, pending.signature)) return;
    if (mutations !== null && mutations.length > 0 && mutations[0]!.decree === pending.fromDecree) {
      this.sendLearnResponse(pending.learner, pending.signature, 'log', mutations, undefined);
      return;
    }
    // The log no longer reaches back far enough: send a checkpoint.
    const next = this.nextToken++;
    this.primary!.pendingLearns.set(next, pending);
    this.host.emit({ type: 'takeCheckpoint', gpid: this.gpid, incarnation: this.incarnation, token: next });
  }

  onCheckpointTaken(_now: number, token: number, checkpoint: Checkpoint): void {
    const pending = this.primary?.pendingLearns.get(token);
    if (pending === undefined) return;
    this.primary!.pendingLearns.delete(token);
    if (!this.learnerSessionHolds(pending.learner, pending.signature)) return;
    this.sendLearnResponse(pending.learner, pending.signature, 'checkpoint', [], checkpoint);
  }

  onRestored(now: number, decree: number): void {
    if (decree > this.appliedValue) this.appliedValue = decree;
    if (decree > this.checkpointDecreeValue) this.checkpointDecreeValue = decree;
    if (this.learner !== null && this.learner.restoring) {
      this.learner.restoring = false;
      this.checkLearning(now, true);
    }
  }

  /** The server lost its lease session (the meta declared it dead): stop acting in every role. */
  demote(): void {
    if (this.roleValue === 'primary' || this.roleValue === 'secondary' || this.roleValue === 'learner') this.becomeInactive();
  }

  // ---- configurations --------------------------------------------------------------------------

  private persist(config: PartitionConfiguration): void {
    assert(config.ballot >= this.ballotValue, `${this.gpid}: ballot would go back from ${this.ballotValue} to ${config.ballot}`);
    if (config.ballot > this.ballotValue) this.knownCommitPoint = 0;
    this.ballotValue = config.ballot;
    this.configValue = config;
    this.emitPersist();
  }

  private emitPersist(): void {
    const state = { gpid: this.gpid, ballot: this.ballotValue, config: this.configValue };
    this.host.emit({ type: 'persistReplica', incarnation: this.incarnation, state: this.persistedCommitted > 0 ? { ...state, committed: this.persistedCommitted } : state });
  }

  private adoptConfiguration(now: number, config: PartitionConfiguration): void {
    // Same ballot: nothing new. A replica never takes up a role again at a ballot it already holds
    // (after a restart its unsynced log is gone; the meta must move the ballot on).
    if (config.ballot <= this.ballotValue) return;
    this.persist(config);
    const node = this.host.node;
    if (config.primary === node) this.becomePrimary(now);
    else if (config.secondaries.includes(node)) this.becomeSecondary();
    else this.becomeInactive();
  }

  private becomePrimary(now: number): void {
    const wasPrimary = this.roleValue === 'primary' && this.primary !== null;
    this.learner = null;
    this.roleValue = 'primary';
    if (!wasPrimary) this.primary = new PrimaryState(this.list.maxDecree);
    const primary = this.primary!;
    primary.learners.clear();
    primary.pendingLearns.clear();
    primary.change = null;
    // Reconciliation (or, for a primary that stays, the move to the new ballot): prepare again
    // every decree above the commit point under the new ballot, filling gaps with empty mutations.
    const committed = this.list.committed;
    for (let decree = committed + 1; decree <= this.list.maxDecree; decree++) {
      const held = this.list.get(decree);
      const mutation: Mutation = { gpid: this.gpid, ballot: this.ballotValue, decree, lastCommitted: committed, writes: held?.mutation.writes ?? [] };
      this.prepareNew(now, mutation);
    }
    this.sendGroupCheck(now);
    this.tryCommit(now);
    this.flushWrites(now);
  }

  private becomeSecondary(): void {
    this.dropPrimaryState();
    this.learner = null;
    this.roleValue = 'secondary';
    for (const entry of this.list.uncommitted()) entry.ackTo = null;
  }

  private becomeInactive(): void {
    this.dropPrimaryState();
    this.learner = null;
    this.roleValue = 'inactive';
  }

  private dropPrimaryState(): void {
    const primary = this.primary;
    if (primary === null) return;
    // Writes not yet in a mutation certainly had no effect; writes in one may still commit, so
    // their clients hear nothing (they time out).
    for (const pending of primary.pendingWrites) this.refuse(pending.client, pending.requestId, 'NOT_PRIMARY');
    this.primary = null;
  }

  // ---- primary ---------------------------------------------------------------------------------

  /** Secondaries, and learners whose start decree is at or below `decree`. */
  private targetsFor(decree: number): NodeId[] {
    const targets = [...this.configValue.secondaries];
    if (this.primary !== null) {
      for (const [node, learner] of this.primary.learners) if (learner.session.startDecree <= decree) targets.push(node);
    }
    return targets;
  }

  private prepareNew(now: number, mutation: Mutation): void {
    const entry = newEntry(mutation, 0, now);
    this.list.put(entry);
    this.appendToLog(entry);
    if (this.primary !== null) this.primary.lastPrepareAt = now;
    for (const target of this.targetsFor(mutation.decree)) this.sendPrepare(now, entry, target);
  }

  private sendPrepare(now: number, entry: PrepareEntry, target: NodeId): void {
    const learner = this.primary?.learners.get(target);
    const mutation: Mutation = { ...entry.mutation, lastCommitted: this.list.committed };
    const message: PrepareMessage =
      learner === undefined ? { type: 'prepare', config: this.configValue, mutation } : { type: 'prepare', config: this.configValue, mutation, learner: learner.session };
    entry.sentAt.set(target, now);
    this.host.emit({ type: 'send', to: target, message });
  }

  /** Forms mutations from queued writes while the in-flight window has room. */
  private flushWrites(now: number): void {
    const primary = this.primary;
    if (this.roleValue !== 'primary' || primary === null) return;
    if (primary.change !== null && (primary.change.kind === 'removeSecondary' || primary.change.kind === 'handOver')) return;
    if (primary.pendingWrites.length > 0 && 1 + this.configValue.secondaries.length < this.options.minWriteMembers) {
      for (const pending of primary.pendingWrites) this.refuse(pending.client, pending.requestId, 'NOT_ENOUGH_MEMBER');
      primary.pendingWrites = [];
      return;
    }
    while (primary.pendingWrites.length > 0 && this.list.maxDecree - this.list.committed < this.options.maxUncommitted) {
      const batch: PendingWrite[] = [];
      let bytes = 0;
      while (primary.pendingWrites.length > 0) {
        const next = primary.pendingWrites[0]!;
        if (batch.length > 0 && bytes + next.write.length > this.options.maxMutationBytes) break;
        batch.push(next);
        bytes += next.write.length;
        primary.pendingWrites.shift();
      }
      const decree = this.list.maxDecree + 1;
      primary.replies.set(
        decree,
        batch.map((pending, index) => ({ client: pending.client, requestId: pending.requestId, index })),
      );
      this.prepareNew(now, { gpid: this.gpid, ballot: this.ballotValue, decree, lastCommitted: this.list.committed, writes: batch.map((pending) => pending.write) });
    }
  }

  private tryCommit(now: number): void {
    if (this.roleValue !== 'primary') return;
    let advanced = false;
    for (;;) {
      const decree = this.list.committed + 1;
      const entry = this.list.get(decree);
      if (entry === undefined || entry.mutation.ballot !== this.ballotValue) break;
      if (!this.isDurable(entry)) break;
      if (!this.acknowledgedByAll(entry, decree)) break;
      this.commitTo(decree);
      advanced = true;
    }
    if (advanced) this.flushWrites(now);
  }

  private acknowledgedByAll(entry: PrepareEntry, decree: number): boolean {
    if (this.bugs.commitOnMajority === true) {
      const members = 1 + this.configValue.secondaries.length;
      let logged = 1;
      for (const node of this.configValue.secondaries) if (entry.acks.has(node)) logged++;
      return logged * 2 > members;
    }
    for (const target of this.targetsFor(decree)) if (!entry.acks.has(target)) return false;
    return true;
  }

  private tickPrimary(now: number): void {
    const primary = this.primary;
    if (primary === null) return;
    const failed = new Set<NodeId>();
    for (const entry of this.list.uncommitted()) {
      if (entry.mutation.ballot !== this.ballotValue) continue;
      for (const target of this.targetsFor(entry.mutation.decree)) {
        if (entry.acks.has(target)) continue;
        if (now - entry.preparedAt >= this.options.prepareTimeoutMs) failed.add(target);
        else if (now - (entry.sentAt.get(target) ?? -Infinity) >= this.options.prepareResendMs) this.sendPrepare(now, entry, target);
      }
    }
    for (const [node, learner] of primary.learners) {
      if (now - learner.startedAt >= this.options.learnTimeoutMs) failed.add(node);
    }
    for (const node of failed) this.onTargetFailed(now, node);
    if (this.primary === null) return;
    if (now - primary.lastGroupCheckAt >= this.options.groupCheckIntervalMs) {
      const idle = primary.lastPrepareAt <= primary.lastGroupCheckAt && primary.pendingWrites.length === 0;
      this.sendGroupCheck(now);
      // An idle partition still moves its decrees, so a silent failure shows up as a prepare timeout.
      if (idle && primary.change?.kind !== 'removeSecondary' && primary.change?.kind !== 'handOver' && this.list.maxDecree - this.list.committed < this.options.maxUncommitted) {
        this.prepareNew(now, { gpid: this.gpid, ballot: this.ballotValue, decree: this.list.maxDecree + 1, lastCommitted: this.list.committed, writes: [] });
        this.tryCommit(now);
      }
    }
    const change = primary.change;
    if (change !== null && change.kind === 'handOver' && !change.sent) {
      // Mutations in flight did not drain in time (a member is slow): give the hand-over up and
      // serve again — the meta never heard of it, so nothing can grant it later.
      if (now - change.startedAt >= this.options.prepareTimeoutMs) {
        primary.change = null;
        this.flushWrites(now);
      } else {
        this.sendHandOverIfDrained(now);
      }
    } else if (change !== null && now - change.sentAt >= this.options.configRequestRetryMs) {
      this.sendConfigChange(now, change);
    }
  }

  /**
   * The meta asks to hand the lead to the secondary `node`. The primary stops serving reads and
   * forming mutations at once; when every mutation in flight is committed and applied (so each
   * client has its answer), it asks the meta for {primary: node, secondaries: the others and
   * itself} at the next ballot. Two replicas never serve at once: this one stopped before asking.
   */
  onHandOver(now: number, message: HandOverMessage): void {
    const primary = this.primary;
    if (this.roleValue !== 'primary' || primary === null || message.ballot !== this.ballotValue) return;
    if (primary.change !== null || !this.reconciled || !this.configValue.secondaries.includes(message.node)) return;
    const node = this.host.node;
    const proposed: PartitionConfiguration = {
      ...this.configValue,
      ballot: this.ballotValue + 1,
      primary: message.node,
      secondaries: this.configValue.secondaries.map((secondary) => (secondary === message.node ? node : secondary)),
    };
    primary.change = { kind: 'handOver', node: message.node, proposed, startedAt: now, sent: false, sentAt: -Infinity };
    this.sendHandOverIfDrained(now);
  }

  private sendHandOverIfDrained(now: number): void {
    const change = this.primary?.change;
    if (change === undefined || change === null || change.kind !== 'handOver' || change.sent) return;
    if (this.appliedValue < this.list.maxDecree || this.list.committed < this.list.maxDecree) return;
    this.sendConfigChange(now, change);
  }

  private sendGroupCheck(now: number): void {
    if (this.primary === null) return;
    this.primary.lastGroupCheckAt = now;
    for (const node of this.configValue.secondaries) this.sendGroupCheckTo(node, undefined);
    for (const [node, learner] of this.primary.learners) this.sendGroupCheckTo(node, learner.session);
  }

  private sendGroupCheckTo(node: NodeId, session: LearnerSession | undefined): void {
    const message: GroupCheckMessage =
      session === undefined
        ? { type: 'groupCheck', config: this.configValue, committed: this.list.committed }
        : { type: 'groupCheck', config: this.configValue, committed: this.list.committed, learner: session };
    this.host.emit({ type: 'send', to: node, message });
  }

  /** A secondary or learner failed (error reply, or no acknowledgement in time). */
  private onTargetFailed(now: number, node: NodeId): void {
    const primary = this.primary;
    if (primary === null) return;
    if (primary.learners.has(node)) {
      // A learner whose upgrade the meta may be accepting right now stays: it must not miss a
      // commit. If the upgrade goes through, its failure is a secondary's; if not, it goes then.
      if (primary.change?.kind === 'upgradeLearner' && primary.change.node === node) return;
      // Learners are the primary's own business: dropping one needs no configuration change.
      primary.learners.delete(node);
      this.tryCommit(now);
      return;
    }
    // A hand-over not yet asked for is given up: the failed member must go first.
    if (primary.change?.kind === 'handOver' && !primary.change.sent) primary.change = null;
    if (!this.configValue.secondaries.includes(node) || primary.change !== null) return;
    const proposed: PartitionConfiguration = {
      ...this.configValue,
      ballot: this.ballotValue + 1,
      secondaries: this.configValue.secondaries.filter((secondary) => secondary !== node),
    };
    primary.change = { kind: 'removeSecondary', node, proposed, startedAt: now, sent: false, sentAt: now };
    this.sendConfigChange(now, primary.change);
  }

  private sendConfigChange(now: number, change: ConfigChange): void {
    change.sent = true;
    change.sentAt = now;
    this.host.emit({
      type: 'send',
      to: this.host.meta,
      message: { type: 'configChange', kind: change.kind, gpid: this.gpid, baseBallot: this.ballotValue, node: change.node, proposed: change.proposed },
    });
  }

  private onPrepareAck(now: number, from: NodeId, message: PrepareAckMessage): void {
    if (this.roleValue !== 'primary') return;
    // Answers about a prepare of another ballot (a late duplicate) say nothing about now.
    if (message.ballot !== this.ballotValue) return;
    if (message.error !== undefined) return this.onReplyError(now, from, message.error, message.senderBallot);
    const entry = this.list.get(message.decree);
    if (entry === undefined || entry.mutation.ballot !== message.ballot) return;
    entry.acks.add(from);
    this.tryCommit(now);
  }

  private onGroupCheckReply(now: number, from: NodeId, message: GroupCheckReplyMessage): void {
    if (this.roleValue !== 'primary' || message.error === undefined) return;
    if (message.ballot !== this.ballotValue) return;
    this.onReplyError(now, from, message.error, message.senderBallot);
  }

  private onReplyError(now: number, from: NodeId, error: PrepareError, senderBallot: number | undefined): void {
    if (error === 'stale-ballot' && senderBallot !== undefined && senderBallot > this.ballotValue) {
      // Someone holds a newer configuration: ours is over. Ask the meta what it is.
      this.becomeInactive();
      this.host.requestConfigSync();
      return;
    }
    this.onTargetFailed(now, from);
  }

  private learnerSessionHolds(node: NodeId, signature: string): boolean {
    return this.roleValue === 'primary' && this.primary?.learners.get(node)?.session.signature === signature;
  }

  private onLearnRequest(_now: number, from: NodeId, message: LearnRequestMessage): void {
    const learner = this.primary?.learners.get(from);
    if (this.roleValue !== 'primary' || learner === undefined || learner.session.signature !== message.signature || message.ballot !== this.ballotValue) {
      this.host.emit({
        type: 'send',
        to: from,
        message: { type: 'learnResponse', gpid: this.gpid, ballot: message.ballot, signature: message.signature, kind: 'rejected', primaryCommitted: this.list.committed, mutations: [] },
      });
      return;
    }
    const fromDecree = message.learnerCommitted + 1;
    const toDecree = learner.session.startDecree - 1;
    if (fromDecree > toDecree || fromDecree >= this.list.minDecree) {
      // The prepare list still holds everything the learner misses: learn from the cache.
      const mutations = fromDecree > toDecree ? [] : this.list.range(fromDecree, Math.min(toDecree, this.list.maxDecree)).map((entry) => entry.mutation);
      this.sendLearnResponse(from, message.signature, 'cache', mutations, undefined);
      return;
    }
    const token = this.nextToken++;
    this.primary!.pendingLearns.set(token, { learner: from, signature: message.signature, fromDecree, toDecree });
    this.host.emit({ type: 'readLog', gpid: this.gpid, incarnation: this.incarnation, token, fromDecree, toDecree });
  }

  private sendLearnResponse(to: NodeId, signature: string, kind: 'cache' | 'log' | 'checkpoint', mutations: readonly Mutation[], checkpoint: Checkpoint | undefined): void {
    const base = { type: 'learnResponse' as const, gpid: this.gpid, ballot: this.ballotValue, signature, kind, primaryCommitted: this.list.committed, mutations };
    const message: LearnResponseMessage = checkpoint === undefined ? base : { ...base, checkpoint };
    this.host.emit({ type: 'send', to, message });
  }

  private onLearnCompleted(now: number, from: NodeId, message: LearnCompletedMessage): void {
    const primary = this.primary;
    if (this.roleValue !== 'primary' || primary === null) return;
    const learner = primary.learners.get(from);
    if (learner === undefined) return;
    const valid =
      this.bugs.ignoreLearnerSignature === true ||
      (message.signature === learner.session.signature && message.ballot === this.ballotValue && message.learnedDecree >= learner.session.startDecree - 1);
    if (!valid || primary.change !== null) return;
    if (1 + this.configValue.secondaries.length >= this.configValue.maxReplicaCount) {
      primary.learners.delete(from);
      return;
    }
    const proposed: PartitionConfiguration = { ...this.configValue, ballot: this.ballotValue + 1, secondaries: [...this.configValue.secondaries, from] };
    primary.change = { kind: 'upgradeLearner', node: from, proposed, startedAt: now, sent: false, sentAt: now };
    this.sendConfigChange(now, primary.change);
  }

  // ---- secondary and learner -------------------------------------------------------------------

  private onPrepare(now: number, from: NodeId, message: PrepareMessage): void {
    const mutation = message.mutation;
    if (mutation.ballot < this.ballotValue) {
      if (this.bugs.noBallotCheckOnPrepare === true && this.roleValue !== 'primary') {
        this.acceptPrepare(now, from, message);
        return;
      }
      this.sendPrepareError(from, mutation, 'stale-ballot');
      return;
    }
    if (mutation.ballot > this.ballotValue) this.adoptConfiguration(now, message.config);
    if (message.learner !== undefined && !isMember(message.config, this.host.node)) this.startLearning(now, from, message.config, message.learner);
    if (this.ballotValue !== mutation.ballot) return this.sendPrepareError(from, mutation, 'stale-ballot');
    if (this.acceptsPrepareFrom(from, message.learner)) this.acceptPrepare(now, from, message);
    else this.sendPrepareError(from, mutation, 'invalid-state');
  }

  /** This replica logs prepares from `from` at the current ballot (as its secondary or learner). */
  private acceptsPrepareFrom(from: NodeId, session: LearnerSession | undefined): boolean {
    if (this.roleValue === 'secondary') return from === this.configValue.primary;
    if (this.roleValue === 'learner') return this.learner !== null && from === this.learner.primary && session?.signature === this.learner.session.signature;
    return false;
  }

  private acceptPrepare(now: number, from: NodeId, message: PrepareMessage): void {
    const mutation = message.mutation;
    if (mutation.ballot === this.ballotValue) this.noteCommitPoint(mutation.lastCommitted);
    if (mutation.decree <= this.list.committed) {
      this.sendAck(from, mutation);
      return;
    }
    const existing = this.list.get(mutation.decree);
    if (existing !== undefined && existing.mutation.ballot === mutation.ballot) {
      if (this.isDurable(existing) || this.bugs.ackBeforeDurable === true) this.sendAck(from, mutation);
      else existing.ackTo = from;
      return;
    }
    if (!this.list.canPrepare(mutation.decree)) {
      this.sendPrepareError(from, mutation, 'capacity');
      return;
    }
    const entry = newEntry(mutation, 0, now);
    if (existing !== undefined && existing.mutation.ballot > mutation.ballot) {
      // Only the planted bug (no ballot check on prepare) gets here: a stale version replaces a newer one.
      this.list.replaceIgnoringBallot(entry);
    } else {
      this.list.put(entry);
    }
    this.appendToLog(entry);
    if (this.bugs.ackBeforeDurable === true) this.sendAck(from, mutation);
    else entry.ackTo = from;
    this.commitTo(this.knownCommitPoint);
  }

  private noteCommitPoint(commitPoint: number): void {
    if (commitPoint > this.knownCommitPoint) this.knownCommitPoint = commitPoint;
    this.commitTo(this.knownCommitPoint);
  }

  private sendAck(to: NodeId, mutation: Mutation): void {
    this.host.emit({ type: 'send', to, message: { type: 'prepareAck', gpid: this.gpid, ballot: mutation.ballot, decree: mutation.decree } });
  }

  private sendOwedAck(entry: PrepareEntry): void {
    if (entry.ackTo === null || !this.isDurable(entry)) return;
    this.sendAck(entry.ackTo, entry.mutation);
    entry.ackTo = null;
  }

  private sendPrepareError(to: NodeId, mutation: Mutation, error: PrepareError): void {
    this.host.emit({
      type: 'send',
      to,
      message: { type: 'prepareAck', gpid: this.gpid, ballot: mutation.ballot, decree: mutation.decree, error, senderBallot: this.ballotValue },
    });
  }

  private replyGroupCheck(to: NodeId, ballot: number, error: PrepareError | undefined): void {
    const message: GroupCheckReplyMessage =
      error === undefined ? { type: 'groupCheckReply', gpid: this.gpid, ballot } : { type: 'groupCheckReply', gpid: this.gpid, ballot, error, senderBallot: this.ballotValue };
    this.host.emit({ type: 'send', to, message });
  }

  private onGroupCheck(now: number, from: NodeId, message: GroupCheckMessage): void {
    const ballot = message.config.ballot;
    if (ballot < this.ballotValue) return this.replyGroupCheck(from, ballot, 'stale-ballot');
    if (ballot > this.ballotValue) this.adoptConfiguration(now, message.config);
    if (message.learner !== undefined && !isMember(message.config, this.host.node)) this.startLearning(now, from, message.config, message.learner);
    if (ballot !== this.ballotValue) return this.replyGroupCheck(from, ballot, 'stale-ballot');
    if (!this.acceptsPrepareFrom(from, message.learner)) return this.replyGroupCheck(from, ballot, 'invalid-state');
    this.noteCommitPoint(message.committed);
    this.replyGroupCheck(from, ballot, undefined);
  }

  private startLearning(now: number, from: NodeId, config: PartitionConfiguration, session: LearnerSession): void {
    if (config.ballot < this.ballotValue || config.primary !== from) return;
    if (this.roleValue === 'learner' && this.learner?.session.signature === session.signature) return;
    // A member of this ballot cannot also be its learner.
    if (config.ballot === this.ballotValue && (this.roleValue === 'primary' || this.roleValue === 'secondary')) return;
    if (config.ballot > this.ballotValue) this.persist(config);
    this.dropPrimaryState();
    this.roleValue = 'learner';
    // Forget (durably) what was prepared here under an older ballot and not committed: it may be
    // stale. Entries of this very ballot came from its one primary and stay — among them, the
    // prepares this replica acknowledged if it is rejoining a session after a demotion or restart.
    this.list.dropUncommittedBelowBallot(this.ballotValue);
    this.host.emit({ type: 'truncateLog', gpid: this.gpid, incarnation: this.incarnation, afterDecree: this.list.committed, belowBallot: this.ballotValue });
    this.learner = { session, primary: from, lastRequestAt: now, completionIndex: null, completionCommitted: 0, restoring: false };
    this.sendLearnRequest(now);
  }

  private sendLearnRequest(now: number): void {
    const learner = this.learner;
    if (learner === null) return;
    learner.lastRequestAt = now;
    this.host.emit({
      type: 'send',
      to: learner.primary,
      message: { type: 'learnRequest', gpid: this.gpid, ballot: this.ballotValue, signature: learner.session.signature, learnerCommitted: this.list.committed },
    });
  }

  private onLearnResponse(now: number, _from: NodeId, message: LearnResponseMessage): void {
    const learner = this.learner;
    if (this.roleValue !== 'learner' || learner === null || message.signature !== learner.session.signature || message.ballot !== this.ballotValue) return;
    if (message.kind === 'rejected') {
      this.becomeInactive();
      return;
    }
    if (message.checkpoint !== undefined && message.checkpoint.decree > this.list.committed) {
      const checkpoint = message.checkpoint;
      this.list.resetCommitted(checkpoint.decree);
      // Effects are performed in order, so every apply after this one finds the state machine at
      // the checkpoint; `restored` only says the checkpoint is durable.
      if (this.applyEmitted < checkpoint.decree) this.applyEmitted = checkpoint.decree;
      if (this.appliedValue < checkpoint.decree) this.appliedValue = checkpoint.decree;
      learner.restoring = true;
      this.host.emit({ type: 'restore', gpid: this.gpid, incarnation: this.incarnation, checkpoint });
    }
    const mutations = [...message.mutations].sort((a, b) => a.decree - b.decree);
    for (const mutation of mutations) {
      if (mutation.decree <= this.list.committed) continue;
      const existing = this.list.get(mutation.decree);
      if (existing !== undefined && existing.mutation.ballot >= mutation.ballot) continue;
      if (!this.list.canPrepare(mutation.decree)) break;
      const entry = newEntry(mutation, 0, now);
      this.list.put(entry);
      this.appendToLog(entry);
    }
    this.noteCommitPoint(message.primaryCommitted);
    this.checkLearning(now, true);
  }

  /**
   * Learned everything below the start decree? Then, once that is durable, say so. Otherwise ask
   * for more when `askForMore` (after an answer; the tick repeats unanswered requests).
   */
  private checkLearning(now: number, askForMore: boolean): void {
    const learner = this.learner;
    if (learner === null || learner.restoring) return;
    if (this.list.contiguousEnd() < learner.session.startDecree - 1) {
      if (askForMore) this.sendLearnRequest(now);
      return;
    }
    if (learner.completionIndex === null) {
      learner.completionIndex = this.nextLogIndex - 1;
      learner.completionCommitted = this.list.committed;
    }
    this.ensureSync();
    if (this.syncedIndex >= learner.completionIndex) this.sendLearnCompleted(now);
  }

  private sendLearnCompleted(now: number): void {
    const learner = this.learner;
    if (learner === null) return;
    learner.lastRequestAt = now;
    // What this says it learned must survive a restart: its records are durable (synced), and
    // the commit point that makes them committed is persisted before the message goes (effects
    // are performed in order). Without it, a restarted learner recovers them as uncommitted
    // records of an older ballot and drops them on learning again — while the primary may
    // already be asking the meta to make it a secondary on the strength of this message.
    // The point persisted is the one taken with the completion index, whose records are synced
    // now — not the current one, which may cover records not yet durable: after a crash, recovery
    // would commit whatever older version of those decrees the log still held.
    if (learner.completionCommitted > this.persistedCommitted) {
      this.persistedCommitted = learner.completionCommitted;
      this.emitPersist();
    }
    this.host.emit({
      type: 'send',
      to: learner.primary,
      message: { type: 'learnCompleted', gpid: this.gpid, ballot: this.ballotValue, signature: learner.session.signature, learnedDecree: this.list.contiguousEnd() },
    });
  }

  private tickLearner(now: number): void {
    const learner = this.learner;
    if (learner === null || learner.restoring || now - learner.lastRequestAt < this.options.learnRetryMs) return;
    if (learner.completionIndex === null) this.sendLearnRequest(now);
    else if (this.syncedIndex >= learner.completionIndex) this.sendLearnCompleted(now);
  }

  // ---- log and state machine -------------------------------------------------------------------

  private isDurable(entry: PrepareEntry): boolean {
    return entry.logIndex <= this.syncedIndex;
  }

  private appendToLog(entry: PrepareEntry): void {
    entry.logIndex = this.nextLogIndex++;
    this.host.emit({ type: 'append', gpid: this.gpid, incarnation: this.incarnation, index: entry.logIndex, mutation: entry.mutation });
    this.ensureSync();
  }

  /** One sync at a time; it covers every append made before it (group commit). */
  private ensureSync(): void {
    if (this.syncInFlight || this.syncedIndex >= this.nextLogIndex - 1) return;
    this.syncInFlight = true;
    this.host.emit({ type: 'sync', gpid: this.gpid, incarnation: this.incarnation, throughIndex: this.nextLogIndex - 1 });
  }

  /** Commits up to `decree` (as far as the held decrees reach) and applies what was committed. */
  private commitTo(decree: number): void {
    const limit = Math.min(decree, this.list.contiguousEnd());
    if (limit <= this.list.committed) return;
    for (const entry of this.list.commitTo(limit)) {
      if (entry.mutation.decree !== this.applyEmitted + 1) assert(false, `${this.gpid}: apply ${entry.mutation.decree} after ${this.applyEmitted}`);
      this.applyEmitted = entry.mutation.decree;
      this.host.emit({ type: 'apply', gpid: this.gpid, incarnation: this.incarnation, mutation: entry.mutation });
    }
  }

  private refuse(client: NodeId, requestId: number, refusal: ClientRefusal): void {
    this.host.emit({ type: 'send', to: client, message: { type: 'clientReply', gpid: this.gpid, requestId, refusal } });
  }
}
