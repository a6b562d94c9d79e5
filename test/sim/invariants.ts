/**
 * The safety invariants the simulator checks after every event (and at the effects that matter):
 *
 * - single-serving-primary: at any simulated instant at most one replica of a partition would
 *   answer a read (primary, reconciled, lease valid on its own clock). Between events a lease can
 *   only run out, so checking after each event covers every instant.
 * - ballot-monotonic: a replica never persists a lower ballot than it did before, restarts
 *   included; the meta's ballot of a partition never goes back, meta restarts included.
 * - decree-unique: a decree never commits (is applied) with two different mutations, anywhere.
 * - prefix-agreement: every replica applies decrees 1, 2, 3, ... in order from its checkpoint,
 *   so with decree-unique the committed prefixes agree.
 * - state-agreement: replicas that applied decree d hold identical state (and a restored
 *   checkpoint of decree d is that state).
 * - acked-write-on-primary: every write acknowledged to a client is held by every later primary —
 *   every primary of a higher ballot than the one the write committed under: checked when a
 *   replica becomes primary, and at each acknowledgement against the primaries there are. And a
 *   primary that serves reads has applied every write acknowledged under a lower ballot (what
 *   reconciliation is for): checked after every event.
 * - config-succession: each configuration the meta holds is one step from the one before — its
 *   primary was a member (or, after every member was lost, one of the last ones; or the
 *   partition is new), and at most one member is new, added under the same primary (a learner's
 *   upgrade). This is what compare-and-set on the ballot guarantees.
 * - member-holds-committed (PacificA's own invariant, stronger): a replica that is a member
 *   (primary or secondary) at ballot B holds every decree committed under a ballot below B —
 *   below its commit point, or prepared with the committed writes. Checked whenever a replica
 *   takes up a role at a new ballot.
 */
import type { Gpid, Mutation, NodeId, PartitionConfiguration, ReplicaCore } from '@petrel/pacifica';
import { sameWrites } from '@petrel/pacifica';

export type InvariantName =
  | 'single-serving-primary'
  | 'ballot-monotonic'
  | 'decree-unique'
  | 'prefix-agreement'
  | 'state-agreement'
  | 'acked-write-on-primary'
  | 'member-holds-committed'
  | 'config-succession'
  | 'assertion'
  | 'linearizability'
  | 'liveness';

export class InvariantViolation extends Error {
  constructor(
    readonly invariant: InvariantName,
    message: string,
  ) {
    super(`${invariant}: ${message}`);
    this.name = 'InvariantViolation';
  }
}

function fail(invariant: InvariantName, message: string): never {
  throw new InvariantViolation(invariant, message);
}

/** What the checker reads from the simulation after an event. */
export interface ReplicaView {
  readonly node: NodeId;
  readonly replica: ReplicaCore;
  /** Would answer a read now (on its own clock). */
  readonly serving: boolean;
}

export class Invariants {
  private readonly committed = new Map<Gpid, Map<number, Mutation>>();
  private readonly stateAt = new Map<Gpid, Map<number, string>>();
  private readonly maxBallot = new Map<string, number>();
  private readonly metaConfig = new Map<Gpid, PartitionConfiguration>();
  /** Per partition: the highest acknowledged decree per ballot it committed under. */
  private readonly acked = new Map<Gpid, Map<number, number>>();
  /** The ballot of the version each replica applied, by `node/gpid/decree`. */
  private readonly appliedBallot = new Map<string, number>();
  private readonly membersChecked = new Set<string>();
  /** Per partition: the lowest ballot under which each decree was applied anywhere. */
  private readonly commitBallot = new Map<Gpid, Map<number, number>>();
  private readonly appliedThrough = new Map<string, number>();

  /** `node` applied `mutation`, after which its state hashes to `stateHash`. */
  onApply(node: NodeId, incarnation: number, mutation: Mutation, stateHash: string): void {
    const gpid = mutation.gpid;
    const decree = mutation.decree;
    const key = `${node}/${gpid}/${incarnation}`;
    const previous = this.appliedThrough.get(key);
    if (previous !== undefined && decree !== previous + 1) fail('prefix-agreement', `${node} applied ${gpid} decree ${decree} after ${previous}`);
    this.appliedThrough.set(key, decree);
    this.appliedBallot.set(`${node}/${gpid}/${decree}`, mutation.ballot);
    let ballots = this.commitBallot.get(gpid);
    if (ballots === undefined) this.commitBallot.set(gpid, (ballots = new Map()));
    const known = ballots.get(decree);
    if (known === undefined || mutation.ballot < known) ballots.set(decree, mutation.ballot);
    let byDecree = this.committed.get(gpid);
    if (byDecree === undefined) this.committed.set(gpid, (byDecree = new Map()));
    const first = byDecree.get(decree);
    if (first === undefined) byDecree.set(decree, mutation);
    else if (!sameWrites(first, mutation)) {
      fail('decree-unique', `${gpid} decree ${decree} committed as b${first.ballot} (${first.writes.length} writes) and on ${node} as b${mutation.ballot} (${mutation.writes.length} writes)`);
    }
    this.checkState(node, gpid, decree, stateHash);
  }

  /** `node` opened a replica whose state machine is at `decree` (a checkpoint) with `stateHash`. */
  onStateAt(node: NodeId, incarnation: number, gpid: Gpid, decree: number, stateHash: string): void {
    this.appliedThrough.set(`${node}/${gpid}/${incarnation}`, decree);
    this.checkState(node, gpid, decree, stateHash);
  }

  private checkState(node: NodeId, gpid: Gpid, decree: number, stateHash: string): void {
    let byDecree = this.stateAt.get(gpid);
    if (byDecree === undefined) this.stateAt.set(gpid, (byDecree = new Map()));
    const first = byDecree.get(decree);
    if (first === undefined) byDecree.set(decree, stateHash);
    else if (first !== stateHash) fail('state-agreement', `${gpid} after decree ${decree}: state ${first} elsewhere, ${stateHash} on ${node}`);
  }

  onPersistedBallot(node: NodeId, gpid: Gpid, ballot: number): void {
    const key = `${node}/${gpid}`;
    const previous = this.maxBallot.get(key) ?? 0;
    if (ballot < previous) fail('ballot-monotonic', `${node} persisted ballot ${ballot} of ${gpid} after ${previous}`);
    this.maxBallot.set(key, ballot);
  }

  /** After a restart: the ballot a replica came back with. */
  onRecoveredBallot(node: NodeId, gpid: Gpid, ballot: number): void {
    const previous = this.maxBallot.get(`${node}/${gpid}`) ?? 0;
    if (ballot < previous) fail('ballot-monotonic', `${node} restarted ${gpid} at ballot ${ballot}, had persisted ${previous}`);
  }

  onMetaConfigurations(configs: ReadonlyMap<Gpid, PartitionConfiguration>): void {
    for (const [gpid, config] of configs) {
      const previous = this.metaConfig.get(gpid);
      if (previous === config) continue;
      if (previous !== undefined) {
        if (config.ballot < previous.ballot) fail('ballot-monotonic', `meta holds ${gpid} at ballot ${config.ballot} after ${previous.ballot}`);
        if (config.ballot > previous.ballot) checkSuccession(previous, config);
      }
      this.metaConfig.set(gpid, config);
    }
  }

  /** A client heard that its write, in `decree` of `gpid`, succeeded (sent by `from`). */
  onWriteAcknowledged(gpid: Gpid, decree: number, from: NodeId, replicas: readonly ReplicaView[]): void {
    const ackBallot = this.appliedBallot.get(`${from}/${gpid}/${decree}`);
    if (ackBallot === undefined) fail('acked-write-on-primary', `${from} acknowledged decree ${decree} of ${gpid} without applying it`);
    let acked = this.acked.get(gpid);
    if (acked === undefined) this.acked.set(gpid, (acked = new Map()));
    if (decree > (acked.get(ackBallot) ?? 0)) acked.set(ackBallot, decree);
    for (const view of replicas) {
      const replica = view.replica;
      if (replica.gpid !== gpid || replica.role !== 'primary' || replica.ballot <= ackBallot) continue;
      this.checkHolds('acked-write-on-primary', view.node, replica, decree, decree);
    }
  }

  /** After every event: the serving primaries, and every replica that just became primary. */
  afterEvent(replicas: readonly ReplicaView[]): void {
    const serving = new Map<Gpid, NodeId>();
    for (const view of replicas) {
      const replica = view.replica;
      if (view.serving) {
        const other = serving.get(replica.gpid);
        if (other !== undefined) fail('single-serving-primary', `${replica.gpid} served by ${other} and ${view.node} (b${replica.ballot}) at once`);
        serving.set(replica.gpid, view.node);
        const acked = this.ackedBelow(replica.gpid, replica.ballot);
        if (replica.applied < acked) {
          fail('acked-write-on-primary', `${view.node} serves reads of ${replica.gpid} at b${replica.ballot} having applied up to ${replica.applied}, but decree ${acked} was acknowledged`);
        }
      }
      if (replica.role === 'primary' || replica.role === 'secondary') {
        const key = `${view.node}/${replica.gpid}/${replica.ballot}/${replica.incarnation}/${replica.role}`;
        if (!this.membersChecked.has(key)) {
          this.membersChecked.add(key);
          if (replica.role === 'primary') this.checkHolds('acked-write-on-primary', view.node, replica, 1, this.ackedBelow(replica.gpid, replica.ballot));
          this.checkHolds('member-holds-committed', view.node, replica, 1, this.committedBelow(replica.gpid, replica.ballot));
        }
      }
    }
  }

  /** The highest decree acknowledged under a ballot below `ballot`. */
  private ackedBelow(gpid: Gpid, ballot: number): number {
    let max = 0;
    for (const [ackBallot, decree] of this.acked.get(gpid) ?? []) if (ackBallot < ballot && decree > max) max = decree;
    return max;
  }

  /** The highest decree committed under a ballot below `ballot`. */
  private committedBelow(gpid: Gpid, ballot: number): number {
    let max = 0;
    for (const [decree, committedUnder] of this.commitBallot.get(gpid) ?? []) if (committedUnder < ballot && decree > max) max = decree;
    return max;
  }

  /** `replica` holds every decree in [from, to] as committed, or prepared with the committed writes. */
  private checkHolds(invariant: InvariantName, node: NodeId, replica: ReplicaCore, from: number, to: number): void {
    if (to <= 0) return;
    const who = `${node} (${replica.role} of ${replica.gpid} at b${replica.ballot})`;
    if (replica.maxPrepared < to) fail(invariant, `${who} holds decrees up to ${replica.maxPrepared}, but ${to} is committed`);
    const committed = this.committed.get(replica.gpid);
    for (let decree = Math.max(from, replica.committed + 1); decree <= to; decree++) {
      const held = replica.mutationAt(decree);
      const truth = committed?.get(decree);
      if (held === undefined) fail(invariant, `${who} misses decree ${decree} (committed up to ${to})`);
      if (truth !== undefined && !sameWrites(held, truth)) fail(invariant, `${who} holds another decree ${decree} than the committed one`);
    }
  }

  committedCount(): number {
    let count = 0;
    for (const byDecree of this.committed.values()) count += byDecree.size;
    return count;
  }
}

function checkSuccession(previous: PartitionConfiguration, next: PartitionConfiguration): void {
  const what = `${next.gpid} b${previous.ballot} → b${next.ballot}`;
  if (next.ballot !== previous.ballot + 1) fail('config-succession', `${what}: the ballot skipped`);
  if (previous.ballot === 0) return;
  const before = new Set(previous.primary === null ? previous.secondaries : [previous.primary, ...previous.secondaries]);
  if (next.primary !== null && !before.has(next.primary) && !previous.lastDrops.includes(next.primary)) {
    fail('config-succession', `${what}: primary ${next.primary} was not a member`);
  }
  const added = next.secondaries.filter((node) => !before.has(node));
  if (added.length > 1 || (added.length === 1 && next.primary !== previous.primary)) {
    fail('config-succession', `${what}: ${added.join(',')} joined ${added.length > 1 ? 'at once' : 'under a new primary'}`);
  }
}
