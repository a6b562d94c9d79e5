/**
 * What a run measured, as plain JSON-safe data: the summary of one phase (a load, or one
 * workload at full speed or at a fixed target) merged from every client worker's report.
 *
 * Latencies are in milliseconds, from the client's call to the adapter until its promise
 * resolved (a read-modify-write counts once, for both of its round trips). Throughput is
 * operations completed / wall time of the phase (first worker's start to last worker's end).
 */
import { Histogram } from './histogram.js';
import type { GcPauses, ServerLatencies } from './server_metrics.js';
import type { ProfileSummary } from './profile.js';
import type { SyscallCounts } from './systems/syscall_counter.js';
import type { Operation } from './workload.js';
import { LATENCY_TARGET_MS, type PhaseReport } from './worker_protocol.js';

export interface LatencySummary {
  count: number;
  errors: number;
  notFound: number;
  opsPerSec: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export interface PhaseResult {
  system: string;
  /** 'load' or the workload's letter. */
  workload: string;
  distribution: string;
  /** The fixed target of a throttled phase (ops/s, all clients), or null at full speed. */
  targetOpsPerSec: number | null;
  /** A run at a rate chosen by the search for the highest rate under a p99 bound (slo_search.ts). */
  sloProbe: boolean;
  clients: number;
  inFlightPerClient: number;
  durationSec: number;
  operations: number;
  errors: number;
  opsPerSec: number;
  overall: LatencySummary;
  /**
   * At a fixed target: latency from the moment each request was really sent, not from when it
   * was due — without the time it waited for the client (a busy in-flight slot, or a client
   * process the machine did not schedule). Null at full speed, where the two are the same.
   */
  overallService: LatencySummary | null;
  perOperation: Partial<Record<Operation, LatencySummary>>;
  /** Records returned by scans, on average per scan (workload E). */
  recordsPerScan: number | null;
  /** Percentile curves for the HTML plot: [percentile, ms] pairs, per operation and 'all'. */
  curves: Record<string, [number, number][]>;
  /** Throughput over time: [seconds since the phase began, ops/s in the interval before]. */
  timeline: [number, number][];
  /**
   * The operations slower than `thresholdMs` (LATENCY_TARGET_MS, from due), second by second:
   * whether a tail is spread evenly or comes in bursts. `pct`: their share of all operations;
   * `worstTenthShare`: the share of them that completed in the worst tenth of the seconds (about
   * 0.1 when spread evenly, near 1 when a few bursts hold them all; null when there are none);
   * `seconds`: [seconds since the phase began (end of the second), % of that second's operations
   * over the threshold, its slowest operation in ms]. Null for the load phase.
   */
  overTarget: { thresholdMs: number; pct: number; worstTenthShare: number | null; seconds: [number, number, number][] } | null;
  /**
   * CPU used during the phase, in % of one core (the machine has `cores` × 100%): all client
   * workers, all server processes, each server, and the whole machine — which includes the bench
   * itself and anything else running there.
   */
  clientCpuPct: number;
  serverCpuPct: number | null;
  serverCpuPctByProcess: Record<string, number>;
  /**
   * How long each server's main thread was ready to run but waiting for a core, in % of the
   * phase (Linux /proc/<pid>/schedstat): the requests it would have served meanwhile waited too.
   * Empty where it cannot be read.
   */
  serverWaitPctByProcess: Record<string, number>;
  /** Each server's main-thread GC pauses in the phase (servers with /metrics: Petrel's). */
  serverGcByProcess: Record<string, GcPauses>;
  /** Where a write's time went on each Petrel replica server in the phase (from its /metrics; ServerLatencies). */
  serverLatencyByProcess: Record<string, ServerLatencies>;
  machineCpuPct: number | null;
  /** The 1-minute load average when the phase began and ended. */
  loadAverage: [number, number];
  /** The phase's start and end on the monotonic clock (µs), to match profile samples. */
  monotonicUs: [number, number];
  /** Where the profiled server's main thread spent the phase (with --profile). */
  profile: ProfileSummary | null;
  /** System calls of all server processes in the phase (with --syscalls). */
  syscalls: SyscallCounts | null;
  errorSamples: string[];
}

/** Percentiles at which the curves are sampled, denser towards the tail. */
export const CURVE_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.99, 100];

const NS_PER_MS = 1e6;

function ms(nanoseconds: number): number {
  return Math.round((nanoseconds / NS_PER_MS) * 1000) / 1000;
}

export function percentOf(cpuMs: number, wallMs: number): number {
  return Math.round((cpuMs / wallMs) * 1000) / 10;
}

export function summarize(histogram: Histogram, seconds: number, errors: number, notFound: number): LatencySummary {
  return {
    count: histogram.count,
    errors,
    notFound,
    opsPerSec: seconds > 0 ? histogram.count / seconds : 0,
    meanMs: ms(histogram.mean),
    p50Ms: ms(histogram.percentile(50)),
    p95Ms: ms(histogram.percentile(95)),
    p99Ms: ms(histogram.percentile(99)),
    p999Ms: ms(histogram.percentile(99.9)),
    maxMs: ms(histogram.max),
  };
}

function curve(histogram: Histogram): [number, number][] {
  if (histogram.count === 0) return [];
  return CURVE_PERCENTILES.map((p) => [p, ms(histogram.percentile(p))]);
}

/** What the runner knows of a phase besides the workers' reports (mergePhase adds the rest). */
export type PhaseContext = Pick<
  PhaseResult,
  'system' | 'workload' | 'distribution' | 'targetOpsPerSec' | 'clients' | 'inFlightPerClient' | 'timeline' | 'machineCpuPct' | 'loadAverage' | 'monotonicUs' | 'syscalls'
> & {
  /** Default false. */
  sloProbe?: boolean;
  /** Measured by the runner over its own view of the phase, in % of one core. */
  serverCpuPctByProcess: Record<string, number> | null;
  /** Measured by the runner: each server main thread's run-queue wait, in % of the phase. */
  serverWaitPctByProcess?: Record<string, number>;
  /** Read by the runner from each server's /metrics before and after the phase. */
  serverGcByProcess?: Record<string, GcPauses>;
  /** Read by the runner from each server's /metrics before and after the phase. */
  serverLatencyByProcess?: Record<string, ServerLatencies>;
};

/** Merges the workers' per-second windows (see PhaseResult.overTarget). */
function overTarget(reports: PhaseReport[], startedEpochMs: number): PhaseResult['overTarget'] {
  const bySecond = new Map<number, [number, number, number]>();
  for (const report of reports) {
    for (const [second, ops, slow, maxMs] of report.windows) {
      const merged = bySecond.get(second) ?? [0, 0, 0];
      merged[0] += ops;
      merged[1] += slow;
      merged[2] = Math.max(merged[2], maxMs);
      bySecond.set(second, merged);
    }
  }
  if (bySecond.size === 0) return null;
  const windows = [...bySecond.entries()].sort((a, b) => a[0] - b[0]);
  const ops = windows.reduce((sum, [, w]) => sum + w[0], 0);
  const slow = windows.reduce((sum, [, w]) => sum + w[1], 0);
  const worst = windows.map(([, w]) => w[1]).sort((a, b) => b - a).slice(0, Math.ceil(windows.length / 10));
  return {
    thresholdMs: LATENCY_TARGET_MS,
    pct: ops === 0 ? 0 : Math.round((slow / ops) * 10000) / 100,
    worstTenthShare: slow === 0 ? null : Math.round((worst.reduce((a, b) => a + b, 0) / slow) * 1000) / 1000,
    seconds: windows.map(([second, [n, over, maxMs]]) => [Math.round(second * 1000 + 1000 - startedEpochMs) / 1000, n === 0 ? 0 : Math.round((over / n) * 1000) / 10, maxMs]),
  };
}

/** Merges the workers' reports of one phase. */
export function mergePhase(context: PhaseContext, reports: PhaseReport[]): PhaseResult {
  const started = Math.min(...reports.map((r) => r.startedEpochMs));
  const ended = Math.max(...reports.map((r) => r.endedEpochMs));
  const seconds = Math.max(1e-6, (ended - started) / 1000);
  const all = new Histogram();
  const service = new Histogram();
  const perOperation: Partial<Record<Operation, LatencySummary>> = {};
  const curves: Record<string, [number, number][]> = {};
  let errors = 0;
  let scans = 0;
  let scannedRecords = 0;
  let notFoundTotal = 0;
  const operations = new Set(reports.flatMap((r) => Object.keys(r.operations) as Operation[]));
  for (const operation of operations) {
    const histogram = new Histogram();
    let operationErrors = 0;
    let notFound = 0;
    for (const report of reports) {
      const tally = report.operations[operation];
      if (tally === undefined) continue;
      histogram.merge(tally.histogram);
      if (tally.service !== null) service.merge(tally.service);
      operationErrors += tally.errors;
      notFound += tally.notFound;
      if (operation === 'scan') scannedRecords += tally.records;
    }
    if (operation === 'scan') scans = histogram.count;
    all.merge(histogram);
    errors += operationErrors;
    notFoundTotal += notFound;
    perOperation[operation] = summarize(histogram, seconds, operationErrors, notFound);
    curves[operation] = curve(histogram);
  }
  curves.all = curve(all);
  const wallMs = seconds * 1000;
  return {
    system: context.system,
    workload: context.workload,
    distribution: context.distribution,
    targetOpsPerSec: context.targetOpsPerSec,
    sloProbe: context.sloProbe ?? false,
    clients: context.clients,
    inFlightPerClient: context.inFlightPerClient,
    durationSec: Math.round(seconds * 1000) / 1000,
    operations: all.count,
    errors,
    opsPerSec: all.count / seconds,
    overall: summarize(all, seconds, errors, notFoundTotal),
    overallService: service.count === 0 ? null : summarize(service, seconds, errors, notFoundTotal),
    perOperation,
    recordsPerScan: scans > 0 ? scannedRecords / scans : null,
    curves,
    timeline: context.timeline,
    overTarget: overTarget(reports, started),
    clientCpuPct: percentOf(reports.reduce((sum, r) => sum + r.cpuMs, 0), wallMs),
    serverCpuPct: context.serverCpuPctByProcess === null ? null : Math.round(Object.values(context.serverCpuPctByProcess).reduce((a, b) => a + b, 0) * 10) / 10,
    serverCpuPctByProcess: context.serverCpuPctByProcess ?? {},
    serverWaitPctByProcess: context.serverWaitPctByProcess ?? {},
    serverGcByProcess: context.serverGcByProcess ?? {},
    serverLatencyByProcess: context.serverLatencyByProcess ?? {},
    machineCpuPct: context.machineCpuPct,
    loadAverage: context.loadAverage,
    monotonicUs: context.monotonicUs,
    profile: null,
    syscalls: context.syscalls,
    errorSamples: [...new Set(reports.flatMap((r) => r.errorSamples))].slice(0, 5),
  };
}

/** A phase's name in the tables: its workload, and its fixed rate when it had one (a p99 search's probe says so). */
export function phaseLabel(phase: Pick<PhaseResult, 'workload' | 'targetOpsPerSec' | 'sloProbe'>): string {
  if (phase.targetOpsPerSec === null) return phase.workload;
  return `${phase.workload} @${Math.round(phase.targetOpsPerSec)}/s${phase.sloProbe ? ' (p99 search)' : ''}`;
}

/** How a workload's `nth` run (from 1) is named when a workload is named more than once: C, C#2, C#3. */
export function runName(workload: string, nth: number): string {
  return nth === 1 ? workload : `${workload}#${nth}`;
}
