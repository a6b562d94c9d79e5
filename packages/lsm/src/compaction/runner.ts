/**
 * Running a compaction: merge the input tables, drop what no reader can see, write the rest into
 * new tables cut at the target size. The same code runs in a worker thread (production, NodeVfs)
 * and inline on the main thread in slices (tests on MemVfs, which a worker cannot reach).
 *
 * What is dropped (LevelDB's rules):
 * - an older version of a user key, once a newer version exists at or below the smallest live
 *   snapshot: no reader can see it;
 * - a deletion marker at or below the smallest snapshot when no deeper level holds the key:
 *   there is nothing left for it to hide;
 * - what the compaction filter drops (as a deletion marker unless, as above, nothing is hidden).
 */
import { PetrelError, type Vfs, joinPath } from '@petrel/base';
import { compareBytes, KIND_DELETE, makeInternalKey, TRAILER_BYTES } from '../format/internal_key.js';
import { copyBytes } from '../sstable/block.js';
import { BlockCache } from '../sstable/block_cache.js';
import { TableBuilder, type TableOptions } from '../sstable/table_builder.js';
import { TableReader } from '../sstable/table_reader.js';
import type { FileMetadata } from '../version/version_edit.js';
import { type CompactionFilter, type CompactionFilterSpec, loadCompactionFilter } from './compaction_filter.js';
import { TableScan } from './table_scan.js';

const EMPTY = Buffer.alloc(0);

export interface CompactionJob {
  dir: string;
  inputs: number[];
  /**
   * The inputs grouped into runs: each run's files have disjoint key ranges and are listed in key
   * order (one level's files), so a run is read as one sequence. Absent: every input is its own run.
   */
  runs?: number[][];
  /** Ingested inputs: [file number, global sequence] (see TableReader.open). */
  globalSequences?: [number, number][];
  /** File numbers reserved for the outputs. */
  outputNumbers: number[];
  smallestSnapshot: number;
  /** User-key ranges of the files deeper than the output level. */
  deeperRanges: [Uint8Array, Uint8Array][];
  tableOptions: TableOptions;
  targetFileBytes: number;
  filter?: CompactionFilterSpec;
  nowSeconds: number;
}

export interface CompactionResult {
  outputs: FileMetadata[];
  bytesRead: number;
  bytesWritten: number;
  entriesIn: number;
  entriesOut: number;
}

export function tableFileName(number: number): string {
  return `${String(number).padStart(6, '0')}.sst`;
}

/** Whether some deeper file's range holds the user key bytes[0, length). */
function hasDeeperData(ranges: [Uint8Array, Uint8Array][], bytes: Uint8Array, length: number): boolean {
  for (const [smallest, largest] of ranges) {
    if (compareBytes(bytes, 0, length, smallest, 0, smallest.length) >= 0 && compareBytes(bytes, 0, length, largest, 0, largest.length) <= 0) return true;
  }
  return false;
}

/** Orders two scans' current keys as compareInternalKeys orders internal keys. */
function compareScans(a: TableScan, b: TableScan): number {
  const aUser = a.keyLength - TRAILER_BYTES;
  const bUser = b.keyLength - TRAILER_BYTES;
  const byUser = compareBytes(a.key, 0, aUser, b.key, 0, bUser);
  if (byUser !== 0) return byUser;
  return compareBytes(a.key, aUser, a.keyLength, b.key, bUser, b.keyLength);
}

/** A binary min-heap of scans by current key: the merge of every input run. */
class ScanHeap {
  private readonly heap: TableScan[] = [];

  add(scan: TableScan): void {
    if (!scan.valid) return;
    const heap = this.heap;
    heap.push(scan);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareScans(heap[parent] as TableScan, scan) <= 0) break;
      heap[i] = heap[parent] as TableScan;
      i = parent;
    }
    heap[i] = scan;
  }

  get top(): TableScan | undefined {
    return this.heap[0];
  }

  /** Advances the smallest scan and restores the order. */
  advanceTop(): void {
    const heap = this.heap;
    const top = heap[0] as TableScan;
    top.next();
    if (!top.valid) {
      const last = heap.pop() as TableScan;
      if (heap.length === 0) return;
      heap[0] = last;
    }
    this.siftDown(0);
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    const length = heap.length;
    const item = heap[start] as TableScan;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && compareScans(heap[right] as TableScan, heap[child] as TableScan) < 0) child = right;
      if (compareScans(heap[child] as TableScan, item) >= 0) break;
      heap[i] = heap[child] as TableScan;
      i = child;
    }
    heap[i] = item;
  }
}

const SEQUENCE_SPACE = Number.MAX_SAFE_INTEGER;

/** The sequence in an internal key's trailer at bytes[at, at + 8). */
function trailerSequence(bytes: Uint8Array, at: number): number {
  const high = ((bytes[at] as number) << 16) | ((bytes[at + 1] as number) << 8) | (bytes[at + 2] as number);
  const low = (((bytes[at + 3] as number) << 24) | ((bytes[at + 4] as number) << 16) | ((bytes[at + 5] as number) << 8) | (bytes[at + 6] as number)) >>> 0;
  return SEQUENCE_SPACE - (high * 4294967296 + low);
}

/**
 * Runs `job`. `pause`, when given, is called every few hundred records and may return a promise
 * to yield (inline mode); it returns undefined to go on at once.
 */
export async function runCompaction(job: CompactionJob, vfs: Vfs, pause?: () => Promise<void> | undefined): Promise<CompactionResult> {
  // Scans read blocks themselves; the readers' cache only serves their index and filter.
  const cache = new BlockCache(0);
  const tables = new Map<number, TableReader>();
  const result: CompactionResult = { outputs: [], bytesRead: 0, bytesWritten: 0, entriesIn: 0, entriesOut: 0 };
  const filter: CompactionFilter | undefined = job.filter === undefined ? undefined : await loadCompactionFilter(job.filter);
  let builder: TableBuilder | undefined;
  let builderFile: Awaited<ReturnType<Vfs['open']>> | undefined;
  let builderNumber = 0;
  let nextOutput = 0;
  // A finished output is synced and closed while the next one is built (the worker would
  // otherwise sit idle for each output's fsync); the last is synced before the result returns.
  let syncing: Promise<void> | undefined;
  const finishOutput = async () => {
    if (builder === undefined || builderFile === undefined) return;
    const { fileSize, properties } = await builder.finish({ sync: false });
    const file = builderFile;
    builder = undefined;
    builderFile = undefined;
    await syncing;
    syncing = file.sync().finally(() => file.close());
    // Its failure is seen where it is awaited, not as an unhandled rejection before.
    syncing.catch(() => undefined);
    result.outputs.push({
      number: builderNumber,
      size: fileSize,
      smallest: properties.smallestKey,
      largest: properties.largestKey,
      smallestSequence: properties.smallestSequence,
      largestSequence: properties.largestSequence,
      entries: properties.entries,
    });
    result.bytesWritten += fileSize;
  };
  try {
    const globalSequences = new Map(job.globalSequences ?? []);
    for (const number of job.inputs) {
      const table = await TableReader.open(vfs, joinPath(job.dir, tableFileName(number)), cache, undefined, globalSequences.get(number));
      tables.set(number, table);
      result.bytesRead += table.fileSize;
    }
    const heap = new ScanHeap();
    for (const run of job.runs ?? job.inputs.map((number) => [number])) {
      const scan = new TableScan(run.map((number) => tables.get(number) as TableReader));
      scan.start();
      heap.add(scan);
    }
    // The user key of the last entry seen: currentUser[0, currentUserLength).
    let currentUser = Buffer.allocUnsafe(64);
    let currentUserLength = -1;
    let lastSequenceForKey = Number.MAX_SAFE_INTEGER;
    let sinceYield = 0;
    for (let scan = heap.top; scan !== undefined; heap.advanceTop(), scan = heap.top) {
      if (pause !== undefined && ++sinceYield >= 256) {
        sinceYield = 0;
        const wait = pause();
        if (wait !== undefined) await wait;
      }
      result.entriesIn++;
      const key = scan.key;
      const keyLength = scan.keyLength;
      const userLength = keyLength - TRAILER_BYTES;
      // Sorted input: the user key is new unless it equals the last one (compared from its end,
      // where keys written in order differ).
      let newUserKey = userLength !== currentUserLength;
      if (!newUserKey) {
        for (let i = userLength - 1; i >= 0; i--) {
          if (key[i] !== currentUser[i]) {
            newUserKey = true;
            break;
          }
        }
      }
      if (newUserKey) {
        // A new user key: the place to cut an output that reached its size.
        if (builder !== undefined && builder.estimatedBytes >= job.targetFileBytes) await finishOutput();
        if (userLength > currentUser.length) currentUser = Buffer.allocUnsafe(Math.max(userLength, currentUser.length * 2));
        copyBytes(currentUser, 0, key, 0, userLength);
        currentUserLength = userLength;
        lastSequenceForKey = Number.MAX_SAFE_INTEGER;
      }
      const sequence = trailerSequence(key, userLength);
      const hiddenByNewer = lastSequenceForKey <= job.smallestSnapshot;
      lastSequenceForKey = sequence;
      if (hiddenByNewer) continue;
      const visibleToAll = sequence <= job.smallestSnapshot;
      const kind = 255 - (key[keyLength - 1] as number);
      let replacedKey: Buffer | undefined;
      let replacedValue: Uint8Array | undefined;
      if (kind === KIND_DELETE) {
        if (visibleToAll && !hasDeeperData(job.deeperRanges, key, userLength)) continue;
      } else if (filter !== undefined && visibleToAll) {
        const bottommost = !hasDeeperData(job.deeperRanges, key, userLength);
        // Views of the scan's buffers: valid during the call only (see compaction_filter.ts).
        const userKey = key.subarray(0, userLength);
        const decision = filter(userKey, scan.valueSource.subarray(scan.valueStart, scan.valueStart + scan.valueLength), { nowSeconds: job.nowSeconds, bottommost });
        if (decision === 'drop') {
          if (bottommost) continue;
          replacedKey = makeInternalKey(userKey, sequence, KIND_DELETE);
          replacedValue = EMPTY;
        } else if (decision !== 'keep') replacedValue = decision;
      }
      if (builder === undefined) {
        const number = job.outputNumbers[nextOutput++];
        if (number === undefined) throw new PetrelError('SERVER_INTERNAL_ERROR', 'compaction ran out of reserved file numbers');
        builderNumber = number;
        builderFile = await vfs.open(joinPath(job.dir, tableFileName(number)), { create: true, exclusive: true });
        builder = new TableBuilder(builderFile, job.tableOptions);
      }
      if (replacedKey !== undefined) builder.add(replacedKey, replacedValue as Uint8Array);
      else if (replacedValue !== undefined) builder.addFrom(key, 0, keyLength, replacedValue, 0, replacedValue.length);
      else builder.addFrom(key, 0, keyLength, scan.valueSource, scan.valueStart, scan.valueLength);
      result.entriesOut++;
    }
    await finishOutput();
    await syncing;
    await vfs.syncDir(job.dir);
    return result;
  } finally {
    await builderFile?.close().catch(() => undefined);
    await syncing?.catch(() => undefined);
    for (const table of tables.values()) await table.close().catch(() => undefined);
  }
}
