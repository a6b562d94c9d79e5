/**
 * Db: the LSM storage engine.
 *
 * Two modes:
 * - `standalone`: the Db owns a write-ahead log (`<dir>/wal`, @petrel/wal). The writes of one
 *   event-loop turn form a write group (write_group.ts): one log record (index = its first
 *   sequence number), encoded once into the write arena; once durable, the memtable links to the
 *   same bytes and every write of the group resolves. Open replays the log after the last flushed
 *   sequence.
 * - `external-log`: the caller keeps the log (a replica's mutation log). Each write carries a
 *   decree and is inserted at once; flushes record `lastFlushedDecree` in the manifest, so after
 *   a restart the caller replays its own log from `lastFlushedDecree + 1`.
 *
 * Reads are synchronous (`get`, `iterator`): memtables, then SSTables through synchronous
 * positional reads of page-cached files and the shared block cache (ARCHITECTURE.md, decision 8).
 *
 * A full memtable becomes immutable and is flushed to an L0 SSTable by a worker thread that reads
 * the memtable's shared memory in place (flush/flush.ts; inline slices on MemVfs). Writes stall —
 * wait — while `maxImmutableMemtables` are waiting to be flushed, so memory stays bounded.
 */
import { type Clock, PetrelError, type Vfs, assert, dirName, initChecksum, isPetrelError, joinPath } from '@petrel/base';
import { type Durability, Wal } from '@petrel/wal';
import { compareBytes, compareUserKeys, KIND_DELETE, KIND_PUT, type Kind, LookupKey, lookupKey, MAX_SEQUENCE, TRAILER_BYTES, userKeyOf } from './format/internal_key.js';
import { DbIterator, type IteratorOptions } from './iterator/db_iterator.js';
import type { InternalIterator } from './iterator/iterator.js';
import { MergingIterator } from './iterator/merging_iterator.js';
import { Memtable, type MemtableLookup } from './memtable/memtable.js';
import { type MemtableRecycler, sharedRecycler } from './memtable/recycler.js';
import { BlockCache, sharedBlockCache } from './sstable/block_cache.js';
import { hashForFilter } from './sstable/bloom.js';
import { DEFAULT_TABLE_OPTIONS, type TableOptions } from './sstable/table_builder.js';
import { buildTableFromMemtable, type FlushResult } from './flush/flush.js';
import { sharedTableFiles, type TableFiles } from './sstable/table_files.js';
import { TableReader } from './sstable/table_reader.js';
import { LEVELS } from './version/version.js';
import { type Compaction, type CompactionOptions, compactionFor, DEFAULT_COMPACTION_OPTIONS, deeperRanges, overlapping, pickCompaction, userKeyRange } from './compaction/picker.js';
import type { CompactionFilterSpec } from './compaction/compaction_filter.js';
import { type CompactionPool, sharedCompactionPool, sharedFlushPool } from './compaction/pool.js';
import { type CompactionJob, type CompactionResult, runCompaction } from './compaction/runner.js';
import { NodeVfs } from '@petrel/base';
import { type FileMetadata, VersionEdit } from './version/version_edit.js';
import { VersionSet } from './version/version_set.js';
import { WriteBatch } from './write_batch.js';
import { type Applied, applyEntries, checkGroupRecord, encodeEntry, entryBytes, GROUP_VERSION, stampSequences, WriteArena } from './write_group.js';

export type DbMode = 'standalone' | 'external-log';

export interface DbOptions {
  vfs: Vfs;
  mode?: DbMode;
  /** Standalone mode: the log's durability (default `fsync`). */
  durability?: Durability;
  /** A memtable is flushed once it holds this many bytes (default 8 MiB). */
  memtableSizeBytes?: number;
  /** Writes wait while this many full memtables wait for their flush (default 2). */
  maxImmutableMemtables?: number;
  /** SSTable layout: block size, restart interval, bloom bits per key. */
  table?: Partial<TableOptions>;
  /** Defaults to the process-wide cache. */
  blockCache?: BlockCache;
  /** Limits open table files across databases (default: the process-wide one, 1000 files). */
  tableFiles?: TableFiles;
  /** Longest stretch an inline flush works before yielding to the event loop (default 4 ms). */
  flushSliceMs?: number;
  /** Create the database when the directory holds none (default true). */
  createIfMissing?: boolean;
  /** Leveled compaction: L0 trigger, L1 target, level multiplier, output file size. */
  compaction?: Partial<CompactionOptions>;
  /** `worker` (default on the real file system) or `inline` (slices on the main thread; MemVfs). */
  compactionExecutor?: 'worker' | 'inline';
  /** Defaults to the process-wide pool. */
  compactionPool?: CompactionPool;
  /**
   * Where flushes build their table: `worker` (default on the real file system: the main thread
   * only posts the memtable's shared memory) or `inline` (slices on the main thread; MemVfs).
   */
  flushExecutor?: 'worker' | 'inline';
  /** Defaults to the process-wide flush pool (one thread, apart from compactions). */
  flushPool?: CompactionPool;
  /** Where flushed memtables' memory goes for reuse; defaults to the process-wide one (32 MiB). */
  recycler?: MemtableRecycler;
  /** Per-record keep/drop/rewrite during compaction. */
  compactionFilter?: CompactionFilterSpec;
  /** The clock whose time compaction filters see (default: the system clock). */
  clock?: Clock;
  /** Writes slow down (1 ms each) once L0 holds this many files (default 8). */
  l0SlowdownTrigger?: number;
  /** Writes stop until compaction catches up once L0 holds this many files (default 12). */
  l0StopTrigger?: number;
  /** Only manual compaction (default false). */
  disableAutoCompaction?: boolean;
}

export interface IngestResult {
  path: string;
  /** The level the file went to. */
  level: number;
  /** The sequence number every entry of the file carries. */
  sequence: number;
  entries: number;
  fileSize: number;
  /** True when the file was copied because it could not be hard-linked. */
  copied: boolean;
}

export interface WriteOptions {
  /** External-log mode: the decree of this write (strictly increasing). */
  decree?: number;
}

export interface ReadOptions {
  snapshot?: Snapshot;
}

export interface Snapshot {
  readonly sequence: number;
  release(): void;
}

export interface DbStats {
  mode: DbMode;
  lastSequence: number;
  flushedSequence: number;
  lastAppliedDecree: number;
  lastFlushedDecree: number;
  memtableBytes: number;
  immutableMemtables: number;
  levels: { files: number; bytes: number }[];
  flushes: number;
  bytesFlushed: number;
  bytesWrittenByUser: number;
  blockCacheHits: number;
  blockCacheMisses: number;
  /** Table files open now, in the whole process (the limit is shared). */
  openTableFiles: number;
  writeStalls: number;
  writeStallMs: number;
  writeSlowdowns: number;
  /** 'none' | 'slowdown' | 'stop': the write-stall state now. */
  stallState: 'none' | 'slowdown' | 'stop';
  compactions: number;
  trivialMoves: number;
  ingestedFiles: number;
  bytesIngested: number;
  bytesCompactedRead: number;
  bytesCompactedWritten: number;
  /** Bytes written by flush and compaction over bytes the user wrote. */
  writeAmplification: number;
  compactionRunning: boolean;
  liveSnapshots: number;
}

const MiB = 2 ** 20;
const EMPTY = Buffer.alloc(0);
const RESOLVED = Promise.resolve();
const ignore = (): void => undefined;
/** The longest the first open of a process waits for the flush thread to boot. */
const FLUSH_THREAD_WAIT_MS = 300;
/** A group is sent to the log once it holds this much, even before the turn ends. */
const GROUP_LIMIT_BYTES = 256 * 1024;

/** Standalone writes on their way to the log together (write_group.ts). */
interface WriteGroup {
  chunk: Buffer;
  /** The group's record is chunk[start, end); `end` is set when the group is sent. */
  start: number;
  end: number;
  firstSequence: number;
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class Db {
  private readonly mode: DbMode;
  private readonly tableOptions: TableOptions;
  private readonly memtableSizeBytes: number;
  private readonly maxImmutableMemtables: number;
  private readonly flushSliceMs: number;
  private readonly cache: BlockCache;
  private readonly tableFiles: TableFiles;
  private readonly tables = new Map<number, TableReader>();
  /** Table files being written (not yet in a Version): never deleted as obsolete. */
  private readonly pendingOutputs = new Set<number>();
  private memtable: Memtable;
  /** Where every write's bytes go (write_group.ts). */
  private readonly arena: WriteArena;
  /** Standalone: the group that writes join until it is sent to the log. */
  private openGroup: WriteGroup | undefined;
  private readonly applied: Applied = { count: 0, userBytes: 0 };
  /** The target of every get (reads are synchronous: one at a time). */
  private readonly lookupKey = new LookupKey();
  /** Full memtables, oldest first. */
  private immutables: Memtable[] = [];
  private readonly recycler: MemtableRecycler;
  /**
   * Arena chunks that must never be reused: a memtable that linked entries in them was flushed
   * while it could still be read (an iterator open) or after it handed out views of its bytes.
   * The chunk it shares with the next memtable is among them, so that memtable's flush leaves it.
   */
  private readonly keptChunks = new WeakSet<ArrayBufferLike>();
  private wal: Wal | undefined;
  /** The last sequence number handed out. */
  private lastSequence = 0;
  /** The last sequence number inserted into the memtable: what reads may see. */
  private visibleSequence = 0;
  /** Standalone: the newest write's promise (writes resolve in order). */
  private lastWrite: Promise<void> = Promise.resolve();
  private lastAppliedDecree = 0;
  private flushing: Promise<void> | undefined;
  private flushWaiters: (() => void)[] = [];
  private backgroundError: unknown;
  private readonly snapshots = new Set<Snapshot>();
  private closed = false;
  /** Set when close() starts: no new flush or compaction begins after it. */
  private closing = false;
  /** The pass of deleteObsoleteFiles in progress, and whether another was asked for meanwhile. */
  private deleting: Promise<void> | undefined;
  private deleteAgain = false;
  private readonly counters = {
    flushes: 0,
    bytesFlushed: 0,
    bytesWrittenByUser: 0,
    writeStalls: 0,
    writeStallMs: 0,
    writeSlowdowns: 0,
    compactions: 0,
    trivialMoves: 0,
    ingestedFiles: 0,
    bytesIngested: 0,
    bytesCompactedRead: 0,
    bytesCompactedWritten: 0,
  };
  private readonly compactionOptions: CompactionOptions;
  private compactionFilter: CompactionFilterSpec | undefined;
  private readonly compactionPointers: (Buffer | undefined)[] = new Array(LEVELS).fill(undefined);
  private compacting: Promise<void> | undefined;
  /** Deleting the files a compaction made obsolete (cleanUpAfterCompaction). */
  private cleaning: Promise<void> | undefined;
  private readonly l0SlowdownTrigger: number;
  private readonly l0StopTrigger: number;
  private readonly flushExecutor: 'worker' | 'inline';
  private readonly compactionExecutor: 'worker' | 'inline';
  /** L0 files at which writes stall one way or the other. */
  private readonly l0StallFiles: number;

  private constructor(
    readonly dir: string,
    private readonly vfs: Vfs,
    private readonly options: DbOptions,
    private readonly versions: VersionSet,
  ) {
    this.mode = options.mode ?? 'standalone';
    this.tableOptions = { ...DEFAULT_TABLE_OPTIONS, ...options.table };
    this.memtableSizeBytes = options.memtableSizeBytes ?? 8 * MiB;
    this.maxImmutableMemtables = options.maxImmutableMemtables ?? 2;
    this.flushSliceMs = options.flushSliceMs ?? 4;
    this.cache = options.blockCache ?? sharedBlockCache();
    this.tableFiles = options.tableFiles ?? sharedTableFiles();
    this.compactionOptions = { ...DEFAULT_COMPACTION_OPTIONS, ...options.compaction };
    this.compactionFilter = options.compactionFilter;
    this.l0SlowdownTrigger = options.l0SlowdownTrigger ?? 8;
    this.l0StopTrigger = options.l0StopTrigger ?? 12;
    this.l0StallFiles = Math.min(this.l0SlowdownTrigger, this.l0StopTrigger);
    this.flushExecutor = options.flushExecutor ?? (vfs instanceof NodeVfs ? 'worker' : 'inline');
    this.compactionExecutor = options.compactionExecutor ?? (vfs instanceof NodeVfs ? 'worker' : 'inline');
    this.memtable = new Memtable(this.memtableSizeBytes);
    this.recycler = options.recycler ?? sharedRecycler();
    this.arena = new WriteArena(this.memtableSizeBytes, this.recycler);
  }

  static async open(dir: string, options: DbOptions): Promise<Db> {
    await initChecksum();
    const { vfs } = options;
    await vfs.mkdir(dir, { recursive: true });
    let db: Db | undefined;
    const versions = new VersionSet(vfs, dir, () => void db?.deleteObsoleteFiles().catch(() => undefined));
    db = new Db(dir, vfs, options, versions);
    // The flush thread boots once per process (a few hundred milliseconds: it loads its modules).
    // Start it now and give it a little time along with recovery: booting while writes run costs
    // them its CPU, and a flush that comes before it is up is built inline (writeTable). Open
    // waits at most FLUSH_THREAD_WAIT_MS for it. The compaction thread starts with the first compaction.
    const booting = db.flushExecutor === 'worker' ? (options.flushPool ?? sharedFlushPool()).whenReady() : undefined;
    try {
      await db.recover();
    } catch (error) {
      // Half open (a full disk, a corrupt file): let go of every handle, so a later open starts clean.
      db.backgroundError = error;
      await db.close().catch(() => undefined);
      throw error;
    }
    if (booting !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([booting, new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_THREAD_WAIT_MS)))]);
      clearTimeout(timer);
    }
    return db;
  }

  private tablePath(number: number): string {
    return joinPath(this.dir, `${String(number).padStart(6, '0')}.sst`);
  }

  private async recover(): Promise<void> {
    await this.versions.recover(this.options.createIfMissing ?? true);
    await this.setAsideStrayTables();
    // Ingested tables may carry sequences above the flushed one: new writes must go above them.
    let largestSequence = this.versions.flushedSequence;
    for (const { file } of this.versions.current.files()) {
      this.tables.set(file.number, await TableReader.open(this.vfs, this.tablePath(file.number), this.cache, this.tableFiles, file.globalSequence));
      largestSequence = Math.max(largestSequence, file.largestSequence);
    }
    this.lastSequence = largestSequence;
    this.visibleSequence = this.lastSequence;
    this.lastAppliedDecree = this.versions.lastFlushedDecree;
    if (this.mode === 'standalone') {
      this.wal = await Wal.open({ vfs: this.vfs, dir: joinPath(this.dir, 'wal'), durability: this.options.durability ?? 'fsync' });
      // Records may sit below an ingested table's sequence (written before it, never flushed, and
      // not overlapping it: ingestion flushes what overlaps). They keep their own sequences.
      let replayed = this.versions.flushedSequence;
      for await (const record of this.wal.readFrom(this.versions.flushedSequence + 1)) {
        const where = `${this.dir}/wal record ${record.index}`;
        if (record.index <= replayed) {
          throw new PetrelError('CORRUPTION', `${this.dir}/wal: record ${record.index} overlaps sequence ${replayed}`, { path: this.dir });
        }
        if (record.data[0] === GROUP_VERSION) {
          // A write group: checked, copied into the arena as it is, and linked.
          const count = checkGroupRecord(record.data, record.index, where);
          this.arena.reserve(record.data.length);
          const start = this.arena.used;
          this.arena.chunk.set(record.data, start);
          this.arena.used += record.data.length;
          this.applyEncoded(this.arena.chunk, start + 1, this.arena.used, record.index);
          replayed = record.index + count - 1;
        } else {
          // A batch as WriteBatch.encode wrote it (before write groups).
          const batch = WriteBatch.decode(record.data, where);
          this.applyBatch(batch, record.index);
          replayed = record.index + batch.count - 1;
        }
        this.maybeRotate();
        if (this.immutables.length > 0) await this.waitForFlushes();
      }
      this.lastSequence = Math.max(largestSequence, replayed);
      this.visibleSequence = this.lastSequence;
    }
  }

  // ---- Writes ----

  put(key: Uint8Array, value: Uint8Array, options?: WriteOptions): Promise<void> {
    if (options?.decree !== undefined || !this.canGroup()) return this.write(new WriteBatch().put(key, value), options);
    return this.addToGroup(KIND_PUT, key, value);
  }

  del(key: Uint8Array, options?: WriteOptions): Promise<void> {
    if (options?.decree !== undefined || !this.canGroup()) return this.write(new WriteBatch().del(key), options);
    return this.addToGroup(KIND_DELETE, key, EMPTY);
  }

  /**
   * Applies a batch atomically. Standalone: resolves once it is durable and visible. External-log:
   * the batch is visible when this returns; the promise resolves when writes may go on (it waits
   * during a write stall).
   */
  write(batch: WriteBatch, options: WriteOptions = {}): Promise<void> {
    try {
      this.checkOpen();
      if (this.mode === 'external-log') {
        const decree = options.decree;
        if (decree === undefined || !Number.isSafeInteger(decree) || decree <= this.lastAppliedDecree) {
          throw new PetrelError('INVALID_ARGUMENT', `external-log write needs a decree above ${this.lastAppliedDecree} (got ${decree})`);
        }
        if (batch.count > 0) this.applyBatch(batch);
        if (decree > this.memtable.lastDecree) this.memtable.lastDecree = decree;
        this.lastAppliedDecree = decree;
        this.maybeRotate();
        return this.mustStall() ? this.stall() : RESOLVED;
      }
      if (options.decree !== undefined) throw new PetrelError('INVALID_ARGUMENT', 'decrees belong to external-log mode');
      if (batch.count === 0) return RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.mustStall()) return this.stall().then(() => this.writeStandalone(batch));
    return this.writeStandalone(batch);
  }

  /** Standalone, open, and no write stall: a write joins the open group at once. */
  private canGroup(): boolean {
    return this.mode === 'standalone' && !this.closed && this.backgroundError === undefined && !this.mustStall();
  }

  private writeStandalone(batch: WriteBatch): Promise<void> {
    try {
      this.checkOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    const encoded = batch.encodedEntries();
    let group: WriteGroup;
    if (encoded !== undefined) {
      // The batch's bytes are already entries: one copy, then the sequences.
      group = this.groupWithRoom(encoded.length);
      const arena = this.arena;
      arena.chunk.set(encoded.bytes.subarray(0, encoded.length), arena.used);
      this.lastSequence += stampSequences(arena.chunk, arena.used, arena.used + encoded.length, this.lastSequence + 1);
      arena.used += encoded.length;
    } else {
      const entries = batch.entries;
      let bytes = 0;
      for (const entry of entries) bytes += entryBytes(entry.key.length, entry.kind === KIND_PUT ? entry.value.length : 0);
      group = this.groupWithRoom(bytes);
      const arena = this.arena;
      let at = arena.used;
      for (const entry of entries) {
        at = encodeEntry(arena.chunk, at, entry.kind, entry.key, entry.kind === KIND_PUT ? entry.value : EMPTY, ++this.lastSequence);
      }
      arena.used = at;
    }
    if (this.arena.used - group.start >= GROUP_LIMIT_BYTES) this.submitGroup(group);
    return group.promise;
  }

  /** One put or delete into the open group: its bytes go into the arena, nothing else is made. */
  private addToGroup(kind: Kind, key: Uint8Array, value: Uint8Array): Promise<void> {
    const group = this.groupWithRoom(entryBytes(key.length, value.length));
    const arena = this.arena;
    arena.used = encodeEntry(arena.chunk, arena.used, kind, key, value, ++this.lastSequence);
    if (arena.used - group.start >= GROUP_LIMIT_BYTES) this.submitGroup(group);
    return group.promise;
  }

  /**
   * The open group, with `bytes` free after it in its arena chunk; a group that cannot grow that
   * much is sent to the log first and a new one opened (a group never spans chunks).
   */
  private groupWithRoom(bytes: number): WriteGroup {
    let group = this.openGroup;
    if (group !== undefined) {
      if (this.arena.used + bytes <= this.arena.chunk.length) return group;
      this.submitGroup(group);
    }
    this.arena.reserve(1 + bytes);
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const arena = this.arena;
    group = { chunk: arena.chunk, start: arena.used, end: 0, firstSequence: this.lastSequence + 1, promise, resolve, reject };
    arena.chunk[arena.used++] = GROUP_VERSION;
    this.openGroup = group;
    // Writes still on their way (flush, ingest and close wait for them) include this group from now.
    this.lastWrite = promise.catch(ignore);
    // Every write made before the end of this turn's microtasks joins the group.
    queueMicrotask(() => this.submitGroup(group));
    return group;
  }

  /** Sends the group to the log; once written, links its entries into the memtable and resolves it. */
  private submitGroup(group: WriteGroup): void {
    if (this.openGroup !== group) return;
    this.openGroup = undefined;
    group.end = this.arena.used;
    const data = group.chunk.subarray(group.start, group.end);
    (this.wal as Wal).append({ index: group.firstSequence, data }).then(
      () => {
        // Appends resolve in order, so groups are linked in sequence order.
        if (!this.closed) {
          applyEntries(this.memtable, group.chunk, group.start + 1, group.end, group.firstSequence, this.applied);
          this.counters.bytesWrittenByUser += this.applied.userBytes;
          this.visibleSequence = group.firstSequence + this.applied.count - 1;
          this.maybeRotate();
        }
        group.resolve();
      },
      (error: unknown) => group.reject(error),
    );
  }

  /** External-log mode and recovery: encodes a batch into the arena and links it at once. */
  private applyBatch(batch: WriteBatch, firstSequence = this.lastSequence + 1): void {
    const arena = this.arena;
    const encoded = batch.encodedEntries();
    let start: number;
    if (encoded !== undefined) {
      arena.reserve(encoded.length);
      start = arena.used;
      arena.chunk.set(encoded.bytes.subarray(0, encoded.length), start);
      stampSequences(arena.chunk, start, start + encoded.length, firstSequence);
      arena.used += encoded.length;
    } else {
      const entries = batch.entries;
      let bytes = 0;
      for (const entry of entries) bytes += entryBytes(entry.key.length, entry.kind === KIND_PUT ? entry.value.length : 0);
      arena.reserve(bytes);
      start = arena.used;
      let at = start;
      let sequence = firstSequence;
      for (const entry of entries) at = encodeEntry(arena.chunk, at, entry.kind, entry.key, entry.kind === KIND_PUT ? entry.value : EMPTY, sequence++);
      arena.used = at;
    }
    this.applyEncoded(arena.chunk, start, arena.used, firstSequence);
  }

  private applyEncoded(chunk: Buffer, start: number, end: number, firstSequence: number): void {
    applyEntries(this.memtable, chunk, start, end, firstSequence, this.applied);
    const last = firstSequence + this.applied.count - 1;
    this.counters.bytesWrittenByUser += this.applied.userBytes;
    if (last > this.lastSequence) this.lastSequence = last;
    this.visibleSequence = last;
  }

  private maybeRotate(): void {
    if (this.memtable.approximateBytes >= this.memtableSizeBytes) this.rotateMemtable();
  }

  private rotateMemtable(): void {
    if (this.memtable.isEmpty && this.memtable.lastDecree <= this.versions.lastFlushedDecree) return;
    this.memtable.markImmutable();
    const full = this.memtable;
    this.memtable = new Memtable(this.memtableSizeBytes, this.recycler.takePool());
    // External-log mode: a new memtable starts at the decree already applied.
    this.memtable.lastDecree = full.lastDecree;
    this.immutables.push(full);
    this.scheduleFlush();
  }

  private l0Files(): number {
    return (this.versions.current.levels[0] as FileMetadata[]).length;
  }

  private stallState(): 'none' | 'slowdown' | 'stop' {
    // With automatic compaction off, an L0 stop lasts until a manual compactRange.
    if (this.immutables.length >= this.maxImmutableMemtables || this.l0Files() >= this.l0StopTrigger) return 'stop';
    if (this.l0Files() >= this.l0SlowdownTrigger) return 'slowdown';
    return 'none';
  }

  /**
   * Replaces the compaction filter (or its options) for compactions that start from now on —
   * e.g. when a table's default TTL changes. Undefined removes it.
   */
  setCompactionFilter(spec: CompactionFilterSpec | undefined): void {
    this.compactionFilter = spec;
  }

  private mustStall(): boolean {
    // stallState() !== 'none', without building the answer: this runs for every write.
    return this.immutables.length >= this.maxImmutableMemtables || (this.versions.current.levels[0] as FileMetadata[]).length >= this.l0StallFiles;
  }

  /** Lets the writes waiting in stall() look again (a flush or compaction ended, or the database is closing). */
  private releaseStalledWriters(): void {
    for (const waiter of this.flushWaiters.splice(0)) waiter();
  }

  /** Waits while writes must stop; delays a write by 1 ms while they must slow down. */
  private async stall(): Promise<void> {
    const started = performance.now();
    let state = this.stallState();
    if (state === 'stop') this.counters.writeStalls++;
    while (state === 'stop') {
      this.checkOpen();
      // A stop lasts until a flush or a compaction finishes; make sure one is on its way.
      this.scheduleFlush();
      this.maybeScheduleCompaction();
      await new Promise<void>((resolve) => this.flushWaiters.push(resolve));
      state = this.stallState();
    }
    if (state === 'slowdown') {
      this.counters.writeSlowdowns++;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    this.counters.writeStallMs += performance.now() - started;
  }

  private checkOpen(): void {
    if (this.closed) throw new PetrelError('CLOSED', `database ${this.dir} is closed`);
    if (this.backgroundError !== undefined) throw this.backgroundError;
  }

  // ---- Flush ----

  private scheduleFlush(): void {
    if (this.flushing !== undefined || this.immutables.length === 0 || this.closing) return;
    this.flushing = this.flushOldest()
      .catch((error) => {
        this.backgroundError ??= error;
      })
      .finally(() => {
        this.flushing = undefined;
        this.releaseStalledWriters();
        if (this.backgroundError === undefined && !this.closed) {
          this.scheduleFlush();
          this.maybeScheduleCompaction();
        }
      });
  }

  private async flushOldest(): Promise<void> {
    const memtable = this.immutables[0] as Memtable;
    const edit = new VersionEdit();
    if (!memtable.isEmpty) {
      const file = await this.writeTable(memtable);
      edit.addFile(0, file);
    }
    edit.flushedSequence = Math.max(this.versions.flushedSequence, memtable.lastSequence);
    if (this.mode === 'external-log') edit.lastFlushedDecree = Math.max(this.versions.lastFlushedDecree, memtable.lastDecree);
    await this.versions.logAndApply(edit);
    for (const { file } of edit.newFiles) this.pendingOutputs.delete(file.number);
    this.immutables.shift();
    this.recycle(memtable);
    this.counters.flushes++;
    // Writers stopped for room in memory may go on now, and the next flush may start: the log's
    // truncation (queued behind the appends made so far) need not hold them.
    this.releaseStalledWriters();
    this.wal?.truncatePrefix(this.versions.flushedSequence + 1).catch((error) => {
      if (!this.closed) this.backgroundError ??= error;
    });
  }

  /**
   * Gives a flushed memtable's memory to the recycler, for new memtables to reuse instead of fresh
   * pages (recycler.ts): its node pool when no iterator is open on it, and its arena chunks when,
   * besides, it never handed out a view of their bytes. Not the last chunk: it may hold the next
   * memtable's entries, or groups still on their way to the log; the next memtable's flush decides
   * for it. The earlier chunks hold only entries of this memtable or older flushed ones, all linked.
   */
  private recycle(memtable: Memtable): void {
    const chunks = memtable.inPlaceChunks();
    const pool = memtable.releasePool();
    if (pool !== undefined) this.recycler.givePool(pool);
    if (pool === undefined || memtable.exposed) {
      for (const chunk of chunks) this.keptChunks.add(chunk.buffer);
      return;
    }
    for (let i = 0; i < chunks.length - 1; i++) {
      const chunk = chunks[i] as Buffer;
      if (chunk.length === this.arena.chunkBytes && !this.keptChunks.has(chunk.buffer)) this.recycler.giveChunk(chunk);
    }
  }

  /** Builds an SSTable from a memtable (in the flush worker, or inline in slices); returns its metadata, its reader open. */
  private async writeTable(memtable: Memtable): Promise<FileMetadata> {
    const number = this.versions.newFileNumber();
    this.pendingOutputs.add(number);
    const path = this.tablePath(number);
    let result: FlushResult;
    const pool = this.flushExecutor === 'worker' ? (this.options.flushPool ?? sharedFlushPool()) : undefined;
    // While the pool's worker is still booting (the first flush after start), building inline
    // beats waiting for it: writes stop once `maxImmutableMemtables` wait.
    if (pool !== undefined && pool.ready) {
      // The worker reads the memtable's shared memory and writes the file; nothing here but waiting.
      result = await pool.flush({ path, memtable: memtable.shared(), tableOptions: this.tableOptions });
    } else {
      const file = await this.vfs.open(path, { create: true, exclusive: true });
      try {
        let sliceStart = performance.now();
        result = await buildTableFromMemtable(memtable, file, this.tableOptions, () => {
          if (performance.now() - sliceStart < this.flushSliceMs) return undefined;
          return new Promise<void>((resolve, reject) =>
            setImmediate(() => {
              if (this.closed) reject(new PetrelError('CLOSED', `database ${this.dir} closed during a flush`));
              sliceStart = performance.now();
              resolve();
            }),
          );
        });
      } finally {
        await file.close();
      }
    }
    await this.vfs.syncDir(this.dir);
    this.tables.set(number, await TableReader.open(this.vfs, path, this.cache, this.tableFiles));
    this.counters.bytesFlushed += result.fileSize;
    const { properties } = result;
    return {
      number,
      size: result.fileSize,
      smallest: properties.smallestKey,
      largest: properties.largestKey,
      smallestSequence: properties.smallestSequence,
      largestSequence: properties.largestSequence,
      entries: properties.entries,
    };
  }

  private async waitForFlushes(): Promise<void> {
    while (this.immutables.length > 0) {
      if (this.backgroundError !== undefined) throw this.backgroundError;
      this.scheduleFlush();
      await this.flushing;
    }
    if (this.backgroundError !== undefined) throw this.backgroundError;
  }

  /** Flushes the memtable (and any waiting) to SSTables; resolves once they are in the manifest. */
  async flush(): Promise<void> {
    this.checkOpen();
    // Standalone: writes still on their way through the log go into the memtable first.
    await this.lastWrite;
    this.rotateMemtable();
    await this.waitForFlushes();
  }

  /** Deletes table files that no live Version lists and no flush is writing. */
  private deleteObsoleteFiles(): Promise<void> {
    // One pass at a time; a request during a pass runs one more pass after it.
    if (this.deleting !== undefined) {
      this.deleteAgain = true;
      return this.deleting;
    }
    this.deleting = (async () => {
      do {
        this.deleteAgain = false;
        await this.deleteObsoleteFilesOnce();
      } while (this.deleteAgain && !this.closed);
    })().finally(() => (this.deleting = undefined));
    return this.deleting;
  }

  private async deleteObsoleteFilesOnce(): Promise<void> {
    for (const [number, table] of [...this.tables]) {
      if (this.closed) return;
      // Liveness is read now, not before the loop: a flush or compaction may have installed a
      // table (and dropped it from pendingOutputs) while this loop awaited an unlink.
      if (this.pendingOutputs.has(number) || this.versions.liveFiles().has(number)) continue;
      this.tables.delete(number);
      await table.close();
      await this.vfs.unlink(this.tablePath(number)).catch(() => undefined);
    }
  }

  /**
   * At open: table files that no manifest lists — left by a crash during a flush, or listed only by
   * a manifest edit that was lost — are moved to `lost/`, never deleted: they may hold data.
   */
  private async setAsideStrayTables(): Promise<void> {
    const live = this.versions.liveFiles();
    for (const name of await this.vfs.readdir(this.dir)) {
      const match = /^(\d{6,})\.sst$/.exec(name);
      if (match === null || live.has(Number(match[1]))) continue;
      const lost = joinPath(this.dir, 'lost');
      await this.vfs.mkdir(lost, { recursive: true });
      await this.vfs.rename(joinPath(this.dir, name), joinPath(lost, name));
      await this.vfs.syncDir(this.dir);
      await this.vfs.syncDir(lost);
    }
  }

  // ---- Compaction ----

  /** The oldest sequence some reader may still read at. */
  private smallestSnapshot(): number {
    let smallest = this.visibleSequence;
    for (const snapshot of this.snapshots) if (snapshot.sequence < smallest) smallest = snapshot.sequence;
    return smallest;
  }

  private maybeScheduleCompaction(): void {
    if (this.compacting !== undefined || this.closing || this.backgroundError !== undefined || this.options.disableAutoCompaction) return;
    const compaction = pickCompaction(this.versions.current, this.compactionOptions, this.compactionPointers);
    if (compaction === undefined) return;
    this.compacting = this.runCompaction(compaction)
      .catch((error) => {
        if (!this.closed) this.backgroundError ??= error;
      })
      .finally(() => {
        this.compacting = undefined;
        this.releaseStalledWriters();
        this.maybeScheduleCompaction();
      });
  }

  private async runCompaction(compaction: Compaction): Promise<void> {
    const edit = new VersionEdit();
    for (const file of compaction.levelInputs) edit.deleteFile(compaction.level, file.number);
    for (const file of compaction.outputLevelInputs) edit.deleteFile(compaction.outputLevel, file.number);
    const [, largest] = userKeyRange(compaction.levelInputs);
    if (compaction.trivialMove) {
      const file = compaction.levelInputs[0] as FileMetadata;
      edit.addFile(compaction.outputLevel, file);
      await this.versions.logAndApply(edit);
      this.counters.trivialMoves++;
      this.compactionPointers[compaction.level] = largest;
      return;
    }
    const inputBytes = compaction.inputs.reduce((sum, file) => sum + file.size, 0);
    const outputNumbers: number[] = [];
    for (let i = 0; i < Math.ceil(inputBytes / this.compactionOptions.targetFileBytes) + 2 + compaction.inputs.length; i++) {
      const number = this.versions.newFileNumber();
      outputNumbers.push(number);
      this.pendingOutputs.add(number);
    }
    try {
      const job: CompactionJob = {
        dir: this.dir,
        inputs: compaction.inputs.map((file) => file.number),
        // L0 files overlap: each is its own run. Any other level's files are one run (disjoint, in order).
        runs: [
          ...(compaction.level === 0 ? compaction.levelInputs.map((file) => [file.number]) : [compaction.levelInputs.map((file) => file.number)]),
          ...(compaction.outputLevelInputs.length > 0 ? [compaction.outputLevelInputs.map((file) => file.number)] : []),
        ],
        outputNumbers,
        smallestSnapshot: this.smallestSnapshot(),
        deeperRanges: deeperRanges(this.versions.current, compaction.outputLevel),
        globalSequences: compaction.inputs.flatMap((file) => (file.globalSequence === undefined ? [] : [[file.number, file.globalSequence] as [number, number]])),
        tableOptions: this.tableOptions,
        targetFileBytes: this.compactionOptions.targetFileBytes,
        nowSeconds: Math.floor((this.options.clock?.wallMs() ?? Date.now()) / 1000),
      };
      if (this.compactionFilter !== undefined) job.filter = this.compactionFilter;
      const result = await this.executeCompaction(job);
      // The outputs' readers open together (each is a few file reads and an index to decode).
      const opened = await Promise.allSettled(result.outputs.map((file) => TableReader.open(this.vfs, this.tablePath(file.number), this.cache, this.tableFiles)));
      result.outputs.forEach((file, i) => {
        const outcome = opened[i] as PromiseSettledResult<TableReader>;
        if (outcome.status === 'fulfilled') this.tables.set(file.number, outcome.value);
        edit.addFile(compaction.outputLevel, file);
      });
      for (const outcome of opened) if (outcome.status === 'rejected') throw outcome.reason;
      await this.versions.logAndApply(edit);
      this.counters.compactions++;
      this.counters.bytesCompactedRead += result.bytesRead;
      this.counters.bytesCompactedWritten += result.bytesWritten;
      this.compactionPointers[compaction.level] = largest;
    } finally {
      for (const number of outputNumbers) this.pendingOutputs.delete(number);
      // The inputs (and the outputs of a failed compaction) are in no Version now: their files go,
      // in the background, so that the next compaction can start meanwhile. Reserved numbers that
      // no output took are never handed out again.
      this.cleanUpAfterCompaction(outputNumbers);
    }
  }

  /** Deletes obsolete tables and unused output files; waitForCompactions and close wait for it. */
  private cleanUpAfterCompaction(outputNumbers: number[]): void {
    const previous = this.cleaning;
    const cleaning: Promise<void> = (async () => {
      await previous;
      await this.deleteObsoleteFiles().catch(() => undefined);
      for (const number of outputNumbers) {
        if (!this.tables.has(number)) await this.vfs.unlink(this.tablePath(number)).catch(() => undefined);
      }
    })().finally(() => {
      if (this.cleaning === cleaning) this.cleaning = undefined;
    });
    this.cleaning = cleaning;
  }

  private executeCompaction(job: CompactionJob): Promise<CompactionResult> {
    if (this.compactionExecutor === 'worker') return (this.options.compactionPool ?? sharedCompactionPool()).run(job);
    let sliceStart = performance.now();
    return runCompaction(job, this.vfs, () => {
      if (performance.now() - sliceStart < this.flushSliceMs) return undefined;
      return new Promise<void>((resolve) =>
        setImmediate(() => {
          sliceStart = performance.now();
          resolve();
        }),
      );
    });
  }

  /** Waits until no compaction runs and none is due (and obsolete files are gone). */
  async waitForCompactions(): Promise<void> {
    for (;;) {
      this.checkOpen();
      this.maybeScheduleCompaction();
      if (this.compacting === undefined) break;
      await this.compacting;
    }
    await this.cleaning;
  }

  /**
   * Compacts the key range [start, end] (every key when absent) down the levels. With
   * `bottommost`, the last level holding the range is rewritten too, so filters run over all of
   * it and deletion markers go.
   */
  async compactRange(start?: Uint8Array, end?: Uint8Array, options: { bottommost?: boolean } = {}): Promise<void> {
    await this.flush();
    while (this.compacting !== undefined) await this.compacting;
    const low = start === undefined ? Buffer.alloc(0) : Buffer.from(start);
    const high = end === undefined ? undefined : Buffer.from(end);
    for (let level = 0; level < LEVELS - 1; level++) {
      // A background compaction may have started between two steps: let it finish first.
      while (this.compacting !== undefined) await this.compacting;
      const version = this.versions.current;
      const files = version.levels[level] as FileMetadata[];
      const inputs = high === undefined ? files.filter((file) => compareUserKeys(file.largest.subarray(0, file.largest.length - 8), low) >= 0) : overlapping(files, low, high);
      if (inputs.length === 0) continue;
      const deeper = deeperRanges(version, level).length > 0;
      const compaction = compactionFor(version, level, level === 0 ? [...files] : inputs, 'manual', !(options.bottommost ?? false) || deeper);
      this.compacting = this.runCompaction(compaction);
      try {
        await this.compacting;
      } finally {
        this.compacting = undefined;
        this.releaseStalledWriters();
      }
      if (!deeper) break;
    }
    await this.cleaning;
  }

  // ---- Checkpoints ----

  /**
   * Writes a consistent copy of the database into `targetDir` (which must not exist): the
   * memtable is flushed, then every live SSTable is hard-linked (copied where the file system
   * refuses links) and a manifest of exactly that Version is written. No table data is copied on
   * one file system, so a checkpoint of gigabytes takes milliseconds. `Db.open(targetDir)` opens
   * it as a normal database; in external-log mode its `lastFlushedDecree` says where its owner's
   * log must be replayed from.
   */
  async checkpoint(targetDir: string): Promise<{ files: number; linkedBytes: number; copiedBytes: number; lastFlushedDecree: number }> {
    this.checkOpen();
    if (await this.vfs.exists(targetDir)) throw new PetrelError('ALREADY_EXISTS', `checkpoint target ${targetDir} already exists`, { path: targetDir });
    await this.flush();
    // The Version and the counters that describe it, taken at one instant.
    const version = this.versions.current;
    version.ref();
    const counters = { flushedSequence: this.versions.flushedSequence, lastFlushedDecree: this.versions.lastFlushedDecree };
    // lastFlushedDecree: what the checkpoint holds (external-log mode) — not the database's value
    // after this resolves, which later flushes may have moved on.
    const result = { files: 0, linkedBytes: 0, copiedBytes: 0, lastFlushedDecree: counters.lastFlushedDecree };
    const temp = `${targetDir}.tmp-${process.pid}`;
    try {
      await this.vfs.removeTree(temp);
      await this.vfs.mkdir(temp, { recursive: true });
      for (const { file } of version.files()) {
        const source = this.tablePath(file.number);
        const target = joinPath(temp, `${String(file.number).padStart(6, '0')}.sst`);
        try {
          await this.vfs.link(source, target);
          result.linkedBytes += file.size;
        } catch {
          await this.vfs.writeFile(target, await this.vfs.readFile(source), { sync: true });
          result.copiedBytes += file.size;
        }
        result.files++;
      }
      await this.versions.writeManifestFor(this.vfs, temp, version, counters);
      await this.vfs.rename(temp, targetDir);
      await this.vfs.syncDir(dirName(targetDir));
    } catch (error) {
      await this.vfs.removeTree(temp).catch(() => undefined);
      throw error;
    } finally {
      version.unref();
    }
    return result;
  }

  // ---- Ingestion ----

  /**
   * Adds SSTables made by SstFileWriter (bulk load). Each file, in order, is verified (every block's
   * checksum, keys in order and unique, sequence 0), hard-linked into the database (copied where
   * linking fails; the source is left alone), given the next sequence number — so it is newer than
   * every write made before the call and older than every write after — and placed at the deepest
   * level where nothing it overlaps lies above it. Memtables that overlap a file are flushed first.
   * Each file is ingested atomically; a list is not (a failure leaves the files before it in).
   */
  async ingest(paths: readonly string[]): Promise<IngestResult[]> {
    this.checkOpen();
    const results: IngestResult[] = [];
    for (const path of paths) results.push(await this.ingestOne(path));
    return results;
  }

  private async ingestOne(path: string): Promise<IngestResult> {
    const { smallestKey, largestKey, entries } = await this.verifyIngestFile(path);
    // Take the compaction slot: no compaction may move files across levels while the level of
    // the new file is chosen and installed.
    while (this.compacting !== undefined) await this.compacting;
    this.checkOpen();
    let release!: () => void;
    this.compacting = new Promise<void>((resolve) => (release = resolve));
    const number = this.versions.newFileNumber();
    this.pendingOutputs.add(number);
    const target = this.tablePath(number);
    let installed = false;
    try {
      let copied = false;
      try {
        await this.vfs.link(path, target);
      } catch {
        await this.vfs.writeFile(target, await this.vfs.readFile(path), { sync: true });
        copied = true;
      }
      await this.vfs.syncDir(this.dir);
      // No memtable may hold an older version of a key in the file: reads look in memtables
      // first. Flush the ones that overlap, and wait out writes still on their way to one.
      for (let attempt = 0; ; attempt++) {
        if (attempt >= 1000) throw new PetrelError('APP_BUSY', `ingest of ${path}: writes kept overlapping the file's keys`);
        await this.lastWrite;
        this.checkOpen();
        if (this.memtablesOverlap(smallestKey, largestKey)) {
          await this.flush();
          continue;
        }
        if (this.visibleSequence !== this.lastSequence) continue;
        break;
      }
      const sequence = ++this.lastSequence;
      this.visibleSequence = sequence;
      const version = this.versions.current;
      let level = LEVELS - 1;
      for (let candidate = 0; candidate < LEVELS; candidate++) {
        if (overlapping(version.levels[candidate] as FileMetadata[], smallestKey, largestKey).length > 0) {
          level = Math.max(0, candidate - 1);
          break;
        }
      }
      const reader = await TableReader.open(this.vfs, target, this.cache, this.tableFiles, sequence);
      this.tables.set(number, reader);
      const file: FileMetadata = {
        number,
        size: reader.fileSize,
        smallest: reader.properties.smallestKey,
        largest: reader.properties.largestKey,
        smallestSequence: sequence,
        largestSequence: sequence,
        entries,
        globalSequence: sequence,
      };
      await this.versions.logAndApply(new VersionEdit().addFile(level, file));
      installed = true;
      this.counters.ingestedFiles++;
      this.counters.bytesIngested += reader.fileSize;
      return { path, level, sequence, entries, fileSize: reader.fileSize, copied };
    } finally {
      this.pendingOutputs.delete(number);
      if (!installed) {
        const reader = this.tables.get(number);
        this.tables.delete(number);
        await reader?.close().catch(() => undefined);
        await this.vfs.unlink(target).catch(() => undefined);
      }
      this.compacting = undefined;
      release();
      this.releaseStalledWriters();
      if (!this.closed) this.maybeScheduleCompaction();
    }
  }

  /** Reads the whole file once: checksums, order, uniqueness, and the sequence 0 of SstFileWriter. */
  private async verifyIngestFile(path: string): Promise<{ smallestKey: Buffer; largestKey: Buffer; entries: number }> {
    const reader = await TableReader.open(this.vfs, path, new BlockCache(0)).catch((error: unknown) => {
      if (isPetrelError(error) && error.code === 'CORRUPTION') throw new PetrelError('INVALID_ARGUMENT', `ingest: ${error.message}`, { path, cause: error });
      throw error;
    });
    try {
      const { properties } = reader;
      if (properties.largestSequence !== 0) {
        throw new PetrelError('INVALID_ARGUMENT', `ingest: ${path} was not made by SstFileWriter (it holds sequences up to ${properties.largestSequence})`, { path });
      }
      const iterator = reader.iterator();
      let previous: Buffer | undefined;
      let entries = 0;
      let sliceStart = performance.now();
      try {
        for (iterator.seekToFirst(); iterator.valid(); iterator.next()) {
          const userKey = userKeyOf(iterator.key());
          if (previous !== undefined && compareUserKeys(previous, userKey) >= 0) {
            throw new PetrelError('INVALID_ARGUMENT', `ingest: ${path} holds a key twice or out of order`, { path });
          }
          previous = Buffer.from(userKey);
          entries++;
          if ((entries & 255) === 0 && performance.now() - sliceStart >= this.flushSliceMs) {
            await new Promise((resolve) => setImmediate(resolve));
            sliceStart = performance.now();
          }
        }
      } catch (error) {
        if (isPetrelError(error) && error.code === 'CORRUPTION') throw new PetrelError('INVALID_ARGUMENT', `ingest: ${error.message}`, { path, cause: error });
        throw error;
      }
      if (entries !== properties.entries) throw new PetrelError('INVALID_ARGUMENT', `ingest: ${path} holds ${entries} entries, its properties say ${properties.entries}`, { path });
      return { smallestKey: userKeyOf(properties.smallestKey), largestKey: userKeyOf(properties.largestKey), entries };
    } finally {
      await reader.close();
    }
  }

  private memtablesOverlap(smallest: Buffer, largest: Buffer): boolean {
    for (const memtable of [this.memtable, ...this.immutables]) {
      if (memtable.isEmpty) continue;
      const iterator = memtable.iterator();
      iterator.seek(lookupKey(smallest, MAX_SEQUENCE));
      const overlaps = iterator.valid() && compareUserKeys(userKeyOf(iterator.key()), largest) <= 0;
      iterator.close();
      if (overlaps) return true;
    }
    return false;
  }

  // ---- Reads ----

  private readSequence(options: ReadOptions | undefined): number {
    return options?.snapshot?.sequence ?? MAX_SEQUENCE;
  }

  /** The value of `key`, or undefined. Synchronous. */
  get(key: Uint8Array, options?: ReadOptions): Buffer | undefined {
    this.checkOpen();
    const sequence = this.readSequence(options);
    let result: MemtableLookup;
    if (!this.memtable.isEmpty) {
      result = this.memtable.get(key, sequence);
      if (result.found) return result.deleted ? undefined : result.value;
    }
    for (let i = this.immutables.length - 1; i >= 0; i--) {
      result = (this.immutables[i] as Memtable).get(key, sequence);
      if (result.found) return result.deleted ? undefined : result.value;
    }
    const lookup = this.lookupKey.set(key, sequence);
    const version = this.versions.current;
    // One filter hash serves every table the key may be in.
    let hash: number | undefined;
    const l0 = version.levels[0] as FileMetadata[];
    for (const file of l0) {
      if (!this.fileMayHold(file, key)) continue;
      hash ??= hashForFilter(key);
      result = this.table(file.number).lookup(key, lookup, hash);
      if (result.found) return result.deleted ? undefined : result.value;
    }
    for (let level = 1; level < version.levels.length; level++) {
      const files = version.levels[level] as FileMetadata[];
      const file = findFile(files, key);
      if (file === undefined) continue;
      hash ??= hashForFilter(key);
      result = this.table(file.number).lookup(key, lookup, hash);
      if (result.found) return result.deleted ? undefined : result.value;
    }
    return undefined;
  }

  private fileMayHold(file: FileMetadata, key: Uint8Array): boolean {
    // Offsets, not subarrays: this runs for every L0 file on every get.
    const { smallest, largest } = file;
    return (
      compareBytes(key, 0, key.length, smallest, 0, smallest.length - TRAILER_BYTES) >= 0 &&
      compareBytes(key, 0, key.length, largest, 0, largest.length - TRAILER_BYTES) <= 0
    );
  }

  private table(number: number): TableReader {
    const table = this.tables.get(number);
    if (table === undefined) assert(false, `table ${number} is not open`);
    return table;
  }

  /** An iterator over the live keys through a consistent view (the snapshot's, or now). */
  iterator(options: IteratorOptions & ReadOptions = {}): DbIterator {
    this.checkOpen();
    const sequence = options.snapshot?.sequence ?? this.visibleSequence;
    const version = this.versions.current;
    version.ref();
    const children: InternalIterator[] = [this.memtable.iterator()];
    for (let i = this.immutables.length - 1; i >= 0; i--) children.push((this.immutables[i] as Memtable).iterator());
    for (const { file } of version.files()) children.push(this.table(file.number).iterator());
    const merging = new MergingIterator(children);
    const iteratorOptions: IteratorOptions = {};
    if (options.lower !== undefined) iteratorOptions.lower = options.lower;
    if (options.upper !== undefined) iteratorOptions.upper = options.upper;
    return new DbIterator(merging, sequence, iteratorOptions, () => version.unref());
  }

  /** Pins the current state for reads until `release()`. */
  snapshot(): Snapshot {
    const snapshots = this.snapshots;
    const snapshot: Snapshot = {
      sequence: this.visibleSequence,
      release() {
        snapshots.delete(snapshot);
      },
    };
    snapshots.add(snapshot);
    return snapshot;
  }

  // ---- Introspection ----

  get lastFlushedDecree(): number {
    return this.versions.lastFlushedDecree;
  }

  get appliedDecree(): number {
    return this.lastAppliedDecree;
  }

  get sequence(): number {
    return this.lastSequence;
  }

  stats(): DbStats {
    const version = this.versions.current;
    return {
      mode: this.mode,
      lastSequence: this.lastSequence,
      flushedSequence: this.versions.flushedSequence,
      lastAppliedDecree: this.lastAppliedDecree,
      lastFlushedDecree: this.versions.lastFlushedDecree,
      memtableBytes: this.memtable.approximateBytes,
      immutableMemtables: this.immutables.length,
      levels: version.levels.map((files) => ({ files: files.length, bytes: files.reduce((sum, f) => sum + f.size, 0) })),
      flushes: this.counters.flushes,
      bytesFlushed: this.counters.bytesFlushed,
      bytesWrittenByUser: this.counters.bytesWrittenByUser,
      blockCacheHits: this.cache.hits,
      blockCacheMisses: this.cache.misses,
      openTableFiles: this.tableFiles.openFiles,
      writeStalls: this.counters.writeStalls,
      writeStallMs: this.counters.writeStallMs,
      writeSlowdowns: this.counters.writeSlowdowns,
      stallState: this.stallState(),
      compactions: this.counters.compactions,
      trivialMoves: this.counters.trivialMoves,
      ingestedFiles: this.counters.ingestedFiles,
      bytesIngested: this.counters.bytesIngested,
      bytesCompactedRead: this.counters.bytesCompactedRead,
      bytesCompactedWritten: this.counters.bytesCompactedWritten,
      writeAmplification:
        this.counters.bytesWrittenByUser === 0 ? 0 : (this.counters.bytesFlushed + this.counters.bytesCompactedWritten) / this.counters.bytesWrittenByUser,
      compactionRunning: this.compacting !== undefined,
      liveSnapshots: this.snapshots.size,
    };
  }

  /** The LSM's shape: levels and files with key ranges and sequences, then the memtables. */
  debugString(): string {
    const lines = [this.versions.current.debugString()].filter((line) => line !== '');
    lines.push(`memtable: ${this.memtable.count} entries`);
    if (this.immutables.length > 0) lines.push(`immutable memtables: ${this.immutables.map((m) => m.count).join(', ')} entries`);
    return lines.join('\n');
  }

  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    try {
      if (this.backgroundError === undefined) {
        // Standalone: let acknowledged-but-not-inserted writes land, then stop.
        if (this.openGroup !== undefined) this.submitGroup(this.openGroup);
        await this.wal?.close();
        // A flush in progress finishes; then nothing new starts.
        while (this.flushing !== undefined) await this.flushing;
        this.closing = true;
        while (this.compacting !== undefined) await this.compacting;
        // Obsolete files go before the database closes (at the next open they would look lost).
        while (this.cleaning !== undefined) await this.cleaning;
      }
    } finally {
      this.closing = true;
      this.closed = true;
      this.releaseStalledWriters();
      if (this.flushing !== undefined) await this.flushing.catch(() => undefined);
      if (this.compacting !== undefined) await this.compacting.catch(() => undefined);
      if (this.cleaning !== undefined) await this.cleaning.catch(() => undefined);
      await this.wal?.close().catch(() => undefined);
      await this.versions.close().catch(() => undefined);
      for (const table of this.tables.values()) await table.close().catch(() => undefined);
      this.tables.clear();
    }
  }
}

/** The file of a sorted, disjoint level whose range may hold `key`. */
function findFile(files: readonly FileMetadata[], key: Uint8Array): FileMetadata | undefined {
  let low = 0;
  let high = files.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const largest = (files[middle] as FileMetadata).largest;
    if (compareBytes(largest, 0, largest.length - TRAILER_BYTES, key, 0, key.length) < 0) low = middle + 1;
    else high = middle;
  }
  const file = files[low];
  if (file === undefined) return undefined;
  const smallest = file.smallest;
  return compareBytes(key, 0, key.length, smallest, 0, smallest.length - TRAILER_BYTES) >= 0 ? file : undefined;
}

export { KIND_DELETE, KIND_PUT, type Kind };
