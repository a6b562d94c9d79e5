/**
 * Starting worker threads whose entry point is a TypeScript module (see worker_boot.mjs). The
 * entry reads its own data from `workerData.data`.
 */
import { Worker } from 'node:worker_threads';

export function startWorker(entry: URL, data?: unknown): Worker {
  return new Worker(new URL('./worker_boot.mjs', import.meta.url), { workerData: { petrelEntry: entry.href, data } });
}
