/**
 * The cluster as real processes on 127.0.0.1, under a write load: kill -9 of a replica server
 * (the table stays writable; the restarted server rejoins), kill -9 of a partition's primary (a
 * secondary is promoted; no acknowledged write is lost), a meta restart (the cluster carries on),
 * (The balancer with a new server: balancer.test.ts.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { routing, waitUntil, WriteLoad } from './load.js';
import { ProcessCluster } from './process_cluster.js';
import { RawCluster } from '@petrel/cli';

test('kill -9 of a primary under load: a secondary takes over, nothing acknowledged is lost, the server rejoins', async () => {
  let stopLoad: (() => Promise<unknown>) | undefined;
  const cluster = await ProcessCluster.start(3);
  const client = await RawCluster.open([cluster.meta.address]);
  try {
    await client.meta('createTable', { name: 't', partitionCount: 4, replicaCount: 3, envs: {}, successIfExists: false });
    await client.waitHealthy('t', 30_000);
    const load = new WriteLoad(client, 't', 8);
    stopLoad = () => load.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = await routing(client, 't');
    const victim = cluster.replicaByAddress(before.partitions[0]!.primary!);
    await cluster.kill(victim);
    // The meta notices (grace), promotes a secondary; writes go on.
    const promotedMs = await waitUntil('partition 0 has a new primary', 20_000, async () => {
      const now = await routing(client, 't');
      return now.partitions[0]!.primary !== null && now.partitions[0]!.primary !== victim.address;
    });
    // Writes go on: every partition drops the dead member (the primaries' prepares time out) and
    // the writers, stuck on keys of those partitions meanwhile, get through.
    const writesAtPromotion = load.writes;
    const writableMs = await waitUntil('writes are acknowledged again', 20_000, async () => load.writes > writesAtPromotion + 50);
    await cluster.startServer(victim);
    const rejoinMs = await waitUntil('the restarted server is a member of every partition again', 40_000, async () => {
      const now = await routing(client, 't');
      return now.partitions.every((p) => p.primary !== null && p.secondaries.length === 2 && (p.primary === victim.address || p.secondaries.includes(victim.address)));
    });
    const keys = await load.stop();
    await load.verify();
    console.log(`  new primary after ${promotedMs} ms, writing again ${writableMs} ms later; restarted server back in every partition after ${rejoinMs} ms; ${keys} keys checked, ${load.errors} writes not acknowledged`);
  } finally {
    await stopLoad?.();
    client.close();
    await cluster.stop();
  }
});

test('a meta restart: the cluster carries on and the meta picks up where it was', async () => {
  let stopLoad: (() => Promise<unknown>) | undefined;
  const cluster = await ProcessCluster.start(3);
  const client = await RawCluster.open([cluster.meta.address]);
  try {
    await client.meta('createTable', { name: 'm', partitionCount: 4, replicaCount: 3, envs: {}, successIfExists: false });
    await client.waitHealthy('m', 30_000);
    const load = new WriteLoad(client, 'm', 4);
    stopLoad = () => load.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ballotsBefore = (await routing(client, 'm')).partitions.map((p) => p.ballot);
    await cluster.restart(cluster.meta);
    await client.waitHealthy('m', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const keys = await load.stop();
    await load.verify();
    const after = await routing(client, 'm');
    after.partitions.forEach((p, i) => assert.ok(p.ballot >= ballotsBefore[i]!, 'ballots never go back'));
    assert.ok(keys > 0);
  } finally {
    await stopLoad?.();
    client.close();
    await cluster.stop();
  }
});

test.run();
