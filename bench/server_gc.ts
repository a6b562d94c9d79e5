/**
 * bench/server_gc.ts — what reusing outgoing frame buffers does for a read-heavy cluster: the same
 * run (bench/lib/server_gc_run.ts: 3 replica servers as processes, replica count 3, 1 KiB values,
 * reads with 64 in flight) with the transport's reused frame buffers and with a fresh buffer per
 * frame (`PETREL_FRAME_BUFFERS=fresh`), alternating, each run in its own processes. Reports reads/s,
 * the replica servers' CPU per read and their major garbage collections per second, the medians
 * of each mode and the ratios (reused ÷ fresh).
 *
 *   npm run bench:server-gc [-- --quick]
 *
 * --quick: 5,000 records, 4 s of reads, one run of each; full: 30,000 records, 10 s, three of each.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { median, quick, report, round, table } from './lib/report.js';

const records = quick ? 5_000 : 30_000;
const seconds = quick ? 4 : 10;
const pairs = quick ? 1 : 3;
const MODES = ['reused', 'fresh'] as const;
type Mode = (typeof MODES)[number];
interface Run {
  readsPerSec: number;
  serverCpuMicrosPerRead: number;
  majorGcsPerSec: number;
  majorGcsByServer: number[];
}

const runs: Record<Mode, Run[]> = { reused: [], fresh: [] };
for (let pair = 0; pair < pairs; pair++) {
  // Alternate which mode goes first: the machine's speed drifts.
  for (const mode of pair % 2 === 0 ? MODES : [...MODES].reverse()) {
    const output = execFileSync(process.execPath, [...process.execArgv, join(import.meta.dirname, 'lib', 'server_gc_run.ts'), String(records), String(seconds)], {
      env: { ...process.env, PETREL_FRAME_BUFFERS: mode },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const run = JSON.parse(output.trim().split('\n').at(-1)!) as Run;
    runs[mode].push(run);
    console.error(`  ${mode}: ${Math.round(run.readsPerSec).toLocaleString('en-US')} reads/s, ${run.serverCpuMicrosPerRead.toFixed(1)} µs server CPU a read, ${run.majorGcsPerSec.toFixed(2)} major GCs/s (${run.majorGcsByServer.join(' / ')})`);
  }
}

const summary = Object.fromEntries(
  MODES.map((mode) => [
    mode,
    {
      readsPerSec: round(median(runs[mode].map((run) => run.readsPerSec)), 0),
      serverCpuMicrosPerRead: round(median(runs[mode].map((run) => run.serverCpuMicrosPerRead)), 1),
      majorGcsPerSec: round(median(runs[mode].map((run) => run.majorGcsPerSec)), 2),
    },
  ]),
) as Record<Mode, { readsPerSec: number; serverCpuMicrosPerRead: number; majorGcsPerSec: number }>;
console.log(`bench:server-gc — ${records.toLocaleString('en-US')} records of 1 KiB, ${seconds} s of reads, ${pairs} run(s) of each; medians:`);
console.log(
  table(
    ['frame buffers', 'reads/s', 'server CPU µs / read', 'major GCs / s (3 servers)'],
    MODES.map((mode) => [mode, summary[mode].readsPerSec, summary[mode].serverCpuMicrosPerRead, summary[mode].majorGcsPerSec]),
  ),
);
const ratios = {
  readsPerSec: round(summary.reused.readsPerSec / summary.fresh.readsPerSec),
  serverCpuMicrosPerRead: round(summary.reused.serverCpuMicrosPerRead / summary.fresh.serverCpuMicrosPerRead),
  majorGcsPerSec: summary.fresh.majorGcsPerSec === 0 ? null : round(summary.reused.majorGcsPerSec / summary.fresh.majorGcsPerSec),
};
console.log(`reused ÷ fresh: reads/s ${ratios.readsPerSec}, CPU per read ${ratios.serverCpuMicrosPerRead}, major GCs ${ratios.majorGcsPerSec ?? '-'}`);
report('server_gc', { records, seconds, runs, medians: summary, ratios });
