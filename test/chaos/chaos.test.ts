/**
 * A short chaos run in npm test (40 s of faults; `npm run test:chaos -- --minutes 30` is the
 * soak): kill -9 and restarts of replica servers and the meta, pauses past the lease, under eight
 * clients; the history must be linearizable per key and every acknowledged write readable.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runChaos } from './chaos.js';

test('40 s of chaos: a linearizable history, nothing acknowledged lost', async () => {
  const seed = Number(process.env.PETREL_CHAOS_SEED ?? Date.now() % 1_000_000);
  const report = await runChaos({ durationMs: 40_000, seed, keys: 100, clients: 6, log: (line) => console.log(line) });
  console.log(`  seed ${seed}: ${report.summary.split('\n')[0]}`);
  assert.ok(report.ok, `${report.summary}\nreplay: PETREL_CHAOS_SEED=${seed} node --import tsx test/chaos/chaos.test.ts`);
  assert.ok(report.acknowledged > 1000, 'the clients got work done through the faults');
  assert.ok(Object.values(report.faults).reduce((a, b) => a + b, 0) >= 4, 'faults were injected');
});

test.run();
