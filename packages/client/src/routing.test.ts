/**
 * Routing: the client's cached routing follows primaries that move, partitions left without a
 * primary, servers that stop, restart or cut connections, and tables that are dropped — retrying
 * only what is safe, within the call's timeout.
 */
import { PetrelError } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeCluster } from '../../../test/lib/fake_cluster/index.js';
import { CallContext, LiveCalls } from './call_context.js';
import { PetrelClient } from './client.js';
import type { MetaClient } from './meta_client.js';
import { TableRouting } from './routing.js';
import { codeOf, hashKeyIn, sleep, text, timed, timedAgainstTimer, withRig } from './test_support.js';

test('a moved primary: the old server answers SERVER_CHANGED once, the client refreshes its routing and goes to the new one', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(3, 8);
    await table.set(key, 's', 'before');
    const old = cluster.primaryOf('t', 3);
    const moved = cluster.movePrimary('t', 3);
    assert.is.not(moved, old);
    cluster.clearLog();
    assert.is(text(await table.get(key, 's')), 'before', 'the data moved with the primary');
    assert.equal(
      cluster.log.map((facts) => [facts.server, facts.type]),
      [
        [old, 'get'],
        [cluster.metaAddresses[0], 'queryRouting'],
        [moved, 'get'],
      ],
    );
    cluster.clearLog();
    await table.set(key, 's', 'after');
    assert.equal(cluster.requests({ type: 'set' }).map((facts) => facts.server), [moved], 'the new routing is cached');
    assert.is(cluster.requests({ type: 'queryRouting' }).length, 0);
  }));

test('a write refused with SERVER_CHANGED is retried on the new primary and applied once', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(5, 8);
    cluster.movePrimary('t', 5);
    cluster.clearLog();
    assert.is(await table.incr(key, 'n', 1), 1n);
    assert.is(await table.incr(key, 'n', 1), 2n);
    assert.is(cluster.requests({ type: 'incr' }).length, 3, 'one refused, two applied');
  }));

test('many calls meeting one moved primary share one routing query', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(2, 8);
    await table.set(key, 's', 'v');
    cluster.movePrimary('t', 2);
    cluster.clearLog();
    const values = await Promise.all(Array.from({ length: 200 }, () => table.get(key, 's')));
    assert.ok(values.every((value) => text(value) === 'v'));
    assert.is(cluster.requests({ type: 'queryRouting' }).length, 1);
  }));

test('while the meta still announces the old primary, the client backs off and retries until it catches up', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(1, 8);
    await table.set(key, 's', 'v');
    cluster.movePrimary('t', 1, { announceDelayMs: 200 });
    cluster.clearLog();
    const started = performance.now();
    assert.is(text(await table.get(key, 's')), 'v');
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 195 && elapsed < 900, `took ${elapsed.toFixed(0)} ms`);
    const queries = cluster.requests({ type: 'queryRouting' }).length;
    assert.ok(queries >= 2 && queries <= 12, `${queries} routing queries: backed off, not spinning`);
  }));

test('when the meta lags past the timeout, the call ends with TIMEOUT naming SERVER_CHANGED', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(1, 8);
    cluster.movePrimary('t', 1, { announceDelayMs: 2000 });
    let message = '';
    const { code, ms, lateMs } = await timedAgainstTimer(150, () =>
      table.get(key, 's', { timeoutMs: 150 }).catch((error: unknown) => {
        message = (error as PetrelError).message;
        throw error;
      }),
    );
    assert.is(code, 'TIMEOUT');
    assert.match(message, /SERVER_CHANGED/);
    assert.ok(ms >= 149 && lateMs < 10, `settled after ${ms.toFixed(1)} ms, ${lateMs.toFixed(1)} ms after a plain timer`);
  }));

test('a partition without a primary: calls wait (backing off) until one is announced', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(4, 8);
    await table.set(key, 's', 'v');
    cluster.movePrimary('t', 4, { to: null });
    const pending = table.get(key, 's');
    await sleep(120);
    cluster.movePrimary('t', 4, { to: 2 });
    assert.is(text(await pending), 'v');
    cluster.movePrimary('t', 4, { to: null });
    assert.is(await codeOf(table.set(key, 's', 'w', { timeoutMs: 100 })), 'TIMEOUT');
  }));

test('a cut connection: the next call reconnects; reads in flight are retried', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(0, 8);
    await table.set(key, 's', 'v');
    const primary = cluster.primaryOf('t', 0) as string;
    assert.is(cluster.acceptedConnections(primary), 1);
    assert.ok(cluster.dropConnections(primary) >= 1);
    await sleep(20);
    assert.is(text(await table.get(key, 's')), 'v');
    assert.is(cluster.acceptedConnections(primary), 2);
    cluster.inject({ kind: 'drop', type: 'get', apply: false, count: 1 });
    cluster.clearLog();
    assert.is(text(await table.get(key, 's')), 'v', 'a read whose connection was cut is sent again');
    assert.is(cluster.requests({ type: 'get' }).length, 2);
  }));

test('a write whose connection was cut in flight is not sent again: TIMEOUT, applied at most once', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(6, 8);
    cluster.inject({ kind: 'drop', type: 'incr', apply: true, count: 1 });
    const { code, ms } = await timed(() => table.incr(key, 'n', 1, { timeoutMs: 2000 }));
    assert.is(code, 'TIMEOUT');
    assert.ok(ms < 500, 'reported as soon as the connection was lost');
    assert.is(cluster.requests({ type: 'incr' }).length, 1, 'not re-sent');
    assert.is(text(await table.get(key, 'n')), '1', 'it had been applied once');
    cluster.inject({ kind: 'drop', type: 'set', apply: false, count: 1 });
    assert.is(await codeOf(table.set(key, 's', 'v')), 'TIMEOUT');
    assert.is(cluster.requests({ type: 'set' }).length, 1);
  }));

test('a stopped replica server: calls retry with back-off and reach it again once it restarts on its port', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(7, 8);
    await table.set(key, 's', 'v');
    const primary = cluster.primaryOf('t', 7) as string;
    await cluster.stopServer(primary);
    const pending = table.get(key, 's', { timeoutMs: 3000 });
    await sleep(300);
    await cluster.restartServer(primary);
    assert.is(text(await pending), 'v');
    const meta = cluster.requests({ type: 'queryRouting' }).length;
    assert.ok(meta >= 1 && meta < 40, `${meta} routing queries while the server was down`);
  }));

test('a stopped replica server whose partitions move elsewhere: the client follows the routing', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(2, 8);
    await table.set(key, 's', 'v');
    const primary = cluster.primaryOf('t', 2) as string;
    await cluster.stopServer(primary);
    const pending = table.get(key, 's');
    await sleep(50);
    const next = cluster.movePrimary('t', 2);
    assert.is(text(await pending), 'v');
    assert.is.not(next, primary);
  }));

test('NOT_ENOUGH_MEMBER is retried with back-off within the timeout; APP_BUSY and other errors are not', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(3, 8);
    cluster.inject({ kind: 'error', type: 'set', code: 'NOT_ENOUGH_MEMBER', count: 2 });
    await table.set(key, 's', 'v');
    assert.is(cluster.requests({ type: 'set' }).length, 3);
    cluster.inject({ kind: 'error', type: 'get', code: 'APP_BUSY', count: 1 });
    assert.is(await codeOf(table.get(key, 's')), 'APP_BUSY');
    cluster.inject({ kind: 'error', type: 'get', code: 'IO_ERROR', count: 1 });
    assert.is(await codeOf(table.get(key, 's')), 'IO_ERROR');
    assert.is(text(await table.get(key, 's')), 'v');
  }));

test('a dropped table: its Tables fail with APP_NOT_EXIST, in this client and in another one', async () => {
  const cluster = await FakeCluster.start();
  const first = new PetrelClient({ metaServers: cluster.metaAddresses });
  const second = new PetrelClient({ metaServers: cluster.metaAddresses });
  try {
    await first.admin.createTable('gone', { partitionCount: 4 });
    const mine = await first.openTable('gone');
    const theirs = await second.openTable('gone');
    await mine.set('h', 's', 'v');
    assert.is(text(await theirs.get('h', 's')), 'v');
    await first.admin.dropTable('gone');
    assert.is(await codeOf(mine.get('h', 's')), 'APP_NOT_EXIST');
    assert.is(await codeOf(theirs.get('h', 's')), 'APP_NOT_EXIST', 'the replica stopped serving it: SERVER_CHANGED, then the meta says so');
    assert.is(await codeOf(first.openTable('gone')), 'APP_NOT_EXIST');
    await first.admin.createTable('gone', { partitionCount: 2 });
    assert.is(await codeOf(mine.get('h', 's')), 'APP_NOT_EXIST', 'the name belongs to a new table now');
    const fresh = await first.openTable('gone');
    assert.is(fresh.partitionCount, 2);
    assert.is(await fresh.get('h', 's'), null);
  } finally {
    await first.close();
    await second.close();
    await cluster.stop();
  }
});

test('a routing answer with an older ballot never replaces a newer cached one', async () => {
  const answers: unknown[] = [];
  const meta = { call: async () => answers.shift() } as unknown as MetaClient;
  const table = { id: 7, name: 'x', partitionCount: 2, replicaCount: 3, status: 'available', envs: {} };
  const routing = new TableRouting(
    meta,
    {
      table,
      partitions: [
        { index: 0, ballot: 5, primary: 'a:1', secondaries: [] },
        { index: 1, ballot: 5, primary: 'a:1', secondaries: [] },
      ],
    },
    1000,
    new LiveCalls(),
  );
  answers.push({
    table,
    partitions: [
      { index: 0, ballot: 4, primary: 'stale:1', secondaries: [] },
      { index: 1, ballot: 6, primary: 'b:1', secondaries: [] },
    ],
  });
  const context = new CallContext('test', 1000);
  await routing.refresh(context);
  assert.is(routing.cached(0).primary, 'a:1', 'ballot 4 < 5: ignored');
  assert.is(routing.cached(1).primary, 'b:1', 'ballot 6 > 5: taken');
  answers.push({ table: { ...table, id: 8 }, partitions: [{ index: 0, ballot: 1, primary: 'd:1', secondaries: [] }, { index: 1, ballot: 1, primary: 'd:1', secondaries: [] }] });
  assert.is(await codeOf(routing.refresh(context)), 'APP_NOT_EXIST', 'another table under the name');
  let refreshed = 0;
  const counting = { call: async () => (refreshed++, { table, partitions: [{ index: 0, ballot: 9, primary: 'c:1', secondaries: [] }, { index: 1, ballot: 9, primary: 'c:1', secondaries: [] }] }) } as unknown as MetaClient;
  const other = new TableRouting(counting, { table, partitions: [{ index: 0, ballot: 5, primary: 'a:1', secondaries: [] }, { index: 1, ballot: 7, primary: 'a:1', secondaries: [] }] }, 1000, new LiveCalls());
  await other.refreshAfter(1, 6, context);
  assert.is(refreshed, 0, 'a newer ballot than the refused one is cached: no query');
  await other.refreshAfter(0, 5, context);
  assert.is(refreshed, 1);
});

test.run();
