/**
 * A fourth replica server joins a cluster of real processes under a write load: the balancer
 * moves replicas onto it until every server holds the same number within one, and spreads the
 * primaries the same way (hand-overs); no acknowledged write is lost and the data stays correct.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { routing, waitUntil, WriteLoad } from './load.js';
import { ProcessCluster } from './process_cluster.js';
import { RawCluster } from '@petrel/cli';

test('a new replica server under load: the balancer spreads replicas and primaries onto it, nothing acknowledged is lost', async () => {
  let stopLoad: (() => Promise<unknown>) | undefined;
  const cluster = await ProcessCluster.start(3);
  const client = await RawCluster.open([cluster.meta.address]);
  try {
    await client.meta('createTable', { name: 'b', partitionCount: 8, replicaCount: 3, envs: {}, successIfExists: false });
    await client.waitHealthy('b', 30_000);
    for (let i = 0; i < 200; i++) await client.set('b', `k${i}`, 's', `v${i}`);
    const load = new WriteLoad(client, 'b', 4);
    stopLoad = () => load.stop();
    const added = await cluster.addReplica();
    let replicas: number[] = [];
    let primaries: number[] = [];
    const spread = (counts: number[]): number => Math.max(...counts) - Math.min(...counts);
    // ~25 s on a quiet machine; generous for a loaded one.
    const movedMs = await waitUntil(() => `replicas and primaries spread evenly over the four servers, every partition whole (last replicas ${JSON.stringify(replicas)}, primaries ${JSON.stringify(primaries)})`, 150_000, async () => {
      const nodes = (await client.meta('listNodes', {})) as { address: string; primaries: number; secondaries: number }[];
      replicas = nodes.map((node) => node.primaries + node.secondaries);
      primaries = nodes.map((node) => node.primaries);
      const now = await routing(client, 'b');
      return nodes.length === 4 && spread(replicas) <= 1 && spread(primaries) <= 1 && now.partitions.every((p) => p.primary !== null && p.secondaries.length === 2);
    });
    const layout = (await routing(client, 'b')).partitions;
    assert.ok(layout.filter((p) => p.primary === added.address || p.secondaries.includes(added.address)).length >= 5, 'the new server holds its share');
    assert.ok(layout.filter((p) => p.primary === added.address).length >= 1, 'the new server leads its share');
    const keys = await load.stop();
    await load.verify();
    for (let i = 0; i < 200; i++) assert.is(await client.get('b', `k${i}`, 's'), `v${i}`);
    console.log(`  balanced in ${movedMs} ms: replicas ${JSON.stringify(replicas)}, primaries ${JSON.stringify(primaries)}; ${keys} keys written under load checked, ${load.errors} writes not acknowledged`);
  } finally {
    await stopLoad?.();
    client.close();
    await cluster.stop();
  }
});

test.run();
