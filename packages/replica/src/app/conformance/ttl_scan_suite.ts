/**
 * Conformance, part 3: time and iteration, after Pegasus's function tests (test_ttl.cpp,
 * test_scan.cpp, test_range_read.cpp): TTL expiry under a manual clock, the table's default_ttl
 * for writes and for compaction, the server's 3000-row iteration cap counting expired and
 * filtered rows, the iteration time limit (sortKeyCount → -1), and scans in batches of 1, 3 and
 * 100 with hash-key and sort-key filters, resumed after each batch.
 */
import { ManualClock } from '@petrel/base';
import { encodeStoredKey, storedExpireTs } from '@petrel/protocol';
import type { FilterType } from '@petrel/protocol';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type EngineFactory, Harness } from './harness.js';

const SORT_KEYS = ['', '1', '1-abcdefg', '2', '2-abcdefg', '3', '3-efghijk', '4', '4-hijklmn', '5', '5-hijklmn', '6', '7'];
const KVS: Record<string, string> = Object.fromEntries(SORT_KEYS.map((k) => [k, k === '' ? '0' : k]));

/** A clock whose monotonic time moves `stepMs` each time it is read: every read looks slow. */
class SlowClock extends ManualClock {
  constructor(private readonly stepMs: number) {
    super();
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

export function ttlScanSuite(engineName: string, factory: EngineFactory): void {
  const test = suite(`conformance/ttl-scan [${engineName}]`);
  let h: Harness;
  test.before.each(async () => {
    h = await Harness.open(factory);
  });
  test.after.each(async () => {
    await h.close();
  });

  /** Stored records of the engine, expired ones included. */
  function storedCount(): number {
    const iterator = h.app.engine.iterator();
    let count = 0;
    for (iterator.seekToFirst(); iterator.valid(); iterator.next()) count++;
    iterator.close();
    return count;
  }

  test('TTL: seconds left count down with the clock; an expired record is invisible to every read', () => {
    h.set('ttl', 'k', 'v', 10);
    h.set('ttl', 'forever', 'v');
    assert.is(h.ttl('ttl', 'k'), 10);
    assert.is(h.ttl('ttl', 'forever'), -1);
    assert.is(h.ttl('ttl', 'absent'), null);
    h.clock.advance(4000);
    assert.is(h.ttl('ttl', 'k'), 6);
    h.clock.advance(5999);
    assert.is(h.ttl('ttl', 'k'), 1);
    assert.is(h.get('ttl', 'k'), 'v');
    h.clock.advance(1);
    assert.is(h.get('ttl', 'k'), null);
    assert.is(h.exist('ttl', 'k'), false);
    assert.is(h.ttl('ttl', 'k'), null);
    assert.equal(h.batchGet([['ttl', 'k']]), [null]);
    assert.is(h.sortKeyCount('ttl'), 1);
    assert.equal(h.multiGet('ttl', []).entries, [['forever', 'v']]);
    assert.equal(h.multiGet('ttl', ['k', 'forever']).entries, [['forever', 'v']]);
    assert.equal(h.scanKeys('ttl'), ['ttl:forever']);
    assert.is(storedCount(), 2, 'expired records stay stored until compaction');
    h.set('ttl', 'k', 'again');
    assert.is(h.get('ttl', 'k'), 'again', 'a new write revives the key');
    assert.is(h.ttl('ttl', 'k'), -1, 'ttlSeconds 0 means no TTL');
  });

  test('default_ttl: writes without a TTL get it; writes with one keep theirs; a bad value counts as unset', () => {
    h.app.setEnvs({ default_ttl: '100' });
    h.set('d', 'plain', 'v');
    h.set('d', 'own', 'v', 5);
    h.multiSet('d', { m1: 'v' });
    h.incr('d', 'n', 1);
    h.checkAndSet('d', 'c', 'notExist', '', 'c', 'v');
    h.checkAndMutate('d', 'cm', 'notExist', '', [{ op: 'set', sortKey: 'cm', value: 'v' }]);
    assert.is(h.ttl('d', 'plain'), 100);
    assert.is(h.ttl('d', 'own'), 5);
    assert.is(h.ttl('d', 'm1'), 100);
    assert.is(h.ttl('d', 'n'), 100);
    assert.is(h.ttl('d', 'c'), 100);
    assert.is(h.ttl('d', 'cm'), 100);
    h.app.setEnvs({ default_ttl: 'soon' });
    assert.is(h.app.defaultTtl, 0);
    h.set('d', 'after', 'v');
    assert.is(h.ttl('d', 'after'), -1);
  });

  test('compaction drops expired records and gives default_ttl to records without a TTL', async () => {
    // The LSM's compaction reads the real clock: run this test's clock near it, starting 1000 s back.
    await h.close();
    h = await Harness.open(factory, {}, new ManualClock({ wallMs: Date.now() - 1_000_000 }));
    h.set('c', 'expiring', 'v', 10);
    h.set('c', 'plain', 'v');
    h.set('c', 'later', 'v', 2_000_000);
    h.clock.advance(1_000_000);
    assert.is(storedCount(), 3);
    await h.app.compact();
    assert.is(storedCount(), 2, 'the expired record is gone');
    assert.is(h.ttl('c', 'plain'), -1);
    h.app.setEnvs({ default_ttl: '100' });
    await h.app.compact();
    const ttl = h.ttl('c', 'plain') ?? 0;
    assert.ok(ttl >= 98 && ttl <= 101, `default_ttl given by compaction: ${ttl}`);
    assert.ok((h.ttl('c', 'later') ?? 0) > 900_000, 'a record with its own TTL keeps it');
    assert.is(h.get('c', 'plain'), 'v');
  });

  test('the iteration cap counts filtered rows: a filtered read stops after the cap with complete:false', async () => {
    await h.close();
    h = await Harness.open(factory, { maxIterationCount: 10 });
    h.multiSet('cap', KVS);
    const result = h.multiGetRange('cap', '', '', { filter: ['anywhere', '-'] });
    assert.is(result.complete, false);
    assert.equal(result.entries.map(([k]) => k), ['1-abcdefg', '2-abcdefg', '3-efghijk', '4-hijklmn']);
    const reverse = h.multiGetRange('cap', '', '', { filter: ['anywhere', '-'], reverse: true });
    assert.is(reverse.complete, false);
    assert.equal(reverse.entries.map(([k]) => k), ['2-abcdefg', '3-efghijk', '4-hijklmn', '5-hijklmn']);
    assert.is(h.multiGetRange('cap', '', '', { maxCount: 100 }).entries.length, 10, 'maxCount is capped by the server cap too');
  });

  test('the 3000-row cap counts expired rows: multiGet stops with complete:false, sortKeyCount and scans see past them', async () => {
    const expiring: [string, string][] = [];
    for (let i = 0; i < 3000; i++) expiring.push([`a${String(i).padStart(5, '0')}`, 'x']);
    const live: [string, string][] = [];
    for (let i = 0; i < 50; i++) live.push([`b${String(i).padStart(5, '0')}`, 'y']);
    h.multiSet('big', expiring, 1);
    h.multiSet('big', live);
    await h.app.flush();
    h.clock.advance(1000);
    let result = h.multiGetRange('big', '', '');
    assert.is(result.complete, false);
    assert.is(result.entries.length, 0, '3000 expired rows used up the cap');
    result = h.multiGetRange('big', '', '', { reverse: true });
    assert.is(result.entries.length, 50, 'from the other end the live rows come first');
    assert.is(result.complete, false);
    result = h.multiGetRange('big', 'b', '');
    assert.is(result.complete, true);
    assert.is(result.entries.length, 50);
    assert.is(h.sortKeyCount('big'), 50, 'sortKeyCount has no row cap');
    const scanned = h.scanAll('big', { batchSize: 100 });
    assert.is(scanned.records.length, 50);
    assert.equal(scanned.batches, [0, 50], 'the first batch visited 3000 expired rows and returned none');
    // Filtered rows count the same way: only the last of 3001 rows matches.
    const many: [string, string][] = [];
    for (let i = 0; i < 3000; i++) many.push([`k${String(i).padStart(5, '0')}`, 'v']);
    many.push(['k99999-match', 'v']);
    h.multiSet('filtered', many);
    result = h.multiGetRange('filtered', '', '', { filter: ['postfix', 'match'] });
    assert.is(result.complete, false);
    assert.is(result.entries.length, 0);
    assert.equal(
      h.scanKeys('filtered', { sortKeyFilter: ['postfix', 'match'], batchSize: 10 }),
      ['filtered:k99999-match'],
    );
  });

  test('the iteration time limit: sortKeyCount gives -1, multiGet stops incomplete, a scan resumes', async () => {
    await h.close();
    h = await Harness.open(factory, { iterationTimeLimitMs: 100 }, new SlowClock(200));
    const rows: [string, string][] = [];
    for (let i = 0; i < 50; i++) rows.push([`s${String(i).padStart(3, '0')}`, 'v']);
    h.multiSet('slow', rows);
    assert.is(h.sortKeyCount('slow'), -1);
    const result = h.multiGetRange('slow', '', '');
    assert.is(result.complete, false);
    assert.is(result.entries.length, 16, 'the limit is checked every 16 rows');
    const scanned = h.scanAll('slow', { batchSize: 100 });
    assert.is(scanned.records.length, 50);
    assert.ok(scanned.batches.length > 1, `${scanned.batches}`);
  });

  test('scan of one hash key: every record once, ascending, in batches of 1, 3 and 100', () => {
    h.multiSet('scan', KVS);
    h.multiSet('scam', { z: 'other' });
    h.multiSet('scan2', { '': 'other' });
    const expected = SORT_KEYS.map((k) => `scan:${k}`);
    const sizes: Record<number, number[]> = { 1: Array(13).fill(1), 3: [3, 3, 3, 3, 1], 100: [13] };
    for (const batchSize of [1, 3, 100]) {
      const { records, batches } = h.scanAll('scan', { batchSize });
      assert.equal(
        records.map((r) => `${r.hashKey}:${r.sortKey}`),
        expected,
        `batch ${batchSize}`,
      );
      assert.equal(batches, sizes[batchSize], `batch sizes for ${batchSize}`);
      for (const record of records) assert.is(record.value.toString(), record.sortKey.length === 0 ? '0' : record.sortKey.toString());
    }
  });

  test('scan of one hash key: start and stop sort keys with every inclusive combination', () => {
    h.multiSet('scan', KVS);
    const bounds = ['', '1', '2-abcdefg', '4', '7', '9'];
    for (const start of bounds) {
      for (const stop of bounds) {
        for (const startInclusive of [true, false]) {
          for (const stopInclusive of [true, false]) {
            const expected = SORT_KEYS.filter((k) => {
              if (k < start || (k === start && !startInclusive)) return false;
              if (stop !== '' && (k > stop || (k === stop && !stopInclusive))) return false;
              return true;
            });
            for (const batchSize of [1, 3, 100]) {
              const keys = h.scanKeys('scan', { startSortKey: start, stopSortKey: stop, startInclusive, stopInclusive, batchSize });
              assert.equal(keys, expected.map((k) => `scan:${k}`), `${startInclusive ? '[' : '('}${start}, ${stop}${stopInclusive ? ']' : ')'} batch ${batchSize}`);
            }
          }
        }
      }
    }
  });

  test('scan with sort-key filters, in batches of 1, 3 and 100', () => {
    h.multiSet('scan', KVS);
    const filters: [FilterType, string][] = [
      ['anywhere', '-'],
      ['anywhere', 'ijk'],
      ['prefix', '1'],
      ['prefix', '5-'],
      ['postfix', 'g'],
      ['postfix', '7'],
      ['postfix', 'nothing'],
      ['prefix', ''],
    ];
    for (const [type, pattern] of filters) {
      const expected = SORT_KEYS.filter((k) => matches(type, pattern, k)).map((k) => `scan:${k}`);
      for (const batchSize of [1, 3, 100]) {
        assert.equal(h.scanKeys('scan', { sortKeyFilter: [type, pattern], batchSize }), expected, `${type}(${pattern}) batch ${batchSize}`);
      }
    }
  });

  test('full-partition scan with hash-key filters, in batches of 1, 3 and 100', () => {
    const hashKeys = ['a', 'ab', 'abc', 'b', 'ba', 'xab', 'user_1', 'user_2', 'user_10', 'zz'];
    for (const hashKey of hashKeys) h.multiSet(hashKey, { s1: `${hashKey}1`, s2: `${hashKey}2` });
    h.set('', 'single', 'v');
    // Stored-key order: by hash-key length, then bytes; the empty hash key first.
    const order = ['', ...hashKeys].sort((x, y) => x.length - y.length || (x < y ? -1 : x > y ? 1 : 0));
    const all = order.flatMap((hashKey) => (hashKey === '' ? [':single'] : [`${hashKey}:s1`, `${hashKey}:s2`]));
    const filters: [FilterType, string][] = [
      ['none', ''],
      ['prefix', 'ab'],
      ['prefix', 'user_'],
      ['prefix', 'zzz'],
      ['anywhere', 'b'],
      ['postfix', 'b'],
      ['postfix', '_1'],
    ];
    for (const [type, pattern] of filters) {
      const expected = all.filter((key) => matches(type, pattern, key.slice(0, key.indexOf(':'))));
      for (const batchSize of [1, 3, 100]) {
        assert.equal(h.scanKeys(undefined, { hashKeyFilter: [type, pattern], batchSize }), expected, `${type}(${pattern}) batch ${batchSize}`);
      }
    }
    assert.equal(
      h.scanKeys(undefined, { hashKeyFilter: ['prefix', 'user_'], sortKeyFilter: ['postfix', '2'], batchSize: 3 }),
      ['user_1:s2', 'user_2:s2', 'user_10:s2'],
    );
  });

  test('scan options: noValue, returnExpireTs (unix seconds, 0 without TTL), onlyCount', () => {
    h.set('o', 'a', 'A', 60);
    h.set('o', 'b', 'B');
    const now = Math.floor(h.clock.wallMs() / 1000);
    const plain = h.scanAll('o').records;
    assert.is(plain[0]?.expireTs, undefined);
    const withTs = h.scanAll('o', { returnExpireTs: true }).records;
    assert.equal(
      withTs.map((r) => [r.sortKey.toString(), r.value.toString(), r.expireTs]),
      [
        ['a', 'A', now + 60],
        ['b', 'B', 0],
      ],
    );
    const stored = h.app.engine.get(encodeStoredKey(Buffer.from('o'), Buffer.from('a')));
    assert.is(stored === undefined ? -1 : storedExpireTs(stored), now + 60);
    const noValue = h.scanAll('o', { noValue: true }).records;
    assert.equal(noValue.map((r) => r.value.length), [0, 0]);
    const counted = h.app.scan({ ...h.scanRequest('o', {}), onlyCount: true });
    assert.is(counted.count, 2);
    assert.is(counted.records.length, 0);
    assert.is(counted.resumeKey, null);
  });

  test('a scan resumes after its last key: writes behind it are not seen, writes ahead of it are', () => {
    h.multiSet('r', { a: '1', c: '3', e: '5' });
    let request = h.scanRequest('r', { batchSize: 2 });
    const first = h.app.scan(request);
    assert.equal(first.records.map((r) => r.sortKey.toString()), ['a', 'c']);
    assert.ok(first.resumeKey !== null);
    h.multiSet('r', { b: '2', d: '4' });
    h.del('r', 'e');
    request = { ...request, startKey: first.resumeKey as Buffer, startInclusive: false };
    const second = h.app.scan(request);
    assert.equal(second.records.map((r) => r.sortKey.toString()), ['d']);
    assert.is(second.resumeKey, null);
  });

  test.run();
}
