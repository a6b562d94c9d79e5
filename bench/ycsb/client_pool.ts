/**
 * The runner's side of the client workers: forks `clients` worker processes (client_worker.ts),
 * sends each phase to all of them at once, sums their progress for the progress bar, and
 * collects their reports. Separate processes, not threads, so that each client has its own event
 * loop and garbage collector, like separate application servers would.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { AdapterSpec } from './adapter.js';
import { flagsFromEnv } from './env_flags.js';
import { guardChild, releaseChild } from './process_guard.js';
import type { PhaseReport, RunCommand, WorkerCommand, WorkerMessage } from './worker_protocol.js';

export interface ClientPoolOptions {
  clients: number;
  adapter: AdapterSpec;
  seed: number;
  recordCount: number;
  valueSizeBytes: number;
  hashKeyDigits: number;
}

/** Called with the operations completed so far in the phase (all workers) and the errors. */
export type ProgressListener = (completed: number, errors: number) => void;

interface Pending {
  expect: WorkerMessage['type'];
  resolve: (message: WorkerMessage) => void;
  reject: (error: Error) => void;
}

class WorkerHandle {
  completed = 0;
  errors = 0;
  private pending: Pending | undefined;
  onProgress: () => void = () => {};

  constructor(readonly child: ChildProcess) {
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') {
        this.completed = message.completed;
        this.errors = message.errors;
        this.onProgress();
        return;
      }
      const pending = this.pending;
      this.pending = undefined;
      if (pending === undefined) return;
      if (message.type === 'failed') pending.reject(new Error(`client worker failed: ${message.message}`));
      else if (message.type !== pending.expect) pending.reject(new Error(`client worker sent ${message.type}, expected ${pending.expect}`));
      else pending.resolve(message);
    });
    child.once('exit', (code, signal) => {
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(new Error(`client worker exited (${signal ?? code}) during a phase`));
    });
  }

  request(command: WorkerCommand, expect: WorkerMessage['type']): Promise<WorkerMessage> {
    if (this.pending !== undefined) throw new Error('a client worker got a command while busy');
    return new Promise((resolve, reject) => {
      this.pending = { expect, resolve, reject };
      this.child.send(command);
    });
  }
}

/**
 * Node flags for every client worker, from PETREL_BENCH_CLIENT_NODE_FLAGS (space-separated), for
 * measuring the load generator itself: `--cpu-prof --cpu-prof-dir=DIR` writes each worker's
 * profile when it exits.
 */
const CLIENT_NODE_FLAGS = flagsFromEnv('PETREL_BENCH_CLIENT_NODE_FLAGS');

export class ClientPool {
  private constructor(private readonly workers: WorkerHandle[]) {}

  static async start(options: ClientPoolOptions): Promise<ClientPool> {
    const entry = join(import.meta.dirname, 'client_worker.ts');
    const workers: WorkerHandle[] = [];
    for (let i = 0; i < options.clients; i++) {
      const child = fork(entry, [], { execArgv: [...CLIENT_NODE_FLAGS, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      guardChild(child);
      workers.push(new WorkerHandle(child));
    }
    const pool = new ClientPool(workers);
    try {
      await Promise.all(
        workers.map((worker, workerIndex) =>
          worker.request({ type: 'init', workerIndex, workerCount: options.clients, adapter: options.adapter, seed: options.seed, recordCount: options.recordCount, valueSizeBytes: options.valueSizeBytes, hashKeyDigits: options.hashKeyDigits }, 'ready'),
        ),
      );
    } catch (error) {
      pool.kill();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  get pids(): number[] {
    return this.workers.map((worker) => worker.child.pid ?? 0);
  }

  /** Loads the records; each worker inserts its share with `inFlight` requests outstanding. */
  load(inFlight: number, onProgress: ProgressListener): Promise<PhaseReport[]> {
    return this.phase(() => ({ type: 'load', inFlight }), onProgress);
  }

  /** Runs one workload phase; `command(workerIndex)` gives each worker its share. */
  run(command: (workerIndex: number) => RunCommand, onProgress: ProgressListener): Promise<PhaseReport[]> {
    return this.phase(command, onProgress);
  }

  private async phase(command: (workerIndex: number) => WorkerCommand, onProgress: ProgressListener): Promise<PhaseReport[]> {
    const notify = () => {
      let completed = 0;
      let errors = 0;
      for (const worker of this.workers) (completed += worker.completed), (errors += worker.errors);
      onProgress(completed, errors);
    };
    for (const worker of this.workers) {
      worker.completed = 0;
      worker.errors = 0;
      worker.onProgress = notify;
    }
    try {
      const replies = await Promise.all(this.workers.map((worker, i) => worker.request(command(i), 'done')));
      return replies.map((reply) => (reply as Extract<WorkerMessage, { type: 'done' }>).report);
    } catch (error) {
      this.kill();
      throw error;
    }
  }

  /** Closes every worker's adapter and lets the workers exit. */
  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (worker) => {
        const exited = new Promise<void>((resolve) => (worker.child.exitCode !== null ? resolve() : worker.child.once('exit', () => resolve())));
        try {
          await worker.request({ type: 'close' }, 'closed');
          worker.child.disconnect();
        } catch {
          worker.child.kill('SIGKILL');
        }
        const timer = setTimeout(() => worker.child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
        releaseChild(worker.child);
      }),
    );
  }

  kill(): void {
    for (const worker of this.workers) worker.child.kill('SIGKILL');
  }
}
