/**
 * A pool's `nice` option (PETREL_BACKGROUND_NICE for the shared pools): its worker thread lowers
 * its own priority (Linux: setpriority on its thread id) and leaves the rest of the process alone.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CompactionPool } from './pool.js';

/** The nice value of each thread of this process (field 19 of /proc/self/task/<tid>/stat). */
function niceByThread(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    nice.set(Number(tid), Number(fields[16]));
  }
  return nice;
}

test('a pool worker runs at the nice value the pool was given; the main thread does not', async () => {
  if (process.platform !== 'linux') return;
  const before = new Set(niceByThread().keys());
  const pool = new CompactionPool(1, { nice: 7 });
  try {
    await pool.whenReady();
    const after = niceByThread();
    const started = [...after].filter(([tid]) => !before.has(tid));
    assert.ok(started.some(([, nice]) => nice === 7), `no new thread at nice 7: ${JSON.stringify(started)}`);
    assert.is(after.get(process.pid), 0, 'the main thread keeps its priority');
  } finally {
    await pool.close();
  }
});

test('without a nice value a pool worker keeps the process priority', async () => {
  if (process.platform !== 'linux') return;
  const before = new Set(niceByThread().keys());
  const pool = new CompactionPool(1);
  try {
    await pool.whenReady();
    const started = [...niceByThread()].filter(([tid]) => !before.has(tid));
    assert.ok(started.length > 0, 'the pool started a thread');
    assert.ok(started.every(([, nice]) => nice === 0), JSON.stringify(started));
  } finally {
    await pool.close();
  }
});

test.run();
