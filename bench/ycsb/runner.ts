/**
 * Runs the YCSB phases: start each system's servers and client workers, load the records, run
 * each workload (at full speed, or at a fixed target throughput, and optionally again at a
 * fraction of the throughput just measured) on every system in turn, then stop everything —
 * also when a phase fails.
 *
 * Workloads run in the order given against the same loaded data, as YCSB's documentation
 * recommends for A, B, C, F, D (E after D's inserts is fine here: scans stay within a hash key).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ClientPool } from './client_pool.js';
import { guardDirectory, releaseDirectory } from './process_guard.js';
import { monotonicUs, readProfile, summarizeProfile } from './profile.js';
import { ProgressBar } from './progress.js';
import { mergePhase, percentOf, type PhaseResult, phaseLabel, runName } from './results.js';
import { type GcPauses, gcPausesOver, phaseReadings, readMetricsText, type ServerLatencies, serverLatencies } from './server_metrics.js';
import { machineCpuMs, mainThreadWaitMs, processCpuMs } from './systems/process_cpu.js';
import { perfBinary, SyscallCounter } from './systems/syscall_counter.js';
import { DEFAULT_SLO_SEARCH, describeProbes, describeSloRate, nextSloRate, probeOf, type SloOutcome, type SloProbe, sloOutcome } from './slo_search.js';
import { systemNamed } from './systems/registry.js';
import type { RunningSystem } from './systems/system.js';
import { workload as workloadNamed, type WorkloadSpec } from './workload.js';
import type { PhaseReport } from './worker_protocol.js';

export interface RunOptions {
  /** Workload letters, in the order to run them. */
  workloads: string[];
  distribution: 'zipfian' | 'uniform';
  recordCount: number;
  /** Operations per workload phase; 0 to time phases by `durationSec` instead. */
  operationCount: number;
  durationSec: number;
  valueSizeBytes: number;
  /** Client worker processes. */
  clients: number;
  /** Requests outstanding per client. */
  inFlight: number;
  hashKeyDigits: number;
  seed: number;
  /** Run every workload at this fixed total throughput (ops/s) instead of at full speed; 0: off. */
  targetOpsPerSec: number;
  /** After each full-speed phase, run it again at this fraction of the throughput it reached; 0: off. */
  fractionOfPeak: number;
  /**
   * After each full-speed phase (and its run at a fraction of the peak), search for the highest
   * rate whose p99 from due is at most this many ms (slo_search.ts); 0: off.
   */
  sloP99Ms: number;
  /** Petrel: partitions of the benchmark table. */
  partitionCount: number;
  /** Where the servers' temporary data directories go. */
  dataRoot: string;
  /** Where to keep a CPU profile of Petrel's replica server 1 (null: no profile). */
  profileDir: string | null;
  /** Count the servers' fdatasync, write and read system calls in each phase (Linux perf). */
  syscalls: boolean;
  /** After the load, wait up to this long for the servers' CPU to calm down (compactions). */
  settleMaxSec: number;
  progress: boolean;
}

export interface SystemRun {
  system: string;
  status: 'ran' | 'skipped' | 'failed';
  /** Why it was skipped or how it failed. */
  reason: string | null;
  description: string | null;
  load: PhaseResult | null;
  phases: PhaseResult[];
  /** The CPU profile written (with --profile), and of which server. */
  profile: { server: string; file: string } | null;
  /** With --slo-p99: per workload run (A, or A#2 for its second run), the highest rate under the bound. */
  slo: Record<string, SloOutcome>;
}

const TIMELINE_INTERVAL_MS = 500;

export type Log = (line: string) => void;

async function phase(
  label: string,
  pool: ClientPool,
  system: RunningSystem,
  options: RunOptions,
  context: { system: string; workload: string; distribution: string; targetOpsPerSec: number | null; sloProbe?: boolean },
  expectedOperations: number,
  expectedMs: number,
  runPhase: (onProgress: (completed: number, errors: number) => void) => Promise<PhaseReport[]>,
): Promise<PhaseResult> {
  const bar = new ProgressBar(label, expectedOperations, expectedMs, options.progress);
  const timelineSamples: [number, number][] = [[0, 0]];
  // Read over HTTP, outside the phase's time window.
  const readMetrics = () => Promise.all(system.servers.map((server) => (server.metricsUrl === undefined ? null : readMetricsText(server.metricsUrl))));
  const metricsBefore = await readMetrics();
  const loadBefore = loadavg()[0]!;
  const startUs = monotonicUs();
  const startedMs = performance.now();
  const serversBefore = system.servers.map((server) => processCpuMs(server.pid));
  const waitsBefore = system.servers.map((server) => mainThreadWaitMs(server.pid));
  const machineBefore = machineCpuMs();
  const counter = options.syscalls ? SyscallCounter.start(system.servers.map((server) => server.pid)) : null;
  const reports = await runPhase((completed, errors) => {
    bar.update(completed, errors);
    const elapsed = performance.now() - startedMs;
    if (elapsed - timelineSamples[timelineSamples.length - 1]![0] >= TIMELINE_INTERVAL_MS) timelineSamples.push([elapsed, completed]);
  });
  const serversAfter = system.servers.map((server) => processCpuMs(server.pid));
  const waitsAfter = system.servers.map((server) => mainThreadWaitMs(server.pid));
  const machineAfter = machineCpuMs();
  const wallMs = performance.now() - startedMs;
  const endUs = monotonicUs();
  const metricsAfter = await readMetrics();
  const syscalls = counter === null ? null : await counter.stop();
  bar.finish();
  const timeline: [number, number][] = [];
  for (let i = 1; i < timelineSamples.length; i++) {
    const [t0, c0] = timelineSamples[i - 1]!;
    const [t1, c1] = timelineSamples[i]!;
    timeline.push([Math.round(t1) / 1000, Math.round(((c1 - c0) * 1000) / (t1 - t0))]);
  }
  let serverCpuPctByProcess: Record<string, number> | null = {};
  for (let i = 0; i < system.servers.length; i++) {
    const before = serversBefore[i];
    const after = serversAfter[i];
    if (before === null || after === null || before === undefined || after === undefined) serverCpuPctByProcess = null;
    else if (serverCpuPctByProcess !== null) serverCpuPctByProcess[system.servers[i]!.name] = percentOf(after - before, wallMs);
  }
  const serverWaitPctByProcess: Record<string, number> = {};
  for (let i = 0; i < system.servers.length; i++) {
    const before = waitsBefore[i];
    const after = waitsAfter[i];
    if (before !== null && before !== undefined && after !== null && after !== undefined) serverWaitPctByProcess[system.servers[i]!.name] = percentOf(after - before, wallMs);
  }
  const serverGcByProcess: Record<string, GcPauses> = {};
  const serverLatencyByProcess: Record<string, ServerLatencies> = {};
  for (let i = 0; i < system.servers.length; i++) {
    const beforeText = metricsBefore[i];
    const afterText = metricsAfter[i];
    if (beforeText == null || afterText == null) continue;
    const name = system.servers[i]!.name;
    const readings = phaseReadings(beforeText, afterText);
    const gc = gcPausesOver(readings, wallMs);
    if (gc !== null) serverGcByProcess[name] = gc;
    const latencies = serverLatencies(readings);
    if (latencies !== null) serverLatencyByProcess[name] = latencies;
  }
  return mergePhase(
    {
      ...context,
      clients: pool.size,
      inFlightPerClient: options.inFlight,
      timeline,
      serverCpuPctByProcess,
      serverWaitPctByProcess,
      serverGcByProcess,
      serverLatencyByProcess,
      machineCpuPct: machineBefore === null || machineAfter === null ? null : percentOf(machineAfter.busy - machineBefore.busy, wallMs),
      loadAverage: [Math.round(loadBefore * 100) / 100, Math.round(loadavg()[0]! * 100) / 100],
      monotonicUs: [startUs, endUs],
      syscalls,
    },
    reports,
  );
}

function shares(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

async function runWorkload(pool: ClientPool, system: RunningSystem, name: string, spec: WorkloadSpec, options: RunOptions, targetOpsPerSec: number, log: Log, sloProbe = false): Promise<PhaseResult> {
  const throttled = targetOpsPerSec > 0;
  const label = `${name.padEnd(6)} ${phaseLabel({ workload: spec.name, targetOpsPerSec: throttled ? targetOpsPerSec : null, sloProbe })}`;
  const insertShare = spec.proportions.insert;
  // YCSB sizes the zipfian over the loaded records plus 2 × the inserts expected; a timed phase
  // has no operation count, so it allows for inserting as many records as were loaded.
  const expectedInsertsPerWorker =
    insertShare === 0 ? 0 : options.operationCount > 0 ? Math.ceil((options.operationCount / options.clients) * insertShare * 2) : Math.ceil(options.recordCount / options.clients);
  const deadlineEpochMs = options.operationCount > 0 ? 0 : performance.timeOrigin + performance.now() + options.durationSec * 1000;
  const result = await phase(
    label,
    pool,
    system,
    options,
    { system: name, workload: spec.name, distribution: spec.requestDistribution, targetOpsPerSec: throttled ? targetOpsPerSec : null, sloProbe },
    options.operationCount,
    options.durationSec * 1000,
    (onProgress) =>
      pool.run(
        (workerIndex) => ({
          type: 'run',
          workload: spec,
          operationCount: options.operationCount > 0 ? shares(options.operationCount, options.clients, workerIndex) : 0,
          deadlineEpochMs,
          inFlight: options.inFlight,
          targetOpsPerSec: throttled ? targetOpsPerSec / options.clients : 0,
          expectedInsertsPerWorker,
        }),
        onProgress,
      ),
  );
  if (result.errors > 0) log(`  ${name} workload ${spec.name}: ${result.errors} operations failed, e.g. ${result.errorSamples[0] ?? '?'}`);
  return result;
}

/** A system being benchmarked: its servers, its client workers, what it measured so far. */
interface Active {
  run: SystemRun;
  running: RunningSystem | undefined;
  pool: ClientPool | undefined;
  dataDir: string;
}

/**
 * Waits until the servers have calmed down after the load — their CPU over the last second
 * under SETTLE_CPU_PCT of one core (an LSM compacts what was just loaded) — or `maxMs` passed, so
 * that neither the system's own first workload nor another system's pays for that work.
 */
const SETTLE_CPU_PCT = 15;
async function settle(system: RunningSystem, maxMs: number): Promise<number> {
  const startedMs = performance.now();
  if (system.servers.length === 0) return 0;
  for (;;) {
    const before = system.servers.map((server) => processCpuMs(server.pid) ?? 0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const used = system.servers.reduce((total, server, i) => total + (processCpuMs(server.pid) ?? 0) - before[i]!, 0);
    if (used / 10 < SETTLE_CPU_PCT || performance.now() - startedMs >= maxMs) return performance.now() - startedMs;
  }
}

async function stopActive(active: Active, log: Log): Promise<void> {
  const { run, running, pool, dataDir } = active;
  await pool?.close().catch(() => pool.kill());
  await running?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  releaseDirectory(dataDir);
  const profiled = running?.profiled;
  if (profiled !== undefined && profiled !== null && profiled.file !== '') {
    run.profile = { server: profiled.name, file: profiled.file };
    try {
      const profile = readProfile(profiled.file);
      for (const measured of [...(run.load ? [run.load] : []), ...run.phases]) measured.profile = summarizeProfile(profile, measured.monotonicUs[0], measured.monotonicUs[1]);
    } catch (error) {
      log(`${run.system}: could not read the CPU profile ${profiled.file}: ${String(error)}`);
    }
  }
}

function fail(active: Active, error: unknown, log: Log): void {
  active.run.status = 'failed';
  active.run.reason = error instanceof Error ? error.message : String(error);
  log(`${active.run.system} failed: ${active.run.reason}`);
}

/** Starts system `name` and its client workers and loads the records; a plain SystemRun when it was skipped or failed. */
async function prepare(name: string, options: RunOptions, log: Log): Promise<Active | SystemRun> {
  const system = systemNamed(name);
  const run: SystemRun = { system: name, status: 'ran', reason: null, description: null, load: null, phases: [], profile: null, slo: {} };
  const unavailable = await system.unavailableReason();
  if (unavailable !== null) {
    log(`skipping ${name}: ${unavailable}`);
    return { ...run, status: 'skipped', reason: unavailable };
  }
  mkdirSync(options.dataRoot, { recursive: true });
  const active: Active = { run, running: undefined, pool: undefined, dataDir: mkdtempSync(join(options.dataRoot, `ycsb-${name}-`)) };
  guardDirectory(active.dataDir);
  try {
    const startingMs = performance.now();
    const running = await system.start({ dataDir: active.dataDir, profileDir: options.profileDir, partitionCount: options.partitionCount, log });
    active.running = running;
    run.description = running.description;
    log(`${name}: ${running.description} (started in ${((performance.now() - startingMs) / 1000).toFixed(1)} s)`);
    const pool = await ClientPool.start({ clients: options.clients, adapter: running.adapter, seed: options.seed, recordCount: options.recordCount, valueSizeBytes: options.valueSizeBytes, hashKeyDigits: options.hashKeyDigits });
    active.pool = pool;
    run.load = await phase(`${name.padEnd(6)} load`, pool, running, options, { system: name, workload: 'load', distribution: 'sequential', targetOpsPerSec: null }, options.recordCount, 0, (onProgress) =>
      pool.load(options.inFlight, onProgress),
    );
    if (run.load.errors > 0) throw new Error(`${run.load.errors} inserts failed while loading, e.g. ${run.load.errorSamples[0] ?? '?'}`);
    const settledMs = await settle(running, options.settleMaxSec * 1000);
    if (settledMs > 1500) log(`${name}: servers settled ${(settledMs / 1000).toFixed(1)} s after the load`);
  } catch (error) {
    fail(active, error, log);
    await stopActive(active, log);
    return run;
  }
  return active;
}

/**
 * Runs the benchmark against every system in `names`: each is started and loaded in turn (and
 * left running), then each workload runs on every system back to back — so that, on a machine
 * shared with other work, the systems compared in one workload ran within a minute or two of
 * each other, not a quarter of an hour apart. Everything is stopped at the end, or as soon as a
 * system fails. Never throws for a system's own failures.
 */
export async function runSystems(names: readonly string[], options: RunOptions, log: Log): Promise<SystemRun[]> {
  if (options.profileDir !== null) mkdirSync(options.profileDir, { recursive: true });
  if (options.syscalls && perfBinary() === null) log('--syscalls: perf not found (Debian package linux-perf); no system call counts');
  for (const name of names) systemNamed(name); // unknown names fail before anything starts
  const runs: SystemRun[] = [];
  let active: Active[] = [];
  try {
    for (const name of names) {
      const prepared = await prepare(name, options, log);
      if ('running' in prepared) {
        runs.push(prepared.run);
        active.push(prepared);
      } else {
        runs.push(prepared);
      }
    }
    const timesSeen = new Map<string, number>();
    for (const letter of options.workloads) {
      const spec = workloadNamed(letter, options.distribution);
      const nth = (timesSeen.get(letter) ?? 0) + 1;
      timesSeen.set(letter, nth);
      for (const system of [...active]) {
        try {
          const run = (rate: number, sloProbe = false) => runWorkload(system.pool!, system.running!, system.run.system, spec, options, rate, log, sloProbe);
          const measured = await run(options.targetOpsPerSec);
          system.run.phases.push(measured);
          if (options.targetOpsPerSec > 0) continue;
          const probes: SloProbe[] = [];
          const search = { ...DEFAULT_SLO_SEARCH, p99Ms: options.sloP99Ms };
          const probe = (phase: PhaseResult) =>
            probes.push(probeOf({ targetOpsPerSec: phase.targetOpsPerSec ?? 0, opsPerSec: phase.opsPerSec, p99Ms: phase.overall.p99Ms, p99MsFromSend: phase.overallService?.p99Ms ?? null, errors: phase.errors }, search));
          if (options.fractionOfPeak > 0) {
            const atFraction = await run(measured.opsPerSec * options.fractionOfPeak);
            system.run.phases.push(atFraction);
            probe(atFraction);
          }
          if (options.sloP99Ms > 0) {
            for (let rate = nextSloRate(measured.opsPerSec, probes, search); rate !== null; rate = nextSloRate(measured.opsPerSec, probes, search)) {
              const probed = await run(rate, true);
              system.run.phases.push(probed);
              probe(probed);
            }
            const outcome = sloOutcome(measured.opsPerSec, probes, options.sloP99Ms);
            system.run.slo[runName(letter, nth)] = outcome;
            log(`  ${system.run.system} ${runName(letter, nth)}: highest rate with p99 ≤ ${options.sloP99Ms} ms: ${describeSloRate(outcome, (value) => `${Math.round(value)} ops/s`)} (probes ${describeProbes(probes, (value) => String(Math.round(value)))})`);
          }
        } catch (error) {
          fail(system, error, log);
          active = active.filter((other) => other !== system);
          await stopActive(system, log);
        }
      }
    }
  } finally {
    await Promise.all(active.map((system) => stopActive(system, log)));
  }
  return runs;
}

/** Runs every phase against one system (see runSystems). */
export async function runSystem(name: string, options: RunOptions, log: Log): Promise<SystemRun> {
  return (await runSystems([name], options, log))[0]!;
}
