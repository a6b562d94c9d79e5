/**
 * CompactionPool: worker threads that run compactions and flushes off the main thread. One pool
 * serves every database of the process (a replica server hosts many); its size is declared
 * (default 1 on this two-core machine) and jobs beyond it wait in a queue. Idle workers do not
 * keep the process alive.
 *
 * Flushes have their own process-wide pool (`sharedFlushPool`), so that a flush — which frees a
 * memtable that writes may be waiting for — never queues behind a long compaction.
 */
import type { Worker } from 'node:worker_threads';
import { type ErrorCode, PetrelError, isErrorCode, startWorker } from '@petrel/base';
import type { FlushJob, FlushResult } from '../flush/flush.js';
import type { CompactionJob, CompactionResult } from './runner.js';

type Task = { kind: 'compaction'; job: CompactionJob } | { kind: 'flush'; job: FlushJob };

interface Pending {
  task: Task;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker;
  busy: Pending | undefined;
  /** The worker has booted (its first message). */
  ready: boolean;
}

export class CompactionPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private readyWaiters: (() => void)[] = [];

  /**
   * `nice` (1–19, Linux): the priority each worker thread lowers itself to as it starts
   * (setpriority on its thread id), so that merges and flushes yield the cores to the main
   * thread's requests when both want them; 0 (default): the process's priority.
   */
  constructor(
    readonly size = 1,
    private readonly options: { nice?: number } = {},
  ) {}

  run(job: CompactionJob): Promise<CompactionResult> {
    return this.submit({ kind: 'compaction', job }).then((result) => reviveCompaction(result as CompactionResult));
  }

  /** Builds the table of a flush (flush/flush.ts) in a worker. */
  flush(job: FlushJob): Promise<FlushResult> {
    return this.submit({ kind: 'flush', job }).then((result) => reviveFlush(result as FlushResult));
  }

  /** Starts the workers now, so that the first job does not wait for a thread to boot. */
  warm(): void {
    while (!this.closed && this.slots.length < this.size) this.spawn();
  }

  /**
   * Starts the workers and resolves once one has booted (a few hundred milliseconds the first
   * time: the thread loads its modules), or at once when one already has.
   */
  whenReady(): Promise<void> {
    this.warm();
    if (this.closed || this.slots.some((slot) => slot.ready)) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Whether a worker has booted and nothing waits in the queue: a job posted now starts at once.
   * (Booting a worker takes a few hundred milliseconds; a caller in a hurry may work inline.)
   */
  get ready(): boolean {
    return this.queue.length === 0 && this.slots.some((slot) => slot.ready && slot.busy === undefined);
  }

  private submit(task: Task): Promise<unknown> {
    if (this.closed) return Promise.reject(new PetrelError('CLOSED', 'compaction pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
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
      slot.worker.postMessage({ id: this.nextId++, kind: pending.task.kind, job: pending.task.job });
    }
  }

  private spawn(): Slot {
    const worker = startWorker(new URL('./compaction_worker.ts', import.meta.url), { nice: this.options.nice ?? 0 });
    const slot: Slot = { worker, busy: undefined, ready: false };
    worker.on('message', (message: { ready?: boolean; result?: unknown; error?: { code: string; message: string; path?: string } }) => {
      if (message.ready) {
        slot.ready = true;
        if (slot.busy === undefined) worker.unref();
        for (const resolve of this.readyWaiters.splice(0)) resolve();
        return;
      }
      const pending = slot.busy;
      slot.busy = undefined;
      worker.unref();
      if (pending !== undefined) {
        if (message.error !== undefined) {
          const code: ErrorCode = isErrorCode(message.error.code) ? message.error.code : 'SERVER_INTERNAL_ERROR';
          pending.reject(new PetrelError(code, message.error.message, message.error.path === undefined ? {} : { path: message.error.path }));
        } else pending.resolve(message.result);
      }
      this.dispatch();
    });
    worker.on('error', (error) => {
      slot.busy?.reject(new PetrelError('SERVER_INTERNAL_ERROR', `compaction worker failed: ${error.message}`, { cause: error }));
      slot.busy = undefined;
      this.slots.splice(this.slots.indexOf(slot), 1);
      // Whoever waits for a worker to boot stops waiting: the next job spawns another.
      if (!this.slots.some((other) => other.ready)) for (const resolve of this.readyWaiters.splice(0)) resolve();
      this.dispatch();
    });
    // Booting keeps the process alive (someone may be waiting for it: whenReady); idle does not.
    this.slots.push(slot);
    return slot;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const resolve of this.readyWaiters.splice(0)) resolve();
    for (const pending of this.queue.splice(0)) pending.reject(new PetrelError('CLOSED', 'compaction pool is closed'));
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
    this.slots.length = 0;
  }
}

/** Structured cloning turns Buffers into Uint8Arrays; make them Buffers again. */
function reviveCompaction(result: CompactionResult): CompactionResult {
  return {
    ...result,
    outputs: result.outputs.map((file) => ({ ...file, smallest: Buffer.from(file.smallest), largest: Buffer.from(file.largest) })),
  };
}

function reviveFlush(result: FlushResult): FlushResult {
  const { properties } = result;
  return { fileSize: result.fileSize, properties: { ...properties, smallestKey: Buffer.from(properties.smallestKey), largestKey: Buffer.from(properties.largestKey) } };
}

let shared: CompactionPool | undefined;
let sharedFlush: CompactionPool | undefined;

/** The nice value of the shared pools' threads: PETREL_BACKGROUND_NICE (default 0). */
function backgroundNice(): number {
  return Number(process.env.PETREL_BACKGROUND_NICE ?? 0);
}

/**
 * The process-wide pool, created on first use (size from PETREL_COMPACTION_THREADS, default 1;
 * its threads' nice value from PETREL_BACKGROUND_NICE).
 */
export function sharedCompactionPool(): CompactionPool {
  shared ??= new CompactionPool(Math.max(1, Number(process.env.PETREL_COMPACTION_THREADS ?? 1)), { nice: backgroundNice() });
  return shared;
}

/** The process-wide pool for flushes (one thread, PETREL_BACKGROUND_NICE too), created on first use. */
export function sharedFlushPool(): CompactionPool {
  sharedFlush ??= new CompactionPool(1, { nice: backgroundNice() });
  return sharedFlush;
}
