/**
 * Meta high availability, in one process: ZooKeeper (Debian's package, on a free port), two meta
 * servers electing a leader through it, three replica servers. The standby answers NOT_LEADER with
 * the leader's address; when the leader goes, the other takes over within a bounded time with the
 * same tables and configurations, the replica servers follow it, and writes go on.
 * The process-level version (kill -9 under load) is in the test:long soak.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initChecksum, PetrelError } from '@petrel/base';
import { HaMetaServer } from '@petrel/meta';
import { findZookeeper, ZOOKEEPER_MISSING, ZookeeperServer } from '../../packages/meta/src/state/testing/zookeeper_server.js';
import { ReplicaServer } from '@petrel/replica';
import { test } from 'uvu';
import { waitUntil } from './load.js';
import * as assert from 'uvu/assert';
import { RawCluster, freePort } from '@petrel/cli';

const available = findZookeeper() !== undefined;
if (!available) console.log(ZOOKEEPER_MISSING);
const it = available ? test : test.skip;

it('the standby redirects, takes over when the leader goes, and the cluster carries on', async () => {
  await initChecksum();
  const zk = await ZookeeperServer.start();
  const root = mkdtempSync(join(tmpdir(), 'petrel-ha-'));
  const quiet = (): void => undefined;
  const connect = `${zk.address}/petrel-ha`;
  const metaAddresses = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
  const metas = [] as HaMetaServer[];
  const replicas = [] as ReplicaServer[];
  try {
    metas.push(await HaMetaServer.start({ listen: metaAddresses[0]!, zk: connect, log: quiet, sessionTimeoutMs: 4000 }));
    // Generous: on a loaded machine (CI runs files side by side) the election once took over 10 s.
    await waitUntil('the first meta leads', 30_000, () => metas[0]!.isLeader, 50);
    metas.push(await HaMetaServer.start({ listen: metaAddresses[1]!, zk: connect, log: quiet, sessionTimeoutMs: 4000 }));
    for (let i = 0; i < 3; i++) replicas.push(await ReplicaServer.start({ listen: '127.0.0.1:0', meta: [...metaAddresses].reverse(), dataDir: join(root, `r${i}`), log: quiet }));
    // Through the standby: NOT_LEADER naming the leader.
    const standby = await RawCluster.open([metaAddresses[1]!]);
    try {
      await standby.meta('listTables', { includeDropped: false });
      assert.unreachable('the standby answered');
    } catch (error) {
      assert.is((error as PetrelError).code, 'NOT_LEADER');
      assert.is((error as PetrelError & { leader?: string }).leader, metaAddresses[0]);
    }
    standby.close();
    const cluster = await RawCluster.open(metaAddresses);
    await cluster.meta('createTable', { name: 'ha', partitionCount: 4, replicaCount: 3, envs: {}, successIfExists: false });
    await cluster.waitHealthy('ha', 30_000);
    for (let i = 0; i < 20; i++) await cluster.set('ha', `k${i}`, 's', `v${i}`);
    // The leader goes (a clean stop: its ZooKeeper session ends at once).
    const started = Date.now();
    await metas[0]!.stop();
    await waitUntil('the standby takes over', 15_000, () => metas[1]!.isLeader, 50);
    const takeoverMs = Date.now() - started;
    await cluster.waitHealthy('ha', 30_000);
    for (let i = 0; i < 20; i++) assert.is(await cluster.get('ha', `k${i}`, 's'), `v${i}`);
    for (let i = 20; i < 30; i++) await cluster.set('ha', `k${i}`, 's', `v${i}`);
    assert.is(await cluster.get('ha', 'k29', 's'), 'v29');
    const info = (await cluster.meta('clusterInfo', {})) as { leader: string; aliveReplicaServers: number };
    assert.is(info.leader, metaAddresses[1]);
    console.log(`  takeover in ${takeoverMs} ms; ${info.aliveReplicaServers} replica servers alive under the new leader`);
    cluster.close();
  } finally {
    for (const replica of replicas) await replica.stop();
    for (const meta of metas) await meta.stop();
    await zk.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
