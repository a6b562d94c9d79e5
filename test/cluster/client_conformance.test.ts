/**
 * CLIENT_API conformance through @petrel/client against real server processes (one meta, three
 * replica servers on 127.0.0.1): every operation, the corner cases of CLIENT_API.md that do not
 * need a controlled clock (those run against the storage app and the fake cluster, with a manual
 * clock), admin operations, and table drop seen through an old Table.
 */
import { PetrelClient, type Table } from '@petrel/client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessCluster } from './process_cluster.js';

let cluster: ProcessCluster | undefined;
let client: PetrelClient | undefined;
let table: Table;

const text = (value: Buffer | null | undefined): string | null => (value === null || value === undefined ? null : value.toString());

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

test.before(async () => {
  cluster = await ProcessCluster.start(3);
  client = new PetrelClient({ metaServers: [cluster.meta.address], timeoutMs: 10_000 });
  await client.admin.createTable('conf', { partitionCount: 8, replicaCount: 3 });
  table = await client.openTable('conf');
});

test.after(async () => {
  await client?.close();
  await cluster?.stop();
});

test('set/get/exist/del/ttl, empty values and the empty hash key', async () => {
  await table.set('h', 's', 'v');
  assert.is(text(await table.get('h', 's')), 'v');
  assert.is(await table.exist('h', 's'), true);
  assert.is(await table.ttl('h', 's'), -1);
  await table.set('h', 'empty', '');
  assert.is(text(await table.get('h', 'empty')), '', 'an empty value is stored, distinct from absent');
  await table.set('', 'only-sort-key', 'x');
  assert.is(text(await table.get('', 'only-sort-key')), 'x');
  await table.set('h', 'with-ttl', 'y', { ttlSeconds: 100 });
  const ttl = await table.ttl('h', 'with-ttl');
  assert.ok(ttl !== null && ttl > 95 && ttl <= 100, `ttl ${ttl}`);
  await table.del('h', 's');
  await table.del('h', 's');
  assert.is(await table.get('h', 's'), null);
  assert.is(await table.exist('h', 's'), false);
  assert.is(await table.ttl('h', 's'), null);
  assert.is(await codeOf(table.set('h', 's', 'v', { ttlSeconds: -1 })), 'INVALID_ARGUMENT');
  assert.is(await codeOf(table.set('h', 's', Buffer.alloc(1_100_000))), 'VALUE_TOO_LARGE');
  assert.is(await codeOf(table.multiGet('')), 'INVALID_HASH_KEY');
});

test('multiSet/multiGet/multiGetRange/multiGetSortKeys/sortKeyCount/multiDel/delRange', async () => {
  const sortKeys = ['', '1', '1-abcdefg', '2', '2-abcdefg', '3', '3-efghijk', '4', '4-hijklmn', '5', '5-hijklmn', '6', '7'];
  await table.multiSet('mg', Object.fromEntries(sortKeys.map((key) => [key, `v${key}`])));
  assert.is(await table.sortKeyCount('mg'), 13);
  const all = await table.multiGet('mg');
  assert.equal(all.entries.map((e) => e.sortKey.toString()), sortKeys, 'ascending by sort key');
  assert.is(all.complete, true);
  const some = await table.multiGet('mg', ['2', '3', 'absent']);
  assert.equal(some.entries.map((e) => e.value.toString()), ['v2', 'v3']);
  const range = await table.multiGetRange('mg', '2', '4');
  assert.equal(range.entries.map((e) => e.sortKey.toString()), ['2', '2-abcdefg', '3', '3-efghijk']);
  const inclusive = await table.multiGetRange('mg', '2', '4', { startInclusive: false, stopInclusive: true });
  assert.equal(inclusive.entries.map((e) => e.sortKey.toString()), ['2-abcdefg', '3', '3-efghijk', '4']);
  const prefixed = await table.multiGetRange('mg', '', '', { sortKeyFilter: { type: 'prefix', pattern: '5' } });
  assert.equal(prefixed.entries.map((e) => e.sortKey.toString()), ['5', '5-hijklmn']);
  const postfix = await table.multiGetRange('mg', '', '', { sortKeyFilter: { type: 'postfix', pattern: 'klmn' } });
  assert.equal(postfix.entries.map((e) => e.sortKey.toString()), ['4-hijklmn', '5-hijklmn']);
  const anywhere = await table.multiGetRange('mg', '', '', { sortKeyFilter: { type: 'anywhere', pattern: 'efg' } });
  assert.equal(anywhere.entries.map((e) => e.sortKey.toString()), ['1-abcdefg', '2-abcdefg', '3-efghijk']);
  const reverse = await table.multiGetRange('mg', '', '', { reverse: true, maxCount: 2 });
  assert.equal(reverse.entries.map((e) => e.sortKey.toString()), ['6', '7'], 'reverse keeps the last rows, in ascending order');
  assert.is(reverse.complete, false);
  const inverted = await table.multiGetRange('mg', '5', '2');
  assert.equal(inverted.entries, [], 'an inverted range is empty');
  const limited = await table.multiGet('mg', [], { maxCount: 3 });
  assert.is(limited.entries.length, 3);
  assert.is(limited.complete, false);
  const keysOnly = await table.multiGetSortKeys('mg');
  assert.is(keysOnly.sortKeys.length, 13);
  const noValue = await table.multiGet('mg', [], { noValue: true });
  assert.ok(noValue.entries.every((e) => e.value.length === 0));
  assert.is(await table.multiDel('mg', ['1', '2', 'absent']), 3, 'multiDel returns the request count');
  assert.is(await table.sortKeyCount('mg'), 11);
  assert.is(await table.delRange('mg', '3', '6'), 6);
  assert.equal((await table.multiGet('mg')).entries.map((e) => e.sortKey.toString()), ['', '1-abcdefg', '2-abcdefg', '6', '7']);
  assert.is(await codeOf(table.multiSet('mg', {})), 'INVALID_VALUE');
  assert.is(await codeOf(table.multiDel('mg', [])), 'INVALID_VALUE');
});

test('incr, checkAndSet, checkAndMutate, compareExchange', async () => {
  assert.is(await table.incr('n', 'c', 5), 5n);
  assert.is(await table.incr('n', 'c', -7n), -2n);
  assert.is(text(await table.get('n', 'c')), '-2');
  await table.set('n', 'big', '9223372036854775807');
  assert.is(await codeOf(table.incr('n', 'big', 1)), 'INVALID_ARGUMENT', 'overflow');
  assert.is(text(await table.get('n', 'big')), '9223372036854775807', 'unchanged');
  await table.set('n', 'word', 'abc');
  assert.is(await codeOf(table.incr('n', 'word', 1)), 'INVALID_ARGUMENT');
  const first = await table.checkAndSet('c', 'k', 'notExist', '', 'k', 'v1', { returnCheckValue: true });
  assert.equal({ succeeded: first.succeeded, exists: first.checkValueExists }, { succeeded: true, exists: false });
  const second = await table.checkAndSet('c', 'k', 'notExist', '', 'k', 'v2', { returnCheckValue: true });
  assert.is(second.succeeded, false);
  assert.is(text(second.checkValue), 'v1');
  const byBytes = await table.checkAndSet('c', 'k', 'bytesEqual', 'v1', 'other', 'set-by-check');
  assert.is(byBytes.succeeded, true);
  assert.is(text(await table.get('c', 'other')), 'set-by-check');
  await table.set('c', 'num', '10');
  assert.is((await table.checkAndSet('c', 'num', 'intGreater', '9', 'num', '11')).succeeded, true);
  assert.is(await codeOf(table.checkAndSet('c', 'num', 'intLess', 'x', 'num', '0')), 'INVALID_ARGUMENT');
  const mutated = await table.checkAndMutate('c', 'k', 'exist', '', [
    { op: 'set', sortKey: 'm', value: 'x' },
    { op: 'del', sortKey: 'm' },
    { op: 'set', sortKey: 'n', value: 'y' },
  ]);
  assert.is(mutated.succeeded, true);
  assert.is(await table.get('c', 'm'), null, 'set then del leaves it absent');
  assert.is(text(await table.get('c', 'n')), 'y');
  assert.is(await codeOf(table.checkAndMutate('c', 'k', 'exist', '', [])), 'INVALID_ARGUMENT');
  const swapped = await table.compareExchange('c', 'k', 'v1', 'v3');
  assert.equal({ succeeded: swapped.succeeded, actual: swapped.actualValue }, { succeeded: true, actual: null });
  const failed = await table.compareExchange('c', 'k', 'nope', 'v4');
  assert.equal({ succeeded: failed.succeeded, actual: text(failed.actualValue) }, { succeeded: false, actual: 'v3' });
});

test('scan, unorderedScanners, batchGet/batchSet/batchDel', async () => {
  await table.multiSet('scan', Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`k${String(i).padStart(3, '0')}`, `v${i}`])));
  const seen: string[] = [];
  for await (const record of table.scan('scan', { batchSize: 7 })) seen.push(record.sortKey.toString());
  assert.is(seen.length, 250);
  assert.equal(seen, [...seen].sort());
  const filtered: string[] = [];
  for await (const record of table.scan('scan', { batchSize: 3, sortKeyFilter: { type: 'postfix', pattern: '7' }, startSortKey: 'k100', stopSortKey: 'k200' })) filtered.push(record.sortKey.toString());
  assert.is(filtered.length, 10);
  await table.batchSet(Array.from({ length: 100 }, (_, i) => ({ hashKey: `b${i}`, sortKey: 's', value: `v${i}` })));
  const got = await table.batchGet(Array.from({ length: 101 }, (_, i) => [`b${i}`, 's'] as [string, string]));
  assert.equal(got.map(text), [...Array.from({ length: 100 }, (_, i) => `v${i}`), null], 'same order as the keys');
  await table.batchDel(Array.from({ length: 50 }, (_, i) => [`b${i}`, 's'] as [string, string]));
  assert.is((await table.batchGet([['b0', 's'], ['b99', 's']])).map(text).join(','), ',v99');
  const scanners = table.unorderedScanners(3);
  assert.is(scanners.length, 3);
  let counted = 0;
  for (const scanner of scanners) counted += await scanner.count();
  const expected = (await Promise.all(table.unorderedScanners(8).map(async (scanner) => {
    let n = 0;
    for await (const _record of scanner) n++;
    return n;
  }))).reduce((a, b) => a + b, 0);
  assert.is(counted, expected, 'the scanners cover every partition once');
  assert.ok(counted >= 250 + 50);
  assert.is(await codeOf(() => table.unorderedScanners(0)), 'INVALID_SPLIT_COUNT');
});

test('admin: validation codes, envs, nodes, drop seen through an old Table, recall', async () => {
  const admin = client!.admin;
  assert.is(await codeOf(admin.createTable('conf')), 'APP_EXIST');
  assert.is((await admin.createTable('conf', { successIfExists: true })).name, 'conf');
  assert.is(await codeOf(admin.createTable('bad name')), 'INVALID_APP_NAME');
  assert.is(await codeOf(admin.createTable('t2', { partitionCount: 0 })), 'INVALID_PAR_COUNT');
  assert.is(await codeOf(admin.createTable('t2', { replicaCount: 0 })), 'INVALID_REP_COUNT');
  assert.is(await codeOf(client!.openTable('absent')), 'APP_NOT_EXIST');
  await admin.setTableEnvs('conf', { 'replica.deny_client_request': 'false' });
  assert.is((await admin.tableInfo('conf')).envs['replica.deny_client_request'], 'false');
  await admin.delTableEnvs('conf', ['replica.deny_client_request']);
  const nodes = await admin.listNodes();
  assert.is(nodes.length, 3);
  assert.ok(nodes.every((node) => node.alive));
  assert.is(nodes.reduce((sum, node) => sum + node.primaries, 0), 8);
  const info = await admin.clusterInfo();
  assert.is(info.aliveReplicaServers, 3);
  await admin.createTable('doomed', { partitionCount: 2, replicaCount: 3 });
  const doomed = await client!.openTable('doomed');
  await doomed.set('x', 'y', 'z');
  // A second client, whose Table was opened before the drop.
  const other = new PetrelClient({ metaServers: [cluster!.meta.address], timeoutMs: 5000 });
  try {
    const old = await other.openTable('doomed');
    assert.is(text(await old.get('x', 'y')), 'z');
    await admin.dropTable('doomed');
    assert.is(await codeOf(client!.openTable('doomed')), 'APP_NOT_EXIST');
    assert.ok(!(await admin.listTables()).some((t) => t.name === 'doomed'));
    assert.ok((await admin.listTables({ includeDropped: true })).some((t) => t.name === 'doomed' && t.status === 'dropped'));
    assert.is(await codeOf(old.get('x', 'y')), 'APP_NOT_EXIST', 'an old Table sees the drop');
    const recalled = await admin.recallTable(doomed.id);
    assert.is(recalled.name, 'doomed');
    const back = await client!.openTable('doomed');
    assert.is(text(await back.get('x', 'y')), 'z', 'a recalled table has its data');
    // …and its replicas: every partition whole again, at the ballots it had.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const info = await admin.tableInfo('doomed');
      if (info.partitions.every((p) => p.primary !== null && p.secondaries.length === 2)) break;
      if (Date.now() > deadline) throw new Error(`the recalled table is not whole: ${JSON.stringify(info.partitions)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await back.set('x', 'after-recall', 'w');
  } finally {
    await other.close();
  }
});

test.run();
