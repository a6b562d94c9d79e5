/**
 * `petrel bench [options]`: the YCSB cluster benchmark (the repository's bench/cluster.ts, the same
 * as `npm run bench:cluster`), run as a child of this Node with the TypeScript loader, its output
 * and exit code passed through. It needs a checkout: the bench and its peers' npm clients are
 * development dependencies, not part of an installed server. `petrel bench --help` lists its
 * options (bench/README.md explains every number).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PetrelError } from '@petrel/base';
import { childNodeFlags } from './loader.js';

export const BENCH_SCRIPT = fileURLToPath(new URL('../../../bench/cluster.ts', import.meta.url));

/** Runs the benchmark with `args`; resolves with its exit code. */
export async function runBenchScript(args: readonly string[], script = BENCH_SCRIPT): Promise<number> {
  if (!existsSync(script)) {
    throw new PetrelError('NOT_FOUND', `petrel bench runs the repository's bench/cluster.ts, which is not at ${script}: run it from a checkout of Petrel (npm install, then npm run bench:cluster)`);
  }
  const child = spawn(process.execPath, [...childNodeFlags(), script, ...args], { stdio: 'inherit' });
  // Ctrl-C reaches the child from the terminal, and this process waits for it to clean up; a
  // SIGTERM sent to this process alone is passed on, so that the bench stops the servers it started.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  const waitForChild = () => undefined;
  process.on('SIGTERM', forward);
  process.on('SIGINT', waitForChild);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal])));
    });
  } finally {
    process.off('SIGTERM', forward);
    process.off('SIGINT', waitForChild);
  }
}

export async function runBench(args: string[]): Promise<void> {
  process.exitCode = await runBenchScript(args);
}

export function benchHelp(): string {
  return [
    'usage: petrel bench [options]',
    '',
    "YCSB workloads against a local Petrel cluster and its peers (Redis, etcd) — the repository's",
    'bench/cluster.ts, as `npm run bench:cluster`. Results go to bench/results/; the last line is BENCH {json}.',
    '',
    'petrel bench --help prints its options.',
  ].join('\n');
}
