/**
 * The limits and timeouts of replication, with their defaults, and the one relation between them
 * that safety depends on: the meta's grace period must outlast a replica server's lease by a
 * margin that covers clock drift, because the lease counts from the send time of a beacon and the
 * grace from its receive time. `validateReplicationOptions` checks it once, at start.
 *
 * `PlantedBugs` are test-only switches that break one rule each; the simulator's negative
 * controls turn them on to prove that its invariants notice. Production code never sets them.
 */
import { PetrelError } from '@petrel/base';

export interface ReplicationOptions {
  /** Most mutations a replica holds in its prepare list (committed ones stay as a cache for learners). */
  readonly prepareListLimit: number;
  /** Most uncommitted mutations a primary has in flight. */
  readonly maxUncommitted: number;
  /** Writes are refused when the configuration has fewer members than this. */
  readonly minWriteMembers: number;
  /** Most bytes of client writes batched into one mutation. */
  readonly maxMutationBytes: number;
  /** Most client writes queued on a primary before it refuses with BUSY. */
  readonly maxPendingWrites: number;
  /** A prepare not acknowledged within this is sent again. */
  readonly prepareResendMs: number;
  /** A prepare not acknowledged within this is a failure of its target. */
  readonly prepareTimeoutMs: number;
  /** How often a primary sends its configuration and commit point to the group. */
  readonly groupCheckIntervalMs: number;
  /** How often a learner repeats an unanswered learn request or its completion. */
  readonly learnRetryMs: number;
  /** A learning session that has not completed within this is dropped by the primary. */
  readonly learnTimeoutMs: number;
  /** How often a primary repeats an unanswered configuration change request. */
  readonly configRequestRetryMs: number;
  readonly beaconIntervalMs: number;
  /** A replica server serves for this long after the send time of its last acknowledged beacon. */
  readonly leaseMs: number;
  /** The meta declares a server dead this long after the receive time of its last beacon. */
  readonly graceMs: number;
  /** What grace must exceed lease by: covers clock drift over one lease. */
  readonly leaseMarginMs: number;
  readonly configSyncIntervalMs: number;
  /** How often a core asks to be ticked. */
  readonly tickIntervalMs: number;
  /** A replica in the error state is closed and reopened from its durable state after this. */
  readonly errorReopenMs: number;
  /** The meta repeats an add-learner proposal that led nowhere after this. */
  readonly addLearnerTimeoutMs: number;
  /** The balancer moves at most one replica per this interval (the meta level `steady` turns it off). */
  readonly balanceIntervalMs: number;
  /**
   * Fewer live replica servers than this, or than `minAlivePercentForCure` % of the known ones,
   * freeze the meta: no cure, no balancing, until enough are back — a meta cut off from most of
   * the cluster must not reconfigure everything it cannot see (Pegasus: 65%).
   */
  readonly minAliveForCure: number;
  readonly minAlivePercentForCure: number;
}

export const defaultReplicationOptions: ReplicationOptions = {
  prepareListLimit: 110,
  maxUncommitted: 20,
  minWriteMembers: 2,
  maxMutationBytes: 64 * 1024,
  maxPendingWrites: 1000,
  prepareResendMs: 300,
  prepareTimeoutMs: 1500,
  groupCheckIntervalMs: 500,
  learnRetryMs: 300,
  learnTimeoutMs: 10_000,
  configRequestRetryMs: 400,
  beaconIntervalMs: 200,
  leaseMs: 2_000,
  graceMs: 3_000,
  leaseMarginMs: 500,
  configSyncIntervalMs: 1_000,
  tickIntervalMs: 50,
  errorReopenMs: 1_000,
  addLearnerTimeoutMs: 3_000,
  balanceIntervalMs: 2_000,
  minAliveForCure: 1,
  minAlivePercentForCure: 65,
};

/** Test-only: each switch plants one bug. */
export interface PlantedBugs {
  /** The primary commits once a majority of the members logged a mutation, not all of them. */
  readonly commitOnMajority?: boolean;
  /** A secondary acknowledges a prepare before its log append is durable. */
  readonly ackBeforeDurable?: boolean;
  /** A secondary accepts prepares of a lower ballot. */
  readonly noBallotCheckOnPrepare?: boolean;
  /** Skip the grace > lease + margin check (the simulator then runs with lease ≥ grace). */
  readonly leaseNotShorterThanGrace?: boolean;
  /** A new primary serves reads before reconciliation ends. */
  readonly readsBeforeReconciliation?: boolean;
  /** The meta accepts a change built on the configuration before the current one (two ballots past its base). */
  readonly metaAcceptsBallotPlusTwo?: boolean;
  /** The primary promotes a learner on a completion report without matching the session's signature. */
  readonly ignoreLearnerSignature?: boolean;
  /** A primary asked to hand its lead over keeps serving reads until the new configuration reaches it. */
  readonly serveWhileHandingOver?: boolean;
}

export const plantedBugNames = [
  'commitOnMajority',
  'ackBeforeDurable',
  'noBallotCheckOnPrepare',
  'leaseNotShorterThanGrace',
  'readsBeforeReconciliation',
  'metaAcceptsBallotPlusTwo',
  'ignoreLearnerSignature',
  'serveWhileHandingOver',
] as const satisfies readonly (keyof PlantedBugs)[];

export type PlantedBugName = (typeof plantedBugNames)[number];

/** Merges `overrides` into the defaults and checks every relation; throws INVALID_ARGUMENT. */
export function replicationOptions(overrides: Partial<ReplicationOptions> = {}, bugs: PlantedBugs = {}): ReplicationOptions {
  const options = { ...defaultReplicationOptions, ...overrides };
  validateReplicationOptions(options, bugs);
  return options;
}

export function validateReplicationOptions(options: ReplicationOptions, bugs: PlantedBugs = {}): void {
  for (const [name, value] of Object.entries(options)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new PetrelError('INVALID_ARGUMENT', `replication option ${name} must be a positive number, got ${String(value)}`);
    }
  }
  const positiveIntegers: (keyof ReplicationOptions)[] = ['prepareListLimit', 'maxUncommitted', 'minWriteMembers', 'maxPendingWrites'];
  for (const name of positiveIntegers) {
    if (!Number.isInteger(options[name])) throw new PetrelError('INVALID_ARGUMENT', `replication option ${name} must be an integer`);
  }
  if (options.maxUncommitted >= options.prepareListLimit) {
    throw new PetrelError('INVALID_ARGUMENT', `maxUncommitted (${options.maxUncommitted}) must be below prepareListLimit (${options.prepareListLimit})`);
  }
  if (options.prepareResendMs >= options.prepareTimeoutMs) {
    throw new PetrelError('INVALID_ARGUMENT', 'prepareResendMs must be below prepareTimeoutMs');
  }
  if (options.beaconIntervalMs >= options.leaseMs) {
    throw new PetrelError('INVALID_ARGUMENT', 'beaconIntervalMs must be below leaseMs');
  }
  if (bugs.leaseNotShorterThanGrace !== true && !(options.graceMs > options.leaseMs + options.leaseMarginMs)) {
    throw new PetrelError(
      'INVALID_ARGUMENT',
      `graceMs (${options.graceMs}) must exceed leaseMs (${options.leaseMs}) + leaseMarginMs (${options.leaseMarginMs}): ` +
        'a server must stop serving before the meta may hand its partitions to others',
    );
  }
}
