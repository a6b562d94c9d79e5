/**
 * What a replica server keeps on disk for one partition replica, and the IO the PacificA core asks
 * for on it:
 *
 *   <dataDir>/replicas/<gpid>/state.json     the persisted ballot and configuration (atomic replace)
 *   <dataDir>/replicas/<gpid>/log/           the mutation log (@petrel/wal, fsync group commit)
 *   <dataDir>/replicas/<gpid>/data/          the storage app's LSM (external-log mode)
 *   <dataDir>/replicas/<gpid>/checkpoints/N/ checkpoints for learners (hard links), newest kept
 *
 * Log records (value codec): `{ m: Mutation }` for a prepared mutation, or
 * `{ t: [afterDecree, belowBallot] }` — a truncation marker: the records before it of a decree
 * above `afterDecree` prepared under a ballot below `belowBallot` no longer count. Markers make
 * truncation an append (durable with the same group commit), never a rewrite.
 *
 * The core's log indexes are its own; the WAL's indexes are this store's (markers take some).
 */
import { PetrelError, type Vfs, joinPath } from '@petrel/base';
import { Wal, type WalStats } from '@petrel/wal';
import type { Gpid, Mutation, PersistedReplicaState, RecoveredReplica } from '@petrel/pacifica';
import { decodeMutation, decodeValue, encodeMutation, encodeValue, type Mutation as AppMutation, type PlainValue } from '@petrel/protocol';
import { LsmEngine } from '../app/lsm_engine.js';
import { StorageApp } from '../app/storage_app.js';

interface LogEntry {
  walIndex: number;
  mutation?: Mutation;
  truncate?: [number, number];
  /** Set when the mutation's writes were dropped from memory (the record stays in the log file). */
  decree?: number;
  ballot?: number;
}

/** Mutations kept in memory for learners that catch up from the log; older ones are on disk only. */
const CACHED_MUTATIONS = 4096;
/** Past this many applied but not yet flushed decrees, the LSM is flushed so the log can shrink. */
const FLUSH_AFTER_DECREES = 20_000;

export interface ReplicaStoreOptions {
  vfs: Vfs;
  dir: string;
  gpid: Gpid;
  envs: Record<string, string>;
  /** Told how long each of the mutation log's group fsyncs took (seconds). */
  onLogSync?: (seconds: number) => void;
}

export class ReplicaStore {
  /** The core's append index → the promise of that record being durable. */
  private readonly appends = new Map<number, Promise<void>>();
  private lastWalIndex: number;
  /** The records since the app's durable decree, in log order (for readLog and recovery). */
  private entries: LogEntry[];
  private closed = false;

  private constructor(
    readonly options: ReplicaStoreOptions,
    readonly app: StorageApp,
    private readonly wal: Wal,
    entries: LogEntry[],
    readonly persisted: PersistedReplicaState | null,
  ) {
    this.entries = entries;
    this.lastWalIndex = entries.at(-1)?.walIndex ?? wal.lastIndex;
  }

  static async open(options: ReplicaStoreOptions): Promise<ReplicaStore> {
    const { vfs, dir } = options;
    await vfs.mkdir(dir, { recursive: true });
    let persisted: PersistedReplicaState | null = null;
    if (await vfs.exists(joinPath(dir, 'state.json'))) {
      persisted = JSON.parse((await vfs.readFile(joinPath(dir, 'state.json'))).toString('utf8')) as PersistedReplicaState;
    }
    const engine = await LsmEngine.open(joinPath(dir, 'data'), { vfs, defaultTtlSeconds: 0 });
    let wal: Wal | undefined;
    try {
      const app = new StorageApp(engine, { envs: options.envs });
      wal = await Wal.open({ vfs, dir: joinPath(dir, 'log'), durability: 'fsync', ...(options.onLogSync === undefined ? {} : { onSync: options.onLogSync }) });
      const entries: LogEntry[] = [];
      for await (const record of wal.readFrom(wal.firstIndex)) {
        const value = decodeValue(record.data) as Record<string, PlainValue>;
        if (value.t !== undefined) entries.push({ walIndex: record.index, truncate: value.t as unknown as [number, number] });
        else entries.push({ walIndex: record.index, mutation: decodeLogMutation(value.m as Record<string, PlainValue>) });
      }
      return new ReplicaStore(options, app, wal, entries, persisted);
    } catch (error) {
      // Half open (a full disk, a corrupt log): let go of what did open, so a retry starts clean.
      await wal?.close().catch(() => undefined);
      await engine.close().catch(() => undefined);
      throw error;
    }
  }

  /** The mutation log's counters: syncs, bytes, preallocation (see WalStats). */
  logStats(): WalStats {
    return this.wal.stats();
  }

  get gpid(): Gpid {
    return this.options.gpid;
  }

  /** What the core needs to reopen this replica: its ballot, its durable decree and the log after it. */
  recovered(): RecoveredReplica {
    const checkpointDecree = this.app.lastDurableDecree;
    // Called right after open, when every entry still has its writes.
    const log = this.liveMutations().filter((m): m is Mutation => !('stripped' in m) && m.decree > checkpointDecree);
    return { gpid: this.gpid, persisted: this.persisted, checkpointDecree, log };
  }

  /** The mutations the truncation markers leave, in log order (stripped ones as their decree and ballot only). */
  private liveMutations(): (Mutation | { decree: number; ballot: number; stripped: true })[] {
    let live: (Mutation | { decree: number; ballot: number; stripped: true })[] = [];
    for (const entry of this.entries) {
      if (entry.truncate !== undefined) {
        const [afterDecree, belowBallot] = entry.truncate;
        live = live.filter((m) => m.decree <= afterDecree || m.ballot >= belowBallot);
      } else if (entry.mutation !== undefined) live.push(entry.mutation);
      else live.push({ decree: entry.decree!, ballot: entry.ballot!, stripped: true });
    }
    return live;
  }

  async persist(state: PersistedReplicaState): Promise<void> {
    const { vfs, dir } = this.options;
    const temp = joinPath(dir, 'state.json.tmp');
    await vfs.writeFile(temp, Buffer.from(JSON.stringify(state)), { sync: true });
    await vfs.rename(temp, joinPath(dir, 'state.json'));
    await vfs.syncDir(dir);
  }

  /** Appends without waiting; sync() waits. */
  append(coreIndex: number, mutation: Mutation): void {
    this.checkOpen();
    const walIndex = ++this.lastWalIndex;
    this.entries.push({ walIndex, mutation });
    // Memory stays bounded: the writes of old entries go (a learner that needs them gets a checkpoint).
    const old = this.entries[this.entries.length - 1 - CACHED_MUTATIONS];
    if (old?.mutation !== undefined) {
      old.decree = old.mutation.decree;
      old.ballot = old.mutation.ballot;
      delete old.mutation;
    }
    const durable = this.wal.append({ index: walIndex, data: encodeValue({ m: encodeLogMutation(mutation) }) });
    durable.catch(() => undefined);
    this.appends.set(coreIndex, durable);
  }

  /** Resolves when every append up to the core's `throughIndex` is durable. */
  async sync(throughIndex: number): Promise<void> {
    const waiting: Promise<void>[] = [];
    for (const [index, durable] of this.appends) {
      if (index <= throughIndex) {
        waiting.push(durable);
        this.appends.delete(index);
      }
    }
    await Promise.all(waiting);
  }

  async truncate(afterDecree: number, belowBallot: number): Promise<void> {
    this.checkOpen();
    const walIndex = ++this.lastWalIndex;
    this.entries.push({ walIndex, truncate: [afterDecree, belowBallot] });
    await this.wal.append({ index: walIndex, data: encodeValue({ t: [afterDecree, belowBallot] }) });
  }

  /** The latest version of each decree in [from, to], contiguous from `from`, or null when the log does not reach it. */
  readLog(from: number, to: number): Mutation[] | null {
    const latest = new Map<number, Mutation | { decree: number; ballot: number; stripped: true }>();
    for (const mutation of this.liveMutations()) {
      if (mutation.decree < from || mutation.decree > to) continue;
      const held = latest.get(mutation.decree);
      if (held === undefined || held.ballot <= mutation.ballot) latest.set(mutation.decree, mutation);
    }
    const out: Mutation[] = [];
    for (let decree = from; decree <= to; decree++) {
      const mutation = latest.get(decree);
      if (mutation === undefined) break;
      // No longer in memory: the learner gets a checkpoint instead.
      if ('stripped' in mutation) return null;
      out.push(mutation);
    }
    return out.length === 0 || out[0]!.decree !== from ? null : out;
  }

  /**
   * Drops log records the app no longer needs — those of decrees at or below its durable decree
   * minus `keepDecrees` (kept for learners that catch up from the log).
   */
  async collectGarbage(keepDecrees: number): Promise<void> {
    // A partition with small writes may not fill its memtable for a long time: flush, so that the
    // durable decree moves and the log (on disk and in memory) can shrink.
    if (this.app.lastAppliedDecree - this.app.lastDurableDecree > FLUSH_AFTER_DECREES) await this.app.flush();
    const below = this.app.lastDurableDecree - keepDecrees;
    if (below <= 0) return;
    let cut = 0;
    while (cut < this.entries.length) {
      const entry = this.entries[cut]!;
      const decree = entry.mutation?.decree ?? entry.decree;
      if (decree !== undefined && decree > below) break;
      cut++;
    }
    if (cut === 0 || cut >= this.entries.length) return;
    const firstKept = this.entries[cut]!.walIndex;
    this.entries = this.entries.slice(cut);
    await this.wal.truncatePrefix(firstKept);
  }

  private checkOpen(): void {
    if (this.closed) throw new PetrelError('CLOSED', `replica ${this.gpid} is closed`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.wal.close().catch(() => undefined);
    await this.app.close().catch(() => undefined);
  }
}

/** A PacificA mutation as the value codec carries it (writes are bytes already). */
export function encodeLogMutation(mutation: Mutation): Record<string, PlainValue> {
  return { gpid: mutation.gpid, ballot: mutation.ballot, decree: mutation.decree, lastCommitted: mutation.lastCommitted, writes: [...mutation.writes] };
}

export function decodeLogMutation(value: Record<string, PlainValue>): Mutation {
  const writes = value.writes;
  if (
    typeof value.gpid !== 'string' ||
    typeof value.ballot !== 'number' ||
    typeof value.decree !== 'number' ||
    typeof value.lastCommitted !== 'number' ||
    !Array.isArray(writes) ||
    !writes.every((write) => write instanceof Uint8Array)
  ) {
    throw new PetrelError('CORRUPTION', 'a mutation record with missing or mistyped fields');
  }
  return { gpid: value.gpid, ballot: value.ballot, decree: value.decree, lastCommitted: value.lastCommitted, writes: writes as Uint8Array[] };
}

/** The app's mutation for one decree: the writes of every client write the core batched. */
export function mergeWrites(writes: readonly Uint8Array[]): AppMutation {
  const merged: AppMutation = { nowSeconds: 0, defaultTtlSeconds: 0, writes: [] };
  for (const bytes of writes) {
    const one = decodeMutation(bytes);
    merged.nowSeconds = Math.max(merged.nowSeconds, one.nowSeconds);
    merged.defaultTtlSeconds = one.defaultTtlSeconds;
    merged.writes.push(...one.writes);
  }
  return merged;
}

export { encodeMutation };
