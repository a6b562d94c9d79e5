/**
 * Timeouts: every call settles within its timeout plus a few milliseconds, whatever it waits on —
 * a slow answer, a connection that never opens, retries that keep failing; retries happen inside
 * the timeout; answers that come after it are dropped without harm.
 */
import { createServer, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PetrelClient } from './client.js';
import { collect, codeOf, hashKeyIn, sleep, text, timed, timedAgainstTimer, withRig } from './test_support.js';

/**
 * How much later than a plain timer of the same length a TIMEOUT may settle. The event loop's own
 * lag (a loaded machine, the fake servers sharing the process) delays both alike and is not
 * counted; what is left is the client's doing.
 */
const SLACK_MS = 10;

test('every kind of call settles with TIMEOUT at its timeout when the servers answer too late', () =>
  withRig(async ({ cluster, table }) => {
    await table.multiSet('h', { a: '1', b: '2' });
    for (const address of cluster.replicaAddresses) cluster.inject({ kind: 'delay', server: address, ms: 2000 });
    const calls: [string, number, Promise<{ ms: number; code: string; lateMs: number }>][] = [];
    const add = (name: string, timeoutMs: number, start: (timeoutMs: number) => Promise<unknown>) => calls.push([name, timeoutMs, timedAgainstTimer(timeoutMs, () => start(timeoutMs))]);
    add('get', 50, (timeoutMs) => table.get('h', 'a', { timeoutMs }));
    add('exist', 60, (timeoutMs) => table.exist('h', 'a', { timeoutMs }));
    add('ttl', 70, (timeoutMs) => table.ttl('h', 'a', { timeoutMs }));
    add('set', 80, (timeoutMs) => table.set('h', 'c', 'v', { timeoutMs }));
    add('del', 90, (timeoutMs) => table.del('h', 'c', { timeoutMs }));
    add('incr', 100, (timeoutMs) => table.incr('h', 'n', 1, { timeoutMs }));
    add('multiSet', 110, (timeoutMs) => table.multiSet('h', { d: '4' }, { timeoutMs }));
    add('multiGet', 120, (timeoutMs) => table.multiGet('h', [], { timeoutMs }));
    add('multiGetRange', 130, (timeoutMs) => table.multiGetRange('h', 'a', 'z', { timeoutMs }));
    add('multiDel', 140, (timeoutMs) => table.multiDel('h', ['a'], { timeoutMs }));
    add('sortKeyCount', 150, (timeoutMs) => table.sortKeyCount('h', { timeoutMs }));
    add('delRange', 160, (timeoutMs) => table.delRange('h', '', '', { timeoutMs }));
    add('checkAndSet', 170, (timeoutMs) => table.checkAndSet('h', 'a', 'exist', '', 'b', 'v', { timeoutMs }));
    add('checkAndMutate', 180, (timeoutMs) => table.checkAndMutate('h', 'a', 'exist', '', [{ op: 'del', sortKey: 'b' }], { timeoutMs }));
    add('compareExchange', 190, (timeoutMs) => table.compareExchange('h', 'a', '1', '2', { timeoutMs }));
    add('batchGet', 200, (timeoutMs) => table.batchGet([['h', 'a'], ['x', 'y']], { timeoutMs }));
    add('batchSet', 210, (timeoutMs) => table.batchSet([{ hashKey: 'h', sortKey: 'e', value: 'v' }], { timeoutMs }));
    add('batchDel', 220, (timeoutMs) => table.batchDel([['h', 'e']], { timeoutMs }));
    add('scan', 230, (timeoutMs) => collect(table.scan('h', { timeoutMs })));
    add('scanner.count', 240, (timeoutMs) => (table.unorderedScanners(1, { timeoutMs })[0] as { count(): Promise<number> }).count());
    const lateness: string[] = [];
    const beyondTimer: string[] = [];
    await Promise.all(
      calls.map(async ([name, timeoutMs, call]) => {
        const { code, ms, lateMs } = await call;
        assert.is(code, 'TIMEOUT', name);
        assert.ok(ms >= timeoutMs - 1, `${name} settled early: ${ms.toFixed(1)} ms for ${timeoutMs}`);
        assert.ok(lateMs <= SLACK_MS, `${name} settled late: ${ms.toFixed(1)} ms for ${timeoutMs}, ${lateMs.toFixed(1)} ms after a plain timer`);
        lateness.push((ms - timeoutMs).toFixed(1));
        beyondTimer.push(lateMs.toFixed(1));
      }),
    );
    console.log(`${calls.length} timed-out calls settled after their timeout by (ms): ${lateness.join(' ')}`);
    console.log(`… and after a plain timer of the same length by (ms): ${beyondTimer.join(' ')}`);
  }));

test('the client-wide default timeout applies when a call gives none', () =>
  withRig(
    async ({ cluster, table }) => {
      cluster.inject({ kind: 'delay', type: 'get', ms: 1000 });
      const { code, ms, lateMs } = await timedAgainstTimer(120, () => table.get('h', 's'));
      assert.is(code, 'TIMEOUT');
      assert.ok(ms >= 119 && lateMs <= SLACK_MS, `${ms.toFixed(1)} ms`);
    },
    { client: { timeoutMs: 120 } },
  ));

test('a connection that never opens (a server that accepts TCP and says nothing) still ends at the timeout', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  const client = new PetrelClient({ metaServers: [`127.0.0.1:${port}`], connectTimeoutMs: 10_000 });
  try {
    for (const timeoutMs of [80, 200]) {
      const { code, ms, lateMs } = await timedAgainstTimer(timeoutMs, () => client.admin.listTables({ timeoutMs }));
      assert.is(code, 'TIMEOUT');
      assert.ok(ms >= timeoutMs - 1 && lateMs <= SLACK_MS, `${ms.toFixed(1)} ms for ${timeoutMs}`);
    }
    const { code, lateMs } = await timedAgainstTimer(150, () => client.openTable('t', { timeoutMs: 150 }));
    assert.is(code, 'TIMEOUT');
    assert.ok(lateMs <= SLACK_MS);
  } finally {
    await client.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test('routing errors are retried within the timeout: a few succeed in the end, endless ones end at the deadline', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(0, 8);
    cluster.inject({ kind: 'error', type: 'set', code: 'SERVER_CHANGED', count: 3 });
    const { code, ms } = await timed(() => table.set(key, 's', 'v', { timeoutMs: 1000 }));
    assert.is(code, 'no error');
    assert.ok(ms < 900, `${ms.toFixed(0)} ms`);
    assert.is(cluster.requests({ type: 'set' }).length, 4);
    cluster.inject({ kind: 'error', type: 'get', code: 'SERVER_CHANGED' });
    let message = '';
    const { code: endless, ms: elapsed, lateMs } = await timedAgainstTimer(250, () =>
      table.get(key, 's', { timeoutMs: 250 }).catch((error: unknown) => {
        message = String(error);
        throw error;
      }),
    );
    assert.is(endless, 'TIMEOUT');
    assert.match(message, /last error: SERVER_CHANGED/);
    assert.ok(elapsed >= 249 && lateMs <= SLACK_MS, `${elapsed.toFixed(1)} ms`);
    const attempts = cluster.requests({ type: 'get' }).length;
    assert.ok(attempts >= 3 && attempts < 30, `${attempts} attempts in 250 ms: backed off`);
    cluster.clearFaults();
    assert.is(text(await table.get(key, 's')), 'v');
  }));

test('answers that arrive after the timeout are dropped and free their slot; the connection goes on', () =>
  withRig(async ({ cluster, table, client }) => {
    await table.set('h', 's', 'v');
    cluster.inject({ kind: 'delay', type: 'get', ms: 150, count: 20 });
    const late = await Promise.all(Array.from({ length: 20 }, () => codeOf(table.get('h', 's', { timeoutMs: 40 }))));
    assert.ok(late.every((code) => code === 'TIMEOUT'));
    for (const session of client.sessions()) assert.equal(session.load, { inFlight: 0, queued: 0 }, 'abandoned requests left the window');
    await sleep(200);
    assert.is(text(await table.get('h', 's')), 'v');
    assert.is(client.sessions().length, 2, 'the meta and one replica server, still the same connections');
  }));

test('each request header carries the time left of its call', () =>
  withRig(async ({ cluster, table }) => {
    const key = hashKeyIn(1, 8);
    cluster.inject({ kind: 'error', type: 'get', code: 'SERVER_CHANGED', count: 1 });
    await table.get(key, 's', { timeoutMs: 700 });
    const [first, second] = cluster.requests({ type: 'get' });
    assert.ok(first?.timeoutMs !== undefined && first.timeoutMs <= 700 && first.timeoutMs > 650, `first attempt: ${first?.timeoutMs}`);
    assert.ok(second?.timeoutMs !== undefined && second.timeoutMs <= first.timeoutMs, `the retry has less: ${second?.timeoutMs}`);
  }));

test('a scan gives each batch the whole timeout', () =>
  withRig(async ({ cluster, table }) => {
    await table.multiSet('h', Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`s${i}`, 'v'])));
    cluster.inject({ kind: 'delay', type: 'scan', ms: 60 });
    const started = performance.now();
    const records = await collect(table.scan('h', { batchSize: 3, timeoutMs: 100 }));
    assert.is(records.length, 9);
    assert.ok(performance.now() - started > 100, 'longer than one timeout in all');
  }));

test.run();
