/**
 * bench:learn — learning by checkpoint. A one-partition table on three replica servers (in this
 * process) is filled with 1 KiB values (200 MiB; 20 MiB with --quick) until the partition's log
 * no longer reaches its first decree, so a newcomer cannot learn from the log. Then one server
 * is stopped and an empty one joins: the meta adds it as a learner, the primary hands it a
 * hard-linked LSM checkpoint, the learner fetches the files in 1 MiB chunks, reopens on them,
 * catches up the rest from the primary's cache, and is promoted to secondary.
 *
 * Reports the checkpoint size, the file transfer time and MB/s, and the time from the newcomer's
 * start to its promotion. The BENCH line carries "checkpointMiB", "fetchMs", "fetchMiBPerSec",
 * "promotedMs".
 *
 *   npm run bench:learn [-- --quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initChecksum } from '@petrel/base';
import { MetaServer } from '@petrel/meta';
import type { RoutingResponse } from '@petrel/protocol';
import { ReplicaServer } from '@petrel/replica';
import { RawCluster } from '@petrel/cli';
import { quick, report, round, table } from './lib/report.js';

const TARGET_BYTES = (quick ? 20 : 200) * 2 ** 20;
const VALUE_BYTES = 1024;
const WRITERS = 32;

await initChecksum();
const root = mkdtempSync(join(tmpdir(), 'petrel-bench-learn-'));
const quiet = (): void => undefined;
const meta = await MetaServer.start({ listen: '127.0.0.1:0', dataDir: join(root, 'meta'), log: quiet });
const replicas: ReplicaServer[] = [];
for (let i = 0; i < 3; i++) replicas.push(await ReplicaServer.start({ listen: '127.0.0.1:0', meta: [meta.address], dataDir: join(root, `r${i}`), log: quiet }));
const client = await RawCluster.open([meta.address]);
try {
  await client.meta('createTable', { name: 'learn', partitionCount: 1, replicaCount: 3, envs: {}, successIfExists: false });
  await client.waitHealthy('learn', 30_000);
  const value = 'x'.repeat(VALUE_BYTES);
  const count = Math.ceil(TARGET_BYTES / VALUE_BYTES);
  let next = 0;
  const fillStarted = performance.now();
  let lastReport = fillStarted;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < count) {
        const i = next++;
        await client.set('learn', 'h', `key${String(i).padStart(9, '0')}`, value);
        if (performance.now() - lastReport > 2000) {
          lastReport = performance.now();
          process.stderr.write(`\r  filling: ${i}/${count} writes`);
        }
      }
    }),
  );
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  process.stderr.write(`\r  filled ${count} writes of ${VALUE_BYTES} B in ${fillSeconds.toFixed(1)} s\n`);
  // Let flushes and the log's garbage collection (every 10 s) move the log past its start.
  await new Promise((resolve) => setTimeout(resolve, 12_000));
  const before = (await client.meta('queryRouting', { name: 'learn' })) as RoutingResponse;
  const secondary = before.partitions[0]!.secondaries[0]!;
  const leaving = replicas.find((replica) => replica.address === secondary)!;
  await leaving.stop();
  const joinStarted = performance.now();
  const newcomer = await ReplicaServer.start({ listen: '127.0.0.1:0', meta: [meta.address], dataDir: join(root, 'newcomer'), log: quiet });
  replicas.push(newcomer);
  for (;;) {
    const routing = (await client.meta('queryRouting', { name: 'learn' })) as RoutingResponse;
    if (routing.partitions[0]!.secondaries.includes(newcomer.address)) break;
    if (performance.now() - joinStarted > 300_000) throw new Error('the newcomer was not promoted within 300 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const promotedMs = performance.now() - joinStarted;
  const learned = newcomer.learned[0];
  if (learned === undefined) throw new Error('the newcomer did not learn by checkpoint (the log still covered it?)');
  // The data is all there on the newcomer's side: read a sample through the primary after promotion.
  for (let i = 0; i < count; i += Math.max(1, Math.floor(count / 50))) {
    const got = await client.get('learn', 'h', `key${String(i).padStart(9, '0')}`);
    if (got !== value) throw new Error(`key ${i} lost`);
  }
  const checkpointMiB = learned.bytes / 2 ** 20;
  const fetchMiBPerSec = checkpointMiB / (learned.fetchMs / 1000);
  console.log(
    table(
      ['data written MiB', 'checkpoint MiB', 'files', 'fetch ms', 'fetch MiB/s', 'start → secondary ms', 'fill writes/s'],
      [[TARGET_BYTES / 2 ** 20, checkpointMiB, learned.files, learned.fetchMs, fetchMiBPerSec, promotedMs, count / fillSeconds]],
    ),
  );
  report('learn', {
    dataMiB: TARGET_BYTES / 2 ** 20,
    checkpointMiB: round(checkpointMiB, 1),
    files: learned.files,
    fetchMs: round(learned.fetchMs, 0),
    fetchMiBPerSec: round(fetchMiBPerSec, 1),
    promotedMs: round(promotedMs, 0),
    fillWritesPerSec: round(count / fillSeconds, 0),
  });
} finally {
  client.close();
  for (const replica of replicas) await replica.stop();
  await meta.stop();
  rmSync(root, { recursive: true, force: true });
}
