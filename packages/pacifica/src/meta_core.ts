/**
 * MetaCore: the meta server's configuration logic as a pure state machine — failure detection by
 * beacons, the configuration of every partition, and the cure of partitions that lost members.
 *
 * - A configuration changes only by compare-and-set on its ballot: a change built on ballot b
 *   becomes ballot b + 1, and only while the partition is at b with no other change in flight.
 *   The new configuration is persisted (`persist`, then `persisted`) before it is applied,
 *   answered or announced. A request on the current ballot that cannot be granted is fenced:
 *   the same membership is persisted at the next ballot, so a copy of the request delayed in the
 *   network can never be granted after its primary gave up on it.
 * - A replica server is dead once `graceMs` passed since the receive time of its last beacon. Its
 *   lease session is bumped at that instant, so no later acknowledgement can extend a lease it
 *   held; the bump is persisted before any configuration change that follows from it.
 * - Cure, per partition, one change at a time: a dead (or lost) primary is replaced by the live
 *   secondary with the fewest primaries; dead secondaries are removed; with no member left the
 *   configuration empties and remembers its last members (`lastDrops`), one of which must come back
 *   to be primary again; below the replica count, the primary is asked to add a learner, a
 *   returning replica first.
 * - After a restart the meta knows every server as freshly alive: none is declared dead before a
 *   full grace period, which outlasts any lease granted before the restart.
 */
import { assert } from '@petrel/base';
import type { MetaEffect, MetaInput, MetaRecord } from './effects.js';
import type { ConfigChangeMessage, ConfigSyncMessage, Message, ReplicaReport } from './messages.js';
import type { PlantedBugs, ReplicationOptions } from './options.js';
import { validateReplicationOptions } from './options.js';
import type { Gpid, NodeId, PartitionConfiguration } from './types.js';
import { isMember, membersOf } from './types.js';

export interface MetaParameters {
  readonly node: NodeId;
  readonly replicaServers: readonly NodeId[];
  readonly options: ReplicationOptions;
  readonly bugs?: PlantedBugs;
}

/** What the meta keeps durably: folded from its records by `applyMetaRecord`. */
export interface MetaDurableState {
  readonly configs: ReadonlyMap<Gpid, PartitionConfiguration>;
  readonly sessions: ReadonlyMap<NodeId, number>;
}

export function emptyMetaState(): MetaDurableState {
  return { configs: new Map(), sessions: new Map() };
}

/** Folds one durable record into a state (how a driver rebuilds the meta's state after a restart). */
export function applyMetaRecord(state: MetaDurableState, record: MetaRecord): MetaDurableState {
  if (record.kind === 'config') {
    const configs = new Map(state.configs);
    configs.set(record.config.gpid, record.config);
    return { configs, sessions: state.sessions };
  }
  const sessions = new Map(state.sessions);
  sessions.set(record.node, record.session);
  return { configs: state.configs, sessions };
}

interface NodeState {
  alive: boolean;
  lastBeaconAt: number;
  session: number;
}

interface PendingChange {
  readonly config: PartitionConfiguration;
  readonly token: number;
  readonly requester: NodeId | null;
  /** Whether the requester's change was granted (false: a fence that refuses it). */
  readonly granted: boolean;
}

interface LearnerProposal {
  readonly node: NodeId;
  readonly ballot: number;
  readonly at: number;
}

export type MetaLevel = 'stopped' | 'blind' | 'freezed' | 'steady' | 'lively';

export const META_LEVELS: readonly MetaLevel[] = ['stopped', 'blind', 'freezed', 'steady', 'lively'];

export class MetaCore {
  readonly node: NodeId;
  private readonly options: ReplicationOptions;
  private readonly bugs: PlantedBugs;
  private readonly nodes = new Map<NodeId, NodeState>();
  private readonly configs = new Map<Gpid, PartitionConfiguration>();
  private readonly pending = new Map<Gpid, PendingChange>();
  private readonly pendingByToken = new Map<number, Gpid>();
  private readonly reports = new Map<Gpid, Map<NodeId, ReplicaReport>>();
  private readonly learnerProposals = new Map<Gpid, LearnerProposal>();
  /** The meta's function level, as Pegasus has them (see setLevel). */
  private level: MetaLevel = 'lively';
  /** Replica counts asked for by `setMaxReplicaCount`, applied by the cure one partition at a time. */
  private readonly wantedReplicaCounts = new Map<Gpid, number>();
  /** Partitions the balancer shrank, and the server their next learner should be. */
  private readonly balanceTargets = new Map<Gpid, NodeId>();
  private lastBalanceAt = -Infinity;
  /** A replica move that began by handing the primary away: the drop that completes it. */
  private followUpDrop: { gpid: Gpid; node: NodeId; target: NodeId } | undefined;
  /** The primary the balancer asked to hand its lead over, and when. */
  private handOverAsked: { gpid: Gpid; ballot: number; at: number } | undefined;
  private out: MetaEffect[] = [];
  private nextToken = 1;

  constructor(parameters: MetaParameters, now: number, durable: MetaDurableState) {
    this.node = parameters.node;
    this.options = parameters.options;
    this.bugs = parameters.bugs ?? {};
    validateReplicationOptions(this.options, this.bugs);
    for (const server of [...parameters.replicaServers].sort()) {
      // Freshly alive: a full grace period before anyone can be declared dead.
      this.nodes.set(server, { alive: true, lastBeaconAt: now, session: durable.sessions.get(server) ?? 0 });
    }
    const gpids = [...durable.configs.keys()].sort(compareGpids);
    for (const gpid of gpids) this.configs.set(gpid, durable.configs.get(gpid)!);
  }

  start(now: number): MetaEffect[] {
    this.out.push({ type: 'wakeAt', time: now + this.options.tickIntervalMs });
    return this.drain();
  }

  step(input: MetaInput): MetaEffect[] {
    switch (input.type) {
      case 'tick':
        this.tick(input.now);
        break;
      case 'message':
        this.onMessage(input.now, input.from, input.message);
        break;
      case 'persisted':
        this.onPersisted(input.token);
        break;
    }
    return this.drain();
  }

  // ---- introspection ---------------------------------------------------------------------------

  configuration(gpid: Gpid): PartitionConfiguration | undefined {
    return this.configs.get(gpid);
  }

  configurations(): ReadonlyMap<Gpid, PartitionConfiguration> {
    return this.configs;
  }

  isAlive(node: NodeId): boolean {
    return this.nodes.get(node)?.alive ?? false;
  }

  sessionOf(node: NodeId): number | undefined {
    return this.nodes.get(node)?.session;
  }

  hasPendingChange(gpid: Gpid): boolean {
    return this.pending.has(gpid);
  }

  // ---- function levels -------------------------------------------------------------------------

  /**
   * - `lively`: cures partitions and balances replicas (the default);
   * - `steady`: cures, does not balance;
   * - `freezed`: neither cures nor balances; primaries' own requests (drop a failed secondary,
   *   promote a caught-up learner) are still granted;
   * - `blind`: no configuration changes at all;
   * - `stopped`: as blind (the meta server also refuses table changes).
   * Besides, too few live servers (minAliveForCure, minAlivePercentForCure) act as `freezed`.
   */
  setLevel(level: MetaLevel): void {
    this.level = level;
  }

  get configuredLevel(): MetaLevel {
    return this.level;
  }

  /** The level in force: the configured one, or `freezed` while too few servers are alive. */
  get effectiveLevel(): MetaLevel {
    if (this.level !== 'lively' && this.level !== 'steady') return this.level;
    const known = this.nodes.size;
    let alive = 0;
    for (const state of this.nodes.values()) if (state.alive) alive++;
    const needed = Math.max(this.options.minAliveForCure, Math.ceil((known * this.options.minAlivePercentForCure) / 100));
    return known > 0 && alive < needed ? 'freezed' : this.level;
  }

  /** Changes a partition's replica count; the cure applies it (ballot + 1), trimming secondaries when it shrinks. */
  setMaxReplicaCount(gpid: Gpid, count: number): void {
    assert(Number.isInteger(count) && count >= 1, `replica count ${count}`);
    if (this.configs.has(gpid)) this.wantedReplicaCounts.set(gpid, count);
  }

  // ---- membership of the cluster, as the meta server changes it -----------------------------

  knowsNode(node: NodeId): boolean {
    return this.nodes.has(node);
  }

  nodeIds(): NodeId[] {
    return [...this.nodes.keys()].sort();
  }

  /** A replica server the meta did not know (it joined): freshly alive, session 0. */
  addNode(node: NodeId, now: number): void {
    if (this.nodes.has(node)) return;
    this.nodes.set(node, { alive: true, lastBeaconAt: now, session: 0 });
  }

  /**
   * Partitions of a new table, already durable at the meta (ballot 0, no members): the next ticks
   * choose their primaries and add learners up to their replica count.
   */
  addPartitions(configs: readonly PartitionConfiguration[]): void {
    for (const config of configs) {
      assert(!this.configs.has(config.gpid), `${config.gpid}: added twice`);
      this.configs.set(config.gpid, config);
    }
  }

  /** Partitions of a dropped table: no longer cured or reported. */
  removePartitions(gpids: readonly Gpid[]): void {
    for (const gpid of gpids) {
      this.configs.delete(gpid);
      this.balanceTargets.delete(gpid);
      this.reports.delete(gpid);
      this.learnerProposals.delete(gpid);
      this.wantedReplicaCounts.delete(gpid);
      const pending = this.pending.get(gpid);
      if (pending !== undefined) {
        this.pending.delete(gpid);
        this.pendingByToken.delete(pending.token);
      }
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  private drain(): MetaEffect[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private send(to: NodeId, message: Message): void {
    this.out.push({ type: 'send', to, message });
  }

  private tick(now: number): void {
    for (const [node, state] of this.nodes) {
      if (state.alive && now - state.lastBeaconAt > this.options.graceMs) {
        state.alive = false;
        state.session++;
        this.out.push({ type: 'persist', token: this.nextToken++, record: { kind: 'session', node, session: state.session } });
      }
    }
    const level = this.effectiveLevel;
    if (level === 'lively' || level === 'steady') for (const gpid of this.configs.keys()) this.cure(now, gpid);
    if (level === 'lively') this.balance(now);
    this.out.push({ type: 'wakeAt', time: now + this.options.tickIntervalMs });
  }

  /**
   * The balancer: when every partition is whole and nothing is changing, make one move, at most one
   * per `balanceIntervalMs`:
   * - primaries first (they carry the clients' work, and moving one copies no data): when a live
   *   server leads two or more partitions more than a server holding a secondary of one of them,
   *   the primary is asked to hand its lead to that secondary. The primary stops serving, drains
   *   its mutations in flight, and itself asks for {primary: the secondary, secondaries: … and
   *   itself} at ballot + 1 — so two primaries never serve at once, even if a message is late;
   * - then replicas: when a live server holds two or more replicas more than another, drop one of
   *   its secondaries (ballot + 1) and let the cure add a learner on the emptiest (balanceTargets).
   *   When the fullest server leads every partition it could give, it hands one's lead over
   *   first and is dropped from it on the next round (followUpDrop).
   * A primary move lowers the primaries' spread, a replica move the replicas' (primary moves leave
   * that alone), so the balancer settles instead of going round.
   */
  private balance(now: number): void {
    if (now - this.lastBalanceAt < this.options.balanceIntervalMs || this.pending.size > 0 || this.balanceTargets.size > 0) return;
    // A hand-over asked for and not yet done (the primary drains its mutations first): wait for it.
    const asked = this.handOverAsked;
    if (asked !== undefined && this.configs.get(asked.gpid)?.ballot === asked.ballot && now - asked.at < this.options.addLearnerTimeoutMs) return;
    this.handOverAsked = undefined;
    const alive = [...this.nodes.keys()].filter((node) => this.isAlive(node)).sort();
    if (alive.length < 2) return;
    for (const config of this.configs.values()) {
      if (config.primary === null || !this.isAlive(config.primary) || membersOf(config).length < config.maxReplicaCount) return;
      if (config.secondaries.some((node) => !this.usable(config, node))) return;
    }
    const drop = this.followUpDrop;
    this.followUpDrop = undefined;
    if (drop !== undefined && this.configs.get(drop.gpid)?.primary !== drop.node) {
      const config = this.configs.get(drop.gpid);
      if (config !== undefined && config.secondaries.includes(drop.node) && !isMember(config, drop.target) && this.isAlive(drop.target)) {
        this.lastBalanceAt = now;
        this.balanceTargets.set(drop.gpid, drop.target);
        this.propose(drop.gpid, { ...config, ballot: config.ballot + 1, secondaries: config.secondaries.filter((node) => node !== drop.node) }, null);
        return;
      }
    }
    if (this.balancePrimaries(now)) return;
    this.balanceReplicas(now, alive);
  }

  private balancePrimaries(now: number): boolean {
    const primaries = this.primaryCounts();
    let best: { gpid: Gpid; config: PartitionConfiguration; to: NodeId; gain: number } | undefined;
    for (const [gpid, config] of this.configs) {
      const from = config.primary!;
      for (const to of config.secondaries) {
        const gain = primaries.get(from)! - primaries.get(to)!;
        if (gain >= 2 && (best === undefined || gain > best.gain)) best = { gpid, config, to, gain };
      }
    }
    if (best === undefined) return false;
    this.askHandOver(now, best.config, best.to);
    return true;
  }

  private askHandOver(now: number, config: PartitionConfiguration, to: NodeId): void {
    const primary = config.primary!;
    this.lastBalanceAt = now;
    this.handOverAsked = { gpid: config.gpid, ballot: config.ballot, at: now };
    this.send(primary, { type: 'handOver', session: this.sessionOf(primary) ?? -1, gpid: config.gpid, ballot: config.ballot, node: to });
  }

  private balanceReplicas(now: number, alive: NodeId[]): void {
    const counts = this.replicaCounts();
    const sorted = alive.sort((a, b) => counts.get(a)! - counts.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
    const emptiest = sorted[0]!;
    // The fullest server that has a secondary to give (one that leads all it holds gives none).
    let leading: [Gpid, PartitionConfiguration, NodeId] | undefined;
    for (let i = sorted.length - 1; i > 0; i--) {
      const fullest = sorted[i]!;
      if (counts.get(fullest)! - counts.get(emptiest)! < 2) break;
      for (const [gpid, config] of this.configs) {
        if (!isMember(config, fullest) || isMember(config, emptiest)) continue;
        if (config.primary === fullest) {
          leading ??= [gpid, config, fullest];
          continue;
        }
        this.lastBalanceAt = now;
        this.balanceTargets.set(gpid, emptiest);
        this.propose(gpid, { ...config, ballot: config.ballot + 1, secondaries: config.secondaries.filter((node) => node !== fullest) }, null);
        return;
      }
    }
    // Only partitions the fullest server leads could give: hand one's primary to its secondary
    // with the fewest primaries first (the old primary must stay a member while the new one starts,
    // see above), and drop it from there on the next round.
    if (leading === undefined) return;
    const [gpid, config, fullest] = leading;
    const to = this.fewestPrimaries(config.secondaries);
    if (to === undefined) return;
    this.followUpDrop = { gpid, node: fullest, target: emptiest };
    this.askHandOver(now, config, to);
  }

  private onMessage(now: number, from: NodeId, message: Message): void {
    switch (message.type) {
      case 'beacon': {
        const state = this.nodes.get(from);
        if (state === undefined) return;
        state.lastBeaconAt = now;
        state.alive = true;
        this.send(from, { type: 'beaconAck', sentAt: message.sentAt, session: state.session });
        return;
      }
      case 'configSync':
        return this.onConfigSync(from, message);
      case 'configChange':
        return this.onConfigChange(from, message);
      case 'queryConfig': {
        const config = this.configs.get(message.gpid);
        if (config !== undefined) this.send(from, { type: 'queryConfigReply', config });
        return;
      }
      default:
        return;
    }
  }

  private onConfigSync(from: NodeId, message: ConfigSyncMessage): void {
    if (!this.nodes.has(from)) return;
    const reported = new Set<Gpid>();
    for (const report of message.replicas) {
      if (!this.configs.has(report.gpid)) continue;
      reported.add(report.gpid);
      let byNode = this.reports.get(report.gpid);
      if (byNode === undefined) this.reports.set(report.gpid, (byNode = new Map()));
      byNode.set(from, report);
    }
    const configs: PartitionConfiguration[] = [];
    for (const [gpid, config] of this.configs) {
      // A replica the server no longer holds: forget its report.
      if (!reported.has(gpid)) this.reports.get(gpid)?.delete(from);
      if (reported.has(gpid) || isMember(config, from)) configs.push(config);
    }
    this.send(from, { type: 'configSyncReply', session: this.sessionOf(from)!, configs });
  }

  private onConfigChange(from: NodeId, message: ConfigChangeMessage): void {
    const current = this.configs.get(message.gpid);
    if (current === undefined) return;
    const reject = (): void => this.send(from, { type: 'configChangeReply', session: this.sessionOf(from) ?? -1, gpid: message.gpid, accepted: false, config: current });
    const level = this.effectiveLevel;
    if (level === 'blind' || level === 'stopped') return reject();
    if (this.pending.has(message.gpid)) return reject();
    const exact = message.baseBallot === current.ballot && message.proposed.ballot === current.ballot + 1 && from === current.primary;
    // The planted bug: a change built on the configuration before the current one goes through.
    const stale = this.bugs.metaAcceptsBallotPlusTwo === true && message.baseBallot === current.ballot - 1 && message.proposed.primary === from;
    if (!exact && !stale) return reject();
    let proposed: PartitionConfiguration;
    if (stale) {
      proposed = { ...message.proposed, gpid: current.gpid, ballot: current.ballot + 1, lastDrops: [], maxReplicaCount: current.maxReplicaCount };
    } else if (message.kind === 'removeSecondary') {
      if (!current.secondaries.includes(message.node)) return reject();
      proposed = { ...current, ballot: current.ballot + 1, secondaries: current.secondaries.filter((node) => node !== message.node) };
    } else if (message.kind === 'handOver') {
      if (!current.secondaries.includes(message.node) || !this.usable(current, message.node)) {
        // The primary stopped serving for this: fence it (same members, next ballot), and it leads on.
        this.propose(message.gpid, { ...current, ballot: current.ballot + 1 }, from, false);
        return;
      }
      proposed = { ...current, ballot: current.ballot + 1, primary: message.node, secondaries: current.secondaries.map((node) => (node === message.node ? from : node)) };
    } else {
      const members = membersOf(current).length;
      if (!this.isAlive(message.node) || isMember(current, message.node) || members >= current.maxReplicaCount) {
        // Refused, but fenced: the same membership at the next ballot, so that no copy of this
        // request still in the network can be granted later, after the primary gave up on it.
        this.propose(message.gpid, { ...current, ballot: current.ballot + 1 }, from, false);
        return;
      }
      proposed = { ...current, ballot: current.ballot + 1, secondaries: [...current.secondaries, message.node] };
    }
    this.propose(message.gpid, proposed, from);
  }

  /** The compare-and-set: `proposed` must be the successor of the current configuration. */
  private propose(gpid: Gpid, proposed: PartitionConfiguration, requester: NodeId | null, granted = true): void {
    const current = this.configs.get(gpid);
    assert(current !== undefined && !this.pending.has(gpid), `${gpid}: a change while another is in flight`);
    assert(proposed.ballot === current.ballot + 1, `${gpid}: ballot ${current.ballot} → ${proposed.ballot}`);
    assert(proposed.primary === null || !proposed.secondaries.includes(proposed.primary), `${gpid}: primary among secondaries`);
    assert(membersOf(proposed).length <= proposed.maxReplicaCount, `${gpid}: more members than the replica count`);
    const token = this.nextToken++;
    this.pending.set(gpid, { config: proposed, token, requester, granted });
    this.pendingByToken.set(token, gpid);
    this.out.push({ type: 'persist', token, record: { kind: 'config', config: proposed } });
  }

  private onPersisted(token: number): void {
    const gpid = this.pendingByToken.get(token);
    if (gpid === undefined) return;
    this.pendingByToken.delete(token);
    const change = this.pending.get(gpid)!;
    this.pending.delete(gpid);
    const previous = this.configs.get(gpid)!;
    assert(change.config.ballot === previous.ballot + 1, `${gpid}: applying ballot ${change.config.ballot} over ${previous.ballot}`);
    this.configs.set(gpid, change.config);
    this.learnerProposals.delete(gpid);
    if (membersOf(change.config).length >= change.config.maxReplicaCount) this.balanceTargets.delete(gpid);
    if (change.requester !== null) {
      this.send(change.requester, { type: 'configChangeReply', session: this.sessionOf(change.requester) ?? -1, gpid, accepted: change.granted, config: change.config });
    }
    const told = new Set<NodeId>();
    for (const node of [...membersOf(change.config), ...membersOf(previous)]) {
      if (told.has(node)) continue;
      told.add(node);
      const session = this.sessionOf(node);
      if (session !== undefined) this.send(node, { type: 'configUpdate', session, config: change.config });
    }
  }

  /**
   * A member that reported its replica of `config` at that very ballot in a role other than its
   * own. Such a report holds even if it is old (reports can be delayed): a replica takes up its
   * role the moment it adopts a ballot and never takes it up again at that ballot. A report of an
   * older ballot says nothing about the current one.
   */
  private isLost(config: PartitionConfiguration, node: NodeId): boolean {
    const report = this.reports.get(config.gpid)?.get(node);
    if (report === undefined || report.ballot !== config.ballot) return false;
    const expected = config.primary === node ? 'primary' : config.secondaries.includes(node) ? 'secondary' : null;
    return expected !== null && report.role !== expected;
  }

  private usable(config: PartitionConfiguration, node: NodeId): boolean {
    return this.isAlive(node) && !this.isLost(config, node);
  }

  /** Each partition's configuration as it will be once the change in flight (if any) is applied. */
  private *intendedConfigs(): Iterable<PartitionConfiguration> {
    for (const [gpid, config] of this.configs) yield this.pending.get(gpid)?.config ?? config;
  }

  // Counts include changes in flight: a tick that cures many new partitions spreads them out.
  private primaryCounts(): Map<NodeId, number> {
    const counts = new Map<NodeId, number>();
    for (const node of this.nodes.keys()) counts.set(node, 0);
    for (const config of this.intendedConfigs()) if (config.primary !== null) counts.set(config.primary, (counts.get(config.primary) ?? 0) + 1);
    return counts;
  }

  private replicaCounts(): Map<NodeId, number> {
    const counts = new Map<NodeId, number>();
    for (const node of this.nodes.keys()) counts.set(node, 0);
    for (const config of this.intendedConfigs()) for (const node of membersOf(config)) counts.set(node, (counts.get(node) ?? 0) + 1);
    return counts;
  }

  /** The candidate with the fewest primaries (then fewest replicas, then name). */
  private fewestPrimaries(candidates: readonly NodeId[]): NodeId | undefined {
    const primaries = this.primaryCounts();
    const replicas = this.replicaCounts();
    return [...candidates].sort(
      (a, b) => primaries.get(a)! - primaries.get(b)! || replicas.get(a)! - replicas.get(b)! || (a < b ? -1 : a > b ? 1 : 0),
    )[0];
  }

  private cure(now: number, gpid: Gpid): void {
    if (this.pending.has(gpid)) return;
    const config = this.configs.get(gpid)!;
    const wanted = this.wantedReplicaCounts.get(gpid);
    if (wanted !== undefined && wanted !== config.maxReplicaCount) {
      this.wantedReplicaCounts.delete(gpid);
      this.propose(gpid, { ...config, ballot: config.ballot + 1, maxReplicaCount: wanted, secondaries: config.secondaries.slice(0, Math.max(0, wanted - 1)) }, null);
      return;
    }
    this.wantedReplicaCounts.delete(gpid);
    const usable = (node: NodeId): boolean => this.usable(config, node);
    if (config.primary === null) {
      let candidates: NodeId[];
      if (config.secondaries.length > 0) candidates = config.secondaries.filter(usable);
      else if (config.lastDrops.length === 0) candidates = [...this.nodes.keys()].filter((node) => this.isAlive(node));
      else candidates = config.lastDrops.filter(usable);
      const chosen = this.fewestPrimaries(candidates);
      if (chosen === undefined) return;
      this.propose(gpid, { ...config, ballot: config.ballot + 1, primary: chosen, secondaries: config.secondaries.filter((node) => node !== chosen && usable(node)), lastDrops: [] }, null);
      return;
    }
    if (!usable(config.primary)) {
      const candidates = config.secondaries.filter(usable);
      const chosen = this.fewestPrimaries(candidates);
      if (chosen === undefined) {
        this.propose(gpid, { ...config, ballot: config.ballot + 1, primary: null, secondaries: [], lastDrops: membersOf(config) }, null);
      } else {
        this.propose(gpid, { ...config, ballot: config.ballot + 1, primary: chosen, secondaries: candidates.filter((node) => node !== chosen), lastDrops: [] }, null);
      }
      return;
    }
    if (config.secondaries.some((node) => !usable(node))) {
      this.propose(gpid, { ...config, ballot: config.ballot + 1, secondaries: config.secondaries.filter(usable) }, null);
      return;
    }
    if (membersOf(config).length < config.maxReplicaCount) this.proposeLearner(now, config);
  }

  /** Asks the primary to add a learner: a server that still holds a replica of the partition first. */
  private proposeLearner(now: number, config: PartitionConfiguration): void {
    const previous = this.learnerProposals.get(config.gpid);
    if (previous !== undefined && previous.ballot === config.ballot && now - previous.at < this.options.addLearnerTimeoutMs) return;
    const reports = this.reports.get(config.gpid);
    const replicas = this.replicaCounts();
    const candidates = [...this.nodes.keys()]
      .filter((node) => this.isAlive(node) && !isMember(config, node) && reports?.get(node)?.role !== 'error')
      .sort((a, b) => {
        const returningA = reports?.has(a) === true ? 0 : config.lastDrops.includes(a) ? 1 : 2;
        const returningB = reports?.has(b) === true ? 0 : config.lastDrops.includes(b) ? 1 : 2;
        return (
          returningA - returningB ||
          (reports?.get(b)?.committed ?? 0) - (reports?.get(a)?.committed ?? 0) ||
          replicas.get(a)! - replicas.get(b)! ||
          (a < b ? -1 : a > b ? 1 : 0)
        );
      });
    if (candidates.length === 0) return;
    // A partition the balancer shrank: its learner goes to the server it chose, while that works.
    // It keeps trying that server (a slow learning under load is no reason to undo the move); a
    // target that died or joined otherwise is given up.
    const target = this.balanceTargets.get(config.gpid);
    if (target !== undefined && candidates.includes(target)) {
      this.learnerProposals.set(config.gpid, { node: target, ballot: config.ballot, at: now });
      this.send(config.primary!, { type: 'addLearner', session: this.sessionOf(config.primary!) ?? -1, gpid: config.gpid, ballot: config.ballot, node: target });
      return;
    }
    this.balanceTargets.delete(config.gpid);
    // A proposal that led nowhere: try the next candidate.
    let chosen = candidates[0]!;
    if (previous !== undefined && previous.ballot === config.ballot) {
      const index = candidates.indexOf(previous.node);
      if (index >= 0) chosen = candidates[(index + 1) % candidates.length]!;
    }
    this.learnerProposals.set(config.gpid, { node: chosen, ballot: config.ballot, at: now });
    const primary = config.primary!;
    this.send(primary, { type: 'addLearner', session: this.sessionOf(primary) ?? -1, gpid: config.gpid, ballot: config.ballot, node: chosen });
  }
}

/** `a.b` partition ids in numeric order. */
export function compareGpids(a: Gpid, b: Gpid): number {
  const [appA, indexA] = a.split('.').map(Number) as [number, number];
  const [appB, indexB] = b.split('.').map(Number) as [number, number];
  return appA - appB || indexA - indexB || (a < b ? -1 : a > b ? 1 : 0);
}
