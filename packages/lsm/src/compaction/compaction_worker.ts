/**
 * The worker thread of a CompactionPool: runs compactions and flushes on the real file system.
 * Message in: { id, kind: 'compaction' | 'flush', job }. Message out: { id, result } or
 * { id, error: { code, message, path } }.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { MemVfs, PetrelError, initChecksum, nodeVfs } from '@petrel/base';
import { KIND_PUT } from '../format/internal_key.js';
import { buildTableFromMemtable, type FlushJob, runFlushJob } from '../flush/flush.js';
import { Memtable } from '../memtable/memtable.js';
import { DEFAULT_TABLE_OPTIONS } from '../sstable/table_builder.js';
import { type CompactionJob, runCompaction } from './runner.js';

/**
 * Runs a small flush and compaction in memory before saying it is ready, so that the first real
 * job runs compiled code: a cold thread interprets its first tens of thousands of entries several
 * times slower, and writes may be waiting for that first flush.
 */
async function warmUp(): Promise<void> {
  const vfs = new MemVfs();
  await vfs.mkdir('/warm', { recursive: true });
  const value = Buffer.alloc(100, 1);
  for (let table = 1; table <= 2; table++) {
    const memtable = new Memtable(1 << 20);
    for (let i = 0; i < 3000; i++) memtable.add(table * 10_000 + i, KIND_PUT, Buffer.from(`warm-up-key-${(i * 7919) % 3000}-${table}`), value);
    memtable.markImmutable();
    const file = await vfs.open(`/warm/00000${table}.sst`, { create: true, exclusive: true });
    await buildTableFromMemtable(memtable, file, DEFAULT_TABLE_OPTIONS);
    await file.close();
  }
  await runCompaction({ dir: '/warm', inputs: [1, 2], outputNumbers: [3, 4, 5], smallestSnapshot: 0, deeperRanges: [], tableOptions: DEFAULT_TABLE_OPTIONS, targetFileBytes: 1 << 20, nowSeconds: 0 }, vfs);
}

/**
 * Runs this thread at the pool's nice value (1–19; the pool passes it as the worker's data): on
 * Linux a thread's priority is its own (setpriority on its thread id), so merges and flushes yield
 * the cores to the main thread's requests when both want them, and take what is idle otherwise.
 */
function lowerPriority(nice: number): void {
  if (!Number.isInteger(nice) || nice <= 0 || nice > 19 || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // No /proc, or not allowed: the thread keeps the process's priority.
  }
}

/**
 * A flush job holds a memtable's SharedArrayBuffers (megabytes) through objects of this thread;
 * the memory is freed only once this thread's garbage collector has let them go too, and an idle
 * thread does not collect. So a thread that has been idle for IDLE_COLLECT_MS collects once.
 * (`--expose-gc` set here only puts `gc` into contexts created from now on, like this one.)
 */
const IDLE_COLLECT_MS = 100;
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
let activeJobs = 0;
let idleTimer: NodeJS.Timeout | undefined;

lowerPriority(Number((workerData as { data?: { nice?: number } } | null)?.data?.nice ?? 0));
await initChecksum();
await warmUp();
const port = parentPort;
if (port === null) throw new Error('compaction_worker.ts must run in a worker thread');
port.on('message', (message: { id: number; kind: 'compaction'; job: CompactionJob } | { id: number; kind: 'flush'; job: FlushJob }) => {
  activeJobs++;
  if (idleTimer !== undefined) clearTimeout(idleTimer);
  const running =
    message.kind === 'flush'
      ? runFlushJob(message.job, (path) => nodeVfs.open(path, { create: true, exclusive: true }))
      : runCompaction(message.job, nodeVfs);
  running
    .then(
      (result) => port.postMessage({ id: message.id, result }),
      (error: unknown) =>
        port.postMessage({
          id: message.id,
          error: {
            code: error instanceof PetrelError ? error.code : 'SERVER_INTERNAL_ERROR',
            message: error instanceof Error ? error.message : String(error),
            path: error instanceof PetrelError ? error.path : undefined,
          },
        }),
    )
    .finally(() => {
      if (--activeJobs === 0) idleTimer = setTimeout(() => activeJobs === 0 && collectGarbage(), IDLE_COLLECT_MS);
    });
});
port.postMessage({ ready: true });
