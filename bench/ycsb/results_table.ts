/**
 * The results table printed on screen: one row per phase, then one per operation in it. At a
 * fixed target, latencies count from when each request was due; "from sent" counts from when it
 * was really sent (see results.ts).
 */
import { formatNumber, table } from '../lib/report.js';
import { phaseLabel } from './results.js';
import type { SystemRun } from './runner.js';

export function resultsTable(runs: SystemRun[]): string {
  const rows: (string | number)[][] = [];
  for (const run of runs) {
    const phases = [...(run.load ? [run.load] : []), ...run.phases];
    for (const phase of phases) {
      const name = phaseLabel(phase);
      const o = phase.overall;
      const sent = phase.overallService === null ? '' : `${formatNumber(phase.overallService.p50Ms)} / ${formatNumber(phase.overallService.p99Ms)}`;
      rows.push([`${run.system} ${name}`, phase.opsPerSec, o.p50Ms, o.p95Ms, o.p99Ms, o.p999Ms, o.maxMs, sent, String(phase.errors), `${phase.clientCpuPct}%`, phase.serverCpuPct === null ? '–' : `${phase.serverCpuPct}%`]);
      const operations = Object.entries(phase.perOperation);
      if (operations.length > 1) {
        for (const [operation, s] of operations) rows.push([`    ${operation}`, s.opsPerSec, s.p50Ms, s.p95Ms, s.p99Ms, s.p999Ms, s.maxMs, '', String(s.errors), '', '']);
      }
    }
  }
  return table(['system / workload', 'ops/s', 'p50 ms', 'p95 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'p50 / p99 from sent', 'errors', 'client CPU', 'server CPU'], rows);
}
