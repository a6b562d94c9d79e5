/**
 * bench/all.ts — `npm run bench [-- --quick]`: every benchmark in turn, each in its own process
 * with the same flags, then one line per benchmark with how it ended and its BENCH figures' file.
 * Ends with `BENCH {json}` naming each benchmark's exit code and duration.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { quick, report, round, table } from './lib/report.js';

const BENCHES = ['wal', 'wire', 'codec', 'engine', 'compaction', 'app', 'learn', 'server_gc', 'cluster'];
const args = process.argv.slice(2);
const results: Record<string, { exitCode: number | null; seconds: number }> = {};
for (const name of BENCHES) {
  console.log(`\n=== bench:${name.replace('_', '-')} ${args.join(' ')}`);
  const started = performance.now();
  const child = spawnSync(process.execPath, [...process.execArgv, join(import.meta.dirname, `${name}.ts`), ...args], { stdio: 'inherit' });
  results[name] = { exitCode: child.status, seconds: round((performance.now() - started) / 1000, 1) };
}
console.log(
  '\n' +
    table(
      ['benchmark', 'exit code', 'seconds', 'figures'],
      BENCHES.map((name) => [name, String(results[name]!.exitCode), results[name]!.seconds, `bench/results/${name}.json`]),
    ),
);
report('all', { quick, benches: results });
if (Object.values(results).some((result) => result.exitCode !== 0)) process.exitCode = 1;
