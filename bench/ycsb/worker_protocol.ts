/**
 * The messages between the runner and its client worker processes (over the child_process IPC
 * channel, as JSON: they are few per phase, never one per operation).
 */
import type { AdapterSpec } from './adapter.js';
import type { HistogramSnapshot } from './histogram.js';
import type { Operation, WorkloadSpec } from './workload.js';

export interface WorkerInit {
  type: 'init';
  workerIndex: number;
  workerCount: number;
  adapter: AdapterSpec;
  seed: number;
  recordCount: number;
  valueSizeBytes: number;
  hashKeyDigits: number;
}

export interface LoadCommand {
  type: 'load';
  inFlight: number;
}

export interface RunCommand {
  type: 'run';
  workload: WorkloadSpec;
  /** This worker's share of the operations; 0 when the phase is bounded by `deadlineEpochMs`. */
  operationCount: number;
  /** Wall-clock end of the phase (ms since the epoch); 0 when bounded by `operationCount`. */
  deadlineEpochMs: number;
  inFlight: number;
  /** This worker's share of a fixed target throughput; 0 runs as fast as it can. */
  targetOpsPerSec: number;
  /** Operations the whole run may insert, to size the zipfian's item count as YCSB does. */
  expectedInsertsPerWorker: number;
}

export interface CloseCommand {
  type: 'close';
}

export type WorkerCommand = WorkerInit | LoadCommand | RunCommand | CloseCommand;

export interface OperationTally {
  /** Latency in ns: from the intended start at a fixed target (see client_worker.ts), else from the send. */
  histogram: HistogramSnapshot;
  /** At a fixed target only: latency in ns from the moment the request was really sent. */
  service: HistogramSnapshot | null;
  errors: number;
  /** Reads and read-modify-writes that found no record (there should be none). */
  notFound: number;
  /** Records returned by scans. */
  records: number;
}

/** The latency the bench counts operations against (bench:cluster's target: p99 under 20 ms). */
export const LATENCY_TARGET_MS = 20;

/**
 * One second of a phase as a worker saw it: [epoch second the operations completed in, operations,
 * operations over the latency target (LATENCY_TARGET_MS, from due), the longest latency in ms].
 */
export type LatencyWindow = [number, number, number, number];

export interface PhaseReport {
  /** performance.timeOrigin-based wall clock, comparable across processes. */
  startedEpochMs: number;
  endedEpochMs: number;
  operations: Partial<Record<Operation, OperationTally>>;
  /** Per second of the run phase (empty for the load phase). */
  windows: LatencyWindow[];
  /** CPU time (user + system) this worker spent in the phase. */
  cpuMs: number;
  /** A few error messages, for the log. */
  errorSamples: string[];
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; completed: number; errors: number }
  | { type: 'done'; report: PhaseReport }
  | { type: 'closed' }
  | { type: 'failed'; message: string };
