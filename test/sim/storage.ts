/**
 * The simulated disks. A replica's disk holds what a replica server keeps durably for one
 * partition: its persisted ballot and configuration (written with a sync, durable at once), its
 * mutation log (appends are volatile until a sync completes), and the durable checkpoint of its
 * state machine (the log below it is garbage-collected).
 *
 * A crash keeps every synced record and a random prefix of the unsynced ones, the last of which
 * may be torn (recovery cuts it): exactly what a log on a real disk may show after power loss.
 */
import type { Prng } from '@petrel/base';
import type { Checkpoint, Mutation, PersistedReplicaState, RecoveredReplica } from '@petrel/pacifica';

export interface LogRecord {
  readonly mutation: Mutation;
  durable: boolean;
}

export class ReplicaDisk {
  persisted: PersistedReplicaState | null = null;
  log: LogRecord[] = [];
  checkpoint: Checkpoint = { decree: 0, data: Buffer.from('[]') };

  constructor(readonly gpid: string) {}

  /** Power loss: unsynced records survive as a random prefix, the last possibly torn (then cut). */
  crash(random: Prng): void {
    const firstVolatile = this.log.findIndex((record) => !record.durable);
    if (firstVolatile < 0) return;
    const volatileCount = this.log.length - firstVolatile;
    let kept = random.int(volatileCount + 1);
    if (kept > 0 && random.chance(0.5)) kept--; // the last one written was torn
    this.log = this.log.slice(0, firstVolatile + kept);
    for (const record of this.log) record.durable = true;
  }

  /** The log was abandoned after a failure: nothing unsynced is trusted. */
  dropVolatile(): void {
    this.log = this.log.filter((record) => record.durable);
  }

  /** A durable image of the state machine; the log up to it is no longer needed. */
  setCheckpoint(checkpoint: Checkpoint): void {
    this.checkpoint = checkpoint;
    this.log = this.log.filter((record) => record.mutation.decree > checkpoint.decree);
  }

  /** Drops the records above `decree` prepared under a ballot below `ballot`. */
  truncateStale(decree: number, ballot: number): void {
    this.log = this.log.filter((record) => record.mutation.decree <= decree || record.mutation.ballot >= ballot);
  }

  recovered(): RecoveredReplica {
    return {
      gpid: this.gpid,
      persisted: this.persisted,
      checkpointDecree: this.checkpoint.decree,
      log: this.log.filter((record) => record.durable && record.mutation.decree > this.checkpoint.decree).map((record) => record.mutation),
    };
  }

  /** The latest version of each decree in [from, to], or null when the log no longer reaches `from`. */
  read(from: number, to: number): Mutation[] | null {
    const latest = new Map<number, Mutation>();
    for (const record of this.log) {
      const decree = record.mutation.decree;
      if (decree < from || decree > to) continue;
      const held = latest.get(decree);
      if (held === undefined || held.ballot <= record.mutation.ballot) latest.set(decree, record.mutation);
    }
    const mutations = [...latest.values()].sort((a, b) => a.decree - b.decree);
    if (mutations.length === 0 || mutations[0]!.decree !== from) return null;
    const contiguous: Mutation[] = [];
    for (const mutation of mutations) {
      if (mutation.decree !== from + contiguous.length) break;
      contiguous.push(mutation);
    }
    return contiguous;
  }
}
