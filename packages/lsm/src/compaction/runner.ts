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
import { compareUserKeys, KIND_DELETE, kindOf, makeInternalKey, sequenceOf, TRAILER_BYTES } from '../format/internal_key.js';
import type { InternalIterator } from '../iterator/iterator.js';
import { MergingIterator } from '../iterator/merging_iterator.js';
import { BlockCache } from '../sstable/block_cache.js';
import { TableBuilder, type TableOptions } from '../sstable/table_builder.js';
import { TableReader } from '../sstable/table_reader.js';
import type { FileMetadata } from '../version/version_edit.js';
import { type CompactionFilter, type CompactionFilterSpec, loadCompactionFilter } from './compaction_filter.js';

export interface CompactionJob {
  dir: string;
  inputs: number[];
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

function hasDeeperData(ranges: [Uint8Array, Uint8Array][], userKey: Uint8Array): boolean {
  for (const [smallest, largest] of ranges) {
    if (compareUserKeys(userKey, smallest) >= 0 && compareUserKeys(userKey, largest) <= 0) return true;
  }
  return false;
}

/**
 * Runs `job`. `pause`, when given, is called every few hundred records and may return a promise
 * to yield (inline mode); it returns undefined to go on at once.
 */
export async function runCompaction(job: CompactionJob, vfs: Vfs, pause?: () => Promise<void> | undefined): Promise<CompactionResult> {
  const cache = new BlockCache(8 * 2 ** 20);
  const tables: TableReader[] = [];
  const result: CompactionResult = { outputs: [], bytesRead: 0, bytesWritten: 0, entriesIn: 0, entriesOut: 0 };
  const filter: CompactionFilter | undefined = job.filter === undefined ? undefined : await loadCompactionFilter(job.filter);
  let builder: TableBuilder | undefined;
  let builderFile: Awaited<ReturnType<Vfs['open']>> | undefined;
  let builderNumber = 0;
  let nextOutput = 0;
  const finishOutput = async () => {
    if (builder === undefined || builderFile === undefined) return;
    const { fileSize, properties } = await builder.finish();
    await builderFile.close();
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
    builder = undefined;
    builderFile = undefined;
  };
  try {
    const globalSequences = new Map(job.globalSequences ?? []);
    for (const number of job.inputs) {
      const table = await TableReader.open(vfs, joinPath(job.dir, tableFileName(number)), cache, undefined, globalSequences.get(number));
      tables.push(table);
      result.bytesRead += table.fileSize;
    }
    const merged: InternalIterator = new MergingIterator(tables.map((table) => table.iterator()));
    let currentUserKey: Buffer | undefined;
    let lastSequenceForKey = Number.MAX_SAFE_INTEGER;
    let sinceYield = 0;
    for (merged.seekToFirst(); merged.valid(); merged.next()) {
      if (pause !== undefined && ++sinceYield >= 256) {
        sinceYield = 0;
        const wait = pause();
        if (wait !== undefined) await wait;
      }
      result.entriesIn++;
      let key = merged.key();
      let value = merged.value();
      const userKey = key.subarray(0, key.length - TRAILER_BYTES);
      const newUserKey = currentUserKey === undefined || compareUserKeys(userKey, currentUserKey) !== 0;
      if (newUserKey) {
        // A new user key: the place to cut an output that reached its size.
        if (builder !== undefined && builder.estimatedBytes >= job.targetFileBytes) await finishOutput();
        currentUserKey = userKey;
        lastSequenceForKey = Number.MAX_SAFE_INTEGER;
      }
      const sequence = sequenceOf(key);
      const hiddenByNewer = lastSequenceForKey <= job.smallestSnapshot;
      lastSequenceForKey = sequence;
      if (hiddenByNewer) continue;
      const visibleToAll = sequence <= job.smallestSnapshot;
      if (kindOf(key) === KIND_DELETE) {
        if (visibleToAll && !hasDeeperData(job.deeperRanges, userKey)) continue;
      } else if (filter !== undefined && visibleToAll) {
        const bottommost = !hasDeeperData(job.deeperRanges, userKey);
        const decision = filter(userKey, value, { nowSeconds: job.nowSeconds, bottommost });
        if (decision === 'drop') {
          if (bottommost) continue;
          key = makeInternalKey(userKey, sequence, KIND_DELETE);
          value = Buffer.alloc(0);
        } else if (decision !== 'keep') value = Buffer.from(decision);
      }
      if (builder === undefined) {
        const number = job.outputNumbers[nextOutput++];
        if (number === undefined) throw new PetrelError('SERVER_INTERNAL_ERROR', 'compaction ran out of reserved file numbers');
        builderNumber = number;
        builderFile = await vfs.open(joinPath(job.dir, tableFileName(number)), { create: true, exclusive: true });
        builder = new TableBuilder(builderFile, job.tableOptions);
      }
      builder.add(key, value);
      result.entriesOut++;
    }
    merged.close();
    await finishOutput();
    await vfs.syncDir(job.dir);
    return result;
  } finally {
    await builderFile?.close().catch(() => undefined);
    for (const table of tables) await table.close().catch(() => undefined);
  }
}
