/**
 * bench/cluster.ts — YCSB workloads against a real Petrel cluster and its peers, in the same run,
 * on the same machine, with the same records, workloads and concurrency (bench/README.md,
 * "bench:cluster", explains every number):
 *
 *   petrel  1 meta + 3 replica servers (processes), table with replica count 3, fsync group commit
 *   redis   one redis-server, appendonly yes + appendfsync everysec (RDB snapshots off)
 *   etcd    a 3-member etcd cluster, its default durability (WAL fsync), linearizable reads
 *
 * Each system is started on 127.0.0.1 on free ports with its data in a temporary directory under
 * .tmp/ and loaded; then each workload runs on every system back to back; at the end (also on
 * errors and on Ctrl-C, ycsb/process_guard.ts) every server is stopped and its directory removed. A peer whose binary or npm client is missing is skipped
 * with a message. Prints the results, Petrel / peer throughput ratios and the CPU split, writes
 * bench/results/cluster.json and cluster.html, and ends with `BENCH {json}`: per workload
 * `opsPerSec` and `p99Ms` (Petrel's), `ratioVs` {peer: Petrel ops/s ÷ peer ops/s} for the peers
 * that ran, and every system's own figures.
 *
 *   npm run bench:cluster [-- --quick] [-- --systems petrel --workloads A,C --duration 5 --profile]
 *
 * --quick: workloads A, B, C, F; 5,000 records; 1.5 s per workload: within a minute for all three.
 * Full: A, B, C, F, D, E; 100,000 records; 15 s per workload, each run again at 50% of the
 * throughput it reached, to report p99 latency at that load. `--slo-p99 MS` adds a search for the
 * highest rate whose p99 stays under MS (ycsb/slo_search.ts) and its Petrel / peer ratios.
 */
import { writeFileSync } from 'node:fs';
import { isPetrelError } from '@petrel/base';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { formatNumber, machine, quick, report, round, table } from './lib/report.js';
import { describeServerLatencies, SERVER_LATENCY_FIGURES } from './ycsb/server_metrics.js';
import { htmlReport } from './ycsb/html_report.js';
import { describeProbes, describeSloRate } from './ycsb/slo_search.js';
import { defaultRunOptions, HELP, parseCommandLine } from './ycsb/options.js';
import { type PhaseResult, phaseLabel, runName } from './ycsb/results.js';
import { resultsTable } from './ycsb/results_table.js';
import { LATENCY_TARGET_MS } from './ycsb/worker_protocol.js';
import { runSystems, type SystemRun } from './ycsb/runner.js';

if (process.argv.includes('--help')) {
  console.log(HELP);
  process.exit(0);
}
const startedMs = performance.now();
let commandLine: ReturnType<typeof parseCommandLine>;
try {
  commandLine = parseCommandLine(process.argv.slice(2), defaultRunOptions(quick));
} catch (error) {
  console.error(isPetrelError(error) ? error.message : error);
  process.exit(2);
}
const { systems, name, run: options } = commandLine;
const chosen = systems ?? ['petrel', 'redis', 'etcd'];
const loadAtStart = loadavg().map((value) => round(value, 2));
console.error(`load average at start: ${loadAtStart.join(' ')} (${machine().cores} cores)`);

const runs: SystemRun[] = await runSystems(chosen, options, (line) => console.error(line));
const loadAtEnd = loadavg().map((value) => round(value, 2));

/**
 * The `nth` closed-loop run of `workload` (a workload may be named twice: `--workloads C,C`) —
 * or, with `--target`, its run at that rate, the only one there is.
 */
function fullSpeed(run: SystemRun | undefined, workload: string, nth = 0): PhaseResult | undefined {
  const fixedRate = options.targetOpsPerSec > 0;
  return run?.phases.filter((phase) => phase.workload === workload && (phase.targetOpsPerSec !== null) === fixedRate)[nth];
}
/** The `nth` open-loop run of `workload`, at the fraction of its peak. */
function throttled(run: SystemRun | undefined, workload: string, nth = 0): PhaseResult | undefined {
  if (options.targetOpsPerSec > 0) return undefined;
  return run?.phases.filter((phase) => phase.workload === workload && phase.targetOpsPerSec !== null && !phase.sloProbe)[nth];
}
function figures(phase: PhaseResult, atFraction: PhaseResult | undefined): Record<string, unknown> {
  return {
    ...(phase.targetOpsPerSec === null ? {} : { targetOpsPerSec: round(phase.targetOpsPerSec, 1), p99MsFromSend: phase.overallService?.p99Ms ?? null }),
    opsPerSec: round(phase.opsPerSec, 1),
    p50Ms: phase.overall.p50Ms,
    p95Ms: phase.overall.p95Ms,
    p99Ms: phase.overall.p99Ms,
    p999Ms: phase.overall.p999Ms,
    maxMs: phase.overall.maxMs,
    errors: phase.errors,
    notFound: phase.overall.notFound,
    ...(atFraction ? { atFractionOfPeak: { targetOpsPerSec: round(atFraction.targetOpsPerSec ?? 0, 1), opsPerSec: round(atFraction.opsPerSec, 1), p50Ms: atFraction.overall.p50Ms, p99Ms: atFraction.overall.p99Ms, p999Ms: atFraction.overall.p999Ms, p99MsFromSend: atFraction.overallService?.p99Ms ?? null } } : {}),
    cpuPct: { clients: phase.clientCpuPct, servers: phase.serverCpuPct, byServer: phase.serverCpuPctByProcess, machine: phase.machineCpuPct },
    ...tail(phase),
    ...(atFraction ? { atFractionOfPeakTail: tail(atFraction) } : {}),
    loadAverage: phase.loadAverage,
    perOperation: Object.fromEntries(Object.entries(phase.perOperation).map(([operation, s]) => [operation, { opsPerSec: round(s.opsPerSec, 1), p50Ms: s.p50Ms, p99Ms: s.p99Ms, p999Ms: s.p999Ms, maxMs: s.maxMs, errors: s.errors }])),
    ...(phase.recordsPerScan === null ? {} : { recordsPerScan: round(phase.recordsPerScan, 1) }),
    ...(phase.syscalls === null ? {} : { syscallsPerSec: perSecond(phase), writesPerFdatasync: writesPerFdatasync(phase) }),
    ...(phase.profile === null ? {} : { profile: { busyPct: phase.profile.busyPct, byArea: phase.profile.byArea.slice(0, 8), topSelf: phase.profile.topSelf.slice(0, 10) } }),
  };
}

/** How bursty the slow operations were, and how long the servers' main threads waited for a core. */
function tail(phase: PhaseResult): Record<string, unknown> {
  return {
    ...(phase.overTarget === null ? {} : { overTargetPct: phase.overTarget.pct, overTargetWorstTenthShare: phase.overTarget.worstTenthShare }),
    ...(Object.keys(phase.serverWaitPctByProcess).length === 0 ? {} : { serverMainThreadWaitPct: phase.serverWaitPctByProcess }),
    ...(Object.keys(phase.serverGcByProcess).length === 0 ? {} : { serverGcPauses: phase.serverGcByProcess }),
    ...(Object.keys(phase.serverLatencyByProcess).length === 0 ? {} : { serverLatencies: phase.serverLatencyByProcess }),
  };
}

/** Writes (updates, inserts, read-modify-writes) the clients completed in the phase. */
function writesOf(phase: PhaseResult): number {
  const { update, insert, readModifyWrite } = phase.perOperation;
  return (update?.count ?? 0) + (insert?.count ?? 0) + (readModifyWrite?.count ?? 0);
}
function perSecond(phase: PhaseResult): Record<string, number> {
  return Object.fromEntries(Object.entries(phase.syscalls ?? {}).map(([name, count]) => [name, round(count / phase.durationSec, 1)]));
}
function writesPerFdatasync(phase: PhaseResult): number | null {
  const syncs = (phase.syscalls?.fdatasync ?? 0) + (phase.syscalls?.fsync ?? 0);
  return syncs === 0 ? null : round(writesOf(phase) / syncs, 3);
}

const petrel = runs.find((run) => run.system === 'petrel' && run.status === 'ran');
const peers = runs.filter((run) => run.system !== 'petrel' && run.status === 'ran');
const workloads: Record<string, unknown> = {};
const ratioRows: (string | number)[][] = [];
const sloRows: (string | number)[][] = [];
const comparisonRows: (string | number)[][] = [];
const fractionLabel = `p99 ms at ${Math.round(options.fractionOfPeak * 100)}% of peak: from due / from sent`;
const timesSeen = new Map<string, number>();
for (const workload of options.workloads) {
  // A workload named again is reported as C#2, C#3, …: its own runs, not the first one's.
  const nth = timesSeen.get(workload) ?? 0;
  timesSeen.set(workload, nth + 1);
  const letter = runName(workload, nth + 1);
  const own = fullSpeed(petrel, workload, nth);
  const ownAtFraction = throttled(petrel, workload, nth);
  const ratioVs: Record<string, number> = {};
  const bySystem: Record<string, unknown> = {};
  const ownSlo = petrel?.slo[letter];
  const sloRatioVs: Record<string, number | null> = {};
  for (const run of runs) {
    const phase = fullSpeed(run, workload, nth);
    if (phase === undefined) continue;
    const atFraction = throttled(run, workload, nth);
    const slo = run.slo[letter];
    bySystem[run.system] = { ...figures(phase, atFraction), ...(slo === undefined ? {} : { atP99Bound: slo }) };
    if (slo !== undefined) {
      // A peer that met the bound at no rate probed: no ratio (null), said so in the table.
      if (run !== petrel && ownSlo?.opsPerSec != null) sloRatioVs[run.system] = slo.opsPerSec === null ? null : round(ownSlo.opsPerSec / slo.opsPerSec, 3);
      sloRows.push([
        `${letter} ${run.system}`,
        describeSloRate(slo, formatNumber),
        slo.fractionOfPeak === null ? '–' : `${Math.round(slo.fractionOfPeak * 100)}%`,
        slo.p99Ms ?? '–',
        describeProbes(slo.probes, formatNumber),
      ]);
    }
    if (options.targetOpsPerSec === 0 && run !== petrel && own !== undefined && phase.opsPerSec > 0) ratioVs[run.system] = round(own.opsPerSec / phase.opsPerSec, 3);
    comparisonRows.push([
      `${letter} ${run.system}`,
      phase.opsPerSec,
      phase.overall.p50Ms,
      phase.overall.p99Ms,
      phase.overall.p999Ms,
      ...(options.fractionOfPeak > 0 ? [atFraction ? `${formatNumber(atFraction.overall.p99Ms)} / ${formatNumber(atFraction.overallService?.p99Ms ?? NaN)}` : '–'] : []),
      `${phase.clientCpuPct}% / ${phase.serverCpuPct ?? '–'}% / ${phase.machineCpuPct ?? '–'}%`,
      String(phase.errors),
    ]);
  }
  workloads[letter] = {
    opsPerSec: own ? round(own.opsPerSec, 1) : null,
    p99Ms: own ? own.overall.p99Ms : null,
    p99MsAtFractionOfPeak: own ? (ownAtFraction?.overall.p99Ms ?? null) : null,
    p99MsAtFractionOfPeakFromSend: own ? (ownAtFraction?.overallService?.p99Ms ?? null) : null,
    ratioVs,
    ...(ownSlo === undefined ? {} : { p99BoundMs: ownSlo.p99BoundMs, opsPerSecAtP99Bound: ownSlo.opsPerSec === null ? null : round(ownSlo.opsPerSec, 1), ratioVsAtP99Bound: sloRatioVs }),
    systems: bySystem,
  };
  if (own) ratioRows.push([letter, ...peers.map((peer) => (ratioVs[peer.system] === undefined ? '–' : `${ratioVs[peer.system]!.toFixed(2)}×`))]);
}

console.log(resultsTable(runs));
console.log('');
console.log(table(['workload / system', 'ops/s', 'p50 ms', 'p99 ms', 'p99.9 ms', ...(options.fractionOfPeak > 0 ? [fractionLabel] : []), 'CPU clients / servers / machine', 'errors'], comparisonRows));
for (const run of runs) if (run.status !== 'ran') console.log(`${run.system}: ${run.status} — ${run.reason}`);
if (ratioRows.length > 0 && peers.length > 0) {
  console.log('');
  console.log(table(['Petrel ops/s ÷', ...peers.map((peer) => peer.system)], ratioRows));
} else {
  console.log(petrel ? 'no Petrel / peer ratios: no peer ran' : 'no Petrel / peer ratios: Petrel did not run');
}
if (sloRows.length > 0) {
  console.log('');
  console.log(
    `The highest rate with p99 (from due) ≤ ${options.sloP99Ms} ms, no errors and the clients keeping up: probes halve from half the peak until one meets it, then bisect (ycsb/slo_search.ts); each probe as target ops/s:p99 ms, ✓ met:`,
  );
  console.log(table(['workload / system', `ops/s with p99 ≤ ${options.sloP99Ms} ms`, 'of its peak', 'p99 ms there', 'probes'], sloRows));
}
const syscallRows: (string | number)[][] = [];
for (const run of runs) {
  for (const phase of run.load ? [run.load, ...run.phases] : run.phases) {
    if (phase.syscalls === null) continue;
    const rate = perSecond(phase);
    const label = phaseLabel(phase);
    syscallRows.push([`${run.system} ${label}`, phase.opsPerSec, writesOf(phase) / phase.durationSec, (rate.fdatasync ?? 0) + (rate.fsync ?? 0), writesPerFdatasync(phase) ?? '–', rate.pwrite64 ?? 0, rate.writev ?? 0, rate.write ?? 0, rate.read ?? 0]);
  }
}
if (syscallRows.length > 0) {
  console.log('');
  console.log('System calls of all server processes, per second (perf):');
  console.log(table(['system / workload', 'ops/s', 'writes/s', 'fdatasync+fsync/s', 'writes per sync', 'pwrite64/s', 'writev/s', 'write/s', 'read/s'], syscallRows));
  if (runs.some((run) => run.system === 'petrel' && run.status === 'ran')) {
    console.log("Petrel's mutation logs make a group durable with one pwrite64 through an O_DSYNC descriptor: those syncs are in pwrite64/s, not in fdatasync+fsync/s (each server's count: 'log fsyncs' in the table of the servers' metrics).");
  }
}
const tailRows: (string | number)[][] = [];
for (const run of runs) {
  for (const phase of run.phases) {
    if (phase.overTarget === null) continue;
    const label = phaseLabel(phase);
    const waits = Object.entries(phase.serverWaitPctByProcess).map(([server, pct]) => `${server} ${pct}%`);
    const gc = Object.entries(phase.serverGcByProcess)
      .filter(([server]) => server !== 'meta')
      .map(([server, pauses]) => `${server} ${pauses.pausePct}% ${pauses.major}/${pauses.over20Ms}`);
    tailRows.push([
      `${run.system} ${label}`,
      phase.overall.p99Ms,
      `${phase.overTarget.pct}%`,
      phase.overTarget.worstTenthShare === null ? '–' : `${Math.round(phase.overTarget.worstTenthShare * 100)}%`,
      waits.length === 0 ? '–' : waits.join(', '),
      gc.length === 0 ? '–' : gc.join(', '),
    ]);
  }
}
if (tailRows.length > 0) {
  console.log('');
  console.log(`The tail: operations over ${LATENCY_TARGET_MS} ms (from due), the share of them in the worst tenth of the seconds (10%: spread evenly), how long each server's main thread waited for a core, and its garbage-collection pauses (% of the phase, major collections / pauses over ${LATENCY_TARGET_MS} ms):`);
  console.log(table(['system / workload', 'p99 ms', `over ${LATENCY_TARGET_MS} ms`, 'in worst 10% of seconds', 'each server main thread\'s run-queue wait', 'replica GC pauses: % major/>20ms'], tailRows));
}
const latencyRows: (string | number)[][] = [];
for (const run of runs) {
  for (const phase of run.phases) {
    const servers = Object.entries(phase.serverLatencyByProcess);
    if (servers.length === 0 || phase.overTarget === null) continue;
    const label = phaseLabel(phase);
    const wallSec = phase.durationSec;
    for (const [server, latencies] of servers) {
      latencyRows.push([
        `${run.system} ${label} ${server}`,
        ...describeServerLatencies(latencies, wallSec).map(([, text]) => text),
        latencies.lsmStallMs === null ? '–' : formatNumber(Math.round(latencies.lsmStallMs)),
        latencies.eventLoopDelayMs === null ? '–' : `${latencies.eventLoopDelayMs.p99} / ${latencies.eventLoopDelayMs.max}`,
      ]);
    }
  }
}
if (latencyRows.length > 0) {
  console.log('');
  console.log(
    `Inside the replica servers (from their /metrics; p99 as a bucket bound, ms): each server's mutation-log fsyncs; the sets it served as a primary, from arrival to reply (its log, the secondaries, the commit); the prepares it sent as a primary, from sending to the ack; those it took as a secondary, from arrival to its ack; the time writes waited in its LSMs' write stalls; its event loop's delay (how late its timers ran) over the phase's last 10 s:`,
  );
  console.log(table(['system / workload / server', ...SERVER_LATENCY_FIGURES.map(([label]) => label), 'LSM stall ms', 'loop delay p99 / max ms'], latencyRows));
}
for (const run of runs) {
  if (run.profile === null) continue;
  console.log('');
  console.log(`CPU profile of ${run.system} ${run.profile.server} (main thread; ${run.profile.file}):`);
  for (const phase of [...(run.load ? [run.load] : []), ...run.phases]) {
    if (phase.profile === null) continue;
    const label = phaseLabel(phase);
    console.log(`\n${label}: ${formatNumber(phase.opsPerSec)} ops/s; main thread busy ${phase.profile.busyPct}% of ${phase.profile.samples} samples; by area: ${phase.profile.byArea.slice(0, 8).map((a) => `${a.area} ${a.selfPct}%`).join(', ')}`);
    console.log(table(['self time (top functions)', 'self %', 'total %'], phase.profile.topSelf.slice(0, 12).map((f) => [f.function, f.selfPct, f.totalPct])));
    console.log(table(['total time (Petrel functions)', 'self %', 'total %'], phase.profile.topTotal.slice(0, 12).map((f) => [f.function, f.selfPct, f.totalPct])));
  }
}

const { dataRoot: _dataRoot, progress: _progress, ...shownOptions } = options;
const systemsFigure = Object.fromEntries(
  runs.map((run) => [run.system, { status: run.status, description: run.description, reason: run.reason, loadOpsPerSec: run.load ? round(run.load.opsPerSec, 1) : null, ...(run.profile ? { profile: run.profile } : {}) }]),
);
const html = join(import.meta.dirname, 'results', `${name}.html`);
report(name, { options: shownOptions, loadAverage: { start: loadAtStart, end: loadAtEnd }, systems: systemsFigure, workloads, elapsedSec: round((performance.now() - startedMs) / 1000, 1) });
writeFileSync(html, htmlReport('Petrel cluster benchmark (YCSB)', { date: new Date().toISOString(), machine: machine(), loadAverage: { start: loadAtStart, end: loadAtEnd }, options: shownOptions }, runs));
console.error(`HTML report: ${html}`);
