/**
 * Wal: a segmented, checksummed, append-only log with group commit.
 *
 * Records carry a caller-chosen index (a replica's decree, the engine's sequence number) that
 * strictly increases; gaps are allowed. Appends made while a write and its fsync are in flight
 * wait and go out together in the next write + fsync, so many appends share one fsync. All
 * structural work — writing a group, rotating segments, truncation, close — runs one operation at
 * a time from a FIFO queue, so it happens in exactly the order it was asked for.
 *
 * Bounded: the bytes queued but not yet written are limited (`maxPendingBytes`); an append that
 * would pass the limit waits, in order, until earlier groups are written. A group written in one
 * go is limited too (`maxGroupBytes`), which bounds how long a synchronous write blocks the loop.
 *
 * Failure: when a write, fsync or rotation fails, the log stops (every pending and later call fails
 * with that error): after a failed fsync, what is durable is unknown, so the owner must close the
 * log and open it again, which recovers from what the disk really holds.
 */
import {
  type Vfs,
  type VfsFile,
  PetrelError,
  assert,
  initChecksum,
  joinPath,
  readExactSync,
} from '@petrel/base';
import {
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  checkSegmentHeader,
  encodeSegmentHeader,
  parseSegmentName,
  sealRecord,
  segmentName,
} from './format.js';
import { SegmentReader } from './segment_reader.js';

export type Durability = 'fsync' | 'os';

export interface WalOptions {
  vfs: Vfs;
  /** The log's directory; created when missing. */
  dir: string;
  /** `fsync` (default): an append resolves once durable. `os`: once written (lost on power loss). */
  durability?: Durability;
  /** A segment is closed and a new one started once it reaches this size (default 32 MiB). */
  segmentSizeBytes?: number;
  /** The largest record payload (default 64 MiB). */
  maxRecordSizeBytes?: number;
  /** Bytes queued but not yet written before appends wait (default 64 MiB). */
  maxPendingBytes?: number;
  /** The most bytes written in one go (default 4 MiB; a larger record goes alone). */
  maxGroupBytes?: number;
  /**
   * Preallocate segments with zeros ahead of the writes, so that an fdatasync after an append does
   * not also have to update the file size (default: on in `fsync` mode, off in `os` mode). The
   * zeros are written and synced in the background, a chunk at a time, never by an append's own
   * write and fsync; appends that outrun them grow the file as they would without preallocation.
   */
  preallocate?: boolean;
  /**
   * Called after each group's `fdatasync` with how long it took, in seconds (not for the
   * background syncs of preallocated zeros) — for a server's latency metrics.
   */
  onSync?: (seconds: number) => void;
  /**
   * `os` mode: once this many bytes have been written to a segment since the last background sync
   * began, sync it in the background (appends never wait for it), so that the sync that closes a
   * full segment has little left to write. 0 turns it off. Default 2 MiB.
   */
  writebackBytes?: number;
}

export interface WalRecord {
  index: number;
  data: Uint8Array;
}

export interface WalStats {
  appendCalls: number;
  records: number;
  bytesWritten: number;
  writes: number;
  syncs: number;
  segments: number;
  rotations: number;
  /** Bytes cut from the tail of the last segment when the log was opened. */
  recoveredTornBytes: number;
  pendingBytes: number;
  /** Zeros written (and synced) ahead of the appends by background preallocation. */
  preallocatedBytes: number;
  /** Group writes that had to wait for a background zero write covering their range. */
  preallocationWaits: number;
  /** `os` mode: background syncs of the active segment (`writebackBytes`). */
  writebackSyncs: number;
}

interface Segment {
  firstIndex: number;
  /** The last record's index; firstIndex - 1 when the segment holds no record yet. */
  lastIndex: number;
  path: string;
  /** Bytes of header and records. */
  writtenBytes: number;
}

interface Group {
  kind: 'group';
  buffer: Buffer;
  length: number;
  /** Start offsets of the records in `buffer`, and their indexes. */
  starts: number[];
  indexes: number[];
  /** One promise for every append in the group: they become durable together. */
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const GROUP_BUFFER_BYTES = 64 * 1024;
/**
 * Group buffers up to this size are kept for the next groups (two at most), so that a log written
 * in batches of ~130 KiB (1,000 100-byte writes) does not allocate one per group: before, only
 * 64 KiB buffers were kept, and 1M such writes in batches ran 5–10% slower (bench/README.md).
 */
const SPARE_BUFFER_MAX_BYTES = 256 * 1024;

/** A buffer for a group of `bytes`: a spare one large enough, or a new one of a power-of-two size. */
function groupBuffer(spares: Buffer[], bytes: number): Buffer {
  for (let i = 0; i < spares.length; i++) {
    const spare = spares[i] as Buffer;
    if (spare.length >= bytes) {
      spares.splice(i, 1);
      return spare;
    }
  }
  let size = GROUP_BUFFER_BYTES;
  while (size < bytes && size < SPARE_BUFFER_MAX_BYTES) size *= 2;
  return Buffer.allocUnsafe(Math.max(size, bytes));
}

function newGroup(buffer: Buffer): Group {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { kind: 'group', buffer, length: 0, starts: [], indexes: [], promise, resolve, reject };
}

interface Command {
  kind: 'truncatePrefix' | 'truncateSuffix' | 'close';
  index: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

type Operation = Group | Command;

const MiB = 1 << 20;
/** Background preallocation writes this many zeros at a time, then syncs them. */
const PREALLOCATE_CHUNK_BYTES = MiB;
/** The next chunk starts when fewer than this many preallocated bytes are left ahead of the writes. */
const PREALLOCATE_LOW_BYTES = MiB / 2;
/** Never written: the source of every zero chunk. */
const ZEROS = Buffer.alloc(PREALLOCATE_CHUNK_BYTES);

export class Wal {
  private readonly vfs: Vfs;
  private readonly dir: string;
  private readonly durability: Durability;
  private readonly segmentSizeBytes: number;
  private readonly maxRecordSizeBytes: number;
  private readonly maxPendingBytes: number;
  private readonly maxGroupBytes: number;
  private readonly preallocate: boolean;
  private readonly onSync: ((seconds: number) => void) | undefined;
  private readonly writebackBytes: number;

  private segments: Segment[] = [];
  private active: VfsFile | undefined;
  /** Size of the active file: written records plus preallocated zeros. */
  private allocatedBytes = 0;
  /** A background zero write in flight on the active file, over [from, allocatedBytes + its length). */
  private zeroWrite: { from: number; done: Promise<void> } | undefined;
  /** Set when a zero write failed (a full disk): no more preallocation in this segment. */
  private allocationStopped = false;
  /** The background sync of the active file while it runs (syncInBackground). */
  private backgroundSync: Promise<void> | undefined;
  /** `os` mode: the segment's size when the last background sync of its records began. */
  private writebackFrom = 0;

  private readonly operations: Operation[] = [];
  /** Calls waiting for room under maxPendingBytes, in call order. */
  private readonly blocked: (() => void)[] = [];
  private pendingBytes = 0;
  /** Group buffers of the standard size, written and free for reuse (at most two are kept). */
  private readonly spareBuffers: Buffer[] = [];
  private running = false;
  private failure: unknown;
  private closed = false;

  private lastAssignedIndex: number;
  private durable: number;
  private readonly counters: WalStats;

  private constructor(options: WalOptions) {
    this.vfs = options.vfs;
    this.dir = options.dir;
    this.durability = options.durability ?? 'fsync';
    this.segmentSizeBytes = options.segmentSizeBytes ?? 32 * MiB;
    this.maxRecordSizeBytes = options.maxRecordSizeBytes ?? 64 * MiB;
    this.maxPendingBytes = options.maxPendingBytes ?? 64 * MiB;
    this.maxGroupBytes = options.maxGroupBytes ?? 4 * MiB;
    this.preallocate = options.preallocate ?? this.durability === 'fsync';
    this.onSync = options.onSync;
    this.writebackBytes = options.writebackBytes ?? 2 * MiB;
    assert(Number.isSafeInteger(this.writebackBytes) && this.writebackBytes >= 0, 'writebackBytes must be a whole number ≥ 0');
    assert(this.segmentSizeBytes > SEGMENT_HEADER_BYTES, 'segment size too small');
    assert(this.maxPendingBytes >= this.maxGroupBytes, 'maxPendingBytes must be at least maxGroupBytes');
    if (!(this.maxRecordSizeBytes > 0 && this.maxRecordSizeBytes <= 0xffffffff - RECORD_HEADER_BYTES)) {
      throw new PetrelError('INVALID_ARGUMENT', `maxRecordSizeBytes ${this.maxRecordSizeBytes} out of range`);
    }
    this.lastAssignedIndex = 0;
    this.durable = 0;
    this.counters = {
      appendCalls: 0,
      records: 0,
      bytesWritten: 0,
      writes: 0,
      syncs: 0,
      segments: 0,
      rotations: 0,
      recoveredTornBytes: 0,
      pendingBytes: 0,
      preallocatedBytes: 0,
      preallocationWaits: 0,
      writebackSyncs: 0,
    };
  }

  /** Opens (creating when absent) and recovers the log in `options.dir`. */
  static async open(options: WalOptions): Promise<Wal> {
    await initChecksum();
    const wal = new Wal(options);
    await wal.recover();
    return wal;
  }

  /** Index of the first record held, or 0 when the log is empty. */
  get firstIndex(): number {
    for (const segment of this.segments) if (segment.lastIndex >= segment.firstIndex) return segment.firstIndex;
    return 0;
  }

  /** Index of the last record appended (durable or not), or 0. */
  get lastIndex(): number {
    return this.lastAssignedIndex;
  }

  /** Index of the last record known durable (written, in `os` mode), or 0. */
  get durableIndex(): number {
    return this.durable;
  }

  stats(): WalStats {
    return { ...this.counters, segments: this.segments.length, pendingBytes: this.pendingBytes };
  }

  // ---- Recovery ----

  private async recover(): Promise<void> {
    await this.vfs.mkdir(this.dir, { recursive: true });
    const names = (await this.vfs.readdir(this.dir)).filter((name) => parseSegmentName(name) !== undefined);
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const path = joinPath(this.dir, name);
      const isLast = i === names.length - 1;
      const segment = await this.scanSegment(path, parseSegmentName(name) as number, isLast);
      if (segment === undefined) continue;
      const previous = this.segments.at(-1);
      if (previous !== undefined && segment.firstIndex <= previous.lastIndex) {
        throw new PetrelError('CORRUPTION', `${path}: first index ${segment.firstIndex} does not follow ${previous.lastIndex} in ${previous.path}`, { path });
      }
      this.segments.push(segment);
    }
    let last = this.segments.at(-1);
    if (last !== undefined && last.lastIndex < last.firstIndex) {
      // A last segment with no record lost all of its records in a crash (segments are created
      // for a record): remove it, so that lastIndex names a record that exists.
      await this.vfs.unlink(last.path);
      await this.vfs.syncDir(this.dir);
      this.segments.pop();
      last = this.segments.at(-1);
    }
    this.lastAssignedIndex = this.lastRecordIndex();
    this.durable = this.lastAssignedIndex;
    if (last !== undefined) {
      this.active = await this.vfs.open(last.path);
      this.allocatedBytes = this.active.size();
    }
  }

  /** Reads one segment through; cuts a torn tail of the last one, and fails on anything else. */
  private async scanSegment(path: string, nameIndex: number, isLast: boolean): Promise<Segment | undefined> {
    const file = await this.vfs.open(path, { readOnly: true });
    try {
      const size = file.size();
      const headerBytes = Buffer.alloc(Math.min(size, SEGMENT_HEADER_BYTES));
      readExactSync(file, headerBytes, 0, headerBytes.length, 0);
      const header = checkSegmentHeader(headerBytes, path);
      if (header.kind === 'torn') {
        if (!isLast) throw new PetrelError('CORRUPTION', `${path}: segment header is damaged`, { path, offset: 0 });
        // The segment was being created when the process stopped: nothing in it was acknowledged.
        await file.close();
        await this.vfs.unlink(path);
        await this.vfs.syncDir(this.dir);
        this.counters.recoveredTornBytes += size;
        return undefined;
      }
      if (header.firstIndex !== nameIndex) {
        throw new PetrelError('CORRUPTION', `${path}: header says first index ${header.firstIndex}, name says ${nameIndex}`, { path, offset: 16 });
      }
      const segment: Segment = { firstIndex: nameIndex, lastIndex: nameIndex - 1, path, writtenBytes: SEGMENT_HEADER_BYTES };
      const reader = new SegmentReader(file, SEGMENT_HEADER_BYTES, size, this.maxRecordSizeBytes);
      for (;;) {
        const step = reader.next();
        if (step.kind === 'record') {
          const { index } = step.record;
          const expectFirst = segment.lastIndex < segment.firstIndex;
          if ((expectFirst && index !== segment.firstIndex) || (!expectFirst && index <= segment.lastIndex)) {
            throw new PetrelError('CORRUPTION', `${path}: record index ${index} out of order after ${segment.lastIndex} at offset ${step.record.offset}`, { path, offset: step.record.offset });
          }
          segment.lastIndex = index;
          segment.writtenBytes = step.record.end;
          continue;
        }
        const end = step.offset;
        if (step.kind === 'bad' && !isLast) {
          throw new PetrelError('CORRUPTION', `${path}: ${step.reason} at offset ${end}`, { path, offset: end });
        }
        if (!isLast) {
          if (end !== size) throw new PetrelError('CORRUPTION', `${path}: ${size - end} bytes of zeros after the last record of a closed segment`, { path, offset: end });
          break;
        }
        // The tail of the last segment past the last good record was never acknowledged as
        // durable (a write that a crash cut short): cut it off, so appends go on from a clean end.
        if (end < size && !(await this.isZeroTail(file, end, size))) {
          this.counters.recoveredTornBytes += size - end;
          await file.close();
          const writable = await this.vfs.open(path);
          await writable.truncate(end);
          await writable.sync();
          await writable.close();
        }
        break;
      }
      return segment;
    } finally {
      await file.close();
    }
  }

  private async isZeroTail(file: VfsFile, start: number, end: number): Promise<boolean> {
    const chunk = Buffer.alloc(Math.min(MiB, end - start));
    for (let at = start; at < end; at += chunk.length) {
      const length = Math.min(chunk.length, end - at);
      readExactSync(file, chunk, 0, length, at);
      for (let i = 0; i < length; i++) if (chunk[i] !== 0) return false;
    }
    return true;
  }

  // ---- Appending ----

  /**
   * Appends records, in order. Resolves when they are durable (`fsync`) or written (`os`).
   * Throws INVALID_ARGUMENT for an index that does not increase or a record over the size limit;
   * nothing of the call is appended then.
   */
  append(records: WalRecord | readonly WalRecord[]): Promise<void> {
    const list: readonly WalRecord[] = Array.isArray(records) ? records : [records as WalRecord];
    try {
      this.checkUsable();
      let previous = this.lastAssignedIndex;
      for (const record of list) {
        if (!Number.isSafeInteger(record.index) || record.index <= previous) {
          throw new PetrelError('INVALID_ARGUMENT', `log index ${record.index} must be a safe integer above ${previous}`);
        }
        if (record.data.length > this.maxRecordSizeBytes) {
          throw new PetrelError('INVALID_ARGUMENT', `log record of ${record.data.length} bytes is over the limit of ${this.maxRecordSizeBytes}`);
        }
        previous = record.index;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (list.length === 0) return Promise.resolve();
    this.counters.appendCalls++;
    this.lastAssignedIndex = (list[list.length - 1] as WalRecord).index;
    let bytes = 0;
    for (const record of list) bytes += RECORD_HEADER_BYTES + record.data.length;
    if (this.blocked.length === 0 && (this.pendingBytes === 0 || this.pendingBytes + bytes <= this.maxPendingBytes)) {
      return this.enqueueRecords(list, bytes);
    }
    return new Promise<void>((resolve, reject) => {
      this.blocked.push(() => this.enqueueRecords(list, bytes).then(resolve, reject));
    });
  }

  /** Adds records to the last group that has not started (or a new one); returns the group's promise. */
  private enqueueRecords(list: readonly WalRecord[], bytes: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    let group = this.operations.at(-1);
    // The first operation may already be running; only a group behind it can take more records.
    const canJoin = group?.kind === 'group' && (this.operations.length > 1 || !this.running) && group.length + bytes <= this.maxGroupBytes;
    if (!canJoin || group?.kind !== 'group') {
      group = newGroup(groupBuffer(this.spareBuffers, bytes));
      this.operations.push(group);
    }
    if (group.buffer.length < group.length + bytes) {
      const grown = Buffer.allocUnsafe(Math.max(group.length + bytes, group.buffer.length * 2));
      group.buffer.copy(grown, 0, 0, group.length);
      group.buffer = grown;
    }
    for (const record of list) {
      const start = group.length;
      group.buffer.set(record.data, start + RECORD_HEADER_BYTES);
      sealRecord(group.buffer, start, record.index, record.data.length);
      group.starts.push(start);
      group.indexes.push(record.index);
      group.length = start + RECORD_HEADER_BYTES + record.data.length;
    }
    this.pendingBytes += bytes;
    this.kick();
    return group.promise;
  }

  // ---- Structural commands ----

  /** Deletes whole segments all of whose records are below `index`. The last segment stays. */
  truncatePrefix(index: number): Promise<void> {
    return this.command('truncatePrefix', index);
  }

  /** Drops every record above `index`, durably, once the appends made before this call are written. */
  truncateSuffix(index: number): Promise<void> {
    if (!Number.isSafeInteger(index) || index < 0) return Promise.reject(new PetrelError('INVALID_ARGUMENT', `bad index ${index}`));
    const promise = this.command('truncateSuffix', index);
    if (this.failure === undefined && !this.closed) this.lastAssignedIndex = Math.min(this.lastAssignedIndex, index);
    return promise;
  }

  /** Writes what is queued, then closes. Later calls fail with CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    const promise = this.command('close', 0, true);
    this.closed = true;
    await promise.catch(() => undefined);
    await this.settleAllocation();
    await this.active?.close().catch(() => undefined);
    this.active = undefined;
  }

  private command(kind: Command['kind'], index: number, evenIfFailed = false): Promise<void> {
    try {
      if (this.closed) throw new PetrelError('CLOSED', `log ${this.dir} is closed`);
      if (!evenIfFailed && this.failure !== undefined) throw this.failure;
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      const enqueue = () => {
        this.operations.push({ kind, index, resolve, reject });
        this.kick();
      };
      if (this.blocked.length === 0) enqueue();
      else this.blocked.push(enqueue);
    });
  }

  /** Stops the log: every later call fails with this error (the first failure stays). */
  private stopWith(error: unknown): void {
    this.failure ??= error instanceof PetrelError ? error : new PetrelError('IO_ERROR', `log ${this.dir}: ${String(error)}`, { cause: error });
  }

  private checkUsable(): void {
    if (this.closed) throw new PetrelError('CLOSED', `log ${this.dir} is closed`);
    if (this.failure !== undefined) throw this.failure;
  }

  // ---- The operation loop ----

  private kick(): void {
    if (this.running) return;
    this.running = true;
    // Start at the end of this turn, so that every append made in this turn joins the group.
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    while (this.operations.length > 0) {
      const operation = this.operations[0] as Operation;
      try {
        if (this.failure !== undefined && !(operation.kind === 'close')) throw this.failure;
        if (operation.kind === 'group') await this.writeGroup(operation);
        else if (operation.kind === 'truncatePrefix') await this.doTruncatePrefix(operation.index);
        else if (operation.kind === 'truncateSuffix') await this.doTruncateSuffix(operation.index);
        this.operations.shift();
        if (operation.kind === 'group') {
          this.pendingBytes -= operation.length;
          if (operation.buffer.length <= SPARE_BUFFER_MAX_BYTES && this.spareBuffers.length < 2) this.spareBuffers.push(operation.buffer);
        }
        operation.resolve();
      } catch (error) {
        this.operations.shift();
        if (operation.kind === 'group') this.pendingBytes -= operation.length;
        if (operation.kind !== 'truncatePrefix') this.stopWith(error);
        operation.reject(error);
      }
      this.releaseBlocked();
      // Yield between operations: in `os` mode nothing here waits on real IO, and new appends
      // arrive in microtasks, so without this the loop would never let timers and sockets run.
      if (this.operations.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
    this.running = false;
    this.releaseBlocked();
  }

  /** Lets waiting calls in, in order, while there is room. */
  private releaseBlocked(): void {
    while (this.blocked.length > 0 && (this.pendingBytes === 0 || this.pendingBytes < this.maxPendingBytes / 2 || this.failure !== undefined)) {
      const next = this.blocked.shift() as () => void;
      next();
      if (this.pendingBytes >= this.maxPendingBytes) break;
    }
  }

  private async writeGroup(group: Group): Promise<void> {
    let needDirSync = false;
    let from = 0;
    while (from < group.starts.length) {
      let segment = this.segments.at(-1);
      const firstIndex = group.indexes[from] as number;
      const firstBytes = (group.starts[from + 1] ?? group.length) - (group.starts[from] as number);
      const segmentFull = segment !== undefined && segment.lastIndex >= segment.firstIndex && segment.writtenBytes + firstBytes > this.segmentSizeBytes;
      if (segment === undefined || this.active === undefined || segmentFull) {
        segment = await this.startSegment(firstIndex);
        needDirSync = true;
      }
      // Take records while the segment has room (at least one record, so a large one goes alone).
      let to = from + 1;
      while (to < group.starts.length) {
        const end = group.starts[to + 1] ?? group.length;
        if (segment.writtenBytes + (end - (group.starts[from] as number)) > this.segmentSizeBytes) break;
        to++;
      }
      const start = group.starts[from] as number;
      const end = group.starts[to] ?? group.length;
      const bytes = group.buffer.subarray(start, end);
      const writeEnd = segment.writtenBytes + bytes.length;
      if (this.zeroWrite !== undefined && writeEnd > this.zeroWrite.from) {
        // Zeros are being written where these records go: they must land first.
        this.counters.preallocationWaits++;
        await this.zeroWrite.done;
      }
      // Past the preallocated zeros, the write itself grows the file; set before the write, so that
      // a zero write started while it is on its way begins past these records.
      if (writeEnd > this.allocatedBytes) this.allocatedBytes = writeEnd;
      if (this.durability === 'fsync') {
        // Write and sync in one request to the I/O threads (O_DSYNC): the event loop never waits on
        // the write itself, which under load sometimes took 5–15 ms (bench/README.md).
        const started = this.onSync === undefined ? 0 : performance.now();
        await (this.active as VfsFile).writeDurable(bytes, segment.writtenBytes);
        this.counters.syncs++;
        if (this.onSync !== undefined) this.onSync((performance.now() - started) / 1000);
      } else {
        (this.active as VfsFile).writeSync(bytes, segment.writtenBytes);
      }
      segment.writtenBytes = writeEnd;
      segment.lastIndex = group.indexes[to - 1] as number;
      this.counters.writes++;
      this.counters.bytesWritten += bytes.length;
      this.counters.records += to - from;
      from = to;
    }
    if (this.durability === 'fsync') {
      // A background fsync of the same file failed meanwhile: what this one covered is unknown.
      if (this.failure !== undefined) throw this.failure;
      if (needDirSync) await this.vfs.syncDir(this.dir);
    }
    this.durable = Math.max(this.durable, group.indexes[group.indexes.length - 1] as number);
    this.allocateAhead();
    this.writeBehind();
  }

  /**
   * `os` mode: starts a sync of the active segment in the background once `writebackBytes` have
   * been written since the last one began. Closing a full segment syncs it while appends wait
   * (startSegment); without these, that sync had a whole segment to write — 32 MiB, 28–68 ms of
   * stopped writes in bench:engine's fills (bench/README.md). A failed sync stops the log, as the
   * segment's closing sync would have.
   */
  private writeBehind(): void {
    const segment = this.segments.at(-1);
    const file = this.active;
    if (this.durability !== 'os' || this.writebackBytes === 0 || this.backgroundSync !== undefined) return;
    if (file === undefined || segment === undefined || this.failure !== undefined || this.closed) return;
    if (segment.writtenBytes - this.writebackFrom < this.writebackBytes) return;
    this.writebackFrom = segment.writtenBytes;
    this.counters.writebackSyncs++;
    this.syncInBackground(file);
  }

  /**
   * Syncs the active file in the background — the zeros preallocated ahead (`fsync` mode) or the
   * records written since the last one (`os` mode); one at a time. `then` runs once it succeeded;
   * a failure stops the log, as an append's sync would.
   */
  private syncInBackground(file: VfsFile, then?: () => void): void {
    this.backgroundSync = file.sync().then(
      () => {
        this.backgroundSync = undefined;
        then?.();
      },
      (error: unknown) => {
        this.backgroundSync = undefined;
        this.stopWith(error);
      },
    );
  }

  /**
   * Starts writing the next chunk of zeros past the active segment's end when fewer than
   * PREALLOCATE_LOW_BYTES are left ahead of the records, then syncs it — in the background, so that
   * no append's fsync has to carry zeros or a size change. A failed zero write (a full disk) only
   * stops preallocation in this segment; a failed fsync stops the log, as an append's would.
   */
  private allocateAhead(): void {
    const segment = this.segments.at(-1);
    const file = this.active;
    if (!this.preallocate || this.allocationStopped || this.zeroWrite !== undefined || this.backgroundSync !== undefined) return;
    if (file === undefined || segment === undefined || this.failure !== undefined || this.closed) return;
    const from = this.allocatedBytes;
    if (from - segment.writtenBytes >= PREALLOCATE_LOW_BYTES || from >= this.segmentSizeBytes) return;
    const length = Math.min(PREALLOCATE_CHUNK_BYTES, this.segmentSizeBytes - from);
    // The marker is in place before the write starts, and the write clears it when it ends — even
    // one that fails before its first await.
    const marker: { from: number; done: Promise<void> } = { from, done: Promise.resolve() };
    this.zeroWrite = marker;
    marker.done = (async () => {
      try {
        await file.write(ZEROS.subarray(0, length), from);
      } catch {
        // The file may have grown by part of the chunk: zeros past the records, which recovery
        // accepts in the last segment and rotation always cuts off.
        this.allocationStopped = true;
        return;
      } finally {
        if (this.zeroWrite === marker) this.zeroWrite = undefined;
      }
      this.allocatedBytes = Math.max(this.allocatedBytes, from + length);
      this.counters.preallocatedBytes += length;
      if (this.durability === 'fsync') this.syncInBackground(file, () => this.allocateAhead());
    })();
  }

  /** Waits until no background zero write or sync runs on the active file. */
  private async settleAllocation(): Promise<void> {
    while (this.zeroWrite !== undefined || this.backgroundSync !== undefined) {
      await this.zeroWrite?.done;
      await this.backgroundSync;
    }
  }

  /** Closes the active segment (trimmed and synced) and starts a new one whose name is `firstIndex`. */
  private async startSegment(firstIndex: number): Promise<Segment> {
    const previous = this.segments.at(-1);
    await this.settleAllocation();
    if (this.active !== undefined && previous !== undefined) {
      // Always: preallocated zeros lie past the last record, and a zero write that failed part-way
      // (a full disk) may have grown the file past what its handle knows; a closed segment must end
      // at its last record. One truncate per segment costs nothing worth a check.
      await this.active.truncate(previous.writtenBytes);
      await this.active.sync();
      await this.active.close();
      this.active = undefined;
      this.counters.rotations++;
    }
    const path = joinPath(this.dir, segmentName(firstIndex));
    const file = await this.vfs.open(path, { create: true, exclusive: true });
    await file.write(encodeSegmentHeader(firstIndex), 0);
    this.active = file;
    this.allocatedBytes = SEGMENT_HEADER_BYTES;
    this.allocationStopped = false;
    this.writebackFrom = SEGMENT_HEADER_BYTES;
    const segment: Segment = { firstIndex, lastIndex: firstIndex - 1, path, writtenBytes: SEGMENT_HEADER_BYTES };
    this.segments.push(segment);
    if (this.durability === 'os') {
      // Even without per-append syncs, a closed segment is complete on disk and its name durable:
      // recovery treats damage in any segment but the last as corruption.
      await file.sync();
      await this.vfs.syncDir(this.dir);
    }
    return segment;
  }

  private async doTruncatePrefix(index: number): Promise<void> {
    let removed = 0;
    while (this.segments.length > 1) {
      const next = this.segments[1] as Segment;
      // Every record of the first segment is below next.firstIndex.
      if (next.firstIndex > index) break;
      const first = this.segments.shift() as Segment;
      await this.vfs.unlink(first.path);
      removed++;
    }
    if (removed > 0) await this.vfs.syncDir(this.dir);
  }

  private async doTruncateSuffix(index: number): Promise<void> {
    await this.settleAllocation();
    let removedFiles = false;
    while (this.segments.length > 0) {
      const last = this.segments.at(-1) as Segment;
      if (last.firstIndex <= index) break;
      await this.active?.close();
      this.active = undefined;
      await this.vfs.unlink(last.path);
      this.segments.pop();
      removedFiles = true;
    }
    const last = this.segments.at(-1);
    if (removedFiles) {
      await this.vfs.syncDir(this.dir);
      if (last !== undefined) {
        this.active = await this.vfs.open(last.path);
        this.allocatedBytes = this.active.size();
        this.allocationStopped = false;
      }
    }
    if (last !== undefined && last.lastIndex > index) {
      // Find the end of the last record to keep.
      const file = this.active as VfsFile;
      const reader = new SegmentReader(file, SEGMENT_HEADER_BYTES, last.writtenBytes, this.maxRecordSizeBytes);
      let keepEnd = SEGMENT_HEADER_BYTES;
      let keepLast = last.firstIndex - 1;
      for (;;) {
        const step = reader.next();
        if (step.kind !== 'record' || step.record.index > index) break;
        keepEnd = step.record.end;
        keepLast = step.record.index;
      }
      await file.truncate(keepEnd);
      await file.sync();
      this.allocatedBytes = keepEnd;
      last.writtenBytes = keepEnd;
      last.lastIndex = keepLast;
    }
    this.durable = Math.min(this.durable, this.lastRecordIndex());
  }

  /** The index of the last record in the segments, or 0. */
  private lastRecordIndex(): number {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const segment = this.segments[i] as Segment;
      if (segment.lastIndex >= segment.firstIndex) return segment.lastIndex;
    }
    return 0;
  }

  // ---- Reading ----

  /**
   * The records with index >= `index`, in order, as they are on disk when each segment is reached
   * (records appended meanwhile may or may not be seen). `data` is a view that stays valid.
   */
  async *readFrom(index: number): AsyncGenerator<WalRecord> {
    this.checkUsable();
    const segments = this.segments.slice();
    let start = 0;
    for (let i = 0; i < segments.length; i++) if ((segments[i] as Segment).firstIndex <= index) start = i;
    for (let i = start; i < segments.length; i++) {
      const segment = segments[i] as Segment;
      if (segment.lastIndex < index) continue;
      const file = await this.vfs.open(segment.path, { readOnly: true });
      try {
        const reader = new SegmentReader(file, SEGMENT_HEADER_BYTES, segment.writtenBytes, this.maxRecordSizeBytes);
        for (;;) {
          const step = reader.next();
          if (step.kind === 'end') break;
          if (step.kind === 'bad') {
            throw new PetrelError('CORRUPTION', `${segment.path}: ${step.reason} at offset ${step.offset}`, { path: segment.path, offset: step.offset });
          }
          if (step.record.index >= index) yield { index: step.record.index, data: step.record.data };
        }
      } finally {
        await file.close();
      }
    }
  }
}
