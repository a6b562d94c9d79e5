/**
 * A learner whose checkpoint restore fails — the disk fills up while it fetches the files, or the
 * swap of its data directory fails half-way (the old data removed, the new not in place) — goes to
 * the error role, reopens from what its disk holds, learns again and becomes a secondary with every
 * write. Before, the failure was only logged: the learner went on applying the decrees after the
 * checkpoint over its old data, and its log and data no longer fitted (a later restart refused to
 * open them).
 *
 * A meta and three replica servers in this process; a newcomer runs on a fault-injecting file
 * system. The partition's log is long enough (more decrees than a primary keeps in memory) that
 * a newcomer learns by checkpoint.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultVfs, initChecksum, nodeVfs, type FaultRule } from '@petrel/base';
import { RawCluster } from '@petrel/cli';
import { MetaServer } from '@petrel/meta';
import type { RoutingResponse } from '@petrel/protocol';
import { ReplicaServer, ReplicaStore } from '@petrel/replica';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { routing, waitUntil } from './load.js';

/** More decrees than a primary keeps in memory for learners (4096), so learning takes a checkpoint. */
const KEYS = 5000;
const key = (i: number): string => `k${String(i).padStart(6, '0')}`;

test('a learner whose checkpoint restore fails (disk full while fetching; a swap that fails half-way) relearns and ends with every write', async () => {
  await initChecksum();
  const root = mkdtempSync(join(tmpdir(), 'petrel-learn-failure-'));
  const logs: string[] = [];
  const log = (line: string): void => void logs.push(line);
  const replication = { errorReopenMs: 300 };
  // Stopped servers stay known to the meta: after two replacements 3 of 5 are alive, under the
  // default 65% below which the meta stops curing (a meta cut off from most servers must not act).
  const meta = await MetaServer.start({ listen: '127.0.0.1:0', dataDir: join(root, 'meta'), log, replication: { minAlivePercentForCure: 50 } });
  const servers: ReplicaServer[] = [];
  for (let i = 0; i < 3; i++) servers.push(await ReplicaServer.start({ listen: '127.0.0.1:0', meta: [meta.address], dataDir: join(root, `r${i}`), log, replication }));
  const client = await RawCluster.open([meta.address]);
  const partition = async (): Promise<RoutingResponse['partitions'][number]> => (await routing(client, 'l')).partitions[0]!;
  try {
    await client.meta('createTable', { name: 'l', partitionCount: 1, replicaCount: 3, envs: {}, successIfExists: false });
    await client.waitHealthy('l', 30_000);
    // One write at a time: one decree each.
    for (let i = 0; i < KEYS; i++) await client.set('l', 'h', key(i), `v${i}`);

    /** Stops a secondary; a newcomer on `rule`'s faulty disk takes its place. Returns the newcomer and its disk. */
    const replaceSecondary = async (name: string, rule: FaultRule): Promise<{ server: ReplicaServer; vfs: FaultVfs; dataDir: string }> => {
      const before = await partition();
      const leaving = servers.find((server) => server.address === before.secondaries[0]);
      assert.ok(leaving, 'a secondary to replace');
      await leaving.stop();
      servers.splice(servers.indexOf(leaving), 1);
      const vfs = new FaultVfs(nodeVfs);
      vfs.inject(rule);
      const dataDir = join(root, name);
      const server = await ReplicaServer.start({ listen: '127.0.0.1:0', meta: [meta.address], dataDir, log, replication, vfs });
      servers.push(server);
      let last: unknown;
      await waitUntil(() => `${name} (${server.address}) becomes a secondary; the partition: ${JSON.stringify(last)}`, 90_000, async () => {
        const now = await partition();
        last = now;
        return now.secondaries.includes(server.address);
      });
      return { server, vfs, dataDir };
    };

    // 1. The disk is full when the first checkpoint file arrives.
    const full = await replaceSecondary('full', { op: 'write', path: '/incoming/', code: 'NO_SPACE', times: 1 });
    assert.is(full.vfs.injected, 1, 'the fault fired');
    assert.ok(logs.some((line) => line.includes('restore of 1.0 failed') && line.includes('disk full')), 'the failed restore is reported');
    assert.is(full.server.learned.length, 1, 'it learned by checkpoint, once the disk had room');
    // 2. The swap fails after the old data is gone.
    const swap = await replaceSecondary('swap', { op: 'rename', path: /incoming$/, times: 1 });
    assert.is(swap.vfs.injected, 1, 'the fault fired');
    assert.is(swap.server.learned.length, 2, 'it fetched the checkpoint twice: the swap of the first failed');
    // The failed restore stopped the replica at once: no decree after the checkpoint was applied
    // over the data the checkpoint did not replace (the storage app refuses such a decree).
    const appliedOverOld = logs.filter((line) => /apply of 1\.0 failed: .*does not follow/.test(line));
    assert.equal(appliedOverOld, [], 'nothing applied over data the checkpoint did not replace');

    // Writes go on with both newcomers as secondaries; then each newcomer's data holds every write.
    for (let i = 0; i < 200; i++) await client.set('l', 'h', key(KEYS + i), `v${KEYS + i}`);
    for (const newcomer of [full, swap]) {
      await newcomer.server.stop();
      servers.splice(servers.indexOf(newcomer.server), 1);
      // A restart opens its data and log (a log that did not fit its data failed here).
      const again = await ReplicaServer.start({ listen: '127.0.0.1:0', meta: [meta.address], dataDir: newcomer.dataDir, log, replication });
      await again.stop();
      const store = await ReplicaStore.open({ vfs: nodeVfs, dir: join(newcomer.dataDir, 'replicas', '1.0'), gpid: '1.0', envs: {} });
      try {
        const recovered = store.recovered();
        // The log replays on top of the data up to the newcomer's last decree.
        const lastDecree = Math.max(store.app.lastAppliedDecree, ...recovered.log.map((mutation) => mutation.decree));
        assert.ok(lastDecree >= KEYS, `the newcomer's data and log reach decree ${lastDecree}`);
        let missing = 0;
        for (let i = 0; i < KEYS; i++) {
          const got = store.app.get({ hashKey: Buffer.from('h'), sortKey: Buffer.from(key(i)) });
          if (got.value?.toString() !== `v${i}`) missing++;
        }
        assert.is(missing, 0, `keys missing from the data the newcomer ${newcomer.dataDir} learned`);
      } finally {
        await store.close();
      }
    }
  } catch (error) {
    console.log(logs.filter((line) => !line.startsWith('TRACE')).slice(-60).join('\n'));
    throw error;
  } finally {
    client.close();
    for (const server of servers) await server.stop();
    await meta.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
