/**
 * The nouns of PacificA as Petrel runs it: nodes, partitions, ballots, decrees, configurations,
 * mutations and replica roles. Everything here is plain data, so that a core's state can be
 * printed, compared and sent.
 *
 * - A **ballot** numbers the configurations of one partition; the meta raises it by exactly one
 *   on every change. A replica persists a higher ballot before acting on it and rejects messages
 *   carrying a lower one.
 * - A **decree** numbers the mutations of one partition, from 1, without gaps.
 * - A **mutation** is one decree's batch of client writes (possibly none: an empty mutation),
 *   stamped with the ballot of the primary that prepared it and that primary's committed decree
 *   at the time (the piggybacked commit point).
 */

/** A replica server (or the meta) by name. */
export type NodeId = string;

/** A partition: `<appId>.<partitionIndex>`. */
export type Gpid = string;

export type Role = 'primary' | 'secondary' | 'learner' | 'inactive' | 'error';

/** One partition's membership at one ballot, as the meta stores it. */
export interface PartitionConfiguration {
  readonly gpid: Gpid;
  readonly ballot: number;
  /** null when the partition has no primary (new, or every member is gone). */
  readonly primary: NodeId | null;
  readonly secondaries: readonly NodeId[];
  /**
   * The members of the last configuration that had any, recorded when the last of them was
   * dropped: only one of them is known to hold every committed mutation, so only one of them may
   * become primary again.
   */
  readonly lastDrops: readonly NodeId[];
  readonly maxReplicaCount: number;
}

export interface Mutation {
  readonly gpid: Gpid;
  readonly ballot: number;
  readonly decree: number;
  /** The preparing primary's committed decree when it sent this mutation. */
  readonly lastCommitted: number;
  /** The client writes, applied in order. Empty for an empty mutation. */
  readonly writes: readonly Uint8Array[];
}

/** A state machine's image at a decree, as a learner receives it. */
export interface Checkpoint {
  readonly decree: number;
  readonly data: Uint8Array;
}

/** What a replica persists (before acting on it) whenever its ballot or role changes. */
export interface PersistedReplicaState {
  readonly gpid: Gpid;
  readonly ballot: number;
  readonly config: PartitionConfiguration;
  /**
   * A commit point this replica reported to a primary as a learner (its learnCompleted): the
   * decrees up to it in its log and checkpoint are committed. Recovery commits up to it, so that a
   * learner that restarts does not take what it said it learned for stale uncommitted records and
   * drop them (absent: 0).
   */
  readonly committed?: number;
}

/** A learning session as a learner knows it; the signature names the session. */
export interface LearnerSession {
  readonly signature: string;
  /** The first decree the primary prepares on the learner; everything below is learned. */
  readonly startDecree: number;
}

export function membersOf(config: PartitionConfiguration): NodeId[] {
  return config.primary === null ? [...config.secondaries] : [config.primary, ...config.secondaries];
}

export function isMember(config: PartitionConfiguration, node: NodeId): boolean {
  return config.primary === node || config.secondaries.includes(node);
}

export function emptyConfiguration(gpid: Gpid, maxReplicaCount: number): PartitionConfiguration {
  return { gpid, ballot: 0, primary: null, secondaries: [], lastDrops: [], maxReplicaCount };
}

export function describeConfiguration(config: PartitionConfiguration): string {
  const drops = config.lastDrops.length > 0 ? ` lastDrops=[${config.lastDrops.join(',')}]` : '';
  return `${config.gpid} b${config.ballot} primary=${config.primary ?? '-'} secondaries=[${config.secondaries.join(',')}]${drops}`;
}

/** Two mutations hold the same writes (ballots may differ: a re-prepare keeps the writes). */
export function sameWrites(a: Mutation, b: Mutation): boolean {
  if (a.writes.length !== b.writes.length) return false;
  for (let i = 0; i < a.writes.length; i++) {
    if (Buffer.compare(a.writes[i]!, b.writes[i]!) !== 0) return false;
  }
  return true;
}
