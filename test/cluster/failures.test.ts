/**
 * The cluster as real processes on 127.0.0.1, under a write load: kill -9 of a replica server
 * (the table stays writable; the restarted server rejoins), kill -9 of a partition's primary (a
 * secondary is promoted; no acknowledged write is lost), a meta restart (the cluster carries on),
 * (The balancer with a new server: balancer.long.test.ts.)
 */
import { type RoutingResponse } from '@petrel/protocol';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessCluster } from './process_cluster.js';
import { RawCluster } from '@petrel/cli';

/** Writers that keep writing their own keys and remember the last value acknowledged for each. */
class WriteLoad {
  readonly acked = new Map<string, string>();
  /** Acknowledged writes so far. */
  writes = 0;
  errors = 0;
  private running = true;
  private readonly done: Promise<void>[] = [];

  constructor(
    private readonly cluster: RawCluster,
    private readonly table: string,
    writers: number,
  ) {
    for (let w = 0; w < writers; w++) this.done.push(this.writer(w));
  }

  private async writer(w: number): Promise<void> {
    let n = 0;
    while (this.running) {
      const key = `w${w}-k${n % 50}`;
      const value = `v${n}`;
      try {
        await this.cluster.set(this.table, key, 's', value);
        this.acked.set(key, value);
        this.writes++;
      } catch {
        // Not acknowledged: may or may not be there. A later acknowledged write decides.
        this.errors++;
      }
      n++;
    }
  }

  async stop(): Promise<number> {
    this.running = false;
    await Promise.all(this.done);
    return this.acked.size;
  }

  /** Every acknowledged write is there, with its last acknowledged value (or a later one from an unacknowledged write). */
  async verify(): Promise<void> {
    for (const [key, value] of this.acked) {
      const read = await this.cluster.get(this.table, key, 's');
      assert.ok(read !== null, `acknowledged key ${key} is lost`);
      assert.ok(Number(read.slice(1)) >= Number(value.slice(1)), `${key}: read ${read}, but ${value} was acknowledged`);
    }
  }
}

async function routing(cluster: RawCluster, table: string): Promise<RoutingResponse> {
  return (await cluster.meta('queryRouting', { name: table })) as RoutingResponse;
}

async function waitUntil(what: string | (() => string), timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting until ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return Date.now() - started;
}

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
