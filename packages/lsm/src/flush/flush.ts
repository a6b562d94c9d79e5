/**
 * Flushing: an immutable memtable becomes an L0 SSTable. The table is built by one function,
 * run either in a worker thread of a pool (production, NodeVfs: the main thread does nothing but
 * post the job) or inline on the main thread in slices that yield to the event loop (MemVfs, which
 * a worker cannot reach, and `flushExecutor: 'inline'`).
 *
 * A worker reads the memtable where the main thread wrote it: its skip list and its arena are
 * SharedArrayBuffers (memtable.ts), so a job carries no entry data, only their handles.
 */
import type { VfsFile } from '@petrel/base';
import { Memtable, type SharedMemtable } from '../memtable/memtable.js';
import type { TableProperties } from '../sstable/format.js';
import { TableBuilder, type TableOptions } from '../sstable/table_builder.js';
import { TRAILER_BYTES } from '../format/internal_key.js';

export interface FlushJob {
  /** The table file to create (it must not exist). */
  path: string;
  memtable: SharedMemtable;
  tableOptions: TableOptions;
}

export interface FlushResult {
  fileSize: number;
  properties: TableProperties;
}

/**
 * Writes every entry of `memtable`, in order, into a new table in `file` and syncs it. `pause`,
 * when given, is called every few hundred entries and may return a promise to yield (inline mode).
 */
export async function buildTableFromMemtable(memtable: Memtable, file: VfsFile, options: TableOptions, pause?: () => Promise<void> | undefined): Promise<FlushResult> {
  const builder = new TableBuilder(file, options);
  let sincePause = 0;
  for (let node = memtable.firstNode(); node !== 0; node = memtable.nextNode(node)) {
    const chunk = memtable.chunkOf(node);
    const at = memtable.offsetOf(node);
    const keyLength = memtable.userKeyLengthOf(node) + TRAILER_BYTES;
    builder.addFrom(chunk, at, keyLength, chunk, at + keyLength, memtable.valueLengthOf(node));
    if (pause !== undefined && ++sincePause >= 256) {
      sincePause = 0;
      const wait = pause();
      if (wait !== undefined) await wait;
    }
  }
  return builder.finish();
}

/** The worker's side of a flush job: the memtable from its shared memory, the file from `open`. */
export async function runFlushJob(job: FlushJob, open: (path: string) => Promise<VfsFile>): Promise<FlushResult> {
  const memtable = Memtable.fromShared(job.memtable);
  const file = await open(job.path);
  try {
    return await buildTableFromMemtable(memtable, file, job.tableOptions);
  } finally {
    await file.close();
  }
}
