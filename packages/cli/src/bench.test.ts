/**
 * `petrel bench`: through the real `petrel` command (bin/petrel.js, no loader flags of its own),
 * `--help` reaches the benchmark's option list and its exit code comes back; a bad option is the
 * benchmark's usage error, exit 2; without the repository's bench/ the error says what to do.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isPetrelError } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBenchScript } from './bench.js';

const BIN = fileURLToPath(new URL('../bin/petrel.js', import.meta.url));

function petrel(args: string[]): { code: number | null; output: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

test('petrel bench --help prints the benchmark options, exit 0', () => {
  const { code, output } = petrel(['bench', '--help']);
  assert.is(code, 0, output);
  assert.match(output, '--slo-p99');
  assert.match(output, 'systems: ');
});

test('petrel bench with an unknown option: the benchmark says so, exit 2', () => {
  const { code, output } = petrel(['bench', '--no-such-option']);
  assert.is(code, 2, output);
  assert.match(output, 'unknown option --no-such-option');
});

test('petrel lists bench among its commands', () => {
  const { code, output } = petrel(['help']);
  assert.is(code, 0, output);
  assert.match(output, /^ {2}bench +the YCSB cluster benchmark/m);
});

test('without bench/cluster.ts the error names the path and what to run instead', async () => {
  try {
    await runBenchScript(['--help'], '/nonexistent/petrel/bench/cluster.ts');
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.ok(isPetrelError(error) && error.code === 'NOT_FOUND', String(error));
    assert.match(String((error as Error).message), '/nonexistent/petrel/bench/cluster.ts');
    assert.match(String((error as Error).message), 'npm run bench:cluster');
  }
});

test.run();
