/**
 * The meta side: finding the leader among `metaServers` (NOT_LEADER redirects, metas that are
 * down, a leader that was not listed), and the admin API against the fake meta.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeCluster, type FakeClusterOptions } from '../../../test/lib/fake_cluster/index.js';
import { PetrelClient } from './client.js';
import { codeOf, text, timedAgainstTimer } from './test_support.js';
import type { ClientOptions } from './types.js';

async function withCluster(
  options: FakeClusterOptions,
  body: (cluster: FakeCluster, client: PetrelClient) => Promise<void>,
  clientOptions: (cluster: FakeCluster) => Partial<ClientOptions> = () => ({}),
): Promise<void> {
  const cluster = await FakeCluster.start(options);
  const client = new PetrelClient({ metaServers: cluster.metaAddresses, ...clientOptions(cluster) });
  try {
    await body(cluster, client);
  } finally {
    await client.close();
    await cluster.stop();
  }
}

test('the client finds the leader by NOT_LEADER redirects and then asks it directly', () =>
  withCluster({ metaServers: 3, leader: 2 }, async (cluster, client) => {
    cluster.createTable('t');
    await client.openTable('t');
    assert.equal(
      cluster.requests({ type: 'queryRouting' }).map((facts) => facts.server),
      [cluster.metaAddresses[0], cluster.metaAddresses[2]],
    );
    assert.is(client.metaLeader, cluster.metaAddresses[2]);
    cluster.clearLog();
    await client.admin.listTables();
    assert.equal(cluster.log.map((facts) => facts.server), [cluster.metaAddresses[2]]);
  }));

test('a change of leader: the old one redirects, the client follows', () =>
  withCluster({ metaServers: 3, leader: 0 }, async (cluster, client) => {
    await client.admin.createTable('t', { partitionCount: 2 });
    cluster.setLeader(1);
    cluster.clearLog();
    assert.is((await client.admin.listTables()).length, 1);
    assert.equal(cluster.log.map((facts) => facts.server), [cluster.metaAddresses[0], cluster.metaAddresses[1]]);
    assert.is(client.metaLeader, cluster.metaAddresses[1]);
  }));

test('metas that do not name the leader: the client tries the listed ones in turn', () =>
  withCluster({ metaServers: 3, leader: 2 }, async (cluster, client) => {
    cluster.setLeader(2, false);
    assert.equal(await client.admin.listTables(), []);
    assert.equal(cluster.log.map((facts) => facts.server), cluster.metaAddresses);
  }));

test('a meta that is down is skipped; a leader that was not listed is followed', () =>
  withCluster(
    { metaServers: 3, leader: 2 },
    async (cluster, client) => {
      await cluster.stopServer(cluster.metaAddresses[0] as string);
      cluster.createTable('t', { partitionCount: 2 });
      const table = await client.openTable('t');
      await table.set('h', 's', 'v');
      assert.is(client.metaLeader, cluster.metaAddresses[2], 'meta 1 named meta 2, which the client was not given');
    },
    (cluster) => ({ metaServers: [cluster.metaAddresses[0] as string, `ws://${cluster.metaAddresses[1]}`] }),
  ));

test('no meta reachable: TIMEOUT at the deadline, naming the network failure', () =>
  withCluster({ metaServers: 2 }, async (cluster, client) => {
    for (const address of cluster.metaAddresses) await cluster.stopServer(address);
    const { code, ms, lateMs } = await timedAgainstTimer(300, () => client.admin.listTables({ timeoutMs: 300 }));
    assert.is(code, 'TIMEOUT');
    assert.ok(ms >= 299 && lateMs < 10, `${ms.toFixed(1)} ms, ${lateMs.toFixed(1)} ms after a plain timer`);
    try {
      await client.openTable('t', { timeoutMs: 100 });
    } catch (error) {
      assert.match(String(error), /NETWORK_FAILURE/);
    }
  }));

test('a meta coming back is found again (reconnect with back-off)', () =>
  withCluster({ metaServers: 1 }, async (cluster, client) => {
    cluster.createTable('t', { partitionCount: 2 });
    const meta = cluster.metaAddresses[0] as string;
    await cluster.stopServer(meta);
    const pending = client.openTable('t', { timeoutMs: 3000 });
    setTimeout(() => void cluster.restartServer(meta), 250);
    const table = await pending;
    assert.is(table.partitionCount, 2);
  }));

test('createTable: defaults (8 partitions, 3 replicas), waits until every partition is healthy', () =>
  withCluster({ createHealthyAfterMs: 150 }, async (cluster, client) => {
    const started = performance.now();
    const info = await client.admin.createTable('made', { envs: { default_ttl: '60' } });
    assert.ok(performance.now() - started >= 145, 'resolved only once healthy');
    assert.equal({ ...info, id: 0 }, { id: 0, name: 'made', partitionCount: 8, replicaCount: 3, status: 'available', envs: { default_ttl: '60' } });
    const details = await client.admin.tableInfo('made');
    assert.is(details.partitions.length, 8);
    for (const partition of details.partitions) {
      assert.ok(partition.primary !== null);
      assert.is(partition.secondaries.length, 2);
    }
    const table = await client.openTable('made');
    await table.set('h', 's', 'v');
    const ttl = (await table.ttl('h', 's')) ?? 0;
    assert.ok(ttl === 60 || ttl === 59, `ttl ${ttl}`);
    assert.is(cluster.misroutes, 0);
  }));

test('createTable: TIMEOUT when the table does not become healthy in time', () =>
  withCluster({ createHealthyAfterMs: 5000 }, async (_cluster, client) => {
    const { code, ms, lateMs } = await timedAgainstTimer(200, () => client.admin.createTable('slow', { timeoutMs: 200 }));
    assert.is(code, 'TIMEOUT');
    assert.ok(ms >= 199 && lateMs < 10, `${ms.toFixed(1)} ms, ${lateMs.toFixed(1)} ms after a plain timer`);
  }));

test('createTable: APP_EXIST, successIfExists, and the codes for bad names and counts (checked before sending)', () =>
  withCluster({}, async (cluster, client) => {
    const first = await client.admin.createTable('t', { partitionCount: 4, replicaCount: 2 });
    assert.is(await codeOf(client.admin.createTable('t')), 'APP_EXIST');
    const again = await client.admin.createTable('t', { successIfExists: true });
    assert.is(again.id, first.id);
    cluster.clearLog();
    assert.is(await codeOf(client.admin.createTable('bad name!')), 'INVALID_APP_NAME');
    assert.is(await codeOf(client.admin.createTable('')), 'INVALID_APP_NAME');
    assert.is(await codeOf(client.admin.createTable('t2', { partitionCount: 0 })), 'INVALID_PAR_COUNT');
    assert.is(await codeOf(client.admin.createTable('t2', { partitionCount: 2.5 })), 'INVALID_PAR_COUNT');
    assert.is(await codeOf(client.admin.createTable('t2', { replicaCount: -1 })), 'INVALID_REP_COUNT');
    assert.is(await codeOf(client.admin.createTable('t2', { envs: { a: 1 as unknown as string } })), 'INVALID_ARGUMENT');
    assert.is(cluster.log.length, 0, 'nothing sent');
    assert.is(await codeOf(client.admin.createTable('t2', { replicaCount: 5 })), 'INVALID_REP_COUNT', 'the meta knows there are 3 servers');
  }));

test('dropTable, listTables, recallTable, tableInfo, envs, listNodes, clusterInfo', () =>
  withCluster({}, async (_cluster, client) => {
    const a = await client.admin.createTable('a', { partitionCount: 2 });
    await client.admin.createTable('b', { partitionCount: 3 });
    assert.equal((await client.admin.listTables()).map((t) => t.name).sort(), ['a', 'b']);
    await (await client.openTable('a')).set('h', 's', 'kept');
    await client.admin.dropTable('a', { reserveSeconds: 60 });
    assert.equal((await client.admin.listTables()).map((t) => t.name), ['b']);
    const all = await client.admin.listTables({ includeDropped: true });
    const dropped = all.find((t) => t.name === 'a');
    assert.is(dropped?.status, 'dropped');
    assert.ok((dropped?.reserveUntil ?? 0) - (dropped?.dropTime ?? 0) === 60);
    assert.is(await codeOf(client.openTable('a')), 'APP_NOT_EXIST');
    assert.is(await codeOf(client.admin.tableInfo('a')), 'APP_NOT_EXIST');
    const recalled = await client.admin.recallTable(a.id, 'a2');
    assert.is(recalled.name, 'a2');
    assert.is(recalled.status, 'available');
    assert.is(text(await (await client.openTable('a2')).get('h', 's')), 'kept', 'the data came back with the table');
    await client.admin.setTableEnvs('b', { x: '1', y: '2' });
    await client.admin.delTableEnvs('b', ['x']);
    assert.equal((await client.admin.tableInfo('b')).envs, { y: '2' });
    const nodes = await client.admin.listNodes();
    assert.is(nodes.length, 3);
    assert.is(nodes.reduce((sum, node) => sum + node.primaries, 0), 5);
    assert.ok(nodes.every((node) => node.alive));
    const info = await client.admin.clusterInfo();
    assert.is(info.tables, 2);
  }));

test('a change whose connection is cut in flight is not sent again (TIMEOUT); a read is', () =>
  withCluster({}, async (cluster, client) => {
    cluster.inject({ kind: 'drop', type: 'createTable', apply: true, count: 1 });
    assert.is(await codeOf(client.admin.createTable('once', { partitionCount: 2 })), 'TIMEOUT');
    assert.is(cluster.requests({ type: 'createTable' }).length, 1);
    assert.equal((await client.admin.listTables()).map((t) => t.name), ['once'], 'it had been applied');
    cluster.inject({ kind: 'drop', type: 'listTables', apply: false, count: 1 });
    assert.equal((await client.admin.listTables()).map((t) => t.name), ['once']);
    assert.is(cluster.requests({ type: 'listTables' }).length, 3);
  }));

test.run();
