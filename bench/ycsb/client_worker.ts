/**
 * A YCSB client process: it builds its own adapter, then loads its share of the records or runs
 * a workload with `inFlight` requests outstanding, on command from the runner (client_pool.ts).
 * Latencies go into per-operation histograms in nanoseconds; progress goes to the runner every
 * 200 ms; the histograms go back once, at the end of the phase.
 *
 * At a fixed target throughput the operations are scheduled at fixed intended start times. An
 * operation that starts late because every in-flight slot was busy is timed from its intended
 * start (correcting "coordinated omission": a stalled system is charged for the requests it kept
 * waiting); one that starts late only because a timer fired late is timed from its real start.
 */
import { Prng } from '@petrel/base';
import { type KvAdapter, loadAdapter } from './adapter.js';
import { Histogram } from './histogram.js';
import { makeKeyChooser } from './key_chooser.js';
import { KeySequence } from './key_sequence.js';
import { KeySpace } from './key_space.js';
import { type Operation, OperationChooser, OPERATIONS } from './workload.js';
import { LATENCY_TARGET_MS, type LatencyWindow, type LoadCommand, type OperationTally, type PhaseReport, type RunCommand, type WorkerCommand, type WorkerInit, type WorkerMessage } from './worker_protocol.js';

const PROGRESS_INTERVAL_MS = 200;
const VALUE_POOL_SIZE = 16;
const ERROR_SAMPLE_LIMIT = 5;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class Tally {
  readonly histogram = new Histogram();
  /** At a fixed target: latency from the moment the request was really sent. */
  readonly service = new Histogram();
  errors = 0;
  notFound = 0;
  records = 0;

  report(): OperationTally {
    return { histogram: this.histogram.snapshot(), service: this.service.count === 0 ? null : this.service.snapshot(), errors: this.errors, notFound: this.notFound, records: this.records };
  }
}

/** Per-second counts of a run phase: how bursty its slow operations are (results.ts). */
class Windows {
  private readonly bySecond = new Map<number, LatencyWindow>();

  record(endedMs: number, latencyMs: number): void {
    const second = Math.floor((performance.timeOrigin + endedMs) / 1000);
    let window = this.bySecond.get(second);
    if (window === undefined) {
      window = [second, 0, 0, 0];
      this.bySecond.set(second, window);
    }
    window[1]++;
    if (latencyMs > LATENCY_TARGET_MS) window[2]++;
    if (latencyMs > window[3]) window[3] = latencyMs;
  }

  report(): LatencyWindow[] {
    return [...this.bySecond.values()].map(([second, ops, slow, maxMs]) => [second, ops, slow, Math.round(maxMs * 100) / 100]);
  }
}

class ClientWorker {
  private readonly keySpace: KeySpace;
  private readonly keys: KeySequence;
  private readonly random: Prng;
  private readonly values: Buffer[] = [];
  private nextValue = 0;
  private completed = 0;
  private errors = 0;
  private errorSamples: string[] = [];

  constructor(
    private readonly init: WorkerInit,
    private readonly adapter: KvAdapter,
  ) {
    this.keySpace = new KeySpace(init.hashKeyDigits);
    this.keys = new KeySequence(init.recordCount, init.workerIndex, init.workerCount);
    this.random = new Prng(init.seed * 1_000_003 + init.workerIndex);
    for (let i = 0; i < VALUE_POOL_SIZE; i++) this.values.push(this.random.bytes(init.valueSizeBytes));
  }

  private value(): Buffer {
    this.nextValue = (this.nextValue + 1) % VALUE_POOL_SIZE;
    return this.values[this.nextValue]!;
  }

  private noteError(error: unknown): void {
    this.errors++;
    if (this.errorSamples.length < ERROR_SAMPLE_LIMIT) this.errorSamples.push(error instanceof Error ? error.message : String(error));
  }

  private startPhase(): { stop: () => void } {
    this.completed = 0;
    this.errors = 0;
    this.errorSamples = [];
    const timer = setInterval(() => send({ type: 'progress', completed: this.completed, errors: this.errors }), PROGRESS_INTERVAL_MS);
    return { stop: () => (clearInterval(timer), send({ type: 'progress', completed: this.completed, errors: this.errors })) };
  }

  /** Inserts records w, w + W, w + 2W, ... below recordCount. */
  async load(command: LoadCommand): Promise<PhaseReport> {
    const tally = new Tally();
    const { workerIndex, workerCount, recordCount } = this.init;
    let next = workerIndex;
    const phase = this.startPhase();
    const cpuBefore = process.cpuUsage();
    const startedEpochMs = epochMs();
    const loop = async () => {
      while (next < recordCount) {
        const keyNumber = next;
        next += workerCount;
        const started = performance.now();
        try {
          await this.adapter.insert(this.keySpace.keyOf(keyNumber), this.value());
        } catch (error) {
          tally.errors++;
          this.noteError(error);
        }
        tally.histogram.record((performance.now() - started) * 1e6);
        this.completed++;
      }
    };
    await Promise.all(Array.from({ length: command.inFlight }, loop));
    const endedEpochMs = epochMs();
    phase.stop();
    const cpu = process.cpuUsage(cpuBefore);
    return { startedEpochMs, endedEpochMs, operations: { insert: tally.report() }, windows: [], cpuMs: (cpu.user + cpu.system) / 1000, errorSamples: this.errorSamples };
  }

  async run(command: RunCommand): Promise<PhaseReport> {
    const { workload } = command;
    const operations = new OperationChooser(workload);
    const chooser = makeKeyChooser(workload.requestDistribution, this.random.fork(), this.keys.count, command.expectedInsertsPerWorker);
    const windows = new Windows();
    const tallies = new Map<Operation, Tally>(OPERATIONS.filter((operation) => workload.proportions[operation] > 0).map((operation) => [operation, new Tally()]));
    const random = this.random.fork();
    const keys = this.keys;
    const adapter = this.adapter;
    const keySpace = this.keySpace;

    let claimed = 0;
    const intervalMs = command.targetOpsPerSec > 0 ? 1000 / command.targetOpsPerSec : 0;
    const phase = this.startPhase();
    const cpuBefore = process.cpuUsage();
    const startedEpochMs = epochMs();
    const startedMs = performance.now();
    const deadlineMs = command.deadlineEpochMs > 0 ? command.deadlineEpochMs - performance.timeOrigin : Infinity;

    const loop = async () => {
      for (;;) {
        if (command.operationCount > 0 && claimed >= command.operationCount) return;
        const slot = claimed++;
        let started = performance.now();
        if (intervalMs > 0) {
          const intendedMs = startedMs + slot * intervalMs;
          if (intendedMs >= deadlineMs) return;
          if (intendedMs > started) {
            await sleep(intendedMs - started);
            started = performance.now();
          } else {
            started = intendedMs;
          }
        } else if (started >= deadlineMs) {
          return;
        }
        const operation = operations.choose(random.next());
        const tally = tallies.get(operation)!;
        const sent = performance.now();
        try {
          switch (operation) {
            case 'read':
              if ((await adapter.read(keySpace.keyOf(keys.keyNumberAt(chooser.next(keys.count))))) === null) tally.notFound++;
              break;
            case 'update':
              await adapter.update(keySpace.keyOf(keys.keyNumberAt(chooser.next(keys.count))), this.value());
              break;
            case 'readModifyWrite':
              if ((await adapter.readModifyWrite(keySpace.keyOf(keys.keyNumberAt(chooser.next(keys.count))), this.value())) === null) tally.notFound++;
              break;
            case 'scan': {
              const length = 1 + random.int(workload.maxScanLength);
              // Not `tally.records += await ...`: that reads tally.records before the await and
              // would drop the counts of the scans that finish meanwhile.
              const records = await adapter.scan(keySpace.keyOf(keys.keyNumberAt(chooser.next(keys.count))), length);
              tally.records += records;
              break;
            }
            case 'insert': {
              const insert = keys.nextInsert();
              try {
                await adapter.insert(keySpace.keyOf(keys.insertKeyNumber(insert)), this.value());
                keys.acknowledge(insert);
              } catch (error) {
                keys.abandon(insert);
                throw error;
              }
              break;
            }
          }
        } catch (error) {
          tally.errors++;
          this.noteError(error);
        }
        const ended = performance.now();
        tally.histogram.record((ended - started) * 1e6);
        if (intervalMs > 0) tally.service.record((ended - sent) * 1e6);
        windows.record(ended, ended - started);
        this.completed++;
      }
    };
    await Promise.all(Array.from({ length: command.inFlight }, loop));
    const endedEpochMs = epochMs();
    phase.stop();
    const cpu = process.cpuUsage(cpuBefore);
    const report: PhaseReport['operations'] = {};
    for (const [operation, tally] of tallies) report[operation] = tally.report();
    return { startedEpochMs, endedEpochMs, operations: report, windows: windows.report(), cpuMs: (cpu.user + cpu.system) / 1000, errorSamples: this.errorSamples };
  }
}

let worker: ClientWorker | undefined;
let adapter: KvAdapter | undefined;

async function handle(command: WorkerCommand): Promise<void> {
  switch (command.type) {
    case 'init':
      adapter = await loadAdapter(command.adapter);
      await adapter.open();
      worker = new ClientWorker(command, adapter);
      send({ type: 'ready' });
      return;
    case 'load':
      send({ type: 'done', report: await worker!.load(command) });
      return;
    case 'run':
      send({ type: 'done', report: await worker!.run(command) });
      return;
    case 'close':
      await adapter?.close();
      send({ type: 'closed' });
      return;
  }
}

// Commands arrive one at a time (the runner waits for each reply), so no queue is needed.
process.on('message', (command: WorkerCommand) => {
  handle(command).catch((error: unknown) => {
    send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  });
});
// If the runner dies, nothing else would stop this process.
process.on('disconnect', () => process.exit(0));
