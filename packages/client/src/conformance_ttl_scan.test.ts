/**
 * Conformance through the network client, part 3: time and iteration, after the storage app's
 * ttl-scan suite (Pegasus's test_ttl.cpp, test_scan.cpp, test_range_read.cpp): TTL expiry under
 * a manual clock, default_ttl set through the admin API, the 3000-row cap over expired and
 * filtered rows, the iteration time limit, scans of one hash key and of the whole table with
 * filters and every batch size, Scanner.count, and delRange.
 */
import { ManualClock } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collect, keysOf, pairs, text, withRig } from './test_support.js';
import type { FilterType, Record_, Table } from './types.js';

const SORT_KEYS = ['', '1', '1-abcdefg', '2', '2-abcdefg', '3', '3-efghijk', '4', '4-hijklmn', '5', '5-hijklmn', '6', '7'];
const KVS: Record<string, string> = Object.fromEntries(SORT_KEYS.map((k) => [k, k === '' ? '0' : k]));

/** A clock whose monotonic time moves `stepMs` each time it is read: every read looks slow. */
class SlowClock extends ManualClock {
  constructor(private readonly stepMs: number) {
    super({ wallMs: Math.floor(Date.now() / 1000) * 1000 });
  }

  override nowMs(): number {
    this.advance(this.stepMs);
    return super.nowMs();
  }
}

function matches(type: FilterType, pattern: string, key: string): boolean {
  if (type === 'none' || pattern === '') return true;
  if (type === 'anywhere') return key.includes(pattern);
  if (type === 'prefix') return key.startsWith(pattern);
  return key.endsWith(pattern);
}

const names = (records: Record_[]) => records.map((r) => `${r.hashKey}:${r.sortKey}`);

async function scanKeys(table: Table, hashKey: string, options: Parameters<Table['scan']>[1] = {}): Promise<string[]> {
  return names(await collect(table.scan(hashKey, options)));
}

test('TTL: seconds left count down with the clock; an expired record is invisible to every read', async () => {
  const clock = new ManualClock({ wallMs: Math.floor(Date.now() / 1000) * 1000 });
  await withRig(
    async ({ table }) => {
      await table.set('ttl', 'k', 'v', { ttlSeconds: 10 });
      await table.set('ttl', 'forever', 'v');
      assert.is(await table.ttl('ttl', 'k'), 10);
      assert.is(await table.ttl('ttl', 'forever'), -1);
      assert.is(await table.ttl('ttl', 'absent'), null);
      clock.advance(4000);
      assert.is(await table.ttl('ttl', 'k'), 6);
      clock.advance(5999);
      assert.is(text(await table.get('ttl', 'k')), 'v');
      clock.advance(1);
      assert.is(await table.get('ttl', 'k'), null);
      assert.is(await table.exist('ttl', 'k'), false);
      assert.is(await table.ttl('ttl', 'k'), null);
      assert.equal((await table.batchGet([['ttl', 'k']])).map(text), [null]);
      assert.is(await table.sortKeyCount('ttl'), 1);
      assert.equal(pairs(await table.multiGet('ttl')), [['forever', 'v']]);
      assert.equal(await scanKeys(table, 'ttl'), ['ttl:forever']);
      await table.set('ttl', 'k', 'again');
      assert.is(await table.ttl('ttl', 'k'), -1, 'ttlSeconds 0 means no TTL');
    },
    { cluster: { clock } },
  );
});

test('default_ttl set through admin.setTableEnvs: writes without a TTL get it; delTableEnvs removes it', () =>
  withRig(async ({ client, table }) => {
    await client.admin.setTableEnvs('t', { default_ttl: '100' });
    assert.equal((await client.admin.tableInfo('t')).envs, { default_ttl: '100' });
    await table.set('d', 'plain', 'v');
    await table.set('d', 'own', 'v', { ttlSeconds: 5 });
    await table.multiSet('d', { m1: 'v' });
    await table.incr('d', 'n', 1);
    assert.is(await table.ttl('d', 'plain'), 100);
    assert.is(await table.ttl('d', 'own'), 5);
    assert.is(await table.ttl('d', 'm1'), 100);
    assert.is(await table.ttl('d', 'n'), 100);
    await client.admin.delTableEnvs('t', ['default_ttl']);
    await table.set('d', 'after', 'v');
    assert.is(await table.ttl('d', 'after'), -1);
  }, { cluster: { clock: new ManualClock({ wallMs: Math.floor(Date.now() / 1000) * 1000 }) } }));

test('the 3000-row cap counts expired rows: multiGet stops incomplete, sortKeyCount, scans and delRange see past them', async () => {
  const clock = new ManualClock({ wallMs: Math.floor(Date.now() / 1000) * 1000 });
  await withRig(
    async ({ table }) => {
      const expiring = Array.from({ length: 3000 }, (_, i) => [`a${String(i).padStart(5, '0')}`, 'x'] as [string, string]);
      const live = Array.from({ length: 50 }, (_, i) => [`b${String(i).padStart(5, '0')}`, 'y'] as [string, string]);
      await table.multiSet('big', expiring, { ttlSeconds: 1 });
      await table.multiSet('big', live);
      clock.advance(1000);
      let result = await table.multiGetRange('big', '', '');
      assert.is(result.complete, false);
      assert.is(result.entries.length, 0, '3000 expired rows used up the cap');
      result = await table.multiGetRange('big', '', '', { reverse: true });
      assert.is(result.entries.length, 50);
      assert.is(await table.sortKeyCount('big'), 50, 'sortKeyCount has no row cap');
      assert.is((await scanKeys(table, 'big', { batchSize: 100 })).length, 50, 'the scan resumes past a batch of expired rows');
      assert.is(await table.delRange('big', '', ''), 50, 'delRange moves past the expired rows');
      assert.is(await table.sortKeyCount('big'), 0);
      const many = Array.from({ length: 3000 }, (_, i) => [`k${String(i).padStart(5, '0')}`, 'v'] as [string, string]);
      many.push(['k99999-match', 'v']);
      await table.multiSet('filtered', many);
      result = await table.multiGetRange('filtered', '', '', { sortKeyFilter: { type: 'postfix', pattern: 'match' } });
      assert.is(result.complete, false);
      assert.is(result.entries.length, 0, 'filtered rows count toward the cap');
      assert.equal(await scanKeys(table, 'filtered', { sortKeyFilter: { type: 'postfix', pattern: 'match' }, batchSize: 10 }), ['filtered:k99999-match']);
      assert.is(await table.delRange('filtered', '', '', { sortKeyFilter: { type: 'postfix', pattern: 'match' } }), 1);
      assert.is(await table.sortKeyCount('filtered'), 3000);
    },
    { cluster: { clock } },
  );
});

test('the iteration time limit: sortKeyCount gives -1, multiGet stops incomplete, a scan resumes to the end', () =>
  withRig(
    async ({ table }) => {
      await table.multiSet('slow', Array.from({ length: 50 }, (_, i) => [`s${String(i).padStart(3, '0')}`, 'v'] as [string, string]));
      assert.is(await table.sortKeyCount('slow'), -1);
      const result = await table.multiGetRange('slow', '', '');
      assert.is(result.complete, false);
      assert.is(result.entries.length, 16, 'the limit is checked every 16 rows');
      assert.is((await scanKeys(table, 'slow', { batchSize: 100 })).length, 50);
    },
    { cluster: { clock: new SlowClock(200), appOptions: { iterationTimeLimitMs: 100 } } },
  ));

test('scan of one hash key: every record once, ascending, in batches of 1, 3 and 100; values and options', () =>
  withRig(async ({ table, cluster }) => {
    await table.multiSet('scan', KVS);
    await table.multiSet('scam', { z: 'other' });
    await table.multiSet('scan2', { '': 'other' });
    const expected = SORT_KEYS.map((k) => `scan:${k}`);
    for (const batchSize of [1, 3, 100]) {
      cluster.clearLog();
      const records = await collect(table.scan('scan', { batchSize }));
      assert.equal(names(records), expected, `batch ${batchSize}`);
      for (const record of records) {
        assert.ok(Buffer.isBuffer(record.value));
        assert.is(record.value.toString(), record.sortKey.length === 0 ? '0' : record.sortKey.toString());
        assert.is(record.expireTs, undefined);
      }
      assert.is(cluster.dataRequests('scan').length, batchSize === 1 ? 13 : batchSize === 3 ? 5 : 1, `requests for batch ${batchSize}`);
    }
    const noValue = await collect(table.scan('scan', { noValue: true }));
    assert.equal(noValue.map((r) => r.value.length), SORT_KEYS.map(() => 0));
  }));

test('scan of one hash key: start and stop sort keys with every inclusive combination', () =>
  withRig(async ({ table }) => {
    await table.multiSet('scan', KVS);
    const bounds = ['', '1', '2-abcdefg', '4', '7', '9'];
    const checks: Promise<void>[] = [];
    for (const start of bounds) {
      for (const stop of bounds) {
        for (const startInclusive of [true, false]) {
          for (const stopInclusive of [true, false]) {
            const expected = SORT_KEYS.filter((k) => {
              if (k < start || (k === start && !startInclusive)) return false;
              if (stop !== '' && (k > stop || (k === stop && !stopInclusive))) return false;
              return true;
            }).map((k) => `scan:${k}`);
            for (const batchSize of [1, 3, 100]) {
              const what = `${startInclusive ? '[' : '('}${start}, ${stop}${stopInclusive ? ']' : ')'} batch ${batchSize}`;
              checks.push(scanKeys(table, 'scan', { startSortKey: start, stopSortKey: stop, startInclusive, stopInclusive, batchSize }).then((keys) => assert.equal(keys, expected, what)));
            }
          }
        }
      }
    }
    await Promise.all(checks);
  }));

test('scan with sort-key filters, in batches of 1, 3 and 100', () =>
  withRig(async ({ table }) => {
    await table.multiSet('scan', KVS);
    const filters: [FilterType, string][] = [
      ['anywhere', '-'],
      ['prefix', '1'],
      ['prefix', '5-'],
      ['postfix', 'g'],
      ['postfix', 'nothing'],
      ['prefix', ''],
    ];
    for (const [type, pattern] of filters) {
      const expected = SORT_KEYS.filter((k) => matches(type, pattern, k)).map((k) => `scan:${k}`);
      for (const batchSize of [1, 3, 100]) {
        assert.equal(await scanKeys(table, 'scan', { sortKeyFilter: { type, pattern }, batchSize }), expected, `${type}(${pattern}) batch ${batchSize}`);
      }
    }
  }));

test('full-table scans: unorderedScanners cover every record once, with hash-key and sort-key filters and every batch size', () =>
  withRig(async ({ table }) => {
    const hashKeys = ['a', 'ab', 'abc', 'b', 'ba', 'xab', 'user_1', 'user_2', 'user_10', 'zz'];
    for (const hashKey of hashKeys) await table.multiSet(hashKey, { s1: `${hashKey}1`, s2: `${hashKey}2` });
    await table.set('', 'single', 'v');
    const all = ['', ...hashKeys].flatMap((hashKey) => (hashKey === '' ? [':single'] : [`${hashKey}:s1`, `${hashKey}:s2`]));
    const filters: [FilterType, string][] = [
      ['none', ''],
      ['prefix', 'ab'],
      ['prefix', 'user_'],
      ['anywhere', 'b'],
      ['postfix', '_1'],
    ];
    for (const [type, pattern] of filters) {
      const expected = all.filter((key) => matches(type, pattern, key.slice(0, key.indexOf(':')))).sort();
      for (const batchSize of [1, 3, 100]) {
        for (const split of [1, 3, 8, 100]) {
          const scanners = table.unorderedScanners(split, { hashKeyFilter: { type, pattern }, batchSize });
          assert.is(scanners.length, Math.min(split, 8));
          const found = (await Promise.all(scanners.map((scanner) => collect(scanner)))).flat();
          assert.equal(names(found).sort(), expected, `${type}(${pattern}) batch ${batchSize} split ${split}`);
        }
      }
    }
    const both = table.unorderedScanners(4, { hashKeyFilter: { type: 'prefix', pattern: 'user_' }, sortKeyFilter: { type: 'postfix', pattern: '2' }, batchSize: 3 });
    assert.equal(names((await Promise.all(both.map((scanner) => collect(scanner)))).flat()).sort(), ['user_10:s2', 'user_1:s2', 'user_2:s2']);
  }));

test('Scanner.count counts what the scanner would still yield, filters applied, and consumes it', () =>
  withRig(async ({ table }) => {
    for (let i = 0; i < 40; i++) await table.multiSet(`h${i}`, { a: 'x', b: 'y' });
    const counts = await Promise.all(table.unorderedScanners(3, { batchSize: 7 }).map((scanner) => scanner.count()));
    assert.is(counts.reduce((sum, n) => sum + n, 0), 80);
    const filtered = await Promise.all(table.unorderedScanners(8, { sortKeyFilter: { type: 'prefix', pattern: 'a' } }).map((scanner) => scanner.count()));
    assert.is(filtered.reduce((sum, n) => sum + n, 0), 40);
    const [scanner] = table.unorderedScanners(1, { batchSize: 5 });
    if (scanner === undefined) throw new Error('no scanner');
    const iterator = scanner[Symbol.asyncIterator]();
    for (let i = 0; i < 12; i++) assert.is((await iterator.next()).done, false);
    assert.is(await scanner.count(), 68, 'the 12 records already yielded are not counted');
    assert.is((await iterator.next()).done, true, 'count consumed the scanner');
    const [closing] = table.unorderedScanners(1);
    await closing?.close();
    assert.equal(await collect(closing as AsyncIterable<Record_>), [], 'a closed scanner yields nothing');
  }));

test('scan options: returnExpireTs gives unix seconds (0 without TTL)', async () => {
  const clock = new ManualClock({ wallMs: Math.floor(Date.now() / 1000) * 1000 });
  await withRig(
    async ({ table }) => {
      await table.set('o', 'a', 'A', { ttlSeconds: 60 });
      await table.set('o', 'b', 'B');
      const now = Math.floor(clock.wallMs() / 1000);
      const records = await collect(table.scan('o', { returnExpireTs: true }));
      assert.equal(
        records.map((r) => [r.sortKey.toString(), r.value.toString(), r.expireTs]),
        [
          ['a', 'A', now + 60],
          ['b', 'B', 0],
        ],
      );
      const [scanner] = table.unorderedScanners(1, { returnExpireTs: true });
      assert.equal((await collect(scanner as Scanner)).map((r) => r.expireTs), [now + 60, 0]);
    },
    { cluster: { clock }, partitionCount: 1 },
  );
});

type Scanner = ReturnType<Table['unorderedScanners']>[number];

test('delRange deletes the range with its bounds and filter, in batches, and returns the number deleted', () =>
  withRig(async ({ table, cluster }) => {
    await table.multiSet('d', KVS);
    assert.is(await table.delRange('d', '2', '4'), 4);
    assert.is(keysOf(await table.multiGet('d')), ',1,1-abcdefg,4,4-hijklmn,5,5-hijklmn,6,7');
    assert.is(await table.delRange('d', '4', '5', { startInclusive: false, stopInclusive: true }), 2);
    assert.is(keysOf(await table.multiGet('d')), ',1,1-abcdefg,4,5-hijklmn,6,7');
    assert.is(await table.delRange('d', '', '', { sortKeyFilter: { type: 'anywhere', pattern: '-' } }), 2);
    assert.is(keysOf(await table.multiGet('d')), ',1,4,6,7');
    assert.is(await table.delRange('d', '9', '1'), 0, 'an inverted range deletes nothing');
    assert.is(await table.delRange('d', '', ''), 5);
    assert.is(await table.sortKeyCount('d'), 0);
    const rows = Array.from({ length: 2500 }, (_, i) => [`r${String(i).padStart(5, '0')}`, 'v'] as [string, string]);
    await table.multiSet('wide', rows);
    await table.set('wide2', 'r', 'other hash key');
    cluster.clearLog();
    assert.is(await table.delRange('wide', 'r00100', ''), 2400);
    assert.is(await table.sortKeyCount('wide'), 100);
    assert.is(text(await table.get('wide2', 'r')), 'other hash key');
    assert.is(cluster.dataRequests('multiDel').length, 3, 'batches of 1000 sort keys');
  }));

test.run();
