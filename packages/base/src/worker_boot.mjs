// Starts a worker thread's TypeScript entry point: Petrel runs its sources through tsx, whose
// loader a worker does not inherit, so it is registered here before the entry is imported.
import { workerData } from 'node:worker_threads';

const entry = workerData?.petrelEntry;
if (typeof entry !== 'string') throw new Error('worker_boot.mjs: workerData.petrelEntry is missing');
if (entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(entry);
