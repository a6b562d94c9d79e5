/**
 * The prepare list: one replica's mutations by decree, from the oldest it still caches to the
 * newest it has prepared, with the commit point between them.
 *
 * - Decrees up to `committed` are committed; they stay as a cache (what a learner may copy from
 *   memory) until the list holds more than `limit` entries, then the oldest go first.
 * - Above `committed`, entries are prepared and may have gaps (a prepare can arrive before the one
 *   below it). Committing moves strictly in decree order: `commitTo(d)` stops at the first gap.
 * - At most `limit` entries are held at all; `canPrepare` says whether one more uncommitted
 *   decree fits. A decree holds one version; a version of a higher ballot replaces a lower one.
 */
import { assert } from '@petrel/base';
import type { Mutation, NodeId } from './types.js';

export interface PrepareEntry {
  mutation: Mutation;
  /** This version's append in the current incarnation's log; 0 when it came from the durable log at open. */
  logIndex: number;
  /** Primary: the members and learners that acknowledged this version. */
  readonly acks: Set<NodeId>;
  /** Primary: when this version was last sent to each target. */
  readonly sentAt: Map<NodeId, number>;
  /** Primary: when this version was first prepared. */
  preparedAt: number;
  /** Secondary or learner: who is owed an acknowledgement once this version is durable. */
  ackTo: NodeId | null;
}

export function newEntry(mutation: Mutation, logIndex: number, now: number): PrepareEntry {
  return { mutation, logIndex, acks: new Set(), sentAt: new Map(), preparedAt: now, ackTo: null };
}

export class PrepareList {
  private readonly entries = new Map<number, PrepareEntry>();
  private committedDecree: number;
  /** Lowest decree held (committed + 1 when only uncommitted ones, or none, are held). */
  private lowest: number;
  /** Highest decree held or committed. */
  private highest: number;

  constructor(
    readonly limit: number,
    committed: number,
  ) {
    assert(Number.isInteger(limit) && limit > 0, 'prepare list limit must be a positive integer');
    this.committedDecree = committed;
    this.lowest = committed + 1;
    this.highest = committed;
  }

  get committed(): number {
    return this.committedDecree;
  }

  /** The highest decree held or committed. */
  get maxDecree(): number {
    return this.highest;
  }

  /** The lowest decree still held; a learner needing less than this cannot learn from the cache. */
  get minDecree(): number {
    return this.lowest;
  }

  get size(): number {
    return this.entries.size;
  }

  get(decree: number): PrepareEntry | undefined {
    return this.entries.get(decree);
  }

  uncommittedCount(): number {
    let count = 0;
    for (const decree of this.entries.keys()) if (decree > this.committedDecree) count++;
    return count;
  }

  /** Whether an uncommitted `decree` (new to the list) fits under the limit. */
  canPrepare(decree: number): boolean {
    if (decree <= this.committedDecree) return false;
    if (this.entries.has(decree)) return true;
    return this.uncommittedCount() < this.limit;
  }

  /** Holds `entry` at its decree, replacing any version there. The decree must be uncommitted. */
  put(entry: PrepareEntry): void {
    const decree = entry.mutation.decree;
    if (decree <= this.committedDecree) assert(false, `prepare of committed decree ${decree} (committed ${this.committedDecree})`);
    const existing = this.entries.get(decree);
    if (existing !== undefined && existing.mutation.ballot > entry.mutation.ballot) assert(false, `decree ${decree}: a lower ballot cannot replace a higher one`);
    if (existing === undefined && !this.canPrepare(decree)) assert(false, `prepare list full (limit ${this.limit})`);
    this.entries.set(decree, entry);
    if (decree > this.highest) this.highest = decree;
    this.evict();
  }

  /**
   * Test-only (the planted bug "no ballot check on prepare"): holds `entry` even over a version of
   * a higher ballot.
   */
  replaceIgnoringBallot(entry: PrepareEntry): void {
    const decree = entry.mutation.decree;
    assert(decree > this.committedDecree && this.entries.has(decree), 'replaceIgnoringBallot needs a held uncommitted decree');
    this.entries.set(decree, entry);
  }

  /** The highest d such that every decree in (committed, d] is held. */
  contiguousEnd(): number {
    let decree = this.committedDecree;
    while (this.entries.has(decree + 1)) decree++;
    return decree;
  }

  /** Commits held decrees in order up to `decree`, stopping at the first gap; returns the newly committed entries. */
  commitTo(decree: number): PrepareEntry[] {
    const committed: PrepareEntry[] = [];
    while (this.committedDecree < decree) {
      const next = this.entries.get(this.committedDecree + 1);
      if (next === undefined) break;
      this.committedDecree++;
      committed.push(next);
    }
    this.evict();
    return committed;
  }

  /** Forgets every uncommitted entry prepared under a ballot below `ballot`. */
  dropUncommittedBelowBallot(ballot: number): void {
    let highest = this.committedDecree;
    for (const [decree, entry] of [...this.entries]) {
      if (decree <= this.committedDecree) continue;
      if (entry.mutation.ballot < ballot) this.entries.delete(decree);
      else if (decree > highest) highest = decree;
    }
    this.highest = highest;
    this.recomputeLowest();
  }

  /**
   * Jumps the commit point to `decree` (a checkpoint was restored there): entries at or below it
   * go, entries above it stay.
   */
  resetCommitted(decree: number): void {
    assert(decree >= this.committedDecree, 'the commit point never moves back');
    for (const held of [...this.entries.keys()]) if (held <= decree) this.entries.delete(held);
    this.committedDecree = decree;
    if (this.highest < decree) this.highest = decree;
    this.recomputeLowest();
  }

  /** Uncommitted entries in decree order. */
  uncommitted(): PrepareEntry[] {
    const out: PrepareEntry[] = [];
    for (let decree = this.committedDecree + 1; decree <= this.highest; decree++) {
      const entry = this.entries.get(decree);
      if (entry !== undefined) out.push(entry);
    }
    return out;
  }

  /** Held entries of decrees [from, to], in order, stopping at the first gap. */
  range(from: number, to: number): PrepareEntry[] {
    const out: PrepareEntry[] = [];
    for (let decree = from; decree <= to; decree++) {
      const entry = this.entries.get(decree);
      if (entry === undefined) break;
      out.push(entry);
    }
    return out;
  }

  private evict(): void {
    while (this.entries.size > this.limit && this.lowest <= this.committedDecree) {
      this.entries.delete(this.lowest);
      this.lowest++;
    }
  }

  private recomputeLowest(): void {
    let lowest = Infinity;
    for (const decree of this.entries.keys()) if (decree < lowest) lowest = decree;
    this.lowest = lowest === Infinity ? this.committedDecree + 1 : Math.min(lowest, this.committedDecree + 1);
  }

  describe(): string {
    const decrees = [...this.entries.keys()].sort((a, b) => a - b);
    return `committed=${this.committedDecree} held=[${decrees.map((d) => `${d}@b${this.entries.get(d)!.mutation.ballot}`).join(' ')}]`;
  }
}
