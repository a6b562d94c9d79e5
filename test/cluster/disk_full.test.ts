/**
 * A replica server's disk fills up under a write load (a small tmpfs of its own, filled by the
 * test; needs root and the right to mount, skipped otherwise): its replicas fail into the error role with NO_SPACE, the
 * meta moves their work to the other servers and the table stays writable; once space is back
 * the server reopens its replicas (retrying while the disk is still full), relearns and is a
 * member of every partition again. No acknowledged write is lost.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RawCluster } from '@petrel/cli';
import { routing, waitUntil, WriteLoad } from './load.js';
import { canMountSmallDisks, ProcessCluster } from './process_cluster.js';

const it = canMountSmallDisks() ? test : test.skip;

it('a full disk on one replica server: the table stays writable, the server recovers when space is back, nothing acknowledged is lost', async () => {
  const cluster = await ProcessCluster.start(3, { diskMiB: 64 });
  let stopLoad: (() => Promise<unknown>) | undefined;
  const client = await RawCluster.open([cluster.meta.address]);
  try {
    assert.ok(cluster.smallDisks, 'the replica servers have small disks of their own');
    await client.meta('createTable', { name: 'd', partitionCount: 4, replicaCount: 3, envs: {}, successIfExists: false });
    await client.waitHealthy('d', 30_000);
    const load = new WriteLoad(client, 'd', 16);
    stopLoad = () => load.stop();
    const victim = cluster.replicas[0]!;
    const filled = await cluster.fillDisk(victim);
    assert.is(filled.code, 'ENOSPC');
    // The log's preallocated segment takes writes for a while; then a table or a segment cannot be written.
    const failedMs = await waitUntil('the server reports a full disk', 90_000, () => cluster.log.some((line) => line.startsWith(`[${victim.name}]`) && /ENOSPC|NO_SPACE/.test(line)));
    const droppedMs = await waitUntil('the meta moves work off the full server (it leaves a partition)', 60_000, async () => {
      const now = await routing(client, 'd');
      return now.partitions.some((p) => p.primary !== victim.address && !p.secondaries.includes(victim.address));
    });
    const writesAtFailure = load.writes;
    await waitUntil('writes go on without the full server', 30_000, () => load.writes > writesAtFailure + 500);
    // The disk stays full a while: the server's attempts to reopen its replicas fail meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    await cluster.freeDisk(victim);
    const backMs = await waitUntil('the server is a member of every partition again', 90_000, async () => {
      const now = await routing(client, 'd');
      return now.partitions.every((p) => p.primary !== null && p.secondaries.length === 2 && (p.primary === victim.address || p.secondaries.includes(victim.address)));
    });
    const keys = await load.stop();
    await load.verify();
    console.log(`  disk full reported after ${failedMs} ms, the server out of a partition ${droppedMs} ms later; back in every partition ${backMs} ms after space returned; ${keys} keys checked, ${load.errors} writes not acknowledged`);
  } finally {
    await stopLoad?.();
    client.close();
    await cluster.stop();
  }
});

test.run();
