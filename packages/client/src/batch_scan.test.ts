/**
 * Batches fan out per partition; scans survive primary moves, cut connections and restarts,
 * resuming after the last key they returned.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collect, codeOf, hashKeyIn, sleep, text, withRig } from './test_support.js';
import type { Record_ } from './types.js';

const pad = (i: number) => String(i).padStart(5, '0');

test('batchGet sends one request per partition and answers in the order of the keys, absent as null', () =>
  withRig(async ({ cluster, table }) => {
    const keys: [string, string][] = [];
    for (let i = 0; i < 300; i++) keys.push([`user${i % 37}`, `s${i}`]);
    keys.push(['', 'empty-hash-key']);
    for (let i = 0; i < 300; i += 2) await table.set(keys[i]?.[0] as string, keys[i]?.[1] as string, `v${i}`);
    await table.set('', 'empty-hash-key', 'e');
    cluster.clearLog();
    const values = await table.batchGet(keys);
    assert.is(values.length, keys.length);
    values.slice(0, 300).forEach((value, i) => assert.is(text(value), i % 2 === 0 ? `v${i}` : null, `key ${i}`));
    assert.is(text(values[300]), 'e');
    const requests = cluster.dataRequests('batchGet');
    const partitions = requests.map((facts) => facts.partitionIndex);
    assert.is(new Set(partitions).size, partitions.length, 'one request per partition');
    assert.ok(partitions.length <= 8 && partitions.length >= 6, `${partitions.length} partitions`);
    assert.is(cluster.misroutes, 0);
    assert.equal(await table.batchGet([]), []);
  }));

test('batchGet splits a partition with more than 1000 keys into several requests', () =>
  withRig(
    async ({ cluster, table }) => {
      await table.set('h', 's1', 'x');
      const keys = Array.from({ length: 2500 }, (_, i) => ['h', `s${i}`] as [string, string]);
      const values = await table.batchGet(keys);
      assert.is(text(values[1]), 'x');
      assert.is(values.filter((value) => value !== null).length, 1);
      assert.is(cluster.dataRequests('batchGet').length, 3);
    },
    { partitionCount: 1 },
  ));

test('batchSet and batchDel fan out one write per item to the right partitions; writes then reads agree', () =>
  withRig(async ({ cluster, table }) => {
    const items = Array.from({ length: 500 }, (_, i) => ({ hashKey: `h${i % 50}`, sortKey: `s${i}`, value: `v${i}`, ...(i % 3 === 0 ? { ttlSeconds: 100 } : {}) }));
    await table.batchSet(items);
    assert.is(cluster.dataRequests('set').length, 500);
    assert.ok(new Set(cluster.dataRequests('set').map((facts) => facts.partitionIndex)).size === 8);
    const values = await table.batchGet(items.map((item) => [item.hashKey, item.sortKey]));
    assert.equal(values.map(text), items.map((item) => item.value));
    const ttl = (await table.ttl('h0', 's0')) ?? 0;
    assert.ok(ttl === 100 || ttl === 99, `ttl ${ttl}`);
    assert.is(await table.ttl('h1', 's1'), -1);
    await table.batchDel(items.slice(0, 250).map((item) => [item.hashKey, item.sortKey]));
    const after = await table.batchGet(items.map((item) => [item.hashKey, item.sortKey]));
    assert.is(after.filter((value) => value === null).length, 250);
    assert.is(cluster.misroutes, 0);
    await table.batchSet([]);
    await table.batchDel([]);
  }));

test('a batchSet with a failing item rejects with its error once the others have settled', () =>
  withRig(async ({ cluster, table }) => {
    cluster.inject({ kind: 'error', type: 'set', code: 'IO_ERROR', count: 1 });
    const items = Array.from({ length: 20 }, (_, i) => ({ hashKey: 'h', sortKey: `s${i}`, value: 'v' }));
    assert.is(await codeOf(table.batchSet(items)), 'IO_ERROR');
    assert.is(await table.sortKeyCount('h'), 19);
  }));

test('a batchGet whose partitions move meanwhile still answers every key', () =>
  withRig(async ({ cluster, table }) => {
    const keys = Array.from({ length: 200 }, (_, i) => [`k${i}`, 's'] as [string, string]);
    await table.batchSet(keys.map(([hashKey, sortKey]) => ({ hashKey, sortKey, value: hashKey })));
    for (let partition = 0; partition < 8; partition++) cluster.movePrimary('t', partition);
    const values = await table.batchGet(keys);
    assert.equal(values.map(text), keys.map(([hashKey]) => hashKey));
  }));

test('a scan survives a primary move in the middle: every record once, in order, resumed after the last key', () =>
  withRig(async ({ cluster, table }) => {
    const hashKey = hashKeyIn(3, 8, 'scan');
    for (let start = 0; start < 1000; start += 250) {
      await table.multiSet(hashKey, Array.from({ length: 250 }, (_, i) => [`s${pad(start + i)}`, `v${start + i}`] as [string, string]));
    }
    const seen: string[] = [];
    const old = cluster.primaryOf('t', 3);
    for await (const record of table.scan(hashKey, { batchSize: 10 })) {
      seen.push(record.sortKey.toString());
      if (seen.length === 300) cluster.movePrimary('t', 3);
      if (seen.length === 600) cluster.movePrimary('t', 3, { announceDelayMs: 50 });
    }
    assert.equal(seen, Array.from({ length: 1000 }, (_, i) => `s${pad(i)}`));
    const servers = cluster.dataRequests('scan').map((facts) => facts.server);
    assert.is(servers[0], old);
    assert.is(new Set(servers).size, 3, 'the scan went on at each new primary');
  }));

test('a scan survives cut connections and a restarted server', () =>
  withRig(async ({ cluster, table }) => {
    const hashKey = 'h';
    await table.multiSet(hashKey, Array.from({ length: 500 }, (_, i) => [`s${pad(i)}`, 'v'] as [string, string]));
    const seen: string[] = [];
    for await (const record of table.scan(hashKey, { batchSize: 20 })) {
      seen.push(record.sortKey.toString());
      if (seen.length === 100) cluster.dropConnections();
      if (seen.length === 200) cluster.inject({ kind: 'drop', type: 'scan', apply: false, count: 2 });
      if (seen.length === 300) {
        const address = cluster.replicaAddresses.find((candidate) => cluster.requests({ type: 'scan', server: candidate }).length > 0) as string;
        await cluster.stopServer(address);
        setTimeout(() => void cluster.restartServer(address), 100);
      }
    }
    assert.equal(seen, Array.from({ length: 500 }, (_, i) => `s${pad(i)}`));
  }));

test('unorderedScanners together cover every partition exactly once, even while every primary moves', () =>
  withRig(async ({ cluster, table }) => {
    const expected: string[] = [];
    for (let i = 0; i < 400; i++) {
      const hashKey = `user${i}`;
      await table.multiSet(hashKey, { a: '1', b: '2' });
      expected.push(`${hashKey}:a`, `${hashKey}:b`);
    }
    const scanners = table.unorderedScanners(3, { batchSize: 25 });
    assert.is(scanners.length, 3);
    let moved = false;
    const found = await Promise.all(
      scanners.map(async (scanner) => {
        const records: Record_[] = [];
        for await (const record of scanner) {
          records.push(record);
          if (!moved && records.length === 50) {
            moved = true;
            for (let partition = 0; partition < 8; partition++) cluster.movePrimary('t', partition);
          }
        }
        return records;
      }),
    );
    const names = found.flat().map((r) => `${r.hashKey}:${r.sortKey}`);
    assert.is(names.length, expected.length, 'no record twice');
    assert.equal(names.sort(), expected.sort());
    assert.is(new Set(cluster.dataRequests('scan').map((facts) => facts.partitionIndex)).size, 8, 'every partition was scanned');
    assert.is(table.unorderedScanners(100).length, 8, 'never more scanners than partitions');
    assert.is(await codeOf(() => table.unorderedScanners(0)), 'INVALID_SPLIT_COUNT');
    assert.is(await codeOf(() => table.unorderedScanners(-3)), 'INVALID_SPLIT_COUNT');
  }));

test('a scan stopped early (break) sends no more requests; each for-await of table.scan starts afresh', () =>
  withRig(async ({ cluster, table }) => {
    await table.multiSet('h', Array.from({ length: 100 }, (_, i) => [`s${pad(i)}`, 'v'] as [string, string]));
    const scan = table.scan('h', { batchSize: 10 });
    let count = 0;
    for await (const _ of scan) if (++count === 15) break;
    await sleep(20);
    const sent = cluster.dataRequests('scan').length;
    assert.ok(sent <= 3, `${sent} batches for 15 records (one ahead)`);
    assert.is((await collect(scan)).length, 100, 'iterating again scans again');
  }));

test.run();
