/**
 * The compaction worker thread: runs jobs posted by a CompactionPool on the real file system.
 * Message in: { id, job }. Message out: { id, result } or { id, error: { code, message, path } }.
 */
import { parentPort } from 'node:worker_threads';
import { PetrelError, initChecksum, nodeVfs } from '@petrel/base';
import { type CompactionJob, runCompaction } from './runner.js';

await initChecksum();
const port = parentPort;
if (port === null) throw new Error('compaction_worker.ts must run in a worker thread');
port.on('message', (message: { id: number; job: CompactionJob }) => {
  runCompaction(message.job, nodeVfs).then(
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
  );
});
port.postMessage({ ready: true });
