/**
 * The test runner behind `npm test`. It finds every `*.test.ts` under packages/, test/ and
 * bench/, runs each file in its own Node process (two at a time: one a core), reads uvu's per-file
 * summary, and ends with the one line CI reads: `N passed, M failed` (plus `, K skipped`). It
 * exits non-zero when anything failed, including a file that crashed before uvu could report.
 *
 *   npm test                      every test that fits in CI
 *   npm test -- wal lsm           only files whose path contains one of these words
 *   npm run test:long             also `*.long.test.ts`, with PETREL_TEST_LONG=1 (more runs, soaks)
 *   npm test -- --jobs 1          one file at a time
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const long = args.includes('--long');
let jobs = Math.max(1, Math.min(2, availableParallelism()));
const filters: string[] = [];
const passThrough: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i] as string;
  if (arg === '--long') continue;
  if (arg === '--jobs') jobs = Number(args[++i]);
  else if (arg === '--') passThrough.push(...args.slice(i + 1)), (i = args.length);
  else if (arg.startsWith('--')) passThrough.push(arg, ...(args[i + 1] && !args[i + 1]!.startsWith('--') ? [args[++i]!] : []));
  else filters.push(arg);
}
const fileTimeoutMs = Number(process.env.PETREL_TEST_FILE_TIMEOUT_MS ?? (long ? 3_600_000 : 600_000));

function findTests(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.ts') && (long || !name.endsWith('.long.test.ts'))) out.push(path);
  }
}

const files: string[] = [];
findTests(join(root, 'packages'), files);
findTests(join(root, 'test'), files);
findTests(join(root, 'bench'), files);
const selected = files
  .map((file) => relative(root, file))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  seconds: number;
  output: string;
  crashed: boolean;
}

function count(output: string, label: string): number | undefined {
  const match = new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'gm');
  let total: number | undefined;
  for (const m of output.matchAll(match)) total = (total ?? 0) + Number(m[1]);
  return total;
}

function runFile(file: string): Promise<FileResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...passThrough], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...(long ? { PETREL_TEST_LONG: '1' } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }, fileTimeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Kill anything the file left behind (servers it failed to stop).
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
      const total = count(output, 'Total');
      const passed = count(output, 'Passed') ?? 0;
      const skipped = count(output, 'Skipped') ?? 0;
      // uvu's Total counts the tests that ran; skipped ones are not among them.
      let failed = total === undefined ? 0 : total - passed;
      const crashed = total === undefined || (code !== 0 && failed === 0);
      if (crashed) failed += 1;
      if (timedOut) output += `\n[runner] killed after ${fileTimeoutMs} ms\n`;
      else if (code !== 0) output += `\n[runner] exited with ${signal ?? code}\n`;
      resolve({ file, passed, failed, skipped, seconds: (performance.now() - started) / 1000, output, crashed });
    });
  });
}

// The soaks (`*.long.test.ts`) run last and alone: they measure the event loop's worst stall,
// which another test's processes on the same two cores would add to (the LSM soak, run beside
// other files, once stalled 175 ms; alone, 27–36 ms).
const soaks = selected.filter((file) => file.endsWith('.long.test.ts'));
const queue = [...selected.filter((file) => !file.endsWith('.long.test.ts')), ...soaks];
const results: FileResult[] = [];
let next = 0;
async function worker(): Promise<void> {
  while (next < queue.length) {
    const file = queue[next] as string;
    // A soak waits until every other file has ended, and the other worker stops at it.
    if (soaks.includes(file) && results.length < next) return;
    next++;
    const result = await runFile(file);
    results.push(result);
    const status = result.failed > 0 ? 'FAIL' : 'ok  ';
    const skipped = result.skipped > 0 ? `, ${result.skipped} skipped` : '';
    console.log(`${status} ${file}  (${result.passed} passed${skipped}, ${result.seconds.toFixed(1)}s)`);
    if (result.failed > 0) console.log(result.output.replace(/^/gm, '    | '));
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: jobs }, worker));
// The workers stop at the first soak while another file still runs; the soaks then run one at a time.
await worker();
const passed = results.reduce((sum, r) => sum + r.passed, 0);
const failed = results.reduce((sum, r) => sum + r.failed, 0);
const skipped = results.reduce((sum, r) => sum + r.skipped, 0);
console.log(`\n${selected.length} test files in ${((performance.now() - started) / 1000).toFixed(1)}s`);
if (selected.length === 0) console.log('no test file matched');
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed > 0 || selected.length === 0 ? 1 : 0;
