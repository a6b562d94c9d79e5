/**
 * CompactionPool: worker threads that run compactions off the main thread. One pool serves every
 * database of the process (a replica server hosts many); its size is declared (default 1 on this
 * two-core machine) and jobs beyond it wait in a queue. Idle workers do not keep the process alive.
 */
import type { Worker } from 'node:worker_threads';
import { type ErrorCode, PetrelError, isErrorCode, startWorker } from '@petrel/base';
import type { CompactionJob, CompactionResult } from './runner.js';

interface Pending {
  job: CompactionJob;
  resolve: (result: CompactionResult) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker;
  busy: Pending | undefined;
}

export class CompactionPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size = 1) {}

  run(job: CompactionJob): Promise<CompactionResult> {
    if (this.closed) return Promise.reject(new PetrelError('CLOSED', 'compaction pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((candidate) => candidate.busy === undefined);
      if (slot === undefined && this.slots.length < this.size) slot = this.spawn();
      if (slot === undefined) return;
      const pending = this.queue.shift() as Pending;
      slot.busy = pending;
      slot.worker.ref();
      slot.worker.postMessage({ id: this.nextId++, job: pending.job });
    }
  }

  private spawn(): Slot {
    const worker = startWorker(new URL('./compaction_worker.ts', import.meta.url));
    const slot: Slot = { worker, busy: undefined };
    worker.on('message', (message: { ready?: boolean; result?: CompactionResult; error?: { code: string; message: string; path?: string } }) => {
      if (message.ready) return;
      const pending = slot.busy;
      slot.busy = undefined;
      worker.unref();
      if (pending !== undefined) {
        if (message.error !== undefined) {
          const code: ErrorCode = isErrorCode(message.error.code) ? message.error.code : 'SERVER_INTERNAL_ERROR';
          pending.reject(new PetrelError(code, message.error.message, message.error.path === undefined ? {} : { path: message.error.path }));
        } else pending.resolve(reviveResult(message.result as CompactionResult));
      }
      this.dispatch();
    });
    worker.on('error', (error) => {
      slot.busy?.reject(new PetrelError('SERVER_INTERNAL_ERROR', `compaction worker failed: ${error.message}`, { cause: error }));
      slot.busy = undefined;
      this.slots.splice(this.slots.indexOf(slot), 1);
      this.dispatch();
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new PetrelError('CLOSED', 'compaction pool is closed'));
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
    this.slots.length = 0;
  }
}

/** Structured cloning turns Buffers into Uint8Arrays; make them Buffers again. */
function reviveResult(result: CompactionResult): CompactionResult {
  return {
    ...result,
    outputs: result.outputs.map((file) => ({ ...file, smallest: Buffer.from(file.smallest), largest: Buffer.from(file.largest) })),
  };
}

let shared: CompactionPool | undefined;

/** The process-wide pool, created on first use (size from PETREL_COMPACTION_THREADS, default 1). */
export function sharedCompactionPool(): CompactionPool {
  shared ??= new CompactionPool(Math.max(1, Number(process.env.PETREL_COMPACTION_THREADS ?? 1)));
  return shared;
}
